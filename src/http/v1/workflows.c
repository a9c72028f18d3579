/*
 * workflows.c — the /v1/workflows routes (docs/internals/workflows.md):
 *   POST /v1/workflows                 start a run: 201, or 200 with the
 *                                      active run holding idempotency_key
 *   GET  /v1/workflows/{id}            a run
 *   GET  /v1/workflows/by-key/{key}    the run holding a key (?namespace=):
 *                                      the active one, else the newest
 *   GET  /v1/workflows                 runs, newest first, filtered, paged
 *   POST /v1/workflows/{id}/cancel|terminate|retry, /signals
 *   POST /v1/workflows/{id}/steps/begin|complete|fail, /sleep,
 *        /wait-signal, /complete, /fail   the worker holding the run's job
 *
 * The start body is a job's (POST /v1/jobs: queue, input, priority,
 * run_at or delay_ms, max_attempts, backoff, non_retryable_codes,
 * timeout_secs, metadata, concurrency_key, rate_key) plus namespace, type
 * and idempotency_key; its retry policy is the run's and its steps'. A
 * run of a namespace the token may not see is answered as unknown.
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/error.h"
#include "core/limits.h"
#include "engine/commands/operator.h"
#include "engine/commands/workflows.h"
#include "http/decode.h"
#include "http/tokens.h"
#include "http/v1/cursor.h"
#include "http/v1/decode_job.h"
#include "http/v1/task_list.h"
#include "http/v1/errors.h"
#include "http/wire.h"
#include "store/workflows.h"
#include "store/runs.h"
#include "util/alloc.h"

/* The largest seq a call names: more iterations of one name than any run
 * makes. */
#define WORKFLOW_SEQ_MAX 1000000

/* ---- the answer: a run --------------------------------------------------------------------- */

/* {"code", "message"} of an error, or null without one. */
void v1_put_workflow_error(buf *b, const char *code, const char *message)
{
	if (code == NULL) {
		buf_puts(b, "null");
		return;
	}
	buf_puts(b, "{\"code\":");
	wire_str(b, code);
	buf_puts(b, ",\"message\":");
	wire_str(b, message);
	buf_putc(b, '}');
}

static void put_run(buf *b, const workflow_run_row *r)
{
	buf_puts(b, "{\"id\":");
	wire_id(b, &r->id);
	buf_puts(b, ",\"namespace\":");
	wire_str(b, r->namespace);
	buf_puts(b, ",\"type\":");
	wire_str(b, r->type);
	buf_puts(b, ",\"queue\":");
	wire_str(b, r->queue);
	buf_puts(b, ",\"status\":");
	wire_str(b, r->status);
	buf_puts(b, ",\"idempotency_key\":");
	wire_str(b, r->idempotency_key);
	buf_puts(b, ",\"input\":");
	wire_raw(b, r->input, "null");
	buf_puts(b, ",\"output\":");
	wire_raw(b, r->output, "null");
	buf_puts(b, ",\"error\":");
	v1_put_workflow_error(b, r->error_code, r->error_message);
	buf_puts(b, ",\"suspended\":");
	if (r->suspend_reason != NULL && strcmp(r->status, "suspended") == 0) {
		buf_puts(b, "{\"reason\":");
		wire_str(b, r->suspend_reason);
		buf_puts(b, ",\"wake_at\":");
		wire_ts(b, r->wake_at);
		buf_puts(b, ",\"signal\":");
		wire_str(b, r->wait_signal);
		buf_putc(b, '}');
	} else {
		buf_puts(b, "null");
	}
	buf_puts(b, ",\"replays\":");
	wire_i64(b, r->replays);
	buf_puts(b, ",\"created_at\":");
	wire_ts(b, r->created_at);
	buf_puts(b, ",\"updated_at\":");
	wire_ts(b, r->updated_at);
	buf_puts(b, ",\"ended_at\":");
	wire_ts(b, r->ended_at);
	buf_putc(b, '}');
}

/* Reads the run (by id, or by namespace and key) as the API shows it
 * (store_workflow_run_list) and answers it: 404 when absent or of a
 * namespace the token may not see. */
static void answer_run(http_request *r, int status, const weft_id *id, const char *ns, const char *key)
{
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	weft_id by_key;
	int rc = 0;
	if (id == NULL) {
		workflow_run_row held;
		if ((rc = store_workflow_run_by_key(c, ns, key, &held)) == 0)
			by_key = held.id;
		workflow_run_row_release(&held);
	}
	workflow_run_row *runs = NULL;
	size_t n = 0;
	if (rc == 0) {
		workflow_run_filter f = { .id = id != NULL ? id : &by_key };
		rc = store_workflow_run_list(c, &f, 1, &runs, &n);
		if (rc == 0 && n == 0)
			rc = WEFT_ENOTFOUND;
	}
	store_reader_release(http_store(r), c);
	if (rc == 0 && !http_ns_visible(r, runs[0].namespace))
		rc = WEFT_ENOTFOUND;
	if (rc == WEFT_ENOTFOUND && id != NULL)
		v1_fail_not_found(r, "workflow", id);
	else if (rc == WEFT_ENOTFOUND)
		v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No workflow run holds key %s in namespace %s.", key, ns);
	else if (rc != 0)
		http_fail_server(r, rc, "workflow read");
	if (rc == 0) {
		buf b;
		buf_init(&b);
		put_run(&b, &runs[0]);
		http_respond_json(r, status, &b);
		buf_release(&b);
	}
	store_free_workflow_runs(runs, n);
}

/* ---- POST /v1/workflows --------------------------------------------------------------------- */

typedef struct start_state {
	cmd_workflow_start cmd;
	json_t *doc;
	job_spec job;
	const char *codes[JOB_NON_RETRYABLE_MAX + 1];
	v1_texts texts;
} start_state;

static void start_state_free(void *p)
{
	start_state *s = p;
	json_decref(s->doc);
	v1_texts_release(&s->texts);
	free(s);
}

/* The body into s: 0, or the code to fail with (problems in http_err). */
static int decode_start(http_request *r, start_state *s)
{
	size_t len;
	const char *body = http_body(r, &len);
	http_error *e = http_err(r);
	int rc = decode_body_object(body, len, http_config(r)->json_max_depth, e, &s->doc);
	if (rc != 0)
		return rc;
	static const char *const own[] = { "namespace", "type", "idempotency_key", NULL };
	bool too_large = false;
	size_t ncodes = 0;
	v1_decode_job_in(s->doc, "", own, &s->job, s->codes, &ncodes, &s->texts, e, &too_large);
	if (json_object_get(s->doc, "dedup") != NULL)
		decode_problem(e, "", "dedup", "a workflow run has no dedup: give idempotency_key");
	const char *ns = NULL;
	if (decode_str(e, s->doc, "", "namespace", 0, &ns) == 0 && ns != NULL && !namespace_valid(ns))
		decode_problem(e, "", "namespace", "must match [a-z0-9][a-z0-9_-]{0,62}");
	s->cmd.namespace = ns;
	s->cmd.type = decode_str_bounded(e, s->doc, "", "type", DECODE_REQUIRED, TASK_NAME_MAX, &too_large);
	s->cmd.idempotency_key = decode_str_bounded(e, s->doc, "", "idempotency_key", 0, JOB_KEY_MAX, &too_large);
	if (e->details.len == 0)
		return 0;
	return too_large ? WEFT_ETOOLARGE : WEFT_EINVALID;
}

static void finish_start(http_request *r, engine_cmd *cmd, void *state)
{
	start_state *s = state;
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	answer_run(r, s->cmd.created ? 201 : 200, &s->cmd.id, NULL, NULL);
}

void v1_start_workflow(http_request *r)
{
	start_state *s = xcalloc(1, sizeof *s);
	cmd_workflow_start_init(&s->cmd);
	int rc = decode_start(r, s);
	if (rc != 0) {
		http_fail(r, rc);
		start_state_free(s);
		return;
	}
	const char *ns = s->cmd.namespace != NULL ? s->cmd.namespace : http_default_ns(r);
	if (!http_ns_visible(r, ns)) {
		v1_fail_namespace(r, ns);
		start_state_free(s);
		return;
	}
	s->cmd.namespace = ns;
	s->cmd.job = &s->job;
	s->cmd.base.actor = http_actor(r);
	http_submit(r, &s->cmd.base, s, finish_start, start_state_free);
}

/* ---- GET /v1/workflows/{id}, /v1/workflows/by-key/{key} ------------------------------------ */

void v1_get_workflow(http_request *r)
{
	answer_run(r, 200, http_param(r, 0), NULL, NULL);
}

void v1_workflow_by_key(http_request *r)
{
	const char *key = http_param_text(r, 0);
	const char *ns = http_query(r, "namespace");
	if (ns == NULL)
		ns = http_default_ns(r);
	if (key == NULL || *key == '\0' || strlen(key) > JOB_KEY_MAX) {
		v1_fail_msg(r, WEFT_EINVALID, NULL, "The key must have 1 to %d bytes.", JOB_KEY_MAX);
		return;
	}
	if (!namespace_valid(ns)) {
		v1_fail_msg(r, WEFT_EINVALID, NULL, "namespace: must match [a-z0-9][a-z0-9_-]{0,62}.");
		return;
	}
	answer_run(r, 200, NULL, ns, key);
}

/* ---- GET /v1/workflows ---------------------------------------------------------------------- */

static const char *const run_statuses[] = { "pending", "running", "suspended", "completed",
	                                    "failed", "canceled", "terminated", NULL };

static int bad_param(http_request *r, const char *param, const char *why)
{
	return http_error_set(http_err(r), WEFT_EINVALID, HTTP_ERR_RULE, param, "%s", why);
}

/* The query into f and *limit: 0, WEFT_EINVALID (recorded), or -1 after
 * answering 403. */
static int decode_list(http_request *r, workflow_run_filter *f, const char **ns, int64_t *limit)
{
	http_query_src q = http_query_src_of(r);
	http_error *e = http_err(r);
	*limit = V1_LIST_LIMIT_DEFAULT;
	if (decode_query_int(&q, "limit", 1, V1_LIST_LIMIT_MAX, e, limit, NULL) != 0)
		return bad_param(r, "limit", "expected an integer from 1 to 1000");
	if ((*ns = q.get(q.ctx, "namespace")) != NULL && !namespace_valid(*ns))
		return bad_param(r, "namespace", "expected a namespace name [a-z0-9][a-z0-9_-]{0,62}");
	if (*ns != NULL && !http_ns_visible(r, *ns)) {
		v1_fail_namespace(r, *ns);
		return -1;
	}
	if ((f->status = q.get(q.ctx, "status")) != NULL) {
		bool known = false;
		for (const char *const *s = run_statuses; *s != NULL && !known; s++)
			known = strcmp(*s, f->status) == 0;
		if (!known)
			return bad_param(r, "status", "expected pending, running, suspended, completed, failed, canceled "
			                              "or terminated");
	}
	if ((f->type = q.get(q.ctx, "type")) != NULL && (*f->type == '\0' || strlen(f->type) > TASK_NAME_MAX))
		return bad_param(r, "type", "expected 1 to 255 bytes");
	if ((f->queue = q.get(q.ctx, "queue")) != NULL && !queue_name_valid(f->queue))
		return bad_param(r, "queue", "expected a queue name [A-Za-z0-9][A-Za-z0-9._:-]{0,99}");
	if (decode_query_time(&q, "created_after", e, &f->created_after) != 0)
		return bad_param(r, "created_after", "expected an RFC 3339 time");
	if (decode_query_time(&q, "created_before", e, &f->created_before) != 0)
		return bad_param(r, "created_before", "expected an RFC 3339 time");
	return 0;
}

/* A run in the list. */
static void put_listed_run(buf *b, const void *item)
{
	put_run(b, item);
}

void v1_list_workflows(http_request *r)
{
	workflow_run_filter f = { 0 };
	const char *ns = NULL;
	int64_t limit;
	int rc = decode_list(r, &f, &ns, &limit);
	if (rc == -1)
		return;
	if (ns != NULL) {
		f.namespaces = &ns;
		f.nnamespaces = 1;
	} else if (!http_ns_all(r)) {
		const http_token *tok = http_token_of(r);
		f.namespaces = (const char *const *)tok->namespaces;
		f.nnamespaces = tok->nnamespaces;
	}
	/* A cursor is good only with the filters it was made with. */
	char canon[1024];
	snprintf(canon, sizeof canon, "workflows|ns=%s|status=%s|type=%s|queue=%s|after=%" PRId64 "|before=%" PRId64,
	         ns ? ns : "", f.status ? f.status : "", f.type ? f.type : "", f.queue ? f.queue : "",
	         f.created_after, f.created_before);
	uint64_t fp = v1_fingerprint(canon);
	http_query_src q = http_query_src_of(r);
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
	workflow_run_row *runs = NULL;
	size_t n = 0;
	rc = store_workflow_run_list(c, &f, (size_t)limit + 1, &runs, &n);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		store_free_workflow_runs(runs, n);
		http_fail_server(r, rc, "workflow list");
		return;
	}
	size_t shown = MIN(n, (size_t)limit);
	v1_cursor next = { 0 };
	if (n > shown)
		next = (v1_cursor){ .at = runs[shown - 1].created_at, .id = runs[shown - 1].id, .filters = fp };
	v1_respond_page(r, "workflows", runs, shown, sizeof *runs, put_listed_run, n > shown ? &next : NULL);
	store_free_workflow_runs(runs, n);
}

static job_visibility visibility_of(const http_request *r);
static void fail_conflict(http_request *r, const char *code, const char *status, const char *message);

/* ---- POST /v1/workflows/{id}/cancel, /terminate ---------------------------------------------- */

typedef struct stop_state {
	cmd_workflow_stop cmd;
	json_t *doc;
} stop_state;

static void stop_state_free(void *p)
{
	stop_state *s = p;
	json_decref(s->doc);
	free(s);
}

static void finish_stop(http_request *r, engine_cmd *cmd, void *state)
{
	stop_state *s = state;
	if (cmd->result == WEFT_ENOTFOUND)
		v1_fail_not_found(r, "workflow", &s->cmd.run_id);
	else if (cmd->result == WEFT_ECONFLICT && s->cmd.kind == WF_RETRY)
		fail_conflict(r, "not_retryable", s->cmd.run_status,
		              "Only a failed, canceled or terminated run is retried.");
	else if (cmd->result == WEFT_ECONFLICT)
		fail_conflict(r, "workflow_ended", s->cmd.run_status, "The run has ended.");
	else if (cmd->result != 0)
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
	else
		answer_run(r, 200, &s->cmd.run_id, NULL, NULL);
}

/* The body (optional): {"reason": "..."}. */
static void stop(http_request *r, workflow_stop_kind kind)
{
	stop_state *s = xcalloc(1, sizeof *s);
	cmd_workflow_stop_init(&s->cmd, kind);
	size_t len;
	const char *body = http_body(r, &len);
	http_error *e = http_err(r);
	int rc = 0;
	if (len > 0 && (rc = decode_body_object(body, len, http_config(r)->json_max_depth, e, &s->doc)) == 0) {
		static const char *const known[] = { "reason", NULL };
		bool too_large = false;
		decode_unknown_members(e, s->doc, "", known);
		s->cmd.reason = decode_str_bounded(e, s->doc, "", "reason", 0, OPERATOR_REASON_MAX, &too_large);
		if (e->details.len > 0)
			rc = too_large ? WEFT_ETOOLARGE : WEFT_EINVALID;
	}
	if (rc != 0) {
		http_fail(r, rc);
		stop_state_free(s);
		return;
	}
	s->cmd.run_id = *http_param(r, 0);
	s->cmd.visible = visibility_of(r);
	s->cmd.base.actor = http_actor(r);
	http_submit(r, &s->cmd.base, s, finish_stop, stop_state_free);
}

void v1_cancel_workflow(http_request *r) { stop(r, WF_CANCEL); }
void v1_terminate_workflow(http_request *r) { stop(r, WF_TERMINATE); }
void v1_retry_workflow(http_request *r) { stop(r, WF_RETRY); }

/* ---- POST /v1/workflows/{id}/signals ---------------------------------------------------------- */

typedef struct signal_state {
	cmd_workflow_signal cmd;
	json_t *doc;
	char *payload;
} signal_state;

static void signal_state_free(void *p)
{
	signal_state *s = p;
	json_decref(s->doc);
	free(s->payload);
	free(s);
}

static void finish_signal(http_request *r, engine_cmd *cmd, void *state)
{
	signal_state *s = state;
	if (cmd->result == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "workflow", &s->cmd.run_id);
		return;
	}
	if (cmd->result == WEFT_ECONFLICT && s->cmd.full) {
		char msg[128];
		snprintf(msg, sizeof msg, "The run holds %d signals no wait has taken: no more until it takes some.",
		         WORKFLOW_SIGNALS_PENDING_MAX);
		fail_conflict(r, "too_many_signals", s->cmd.run_status, msg);
		return;
	}
	if (cmd->result == WEFT_ECONFLICT) {
		fail_conflict(r, "workflow_ended", s->cmd.run_status, "The run has ended: no signal reaches it.");
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"id\":");
	wire_i64(&b, s->cmd.id);
	buf_puts(&b, ",\"name\":");
	wire_str(&b, s->cmd.name);
	buf_puts(&b, ",\"woke\":");
	wire_bool(&b, s->cmd.woke);
	buf_puts(&b, ",\"run_status\":");
	wire_str(&b, s->cmd.run_status);
	buf_putc(&b, '}');
	http_respond_json(r, 201, &b);
	buf_release(&b);
}

void v1_signal_workflow(http_request *r)
{
	signal_state *s = xcalloc(1, sizeof *s);
	cmd_workflow_signal_init(&s->cmd);
	size_t len;
	const char *body = http_body(r, &len);
	http_error *e = http_err(r);
	int rc = decode_body_object(body, len, http_config(r)->json_max_depth, e, &s->doc);
	if (rc == 0) {
		static const char *const known[] = { "name", "payload", NULL };
		bool too_large = false;
		decode_unknown_members(e, s->doc, "", known);
		s->cmd.name = decode_str_bounded(e, s->doc, "", "name", DECODE_REQUIRED, TASK_NAME_MAX, &too_large);
		json_t *m = json_object_get(s->doc, "payload");
		if (m != NULL) {
			s->payload = json_dump_compact(m);
			if (strlen(s->payload) > JOB_PAYLOAD_MAX_BYTES) {
				decode_problem(e, "", "payload", "is %zu bytes of JSON; the limit is %d", strlen(s->payload),
				               JOB_PAYLOAD_MAX_BYTES);
				too_large = true;
			}
			s->cmd.payload = s->payload;
		}
		if (e->details.len > 0)
			rc = too_large ? WEFT_ETOOLARGE : WEFT_EINVALID;
	}
	if (rc != 0) {
		http_fail(r, rc);
		signal_state_free(s);
		return;
	}
	s->cmd.run_id = *http_param(r, 0);
	s->cmd.visible = visibility_of(r);
	s->cmd.base.actor = http_actor(r);
	http_submit(r, &s->cmd.base, s, finish_signal, signal_state_free);
}

/* ---- a worker's calls: POST /v1/workflows/{id}/... ------------------------------------------ */

typedef struct call_state {
	cmd_workflow_call cmd;
	json_t *doc;
	char *output;                  /* compact JSON text, owned */
} call_state;

static void call_state_free(void *p)
{
	call_state *s = p;
	cmd_workflow_call_release(&s->cmd);
	json_decref(s->doc);
	free(s->output);
	free(s);
}

/* The members each call takes besides lease_token. */
static const char *const *call_fields(workflow_call_kind k)
{
	static const char *const begin[] = { "lease_token", "name", NULL };
	static const char *const complete[] = { "lease_token", "name", "seq", "output", NULL };
	static const char *const fail[] = { "lease_token", "name", "seq", "error", "retryable", NULL };
	static const char *const sleep[] = { "lease_token", "name", "duration_ms", NULL };
	static const char *const run_complete[] = { "lease_token", "output", NULL };
	static const char *const run_fail[] = { "lease_token", "error", "retryable", NULL };
	static const char *const wait[] = { "lease_token", "name", "timeout_ms", NULL };
	switch (k) {
	case WF_STEP_BEGIN: return begin;
	case WF_STEP_COMPLETE: return complete;
	case WF_STEP_FAIL: return fail;
	case WF_SLEEP: return sleep;
	case WF_RUN_COMPLETE: return run_complete;
	case WF_RUN_FAIL: return run_fail;
	case WF_WAIT_SIGNAL: return wait;
	}
	return begin;
}

static void decode_error_member(http_error *e, const json_t *doc, cmd_workflow_call *c, bool *too_large)
{
	json_t *o = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_object(e, doc, "", "error", DECODE_REQUIRED, &o, path) != 0 || o == NULL)
		return;
	static const char *const known[] = { "code", "message", NULL };
	decode_unknown_members(e, o, path, known);
	const char *code = NULL;
	if (decode_str(e, o, path, "code", DECODE_REQUIRED, &code) == 0 && code != NULL) {
		if (job_error_code_valid(code))
			c->error_code = code;
		else
			decode_problem(e, path, "code", "must match [a-z0-9_.:-]{1,64}");
	}
	c->error_message = decode_str_bounded(e, o, path, "message", 0, JOB_ERROR_MESSAGE_MAX, too_large);
}

static int decode_call(http_request *r, call_state *s)
{
	cmd_workflow_call *c = &s->cmd;
	size_t len;
	const char *body = http_body(r, &len);
	http_error *e = http_err(r);
	int rc = decode_body_object(body, len, http_config(r)->json_max_depth, e, &s->doc);
	if (rc != 0)
		return rc;
	bool too_large = false;
	const char *const *known = call_fields(c->kind);
	decode_unknown_members(e, s->doc, "", known);
	json_t *tok = json_object_get(s->doc, "lease_token");
	const char *ts = NULL;
	if (tok != NULL && !json_is_string(tok))
		decode_problem(e, "", "lease_token", "expected a string (the lease_token the claim gave, as given)");
	else if (decode_str(e, s->doc, "", "lease_token", DECODE_REQUIRED, &ts) == 0 && ts != NULL &&
	         v1_parse_lease_token(ts, &c->lease_token) != 0)
		decode_problem(e, "", "lease_token", "expected the lease_token the claim gave (a decimal string)");
	for (const char *const *k = known; *k != NULL; k++) {
		if (strcmp(*k, "name") == 0) {
			c->name = decode_str_bounded(e, s->doc, "", "name", DECODE_REQUIRED, TASK_NAME_MAX, &too_large);
		} else if (strcmp(*k, "seq") == 0) {
			int64_t seq = 0;
			if (decode_int(e, s->doc, "", "seq", DECODE_REQUIRED, &seq, NULL) == 0 &&
			    (seq < 1 || seq > WORKFLOW_SEQ_MAX))
				decode_problem(e, "", "seq", "must be from 1 to %d (the seq that begin answered)",
				               WORKFLOW_SEQ_MAX);
			c->seq = seq;
		} else if (strcmp(*k, "output") == 0) {
			json_t *m = json_object_get(s->doc, "output");
			s->output = m != NULL ? json_dump_compact(m) : NULL;
			if (s->output != NULL && strlen(s->output) > JOB_PAYLOAD_MAX_BYTES) {
				decode_problem(e, "", "output", "is %zu bytes of JSON; the limit is %d", strlen(s->output),
				               JOB_PAYLOAD_MAX_BYTES);
				too_large = true;
			}
			c->output = s->output;
		} else if (strcmp(*k, "error") == 0) {
			decode_error_member(e, s->doc, c, &too_large);
		} else if (strcmp(*k, "retryable") == 0) {
			decode_bool(e, s->doc, "", "retryable", 0, &c->retryable, NULL);
		} else if (strcmp(*k, "timeout_ms") == 0) {
			int64_t ms = 0;
			bool has = false;
			if (decode_int(e, s->doc, "", "timeout_ms", 0, &ms, &has) == 0 && has &&
			    (ms < 1 || ms > V1_DELAY_MAX_MS))
				decode_problem(e, "", "timeout_ms", "must be from 1 to %lld (leave it out to wait without one)",
				               (long long)V1_DELAY_MAX_MS);
			c->duration_us = has ? ms * 1000 : 0;
		} else if (strcmp(*k, "duration_ms") == 0) {
			int64_t ms = 0;
			if (decode_int(e, s->doc, "", "duration_ms", DECODE_REQUIRED, &ms, NULL) == 0 &&
			    (ms < 0 || ms > V1_DELAY_MAX_MS))
				decode_problem(e, "", "duration_ms", "must be from 0 to %lld", (long long)V1_DELAY_MAX_MS);
			c->duration_us = ms * 1000;
		}
	}
	if (e->details.len == 0)
		return 0;
	return too_large ? WEFT_ETOOLARGE : WEFT_EINVALID;
}

/* 409 with current_status: the run's (or the step's) status that did not
 * allow the call; code is the reason (static storage). */
static void fail_conflict(http_request *r, const char *code, const char *status, const char *message)
{
	http_error_state_named(http_err(r), status);
	v1_fail_msg(r, WEFT_ECONFLICT, code, "%s", message);
}

static void put_step(buf *b, const workflow_step_row *s)
{
	buf_puts(b, "{\"name\":");
	wire_str(b, s->name);
	buf_puts(b, ",\"seq\":");
	wire_i64(b, s->seq);
	buf_puts(b, ",\"status\":");
	wire_str(b, s->status);
	buf_puts(b, ",\"output\":");
	wire_raw(b, s->output, "null");
	buf_puts(b, ",\"error\":");
	v1_put_workflow_error(b, s->error_code, s->error_message);
	buf_puts(b, ",\"attempts\":");
	wire_i64(b, s->attempts);
	buf_puts(b, ",\"next_attempt_at\":");
	wire_ts(b, s->next_attempt_at);
	buf_putc(b, '}');
}

static void finish_call(http_request *r, engine_cmd *cmd, void *state)
{
	call_state *s = state;
	cmd_workflow_call *c = &s->cmd;
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	switch (c->outcome) {
	case WFC_NOT_FOUND:
		v1_fail_not_found(r, "workflow", &c->run_id);
		return;
	case WFC_STALE_LEASE:
		fail_conflict(r, V1_STALE_LEASE, c->run_status,
		              "The run's job is not running under this lease_token: this attempt is over.");
		return;
	case WFC_RUN_ENDED:
		fail_conflict(r, "workflow_ended", c->run_status, "The run has ended.");
		return;
	case WFC_STEP_UNKNOWN:
		fail_conflict(r, "step_not_begun", c->run_status, "This attempt began no step with this name and seq.");
		return;
	case WFC_STEP_ENDED:
		fail_conflict(r, "step_ended", c->step.status, "The step ended otherwise.");
		return;
	case WFC_TOO_MANY_STEPS:
		fail_conflict(r, "too_many_steps", c->run_status,
		              "The run's memo holds 100000 steps, sleeps and waits: no new one.");
		return;
	case WFC_STEP_FAILED:
	case WFC_OK:
	case WFC_NONE:
		break;
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"run_status\":");
	wire_str(&b, c->run_status);
	if (c->step.name != NULL) {
		buf_puts(&b, ",\"step\":");
		put_step(&b, &c->step);
	}
	buf_puts(&b, ",\"memoized\":");
	wire_bool(&b, c->memoized);
	buf_puts(&b, ",\"suspended\":");
	wire_bool(&b, c->suspended);
	buf_puts(&b, ",\"wake_at\":");
	wire_ts(&b, c->wake_at);
	if (c->kind == WF_WAIT_SIGNAL) {
		buf_puts(&b, ",\"timed_out\":");
		wire_bool(&b, c->timed_out);
	}
	if (c->kind == WF_STEP_FAIL || c->kind == WF_RUN_FAIL) {
		buf_puts(&b, ",\"retrying\":");
		wire_bool(&b, c->retried);
	}
	buf_putc(&b, '}');
	/* A step that failed for good answers 409 with the step, so that the
	 * handler fails the run or compensates. */
	if (c->outcome == WFC_STEP_FAILED) {
		buf_release(&b);
		fail_conflict(r, "step_failed", "failed", c->step.error_message ? c->step.error_message
		                                                                 : "The step failed for good.");
		return;
	}
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

/* The token's namespaces: a run of any other is unknown. */
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

static void workflow_call(http_request *r, workflow_call_kind kind)
{
	call_state *s = xcalloc(1, sizeof *s);
	cmd_workflow_call_init(&s->cmd, kind);
	int rc = decode_call(r, s);
	if (rc != 0) {
		http_fail(r, rc);
		call_state_free(s);
		return;
	}
	s->cmd.run_id = *http_param(r, 0);
	s->cmd.visible = visibility_of(r);
	s->cmd.base.actor = http_actor(r);
	/* Sent again, a call answers from the memo and the fence (a repeated
	 * begin meets its running row, a repeated completion says memoized):
	 * the lease token makes it idempotent, as a job's reports. */
	http_idempotency_ignore(r);
	http_submit(r, &s->cmd.base, s, finish_call, call_state_free);
}

void v1_workflow_step_begin(http_request *r) { workflow_call(r, WF_STEP_BEGIN); }
void v1_workflow_step_complete(http_request *r) { workflow_call(r, WF_STEP_COMPLETE); }
void v1_workflow_step_fail(http_request *r) { workflow_call(r, WF_STEP_FAIL); }
void v1_workflow_sleep(http_request *r) { workflow_call(r, WF_SLEEP); }
void v1_workflow_complete(http_request *r) { workflow_call(r, WF_RUN_COMPLETE); }
void v1_workflow_fail(http_request *r) { workflow_call(r, WF_RUN_FAIL); }
void v1_workflow_wait_signal(http_request *r) { workflow_call(r, WF_WAIT_SIGNAL); }
