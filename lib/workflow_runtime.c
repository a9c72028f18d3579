/*
 * workflow_runtime.c — libweft's workflow runtime: the workflow types a
 * worker runs, the context (weft_wf) a run's function gets, the step API
 * over the /v1/workflows worker calls, and the end of an attempt.
 *
 * A run's job is claimed, heartbeated and held like any job (worker.c,
 * worker_io.c); only its end differs. The function runs in a handler
 * thread, which sends the step calls and the run's completion or failure
 * itself (with that thread's client) and marks the job quiet, so that the
 * report thread sends nothing for it. A suspension is quiet too: the
 * server already ended the attempt in the call that suspended it. An
 * attempt the server says is over (stale_lease, workflow_ended) marks the
 * job lost, as a lease answered canceled does.
 *
 * Every worker call is safe to send again under the same lease (a begin
 * meets its running row, a completion answers memoized), so one that
 * fails in a way that may pass is sent again after a growing pause, until
 * it is answered or the job is canceled.
 */
#include "worker_impl.h"

/* The worker calls of the step API. */
typedef enum wf_call {
	CALL_BEGIN,
	CALL_STEP_COMPLETE,
	CALL_STEP_FAIL,
	CALL_SLEEP,
	CALL_WAIT,
	CALL_RUN_COMPLETE,
	CALL_RUN_FAIL,
} wf_call;

/* What a call sends: the members its kind uses. */
typedef struct wf_args {
	const char *name;
	int64_t seq;
	int64_t ms;               /* a sleep's duration, a wait's timeout */
	const char *output;       /* JSON text */
	const char *code, *message;
	bool retryable;
} wf_args;

struct weft_wf {
	weft_worker *w;
	wjob *j;
	weft_client *c;
	int over;                 /* 0, WEFT_SUSPENDED or WEFT_ENDED: the attempt is over on the server */
	char *failed_message;     /* why the last step that failed for good failed */
	weft_error err;           /* the last call's failure */
};

/* ---- registration -------------------------------------------------------- */

int weft_worker_workflow(weft_worker *w, const char *type, weft_workflow_fn fn, void *arg)
{
	if (!w || w->started || !fn || !type || !*type || strlen(type) > WORKFLOW_TYPE_MAX ||
	    w->n_wf_types >= WORKER_WORKFLOWS_MAX)
		return WEFT_EINVAL;
	for (size_t i = 0; i < w->n_wf_types; i++)
		if (strcmp(w->wf_types[i].type, type) == 0)
			return WEFT_EINVAL;
	w->wf_types = xrealloc(w->wf_types, (w->n_wf_types + 1) * sizeof(*w->wf_types));
	w->wf_types[w->n_wf_types++] = (wf_type){ .type = xstrdup(type), .fn = fn, .arg = arg };
	return 0;
}

void worker_workflows_free(weft_worker *w)
{
	for (size_t i = 0; i < w->n_wf_types; i++)
		free(w->wf_types[i].type);
	free(w->wf_types);
	w->wf_types = NULL;
	w->n_wf_types = 0;
}

static const wf_type *type_of(const weft_worker *w, const char *name)
{
	for (size_t i = 0; name && i < w->n_wf_types; i++)
		if (strcmp(w->wf_types[i].type, name) == 0)
			return &w->wf_types[i];
	return NULL;
}

const weft_job *weft_wf_job(const weft_wf *wf)
{
	return wf ? &wf->j->job : NULL;
}

/* ---- calls --------------------------------------------------------------- */

static int send_once(weft_wf *wf, wf_call kind, const wf_args *a, char **out)
{
	const weft_job *job = &wf->j->job;
	const char *id = job->id, *lease = job->lease_token;
	weft_task_error te = { .code = a->code, .message = a->message };
	weft_tristate retryable = a->retryable ? WEFT_TRUE : WEFT_FALSE;
	switch (kind) {
	case CALL_BEGIN:
		return weft_workflow_step_begin(wf->c, id, &(weft_workflow_step_begin_request){ lease, a->name }, out,
		                                &wf->err);
	case CALL_STEP_COMPLETE:
		return weft_workflow_step_complete(
			wf->c, id, &(weft_workflow_step_complete_request){ lease, a->name, a->seq, a->output }, out, &wf->err);
	case CALL_STEP_FAIL:
		return weft_workflow_step_fail(
			wf->c, id, &(weft_workflow_step_fail_request){ lease, a->name, a->seq, te, retryable }, out, &wf->err);
	case CALL_SLEEP:
		return weft_workflow_sleep(wf->c, id, &(weft_workflow_sleep_request){ lease, a->name, a->ms }, out,
		                           &wf->err);
	case CALL_WAIT:
		return weft_workflow_wait_signal(wf->c, id, &(weft_workflow_wait_signal_request){ lease, a->name, a->ms },
		                                 out, &wf->err);
	case CALL_RUN_COMPLETE:
		return weft_workflow_complete(wf->c, id, &(weft_workflow_complete_request){ lease, a->output }, out,
		                              &wf->err);
	case CALL_RUN_FAIL:
		return weft_workflow_fail(wf->c, id, &(weft_workflow_fail_request){ lease, te, retryable }, out, &wf->err);
	}
	return WEFT_EINVAL;
}

/* The attempt is over on the server: nothing more is sent for it. */
static int end_attempt(weft_wf *wf, int why)
{
	if (!wf->over) {
		wf->over = why;
		if (why == WEFT_ENDED)
			atomic_store(&wf->j->lost, true);
		else
			atomic_store(&wf->j->quiet, true);   /* no heartbeat either */
	}
	return wf->over;
}

/* Sends a call until it is answered: 0 with the answer parsed into *ans
 * (owned); WEFT_ENDED when the attempt is over (canceled, stale lease,
 * the run ended); WEFT_STEP_FAILED (a begin of a step that failed for
 * good); or the WEFT_E* code of a refusal (err filled in). */
static int send_call(weft_wf *wf, wf_call kind, const wf_args *a, json_t **ans)
{
	*ans = NULL;
	if (wf->over)
		return wf->over;
	weft_worker *w = wf->w;
	int64_t backoff = 0;
	for (;;) {
		if (weft_job_canceled(&wf->j->job))
			return end_attempt(wf, WEFT_ENDED);
		char *text = NULL;
		int rc = send_once(wf, kind, a, &text);
		if (rc == 0) {
			json_error_t je;
			*ans = json_loads(text, 0, &je);
			weft_free(text);
			if (*ans && json_is_object(*ans))
				return 0;
			json_decref(*ans);
			*ans = NULL;
			return err_set(&wf->err, WEFT_EPROTOCOL, "the answer of a workflow call is not a JSON object");
		}
		const char *code = wf->err.server_code;
		if (rc == WEFT_ECONFLICT && (!strcmp(code, "stale_lease") || !strcmp(code, "workflow_ended"))) {
			worker_log(w, WEFT_LOG_INFO, "workflow %s: %s (this attempt is over)", wf->j->job.id, code);
			return end_attempt(wf, WEFT_ENDED);
		}
		if (rc == WEFT_ECONFLICT && !strcmp(code, "step_failed")) {
			free(wf->failed_message);
			wf->failed_message = xasprintf("step %s failed: %s", a->name, wf->err.message);
			return WEFT_STEP_FAILED;
		}
		if (rc == WEFT_EAUTH)
			worker_fatal(w, rc, &wf->err);   /* as the other threads do: the worker stops */
		if (!worker_retryable(rc))
			return rc;
		pthread_mutex_lock(&w->mu);
		if (!backoff)
			worker_log(w, WEFT_LOG_WARN, "workflow %s: %s (trying again until it answers)", wf->j->job.id,
			           wf->err.message);
		worker_backoff(w, &w->handler_cv, &backoff, false);
		pthread_mutex_unlock(&w->mu);
	}
}

/* After a call that may suspend the run: WEFT_SUSPENDED when it did. */
static int suspended(weft_wf *wf, const json_t *ans)
{
	if (!json_is_true(json_object_get(ans, "suspended")))
		return 0;
	worker_log(wf->w, WEFT_LOG_DEBUG, "workflow %s: suspended", wf->j->job.id);
	return end_attempt(wf, WEFT_SUSPENDED);
}

/* The answer's step.output as JSON text (owned), into *out when asked. */
static void step_output(const json_t *ans, char **out)
{
	if (out)
		*out = ans_json(json_object_get(ans, "step"), "output");
}

/* A call's arguments are refused before anything is sent: true with
 * wf->err naming the bad one. */
static bool bad_args(weft_wf *wf, const char *name, int64_t ms, const char *ms_field)
{
	if (!wf)
		return true;
	if (!name || !*name || strlen(name) > WORKFLOW_TYPE_MAX)
		err_set(&wf->err, WEFT_EINVAL, "name: 1 to %d bytes", WORKFLOW_TYPE_MAX);
	else if (ms < 0)
		err_set(&wf->err, WEFT_EINVAL, "%s: must not be negative", ms_field);
	else
		return false;
	return true;
}

/* ---- the step API -------------------------------------------------------- */

/* Records the outcome of a step that ran. */
static int finish_step(weft_wf *wf, const char *name, int64_t seq, struct weft_job_result *r, char **output)
{
	json_t *ans = NULL;
	int rc = 0;
	if (r->ok) {
		rc = send_call(wf, CALL_STEP_COMPLETE, &(wf_args){ .name = name, .seq = seq, .output = r->result }, &ans);
		if (rc == WEFT_EBADREQUEST)   /* its output is too large: the step fails for good */
			weft_job_result_fail(r, "result_rejected", wf->err.message, false);
		else if (rc == 0 && output) {
			*output = r->result;
			r->result = NULL;
		}
	}
	if (!r->ok) {
		wf_args a = { .name = name, .seq = seq, .code = r->code, .message = r->message, .retryable = r->retryable };
		if ((rc = send_call(wf, CALL_STEP_FAIL, &a, &ans)) == 0 && !(rc = suspended(wf, ans))) {
			free(wf->failed_message);
			wf->failed_message = xasprintf("step %s failed: %s%s%s", name, r->code, r->message ? ": " : "",
			                               r->message ? r->message : "");
			rc = WEFT_STEP_FAILED;
		}
	}
	json_decref(ans);
	return rc;
}

int weft_step(weft_wf *wf, const char *name, weft_step_fn fn, void *arg, char **output)
{
	if (output)
		*output = NULL;
	if (bad_args(wf, name, 0, NULL))
		return WEFT_EINVAL;
	if (!fn)
		return err_set(&wf->err, WEFT_EINVAL, "step %s: no step function", name);
	json_t *ans = NULL;
	int rc = send_call(wf, CALL_BEGIN, &(wf_args){ .name = name }, &ans);
	if (rc == 0 && !(rc = suspended(wf, ans)) && json_is_true(json_object_get(ans, "memoized"))) {
		step_output(ans, output);
		json_decref(ans);
		return 0;
	}
	int64_t seq = ans_int(json_object_get(ans, "step"), "seq");
	json_decref(ans);
	if (rc != 0)
		return rc;
	if (seq < 1)
		return err_set(&wf->err, WEFT_EPROTOCOL, "step %s: the begin answered no seq", name);

	struct weft_job_result r = { 0 };
	int frc = fn(wf, &r, arg);
	if (!r.set && frc != 0)
		weft_job_result_fail(&r, "step_error", "the step function returned an error", true);
	else if (!r.set)
		weft_job_result_complete(&r, NULL);
	rc = finish_step(wf, name, seq, &r, output);
	worker_result_clear(&r);
	return rc;
}

int weft_sleep(weft_wf *wf, const char *name, int64_t ms)
{
	if (bad_args(wf, name, ms, "ms"))
		return WEFT_EINVAL;
	json_t *ans = NULL;
	int rc = send_call(wf, CALL_SLEEP, &(wf_args){ .name = name, .ms = ms }, &ans);
	if (rc == 0)
		rc = suspended(wf, ans);
	json_decref(ans);
	return rc;
}

int weft_wait_signal(weft_wf *wf, const char *name, int64_t timeout_ms, char **payload)
{
	if (payload)
		*payload = NULL;
	if (bad_args(wf, name, timeout_ms, "timeout_ms"))
		return WEFT_EINVAL;
	json_t *ans = NULL;
	int rc = send_call(wf, CALL_WAIT, &(wf_args){ .name = name, .ms = timeout_ms }, &ans);
	if (rc == 0 && !(rc = suspended(wf, ans))) {
		if (json_is_true(json_object_get(ans, "timed_out")))
			rc = WEFT_TIMED_OUT;
		else
			step_output(ans, payload);
	}
	json_decref(ans);
	return rc;
}

/* ---- the run ------------------------------------------------------------- */

/* Reports the run's end as the function left it (fn_rc, wf->j->res). */
static void finish_run(weft_wf *wf, int fn_rc)
{
	wjob *j = wf->j;
	struct weft_job_result *r = &j->res;
	if (!wf->over && weft_job_canceled(&j->job))
		end_attempt(wf, WEFT_ENDED);
	if (wf->over) {
		if (fn_rc != wf->over)
			worker_log(wf->w, WEFT_LOG_WARN, "workflow %s returned %d after %s: nothing is reported", j->job.id,
			           fn_rc, weft_strerror(wf->over));
		return;
	}
	if (!r->set && fn_rc == WEFT_STEP_FAILED) {
		weft_job_result_fail(r, "step_failed", wf->failed_message, false);
	} else if (!r->set && fn_rc != 0) {
		char msg[700];
		snprintf(msg, sizeof(msg), "the workflow function returned %d (%s)%s%s", fn_rc, weft_strerror(fn_rc),
		         wf->err.code == fn_rc ? ": " : "", wf->err.code == fn_rc ? wf->err.message : "");
		weft_job_result_fail(r, "handler_error", msg, true);
	} else if (!r->set) {
		weft_job_result_complete(r, NULL);
	}
	json_t *ans = NULL;
	int rc = WEFT_EBADREQUEST;
	if (r->ok && (rc = send_call(wf, CALL_RUN_COMPLETE, &(wf_args){ .output = r->result }, &ans)) == 0)
		atomic_fetch_add(&wf->w->n_completed, 1);
	if (rc == WEFT_EBADREQUEST) {
		if (r->ok)   /* the output refused (too large): the run fails for good */
			weft_job_result_fail(r, "result_rejected", wf->err.message, false);
		wf_args a = { .code = r->code, .message = r->message, .retryable = r->retryable };
		if ((rc = send_call(wf, CALL_RUN_FAIL, &a, &ans)) == 0)
			atomic_fetch_add(&wf->w->n_failed, 1);
	}
	json_decref(ans);
	if (rc == WEFT_ENOTFOUND) {
		/* a job of this name that is no workflow run: the report thread
		 * fails it for good */
		weft_job_result_fail(r, "not_a_workflow", "no workflow run has this job's id", false);
		return;
	}
	if (rc != 0 && rc != WEFT_ENDED)
		worker_log(wf->w, WEFT_LOG_ERROR, "workflow %s: its end was not recorded: %s", j->job.id, wf->err.message);
	if (!wf->over)
		atomic_store(&j->quiet, true);   /* reported here, or not at all */
}

bool worker_run_workflow(weft_worker *w, wjob *j, weft_client **client)
{
	const wf_type *t = type_of(w, j->job.name);
	if (!t && w->o.handler)
		return false;
	if (!t) {
		char msg[300];
		snprintf(msg, sizeof(msg), "this worker runs no workflow of type %.255s", j->job.name ? j->job.name : "");
		weft_job_result_fail(&j->res, "unknown_workflow_type", msg, true);
		return true;
	}
	if (!*client && !(*client = worker_client(w, &w->abort_requests))) {
		atomic_store(&j->lost, true);   /* the worker stops */
		return true;
	}
	weft_wf wf = { .w = w, .j = j, .c = *client };
	int rc = t->fn(&wf, &j->res, t->arg);
	finish_run(&wf, rc);
	free(wf.failed_message);
	weft_error_release(&wf.err);
	return true;
}
