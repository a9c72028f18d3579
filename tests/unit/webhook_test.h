/*
 * webhook_test.h — what the dispatcher's test files share: a small
 * HTTP/1.1 server running inside the test on 127.0.0.1, the log of calls
 * done, and the set-up that starts one server and dispatcher per test.
 *
 * Server routes (path before '?'):
 *   /ok        200 "ok"                  /fail      500
 *   /cancel    200 + a NewActionDto      /cancel2   200 + another one
 *   /notaction 200 + a JSON object that is not an action
 *   /redirect  302 to /ok                /big       200 + 64 KiB
 *   /slow      200 after 300 ms          /hang      no answer until the client leaves
 */
#ifndef WEFT_TESTS_WEBHOOK_TEST_H
#define WEFT_TESTS_WEBHOOK_TEST_H

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

#include "net_test.h"

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

static const char CANCEL_BODY[] __attribute__((unused)) =
	"{\"kind\": \"Webhook\", \"params\": {\"url\": \"http://example.com/undo\", \"verb\": \"Post\"}}";
static const char CANCEL_COMPACT[] __attribute__((unused)) =
	"{\"kind\":\"Webhook\",\"params\":{\"url\":\"http://example.com/undo\",\"verb\":\"Post\"}}";
static const char CANCEL2_BODY[] __attribute__((unused)) =
	"{\"kind\":\"Webhook\",\"params\":{\"url\":\"http://example.com/undo2\",\"verb\":\"Delete\"}}";

static inline int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

typedef struct resp {
	int code;                    /* 0: no answer, close the connection */
	const char *reason;
	char extra[128];             /* extra header lines */
	const char *body;
	size_t blen;
	char *owned;                 /* body to free */
} resp;

static inline void set_resp(resp *out, int code, const char *reason, const char *body)
{
	out->code = code;
	out->reason = reason;
	out->body = body;
	out->blen = strlen(body);
}

static inline bool send_resp(int fd, const resp *r)
{
	char head[512];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s\r\n",
	                 r->code, r->reason, r->blen, r->extra);
	return send_all(fd, head, (size_t)n) && send_all(fd, r->body, r->blen);
}

static inline size_t route_len(const char *target)
{
	const char *q = strchr(target, '?');
	return q ? (size_t)(q - target) : strlen(target);
}

static inline bool route_is(const char *target, const char *path)
{
	return route_len(target) == strlen(path) && memcmp(target, path, strlen(path)) == 0;
}

/* Decides the answer to one request (taking the route's time). */
static inline void serve_one(server *s, int fd, const char *target, resp *out)
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

static inline void *conn_main(void *arg)
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

static inline void *server_main(void *arg)
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

static inline server *server_start(void)
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

static inline void server_stop(server *s)
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

static inline size_t server_nreq(server *s)
{
	pthread_mutex_lock(&s->mu);
	size_t n = s->nreq;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static inline void server_wait_requests(server *s, size_t n)
{
	int64_t end = now_us() + 5 * 1000 * 1000;
	while (server_nreq(s) < n) {
		if (now_us() > end)
			fail_msg("server saw %zu requests, expected %zu", server_nreq(s), n);
		sleep_ms(5);
	}
}

/* Index of the header line, or -1. */
static inline int hdr_index(const req *r, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < r->nhdr; i++)
		if (strncasecmp(r->hdr[i], name, n) == 0 && r->hdr[i][n] == ':')
			return (int)i;
	return -1;
}

static inline const char *hdr_value(const req *r, const char *name)
{
	int i = hdr_index(r, name);
	if (i < 0)
		return NULL;
	const char *v = r->hdr[i] + strlen(name) + 1;
	while (*v == ' ')
		v++;
	return v;
}

static inline void url_decode(const char *in, char *out, size_t outlen)
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

static done_log dl __attribute__((unused));
static server *srv __attribute__((unused));
static char base[64] __attribute__((unused));   /* "http://127.0.0.1:<port>" */
static const weft_id task_a __attribute__((unused)) = { "0190a3f4-1c2b-7d3e-8f40-123456789abc" };
static const weft_id task_b __attribute__((unused)) = { "0190a3f4-1c2b-7d3e-8f40-cba987654321" };

static inline void on_done(webhook_call *c, void *arg)
{
	done_log *l = arg;
	pthread_mutex_lock(&l->mu);
	if (l->n < MAX_DONE)
		l->calls[l->n++] = c;
	l->thread = pthread_self();
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

static inline void wait_done(size_t n)
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
static inline char *params_json(const char *verb, const char *path, const char *extra)
{
	char *s = NULL;
	if (asprintf(&s, "{\"url\":\"%s%s\",\"verb\":\"%s\"%s%s}", base, path, verb,
	             extra ? "," : "", extra ? extra : "") < 0)
		abort();
	return s;
}

static inline webhook_call *make_call(const weft_id *id, action_trigger trig, action_condition cond,
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

static inline dispatcher *start_dispatcher(int concurrency, long timeout_ms, size_t max_response)
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
static inline webhook_call *run_one(action_trigger trig, action_condition cond, const char *const *paths, size_t n)
{
	dispatcher *d = start_dispatcher(4, 5000, 0);
	dispatcher_submit(d, make_call(&task_a, trig, cond, paths, n));
	wait_done(1);
	dispatcher_free(d);
	return dl.calls[0];
}

static inline int setup(void **state)
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

static inline int teardown(void **state)
{
	UNUSED(state);
	server_stop(srv);
	for (size_t i = 0; i < dl.n; i++)
		webhook_call_free(dl.calls[i]);
	pthread_cond_destroy(&dl.cv);
	pthread_mutex_destroy(&dl.mu);
	return 0;
}

/* ---- the group ------------------------------------------------------------ */

static inline int group_setup(void **state)
{
	UNUSED(state);
	log_set_level(LOG_ERROR);
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static inline int group_teardown(void **state)
{
	UNUSED(state);
	curl_global_cleanup();
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

#endif
