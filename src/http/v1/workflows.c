/*
 * workflows.c — the /v1/workflows routes (docs/internals/workflows.md):
 *   POST /v1/workflows                 start a run: 201, or 200 with the
 *                                      active run holding idempotency_key
 *   GET  /v1/workflows/{id}            a run
 *   GET  /v1/workflows/by-key/{key}    the run holding a key (?namespace=):
 *                                      the active one, else the newest
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
#include "engine/commands/workflows.h"
#include "http/decode.h"
#include "http/v1/decode_job.h"
#include "http/v1/errors.h"
#include "http/wire.h"
#include "store/workflows.h"
#include "util/alloc.h"

/* ---- the answer: a run --------------------------------------------------------------------- */

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
	if (r->error_code != NULL) {
		buf_puts(b, "{\"code\":");
		wire_str(b, r->error_code);
		buf_puts(b, ",\"message\":");
		wire_str(b, r->error_message);
		buf_putc(b, '}');
	} else {
		buf_puts(b, "null");
	}
	buf_puts(b, ",\"suspended\":");
	if (r->suspend_reason != NULL) {
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

/* Reads the run (by id, or by namespace and key) and answers it: 404 when
 * absent or of a namespace the token may not see. */
static void answer_run(http_request *r, int status, const weft_id *id, const char *ns, const char *key)
{
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	workflow_run_row run;
	int rc = id != NULL ? store_workflow_run_get(c, id, &run) : store_workflow_run_by_key(c, ns, key, &run);
	store_reader_release(http_store(r), c);
	if (rc == 0 && !http_ns_visible(r, run.namespace))
		rc = WEFT_ENOTFOUND;
	if (rc == WEFT_ENOTFOUND && id != NULL)
		v1_fail_not_found(r, "workflow", id);
	else if (rc == WEFT_ENOTFOUND)
		v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No workflow run holds key %s in namespace %s.", key, ns);
	else if (rc != 0)
		http_fail_server(r, rc, "workflow read");
	if (rc != 0) {
		workflow_run_row_release(&run);
		return;
	}
	buf b;
	buf_init(&b);
	put_run(&b, &run);
	workflow_run_row_release(&run);
	http_respond_json(r, status, &b);
	buf_release(&b);
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
