/*
 * triggers.c — the /v1/hooks, /v1/events and /v1/subscriptions calls.
 * Answers are the server's JSON text (see weft.h).
 */
#include "internal.h"

/* method on "<prefix><name><suffix>?namespace=" (namespace_ NULL: left out). */
static int named_call(weft_client *c, const char *method, const char *prefix, const char *name, const char *suffix,
                      const char *namespace_, json_t *body, char **out, weft_error *err)
{
	buf p;
	int rc = api_path(&p, prefix, name, "name", suffix, err);
	if (rc)
		return api_drop(&p, body, rc);
	query_str(&p, "namespace", namespace_);
	return api_send(c, method, &p, body, NULL, out, err);
}

static int page_call(weft_client *c, const char *path, const weft_name_page_query *q, char **out, weft_error *err)
{
	buf p;
	buf_init(&p);
	buf_puts(&p, path);
	if (q) {
		query_str(&p, "namespace", q->namespace_);
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

/* ---- hooks ------------------------------------------------------------- */

int weft_create_hook(weft_client *c, const weft_hook_create_request *req, char **out, weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "name is required");
	encoder e = { err, 0 };
	json_t *body = json_object();
	enc_str(body, "namespace", req->namespace_);
	enc_required(&e, body, "name", req->name, "name");
	json_object_set_new(body, "target", enc_target(&e, &req->target));
	enc_str(body, "scheme", req->scheme);
	enc_str(body, "secret", req->secret);
	enc_int(body, "replay_window_secs", req->replay_window_secs);
	return api_post_built(c, "/v1/hooks", body, &e, NULL, out, err);
}

int weft_list_hooks(weft_client *c, const weft_name_page_query *q, char **out, weft_error *err)
{
	API_START(out);
	return page_call(c, "/v1/hooks", q, out, err);
}

int weft_get_hook(weft_client *c, const char *name, const char *namespace_, char **out, weft_error *err)
{
	API_START(out);
	return named_call(c, "GET", "/v1/hooks/", name, NULL, namespace_, NULL, out, err);
}

int weft_delete_hook(weft_client *c, const char *name, const char *namespace_, char **out, weft_error *err)
{
	API_START(out);
	return named_call(c, "DELETE", "/v1/hooks/", name, NULL, namespace_, NULL, out, err);
}

int weft_rotate_hook_secret(weft_client *c, const char *name, const char *namespace_,
                            const weft_hook_rotate_request *req, char **out, weft_error *err)
{
	API_START(out);
	json_t *body = json_object();
	enc_str(body, "secret", req ? req->secret : NULL);
	return named_call(c, "POST", "/v1/hooks/", name, "/rotate", namespace_, body, out, err);
}

/* "Name: value" into line[cap]; WEFT_EINVAL for a value on more than one line. */
static int header_line(char *line, size_t cap, const char *name, const char *value, weft_error *err)
{
	if (strpbrk(value, "\r\n") || strlen(name) + strlen(value) + 3 > cap)
		return err_set(err, WEFT_EINVAL, "%s: one line of at most %zu bytes", name, cap - strlen(name) - 3);
	buf b;
	buf_init(&b);
	buf_printf(&b, "%s: %s", name, value);
	memcpy(line, b.data, b.len + 1);
	buf_release(&b);
	return 0;
}

int weft_deliver_hook(weft_client *c, const char *name, const weft_hook_delivery *d, char **out, weft_error *err)
{
	API_START(out);
	if (!d)
		return err_set(err, WEFT_EINVAL, "a delivery is required");
	char sig[1100], hub[1100], id[200];
	const char *headers[5] = { "Content-Type: application/octet-stream", NULL, NULL, NULL, NULL };
	size_t n = 1;
	int rc = 0;
	if (d->weft_signature && (rc = header_line(sig, sizeof sig, "X-Weft-Signature", d->weft_signature, err)) == 0)
		headers[n++] = sig;
	if (!rc && d->hub_signature_256 &&
	    (rc = header_line(hub, sizeof hub, "X-Hub-Signature-256", d->hub_signature_256, err)) == 0)
		headers[n++] = hub;
	bool github = d->scheme && strcmp(d->scheme, "github") == 0;
	if (!rc && d->delivery_id &&
	    (rc = header_line(id, sizeof id, github ? "X-GitHub-Delivery" : "X-Weft-Delivery", d->delivery_id, err)) ==
	            0)
		headers[n++] = id;
	if (rc)
		return rc;
	buf p;
	rc = api_path(&p, "/v1/hooks/", name, "name", NULL, err);
	if (rc)
		return api_drop(&p, NULL, rc);
	query_str(&p, "namespace", d->namespace_);
	return api_send_raw(c, "POST", &p, d->body ? d->body : "", d->body ? d->body_len : 0, headers, out, err);
}

/* ---- events ------------------------------------------------------------ */

int weft_publish_event(weft_client *c, const weft_event_publish_request *req, char **out, weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "topic is required");
	encoder e = { err, 0 };
	json_t *body = json_object();
	enc_str(body, "namespace", req->namespace_);
	enc_required(&e, body, "topic", req->topic, "topic");
	if (req->payload)
		enc_json(&e, body, "payload", req->payload, "payload", false);
	enc_str(body, "id", req->id);
	return api_post_built(c, "/v1/events", body, &e, NULL, out, err);
}

int weft_list_events(weft_client *c, const weft_event_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/events");
	if (q) {
		query_str(&p, "namespace", q->namespace_);
		query_str(&p, "topic", q->topic);
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_get_event(weft_client *c, const char *id, const char *namespace_, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/events/", id, "id", NULL, err);
	if (rc)
		return api_drop(&p, NULL, rc);
	query_str(&p, "namespace", namespace_);
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

/* ---- subscriptions ------------------------------------------------------ */

int weft_create_subscription(weft_client *c, const weft_subscription_create_request *req, char **out,
                             weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "name is required");
	encoder e = { err, 0 };
	json_t *body = json_object();
	enc_str(body, "namespace", req->namespace_);
	enc_required(&e, body, "name", req->name, "name");
	enc_required(&e, body, "topic", req->topic, "topic");
	json_object_set_new(body, "target", enc_target(&e, &req->target));
	return api_post_built(c, "/v1/subscriptions", body, &e, NULL, out, err);
}

int weft_list_subscriptions(weft_client *c, const weft_name_page_query *q, char **out, weft_error *err)
{
	API_START(out);
	return page_call(c, "/v1/subscriptions", q, out, err);
}

int weft_get_subscription(weft_client *c, const char *name, const char *namespace_, char **out, weft_error *err)
{
	API_START(out);
	return named_call(c, "GET", "/v1/subscriptions/", name, NULL, namespace_, NULL, out, err);
}

int weft_delete_subscription(weft_client *c, const char *name, const char *namespace_, char **out,
                             weft_error *err)
{
	API_START(out);
	return named_call(c, "DELETE", "/v1/subscriptions/", name, NULL, namespace_, NULL, out, err);
}
