/*
 * jobs.c — the job hot path of the client: enqueue, claim, heartbeat,
 * complete, fail and release, with typed answers (see weft.h).
 */
#include "internal.h"

#define ITEMS_MAX 1000   /* the API's limit on the items of one request */

static int check_items(size_t n, const void *items, const char *what, weft_error *err)
{
	if (n == 0 || !items)
		return err_set(err, WEFT_EINVAL, "%s: at least one is required", what);
	if (n > ITEMS_MAX)
		return err_set(err, WEFT_EINVAL, "%s: at most %d per request, not %zu", what, ITEMS_MAX, n);
	return 0;
}

/* ---- enqueue ------------------------------------------------------------ */

static json_t *enc_job_spec(encoder *e, const weft_job_spec *s, size_t i)
{
	char f[64];
	json_t *o = json_object();
	snprintf(f, sizeof(f), "jobs[%zu].queue", i);
	enc_required(e, o, "queue", s->queue, f);
	enc_str(o, "name", s->name);
	snprintf(f, sizeof(f), "jobs[%zu].input", i);
	enc_json(e, o, "input", s->input, f, false);
	enc_int(o, "priority", s->priority);
	enc_str(o, "run_at", s->run_at);
	enc_int(o, "delay_ms", s->delay_ms);
	enc_int(o, "max_attempts", s->max_attempts);
	if (s->backoff)
		json_object_set_new(o, "backoff", enc_backoff(s->backoff));
	enc_strings(o, "non_retryable_codes", s->non_retryable_codes, s->non_retryable_codes_len);
	enc_int(o, "timeout_secs", s->timeout_secs);
	if (s->dedup) {
		json_t *d = json_object();
		snprintf(f, sizeof(f), "jobs[%zu].dedup.key", i);
		enc_required(e, d, "key", s->dedup->key, f);
		enc_str(d, "scope", s->dedup->scope);
		enc_int(d, "window_secs", s->dedup->window_secs);
		json_object_set_new(o, "dedup", d);
	}
	enc_str(o, "concurrency_key", s->concurrency_key);
	enc_str(o, "rate_key", s->rate_key);
	snprintf(f, sizeof(f), "jobs[%zu].metadata", i);
	enc_json(e, o, "metadata", s->metadata, f, true);
	return o;
}

int weft_enqueue_jobs(weft_client *c, const weft_enqueue_request *req, const char *idempotency_key,
                      weft_enqueue_result **out, weft_error *err)
{
	err_reset(err);
	if (out)
		*out = NULL;
	if (!req)
		return err_set(err, WEFT_EINVAL, "no request");
	int rc = check_items(req->jobs_len, req->jobs, "jobs", err);
	if (rc)
		return rc;
	encoder e = { err, 0 };
	json_t *body = json_object(), *jobs = json_array();
	enc_str(body, "namespace", req->namespace_);
	for (size_t i = 0; i < req->jobs_len; i++)
		json_array_append_new(jobs, enc_job_spec(&e, &req->jobs[i], i));
	json_object_set_new(body, "jobs", jobs);
	if (e.rc) {
		json_decref(body);
		return e.rc;
	}
	json_t *ans = NULL;
	if ((rc = client_call(c, "POST", "/v1/jobs", body, idempotency_key, out ? &ans : NULL, NULL, err)) != 0)
		return rc;
	if (!out)
		return 0;
	const json_t *list = json_object_get(ans, "jobs");
	weft_enqueue_result *r = xcalloc(1, sizeof(*r));
	r->jobs_len = json_array_size(list);
	r->jobs = xcalloc(r->jobs_len ? r->jobs_len : 1, sizeof(*r->jobs));
	for (size_t i = 0; i < r->jobs_len; i++) {
		const json_t *j = json_array_get(list, i);
		weft_enqueued_job *ej = &r->jobs[i];
		ej->id = ans_str(j, "id");
		ej->run_id = ans_str(j, "run_id");
		ej->queue = ans_str(j, "queue");
		ej->status = ans_str(j, "status");
		ej->duplicate = ans_bool(j, "duplicate");
	}
	json_decref(ans);
	*out = r;
	return 0;
}

void weft_enqueue_result_free(weft_enqueue_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->jobs_len; i++) {
		free(r->jobs[i].id);
		free(r->jobs[i].run_id);
		free(r->jobs[i].queue);
		free(r->jobs[i].status);
	}
	free(r->jobs);
	free(r);
}

/* ---- claim -------------------------------------------------------------- */

void job_fill(weft_job *j, const json_t *o)
{
	j->id = ans_str(o, "id");
	j->run_id = ans_str(o, "run_id");
	j->queue = ans_str(o, "queue");
	j->name = ans_str(o, "name");
	j->attempt = (int32_t)ans_int(o, "attempt");
	j->max_attempts = (int32_t)ans_int(o, "max_attempts");
	j->lease_token = ans_str(o, "lease_token");
	j->lease_until = ans_str(o, "lease_until");
	j->timeout_at = ans_str(o, "timeout_at");
	j->heartbeat_ms = ans_int(o, "heartbeat_ms");
	j->input = ans_json(o, "input");
	j->metadata = ans_json(o, "metadata");
	const json_t *ps = json_object_get(o, "parents");
	j->parents_len = json_array_size(ps);
	j->parents = j->parents_len ? xcalloc(j->parents_len, sizeof(*j->parents)) : NULL;
	for (size_t i = 0; i < j->parents_len; i++) {
		const json_t *p = json_array_get(ps, i);
		j->parents[i].id = ans_str(p, "id");
		j->parents[i].name = ans_str(p, "name");
		j->parents[i].status = ans_str(p, "status");
		j->parents[i].result = ans_json(p, "result");
	}
}

void job_release_fields(weft_job *j)
{
	free(j->id);
	free(j->run_id);
	free(j->queue);
	free(j->name);
	free(j->lease_token);
	free(j->lease_until);
	free(j->timeout_at);
	free(j->input);
	free(j->metadata);
	for (size_t i = 0; i < j->parents_len; i++) {
		free(j->parents[i].id);
		free(j->parents[i].name);
		free(j->parents[i].status);
		free(j->parents[i].result);
	}
	free(j->parents);
	memset(j, 0, sizeof(*j));
}

int weft_claim_jobs(weft_client *c, const weft_claim_request *req, weft_claim_result **out, weft_error *err)
{
	err_reset(err);
	if (out)
		*out = NULL;
	if (!req)
		return err_set(err, WEFT_EINVAL, "no request");
	if (!req->queues || req->queues_len == 0 || req->queues_len > 16)
		return err_set(err, WEFT_EINVAL, "queues: 1 to 16 names");
	if (req->wait_ms < 0 || req->wait_ms > 60000)
		return err_set(err, WEFT_EINVAL, "wait_ms: 0 to 60,000");
	encoder e = { err, 0 };
	json_t *body = json_object();
	enc_str(body, "namespace", req->namespace_);
	enc_strings(body, "queues", req->queues, req->queues_len);
	enc_required(&e, body, "worker_id", req->worker_id, "worker_id");
	enc_str(body, "hostname", req->hostname);
	enc_int(body, "max_jobs", req->max_jobs);
	enc_int(body, "wait_ms", req->wait_ms);
	enc_int(body, "lease_ms", req->lease_ms);
	if (e.rc) {
		json_decref(body);
		return e.rc;
	}
	/* the long poll's wait comes on top of the request's own time */
	http_client_set_timeout(c->http, c->timeout_ms + (long)req->wait_ms);
	json_t *ans = NULL;
	int rc = client_call(c, "POST", "/v1/jobs/claim", body, NULL, &ans, NULL, err);
	http_client_set_timeout(c->http, c->timeout_ms);
	if (rc)
		return rc;
	const json_t *list = json_object_get(ans, "jobs");
	weft_claim_result *r = xcalloc(1, sizeof(*r));
	r->drain = ans_bool(ans, "drain");
	r->jobs_len = json_array_size(list);
	r->jobs = xcalloc(r->jobs_len ? r->jobs_len : 1, sizeof(*r->jobs));
	for (size_t i = 0; i < r->jobs_len; i++)
		job_fill(&r->jobs[i], json_array_get(list, i));
	json_decref(ans);
	if (out)
		*out = r;
	else
		weft_claim_result_free(r);   /* claimed jobs come back when their leases expire */
	return 0;
}

void weft_claim_result_free(weft_claim_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->jobs_len; i++)
		job_release_fields(&r->jobs[i]);
	free(r->jobs);
	free(r);
}

/* ---- heartbeat ---------------------------------------------------------- */

int weft_heartbeat_jobs(weft_client *c, const weft_heartbeat_request *req, weft_heartbeat_result **out,
                        weft_error *err)
{
	err_reset(err);
	if (out)
		*out = NULL;
	if (!req)
		return err_set(err, WEFT_EINVAL, "no request");
	int rc = check_items(req->leases_len, req->leases, "leases", err);
	if (rc)
		return rc;
	encoder e = { err, 0 };
	json_t *body = json_object(), *leases = json_array();
	enc_required(&e, body, "worker_id", req->worker_id, "worker_id");
	enc_int(body, "lease_ms", req->lease_ms);
	for (size_t i = 0; i < req->leases_len; i++) {
		const weft_lease_ref *l = &req->leases[i];
		json_t *o = json_object();
		char f[64];
		snprintf(f, sizeof(f), "leases[%zu].id", i);
		enc_required(&e, o, "id", l->id, f);
		snprintf(f, sizeof(f), "leases[%zu].lease_token", i);
		enc_required(&e, o, "lease_token", l->lease_token, f);
		snprintf(f, sizeof(f), "leases[%zu].progress", i);
		enc_json(&e, o, "progress", l->progress, f, false);
		json_array_append_new(leases, o);
	}
	json_object_set_new(body, "leases", leases);
	if (e.rc) {
		json_decref(body);
		return e.rc;
	}
	json_t *ans = NULL;
	if ((rc = client_call(c, "POST", "/v1/jobs/heartbeat", body, NULL, out ? &ans : NULL, NULL, err)) != 0)
		return rc;
	if (!out)
		return 0;
	const json_t *list = json_object_get(ans, "leases");
	weft_heartbeat_result *r = xcalloc(1, sizeof(*r));
	r->drain = ans_bool(ans, "drain");
	r->leases_len = json_array_size(list);
	r->leases = xcalloc(r->leases_len ? r->leases_len : 1, sizeof(*r->leases));
	for (size_t i = 0; i < r->leases_len; i++) {
		const json_t *l = json_array_get(list, i);
		r->leases[i].id = ans_str(l, "id");
		r->leases[i].state = ans_str(l, "state");
		r->leases[i].lease_until = ans_str(l, "lease_until");
	}
	json_decref(ans);
	*out = r;
	return 0;
}

void weft_heartbeat_result_free(weft_heartbeat_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->leases_len; i++) {
		free(r->leases[i].id);
		free(r->leases[i].state);
		free(r->leases[i].lease_until);
	}
	free(r->leases);
	free(r);
}

/* ---- reports ------------------------------------------------------------ */

static void report_fill(weft_report_result *r, const json_t *o)
{
	r->id = ans_str(o, "id");
	r->outcome = ans_str(o, "outcome");
	r->next_attempt_at = ans_str(o, "next_attempt_at");
}

static void report_release(weft_report_result *r)
{
	free(r->id);
	free(r->outcome);
	free(r->next_attempt_at);
}

void weft_report_result_free(weft_report_result *r)
{
	if (!r)
		return;
	report_release(r);
	free(r);
}

void weft_report_results_free(weft_report_results *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->results_len; i++)
		report_release(&r->results[i]);
	free(r->results);
	free(r);
}

static json_t *enc_complete(encoder *e, const weft_complete_item *it, size_t i, bool need_id)
{
	char f[64];
	json_t *o = json_object();
	snprintf(f, sizeof(f), "items[%zu].id", i);
	if (need_id)
		enc_required(e, o, "id", it->id, f);
	else
		enc_str(o, "id", it->id);
	snprintf(f, sizeof(f), "items[%zu].lease_token", i);
	enc_required(e, o, "lease_token", it->lease_token, f);
	snprintf(f, sizeof(f), "items[%zu].result", i);
	enc_json(e, o, "result", it->result, f, false);
	return o;
}

static json_t *enc_fail(encoder *e, const weft_fail_item *it, size_t i, bool need_id)
{
	char f[64];
	json_t *o = json_object();
	snprintf(f, sizeof(f), "items[%zu].id", i);
	if (need_id)
		enc_required(e, o, "id", it->id, f);
	else
		enc_str(o, "id", it->id);
	snprintf(f, sizeof(f), "items[%zu].lease_token", i);
	enc_required(e, o, "lease_token", it->lease_token, f);
	snprintf(f, sizeof(f), "items[%zu].error", i);
	json_object_set_new(o, "error", enc_job_error(e, &it->error, f));
	if (it->retry_after_ms == WEFT_RETRY_NOW)
		json_object_set_new(o, "retry_after_ms", json_integer(0));
	else
		enc_int(o, "retry_after_ms", it->retry_after_ms);
	return o;
}

static json_t *enc_release(encoder *e, const weft_release_item *it, size_t i)
{
	char f[64];
	json_t *o = json_object();
	snprintf(f, sizeof(f), "items[%zu].id", i);
	enc_required(e, o, "id", it->id, f);
	snprintf(f, sizeof(f), "items[%zu].lease_token", i);
	enc_required(e, o, "lease_token", it->lease_token, f);
	return o;
}

/* Sends {"items": items} to path and reads {"results": [...]}. */
static int send_items(weft_client *c, const char *path, encoder *e, json_t *items, weft_report_results **out)
{
	if (e->rc) {
		json_decref(items);
		return e->rc;
	}
	json_t *body = json_object(), *ans = NULL;
	json_object_set_new(body, "items", items);
	int rc = client_call(c, "POST", path, body, NULL, out ? &ans : NULL, NULL, e->err);
	if (rc || !out)
		return rc;
	const json_t *list = json_object_get(ans, "results");
	weft_report_results *r = xcalloc(1, sizeof(*r));
	r->results_len = json_array_size(list);
	r->results = xcalloc(r->results_len ? r->results_len : 1, sizeof(*r->results));
	for (size_t i = 0; i < r->results_len; i++)
		report_fill(&r->results[i], json_array_get(list, i));
	json_decref(ans);
	*out = r;
	return 0;
}

int weft_complete_jobs(weft_client *c, const weft_complete_request *req, weft_report_results **out,
                       weft_error *err)
{
	err_reset(err);
	if (out)
		*out = NULL;
	int rc = check_items(req ? req->items_len : 0, req ? req->items : NULL, "items", err);
	if (rc)
		return rc;
	encoder e = { err, 0 };
	json_t *items = json_array();
	for (size_t i = 0; i < req->items_len; i++)
		json_array_append_new(items, enc_complete(&e, &req->items[i], i, true));
	return send_items(c, "/v1/jobs/complete", &e, items, out);
}

int weft_fail_jobs(weft_client *c, const weft_fail_request *req, weft_report_results **out, weft_error *err)
{
	err_reset(err);
	if (out)
		*out = NULL;
	int rc = check_items(req ? req->items_len : 0, req ? req->items : NULL, "items", err);
	if (rc)
		return rc;
	encoder e = { err, 0 };
	json_t *items = json_array();
	for (size_t i = 0; i < req->items_len; i++)
		json_array_append_new(items, enc_fail(&e, &req->items[i], i, true));
	return send_items(c, "/v1/jobs/fail", &e, items, out);
}

int weft_release_jobs(weft_client *c, const weft_release_request *req, weft_report_results **out,
                      weft_error *err)
{
	err_reset(err);
	if (out)
		*out = NULL;
	int rc = check_items(req ? req->items_len : 0, req ? req->items : NULL, "items", err);
	if (rc)
		return rc;
	encoder e = { err, 0 };
	json_t *items = json_array();
	for (size_t i = 0; i < req->items_len; i++)
		json_array_append_new(items, enc_release(&e, &req->items[i], i));
	return send_items(c, "/v1/jobs/release", &e, items, out);
}

/* POST /v1/jobs/{id}/<verb> with one item's body. */
static int report_one(weft_client *c, const char *id, const char *verb, encoder *e, json_t *body,
                      weft_report_result **out)
{
	int rc = check_id(id, "id", e->err);
	if (rc || e->rc) {
		json_decref(body);
		return rc ? rc : e->rc;
	}
	buf path;
	buf_init(&path);
	buf_puts(&path, "/v1/jobs/");
	path_encode(&path, id);
	buf_printf(&path, "/%s", verb);
	json_t *ans = NULL;
	rc = client_call(c, "POST", path.data, body, NULL, out ? &ans : NULL, NULL, e->err);
	buf_release(&path);
	if (rc || !out)
		return rc;
	weft_report_result *r = xcalloc(1, sizeof(*r));
	report_fill(r, ans);
	json_decref(ans);
	*out = r;
	return 0;
}

int weft_complete_job(weft_client *c, const char *id, const weft_complete_item *req, weft_report_result **out,
                      weft_error *err)
{
	err_reset(err);
	if (out)
		*out = NULL;
	if (!req)
		return err_set(err, WEFT_EINVAL, "no request");
	encoder e = { err, 0 };
	return report_one(c, id, "complete", &e, enc_complete(&e, req, 0, false), out);
}

int weft_fail_job(weft_client *c, const char *id, const weft_fail_item *req, weft_report_result **out,
                  weft_error *err)
{
	err_reset(err);
	if (out)
		*out = NULL;
	if (!req)
		return err_set(err, WEFT_EINVAL, "no request");
	encoder e = { err, 0 };
	return report_one(c, id, "fail", &e, enc_fail(&e, req, 0, false), out);
}
