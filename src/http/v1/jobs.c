/*
 * jobs.c — the /v1 job routes: enqueue, claim (a long poll: the engine
 * answers when jobs come or the wait ends), and a worker's reports on the
 * jobs it holds (heartbeat, complete, fail, release; in batches, or one
 * job by its path). Bodies are decoded by decode_job.c; every route is an
 * engine command (engine/commands/jobs.h) answered after the commit, with
 * the token as the actor ("token:<name>").
 *
 * Namespaces: an enqueue or claim names one (default: the token's only
 * one, else "default"), which the token must see (403
 * forbidden_namespace); reports name jobs, and a job of a namespace the
 * token may not see is answered as unknown (not_found).
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/error.h"
#include "http/tokens.h"
#include "http/v1/decode_job.h"
#include "http/v1/errors.h"
#include "http/v1/shapes.h"
#include "http/wire.h"
#include "util/alloc.h"

/* The namespaces a report may touch: the token's. */
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

/* The namespace a request creates or claims in: the one it names, or the
 * token's default. NULL after answering 403 when the token may not. */
static const char *namespace_for(http_request *r, const char *given)
{
	const char *ns = given != NULL ? given : http_default_ns(r);
	if (!http_ns_visible(r, ns)) {
		v1_fail_namespace(r, ns);
		return NULL;
	}
	return ns;
}

/* Answers a command that failed as a whole (nothing applied). */
static void fail_command(http_request *r, engine_cmd *cmd)
{
	http_fail_server(r, cmd->result, engine_cmd_name(cmd));
}

/* ---- POST /v1/jobs ---------------------------------------------------------------------- */

typedef struct enqueue_state {
	cmd_job_enqueue cmd;
	v1_enqueue_input in;
} enqueue_state;

static void enqueue_state_free(void *p)
{
	enqueue_state *s = p;
	v1_enqueue_input_release(&s->in);
	free(s);
}

static void finish_enqueue(http_request *r, engine_cmd *cmd, void *state)
{
	enqueue_state *s = state;
	if (cmd->result != 0) {
		fail_command(r, cmd);
		return;
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"jobs\":[");
	for (size_t i = 0; i < s->in.njobs; i++) {
		const job_spec *j = &s->in.jobs[i];
		buf_puts(&b, i > 0 ? ",{\"id\":" : "{\"id\":");
		wire_id(&b, &j->id);
		buf_puts(&b, ",\"run_id\":");
		wire_id(&b, id_is_set(&j->run_id) ? &j->run_id : &j->id);
		buf_puts(&b, ",\"queue\":");
		wire_str(&b, j->queue);
		buf_puts(&b, ",\"status\":");
		wire_str(&b, task_status_name(j->status));
		buf_puts(&b, ",\"duplicate\":");
		wire_bool(&b, j->duplicate);
		buf_putc(&b, '}');
	}
	buf_puts(&b, "]}");
	http_respond_json(r, s->cmd.created > 0 ? 201 : 200, &b);
	buf_release(&b);
}

void v1_enqueue(http_request *r)
{
	enqueue_state *s = xcalloc(1, sizeof(*s));
	size_t len;
	const char *body = http_body(r, &len);
	int rc = v1_decode_enqueue(body, len, http_config(r)->json_max_depth, &s->in, http_err(r));
	const char *ns = rc == 0 ? namespace_for(r, s->in.namespace) : NULL;
	if (rc != 0)
		http_fail(r, rc);
	if (ns == NULL) {
		enqueue_state_free(s);
		return;
	}
	cmd_job_enqueue_init(&s->cmd);
	s->cmd.base.actor = http_actor(r);
	s->cmd.namespace = ns;
	s->cmd.jobs = s->in.jobs;
	s->cmd.njobs = s->in.njobs;
	http_body_release(r);
	http_submit(r, &s->cmd.base, s, finish_enqueue, enqueue_state_free);
}

/* ---- POST /v1/jobs/claim ---------------------------------------------------------------- */

typedef struct claim_state {
	cmd_job_claim cmd;
	v1_claim_input in;
} claim_state;

static void claim_state_free(void *p)
{
	claim_state *s = p;
	cmd_job_claim_release(&s->cmd);
	v1_claim_input_release(&s->in);
	free(s);
}

static void finish_claim(http_request *r, engine_cmd *cmd, void *state)
{
	claim_state *s = state;
	if (cmd->result == WEFT_EOVERLOADED) {
		/* Too many claims wait on this node (or commands for the engine):
		 * the worker backs off (429, not 503: the server is well, its
		 * waiting room is full). */
		http_error *e = http_err(r);
		snprintf(e->message, sizeof e->message, "Too many claims are waiting: retry after a pause.");
		http_add_header(r, "Retry-After", "1");
		v1_fail(r, 429, WEFT_EOVERLOADED, e);
		return;
	}
	if (cmd->result != 0) {
		fail_command(r, cmd);
		return;
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"jobs\":[");
	for (size_t i = 0; i < s->cmd.njobs; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		v1_put_claimed(&b, &s->cmd.jobs[i], s->cmd.lease_us);
	}
	buf_puts(&b, "],\"drain\":");
	wire_bool(&b, s->cmd.drain);
	buf_putc(&b, '}');
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

void v1_claim(http_request *r)
{
	claim_state *s = xcalloc(1, sizeof(*s));
	size_t len;
	const char *body = http_body(r, &len);
	cmd_job_claim_init(&s->cmd);
	int rc = v1_decode_claim(body, len, http_config(r)->json_max_depth, &s->in, http_err(r));
	const char *ns = rc == 0 ? namespace_for(r, s->in.namespace) : NULL;
	if (rc != 0)
		http_fail(r, rc);
	if (ns == NULL) {
		claim_state_free(s);
		return;
	}
	s->cmd.base.actor = http_actor(r);
	s->cmd.namespace = ns;
	s->cmd.queues = s->in.queues;
	s->cmd.nqueues = s->in.nqueues;
	s->cmd.worker_id = s->in.worker_id;
	s->cmd.hostname = s->in.hostname;
	s->cmd.max_jobs = s->in.max_jobs;
	s->cmd.wait_us = s->in.wait_ms * 1000;
	s->cmd.lease_us = s->in.lease_ms * 1000;
	if (s->cmd.wait_us > 0)
		http_long_poll(r);
	http_idempotency_ignore(r);
	http_submit(r, &s->cmd.base, s, finish_claim, claim_state_free);
}

/* ---- POST /v1/jobs/heartbeat -------------------------------------------------------------- */

typedef struct heartbeat_state {
	cmd_job_heartbeat cmd;
	v1_heartbeat_input in;
} heartbeat_state;

static void heartbeat_state_free(void *p)
{
	heartbeat_state *s = p;
	v1_heartbeat_input_release(&s->in);
	free(s);
}

static void finish_heartbeat(http_request *r, engine_cmd *cmd, void *state)
{
	heartbeat_state *s = state;
	if (cmd->result != 0) {
		fail_command(r, cmd);
		return;
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"leases\":[");
	for (size_t i = 0; i < s->in.nitems; i++) {
		const job_heartbeat_item *it = &s->in.items[i];
		buf_puts(&b, i > 0 ? ",{\"id\":" : "{\"id\":");
		wire_id(&b, &it->id);
		buf_puts(&b, ",\"state\":");
		wire_str(&b, job_lease_state_name(it->state));
		if (it->state == JOB_LEASE_HELD) {
			buf_puts(&b, ",\"lease_until\":");
			wire_ts_ms(&b, it->lease_until);
		}
		buf_putc(&b, '}');
	}
	buf_puts(&b, "],\"drain\":");
	wire_bool(&b, s->cmd.drain);
	buf_putc(&b, '}');
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

void v1_heartbeat(http_request *r)
{
	heartbeat_state *s = xcalloc(1, sizeof(*s));
	size_t len;
	const char *body = http_body(r, &len);
	int rc = v1_decode_heartbeat(body, len, http_config(r)->json_max_depth, &s->in, http_err(r));
	if (rc != 0) {
		http_fail(r, rc);
		heartbeat_state_free(s);
		return;
	}
	cmd_job_heartbeat_init(&s->cmd);
	s->cmd.base.actor = http_actor(r);
	s->cmd.visible = visibility_of(r);
	s->cmd.namespace = NULL;
	s->cmd.worker_id = s->in.worker_id;
	s->cmd.lease_us = s->in.lease_ms * 1000;
	s->cmd.items = s->in.items;
	s->cmd.nitems = s->in.nitems;
	http_idempotency_ignore(r);
	http_submit(r, &s->cmd.base, s, finish_heartbeat, heartbeat_state_free);
}

/* ---- complete, fail, release ---------------------------------------------------------------- */

typedef struct report_state {
	union {
		cmd_job_complete complete;
		cmd_job_fail fail;
		cmd_job_release release;
	} cmd;
	v1_report_input in;
	bool single;               /* /v1/jobs/{id}/...: one item, answered with its own status */
} report_state;

static void report_state_free(void *p)
{
	report_state *s = p;
	v1_report_input_release(&s->in);
	free(s);
}

static job_outcome outcome_of(const report_state *s, size_t i, weft_id *id, int64_t *next_at)
{
	*next_at = 0;
	switch (s->in.kind) {
	case V1_REPORT_COMPLETE:
		*id = s->in.completes[i].id;
		return s->in.completes[i].outcome;
	case V1_REPORT_FAIL:
		*id = s->in.fails[i].id;
		*next_at = s->in.fails[i].next_attempt_at;
		return s->in.fails[i].outcome;
	default:
		*id = s->in.releases[i].id;
		return s->in.releases[i].outcome;
	}
}

/* {"id","outcome"[,"next_attempt_at"]} */
static void put_result(buf *b, const weft_id *id, job_outcome o, int64_t next_at)
{
	buf_puts(b, "{\"id\":");
	wire_id(b, id);
	buf_puts(b, ",\"outcome\":");
	wire_str(b, job_outcome_name(o));
	if (o == JOB_RETRYING) {
		buf_puts(b, ",\"next_attempt_at\":");
		wire_ts_ms(b, next_at);
	}
	buf_putc(b, '}');
}

/* One job's report by its path: 409 or 404 when it did not apply. */
static void answer_single(http_request *r, const weft_id *id, job_outcome o, int64_t next_at)
{
	switch (o) {
	case JOB_STALE_LEASE:
		v1_fail_msg(r, WEFT_ECONFLICT, V1_STALE_LEASE,
		            "The lease_token is not the job's current one: another claim holds it, or it ended.");
		return;
	case JOB_CANCELED:
		v1_fail_msg(r, WEFT_ECONFLICT, V1_CANCELED, "The job was canceled.");
		return;
	case JOB_NOT_FOUND:
		v1_fail_not_found(r, "job", id);
		return;
	default:
		break;
	}
	buf b;
	buf_init(&b);
	put_result(&b, id, o, next_at);
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

static void finish_report(http_request *r, engine_cmd *cmd, void *state)
{
	report_state *s = state;
	if (cmd->result != 0) {
		fail_command(r, cmd);
		return;
	}
	weft_id id;
	int64_t next_at;
	if (s->single) {
		job_outcome o = outcome_of(s, 0, &id, &next_at);
		answer_single(r, &id, o, next_at);
		return;
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"results\":[");
	for (size_t i = 0; i < s->in.nitems; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		job_outcome o = outcome_of(s, i, &id, &next_at);
		put_result(&b, &id, o, next_at);
	}
	buf_puts(&b, "]}");
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

static void submit_report(http_request *r, v1_report_kind kind, bool single)
{
	report_state *s = xcalloc(1, sizeof(*s));
	size_t len;
	const char *body = http_body(r, &len);
	int depth = http_config(r)->json_max_depth;
	int rc = single ? v1_decode_report_one(kind, http_param(r, 0), body, len, depth, &s->in, http_err(r))
	                : v1_decode_report(kind, body, len, depth, &s->in, http_err(r));
	if (rc != 0) {
		http_fail(r, rc);
		report_state_free(s);
		return;
	}
	s->single = single;
	engine_cmd *base;
	job_visibility visible = visibility_of(r);
	switch (kind) {
	case V1_REPORT_COMPLETE:
		cmd_job_complete_init(&s->cmd.complete);
		s->cmd.complete.visible = visible;
		s->cmd.complete.items = s->in.completes;
		s->cmd.complete.nitems = s->in.nitems;
		base = &s->cmd.complete.base;
		break;
	case V1_REPORT_FAIL:
		cmd_job_fail_init(&s->cmd.fail);
		s->cmd.fail.visible = visible;
		s->cmd.fail.items = s->in.fails;
		s->cmd.fail.nitems = s->in.nitems;
		base = &s->cmd.fail.base;
		break;
	default:
		cmd_job_release_init(&s->cmd.release);
		s->cmd.release.visible = visible;
		s->cmd.release.items = s->in.releases;
		s->cmd.release.nitems = s->in.nitems;
		base = &s->cmd.release.base;
		break;
	}
	base->actor = http_actor(r);
	/* Sent again, a report answers as it did (already_completed,
	 * already_failed): the token makes it idempotent. */
	http_idempotency_ignore(r);
	/* The items borrow from the parsed body: free only its text. */
	http_body_release(r);
	http_submit(r, base, s, finish_report, report_state_free);
}

void v1_complete(http_request *r) { submit_report(r, V1_REPORT_COMPLETE, false); }
void v1_fail_jobs(http_request *r) { submit_report(r, V1_REPORT_FAIL, false); }
void v1_release(http_request *r) { submit_report(r, V1_REPORT_RELEASE, false); }
void v1_complete_one(http_request *r) { submit_report(r, V1_REPORT_COMPLETE, true); }
void v1_fail_one(http_request *r) { submit_report(r, V1_REPORT_FAIL, true); }
