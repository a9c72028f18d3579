/*
 * test_validate.c — decoding and validation of the ArcRun API's POST /task
 * body (src/http/arcrun/decode_batch.c, decode.c).
 *
 * Covers every validation message of POST /task (including ArcRun's own
 * unit cases), type errors, the object form, limits, rules, what decoding
 * hands the engine, and weft's additions: retry policies, start_after and
 * groups. PATCH, PUT and the rules body are in test_arcrun_update.c, the
 * query strings in test_arcrun_query.c.
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

/* ---- helpers ----------------------------------------------------------- */

typedef struct outcome {
	int res;
	http_error err;
	batch_input batch;
} outcome;

static void batch(outcome *o, const char *json)
{
	http_error_init(&o->err);
	o->res = arcrun_decode_batch(json, strlen(json), &cfg, &o->batch, &o->err);
}

static void outcome_release(outcome *o)
{
	http_error_release(&o->err);
	batch_input_release(&o->batch);
}

/* Asserts that the batch fails with exactly this detail among others. */
static void expect_detail(const char *json, const char *detail)
{
	outcome o;
	batch(&o, json);
	if (!has(&o.err.details, detail)) {
		print_message("missing detail: %s (result %d, message '%s')\n", detail, o.res, o.err.message);
		dump(&o.err.details);
	}
	assert_int_equal(o.res, WEFT_EINVALID);
	assert_true(has(&o.err.details, detail));
	assert_null(o.batch.tasks);
	outcome_release(&o);
}

static void expect_prefix(const char *json, const char *prefix)
{
	outcome o;
	batch(&o, json);
	if (!has_prefix(&o.err.details, prefix))
		dump(&o.err.details);
	assert_int_equal(o.res, WEFT_EINVALID);
	assert_true(has_prefix(&o.err.details, prefix));
	outcome_release(&o);
}

/* A body that cannot be read as a batch: one message, no details. */
static void expect_syntax(const outcome *o)
{
	assert_int_equal(o->res, WEFT_EINVALID);
	assert_int_equal(o->err.kind, HTTP_ERR_SYNTAX);
	assert_null(o->err.param);
	assert_int_equal(o->err.details.len, 0);
	assert_null(o->batch.tasks);
}

static void expect_ok(const char *json)
{
	outcome o;
	batch(&o, json);
	if (o.res != 0) {
		print_message("unexpected failure (%d, '%s')\n", o.res, o.err.message);
		dump(&o.err.details);
	}
	assert_int_equal(o.res, 0);
	assert_int_equal(o.err.details.len, 0);
	outcome_release(&o);
}

/* ---- ArcRun's own unit cases ------------------------------------------- */

static void test_valid_task(void **state)
{
	UNUSED(state);
	outcome o;
	batch(&o, "[" TASK("a") "]");
	assert_int_equal(o.res, 0);
	assert_int_equal(o.batch.ntasks, 1);
	new_task *t = &o.batch.tasks[0];
	assert_string_equal(t->name, "build");
	assert_string_equal(t->kind, "ci");
	assert_int_equal(t->timeout_secs, 60);
	assert_string_equal(t->metadata, "null");
	assert_string_equal(t->rules, "[]");
	assert_int_equal(t->priority, 0);
	assert_false(t->has_expected_count);
	assert_false(t->dead_end_barrier);
	assert_int_equal(t->ndeps, 0);
	assert_int_equal(t->ndedupe, 0);
	assert_int_equal(t->non_success, 0);
	assert_int_equal(t->non_failure, 0);
	assert_string_equal(t->on_start, "{\"url\":\"https://example.com/hook\",\"verb\":\"Post\"}");
	assert_false(t->created);
	assert_null(o.batch.scope);
	assert_null(o.batch.metadata);
	assert_null(o.batch.on_complete);
	outcome_release(&o);
}

static void test_empty_name(void **state)
{
	UNUSED(state);
	expect_detail("[{\"id\":\"a\",\"name\":\"\",\"kind\":\"ci\",\"on_start\":" HOOK "}]",
	              "tasks[0].name: Task name cannot be empty");
	expect_detail("[{\"id\":\"a\",\"name\":\"  \\t\",\"kind\":\"ci\",\"on_start\":" HOOK "}]",
	              "tasks[0].name: Task name cannot be empty");
}

static void test_empty_kind(void **state)
{
	UNUSED(state);
	expect_detail("[{\"id\":\"a\",\"name\":\"n\",\"kind\":\" \",\"on_start\":" HOOK "}]",
	              "tasks[0].kind: Task kind cannot be empty");
}

static void test_negative_timeout(void **state)
{
	UNUSED(state);
	expect_detail("[" TASK_WITH("a", ",\"timeout\":-1") "]",
	              "tasks[0].timeout: Timeout must be a positive integer");
	expect_detail("[" TASK_WITH("a", ",\"timeout\":0") "]",
	              "tasks[0].timeout: Timeout must be a positive integer");
	expect_detail("[" TASK_WITH("a", ",\"timeout\":86401") "]",
	              "tasks[0].timeout: Timeout cannot exceed 86400 seconds (24 hours)");
	expect_ok("[" TASK_WITH("a", ",\"timeout\":86400") "]");
	expect_ok("[" TASK_WITH("a", ",\"timeout\":1") "]");
}

static void test_self_dependency(void **state)
{
	UNUSED(state);
	const char *json = "[" TASK_WITH("a", ",\"dependencies\":[" DEP("a", "true") "]") "]";
	expect_detail(json, "tasks[0].dependencies: Task cannot depend on itself");
	expect_detail(json, "tasks[0].dependencies: dependency 'a' must appear before task 'a' in the batch");
}

static void test_circular_dependency(void **state)
{
	UNUSED(state);
	const char *json = "[" TASK_WITH("a", ",\"dependencies\":[" DEP("b", "true") "]") ","
	                   TASK_WITH("b", ",\"dependencies\":[" DEP("a", "true") "]") "]";
	outcome o;
	batch(&o, json);
	assert_int_equal(o.res, WEFT_EINVALID);
	assert_true(has(&o.err.details, "tasks[0].dependencies: dependency 'b' must appear before task 'a' in the batch"));
	/* b -> a points backwards: fine on its own. */
	assert_int_equal(o.err.details.len, 1);
	outcome_release(&o);
}

static void test_longer_circular_dependency(void **state)
{
	UNUSED(state);
	const char *json = "[" TASK_WITH("a", ",\"dependencies\":[" DEP("c", "false") "]") ","
	                   TASK_WITH("b", ",\"dependencies\":[" DEP("a", "false") "]") ","
	                   TASK_WITH("c", ",\"dependencies\":[" DEP("b", "false") "]") "]";
	expect_detail(json, "tasks[0].dependencies: dependency 'c' must appear before task 'a' in the batch");
}

static void test_invalid_webhook_url(void **state)
{
	UNUSED(state);
	expect_prefix("[{\"id\":\"a\",\"name\":\"n\",\"kind\":\"k\",\"on_start\":{\"kind\":\"Webhook\","
	              "\"params\":{\"url\":\"not a url\",\"verb\":\"Post\"}}}]",
	              "tasks[0].on_start.params: Invalid URL format");
	expect_prefix("[{\"id\":\"a\",\"name\":\"n\",\"kind\":\"k\",\"on_start\":{\"kind\":\"Webhook\","
	              "\"params\":{\"url\":\"http://localhost/x\",\"verb\":\"Post\"}}}]",
	              "tasks[0].on_start.params: URL host 'localhost'");
	expect_prefix("[{\"id\":\"a\",\"name\":\"n\",\"kind\":\"k\",\"on_start\":{\"kind\":\"Webhook\","
	              "\"params\":{\"verb\":\"Post\"}}}]",
	              "tasks[0].on_start.params: Invalid webhook params");
	expect_prefix("[" TASK_WITH("a", ",\"on_success\":[" HOOK ",{\"kind\":\"Webhook\",\"params\":"
	                              "{\"url\":\"file:///etc/passwd\",\"verb\":\"Get\"}}]") "]",
	              "tasks[0].on_success[1].params: ");
	expect_prefix("[" TASK_WITH("a", ",\"on_failure\":[{\"kind\":\"Webhook\",\"params\":42}]") "]",
	              "tasks[0].on_failure[0].params: Invalid webhook params");
}

static void test_priority_valid_range(void **state)
{
	UNUSED(state);
	outcome o;
	batch(&o, "[" TASK_WITH("a", ",\"priority\":-1000") "," TASK_WITH("b", ",\"priority\":1000") "]");
	assert_int_equal(o.res, 0);
	assert_int_equal(o.batch.tasks[0].priority, -1000);
	assert_int_equal(o.batch.tasks[1].priority, 1000);
	outcome_release(&o);
}

static void test_priority_out_of_range(void **state)
{
	UNUSED(state);
	expect_detail("[" TASK_WITH("a", ",\"priority\":1001") "]",
	              "tasks[0].priority: priority must be between -1000 and 1000");
	expect_detail("[" TASK_WITH("a", ",\"priority\":-1001") "]",
	              "tasks[0].priority: priority must be between -1000 and 1000");
}

static void test_priority_default(void **state)
{
	UNUSED(state);
	outcome o;
	batch(&o, "[" TASK_WITH("a", ",\"priority\":null") "]");
	assert_int_equal(o.res, 0);
	assert_int_equal(o.batch.tasks[0].priority, 0);
	outcome_release(&o);
}

/* ---- the other POST /task messages -------------------------------------- */

static void test_lengths(void **state)
{
	UNUSED(state);
	char name[300], kind[120];
	memset(name, 'n', sizeof(name));
	memset(kind, 'k', sizeof(kind));
	buf b;
	buf_init(&b);
	buf_printf(&b, "[{\"id\":\"a\",\"name\":\"%.*s\",\"kind\":\"%.*s\",\"on_start\":" HOOK "}]", 255, name, 100,
	           kind);
	expect_ok(b.data);
	buf_reset(&b);
	buf_printf(&b, "[{\"id\":\"a\",\"name\":\"%.*s\",\"kind\":\"%.*s\",\"on_start\":" HOOK "}]", 256, name, 101,
	           kind);
	expect_detail(b.data, "tasks[0].name: Task name cannot exceed 255 characters");
	expect_detail(b.data, "tasks[0].kind: Task kind cannot exceed 100 characters");
	buf_release(&b);
}

static void test_local_id_and_dependency_messages(void **state)
{
	UNUSED(state);
	expect_detail("[" TASK(" ") "]", "tasks[0].id: Task local ID cannot be empty");
	expect_detail("[" TASK("a") "," TASK_WITH("b", ",\"dependencies\":[" DEP("", "true") "]") "]",
	              "tasks[1].dependencies[0].id: Dependency ID cannot be empty");
	expect_detail("[" TASK("a") "," TASK_WITH("b", ",\"dependencies\":[" DEP("a", "true") "," DEP("a", "false") "]") "]",
	              "tasks[1].dependencies: Duplicate dependency: a");
	expect_detail("[" TASK("a") "," TASK("a") "]",
	              "tasks[1].id: duplicate task id: 'a' (first defined at index 0)");
	expect_detail("[" TASK("a") "," TASK_WITH("b", ",\"dependencies\":[" DEP("zz", "true") "]") "]",
	              "tasks[1].dependencies: unknown dependency: 'zz'");
}

static void test_expected_count_negative(void **state)
{
	UNUSED(state);
	expect_detail("[" TASK_WITH("a", ",\"expected_count\":-1") "]",
	              "tasks[0].expected_count: expected_count cannot be negative");
	expect_detail("[" TASK_WITH("a", ",\"expected_count\":9007199254740992") "]",
	              "tasks[0].expected_count: expected_count cannot exceed 9007199254740991");
	expect_ok("[" TASK_WITH("a", ",\"expected_count\":9007199254740991") "]");
}

static void test_metadata(void **state)
{
	UNUSED(state);
	outcome o;
	batch(&o, "[" TASK_WITH("a", ",\"metadata\":{\"b\": [1, 2], \"a\": {\"x\": null}}") "]");
	assert_int_equal(o.res, 0);
	assert_string_equal(o.batch.tasks[0].metadata, "{\"b\":[1,2],\"a\":{\"x\":null}}");
	outcome_release(&o);

	batch(&o, "[" TASK_WITH("a", ",\"metadata\":null") "]");
	assert_int_equal(o.res, 0);
	assert_string_equal(o.batch.tasks[0].metadata, "null");
	outcome_release(&o);

	/* Any other JSON type is refused, naming the field. */
	expect_detail("[" TASK_WITH("a", ",\"metadata\":[1,2]") "]", "tasks[0].metadata: expected an object, got array");
	expect_detail("[" TASK_WITH("a", ",\"metadata\":\"s\"") "]", "tasks[0].metadata: expected an object, got string");
	expect_detail("[" TASK_WITH("a", ",\"metadata\":true") "]", "tasks[0].metadata: expected an object, got boolean");
	expect_detail("[" TASK_WITH("a", ",\"metadata\":1.5") "]", "tasks[0].metadata: expected an object, got number");
	expect_detail("{\"tasks\":[],\"metadata\":7}", "metadata: expected an object, got integer");

	/* {"k":"<s>"} compact is strlen(s) + 8 bytes: 65536 passes, 65537 fails. */
	size_t room = 65536 - 8;
	char *big = xmalloc(room + 2);
	memset(big, 'x', room + 1);
	big[room + 1] = '\0';
	buf b;
	buf_init(&b);
	buf_printf(&b, "[" TASK_WITH("a", ",\"metadata\":{\"k\":\"%.*s\"}") "]", (int)room, big);
	expect_ok(b.data);
	buf_reset(&b);
	buf_printf(&b, "[" TASK_WITH("a", ",\"metadata\":{\"k\":\"%s\"}") "]", big);
	expect_detail(b.data, "tasks[0].metadata: Metadata cannot exceed 64KB");
	buf_release(&b);
	free(big);
}

static void test_rules(void **state)
{
	UNUSED(state);
	expect_detail("[" TASK_WITH("a", ",\"rules\":[" RULE("Concurency", "max_concurency", "0", "Running", "ci") "]") "]",
	              "tasks[0].rules[0].max_concurency: max_concurency must be a positive integer");
	expect_detail("[" TASK_WITH("a", ",\"expected_count\":5,\"rules\":[" RULE("Capacity", "max_capacity", "-3", "Running", "ci") "]") "]",
	              "tasks[0].rules[0].max_capacity: max_capacity must be a positive integer");
	expect_detail("[" TASK_WITH("a", ",\"rules\":[" RULE("Concurency", "max_concurency", "1", "Running", " ") "]") "]",
	              "tasks[0].rules[0].matcher.kind: Matcher kind cannot be empty");
	expect_detail("[" TASK_WITH("a", ",\"expected_count\":5,\"rules\":[" RULE("Capacity", "max_capacity", "10", "Pending", "ci") "]") "]",
	              "tasks[0].rules[0].matcher.status: Capacity rules only support matcher.status = Running");
	expect_detail("[" TASK_WITH("a", ",\"rules\":[" RULE("Capacity", "max_capacity", "10", "Running", "ci") "]") "]",
	              "tasks[0].expected_count: expected_count is required when a Capacity rule is used");
	expect_detail("[" TASK_WITH("a", ",\"rules\":[" RULE("Concurency", "max_concurency", "1", "Bogus", "ci") "]") "]",
	              "tasks[0].rules[0].matcher.status: unknown status 'Bogus'");
	expect_detail("[" TASK_WITH("a", ",\"rules\":[{\"type\":\"Rate\",\"matcher\":{\"status\":\"Running\",\"kind\":\"ci\",\"fields\":[]}}]") "]",
	              "tasks[0].rules[0].type: unknown variant 'Rate', expected 'Concurency' or 'Capacity'");
	expect_detail("[" TASK_WITH("a", ",\"rules\":[{\"type\":\"Concurency\",\"max_concurency\":1}]") "]",
	              "tasks[0].rules[0].matcher: missing field");
	expect_detail("[" TASK_WITH("a", ",\"rules\":[{\"type\":\"Concurency\",\"max_concurency\":1,\"matcher\":{\"status\":\"Running\",\"kind\":\"ci\"}}]") "]",
	              "tasks[0].rules[0].matcher.fields: missing field");
	expect_detail("[" TASK_WITH("a", ",\"rules\":[{\"max_concurency\":1}]") "]",
	              "tasks[0].rules[0].type: missing field");
	expect_detail("[" TASK_WITH("a", ",\"rules\":{}") "]", "tasks[0].rules: expected an array, got object");

	/* Valid rules are stored as given, compact, the client's object kept. */
	outcome o;
	batch(&o, "[" TASK_WITH("a", ",\"expected_count\":7,\"rules\":[ " RULE("Capacity", "max_capacity", "10", "Running", "ci")
	                               ", " RULE("Concurency", "max_concurency", "2", "Running", "other") "]") "]");
	assert_int_equal(o.res, 0);
	assert_string_equal(o.batch.tasks[0].rules,
	                    "[" RULE("Capacity", "max_capacity", "10", "Running", "ci") ","
	                    RULE("Concurency", "max_concurency", "2", "Running", "other") "]");
	assert_true(o.batch.tasks[0].has_expected_count);
	assert_int_equal(o.batch.tasks[0].expected_count, 7);
	outcome_release(&o);
}

static void test_dedupe_decoded(void **state)
{
	UNUSED(state);
	outcome o;
	batch(&o, "[" TASK_WITH("a", ",\"dedupe_strategy\":[{\"status\":\"Running\",\"kind\":\"ci\",\"fields\":[\"p\",\"q\"]},"
	                               "{\"status\":\"Pending\",\"kind\":\"\",\"fields\":[]}]") "]");
	assert_int_equal(o.res, 0);
	new_task *t = &o.batch.tasks[0];
	assert_int_equal(t->ndedupe, 2);
	assert_int_equal(t->dedupe[0].status, TS_RUNNING);
	assert_string_equal(t->dedupe[0].kind, "ci");
	assert_int_equal(t->dedupe[0].nfields, 2);
	assert_string_equal(t->dedupe[0].fields[0], "p");
	assert_string_equal(t->dedupe[0].fields[1], "q");
	/* Dedupe matchers are not validated beyond their types. */
	assert_int_equal(t->dedupe[1].status, TS_PENDING);
	assert_string_equal(t->dedupe[1].kind, "");
	assert_int_equal(t->dedupe[1].nfields, 0);
	outcome_release(&o);

	expect_detail("[" TASK_WITH("a", ",\"dedupe_strategy\":[{\"status\":\"Bogus\",\"kind\":\"ci\",\"fields\":[]}]") "]",
	              "tasks[0].dedupe_strategy[0].status: unknown status 'Bogus'");
	expect_detail("[" TASK_WITH("a", ",\"dedupe_strategy\":[{\"status\":\"Running\",\"kind\":\"ci\",\"fields\":[1]}]") "]",
	              "tasks[0].dedupe_strategy[0].fields[0]: expected a string, got integer");
}

static void test_type_errors(void **state)
{
	UNUSED(state);
	expect_detail("[" TASK_WITH("a", ",\"timeout\":\"60\"") "]", "tasks[0].timeout: expected an integer, got string");
	expect_detail("[" TASK_WITH("a", ",\"timeout\":1.5") "]", "tasks[0].timeout: expected an integer, got number");
	expect_detail("[" TASK_WITH("a", ",\"priority\":1099511627776") "]",
	              "tasks[0].priority: expected a 32-bit integer, got 1099511627776");
	expect_detail("[" TASK_WITH("a", ",\"dead_end_barrier\":\"yes\"") "]",
	              "tasks[0].dead_end_barrier: expected a boolean, got string");
	expect_detail("[" TASK_WITH("a", ",\"dependencies\":{}") "]", "tasks[0].dependencies: expected an array, got object");
	expect_detail("[" TASK("a") "," TASK_WITH("b", ",\"dependencies\":[" "{\"id\":\"a\"}" "]") "]",
	              "tasks[1].dependencies[0].requires_success: missing field");
	expect_detail("[" TASK_WITH("a", ",\"on_success\":{}") "]", "tasks[0].on_success: expected an array, got object");
	expect_detail("[{\"id\":\"a\",\"name\":5,\"kind\":\"k\",\"on_start\":" HOOK "}]",
	              "tasks[0].name: expected a string, got integer");
	expect_detail("[{\"id\":\"a\",\"name\":\"n\",\"kind\":\"k\"}]", "tasks[0].on_start: missing field");
	expect_detail("[{\"name\":\"n\",\"kind\":\"k\",\"on_start\":" HOOK "}]", "tasks[0].id: missing field");
	expect_detail("[{\"id\":\"a\",\"name\":\"n\",\"kind\":\"k\",\"on_start\":{\"kind\":\"Webhook\"}}]",
	              "tasks[0].on_start.params: missing field");
	expect_detail("[{\"id\":\"a\",\"name\":\"n\",\"kind\":\"k\",\"on_start\":{\"kind\":\"Email\",\"params\":{\"url\":\"https://e.com\",\"verb\":\"Get\"}}}]",
	              "tasks[0].on_start.kind: unknown variant 'Email', expected 'Webhook'");
	expect_detail("[" TASK("a") ",42]", "tasks[1]: expected an object, got integer");
	/* The third task of ArcRun's example misses on_start. */
	expect_detail("[" TASK("a") "," TASK("b") ",{\"id\":\"c\",\"name\":\"n\",\"kind\":\"k\"}]",
	              "tasks[2].on_start: missing field");
}

static void test_collects_all_errors(void **state)
{
	UNUSED(state);
	outcome o;
	batch(&o, "[{\"id\":\"a\",\"name\":\"\",\"kind\":\"\",\"on_start\":" HOOK ",\"timeout\":0,\"priority\":5000},"
	          TASK_WITH("b", ",\"expected_count\":-2,\"dependencies\":[" DEP("x", "true") "]") "]");
	assert_int_equal(o.res, WEFT_EINVALID);
	assert_true(has(&o.err.details, "tasks[0].name: Task name cannot be empty"));
	assert_true(has(&o.err.details, "tasks[0].kind: Task kind cannot be empty"));
	assert_true(has(&o.err.details, "tasks[0].timeout: Timeout must be a positive integer"));
	assert_true(has(&o.err.details, "tasks[0].priority: priority must be between -1000 and 1000"));
	assert_true(has(&o.err.details, "tasks[1].expected_count: expected_count cannot be negative"));
	assert_true(has(&o.err.details, "tasks[1].dependencies: unknown dependency: 'x'"));
	assert_int_equal(o.err.details.len, 6);
	outcome_release(&o);
}

static void test_bad_bodies(void **state)
{
	UNUSED(state);
	outcome o;
	batch(&o, "not json");
	expect_syntax(&o);
	assert_true(strlen(o.err.message) > 0);
	outcome_release(&o);

	batch(&o, "");
	expect_syntax(&o);
	outcome_release(&o);

	const char *wrong[] = { "42", "\"tasks\"", "true", "null" };
	for (size_t i = 0; i < ARRAY_LEN(wrong); i++) {
		batch(&o, wrong[i]);
		expect_syntax(&o);
		assert_string_equal(o.err.message, "expected an array of tasks or an object with \"tasks\"");
		outcome_release(&o);
	}

	/* Nesting beyond the configured depth is a parse error, not a crash. */
	buf b;
	buf_init(&b);
	for (int i = 0; i < 100; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < 100; i++)
		buf_putc(&b, ']');
	batch(&o, b.data);
	expect_syntax(&o);
	outcome_release(&o);
	buf_release(&b);
}

static void test_empty_batch(void **state)
{
	UNUSED(state);
	outcome o;
	batch(&o, "[]");
	assert_int_equal(o.res, 0);
	assert_int_equal(o.batch.ntasks, 0);
	outcome_release(&o);
	batch(&o, "{\"tasks\":[]}");
	assert_int_equal(o.res, 0);
	assert_int_equal(o.batch.ntasks, 0);
	outcome_release(&o);
}

static void test_object_form(void **state)
{
	UNUSED(state);
	outcome o;
	batch(&o, "{\"tasks\":[" TASK("a") "],\"on_batch_complete\":[" HOOK "],\"scope\":\"team-a\","
	          "\"metadata\":{\"run\": 7}}");
	assert_int_equal(o.res, 0);
	assert_int_equal(o.batch.ntasks, 1);
	assert_string_equal(o.batch.scope, "team-a");
	assert_string_equal(o.batch.metadata, "{\"run\":7}");
	assert_string_equal(o.batch.on_complete, "[" HOOK "]");
	outcome_release(&o);

	batch(&o, "{\"tasks\":[" TASK("a") "],\"metadata\":null,\"on_batch_complete\":[]}");
	assert_int_equal(o.res, 0);
	assert_null(o.batch.metadata);
	assert_null(o.batch.on_complete);
	outcome_release(&o);

	expect_detail("{\"scope\":\"x\"}", "tasks: missing field");
	expect_detail("{\"tasks\":5}", "tasks: expected an array, got integer");
	expect_prefix("{\"tasks\":[],\"on_batch_complete\":[{\"kind\":\"Webhook\",\"params\":{\"url\":\"nope\",\"verb\":\"Post\"}}]}",
	              "on_batch_complete[0].params: Invalid URL format");
	expect_detail("{\"tasks\":[],\"scope\":3}", "scope: expected a string, got integer");
	/* Object-form tasks keep the tasks[i] prefix. */
	expect_detail("{\"tasks\":[" TASK_WITH("a", ",\"timeout\":0") "]}", "tasks[0].timeout: Timeout must be a positive integer");
}

static void test_limits(void **state)
{
	UNUSED(state);
	outcome o;
	size_t saved = cfg.max_tasks_per_batch;
	cfg.max_tasks_per_batch = 3;
	batch(&o, "[" TASK("a") "," TASK("b") "," TASK("c") "," TASK("d") "]");
	assert_int_equal(o.res, WEFT_ETOOLARGE);
	assert_int_equal(o.err.kind, HTTP_ERR_RULE);
	assert_string_equal(o.err.message, "a batch cannot have more than 3 tasks (got 4)");
	outcome_release(&o);
	batch(&o, "[" TASK("a") "," TASK("b") "," TASK("c") "]");
	assert_int_equal(o.res, 0);
	outcome_release(&o);
	cfg.max_tasks_per_batch = saved;

	saved = cfg.max_deps_per_task;
	cfg.max_deps_per_task = 2;
	expect_detail("[" TASK("a") "," TASK("b") "," TASK("c") ","
	              TASK_WITH("d", ",\"dependencies\":[" DEP("a", "true") "," DEP("b", "true") "," DEP("c", "true") "]") "]",
	              "tasks[3].dependencies: Too many dependencies: 3 (limit is 2)");
	expect_ok("[" TASK("a") "," TASK("b") "," TASK_WITH("d", ",\"dependencies\":[" DEP("a", "true") "," DEP("b", "true") "]") "]");
	cfg.max_deps_per_task = saved;

	saved = cfg.max_actions_per_task;
	cfg.max_actions_per_task = 3;
	expect_detail("[" TASK_WITH("a", ",\"on_success\":[" HOOK "," HOOK "],\"on_failure\":[" HOOK "]") "]",
	              "tasks[0].actions: Too many actions: 4 (limit is 3)");
	expect_ok("[" TASK_WITH("a", ",\"on_success\":[" HOOK "],\"on_failure\":[" HOOK "]") "]");
	expect_detail("{\"tasks\":[],\"on_batch_complete\":[" HOOK "," HOOK "," HOOK "," HOOK "]}",
	              "on_batch_complete: Too many actions: 4 (limit is 3)");
	cfg.max_actions_per_task = saved;
}

static void test_decoding(void **state)
{
	UNUSED(state);
	outcome o;
	batch(&o, "[" TASK("a") ","
	          TASK_WITH("b", ",\"dependencies\":[" DEP("a", "true") "],\"timeout\":300,\"expected_count\":0,"
	                         "\"dead_end_barrier\":true,\"priority\":-5") ","
	          TASK_WITH("c", ",\"dependencies\":[" DEP("a", "false") "," DEP("b", "true") "],"
	                         "\"on_failure\":[{\"kind\":\"Webhook\",\"trigger\":\"End\",\"params\":{\"url\":\"https://f.example/x\",\"verb\":\"Put\"}}],"
	                         "\"on_success\":[" HOOK "," HOOK "]") "]");
	assert_int_equal(o.res, 0);
	assert_int_equal(o.batch.ntasks, 3);
	new_task *b = &o.batch.tasks[1], *c = &o.batch.tasks[2];
	assert_int_equal(b->ndeps, 1);
	assert_int_equal(b->deps[0].parent_index, 0);
	assert_true(b->deps[0].requires_success);
	assert_int_equal(b->timeout_secs, 300);
	assert_true(b->has_expected_count);
	assert_int_equal(b->expected_count, 0);
	assert_true(b->dead_end_barrier);
	assert_int_equal(b->priority, -5);
	assert_int_equal(c->ndeps, 2);
	assert_int_equal(c->deps[0].parent_index, 0);
	assert_false(c->deps[0].requires_success);
	assert_int_equal(c->deps[1].parent_index, 1);
	assert_true(c->deps[1].requires_success);
	assert_int_equal(c->non_failure, 1);
	assert_string_equal(c->on_failure[0], "{\"url\":\"https://f.example/x\",\"verb\":\"Put\"}");
	assert_int_equal(c->non_success, 2);
	assert_string_equal(c->on_success[1], "{\"url\":\"https://example.com/hook\",\"verb\":\"Post\"}");
	outcome_release(&o);
}

static void test_large_batch_linear(void **state)
{
	UNUSED(state);
	/* A 20,000-task chain: every task depends on the previous one. */
	size_t n = 20000;
	size_t saved = cfg.max_tasks_per_batch;
	cfg.max_tasks_per_batch = n;
	buf b;
	buf_init(&b);
	buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		buf_printf(&b, "%s{\"id\":\"t%zu\",\"name\":\"n\",\"kind\":\"k\",\"on_start\":" HOOK, i ? "," : "", i);
		if (i > 0)
			buf_printf(&b, ",\"dependencies\":[{\"id\":\"t%zu\",\"requires_success\":true}]", i - 1);
		buf_putc(&b, '}');
	}
	buf_putc(&b, ']');
	outcome o;
	batch(&o, b.data);
	assert_int_equal(o.res, 0);
	assert_int_equal(o.batch.ntasks, n);
	assert_int_equal(o.batch.tasks[n - 1].deps[0].parent_index, n - 2);
	outcome_release(&o);
	buf_release(&b);
	cfg.max_tasks_per_batch = saved;
}

/* ---- weft's NewTaskDto additions: retry, start_after, group ------------ */

/* Decodes one task with `extra` fields and returns its new_task (the
 * outcome must be released by the caller). */
static new_task *one_task(outcome *o, const char *json)
{
	batch(o, json);
	if (o->res != 0) {
		print_message("unexpected failure (%d, '%s')\n", o->res, o->err.message);
		dump(&o->err.details);
	}
	assert_int_equal(o->res, 0);
	assert_int_equal(o->batch.ntasks, 1);
	return &o->batch.tasks[0];
}

static void test_retry_defaults_and_canonical_form(void **state)
{
	UNUSED(state);
	outcome o;
	new_task *t = one_task(&o, "[" TASK_WITH("a", ",\"retry\":{\"max_retries\":3}") "]");
	assert_string_equal(t->retry_policy,
	                    "{\"max_retries\":3,\"initial_delay_secs\":5,\"backoff_multiplier\":2,"
	                    "\"max_delay_secs\":300,\"retry_on\":[\"timeout\",\"webhook_failure\",\"explicit\"]}");
	outcome_release(&o);

	/* Fractions kept, integers written without a fraction, causes in the
	 * canonical order without duplicates. */
	t = one_task(&o, "[" TASK_WITH("a", ",\"retry\":{\"max_retries\":0,\"initial_delay_secs\":0.5,"
	                                     "\"backoff_multiplier\":1.5,\"max_delay_secs\":60.0,"
	                                     "\"retry_on\":[\"explicit\",\"timeout\",\"explicit\"]}") "]");
	assert_string_equal(t->retry_policy,
	                    "{\"max_retries\":0,\"initial_delay_secs\":0.5,\"backoff_multiplier\":1.5,"
	                    "\"max_delay_secs\":60,\"retry_on\":[\"timeout\",\"explicit\"]}");
	outcome_release(&o);

	/* Empty retry_on: never retry; null fields take their defaults. */
	t = one_task(&o, "[" TASK_WITH("a", ",\"retry\":{\"max_retries\":100,\"retry_on\":[],"
	                                     "\"initial_delay_secs\":null,\"max_delay_secs\":86400}") "]");
	assert_string_equal(t->retry_policy,
	                    "{\"max_retries\":100,\"initial_delay_secs\":5,\"backoff_multiplier\":2,"
	                    "\"max_delay_secs\":86400,\"retry_on\":[]}");
	outcome_release(&o);

	/* Limits are inclusive; very small and odd fractions read back exactly. */
	t = one_task(&o, "[" TASK_WITH("a", ",\"retry\":{\"max_retries\":1,\"initial_delay_secs\":0,"
	                                     "\"backoff_multiplier\":100,\"max_delay_secs\":0.1}") "]");
	assert_non_null(strstr(t->retry_policy, "\"initial_delay_secs\":0,"));
	assert_non_null(strstr(t->retry_policy, "\"backoff_multiplier\":100,"));
	assert_non_null(strstr(t->retry_policy, "\"max_delay_secs\":0.1,"));
	outcome_release(&o);

	/* Absent or null: no policy. */
	t = one_task(&o, "[" TASK_WITH("a", ",\"retry\":null") "]");
	assert_null(t->retry_policy);
	outcome_release(&o);
	t = one_task(&o, "[" TASK("a") "]");
	assert_null(t->retry_policy);
	assert_null(t->group);
	assert_int_equal(t->start_after, 0);
	outcome_release(&o);
}

static void test_retry_messages(void **state)
{
	UNUSED(state);
	expect_detail("[" TASK_WITH("a", ",\"retry\":{\"max_retries\":101}") "]",
	              "tasks[0].retry.max_retries: max_retries must be between 0 and 100");
	expect_detail("[" TASK_WITH("a", ",\"retry\":{\"max_retries\":-1}") "]",
	              "tasks[0].retry.max_retries: max_retries must be between 0 and 100");
	expect_detail("[" TASK_WITH("a", ",\"retry\":{}") "]", "tasks[0].retry.max_retries: missing field");
	expect_detail("[" TASK_WITH("a", ",\"retry\":{\"max_retries\":2.5}") "]",
	              "tasks[0].retry.max_retries: expected an integer, got number");
	expect_detail("[" TASK_WITH("a", ",\"retry\":{\"max_retries\":1,\"initial_delay_secs\":-0.5}") "]",
	              "tasks[0].retry.initial_delay_secs: initial_delay_secs must be between 0 and 86400");
	expect_detail("[" TASK_WITH("a", ",\"retry\":{\"max_retries\":1,\"initial_delay_secs\":86401}") "]",
	              "tasks[0].retry.initial_delay_secs: initial_delay_secs must be between 0 and 86400");
	expect_detail("[" TASK_WITH("a", ",\"retry\":{\"max_retries\":1,\"initial_delay_secs\":\"5\"}") "]",
	              "tasks[0].retry.initial_delay_secs: expected a number, got string");
	expect_detail("[" TASK_WITH("a", ",\"retry\":{\"max_retries\":1,\"backoff_multiplier\":0.5}") "]",
	              "tasks[0].retry.backoff_multiplier: backoff_multiplier must be between 1 and 100");
	expect_detail("[" TASK_WITH("a", ",\"retry\":{\"max_retries\":1,\"backoff_multiplier\":101}") "]",
	              "tasks[0].retry.backoff_multiplier: backoff_multiplier must be between 1 and 100");
	expect_detail("[" TASK_WITH("a", ",\"retry\":{\"max_retries\":1,\"max_delay_secs\":1e9}") "]",
	              "tasks[0].retry.max_delay_secs: max_delay_secs must be between 0 and 86400");
	expect_detail("[" TASK_WITH("a", ",\"retry\":{\"max_retries\":1,\"retry_on\":[\"timeout\",\"x\"]}") "]",
	              "tasks[0].retry.retry_on[1]: unknown retry cause 'x' (expected timeout, webhook_failure or explicit)");
	expect_detail("[" TASK_WITH("a", ",\"retry\":{\"max_retries\":1,\"retry_on\":[3]}") "]",
	              "tasks[0].retry.retry_on[0]: expected a string, got integer");
	expect_detail("[" TASK_WITH("a", ",\"retry\":{\"max_retries\":1,\"retry_on\":\"timeout\"}") "]",
	              "tasks[0].retry.retry_on: expected an array, got string");
	expect_detail("[" TASK_WITH("a", ",\"retry\":3") "]", "tasks[0].retry: expected an object, got integer");

	/* Every problem of the policy is reported at once, with the task's index. */
	outcome o;
	batch(&o, "[" TASK("a") "," TASK_WITH("b", ",\"retry\":{\"max_retries\":500,\"backoff_multiplier\":0,"
	                                              "\"retry_on\":[\"never\"]}") "]");
	assert_int_equal(o.res, WEFT_EINVALID);
	assert_int_equal(o.err.details.len, 3);
	assert_true(has(&o.err.details, "tasks[1].retry.max_retries: max_retries must be between 0 and 100"));
	assert_true(has(&o.err.details, "tasks[1].retry.backoff_multiplier: backoff_multiplier must be between 1 and 100"));
	assert_true(has_prefix(&o.err.details, "tasks[1].retry.retry_on[0]: unknown retry cause 'never'"));
	outcome_release(&o);
}

static void test_start_after(void **state)
{
	UNUSED(state);
	outcome o;
	new_task *t = one_task(&o, "[" TASK_WITH("a", ",\"start_after\":\"2026-03-14T10:00:00Z\"") "]");
	assert_int_equal(t->start_after, 1773482400LL * 1000000);
	outcome_release(&o);
	t = one_task(&o, "[" TASK_WITH("a", ",\"start_after\":\"2026-03-14T12:00:00.25+02:00\"") "]");
	assert_int_equal(t->start_after, 1773482400LL * 1000000 + 250000);
	outcome_release(&o);
	t = one_task(&o, "[" TASK_WITH("a", ",\"start_after\":null") "]");
	assert_int_equal(t->start_after, 0);
	outcome_release(&o);

	expect_detail("[" TASK_WITH("a", ",\"start_after\":\"tomorrow\"") "]",
	              "tasks[0].start_after: start_after must be an RFC 3339 timestamp");
	expect_detail("[" TASK_WITH("a", ",\"start_after\":\"2026-13-01T00:00:00Z\"") "]",
	              "tasks[0].start_after: start_after must be an RFC 3339 timestamp");
	expect_detail("[" TASK_WITH("a", ",\"start_after\":1773482400") "]",
	              "tasks[0].start_after: expected a string, got integer");
}

static void test_group(void **state)
{
	UNUSED(state);
	outcome o;
	new_task *t = one_task(&o, "[" TASK_WITH("a", ",\"group\":\"nightly\"") "]");
	assert_string_equal(t->group, "nightly");
	outcome_release(&o);
	t = one_task(&o, "[" TASK_WITH("a", ",\"group\":\"  etl/eu west \\t\"") "]");
	assert_string_equal(t->group, "etl/eu west");
	outcome_release(&o);
	t = one_task(&o, "[" TASK_WITH("a", ",\"group\":null") "]");
	assert_null(t->group);
	outcome_release(&o);

	expect_detail("[" TASK_WITH("a", ",\"group\":\"\"") "]", "tasks[0].group: Group name cannot be empty");
	expect_detail("[" TASK_WITH("a", ",\"group\":\" \\n \"") "]", "tasks[0].group: Group name cannot be empty");
	expect_detail("[" TASK_WITH("a", ",\"group\":7") "]", "tasks[0].group: expected a string, got integer");

	/* 255 bytes is the limit, after trimming. */
	char name[300];
	memset(name, 'g', 255);
	name[255] = '\0';
	char *json = xasprintf("[" TASK_WITH("a", ",\"group\":\" %s \"") "]", name);
	t = one_task(&o, json);
	assert_int_equal(strlen(t->group), 255);
	outcome_release(&o);
	free(json);
	name[255] = 'g';
	name[256] = '\0';
	json = xasprintf("[" TASK_WITH("a", ",\"group\":\"%s\"") "]", name);
	expect_detail(json, "tasks[0].group: Group name cannot exceed 255 characters");
	free(json);
}

static void test_extras_collected_with_others(void **state)
{
	UNUSED(state);
	outcome o;
	batch(&o, "[{\"id\":\"a\",\"name\":\"\",\"kind\":\"ci\",\"on_start\":" HOOK ",\"group\":\"\","
	          "\"start_after\":\"soon\",\"retry\":{\"max_retries\":-2}}]");
	assert_int_equal(o.res, WEFT_EINVALID);
	assert_true(has(&o.err.details, "tasks[0].name: Task name cannot be empty"));
	assert_true(has(&o.err.details, "tasks[0].group: Group name cannot be empty"));
	assert_true(has(&o.err.details, "tasks[0].start_after: start_after must be an RFC 3339 timestamp"));
	assert_true(has(&o.err.details, "tasks[0].retry.max_retries: max_retries must be between 0 and 100"));
	assert_null(o.batch.tasks);
	outcome_release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_task),
		cmocka_unit_test(test_empty_name),
		cmocka_unit_test(test_empty_kind),
		cmocka_unit_test(test_negative_timeout),
		cmocka_unit_test(test_self_dependency),
		cmocka_unit_test(test_circular_dependency),
		cmocka_unit_test(test_longer_circular_dependency),
		cmocka_unit_test(test_invalid_webhook_url),
		cmocka_unit_test(test_priority_valid_range),
		cmocka_unit_test(test_priority_out_of_range),
		cmocka_unit_test(test_priority_default),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_local_id_and_dependency_messages),
		cmocka_unit_test(test_expected_count_negative),
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_dedupe_decoded),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_collects_all_errors),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_empty_batch),
		cmocka_unit_test(test_object_form),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_decoding),
		cmocka_unit_test(test_large_batch_linear),
		cmocka_unit_test(test_retry_defaults_and_canonical_form),
		cmocka_unit_test(test_retry_messages),
		cmocka_unit_test(test_start_after),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_extras_collected_with_others),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
