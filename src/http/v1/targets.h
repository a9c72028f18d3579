/*
 * targets.h — the target of a trigger: what a cron schedule's firing
 * (POST /v1/schedules), an incoming webhook (POST /v1/hooks) or an
 * event's subscription (POST /v1/subscriptions) starts; the engine starts
 * it (engine/targets.h):
 *
 *   {"kind": "job", queue, name?, input?, priority?, max_attempts?,
 *    backoff?, non_retryable_codes?, timeout_secs?, concurrency_key?,
 *    rate_key?}                                   a job, as POST /v1/jobs
 *   {"kind": "workflow", type, queue, input?, namespace?, and the job
 *    fields above but name}                       a run, as POST /v1/workflows
 *   {"kind": "template", template: "name@version", context?}
 *                                                 a template run of a
 *                                                 version of the owner's
 *                                                 namespace
 *
 * A hook or an event gives the run its input: it replaces the target's
 * input (a template's context).
 *
 * Each is checked by the decoder of its own route, problems named
 * "target.<field>"; options a trigger would not carry over (run_at,
 * delay_ms, dedup, metadata, idempotency_key) are refused rather than
 * dropped.
 */
#ifndef WEFT_HTTP_V1_TARGETS_H
#define WEFT_HTTP_V1_TARGETS_H

#include "util/common.h"
#include "util/json.h"
#include "http/http.h"

typedef struct v1_target {
	const char *kind;        /* "job", "workflow" or "template" (static) */
	const char *namespace;   /* workflow: the run's namespace, NULL = the schedule's (borrowed) */
	char *template_name;     /* template: the version's name and version (owned); */
	char *template_version;  /* it must exist in the owner's namespace when made */
	char *compact;           /* the target as compact JSON (owned) */
} v1_target;

/* Decodes doc's "target" into t; problems are added to e (*too_large when
 * one is a size past its limit). 0 or WEFT_EINVALID. */
int v1_decode_target(const json_t *doc, v1_target *t, http_error *e, bool *too_large);
void v1_target_release(v1_target *t);

/* Whether a template target's version exists in ns (the owner's
 * namespace); false after answering (422 naming target.template when it
 * does not, 500 when the read failed). Always true for other kinds. */
bool v1_target_template_exists(http_request *r, const v1_target *t, const char *ns);

#endif
