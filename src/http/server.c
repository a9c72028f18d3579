/*
 * server.c — libmicrohttpd glue: listening, request contexts, body limits,
 * routing, responses, suspension around engine commands, HTTP metrics.
 *
 * Life of a request (MHD calls on_request several times per request):
 *
 *   URI        before parsing, MHD hands over the raw request target: the
 *              context is created with the raw path, so that each path
 *              segment is percent-decoded on its own when routes match
 *              (MHD's own decoded URL has "%2F" turned into '/').
 *   1st call   headers only: finish the context, match the route, check the
 *              bearer token, check Content-Length against
 *              PAYLOAD_MAX_BYTES (413 at once, without reading the body).
 *   body calls append to the context's buffer; past the limit (or without
 *              a route) the rest is drained and discarded.
 *   last call  answer 413, 404 or 401 if so decided, else run the route
 *              handler. Reads answer at once. Mutations call
 *              http_submit(): the connection is suspended *before* the
 *              command reaches the engine (the engine may answer at once),
 *              and the engine's done callback resumes it.
 *   resumed    MHD calls on_request again: the finish callback answers.
 *   completed  NOTIFY_COMPLETED records the metrics and frees the context.
 *
 * In-flight commands are tracked in a list under one lock. Stopping the
 * server waits for them (bounded); any the engine still holds are detached:
 * their clients get a 503 and the command's state is freed by the engine's
 * done callback, which then no longer touches the server. MHD must never be
 * stopped with a suspended connection (it aborts), hence this care.
 */
#include "util/common.h"
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "arcrun.h"
#include "routes.h"
#include "../util/alloc.h"
#include "../util/clock.h"
#include "../util/log.h"
#include "../util/metrics.h"

#define CONNECTION_TIMEOUT_SECS 60
#define STOP_GRACE_US (10 * 1000000LL)
#define STOP_ABANDON_US (1000000LL)
#define MAX_EXTRA_HEADERS 4

typedef struct http_async http_async;

/* Requests with bodies at least this large hand freed memory back to the
 * system when they end, so one big submission does not leave the process
 * resident size high for the rest of its life. */
#define TRIM_AFTER_BODY_BYTES (4u << 20)

struct http_server {
	const weft_config *cfg;
	engine *eng;
	store *st;
	struct MHD_Daemon *daemon;
	http_async *inflight;      /* commands with the engine; g_async_lock */
	size_t resuming;           /* done callbacks between unlink and resume; g_async_lock */
	size_t abandoned;          /* resumed by stop, not yet completed; g_async_lock */
	bool stopping;             /* no new engine commands; g_async_lock */
};

struct http_async {
	http_request *req;         /* NULL once detached; g_async_lock */
	engine_cmd *cmd;
	void *state;
	http_finish_fn finish;
	void (*state_free)(void *state);
	http_server *srv;
	http_async *prev, *next;
};

struct http_request {
	http_server *srv;
	struct MHD_Connection *conn;
	http_method method;
	const http_route *route;
	char *raw_path;            /* request target up to '?', not decoded; NULL if not seen */
	bool begun;                /* the first on_request call has run */
	weft_id params[HTTP_MAX_PARAMS];
	char text_params[HTTP_MAX_PARAMS][HTTP_TEXT_PARAM_MAX + 1];
	buf body;
	bool big_body;              /* trim the heap when the request ends */
	bool too_large;
	bool denied;               /* no route, or no valid bearer token */
	bool responded;
	bool submitted;            /* http_submit() was called (MHD thread only) */
	unsigned status;
	int64_t started_us;
	char *hdr_name[MAX_EXTRA_HEADERS];
	char *hdr_value[MAX_EXTRA_HEADERS];
	size_t nheaders;
	/* Under g_async_lock: */
	http_async *async;
	bool async_done;           /* the engine answered; finish may run */
	bool async_abandoned;      /* the server stopped first */
};

/* Global rather than per server: a detached command's done callback may
 * run after its server is gone. */
static pthread_mutex_t g_async_lock = PTHREAD_MUTEX_INITIALIZER;

/* Every route table the server serves, in matching order. */
static const struct {
	const http_route *routes;
	const size_t *n;
} route_tables[] = {
	{ arcrun_routes, &arcrun_nroutes },
	{ ops_routes, &ops_nroutes },
};

/* ---- small helpers --------------------------------------------------- */

static const char *method_label(http_method m)
{
	switch (m) {
	case HTTP_GET: return "GET";
	case HTTP_POST: return "POST";
	case HTTP_PUT: return "PUT";
	case HTTP_PATCH: return "PATCH";
	case HTTP_DELETE: return "DELETE";
	default: return "OTHER";
	}
}

static http_method method_parse(const char *m)
{
	static const http_method all[] = { HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE };
	for (size_t i = 0; i < ARRAY_LEN(all); i++) {
		if (strcmp(m, method_label(all[i])) == 0)
			return all[i];
	}
	return HTTP_OTHER;
}

void http_json_str(buf *b, const char *s)
{
	if (s == NULL) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '"');
	const char *run = s;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(b, run, (size_t)(s - run));
		switch (c) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		case '\b': buf_puts(b, "\\b"); break;
		case '\f': buf_puts(b, "\\f"); break;
		default: buf_printf(b, "\\u%04x", c); break;
		}
		run = s + 1;
	}
	buf_append(b, run, (size_t)(s - run));
	buf_putc(b, '"');
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes one raw path segment (len bytes) into out (cap bytes,
 * NUL-terminated). A '%' not followed by two hex digits stays as it is,
 * as MHD does. Returns the decoded length, or SIZE_MAX when it does not
 * fit or contains a NUL. */
static size_t segment_decode(const char *seg, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = seg[i];
		int hi, lo;
		if (c == '%' && i + 2 < len && (hi = hex_value(seg[i + 1])) >= 0 &&
		    (lo = hex_value(seg[i + 2])) >= 0) {
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0' || n + 1 >= cap)
			return SIZE_MAX;
		out[n++] = c;
	}
	out[n] = '\0';
	return n;
}

/* Matches a raw path against a route's pattern. Each segment is decoded
 * on its own; "{...}" segments are UUIDs (into params) or, when the
 * route says so, text (into text). */
static bool route_match(const http_route *rt, const char *path, weft_id *params,
                        char text[][HTTP_TEXT_PARAM_MAX + 1])
{
	const char *p = rt->pattern, *u = path;
	size_t np = 0;
	while (*p != '\0' && *u != '\0') {
		if (*p != '/' || *u != '/')
			return false;
		p++;
		u++;
		size_t pl = strcspn(p, "/"), ul = strcspn(u, "/");
		char seg[HTTP_TEXT_PARAM_MAX + 1];
		size_t sl = segment_decode(u, ul, seg, sizeof(seg));
		if (*p == '{') {
			if (np >= HTTP_MAX_PARAMS || sl == SIZE_MAX || sl == 0)
				return false;
			if (rt->text_params & (1u << np))
				memcpy(text[np], seg, sl + 1);
			else if (sl != WEFT_ID_LEN || id_parse(seg, &params[np]) != 0)
				return false;
			np++;
		} else if (sl != pl || memcmp(p, seg, pl) != 0) {
			return false;
		}
		p += pl;
		u += ul;
	}
	return *p == '\0' && *u == '\0';
}

static const http_route *route_find(http_method m, const char *path, weft_id *params,
                                    char text[][HTTP_TEXT_PARAM_MAX + 1])
{
	for (size_t t = 0; t < ARRAY_LEN(route_tables); t++) {
		for (size_t i = 0; i < *route_tables[t].n; i++) {
			const http_route *rt = &route_tables[t].routes[i];
			if (rt->method == m && route_match(rt, path, params, text))
				return rt;
		}
	}
	return NULL;
}

static const http_route *route_at(size_t i)
{
	for (size_t t = 0; t < ARRAY_LEN(route_tables); t++) {
		if (i < *route_tables[t].n)
			return &route_tables[t].routes[i];
		i -= *route_tables[t].n;
	}
	return NULL;
}

size_t http_route_count(void)
{
	size_t n = 0;
	for (size_t t = 0; t < ARRAY_LEN(route_tables); t++)
		n += *route_tables[t].n;
	return n;
}

const char *http_route_method(size_t i)
{
	const http_route *rt = route_at(i);
	return rt != NULL ? method_label(rt->method) : NULL;
}

const char *http_route_pattern(size_t i)
{
	const http_route *rt = route_at(i);
	return rt != NULL ? rt->pattern : NULL;
}

bool http_route_resolve(const char *method, const char *raw_path, size_t *index,
                        char param0[HTTP_TEXT_PARAM_MAX + 1])
{
	weft_id params[HTTP_MAX_PARAMS];
	char text[HTTP_MAX_PARAMS][HTTP_TEXT_PARAM_MAX + 1];
	const http_route *rt = route_find(method_parse(method), raw_path, params, text);
	if (rt == NULL)
		return false;
	for (size_t i = 0, n = http_route_count(); i < n; i++) {
		if (route_at(i) == rt && index != NULL)
			*index = i;
	}
	if (param0 != NULL) {
		param0[0] = '\0';
		if (strchr(rt->pattern, '{') != NULL)
			snprintf(param0, HTTP_TEXT_PARAM_MAX + 1, "%s", (rt->text_params & 1u) ? text[0] : params[0].str);
	}
	return true;
}

/* Constant-time comparison of the presented bearer token. */
static bool authorized(const http_server *s, http_request *r)
{
	if (s->cfg->auth_token == NULL || r->route->open)
		return true;
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return false;
	const char *given = h + 7;
	size_t glen = strlen(given), tlen = strlen(s->cfg->auth_token);
	unsigned char diff = (unsigned char)(glen != tlen);
	for (size_t i = 0; i < tlen; i++)
		diff |= (unsigned char)(s->cfg->auth_token[i] ^ given[i < glen ? i : 0]);
	return diff == 0;
}

/* ---- request interface ----------------------------------------------- */

const weft_config *http_config(const http_request *r) { return r->srv->cfg; }
engine *http_engine(const http_request *r) { return r->srv->eng; }
store *http_store(const http_request *r) { return r->srv->st; }

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
	r->big_body |= r->body.cap >= TRIM_AFTER_BODY_BYTES;
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

const char *http_query_get(void *ctx, const char *key)
{
	return http_query(ctx, key);
}

void http_add_header(http_request *r, const char *name, const char *value)
{
	if (r->nheaders == MAX_EXTRA_HEADERS) {
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

void http_respond_error(http_request *r, unsigned status, const char *message)
{
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"error\":");
	http_json_str(&b, message);
	buf_printf(&b, ",\"status\":%u}", status);
	http_respond_json(r, status, &b);
	buf_release(&b);
}

/* ---- engine commands ------------------------------------------------- */

static void async_unlink(http_async *a)
{
	if (a->prev != NULL)
		a->prev->next = a->next;
	else
		a->srv->inflight = a->next;
	if (a->next != NULL)
		a->next->prev = a->prev;
	a->prev = a->next = NULL;
}

static void async_free(http_async *a)
{
	if (a->state_free != NULL)
		a->state_free(a->state);
	free(a);
}

/* Engine thread, after commit. */
static void on_engine_done(engine_cmd *cmd, void *arg)
{
	UNUSED(cmd);
	http_async *a = arg;
	http_server *s = a->srv;
	struct MHD_Connection *conn = NULL;
	pthread_mutex_lock(&g_async_lock);
	if (a->req != NULL) {
		async_unlink(a);
		a->req->async_done = true;
		conn = a->req->conn;
		s->resuming++;          /* the server waits for this before stopping MHD */
	}
	pthread_mutex_unlock(&g_async_lock);
	if (conn == NULL) {
		async_free(a);          /* detached: the server is gone or going */
		return;
	}
	/* The request stays suspended, hence alive, until this call. */
	MHD_resume_connection(conn);
	pthread_mutex_lock(&g_async_lock);
	s->resuming--;
	pthread_mutex_unlock(&g_async_lock);
}

void http_submit(http_request *r, engine_cmd *cmd, void *state, http_finish_fn finish,
                 void (*state_free)(void *state))
{
	http_server *s = r->srv;
	http_async *a = xcalloc(1, sizeof(*a));
	a->req = r;
	a->cmd = cmd;
	a->state = state;
	a->finish = finish;
	a->state_free = state_free;
	a->srv = s;
	cmd->done = on_engine_done;
	cmd->arg = a;
	r->submitted = true;

	/* Suspend first: the done callback may run before engine_submit
	 * returns, and resuming must follow suspending. */
	MHD_suspend_connection(r->conn);

	pthread_mutex_lock(&g_async_lock);
	if (s->stopping) {
		/* Too late for the engine: answer 503 from the resumed call. */
		r->async_abandoned = true;
		s->abandoned++;
		s->resuming++;
		pthread_mutex_unlock(&g_async_lock);
		async_free(a);
		MHD_resume_connection(r->conn);
		pthread_mutex_lock(&g_async_lock);
		s->resuming--;
		pthread_mutex_unlock(&g_async_lock);
		return;
	}
	a->next = s->inflight;
	if (a->next != NULL)
		a->next->prev = a;
	s->inflight = a;
	r->async = a;
	r->async_done = false;
	pthread_mutex_unlock(&g_async_lock);

	engine_submit(s->eng, cmd);
}

/* Called when MHD gives a suspended request back. */
static void finish_async(http_request *r)
{
	pthread_mutex_lock(&g_async_lock);
	http_async *a = r->async;
	bool done = r->async_done, abandoned = r->async_abandoned;
	if (done)
		r->async = NULL;
	pthread_mutex_unlock(&g_async_lock);

	if (abandoned) {
		http_respond_text(r, 503, "Service is shutting down");
	} else if (a != NULL && done) {
		a->finish(r, a->cmd, a->state);
		async_free(a);
		if (!r->responded)
			http_respond_error(r, 500, "Internal server error: no response");
	}
}

/* ---- MHD callbacks --------------------------------------------------- */

static http_request *request_alloc(http_server *s, struct MHD_Connection *conn)
{
	http_request *r = xcalloc(1, sizeof(*r));
	r->srv = s;
	r->conn = conn;
	r->started_us = clock_mono_us();
	buf_init(&r->body);
	return r;
}

/* MHD_OPTION_URI_LOG_CALLBACK: the raw request target, before MHD decodes
 * it. The context returned here is what on_request and on_completed get. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	http_request *r = request_alloc(cls, conn);
	r->raw_path = xstrndup(uri, strcspn(uri, "?#"));
	return r;
}

/* The first on_request call: method and route (r may be NULL when the URI
 * callback did not run; MHD's decoded url is used then). */
static http_request *request_begin(http_server *s, http_request *r, struct MHD_Connection *conn,
                                   const char *url, const char *method)
{
	if (r == NULL)
		r = request_alloc(s, conn);
	r->begun = true;
	r->method = method_parse(method);
	r->route = route_find(r->method, r->raw_path != NULL ? r->raw_path : url, r->params, r->text_params);
	return r;
}

static void request_free(http_request *r)
{
	bool trim = r->big_body || r->body.cap >= TRIM_AFTER_BODY_BYTES;
	buf_release(&r->body);
	free(r->raw_path);
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->hdr_name[i]);
		free(r->hdr_value[i]);
	}
	free(r);
	if (trim)
		malloc_trim(0);
}

static void respond_too_large(http_request *r)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "Payload too large: limit is %zu bytes", r->srv->cfg->payload_max_bytes);
	http_respond_error(r, 413, msg);
}

static bool content_length_too_large(http_request *r)
{
	const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl == NULL)
		return false;
	errno = 0;
	char *end;
	unsigned long long n = strtoull(cl, &end, 10);
	if (end == cl)
		return false;   /* MHD itself rejects malformed lengths */
	if (errno == ERANGE || n > r->srv->cfg->payload_max_bytes)
		return true;
	/* The declared length is allowed: take it in one allocation instead of
	 * doubling towards it (a 20 MB batch would otherwise peak at 32 MB). */
	buf_reserve(&r->body, (size_t)n);
	return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
	UNUSED(version);
	http_server *s = cls;
	http_request *r = *con_cls;

	if (r == NULL || !r->begun) {
		r = request_begin(s, r, conn, url, method);
		*con_cls = r;
		/* Only an oversized body is refused before it is read: answering
		 * early makes MHD close the connection. */
		r->denied = r->route == NULL || !authorized(s, r);
		if (content_length_too_large(r))
			respond_too_large(r);
		return MHD_YES;
	}

	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->responded || r->too_large || r->denied)
			return MHD_YES;
		if (n > s->cfg->payload_max_bytes - MIN(r->body.len, s->cfg->payload_max_bytes)) {
			r->too_large = true;
			buf_release(&r->body);
			buf_init(&r->body);
			respond_too_large(r);
		} else {
			buf_append(&r->body, upload_data, n);
		}
		return MHD_YES;
	}

	if (r->responded)
		return MHD_YES;
	if (r->too_large) {
		respond_too_large(r);
		return MHD_YES;
	}
	if (r->route == NULL) {
		http_respond_text(r, 404, "Not Found");
		return MHD_YES;
	}
	if (r->denied) {
		http_respond_error(r, 401, "Unauthorized: valid bearer token required");
		return MHD_YES;
	}
	pthread_mutex_lock(&g_async_lock);
	bool resumed = r->async != NULL || r->async_abandoned;
	pthread_mutex_unlock(&g_async_lock);
	if (resumed) {
		finish_async(r);
		return MHD_YES;
	}

	r->route->handler(r);
	if (!r->responded && !r->submitted) {
		log_error("http", "%s %s gave no response", method, r->route->pattern);
		http_respond_error(r, 500, "Internal server error: no response");
	}
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	UNUSED(cls);
	UNUSED(conn);
	UNUSED(toe);
	http_request *r = *con_cls;
	if (r == NULL)
		return;
	*con_cls = NULL;

	if (r->responded) {
		char labels[160];
		double secs = (double)(clock_mono_us() - r->started_us) / 1e6;
		snprintf(labels, sizeof(labels), "endpoint=\"%s\",method=\"%s\",status=\"%u\"",
		         r->route != NULL ? r->route->pattern : "unmatched", method_label(r->method), r->status);
		metrics_inc("api_http_requests_total", labels, 1);
		metrics_observe("api_http_requests_duration_seconds", labels, secs < 0 ? 0 : secs);
	}

	http_async *free_now = NULL;
	pthread_mutex_lock(&g_async_lock);
	if (r->async_abandoned)
		r->srv->abandoned--;
	http_async *a = r->async;
	if (a != NULL) {
		if (r->async_done) {
			free_now = a;
		} else {
			async_unlink(a);
			a->req = NULL;       /* the engine's done callback frees it */
		}
		r->async = NULL;
	}
	pthread_mutex_unlock(&g_async_lock);
	if (free_now != NULL)
		async_free(free_now);
	request_free(r);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	UNUSED(cls);
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("http", "%s", msg);
}

/* ---- start / stop ---------------------------------------------------- */

/* A listening socket on every interface: IPv6 dual-stack, or IPv4 when
 * IPv6 is unavailable. -1 with err set on failure. */
static int open_listener(int port, char *err, size_t errlen)
{
	int on = 1, off = 0, e;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		struct sockaddr_in6 a6;
		memset(&a6, 0, sizeof(a6));
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons((uint16_t)port);
		a6.sin6_addr = in6addr_any;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0 && listen(fd, SOMAXCONN) == 0)
			return fd;
		e = errno;
		close(fd);
		if (e != EADDRNOTAVAIL && e != EAFNOSUPPORT)
			goto fail;
	} else if (errno != EAFNOSUPPORT) {
		e = errno;
		goto fail;
	}

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		goto fail;
	}
	struct sockaddr_in a4;
	memset(&a4, 0, sizeof(a4));
	a4.sin_family = AF_INET;
	a4.sin_port = htons((uint16_t)port);
	a4.sin_addr.s_addr = htonl(INADDR_ANY);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)) == 0 && listen(fd, SOMAXCONN) == 0)
		return fd;
	e = errno;
	close(fd);

fail:
	snprintf(err, errlen, "cannot listen on port %d: %s%s", port, strerror(e),
	         e == EADDRINUSE ? " (is another server running? choose another port with --port or PORT)" : "");
	return -1;
}

http_server *http_server_start(const weft_config *cfg, engine *eng, store *st, char *err, size_t errlen)
{
	if (cfg->port < 0 || cfg->port > 65535) {
		snprintf(err, errlen, "invalid port %d", cfg->port);
		return NULL;
	}
	int fd = open_listener(cfg->port, err, errlen);
	if (fd < 0)
		return NULL;

	metrics_define("api_http_requests_total", METRIC_COUNTER, "Total number of HTTP requests");
	/* The default buckets are Prometheus's, as actix-web-prom uses. */
	metrics_define("api_http_requests_duration_seconds", METRIC_HISTOGRAM,
	               "HTTP request duration in seconds for all requests");
	ops_define_metrics();

	http_server *s = xcalloc(1, sizeof(*s));
	s->cfg = cfg;
	s->eng = eng;
	s->st = st;

	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	                     MHD_USE_ERROR_LOG | MHD_USE_ITC;
	unsigned int threads = cfg->http_threads > 1 ? (unsigned int)cfg->http_threads : 1;
	unsigned int conns = cfg->max_connections > 0 ? (unsigned int)cfg->max_connections : 1024;
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
	                             MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	                             MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	                             MHD_OPTION_THREAD_POOL_SIZE, threads,
	                             MHD_OPTION_CONNECTION_LIMIT, conns,
	                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_SECS,
	                             MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	                             MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
	                             MHD_OPTION_END);
	if (s->daemon == NULL) {
		snprintf(err, errlen, "cannot start the HTTP server on port %d (see the log above)", cfg->port);
		close(fd);
		free(s);
		return NULL;
	}
	log_info("http", "listening on port %d (%u threads)", cfg->port, threads);
	return s;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

void http_server_stop(http_server *s)
{
	if (s == NULL)
		return;
	MHD_socket fd = MHD_quiesce_daemon(s->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);

	int64_t deadline = clock_mono_us() + STOP_GRACE_US;
	for (;;) {
		pthread_mutex_lock(&g_async_lock);
		bool idle = s->inflight == NULL;
		pthread_mutex_unlock(&g_async_lock);
		if (idle || clock_mono_us() >= deadline)
			break;
		sleep_ms(10);
	}

	/* Detach what the engine still holds; resume those connections
	 * outside the lock, as the done callbacks do. */
	struct MHD_Connection **conns = NULL;
	size_t abandoned = 0;
	pthread_mutex_lock(&g_async_lock);
	s->stopping = true;
	for (http_async *a = s->inflight; a != NULL; a = a->next)
		abandoned++;
	if (abandoned > 0)
		conns = xcalloc(abandoned, sizeof(*conns));
	for (size_t i = 0; s->inflight != NULL; i++) {
		http_async *a = s->inflight;
		http_request *r = a->req;
		async_unlink(a);
		a->req = NULL;
		r->async = NULL;
		r->async_abandoned = true;
		conns[i] = r->conn;
	}
	s->abandoned = abandoned;
	pthread_mutex_unlock(&g_async_lock);
	for (size_t i = 0; i < abandoned; i++)
		MHD_resume_connection(conns[i]);
	free(conns);

	/* Done callbacks that already unlinked themselves finish resuming. */
	for (;;) {
		pthread_mutex_lock(&g_async_lock);
		bool settled = s->resuming == 0;
		pthread_mutex_unlock(&g_async_lock);
		if (settled)
			break;
		sleep_ms(1);
	}

	if (abandoned > 0) {
		log_warn("http", "stopping with %zu requests still waiting for the engine", abandoned);
		/* Give their 503s a moment to go out before the connections close. */
		deadline = clock_mono_us() + STOP_ABANDON_US;
		for (;;) {
			pthread_mutex_lock(&g_async_lock);
			bool gone = s->abandoned == 0;
			pthread_mutex_unlock(&g_async_lock);
			if (gone || clock_mono_us() >= deadline)
				break;
			sleep_ms(10);
		}
	}

	MHD_stop_daemon(s->daemon);
	free(s);
}
