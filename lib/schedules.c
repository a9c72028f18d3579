/*
 * schedules.c — the /v1/schedules calls: creating, listing, reading and
 * deleting cron schedules, pausing, resuming and firing one now. Answers
 * are the server's JSON text (see weft.h).
 */
#include "internal.h"

/* Sends method to schedule name's suffix in namespace_ (NULL: the token's
 * default). */
static int schedule_call(weft_client *c, const char *method, const char *name, const char *suffix,
                         const char *namespace_, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/schedules/", name, "name", suffix, err);
	if (rc)
		return api_drop(&p, NULL, rc);
	query_str(&p, "namespace", namespace_);
	return api_send(c, method, &p, strcmp(method, "POST") ? NULL : json_object(), NULL, out, err);
}

/* The target: a job, a workflow run or a template run (weft.h). */
json_t *enc_target(encoder *e, const weft_schedule_target *t)
{
	json_t *o = json_object();
	const char *kind = t->kind ? t->kind : "job";
	json_object_set_new(o, "kind", json_string(kind));
	if (strcmp(kind, "template") == 0) {
		enc_required(e, o, "template", t->template_, "target.template");
		if (t->context)
			enc_json(e, o, "context", t->context, "target.context", false);
		return o;
	}
	if (strcmp(kind, "workflow") == 0) {
		enc_required(e, o, "type", t->type, "target.type");
		enc_str(o, "namespace", t->namespace_);
	}
	enc_required(e, o, "queue", t->queue, "target.queue");
	enc_str(o, "name", t->name);
	if (t->input)
		enc_json(e, o, "input", t->input, "target.input", false);
	enc_int(o, "priority", t->priority);
	enc_int(o, "max_attempts", t->max_attempts);
	if (t->backoff)
		json_object_set_new(o, "backoff", enc_backoff(t->backoff));
	enc_strings(o, "non_retryable_codes", t->non_retryable_codes, t->non_retryable_codes_len);
	enc_int(o, "timeout_secs", t->timeout_secs);
	enc_str(o, "concurrency_key", t->concurrency_key);
	enc_str(o, "rate_key", t->rate_key);
	return o;
}

int weft_create_schedule(weft_client *c, const weft_schedule_create_request *req, char **out, weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "name is required");
	encoder e = { err, 0 };
	json_t *body = json_object();
	enc_str(body, "namespace", req->namespace_);
	enc_required(&e, body, "name", req->name, "name");
	enc_required(&e, body, "cron", req->cron, "cron");
	enc_str(body, "timezone", req->timezone);
	json_object_set_new(body, "target", enc_target(&e, &req->target));
	enc_str(body, "catchup", req->catchup);
	enc_int(body, "catchup_max", req->catchup_max);
	enc_str(body, "overlap", req->overlap);
	enc_tristate(body, "paused", req->paused);
	return api_post_built(c, "/v1/schedules", body, &e, NULL, out, err);
}

int weft_list_schedules(weft_client *c, const weft_schedule_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/schedules");
	if (q) {
		query_str(&p, "namespace", q->namespace_);
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_get_schedule(weft_client *c, const char *name, const weft_schedule_get_query *q, char **out,
                      weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/schedules/", name, "name", NULL, err);
	if (rc)
		return api_drop(&p, NULL, rc);
	if (q) {
		query_str(&p, "namespace", q->namespace_);
		if (q->next < 0)
			query_str(&p, "next", "0");
		else
			query_int(&p, "next", q->next);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_delete_schedule(weft_client *c, const char *name, const char *namespace_, char **out, weft_error *err)
{
	return schedule_call(c, "DELETE", name, NULL, namespace_, out, err);
}

int weft_pause_schedule(weft_client *c, const char *name, const char *namespace_, char **out, weft_error *err)
{
	return schedule_call(c, "POST", name, "/pause", namespace_, out, err);
}

int weft_resume_schedule(weft_client *c, const char *name, const char *namespace_, char **out, weft_error *err)
{
	return schedule_call(c, "POST", name, "/resume", namespace_, out, err);
}

int weft_trigger_schedule(weft_client *c, const char *name, const char *namespace_, char **out, weft_error *err)
{
	return schedule_call(c, "POST", name, "/trigger", namespace_, out, err);
}
