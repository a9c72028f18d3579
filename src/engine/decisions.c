/*
 * decisions.c — a decision task's success (engine_internal.h,
 * dag_decisions_resolve): its result must be {"next": [ref, ...]}, the
 * refs of the children it chooses, a subset of its own children, each
 * named once (empty: none); other members are allowed (its children read
 * its result). The children it did not choose are the seeds of the skip
 * cascade (dag.c, store_skip_cascade), in the transaction of its success.
 *
 * A result that is no such decision fails the task instead: never a
 * silent pass. The check runs once the task's success is written (a job's
 * completion is written for a set of jobs at once, before their rows are
 * read), so the failure is a second guarded update of the same
 * transaction: nobody sees the success, and the audit trail shows both
 * steps with the reason. It is not retried: the same result would fail
 * again.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/json.h"
#include "engine/engine_internal.h"

/* Longest part of a ref quoted in a message: the message stays bounded
 * whatever the result holds. */
#define QUOTED_REF_MAX 64

static void seeds_push(decision_seeds *s, const weft_id *seed, const weft_id *decider)
{
	if (s->len == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->seeds = xrealloc(s->seeds, s->cap * sizeof *s->seeds);
		s->deciders = xrealloc(s->deciders, s->cap * sizeof *s->deciders);
	}
	s->seeds[s->len] = *seed;
	s->deciders[s->len++] = *decider;
}

/* How many bytes of ref a message quotes: at most QUOTED_REF_MAX, cut
 * before a UTF-8 continuation byte so the message stays valid text. */
static int quoted_len(const char *ref)
{
	size_t n = strlen(ref);
	if (n <= QUOTED_REF_MAX)
		return (int)n;
	n = QUOTED_REF_MAX;
	while (n > 0 && ((unsigned char)ref[n] & 0xC0) == 0x80)
		n--;
	return (int)n;
}

/* Children by ref, those without one last: sorted so that a decision
 * among 100,000 children naming them all is n log n, not n². */
static int cmp_child_ref(const void *a, const void *b)
{
	const char *x = ((const decision_child *)a)->ref, *y = ((const decision_child *)b)->ref;
	if (x == NULL || y == NULL)
		return (x == NULL) - (y == NULL);
	return strcmp(x, y);
}

static const decision_child *child_by_ref(const decision_child *kids, size_t n, const char *ref)
{
	decision_child key = { .ref = (char *)ref };
	return n ? bsearch(&key, kids, n, sizeof *kids, cmp_child_ref) : NULL;
}

/* Checks result against the children (sorted by cmp_child_ref): true when
 * it is a decision, with chosen[i] set for the children it names; else
 * false with why. */
static bool check_result(const char *result, const decision_child *kids, size_t nkids, bool *chosen, char *why,
                         size_t whylen)
{
	json_t *doc = result != NULL ? json_loads(result, JSON_DECODE_ANY, NULL) : NULL;
	json_t *next = json_is_object(doc) ? json_object_get(doc, "next") : NULL;
	bool ok = false;
	if (!json_is_object(doc)) {
		snprintf(why, whylen, "the result must be a JSON object {\"next\": [ref, ...]}, got %s",
		         doc == NULL || json_is_null(doc) ? "null" : json_is_array(doc) ? "an array" : "a scalar");
	} else if (!json_is_array(next)) {
		snprintf(why, whylen, "the result's \"next\" must be an array of the refs of its children%s",
		         next == NULL ? " (missing)" : "");
	} else if (json_array_size(next) > nkids) {
		snprintf(why, whylen, "\"next\" names %zu tasks; the decision has %zu children", json_array_size(next),
		         nkids);
	} else {
		ok = true;
		for (size_t i = 0; ok && i < json_array_size(next); i++) {
			const char *ref = json_string_value(json_array_get(next, i));
			const decision_child *k = ref != NULL ? child_by_ref(kids, nkids, ref) : NULL;
			ok = false;
			if (ref == NULL)
				snprintf(why, whylen, "\"next\"[%zu] must be a string (a child's ref)", i);
			else if (k == NULL)
				snprintf(why, whylen, "\"next\"[%zu]: '%.*s' is not a child of the decision", i, quoted_len(ref),
				         ref);
			else if (chosen[k - kids])
				snprintf(why, whylen, "\"next\"[%zu]: '%.*s' is named twice", i, quoted_len(ref), ref);
			else
				ok = chosen[k - kids] = true;
		}
	}
	json_decref(doc);
	return ok;
}

/* The decision (row, a success) fails: its row afterwards replaces it in
 * the view. */
static int fail_decision(engine *e, decision_view *v, size_t i, const char *why, int64_t now)
{
	char reason[400];
	snprintf(reason, sizeof reason, "invalid decision: %s", why);
	task_update_result res;
	task_row after = { 0 };
	task_update u = { .set_status = true, .status = TS_FAILURE, .failure_reason = reason, .ended_at = now,
	                  .last_updated = now, .actor = "system" };
	int rc = engine_update_tasks(e, &v->rows[i].id, 1, TS_BIT(TS_SUCCESS), &u, &res, &after);
	if (rc != 0 || !res.applied)
		return rc;
	if ((rc = store_decision_mark_invalid(e->w, &after.id)) != 0) {
		task_row_release(&after);
		return rc;
	}
	free(after.error_code);
	after.error_code = xstrdup("invalid_decision");
	engine_count(e, "decisions_invalid_total", NULL, 1);
	engine_metric_transition(e, TS_SUCCESS, TS_FAILURE);
	v->rows[i] = after;
	v->owned[i] = true;
	return 0;
}

static int resolve_one(engine *e, decision_view *v, size_t i, int64_t now)
{
	char *result = NULL;
	decision_child *kids = NULL;
	size_t nkids = 0;
	int rc = store_decision_read(e->w, &v->rows[i].id, &result, &kids, &nkids);
	if (rc != 0)
		return rc;
	if (nkids > 1)
		qsort(kids, nkids, sizeof *kids, cmp_child_ref);
	bool *chosen = xcalloc(nkids ? nkids : 1, sizeof *chosen);
	char why[300];
	if (!check_result(result, kids, nkids, chosen, why, sizeof why)) {
		rc = fail_decision(e, v, i, why, now);
	} else {
		engine_count(e, "decisions_total", NULL, 1);
		for (size_t k = 0; k < nkids; k++)
			if (!chosen[k] && (kids[k].status == TS_WAITING || kids[k].status == TS_PAUSED))
				seeds_push(&v->seeds, &kids[k].id, &v->rows[i].id);
	}
	free(chosen);
	decision_children_free(kids, nkids);
	free(result);
	return rc;
}

int dag_decisions_resolve(engine *e, const task_row *rows, size_t n, int64_t now, decision_view *v)
{
	memset(v, 0, sizeof *v);
	v->rows = (task_row *)rows;
	v->n = n;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (rows[i].status != TS_SUCCESS || !(rows[i].shape & TASK_SHAPE_DECISION))
			continue;
		if (v->owned == NULL) {
			/* A view of its own: the caller's rows stay as they are. */
			v->rows = xmalloc(n * sizeof *v->rows);
			memcpy(v->rows, rows, n * sizeof *v->rows);
			v->owned = xcalloc(n, sizeof *v->owned);
		}
		rc = resolve_one(e, v, i, now);
	}
	return rc;
}

void dag_decisions_release(decision_view *v)
{
	if (v->owned != NULL) {
		for (size_t i = 0; i < v->n; i++)
			if (v->owned[i])
				task_row_release(&v->rows[i]);
		free(v->rows);
		free(v->owned);
	}
	free(v->seeds.seeds);
	free(v->seeds.deciders);
	memset(v, 0, sizeof *v);
}
