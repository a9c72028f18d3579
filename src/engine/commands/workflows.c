/*
 * workflows.c — the commands of durable workflows (see workflows.h).
 */
#include "util/common.h"
#include "util/log.h"
#include "engine/engine_internal.h"
#include "engine/commands/command.h"
#include "engine/commands/operator.h"
#include "engine/commands/workflows.h"
#include "engine/audit.h"
#include "engine/retry.h"
#include "store/workflows.h"
#include "store/jobs.h"
#include "store/runs.h"

ENGINE_CMD_BASE_FIRST(cmd_workflow_start);
ENGINE_CMD_BASE_FIRST(cmd_workflow_call);
ENGINE_CMD_BASE_FIRST(cmd_workflow_stop);
ENGINE_CMD_BASE_FIRST(cmd_workflow_signal);

/* A signal wait without timeout: the job waits in retrying "forever" (the
 * year 9999); only a signal, a cancel or an operator moves it. */
#define WAIT_FOREVER_US 253402300799000000LL

static bool status_active(const char *s)
{
	return strcmp(s, "pending") == 0 || strcmp(s, "running") == 0 || strcmp(s, "suspended") == 0;
}

const char *workflow_status_of_job(task_status s)
{
	switch (s) {
	case TS_SUCCESS: return "completed";
	case TS_CANCELED: return "canceled";
	case TS_FAILURE: return "failed";
	case TS_RUNNING: return "running";
	default: return NULL;
	}
}

/* The active run holding the start's key: true with c->id and c->status
 * set; *rc a failure to read. A run active in its own row whose job
 * ended without its calls (a worker's job report) has ended: it takes the
 * job's end here, which frees the key. */
static bool existing_run(engine *e, cmd_workflow_start *c, int64_t now, int *rc)
{
	workflow_run_row r;
	*rc = store_workflow_run_by_key(e->w, c->namespace, c->idempotency_key, &r);
	bool found = *rc == 0 && status_active(r.status);
	if (found) {
		task_row *t = NULL;
		size_t nt = 0;
		*rc = store_tasks_read(e->w, &r.id, 1, true, &t, &nt);
		if (*rc == 0 && nt == 1 && task_status_terminal(t->status)) {
			bool changed = false;
			*rc = store_workflow_run_take_job_end(e->w, &r.id, now, &changed);
			found = false;
		}
		store_free_tasks(t, nt);
		found = found && *rc == 0;
	}
	if (found) {
		c->id = r.id;
		snprintf(c->status, sizeof c->status, "%s", r.status);
	}
	if (*rc == WEFT_ENOTFOUND)
		*rc = 0;
	workflow_run_row_release(&r);
	return found;
}

static int apply_start(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_workflow_start *c = engine_cmd_of(cmd, cmd_workflow_start);
	c->created = false;
	int rc = 0;
	if (c->idempotency_key != NULL && existing_run(e, c, now, &rc)) {
		cmd->result = 0;
		return 0;
	}
	if (rc != 0)
		return rc;

	job_spec *s = c->job;
	s->name = c->type;
	s->dedup_scope = JOB_DEDUP_NONE;
	cmd_job_enqueue enq;
	cmd_job_enqueue_init(&enq);
	enq.base.actor = cmd->actor;
	enq.namespace = c->namespace;
	enq.jobs = s;
	enq.njobs = 1;
	if ((rc = enq.base.op->apply(e, &enq.base, now)) != 0)
		return rc;
	if (enq.base.result != 0)
		return enq.base.result;

	char *policy = retry_policy_job_json(s->max_attempts, s->backoff_initial_us, s->backoff_coefficient,
	                                     s->backoff_max_us, s->backoff_jitter, s->non_retryable, s->nnon_retryable);
	workflow_run_new n = { .id = s->id, .namespace = c->namespace, .type = c->type, .queue = s->queue,
		               .idempotency_key = c->idempotency_key, .input = s->input, .step_retry = policy,
		               .now = now };
	bool created = false;
	rc = store_workflow_run_insert(e->w, &n, &created);
	free(policy);
	if (rc != 0)
		return rc;
	if (!created)
		return WEFT_ERETRY;   /* another node's run took the key: answered with it next cycle */
	c->id = s->id;
	c->created = true;
	snprintf(c->status, sizeof c->status, "pending");
	cmd->result = 0;
	return 0;
}

/* ---- a worker's calls ---------------------------------------------------------------------- */

static bool visible_to(const job_visibility *v, const char *ns)
{
	if (v->all)
		return true;
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->names[i], ns) == 0)
			return true;
	return false;
}

static void set_status(cmd_workflow_call *c, const char *status)
{
	snprintf(c->run_status, sizeof c->run_status, "%s", status);
}

/* Ends the attempt and suspends the run until wake_at: the job waits in
 * retrying (attempt unchanged: a suspension is not a failure), and the
 * retry_backoff deadline makes it pending again then, waking parked
 * claims. */
static int suspend_for(engine *e, cmd_workflow_call *c, const char *reason, int64_t wake_at, const char *signal,
                       int64_t now)
{
	char why[64];
	snprintf(why, sizeof why, "workflow suspended: %s", reason);
	int64_t job_wake = wake_at ? wake_at : WAIT_FOREVER_US;
	job_change ch = { .id = c->run_id, .token = c->lease_token, .to = TS_RETRYING, .next_retry_at = job_wake,
		          .actor = c->base.actor ? c->base.actor : "api", .reason = why };
	int rc = store_jobs_change(e->w, &ch, 1, now, false);
	if (rc != 0)
		return rc;
	if (!ch.applied)
		return WEFT_ERETRY;   /* the row was locked and fenced: another node moved it; look again */
	if (wake_at)
		deadline_arm(e, wake_at, &deadline_retry_backoff, &c->run_id);
	engine_metric_transition(e, TS_RUNNING, TS_RETRYING);
	workflow_run_change rc_ = { .to = "suspended", .from_active = true, .suspend_reason = reason,
		                    .wake_at = wake_at, .wait_signal = signal, .suspended_token = c->lease_token };
	bool changed = false;
	if ((rc = store_workflow_run_change(e->w, &c->run_id, &rc_, now, &changed)) != 0)
		return rc;
	c->suspended = true;
	c->wake_at = wake_at;
	set_status(c, "suspended");
	return 0;
}

static int suspend(engine *e, cmd_workflow_call *c, const char *reason, int64_t wake_at, int64_t now)
{
	return suspend_for(e, c, reason, wake_at, NULL, now);
}

/* Changes c->step as ch says; c->step becomes the changed row. */
static int step_change(engine *e, cmd_workflow_call *c, workflow_step_kind kind, const workflow_step_change *ch)
{
	workflow_step_row now_row;
	bool changed = false;
	int rc = store_workflow_step_change(e->w, &c->run_id, kind, c->step.name, c->step.seq, ch, &now_row,
	                                    &changed);
	if (rc == 0 && !changed)
		rc = WEFT_ERETRY;     /* the run's job row is locked: only another node's write can do this */
	workflow_step_row_release(&c->step);
	if (rc == 0)
		c->step = now_row;
	return rc;
}

/* The memo row of c's call of this kind (made with status `initial` when
 * the attempt meets it first: *fresh), into c->step; a run past its memo's
 * limit answers WFC_TOO_MANY_STEPS instead. */
static int reach(engine *e, cmd_workflow_call *c, workflow_step_kind kind, const char *initial, int64_t now,
                 bool *fresh)
{
	int rc = store_workflow_step_reach(e->w, &c->run_id, kind, c->name, c->lease_token, initial, now,
	                                   WORKFLOW_MEMO_ROWS_MAX, &c->step, fresh);
	c->outcome = rc == WEFT_ETOOLARGE ? WFC_TOO_MANY_STEPS : WFC_OK;
	return rc == WEFT_ETOOLARGE ? 0 : rc;
}

static int call_step_begin(engine *e, cmd_workflow_call *c, int64_t now)
{
	bool fresh = false;
	int rc = reach(e, c, WS_STEP, "running", now, &fresh);
	if (rc != 0 || c->outcome != WFC_OK)
		return rc;
	if (strcmp(c->step.status, "completed") == 0) {
		c->memoized = true;
	} else if (strcmp(c->step.status, "failed") == 0) {
		c->outcome = WFC_STEP_FAILED;
	} else if (strcmp(c->step.status, "retrying") == 0) {
		if (c->step.next_attempt_at > now)
			return suspend(e, c, "retry", c->step.next_attempt_at, now);
		workflow_step_change ch = { .from = "retrying", .to = "running", .error_code = c->step.error_code,
			                    .error_message = c->step.error_message };
		return step_change(e, c, WS_STEP, &ch);
	}
	return 0;
}

/* The step (name, seq) this attempt began, into c->step: false with the
 * outcome set when there is none. */
static int began_step(engine *e, cmd_workflow_call *c, bool *found)
{
	*found = false;
	int rc = store_workflow_step_get(e->w, &c->run_id, WS_STEP, c->name, c->seq, &c->step);
	if (rc == WEFT_ENOTFOUND || (rc == 0 && c->step.seen_token != c->lease_token)) {
		c->outcome = WFC_STEP_UNKNOWN;
		return 0;
	}
	if (rc != 0)
		return rc;
	*found = true;
	return 0;
}

static int call_step_complete(engine *e, cmd_workflow_call *c, int64_t now)
{
	/* The common case first, in one statement: the step this attempt began
	 * is running and ends now. Otherwise its row tells what to answer. */
	const char *output = c->output ? c->output : "null";
	workflow_step_change done = { .from = "running", .to = "completed", .output = output, .attempts_add = 1,
		                      .ended_at = now, .seen_token = c->lease_token };
	bool changed = false;
	int rc = c->lease_token == 0 ? 0 : store_workflow_step_change(e->w, &c->run_id, WS_STEP, c->name, c->seq,
	                                                               &done, &c->step, &changed);
	if (rc != 0 || changed) {
		c->outcome = WFC_OK;
		return rc;
	}
	bool found;
	rc = began_step(e, c, &found);
	if (rc != 0 || !found)
		return rc;
	if (strcmp(c->step.status, "completed") == 0) {
		/* A repeated completion: the same output says so, another is a conflict. */
		bool same = c->step.output != NULL && strcmp(c->step.output, output) == 0;
		c->memoized = same;
		c->outcome = same ? WFC_OK : WFC_STEP_ENDED;
		return 0;
	}
	if (strcmp(c->step.status, "running") != 0) {
		c->outcome = WFC_STEP_ENDED;
		return 0;
	}
	workflow_step_change ch = { .from = "running", .to = "completed", .output = output, .attempts_add = 1,
		                    .ended_at = now };
	c->outcome = WFC_OK;
	return step_change(e, c, WS_STEP, &ch);
}

static int call_step_fail(engine *e, cmd_workflow_call *c, const workflow_run_row *run, int64_t now)
{
	bool found;
	int rc = began_step(e, c, &found);
	if (rc != 0 || !found)
		return rc;
	if (strcmp(c->step.status, "running") != 0) {
		c->outcome = WFC_STEP_ENDED;
		return 0;
	}
	retry_policy p;
	if (retry_policy_parse(run->step_retry, &p) != 0)
		return WEFT_ESTORE;
	int64_t attempts = c->step.attempts + 1;
	bool retry = c->retryable && !retry_code_non_retryable(run->step_retry, c->error_code) &&
	             (p.max_retries < 0 || attempts <= p.max_retries);
	c->outcome = WFC_OK;
	c->retried = retry;
	if (!retry) {
		workflow_step_change ch = { .from = "running", .to = "failed", .error_code = c->error_code,
			                    .error_message = c->error_message, .attempts_add = 1, .ended_at = now };
		return step_change(e, c, WS_STEP, &ch);
	}
	int64_t wake = now + retry_delay_us(&p, (int32_t)MIN(attempts - 1, INT32_MAX));
	workflow_step_change ch = { .from = "running", .to = "retrying", .error_code = c->error_code,
		                    .error_message = c->error_message, .attempts_add = 1, .next_attempt_at = wake };
	if ((rc = step_change(e, c, WS_STEP, &ch)) != 0)
		return rc;
	return suspend(e, c, "retry", wake, now);
}

static int call_sleep(engine *e, cmd_workflow_call *c, int64_t now)
{
	bool fresh = false;
	int rc = reach(e, c, WS_SLEEP, "sleeping", now, &fresh);
	if (rc != 0 || c->outcome != WFC_OK)
		return rc;
	if (strcmp(c->step.status, "completed") == 0) {
		c->memoized = true;
		return 0;
	}
	int64_t due = fresh ? now + c->duration_us : c->step.next_attempt_at;
	if (due > now) {
		if (fresh) {
			workflow_step_change ch = { .from = "sleeping", .to = "sleeping", .next_attempt_at = due };
			if ((rc = step_change(e, c, WS_SLEEP, &ch)) != 0)
				return rc;
		}
		return suspend(e, c, "sleep", due, now);
	}
	workflow_step_change ch = { .from = "sleeping", .to = "completed", .next_attempt_at = due, .ended_at = now };
	return step_change(e, c, WS_SLEEP, &ch);
}

/* A wait: a signal sent before (or while suspended) completes it with the
 * payload; else the run suspends until one comes or the timeout. */
static int call_wait_signal(engine *e, cmd_workflow_call *c, int64_t now)
{
	bool fresh = false;
	int rc = reach(e, c, WS_SIGNAL, "waiting", now, &fresh);
	if (rc != 0 || c->outcome != WFC_OK)
		return rc;
	if (strcmp(c->step.status, "completed") == 0) {
		c->memoized = true;
		c->timed_out = c->step.error_code != NULL;
		return 0;
	}
	bool found = false;
	char *payload = NULL;
	if ((rc = store_workflow_signal_take(e->w, &c->run_id, c->name, c->step.seq, now, &found, &payload)) != 0)
		return rc;
	if (found) {
		workflow_step_change ch = { .from = "waiting", .to = "completed", .output = payload ? payload : "null",
			                    .attempts_add = 1, .ended_at = now };
		rc = step_change(e, c, WS_SIGNAL, &ch);
		free(payload);
		return rc;
	}
	int64_t due = fresh ? (c->duration_us > 0 ? now + c->duration_us : 0) : c->step.next_attempt_at;
	if (due != 0 && due <= now) {
		workflow_step_change ch = { .from = "waiting", .to = "completed", .error_code = "timed_out",
			                    .error_message = "no signal came within the timeout", .attempts_add = 1,
			                    .next_attempt_at = due, .ended_at = now };
		c->timed_out = true;
		return step_change(e, c, WS_SIGNAL, &ch);
	}
	if (fresh && due != 0) {
		workflow_step_change ch = { .from = "waiting", .to = "waiting", .next_attempt_at = due };
		if ((rc = step_change(e, c, WS_SIGNAL, &ch)) != 0)
			return rc;
	}
	return suspend_for(e, c, "signal", due, c->name, now);
}

static int call_run_complete(engine *e, cmd_workflow_call *c, int64_t now)
{
	job_complete_item it = { .id = c->run_id, .lease_token = c->lease_token, .result = c->output };
	cmd_job_complete jc;
	cmd_job_complete_init(&jc);
	jc.base.actor = c->base.actor;
	jc.items = &it;
	jc.nitems = 1;
	int rc = jc.base.op->apply(e, &jc.base, now);
	if (rc == 0 && jc.base.result != 0)
		rc = jc.base.result;
	if (rc != 0)
		return rc;
	if (it.outcome != JOB_COMPLETED) {
		c->outcome = WFC_STALE_LEASE;
		return 0;
	}
	workflow_run_change ch = { .to = "completed", .from_active = true, .output = c->output ? c->output : "null",
		                   .ended_at = now };
	bool changed = false;
	rc = store_workflow_run_change(e->w, &c->run_id, &ch, now, &changed);
	c->outcome = WFC_OK;
	set_status(c, "completed");
	return rc;
}

static int call_run_fail(engine *e, cmd_workflow_call *c, int64_t now)
{
	job_fail_item it = { .id = c->run_id, .lease_token = c->lease_token, .code = c->error_code,
		             .message = c->error_message, .retryable = c->retryable, .retry_after_us = -1 };
	cmd_job_fail jf;
	cmd_job_fail_init(&jf);
	jf.base.actor = c->base.actor;
	jf.items = &it;
	jf.nitems = 1;
	int rc = jf.base.op->apply(e, &jf.base, now);
	if (rc == 0 && jf.base.result != 0)
		rc = jf.base.result;
	if (rc != 0)
		return rc;
	bool changed = false;
	c->outcome = WFC_OK;
	if (it.outcome == JOB_RETRYING) {
		/* The job's own retry: replayed from the top after the backoff. */
		workflow_run_change ch = { .to = "suspended", .from_active = true, .suspend_reason = "retry",
			                   .wake_at = it.next_attempt_at, .suspended_token = c->lease_token,
			                   .error_code = c->error_code, .error_message = c->error_message };
		c->retried = c->suspended = true;
		c->wake_at = it.next_attempt_at;
		set_status(c, "suspended");
		return store_workflow_run_change(e->w, &c->run_id, &ch, now, &changed);
	}
	if (it.outcome != JOB_DEAD_LETTERED) {
		c->outcome = WFC_STALE_LEASE;
		return 0;
	}
	workflow_run_change ch = { .to = "failed", .from_active = true, .error_code = c->error_code,
		                   .error_message = c->error_message, .ended_at = now };
	set_status(c, "failed");
	return store_workflow_run_change(e->w, &c->run_id, &ch, now, &changed);
}

/* The run's job row locked (first: every change to a run locks it), then
 * the run's row: *nt 0 when there is no job; 0 or WEFT_ENOTFOUND (no
 * run; *t still set). Both in one statement when both are there. */
static int read_locked(engine *e, const weft_id *id, task_row **t, size_t *nt, workflow_run_row *run)
{
	int rc = store_workflow_run_locked(e->w, id, t, run);
	*nt = rc == 0 ? 1 : 0;
	if (rc != WEFT_ENOTFOUND)
		return rc;
	if ((rc = store_tasks_read(e->w, id, 1, true, t, nt)) != 0)
		return rc;
	return store_workflow_run_get(e->w, id, run);
}

static int apply_call(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_workflow_call *c = engine_cmd_of(cmd, cmd_workflow_call);
	workflow_step_row_release(&c->step);
	c->outcome = WFC_NONE;
	c->memoized = c->suspended = c->retried = c->timed_out = false;
	c->wake_at = 0;
	c->run_status[0] = '\0';
	cmd->result = 0;

	/* The job's row first, locked: the fence holds until the commit, and
	 * the run's row read after it is the one every change to the run
	 * (all of them lock the job first) left. */
	task_row *t = NULL;
	size_t nt = 0;
	workflow_run_row run;
	int rc = read_locked(e, &c->run_id, &t, &nt, &run);
	if (rc == WEFT_ENOTFOUND || (rc == 0 && !visible_to(&c->visible, run.namespace))) {
		workflow_run_row_release(&run);
		store_free_tasks(t, nt);
		c->outcome = WFC_NOT_FOUND;
		return 0;
	}
	if (rc != 0) {
		store_free_tasks(t, nt);
		return rc;
	}
	set_status(c, run.status);
	if (rc == 0 && status_active(run.status) && nt == 1 && task_status_terminal(t->status)) {
		/* The job ended outside the run's own calls (its lease lost with
		 * no attempt left, a cancel, an operator): the run follows it. */
		const char *to = workflow_status_of_job(t->status);
		bool changed = false;
		rc = store_workflow_run_take_job_end(e->w, &c->run_id, now, &changed);
		set_status(c, to);
		c->outcome = WFC_RUN_ENDED;
	} else if (rc == 0 && !status_active(run.status)) {
		c->outcome = WFC_RUN_ENDED;
	} else if (rc == 0 && (nt == 0 || t->status != TS_RUNNING || t->lease_token != c->lease_token)) {
		c->outcome = WFC_STALE_LEASE;
	} else if (rc == 0) {
		/* The first call of a new attempt (after a claim): the run runs
		 * again. */
		if (run.seen_token != c->lease_token) {
			workflow_run_change ch = { .to = "running", .from_active = true, .replays_add = 1,
				                   .seen_token = c->lease_token };
			bool changed = false;
			rc = store_workflow_run_change(e->w, &c->run_id, &ch, now, &changed);
			set_status(c, "running");
		}
		switch (rc == 0 ? (int)c->kind : -1) {
		case WF_STEP_BEGIN: rc = call_step_begin(e, c, now); break;
		case WF_STEP_COMPLETE: rc = call_step_complete(e, c, now); break;
		case WF_STEP_FAIL: rc = call_step_fail(e, c, &run, now); break;
		case WF_SLEEP: rc = call_sleep(e, c, now); break;
		case WF_RUN_COMPLETE: rc = call_run_complete(e, c, now); break;
		case WF_RUN_FAIL: rc = call_run_fail(e, c, now); break;
		case WF_WAIT_SIGNAL: rc = call_wait_signal(e, c, now); break;
		default: break;
		}
	}
	store_free_tasks(t, nt);
	workflow_run_row_release(&run);
	return rc;
}

/* The run's job row locked (first: every change to a run locks it), then
 * the run: 0, WEFT_ENOTFOUND (no run, or not visible; nothing to free),
 * or a store error. */
static int locked_run(engine *e, const weft_id *id, const job_visibility *vis, task_row **t, size_t *nt,
                      workflow_run_row *run)
{
	int rc = read_locked(e, id, t, nt, run);
	if (rc == 0 && !visible_to(vis, run->namespace))
		rc = WEFT_ENOTFOUND;
	if (rc != 0) {
		workflow_run_row_release(run);
		store_free_tasks(*t, *nt);
		*t = NULL;
		*nt = 0;
	}
	return rc;
}

/* The run's status as its job already tells it: a run still recorded as
 * active whose job has ended reads as the job's end. */
static void run_status_now(const workflow_run_row *run, const task_row *t, size_t nt, char *out, size_t size)
{
	const char *ended = nt == 1 ? workflow_status_of_job(t->status) : NULL;
	snprintf(out, size, "%s", ended != NULL && status_active(run->status) ? ended : run->status);
}

/* ---- cancel, terminate ------------------------------------------------------------------------ */

static int apply_stop(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_workflow_stop *c = engine_cmd_of(cmd, cmd_workflow_stop);
	cmd->result = 0;
	c->run_status[0] = '\0';
	task_row *t = NULL;
	size_t nt = 0;
	workflow_run_row run;
	int rc = locked_run(e, &c->run_id, &c->visible, &t, &nt, &run);
	if (rc == WEFT_ENOTFOUND) {
		cmd->result = WEFT_ENOTFOUND;
		return 0;
	}
	if (rc != 0)
		return rc;
	run_status_now(&run, t, nt, c->run_status, sizeof c->run_status);
	bool retry = c->kind == WF_RETRY;
	bool allowed = nt == 1 && (retry ? strcmp(c->run_status, "failed") == 0 ||
	                                       strcmp(c->run_status, "canceled") == 0 ||
	                                       strcmp(c->run_status, "terminated") == 0
	                                 : status_active(c->run_status));
	if (rc == 0 && !allowed) {
		cmd->result = WEFT_ECONFLICT;
	} else if (rc == 0) {
		cmd_operator op;
		cmd_operator_init(&op, retry ? OPERATOR_RESET : OPERATOR_CANCEL);
		op.base.actor = cmd->actor;
		op.id = c->run_id;
		op.reason = c->reason;
		op.audited_by_caller = true;
		rc = op.base.op->apply(e, &op.base, now);
		if (rc == 0 && op.base.result != 0)
			rc = op.base.result == WEFT_ECONFLICT ? WEFT_ERETRY : op.base.result;
		const char *to = retry ? "pending" : c->kind == WF_TERMINATE ? "terminated" : "canceled";
		workflow_run_change ch = { .to = to, .from_active = !retry };
		if (!retry) {
			ch.error_code = to;
			ch.error_message = c->reason;
			ch.ended_at = now;
		}
		bool changed = false;
		if (rc == 0)
			rc = store_workflow_run_change(e->w, &c->run_id, &ch, now, &changed);
		if (rc == 0 && retry)
			rc = store_workflow_steps_reopen(e->w, &c->run_id);
		if (rc == 0) {
			static const char *const actions[] = { [WF_CANCEL] = "workflow.cancel",
				                               [WF_TERMINATE] = "workflow.terminate",
				                               [WF_RETRY] = "workflow.retry" };
			json_t *detail = json_pack("{s:s?}", "type", run.type);
			if (c->reason != NULL && c->reason[0] != '\0')
				json_object_set_new(detail, "reason", json_string(c->reason));
			rc = audit_record_obj(e, run.namespace, cmd->actor, actions[c->kind], "workflow", c->run_id.str,
			                      detail);
		}
		if (rc == 0)
			snprintf(c->run_status, sizeof c->run_status, "%s", to);
	}
	store_free_tasks(t, nt);
	workflow_run_row_release(&run);
	return rc;
}

/* ---- signals ------------------------------------------------------------------------------------ */

static int apply_signal(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_workflow_signal *c = engine_cmd_of(cmd, cmd_workflow_signal);
	cmd->result = 0;
	c->woke = c->full = false;
	c->id = 0;
	task_row *t = NULL;
	size_t nt = 0;
	workflow_run_row run;
	int rc = locked_run(e, &c->run_id, &c->visible, &t, &nt, &run);
	if (rc == WEFT_ENOTFOUND) {
		cmd->result = WEFT_ENOTFOUND;
		return 0;
	}
	if (rc != 0)
		return rc;
	run_status_now(&run, t, nt, c->run_status, sizeof c->run_status);
	if (rc == 0 && !status_active(c->run_status)) {
		cmd->result = WEFT_ECONFLICT;
	} else if (rc == 0) {
		int64_t pending = 0;
		rc = store_workflow_signals_pending(e->w, &c->run_id, &pending);
		c->full = rc == 0 && pending >= WORKFLOW_SIGNALS_PENDING_MAX;
		if (c->full)
			cmd->result = WEFT_ECONFLICT;
	}
	if (rc == 0 && cmd->result == 0) {
		rc = store_workflow_signal_insert(e->w, &c->run_id, c->name, c->payload, now, &c->id);
		bool waiting = rc == 0 && strcmp(run.status, "suspended") == 0 && run.wait_signal != NULL &&
		               strcmp(run.wait_signal, c->name) == 0 && nt == 1 && t->status == TS_RETRYING;
		if (waiting) {
			/* Claimable at once: the next attempt's wait takes the signal. */
			task_update_result res = { 0 };
			task_update u = { .set_status = true, .status = TS_PENDING, .last_updated = now,
				          .actor = cmd->actor ? cmd->actor : "api", .reason = "workflow signal" };
			rc = engine_update_tasks(e, &c->run_id, 1, TS_BIT(TS_RETRYING), &u, &res, NULL);
			if (rc == 0 && res.applied) {
				engine_metric_transition(e, TS_RETRYING, TS_PENDING);
				engine_wake_starts(e);
				engine_claims_wake(e);
				workflow_run_change ch = { .to = "pending", .from_active = true };
				bool changed = false;
				rc = store_workflow_run_change(e->w, &c->run_id, &ch, now, &changed);
				c->woke = true;
				snprintf(c->run_status, sizeof c->run_status, "pending");
			}
		}
	}
	store_free_tasks(t, nt);
	workflow_run_row_release(&run);
	return rc;
}

/* Idempotency-Key: a repeat answers as the first did, and sends nothing. */
static void signal_save(const engine_cmd *cmd, json_t *out)
{
	const cmd_workflow_signal *c = engine_cmd_of((engine_cmd *)cmd, cmd_workflow_signal);
	json_object_set_new(out, "id", json_integer(c->id));
	json_object_set_new(out, "woke", json_boolean(c->woke));
	json_object_set_new(out, "full", json_boolean(c->full));
	json_object_set_new(out, "run_status", json_string(c->run_status));
}

static int signal_load(engine_cmd *cmd, const json_t *in)
{
	cmd_workflow_signal *c = engine_cmd_of(cmd, cmd_workflow_signal);
	const char *status = json_string_value(json_object_get(in, "run_status"));
	if (status == NULL || !json_is_integer(json_object_get(in, "id")))
		return WEFT_EINTERNAL;
	c->id = json_integer_value(json_object_get(in, "id"));
	c->woke = json_is_true(json_object_get(in, "woke"));
	c->full = json_is_true(json_object_get(in, "full"));
	snprintf(c->run_status, sizeof c->run_status, "%s", status);
	return 0;
}

static const engine_op op_signal = { .name = "workflow.signal", .apply = apply_signal,
	                             .failure_metric = "tasks_db_save_failures_total",
	                             .outcome_save = signal_save, .outcome_load = signal_load };

void cmd_workflow_signal_init(cmd_workflow_signal *c)
{
	*c = (cmd_workflow_signal){ .base.op = &op_signal, .visible.all = true };
}

static void stop_save(const engine_cmd *cmd, json_t *out)
{
	const cmd_workflow_stop *c = engine_cmd_of((engine_cmd *)cmd, cmd_workflow_stop);
	json_object_set_new(out, "run_status", json_string(c->run_status));
}

static int stop_load(engine_cmd *cmd, const json_t *in)
{
	cmd_workflow_stop *c = engine_cmd_of(cmd, cmd_workflow_stop);
	const char *status = json_string_value(json_object_get(in, "run_status"));
	if (status == NULL)
		return WEFT_EINTERNAL;
	snprintf(c->run_status, sizeof c->run_status, "%s", status);
	return 0;
}

static const engine_op op_stop = { .name = "workflow.stop", .apply = apply_stop,
	                           .failure_metric = "tasks_db_save_failures_total",
	                           .outcome_save = stop_save, .outcome_load = stop_load };

void cmd_workflow_stop_init(cmd_workflow_stop *c, workflow_stop_kind kind)
{
	*c = (cmd_workflow_stop){ .base.op = &op_stop, .kind = kind, .visible.all = true };
}

/* The calls of one cycle one after the other through apply_call, in one
 * savepoint: each sees what the calls before it wrote, exactly as when
 * applied alone in that order, so each is answered as alone. What one
 * savepoint per call would add is only that a call which fails leaves
 * nothing while the others stay: a failure here rolls the whole set back,
 * and the engine applies the calls one at a time, each in its own
 * savepoint. Most commands of a busy cycle are calls (a worker's steps),
 * so this saves a SAVEPOINT and a RELEASE per call. */
static int apply_calls(engine *e, engine_cmd **cmds, size_t n, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		e->actor = cmds[i]->actor ? cmds[i]->actor : "api";
		int rc = apply_call(e, cmds[i], now);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static const engine_op op_call = { .name = "workflow.call", .apply = apply_call, .apply_many = apply_calls,
	                           .failure_metric = "tasks_db_save_failures_total" };

void cmd_workflow_call_init(cmd_workflow_call *c, workflow_call_kind kind)
{
	*c = (cmd_workflow_call){ .base.op = &op_call, .kind = kind, .visible.all = true, .retryable = true };
}

void cmd_workflow_call_release(cmd_workflow_call *c)
{
	workflow_step_row_release(&c->step);
}

/* Idempotency-Key: a repeat answers the run the first one answered. */
static void start_save(const engine_cmd *cmd, json_t *out)
{
	const cmd_workflow_start *c = engine_cmd_of((engine_cmd *)cmd, cmd_workflow_start);
	json_object_set_new(out, "id", json_string(c->id.str));
	json_object_set_new(out, "created", json_boolean(c->created));
	json_object_set_new(out, "status", json_string(c->status));
}

static int start_load(engine_cmd *cmd, const json_t *in)
{
	cmd_workflow_start *c = engine_cmd_of(cmd, cmd_workflow_start);
	const char *id = json_string_value(json_object_get(in, "id"));
	const char *status = json_string_value(json_object_get(in, "status"));
	if (id == NULL || status == NULL || id_parse(id, &c->id) != 0)
		return WEFT_EINTERNAL;
	c->created = json_is_true(json_object_get(in, "created"));
	snprintf(c->status, sizeof c->status, "%s", status);
	return 0;
}

static const engine_op op_start = { .name = "workflow.start", .apply = apply_start,
	                            .failure_metric = "tasks_db_save_failures_total",
	                            .outcome_save = start_save, .outcome_load = start_load };

void cmd_workflow_start_init(cmd_workflow_start *c) { *c = (cmd_workflow_start){ .base.op = &op_start }; }

const command_family family_workflows = { .name = "workflows", .define_metrics = NULL };
