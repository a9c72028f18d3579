/*
 * targets.h — starting what a trigger names: a schedule's firing, an
 * incoming webhook, an event's subscription. A target is stored as the
 * JSON object its route's decoder checked (http/v1/targets.h):
 *
 *   job       {"kind":"job", queue, name?, input?, and the retry fields}
 *             started through the job enqueue command (POST /v1/jobs);
 *   workflow  {"kind":"workflow", type, queue, namespace?, input?, ...}
 *             started through workflow.start (POST /v1/workflows);
 *   template  {"kind":"template", template:"name@version", context?}
 *             started through template.run, its batch built by the
 *             engine's template expander (engine/commands/templates.h).
 *
 * Everything here runs inside a command's apply, in its transaction: the
 * caller records what it started (a schedule's firing, a hook's delivery,
 * an event's delivery) in the same transaction, so a source starts its
 * run exactly once. A target was checked when it was made; here it is
 * only read, and one that does not read is WEFT_EINVALID.
 */
#ifndef WEFT_ENGINE_TARGETS_H
#define WEFT_ENGINE_TARGETS_H

#include "engine/engine.h"
#include "engine/commands/jobs.h"
#include "core/limits.h"
#include "util/json.h"

/* One start of a target. */
typedef struct target_start {
	const json_t *target;      /* the stored target object (borrowed) */
	const char *namespace;     /* the owner's namespace: a job's, a template's, a run's by default */
	const char *actor;         /* the commands' actor: "schedule", "hook", "event" */
	const char *label;         /* names the owner in logs, e.g. "schedule ns/name" */
	/* Compact JSON replacing the target's own input (a template's
	 * context); NULL: the target's own. */
	const char *input;
	/* Per run i (NULL, or NULL entries: none): the identity of a template
	 * run, which answers the run it started when started again. */
	char *const *identities;
} target_start;

/* What a start made. */
typedef struct target_started {
	weft_id last;    /* the last run: a job's, a workflow run's or a template run's id */
	bool has_job;    /* last is a job (job and workflow targets) */
} target_started;

/* Starts n runs (n >= 1) of t. 0; WEFT_EINVALID when the target cannot be
 * started (it does not read, a template version is gone, this server
 * starts no template runs, or the database refused the run): logged, and
 * nothing of it is to be recorded as started; other codes are database
 * errors. */
int target_start_runs(engine *e, const target_start *t, int64_t n, int64_t now, target_started *out);

/* Starts one run of each of the n targets ts (n >= 1, all of one
 * namespace: ts[0].namespace): the job targets among them in one enqueue
 * (one insert for all their jobs), the others one by one. rcs[i] is
 * target i's outcome as target_start_runs would give it (WEFT_EINVALID:
 * not started, logged), outs[i] what it started; the return is 0 or a
 * database error, after which nothing is to be recorded. */
int target_start_set(engine *e, const target_start *ts, size_t n, int64_t now, int *rcs, target_started *outs);

/* The job fields a job or workflow target carries, with the API's
 * defaults for what it leaves out; strings are borrowed from the target. */
typedef struct target_job {
	job_spec spec;
	char *input;                                   /* owned compact JSON */
	const char *codes[JOB_NON_RETRYABLE_MAX];      /* borrowed from the target */
} target_job;

/* Reads target's job into j; input, when not NULL, replaces the target's
 * own. 0 or WEFT_EINVALID. Release with target_job_release. */
int target_read_job(const json_t *target, const char *input, target_job *j);
void target_job_release(target_job *j);

#endif
