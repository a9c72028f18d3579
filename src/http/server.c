/*
 * server.c — libmicrohttpd glue: listening, request contexts, body limits,
 * authentication, suspension around engine commands, HTTP metrics.
 *
 * Life of a request (MHD calls on_request several times per request):
 *
 *   URI        before parsing, MHD hands over the raw request target: the
 *              context is created with the raw path, so that each path
 *              segment is percent-decoded on its own when routes match
 *              (MHD's own decoded URL has "%2F" turned into '/').
 *   1st call   headers only: finish the context, match the route, check the
 *              bearer token (tokens.h) and whether the route's API admits
 *              it, check Content-Length against the API's body limit
 *              (413 at once, without reading the body),
 *              refuse ambiguous framing (400 at once, then close).
 *   body calls append to the context's buffer; past the limit (or once the
 *              request is refused) the rest is drained and discarded.
 *   last call  answer a refusal (no route, no token, too large), else run
 *              the route handler. Reads answer at once. Mutations call
 *              http_submit(), which only queues the command on the request:
 *              the call returns without an answer.
 *   again      MHD calls again at once (a request without an answer stays
 *              ready): the connection is suspended *before* the command
 *              reaches the engine (the engine may answer at once), and the
 *              engine's done callback resumes it.
 *   resumed    MHD calls on_request again: the finish callback answers.
 *
 * Why suspend from a second call: libmicrohttpd (0.9.75) handles a resumed
 * connection by reading from it first when it was waiting for data at the
 * time it was suspended, as it is during the call that completes the
 * request. A client that half-closed its side after sending the request
 * (shutdown(SHUT_WR), as some proxies do) is then read as gone, and its
 * answer dropped although the command committed. Once a call has returned
 * without an answer, the connection waits for the application instead, and
 * suspending it from the next call keeps it so: the resumed connection
 * writes its answer, and only then sees the end of the stream.
 *   completed  NOTIFY_COMPLETED records the metrics and frees the context.
 *
 * In-flight commands are tracked in a list under one lock. Stopping the
 * server waits for them (bounded); any the engine still holds are detached:
 * their clients get WEFT_EUNAVAILABLE and the command's state is freed by
 * the engine's done callback, which then no longer touches the server.
 * MHD must never be stopped with a suspended connection (it aborts), hence
 * this care.
 */
#include "util/common.h"
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "http/acceptor.h"
#include "http/change_feed.h"
#include "http/hangup.h"
#include "http/stream.h"
#include "http/request.h"
#include "http/router.h"
#include "http/tokens.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"

#define STOP_GRACE_US (10 * 1000000LL)
#define STOP_ABANDON_US (1000000LL)

struct http_server {
	const weft_config *cfg;
	engine *eng;
	store *st;
	struct MHD_Daemon *daemon;
	acceptor *front;
	http_async *inflight;      /* commands with the engine; g_async_lock */
	hangup_watch *hangups;     /* the sockets of suspended long polls */
	uint64_t watch_keys;       /* the last key given to a watch; g_async_lock */
	size_t resuming;           /* done callbacks between unlink and resume; g_async_lock */
	size_t abandoned;          /* resumed by stop, not yet completed; g_async_lock */
	bool stopping;             /* no new engine commands; g_async_lock */
	change_feed *feed;         /* made by the first change stream; g_feed_lock */
};

static pthread_mutex_t g_feed_lock = PTHREAD_MUTEX_INITIALIZER;

change_feed *http_change_feed(http_request *r, void (*wake)(void))
{
	http_server *s = r->srv;
	pthread_mutex_lock(&g_feed_lock);
	if (s->feed == NULL)
		s->feed = change_feed_new(s->eng, s->st, wake);
	change_feed *f = s->feed;
	pthread_mutex_unlock(&g_feed_lock);
	return f;
}

struct http_async {
	http_request *req;         /* NULL once detached; g_async_lock */
	bool long_poll;            /* stopping does not wait for it */
	int watch_fd;              /* watched for a hang-up (hangup.h), or -1; g_async_lock */
	uint64_t watch_key;
	engine_cmd *cmd;
	/* The command's Idempotency-Key and fingerprint: copies, since a
	 * detached command outlives its request. */
	char idem_key[HTTP_IDEMPOTENCY_KEY_MAX + 1];
	char idem_fingerprint[65];
	void *state;
	http_finish_fn finish;
	void (*state_free)(void *state);
	http_server *srv;
	http_async *prev, *next;
};

/* Global rather than per server: a detached command's done callback may
 * run after its server is gone. */
static pthread_mutex_t g_async_lock = PTHREAD_MUTEX_INITIALIZER;

/* Authenticates the request with its bearer token: true, with r->token
 * set (NULL when no token is configured or the route is open), or false.
 * The token is compared with every configured one in constant time, then
 * looked up among the API's (tokens.h). */
static bool authorized(http_request *r)
{
	const token_table *t = http_tokens_current();
	r->token = NULL;
	if (t == NULL || r->route->open)
		return true;
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return false;
	r->token = token_table_match(t, h + 7, strlen(h + 7));
	if (r->token == NULL)
		r->token = http_api_token_match(r->srv->st, r->srv->eng, h + 7, strlen(h + 7));
	return r->token != NULL;
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

/* Under g_async_lock. */
static void unwatch(http_async *a)
{
	if (a->watch_fd >= 0)
		hangup_watch_remove(a->srv->hangups, a->watch_fd);
	a->watch_fd = -1;
}

/* The watcher's thread: the client of a suspended long poll went away.
 * Its command is looked up by key, so a request that ended meanwhile is
 * never touched. */
static void on_hangup(void *arg, uint64_t key)
{
	http_server *s = arg;
	pthread_mutex_lock(&g_async_lock);
	for (http_async *a = s->inflight; a != NULL; a = a->next)
		if (a->watch_fd >= 0 && a->watch_key == key) {
			unwatch(a);
			engine_abandon(s->eng, a->cmd);
			break;
		}
	pthread_mutex_unlock(&g_async_lock);
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
		unwatch(a);
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
	a->long_poll = r->long_poll;
	a->watch_fd = -1;
	cmd->done = on_engine_done;
	cmd->arg = a;
	if (r->idem_key[0] != '\0') {
		snprintf(a->idem_key, sizeof a->idem_key, "%s", r->idem_key);
		snprintf(a->idem_fingerprint, sizeof a->idem_fingerprint, "%s", r->idem_fingerprint);
		cmd->idem_key = a->idem_key;
		cmd->idem_fingerprint = a->idem_fingerprint;
	}
	r->submitted = true;
	r->queued = a;
}

void http_idempotency_ignore(http_request *r)
{
	r->idem_key[0] = '\0';
}

void http_long_poll(http_request *r)
{
	r->long_poll = true;
}

void http_after_submit(http_request *r, void (*fn)(void *arg), void *arg)
{
	r->after_submit = fn;
	r->after_submit_arg = arg;
}

/* Runs the http_after_submit() work, once. */
static void run_after_submit(http_request *r)
{
	void (*fn)(void *) = r->after_submit;
	r->after_submit = NULL;
	if (fn != NULL)
		fn(r->after_submit_arg);
}

/* A long poll the engine still holds: its socket is watched, so that the
 * command is abandoned if the client goes away (hangup.h). */
static void watch_hangup(http_server *s, http_request *r, http_async *a)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return;
	pthread_mutex_lock(&g_async_lock);
	if (r->async == a && !r->async_done && a->req != NULL) {
		a->watch_key = ++s->watch_keys;
		if (hangup_watch_add(s->hangups, ci->connect_fd, a->watch_key) == 0)
			a->watch_fd = ci->connect_fd;
		else
			log_warn("http", "cannot watch a long poll's connection: %s", strerror(errno));
	}
	pthread_mutex_unlock(&g_async_lock);
}

/* The call after http_submit(): suspends the connection and hands the
 * queued command to the engine (see the top of this file). */
static void submit_queued(http_request *r)
{
	http_server *s = r->srv;
	http_async *a = r->queued;
	r->queued = NULL;

	/* Suspend first: the done callback may run before engine_submit
	 * returns, and resuming must follow suspending. */
	MHD_suspend_connection(r->conn);

	pthread_mutex_lock(&g_async_lock);
	if (s->stopping) {
		/* Too late for the engine: answered from the resumed call. */
		r->async_abandoned = true;
		s->abandoned++;
		s->resuming++;
		pthread_mutex_unlock(&g_async_lock);
		async_free(a);
		MHD_resume_connection(r->conn);
		pthread_mutex_lock(&g_async_lock);
		s->resuming--;
		pthread_mutex_unlock(&g_async_lock);
		run_after_submit(r);
		return;
	}
	a->next = s->inflight;
	if (a->next != NULL)
		a->next->prev = a;
	s->inflight = a;
	r->async = a;
	r->async_done = false;
	pthread_mutex_unlock(&g_async_lock);

	engine_submit(s->eng, a->cmd);
	if (a->long_poll)
		watch_hangup(s, r, a);
	run_after_submit(r);
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
		http_error_set(&r->err, WEFT_EUNAVAILABLE, HTTP_ERR_RULE, NULL, "Service is shutting down");
		http_fail(r, WEFT_EUNAVAILABLE);
	} else if (a != NULL && done && a->cmd->result == WEFT_EREUSED) {
		http_error_set(&r->err, WEFT_EREUSED, HTTP_ERR_RULE, NULL,
		               "Idempotency-Key '%s' was already used with a different request", a->idem_key);
		http_fail(r, WEFT_EREUSED);
		async_free(a);
	} else if (a != NULL && done) {
		if (a->cmd->replayed)
			http_add_header(r, "Idempotent-Replayed", "true");
		a->finish(r, a->cmd, a->state);
		async_free(a);
		if (!r->responded) {
			log_error("http", "%s gave no response", r->route->pattern);
			http_error_set(&r->err, WEFT_EINTERNAL, HTTP_ERR_RULE, NULL, "no response");
			http_fail(r, WEFT_EINTERNAL);
		}
	}
}

/* ---- MHD callbacks --------------------------------------------------- */

static http_request *request_alloc(http_server *s, struct MHD_Connection *conn)
{
	http_request *r = xcalloc(1, sizeof(*r));
	r->srv = s;
	r->cfg = s->cfg;
	r->eng = s->eng;
	r->st = s->st;
	r->conn = conn;
	r->started_us = clock_mono_us();
	buf_init(&r->body);
	http_error_init(&r->err);
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
	r->method = http_method_parse(method);
	const char *path = r->raw_path != NULL ? r->raw_path : url;
	r->route = router_find(r->method, path, &r->api, r->params, r->text_params);
	if (r->route == NULL)
		r->api = router_api_for(path);
	r->body_max = r->api != NULL && r->api->body_max != NULL ? r->api->body_max(r->cfg) : r->cfg->payload_max_bytes;
	return r;
}

static void request_free(http_request *r)
{
	bool trim = r->big_body || r->body.cap >= HTTP_TRIM_AFTER_BODY_BYTES;
	buf_release(&r->body);
	free(r->raw_path);
	http_error_release(&r->err);
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->hdr_name[i]);
		free(r->hdr_value[i]);
	}
	free(r);
	if (trim)
		malloc_trim(0);
}

/* Refuses the request with code, at once when MHD allows it (an answer
 * before the body makes MHD close the connection after it), else once the
 * body is drained. */
static void refuse(http_request *r, int code)
{
	r->refused = code;
	buf_release(&r->body);
	buf_init(&r->body);
	http_fail(r, code);
}

static void refuse_too_large(http_request *r)
{
	http_error_set(&r->err, WEFT_ETOOLARGE, HTTP_ERR_RULE, NULL, "limit is %zu bytes", r->body_max);
	refuse(r, WEFT_ETOOLARGE);
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
	if (errno == ERANGE || n > r->body_max)
		return true;
	/* The declared length is allowed: take it in one allocation instead of
	 * doubling towards it (a 20 MB batch would otherwise peak at 32 MB). */
	buf_reserve(&r->body, (size_t)n);
	return false;
}

/* What the framing headers of a request say. */
typedef struct framing {
	unsigned content_lengths, transfer_encodings;
	bool chunked;                   /* the one Transfer-Encoding is "chunked" */
} framing;

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	UNUSED(kind);
	framing *f = cls;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		f->content_lengths++;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->transfer_encodings++;
		f->chunked = value != NULL && strcasecmp(value, "chunked") == 0;
	}
	return MHD_YES;
}

/* Why the body's length is ambiguous, or NULL when it is not. Where two
 * parties could read it differently (a proxy in front and this server), a
 * request could be smuggled inside another, so these are refused rather
 * than resolved: several Content-Length headers, even equal ones (one is
 * all HTTP needs), Content-Length with Transfer-Encoding, several
 * Transfer-Encodings, or one other than chunked (a body that only ends
 * when the connection does). */
static const char *ambiguous_framing(struct MHD_Connection *conn)
{
	framing f = { 0, 0, false };
	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
	if (f.content_lengths > 1)
		return "more than one Content-Length header";
	if (f.content_lengths > 0 && f.transfer_encodings > 0)
		return "both Content-Length and Transfer-Encoding";
	if (f.transfer_encodings > 1)
		return "more than one Transfer-Encoding header";
	if (f.transfer_encodings == 1 && !f.chunked)
		return "a Transfer-Encoding other than chunked";
	return NULL;
}

/* The Idempotency-Key of a mutating request into r->idem_key: true when
 * it has none or a valid one (1 to HTTP_IDEMPOTENCY_KEY_MAX visible ASCII
 * characters; a quoted string, as the header's specification writes it,
 * counts without its quotes); false after recording why not. */
static bool idempotency_key_read(http_request *r)
{
	r->idem_key[0] = '\0';
	if (r->method != HTTP_POST && r->method != HTTP_PUT && r->method != HTTP_PATCH && r->method != HTTP_DELETE)
		return true;
	const char *v = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key");
	if (v == NULL)
		return true;
	size_t len = strlen(v);
	if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
		v++;
		len -= 2;
	}
	bool ok = len >= 1 && len <= HTTP_IDEMPOTENCY_KEY_MAX;
	for (size_t i = 0; ok && i < len; i++)
		ok = v[i] >= 0x21 && v[i] <= 0x7e;
	if (!ok) {
		http_error_set(&r->err, WEFT_EINVALID, HTTP_ERR_RULE, NULL,
		               "Idempotency-Key must be 1 to %d visible ASCII characters", HTTP_IDEMPOTENCY_KEY_MAX);
		return false;
	}
	memcpy(r->idem_key, v, len);
	r->idem_key[len] = '\0';
	return true;
}

/* The fingerprint of a request with an Idempotency-Key: hex SHA-256 of its
 * method, path and body, so that a key repeated with another request is
 * told apart from a retry of the same one. */
static void idempotency_fingerprint(http_request *r, const char *method, const char *url)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const char *path = r->raw_path != NULL ? r->raw_path : url;
	bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	          EVP_DigestUpdate(ctx, method, strlen(method) + 1) == 1 &&
	          EVP_DigestUpdate(ctx, path, strlen(path) + 1) == 1 &&
	          EVP_DigestUpdate(ctx, r->body.data ? r->body.data : "", r->body.len) == 1 &&
	          EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		mdlen = 0;      /* not expected; an empty fingerprint still works, less strictly */
	for (unsigned i = 0; i < mdlen && 2 * i + 2 < sizeof r->idem_fingerprint; i++)
		snprintf(r->idem_fingerprint + 2 * i, 3, "%02x", md[i]);
	r->idem_fingerprint[2 * mdlen] = '\0';
}

/* The first call: decides whether the request is refused before its body
 * is read. An oversized body and ambiguous framing are answered at once;
 * after the latter the connection closes, since where this request ends,
 * and the next one starts, is not known. */
static void request_check(http_request *r)
{
	const char *why = ambiguous_framing(r->conn);
	if (why != NULL) {
		http_error_set(&r->err, WEFT_EINVALID, HTTP_ERR_RULE, NULL, "ambiguous message framing: %s", why);
		http_add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
		refuse(r, WEFT_EINVALID);
		return;
	}
	if (r->route == NULL) {
		r->refused = WEFT_ENOTFOUND;
	} else if (!authorized(r)) {
		http_error_set(&r->err, WEFT_EUNAUTHORIZED, HTTP_ERR_RULE, NULL, "valid bearer token required");
		r->refused = WEFT_EUNAUTHORIZED;
	} else if (r->api->admits != NULL && !r->api->admits(r)) {
		http_error_set(&r->err, WEFT_EFORBIDDEN, HTTP_ERR_RULE, NULL, "this token may not use these routes");
		r->refused = WEFT_EFORBIDDEN;
	} else if (!idempotency_key_read(r)) {
		r->refused = WEFT_EINVALID;
	} else if (r->api->check_query != NULL) {
		r->refused = r->api->check_query(r, r->route);
	}
	if (content_length_too_large(r))
		refuse_too_large(r);
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
		request_check(r);
		return MHD_YES;
	}

	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->responded || r->refused != 0)
			return MHD_YES;
		if (n > r->body_max - MIN(r->body.len, r->body_max))
			refuse_too_large(r);
		else
			buf_append(&r->body, upload_data, n);
		return MHD_YES;
	}

	if (r->responded)
		return MHD_YES;
	if (r->refused != 0) {
		http_fail(r, r->refused);
		return MHD_YES;
	}
	if (r->queued != NULL) {
		submit_queued(r);
		return MHD_YES;
	}
	pthread_mutex_lock(&g_async_lock);
	bool resumed = r->async != NULL || r->async_abandoned;
	pthread_mutex_unlock(&g_async_lock);
	if (resumed) {
		finish_async(r);
		return MHD_YES;
	}

	if (r->idem_key[0] != '\0')
		idempotency_fingerprint(r, method, url);
	r->route->handler(r);
	if (!r->responded && !r->submitted) {
		log_error("http", "%s %s gave no response", method, r->route->pattern);
		http_error_set(&r->err, WEFT_EINTERNAL, HTTP_ERR_RULE, NULL, "no response");
		http_fail(r, WEFT_EINTERNAL);
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
		         r->route != NULL ? r->route->pattern : "unmatched", http_method_label(r->method), r->status);
		metrics_inc("api_http_requests_total", labels, 1);
		metrics_observe("api_http_requests_duration_seconds", labels, secs < 0 ? 0 : secs);
	}

	/* Closed between http_submit() and the call that would have handed the
	 * command to the engine: it never reached it. */
	http_async *free_now = r->queued;
	r->queued = NULL;
	run_after_submit(r);
	pthread_mutex_lock(&g_async_lock);
	if (r->async_abandoned)
		r->srv->abandoned--;
	http_async *a = r->async;
	if (a != NULL) {
		if (r->async_done) {
			free_now = a;       /* the engine is done; queued is NULL then */
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

/* The acceptor's handover: the connection's first request header is in. */
static int add_connection(void *arg, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	http_server *s = arg;
	/* On failure (a limit reached: too many connections, or from this
	 * address) MHD has closed fd. */
	return MHD_add_connection(s->daemon, fd, addr, addrlen) == MHD_YES ? 0 : -1;
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

	metrics_define_labeled("api_http_requests_total", METRIC_COUNTER, "Total number of HTTP requests");
	/* Prometheus's default buckets. */
	metrics_define_labeled("api_http_requests_duration_seconds", METRIC_HISTOGRAM,
	               "HTTP request duration in seconds for all requests");
	for (size_t i = 0; i < http_napis; i++) {
		if (http_apis[i]->init != NULL)
			http_apis[i]->init();
	}
	if (http_tokens_init(cfg, err, errlen) != 0) {
		close(fd);
		return NULL;
	}

	http_server *s = xcalloc(1, sizeof(*s));
	s->cfg = cfg;
	s->eng = eng;
	s->st = st;

	/* Connections come from the acceptor once their first request header
	 * is in (acceptor.h); MHD has no listening socket of its own. */
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	                     MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET;
	unsigned int threads = cfg->http_threads > 1 ? (unsigned int)cfg->http_threads : 1;
	unsigned int conns = cfg->max_connections > 0 ? (unsigned int)cfg->max_connections : 1024;
	unsigned int per_ip = cfg->max_connections_per_ip > 0 ? (unsigned int)cfg->max_connections_per_ip : conns;
	unsigned int idle = cfg->idle_timeout_secs > 0 ? (unsigned int)cfg->idle_timeout_secs : 60;
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
	                             MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	                             MHD_OPTION_THREAD_POOL_SIZE, threads,
	                             MHD_OPTION_CONNECTION_LIMIT, conns,
	                             MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
	                             MHD_OPTION_CONNECTION_TIMEOUT, idle,
	                             MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	                             MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
	                             MHD_OPTION_END);
	if (s->daemon == NULL) {
		snprintf(err, errlen, "cannot start the HTTP server on port %d (see the log above)", cfg->port);
		close(fd);
		free(s);
		return NULL;
	}
	acceptor_config ac = {
		.max_pending = conns,
		.max_pending_per_address = per_ip,
		.header_timeout_us = cfg->header_timeout_us > 0 ? cfg->header_timeout_us : 5000000,
		.handover = add_connection,
		.arg = s,
	};
	s->hangups = hangup_watch_start(on_hangup, s, err, errlen);
	if (s->hangups == NULL) {
		MHD_stop_daemon(s->daemon);
		close(fd);
		free(s);
		return NULL;
	}
	s->front = acceptor_start(fd, &ac, err, errlen);
	if (s->front == NULL) {
		hangup_watch_stop(s->hangups);
		MHD_stop_daemon(s->daemon);
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
	acceptor_stop(s->front);     /* no new connections */

	/* Commands the engine is working on get a grace period; long polls,
	 * which may wait for a minute, do not. */
	int64_t deadline = clock_mono_us() + STOP_GRACE_US;
	for (;;) {
		pthread_mutex_lock(&g_async_lock);
		bool idle = true;
		for (http_async *a = s->inflight; a != NULL && idle; a = a->next)
			idle = a->long_poll;
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
		unwatch(a);
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

	/* Log streams end first: MHD must not stop with one suspended. */
	http_streams_stop(s);
	MHD_stop_daemon(s->daemon);
	http_streams_stopped(s);
	change_feed_free(s->feed);
	hangup_watch_stop(s->hangups);
	free(s);
}
