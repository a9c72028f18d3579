/*
 * deadlines/schedules.c — schedule: a cron schedule's next fire time has
 * come (store/schedules.h).
 *
 * One deadline stands for every schedule: armed at the earliest next fire
 * time of the unpaused ones (object empty). When it fires, the due rows
 * are read, each with whether its previous run has ended (one query);
 * each fires under its overlap policy (engine/commands/schedule_fire.c),
 * in the cycle's transaction, and moves next_fire_at to the cron's first
 * time after now. Job targets that need no judgment of a previous run are
 * enqueued together, as one set; then the deadline is armed at the new earliest time. On a
 * shared database the leader reads the same earliest time from the rows.
 *
 * Catch-up, when fire times were missed (the server was down, or its
 * clock jumped): the times due are those from next_fire_at up to now.
 *   none  fires once if the latest due time is within SCHEDULE_GRACE_US
 *         of now (a firing on time), else skips them all;
 *   one   fires once, whatever was missed;
 *   all   fires once per missed time, at most catchup_max (the earliest).
 * Counting stops at catchup_max, so a long outage costs no more work than
 * the policy allows.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "core/cron.h"
#include "core/tz.h"
#include "engine/engine_internal.h"
#include "engine/commands/command.h"
#include "engine/commands/jobs.h"
#include "engine/commands/schedules.h"
#include "store/schedules.h"

#define SCHEDULE_GRACE_US (60 * 1000000LL)
#define SCHEDULES_PER_CYCLE 100

static const weft_id no_object;

/* How many times s fires now under its catch-up policy. */
static int64_t firings_due(const schedule_row *s, const cron_expr *ce, const tz_zone *z, int64_t now)
{
	if (strcmp(s->catchup, "one") == 0)
		return 1;
	if (strcmp(s->catchup, "none") == 0) {
		int64_t t = 0;
		return cron_next(ce, z, now - SCHEDULE_GRACE_US - 1, &t) == 0 && t <= now ? 1 : 0;
	}
	int64_t n = 0, t = s->next_fire_at;
	while (n < s->catchup_max && t != 0 && t <= now) {
		n++;
		if (cron_next(ce, z, t, &t) != 0)
			break;
	}
	return n;
}

/* How s fires now: *n due times to fire (0: none) and its next fire time.
 * A schedule whose cron or zone no longer loads stops, and one whose
 * missed times are all skipped moves on, here. */
static int plan_one(engine *e, const schedule_row *s, int64_t now, int64_t *n, int64_t *next)
{
	cron_expr ce;
	const tz_zone *z;
	*n = 0;
	*next = 0;
	bool found;
	if (cron_parse(s->cron, strlen(s->cron), &ce, NULL, 0) != 0 || tz_load(s->timezone, &z, NULL, 0) != 0) {
		log_warn("engine", "schedule %s/%s: its cron or zone no longer loads; it stops", s->namespace, s->name);
		return store_schedule_set_paused(e->w, s->namespace, s->name, false, 0, now, &found);
	}
	if (cron_next(&ce, z, now, next) != 0)
		*next = 0;
	*n = firings_due(s, &ce, z, now);
	if (*n > 0)
		return 0;
	/* Nothing started: the missed times are skipped, the fire count stays. */
	return store_schedule_set_paused(e->w, s->namespace, s->name, false, *next, now, &found);
}

/* Arms the one deadline at the earliest next fire time, if any. */
static int arm_next(engine *e)
{
	int64_t due = INT64_MAX;
	int rc = store_schedules_next(e->w, &due);
	if (rc == 0 && due != INT64_MAX)
		deadline_arm(e, due, &deadline_schedule, &no_object);
	return rc;
}

static int fire_schedules(engine *e, const deadline *d, int64_t now)
{
	UNUSED(d);
	schedule_row *rows = NULL;
	size_t n = 0, started = 0, nset = 0;
	int rc = store_schedules_due(e->w, now, SCHEDULES_PER_CYCLE, &rows, &n);
	schedule_firing *set = xcalloc(n ? n : 1, sizeof *set);
	for (size_t i = 0; i < n && rc == 0; i++) {
		int64_t times = 0, next = 0;
		size_t runs = 0;
		rc = plan_one(e, &rows[i], now, &times, &next);
		if (rc != 0 || times == 0)
			continue;
		if (schedule_fires_alone(&rows[i])) {
			rc = schedule_fire(e, &rows[i], times, now, next, false, &runs);
			started += runs;
		} else {
			set[nset++] = (schedule_firing){ .s = &rows[i], .n = times, .next = next };
		}
	}
	if (rc == 0 && nset > 0) {
		size_t runs = 0;
		rc = schedule_fire_jobs(e, set, nset, now, &runs);
		started += runs;
	}
	free(set);
	store_free_schedules(rows, n);
	if (rc == 0)
		rc = arm_next(e);
	if (rc == 0 && started > 0)
		engine_count(e, "schedule_jobs_started_total", NULL, started);
	return rc;
}

static int recover_schedules(engine *e, int64_t now)
{
	UNUSED(now);
	return arm_next(e);
}

static int next_schedule(engine *e, int64_t *due)
{
	return store_schedules_next(e->w, due);
}

static int due_schedules(engine *e, int64_t now, size_t limit, deadline **out, size_t *n, bool *more)
{
	*out = NULL;
	*n = 0;
	*more = false;
	int64_t due = INT64_MAX;
	int rc = store_schedules_next(e->w, &due);
	if (rc != 0 || due > now || limit == 0)
		return rc;
	*out = xcalloc(1, sizeof **out);
	(*out)[0] = (deadline){ .due = due, .kind = &deadline_schedule };
	*n = 1;
	return 0;
}

void schedule_arm(engine *e, int64_t due)
{
	if (due != 0)
		deadline_arm(e, due, &deadline_schedule, &no_object);
}

const deadline_kind deadline_schedule = {
	.name = "schedule", .fire = fire_schedules, .recover = recover_schedules, .due = due_schedules,
	.next = next_schedule,
};
