/*
 * targets.c — starting a trigger's target in the caller's transaction
 * (targets.h). Each kind goes through the path its own route uses, so a
 * trigger cannot start what the API would refuse or start it otherwise.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "engine/engine_internal.h"
#include "engine/targets.h"
#include "engine/commands/command.h"
#include "engine/commands/jobs.h"
#include "engine/commands/templates.h"
#include "engine/commands/workflows.h"
#include "store/templates.h"

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

int target_read_job(const json_t *target, const char *input, target_job *t)
{
	job_spec *s = &t->spec;
	job_spec_init(s);
	t->input = NULL;
	s->queue = json_string_value(json_object_get(target, "queue"));
	if (s->queue == NULL)
		return WEFT_EINVALID;
	s->name = json_string_value(json_object_get(target, "name"));
	json_t *in = json_object_get(target, "input");
	if (input != NULL)
		s->input = input;
	else if (in != NULL)
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

void target_job_release(target_job *j)
{
	free(j->input);
	j->input = NULL;
}

/* n jobs of a job target, in one enqueue. */
static int start_jobs(engine *e, const target_start *t, int64_t n, int64_t now, weft_id *last)
{
	target_job *jobs = xcalloc((size_t)n, sizeof *jobs);
	job_spec *specs = xcalloc((size_t)n, sizeof *specs);
	int rc = 0;
	for (int64_t i = 0; i < n && rc == 0; i++)
		rc = target_read_job(t->target, t->input, &jobs[i]);
	for (int64_t i = 0; i < n && rc == 0; i++) {
		specs[i] = jobs[i].spec;
		specs[i].non_retryable = jobs[i].codes;
	}
	if (rc == 0) {
		cmd_job_enqueue enq;
		cmd_job_enqueue_init(&enq);
		enq.base.actor = t->actor;
		enq.namespace = t->namespace;
		enq.jobs = specs;
		enq.njobs = (size_t)n;
		rc = enq.base.op->apply(e, &enq.base, now);
		if (rc == 0 && enq.base.result != 0)
			rc = enq.base.result;
	}
	if (rc == 0)
		*last = specs[n - 1].id;
	for (int64_t i = 0; i < n; i++)
		target_job_release(&jobs[i]);
	free(jobs);
	free(specs);
	return rc;
}

/* n runs of a workflow target, each through workflow.start. */
static int start_workflows(engine *e, const target_start *t, int64_t n, int64_t now, weft_id *last)
{
	const char *ns = json_string_value(json_object_get(t->target, "namespace"));
	const char *type = json_string_value(json_object_get(t->target, "type"));
	if (type == NULL)
		return WEFT_EINVALID;
	int rc = 0;
	for (int64_t i = 0; i < n && rc == 0; i++) {
		target_job job;
		rc = target_read_job(t->target, t->input, &job);
		if (rc != 0)
			break;
		cmd_workflow_start start;
		cmd_workflow_start_init(&start);
		start.base.actor = t->actor;
		start.namespace = ns != NULL ? ns : t->namespace;
		start.type = type;
		start.job = &job.spec;
		rc = start.base.op->apply(e, &start.base, now);
		if (rc == 0 && start.base.result != 0)
			rc = start.base.result;
		if (rc == 0)
			*last = start.id;
		target_job_release(&job);
	}
	return rc;
}

/* n runs of a template target ("template": "name@version", "context"),
 * each a template.run of the version in the owner's namespace, built by
 * the engine's template expander (the decoder of POST /v1/runs). A
 * version that is not there (or whose steps no longer make a run) is
 * WEFT_EINVALID. */
static int start_template_runs(engine *e, const target_start *t, int64_t n, int64_t now, weft_id *last)
{
	const template_expander *x = e->cfg.template_runs;
	const char *ref = json_string_value(json_object_get(t->target, "template"));
	const char *at = ref != NULL ? strchr(ref, '@') : NULL;
	if (at == NULL)
		return WEFT_EINVALID;
	if (x == NULL) {
		log_warn("engine", "%s: this server starts no template runs", t->label);
		return WEFT_EINVALID;
	}
	char *name = xstrndup(ref, (size_t)(at - ref));
	template_row row;
	int rc = store_template_get(e->w, t->namespace, name, at + 1, &row);
	free(name);
	if (rc == WEFT_ENOTFOUND)
		log_warn("engine", "%s: no template %s in namespace %s", t->label, ref, t->namespace);
	if (rc != 0)
		return rc == WEFT_ENOTFOUND ? WEFT_EINVALID : rc;
	/* Canonical, as the route keeps a run's context (keys sorted). */
	json_t *given = t->input != NULL ? json_parse_text(t->input) : NULL;
	json_t *cj = given != NULL ? given : json_object_get(t->target, "context");
	char *context = json_dumps(cj != NULL ? cj : json_null(),
	                           JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	json_decref(given);
	for (int64_t i = 0; i < n && rc == 0; i++) {
		cmd_template_run run;
		cmd_template_run_init(&run);
		run.base.actor = t->actor;
		void *held = NULL;
		char why[256] = "";
		rc = x->expand(x->arg, &row, context, t->actor, &run.submit, &held, why, sizeof why);
		if (rc != 0) {
			log_warn("engine", "%s: template %s makes no run: %s", t->label, ref, why);
			rc = WEFT_EINVALID;
			break;
		}
		run.namespace = row.namespace;
		run.name = row.name;
		run.version = row.version;
		run.identity = t->identities != NULL ? t->identities[i] : NULL;
		run.context = context;
		rc = run.base.op->apply(e, &run.base, now);
		if (rc == 0 && run.base.result != 0) {
			/* refused by the state of the database: not retried */
			log_warn("engine", "%s: the run of template %s was refused (%s)", t->label, ref,
			         weft_strerror(run.base.result));
			rc = WEFT_EINVALID;
		}
		if (rc == 0)
			*last = run.run_id;
		x->release(held);
	}
	free(context);
	template_row_release(&row);
	return rc;
}

int target_start_runs(engine *e, const target_start *t, int64_t n, int64_t now, target_started *out)
{
	memset(out, 0, sizeof *out);
	const char *kind = json_string_value(json_object_get(t->target, "kind"));
	if (kind == NULL)
		return WEFT_EINVALID;
	if (strcmp(kind, "workflow") == 0) {
		out->has_job = true;
		return start_workflows(e, t, n, now, &out->last);
	}
	if (strcmp(kind, "template") == 0)
		return start_template_runs(e, t, n, now, &out->last);
	if (strcmp(kind, "job") == 0) {
		out->has_job = true;
		return start_jobs(e, t, n, now, &out->last);
	}
	return WEFT_EINVALID;
}

static bool is_job_target(const target_start *t)
{
	const char *kind = json_string_value(json_object_get(t->target, "kind"));
	return kind != NULL && strcmp(kind, "job") == 0;
}

int target_start_set(engine *e, const target_start *ts, size_t n, int64_t now, int *rcs, target_started *outs)
{
	target_job *jobs = xcalloc(n, sizeof *jobs);
	job_spec *specs = xcalloc(n, sizeof *specs);
	size_t *which = xcalloc(n, sizeof *which);
	size_t nspecs = 0;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		memset(&outs[i], 0, sizeof outs[i]);
		rcs[i] = 0;
		if (!is_job_target(&ts[i]))
			continue;
		if (target_read_job(ts[i].target, ts[i].input, &jobs[nspecs]) != 0) {
			log_warn("engine", "%s: its job target does not read", ts[i].label);
			rcs[i] = WEFT_EINVALID;
			continue;
		}
		specs[nspecs] = jobs[nspecs].spec;
		specs[nspecs].non_retryable = jobs[nspecs].codes;
		which[nspecs++] = i;
	}
	if (nspecs > 0) {
		cmd_job_enqueue enq;
		cmd_job_enqueue_init(&enq);
		enq.base.actor = ts[0].actor;
		enq.namespace = ts[0].namespace;
		enq.jobs = specs;
		enq.njobs = nspecs;
		rc = enq.base.op->apply(e, &enq.base, now);
		for (size_t k = 0; k < nspecs && rc == 0; k++) {
			rcs[which[k]] = enq.base.result;
			outs[which[k]].last = specs[k].id;
			outs[which[k]].has_job = true;
		}
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!is_job_target(&ts[i])) {
			rcs[i] = target_start_runs(e, &ts[i], 1, now, &outs[i]);
			if (rcs[i] != 0 && rcs[i] != WEFT_EINVALID)
				rc = rcs[i];   /* a database error: the caller's transaction fails */
		}
	for (size_t k = 0; k < nspecs; k++)
		target_job_release(&jobs[k]);
	free(jobs);
	free(specs);
	free(which);
	return rc;
}
