/*
 * query_params.c — the query parameters each /v1 route takes (see
 * query_params.h).
 */
#include "util/common.h"
#include "http/v1/query_params.h"

#include <jansson.h>

#include "core/error.h"
#include "http/router.h"
#include "util/alloc.h"
#include "util/buf.h"

/* Longest parameter name quoted back in an error: the name comes from the
 * client. */
#define QUERY_NAME_QUOTED_MAX 64

typedef struct query_rule {
	char label[16 + HTTP_TEXT_PARAM_MAX];   /* "GET /v1/schedules" */
	char **names;
	size_t nnames;
	char *takes;                            /* "namespace, limit, cursor" or "none" */
} query_rule;

static query_rule *rules;
static size_t nrules;

static void rules_release(query_rule *rs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < rs[i].nnames; j++)
			free(rs[i].names[j]);
		free(rs[i].names);
		free(rs[i].takes);
	}
	free(rs);
}

/* A parameter object, its "$ref" (only to #/components/parameters/)
 * followed; NULL when it does not resolve. */
static json_t *parameter_of(json_t *doc, json_t *p)
{
	const char *ref = json_string_value(json_object_get(p, "$ref"));
	if (ref == NULL)
		return p;
	static const char prefix[] = "#/components/parameters/";
	if (strncmp(ref, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	json_t *params = json_object_get(json_object_get(doc, "components"), "parameters");
	return json_object_get(params, ref + sizeof(prefix) - 1);
}

static int rule_build(json_t *doc, const http_route *rt, query_rule *rule, char *err, size_t errlen)
{
	const char *method = http_method_label(rt->method);
	snprintf(rule->label, sizeof(rule->label), "%s %s", method, rt->pattern);
	char lower[8];
	size_t k = 0;
	for (; method[k] != '\0' && k + 1 < sizeof(lower); k++)
		lower[k] = (char)(method[k] - 'A' + 'a');
	lower[k] = '\0';
	json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"), rt->pattern), lower);
	if (!json_is_object(op)) {
		snprintf(err, errlen, "openapi.json does not describe %s", rule->label);
		return -1;
	}
	json_t *params = json_object_get(op, "parameters");
	size_t n = json_array_size(params);
	rule->names = xcalloc(n > 0 ? n : 1, sizeof(char *));
	buf takes;
	buf_init(&takes);
	for (size_t i = 0; i < n; i++) {
		json_t *p = parameter_of(doc, json_array_get(params, i));
		const char *in = json_string_value(json_object_get(p, "in"));
		const char *name = json_string_value(json_object_get(p, "name"));
		if (in == NULL || name == NULL) {
			snprintf(err, errlen, "openapi.json: parameter %zu of %s has no name or \"in\"", i, rule->label);
			buf_release(&takes);
			return -1;
		}
		if (strcmp(in, "query") != 0)
			continue;
		rule->names[rule->nnames++] = xstrdup(name);
		buf_printf(&takes, "%s%s", takes.len > 0 ? ", " : "", name);
	}
	rule->takes = xstrdup(takes.len > 0 ? takes.data : "none");
	buf_release(&takes);
	return 0;
}

int v1_query_rules_load(const char *doc, size_t len, const http_route *routes, size_t n, char *err,
                        size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(doc, len, 0, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "openapi.json does not parse: %s (line %d)", jerr.text, jerr.line);
		return -1;
	}
	query_rule *built = xcalloc(n > 0 ? n : 1, sizeof(query_rule));
	for (size_t i = 0; i < n; i++) {
		if (rule_build(root, &routes[i], &built[i], err, errlen) != 0) {
			rules_release(built, n);
			json_decref(root);
			return -1;
		}
	}
	json_decref(root);
	rules_release(rules, nrules);
	rules = built;
	nrules = n;
	return 0;
}

const char *v1_query_rule_takes(size_t route)
{
	return route < nrules ? rules[route].takes : NULL;
}

static bool takes_name(const query_rule *rule, const char *key)
{
	for (size_t i = 0; i < rule->nnames; i++) {
		if (strcmp(rule->names[i], key) == 0)
			return true;
	}
	return false;
}

int v1_query_rule_check(size_t route, const char *const *keys, size_t nkeys, http_error *e)
{
	if (route >= nrules || nkeys == 0)
		return 0;
	const query_rule *rule = &rules[route];
	for (size_t i = 0; i < nkeys; i++) {
		bool seen_before = false;
		for (size_t j = 0; j < i && !seen_before; j++)
			seen_before = strcmp(keys[j], keys[i]) == 0;
		if (seen_before)
			continue;
		if (!takes_name(rule, keys[i])) {
			http_error_detail(e, "%.*s: not a parameter of %s (it takes %s)", QUERY_NAME_QUOTED_MAX,
			                  keys[i][0] != '\0' ? keys[i] : "\"\"", rule->label, rule->takes);
			continue;
		}
		size_t times = 1;
		for (size_t j = i + 1; j < nkeys; j++)
			times += strcmp(keys[j], keys[i]) == 0;
		if (times > 1)
			http_error_detail(e, "%s: given %zu times; %s takes one value", keys[i], times, rule->label);
	}
	if (e->details.len == 0)
		return 0;
	if (e->details.len == 1)
		snprintf(e->message, sizeof(e->message), "Query parameter %s", e->details.items[0]);
	else
		snprintf(e->message, sizeof(e->message), "%zu query parameters are refused by %s.", e->details.len,
		         rule->label);
	return WEFT_EINVALID;
}

typedef struct query_keys {
	const char *keys[V1_QUERY_PARAMS_MAX];
	size_t n;
	bool too_many;
} query_keys;

static void collect_key(void *ctx, const char *key, const char *value)
{
	query_keys *q = ctx;
	/* "&&" or a leading '&' separates nothing: libmicrohttpd gives an
	 * empty name for it, which names no parameter (as URLSearchParams
	 * skips it); "=x" does give a value, under an empty name. */
	if (key[0] == '\0' && (value == NULL || value[0] == '\0'))
		return;
	if (q->n < V1_QUERY_PARAMS_MAX)
		q->keys[q->n++] = key;
	else
		q->too_many = true;
}

int v1_query_check(http_request *r, size_t route)
{
	query_keys q = { .n = 0 };
	http_query_each(r, collect_key, &q);
	if (q.too_many)
		return http_error_set(http_err(r), WEFT_EINVALID, HTTP_ERR_RULE, NULL,
		                      "The query names more than %d parameters.", V1_QUERY_PARAMS_MAX);
	return v1_query_rule_check(route, q.keys, q.n, http_err(r));
}
