/*
 * workflows.c — the /v1/workflows calls: starting, listing and reading
 * runs, the step API a workflow's handler calls under its job's lease, and
 * the operator calls. Answers are the server's JSON text (see weft.h).
 */
#include "internal.h"

/* Sends the body built for run id's suffix, unless building it failed
 * (e->rc) or the id is missing. */
static int post_run(weft_client *c, const char *id, const char *suffix, json_t *body, const encoder *e,
                    const char *idem, char **out, weft_error *err)
{
	buf p;
	int rc = api_path(&p, "/v1/workflows/", id, "id", suffix, err);
	if (!rc)
		rc = e->rc;
	return rc ? api_drop(&p, body, rc) : api_send(c, "POST", &p, body, idem, out, err);
}

/* {"code", "message"} of a failure; records a missing code. */
static json_t *enc_error(encoder *e, const weft_task_error *te)
{
	json_t *o = json_object();
	enc_required(e, o, "code", te->code, "error.code");
	enc_str(o, "message", te->message);
	return o;
}

/* ---- runs --------------------------------------------------------------- */

int weft_start_workflow(weft_client *c, const weft_workflow_start_request *req, const char *idempotency_key,
                        char **out, weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "type is required");
	encoder e = { err, 0 };
	json_t *body = json_object();
	enc_str(body, "namespace", req->namespace_);
	enc_required(&e, body, "type", req->type, "type");
	enc_required(&e, body, "queue", req->queue, "queue");
	enc_json(&e, body, "input", req->input, "input", false);
	enc_int(body, "priority", req->priority);
	enc_str(body, "run_at", req->run_at);
	enc_int(body, "delay_ms", req->delay_ms);
	enc_int(body, "max_attempts", req->max_attempts);
	if (req->backoff)
		json_object_set_new(body, "backoff", enc_backoff(req->backoff));
	enc_strings(body, "non_retryable_codes", req->non_retryable_codes, req->non_retryable_codes_len);
	enc_int(body, "timeout_secs", req->timeout_secs);
	enc_str(body, "concurrency_key", req->concurrency_key);
	enc_str(body, "rate_key", req->rate_key);
	enc_json(&e, body, "metadata", req->metadata, "metadata", true);
	enc_str(body, "idempotency_key", req->idempotency_key);
	return api_post_built(c, "/v1/workflows", body, &e, idempotency_key, out, err);
}

int weft_list_workflows(weft_client *c, const weft_workflow_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/workflows");
	if (q) {
		query_str(&p, "namespace", q->namespace_);
		query_str(&p, "status", q->status);
		query_str(&p, "type", q->type);
		query_str(&p, "queue", q->queue);
		query_str(&p, "created_after", q->created_after);
		query_str(&p, "created_before", q->created_before);
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_get_workflow(weft_client *c, const char *id, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/workflows/", id, "id", NULL, err);
	return rc ? api_drop(&p, NULL, rc) : api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_list_workflow_steps(weft_client *c, const char *id, const weft_page_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/workflows/", id, "id", "/steps", err);
	if (rc)
		return api_drop(&p, NULL, rc);
	if (q) {
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_get_workflow_by_key(weft_client *c, const char *key, const char *namespace_, char **out, weft_error *err)
{
	API_START(out);
	int rc = check_id(key, "key", err);
	if (rc)
		return rc;
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/workflows/by-key/");
	path_encode(&p, key);
	query_str(&p, "namespace", namespace_);
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

/* ---- the step API ------------------------------------------------------- */

/* {"lease_token", "name"}, both required, when name_field is set. */
static json_t *worker_body(encoder *e, const char *lease_token, const char *name, const char *name_field)
{
	json_t *body = json_object();
	enc_required(e, body, "lease_token", lease_token, "lease_token");
	if (name_field)
		enc_required(e, body, "name", name, name_field);
	return body;
}

int weft_workflow_step_begin(weft_client *c, const char *id, const weft_workflow_step_begin_request *req, char **out,
                             weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "lease_token is required");
	encoder e = { err, 0 };
	json_t *body = worker_body(&e, req->lease_token, req->name, "name");
	return post_run(c, id, "/steps/begin", body, &e, NULL, out, err);
}

int weft_workflow_step_complete(weft_client *c, const char *id, const weft_workflow_step_complete_request *req,
                                char **out, weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "lease_token is required");
	encoder e = { err, 0 };
	json_t *body = worker_body(&e, req->lease_token, req->name, "name");
	json_object_set_new(body, "seq", json_integer(req->seq));
	enc_json(&e, body, "output", req->output, "output", false);
	return post_run(c, id, "/steps/complete", body, &e, NULL, out, err);
}

int weft_workflow_step_fail(weft_client *c, const char *id, const weft_workflow_step_fail_request *req, char **out,
                            weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "lease_token is required");
	encoder e = { err, 0 };
	json_t *body = worker_body(&e, req->lease_token, req->name, "name");
	json_object_set_new(body, "seq", json_integer(req->seq));
	json_object_set_new(body, "error", enc_error(&e, &req->error));
	enc_tristate(body, "retryable", req->retryable);
	return post_run(c, id, "/steps/fail", body, &e, NULL, out, err);
}

int weft_workflow_sleep(weft_client *c, const char *id, const weft_workflow_sleep_request *req, char **out,
                        weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "lease_token is required");
	encoder e = { err, 0 };
	json_t *body = worker_body(&e, req->lease_token, req->name, "name");
	json_object_set_new(body, "duration_ms", json_integer(req->duration_ms));
	return post_run(c, id, "/sleep", body, &e, NULL, out, err);
}

int weft_workflow_wait_signal(weft_client *c, const char *id, const weft_workflow_wait_signal_request *req,
                              char **out, weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "lease_token is required");
	encoder e = { err, 0 };
	json_t *body = worker_body(&e, req->lease_token, req->name, "name");
	enc_int(body, "timeout_ms", req->timeout_ms);
	return post_run(c, id, "/wait-signal", body, &e, NULL, out, err);
}

int weft_workflow_complete(weft_client *c, const char *id, const weft_workflow_complete_request *req, char **out,
                           weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "lease_token is required");
	encoder e = { err, 0 };
	json_t *body = worker_body(&e, req->lease_token, NULL, NULL);
	enc_json(&e, body, "output", req->output, "output", false);
	return post_run(c, id, "/complete", body, &e, NULL, out, err);
}

int weft_workflow_fail(weft_client *c, const char *id, const weft_workflow_fail_request *req, char **out,
                       weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "lease_token is required");
	encoder e = { err, 0 };
	json_t *body = worker_body(&e, req->lease_token, NULL, NULL);
	json_object_set_new(body, "error", enc_error(&e, &req->error));
	enc_tristate(body, "retryable", req->retryable);
	return post_run(c, id, "/fail", body, &e, NULL, out, err);
}

/* ---- operator calls ----------------------------------------------------- */

static int operator_call(weft_client *c, const char *id, const char *suffix, const weft_operator_request *req,
                         const char *idem, char **out, weft_error *err)
{
	API_START(out);
	encoder e = { err, 0 };
	json_t *body = json_object();
	if (req)
		enc_str(body, "reason", req->reason);
	return post_run(c, id, suffix, body, &e, idem, out, err);
}

int weft_cancel_workflow(weft_client *c, const char *id, const weft_operator_request *req,
                         const char *idempotency_key, char **out, weft_error *err)
{
	return operator_call(c, id, "/cancel", req, idempotency_key, out, err);
}

int weft_terminate_workflow(weft_client *c, const char *id, const weft_operator_request *req,
                            const char *idempotency_key, char **out, weft_error *err)
{
	return operator_call(c, id, "/terminate", req, idempotency_key, out, err);
}

int weft_retry_workflow(weft_client *c, const char *id, const weft_operator_request *req,
                        const char *idempotency_key, char **out, weft_error *err)
{
	return operator_call(c, id, "/retry", req, idempotency_key, out, err);
}

int weft_signal_workflow(weft_client *c, const char *id, const weft_workflow_signal_request *req,
                         const char *idempotency_key, char **out, weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "name is required");
	encoder e = { err, 0 };
	json_t *body = json_object();
	enc_required(&e, body, "name", req->name, "name");
	enc_json(&e, body, "payload", req->payload, "payload", false);
	return post_run(c, id, "/signals", body, &e, idempotency_key, out, err);
}
