/*
 * runs.c — the /v1 run routes: submitting a run (a DAG of queue and
 * webhook tasks, through batch.submit), reading one with its tasks and
 * their results, listing runs, paging a run's tasks, canceling, pausing or resuming one; and
 * the reports of webhook tasks (POST /v1/tasks/{id}/complete and /fail).
 *
 * A run lives in one namespace (its batch's); a run of a namespace the
 * token may not see is answered as unknown (404). A lone job is a run of
 * one task: GET /v1/runs/{id} answers it too, with the job's id as the
 * run's.
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/error.h"
#include "engine/commands/batches.h"
#include "engine/commands/operator.h"
#include "engine/commands/runs.h"
#include "engine/commands/tasks.h"
#include "http/decode.h"
#include "http/tokens.h"
#include "http/v1/cursor.h"
#include "http/v1/decode_run.h"
#include "http/v1/errors.h"
#include "http/v1/shapes.h"
#include "http/v1/task_list.h"
#include "http/wire.h"
#include "store/store.h"
#include "store/templates.h"
#include "store/jobs.h"
#include "store/runs.h"
#include "util/alloc.h"

/* Tasks a run's answer carries; the rest are paged by GET /v1/runs/{id}/tasks. */
#define RUN_TASKS_INLINE 1000

/* ---- POST /v1/runs ------------------------------------------------------------------------ */

typedef struct run_state {
	cmd_submit cmd;
	v1_run_input in;
	char ns[NAMESPACE_MAX + 1];
} run_state;

static void run_state_free(void *p)
{
	run_state *s = p;
	v1_run_input_release(&s->in);
	free(s);
}

void v1_put_run_created(buf *b, const weft_id *id, const char *ns, const v1_run_input *in)
{
	buf_puts(b, "{\"id\":");
	wire_id(b, id);
	buf_puts(b, ",\"namespace\":");
	wire_str(b, ns);
	buf_puts(b, ",\"name\":");
	wire_str(b, in->name);
	buf_puts(b, ",\"tasks\":[");
	for (size_t i = 0; i < in->ntasks; i++) {
		const new_task *t = &in->tasks[i];
		buf_puts(b, i > 0 ? ",{\"ref\":" : "{\"ref\":");
		wire_str(b, in->refs[i]);
		buf_puts(b, ",\"id\":");
		wire_id(b, &t->id);
		buf_puts(b, ",\"executor\":");
		wire_str(b, t->job != NULL ? "queue" : t->executor != NULL ? t->executor : "webhook");
		buf_puts(b, ",\"status\":");
		wire_str(b, task_status_name(t->status));
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
}

void v1_run_submit_init(cmd_submit *cmd, v1_run_input *in, const char *ns, const char *actor)
{
	cmd_submit_init(cmd);
	cmd->base.actor = actor;
	id_new_v7(&cmd->batch_id);
	cmd->tasks = in->tasks;
	cmd->ntasks = in->ntasks;
	cmd->metadata = in->metadata;
	cmd->namespace = ns;
	cmd->name = in->name;
}

static void finish_create(http_request *r, engine_cmd *cmd, void *state)
{
	run_state *s = state;
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	buf b;
	buf_init(&b);
	v1_put_run_created(&b, &s->cmd.batch_id, s->ns, &s->in);
	buf_putc(&b, '}');
	http_respond_json(r, 201, &b);
	buf_release(&b);
}

void v1_create_run(http_request *r)
{
	run_state *s = xcalloc(1, sizeof(*s));
	size_t len;
	const char *body = http_body(r, &len);
	int rc = v1_decode_run(body, len, http_config(r), &s->in, http_err(r));
	if (rc != 0) {
		http_fail(r, rc);
		free(s);
		return;
	}
	const char *ns = s->in.namespace != NULL ? s->in.namespace : http_default_ns(r);
	if (!http_ns_visible(r, ns)) {
		v1_fail_namespace(r, ns);
		run_state_free(s);
		return;
	}
	snprintf(s->ns, sizeof s->ns, "%s", ns);
	v1_run_submit_init(&s->cmd, &s->in, s->ns, http_actor(r));
	http_body_release(r);
	http_submit(r, &s->cmd.base, s, finish_create, run_state_free);
}

/* ---- a run's answer ------------------------------------------------------------------------ */

static void put_counts(buf *b, const int64_t counts[TS__COUNT])
{
	int64_t total = 0;
	buf_puts(b, "{");
	for (int st = 0; st < TS__COUNT; st++) {
		if (st > 0)
			buf_putc(b, ',');
		wire_str(b, task_status_name((task_status)st));
		buf_putc(b, ':');
		wire_i64(b, counts[st]);
		total += counts[st];
	}
	buf_puts(b, ",\"total\":");
	wire_i64(b, total);
	buf_putc(b, '}');
}

/* What a run's answer shows of it: a run (batch) row, or a lone job. */
typedef struct run_view {
	const weft_id *id;
	const char *namespace, *name, *metadata;
	int64_t created_at, completed_at;
	const int64_t *counts;           /* TS__COUNT */
} run_view;

static run_view view_of(const run_row *r)
{
	return (run_view){ &r->id, r->namespace, r->name, r->metadata, r->created_at, r->completed_at, r->counts };
}

/* The run's fields, its object left open for what follows. */
static void put_run_head(buf *b, const run_view *run)
{
	run_status status = run_status_of(run->counts);
	buf_puts(b, "{\"id\":");
	wire_id(b, run->id);
	buf_puts(b, ",\"namespace\":");
	wire_str(b, run->namespace);
	buf_puts(b, ",\"name\":");
	wire_str(b, run->name);
	buf_puts(b, ",\"status\":");
	wire_str(b, run_status_name(status));
	buf_puts(b, ",\"metadata\":");
	wire_raw(b, run->metadata, "null");
	buf_puts(b, ",\"created_at\":");
	wire_ts_ms(b, run->created_at);
	buf_puts(b, ",\"completed_at\":");
	wire_ts_ms(b, status == RUN_ACTIVE ? 0 : run->completed_at);
	buf_puts(b, ",\"counts\":");
	put_counts(b, run->counts);
}

static void put_run_task(buf *b, const task_row *t, const char *result)
{
	v1_task_view v = { .task = t, .max_attempts = v1_task_max_attempts(t), .result = result, .with_result = true };
	v1_put_task(b, &v);
}

/* The cursor of a run's tasks: after the last one given. */
static void put_tasks_cursor(buf *b, const run_task_row *last, const weft_id *run)
{
	v1_cursor c = { .at = last->task.created_at, .id = last->task.id, .filters = v1_fingerprint(run->str) };
	char text[V1_CURSOR_MAX];
	v1_cursor_encode(&c, text);
	wire_str(b, text);
}

/* A page of a run's tasks as `"tasks":[...],"<cursor_key>":...`. */
static int put_task_page(buf *b, store_conn *c, const weft_id *run, const v1_cursor *after, size_t limit,
                         const char *cursor_key)
{
	run_task_row *rows = NULL;
	size_t n = 0;
	/* One more than asked: whether a next page exists. */
	int rc = store_run_tasks(c, run, after ? after->at : 0, after ? &after->id : NULL, limit + 1, &rows, &n);
	if (rc != 0)
		return rc;
	buf_puts(b, "\"tasks\":[");
	for (size_t i = 0; i < n && i < limit; i++) {
		if (i > 0)
			buf_putc(b, ',');
		put_run_task(b, &rows[i].task, rows[i].result);
	}
	buf_printf(b, "],\"%s\":", cursor_key);
	if (n > limit)
		put_tasks_cursor(b, &rows[limit - 1], run);
	else
		buf_puts(b, "null");
	store_free_run_tasks(rows, n);
	return 0;
}

/* The namespaces the token sees, for store reads (NULL: all). */
static const char *const *visible_names(const http_request *r, size_t *n)
{
	*n = 0;
	if (http_ns_all(r))
		return NULL;
	const http_token *tok = http_token_of(r);
	*n = tok->nnamespaces;
	return (const char *const *)tok->namespaces;
}

/* The task of id when it is a run of its own (no batch) visible to the
 * request: 0, WEFT_ENOTFOUND, or a store error. d is released unless 0. */
static int read_lone_task(http_request *r, store_conn *c, const weft_id *id, job_detail *d)
{
	size_t nnames;
	const char *const *names = visible_names(r, &nnames);
	int rc = store_job_get(c, id, names, nnames, d);
	if (rc == 0 && id_is_set(&d->task.batch_id)) {
		job_detail_release(d);
		return WEFT_ENOTFOUND;      /* a task of a run is not a run */
	}
	return rc;
}

/* A lone job (or a task without a batch) as a run of one task. */
static int answer_lone_task(http_request *r, store_conn *c, const weft_id *id, bool tasks)
{
	job_detail d;
	int rc = read_lone_task(r, c, id, &d);
	if (rc != 0)
		return rc;
	int64_t counts[TS__COUNT] = { 0 };
	counts[d.task.status] = 1;
	run_view run = { &d.task.id, v1_task_namespace(&d.task), d.task.name, d.task.metadata, d.task.created_at,
		         d.task.ended_at, counts };
	buf b;
	buf_init(&b);
	put_run_head(&b, &run);
	if (tasks) {
		buf_puts(&b, ",\"tasks\":[");
		put_run_task(&b, &d.task, d.result);
		buf_puts(&b, "],\"tasks_next_cursor\":null");
	}
	buf_putc(&b, '}');
	http_respond_json(r, 200, &b);
	buf_release(&b);
	job_detail_release(&d);
	return 0;
}

/* The run of id visible to the request, with its counts when asked
 * (a grouped read of all its tasks); WEFT_ENOTFOUND for another
 * namespace's. run is released unless 0. */
static int read_run(http_request *r, store_conn *c, const weft_id *id, bool counts, run_row *run)
{
	int rc = store_run_get(c, id, run);
	if (rc == 0 && !http_ns_visible(r, run->namespace))
		rc = WEFT_ENOTFOUND;
	else if (rc == 0 && counts)
		rc = store_run_counts(c, run, 1);
	if (rc != 0)
		run_row_release(run);
	return rc;
}

/* A run started from a template: `,"template":{"name","version"},"context":…`;
 * nothing for another run. */
static int put_template_origin(buf *b, store_conn *c, const weft_id *id)
{
	template_run_row t;
	int rc = store_template_run_get(c, id, &t);
	if (rc == WEFT_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	buf_puts(b, ",\"template\":{\"name\":");
	wire_str(b, t.template_name);
	buf_puts(b, ",\"version\":");
	wire_str(b, t.template_version);
	buf_puts(b, "},\"context\":");
	wire_raw(b, t.context, "null");
	template_run_row_release(&t);
	return 0;
}

/* ?tasks=false: the run without its task list (a summary: status and
 * counts), for a caller that reads the tasks elsewhere. Default true. */
static int want_tasks(http_request *r, bool *tasks)
{
	http_query_src q = http_query_src_of(r);
	const char *v = decode_query_text(&q, "tasks");
	*tasks = v == NULL || strcmp(v, "true") == 0;
	if (v != NULL && strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
		return http_error_set(http_err(r), WEFT_EINVALID, HTTP_ERR_RULE, "tasks", "expected true or false");
	return 0;
}

void v1_get_run(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	bool tasks;
	int bad = want_tasks(r, &tasks);
	if (bad != 0) {
		http_fail(r, bad);
		return;
	}
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	run_row run;
	int rc = read_run(r, c, id, true, &run);
	if (rc == WEFT_ENOTFOUND) {
		rc = answer_lone_task(r, c, id, tasks);
		store_reader_release(http_store(r), c);
		if (rc == WEFT_ENOTFOUND)
			v1_fail_not_found(r, "run", id);
		else if (rc != 0)
			http_fail_server(r, rc, "run read");
		return;
	}
	buf b;
	buf_init(&b);
	if (rc == 0) {
		run_view v = view_of(&run);
		put_run_head(&b, &v);
		if (tasks) {
			buf_putc(&b, ',');
			rc = put_task_page(&b, c, id, NULL, RUN_TASKS_INLINE, "tasks_next_cursor");
		}
		if (rc == 0)
			rc = put_template_origin(&b, c, id);
		buf_putc(&b, '}');
		run_row_release(&run);
	}
	store_reader_release(http_store(r), c);
	if (rc != 0)
		http_fail_server(r, rc, "run read");
	else
		http_respond_json(r, 200, &b);
	buf_release(&b);
}

/* ---- GET /v1/runs/{id}/tasks ------------------------------------------------------------------- */

void v1_run_tasks(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	http_query_src q = http_query_src_of(r);
	int64_t limit = V1_LIST_LIMIT_DEFAULT;
	int rc = decode_query_int(&q, "limit", 1, V1_LIST_LIMIT_MAX, http_err(r), &limit, NULL);
	if (rc != 0)
		rc = http_error_set(http_err(r), WEFT_EINVALID, HTTP_ERR_RULE, "limit", "expected an integer from 1 to %d",
		                    V1_LIST_LIMIT_MAX);
	v1_cursor after = { 0 };
	const char *text = q.get(q.ctx, "cursor");
	if (rc == 0 && text != NULL &&
	    (v1_cursor_decode(text, &after) != 0 || after.filters != v1_fingerprint(id->str)))
		rc = http_error_set(http_err(r), WEFT_EINVALID, HTTP_ERR_RULE, "cursor", "not a cursor of this run's tasks");
	store_conn *c = http_reader_after(r, rc);
	if (c == NULL)
		return;
	run_row run;
	rc = read_run(r, c, id, false, &run);
	buf b;
	buf_init(&b);
	if (rc == 0) {
		buf_putc(&b, '{');
		rc = put_task_page(&b, c, id, text != NULL ? &after : NULL, (size_t)limit, "next_cursor");
		buf_putc(&b, '}');
		run_row_release(&run);
	} else if (rc == WEFT_ENOTFOUND) {
		/* A lone job: its run's one task, on one page. */
		job_detail d;
		if ((rc = read_lone_task(r, c, id, &d)) == 0) {
			buf_puts(&b, "{\"tasks\":[");
			if (text == NULL)
				put_run_task(&b, &d.task, d.result);
			buf_puts(&b, "],\"next_cursor\":null}");
			job_detail_release(&d);
		}
	}
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND)
		v1_fail_not_found(r, "run", id);
	else if (rc != 0)
		http_fail_server(r, rc, "run tasks");
	else
		http_respond_json(r, 200, &b);
	buf_release(&b);
}

/* ---- GET /v1/runs ------------------------------------------------------------------------------ */

static int bad_param(http_request *r, const char *param, const char *why)
{
	return http_error_set(http_err(r), WEFT_EINVALID, HTTP_ERR_RULE, param, "%s", why);
}

static int decode_list(http_request *r, run_filter *f, int64_t *limit)
{
	http_query_src q = http_query_src_of(r);
	http_error *e = http_err(r);
	*limit = V1_LIST_LIMIT_DEFAULT;
	if (decode_query_int(&q, "limit", 1, V1_LIST_LIMIT_MAX, e, limit, NULL) != 0)
		return bad_param(r, "limit", "expected an integer from 1 to 1000");
	const char *s;
	if ((s = q.get(q.ctx, "namespace")) != NULL && !namespace_valid(s))
		return bad_param(r, "namespace", "expected a namespace name [a-z0-9][a-z0-9_-]{0,62}");
	if (s != NULL && !http_ns_visible(r, s)) {
		v1_fail_namespace(r, s);
		return -1;
	}
	const char *status = q.get(q.ctx, "status");
	if (status != NULL) {
		if (run_status_parse(status, &f->status) != 0)
			return bad_param(r, "status", "expected active, success, failure or canceled");
		f->has_status = true;
	}
	if (decode_query_time(&q, "created_after", e, &f->created_after) != 0)
		return bad_param(r, "created_after", "expected an RFC 3339 time");
	if (decode_query_time(&q, "created_before", e, &f->created_before) != 0)
		return bad_param(r, "created_before", "expected an RFC 3339 time");
	return 0;
}

/* The filters' fingerprint: a cursor is only good with the filters it
 * was made with. */
static uint64_t list_fingerprint(const char *ns, const run_filter *f)
{
	char text[256];
	snprintf(text, sizeof text, "runs|ns=%s|status=%d|after=%" PRId64 "|before=%" PRId64, ns ? ns : "",
	         f->has_status ? (int)f->status : -1, f->created_after, f->created_before);
	return v1_fingerprint(text);
}

/* A run in the list. */
static void put_listed_run(buf *b, const void *item)
{
	run_view v = view_of(item);
	put_run_head(b, &v);
	buf_putc(b, '}');
}

void v1_list_runs(http_request *r)
{
	run_filter f = { 0 };
	int64_t limit;
	int rc = decode_list(r, &f, &limit);
	if (rc == -1)
		return;         /* answered */
	http_query_src q = http_query_src_of(r);
	const char *ns = q.get(q.ctx, "namespace");
	if (ns != NULL) {
		f.namespaces = &ns;
		f.nnamespaces = 1;
	} else {
		f.namespaces = visible_names(r, &f.nnamespaces);
	}
	uint64_t fp = list_fingerprint(ns, &f);
	const char *text = q.get(q.ctx, "cursor");
	v1_cursor after;
	if (rc == 0 && text != NULL) {
		rc = v1_cursor_take(text, fp, http_err(r), &after);
		f.has_cursor = true;
		f.cursor_at = after.at;
		f.cursor_id = after.id;
	}
	store_conn *c = http_reader_after(r, rc);
	if (c == NULL)
		return;
	run_row *runs = NULL;
	size_t n = 0;
	rc = store_run_list(c, &f, (size_t)limit + 1, &runs, &n);
	size_t shown = MIN(n, (size_t)limit);
	if (rc == 0)
		rc = store_run_counts(c, runs, shown);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		store_free_runs(runs, n);
		http_fail_server(r, rc, "run list");
		return;
	}
	v1_cursor next = { 0 };
	if (n > shown)
		next = (v1_cursor){ .at = runs[shown - 1].created_at, .id = runs[shown - 1].id, .filters = fp };
	v1_respond_page(r, "runs", runs, shown, sizeof *runs, put_listed_run, n > shown ? &next : NULL);
	store_free_runs(runs, n);
}

/* ---- POST /v1/runs/{id}/cancel -------------------------------------------------------------------- */

static void finish_cancel(http_request *r, engine_cmd *cmd, void *state)
{
	cmd_stop_batch *c = state;
	if (cmd->result == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "run", &c->batch_id);
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	int64_t total = 0;
	for (int s = 0; s < TS__COUNT; s++)
		total += c->counts.canceled[s];
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"id\":");
	wire_id(&b, &c->batch_id);
	buf_puts(&b, ",\"canceled\":");
	wire_i64(&b, total);
	buf_puts(&b, ",\"already_ended\":");
	wire_i64(&b, c->counts.already_terminal);
	buf_putc(&b, '}');
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

/* A lone job's run canceled: its one task, unless it had ended. */
static void finish_cancel_lone(http_request *r, engine_cmd *cmd, void *state)
{
	cmd_task *c = state;
	if (cmd->result == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "run", &c->id);
		return;
	}
	if (cmd->result != 0 && cmd->result != WEFT_ECONFLICT) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"id\":");
	wire_id(&b, &c->id);
	buf_puts(&b, cmd->result == 0 ? ",\"canceled\":1,\"already_ended\":0}" : ",\"canceled\":0,\"already_ended\":1}");
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

/* What an id given to a run's action names: a run (a batch row), a lone
 * job (a run of one task, with no batch row), or nothing the token may
 * see; RUN_ANSWERED when the request has been answered already (404, or
 * a read failed). */
typedef enum { RUN_ANSWERED, RUN_BATCH, RUN_LONE_JOB } run_kind;

static run_kind find_run(http_request *r, const weft_id *id)
{
	store_conn *c = http_reader(r);
	if (c == NULL)
		return RUN_ANSWERED;
	run_row run;
	run_kind kind = RUN_BATCH;
	int rc = read_run(r, c, id, false, &run);
	if (rc == 0) {
		run_row_release(&run);
	} else if (rc == WEFT_ENOTFOUND) {
		job_detail d;
		if ((rc = read_lone_task(r, c, id, &d)) == 0) {
			kind = RUN_LONE_JOB;
			job_detail_release(&d);
		}
	}
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "run", id);
		return RUN_ANSWERED;
	}
	if (rc != 0) {
		http_fail_server(r, rc, "run read");
		return RUN_ANSWERED;
	}
	return kind;
}

void v1_cancel_run(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	run_kind kind = find_run(r, id);
	if (kind == RUN_ANSWERED)
		return;
	if (kind == RUN_LONE_JOB) {
		cmd_task *cmd = xmalloc(sizeof(*cmd));
		cmd_task_init(cmd, TASK_CANCEL);
		cmd->base.actor = http_actor(r);
		cmd->id = *id;
		http_submit(r, &cmd->base, cmd, finish_cancel_lone, free);
		return;
	}
	cmd_stop_batch *cmd = xmalloc(sizeof(*cmd));
	cmd_stop_batch_init(cmd);
	cmd->base.actor = http_actor(r);
	cmd->batch_id = *id;
	http_submit(r, &cmd->base, cmd, finish_cancel, free);
}

/* ---- POST /v1/runs/{id}/pause and /resume ------------------------------------------------------------ */

static void put_pause_answer(buf *b, const weft_id *id, bool resume, int64_t changed, int64_t unchanged)
{
	buf_puts(b, "{\"id\":");
	wire_id(b, id);
	buf_puts(b, resume ? ",\"resumed\":" : ",\"paused\":");
	wire_i64(b, changed);
	buf_puts(b, ",\"unchanged\":");
	wire_i64(b, unchanged);
	buf_putc(b, '}');
}

static void finish_pause(http_request *r, engine_cmd *cmd, void *state)
{
	cmd_run_pause *c = state;
	if (cmd->result == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "run", &c->batch_id);
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	buf b;
	buf_init(&b);
	put_pause_answer(&b, &c->batch_id, c->resume, c->changed, c->unchanged);
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

/* A lone job's run: its one task, through the operator's action. */
typedef struct lone_pause {
	cmd_operator cmd;
	bool resume;
} lone_pause;

static void finish_pause_lone(http_request *r, engine_cmd *cmd, void *state)
{
	lone_pause *s = state;
	if (cmd->result == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "run", &s->cmd.id);
		return;
	}
	if (cmd->result != 0 && cmd->result != WEFT_ECONFLICT) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	buf b;
	buf_init(&b);
	put_pause_answer(&b, &s->cmd.id, s->resume, cmd->result == 0, cmd->result != 0);
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

static void pause_run(http_request *r, bool resume)
{
	const weft_id *id = http_param(r, 0);
	run_kind kind = find_run(r, id);
	if (kind == RUN_ANSWERED)
		return;
	if (kind == RUN_LONE_JOB) {
		lone_pause *s = xcalloc(1, sizeof *s);
		cmd_operator_init(&s->cmd, resume ? OPERATOR_RESUME : OPERATOR_PAUSE);
		s->resume = resume;
		s->cmd.base.actor = http_actor(r);
		s->cmd.id = *id;
		http_submit(r, &s->cmd.base, s, finish_pause_lone, free);
		return;
	}
	cmd_run_pause *cmd = xmalloc(sizeof(*cmd));
	cmd_run_pause_init(cmd, resume);
	cmd->base.actor = http_actor(r);
	cmd->batch_id = *id;
	http_submit(r, &cmd->base, cmd, finish_pause, free);
}

void v1_pause_run(http_request *r) { pause_run(r, false); }
void v1_resume_run(http_request *r) { pause_run(r, true); }

/* ---- POST /v1/tasks/{id}/complete and /fail (webhook tasks) ------------------------------------------ */

typedef struct report_state {
	cmd_task_report cmd;
	v1_task_report_input in;
} report_state;

static void report_state_free(void *p)
{
	report_state *s = p;
	v1_task_report_input_release(&s->in);
	free(s);
}

static void finish_report(http_request *r, engine_cmd *cmd, void *state)
{
	report_state *s = state;
	if (cmd->result == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "task", &s->cmd.id);
		return;
	}
	if (cmd->result == WEFT_ECONFLICT) {
		http_error_state(http_err(r), cmd->current_status);
		v1_fail_msg(r, WEFT_ECONFLICT, NULL, "The task is %s: only a started task reports its end.",
		            task_status_name(cmd->current_status));
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"id\":");
	wire_id(&b, &s->cmd.id);
	buf_puts(&b, ",\"status\":");
	wire_str(&b, task_status_name(cmd->current_status));
	buf_putc(&b, '}');
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

static void report_task(http_request *r, bool fail)
{
	const weft_id *id = http_param(r, 0);
	report_state *s = xcalloc(1, sizeof(*s));
	size_t len;
	const char *body = http_body(r, &len);
	int rc = v1_decode_task_report(fail, body, len, http_config(r)->json_max_depth, &s->in, http_err(r));
	if (rc != 0) {
		http_fail(r, rc);
		free(s);
		return;
	}
	/* Another namespace's task is unknown; a job has its fenced routes. */
	store_conn *c = http_reader(r);
	if (c == NULL) {
		report_state_free(s);
		return;
	}
	size_t nnames;
	const char *const *names = visible_names(r, &nnames);
	job_detail d;
	rc = store_job_get(c, id, names, nnames, &d);
	store_reader_release(http_store(r), c);
	if (rc == 0 && v1_task_is_job(&d.task)) {
		job_detail_release(&d);
		v1_fail_msg(r, WEFT_ECONFLICT, NULL,
		            "Task %s is a job: report it with POST /v1/jobs/{id}/%s and its lease_token.", id->str,
		            fail ? "fail" : "complete");
		report_state_free(s);
		return;
	}
	if (rc == 0)
		job_detail_release(&d);
	if (rc != 0) {
		if (rc == WEFT_ENOTFOUND)
			v1_fail_not_found(r, "task", id);
		else
			http_fail_server(r, rc, "task read");
		report_state_free(s);
		return;
	}
	cmd_task_report_init(&s->cmd);
	s->cmd.base.actor = http_actor(r);
	s->cmd.id = *id;
	s->cmd.fail = fail;
	s->cmd.result = s->in.result;
	s->cmd.error_code = s->in.code;
	s->cmd.message = s->in.message;
	http_body_release(r);
	http_submit(r, &s->cmd.base, s, finish_report, report_state_free);
}

void v1_task_complete(http_request *r) { report_task(r, false); }
void v1_task_fail(http_request *r) { report_task(r, true); }
