/*
 * parts/start.c — the start pass, and the delayed-start deadline.
 *
 * There is no start loop ticking: the flag `start.dirty` is set by
 * whatever can make a task startable (engine_wake_starts: a task created
 * pending, a child released, a resumed task, a rules change, a requeued
 * claim), and by what frees a slot or capacity (engine_wake_held_starts: a
 * claimed or running task that ended, progress counters, a start call
 * back) only when the last pass left pending tasks behind for lack of
 * them: with nothing held back, a completion costs no pass. The pass
 * then scans pending tasks in start order (priority DESC, created_at, id;
 * a keyset scan), a page at a time, as long as the executors have room.
 * The tasks of a page that have no rules are claimed together, in one
 * statement, and each executor gets its share as one set
 * (exec/executor.h). A task with rules has them checked inside the
 * cycle's transaction — so checking and claiming are atomic — once the
 * candidates before it are claimed (its rules may count them).
 *
 * Tasks whose start_after has not come are skipped; the pass arms one
 * delayed-start deadline for the earliest of them, on every node.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/cycle.h"
#include "engine/rules.h"
#include "exec/executor.h"

#define START_SCAN_PAGE 256
/* Another node held the lock of a rule's kind: look at its tasks again after this. */
#define RULE_LOCK_RETRY_US (20 * 1000LL)
/* Tasks whose block was logged: remembered in this many slots (a power of
 * two), half of which may be used. */
#define EXPLAINED_SLOTS 16384

void engine_wake_starts(engine *e)
{
	e->start.dirty = true;
	e->cycle.notify |= STORE_WAKE_STARTS;
	e->claims.dirty = true;     /* a queue task may have become pending too */
}

void engine_start_slot_freed(engine *e)
{
	e->start.dirty |= e->start.held;
}

void engine_wake_held_starts(engine *e)
{
	engine_start_slot_freed(e);
	e->cycle.notify |= STORE_WAKE_FREED;
}

/* ---- the delayed-start deadline ------------------------------------------------ */

static int fire_delayed_start(engine *e, const deadline *d, int64_t now)
{
	UNUSED(d);
	UNUSED(now);
	e->start.delayed_armed = INT64_MAX;
	e->start.dirty = true;     /* every node has this deadline of its own */
	return 0;
}

/* At start-up (on every node: the kind has no source in a shared
 * database) the first pass finds the real one. */
static int recover_delayed_start(engine *e, int64_t now)
{
	e->start.delayed_armed = now;
	deadline_arm(e, now, &deadline_delayed_start, NULL);
	return 0;
}

const deadline_kind deadline_delayed_start = {
	.name = "delayed_start", .fire = fire_delayed_start, .recover = recover_delayed_start,
};

/* One deadline in the heap for the earliest delayed start. */
static void arm_delayed(engine *e, int64_t due)
{
	if (due == INT64_MAX || due >= e->start.delayed_armed)
		return;
	e->start.delayed_armed = due;
	deadline_arm(e, due, &deadline_delayed_start, NULL);
}

/* ---- the pass -------------------------------------------------------------------- */

/* Whether `id` was seen before; remembers it. An open-addressing set,
 * forgotten as a whole when it fills (a task may then be logged again). */
static bool seen_before(explained_set *s, const weft_id *id)
{
	if (s->cap == 0) {
		s->cap = EXPLAINED_SLOTS;
		s->slots = xcalloc(s->cap, sizeof(weft_id));
	}
	if (s->len >= s->cap / 2) {
		memset(s->slots, 0, s->cap * sizeof(weft_id));
		s->len = 0;
	}
	uint64_t h = 1469598103934665603ULL;     /* FNV-1a */
	for (const char *p = id->str; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (size_t i = (size_t)h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slots[i].str[0]) {
			s->slots[i] = *id;
			s->len++;
			return false;
		}
		if (id_eq(&s->slots[i], id))
			return true;
	}
}

/* Logs, once per task, why a task that cannot start by itself is held:
 * a rule whose matcher field its metadata lacks. */
static void explain_once(engine *e, const task_row *t)
{
	if (seen_before(&e->start.explained, &t->id))
		return;
	char *why = rules_explain(e->w, t);
	if (why)
		log_warn("engine", "task %s is not starting: %s", t->id.str, why);
	free(why);
}

/* Candidates of a page waiting to be claimed together, and how many of
 * them each executor takes. */
typedef struct executor_count {
	const executor *ex;
	size_t n;
} executor_count;

typedef struct claim_set {
	const task_row **rows;
	size_t n, cap;
	executor_count per[8];
	size_t nper;
} claim_set;

static size_t *count_of(claim_set *s, const executor *ex)
{
	for (size_t i = 0; i < s->nper; i++)
		if (s->per[i].ex == ex)
			return &s->per[i].n;
	if (s->nper == ARRAY_LEN(s->per))
		return NULL;
	s->per[s->nper] = (executor_count){ ex, 0 };
	return &s->per[s->nper++].n;
}

/* Whether ex takes one more start besides the candidates it has. */
static bool has_room(claim_set *s, engine *e, const executor *ex)
{
	size_t *n = count_of(s, ex);
	return n != NULL && ex->room(e) > *n;
}

static void add_candidate(claim_set *s, const executor *ex, const task_row *t)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->rows = xrealloc(s->rows, s->cap * sizeof *s->rows);
	}
	s->rows[s->n++] = t;
	(*count_of(s, ex))++;
}

/* Claims the candidates in one statement and hands each executor the ones
 * it takes as one set. */
static int claim_and_start(engine *e, claim_set *s, int64_t now)
{
	size_t n = s->n;
	int rc = 0;
	if (n == 0)
		return 0;
	weft_id *ids = xcalloc(n, sizeof *ids);
	task_update_result *res = xcalloc(n, sizeof *res);
	task_row *claimed = xcalloc(n, sizeof *claimed);
	for (size_t i = 0; i < n; i++)
		ids[i] = s->rows[i]->id;
	task_update claim = { .set_status = true, .status = TS_CLAIMED, .last_updated = now, .actor = "system",
	                      .reason = "claimed for start" };
	rc = engine_update_tasks(e, ids, n, TS_BIT(TS_PENDING), &claim, res, NULL);
	for (size_t p = 0; p < s->nper && rc == 0; p++) {
		const executor *ex = s->per[p].ex;
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			if (!res[i].applied || executor_of_task(s->rows[i]) != ex)
				continue;
			engine_metric_transition(e, TS_PENDING, TS_CLAIMED);
			claimed[k++] = *s->rows[i];     /* borrowed: the rows of the page */
		}
		e->start.started += k;
		if (k > 0)
			rc = ex->start(e, claimed, k, now);
	}
	free(claimed);
	free(res);
	free(ids);
	s->n = 0;
	s->nper = 0;
	return rc;
}

/* Whether a task with rules passes them now. The candidates before it
 * are claimed first: its rules may count them. */
static int rules_pass(engine *e, const task_row *t, rule_blocked_set *blocked, int64_t now, bool *pass)
{
	*pass = false;
	rule *rules = NULL;
	size_t nrules = 0;
	if (rules_parse(t->rules, &rules, &nrules) != 0) {
		log_error("engine", "task %s has unreadable rules; left pending", t->id.str);
		return 0;
	}
	rule_block why = { 0 };
	rule_verdict v = rules_check(e->w, t, rules, nrules, blocked, &why);
	rules_free(rules, nrules);
	if (v == RULES_ERROR)
		return WEFT_ESTORE;
	if (v == RULES_CONTENDED)
		e->start.retry_at = MIN(e->start.retry_at, now + RULE_LOCK_RETRY_US);
	if (v == RULES_BLOCKED && why.type == RULE_CONCURRENCY && !why.missing_field)
		engine_count(e, "tasks_blocked_by_concurrency_total", NULL, 1);
	if (v == RULES_BLOCKED && why.missing_field)
		explain_once(e, t);
	*pass = v == RULES_PASS;
	return 0;
}

static int start_pass(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	rule_blocked_set blocked;
	rule_blocked_set_init(&blocked);
	claim_set cands = { 0 };
	pending_cursor cursor;
	bool have_cursor = false, scanned_all = false, skipped_full = false, held = false;
	int rc = 0;

	int64_t next_start = INT64_MAX;
	const char *skip[ARRAY_LEN(cands.per)];
	while (rc == 0 && executors_room(e) > 0) {
		task_row *rows = NULL;
		size_t n = 0;
		/* The next pages leave out the tasks of executors already full in
		 * this pass: reading (and locking) every pending task of a full
		 * executor to reach another's would make each pass as long as the
		 * whole backlog. */
		cursor.nskip = 0;
		for (size_t k = 0; have_cursor && k < cands.nper; k++)
			if (!has_room(&cands, e, cands.per[k].ex))
				skip[cursor.nskip++] = cands.per[k].ex->name;
		cursor.skip = skip;
		/* The first page as large as the room (most passes take what they
		 * read: every row read is locked); the next ones, past tasks held
		 * back, full. */
		size_t page = have_cursor ? START_SCAN_PAGE : MIN(START_SCAN_PAGE, MAX(executors_room(e), 16));
		rc = store_pending_scan(e->w, have_cursor ? &cursor : NULL, page, now, &rows, &n,
		                        have_cursor ? NULL : &next_start);
		if (rc != 0)
			break;
		size_t i = 0;
		for (; i < n && rc == 0 && executors_room(e) > cands.n; i++) {
			const task_row *t = &rows[i];
			cursor = (pending_cursor){ .priority = t->priority, .created_at = t->created_at, .id = t->id };
			have_cursor = true;
			const executor *ex = executor_of_task(t);
			if (!ex) {
				log_error("engine", "task %s has an unknown executor; left pending", t->id.str);
				continue;
			}
			if (!ex->start)
				continue;           /* claimed by its workers, not by the engine */
			if (!has_room(&cands, e, ex)) {
				skipped_full = true;
				continue;
			}
			if (strcmp(t->rules, "[]") != 0) {
				bool pass;
				if ((rc = claim_and_start(e, &cands, now)) != 0 || (rc = rules_pass(e, t, &blocked, now, &pass)) != 0)
					break;
				held |= !pass;
				if (!pass || !has_room(&cands, e, ex))
					continue;
			}
			add_candidate(&cands, ex, t);
		}
		if (rc == 0)
			rc = claim_and_start(e, &cands, now);
		if (i == n && n < page)
			scanned_all = true;
		store_free_tasks(rows, n);
		if (scanned_all)
			break;
	}
	free(cands.rows);
	rule_blocked_set_release(&blocked);
	if (rc == 0 && scanned_all && !skipped_full)
		e->start.dirty = false;
	/* What only a freed slot or capacity can start: tasks held by their
	 * rules, or by an executor without room, or not looked at yet. */
	e->start.held = rc != 0 || !scanned_all || skipped_full || held;
	/* Delayed tasks were skipped: wake up for the earliest of them. */
	if (rc == 0)
		arm_delayed(e, next_start);
	return rc;
}

/* ---- the part ------------------------------------------------------------------- */

static void start_init(engine *e)
{
	e->start.retry_at = INT64_MAX;
	e->start.delayed_armed = INT64_MAX;
	e->start.dirty = true;
	e->start.held = true;
}

static void start_run(engine *e, int64_t now)
{
	e->start.started = 0;
	if (e->cycle.remote & STORE_WAKE_STARTS)
		e->start.dirty = true;
	if (e->cycle.remote & STORE_WAKE_FREED)
		e->start.dirty |= e->start.held;
	if (now >= e->start.retry_at) {
		e->start.retry_at = INT64_MAX;
		e->start.dirty = true;
	}
	if (e->start.dirty && executors_room(e) > 0 && engine_step(e, start_pass, NULL, now) != 0) {
		log_error("engine", "start pass failed; will retry");
		e->start.dirty = true;
	}
}

static int64_t start_next_wake(const engine *e)
{
	if (e->start.dirty && executors_room(e) > 0)
		return INT64_MIN;
	return e->start.retry_at;
}

static void start_finish(engine *e, bool committed)
{
	metrics_observe("tasks_processed_per_loop", NULL, committed ? (double)e->start.started : 0);
	e->start.started = 0;
	if (!committed) {
		e->start.dirty = true;
		e->start.held = true;
		/* The pass's delayed-start deadline may have gone with it. */
		e->start.delayed_armed = INT64_MAX;
	}
}

static void start_release(engine *e)
{
	free(e->start.explained.slots);
}

const cycle_part part_start = {
	.name = "start",
	.init = start_init,
	.run = start_run,
	.next_wake = start_next_wake,
	.finish = start_finish,
	.release = start_release,
};
