/*
 * test_webhook.c — WebhookParams validation and the dispatcher, against a
 * small HTTP/1.1 server running inside the test on 127.0.0.1.
 *
 * Server routes (path before '?'):
 *   /ok        200 "ok"                  /fail      500
 *   /cancel    200 + a NewActionDto      /cancel2   200 + another one
 *   /notaction 200 + a JSON object that is not an action
 *   /redirect  302 to /ok                /big       200 + 64 KiB
 *   /slow      200 after 300 ms          /hang      no answer until the client leaves
 *
 * Also: the address check at connect time (DNS rebinding), request signing
 * (X-Weft-Signature, checked against libcrypto's EVP_MAC), no_handle and
 * http_status.
 */
#include "exec/webhook.h"
#include "util/log.h"
#include "util/metrics.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

/* ---- the test server ---------------------------------------------------- */

#define MAX_REQS 64
#define MAX_CONNS 64
#define MAX_HDRS 32

typedef struct req {
	char method[16];
	char target[1024];
	char *hdr[MAX_HDRS];        /* "Name: value" lines in arrival order, owned */
	size_t nhdr;
	char *body;                  /* owned, NUL-terminated */
	size_t body_len;
	int64_t start_us, end_us;
} req;

typedef struct server {
	int fd;
	int port;
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t mu;
	req reqs[MAX_REQS];
	size_t nreq;
	int inflight, max_inflight;
	pthread_t conn_threads[MAX_CONNS];
	int conn_fds[MAX_CONNS];
	size_t nconns;
} server;

typedef struct conn_arg {
	server *s;
	int fd;
} conn_arg;

static const char CANCEL_BODY[] =
	"{\"kind\": \"Webhook\", \"params\": {\"url\": \"http://example.com/undo\", \"verb\": \"Post\"}}";
static const char CANCEL_COMPACT[] =
	"{\"kind\":\"Webhook\",\"params\":{\"url\":\"http://example.com/undo\",\"verb\":\"Post\"}}";
static const char CANCEL2_BODY[] =
	"{\"kind\":\"Webhook\",\"params\":{\"url\":\"http://example.com/undo2\",\"verb\":\"Delete\"}}";

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static bool send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

typedef struct resp {
	int code;                    /* 0: no answer, close the connection */
	const char *reason;
	char extra[128];             /* extra header lines */
	const char *body;
	size_t blen;
	char *owned;                 /* body to free */
} resp;

static void set_resp(resp *out, int code, const char *reason, const char *body)
{
	out->code = code;
	out->reason = reason;
	out->body = body;
	out->blen = strlen(body);
}

static bool send_resp(int fd, const resp *r)
{
	char head[512];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s\r\n",
	                 r->code, r->reason, r->blen, r->extra);
	return send_all(fd, head, (size_t)n) && send_all(fd, r->body, r->blen);
}

static size_t route_len(const char *target)
{
	const char *q = strchr(target, '?');
	return q ? (size_t)(q - target) : strlen(target);
}

static bool route_is(const char *target, const char *path)
{
	return route_len(target) == strlen(path) && memcmp(target, path, strlen(path)) == 0;
}

/* Decides the answer to one request (taking the route's time). */
static void serve_one(server *s, int fd, const char *target, resp *out)
{
	if (route_is(target, "/ok")) {
		set_resp(out, 200, "OK", "ok");
	} else if (route_is(target, "/fail")) {
		set_resp(out, 500, "Internal Server Error", "boom");
	} else if (route_is(target, "/cancel")) {
		set_resp(out, 200, "OK", CANCEL_BODY);
		snprintf(out->extra, sizeof(out->extra), "Content-Type: application/json\r\n");
	} else if (route_is(target, "/cancel2")) {
		set_resp(out, 200, "OK", CANCEL2_BODY);
	} else if (route_is(target, "/notaction")) {
		set_resp(out, 200, "OK", "{\"kind\":\"Other\",\"params\":{}}");
	} else if (route_is(target, "/redirect")) {
		set_resp(out, 302, "Found", "");
		snprintf(out->extra, sizeof(out->extra), "Location: http://127.0.0.1:%d/ok\r\n", s->port);
	} else if (route_is(target, "/slow")) {
		sleep_ms(300);
		set_resp(out, 200, "OK", "ok");
	} else if (route_is(target, "/big")) {
		out->owned = malloc(64 * 1024);
		memset(out->owned, 'x', 64 * 1024);
		out->code = 200;
		out->reason = "OK";
		out->body = out->owned;
		out->blen = 64 * 1024;
	} else if (route_is(target, "/hang")) {
		/* until the client gives up, or 10 s */
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t end = now_us() + 10 * 1000 * 1000;
		while (!atomic_load(&s->stop) && now_us() < end) {
			if (poll(&p, 1, 50) > 0)
				break;
		}
	} else {
		set_resp(out, 404, "Not Found", "");
	}
}

static void *conn_main(void *arg)
{
	conn_arg *ca = arg;
	server *s = ca->s;
	int fd = ca->fd;
	char in[16384];
	size_t len = 0;
	free(ca);

	for (;;) {
		char *eoh;
		while ((eoh = memmem(in, len, "\r\n\r\n", 4)) == NULL) {
			if (len == sizeof(in))
				goto out;
			ssize_t r = recv(fd, in + len, sizeof(in) - len, 0);
			if (r <= 0)
				goto out;
			len += (size_t)r;
		}
		size_t head_len = (size_t)(eoh - in) + 4;
		req r = { 0 };
		r.start_us = now_us();

		/* request line */
		char *line_end = memmem(in, head_len, "\r\n", 2);
		char *sp1 = memchr(in, ' ', (size_t)(line_end - in));
		char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
		if (sp1 == NULL || sp2 == NULL)
			goto out;
		snprintf(r.method, sizeof(r.method), "%.*s", (int)(sp1 - in), in);
		snprintf(r.target, sizeof(r.target), "%.*s", (int)(sp2 - sp1 - 1), sp1 + 1);

		/* header lines */
		size_t clen = 0;
		char *p = line_end + 2;
		while (p < eoh + 2) {
			char *e = memmem(p, (size_t)(eoh + 2 - p), "\r\n", 2);
			if (r.nhdr < MAX_HDRS)
				r.hdr[r.nhdr++] = strndup(p, (size_t)(e - p));
			if (strncasecmp(p, "Content-Length:", 15) == 0)
				clen = strtoul(p + 15, NULL, 10);
			p = e + 2;
		}
		if (head_len + clen > sizeof(in))
			goto out;
		while (len < head_len + clen) {
			ssize_t n = recv(fd, in + len, sizeof(in) - len, 0);
			if (n <= 0)
				goto out;
			len += (size_t)n;
		}
		r.body = strndup(in + head_len, clen);
		r.body_len = clen;

		pthread_mutex_lock(&s->mu);
		size_t idx = s->nreq;
		if (idx < MAX_REQS)
			s->reqs[s->nreq++] = r;
		if (++s->inflight > s->max_inflight)
			s->max_inflight = s->inflight;
		pthread_mutex_unlock(&s->mu);

		resp out = { 0 };
		serve_one(s, fd, r.target, &out);

		/* before answering: the client may send its next request at once */
		pthread_mutex_lock(&s->mu);
		s->inflight--;
		if (idx < MAX_REQS)
			s->reqs[idx].end_us = now_us();
		pthread_mutex_unlock(&s->mu);
		if (idx >= MAX_REQS) {
			for (size_t i = 0; i < r.nhdr; i++)
				free(r.hdr[i]);
			free(r.body);
		}
		bool keep = out.code != 0 && send_resp(fd, &out);
		free(out.owned);
		if (!keep)
			goto out;
		memmove(in, in + head_len + clen, len - head_len - clen);
		len -= head_len + clen;
	}
out:
	shutdown(fd, SHUT_RDWR);
	return NULL;
}

static void *server_main(void *arg)
{
	server *s = arg;
	struct pollfd p = { .fd = s->fd, .events = POLLIN };

	while (!atomic_load(&s->stop)) {
		if (poll(&p, 1, 20) <= 0)
			continue;
		int fd = accept(s->fd, NULL, NULL);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&s->mu);
		if (s->nconns == MAX_CONNS) {
			pthread_mutex_unlock(&s->mu);
			close(fd);
			continue;
		}
		conn_arg *ca = malloc(sizeof(*ca));
		ca->s = s;
		ca->fd = fd;
		s->conn_fds[s->nconns] = fd;
		pthread_create(&s->conn_threads[s->nconns], NULL, conn_main, ca);
		s->nconns++;
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

static server *server_start(void)
{
	server *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	pthread_mutex_init(&s->mu, NULL);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 64), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	pthread_create(&s->thread, NULL, server_main, s);
	return s;
}

static void server_stop(server *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	for (size_t i = 0; i < s->nconns; i++) {
		shutdown(s->conn_fds[i], SHUT_RDWR);
		pthread_join(s->conn_threads[i], NULL);
		close(s->conn_fds[i]);
	}
	close(s->fd);
	for (size_t i = 0; i < s->nreq; i++) {
		for (size_t h = 0; h < s->reqs[i].nhdr; h++)
			free(s->reqs[i].hdr[h]);
		free(s->reqs[i].body);
	}
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static size_t server_nreq(server *s)
{
	pthread_mutex_lock(&s->mu);
	size_t n = s->nreq;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static void server_wait_requests(server *s, size_t n)
{
	int64_t end = now_us() + 5 * 1000 * 1000;
	while (server_nreq(s) < n) {
		if (now_us() > end)
			fail_msg("server saw %zu requests, expected %zu", server_nreq(s), n);
		sleep_ms(5);
	}
}

/* Index of the header line, or -1. */
static int hdr_index(const req *r, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < r->nhdr; i++)
		if (strncasecmp(r->hdr[i], name, n) == 0 && r->hdr[i][n] == ':')
			return (int)i;
	return -1;
}

static const char *hdr_value(const req *r, const char *name)
{
	int i = hdr_index(r, name);
	if (i < 0)
		return NULL;
	const char *v = r->hdr[i] + strlen(name) + 1;
	while (*v == ' ')
		v++;
	return v;
}

static void url_decode(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	for (; *in && o + 1 < outlen; in++) {
		if (*in == '%' && in[1] && in[2]) {
			char hex[3] = { in[1], in[2], 0 };
			out[o++] = (char)strtol(hex, NULL, 16);
			in += 2;
		} else {
			out[o++] = *in == '+' ? ' ' : *in;
		}
	}
	out[o] = '\0';
}

/* ---- calls and their completion ---------------------------------------- */

#define MAX_DONE 32

typedef struct done_log {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	webhook_call *calls[MAX_DONE];
	size_t n;
	pthread_t thread;            /* thread of the last done() */
} done_log;

static done_log dl;
static server *srv;
static char base[64];            /* "http://127.0.0.1:<port>" */
static const weft_id task_a = { "0190a3f4-1c2b-7d3e-8f40-123456789abc" };
static const weft_id task_b = { "0190a3f4-1c2b-7d3e-8f40-cba987654321" };

static void on_done(webhook_call *c, void *arg)
{
	done_log *l = arg;
	pthread_mutex_lock(&l->mu);
	if (l->n < MAX_DONE)
		l->calls[l->n++] = c;
	l->thread = pthread_self();
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

static void wait_done(size_t n)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&dl.mu);
	while (dl.n < n) {
		if (pthread_cond_timedwait(&dl.cv, &dl.mu, &until) == ETIMEDOUT) {
			size_t got = dl.n;
			pthread_mutex_unlock(&dl.mu);
			fail_msg("%zu calls done, expected %zu", got, n);
		}
	}
	pthread_mutex_unlock(&dl.mu);
}

/* WebhookParams JSON for base + path. extra is appended inside the object. */
static char *params_json(const char *verb, const char *path, const char *extra)
{
	char *s = NULL;
	if (asprintf(&s, "{\"url\":\"%s%s\",\"verb\":\"%s\"%s%s}", base, path, verb,
	             extra ? "," : "", extra ? extra : "") < 0)
		abort();
	return s;
}

static webhook_call *make_call(const weft_id *id, action_trigger trig, action_condition cond,
                               const char *const *paths, size_t n)
{
	char *params[8];
	char key[128];
	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++)
		params[i] = params_json("Post", paths[i], NULL);
	snprintf(key, sizeof(key), "%s:%s", id->str, action_trigger_name(trig));
	webhook_call *c = webhook_call_new(id, trig, cond, key, (const char *const *)params, n);
	for (size_t i = 0; i < n; i++)
		free(params[i]);
	c->done = on_done;
	c->arg = &dl;
	return c;
}

static dispatcher *start_dispatcher(int concurrency, long timeout_ms, size_t max_response)
{
	dispatcher_config cfg = {
		.host_url = "http://localhost:8085",
		.concurrency = concurrency,
		.timeout_ms = timeout_ms,
		.connect_timeout_ms = 2000,
		.max_response_bytes = max_response,
	};
	dispatcher *d = dispatcher_new(&cfg);
	assert_non_null(d);
	return d;
}

/* Runs one call with one action per path and returns it (done, owned). */
static webhook_call *run_one(action_trigger trig, action_condition cond, const char *const *paths, size_t n)
{
	dispatcher *d = start_dispatcher(4, 5000, 0);
	dispatcher_submit(d, make_call(&task_a, trig, cond, paths, n));
	wait_done(1);
	dispatcher_free(d);
	return dl.calls[0];
}

static int setup(void **state)
{
	UNUSED(state);
	metrics_reset();
	memset(&dl, 0, sizeof(dl));
	pthread_mutex_init(&dl.mu, NULL);
	pthread_cond_init(&dl.cv, NULL);
	srv = server_start();
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", srv->port);
	return 0;
}

static int teardown(void **state)
{
	UNUSED(state);
	server_stop(srv);
	for (size_t i = 0; i < dl.n; i++)
		webhook_call_free(dl.calls[i]);
	pthread_cond_destroy(&dl.cv);
	pthread_mutex_destroy(&dl.mu);
	return 0;
}

/* ---- params check -------------------------------------------------------- */

static void assert_params(const char *text, bool skip, const char *want)
{
	ssrf_policy p;
	char err[512] = "";
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (v == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	ssrf_policy_init(&p);
	p.skip = skip;
	int rc = webhook_params_check(v, &p, err, sizeof(err));
	ssrf_policy_release(&p);
	json_decref(v);
	if (want == NULL && rc != 0)
		fail_msg("%s: expected valid, got \"%s\"", text, err);
	if (want != NULL && (rc != -1 || strcmp(err, want) != 0))
		fail_msg("%s: expected \"%s\", got rc %d \"%s\"", text, want, rc, err);
}

#define P "Invalid webhook params: "

static void test_params_valid(void **state)
{
	UNUSED(state);
	assert_params("{\"url\":\"https://example.com/hook\",\"verb\":\"Post\"}", false, NULL);
	assert_params("{\"verb\":\"Get\",\"url\":\"https://example.com/\"}", false, NULL);
	for (const char *const *v = (const char *const[]){ "Get", "Post", "Put", "Patch", "Delete", NULL }; *v; v++) {
		char text[128];
		snprintf(text, sizeof(text), "{\"url\":\"https://example.com/\",\"verb\":\"%s\"}", *v);
		assert_params(text, false, NULL);
	}
	assert_params("{\"url\":\"https://example.com/\",\"verb\":\"Put\",\"body\":{\"a\":[1,2]},"
	              "\"headers\":{\"Authorization\":\"Bearer x\",\"X-Empty\":\"\"}}", false, NULL);
	assert_params("{\"url\":\"https://example.com/\",\"verb\":\"Put\",\"body\":null,\"headers\":null}", false, NULL);
	assert_params("{\"url\":\"https://example.com/\",\"verb\":\"Post\",\"body\":\"text\"}", false, NULL);
	/* unknown fields are ignored, as ArcRun does */
	assert_params("{\"url\":\"https://example.com/\",\"verb\":\"Post\",\"trigger\":\"Start\"}", false, NULL);
	assert_params("{\"url\":\"http://localhost:9090/task\",\"verb\":\"Post\"}", true, NULL);
}

static void test_params_errors(void **state)
{
	UNUSED(state);
	assert_params("{\"verb\":\"Post\"}", false, P "missing field `url`");
	assert_params("{\"url\":\"https://example.com/\"}", false, P "missing field `verb`");
	assert_params("{}", false, P "missing field `url`");
	assert_params("{\"url\":5,\"verb\":\"Post\"}", false, P "invalid type: integer, expected a string for `url`");
	assert_params("{\"url\":null,\"verb\":\"Post\"}", false, P "invalid type: null, expected a string for `url`");
	assert_params("{\"url\":\"https://example.com/\",\"verb\":\"Gett\"}", false,
	              P "unknown variant `Gett`, expected one of `Get`, `Post`, `Put`, `Patch`, `Delete`");
	assert_params("{\"url\":\"https://example.com/\",\"verb\":\"POST\"}", false,
	              P "unknown variant `POST`, expected one of `Get`, `Post`, `Put`, `Patch`, `Delete`");
	assert_params("{\"url\":\"https://example.com/\",\"verb\":true}", false,
	              P "invalid type: boolean, expected a string for `verb`");
	/* fields are checked in document order, missing ones last */
	assert_params("{\"verb\":\"Gett\"}", false,
	              P "unknown variant `Gett`, expected one of `Get`, `Post`, `Put`, `Patch`, `Delete`");
	assert_params("\"https://example.com/\"", false, P "invalid type: string, expected struct WebhookParams");
	assert_params("[1]", false, P "invalid type: sequence, expected struct WebhookParams");
	assert_params("null", false, P "invalid type: null, expected struct WebhookParams");
	assert_params("{\"url\":\"https://example.com/\",\"verb\":\"Post\",\"headers\":[]}", false,
	              P "invalid type: array, expected a map for `headers`");
	assert_params("{\"url\":\"https://example.com/\",\"verb\":\"Post\",\"headers\":{\"X-N\":1}}", false,
	              P "invalid type: integer, expected a string for header `X-N`");
	assert_params("{\"url\":\"https://example.com/\",\"verb\":\"Post\",\"headers\":{\"X-A\":\"a\\r\\nX-B: b\"}}", false,
	              P "header `X-A` contains a line break");
	assert_params("{\"url\":\"https://example.com/\",\"verb\":\"Post\",\"headers\":{\"X-A\\nB\":\"a\"}}", false,
	              P "header `X-A\nB` contains a line break");
	assert_params("{\"url\":\"https://example.com/\",\"verb\":\"Post\",\"headers\":{\"X A\":\"a\"}}", false,
	              P "header `X A` has an invalid name");
	assert_params("{\"url\":\"https://example.com/\",\"verb\":\"Post\",\"headers\":{\"\":\"a\"}}", false,
	              P "header `` has an invalid name");
	assert_params("{\"url\":\"https://example.com/\",\"verb\":\"Post\",\"headers\":{\"X-A\":\"a\\u0007b\"}}", false,
	              P "header `X-A` contains a control character");
}

static void test_params_url_errors(void **state)
{
	UNUSED(state);
	/* URL problems come from the SSRF check, unprefixed */
	assert_params("{\"url\":\"not a url\",\"verb\":\"Post\"}", false, "Invalid URL format: relative URL without a base");
	assert_params("{\"url\":\"not a url\",\"verb\":\"Post\"}", true, "Invalid URL format: relative URL without a base");
	assert_params("{\"url\":\"http://localhost/\",\"verb\":\"Post\"}", false,
	              "URL host 'localhost' is not allowed (internal/reserved)");
	assert_params("{\"url\":\"file:///etc/passwd\",\"verb\":\"Get\"}", false,
	              "URL scheme 'file' not allowed, must be http or https");
	assert_params("{\"url\":\"http://[::1]/\",\"verb\":\"Get\"}", false,
	              "URL points to internal IP address '::1' which is not allowed");
}

static void test_call_new_copies(void **state)
{
	UNUSED(state);
	char p0[] = "{\"url\":\"http://a/\",\"verb\":\"Get\"}";
	const char *params[] = { p0 };
	webhook_call *c = webhook_call_new(&task_a, TRIGGER_END, COND_FAILURE, "k:end", params, 1);
	p0[2] = 'X';
	assert_string_equal(c->task_id.str, task_a.str);
	assert_int_equal(c->trigger, TRIGGER_END);
	assert_int_equal(c->condition, COND_FAILURE);
	assert_string_equal(c->key, "k:end");
	assert_int_equal(c->nparams, 1);
	assert_string_equal(c->params[0], "{\"url\":\"http://a/\",\"verb\":\"Get\"}");
	assert_null(c->error);
	assert_null(c->cancel_action);
	webhook_call_free(c);
	webhook_call_free(NULL);
}

/* ---- requests ------------------------------------------------------------ */

static void test_request_shape(void **state)
{
	UNUSED(state);
	char *p = NULL;
	if (asprintf(&p, "{\"url\":\"%s/ok?x=1&y=a%%20b#frag\",\"verb\":\"Put\","
	             "\"headers\":{\"X-One\":\"1\",\"Authorization\":\"Bearer t\",\"X-Empty\":\"\"},"
	             "\"body\":{\"b\":[true,null],\"a\":1}}", base) < 0)
		abort();
	const char *params[] = { p };
	dispatcher *d = start_dispatcher(2, 5000, 0);
	webhook_call *c = webhook_call_new(&task_a, TRIGGER_START, COND_SUCCESS, "the-key:start", params, 1);
	c->done = on_done;
	c->arg = &dl;
	dispatcher_submit(d, c);
	wait_done(1);
	free(p);

	assert_true(dl.calls[0]->ok);
	assert_null(dl.calls[0]->error);
	assert_false(pthread_equal(dl.thread, pthread_self()));
	assert_int_equal(server_nreq(srv), 1);
	const req *r = &srv->reqs[0];
	assert_string_equal(r->method, "PUT");

	/* existing query kept, handle appended and encoded, fragment not sent */
	const char *prefix = "/ok?x=1&y=a%20b&handle=";
	assert_memory_equal(r->target, prefix, strlen(prefix));
	const char *h = r->target + strlen(prefix);
	assert_null(strpbrk(h, ":/&#"));
	char decoded[256];
	url_decode(h, decoded, sizeof(decoded));
	assert_string_equal(decoded, "http://localhost:8085/task/0190a3f4-1c2b-7d3e-8f40-123456789abc");

	/* custom headers first, in order, then ours */
	int i1 = hdr_index(r, "X-One"), i2 = hdr_index(r, "Authorization"), i3 = hdr_index(r, "X-Empty");
	int ik = hdr_index(r, "Idempotency-Key"), it = hdr_index(r, "X-Task-Id"), ig = hdr_index(r, "X-Task-Trigger");
	assert_true(i1 >= 0 && i1 < i2 && i2 < i3 && i3 < ik && ik < it && it < ig);
	assert_string_equal(hdr_value(r, "X-One"), "1");
	assert_string_equal(hdr_value(r, "Authorization"), "Bearer t");
	assert_string_equal(hdr_value(r, "X-Empty"), "");
	assert_string_equal(hdr_value(r, "Idempotency-Key"), "the-key:start");
	assert_string_equal(hdr_value(r, "X-Task-Id"), task_a.str);
	assert_string_equal(hdr_value(r, "X-Task-Trigger"), "start");
	assert_string_equal(hdr_value(r, "User-Agent"), "weft/0.1");
	assert_string_equal(hdr_value(r, "Content-Type"), "application/json");
	assert_null(hdr_value(r, "Expect"));
	assert_string_equal(r->body, "{\"b\":[true,null],\"a\":1}");
	dispatcher_free(d);
}

static void test_request_without_body(void **state)
{
	UNUSED(state);
	const char *verbs[] = { "Get", "Post", "Delete", "Patch" };
	const char *methods[] = { "GET", "POST", "DELETE", "PATCH" };
	const action_trigger trig[] = { TRIGGER_END, TRIGGER_CANCEL, TRIGGER_START, TRIGGER_END };
	dispatcher *d = start_dispatcher(1, 5000, 0);

	for (size_t i = 0; i < ARRAY_LEN(verbs); i++) {
		char *p = params_json(verbs[i], "/ok", i == 0 ? "\"body\":null" : NULL);
		const char *params[] = { p };
		webhook_call *c = webhook_call_new(&task_b, trig[i], COND_SUCCESS, "k", params, 1);
		c->done = on_done;
		c->arg = &dl;
		dispatcher_submit(d, c);
		free(p);
	}
	wait_done(ARRAY_LEN(verbs));
	dispatcher_free(d);

	assert_int_equal(server_nreq(srv), ARRAY_LEN(verbs));
	for (size_t i = 0; i < ARRAY_LEN(verbs); i++) {
		const req *r = &srv->reqs[i];   /* concurrency 1: in submission order */
		assert_true(dl.calls[i]->ok);
		assert_string_equal(r->method, methods[i]);
		assert_null(hdr_value(r, "Content-Type"));
		assert_int_equal(r->body_len, 0);
		assert_string_equal(hdr_value(r, "X-Task-Trigger"), action_trigger_name(trig[i]));
		assert_string_equal(hdr_value(r, "X-Task-Id"), task_b.str);
		assert_memory_equal(r->target, "/ok?handle=", 11);
	}
	/* bodiless POST and PATCH still say how long their (empty) body is */
	assert_string_equal(hdr_value(&srv->reqs[1], "Content-Length"), "0");
	assert_string_equal(hdr_value(&srv->reqs[3], "Content-Length"), "0");
	assert_null(hdr_value(&srv->reqs[0], "Content-Length"));
	assert_null(hdr_value(&srv->reqs[2], "Content-Length"));
}

static void test_get_and_delete_with_body(void **state)
{
	UNUSED(state);
	const char *verbs[] = { "Get", "Delete" };
	dispatcher *d = start_dispatcher(1, 5000, 0);
	for (size_t i = 0; i < ARRAY_LEN(verbs); i++) {
		char *p = params_json(verbs[i], "/ok", "\"body\":[1,\"two\"]");
		const char *params[] = { p };
		webhook_call *c = webhook_call_new(&task_b, TRIGGER_END, COND_FAILURE, "k", params, 1);
		c->done = on_done;
		c->arg = &dl;
		dispatcher_submit(d, c);
		free(p);
	}
	wait_done(ARRAY_LEN(verbs));
	dispatcher_free(d);

	assert_int_equal(server_nreq(srv), 2);
	assert_string_equal(srv->reqs[0].method, "GET");
	assert_string_equal(srv->reqs[1].method, "DELETE");
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(hdr_value(&srv->reqs[i], "Content-Type"), "application/json");
		assert_string_equal(srv->reqs[i].body, "[1,\"two\"]");
	}
	/* one connection, kept alive between the calls */
	assert_int_equal(srv->nconns, 1);
}

/* ---- outcomes ------------------------------------------------------------ */

static void test_success_2xx(void **state)
{
	UNUSED(state);
	const char *paths[] = { "/ok" };
	webhook_call *c = run_one(TRIGGER_START, COND_SUCCESS, paths, 1);
	assert_true(c->ok);
	assert_null(c->error);
	assert_null(c->cancel_action);
	assert_int_equal(metrics_get("webhook_executions_total", "trigger=\"start\",outcome=\"success\""), 1);
	assert_int_equal(metrics_get("webhook_attempts_total", "trigger=\"start\",outcome=\"success\""), 1);
	assert_int_equal(metrics_get("webhook_executions_total", "trigger=\"start\",outcome=\"failure\""), 0);
	assert_int_equal(metrics_get("webhooks_in_flight", "phase=\"start\""), 0);
}

static void test_http_500_fails(void **state)
{
	UNUSED(state);
	const char *paths[] = { "/fail" };
	webhook_call *c = run_one(TRIGGER_START, COND_SUCCESS, paths, 1);
	assert_false(c->ok);
	assert_string_equal(c->error, "on_start webhook failed: HTTP 500");
	assert_int_equal(metrics_get("webhook_executions_total", "trigger=\"start\",outcome=\"failure\""), 1);
}

static void test_redirect_not_followed(void **state)
{
	UNUSED(state);
	const char *paths[] = { "/redirect" };
	webhook_call *c = run_one(TRIGGER_START, COND_SUCCESS, paths, 1);
	assert_false(c->ok);
	assert_string_equal(c->error, "on_start webhook failed: redirects are not followed (HTTP 302)");
	assert_int_equal(server_nreq(srv), 1);
}

static void test_connection_refused(void **state)
{
	UNUSED(state);
	/* a port that was free a moment ago */
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", ntohs(a.sin_port));

	const char *paths[] = { "/ok" };
	webhook_call *c = run_one(TRIGGER_START, COND_SUCCESS, paths, 1);
	assert_false(c->ok);
	assert_string_equal(c->error, "on_start webhook failed: Couldn't connect to server");
}

static void test_timeout(void **state)
{
	UNUSED(state);
	const char *paths[] = { "/hang" };
	dispatcher *d = start_dispatcher(1, 200, 0);
	int64_t t0 = now_us();
	dispatcher_submit(d, make_call(&task_a, TRIGGER_START, COND_SUCCESS, paths, 1));
	wait_done(1);
	assert_true(now_us() - t0 < 2 * 1000 * 1000);
	dispatcher_free(d);
	assert_false(dl.calls[0]->ok);
	assert_string_equal(dl.calls[0]->error, "on_start webhook failed: Timeout was reached");
}

static void test_response_too_large(void **state)
{
	UNUSED(state);
	const char *paths[] = { "/big" };
	dispatcher *d = start_dispatcher(1, 5000, 1024);
	dispatcher_submit(d, make_call(&task_a, TRIGGER_START, COND_SUCCESS, paths, 1));
	wait_done(1);
	dispatcher_free(d);
	assert_false(dl.calls[0]->ok);
	assert_string_equal(dl.calls[0]->error, "on_start webhook failed: response too large");
}

static void test_end_and_cancel_messages(void **state)
{
	UNUSED(state);
	const char *paths[] = { "/fail" };
	dispatcher *d = start_dispatcher(3, 5000, 0);
	dispatcher_submit(d, make_call(&task_a, TRIGGER_END, COND_SUCCESS, paths, 1));
	dispatcher_submit(d, make_call(&task_a, TRIGGER_END, COND_FAILURE, paths, 1));
	dispatcher_submit(d, make_call(&task_a, TRIGGER_CANCEL, COND_SUCCESS, paths, 1));
	wait_done(3);
	dispatcher_free(d);

	int seen = 0;
	for (size_t i = 0; i < 3; i++) {
		webhook_call *c = dl.calls[i];
		assert_false(c->ok);
		if (c->trigger == TRIGGER_CANCEL) {
			assert_string_equal(c->error, "cancel webhook failed: HTTP 500");
			seen |= 1;
		} else if (c->condition == COND_SUCCESS) {
			assert_string_equal(c->error, "on_success webhook failed: HTTP 500");
			seen |= 2;
		} else {
			assert_string_equal(c->error, "on_failure webhook failed: HTTP 500");
			seen |= 4;
		}
	}
	assert_int_equal(seen, 7);
	assert_int_equal(metrics_get("webhook_executions_total", "trigger=\"end\",outcome=\"failure\""), 2);
	assert_int_equal(metrics_get("webhook_attempts_total", "trigger=\"cancel\",outcome=\"failure\""), 1);
}

static void test_cancel_action_captured(void **state)
{
	UNUSED(state);
	const char *paths[] = { "/cancel" };
	webhook_call *c = run_one(TRIGGER_START, COND_SUCCESS, paths, 1);
	assert_true(c->ok);
	assert_non_null(c->cancel_action);
	assert_string_equal(c->cancel_action, CANCEL_COMPACT);
}

static void test_cancel_action_last_wins(void **state)
{
	UNUSED(state);
	const char *paths[] = { "/cancel", "/notaction", "/cancel2", "/ok" };
	webhook_call *c = run_one(TRIGGER_START, COND_SUCCESS, paths, 4);
	assert_true(c->ok);
	assert_string_equal(c->cancel_action, CANCEL2_BODY);
}

static void test_cancel_action_only_for_start(void **state)
{
	UNUSED(state);
	const char *paths[] = { "/cancel" };
	webhook_call *c = run_one(TRIGGER_END, COND_SUCCESS, paths, 1);
	assert_true(c->ok);
	assert_null(c->cancel_action);
}

static void test_cancel_action_needs_action_shape(void **state)
{
	UNUSED(state);
	const char *paths[] = { "/notaction", "/ok" };
	webhook_call *c = run_one(TRIGGER_START, COND_SUCCESS, paths, 2);
	assert_true(c->ok);
	assert_null(c->cancel_action);
}

/* ---- scheduling ---------------------------------------------------------- */

static void test_actions_sequential_past_failures(void **state)
{
	UNUSED(state);
	const char *paths[] = { "/slow", "/fail", "/redirect", "/ok" };
	webhook_call *c = run_one(TRIGGER_START, COND_SUCCESS, paths, 4);

	assert_false(c->ok);
	assert_string_equal(c->error, "on_start webhook failed: HTTP 500");   /* the first failure */
	assert_int_equal(server_nreq(srv), 4);
	assert_int_equal(srv->max_inflight, 1);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(route_len(srv->reqs[i].target), strlen(paths[i]));
		assert_memory_equal(srv->reqs[i].target, paths[i], strlen(paths[i]));
		if (i > 0)
			assert_true(srv->reqs[i].start_us >= srv->reqs[i - 1].end_us);
	}
	assert_int_equal(metrics_get("webhook_executions_total", "trigger=\"start\",outcome=\"success\""), 2);
	assert_int_equal(metrics_get("webhook_executions_total", "trigger=\"start\",outcome=\"failure\""), 2);
}

static void test_concurrency_bound(void **state)
{
	UNUSED(state);
	const char *paths[] = { "/slow" };
	dispatcher *d = start_dispatcher(2, 5000, 0);
	for (int i = 0; i < 6; i++)
		dispatcher_submit(d, make_call(&task_a, TRIGGER_START, COND_SUCCESS, paths, 1));
	assert_int_equal(dispatcher_pending(d), 6);
	wait_done(6);
	for (size_t i = 0; i < 6; i++)
		assert_true(dl.calls[i]->ok);
	assert_int_equal(server_nreq(srv), 6);
	assert_int_equal(srv->max_inflight, 2);
	assert_int_equal(srv->nconns, 2);    /* connections are reused */

	int64_t end = now_us() + 2 * 1000 * 1000;
	while (dispatcher_pending(d) != 0 && now_us() < end)
		sleep_ms(1);
	assert_int_equal(dispatcher_pending(d), 0);
	dispatcher_free(d);
}

/* Start calls in a lane of one, deliveries in a lane of two: each lane
 * keeps to its bound, and deliveries submitted after queued starts run
 * beside them rather than behind them. */
static void test_lanes_bound_each_its_own(void **state)
{
	UNUSED(state);
	const char *paths[] = { "/slow" };
	dispatcher_config cfg = {
		.host_url = "http://localhost:8085",
		.concurrency = 3,
		.lane_limit = { [WEBHOOK_LANE_START] = 1, [WEBHOOK_LANE_DELIVERY] = 2 },
		.timeout_ms = 5000,
		.connect_timeout_ms = 2000,
	};
	dispatcher *d = dispatcher_new(&cfg);
	assert_non_null(d);
	for (int i = 0; i < 3; i++) {
		webhook_call *c = make_call(&task_a, TRIGGER_START, COND_SUCCESS, paths, 1);
		c->lane = WEBHOOK_LANE_START;
		dispatcher_submit(d, c);
	}
	for (int i = 0; i < 3; i++) {
		webhook_call *c = make_call(&task_b, TRIGGER_END, COND_SUCCESS, paths, 1);
		c->lane = WEBHOOK_LANE_DELIVERY;
		dispatcher_submit(d, c);
	}
	wait_done(6);
	for (size_t i = 0; i < 6; i++)
		assert_true(dl.calls[i]->ok);
	assert_int_equal(server_nreq(srv), 6);
	assert_int_equal(srv->max_inflight, 3);
	/* Before the first answer: one start and two deliveries had begun. */
	int64_t first_end = INT64_MAX;
	for (size_t i = 0; i < 6; i++)
		first_end = MIN(first_end, srv->reqs[i].end_us);
	size_t starts = 0, ends = 0;
	for (size_t i = 0; i < 6; i++) {
		if (srv->reqs[i].start_us >= first_end)
			continue;
		const char *task = hdr_value(&srv->reqs[i], "X-Task-Id");
		if (task != NULL && strcmp(task, task_a.str) == 0)
			starts++;
		else
			ends++;
	}
	assert_int_equal(starts, 1);
	assert_int_equal(ends, 2);
	dispatcher_free(d);
}

static void test_calls_without_done_are_freed(void **state)
{
	UNUSED(state);
	const char *paths[] = { "/ok" };
	dispatcher *d = start_dispatcher(1, 5000, 0);
	webhook_call *c = make_call(&task_a, TRIGGER_END, COND_SUCCESS, paths, 1);
	c->done = NULL;
	dispatcher_submit(d, c);
	server_wait_requests(srv, 1);
	int64_t end = now_us() + 2 * 1000 * 1000;
	while (dispatcher_pending(d) != 0 && now_us() < end)
		sleep_ms(1);
	assert_int_equal(dispatcher_pending(d), 0);

	/* and on shutdown (the sanitizer build checks for leaks) */
	const char *slow[] = { "/slow" };
	c = make_call(&task_a, TRIGGER_END, COND_SUCCESS, slow, 1);
	c->done = NULL;
	dispatcher_submit(d, c);
	c = make_call(&task_a, TRIGGER_END, COND_SUCCESS, paths, 1);
	c->done = NULL;
	dispatcher_submit(d, c);
	dispatcher_free(d);
}

static void test_zero_actions(void **state)
{
	UNUSED(state);
	webhook_call *c = run_one(TRIGGER_END, COND_FAILURE, NULL, 0);
	assert_true(c->ok);
	assert_null(c->error);
}

/* ---- shutdown ------------------------------------------------------------ */

static void test_shutdown_lets_short_transfers_finish(void **state)
{
	UNUSED(state);
	const char *one[] = { "/slow" };
	const char *two[] = { "/slow", "/ok" };
	const char *queued[] = { "/ok" };
	dispatcher *d = start_dispatcher(2, 5000, 0);
	webhook_call *a = make_call(&task_a, TRIGGER_START, COND_SUCCESS, one, 1);
	webhook_call *b = make_call(&task_b, TRIGGER_START, COND_SUCCESS, two, 2);
	webhook_call *q = make_call(&task_a, TRIGGER_END, COND_SUCCESS, queued, 1);
	dispatcher_submit(d, a);
	dispatcher_submit(d, b);
	dispatcher_submit(d, q);
	server_wait_requests(srv, 2);

	int64_t t0 = now_us();
	dispatcher_free(d);
	assert_true(now_us() - t0 < 1500 * 1000);
	assert_int_equal(dl.n, 3);
	assert_true(a->ok);                       /* its only transfer completed */
	assert_null(a->error);
	assert_false(b->ok);                      /* its second action never started */
	assert_string_equal(b->error, "shutting down");
	assert_false(q->ok);
	assert_string_equal(q->error, "shutting down");
	assert_int_equal(server_nreq(srv), 2);
}

static void test_shutdown_aborts_hanging_transfers(void **state)
{
	UNUSED(state);
	const char *hang[] = { "/hang" };
	const char *ok[] = { "/ok" };
	dispatcher *d = start_dispatcher(1, 30000, 0);
	webhook_call *a = make_call(&task_a, TRIGGER_START, COND_SUCCESS, hang, 1);
	webhook_call *b = make_call(&task_b, TRIGGER_START, COND_SUCCESS, ok, 1);
	webhook_call *c = make_call(&task_b, TRIGGER_CANCEL, COND_SUCCESS, ok, 1);
	dispatcher_submit(d, a);
	dispatcher_submit(d, b);
	dispatcher_submit(d, c);
	server_wait_requests(srv, 1);
	assert_int_equal(dispatcher_pending(d), 3);

	int64_t t0 = now_us();
	dispatcher_free(d);
	int64_t took = now_us() - t0;
	assert_true(took >= 1500 * 1000 && took < 4000 * 1000);
	assert_int_equal(dl.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_false(dl.calls[i]->ok);
		assert_string_equal(dl.calls[i]->error, "shutting down");
	}
	assert_int_equal(server_nreq(srv), 1);
	assert_int_equal(metrics_get("webhooks_in_flight", "phase=\"start\""), 0);
}

/* ---- SSRF at connect time ------------------------------------------------ */

static dispatcher *start_dispatcher_with(const ssrf_policy *policy, const char *secret)
{
	dispatcher_config cfg = {
		.host_url = "http://localhost:8085",
		.concurrency = 2,
		.timeout_ms = 5000,
		.connect_timeout_ms = 2000,
		.ssrf = policy,
		.signing_secret = secret,
	};
	dispatcher *d = dispatcher_new(&cfg);
	assert_non_null(d);
	return d;
}

/* One call of one action with the given params text; returns it (done). */
static webhook_call *run_params(dispatcher *d, action_trigger trig, const char *params_text, bool no_handle)
{
	const char *params[] = { params_text };
	size_t before = dl.n;
	webhook_call *c = webhook_call_new(&task_a, trig, COND_SUCCESS, "k", params, 1);
	c->done = on_done;
	c->arg = &dl;
	c->no_handle = no_handle;
	dispatcher_submit(d, c);
	wait_done(before + 1);
	return dl.calls[before];
}

#define RESOLVES_PREFIX "on_start webhook failed: URL resolves to internal IP address '"

/* A name that passes every name rule but resolves to loopback. */
static void test_resolved_internal_address_refused(void **state)
{
	UNUSED(state);
	ssrf_policy open_names = { .skip = false };    /* no blocked hostnames or suffixes */
	char url[96];
	snprintf(url, sizeof(url), "{\"url\":\"http://localhost:%d/ok\",\"verb\":\"Post\"}", srv->port);

	char err[256];
	assert_int_equal(ssrf_check_url(&open_names, "http://localhost/", err, sizeof(err)), 0);

	dispatcher *d = start_dispatcher_with(&open_names, NULL);
	webhook_call *c = run_params(d, TRIGGER_START, url, false);
	dispatcher_free(d);

	assert_false(c->ok);
	assert_non_null(c->error);
	/* localhost is 127.0.0.1 and maybe ::1: whichever curl tried first */
	if (strcmp(c->error, RESOLVES_PREFIX "127.0.0.1' which is not allowed") != 0 &&
	    strcmp(c->error, RESOLVES_PREFIX "::1' which is not allowed") != 0)
		fail_msg("unexpected error \"%s\"", c->error);
	assert_int_equal(c->http_status, 0);
	assert_int_equal(server_nreq(srv), 0);
	assert_int_equal(metrics_get("webhook_executions_total", "trigger=\"start\",outcome=\"failure\""), 1);
}

static void test_resolved_internal_address_allowed_with_skip(void **state)
{
	UNUSED(state);
	ssrf_policy skip = { .skip = true };
	char url[96];
	snprintf(url, sizeof(url), "{\"url\":\"http://localhost:%d/ok\",\"verb\":\"Post\"}", srv->port);

	dispatcher *d = start_dispatcher_with(&skip, NULL);
	webhook_call *c = run_params(d, TRIGGER_START, url, false);
	dispatcher_free(d);
	assert_true(c->ok);
	assert_null(c->error);
	assert_int_equal(c->http_status, 200);
	assert_int_equal(server_nreq(srv), 1);
}

/* With the default lists the name rules apply again when calling. */
static void test_name_rules_checked_when_calling(void **state)
{
	UNUSED(state);
	ssrf_policy policy;
	ssrf_policy_init(&policy);
	char *localhost = NULL, *literal = NULL;
	if (asprintf(&localhost, "{\"url\":\"http://localhost:%d/ok\",\"verb\":\"Post\"}", srv->port) < 0 ||
	    asprintf(&literal, "{\"url\":\"http://127.0.0.2:%d/ok\",\"verb\":\"Post\"}", srv->port) < 0)
		abort();

	dispatcher *d = start_dispatcher_with(&policy, NULL);
	webhook_call *a = run_params(d, TRIGGER_START, localhost, false);
	webhook_call *b = run_params(d, TRIGGER_CANCEL, literal, false);
	dispatcher_free(d);
	ssrf_policy_release(&policy);
	free(localhost);
	free(literal);

	assert_false(a->ok);
	assert_string_equal(a->error, "on_start webhook failed: URL host 'localhost' is not allowed (internal/reserved)");
	assert_false(b->ok);
	assert_string_equal(b->error, "cancel webhook failed: URL points to internal IP address '127.0.0.2' which is not allowed");
	assert_int_equal(a->http_status, 0);
	assert_int_equal(server_nreq(srv), 0);
}

/* ---- signing -------------------------------------------------------------- */

/* HMAC-SHA256 through EVP_MAC, as a receiver might verify it; lowercase hex. */
static void hmac_sha256_hex(const char *key, const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	size_t mdlen = 0;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	assert_non_null(mac);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	assert_non_null(ctx);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	assert_int_equal(EVP_MAC_init(ctx, (const unsigned char *)key, strlen(key), params), 1);
	assert_int_equal(EVP_MAC_update(ctx, data, len), 1);
	assert_int_equal(EVP_MAC_final(ctx, md, &mdlen, sizeof(md)), 1);
	assert_int_equal(mdlen, 32);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	for (size_t i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void test_hmac_reference_vectors(void **state)
{
	UNUSED(state);
	char hex[65];
	/* RFC 4231, test case 2 */
	static const char data[] = "what do ya want for nothing?";
	static const char want[] = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
	hmac_sha256_hex("Jefe", data, strlen(data), hex);
	assert_string_equal(hex, want);

	/* HMAC() one-shot agrees with EVP_MAC on a signature-shaped message */
	static const char msg[] = "1700000000.{\"a\":1}";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char one_shot[65];
	assert_non_null(HMAC(EVP_sha256(), "s3cret", 6, (const unsigned char *)msg, strlen(msg), md, &mdlen));
	assert_int_equal(mdlen, 32);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(one_shot + 2 * i, 3, "%02x", md[i]);
	hmac_sha256_hex("s3cret", msg, strlen(msg), hex);
	assert_string_equal(hex, one_shot);
}

/* Checks r's X-Weft-Signature against secret and r's body bytes. */
static void assert_signed(const req *r, const char *secret)
{
	int n = 0;
	for (size_t i = 0; i < r->nhdr; i++)
		if (strncasecmp(r->hdr[i], "X-Weft-Signature:", 17) == 0)
			n++;
	assert_int_equal(n, 1);

	const char *sig = hdr_value(r, "X-Weft-Signature");
	assert_non_null(sig);
	assert_memory_equal(sig, "t=", 2);
	char *end = NULL;
	long long t = strtoll(sig + 2, &end, 10);
	assert_memory_equal(end, ",v1=", 4);
	const char *v1 = end + 4;
	assert_int_equal(strlen(v1), 64);
	assert_null(strpbrk(v1, "ABCDEF"));    /* lowercase hex */
	long long now = (long long)time(NULL);
	assert_true(t > now - 60 && t <= now + 1);

	char *msg = NULL;
	int mlen = asprintf(&msg, "%lld.", t);
	assert_true(mlen > 0);
	msg = realloc(msg, (size_t)mlen + r->body_len + 1);
	assert_non_null(msg);
	memcpy(msg + mlen, r->body, r->body_len);
	char want[65];
	hmac_sha256_hex(secret, msg, (size_t)mlen + r->body_len, want);
	free(msg);
	assert_string_equal(v1, want);
}

static void test_requests_signed(void **state)
{
	UNUSED(state);
	const char *secret = "whsec_0123456789";
	char *with_body = params_json("Post", "/ok", "\"body\":{\"b\":[1,\"\\u00e9\"],\"a\":null},"
	                              "\"headers\":{\"x-weft-signature\":\"t=1,v1=forged\",\"X-Other\":\"1\"}");
	char *empty_post = params_json("Post", "/ok", NULL);
	char *get = params_json("Get", "/ok", NULL);

	dispatcher *d = start_dispatcher_with(NULL, secret);
	webhook_call *a = run_params(d, TRIGGER_START, with_body, false);
	webhook_call *b = run_params(d, TRIGGER_END, empty_post, false);
	webhook_call *c = run_params(d, TRIGGER_CANCEL, get, false);
	dispatcher_free(d);
	free(with_body);
	free(empty_post);
	free(get);

	assert_true(a->ok && b->ok && c->ok);
	assert_int_equal(server_nreq(srv), 3);
	assert_string_equal(srv->reqs[0].body, "{\"b\":[1,\"\xc3\xa9\"],\"a\":null}");
	assert_string_equal(hdr_value(&srv->reqs[0], "X-Other"), "1");
	for (size_t i = 0; i < 3; i++)
		assert_signed(&srv->reqs[i], secret);
	assert_int_equal(srv->reqs[1].body_len, 0);
	assert_int_equal(srv->reqs[2].body_len, 0);
}

static void test_unsigned_without_secret(void **state)
{
	UNUSED(state);
	char *p = params_json("Post", "/ok", "\"body\":1,\"headers\":{\"X-Weft-Signature\":\"mine\"}");
	dispatcher *d = start_dispatcher_with(NULL, "");    /* empty = not set */
	webhook_call *c = run_params(d, TRIGGER_START, p, false);
	dispatcher_free(d);
	free(p);
	assert_true(c->ok);
	/* without a secret a custom header of that name is just a header */
	assert_string_equal(hdr_value(&srv->reqs[0], "X-Weft-Signature"), "mine");
}

/* ---- no_handle, http_status ----------------------------------------------- */

static void test_no_handle(void **state)
{
	UNUSED(state);
	char *plain = params_json("Post", "/ok", NULL);
	char *query = params_json("Post", "/ok?a=1&b=x%20y", NULL);
	dispatcher *d = start_dispatcher(1, 5000, 0);
	webhook_call *a = run_params(d, TRIGGER_END, plain, true);
	webhook_call *b = run_params(d, TRIGGER_END, query, true);
	webhook_call *c = run_params(d, TRIGGER_END, plain, false);
	dispatcher_free(d);
	free(plain);
	free(query);

	assert_true(a->ok && b->ok && c->ok);
	assert_int_equal(server_nreq(srv), 3);
	assert_string_equal(srv->reqs[0].target, "/ok");
	assert_string_equal(srv->reqs[1].target, "/ok?a=1&b=x%20y");
	assert_memory_equal(srv->reqs[2].target, "/ok?handle=", 11);
	/* the other headers are unchanged */
	assert_string_equal(hdr_value(&srv->reqs[0], "X-Task-Id"), task_a.str);
	assert_string_equal(hdr_value(&srv->reqs[0], "Idempotency-Key"), "k");
}

static void test_http_status(void **state)
{
	UNUSED(state);
	const char *one[][1] = { { "/ok" }, { "/fail" }, { "/redirect" }, { "/cancel" } };
	const int32_t want[] = { 200, 500, 302, 200 };
	dispatcher *d = start_dispatcher(1, 5000, 0);
	for (size_t i = 0; i < ARRAY_LEN(one); i++)
		dispatcher_submit(d, make_call(&task_a, TRIGGER_START, COND_SUCCESS, one[i], 1));
	/* several actions: the last answer counts */
	const char *two[] = { "/fail", "/ok" };
	const char *three[] = { "/ok", "/redirect", "/nowhere" };
	dispatcher_submit(d, make_call(&task_b, TRIGGER_END, COND_SUCCESS, two, 2));
	dispatcher_submit(d, make_call(&task_b, TRIGGER_END, COND_FAILURE, three, 3));
	wait_done(ARRAY_LEN(one) + 2);
	dispatcher_free(d);

	for (size_t i = 0; i < ARRAY_LEN(one); i++)    /* concurrency 1: in order */
		assert_int_equal(dl.calls[i]->http_status, want[i]);
	assert_false(dl.calls[4]->ok);
	assert_int_equal(dl.calls[4]->http_status, 200);
	assert_false(dl.calls[5]->ok);
	assert_int_equal(dl.calls[5]->http_status, 404);
}

static void test_http_status_none(void **state)
{
	UNUSED(state);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", ntohs(a.sin_port));

	const char *paths[] = { "/ok" };
	webhook_call *c = run_one(TRIGGER_START, COND_SUCCESS, paths, 1);
	assert_false(c->ok);
	assert_string_equal(c->error, "on_start webhook failed: Couldn't connect to server");
	assert_int_equal(c->http_status, 0);

	/* and a timeout before any answer */
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", srv->port);
	const char *hang[] = { "/hang" };
	dispatcher *d = start_dispatcher(1, 200, 0);
	dispatcher_submit(d, make_call(&task_a, TRIGGER_START, COND_SUCCESS, hang, 1));
	wait_done(2);
	dispatcher_free(d);
	assert_int_equal(dl.calls[1]->http_status, 0);
}

static int group_setup(void **state)
{
	UNUSED(state);
	log_set_level(LOG_ERROR);
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
	UNUSED(state);
	curl_global_cleanup();
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_valid),
		cmocka_unit_test(test_params_errors),
		cmocka_unit_test(test_params_url_errors),
		cmocka_unit_test(test_call_new_copies),
		T(test_request_shape),
		T(test_request_without_body),
		T(test_get_and_delete_with_body),
		T(test_success_2xx),
		T(test_http_500_fails),
		T(test_redirect_not_followed),
		T(test_connection_refused),
		T(test_timeout),
		T(test_response_too_large),
		T(test_end_and_cancel_messages),
		T(test_cancel_action_captured),
		T(test_cancel_action_last_wins),
		T(test_cancel_action_only_for_start),
		T(test_cancel_action_needs_action_shape),
		T(test_actions_sequential_past_failures),
		T(test_concurrency_bound),
		T(test_lanes_bound_each_its_own),
		T(test_calls_without_done_are_freed),
		T(test_zero_actions),
		T(test_shutdown_lets_short_transfers_finish),
		T(test_shutdown_aborts_hanging_transfers),
		T(test_resolved_internal_address_refused),
		T(test_resolved_internal_address_allowed_with_skip),
		T(test_name_rules_checked_when_calling),
		cmocka_unit_test(test_hmac_reference_vectors),
		T(test_requests_signed),
		T(test_unsigned_without_secret),
		T(test_no_handle),
		T(test_http_status),
		T(test_http_status_none),
	};
	return cmocka_run_group_tests_name("webhook", tests, group_setup, group_teardown);
}
