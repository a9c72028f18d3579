/*
 * test_openapi.c — the embedded OpenAPI documents against the routes the
 * server really serves, each API against its own (src/http/arcrun/openapi.json
 * for the root paths, src/http/v1/openapi.json for /v1/), and the router
 * itself.
 *
 * Adding a route without documenting it (or documenting one that does not
 * exist) fails here. The /v1 query parameters each route takes are read
 * from the document (query_params.h): checked here too.
 */
#include "util/common.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "http/http.h"
#include "http/arcrun/arcrun.h"
#include "http/router.h"
#include "http/v1/query_params.h"
#include "http/v1/v1.h"
#include "core/error.h"
#include "util/json.h"

/* The APIs' documents: the one whose prefix a route's pattern starts with
 * describes it (the longest prefix wins; ArcRun's is ""). */
typedef struct api_doc {
	const char *name;
	const char *prefix;
	const char *(*text)(size_t *len);
	json_t *doc;
} api_doc;

static api_doc docs[] = {
	{ "arcrun", "", arcrun_openapi_document, NULL },
	{ "v1", "/v1/", v1_openapi_document, NULL },
};

/* The document under test in the per-document cases. */
static json_t *doc;

static int setup(void **state)
{
	UNUSED(state);
	for (size_t i = 0; i < ARRAY_LEN(docs); i++) {
		size_t len;
		const char *text = docs[i].text(&len);
		json_error_t err;
		docs[i].doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
		if (docs[i].doc == NULL) {
			print_message("%s openapi.json: %s at line %d column %d\n", docs[i].name, err.text, err.line,
			              err.column);
			return -1;
		}
	}
	doc = docs[0].doc;
	return 0;
}

static int teardown(void **state)
{
	UNUSED(state);
	for (size_t i = 0; i < ARRAY_LEN(docs); i++)
		json_decref(docs[i].doc);
	return 0;
}

/* The document that describes a route's pattern. */
static api_doc *doc_of(const char *pattern)
{
	api_doc *best = NULL;
	for (size_t i = 0; i < ARRAY_LEN(docs); i++) {
		size_t n = strlen(docs[i].prefix);
		if (strncmp(pattern, docs[i].prefix, n) == 0 && (best == NULL || n > strlen(best->prefix)))
			best = &docs[i];
	}
	return best;
}

static void lower(const char *in, char *out, size_t cap)
{
	size_t i = 0;
	for (; in[i] != '\0' && i + 1 < cap; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static bool is_method_key(const char *k)
{
	static const char *const methods[] = { "get", "put", "post", "delete", "options", "head", "patch", "trace" };
	for (size_t i = 0; i < ARRAY_LEN(methods); i++) {
		if (strcmp(k, methods[i]) == 0)
			return true;
	}
	return false;
}

/* Resolves a local "$ref" ("#/components/schemas/X"); NULL when dangling. */
static json_t *resolve(const char *ref)
{
	if (strncmp(ref, "#/", 2) != 0)
		return NULL;
	json_t *node = doc;
	char part[256];
	const char *p = ref + 2;
	while (*p != '\0' && node != NULL) {
		size_t n = strcspn(p, "/");
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, p, n);
		part[n] = '\0';
		node = json_object_get(node, part);
		p += n;
		if (*p == '/')
			p++;
	}
	return node;
}

static json_t *deref(json_t *v)
{
	json_t *r = json_object_get(v, "$ref");
	return json_is_string(r) ? resolve(json_string_value(r)) : v;
}

/* ---- tests ----------------------------------------------------------- */

static void check_header(void)
{
	assert_true(json_is_object(doc));
	const char *version = NULL;
	assert_int_equal(json_get_str(doc, "openapi", &version), 0);
	assert_true(strncmp(version, "3.", 2) == 0);
	json_t *info = json_object_get(doc, "info");
	assert_true(json_is_object(info));
	assert_true(json_is_string(json_object_get(info, "title")));
	assert_true(json_is_string(json_object_get(info, "version")));
	assert_true(json_is_object(json_object_get(doc, "paths")));
	assert_true(json_is_object(json_object_get(json_object_get(doc, "components"), "schemas")));
}

static void test_document_header(void **state)
{
	UNUSED(state);
	for (size_t i = 0; i < ARRAY_LEN(docs); i++) {
		doc = docs[i].doc;
		check_header();
	}
	doc = docs[0].doc;
}

/* Every (method, pattern) the server routes is documented, with at least
 * one response and every path parameter declared. */
static void test_every_route_documented(void **state)
{
	UNUSED(state);
	size_t n = http_route_count();
	assert_true(n >= 23);
	size_t missing = 0;
	for (size_t i = 0; i < n; i++) {
		const char *pattern = http_route_pattern(i);
		doc = doc_of(pattern)->doc;   /* for deref */
		json_t *paths = json_object_get(doc, "paths");
		char method[16];
		lower(http_route_method(i), method, sizeof(method));
		json_t *op = json_object_get(json_object_get(paths, pattern), method);
		if (!json_is_object(op)) {
			print_message("undocumented route: %s %s (in %s's document)\n", http_route_method(i), pattern,
			              doc_of(pattern)->name);
			missing++;
			continue;
		}
		json_t *responses = json_object_get(op, "responses");
		assert_true(json_is_object(responses) && json_object_size(responses) > 0);

		/* Each "{name}" of the pattern is a declared path parameter. */
		for (const char *p = strchr(pattern, '{'); p != NULL; p = strchr(p + 1, '{')) {
			size_t len = strcspn(p + 1, "}");
			bool found = false;
			json_t *params = json_object_get(op, "parameters");
			size_t k;
			json_t *prm;
			json_array_foreach(params, k, prm) {
				json_t *d = deref(prm);
				const char *name = NULL, *in = NULL;
				if (d != NULL && json_get_str(d, "name", &name) == 0 &&
				    json_get_str(d, "in", &in) == 0 && strcmp(in, "path") == 0 &&
				    strlen(name) == len && strncmp(name, p + 1, len) == 0)
					found = true;
			}
			if (!found)
				print_message("%s %s: path parameter %.*s not declared\n", http_route_method(i), pattern,
				              (int)len, p + 1);
			assert_true(found);
		}
	}
	doc = docs[0].doc;
	assert_int_equal(missing, 0);
}

/* And each document describes no route the server does not serve, nor
 * one of another API. */
static size_t phantom_routes(const api_doc *d)
{
	json_t *paths = json_object_get(d->doc, "paths");
	const char *path;
	json_t *item;
	size_t phantom = 0;
	json_object_foreach(paths, path, item) {
		if (doc_of(path) != d) {
			print_message("%s's document describes %s, a path of another API\n", d->name, path);
			phantom++;
		}
		const char *key;
		json_t *op;
		json_object_foreach(item, key, op) {
			if (!is_method_key(key))
				continue;
			bool served = false;
			for (size_t i = 0; i < http_route_count() && !served; i++) {
				char method[16];
				lower(http_route_method(i), method, sizeof(method));
				served = strcmp(method, key) == 0 && strcmp(http_route_pattern(i), path) == 0;
			}
			if (!served) {
				print_message("documented but not served: %s %s\n", key, path);
				phantom++;
			}
		}
	}
	return phantom;
}

static void test_no_phantom_routes(void **state)
{
	UNUSED(state);
	for (size_t i = 0; i < ARRAY_LEN(docs); i++)
		assert_int_equal(phantom_routes(&docs[i]), 0);
}

/* Every "$ref" points at something in the document. */
static size_t dangling_refs(json_t *v)
{
	size_t bad = 0;
	if (json_is_object(v)) {
		const char *key;
		json_t *child;
		json_object_foreach(v, key, child) {
			if (strcmp(key, "$ref") == 0 && json_is_string(child)) {
				if (resolve(json_string_value(child)) == NULL) {
					print_message("dangling $ref: %s\n", json_string_value(child));
					bad++;
				}
			} else {
				bad += dangling_refs(child);
			}
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *child;
		json_array_foreach(v, i, child)
			bad += dangling_refs(child);
	}
	return bad;
}

static void test_refs_resolve(void **state)
{
	UNUSED(state);
	for (size_t i = 0; i < ARRAY_LEN(docs); i++) {
		doc = docs[i].doc;
		assert_int_equal(dangling_refs(doc), 0);
	}
	doc = docs[0].doc;
}

/* The shapes weft adds are described. */
static void test_schemas(void **state)
{
	UNUSED(state);
	json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
	static const char *const needed[] = { "TaskDto", "BasicTaskDto", "NewTaskDto", "NewBatchDto", "ActionDto",
		                              "DeliveryRecord", "RetryPolicy", "ApiError", "ValidationError",
		                              "StatusCounts", "CriticalPath", "TaskEvent", "WebhookDelivery" };
	for (size_t i = 0; i < ARRAY_LEN(needed); i++) {
		if (!json_is_object(json_object_get(schemas, needed[i])))
			print_message("missing schema %s\n", needed[i]);
		assert_true(json_is_object(json_object_get(schemas, needed[i])));
	}
	json_t *props = json_object_get(json_object_get(schemas, "NewTaskDto"), "properties");
	assert_non_null(json_object_get(props, "retry"));
	assert_non_null(json_object_get(props, "start_after"));
	assert_non_null(json_object_get(props, "group"));
	props = json_object_get(json_object_get(schemas, "TaskDto"), "properties");
	static const char *const task_fields[] = { "attempt", "group", "start_after", "retry", "next_retry_at" };
	for (size_t i = 0; i < ARRAY_LEN(task_fields); i++)
		assert_non_null(json_object_get(props, task_fields[i]));
	assert_non_null(json_object_get(json_object_get(json_object_get(schemas, "ActionDto"), "properties"),
	                                "delivery"));
	assert_non_null(json_object_get(json_object_get(json_object_get(schemas, "StatusCounts"), "properties"),
	                                "retrying"));

	/* Statuses shown are ArcRun's eight; RetryPending is only a filter. */
	json_t *statuses = json_object_get(json_object_get(schemas, "StatusKind"), "enum");
	assert_int_equal(json_array_size(statuses), 8);
	bool found = false;
	size_t i;
	json_t *s;
	json_array_foreach(statuses, i, s)
		found |= json_is_string(s) && strcmp(json_string_value(s), "RetryPending") == 0;
	assert_false(found);
	json_t *filter = json_object_get(json_object_get(schemas, "StatusFilter"), "enum");
	json_array_foreach(filter, i, s)
		found |= json_is_string(s) && strcmp(json_string_value(s), "RetryPending") == 0;
	assert_true(found);
	assert_non_null(json_object_get(props, "state"));
}

/* ---- /v1: types and bounds ------------------------------------------------ */

/* Problems of a schema a client sends (a request body or parameter):
 * every value has a type, every integer a minimum and maximum, every
 * string a maximum length (or an enum, or the fixed form of a UUID or a
 * time), every array a maximum size. Clients generate their types and
 * checks from these. */
static size_t unbounded(json_t *schema, const char *where, int depth)
{
	json_t *s = deref(schema);
	if (s == NULL || depth > 20)
		return 0;
	const char *type = NULL;
	if (json_get_str(s, "type", &type) != 0) {
		/* "Any JSON" is allowed where it says so. */
		const char *desc = NULL;
		if (json_get_str(s, "description", &desc) == 0 && strstr(desc, "JSON") != NULL)
			return 0;
		print_message("%s: no type\n", where);
		return 1;
	}
	size_t bad = 0;
	const char *fmt = NULL;
	json_get_str(s, "format", &fmt);
	if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0) {
		if (!json_is_number(json_object_get(s, "minimum")) || !json_is_number(json_object_get(s, "maximum"))) {
			print_message("%s: a number without minimum and maximum\n", where);
			bad++;
		}
	} else if (strcmp(type, "string") == 0) {
		bool fixed = fmt != NULL && (strcmp(fmt, "uuid") == 0 || strcmp(fmt, "date-time") == 0);
		if (!fixed && !json_is_array(json_object_get(s, "enum")) && !json_is_integer(json_object_get(s, "maxLength"))) {
			print_message("%s: a string without maxLength\n", where);
			bad++;
		}
	} else if (strcmp(type, "array") == 0) {
		if (!json_is_integer(json_object_get(s, "maxItems"))) {
			print_message("%s: an array without maxItems\n", where);
			bad++;
		}
		char sub[512];
		snprintf(sub, sizeof sub, "%s[]", where);
		bad += unbounded(json_object_get(s, "items"), sub, depth + 1);
	} else if (strcmp(type, "object") == 0) {
		const char *key;
		json_t *prop;
		json_object_foreach(json_object_get(s, "properties"), key, prop) {
			char sub[512];
			snprintf(sub, sizeof sub, "%s.%s", where, key);
			bad += unbounded(prop, sub, depth + 1);
		}
	}
	return bad;
}

static void test_v1_requests_bounded(void **state)
{
	UNUSED(state);
	doc = doc_of("/v1/")->doc;
	size_t bad = 0;
	const char *path, *method;
	json_t *item, *op;
	json_object_foreach(json_object_get(doc, "paths"), path, item) {
		json_object_foreach(item, method, op) {
			char where[300];
			json_t *body = json_object_get(json_object_get(json_object_get(json_object_get(op, "requestBody"),
			                                                              "content"), "application/json"), "schema");
			snprintf(where, sizeof where, "%s %s body", method, path);
			if (body != NULL)
				bad += unbounded(body, where, 0);
			size_t i;
			json_t *prm;
			json_array_foreach(json_object_get(op, "parameters"), i, prm) {
				json_t *d = deref(prm);
				const char *name = "?";
				json_get_str(d, "name", &name);
				snprintf(where, sizeof where, "%s %s parameter %s", method, path, name);
				bad += unbounded(json_object_get(d, "schema"), where, 0);
			}
		}
	}
	doc = docs[0].doc;
	assert_int_equal(bad, 0);
}

/* The shapes the API promises are there, with their fields. */
static void test_v1_schemas(void **state)
{
	UNUSED(state);
	json_t *schemas = json_object_get(json_object_get(doc_of("/v1/")->doc, "components"), "schemas");
	static const struct {
		const char *schema;
		const char *fields[16];
	} need[] = {
		{ "Error", { "error" } },
		{ "Task", { "id", "run_id", "namespace", "executor", "queue", "name", "status", "attempt", "max_attempts",
		            "priority", "input", "result", "error", "metadata", "lease", "attempts" } },
		{ "JobSpec", { "queue", "name", "input", "priority", "run_at", "delay_ms", "max_attempts", "backoff",
		               "non_retryable_codes", "timeout_secs", "dedup", "concurrency_key", "rate_key", "metadata" } },
		{ "ClaimRequest", { "namespace", "queues", "worker_id", "hostname", "max_jobs", "wait_ms", "lease_ms" } },
		{ "ClaimedJob", { "id", "run_id", "queue", "name", "attempt", "max_attempts", "lease_token", "lease_until",
		                  "timeout_at", "heartbeat_ms", "input", "metadata", "parents" } },
		{ "HeartbeatRequest", { "worker_id", "lease_ms", "leases" } },
		{ "FailItem", { "id", "lease_token", "error", "retry_after_ms" } },
		{ "EnqueuedJob", { "id", "run_id", "queue", "status", "duplicate" } },
		{ "TaskList", { "tasks", "next_cursor" } },
		{ "DeadLetterList", { "dead_letters", "next_cursor" } },
		{ "RequeueRequest", { "ids", "namespace", "queue", "limit", "reason" } },
		{ "RequeueResponse", { "requeued", "skipped" } },
		{ "ResolveRequest", { "reason", "result" } },
		{ "Worker", { "id", "namespace", "hostname", "queues", "in_flight", "last_heartbeat_at", "state" } },
	};
	for (size_t i = 0; i < ARRAY_LEN(need); i++) {
		json_t *props = json_object_get(json_object_get(schemas, need[i].schema), "properties");
		if (props == NULL)
			fail_msg("schema %s missing", need[i].schema);
		for (size_t k = 0; k < ARRAY_LEN(need[i].fields) && need[i].fields[k] != NULL; k++) {
			if (json_object_get(props, need[i].fields[k]) == NULL)
				fail_msg("%s.%s missing", need[i].schema, need[i].fields[k]);
		}
	}
	json_t *codes = json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(schemas, "Error"),
	                                 "properties"), "error"), "properties"), "code");
	assert_int_equal(json_array_size(json_object_get(codes, "enum")), 13);
}

/* ---- the router ------------------------------------------------------ */

static const char *resolved(const char *method, const char *path, char *param)
{
	size_t i;
	if (!http_route_resolve(method, path, &i, param))
		return NULL;
	return http_route_pattern(i);
}

static void test_routing(void **state)
{
	UNUSED(state);
	char p[HTTP_TEXT_PARAM_MAX + 1];
	const char *id = "0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11";
	char path[128];

	assert_string_equal(resolved("GET", "/task", p), "/task");
	snprintf(path, sizeof(path), "/task/%s", id);
	assert_string_equal(resolved("GET", path, p), "/task/{task_id}");
	assert_string_equal(p, id);
	snprintf(path, sizeof(path), "/task/%s/events", id);
	assert_string_equal(resolved("GET", path, p), "/task/{task_id}/events");
	snprintf(path, sizeof(path), "/batch/%s/critical-path", id);
	assert_string_equal(resolved("GET", path, p), "/batch/{batch_id}/critical-path");
	/* Upper case and percent-encoded UUIDs are the same id. */
	assert_string_equal(resolved("DELETE", "/task/0A8E6F0C-5C6B-4B8E-9E32-6F7A2D7E1C11", p), "/task/{task_id}");
	assert_string_equal(p, id);
	assert_string_equal(resolved("GET", "/task/%30a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11", p), "/task/{task_id}");
	assert_string_equal(p, id);

	/* Not a UUID, wrong method, trailing slash, unknown: no route (404). */
	assert_null(resolved("GET", "/task/not-a-uuid", p));
	snprintf(path, sizeof(path), "/task/%s", id);
	assert_null(resolved("POST", path, p));
	assert_null(resolved("GET", "/task/", p));
	assert_null(resolved("GET", "/tasks", p));
	assert_null(resolved("PATCH", "/group/x", p));

	/* Group names: one segment, decoded on its own. */
	assert_string_equal(resolved("DELETE", "/group/nightly", p), "/group/{name}");
	assert_string_equal(p, "nightly");
	assert_string_equal(resolved("PATCH", "/group/etl%2Feu%20west/pause", p), "/group/{name}/pause");
	assert_string_equal(p, "etl/eu west");
	assert_string_equal(resolved("PATCH", "/group/a+b%zz%/resume", p), "/group/{name}/resume");
	assert_string_equal(p, "a+b%zz%");
	assert_null(resolved("DELETE", "/group/", p));
	assert_null(resolved("DELETE", "/group/a%00b", p));
	assert_null(resolved("DELETE", "/group/a/b", p));

	char long_path[1024];
	int n = snprintf(long_path, sizeof(long_path), "/group/");
	memset(long_path + n, 'g', 255);
	long_path[n + 255] = '\0';
	assert_string_equal(resolved("DELETE", long_path, p), "/group/{name}");
	assert_int_equal(strlen(p), 255);
	long_path[n + 255] = 'g';
	long_path[n + 256] = '\0';
	assert_null(resolved("DELETE", long_path, p));
	/* 255 bytes once decoded. */
	n = snprintf(long_path, sizeof(long_path), "/group/");
	for (int i = 0; i < 85; i++)
		n += snprintf(long_path + n, sizeof(long_path) - (size_t)n, "%%41%%42%%43");
	assert_string_equal(resolved("DELETE", long_path, p), "/group/{name}");
	assert_int_equal(strlen(p), 255);
}

/* The /v1 table of query parameters is the document's: what an operation
 * declares (its own and $ref'd parameters) passes, anything else and a
 * repeated name are refused, each named in a detail. */
static size_t v1_route(const char *method, const char *pattern)
{
	for (size_t i = 0; i < v1_api.nroutes; i++) {
		if (strcmp(http_method_label(v1_api.routes[i].method), method) == 0 &&
		    strcmp(v1_api.routes[i].pattern, pattern) == 0)
			return i;
	}
	fail_msg("no route %s %s", method, pattern);
	return 0;
}

static int query_check(size_t route, const char *const *keys, size_t n, http_error *e)
{
	http_error_release(e);
	http_error_init(e);
	return v1_query_rule_check(route, keys, n, e);
}

static void test_v1_query_parameters(void **state)
{
	UNUSED(state);
	size_t len;
	const char *text = v1_openapi_document(&len);
	char err[256];
	assert_int_equal(v1_query_rules_load(text, len, v1_api.routes, v1_api.nroutes, err, sizeof(err)), 0);

	size_t schedules = v1_route("GET", "/v1/schedules");
	assert_string_equal(v1_query_rule_takes(schedules), "namespace, limit, cursor");
	assert_string_equal(v1_query_rule_takes(v1_route("POST", "/v1/jobs")), "none");
	assert_null(v1_query_rule_takes(v1_api.nroutes));

	http_error e;
	http_error_init(&e);
	const char *ok[] = { "cursor", "namespace", "limit" };
	assert_int_equal(query_check(schedules, ok, 3, &e), 0);
	assert_int_equal(e.details.len, 0);

	const char *unknown[] = { "namespace", "queue" };
	assert_int_equal(query_check(schedules, unknown, 2, &e), WEFT_EINVALID);
	assert_int_equal(e.details.len, 1);
	assert_string_equal(e.details.items[0],
	                    "queue: not a parameter of GET /v1/schedules (it takes namespace, limit, cursor)");

	const char *twice[] = { "namespace", "limit", "namespace", "namespace", "x", "x" };
	assert_int_equal(query_check(schedules, twice, 6, &e), WEFT_EINVALID);
	assert_int_equal(e.details.len, 2);
	assert_string_equal(e.details.items[0], "namespace: given 3 times; GET /v1/schedules takes one value");
	assert_true(strncmp(e.details.items[1], "x: not a parameter", 18) == 0);
	http_error_release(&e);

	/* A document that misses a route's operation is refused at start-up. */
	const char *partial = "{\"paths\":{\"/v1/openapi.json\":{\"get\":{}}}}";
	assert_int_equal(v1_query_rules_load(partial, strlen(partial), v1_api.routes, v1_api.nroutes, err,
	                                     sizeof(err)), -1);
	assert_non_null(strstr(err, "GET /v1/tasks"));
	/* The table built before stays. */
	assert_string_equal(v1_query_rule_takes(schedules), "namespace, limit, cursor");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document_header),
		cmocka_unit_test(test_every_route_documented),
		cmocka_unit_test(test_no_phantom_routes),
		cmocka_unit_test(test_refs_resolve),
		cmocka_unit_test(test_schemas),
		cmocka_unit_test(test_v1_requests_bounded),
		cmocka_unit_test(test_v1_schemas),
		cmocka_unit_test(test_routing),
		cmocka_unit_test(test_v1_query_parameters),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
