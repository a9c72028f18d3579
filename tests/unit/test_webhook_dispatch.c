/*
 * test_webhook_dispatch.c — the dispatcher under load and at its edges,
 * against the test server (webhook_test.h): its concurrency bound and
 * lanes, calls nobody waits for, shutdown, the address check at connect
 * time (DNS rebinding), request signing (X-Weft-Signature, checked against
 * libcrypto's EVP_MAC), no_handle and http_status.
 */
#include "webhook_test.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
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
	};
	return cmocka_run_group_tests_name("webhook dispatch", tests, group_setup, group_teardown);
}
