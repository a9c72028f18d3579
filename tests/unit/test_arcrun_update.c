/*
 * test_arcrun_update.c — decoding and validation of the ArcRun API's
 * PATCH and PUT /task/{id} bodies and the PATCH /batch/{id}/rules body
 * (src/http/arcrun/decode.c): every message, the fields handed to the
 * engine, and what PUT ignores.
 */
#include "util/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "core/error.h"
#include "http/arcrun/decode.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "arcrun_fixtures.h"

/* ---- PATCH / PUT ----------------------------------------------------------- */

typedef struct upd {
	int res;
	http_error err;
	update_input in;
} upd;

static void patch(upd *u, const char *json, bool is_put)
{
	http_error_init(&u->err);
	u->res = is_put ? arcrun_decode_put(json, strlen(json), &cfg, &u->in, &u->err)
	                : arcrun_decode_patch(json, strlen(json), &cfg, &u->in, &u->err);
}

static void upd_release(upd *u)
{
	http_error_release(&u->err);
	update_input_release(&u->in);
}

static void expect_patch_detail(const char *json, bool is_put, const char *detail)
{
	upd u;
	patch(&u, json, is_put);
	if (!has(&u.err.details, detail))
		dump(&u.err.details);
	assert_int_equal(u.res, WEFT_EINVALID);
	assert_true(has(&u.err.details, detail));
	upd_release(&u);
}

static void test_patch_valid(void **state)
{
	UNUSED(state);
	upd u;
	patch(&u, "{\"status\":\"Success\",\"new_success\":3,\"metadata\":{\"a\": 1},\"expected_count\":10,\"priority\":7}", false);
	assert_int_equal(u.res, 0);
	assert_true(u.in.has_status);
	assert_int_equal(u.in.status, TS_SUCCESS);
	assert_int_equal(u.in.new_success, 3);
	assert_int_equal(u.in.new_failures, 0);
	assert_string_equal(u.in.metadata, "{\"a\":1}");
	assert_true(u.in.has_expected_count);
	assert_int_equal(u.in.expected_count, 10);
	assert_true(u.in.has_priority);
	assert_int_equal(u.in.priority, 7);
	assert_null(u.in.failure_reason);
	upd_release(&u);

	/* An empty failure_reason is enough; metadata null keeps the old one. */
	patch(&u, "{\"status\":\"Failure\",\"failure_reason\":\"\",\"metadata\":null}", false);
	assert_int_equal(u.res, 0);
	assert_int_equal(u.in.status, TS_FAILURE);
	assert_string_equal(u.in.failure_reason, "");
	assert_null(u.in.metadata);
	upd_release(&u);

	/* Counters beyond 32 bits are accepted (64-bit counters). */
	patch(&u, "{\"new_failures\":5000000000}", false);
	assert_int_equal(u.res, 0);
	assert_false(u.in.has_status);
	assert_int_equal(u.in.new_failures, 5000000000LL);
	upd_release(&u);

	patch(&u, "{}", false);
	assert_int_equal(u.res, 0);
	upd_release(&u);
}

static void test_patch_messages(void **state)
{
	UNUSED(state);
	expect_patch_detail("{\"status\":\"Pending\"}", false, "status: Status can only be updated to Success or Failure");
	expect_patch_detail("{\"status\":\"Running\"}", false, "status: Status can only be updated to Success or Failure");
	expect_patch_detail("{\"status\":\"Failure\"}", false, "failure_reason: failure_reason is required when status is Failure");
	expect_patch_detail("{\"status\":\"Failure\",\"failure_reason\":null}", false,
	                    "failure_reason: failure_reason is required when status is Failure");
	expect_patch_detail("{\"new_success\":-1}", false, "new_success: new_success cannot be negative");
	expect_patch_detail("{\"new_failures\":-1}", false, "new_failures: new_failures cannot be negative");
	expect_patch_detail("{\"expected_count\":-1}", false, "expected_count: expected_count cannot be negative");
	/* Counters a client sends are bounded by 2^53 - 1. */
	expect_patch_detail("{\"new_success\":9007199254740992}", false,
	                    "new_success: new_success cannot exceed 9007199254740991");
	expect_patch_detail("{\"new_failures\":9223372036854775807}", false,
	                    "new_failures: new_failures cannot exceed 9007199254740991");
	expect_patch_detail("{\"expected_count\":9007199254740992}", false,
	                    "expected_count: expected_count cannot exceed 9007199254740991");
	expect_patch_detail("{\"priority\":1001}", false, "priority: priority must be between -1000 and 1000");
	expect_patch_detail("{\"priority\":-1001}", false, "priority: priority must be between -1000 and 1000");
	expect_patch_detail("{\"status\":\"Bogus\"}", false, "status: unknown status 'Bogus'");
	expect_patch_detail("{\"new_success\":\"1\"}", false, "new_success: expected an integer, got string");
	expect_patch_detail("{\"failure_reason\":7}", false, "failure_reason: expected a string, got integer");

	char *big = xmalloc(70000);
	memset(big, 'x', 69999);
	big[69999] = '\0';
	buf b;
	buf_init(&b);
	buf_printf(&b, "{\"metadata\":{\"k\":\"%s\"}}", big);
	expect_patch_detail(b.data, false, "metadata: Metadata cannot exceed 64KB");
	/* Metadata is an object, as in ArcRun. */
	expect_patch_detail("{\"metadata\":[1]}", false, "metadata: expected an object, got array");
	expect_patch_detail("{\"metadata\":\"x\"}", false, "metadata: expected an object, got string");
	expect_patch_detail("{\"metadata\":0}", false, "metadata: expected an object, got integer");
	buf_release(&b);
	free(big);

	upd u;
	patch(&u, "{\"status\":\"Pending\",\"new_success\":-1,\"priority\":2000}", false);
	assert_int_equal(u.err.details.len, 3);
	upd_release(&u);

	const char *bad[] = { "[]", "3", "nope" };
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		patch(&u, bad[i], false);
		assert_int_equal(u.res, WEFT_EINVALID);
		assert_int_equal(u.err.kind, HTTP_ERR_SYNTAX);
		assert_null(u.err.param);
		upd_release(&u);
	}
}

static void test_put(void **state)
{
	UNUSED(state);
	upd u;
	patch(&u, "{\"new_success\":2,\"new_failures\":1}", true);
	assert_int_equal(u.res, 0);
	assert_int_equal(u.in.new_success, 2);
	assert_int_equal(u.in.new_failures, 1);
	upd_release(&u);

	/* PUT ignores status and the other PATCH rules. */
	patch(&u, "{\"new_success\":1,\"status\":\"Failure\",\"priority\":5000,\"expected_count\":-4}", true);
	assert_int_equal(u.res, 0);
	upd_release(&u);

	expect_patch_detail("{\"new_success\":-1}", true, "new_success: new_success cannot be negative");
	expect_patch_detail("{\"new_failures\":-2,\"new_success\":1}", true, "new_failures: new_failures cannot be negative");
	expect_patch_detail("{\"new_failures\":true}", true, "new_failures: expected an integer, got boolean");
	expect_patch_detail("{\"new_success\":9223372036854775807}", true,
	                    "new_success: new_success cannot exceed 9007199254740991");
	patch(&u, "{\"new_success\":9007199254740991,\"new_failures\":9007199254740991}", true);
	assert_int_equal(u.res, 0);
	assert_int_equal(u.in.new_success, 9007199254740991LL);
	upd_release(&u);

	const char *zero[] = { "{}", "{\"new_success\":0}", "{\"new_success\":0,\"new_failures\":0}", "{\"new_success\":null}" };
	for (size_t i = 0; i < ARRAY_LEN(zero); i++) {
		patch(&u, zero[i], true);
		assert_int_equal(u.res, WEFT_EINVALID);
		assert_int_equal(u.err.kind, HTTP_ERR_RULE);
		assert_null(u.err.param);
		assert_string_equal(u.err.message, "At least one of new_success or new_failures must be non-zero");
		upd_release(&u);
	}
}

/* ---- PATCH /batch/{id}/rules -------------------------------------------- */

static void rules(const char *json, int want, const char *detail, const char *stored)
{
	http_error err;
	http_error_init(&err);
	rules_input in;
	int res = arcrun_decode_rules(json, strlen(json), &cfg, &in, &err);
	if (detail != NULL && !has(&err.details, detail))
		dump(&err.details);
	assert_int_equal(res, want);
	if (detail != NULL)
		assert_true(has(&err.details, detail));
	if (stored != NULL)
		assert_string_equal(in.rules, stored);
	http_error_release(&err);
	rules_input_release(&in);
}

static void test_batch_rules(void **state)
{
	UNUSED(state);
	rules("{\"kind\":\"ci\",\"rules\":[]}", 0, NULL, "[]");
	/* Capacity needs no expected_count here. */
	rules("{\"kind\":\"ci\",\"rules\":[" RULE("Capacity", "max_capacity", "5", "Running", "ci") "]}", 0, NULL,
	      "[" RULE("Capacity", "max_capacity", "5", "Running", "ci") "]");
	rules("{\"kind\":\"  \",\"rules\":[]}", WEFT_EINVALID, "kind: Task kind cannot be empty", NULL);
	rules("{\"rules\":[]}", WEFT_EINVALID, "kind: missing field", NULL);
	rules("{\"kind\":\"ci\"}", WEFT_EINVALID, "rules: missing field", NULL);
	rules("{\"kind\":\"ci\",\"rules\":[" RULE("Concurency", "max_concurency", "0", "Running", "ci") "]}", WEFT_EINVALID,
	      "rules[0].max_concurency: max_concurency must be a positive integer", NULL);
	rules("{\"kind\":\"ci\",\"rules\":[" RULE("Concurency", "max_concurency", "1", "Running", "ci") ","
	      RULE("Capacity", "max_capacity", "5", "Waiting", "ci") "]}",
	      WEFT_EINVALID, "rules[1].matcher.status: Capacity rules only support matcher.status = Running", NULL);
	rules("{\"kind\":\"ci\",\"rules\":[" RULE("Concurency", "max_concurency", "1", "Running", "") "]}", WEFT_EINVALID,
	      "rules[0].matcher.kind: Matcher kind cannot be empty", NULL);
	rules("[1]", WEFT_EINVALID, NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patch_valid),
		cmocka_unit_test(test_patch_messages),
		cmocka_unit_test(test_put),
		cmocka_unit_test(test_batch_rules),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
