/*
 * schedule_fire.c — what one firing of a cron schedule does (schedules.h),
 * in the caller's transaction: judge the overlap policy on the previous
 * run, cancel that run when the policy says so, start the target and
 * record the firing or the skip.
 *
 * A target is started through the path its own route uses, so a firing
 * cannot start what the API would refuse or start it differently:
 *   job       the job enqueue command (POST /v1/jobs);
 *   workflow  workflow.start (POST /v1/workflows): a job plus its run row;
 *   template  template.run (POST /v1/templates/{name}/{version}/runs), its
 *             batch built by the API's decoder, handed to the engine
 *             (engine/commands/templates.h, template_expander).
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

/* One job's spec read from a target, with what it borrows. */
typedef struct target_job {
	job_spec spec;
	char *input;                                   /* owned compact JSON */
	const char *codes[JOB_NON_RETRYABLE_MAX];      /* borrowed from the target */
} target_job;

static int64_t member_int(const json_t *o, const char *name, int64_t dflt)
{
	json_t *v = json_object_get(o, name);
	return v != NULL && json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static double member_number(const json_t *o, const char *name, double dflt)
{
	json_t *v = json_object_get(o, name);
	return v != NULL && json_is_number(v) ? json_number_value(v) : dflt;
}

/* The job fields a target carries (job and workflow targets), with the
 * API's defaults for what it leaves out. Strings are borrowed from target. */
static int read_job(const json_t *target, target_job *t)
{
	job_spec *s = &t->spec;
	job_spec_init(s);
	t->input = NULL;
	s->queue = json_string_value(json_object_get(target, "queue"));
	if (s->queue == NULL)
		return WEFT_EINVALID;
	s->name = json_string_value(json_object_get(target, "name"));
	json_t *in = json_object_get(target, "input");
	if (in != NULL)
		s->input = t->input = json_dump_compact(in);
	s->priority = (int32_t)member_int(target, "priority", 0);
	s->max_attempts = (int32_t)member_int(target, "max_attempts", s->max_attempts);
	s->timeout_secs = (int32_t)member_int(target, "timeout_secs", s->timeout_secs);
	json_t *b = json_object_get(target, "backoff");
	if (json_is_object(b)) {
		int64_t initial = member_int(b, "initial_ms", s->backoff_initial_us / 1000);
		int64_t max = member_int(b, "max_ms", -1);
		if (max < 0)   /* as the decoder: the default cap does not undercut a longer first delay */
			max = MAX(s->backoff_max_us / 1000, initial);
		s->backoff_initial_us = initial * 1000;
		s->backoff_max_us = max * 1000;
		s->backoff_coefficient = member_number(b, "coefficient", s->backoff_coefficient);
		s->backoff_jitter = member_number(b, "jitter", s->backoff_jitter);
	}
	json_t *codes = json_object_get(target, "non_retryable_codes");
	for (size_t i = 0; i < json_array_size(codes) && i < JOB_NON_RETRYABLE_MAX; i++)
		t->codes[s->nnon_retryable++] = json_string_value(json_array_get(codes, i));
	s->non_retryable = t->codes;
	s->concurrency_key = json_string_value(json_object_get(target, "concurrency_key"));
	s->rate_key = json_string_value(json_object_get(target, "rate_key"));
	return 0;
}

/* n jobs of a job target, in one enqueue. */
static int start_jobs(engine *e, const schedule_row *s, const json_t *target, int64_t n, int64_t now,
                      weft_id *last)
{
	target_job *jobs = xcalloc((size_t)n, sizeof *jobs);
	job_spec *specs = xcalloc((size_t)n, sizeof *specs);
	int rc = 0;
	for (int64_t i = 0; i < n && rc == 0; i++)
		rc = read_job(target, &jobs[i]);
	for (int64_t i = 0; i < n && rc == 0; i++) {
		specs[i] = jobs[i].spec;
		specs[i].non_retryable = jobs[i].codes;
	}
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
		free(jobs[i].input);
	free(jobs);
	free(specs);
	return rc;
}

/* n runs of a workflow target, each through workflow.start. */
static int start_workflows(engine *e, const schedule_row *s, const json_t *target, int64_t n, int64_t now,
                           weft_id *last)
{
	const char *ns = json_string_value(json_object_get(target, "namespace"));
	const char *type = json_string_value(json_object_get(target, "type"));
	if (type == NULL)
		return WEFT_EINVALID;
	int rc = 0;
	for (int64_t i = 0; i < n && rc == 0; i++) {
		target_job job;
		rc = read_job(target, &job);
		if (rc != 0)
			break;
		cmd_workflow_start start;
		cmd_workflow_start_init(&start);
		start.base.actor = "schedule";
		start.namespace = ns != NULL ? ns : s->namespace;
		start.type = type;
		start.job = &job.spec;
		rc = start.base.op->apply(e, &start.base, now);
		if (rc == 0 && start.base.result != 0)
			rc = start.base.result;
		if (rc == 0)
			*last = start.id;
		free(job.input);
	}
	return rc;
}

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

/* n runs of a template target ("template": "name@version", "context"),
 * each a template.run of the version in the schedule's namespace, built
 * by the engine's template expander (the decoder of POST /v1/runs). A
 * version that is not there (or whose steps no longer make a run) is
 * WEFT_EINVALID: the firing is logged and skipped. *last: the last run. */
static int start_template_runs(engine *e, const schedule_row *s, const json_t *target, int64_t n, bool triggered,
                               int64_t now, weft_id *last)
{
	const template_expander *x = e->cfg.template_runs;
	const char *ref = json_string_value(json_object_get(target, "template"));
	const char *at = ref != NULL ? strchr(ref, '@') : NULL;
	if (at == NULL)
		return WEFT_EINVALID;
	if (x == NULL) {
		log_warn("engine", "schedule %s/%s: this server starts no template runs", s->namespace, s->name);
		return WEFT_EINVALID;
	}
	char *name = xstrndup(ref, (size_t)(at - ref));
	template_row t;
	int rc = store_template_get(e->w, s->namespace, name, at + 1, &t);
	free(name);
	if (rc == WEFT_ENOTFOUND)
		log_warn("engine", "schedule %s/%s: no template %s in namespace %s", s->namespace, s->name, ref,
		         s->namespace);
	if (rc != 0)
		return rc == WEFT_ENOTFOUND ? WEFT_EINVALID : rc;
	/* Canonical, as the route keeps a run's context (keys sorted). */
	json_t *cj = json_object_get(target, "context");
	char *context = json_dumps(cj != NULL ? cj : json_null(),
	                           JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	for (int64_t i = 0; i < n && rc == 0; i++) {
		cmd_template_run run;
		cmd_template_run_init(&run);
		run.base.actor = "schedule";
		void *held = NULL;
		char why[256] = "";
		rc = x->expand(x->arg, &t, context, "schedule", &run.submit, &held, why, sizeof why);
		if (rc != 0) {
			log_warn("engine", "schedule %s/%s: template %s makes no run: %s", s->namespace, s->name, ref, why);
			rc = WEFT_EINVALID;
			break;
		}
		char *identity = run_identity(s, triggered, i);
		run.namespace = t.namespace;
		run.name = t.name;
		run.version = t.version;
		run.identity = identity;
		run.context = context;
		rc = run.base.op->apply(e, &run.base, now);
		if (rc == 0 && run.base.result != 0) {
			/* refused by the state of the database: a firing skipped, not retried */
			log_warn("engine", "schedule %s/%s: the run of template %s was refused (%s)", s->namespace,
			         s->name, ref, weft_strerror(run.base.result));
			rc = WEFT_EINVALID;
		}
		if (rc == 0)
			*last = run.run_id;
		x->release(held);
		free(identity);
	}
	free(context);
	template_row_release(&t);
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
			alone[i] = targets[i] == NULL || read_job(targets[i], &jobs[i][j]) != 0;
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
			free(jobs[i][j].input);
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
	weft_id last = { 0 };
	bool has_job = true;
	if (target == NULL)
		rc = rc != 0 ? rc : WEFT_EINVALID;   /* stored text that does not parse: skipped below */
	else if (rc == 0 && strcmp(s->target_kind, "workflow") == 0)
		rc = start_workflows(e, s, target, runs, now, &last);
	else if (rc == 0 && strcmp(s->target_kind, "template") == 0) {
		rc = start_template_runs(e, s, target, runs, triggered, now, &last);
		has_job = false;
	} else if (rc == 0)
		rc = start_jobs(e, s, target, runs, now, &last);
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
		rc = record(e, s, n, runs, now, next, has_job ? last.str : NULL, last.str);
	if (rc == 0)
		*started = (size_t)runs;
	return rc;
}
