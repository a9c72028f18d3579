/*
 * arcrun.c — ArcRun's HTTP API, wire-compatible (reference/arcrun.md §3,
 * §4; SPEC §3.1). Reads go straight to a store reader connection;
 * mutations become engine commands (actor "api" in the audit trail),
 * answered after the commit. The routes weft adds are in ops.c.
 *
 * Routes:
 *   GET    /health                  200 {"status":"ok"|"degraded","database":"healthy"|"unhealthy",
 *                                        "pool_size","pool_idle"} (always 200, Appendix A)
 *   GET    /ready                   200 {"status":"ready"} | 503 {"status":"not_ready","reason"}
 *   GET    /metrics                 Prometheus text 0.0.4
 *   POST   /task                    create a batch: array of NewTaskDto, or the object form
 *                                   {"tasks","on_batch_complete","scope","metadata"}; 201 [TaskDto]
 *                                   + X-Batch-ID, 204 when nothing was created (empty or deduped)
 *   GET    /task                    list [BasicTaskDto]: page, page_size, name, kind, status,
 *                                   timeout, batch_id, metadata (containment)
 *   GET    /task/{task_id}          TaskDto | 404 text "No task found with UID"
 *   PATCH  /task/{task_id}          complete / update; 200 text "Task updated successfully"
 *   PUT    /task/{task_id}          add counters; 202 text "Queued"
 *   DELETE /task/{task_id}          cancel; 200 empty
 *   PATCH  /task/pause/{task_id}    pause; 200 empty
 *   PATCH  /task/resume/{task_id}   resume; 200 empty
 *   GET    /batch/{batch_id}        stats | 404 {"error":"No tasks found for this batch_id"}
 *   DELETE /batch/{batch_id}        stop: counts of canceled tasks by previous status
 *   PATCH  /batch/{batch_id}/rules  replace the rules of one kind: {"batch_id","kind","updated_count"}
 *   GET    /batches                 [{"batch_id","total_tasks","first_created_at",
 *                                     "latest_updated_at","status_counts","kinds"}]
 *   GET    /dag/{batch_id}          {"tasks":[BasicTaskDto],"links":[...]}, empty arrays when unknown
 *
 * Where weft differs from ArcRun's commit 2d6024a, on purpose, following
 * ArcRun's own later fixes (Appendix A) as SPEC §3.1 asks:
 *   - Unknown task ids answer 404 {"error":"Not found: Task <id> not found","status":404} on
 *     PATCH, PUT, DELETE, pause and resume (ArcRun: 404 without status, 202, or 400 empty).
 *   - A state conflict answers 409 {"error":"Conflict: ...","status":409,"current_status":"<S>"}
 *     (ArcRun: 404 or 400 with an empty body). Re-sending a task's final status is a 200 no-op.
 *   - Pause applies only to Pending and Waiting tasks; a Running or Claimed task answers 400
 *     with current_status. PATCH /task/resume/{id} exists (Paused -> Waiting or Pending).
 *   - Cancel is allowed from Waiting.
 *   - PUT is durable: 202 comes after the counters are committed (ArcRun buffered them in
 *     memory and lost them on a crash), so an unknown id can be told apart (404).
 *   - /health is 200 even when the database is down (degraded body); the task list answers 400
 *     for an unparseable ?metadata= filter instead of ignoring it.
 *   - A field of the wrong JSON type is a validation message naming the field (400 with
 *     details) rather than a bare deserializer error; limits on batch size (413), dependencies
 *     and actions per task apply; counters and expected_count are 64-bit.
 *
 * Additive fields (ArcRun clients ignore unknown fields; ArcRun's own come
 * first, in its order):
 *   - NewTaskDto: "retry" {max_retries, initial_delay_secs, backoff_multiplier,
 *     max_delay_secs, retry_on}, "start_after" (RFC 3339), "group".
 *   - TaskDto: after "priority": "attempt", "group", "start_after", "retry" (the stored
 *     policy, every field present), "next_retry_at". BasicTaskDto: "attempt", "group".
 *   - ActionDto: "delivery": null, or {"status","attempts","last_http_status",
 *     "last_error","last_attempt_at"} of its last delivery.
 *   - status_counts: a 9th key "retrying" after ArcRun's 8; status "RetryPending" wherever a
 *     status is shown or filtered on.
 *   - /metrics also sets the gauges tasks_by_status{status} and running_tasks_by_kind{kind}
 *     from the database before rendering.
 */
#include "util/common.h"
#include "http/arcrun_names.h"
#include "http/arcrun.h"

#include "http/routes.h"
#include "http/validate.h"
#include "http/wire.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"

/* status_counts keys: ArcRun's 8 in its order (§4.10), then weft's. */
static const struct {
	const char *key;
	task_status status;
} count_keys[] = {
	{ "waiting", TS_WAITING }, { "pending", TS_PENDING }, { "claimed", TS_CLAIMED },
	{ "running", TS_RUNNING }, { "success", TS_SUCCESS }, { "failure", TS_FAILURE },
	{ "paused", TS_PAUSED },   { "canceled", TS_CANCELED }, { "retrying", TS_RETRYING },
};

/* ---- serialization --------------------------------------------------- */

static void put_expected(buf *b, bool has, int64_t v)
{
	if (has)
		wire_i64(b, v);
	else
		buf_puts(b, "null");
}

/* ,"success":N,"failures":N,"expected_count":N|null */
static void put_counters(buf *b, const task_row *t)
{
	buf_puts(b, ",\"success\":");
	wire_i64(b, t->success);
	buf_puts(b, ",\"failures\":");
	wire_i64(b, t->failures);
	buf_puts(b, ",\"expected_count\":");
	put_expected(b, t->has_expected_count, t->expected_count);
}

/* ,"batch_id":...,"dead_end_barrier":...,"priority":N,"attempt":N,"group":...
 * — the common end of BasicTaskDto and TaskDto; TaskDto (full) goes on
 * with "start_after", "retry" and "next_retry_at". Closes the object. */
static void put_tail(buf *b, const task_row *t, bool full)
{
	buf_puts(b, ",\"batch_id\":");
	wire_id(b, &t->batch_id);
	buf_puts(b, t->dead_end_barrier ? ",\"dead_end_barrier\":true,\"priority\":" : ",\"dead_end_barrier\":false,\"priority\":");
	wire_i64(b, t->priority);
	buf_puts(b, ",\"attempt\":");
	wire_i64(b, t->attempt);
	buf_puts(b, ",\"group\":");
	http_json_str(b, t->group_name);
	if (full) {
		buf_puts(b, ",\"start_after\":");
		wire_ts(b, t->start_after);
		buf_puts(b, ",\"retry\":");
		wire_raw(b, t->retry_policy, "null");
		buf_puts(b, ",\"next_retry_at\":");
		wire_ts(b, t->status == TS_RETRYING ? t->next_retry_at : 0);
	}
	buf_putc(b, '}');
}

/* BasicTaskDto, in ArcRun's field order. */
static void put_basic(buf *b, const task_row *t)
{
	buf_puts(b, "{\"id\":");
	wire_id(b, &t->id);
	buf_puts(b, ",\"name\":");
	http_json_str(b, t->name);
	buf_puts(b, ",\"kind\":");
	http_json_str(b, t->kind);
	buf_puts(b, ",\"status\":\"");
	buf_puts(b, arcrun_status_name(t->status));
	buf_puts(b, "\",\"created_at\":");
	wire_ts(b, t->created_at);
	buf_puts(b, ",\"started_at\":");
	wire_ts(b, t->started_at);
	put_counters(b, t);
	buf_puts(b, ",\"ended_at\":");
	wire_ts(b, t->ended_at);
	put_tail(b, t, false);
}

/* TaskDto up to and including `"actions":[`; the caller writes the
 * actions, then calls put_task_tail. */
static void put_task_head(buf *b, const task_row *t)
{
	buf_puts(b, "{\"id\":");
	wire_id(b, &t->id);
	buf_puts(b, ",\"name\":");
	http_json_str(b, t->name);
	buf_puts(b, ",\"kind\":");
	http_json_str(b, t->kind);
	buf_puts(b, ",\"status\":\"");
	buf_puts(b, arcrun_status_name(t->status));
	buf_puts(b, "\",\"timeout\":");
	wire_i64(b, t->timeout_secs);
	buf_puts(b, ",\"rules\":");
	wire_raw(b, t->rules, "[]");
	buf_puts(b, ",\"metadata\":");
	wire_raw(b, t->metadata, "null");
	buf_puts(b, ",\"actions\":[");
}

static void put_task_tail(buf *b, const task_row *t)
{
	buf_puts(b, "],\"created_at\":");
	wire_ts(b, t->created_at);
	buf_puts(b, ",\"started_at\":");
	wire_ts(b, t->started_at);
	buf_puts(b, ",\"ended_at\":");
	wire_ts(b, t->ended_at);
	buf_puts(b, ",\"last_updated\":");
	wire_ts(b, t->last_updated);
	put_counters(b, t);
	buf_puts(b, ",\"failure_reason\":");
	http_json_str(b, t->failure_reason);
	put_tail(b, t, true);
}

/* ActionDto: no condition on the wire, so on_success and on_failure both
 * show as End (ArcRun §3.1). weft adds "delivery", the record of its last
 * delivery, null while it never fired. */
static void put_action(buf *b, bool first, const action_row *a)
{
	buf_puts(b, first ? "{\"kind\":\"Webhook\",\"trigger\":\"" : ",{\"kind\":\"Webhook\",\"trigger\":\"");
	buf_puts(b, arcrun_trigger_name(a->trigger));
	buf_puts(b, "\",\"params\":");
	wire_raw(b, a->params, "{}");
	if (!a->has_delivery) {
		buf_puts(b, ",\"delivery\":null}");
		return;
	}
	buf_puts(b, ",\"delivery\":{\"status\":");
	http_json_str(b, arcrun_delivery_name(a->delivery));
	buf_puts(b, ",\"attempts\":");
	wire_i64(b, a->attempts);
	buf_puts(b, ",\"last_http_status\":");
	wire_i64_or_null(b, a->last_http_status);
	buf_puts(b, ",\"last_error\":");
	http_json_str(b, a->last_error);
	buf_puts(b, ",\"last_attempt_at\":");
	wire_ts(b, a->last_attempt_at);
	buf_puts(b, "}}");
}

static void put_task(buf *b, const task_row *t, const action_row *acts, size_t nacts)
{
	put_task_head(b, t);
	for (size_t i = 0; i < nacts; i++)
		put_action(b, i == 0, &acts[i]);
	put_task_tail(b, t);
}

/* An action just created: no delivery yet. */
static void put_new_action(buf *b, bool first, action_trigger trig, char *params)
{
	action_row a;
	memset(&a, 0, sizeof(a));
	a.trigger = trig;
	a.params = params;
	put_action(b, first, &a);
}

/* The TaskDto of a task just created, from what was submitted. */
static void put_new_task(buf *b, const new_task *t, const weft_id *batch)
{
	task_row v;
	memset(&v, 0, sizeof(v));
	v.id = t->id;
	v.batch_id = *batch;
	v.name = t->name;
	v.kind = t->kind;
	v.status = t->status;
	v.timeout_secs = t->timeout_secs;
	v.created_at = v.last_updated = t->created_at;
	v.metadata = t->metadata;
	v.rules = t->rules;
	v.has_expected_count = t->has_expected_count;
	v.expected_count = t->expected_count;
	v.dead_end_barrier = t->dead_end_barrier;
	v.priority = t->priority;
	v.group_name = t->group;
	v.start_after = t->start_after;
	v.retry_policy = t->retry_policy;
	v.attempt = t->attempt;

	put_task_head(b, &v);
	put_new_action(b, true, TRIGGER_START, t->on_start);
	for (size_t i = 0; i < t->non_failure; i++)
		put_new_action(b, false, TRIGGER_END, t->on_failure[i]);
	for (size_t i = 0; i < t->non_success; i++)
		put_new_action(b, false, TRIGGER_END, t->on_success[i]);
	put_task_tail(b, &v);
}

static void put_status_counts(buf *b, const int64_t counts[TS__COUNT])
{
	buf_putc(b, '{');
	for (size_t i = 0; i < ARRAY_LEN(count_keys); i++)
		buf_printf(b, "%s\"%s\":%" PRId64, i ? "," : "", count_keys[i].key, counts[count_keys[i].status]);
	buf_putc(b, '}');
}

/* ---- health, readiness, metrics -------------------------------------- */

static bool database_ok(http_request *r)
{
	store *st = http_store(r);
	store_conn *c = store_reader_acquire(st);
	if (c == NULL)
		return false;
	bool ok = store_ping(c) == 0;
	store_reader_release(st, c);
	return ok;
}

static void h_health(http_request *r)
{
	bool ok = database_ok(r);
	int size = 0, idle = 0;
	store_pool_stats(http_store(r), &size, &idle);
	buf b;
	buf_init(&b);
	buf_printf(&b, "{\"status\":\"%s\",\"database\":\"%s\",\"pool_size\":%d,\"pool_idle\":%d}",
	           ok ? "ok" : "degraded", ok ? "healthy" : "unhealthy", size, idle);
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

static void h_ready(http_request *r)
{
	buf b;
	buf_init(&b);
	if (database_ok(r)) {
		buf_puts(&b, "{\"status\":\"ready\"}");
		http_respond_json(r, 200, &b);
	} else {
		buf_puts(&b, "{\"status\":\"not_ready\",\"reason\":\"cannot acquire database connection\"}");
		http_respond_json(r, 503, &b);
	}
	buf_release(&b);
}

static void h_metrics(http_request *r)
{
	ops_refresh_gauges(http_store(r));
	buf b;
	buf_init(&b);
	metrics_render(&b);
	size_t len;
	char *data = buf_detach(&b, &len);
	http_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", data, len);
	buf_release(&b);
}

/* ---- POST /task ------------------------------------------------------ */

typedef struct submit_state {
	cmd_submit cmd;
	batch_input in;
} submit_state;

static void submit_state_free(void *p)
{
	submit_state *s = p;
	batch_input_release(&s->in);
	free(s);
}

static void finish_create(http_request *r, engine_cmd *cmd, void *state)
{
	submit_state *s = state;
	if (wire_respond_engine_failure(r, cmd))
		return;
	if (cmd->result != 0) {
		wire_respond_unexpected(r, cmd);
		return;
	}
	const weft_id *batch = &engine_cmd_of(cmd, cmd_submit)->batch_id;
	http_add_header(r, "X-Batch-ID", batch->str);

	size_t created = 0;
	for (size_t i = 0; i < s->in.ntasks; i++)
		created += s->in.tasks[i].created;
	if (created == 0) {
		http_respond_empty(r, 204);
		return;
	}
	buf b;
	buf_init(&b);
	buf_putc(&b, '[');
	bool first = true;
	for (size_t i = 0; i < s->in.ntasks; i++) {
		if (!s->in.tasks[i].created)
			continue;
		if (!first)
			buf_putc(&b, ',');
		first = false;
		put_new_task(&b, &s->in.tasks[i], batch);
	}
	buf_putc(&b, ']');
	http_respond_json(r, 201, &b);
	buf_release(&b);
}

static void h_create(http_request *r)
{
	submit_state *s = xcalloc(1, sizeof(*s));
	weft_id batch;
	errlist errs;
	char msg[VALIDATE_MSG_MAX];
	size_t len;
	const char *body = http_body(r, &len);

	id_new_v4(&batch);
	errlist_init(&errs);
	validate_result res = validate_batch(body, len, http_config(r), &s->in, &errs, msg, sizeof(msg));
	if (res != VALIDATE_OK) {
		wire_respond_invalid(r, res, &errs, msg, &batch);
		errlist_release(&errs);
		free(s);
		return;
	}
	errlist_release(&errs);

	cmd_submit_init(&s->cmd);
	s->cmd.base.actor = "api";
	s->cmd.batch_id = batch;
	s->cmd.tasks = s->in.tasks;
	s->cmd.ntasks = s->in.ntasks;
	s->cmd.scope = s->in.scope;
	s->cmd.metadata = s->in.metadata;
	s->cmd.on_complete = s->in.on_complete;
	/* Free the parsed body and its text while the engine commits. */
	json_t *doc = s->in.doc;
	s->in.doc = NULL;
	http_body_release(r);
	http_submit(r, &s->cmd.base, s, finish_create, submit_state_free);
	json_decref(doc);
}

/* ---- reads ----------------------------------------------------------- */

static void h_get_task(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	store_conn *c = wire_reader(r);
	if (c == NULL)
		return;
	task_row t;
	action_row *acts = NULL;
	size_t nacts = 0;
	memset(&t, 0, sizeof(t));
	int rc = store_task_get(c, id, &t);
	if (rc == 0)
		rc = store_task_actions(c, id, &acts, &nacts);
	store_reader_release(http_store(r), c);

	if (rc == WEFT_ENOTFOUND) {
		http_respond_text(r, 404, "No task found with UID");
	} else if (rc != 0) {
		wire_respond_store_error(r, rc);
	} else {
		buf b;
		buf_init(&b);
		put_task(&b, &t, acts, nacts);
		http_respond_json(r, 200, &b);
		buf_release(&b);
	}
	task_row_release(&t);
	store_free_actions(acts, nacts);
}

static void respond_task_list(http_request *r, task_row *rows, size_t n)
{
	buf b;
	buf_init(&b);
	buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		put_basic(&b, &rows[i]);
	}
	buf_putc(&b, ']');
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

static void h_list_tasks(http_request *r)
{
	task_query q;
	char msg[VALIDATE_MSG_MAX];
	validate_result res = validate_task_query(http_query_get, r, http_config(r), &q, msg, sizeof(msg));
	if (res != VALIDATE_OK) {
		wire_respond_invalid(r, res, NULL, msg, NULL);
		return;
	}
	store_conn *c = wire_reader(r);
	if (c != NULL) {
		task_row *rows = NULL;
		size_t n = 0;
		int rc = store_task_list(c, &q.filter, q.offset, q.limit, &rows, &n);
		store_reader_release(http_store(r), c);
		if (rc != 0)
			wire_respond_store_error(r, rc);
		else
			respond_task_list(r, rows, n);
		store_free_tasks(rows, n);
	}
	task_query_release(&q);
}

static void h_batch_stats(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	store_conn *c = wire_reader(r);
	if (c == NULL)
		return;
	batch_stats st;
	memset(&st, 0, sizeof(st));
	int rc = store_batch_stats(c, id, &st);
	store_reader_release(http_store(r), c);

	buf b;
	buf_init(&b);
	if (rc == WEFT_ENOTFOUND) {
		buf_puts(&b, "{\"error\":\"No tasks found for this batch_id\"}");
		http_respond_json(r, 404, &b);
	} else if (rc != 0) {
		wire_respond_store_error(r, rc);
	} else {
		buf_puts(&b, "{\"batch_id\":");
		wire_id(&b, id);
		buf_printf(&b, ",\"total_tasks\":%" PRId64 ",\"total_success\":%" PRId64 ",\"total_failures\":%" PRId64
		               ",\"total_expected\":",
		           st.total_tasks, st.total_success, st.total_failures);
		put_expected(&b, st.has_total_expected, st.total_expected);
		buf_puts(&b, ",\"status_counts\":");
		put_status_counts(&b, st.status_counts);
		buf_putc(&b, '}');
		http_respond_json(r, 200, &b);
	}
	buf_release(&b);
}

static void h_list_batches(http_request *r)
{
	batches_query q;
	char msg[VALIDATE_MSG_MAX];
	validate_result res = validate_batches_query(http_query_get, r, http_config(r), &q, msg, sizeof(msg));
	if (res != VALIDATE_OK) {
		wire_respond_invalid(r, res, NULL, msg, NULL);
		return;
	}
	store_conn *c = wire_reader(r);
	if (c == NULL)
		return;
	batch_summary *rows = NULL;
	size_t n = 0;
	int rc = store_batch_list(c, &q.filter, q.offset, q.limit, &rows, &n);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		wire_respond_store_error(r, rc);
		store_free_batch_summaries(rows, n);
		return;
	}
	buf b;
	buf_init(&b);
	buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		const batch_summary *s = &rows[i];
		buf_puts(&b, i ? ",{\"batch_id\":" : "{\"batch_id\":");
		wire_id(&b, &s->batch_id);
		buf_printf(&b, ",\"total_tasks\":%" PRId64 ",\"first_created_at\":", s->total_tasks);
		wire_ts(&b, s->first_created_at);
		buf_puts(&b, ",\"latest_updated_at\":");
		wire_ts(&b, s->latest_updated_at);
		buf_puts(&b, ",\"status_counts\":");
		put_status_counts(&b, s->status_counts);
		buf_puts(&b, ",\"kinds\":[");
		for (size_t k = 0; k < s->nkinds; k++) {
			if (k > 0)
				buf_putc(&b, ',');
			http_json_str(&b, s->kinds[k]);
		}
		buf_puts(&b, "]}");
	}
	buf_putc(&b, ']');
	http_respond_json(r, 200, &b);
	buf_release(&b);
	store_free_batch_summaries(rows, n);
}

static void h_dag(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	store_conn *c = wire_reader(r);
	if (c == NULL)
		return;
	task_row *tasks = NULL;
	link_row *links = NULL;
	size_t ntasks = 0, nlinks = 0;
	int rc = store_dag(c, id, &tasks, &ntasks, &links, &nlinks);
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND)
		rc = 0;      /* an unknown batch is an empty graph (§4.14) */
	if (rc != 0) {
		wire_respond_store_error(r, rc);
	} else {
		buf b;
		buf_init(&b);
		buf_puts(&b, "{\"tasks\":[");
		for (size_t i = 0; i < ntasks; i++) {
			if (i > 0)
				buf_putc(&b, ',');
			put_basic(&b, &tasks[i]);
		}
		buf_puts(&b, "],\"links\":[");
		for (size_t i = 0; i < nlinks; i++) {
			buf_puts(&b, i ? ",{\"parent_id\":" : "{\"parent_id\":");
			wire_id(&b, &links[i].parent_id);
			buf_puts(&b, ",\"child_id\":");
			wire_id(&b, &links[i].child_id);
			buf_puts(&b, links[i].requires_success ? ",\"requires_success\":true}" : ",\"requires_success\":false}");
		}
		buf_puts(&b, "]}");
		http_respond_json(r, 200, &b);
		buf_release(&b);
	}
	store_free_tasks(tasks, ntasks);
	free(links);
}

/* ---- task mutations -------------------------------------------------- */

typedef struct update_state {
	union {
		cmd_patch patch;        /* PATCH */
		cmd_counters counters;  /* PUT */
	} cmd;
	update_input in;
} update_state;

static void update_state_free(void *p)
{
	update_state *s = p;
	update_input_release(&s->in);
	free(s);
}

/* Decodes a PATCH or PUT body; NULL after answering when it is invalid. */
static update_state *decode_update(http_request *r, bool put)
{
	update_state *s = xcalloc(1, sizeof(*s));
	errlist errs;
	char msg[VALIDATE_MSG_MAX];
	size_t len;
	const char *body = http_body(r, &len);
	errlist_init(&errs);
	validate_result res = put ? validate_put(body, len, http_config(r), &s->in, &errs, msg, sizeof(msg))
	                          : validate_patch(body, len, http_config(r), &s->in, &errs, msg, sizeof(msg));
	if (res != VALIDATE_OK) {
		wire_respond_invalid(r, res, &errs, msg, NULL);
		free(s);
		s = NULL;
	}
	errlist_release(&errs);
	return s;
}

static void finish_patch(http_request *r, engine_cmd *cmd, void *state)
{
	UNUSED(state);
	char msg[96];
	if (wire_respond_engine_failure(r, cmd))
		return;
	switch (cmd->result) {
	case 0:
		http_respond_text(r, 200, "Task updated successfully");
		break;
	case WEFT_ENOTFOUND:
		wire_respond_task_not_found(r, &engine_cmd_of(cmd, cmd_patch)->id);
		break;
	case WEFT_ECONFLICT:
		snprintf(msg, sizeof(msg), "Conflict: Task is %s, not Running", arcrun_status_name(cmd->current_status));
		wire_respond_state(r, 409, msg, cmd->current_status);
		break;
	default:
		wire_respond_unexpected(r, cmd);
		break;
	}
}

static void h_patch_task(http_request *r)
{
	update_state *s = decode_update(r, false);
	if (s == NULL)
		return;
	cmd_patch *c = &s->cmd.patch;
	cmd_patch_init(c);
	c->base.actor = "api";
	c->id = *http_param(r, 0);
	c->has_status = s->in.has_status;
	c->status = s->in.status;
	c->new_success = s->in.new_success;
	c->new_failures = s->in.new_failures;
	c->metadata = s->in.metadata;
	c->failure_reason = s->in.failure_reason;
	c->has_expected_count = s->in.has_expected_count;
	c->expected_count = s->in.expected_count;
	c->has_priority = s->in.has_priority;
	c->priority = s->in.priority;
	http_submit(r, &c->base, s, finish_patch, update_state_free);
}

static void finish_put(http_request *r, engine_cmd *cmd, void *state)
{
	UNUSED(state);
	char msg[112];
	if (wire_respond_engine_failure(r, cmd))
		return;
	switch (cmd->result) {
	case 0:
		http_respond_text(r, 202, "Queued");
		break;
	case WEFT_ENOTFOUND:
		wire_respond_task_not_found(r, &engine_cmd_of(cmd, cmd_counters)->id);
		break;
	case WEFT_ECONFLICT:
		snprintf(msg, sizeof(msg), "Conflict: Task is %s; counters can no longer be updated",
		         arcrun_status_name(cmd->current_status));
		wire_respond_state(r, 409, msg, cmd->current_status);
		break;
	default:
		wire_respond_unexpected(r, cmd);
		break;
	}
}

static void h_put_task(http_request *r)
{
	update_state *s = decode_update(r, true);
	if (s == NULL)
		return;
	cmd_counters *c = &s->cmd.counters;
	cmd_counters_init(c);
	c->base.actor = "api";
	c->id = *http_param(r, 0);
	c->success = s->in.new_success;
	c->failures = s->in.new_failures;
	http_submit(r, &c->base, s, finish_put, update_state_free);
}

/* Cancel, pause and resume carry only the task id. */
typedef struct task_cmd_state {
	cmd_task cmd;
	task_action what;
} task_cmd_state;

static void submit_task_cmd(http_request *r, task_action what, http_finish_fn finish)
{
	task_cmd_state *s = xcalloc(1, sizeof(*s));
	cmd_task_init(&s->cmd, what);
	s->what = what;
	s->cmd.base.actor = "api";
	s->cmd.id = *http_param(r, 0);
	http_submit(r, &s->cmd.base, s, finish, free);
}

static void finish_task_cmd(http_request *r, engine_cmd *cmd, void *state)
{
	const task_cmd_state *s = state;
	char msg[128];
	task_status cur = cmd->current_status;
	if (wire_respond_engine_failure(r, cmd))
		return;
	switch (cmd->result) {
	case 0:
		http_respond_empty(r, 200);
		return;
	case WEFT_ENOTFOUND:
		wire_respond_task_not_found(r, &s->cmd.id);
		return;
	case WEFT_ECONFLICT:
		break;
	default:
		wire_respond_unexpected(r, cmd);
		return;
	}
	switch (s->what) {
	case TASK_CANCEL:
		snprintf(msg, sizeof(msg), "Conflict: Task is %s and cannot be canceled", arcrun_status_name(cur));
		wire_respond_state(r, 409, msg, cur);
		break;
	case TASK_PAUSE:
		if (cur == TS_RUNNING || cur == TS_CLAIMED) {
			snprintf(msg, sizeof(msg), "Bad request: Task is %s; only Pending or Waiting tasks can be paused",
			         arcrun_status_name(cur));
			wire_respond_state(r, 400, msg, cur);
		} else {
			snprintf(msg, sizeof(msg), "Conflict: Task is %s; only Pending or Waiting tasks can be paused",
			         arcrun_status_name(cur));
			wire_respond_state(r, 409, msg, cur);
		}
		break;
	default:
		snprintf(msg, sizeof(msg), "Conflict: Task is %s; only Paused tasks can be resumed", arcrun_status_name(cur));
		wire_respond_state(r, 409, msg, cur);
		break;
	}
}

static void h_cancel_task(http_request *r) { submit_task_cmd(r, TASK_CANCEL, finish_task_cmd); }
static void h_pause_task(http_request *r) { submit_task_cmd(r, TASK_PAUSE, finish_task_cmd); }
static void h_resume_task(http_request *r) { submit_task_cmd(r, TASK_RESUME, finish_task_cmd); }

/* ---- batch mutations ------------------------------------------------- */

static void finish_stop_batch(http_request *r, engine_cmd *cmd, void *state)
{
	UNUSED(state);
	const cmd_stop_batch *c = engine_cmd_of(cmd, cmd_stop_batch);
	if (wire_respond_engine_failure(r, cmd))
		return;
	if (cmd->result == WEFT_ENOTFOUND) {
		wire_respond_batch_not_found(r, &c->batch_id);
		return;
	}
	if (cmd->result != 0) {
		wire_respond_unexpected(r, cmd);
		return;
	}
	const batch_cancel_counts *n = &c->counts;
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"batch_id\":");
	wire_id(&b, &c->batch_id);
	buf_printf(&b,
	           ",\"canceled_waiting\":%" PRId64 ",\"canceled_pending\":%" PRId64 ",\"canceled_claimed\":%" PRId64
	           ",\"canceled_running\":%" PRId64 ",\"canceled_paused\":%" PRId64 ",\"already_terminal\":%" PRId64 "}",
	           n->canceled[TS_WAITING], n->canceled[TS_PENDING], n->canceled[TS_CLAIMED], n->canceled[TS_RUNNING],
	           n->canceled[TS_PAUSED], n->already_terminal);
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

static void h_stop_batch(http_request *r)
{
	cmd_stop_batch *c = xmalloc(sizeof(*c));
	cmd_stop_batch_init(c);
	c->base.actor = "api";
	c->batch_id = *http_param(r, 0);
	http_submit(r, &c->base, c, finish_stop_batch, free);
}

typedef struct rules_state {
	cmd_batch_rules cmd;
	rules_input in;
} rules_state;

static void rules_state_free(void *p)
{
	rules_state *s = p;
	rules_input_release(&s->in);
	free(s);
}

static void finish_batch_rules(http_request *r, engine_cmd *cmd, void *state)
{
	UNUSED(state);
	const cmd_batch_rules *c = engine_cmd_of(cmd, cmd_batch_rules);
	if (wire_respond_engine_failure(r, cmd))
		return;
	if (cmd->result == WEFT_ENOTFOUND) {
		wire_respond_batch_not_found(r, &c->batch_id);
		return;
	}
	if (cmd->result != 0) {
		wire_respond_unexpected(r, cmd);
		return;
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"batch_id\":");
	wire_id(&b, &c->batch_id);
	buf_puts(&b, ",\"kind\":");
	http_json_str(&b, c->kind);
	buf_printf(&b, ",\"updated_count\":%" PRId64 "}", c->updated);
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

static void h_batch_rules(http_request *r)
{
	rules_state *s = xcalloc(1, sizeof(*s));
	errlist errs;
	char msg[VALIDATE_MSG_MAX];
	size_t len;
	const char *body = http_body(r, &len);
	errlist_init(&errs);
	validate_result res = validate_batch_rules(body, len, http_config(r), &s->in, &errs, msg, sizeof(msg));
	if (res != VALIDATE_OK) {
		wire_respond_invalid(r, res, &errs, msg, NULL);
		errlist_release(&errs);
		free(s);
		return;
	}
	errlist_release(&errs);
	cmd_batch_rules_init(&s->cmd);
	s->cmd.base.actor = "api";
	s->cmd.batch_id = *http_param(r, 0);
	s->cmd.kind = s->in.kind;
	s->cmd.rules = s->in.rules;
	http_submit(r, &s->cmd.base, s, finish_batch_rules, rules_state_free);
}

/* ---- the table ------------------------------------------------------- */

const http_route arcrun_routes[] = {
	{ HTTP_GET, "/health", h_health, true, 0 },
	{ HTTP_GET, "/ready", h_ready, true, 0 },
	{ HTTP_GET, "/metrics", h_metrics, false, 0 },
	{ HTTP_POST, "/task", h_create, false, 0 },
	{ HTTP_GET, "/task", h_list_tasks, false, 0 },
	{ HTTP_GET, "/task/{task_id}", h_get_task, false, 0 },
	{ HTTP_PATCH, "/task/{task_id}", h_patch_task, false, 0 },
	{ HTTP_PUT, "/task/{task_id}", h_put_task, false, 0 },
	{ HTTP_DELETE, "/task/{task_id}", h_cancel_task, false, 0 },
	{ HTTP_PATCH, "/task/pause/{task_id}", h_pause_task, false, 0 },
	{ HTTP_PATCH, "/task/resume/{task_id}", h_resume_task, false, 0 },
	{ HTTP_GET, "/batch/{batch_id}", h_batch_stats, false, 0 },
	{ HTTP_DELETE, "/batch/{batch_id}", h_stop_batch, false, 0 },
	{ HTTP_PATCH, "/batch/{batch_id}/rules", h_batch_rules, false, 0 },
	{ HTTP_GET, "/batches", h_list_batches, false, 0 },
	{ HTTP_GET, "/dag/{batch_id}", h_dag, false, 0 },
};

const size_t arcrun_nroutes = ARRAY_LEN(arcrun_routes);
