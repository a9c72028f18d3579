/*
 * respond.c — the request's accessors, responses, the error object and
 * the one mapping of weft's error codes to HTTP statuses (see http.h).
 */
#include "util/common.h"
#include "http/request.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <strings.h>

#include "core/error.h"
#include "http/tokens.h"
#include "util/alloc.h"
#include "util/log.h"

/* ---- the error object ---------------------------------------------------- */

void http_error_init(http_error *e)
{
	memset(e, 0, sizeof(*e));
	errlist_init(&e->details);
}

void http_error_release(http_error *e)
{
	errlist_release(&e->details);
	http_error_init(e);
}

int http_error_set(http_error *e, int code, http_error_kind kind, const char *param, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	e->kind = kind;
	e->param = param;
	return code;
}

int http_error_detail(http_error *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	errlist_addv(&e->details, fmt, ap);
	va_end(ap);
	e->kind = HTTP_ERR_FIELDS;
	return WEFT_EINVALID;
}

void http_error_state(http_error *e, task_status s)
{
	e->has_state = true;
	e->state = s;
}

void http_error_state_named(http_error *e, const char *name)
{
	snprintf(e->state_name, sizeof(e->state_name), "%s", name);
}

int http_error_code(http_error *e, int code, const char *reason)
{
	e->code = reason;
	return code;
}

unsigned http_status_of(int code)
{
	switch (code) {
	case 0: return 200;
	case WEFT_EINVALID: return 400;
	case WEFT_EUNAUTHORIZED: return 401;
	case WEFT_EFORBIDDEN: return 403;
	case WEFT_ENOTFOUND: return 404;
	case WEFT_ECONFLICT: return 409;
	case WEFT_ETOOLARGE: return 413;
	case WEFT_EREUSED: return 422;
	case WEFT_EUNAVAILABLE:
	case WEFT_EINDOUBT:
	case WEFT_EOVERLOADED:
	case WEFT_ERETRY: return 503;
	default: return 500;
	}
}

unsigned http_retry_after_of(int code)
{
	/* An overloaded engine drains its queue within a second or so; a lost
	 * lock race can be retried at once. */
	return code == WEFT_EOVERLOADED || code == WEFT_ERETRY ? 1 : 0;
}

/* ---- accessors -------------------------------------------------------------- */

const weft_config *http_config(const http_request *r) { return r->cfg; }
engine *http_engine(const http_request *r) { return r->eng; }
store *http_store(const http_request *r) { return r->st; }
http_error *http_err(http_request *r) { return &r->err; }

const weft_id *http_param(const http_request *r, size_t i)
{
	return i < HTTP_MAX_PARAMS ? &r->params[i] : NULL;
}

const char *http_param_text(const http_request *r, size_t i)
{
	if (i >= HTTP_MAX_PARAMS || r->route == NULL || !(r->route->text_params & (1u << i)))
		return NULL;
	return r->text_params[i];
}

void http_body_release(http_request *r)
{
	r->big_body |= r->body.cap >= HTTP_TRIM_AFTER_BODY_BYTES;
	buf_release(&r->body);
	buf_init(&r->body);
}

const char *http_body(const http_request *r, size_t *len)
{
	*len = r->body.len;
	return r->body.data;
}

const char *http_query(http_request *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

typedef struct query_each_ctx {
	http_query_each_fn fn;
	void *ctx;
} query_each_ctx;

static enum MHD_Result query_each_one(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	UNUSED(kind);
	query_each_ctx *q = cls;
	q->fn(q->ctx, key, value);
	return MHD_YES;
}

void http_query_each(http_request *r, http_query_each_fn fn, void *ctx)
{
	query_each_ctx q = { fn, ctx };
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_each_one, &q);
}

const char *http_header_in(http_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static const char *query_get(void *ctx, const char *key)
{
	return http_query(ctx, key);
}

http_query_src http_query_src_of(http_request *r)
{
	return (http_query_src){ query_get, r };
}

store_conn *http_reader(http_request *r)
{
	store_conn *c = store_reader_acquire(r->st);
	if (c == NULL)
		http_fail(r, WEFT_EUNAVAILABLE);
	return c;
}

store_conn *http_reader_after(http_request *r, int rc)
{
	if (rc == 0)
		return http_reader(r);
	http_fail(r, rc);
	return NULL;
}

/* ---- who is asking ------------------------------------------------------------ */

const http_token *http_token_of(const http_request *r)
{
	return r->token;
}

const char *http_actor(const http_request *r)
{
	return r->token != NULL ? r->token->actor : "api";
}

bool http_ns_visible(const http_request *r, const char *ns)
{
	return r->token == NULL || token_sees(r->token, ns);
}

bool http_ns_all(const http_request *r)
{
	return r->token == NULL || r->token->all_namespaces;
}

bool http_admin(const http_request *r)
{
	return r->token == NULL || r->token->admin;
}

const char *http_default_ns(const http_request *r)
{
	if (r->token != NULL && !r->token->all_namespaces && r->token->nnamespaces == 1)
		return r->token->namespaces[0];
	return NAMESPACE_DEFAULT;
}

/* ---- responses ------------------------------------------------------------ */

void http_add_header(http_request *r, const char *name, const char *value)
{
	/* A failure answered twice (refused while the body was still
	 * arriving) sets its headers twice: keep one of each. */
	for (size_t i = 0; i < r->nheaders; i++) {
		if (strcasecmp(r->hdr_name[i], name) == 0) {
			free(r->hdr_value[i]);
			r->hdr_value[i] = xstrdup(value);
			return;
		}
	}
	if (r->nheaders == HTTP_MAX_EXTRA_HEADERS) {
		log_error("http", "too many response headers for %s", r->route ? r->route->pattern : "?");
		return;
	}
	r->hdr_name[r->nheaders] = xstrdup(name);
	r->hdr_value[r->nheaders] = xstrdup(value);
	r->nheaders++;
}

void http_respond(http_request *r, unsigned status, const char *content_type, char *body, size_t len)
{
	if (r->responded) {
		log_error("http", "second response for one request (%u) ignored", status);
		free(body);
		return;
	}
	struct MHD_Response *resp;
	if (body != NULL && len > 0) {
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	} else {
		free(body);
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (resp == NULL) {
		log_error("http", "cannot create a response");
		return;
	}
	if (content_type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	for (size_t i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
	/* MHD refuses while a request body is still arriving; the caller then
	 * answers again on the last call. */
	if (MHD_queue_response(r->conn, status, resp) == MHD_YES) {
		r->responded = true;
		r->status = status;
	}
	MHD_destroy_response(resp);
}

void http_respond_text(http_request *r, unsigned status, const char *text)
{
	size_t len = strlen(text);
	http_respond(r, status, "text/plain; charset=utf-8", xstrndup(text, len), len);
}

void http_respond_json(http_request *r, unsigned status, buf *b)
{
	size_t len;
	char *data = buf_detach(b, &len);
	http_respond(r, status, "application/json", data, len);
}

void http_respond_empty(http_request *r, unsigned status)
{
	http_respond(r, status, NULL, NULL, 0);
}

void http_respond_json_array(http_request *r, unsigned status, const void *items, size_t n, size_t size,
                             http_put_fn put)
{
	buf b;
	buf_init(&b);
	buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		put(&b, (const char *)items + i * size);
	}
	buf_putc(&b, ']');
	http_respond_json(r, status, &b);
	buf_release(&b);
}

/* ---- failures ----------------------------------------------------------------- */

void http_fail(http_request *r, int code)
{
	unsigned retry = http_retry_after_of(code);
	if (retry > 0) {
		char secs[16];
		snprintf(secs, sizeof(secs), "%u", retry);
		http_add_header(r, "Retry-After", secs);
	}
	unsigned status = http_status_of(code);
	if (r->api != NULL) {
		r->api->fail(r, status, code, &r->err);
	} else {
		http_respond_text(r, status, weft_strerror(code));
	}
	if (!r->responded)
		log_error("http", "no answer for a failure (%s)", weft_errname(code));
}

void http_fail_server(http_request *r, int code, const char *what)
{
	switch (code) {
	case WEFT_ESTORE:
	case WEFT_EUNAVAILABLE:
	case WEFT_EOVERLOADED:
	case WEFT_ERETRY:
	case WEFT_EINTERNAL:
		http_fail(r, code);
		break;
	default:
		log_error("http", "unexpected outcome %s (%d) of %s", weft_errname(code), code, what);
		http_fail(r, WEFT_EINTERNAL);
		break;
	}
}
