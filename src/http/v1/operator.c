/*
 * operator.c — the /v1 operator routes: actions on any task (retry now,
 * reset for retry, resolve with a result, cancel) and dead letters (list,
 * inspect, requeue); pausing and resuming a task. Actions are engine commands
 * (engine/commands/operator.h) answered after the commit with the task as
 * it is then; reads go to a store reader.
 *
 * Admin tokens only, except cancel, pause and resume (a client may stop
 * or hold what it sees).
 * Another namespace's task or dead letter is answered as unknown (404).
 * A state that does not allow an action is 409 with current_status; a
 * terminal task with children is 409 has_dependents.
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/error.h"
#include "engine/commands/operator.h"
#include "http/decode.h"
#include "http/tokens.h"
#include "http/v1/cursor.h"
#include "http/v1/errors.h"
#include "http/v1/shapes.h"
#include "http/v1/task_list.h"
#include "http/wire.h"
#include "store/store.h"
#include "store/jobs.h"
#include "store/operator.h"
#include "util/alloc.h"

/* The namespaces the request may touch (borrowed from its token). */
static job_visibility visibility_of(const http_request *r)
{
	const http_token *t = http_token_of(r);
	job_visibility v = { .all = true };
	if (t != NULL && !t->all_namespaces) {
		v.all = false;
		v.names = (const char *const *)t->namespaces;
		v.n = t->nnamespaces;
	}
	return v;
}

/* 403 for a token that may not administer. */
static bool admin_or_refuse(http_request *r)
{
	if (http_admin(r))
		return true;
	v1_fail_msg(r, WEFT_EFORBIDDEN, NULL, "Only an admin token may do this.");
	return false;
}

/* Members of obj not in known are problems ("unknown field"). */
static void unknown_members(http_error *e, const json_t *obj, const char *const *known)
{
	decode_unknown_members(e, obj, "", known);
}

/* The optional "reason": at most OPERATOR_REASON_MAX bytes. */
static const char *reason_of(http_error *e, const json_t *body)
{
	const char *s = NULL;
	if (decode_str(e, body, "", "reason", 0, &s) != 0 || s == NULL)
		return NULL;
	if (strlen(s) > OPERATOR_REASON_MAX) {
		decode_problem(e, "", "reason", "is %zu bytes; the limit is %d", strlen(s), OPERATOR_REASON_MAX);
		return NULL;
	}
	return s;
}

/* A body that may be empty, as an object (a new reference in *out). */
static int body_object(http_request *r, json_t **out)
{
	size_t len;
	const char *body = http_body(r, &len);
	if (len == 0 || decode_blank(body)) {
		*out = json_object();
		return 0;
	}
	return decode_body_object(body, len, http_config(r)->json_max_depth, http_err(r), out);
}

/* ---- POST /v1/tasks/{id}/retry|reset|resolve|cancel|pause|resume ------------------------------------ */

typedef struct action_state {
	cmd_operator cmd;
	json_t *doc;                 /* the parsed body: reason is borrowed from it */
	char *result;                /* resolve's result, compact JSON */
} action_state;

static void action_state_free(void *p)
{
	action_state *s = p;
	json_decref(s->doc);
	free(s->result);
	free(s);
}

/* Answers the task as it is after the action. */
static void answer_task(http_request *r, const weft_id *id)
{
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	job_visibility v = visibility_of(r);
	job_detail d;
	int rc = store_job_get(c, id, v.all ? NULL : v.names, v.n, &d);
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "task", id);
		return;
	}
	if (rc != 0) {
		http_fail_server(r, rc, "task read");
		return;
	}
	v1_task_view view = { .task = &d.task, .detail = true, .input = d.input, .result = d.result,
		              .max_attempts = d.max_attempts, .attempts = d.attempts, .nattempts = d.nattempts };
	buf b;
	buf_init(&b);
	v1_put_task(&b, &view);
	http_respond_json(r, 200, &b);
	buf_release(&b);
	job_detail_release(&d);
}

static void finish_action(http_request *r, engine_cmd *cmd, void *state)
{
	action_state *s = state;
	if (cmd->result == 0) {
		answer_task(r, &s->cmd.id);
	} else if (cmd->result == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "task", &s->cmd.id);
	} else if (cmd->result == WEFT_ECONFLICT && s->cmd.has_dependents) {
		http_error_state(http_err(r), cmd->current_status);
		v1_fail_msg(r, WEFT_ECONFLICT, V1_HAS_DEPENDENTS,
		            "The task is %s and has dependent tasks: its outcome has reached them, so it is not reopened.",
		            task_status_name(cmd->current_status));
	} else if (cmd->result == WEFT_ECONFLICT) {
		http_error_state(http_err(r), cmd->current_status);
		v1_fail_msg(r, WEFT_ECONFLICT, NULL, "The task is %s, which does not allow %s.",
		            task_status_name(cmd->current_status), engine_cmd_name(cmd));
	} else {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
	}
}

static void task_action(http_request *r, operator_action action)
{
	bool any_token = action == OPERATOR_CANCEL || action == OPERATOR_PAUSE || action == OPERATOR_RESUME;
	if (!any_token && !admin_or_refuse(r))
		return;
	action_state *s = xcalloc(1, sizeof *s);
	cmd_operator_init(&s->cmd, action);
	http_error *e = http_err(r);
	int rc = body_object(r, &s->doc);
	if (rc == 0) {
		static const char *const known[] = { "reason", NULL };
		static const char *const known_resolve[] = { "reason", "result", NULL };
		unknown_members(e, s->doc, action == OPERATOR_RESOLVE ? known_resolve : known);
		s->cmd.reason = reason_of(e, s->doc);
		json_t *res = action == OPERATOR_RESOLVE ? json_object_get(s->doc, "result") : NULL;
		if (res != NULL) {
			s->result = json_dump_compact(res);
			if (strlen(s->result) > JOB_PAYLOAD_MAX_BYTES) {
				decode_problem(e, "", "result", "is %zu bytes of JSON; the limit is %d", strlen(s->result),
				               JOB_PAYLOAD_MAX_BYTES);
				rc = WEFT_ETOOLARGE;
			}
		}
		if (rc == 0 && e->details.len > 0)
			rc = WEFT_EINVALID;
	}
	if (rc != 0) {
		http_fail(r, rc);
		action_state_free(s);
		return;
	}
	s->cmd.base.actor = http_actor(r);
	s->cmd.id = *http_param(r, 0);
	s->cmd.visible = visibility_of(r);
	s->cmd.result = s->result;
	http_submit(r, &s->cmd.base, s, finish_action, action_state_free);
}

void v1_task_retry(http_request *r) { task_action(r, OPERATOR_RETRY); }
void v1_task_reset(http_request *r) { task_action(r, OPERATOR_RESET); }
void v1_task_resolve(http_request *r) { task_action(r, OPERATOR_RESOLVE); }
void v1_task_cancel(http_request *r) { task_action(r, OPERATOR_CANCEL); }
void v1_task_pause(http_request *r) { task_action(r, OPERATOR_PAUSE); }
void v1_task_resume(http_request *r) { task_action(r, OPERATOR_RESUME); }

/* ---- GET /v1/dead-letters ------------------------------------------------------------- */

static void put_listed_dead_letter(buf *b, const void *item)
{
	const task_row *t = item;
	v1_task_view view = { .task = t, .max_attempts = v1_task_max_attempts(t) };
	v1_put_task(b, &view);
}

void v1_dead_letters(http_request *r)
{
	http_query_src src = http_query_src_of(r);
	http_error *e = http_err(r);
	const char *ns = decode_query_text(&src, "namespace");
	const char *queue = decode_query_text(&src, "queue");
	int64_t limit = V1_LIST_LIMIT_DEFAULT;
	int rc = 0;
	if (ns != NULL && !namespace_valid(ns))
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "namespace", "must match [a-z0-9][a-z0-9_-]{0,62}");
	if (rc == 0 && queue != NULL && !queue_name_valid(queue))
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "queue", "not a queue name");
	if (rc == 0 && decode_query_int(&src, "limit", 1, V1_LIST_LIMIT_MAX, e, &limit, NULL) != 0)
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "limit", "expected an integer from 1 to %d",
		                    V1_LIST_LIMIT_MAX);
	char what[NAMESPACE_MAX + TASK_KIND_MAX + 32];
	snprintf(what, sizeof what, "dead|%s|%s", ns ? ns : "", queue ? queue : "");
	uint64_t fp = v1_fingerprint(what);
	v1_cursor after = { 0 };
	const char *cur = src.get(src.ctx, "cursor");
	if (rc == 0 && cur != NULL)
		rc = v1_cursor_take(cur, fp, e, &after);
	if (rc == 0 && ns != NULL && !http_ns_visible(r, ns)) {
		v1_fail_namespace(r, ns);
		return;
	}
	store_conn *c = http_reader_after(r, rc);
	if (c == NULL)
		return;
	job_visibility v = visibility_of(r);
	/* One row more than the page tells whether another page follows. */
	dead_letter_filter f = { .namespace = ns, .visible = ns == NULL && !v.all ? v.names : NULL,
		                 .nvisible = v.n, .queue = queue, .after_dead_at = cur ? after.at : 0,
		                 .after_id = after.id, .limit = (size_t)limit + 1 };
	static const char *const none[] = { "" };
	if (f.visible == NULL && ns == NULL && !v.all)
		f.visible = none;        /* a token without namespaces sees none */
	task_row *rows = NULL;
	size_t n = 0;
	rc = store_dead_letters(c, &f, &rows, &n);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		http_fail_server(r, rc, "dead letters");
		return;
	}
	bool more = n > (size_t)limit;
	size_t shown = more ? (size_t)limit : n;
	v1_cursor next = { 0 };
	if (more)
		next = (v1_cursor){ .at = rows[shown - 1].dead_at, .id = rows[shown - 1].id, .filters = fp };
	v1_respond_page(r, "dead_letters", rows, shown, sizeof *rows, put_listed_dead_letter, more ? &next : NULL);
	store_free_tasks(rows, n);
}

/* ---- GET /v1/dead-letters/{id} --------------------------------------------------------- */

void v1_dead_letter(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	job_visibility v = visibility_of(r);
	job_detail d;
	int rc = store_job_get(c, id, v.all ? NULL : v.names, v.n, &d);
	store_reader_release(http_store(r), c);
	if (rc == 0 && d.task.dead_at == 0) {
		job_detail_release(&d);
		rc = WEFT_ENOTFOUND;
	}
	if (rc == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "dead letter", id);
		return;
	}
	if (rc != 0) {
		http_fail_server(r, rc, "dead letter read");
		return;
	}
	v1_task_view view = { .task = &d.task, .detail = true, .input = d.input, .result = d.result,
		              .max_attempts = d.max_attempts, .attempts = d.attempts, .nattempts = d.nattempts };
	buf b;
	buf_init(&b);
	v1_put_task(&b, &view);
	http_respond_json(r, 200, &b);
	buf_release(&b);
	job_detail_release(&d);
}

/* ---- POST /v1/dead-letters/requeue ----------------------------------------------------- */

typedef struct requeue_state {
	cmd_requeue cmd;
	json_t *doc;
	requeue_item *ids;           /* the ids given */
} requeue_state;

static void requeue_state_free(void *p)
{
	requeue_state *s = p;
	cmd_requeue_release(&s->cmd);
	free(s->ids);
	json_decref(s->doc);
	free(s);
}

static void finish_requeue(http_request *r, engine_cmd *cmd, void *state)
{
	requeue_state *s = state;
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"requeued\":[");
	size_t k = 0;
	for (size_t i = 0; i < s->cmd.nitems; i++) {
		if (s->cmd.items[i].outcome != REQUEUED)
			continue;
		buf_puts(&b, k++ > 0 ? "," : "");
		wire_id(&b, &s->cmd.items[i].id);
	}
	buf_puts(&b, "],\"skipped\":[");
	k = 0;
	for (size_t i = 0; i < s->cmd.nitems; i++) {
		if (s->cmd.items[i].outcome == REQUEUED)
			continue;
		buf_puts(&b, k++ > 0 ? ",{\"id\":" : "{\"id\":");
		wire_id(&b, &s->cmd.items[i].id);
		buf_puts(&b, ",\"reason\":");
		wire_str(&b, requeue_outcome_name(s->cmd.items[i].outcome));
		buf_putc(&b, '}');
	}
	buf_puts(&b, "]}");
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

/* {"ids":[...]} or {"namespace","queue","limit"}, and "reason". */
static int decode_requeue(http_request *r, requeue_state *s)
{
	http_error *e = http_err(r);
	int rc = body_object(r, &s->doc);
	if (rc != 0)
		return rc;
	static const char *const known[] = { "ids", "namespace", "queue", "limit", "reason", NULL };
	unknown_members(e, s->doc, known);
	s->cmd.reason = reason_of(e, s->doc);
	json_t *ids = NULL;
	char path[DECODE_PATH_MAX];
	decode_array(e, s->doc, "", "ids", 0, &ids, path);
	const char *ns = NULL, *queue = NULL;
	int64_t limit = V1_LIST_LIMIT_DEFAULT;
	bool has_limit = false;
	decode_str(e, s->doc, "", "namespace", 0, &ns);
	decode_str(e, s->doc, "", "queue", 0, &queue);
	decode_int(e, s->doc, "", "limit", 0, &limit, &has_limit);
	if (ids != NULL) {
		if (ns != NULL || queue != NULL || has_limit)
			decode_problem(e, "", "ids", "cannot be given with namespace, queue or limit");
		size_t n = json_array_size(ids);
		if (n == 0 || n > REQUEUE_LIMIT_MAX) {
			decode_problem(e, "", "ids", "must hold 1 to %d ids", REQUEUE_LIMIT_MAX);
			if (n > REQUEUE_LIMIT_MAX)
				rc = WEFT_ETOOLARGE;
		}
		s->ids = xcalloc(n ? n : 1, sizeof *s->ids);
		for (size_t i = 0; i < n && n <= REQUEUE_LIMIT_MAX; i++) {
			const char *text = json_string_value(json_array_get(ids, i));
			if (text == NULL || id_parse(text, &s->ids[i].id) != 0) {
				char at[DECODE_PATH_MAX];
				decode_path_index(at, "ids", i);
				decode_problem(e, at, NULL, "expected a task id (UUID)");
			}
		}
		s->cmd.items = s->ids;
		s->cmd.nitems = n;
	} else {
		if (ns != NULL && !namespace_valid(ns))
			decode_problem(e, "", "namespace", "must match [a-z0-9][a-z0-9_-]{0,62}");
		if (queue != NULL && !queue_name_valid(queue))
			decode_problem(e, "", "queue", "not a queue name");
		if (has_limit && (limit < 1 || limit > REQUEUE_LIMIT_MAX))
			decode_problem(e, "", "limit", "must be from 1 to %d", REQUEUE_LIMIT_MAX);
		s->cmd.namespace = ns != NULL ? ns : http_default_ns(r);
		s->cmd.queue = queue;
		s->cmd.limit = (int32_t)limit;
	}
	if (rc == 0 && e->details.len > 0)
		rc = WEFT_EINVALID;
	return rc;
}

void v1_requeue(http_request *r)
{
	if (!admin_or_refuse(r))
		return;
	requeue_state *s = xcalloc(1, sizeof *s);
	cmd_requeue_init(&s->cmd);
	int rc = decode_requeue(r, s);
	if (rc != 0) {
		http_fail(r, rc);
		requeue_state_free(s);
		return;
	}
	if (s->cmd.nitems == 0 && !http_ns_visible(r, s->cmd.namespace)) {
		v1_fail_namespace(r, s->cmd.namespace);
		requeue_state_free(s);
		return;
	}
	s->cmd.base.actor = http_actor(r);
	s->cmd.visible = visibility_of(r);
	http_submit(r, &s->cmd.base, s, finish_requeue, requeue_state_free);
}
