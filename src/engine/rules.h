/*
 * rules.h — concurrency and capacity rules (ArcRun's `rules`), checked
 * when the engine claims a pending task.
 *
 * A task's `rules` is a JSON array of strategies; all must pass (AND).
 * Scope is global: a rule counts every task matching its matcher, whether
 * or not that task carries the rule.
 *   Concurency (sic, wire spelling): count tasks of matcher.kind whose
 *     metadata holds the candidate's values of matcher.fields and whose
 *     status is matcher.status (claimed counts as running). Blocked when
 *     count >= max for a same-kind rule, count >= max + 1 for a cross-kind
 *     rule (ArcRun's behaviour, kept for compatibility).
 *   Capacity: sum over claimed/running tasks of the same matcher of their
 *     remaining work max(expected_count - success - failures, 0); blocked
 *     when sum >= max_capacity. The candidate needs an expected_count.
 * A candidate lacking one of the matcher's fields in its metadata is blocked.
 */
#ifndef WEFT_RULES_H
#define WEFT_RULES_H

#include "../util/common.h"
#include "../store/store.h"

typedef enum rule_type { RULE_CONCURRENCY, RULE_CAPACITY } rule_type;

typedef struct rule {
	rule_type type;
	int64_t max;
	char *kind;              /* matcher.kind, owned */
	task_status status;      /* matcher.status */
	char **fields;           /* owned */
	size_t nfields;
} rule;

/* Parses a stored rules array. Returns 0, or -1 when the text is not a
 * valid rules array (stored rules were validated, so this is corruption). */
int rules_parse(const char *json_text, rule **out, size_t *n);
void rules_free(rule *rules, size_t n);

/* The set of concurrency keys found blocked during one start pass: later
 * candidates sharing a key are skipped without a query. */
typedef struct rule_blocked_set {
	char **keys;
	size_t len, cap;
} rule_blocked_set;
void rule_blocked_set_init(rule_blocked_set *s);
void rule_blocked_set_release(rule_blocked_set *s);

/* RULES_CONTENDED: another node is checking rules of the same kind right
 * now (shared database); the task is left for a later pass. */
typedef enum rule_verdict { RULES_PASS, RULES_BLOCKED, RULES_CONTENDED, RULES_ERROR } rule_verdict;

/* Which rule blocked a candidate (with RULES_BLOCKED). */
typedef struct rule_block {
	size_t index;            /* in the rules array */
	rule_type type;
	bool missing_field;      /* the candidate's metadata lacks a matcher field */
} rule_block;

/* Evaluates every rule for the candidate on conn (inside the engine's
 * transaction). Concurrency keys that block are added to `blocked`; with
 * RULES_BLOCKED, *why (optional) says which rule. */
rule_verdict rules_check(store_conn *conn, const task_row *cand, const rule *rules, size_t n,
                         rule_blocked_set *blocked, rule_block *why);

/* One sentence saying why the pending task `t` is not starting by its
 * rules: which rule's matcher field its metadata lacks, or how many
 * matching tasks occupy which limit. NULL when its rules let it start (or
 * it has none), or it is not pending. Owned by the caller; reads through
 * conn (any connection: a reader for GET /task/{id}). */
char *rules_explain(store_conn *conn, const task_row *t);

#endif
