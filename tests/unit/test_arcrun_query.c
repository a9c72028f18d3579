/*
 * test_arcrun_query.c — the ArcRun API's query strings
 * (src/http/arcrun/decode.c): paging, the GET /task, GET /batches and
 * GET /webhook-deliveries filters, and what a bad parameter records in the
 * request's error object; and the status spellings they use (names.c).
 */
#include "util/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "core/error.h"
#include "http/arcrun/decode.h"
#include "http/arcrun/names.h"
#include "query_table.h"

static weft_config cfg;
static http_error err;

static int setup(void **state)
{
	UNUSED(state);
	memset(&cfg, 0, sizeof(cfg));
	cfg.json_max_depth = 64;
	cfg.pagination_default = 50;
	cfg.pagination_max = 100;
	return 0;
}

static int teardown(void **state)
{
	UNUSED(state);
	http_error_release(&err);
	return 0;
}

static int tq(kv *q, task_query *out)
{
	http_query_src src = { kv_get, q };
	http_error_release(&err);
	return arcrun_decode_task_query(&src, &cfg, out, &err);
}

static int bq(kv *q, batches_query *out)
{
	http_query_src src = { kv_get, q };
	http_error_release(&err);
	return arcrun_decode_batches_query(&src, &cfg, out, &err);
}

static int dq(kv *q, deliveries_query *out)
{
	http_query_src src = { kv_get, q };
	http_error_release(&err);
	return arcrun_decode_deliveries_query(&src, &cfg, out, &err);
}

/* A query parameter that cannot be read: WEFT_EINVALID, HTTP_ERR_SYNTAX. */
static void expect_syntax(int rc, const char *param, const char *message)
{
	assert_int_equal(rc, WEFT_EINVALID);
	assert_int_equal(err.kind, HTTP_ERR_SYNTAX);
	assert_string_equal(err.param, param);
	if (message != NULL)
		assert_string_equal(err.message, message);
}

static void test_task_query(void **state)
{
	UNUSED(state);
	task_query q;

	kv none[] = { { NULL, NULL } };
	assert_int_equal(tq(none, &q), 0);
	assert_int_equal(q.offset, 0);
	assert_int_equal(q.limit, 50);
	assert_null(q.filter.name);
	assert_int_equal(q.filter.status_mask, 0);
	assert_null(q.filter.batch_id);
	assert_null(q.filter.metadata);
	task_query_release(&q);

	kv paging[] = { { "page", "-3" }, { "page_size", "500" }, { NULL, NULL } };
	assert_int_equal(tq(paging, &q), 0);
	assert_int_equal(q.offset, 0);
	assert_int_equal(q.limit, 100);
	task_query_release(&q);

	kv paging2[] = { { "page", "2" }, { "page_size", "0" }, { NULL, NULL } };
	assert_int_equal(tq(paging2, &q), 0);
	assert_int_equal(q.offset, 100);
	assert_int_equal(q.limit, 50);
	task_query_release(&q);

	kv huge[] = { { "page", "9223372036854775807" }, { "page_size", "-1" }, { NULL, NULL } };
	assert_int_equal(tq(huge, &q), 0);
	assert_int_equal(q.offset, INT64_MAX);
	task_query_release(&q);

	kv filters[] = { { "name", "bu" }, { "kind", "" }, { "status", "Running" }, { "timeout", "60" },
		         { "batch_id", "0A8E6F0C-5C6B-4B8E-9E32-6F7A2D7E1C11" }, { "metadata", "{\"a\": [1]}" },
		         { NULL, NULL } };
	assert_int_equal(tq(filters, &q), 0);
	assert_string_equal(q.filter.name, "bu");
	assert_null(q.filter.kind);
	assert_int_equal(q.filter.status_mask, TS_BIT(TS_RUNNING));
	assert_true(q.filter.has_timeout);
	assert_int_equal(q.filter.timeout, 60);
	assert_ptr_equal(q.filter.batch_id, &q.batch_id);
	assert_string_equal(q.batch_id.str, "0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11");
	assert_string_equal(q.filter.metadata, "{\"a\":[1]}");
	task_query_release(&q);

	kv badpage[] = { { "page", "abc" }, { NULL, NULL } };
	expect_syntax(tq(badpage, &q), "page", "invalid digit found in string");
	kv bigpage[] = { { "page", "99999999999999999999" }, { NULL, NULL } };
	expect_syntax(tq(bigpage, &q), "page", "number too large to fit in target type");
	kv emptypage[] = { { "page_size", "" }, { NULL, NULL } };
	expect_syntax(tq(emptypage, &q), "page_size", "cannot parse integer from empty string");
	kv badstatus[] = { { "status", "running" }, { NULL, NULL } };
	expect_syntax(tq(badstatus, &q), "status", NULL);
	assert_true(strncmp(err.message, "unknown variant `running`", 25) == 0);
	kv badtimeout[] = { { "timeout", "3000000000" }, { NULL, NULL } };
	expect_syntax(tq(badtimeout, &q), "timeout", "number too large to fit in target type");
	kv badbatch[] = { { "batch_id", "not-a-uuid" }, { NULL, NULL } };
	expect_syntax(tq(badbatch, &q), "batch_id", "batch_id: invalid UUID");
	kv badmeta[] = { { "metadata", "{oops" }, { NULL, NULL } };
	assert_int_equal(tq(badmeta, &q), WEFT_EINVALID);
	assert_int_equal(err.kind, HTTP_ERR_RULE);
	assert_string_equal(err.param, "metadata");
	assert_true(strncmp(err.message, "invalid metadata filter: ", 25) == 0);
	assert_null(q.metadata);
}

static void test_batches_query(void **state)
{
	UNUSED(state);
	batches_query q;
	kv ok[] = { { "created_after", "2026-03-14T10:00:00Z" }, { "created_before", "2026-03-15T00:00:00.5Z" },
		    { "kind", "ci" }, { "status", "Canceled" }, { "page_size", "10" }, { "page", "1" }, { NULL, NULL } };
	assert_int_equal(bq(ok, &q), 0);
	assert_int_equal(q.filter.created_after, 1773482400LL * 1000000);
	assert_true(q.filter.created_before > q.filter.created_after);
	assert_string_equal(q.filter.kind, "ci");
	assert_int_equal(q.filter.status_mask, TS_BIT(TS_CANCELED));
	assert_int_equal(q.offset, 10);
	assert_int_equal(q.limit, 10);

	kv bad[] = { { "created_after", "yesterday" }, { NULL, NULL } };
	expect_syntax(bq(bad, &q), "created_after", "created_after: invalid RFC 3339 timestamp");
}

/* A task waiting for a retry shows as Pending: ?status=Pending selects it
 * too; RetryPending, still accepted, selects only those tasks. */
static void test_retry_pending_filter(void **state)
{
	UNUSED(state);
	task_query q;
	kv pending[] = { { "status", "Pending" }, { NULL, NULL } };
	assert_int_equal(tq(pending, &q), 0);
	assert_int_equal(q.filter.status_mask, TS_BIT(TS_PENDING) | TS_BIT(TS_RETRYING));
	task_query_release(&q);

	kv rp[] = { { "status", "RetryPending" }, { NULL, NULL } };
	assert_int_equal(tq(rp, &q), 0);
	assert_int_equal(q.filter.status_mask, TS_BIT(TS_RETRYING));
	task_query_release(&q);

	kv bad[] = { { "status", "Retrying" }, { NULL, NULL } };
	expect_syntax(tq(bad, &q), "status", NULL);
	assert_non_null(strstr(err.message, "`RetryPending`"));

	batches_query b;
	assert_int_equal(bq(rp, &b), 0);
	assert_int_equal(b.filter.status_mask, TS_BIT(TS_RETRYING));
	assert_int_equal(bq(pending, &b), 0);
	assert_int_equal(b.filter.status_mask, TS_BIT(TS_PENDING) | TS_BIT(TS_RETRYING));
}

/* ArcRun's clients reject statuses outside its eight. */
static void test_status_names(void **state)
{
	UNUSED(state);
	static const char *const eight[] = { "Waiting", "Pending", "Claimed", "Running",
		                             "Paused",  "Success", "Failure", "Canceled" };
	for (unsigned s = 0; s < TS__COUNT; s++) {
		const char *name = arcrun_status_name((task_status)s);
		bool known = false;
		for (size_t i = 0; i < ARRAY_LEN(eight); i++)
			known |= strcmp(name, eight[i]) == 0;
		assert_true(known);
	}
	assert_string_equal(arcrun_status_name(TS_RETRYING), "Pending");
	task_status st;
	assert_int_equal(arcrun_status_parse("RetryPending", &st), 0);
	assert_int_equal(st, TS_RETRYING);
	assert_int_equal(arcrun_status_parse("Pending", &st), 0);
	assert_int_equal(st, TS_PENDING);
	assert_int_equal(arcrun_status_parse("pending", &st), WEFT_EINVALID);
}

static void test_deliveries_query(void **state)
{
	UNUSED(state);
	deliveries_query q;
	kv none[] = { { NULL, NULL } };
	assert_int_equal(dq(none, &q), 0);
	assert_int_equal(q.status_mask, 0);
	assert_int_equal(q.offset, 0);
	assert_int_equal(q.limit, 50);

	static const struct {
		const char *word;
		unsigned mask;
	} ok[] = {
		{ "pending", 1u << DS_PENDING | 1u << DS_DELIVERING },
		{ "failure", 1u << DS_RETRYING },
		{ "success", 1u << DS_SUCCESS },
		{ "exhausted", 1u << DS_EXHAUSTED },
	};
	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		kv one[] = { { "status", ok[i].word }, { "page", "2" }, { "page_size", "1000" }, { NULL, NULL } };
		assert_int_equal(dq(one, &q), 0);
		assert_int_equal(q.status_mask, ok[i].mask);
		assert_int_equal(q.limit, 100);
		assert_int_equal(q.offset, 200);
	}

	kv bad[] = { { "status", "delivering" }, { NULL, NULL } };
	expect_syntax(dq(bad, &q), "status",
	              "unknown variant `delivering`, expected one of `pending`, `failure`, `success`, `exhausted`");
	kv badpage[] = { { "page", "x" }, { NULL, NULL } };
	expect_syntax(dq(badpage, &q), "page", "invalid digit found in string");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_task_query),
		cmocka_unit_test(test_batches_query),
		cmocka_unit_test(test_retry_pending_filter),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_deliveries_query),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
