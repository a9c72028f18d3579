/*
 * rules.c — reading stored rules, checking them for a start candidate, and
 * explaining why a pending task is held (rules.h).
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/log.h"
#include "engine/rules.h"

static void rule_release(rule *r)
{
	free(r->kind);
	for (size_t i = 0; i < r->nfields; i++)
		free(r->fields[i]);
	free(r->fields);
}

void rules_free(rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rule_release(&rules[i]);
	free(rules);
}

static int parse_one(const json_t *obj, rule *r)
{
	const char *type = NULL, *kind = NULL, *status = NULL;
	if (!json_is_object(obj) || json_get_str(obj, "type", &type) != 0)
		return -1;
	const char *max_key;
	if (strcmp(type, "Concurency") == 0) {
		r->type = RULE_CONCURRENCY;
		max_key = "max_concurency";
	} else if (strcmp(type, "Capacity") == 0) {
		r->type = RULE_CAPACITY;
		max_key = "max_capacity";
	} else {
		return -1;
	}
	if (json_get_i64(obj, max_key, &r->max) != 0)
		return -1;
	const json_t *m = json_object_get(obj, "matcher");
	if (!json_is_object(m) || json_get_str(m, "kind", &kind) != 0 ||
	    json_get_str(m, "status", &status) != 0 ||
	    task_status_from_label(status, &r->status) != 0)
		return -1;
	const json_t *fields = json_object_get(m, "fields");
	if (!json_is_array(fields))
		return -1;
	r->kind = xstrdup(kind);
	r->nfields = json_array_size(fields);
	r->fields = xcalloc(r->nfields ? r->nfields : 1, sizeof(char *));
	for (size_t i = 0; i < r->nfields; i++) {
		const json_t *f = json_array_get(fields, i);
		if (!json_is_string(f))
			return -1;
		r->fields[i] = xstrdup(json_string_value(f));
	}
	return 0;
}

int rules_parse(const char *json_text, rule **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	json_t *arr = json_parse_text(json_text);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return -1;
	}
	size_t count = json_array_size(arr);
	rule *rules = xcalloc(count ? count : 1, sizeof(rule));
	for (size_t i = 0; i < count; i++) {
		if (parse_one(json_array_get(arr, i), &rules[i]) != 0) {
			rules_free(rules, i + 1);
			json_decref(arr);
			return -1;
		}
	}
	json_decref(arr);
	*out = rules;
	*n = count;
	return 0;
}

void rule_blocked_set_init(rule_blocked_set *s)
{
	s->keys = NULL;
	s->len = s->cap = 0;
}

void rule_blocked_set_release(rule_blocked_set *s)
{
	for (size_t i = 0; i < s->len; i++)
		free(s->keys[i]);
	free(s->keys);
	rule_blocked_set_init(s);
}

/* A pass rarely finds more than a handful of blocked keys: linear search. */
static bool blocked_has(const rule_blocked_set *s, const char *key)
{
	for (size_t i = 0; i < s->len; i++)
		if (strcmp(s->keys[i], key) == 0)
			return true;
	return false;
}

static void blocked_add(rule_blocked_set *s, const char *key)
{
	if (blocked_has(s, key))
		return;
	if (s->len == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->keys = xrealloc(s->keys, s->cap * sizeof(char *));
	}
	s->keys[s->len++] = xstrdup(key);
}

/* Builds the containment pattern {field: candidate value, ...} and the
 * rule's key (kind, status and the pattern). Returns false when the
 * candidate's metadata lacks a field. */
static bool build_pattern(const rule *r, const json_t *meta, char **pattern, char **key)
{
	json_t *pat = json_object();
	for (size_t i = 0; i < r->nfields; i++) {
		json_t *v = json_is_object(meta) ? json_object_get(meta, r->fields[i]) : NULL;
		if (!v) {
			json_decref(pat);
			return false;
		}
		json_object_set(pat, r->fields[i], v);
	}
	*pattern = json_dump_compact(pat);
	json_decref(pat);
	*key = xasprintf("%s\x1f%s\x1f%s", r->kind, task_status_name(r->status), *pattern);
	return true;
}

static rule_verdict lock_kind(store_conn *conn, const char *kind)
{
	bool got = false;
	if (store_rules_lock(conn, kind, &got) != 0)
		return RULES_ERROR;
	return got ? RULES_PASS : RULES_CONTENDED;
}

rule_verdict rules_check(store_conn *conn, const task_row *cand, const rule *rules, size_t n,
                         rule_blocked_set *blocked, rule_block *why)
{
	rule_block scratch;
	if (!why)
		why = &scratch;
	*why = (rule_block){ 0 };
	/* Across nodes a rule's count is only right while nobody else claims
	 * tasks of the kinds it counts: hold the lock of the candidate's kind
	 * (its claim changes that kind's counts) and of every kind its rules
	 * count, until this transaction commits. */
	rule_verdict verdict = n > 0 ? lock_kind(conn, cand->kind) : RULES_PASS;
	if (verdict != RULES_PASS)
		return verdict;

	json_t *meta = NULL;
	bool need_meta = false;
	for (size_t i = 0; i < n; i++)
		need_meta |= rules[i].nfields > 0;
	if (need_meta)
		meta = json_parse_text(cand->metadata);

	for (size_t i = 0; i < n && verdict == RULES_PASS; i++) {
		const rule *r = &rules[i];
		char *pattern = NULL, *key = NULL;
		if (strcmp(r->kind, cand->kind) != 0 && (verdict = lock_kind(conn, r->kind)) != RULES_PASS)
			break;
		*why = (rule_block){ .index = i, .type = r->type };
		if (!build_pattern(r, meta, &pattern, &key)) {
			why->missing_field = true;
			verdict = RULES_BLOCKED;
			break;
		}
		if (r->type == RULE_CONCURRENCY) {
			if (blocked_has(blocked, key)) {
				verdict = RULES_BLOCKED;
			} else {
				unsigned mask = TS_BIT(r->status);
				if (r->status == TS_RUNNING)
					mask |= TS_BIT(TS_CLAIMED);
				int64_t limit = r->max + 1, count = 0;
				if (store_count_matching(conn, r->kind, mask, pattern, limit, &count) != 0) {
					verdict = RULES_ERROR;
				} else {
					bool same_kind = strcmp(r->kind, cand->kind) == 0;
					if (count >= (same_kind ? r->max : r->max + 1)) {
						verdict = RULES_BLOCKED;
						blocked_add(blocked, key);
					}
				}
			}
		} else {
			int64_t sum = 0;
			if (!cand->has_expected_count)
				verdict = RULES_BLOCKED;
			else if (store_capacity_sum(conn, r->kind, pattern, &sum) != 0)
				verdict = RULES_ERROR;
			else if (sum >= r->max)
				verdict = RULES_BLOCKED;
		}
		free(pattern);
		free(key);
	}
	json_decref(meta);
	return verdict;
}

/* The first matcher field of r missing from the metadata, or NULL. */
static const char *missing_field(const rule *r, const json_t *meta)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (!json_is_object(meta) || !json_object_get(meta, r->fields[i]))
			return r->fields[i];
	return NULL;
}

static const char *rule_name(rule_type t)
{
	return t == RULE_CONCURRENCY ? "concurrency" : "capacity";
}

/* Why rule r (number i + 1) holds the candidate, or NULL when it does not. */
static char *explain_rule(store_conn *conn, const task_row *t, const json_t *meta, const rule *r, size_t i)
{
	const char *field = missing_field(r, meta);
	if (field)
		return xasprintf("its %s rule #%zu on kind '%s' matches on metadata field '%s', which the task's "
		                 "metadata lacks, so it waits until the field is set",
		                 rule_name(r->type), i + 1, r->kind, field);
	char *pattern = NULL, *key = NULL;
	if (!build_pattern(r, meta, &pattern, &key))
		return NULL;
	char *out = NULL;
	if (r->type == RULE_CONCURRENCY) {
		unsigned mask = TS_BIT(r->status);
		if (r->status == TS_RUNNING)
			mask |= TS_BIT(TS_CLAIMED);
		bool same_kind = strcmp(r->kind, t->kind) == 0;
		int64_t limit = same_kind ? r->max : r->max + 1, count = 0;
		if (store_count_matching(conn, r->kind, mask, pattern, limit + 1, &count) == 0 && count >= limit)
			out = xasprintf("its concurrency rule #%zu allows %" PRId64 " %s tasks of kind '%s' matching %s, "
			                "and %" PRId64 " are",
			                i + 1, r->max, task_status_name(r->status), r->kind, pattern, count);
	} else if (!t->has_expected_count) {
		out = xasprintf("its capacity rule #%zu on kind '%s' needs an expected_count, which the task lacks",
		                i + 1, r->kind);
	} else {
		int64_t sum = 0;
		if (store_capacity_sum(conn, r->kind, pattern, &sum) == 0 && sum >= r->max)
			out = xasprintf("its capacity rule #%zu allows %" PRId64 " units of remaining work on kind '%s' "
			                "matching %s, and %" PRId64 " are taken",
			                i + 1, r->max, r->kind, pattern, sum);
	}
	free(pattern);
	free(key);
	return out;
}

char *rules_explain(store_conn *conn, const task_row *t)
{
	if (t->status != TS_PENDING || t->rules == NULL || strcmp(t->rules, "[]") == 0)
		return NULL;
	rule *rules = NULL;
	size_t n = 0;
	if (rules_parse(t->rules, &rules, &n) != 0)
		return xstrdup("its rules cannot be read");
	json_t *meta = json_parse_text(t->metadata);
	char *out = NULL;
	for (size_t i = 0; i < n && !out; i++)
		out = explain_rule(conn, t, meta, &rules[i], i);
	json_decref(meta);
	rules_free(rules, n);
	return out;
}
