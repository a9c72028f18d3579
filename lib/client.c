/*
 * client.c — libweft's client core: options, errors, and one request path
 * over http_client (src/client/http_client.c) that turns the server's
 * answers into 0 or a WEFT_E* code with the error body read into
 * weft_error.
 */
#include "internal.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>

#define DEFAULT_TIMEOUT_MS 30000L

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	json_object_seed(0);   /* before any thread builds objects */
}

void lib_init_once(void)
{
	pthread_once(&init_once, init);
}

const char *weft_version(void)
{
	return WEFT_VERSION;
}

void weft_free(void *p)
{
	free(p);
}

const char *weft_strerror(int code)
{
	switch (code) {
	case WEFT_OK: return "ok";
	case WEFT_EINVAL: return "invalid argument";
	case WEFT_ECONNECT: return "cannot connect to the server";
	case WEFT_ETIMEOUT: return "timed out";
	case WEFT_ETRANSPORT: return "the connection failed";
	case WEFT_ECANCELED: return "canceled";
	case WEFT_EPROTOCOL: return "the server's answer could not be understood";
	case WEFT_EBADREQUEST: return "the server refused the request (400/413)";
	case WEFT_EAUTH: return "not authorized (401/403): check the token";
	case WEFT_ENOTFOUND: return "not found (404)";
	case WEFT_ECONFLICT: return "conflict (409)";
	case WEFT_EOVERLOADED: return "the server is overloaded (429)";
	case WEFT_ESERVER: return "server error (5xx)";
	case WEFT_EHTTP: return "unexpected HTTP status";
	case WEFT_SUSPENDED: return "the workflow run is suspended";
	case WEFT_ENDED: return "the workflow run's attempt is over";
	case WEFT_STEP_FAILED: return "a workflow step failed for good";
	case WEFT_TIMED_OUT: return "no signal came within the timeout";
	default: return "unknown error";
	}
}

void options_copy(void *dst, size_t dst_size, const void *src, size_t src_size)
{
	memset(dst, 0, dst_size);
	memcpy(dst, src, MIN(dst_size, src_size));
}

/* ---- errors ------------------------------------------------------------- */

void err_reset(weft_error *err)
{
	if (!err)
		return;
	free(err->details);
	memset(err, 0, sizeof(*err));
}

void weft_error_release(weft_error *err)
{
	err_reset(err);
}

int err_set(weft_error *err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	err->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

static int code_of_transport(int rc)
{
	switch (rc) {
	case HTTP_CLIENT_EINVAL: return WEFT_EINVAL;
	case HTTP_CLIENT_ECONNECT: return WEFT_ECONNECT;
	case HTTP_CLIENT_ETIMEOUT: return WEFT_ETIMEOUT;
	case HTTP_CLIENT_ECANCELED: return WEFT_ECANCELED;
	default: return WEFT_ETRANSPORT;
	}
}

static int code_of_status(long status)
{
	switch (status) {
	case 400: case 413: return WEFT_EBADREQUEST;
	case 401: case 403: return WEFT_EAUTH;
	case 404: return WEFT_ENOTFOUND;
	case 409: return WEFT_ECONFLICT;
	case 429: return WEFT_EOVERLOADED;
	default: return status >= 500 ? WEFT_ESERVER : WEFT_EHTTP;
	}
}

/* Reads {"error":{"code","message","details"}} from a failed answer; an
 * answer of another shape (a proxy's page) is quoted instead. */
static int answer_error(weft_error *err, const char *method, const char *path, const http_response *r)
{
	int code = code_of_status(r->status);
	if (!err)
		return code;
	err->code = code;
	err->http_status = r->status;
	json_t *doc = json_loadb(r->body.data, r->body.len, 0, NULL);
	const json_t *e = json_object_get(doc, "error");
	const char *scode = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (scode)
		snprintf(err->server_code, sizeof(err->server_code), "%s", scode);
	if (msg)
		snprintf(err->message, sizeof(err->message), "%s", msg);
	else
		snprintf(err->message, sizeof(err->message), "%s %s: HTTP %ld: %.200s", method, path, r->status,
		         r->body.data);
	const json_t *details = json_object_get(e, "details");
	if (details && !json_is_null(details))
		err->details = json_text(details);
	json_decref(doc);
	return code;
}

int client_call(weft_client *c, const char *method, const char *path, json_t *body, const char *idem,
                json_t **json_out, char **text_out, weft_error *err)
{
	if (json_out)
		*json_out = NULL;
	if (text_out)
		*text_out = NULL;
	char *text = body ? json_text(body) : NULL;
	json_decref(body);
	char idem_line[300];
	const char *headers[2] = { NULL, NULL };
	if (idem) {
		if (!*idem || strlen(idem) > 255 || strpbrk(idem, "\r\n")) {
			free(text);
			return err_set(err, WEFT_EINVAL, "idempotency_key: 1 to 255 bytes on one line");
		}
		snprintf(idem_line, sizeof(idem_line), "Idempotency-Key: %s", idem);
		headers[0] = idem_line;
	}
	http_response *r = &c->resp;
	int rc = http_client_request(c->http, method, path, text, text ? strlen(text) : 0, headers, r);
	free(text);
	if (rc != HTTP_CLIENT_OK) {
		rc = code_of_transport(rc);
		if (err) {
			err->code = rc;
			snprintf(err->message, sizeof(err->message), "%s", r->error);
		}
		return rc;
	}
	if (r->status < 200 || r->status > 299)
		return answer_error(err, method, path, r);
	if (json_out) {
		json_error_t je;
		*json_out = json_loadb(r->body.data, r->body.len, 0, &je);
		if (!*json_out) {
			if (err)
				err->http_status = r->status;
			return err_set(err, WEFT_EPROTOCOL, "%s %s: the answer is not JSON: %s", method, path, je.text);
		}
	}
	if (text_out)
		*text_out = xstrndup(r->body.data, r->body.len);
	return 0;
}

/* ---- clients ------------------------------------------------------------ */

weft_client *weft_client_new_sized(const weft_client_options *given, size_t opt_size, weft_error *err)
{
	err_reset(err);
	lib_init_once();
	weft_client_options opt;
	if (!given) {
		err_set(err, WEFT_EINVAL, "no options");
		return NULL;
	}
	options_copy(&opt, sizeof(opt), given, opt_size);
	if (!opt.url || !*opt.url) {
		err_set(err, WEFT_EINVAL, "url is required (the server's base URL, http://host:port)");
		return NULL;
	}
	http_client_options ho = {
		.base_url = opt.url,
		.token = opt.token,
		.timeout_ms = opt.timeout_ms > 0 ? opt.timeout_ms : DEFAULT_TIMEOUT_MS,
		.connect_timeout_ms = opt.connect_timeout_ms,
	};
	http_client *h = http_client_new(&ho);
	if (!h) {
		err_set(err, WEFT_EINVAL, "url %.200s: not an http:// or https:// URL", opt.url);
		return NULL;
	}
	weft_client *c = xcalloc(1, sizeof(*c));
	c->http = h;
	c->timeout_ms = ho.timeout_ms;
	http_response_init(&c->resp);
	return c;
}

void weft_client_free(weft_client *c)
{
	if (!c)
		return;
	http_client_free(c->http);
	http_response_release(&c->resp);
	free(c);
}

/* ---- paths -------------------------------------------------------------- */

void path_encode(buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '.' || *p == '_' || *p == '~') {
			buf_putc(b, (char)*p);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[*p >> 4]);
			buf_putc(b, hex[*p & 15]);
		}
	}
}

void query_str(buf *b, const char *name, const char *value)
{
	if (!value)
		return;
	buf_putc(b, strchr(b->data, '?') ? '&' : '?');
	buf_puts(b, name);
	buf_putc(b, '=');
	path_encode(b, value);
}

void query_int(buf *b, const char *name, int64_t value)
{
	if (value == 0)
		return;
	char n[32];
	snprintf(n, sizeof(n), "%" PRId64, value);
	query_str(b, name, n);
}

int check_id(const char *id, const char *what, weft_error *err)
{
	if (!id || !*id)
		return err_set(err, WEFT_EINVAL, "%s is required", what);
	if (strlen(id) > 1024)
		return err_set(err, WEFT_EINVAL, "%s: longer than 1,024 bytes", what);
	return 0;
}

/* ---- JSON helpers ------------------------------------------------------- */

char *json_text(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s) {
		fprintf(stderr, "libweft: out of memory encoding JSON\n");
		abort();
	}
	return s;
}

void enc_str(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

void enc_int(json_t *o, const char *key, int64_t v)
{
	if (v != 0)
		json_object_set_new(o, key, json_integer((json_int_t)v));
}

void enc_tristate(json_t *o, const char *key, weft_tristate v)
{
	if (v == WEFT_TRUE || v == WEFT_FALSE)
		json_object_set_new(o, key, json_boolean(v == WEFT_TRUE));
}

void enc_strings(json_t *o, const char *key, const char *const *v, size_t n)
{
	if (!v || n == 0)
		return;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, v[i] ? json_string(v[i]) : json_null());
	json_object_set_new(o, key, a);
}

void enc_json(encoder *e, json_t *o, const char *key, const char *v, const char *field, bool want_object)
{
	if (!v)
		return;
	json_error_t je;
	json_t *j = json_loads(v, JSON_DECODE_ANY, &je);
	if (!j || (want_object && !json_is_object(j))) {
		if (!e->rc)
			e->rc = err_set(e->err, WEFT_EINVAL, "%s: %s%s", field, j ? "not a JSON object" : "not JSON: ",
			                j ? "" : je.text);
		json_decref(j);
		return;
	}
	json_object_set_new(o, key, j);
}

void enc_required(encoder *e, json_t *o, const char *key, const char *v, const char *field)
{
	if (!v || !*v) {
		if (!e->rc)
			e->rc = err_set(e->err, WEFT_EINVAL, "%s is required", field);
		return;
	}
	enc_str(o, key, v);
}

json_t *enc_backoff(const weft_backoff *b)
{
	json_t *o = json_object();
	enc_int(o, "initial_ms", b->initial_ms);
	if (b->coefficient != 0)
		json_object_set_new(o, "coefficient", json_real(b->coefficient));
	enc_int(o, "max_ms", b->max_ms);
	if (b->jitter_set)
		json_object_set_new(o, "jitter", json_real(b->jitter));
	return o;
}

json_t *enc_job_error(encoder *e, const weft_job_error *je, const char *field)
{
	json_t *o = json_object();
	char f[96];
	snprintf(f, sizeof(f), "%s.code", field);
	enc_required(e, o, "code", je->code, f);
	enc_str(o, "message", je->message);
	enc_tristate(o, "retryable", je->retryable);
	snprintf(f, sizeof(f), "%s.details", field);
	enc_json(e, o, "details", je->details, f, false);
	return o;
}

char *ans_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? xstrdup(s) : NULL;
}

char *ans_json(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return v ? json_text(v) : xstrdup("null");
}

int64_t ans_int(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

bool ans_bool(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* ---- the JSON-text calls (api.c, workflows.c) -------------------------- */

/* Sends the request built in path (released here) and hands the answer's
 * text to *out. body is stolen. */
int api_send(weft_client *c, const char *method, buf *path, json_t *body, const char *idem, char **out,
             weft_error *err)
{
	int rc = client_call(c, method, path->data, body, idem, NULL, out, err);
	buf_release(path);
	return rc;
}

int api_send_raw(weft_client *c, const char *method, buf *path, const char *body, size_t len,
                 const char *const *headers, char **out, weft_error *err)
{
	http_response *r = &c->resp;
	int rc = http_client_request(c->http, method, path->data, body, len, headers, r);
	if (rc != HTTP_CLIENT_OK) {
		rc = code_of_transport(rc);
		if (err) {
			err->code = rc;
			snprintf(err->message, sizeof(err->message), "%s", r->error);
		}
	} else if (r->status < 200 || r->status > 299) {
		rc = answer_error(err, method, path->data, r);
	} else {
		*out = xstrndup(r->body.data, r->body.len);
	}
	buf_release(path);
	return rc;
}

/* "<prefix><id encoded><suffix>" into path; WEFT_EINVAL without id. */
int api_path(buf *path, const char *prefix, const char *id, const char *what, const char *suffix, weft_error *err)
{
	buf_init(path);
	int rc = check_id(id, what, err);
	if (rc)
		return rc;
	buf_puts(path, prefix);
	path_encode(path, id);
	if (suffix)
		buf_puts(path, suffix);
	return 0;
}

/* A body that failed to build (e->rc) is dropped with the path. */
int api_drop(buf *path, json_t *body, int rc)
{
	buf_release(path);
	json_decref(body);
	return rc;
}

int api_post_built(weft_client *c, const char *path, json_t *body, const encoder *e, const char *idem, char **out,
                   weft_error *err)
{
	if (e->rc) {
		json_decref(body);
		return e->rc;
	}
	buf p;
	buf_init(&p);
	buf_puts(&p, path);
	return api_send(c, "POST", &p, body, idem, out, err);
}
