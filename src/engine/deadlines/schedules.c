/*
 * deadlines/schedules.c — schedule: a cron schedule's next fire time has
 * come (store/schedules.h).
 *
 * One deadline stands for every schedule: armed at the earliest next fire
 * time of the unpaused ones (object empty). When it fires, the due rows
 * are read; each starts its job(s) through the job enqueue path, in the
 * cycle's transaction, and moves next_fire_at to the cron's first time
 * after now; then the deadline is armed at the new earliest time. On a
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

/* The job a firing of s starts, from its target (checked when the
 * schedule was made). Strings are borrowed from target. */
static int spec_of(const json_t *target, job_spec *s, char **input)
{
	job_spec_init(s);
	*input = NULL;
	const char *queue = json_string_value(json_object_get(target, "queue"));
	if (queue == NULL)
		return WEFT_EINVALID;
	s->queue = queue;
	s->name = json_string_value(json_object_get(target, "name"));
	json_t *in = json_object_get(target, "input");
	if (in != NULL)
		s->input = *input = json_dump_compact(in);
	json_t *v;
	if ((v = json_object_get(target, "priority")) != NULL && json_is_integer(v))
		s->priority = (int32_t)json_integer_value(v);
	if ((v = json_object_get(target, "max_attempts")) != NULL && json_is_integer(v))
		s->max_attempts = (int32_t)json_integer_value(v);
	if ((v = json_object_get(target, "timeout_secs")) != NULL && json_is_integer(v))
		s->timeout_secs = (int32_t)json_integer_value(v);
	s->concurrency_key = json_string_value(json_object_get(target, "concurrency_key"));
	s->rate_key = json_string_value(json_object_get(target, "rate_key"));
	return 0;
}

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

static int fire_one(engine *e, const schedule_row *s, int64_t now, size_t *started)
{
	cron_expr ce;
	const tz_zone *z;
	int64_t next = 0;
	if (cron_parse(s->cron, strlen(s->cron), &ce, NULL, 0) != 0 || tz_load(s->timezone, &z, NULL, 0) != 0) {
		log_warn("engine", "schedule %s/%s: its cron or zone no longer loads; it stops", s->namespace, s->name);
		bool found;
		return store_schedule_set_paused(e->w, s->namespace, s->name, false, 0, now, &found);
	}
	if (cron_next(&ce, z, now, &next) != 0)
		next = 0;
	int64_t n = firings_due(s, &ce, z, now);
	json_t *target = json_parse_text(s->target);
	if (n == 0 || target == NULL) {
		json_decref(target);
		/* Nothing started: the missed times are skipped, the fire count stays. */
		bool found;
		return store_schedule_set_paused(e->w, s->namespace, s->name, false, next, now, &found);
	}
	weft_id last;
	int rc = schedule_start(e, s, target, n, now, &last);
	if (rc == 0) {
		*started += (size_t)n;
		rc = store_schedule_fired(e->w, s->namespace, s->name, now, last.str, next);
	}
	json_decref(target);
	return rc;
}

int schedule_start(engine *e, const schedule_row *s, const json_t *target, int64_t n, int64_t now, weft_id *last)
{
	job_spec *specs = xcalloc((size_t)n, sizeof *specs);
	char **inputs = xcalloc((size_t)n, sizeof *inputs);
	int rc = 0;
	for (int64_t i = 0; i < n && rc == 0; i++)
		rc = spec_of(target, &specs[i], &inputs[i]);
	if (rc == 0) {
		cmd_job_enqueue enq;
		cmd_job_enqueue_init(&enq);
		enq.base.actor = "schedule";
		enq.namespace = s->namespace;
		enq.jobs = specs;
		enq.njobs = (size_t)n;
		rc = enq.base.op->apply(e, &enq.base, now);
		if (rc == 0 && enq.base.result != 0)
			rc = enq.base.result;
	}
	if (rc == 0)
		*last = specs[n - 1].id;
	for (int64_t i = 0; i < n; i++)
		free(inputs[i]);
	free(inputs);
	free(specs);
	return rc;
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
	size_t n = 0, started = 0;
	int rc = store_schedules_due(e->w, now, SCHEDULES_PER_CYCLE, &rows, &n);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = fire_one(e, &rows[i], now, &started);
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
