/*
 * test_v1_decode.c — the /v1 job bodies (http/v1/decode_job.h): defaults,
 * every field read into the engine's structs, and every bound answered
 * with a detail naming the field: 400 for a range or type, 413 for a size.
 */
#include "util/common.h"
#include "http/v1/decode_job.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "core/error.h"
#include "util/buf.h"

static http_error err;

static int setup(void **state)
{
	UNUSED(state);
	http_error_init(&err);
	return 0;
}

static int teardown(void **state)
{
	UNUSED(state);
	http_error_release(&err);
	return 0;
}

/* Whether a detail starts with prefix. */
static bool has_detail(const char *prefix)
{
	for (size_t i = 0; i < err.details.len; i++) {
		if (strncmp(err.details.items[i], prefix, strlen(prefix)) == 0)
			return true;
	}
	return false;
}

static void print_details(void)
{
	for (size_t i = 0; i < err.details.len; i++)
		print_message("  %s\n", err.details.items[i]);
}

static int enqueue(const char *body, v1_enqueue_input *in)
{
	http_error_release(&err);
	return v1_decode_enqueue(body, strlen(body), 64, in, &err);
}

/* The body fails with code and a detail starting with prefix. */
static void enqueue_fails(const char *body, int code, const char *prefix)
{
	v1_enqueue_input in;
	int rc = enqueue(body, &in);
	/* "": a body that is not what it should be: one message, no details */
	bool named = prefix[0] != '\0' ? has_detail(prefix) : err.details.len == 0 && err.message[0] != '\0';
	if (rc != code || !named) {
		print_details();
		fail_msg("%s: expected %d with \"%s...\", got %d", body, code, prefix, rc);
	}
	assert_null(in.jobs);
}

static void test_enqueue_defaults(void **state)
{
	UNUSED(state);
	v1_enqueue_input in;
	assert_int_equal(enqueue("{\"jobs\":[{\"queue\":\"emails\"}]}", &in), 0);
	assert_null(in.namespace);
	assert_int_equal(in.njobs, 1);
	job_spec *s = &in.jobs[0];
	assert_string_equal(s->queue, "emails");
	assert_null(s->name);
	assert_null(s->input);
	assert_int_equal(s->priority, 0);
	assert_int_equal(s->run_at_us, 0);
	assert_int_equal(s->delay_us, 0);
	assert_int_equal(s->max_attempts, 5);
	assert_int_equal(s->backoff_initial_us, 1000000);
	assert_true(s->backoff_coefficient == 2.0);
	assert_int_equal(s->backoff_max_us, 60000000);
	assert_true(s->backoff_jitter == 0.1);
	assert_int_equal(s->nnon_retryable, 0);
	assert_int_equal(s->timeout_secs, 300);
	assert_int_equal(s->dedup_scope, JOB_DEDUP_NONE);
	assert_null(s->concurrency_key);
	assert_null(s->metadata);
	v1_enqueue_input_release(&in);
}

static void test_enqueue_every_field(void **state)
{
	UNUSED(state);
	v1_enqueue_input in;
	const char *body =
		"{\"namespace\":\"billing\",\"jobs\":["
		"{\"queue\":\"a.b:c-d_e\",\"name\":\"n\",\"input\":{\"x\": [1, 2]},\"priority\":-7,"
		"\"run_at\":\"2026-12-05T07:50:00.123Z\",\"max_attempts\":-1,"
		"\"backoff\":{\"initial_ms\":250,\"coefficient\":1.5,\"max_ms\":9000,\"jitter\":0},"
		"\"non_retryable_codes\":[\"bad_input\",\"http.404\"],\"timeout_secs\":86400,"
		"\"dedup\":{\"key\":\"k1\",\"scope\":\"window\",\"window_secs\":600},"
		"\"concurrency_key\":\"c\",\"rate_key\":\"r\",\"metadata\":{\"m\": true}},"
		"{\"queue\":\"q\",\"delay_ms\":1500,\"dedup\":{\"key\":\"k2\"},\"non_retryable_codes\":[\"x\"],"
		"\"input\":\"text\"}]}";
	assert_int_equal(enqueue(body, &in), 0);
	assert_string_equal(in.namespace, "billing");
	assert_int_equal(in.njobs, 2);
	job_spec *s = &in.jobs[0];
	assert_string_equal(s->queue, "a.b:c-d_e");
	assert_string_equal(s->name, "n");
	assert_string_equal(s->input, "{\"x\":[1,2]}");
	assert_int_equal(s->priority, -7);
	assert_int_equal(s->run_at_us, 1796457000123000);
	assert_int_equal(s->max_attempts, -1);
	assert_int_equal(s->backoff_initial_us, 250000);
	assert_true(s->backoff_coefficient == 1.5);
	assert_int_equal(s->backoff_max_us, 9000000);
	assert_true(s->backoff_jitter == 0.0);
	assert_int_equal(s->nnon_retryable, 2);
	assert_string_equal(s->non_retryable[0], "bad_input");
	assert_string_equal(s->non_retryable[1], "http.404");
	assert_int_equal(s->timeout_secs, 86400);
	assert_int_equal(s->dedup_scope, JOB_DEDUP_WINDOW);
	assert_string_equal(s->dedup_key, "k1");
	assert_int_equal(s->dedup_window_us, 600000000);
	assert_string_equal(s->concurrency_key, "c");
	assert_string_equal(s->rate_key, "r");
	assert_string_equal(s->metadata, "{\"m\":true}");
	s = &in.jobs[1];
	assert_int_equal(s->delay_us, 1500000);
	assert_int_equal(s->dedup_scope, JOB_DEDUP_ACTIVE);
	assert_int_equal(s->nnon_retryable, 1);
	assert_string_equal(s->non_retryable[0], "x");
	assert_string_equal(s->input, "\"text\"");
	v1_enqueue_input_release(&in);
}

static void test_enqueue_problems_named(void **state)
{
	UNUSED(state);
	enqueue_fails("[]", WEFT_EINVALID, "");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\"}", WEFT_EINVALID, "");   /* not JSON */
	enqueue_fails("{}", WEFT_EINVALID, "jobs: missing field");
	enqueue_fails("{\"jobs\":[]}", WEFT_EINVALID, "jobs: must have 1 to 1000 elements");
	enqueue_fails("{\"jobs\":[{}]}", WEFT_EINVALID, "jobs[0].queue: missing field");
	enqueue_fails("{\"jobs\":[7]}", WEFT_EINVALID, "jobs[0]: expected an object");
	enqueue_fails("{\"jobz\":[]}", WEFT_EINVALID, "jobz: unknown field");
	enqueue_fails("{\"namespace\":\"Bad\",\"jobs\":[{\"queue\":\"q\"}]}", WEFT_EINVALID, "namespace: must match");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"max_attempt\":3}]}", WEFT_EINVALID,
	              "jobs[0].max_attempt: unknown field");
	enqueue_fails("{\"jobs\":[{\"queue\":\"-q\"}]}", WEFT_EINVALID, "jobs[0].queue: must match");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\"},{\"queue\":7}]}", WEFT_EINVALID, "jobs[1].queue: expected a string");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"priority\":1001}]}", WEFT_EINVALID, "jobs[0].priority: must be from");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"priority\":1.5}]}", WEFT_EINVALID,
	              "jobs[0].priority: expected an integer");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"max_attempts\":0}]}", WEFT_EINVALID, "jobs[0].max_attempts: must be");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"max_attempts\":1001}]}", WEFT_EINVALID, "jobs[0].max_attempts:");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"max_attempts\":-2}]}", WEFT_EINVALID, "jobs[0].max_attempts:");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"timeout_secs\":0}]}", WEFT_EINVALID, "jobs[0].timeout_secs:");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"timeout_secs\":86401}]}", WEFT_EINVALID, "jobs[0].timeout_secs:");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"run_at\":\"tomorrow\"}]}", WEFT_EINVALID, "jobs[0].run_at:");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"run_at\":\"2026-12-05T07:50:00Z\",\"delay_ms\":5}]}", WEFT_EINVALID,
	              "jobs[0].delay_ms: give run_at or delay_ms, not both");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"delay_ms\":-1}]}", WEFT_EINVALID, "jobs[0].delay_ms:");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"backoff\":{\"coefficient\":0.5}}]}", WEFT_EINVALID,
	              "jobs[0].backoff.coefficient:");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"backoff\":{\"jitter\":1.5}}]}", WEFT_EINVALID,
	              "jobs[0].backoff.jitter:");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"backoff\":{\"initial_ms\":0}}]}", WEFT_EINVALID,
	              "jobs[0].backoff.initial_ms:");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"backoff\":{\"initial_ms\":5000,\"max_ms\":100}}]}", WEFT_EINVALID,
	              "jobs[0].backoff.max_ms: must not be less than initial_ms");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"backoff\":{\"inital_ms\":5}}]}", WEFT_EINVALID,
	              "jobs[0].backoff.inital_ms: unknown field");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"non_retryable_codes\":[\"Bad Code\"]}]}", WEFT_EINVALID,
	              "jobs[0].non_retryable_codes[0]: must match");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"dedup\":{}}]}", WEFT_EINVALID, "jobs[0].dedup.key: missing field");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"dedup\":{\"key\":\"k\",\"scope\":\"forever\"}}]}", WEFT_EINVALID,
	              "jobs[0].dedup.scope:");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"dedup\":{\"key\":\"k\",\"scope\":\"window\"}}]}", WEFT_EINVALID,
	              "jobs[0].dedup.window_secs: missing field");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"dedup\":{\"key\":\"k\",\"window_secs\":5}}]}", WEFT_EINVALID,
	              "jobs[0].dedup.window_secs: only with scope");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"metadata\":[1]}]}", WEFT_EINVALID,
	              "jobs[0].metadata: expected an object");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"name\":\"\"}]}", WEFT_EINVALID, "jobs[0].name: must be 1 to 255");
	enqueue_fails("{\"jobs\":[{\"queue\":\"q\",\"concurrency_key\":\"\"}]}", WEFT_EINVALID,
	              "jobs[0].concurrency_key:");

	/* Every problem of one body, at once. */
	v1_enqueue_input in;
	assert_int_equal(enqueue("{\"jobs\":[{\"queue\":\"q\",\"priority\":5000},{\"timeout_secs\":0}]}", &in),
	                 WEFT_EINVALID);
	assert_int_equal(err.details.len, 3);
	assert_true(has_detail("jobs[0].priority:"));
	assert_true(has_detail("jobs[1].queue: missing field"));
	assert_true(has_detail("jobs[1].timeout_secs:"));
}

/* Sizes are 413, still naming the field. */
static void test_enqueue_sizes(void **state)
{
	UNUSED(state);
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"jobs\":[");
	for (int i = 0; i < 1001; i++)
		buf_printf(&b, "%s{\"queue\":\"q\"}", i ? "," : "");
	buf_puts(&b, "]}");
	enqueue_fails(b.data, WEFT_ETOOLARGE, "jobs: must have 1 to 1000 elements, has 1001");
	buf_reset(&b);

	buf_puts(&b, "{\"jobs\":[{\"queue\":\"q\",\"priority\":9999,\"input\":\"");
	for (int i = 0; i < (1 << 20); i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\"}]}");
	enqueue_fails(b.data, WEFT_ETOOLARGE, "jobs[0].input: is 1048578 bytes of JSON; the limit is 1048576");
	assert_true(has_detail("jobs[0].priority:"));       /* and the range problem too */
	buf_reset(&b);

	buf_puts(&b, "{\"jobs\":[{\"queue\":\"q\",\"dedup\":{\"key\":\"");
	for (int i = 0; i < 256; i++)
		buf_putc(&b, 'k');
	buf_puts(&b, "\"}}]}");
	enqueue_fails(b.data, WEFT_ETOOLARGE, "jobs[0].dedup.key: must be 1 to 255 bytes");
	buf_reset(&b);

	buf_puts(&b, "{\"jobs\":[{\"queue\":\"q\",\"non_retryable_codes\":[");
	for (int i = 0; i < 33; i++)
		buf_printf(&b, "%s\"c%d\"", i ? "," : "", i);
	buf_puts(&b, "]}]}");
	enqueue_fails(b.data, WEFT_ETOOLARGE, "jobs[0].non_retryable_codes: must have at most 32");
	buf_release(&b);
}

static void test_claim(void **state)
{
	UNUSED(state);
	v1_claim_input in;
	const char *body = "{\"queues\":[\"a\",\"b\"],\"worker_id\":\"w-1\"}";
	http_error_release(&err);
	assert_int_equal(v1_decode_claim(body, strlen(body), 64, &in, &err), 0);
	assert_int_equal(in.nqueues, 2);
	assert_string_equal(in.queues[1], "b");
	assert_string_equal(in.worker_id, "w-1");
	assert_null(in.hostname);
	assert_null(in.namespace);
	assert_int_equal(in.max_jobs, 1);
	assert_int_equal(in.wait_ms, 0);
	assert_int_equal(in.lease_ms, 60000);
	v1_claim_input_release(&in);

	body = "{\"namespace\":\"ns\",\"queues\":[\"a\"],\"worker_id\":\"w\",\"hostname\":\"h\",\"max_jobs\":1000,"
	       "\"wait_ms\":60000,\"lease_ms\":1000}";
	assert_int_equal(v1_decode_claim(body, strlen(body), 64, &in, &err), 0);
	assert_string_equal(in.namespace, "ns");
	assert_string_equal(in.hostname, "h");
	assert_int_equal(in.max_jobs, 1000);
	assert_int_equal(in.wait_ms, 60000);
	assert_int_equal(in.lease_ms, 1000);
	v1_claim_input_release(&in);

	struct {
		const char *body, *detail;
		int code;
	} bad[] = {
		{ "{\"worker_id\":\"w\"}", "queues: missing field", WEFT_EINVALID },
		{ "{\"queues\":[],\"worker_id\":\"w\"}", "queues: must have 1 to 16", WEFT_EINVALID },
		{ "{\"queues\":[\"a\",\"a\"],\"worker_id\":\"w\"}", "queues[1]: 'a' is listed twice", WEFT_EINVALID },
		{ "{\"queues\":[\"a b\"],\"worker_id\":\"w\"}", "queues[0]: must match", WEFT_EINVALID },
		{ "{\"queues\":[\"a\"]}", "worker_id: missing field", WEFT_EINVALID },
		{ "{\"queues\":[\"a\"],\"worker_id\":\"\"}", "worker_id: must be 1 to 128 bytes", WEFT_EINVALID },
		{ "{\"queues\":[\"a\"],\"worker_id\":\"w\",\"max_jobs\":0}", "max_jobs: must be from 1 to 1000",
		  WEFT_EINVALID },
		{ "{\"queues\":[\"a\"],\"worker_id\":\"w\",\"wait_ms\":60001}", "wait_ms: must be from 0 to 60000",
		  WEFT_EINVALID },
		{ "{\"queues\":[\"a\"],\"worker_id\":\"w\",\"lease_ms\":999}", "lease_ms: must be from 1000", WEFT_EINVALID },
		{ "{\"queues\":[\"a\"],\"worker_id\":\"w\",\"wait\":5}", "wait: unknown field", WEFT_EINVALID },
		{ "{\"queues\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\","
		  "\"15\",\"16\",\"17\"],\"worker_id\":\"w\"}", "queues: must have 1 to 16 elements, has 17", WEFT_ETOOLARGE },
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		http_error_release(&err);
		int rc = v1_decode_claim(bad[i].body, strlen(bad[i].body), 64, &in, &err);
		if (rc != bad[i].code || !has_detail(bad[i].detail)) {
			print_details();
			fail_msg("%s: expected %s", bad[i].body, bad[i].detail);
		}
	}
}

static int report(v1_report_kind kind, const char *body, v1_report_input *in)
{
	http_error_release(&err);
	return v1_decode_report(kind, body, strlen(body), 64, in, &err);
}

static void report_fails(v1_report_kind kind, const char *body, const char *detail)
{
	v1_report_input in;
	int rc = report(kind, body, &in);
	if (rc != WEFT_EINVALID || !has_detail(detail)) {
		print_details();
		fail_msg("%s: expected %s, got %d", body, detail, rc);
	}
}

#define ID1 "0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11"
#define ID2 "0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c12"

static void test_reports(void **state)
{
	UNUSED(state);
	v1_report_input in;
	assert_int_equal(report(V1_REPORT_COMPLETE,
	                        "{\"items\":[{\"id\":\"" ID1 "\",\"lease_token\":\"3\",\"result\":{\"ok\": 1}},"
	                        "{\"id\":\"" ID2 "\",\"lease_token\":\"9223372036854775807\"}]}", &in), 0);
	assert_int_equal(in.nitems, 2);
	assert_string_equal(in.completes[0].id.str, ID1);
	assert_int_equal(in.completes[0].lease_token, 3);
	assert_string_equal(in.completes[0].result, "{\"ok\":1}");
	assert_int_equal(in.completes[1].lease_token, INT64_MAX);
	assert_null(in.completes[1].result);
	v1_report_input_release(&in);

	assert_int_equal(report(V1_REPORT_FAIL,
	                        "{\"items\":[{\"id\":\"" ID1 "\",\"lease_token\":\"1\",\"error\":{\"code\":\"exit_1\","
	                        "\"message\":\"m\",\"retryable\":false,\"details\":{\"d\":1}},\"retry_after_ms\":500},"
	                        "{\"id\":\"" ID2 "\",\"lease_token\":\"2\",\"error\":{\"code\":\"x\"}}]}", &in), 0);
	assert_string_equal(in.fails[0].code, "exit_1");
	assert_string_equal(in.fails[0].message, "m");
	assert_false(in.fails[0].retryable);
	assert_string_equal(in.fails[0].details, "{\"d\":1}");
	assert_int_equal(in.fails[0].retry_after_us, 500000);
	assert_true(in.fails[1].retryable);
	assert_null(in.fails[1].message);
	assert_int_equal(in.fails[1].retry_after_us, -1);
	v1_report_input_release(&in);

	assert_int_equal(report(V1_REPORT_RELEASE, "{\"items\":[{\"id\":\"" ID1 "\",\"lease_token\":\"0\"}]}", &in), 0);
	assert_int_equal(in.releases[0].lease_token, 0);
	v1_report_input_release(&in);

	report_fails(V1_REPORT_COMPLETE, "{\"items\":[{\"lease_token\":\"1\"}]}", "items[0].id: missing field");
	report_fails(V1_REPORT_COMPLETE, "{\"items\":[{\"id\":\"x\",\"lease_token\":\"1\"}]}", "items[0].id: expected a UUID");
	report_fails(V1_REPORT_COMPLETE, "{\"items\":[{\"id\":\"" ID1 "\"}]}", "items[0].lease_token: missing field");
	report_fails(V1_REPORT_COMPLETE, "{\"items\":[{\"id\":\"" ID1 "\",\"lease_token\":3}]}",
	             "items[0].lease_token: expected a string");
	report_fails(V1_REPORT_COMPLETE, "{\"items\":[{\"id\":\"" ID1 "\",\"lease_token\":\"-3\"}]}",
	             "items[0].lease_token: expected the lease_token");
	report_fails(V1_REPORT_COMPLETE, "{\"items\":[{\"id\":\"" ID1 "\",\"lease_token\":\"9223372036854775808\"}]}",
	             "items[0].lease_token:");
	report_fails(V1_REPORT_COMPLETE, "{\"items\":[{\"id\":\"" ID1 "\",\"lease_token\":\"1\",\"error\":{}}]}",
	             "items[0].error: unknown field");
	report_fails(V1_REPORT_FAIL, "{\"items\":[{\"id\":\"" ID1 "\",\"lease_token\":\"1\"}]}",
	             "items[0].error: missing field");
	report_fails(V1_REPORT_FAIL, "{\"items\":[{\"id\":\"" ID1 "\",\"lease_token\":\"1\",\"error\":{}}]}",
	             "items[0].error.code: missing field");
	report_fails(V1_REPORT_FAIL, "{\"items\":[{\"id\":\"" ID1 "\",\"lease_token\":\"1\",\"error\":{\"code\":\"A\"}}]}",
	             "items[0].error.code: must match");
	report_fails(V1_REPORT_FAIL,
	             "{\"items\":[{\"id\":\"" ID1 "\",\"lease_token\":\"1\",\"error\":{\"code\":\"a\"},\"retry_after_ms\":-1}]}",
	             "items[0].retry_after_ms:");
	report_fails(V1_REPORT_RELEASE, "{\"items\":[{\"id\":\"" ID1 "\",\"lease_token\":\"1\",\"result\":1}]}",
	             "items[0].result: unknown field");
	report_fails(V1_REPORT_RELEASE, "{\"items\":{}}", "items: expected an array");

	/* One item's body, the id from the path. */
	weft_id path;
	id_parse(ID2, &path);
	const char *one = "{\"lease_token\":\"4\",\"result\":[1]}";
	http_error_release(&err);
	assert_int_equal(v1_decode_report_one(V1_REPORT_COMPLETE, &path, one, strlen(one), 64, &in, &err), 0);
	assert_int_equal(in.nitems, 1);
	assert_string_equal(in.completes[0].id.str, ID2);
	assert_string_equal(in.completes[0].result, "[1]");
	v1_report_input_release(&in);
	one = "{\"id\":\"" ID1 "\",\"lease_token\":\"4\",\"error\":{\"code\":\"c\"}}";
	assert_int_equal(v1_decode_report_one(V1_REPORT_FAIL, &path, one, strlen(one), 64, &in, &err), WEFT_EINVALID);
	assert_true(has_detail("id: differs from the id in the path"));
}

static void test_heartbeat(void **state)
{
	UNUSED(state);
	v1_heartbeat_input in;
	const char *body = "{\"worker_id\":\"w\",\"lease_ms\":30000,\"leases\":[{\"id\":\"" ID1 "\",\"lease_token\":\"2\","
	                   "\"progress\":{\"pct\":50}},{\"id\":\"" ID2 "\",\"lease_token\":\"7\"}]}";
	http_error_release(&err);
	assert_int_equal(v1_decode_heartbeat(body, strlen(body), 64, &in, &err), 0);
	assert_string_equal(in.worker_id, "w");
	assert_int_equal(in.lease_ms, 30000);
	assert_int_equal(in.nitems, 2);
	assert_string_equal(in.items[0].progress, "{\"pct\":50}");
	assert_null(in.items[1].progress);
	assert_int_equal(in.items[1].lease_token, 7);
	v1_heartbeat_input_release(&in);

	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"worker_id\":\"w\",\"leases\":[{\"id\":\"" ID1 "\",\"lease_token\":\"2\",\"progress\":\"");
	for (int i = 0; i < 4096; i++)
		buf_putc(&b, 'p');
	buf_puts(&b, "\"}]}");
	assert_int_equal(v1_decode_heartbeat(b.data, b.len, 64, &in, &err), WEFT_ETOOLARGE);
	assert_true(has_detail("leases[0].progress: is 4098 bytes"));
	buf_release(&b);
	http_error_release(&err);
	body = "{\"leases\":[]}";
	assert_int_equal(v1_decode_heartbeat(body, strlen(body), 64, &in, &err), WEFT_EINVALID);
	assert_true(has_detail("worker_id: missing field"));
	assert_true(has_detail("leases: must have 1 to 1000"));
}

static void test_lease_token(void **state)
{
	UNUSED(state);
	int64_t v;
	assert_int_equal(v1_parse_lease_token("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(v1_parse_lease_token("9223372036854775807", &v), 0);
	assert_int_equal(v1_parse_lease_token("9223372036854775808", &v), -1);
	assert_int_equal(v1_parse_lease_token("", &v), -1);
	assert_int_equal(v1_parse_lease_token("+1", &v), -1);
	assert_int_equal(v1_parse_lease_token("1 ", &v), -1);
	assert_int_equal(v1_parse_lease_token("12345678901234567890", &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enqueue_defaults),
		cmocka_unit_test(test_enqueue_every_field),
		cmocka_unit_test(test_enqueue_problems_named),
		cmocka_unit_test(test_enqueue_sizes),
		cmocka_unit_test(test_claim),
		cmocka_unit_test(test_reports),
		cmocka_unit_test(test_heartbeat),
		cmocka_unit_test(test_lease_token),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
