/*
 * test_http_client.c — the HTTP client against a small server inside the
 * test (libmicrohttpd on 127.0.0.1, a thread per connection, counting the
 * connections it accepts).
 *
 * Server routes:
 *   /ok        200 "ok"                   /status/404  404 "nope"
 *   /echo      200, the request echoed: method, Authorization, Content-Type,
 *              X-Extra, Expect, then the body (one line each)
 *   /headers   200 with X-Batch-ID, a repeated X-Multi, a padded X-Spaced
 *   /close     200 "bye" with Connection: close
 *   /slow      200 after 600 ms           /big         200 + 100000 bytes
 *   /hang      200 after 2 s
 */
#include "util/common.h"
#include "client/http_client.h"
#include "util/buf.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

/* ---- the test server ---------------------------------------------------- */

static struct MHD_Daemon *daemon_;
static int port;
static atomic_int connections;   /* accepted since the test began */

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	UNUSED(cls);
	UNUSED(conn);
	UNUSED(socket_context);
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&connections, 1);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	UNUSED(cls);
	UNUSED(conn);
	UNUSED(toe);
	buf *b = *con_cls;
	if (b) {
		buf_release(b);
		free(b);
		*con_cls = NULL;
	}
}

static const char *header_or_dash(struct MHD_Connection *conn, const char *name)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
	return v ? v : "-";
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *body, size_t len,
                              const char *const *headers)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	for (size_t i = 0; headers && headers[i]; i += 2)
		MHD_add_response_header(r, headers[i], headers[i + 1]);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	UNUSED(cls);
	UNUSED(version);
	buf *b = *con_cls;
	if (!b) {
		b = malloc(sizeof(*b));
		buf_init(b);
		*con_cls = b;
		return MHD_YES;
	}
	if (*upload_size) {
		buf_append(b, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/ok") == 0)
		return answer(conn, 200, "ok", 2, NULL);
	if (strcmp(url, "/status/404") == 0)
		return answer(conn, 404, "nope", 4, NULL);
	if (strcmp(url, "/echo") == 0) {
		buf e;
		buf_init(&e);
		buf_printf(&e, "%s\n%s\n%s\n%s\n%s\n", method, header_or_dash(conn, "Authorization"),
		           header_or_dash(conn, "Content-Type"), header_or_dash(conn, "X-Extra"),
		           header_or_dash(conn, "Expect"));
		buf_append(&e, b->data, b->len);
		enum MHD_Result ret = answer(conn, 200, e.data, e.len, NULL);
		buf_release(&e);
		return ret;
	}
	if (strcmp(url, "/headers") == 0) {
		static const char *const h[] = { "X-Batch-ID", "abc-123", "X-Multi", "1", "X-Multi", "2",
			                         "X-Spaced", "  v w  ", NULL };
		return answer(conn, 200, "", 0, h);
	}
	if (strcmp(url, "/close") == 0) {
		static const char *const h[] = { "Connection", "close", NULL };
		return answer(conn, 200, "bye", 3, h);
	}
	if (strcmp(url, "/slow") == 0) {
		struct timespec ts = { 0, 600 * 1000000L };
		nanosleep(&ts, NULL);
		return answer(conn, 200, "late", 4, NULL);
	}
	if (strcmp(url, "/hang") == 0) {
		struct timespec ts = { 2, 0 };
		nanosleep(&ts, NULL);
		return answer(conn, 200, "late", 4, NULL);
	}
	if (strcmp(url, "/big") == 0) {
		char *big = malloc(100000);
		memset(big, 'x', 100000);
		struct MHD_Response *r = MHD_create_response_from_buffer(100000, big, MHD_RESPMEM_MUST_FREE);
		enum MHD_Result ret = MHD_queue_response(conn, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	return answer(conn, 500, "no route", 8, NULL);
}

static int group_setup(void **state)
{
	UNUSED(state);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	daemon_ = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
	                           handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                           MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_NOTIFY_COMPLETED,
	                           on_completed, NULL, MHD_OPTION_END);
	if (!daemon_)
		return -1;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	port = info ? (int)info->port : 0;
	return port > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	UNUSED(state);
	MHD_stop_daemon(daemon_);
	curl_global_cleanup();
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static http_client *client;
static http_response resp;

static http_client *new_client(const char *token)
{
	char base[64];
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	http_client_options o = { .base_url = base, .token = token, .timeout_ms = 5000 };
	http_client *c = http_client_new(&o);
	assert_non_null(c);
	return c;
}

static int setup(void **state)
{
	UNUSED(state);
	atomic_store(&connections, 0);
	client = new_client(NULL);
	http_response_init(&resp);
	return 0;
}

static int teardown(void **state)
{
	UNUSED(state);
	http_client_free(client);
	http_response_release(&resp);
	return 0;
}

static int get(const char *path)
{
	return http_client_request(client, "GET", path, NULL, 0, NULL, &resp);
}

/* ---- tests -------------------------------------------------------------- */

static void test_status_and_body(void **state)
{
	UNUSED(state);
	assert_int_equal(get("/ok"), 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.body.data, "ok");
	assert_int_equal(resp.body_bytes, 2);
	assert_string_equal(resp.error, "");
	/* an error status is an answer, not a failure */
	assert_int_equal(get("/status/404"), 0);
	assert_int_equal(resp.status, 404);
	assert_string_equal(resp.body.data, "nope");
	char base[64];
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	assert_string_equal(http_client_base_url(client), base);
}

static void test_methods_and_body(void **state)
{
	UNUSED(state);
	static const char body[] = "{\"status\":\"Success\"}";
	assert_int_equal(http_client_request(client, "PATCH", "/echo", body, strlen(body), NULL, &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.body.data, "PATCH\n-\napplication/json\n-\n-\n{\"status\":\"Success\"}");
	assert_int_equal(http_client_request(client, "POST", "/echo", "[1]", 3, NULL, &resp), 0);
	assert_string_equal(resp.body.data, "POST\n-\napplication/json\n-\n-\n[1]");
	/* a body with a NUL, sent whole */
	assert_int_equal(http_client_request(client, "PUT", "/echo", "a\0b", 3, NULL, &resp), 0);
	assert_int_equal(resp.body.len, strlen("PUT\n-\napplication/json\n-\n-\n") + 3);
	assert_memory_equal(resp.body.data + resp.body.len - 3, "a\0b", 3);
	/* without a body: no Content-Type, and the POST state is gone */
	assert_int_equal(http_client_request(client, "DELETE", "/echo", NULL, 0, NULL, &resp), 0);
	assert_string_equal(resp.body.data, "DELETE\n-\n-\n-\n-\n");
	assert_int_equal(get("/echo"), 0);
	assert_string_equal(resp.body.data, "GET\n-\n-\n-\n-\n");
	assert_int_equal(http_client_request(client, "HEAD", "/ok", NULL, 0, NULL, &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.body_bytes, 0);
	assert_int_equal(get("/ok"), 0);
	assert_string_equal(resp.body.data, "ok");
	/* a large body, no 100-continue wait */
	char *big = malloc(300000);
	memset(big, 'y', 300000);
	assert_int_equal(http_client_request(client, "POST", "/echo", big, 300000, NULL, &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.body.len, strlen("POST\n-\napplication/json\n-\n-\n") + 300000);
	free(big);
}

static void test_token_and_extra_headers(void **state)
{
	UNUSED(state);
	http_client *c = new_client("t0ken");
	assert_int_equal(http_client_request(c, "GET", "/echo", NULL, 0, NULL, &resp), 0);
	assert_string_equal(resp.body.data, "GET\nBearer t0ken\n-\n-\n-\n");
	static const char *const extra[] = { "X-Extra: 1", "content-type: text/plain", NULL };
	assert_int_equal(http_client_request(c, "POST", "/echo", "hi", 2, extra, &resp), 0);
	assert_string_equal(resp.body.data, "POST\nBearer t0ken\ntext/plain\n1\n-\nhi");
	/* "Name:" alone removes a header the client sends */
	static const char *const drop[] = { "Authorization:", NULL };
	assert_int_equal(http_client_request(c, "GET", "/echo", NULL, 0, drop, &resp), 0);
	assert_string_equal(resp.body.data, "GET\n-\n-\n-\n-\n");
	/* and the next request has the client's own headers again */
	assert_int_equal(http_client_request(c, "GET", "/echo", NULL, 0, NULL, &resp), 0);
	assert_string_equal(resp.body.data, "GET\nBearer t0ken\n-\n-\n-\n");
	http_client_free(c);
}

static void test_header_lookup(void **state)
{
	UNUSED(state);
	assert_int_equal(get("/headers"), 0);
	assert_string_equal(http_response_header(&resp, "X-Batch-ID"), "abc-123");
	assert_string_equal(http_response_header(&resp, "x-batch-id"), "abc-123");
	assert_string_equal(http_response_header(&resp, "X-Multi"), "1");
	assert_string_equal(http_response_header(&resp, "X-Spaced"), "v w");
	assert_string_equal(http_response_header(&resp, "Content-Length"), "0");
	assert_null(http_response_header(&resp, "X-Missing"));
	assert_null(http_response_header(&resp, "X-Batch"));
	/* the next answer's fields replace them */
	assert_int_equal(get("/ok"), 0);
	assert_null(http_response_header(&resp, "X-Batch-ID"));
	assert_string_equal(http_response_header(&resp, "content-length"), "2");
}

static void test_discard_body(void **state)
{
	UNUSED(state);
	resp.discard_body = true;
	assert_int_equal(get("/big"), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.body_bytes, 100000);
	assert_int_equal(resp.body.len, 0);
	assert_string_equal(resp.body.data, "");
	resp.discard_body = false;
	assert_int_equal(get("/big"), 0);
	assert_int_equal(resp.body.len, 100000);
}

/* An answer past the client's bound fails the request and says why; the
 * same client then takes answers within it. */
static void test_answer_bound(void **state)
{
	UNUSED(state);
	char base[64];
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	http_client_options o = { .base_url = base, .timeout_ms = 5000, .max_body = 99999 };
	http_client *c = http_client_new(&o);
	assert_non_null(c);
	assert_int_equal(http_client_request(c, "GET", "/big", NULL, 0, NULL, &resp), HTTP_CLIENT_ETRANSPORT);
	assert_non_null(strstr(resp.error, "answer too large (more than 99999 bytes)"));
	assert_true(resp.body.len <= 99999);
	assert_int_equal(http_client_request(c, "GET", "/ok", NULL, 0, NULL, &resp), 0);
	assert_int_equal(resp.status, 200);
	http_client_free(c);
	o.max_body = 100000;   /* exactly the body: taken */
	c = http_client_new(&o);
	assert_int_equal(http_client_request(c, "GET", "/big", NULL, 0, NULL, &resp), 0);
	assert_int_equal(resp.body.len, 100000);
	http_client_free(c);
}

static void test_keep_alive(void **state)
{
	UNUSED(state);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(get("/ok"), 0);
		assert_int_equal(http_client_request(client, "POST", "/echo", "x", 1, NULL, &resp), 0);
	}
	assert_int_equal(atomic_load(&connections), 1);
	/* a server that closes the connection gets a new one next time */
	assert_int_equal(get("/close"), 0);
	assert_string_equal(resp.body.data, "bye");
	assert_int_equal(get("/ok"), 0);
	assert_int_equal(get("/ok"), 0);
	assert_int_equal(atomic_load(&connections), 2);
	/* each client has its own connection */
	http_client *other = new_client(NULL);
	assert_int_equal(http_client_request(other, "GET", "/ok", NULL, 0, NULL, &resp), 0);
	assert_int_equal(atomic_load(&connections), 3);
	http_client_free(other);
}

/* A port where nothing listens: bound, never listened on. */
static int closed_port(int *fd)
{
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	assert_int_equal(bind(*fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(*fd, (struct sockaddr *)&sa, &sl), 0);
	return ntohs(sa.sin_port);
}

static void test_connection_refused(void **state)
{
	UNUSED(state);
	int fd;
	char base[64], want[128];
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", closed_port(&fd));
	http_client_options o = { .base_url = base };
	http_client *c = http_client_new(&o);
	assert_non_null(c);
	resp.status = 123;
	assert_int_equal(http_client_request(c, "GET", "/health", NULL, 0, NULL, &resp), HTTP_CLIENT_ECONNECT);
	assert_int_equal(resp.status, 0);
	snprintf(want, sizeof(want), "GET %s/health: cannot connect: Connection refused", base);
	assert_string_equal(resp.error, want);
	assert_string_equal(http_client_strerror(HTTP_CLIENT_ECONNECT), "cannot connect");
	/* the same client works once something listens there */
	assert_int_equal(listen(fd, 1), 0);
	http_client_set_timeout(c, 200);
	assert_int_equal(http_client_request(c, "GET", "/health", NULL, 0, NULL, &resp), HTTP_CLIENT_ETIMEOUT);
	assert_non_null(strstr(resp.error, "timed out"));
	close(fd);
	http_client_free(c);
}

static void test_timeout(void **state)
{
	UNUSED(state);
	http_client_set_timeout(client, 150);
	assert_int_equal(get("/slow"), HTTP_CLIENT_ETIMEOUT);
	assert_int_equal(resp.status, 0);
	char want[128];
	snprintf(want, sizeof(want), "GET http://127.0.0.1:%d/slow: timed out: ", port);
	assert_true(strncmp(resp.error, want, strlen(want)) == 0);
	/* back to the default; the client recovers */
	http_client_set_timeout(client, 0);
	assert_int_equal(get("/slow"), 0);
	assert_string_equal(resp.body.data, "late");
	assert_string_equal(resp.error, "");
}

static atomic_bool cancel_flag;

static void *cancel_soon(void *arg)
{
	UNUSED(arg);
	struct timespec ts = { 0, 100 * 1000000L };
	nanosleep(&ts, NULL);
	atomic_store(&cancel_flag, true);
	return NULL;
}

static void test_cancel(void **state)
{
	UNUSED(state);
	atomic_store(&cancel_flag, false);
	http_client_set_cancel(client, &cancel_flag);
	assert_int_equal(get("/ok"), 0);   /* a flag that is not set changes nothing */
	/* set while a request waits: it stops within about a second, well
	 * before the 2 s answer */
	pthread_t t;
	pthread_create(&t, NULL, cancel_soon, NULL);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(get("/hang"), HTTP_CLIENT_ECANCELED);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(t, NULL);
	double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(took < 1.6);
	assert_non_null(strstr(resp.error, "/hang: canceled"));
	/* while set, nothing is sent */
	int before = atomic_load(&connections);
	assert_int_equal(get("/ok"), HTTP_CLIENT_ECANCELED);
	assert_int_equal(atomic_load(&connections), before);
	/* cleared, the client works again */
	atomic_store(&cancel_flag, false);
	assert_int_equal(get("/ok"), 0);
	assert_int_equal(resp.status, 200);
	http_client_set_cancel(client, NULL);
}

typedef struct progress_seen {
	int calls;
	int64_t up_now, up_total, down_now;
	int stop_after;   /* answer non-zero from this call on (0: never) */
} progress_seen;

static int on_progress_seen(void *ud, int64_t up_now, int64_t up_total, int64_t down_now, int64_t down_total)
{
	UNUSED(down_total);
	progress_seen *p = ud;
	p->calls++;
	assert_true(up_now >= p->up_now && up_now <= up_total);   /* it only grows, up to the total */
	p->up_now = up_now;
	p->up_total = up_total;
	p->down_now = down_now;
	return p->stop_after && p->calls >= p->stop_after;
}

static void test_progress_hook(void **state)
{
	UNUSED(state);
	size_t n = 4 << 20;
	char *big = malloc(n);
	memset(big, 'z', n);
	progress_seen seen = { 0 };
	http_client_set_progress(client, on_progress_seen, &seen);
	assert_int_equal(http_client_request(client, "POST", "/echo", big, n, NULL, &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_true(seen.calls > 0);
	assert_int_equal(seen.up_total, (int64_t)n);   /* the whole body went out, and was seen to */
	assert_int_equal(seen.up_now, (int64_t)n);
	/* a hook answering non-zero stops the request */
	progress_seen stopper = { .stop_after = 1 };
	http_client_set_progress(client, on_progress_seen, &stopper);
	assert_int_equal(http_client_request(client, "POST", "/echo", big, n, NULL, &resp), HTTP_CLIENT_ECANCELED);
	/* removed, it is called no more; with a cancel flag beside it, both work */
	http_client_set_progress(client, NULL, NULL);
	int calls = stopper.calls;
	assert_int_equal(get("/ok"), 0);
	assert_int_equal(stopper.calls, calls);
	atomic_store(&cancel_flag, false);
	http_client_set_cancel(client, &cancel_flag);
	memset(&seen, 0, sizeof(seen));
	http_client_set_progress(client, on_progress_seen, &seen);
	assert_int_equal(get("/big"), 0);
	assert_int_equal(resp.body.len, 100000);
	assert_int_equal(seen.down_now, 100000);
	http_client_set_cancel(client, NULL);
	assert_int_equal(get("/big"), 0);   /* the hook outlives the flag's removal */
	http_client_set_progress(client, NULL, NULL);
	free(big);
}

static void test_bad_arguments(void **state)
{
	UNUSED(state);
	http_client_options o = { 0 };
	assert_null(http_client_new(NULL));
	assert_null(http_client_new(&o));
	o.base_url = "ftp://example.com";
	assert_null(http_client_new(&o));
	o.base_url = "127.0.0.1:8085";
	assert_null(http_client_new(&o));
	assert_int_equal(http_client_request(client, "GET /x", "/ok", NULL, 0, NULL, &resp), HTTP_CLIENT_EINVAL);
	assert_int_equal(http_client_request(client, "", "/ok", NULL, 0, NULL, &resp), HTTP_CLIENT_EINVAL);
	assert_non_null(strstr(resp.error, "bad method"));
	/* a trailing '/' of the base URL is not doubled */
	char base[64];
	snprintf(base, sizeof(base), "http://127.0.0.1:%d/", port);
	o.base_url = base;
	http_client *c = http_client_new(&o);
	assert_non_null(c);
	assert_int_equal(http_client_request(c, "GET", "/ok", NULL, 0, NULL, &resp), 0);
	assert_int_equal(resp.status, 200);
	http_client_free(c);
	http_client_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_and_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_methods_and_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_and_extra_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_progress_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	};
	return cmocka_run_group_tests_name("http_client", tests, group_setup, group_teardown);
}
