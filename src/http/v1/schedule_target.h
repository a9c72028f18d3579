/*
 * schedule_target.h — the target of a cron schedule (POST /v1/schedules),
 * what each firing starts:
 *
 *   {"kind": "job", queue, name?, input?, priority?, max_attempts?,
 *    backoff?, non_retryable_codes?, timeout_secs?, concurrency_key?,
 *    rate_key?}                                   a job, as POST /v1/jobs
 *   {"kind": "workflow", type, queue, input?, namespace?, and the job
 *    fields above but name}                       a run, as POST /v1/workflows
 *   {"kind": "template", template: "name@version", context?}
 *                                                 a template run of a
 *                                                 version of the schedule's
 *                                                 namespace
 *
 * Each is checked by the decoder of its own route, problems named
 * "target.<field>"; options a firing would not carry over (run_at,
 * delay_ms, dedup, metadata, idempotency_key) are refused rather than
 * dropped.
 */
#ifndef WEFT_HTTP_V1_SCHEDULE_TARGET_H
#define WEFT_HTTP_V1_SCHEDULE_TARGET_H

#include "util/common.h"
#include "util/json.h"
#include "http/http.h"

typedef struct schedule_target {
	const char *kind;        /* "job", "workflow" or "template" (static) */
	const char *namespace;   /* workflow: the run's namespace, NULL = the schedule's (borrowed) */
	char *template_name;     /* template: the version's name and version (owned); */
	char *template_version;  /* it must exist in the schedule's namespace when made */
	char *compact;           /* the target as compact JSON (owned) */
} schedule_target;

/* Decodes doc's "target" into t; problems are added to e (*too_large when
 * one is a size past its limit). 0 or WEFT_EINVALID. */
int v1_decode_schedule_target(const json_t *doc, schedule_target *t, http_error *e, bool *too_large);
void schedule_target_release(schedule_target *t);

#endif
