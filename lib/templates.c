/*
 * templates.c — the /v1/templates calls: registering a template version,
 * listing and reading versions, starting a run of one. Answers are the
 * server's JSON text (see weft.h).
 */
#include "internal.h"

/* "/v1/templates/<name>/<version><suffix>", each segment encoded. */
static int version_path(buf *p, const char *name, const char *version, const char *suffix, weft_error *err)
{
	int rc = api_path(p, "/v1/templates/", name, "name", "/", err);
	if (rc == 0)
		rc = check_id(version, "version", err);
	if (rc)
		return api_drop(p, NULL, rc);
	path_encode(p, version);
	if (suffix)
		buf_puts(p, suffix);
	return 0;
}

int weft_create_template(weft_client *c, const weft_template_create_request *req, char **out, weft_error *err)
{
	API_START(out);
	if (!req || !req->steps || req->steps_len == 0)
		return err_set(err, WEFT_EINVAL, "steps: at least one is required");
	encoder e = { err, 0 };
	json_t *body = json_object(), *steps = json_array();
	enc_str(body, "namespace", req->namespace_);
	enc_required(&e, body, "name", req->name, "name");
	enc_required(&e, body, "version", req->version, "version");
	enc_str(body, "description", req->description);
	for (size_t i = 0; i < req->steps_len; i++)
		json_array_append_new(steps, enc_run_task(&e, &req->steps[i], i));
	json_object_set_new(body, "steps", steps);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/templates");
	if (e.rc)
		return api_drop(&p, body, e.rc);
	return api_send(c, "POST", &p, body, NULL, out, err);
}

int weft_list_templates(weft_client *c, const weft_template_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/templates");
	if (q) {
		query_str(&p, "namespace", q->namespace_);
		query_str(&p, "name", q->name);
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_get_template(weft_client *c, const char *name, const char *version, const char *namespace_, char **out,
                      weft_error *err)
{
	API_START(out);
	buf p;
	int rc = version_path(&p, name, version, NULL, err);
	if (rc)
		return rc;
	query_str(&p, "namespace", namespace_);
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_run_template(weft_client *c, const char *name, const char *version, const weft_template_run_request *req,
                      char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = version_path(&p, name, version, "/runs", err);
	if (rc)
		return rc;
	encoder e = { err, 0 };
	json_t *body = json_object();
	if (req) {
		enc_str(body, "namespace", req->namespace_);
		enc_json(&e, body, "context", req->context, "context", false);
		enc_str(body, "idempotency_key", req->idempotency_key);
		enc_str(body, "identity", req->identity);
	}
	if (e.rc)
		return api_drop(&p, body, e.rc);
	return api_send(c, "POST", &p, body, NULL, out, err);
}
