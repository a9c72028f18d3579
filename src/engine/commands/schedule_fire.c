/*
 * schedule_fire.c — what one firing of a cron schedule does (schedules.h),
 * in the caller's transaction: judge the overlap policy on the previous
 * run, cancel that run when the policy says so, start the target and
 * record the firing or the skip.
 *
 * A target is started by engine/targets.h, through the path its own
 * route uses, so a firing cannot start what the API would refuse or start
 * it differently.
 * The previous run is canceled through the cancel paths of the API: a
 * job as POST /v1/tasks/{id}/cancel (its worker learns it at the next
 * heartbeat), a workflow run as workflow.stop, a template run as a batch
 * stop. The target was checked when the schedule was made; here it is
 * only read.
 *
 * Many schedules due together (a cron minute shared by hundreds) are the
 * common case of job targets: those that need no judgment of a previous
 * run are enqueued as one set (schedule_fire_jobs), one insert for all
 * their jobs; the others fire one by one.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "core/limits.h"
#include "engine/engine_internal.h"
#include "engine/commands/batches.h"
#include "engine/commands/command.h"
#include "engine/commands/jobs.h"
#include "engine/commands/operator.h"
#include "engine/commands/schedules.h"
#include "engine/commands/templates.h"
#include "engine/commands/workflows.h"
#include "engine/targets.h"

/* The identity of run i of a firing of s at its due time next_fire_at:
 * a due time fired again (a cycle applied twice, another node firing the
 * same row) answers the run it started instead of starting another. The
 * schedule's creation time tells a schedule from an earlier one of its
 * name. NULL for a trigger, which is no due time: each starts a run. */
static char *run_identity(const schedule_row *s, bool triggered, int64_t i)
{
	if (triggered)
		return NULL;
	return xasprintf("schedule:%s:%" PRId64 ":%" PRId64 ":%" PRId64, s->name, s->created_at, s->next_fire_at, i);
}

/* n runs of s's target (engine/targets.h). */
static int start_target(engine *e, const schedule_row *s, const json_t *target, int64_t n, bool triggered,
                        int64_t now, target_started *out)
{
	char *label = xasprintf("schedule %s/%s", s->namespace, s->name);
	char **identities = xcalloc((size_t)n, sizeof *identities);
	for (int64_t i = 0; i < n; i++)
		identities[i] = run_identity(s, triggered, i);
	target_start t = { .target = target, .namespace = s->namespace, .actor = "schedule", .label = label,
		           .identities = identities };
	int rc = target_start_runs(e, &t, n, now, out);
	for (int64_t i = 0; i < n; i++)
		free(identities[i]);
	free(identities);
	free(label);
	return rc;
}

/* Applies the schedule's stop command cmd: 0, or its failure. A run that
 * ended in the meantime (conflict) or is gone (not found) is no error:
 * there is nothing left to cancel. */
static int apply_stop(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd->actor = "schedule";
	int rc = cmd->op->apply(e, cmd, now);
	if (rc == 0 && cmd->result != 0 && cmd->result != WEFT_ECONFLICT && cmd->result != WEFT_ENOTFOUND)
		rc = cmd->result;
	return rc;
}

/* Cancels the previous run of s (it had not ended when read). */
static int cancel_previous(engine *e, const schedule_row *s, int64_t now)
{
	static const char reason[] = "schedule: overlap cancel_previous";
	if (strcmp(s->target_kind, "workflow") == 0 && s->last_run_id != NULL) {
		cmd_workflow_stop stop;
		cmd_workflow_stop_init(&stop, WF_CANCEL);
		stop.reason = reason;
		return id_parse(s->last_run_id, &stop.run_id) == 0 ? apply_stop(e, &stop.base, now) : 0;
	}
	if (strcmp(s->target_kind, "template") == 0 && s->last_run_id != NULL) {
		cmd_stop_batch stop;
		cmd_stop_batch_init(&stop);
		return id_parse(s->last_run_id, &stop.batch_id) == 0 ? apply_stop(e, &stop.base, now) : 0;
	}
	if (s->last_job_id != NULL) {
		cmd_operator op;
		cmd_operator_init(&op, OPERATOR_CANCEL);
		op.reason = reason;
		return id_parse(s->last_job_id, &op.id) == 0 ? apply_stop(e, &op.base, now) : 0;
	}
	return 0;
}

/* Runs a firing of n due times starts once the previous run is settled:
 * only queue lets the runs of one firing overlap each other, so under
 * skip and cancel_previous the missed times a catch-up makes up for start
 * one run and the others count as skipped. */
static int64_t runs_of(const schedule_row *s, int64_t n)
{
	return strcmp(s->overlap, "queue") == 0 ? n : 1;
}

/* Records a firing that started `runs` of its n due times. */
static int record(engine *e, const schedule_row *s, int64_t n, int64_t runs, int64_t now, int64_t next,
                  const char *job_id, const char *run_id)
{
	int rc = store_schedule_fired(e->w, s->namespace, s->name, now, job_id, run_id, next);
	if (rc == 0 && runs < n)
		rc = store_schedule_skipped(e->w, s->namespace, s->name, now, n - runs, next);
	return rc;
}

bool schedule_fires_alone(const schedule_row *s)
{
	return strcmp(s->target_kind, "job") != 0 || (s->previous_active && strcmp(s->overlap, "queue") != 0);
}

int schedule_fire_jobs(engine *e, const schedule_firing *f, size_t n, int64_t now, size_t *started)
{
	*started = 0;
	target_job **jobs = xcalloc(n, sizeof *jobs);
	job_spec **specs = xcalloc(n, sizeof *specs);
	json_t **targets = xcalloc(n, sizeof *targets);
	cmd_job_enqueue *cmds = xcalloc(n, sizeof *cmds);
	engine_cmd **set = xcalloc(n, sizeof *set);
	bool *alone = xcalloc(n, sizeof *alone);
	size_t nset = 0;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t runs = runs_of(f[i].s, f[i].n);
		targets[i] = json_parse_text(f[i].s->target);
		jobs[i] = xcalloc((size_t)runs, sizeof **jobs);
		specs[i] = xcalloc((size_t)runs, sizeof **specs);
		for (int64_t j = 0; j < runs && !alone[i]; j++) {
			alone[i] = targets[i] == NULL || target_read_job(targets[i], NULL, &jobs[i][j]) != 0;
			specs[i][j] = jobs[i][j].spec;
			specs[i][j].non_retryable = jobs[i][j].codes;
		}
		if (alone[i])
			continue;   /* a target that does not read: schedule_fire logs and skips it */
		cmd_job_enqueue_init(&cmds[i]);
		cmds[i].base.actor = "schedule";
		cmds[i].namespace = f[i].s->namespace;
		cmds[i].jobs = specs[i];
		cmds[i].njobs = (size_t)runs;
		set[nset++] = &cmds[i].base;
	}
	if (nset > 0)
		rc = set[0]->op->apply_many(e, set, nset, now);
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t runs = 0;
		if (alone[i]) {
			rc = schedule_fire(e, f[i].s, f[i].n, now, f[i].next, false, &runs);
		} else if (cmds[i].base.result != 0) {
			rc = cmds[i].base.result;
		} else {
			runs = cmds[i].njobs;
			const char *last = specs[i][runs - 1].id.str;
			rc = record(e, f[i].s, f[i].n, (int64_t)runs, now, f[i].next, last, last);
		}
		*started += runs;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t runs = runs_of(f[i].s, f[i].n);
		for (int64_t j = 0; j < runs; j++)
			target_job_release(&jobs[i][j]);
		free(jobs[i]);
		free(specs[i]);
		json_decref(targets[i]);
	}
	free(jobs);
	free(specs);
	free(targets);
	free(cmds);
	free(set);
	free(alone);
	return rc;
}

int schedule_fire(engine *e, const schedule_row *s, int64_t n, int64_t now, int64_t next, bool triggered,
                  size_t *started)
{
	*started = 0;
	if (s->previous_active && strcmp(s->overlap, "skip") == 0) {
		log_info("engine", "schedule %s/%s: its previous run %s has not ended; %" PRId64 " due time(s) skipped",
		         s->namespace, s->name, s->last_run_id ? s->last_run_id : "?", n);
		return store_schedule_skipped(e->w, s->namespace, s->name, now, n, next);
	}
	int rc = 0;
	if (s->previous_active && strcmp(s->overlap, "cancel_previous") == 0)
		rc = cancel_previous(e, s, now);
	int64_t runs = runs_of(s, n);
	json_t *target = json_parse_text(s->target);
	target_started started_run = { 0 };
	if (target == NULL)
		rc = rc != 0 ? rc : WEFT_EINVALID;   /* stored text that does not parse: skipped below */
	else if (rc == 0)
		rc = start_target(e, s, target, runs, triggered, now, &started_run);
	json_decref(target);
	if (rc == WEFT_EINVALID) {
		/* A target this server cannot start (checked when made, so a row
		 * from elsewhere, or damaged): the firing is skipped rather than
		 * retried every cycle, which would hold up every other schedule. */
		log_warn("engine", "schedule %s/%s: its target cannot be started; %" PRId64 " due time(s) skipped",
		         s->namespace, s->name, n);
		return store_schedule_skipped(e->w, s->namespace, s->name, now, n, next);
	}
	if (rc == 0)
		rc = record(e, s, n, runs, now, next, started_run.has_job ? started_run.last.str : NULL,
		            started_run.last.str);
	if (rc == 0)
		*started = (size_t)runs;
	return rc;
}
