/*
 * test_webhook.c — WebhookParams validation, and single calls through the
 * dispatcher against the test server (webhook_test.h): the request's
 * shape, the outcomes (2xx, 500, redirect, refused, timeout, too large),
 * the end and cancel messages, and cancel actions answered by a start.
 */
#include "webhook_test.h"

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
	assert_int_equal(c->http_status, 0);     /* no answer: no status */
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
	assert_int_equal(dl.calls[0]->http_status, 0);     /* no answer: no status */
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
	};
	return cmocka_run_group_tests_name("webhook", tests, group_setup, group_teardown);
}
