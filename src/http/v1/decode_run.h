/*
 * decode_run.h — decoding and validating POST /v1/runs into the engine's
 * batch.submit (engine/commands/batches.h), and the reports of webhook
 * tasks (POST /v1/tasks/{id}/complete and /fail).
 *
 * A run is {"namespace"?, "name"?, "metadata"?, "tasks": [task, ...]}
 * with 1..max_tasks_per_batch tasks (MAX_TASKS_PER_BATCH). Each task has
 * a "ref" (1..255 bytes, unique in the run), an "executor" ("queue", the
 * default, "webhook", or "exec" on a server started with --allow-exec:
 * decode_exec.h) and "parents" [{"ref", "requires_success"?
 * (default true)}] (at most max_deps_per_task, MAX_DEPS_PER_TASK), and
 * "decision" (default false; a decision task must have a child). A queue
 * task has the fields of a job of POST /v1/jobs but dedup; a webhook task
 * has "name", "kind", "timeout_secs", "priority", "metadata", "on_start"
 * (a WebhookParams object, required), "on_success" and "on_failure"
 * (arrays of WebhookParams, at most max_actions_per_task), each URL
 * SSRF-checked as ArcRun's POST /task checks it.
 *
 * The DAG rules are ArcRun's: a parent must appear before its child in
 * "tasks" (so a run has no cycle), a parent is named once per child, and
 * never the child itself. Every problem is one "<path>: <problem>" detail
 * (decode_job.h); sizes past their limits answer WEFT_ETOOLARGE.
 */
#ifndef WEFT_HTTP_V1_DECODE_RUN_H
#define WEFT_HTTP_V1_DECODE_RUN_H

#include "util/common.h"
#include "util/json.h"
#include "config.h"
#include "engine/commands/batches.h"
#include "http/http.h"
#include "http/v1/decode_job.h"
#include "util/buf.h"

#define RUN_REF_MAX 255
#define RUN_NAME_MAX 255
#define RUN_WEBHOOK_TIMEOUT_DEFAULT 60

typedef struct v1_run_input {
	json_t *doc;                 /* the parsed body */
	const char *namespace;       /* NULL: not given */
	const char *name;            /* NULL: none */
	char *metadata;              /* owned compact JSON object, NULL: none */
	new_task *tasks;             /* ntasks, in request order (owned) */
	size_t ntasks;
	job_spec *jobs;              /* the queue tasks' job fields; tasks[i].job points here */
	const char **refs;           /* each task's ref, borrowed from doc */
	const char **codes;
	v1_texts texts;
} v1_run_input;

int v1_decode_run(const char *body, size_t len, const weft_config *cfg, v1_run_input *out, http_error *e);
void v1_run_input_release(v1_run_input *in);

/* The batch.submit of a decoded run in namespace ns (borrowed, as are
 * in's tasks and strings): what POST /v1/runs and a template's run
 * submit. */
void v1_run_submit_init(cmd_submit *cmd, v1_run_input *in, const char *ns, const char *actor);
/* The answer to a created run, its object left open for what follows:
 * {"id", "namespace", "name", "tasks": [{"ref", "id", "executor", "status"}] (runs.c). */
void v1_put_run_created(buf *b, const weft_id *id, const char *ns, const v1_run_input *in);

/* A webhook task's report: complete {"result"?} or fail {"error": {"code",
 * "message"?}}. Strings borrowed from doc or owned by the input. */
typedef struct v1_task_report_input {
	json_t *doc;
	char *result;                /* compact JSON ≤ JOB_PAYLOAD_MAX_BYTES, "null" when absent */
	const char *code;            /* fail: job_error_code_valid() */
	const char *message;         /* fail: ≤ JOB_ERROR_MESSAGE_MAX, NULL = none */
} v1_task_report_input;

int v1_decode_task_report(bool fail, const char *body, size_t len, int max_depth, v1_task_report_input *out,
                          http_error *e);
void v1_task_report_input_release(v1_task_report_input *in);

#endif
