/*
 * parts/start.c — the start pass, and the delayed-start deadline.
 *
 * There is no start loop ticking: the flag `start.dirty` is set by
 * whatever can make a task startable (engine_wake_starts: a task created
 * pending, a child released, a resumed task, a claimed or running task that
 * ended, progress counters, a rules change, a requeued claim). The pass
 * then scans pending tasks in start order (priority DESC, created_at, id;
 * a keyset scan), checks each one's rules inside the cycle's transaction —
 * so checking and claiming are atomic — claims it, and hands it to its
 * executor (exec/executor.h), as long as the executors have room.
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
}

/* ---- the delayed-start deadline ------------------------------------------------ */

static int fire_delayed_start(engine *e, const deadline *d, int64_t now)
{
	UNUSED(d);
	UNUSED(now);
	e->start.delayed_armed = INT64_MAX;
	engine_wake_starts(e);
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

/* Claims one pending task that passed its rules and hands it to its
 * executor. */
static int start_task(engine *e, const executor *ex, const task_row *t, int64_t now)
{
	task_update claim = { .set_status = true, .status = TS_CLAIMED, .last_updated = now,
	                      .actor = "system", .reason = "claimed for start" };
	task_update_result res;
	int rc = store_task_update(e->w, &t->id, TS_BIT(TS_PENDING), &claim, &res);
	if (rc == WEFT_ENOTFOUND || (rc == 0 && !res.applied))
		return 0;
	if (rc != 0)
		return rc;
	engine_metric_transition(e, TS_PENDING, TS_CLAIMED);
	e->start.started++;
	return ex->start(e, t, now);
}

static int start_pass(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	rule_blocked_set blocked;
	rule_blocked_set_init(&blocked);
	pending_cursor cursor;
	bool have_cursor = false, scanned_all = false, skipped_full = false;
	int rc = 0;

	while (rc == 0 && executors_room(e) > 0) {
		task_row *rows = NULL;
		size_t n = 0;
		rc = store_pending_scan(e->w, have_cursor ? &cursor : NULL, START_SCAN_PAGE, now, &rows, &n);
		if (rc != 0)
			break;
		size_t i = 0;
		for (; i < n && rc == 0 && executors_room(e) > 0; i++) {
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
			if (ex->room(e) == 0) {
				skipped_full = true;
				continue;
			}
			if (strcmp(t->rules, "[]") != 0) {
				rule *rules = NULL;
				size_t nrules = 0;
				if (rules_parse(t->rules, &rules, &nrules) != 0) {
					log_error("engine", "task %s has unreadable rules; left pending", t->id.str);
					continue;
				}
				rule_block why = { 0 };
				rule_verdict v = rules_check(e->w, t, rules, nrules, &blocked, &why);
				rules_free(rules, nrules);
				if (v == RULES_ERROR) {
					rc = WEFT_ESTORE;
					break;
				}
				if (v == RULES_CONTENDED)
					e->start.retry_at = MIN(e->start.retry_at, now + RULE_LOCK_RETRY_US);
				if (v == RULES_BLOCKED && why.type == RULE_CONCURRENCY && !why.missing_field)
					engine_count(e, "tasks_blocked_by_concurrency_total", NULL, 1);
				if (v == RULES_BLOCKED && why.missing_field)
					explain_once(e, t);
				if (v != RULES_PASS)
					continue;
			}
			rc = start_task(e, ex, t, now);
		}
		if (i == n && n < START_SCAN_PAGE)
			scanned_all = true;
		store_free_tasks(rows, n);
		if (scanned_all)
			break;
	}
	rule_blocked_set_release(&blocked);
	if (rc == 0 && scanned_all && !skipped_full)
		e->start.dirty = false;
	/* Delayed tasks were skipped: wake up for the earliest of them. */
	int64_t due = INT64_MAX;
	if (rc == 0)
		rc = store_pending_next_start(e->w, now, &due);
	if (rc == 0)
		arm_delayed(e, due);
	return rc;
}

/* ---- the part ------------------------------------------------------------------- */

static void start_init(engine *e)
{
	e->start.retry_at = INT64_MAX;
	e->start.delayed_armed = INT64_MAX;
	e->start.dirty = true;
}

static void start_run(engine *e, int64_t now)
{
	e->start.started = 0;
	if (e->cycle.remote & STORE_WAKE_WORK)
		e->start.dirty = true;   /* another node changed something */
	if (now >= e->start.retry_at) {
		e->start.retry_at = INT64_MAX;
		e->start.dirty = true;
	}
	if (e->start.dirty && executors_room(e) > 0 && engine_step(e, start_pass, NULL, now) != 0) {
		log_error("engine", "start pass failed; will retry");
		e->start.dirty = true;
	}
	e->cycle.changed |= e->start.started > 0;
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
