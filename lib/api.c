/*
 * api.c — the rest of the /v1 API: tasks, dead letters, workers, runs,
 * queues, tokens and the API document, answered as the server's JSON text
 * (see weft.h for why).
 */
#include "internal.h"

/* ---- tasks -------------------------------------------------------------- */

int weft_list_tasks(weft_client *c, const weft_task_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/tasks");
	if (q) {
		query_str(&p, "namespace", q->namespace_);
		query_str(&p, "queue", q->queue);
		query_str(&p, "status", q->status);
		query_str(&p, "executor", q->executor);
		query_str(&p, "run_id", q->run_id);
		query_str(&p, "created_after", q->created_after);
		query_str(&p, "created_before", q->created_before);
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_get_task(weft_client *c, const char *id, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/tasks/", id, "id", NULL, err);
	return rc ? api_drop(&p, NULL, rc) : api_send(c, "GET", &p, NULL, NULL, out, err);
}

static void page_query(buf *p, const weft_page_query *q)
{
	if (q) {
		query_str(p, "cursor", q->cursor);
		query_int(p, "limit", q->limit);
	}
}

int weft_list_task_events(weft_client *c, const char *id, const weft_page_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/tasks/", id, "id", "/events", err);
	if (rc)
		return api_drop(&p, NULL, rc);
	page_query(&p, q);
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

/* POST /v1/tasks/{id}/<action> with {"reason"} (and "result" for resolve). */
static int task_action(weft_client *c, const char *id, const char *action, const char *reason, const char *result,
                       bool with_result, const char *idem, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	char suffix[32];
	snprintf(suffix, sizeof(suffix), "/%s", action);
	int rc = api_path(&p, "/v1/tasks/", id, "id", suffix, err);
	if (rc)
		return api_drop(&p, NULL, rc);
	encoder e = { err, 0 };
	json_t *body = json_object();
	enc_str(body, "reason", reason);
	if (with_result)
		enc_json(&e, body, "result", result, "result", false);
	if (e.rc)
		return api_drop(&p, body, e.rc);
	return api_send(c, "POST", &p, body, idem, out, err);
}

int weft_retry_task(weft_client *c, const char *id, const weft_operator_request *req, const char *idempotency_key,
                    char **out, weft_error *err)
{
	return task_action(c, id, "retry", req ? req->reason : NULL, NULL, false, idempotency_key, out, err);
}

int weft_reset_task(weft_client *c, const char *id, const weft_operator_request *req, const char *idempotency_key,
                    char **out, weft_error *err)
{
	return task_action(c, id, "reset", req ? req->reason : NULL, NULL, false, idempotency_key, out, err);
}

int weft_resolve_task(weft_client *c, const char *id, const weft_resolve_request *req, const char *idempotency_key,
                      char **out, weft_error *err)
{
	return task_action(c, id, "resolve", req ? req->reason : NULL, req ? req->result : NULL, true, idempotency_key,
	                   out, err);
}

int weft_cancel_task(weft_client *c, const char *id, const weft_operator_request *req, const char *idempotency_key,
                     char **out, weft_error *err)
{
	return task_action(c, id, "cancel", req ? req->reason : NULL, NULL, false, idempotency_key, out, err);
}

int weft_pause_task(weft_client *c, const char *id, const weft_operator_request *req, const char *idempotency_key,
                    char **out, weft_error *err)
{
	return task_action(c, id, "pause", req ? req->reason : NULL, NULL, false, idempotency_key, out, err);
}

int weft_resume_task(weft_client *c, const char *id, const weft_operator_request *req, const char *idempotency_key,
                     char **out, weft_error *err)
{
	return task_action(c, id, "resume", req ? req->reason : NULL, NULL, false, idempotency_key, out, err);
}

int weft_task_complete(weft_client *c, const char *id, const weft_task_complete_request *req,
                       const char *idempotency_key, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/tasks/", id, "id", "/complete", err);
	if (rc)
		return api_drop(&p, NULL, rc);
	encoder e = { err, 0 };
	json_t *body = json_object();
	if (req)
		enc_json(&e, body, "result", req->result, "result", false);
	if (e.rc)
		return api_drop(&p, body, e.rc);
	return api_send(c, "POST", &p, body, idempotency_key, out, err);
}

int weft_task_fail(weft_client *c, const char *id, const weft_task_fail_request *req, const char *idempotency_key,
                   char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/tasks/", id, "id", "/fail", err);
	if (rc)
		return api_drop(&p, NULL, rc);
	if (!req)
		return api_drop(&p, NULL, err_set(err, WEFT_EINVAL, "error.code is required"));
	encoder e = { err, 0 };
	json_t *body = json_object(), *error = json_object();
	enc_required(&e, error, "code", req->error.code, "error.code");
	enc_str(error, "message", req->error.message);
	json_object_set_new(body, "error", error);
	if (e.rc)
		return api_drop(&p, body, e.rc);
	return api_send(c, "POST", &p, body, idempotency_key, out, err);
}

/* ---- dead letters ------------------------------------------------------- */

int weft_list_dead_letters(weft_client *c, const weft_dead_letter_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/dead-letters");
	if (q) {
		query_str(&p, "namespace", q->namespace_);
		query_str(&p, "queue", q->queue);
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_get_dead_letter(weft_client *c, const char *id, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/dead-letters/", id, "id", NULL, err);
	return rc ? api_drop(&p, NULL, rc) : api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_requeue_dead_letters(weft_client *c, const weft_requeue_request *req, const char *idempotency_key,
                              char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/dead-letters/requeue");
	json_t *body = json_object();
	if (req) {
		enc_strings(body, "ids", req->ids, req->ids_len);
		enc_str(body, "namespace", req->namespace_);
		enc_str(body, "queue", req->queue);
		enc_int(body, "limit", req->limit);
		enc_str(body, "reason", req->reason);
	}
	return api_send(c, "POST", &p, body, idempotency_key, out, err);
}

/* ---- workers ------------------------------------------------------------ */

int weft_list_workers(weft_client *c, const weft_worker_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/workers");
	if (q) {
		query_str(&p, "namespace", q->namespace_);
		query_str(&p, "queue", q->queue);
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_get_worker(weft_client *c, const char *id, const char *namespace_, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/workers/", id, "id", NULL, err);
	if (rc)
		return api_drop(&p, NULL, rc);
	query_str(&p, "namespace", namespace_);
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_drain_worker(weft_client *c, const char *id, const char *namespace_, const char *idempotency_key,
                      char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/workers/", id, "id", "/drain", err);
	if (rc)
		return api_drop(&p, NULL, rc);
	query_str(&p, "namespace", namespace_);
	return api_send(c, "POST", &p, NULL, idempotency_key, out, err);
}

/* ---- runs --------------------------------------------------------------- */

static json_t *enc_webhook(encoder *e, const weft_webhook_params *w, const char *field)
{
	char f[128];
	json_t *o = json_object();
	snprintf(f, sizeof(f), "%s.url", field);
	enc_required(e, o, "url", w->url, f);
	snprintf(f, sizeof(f), "%s.verb", field);
	enc_required(e, o, "verb", w->verb, f);
	snprintf(f, sizeof(f), "%s.body", field);
	enc_json(e, o, "body", w->body, f, false);
	snprintf(f, sizeof(f), "%s.headers", field);
	enc_json(e, o, "headers", w->headers, f, true);
	return o;
}

static json_t *enc_webhooks(encoder *e, const weft_webhook_params *w, size_t n, const char *field)
{
	json_t *a = json_array();
	char f[96];
	for (size_t i = 0; i < n; i++) {
		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		json_array_append_new(a, enc_webhook(e, &w[i], f));
	}
	return a;
}

json_t *enc_run_task(encoder *e, const weft_run_task_spec *t, size_t i)
{
	char f[80];
	json_t *o = json_object();
	snprintf(f, sizeof(f), "tasks[%zu].ref", i);
	enc_required(e, o, "ref", t->ref, f);
	enc_str(o, "executor", t->executor);
	if (t->decision)
		json_object_set_new(o, "decision", json_true());
	if (t->emit) {
		json_t *em = json_object();
		snprintf(f, sizeof(f), "tasks[%zu].emit.topic", i);
		enc_required(e, em, "topic", t->emit->topic, f);
		enc_str(em, "on", t->emit->on);
		json_object_set_new(o, "emit", em);
	}
	if (t->exec) {
		json_t *x = json_object();
		if (!t->exec->argv || t->exec->argv_len == 0) {
			snprintf(f, sizeof(f), "tasks[%zu].exec.argv", i);
			enc_required(e, x, "argv", NULL, f);
		}
		enc_strings(x, "argv", t->exec->argv, t->exec->argv_len);
		snprintf(f, sizeof(f), "tasks[%zu].exec.env", i);
		enc_json(e, x, "env", t->exec->env, f, true);
		enc_str(x, "cwd", t->exec->cwd);
		enc_int(x, "timeout_secs", t->exec->timeout_secs);
		json_object_set_new(o, "exec", x);
	}
	if (t->retry) {
		json_t *r = json_object();
		json_object_set_new(r, "max_retries", json_integer(t->retry->max_retries));
		if (t->retry->initial_delay_set)
			json_object_set_new(r, "initial_delay_secs", json_real(t->retry->initial_delay_secs));
		json_object_set_new(o, "retry", r);
	}
	if (t->parents && t->parents_len) {
		json_t *ps = json_array();
		for (size_t k = 0; k < t->parents_len; k++) {
			json_t *po = json_object();
			snprintf(f, sizeof(f), "tasks[%zu].parents[%zu].ref", i, k);
			enc_required(e, po, "ref", t->parents[k].ref, f);
			enc_tristate(po, "requires_success", t->parents[k].requires_success);
			json_array_append_new(ps, po);
		}
		json_object_set_new(o, "parents", ps);
	}
	enc_str(o, "queue", t->queue);
	enc_str(o, "name", t->name);
	snprintf(f, sizeof(f), "tasks[%zu].input", i);
	enc_json(e, o, "input", t->input, f, false);
	enc_int(o, "priority", t->priority);
	enc_str(o, "run_at", t->run_at);
	enc_int(o, "delay_ms", t->delay_ms);
	enc_int(o, "max_attempts", t->max_attempts);
	if (t->backoff)
		json_object_set_new(o, "backoff", enc_backoff(t->backoff));
	enc_strings(o, "non_retryable_codes", t->non_retryable_codes, t->non_retryable_codes_len);
	enc_int(o, "timeout_secs", t->timeout_secs);
	enc_str(o, "concurrency_key", t->concurrency_key);
	enc_str(o, "rate_key", t->rate_key);
	snprintf(f, sizeof(f), "tasks[%zu].metadata", i);
	enc_json(e, o, "metadata", t->metadata, f, true);
	enc_str(o, "kind", t->kind);
	if (t->on_start) {
		snprintf(f, sizeof(f), "tasks[%zu].on_start", i);
		json_object_set_new(o, "on_start", enc_webhook(e, t->on_start, f));
	}
	if (t->on_success && t->on_success_len) {
		snprintf(f, sizeof(f), "tasks[%zu].on_success", i);
		json_object_set_new(o, "on_success", enc_webhooks(e, t->on_success, t->on_success_len, f));
	}
	if (t->on_failure && t->on_failure_len) {
		snprintf(f, sizeof(f), "tasks[%zu].on_failure", i);
		json_object_set_new(o, "on_failure", enc_webhooks(e, t->on_failure, t->on_failure_len, f));
	}
	return o;
}

int weft_create_run(weft_client *c, const weft_run_request *req, const char *idempotency_key, char **out,
                    weft_error *err)
{
	API_START(out);
	if (!req || !req->tasks || req->tasks_len == 0)
		return err_set(err, WEFT_EINVAL, "tasks: at least one is required");
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/runs");
	encoder e = { err, 0 };
	json_t *body = json_object(), *tasks = json_array();
	enc_str(body, "namespace", req->namespace_);
	enc_str(body, "name", req->name);
	enc_json(&e, body, "metadata", req->metadata, "metadata", true);
	for (size_t i = 0; i < req->tasks_len; i++)
		json_array_append_new(tasks, enc_run_task(&e, &req->tasks[i], i));
	json_object_set_new(body, "tasks", tasks);
	if (e.rc)
		return api_drop(&p, body, e.rc);
	return api_send(c, "POST", &p, body, idempotency_key, out, err);
}

int weft_list_runs(weft_client *c, const weft_run_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/runs");
	if (q) {
		query_str(&p, "namespace", q->namespace_);
		query_str(&p, "status", q->status);
		query_str(&p, "created_after", q->created_after);
		query_str(&p, "created_before", q->created_before);
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_get_run(weft_client *c, const char *id, bool tasks, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/runs/", id, "id", NULL, err);
	if (rc)
		return api_drop(&p, NULL, rc);
	if (!tasks)
		query_str(&p, "tasks", "false");
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_list_run_tasks(weft_client *c, const char *id, const weft_page_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/runs/", id, "id", "/tasks", err);
	if (rc)
		return api_drop(&p, NULL, rc);
	page_query(&p, q);
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

static int run_action(weft_client *c, const char *id, const char *suffix, const char *idem, char **out,
                      weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/runs/", id, "id", suffix, err);
	return rc ? api_drop(&p, NULL, rc) : api_send(c, "POST", &p, NULL, idem, out, err);
}

int weft_cancel_run(weft_client *c, const char *id, const char *idempotency_key, char **out, weft_error *err)
{
	return run_action(c, id, "/cancel", idempotency_key, out, err);
}

int weft_pause_run(weft_client *c, const char *id, const char *idempotency_key, char **out, weft_error *err)
{
	return run_action(c, id, "/pause", idempotency_key, out, err);
}

int weft_resume_run(weft_client *c, const char *id, const char *idempotency_key, char **out, weft_error *err)
{
	return run_action(c, id, "/resume", idempotency_key, out, err);
}

/* ---- queues ------------------------------------------------------------- */

int weft_list_queues(weft_client *c, const weft_queue_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/queues");
	if (q) {
		query_str(&p, "namespace", q->namespace_);
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

static int queue_path(buf *p, const char *name, const char *suffix, const char *ns, weft_error *err)
{
	int rc = api_path(p, "/v1/queues/", name, "name", suffix, err);
	if (!rc)
		query_str(p, "namespace", ns);
	return rc;
}

int weft_get_queue(weft_client *c, const char *name, const char *namespace_, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = queue_path(&p, name, NULL, namespace_, err);
	return rc ? api_drop(&p, NULL, rc) : api_send(c, "GET", &p, NULL, NULL, out, err);
}

static void enc_limit(json_t *o, const char *key, int64_t v)
{
	if (v == WEFT_NO_LIMIT)
		json_object_set_new(o, key, json_null());
	else
		enc_int(o, key, v);
}

int weft_configure_queue(weft_client *c, const char *name, const char *namespace_, const weft_queue_patch *req,
                         const char *idempotency_key, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = queue_path(&p, name, NULL, namespace_, err);
	if (rc)
		return api_drop(&p, NULL, rc);
	json_t *body = json_object();
	if (req) {
		enc_limit(body, "concurrency_limit", req->concurrency_limit);
		enc_limit(body, "key_concurrency_limit", req->key_concurrency_limit);
		if (req->remove_rate_limit) {
			json_object_set_new(body, "rate_limit", json_null());
		} else if (req->rate_limit) {
			json_t *rl = json_object();
			json_object_set_new(rl, "limit", json_integer((json_int_t)req->rate_limit->limit));
			enc_int(rl, "period_ms", req->rate_limit->period_ms);
			enc_int(rl, "burst", req->rate_limit->burst);
			json_object_set_new(body, "rate_limit", rl);
		}
	}
	if (json_object_size(body) == 0)
		return api_drop(&p, body, err_set(err, WEFT_EINVAL, "nothing to change: set a limit"));
	return api_send(c, "PATCH", &p, body, idempotency_key, out, err);
}

int weft_pause_queue(weft_client *c, const char *name, const char *namespace_, const char *idempotency_key,
                     char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = queue_path(&p, name, "/pause", namespace_, err);
	return rc ? api_drop(&p, NULL, rc) : api_send(c, "POST", &p, NULL, idempotency_key, out, err);
}

int weft_resume_queue(weft_client *c, const char *name, const char *namespace_, const char *idempotency_key,
                      char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = queue_path(&p, name, "/resume", namespace_, err);
	return rc ? api_drop(&p, NULL, rc) : api_send(c, "POST", &p, NULL, idempotency_key, out, err);
}

/* ---- tokens ------------------------------------------------------------- */

int weft_list_tokens(weft_client *c, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/tokens");
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_create_token(weft_client *c, const weft_token_request *req, char **out, weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "no request");
	if (!req->namespaces || req->namespaces_len == 0)
		return err_set(err, WEFT_EINVAL, "namespaces: at least one is required (or \"*\")");
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/tokens");
	encoder e = { err, 0 };
	json_t *body = json_object();
	enc_required(&e, body, "name", req->name, "name");
	enc_strings(body, "namespaces", req->namespaces, req->namespaces_len);
	enc_required(&e, body, "role", req->role, "role");
	enc_str(body, "expires_at", req->expires_at);
	if (e.rc)
		return api_drop(&p, body, e.rc);
	return api_send(c, "POST", &p, body, NULL, out, err);
}

int weft_get_token(weft_client *c, const char *name, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/tokens/", name, "name", NULL, err);
	return rc ? api_drop(&p, NULL, rc) : api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_revoke_token(weft_client *c, const char *name, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/tokens/", name, "name", NULL, err);
	return rc ? api_drop(&p, NULL, rc) : api_send(c, "DELETE", &p, NULL, NULL, out, err);
}

int weft_whoami(weft_client *c, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/whoami");
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

/* ---- the audit log ------------------------------------------------------- */

int weft_list_audit(weft_client *c, const weft_audit_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/audit");
	if (q) {
		query_str(&p, "since", q->since);
		query_str(&p, "until", q->until);
		query_str(&p, "actor", q->actor);
		query_str(&p, "action", q->action);
		query_str(&p, "object_kind", q->object_kind);
		query_str(&p, "object_id", q->object_id);
		query_str(&p, "namespace", q->namespace_);
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

/* ---- the document ------------------------------------------------------- */

int weft_get_open_api(weft_client *c, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/openapi.json");
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}
