/*
 * routes.c — the /v1 API's route table (see v1.h; every route is
 * described, with its bodies and bounds, in openapi.json).
 *
 *   GET  /v1/openapi.json          this API's OpenAPI 3.0 document (open)
 *   GET  /v1/tasks                 tasks and jobs, newest first, keyset pages:
 *                                  namespace, queue, status, executor, run_id,
 *                                  created_after, created_before, cursor, limit
 *   GET  /v1/tasks/{id}            one task or job, with its attempts
 *   GET  /v1/tasks/{id}/events     its audit trail, oldest first, with actors
 *   GET  /v1/tasks/{id}/logs       its log lines by (attempt, seq), keyset pages (task_logs.c)
 *   GET  /v1/tasks/{id}/deliveries its webhook calls (start, end, cancel) as stored (task_deliveries.c)
 *   POST /v1/jobs/{id}/logs        the job's worker appends log lines (lease_token)
 *   GET  /v1/logs                  log lines across executions, newest first, filtered
 *   GET  /v1/changes               tasks whose status changed, as server-sent events (changes.c)
 *   GET  /v1/metrics/history       counts and latencies by step: since, until (metrics_history.c)
 *   POST /v1/jobs                  enqueue 1..1000 jobs: 201 (200 when all were duplicates)
 *   POST /v1/jobs/claim            claim up to max_jobs, waiting up to wait_ms for them
 *   POST /v1/jobs/heartbeat        extend held leases; says canceled or lost ones
 *   POST /v1/jobs/complete         complete held jobs, per-item outcomes
 *   POST /v1/jobs/fail             fail held attempts: retrying or dead-lettered
 *   POST /v1/jobs/release          give held jobs back unworked
 *   POST /v1/jobs/{id}/complete    one job: 200, 409 stale_lease or canceled, 404
 *   POST /v1/jobs/{id}/fail        the same for a failure
 *   POST /v1/tasks/{id}/retry      operator: retry now (admin)
 *   POST /v1/tasks/{id}/reset      operator: reopen with a fresh retry budget (admin)
 *   POST /v1/tasks/{id}/resolve    operator: success with a given result (admin)
 *   POST /v1/tasks/{id}/cancel     cancel any unfinished task
 *   POST /v1/tasks/{id}/pause      hold a pending or waiting task (a job is not claimed)
 *   POST /v1/tasks/{id}/resume     let a paused task go on
 *   GET  /v1/dead-letters          dead letters, newest first: namespace, queue, cursor, limit
 *   GET  /v1/dead-letters/{id}     one, with its error history
 *   POST /v1/dead-letters/requeue  requeue by ids or by namespace/queue/limit (admin)
 *   GET  /v1/workers               the worker registry: namespace, queue, cursor, limit
 *   GET  /v1/workers/{id}          one worker
 *   POST /v1/workers/{id}/drain    tell a worker to stop claiming (admin)
 *   POST /v1/runs                  submit a run: a DAG of queue and webhook tasks
 *   GET  /v1/runs                  runs, newest first: namespace, status, created_after,
 *                                  created_before, cursor, limit
 *   GET  /v1/runs/{id}             a run (or a lone job) with its counts and first 1,000 tasks
 *   GET  /v1/runs/{id}/tasks       a run's tasks in submission order, keyset pages
 *   GET  /v1/runs/{id}/graph       its tasks and the edges into them, pages of up to 10,000 (run_graph.c)
 *   GET  /v1/runs/{id}/critical-path   the path of the largest sum of durations
 *   PATCH /v1/runs/{id}/rules      replace the rules of its tasks of one kind
 *   POST /v1/runs/{id}/cancel      cancel every unfinished task of a run
 *   POST /v1/runs/{id}/pause       pause every pending or waiting task of a run
 *   POST /v1/runs/{id}/resume      resume every paused task of a run
 *   POST /v1/tasks/{id}/complete   a started webhook task's end, with its result
 *   POST /v1/tasks/{id}/fail       a started webhook task's failure, with an error
 *   GET  /v1/queues                queues with their limits and figures, pages
 *   GET  /v1/queues/{name}         one queue, with its recent changes
 *   PATCH /v1/queues/{name}        its limits (admin)
 *   POST /v1/queues/{name}/pause   pause it: its jobs are not claimed (admin)
 *   POST /v1/queues/{name}/resume  resume it (admin)
 *   GET  /v1/tokens                bearer tokens, of every source, by name (admin)
 *   POST /v1/tokens                make a token: its secret is answered once (admin)
 *   GET  /v1/tokens/{name}         one token (admin)
 *   DELETE /v1/tokens/{name}       revoke a token made over the API (admin)
 *   GET  /v1/whoami                the request's own token: name, admin, namespaces (any token)
 *   GET  /v1/audit                 the audit log, newest first: since, until, actor, action,
 *                                  object_kind, object_id, namespace, cursor, limit (admin)
 *   POST /v1/schedules             create a cron schedule that starts a job
 *   GET  /v1/schedules             schedules of a namespace, by name
 *   GET  /v1/schedules/{name}      one schedule with its next fire times (?next=N)
 *   DELETE /v1/schedules/{name}    delete a schedule
 *   POST /v1/schedules/{name}/pause, /resume   stop firing, fire again from now on
 *   POST /v1/schedules/{name}/trigger          fire now, once
 *   POST /v1/hooks, GET /v1/hooks, GET|DELETE /v1/hooks/{name}, POST /v1/hooks/{name}/rotate
 *                                  incoming webhooks (hooks.c)
 *   POST /v1/hooks/{name}          a signed delivery (open: the signature authenticates it)
 *   POST /v1/events, GET /v1/events, GET /v1/events/{id}   events and their deliveries
 *   POST /v1/subscriptions, GET /v1/subscriptions, GET|DELETE /v1/subscriptions/{name}
 *   POST /v1/templates             register a template version (201; 200: the same body again)
 *   GET  /v1/templates             template versions, newest first: namespace, name, cursor, limit
 *   GET  /v1/templates/{name}/{version}        one version with its body
 *   POST /v1/templates/{name}/{version}/runs   start a run of it (201; 200: its identity's run)
 *   POST /v1/workflows             start a workflow run (201; 200: its key's active run)
 *   GET  /v1/workflows             workflow runs, newest first: namespace, status, type, queue,
 *                                  created_after, created_before, cursor, limit
 *   GET  /v1/workflows/{id}        a workflow run
 *   GET  /v1/workflows/by-key/{key}  the run holding an idempotency key (?namespace=)
 *   GET  /v1/workflows/{id}/steps  a run's memo rows, in the order they were reached (paged)
 *   POST /v1/workflows/{id}/cancel   cancel a run that has not ended; /terminate the same
 *   POST /v1/workflows/{id}/retry    replay a failed, canceled or terminated run (memo kept)
 *   POST /v1/workflows/{id}/signals  send a signal (201)
 *   POST /v1/workflows/{id}/steps/begin|complete|fail, /sleep, /wait-signal, /complete, /fail
 *                                  the worker holding the run's job (lease_token): its steps
 *
 * A query parameter the route's operation in openapi.json does not declare,
 * or one given twice, is refused with 400 before the handler runs
 * (query_params.h).
 *
 * Conventions: JSON bodies, errors {"error":{"code","message","details"}}
 * (errors.h), times RFC 3339 UTC with milliseconds, durations in ms,
 * request bodies up to V1_PAYLOAD_MAX_BYTES. A token limited to some
 * namespaces sees only their objects: another namespace's object is
 * answered as unknown (404), creating in one is 403 forbidden_namespace.
 */
#include "util/common.h"
#include "http/v1/v1.h"

#include "http/v1/errors.h"
#include "http/v1/handlers.h"
#include "http/v1/query_params.h"
#include "util/alloc.h"
#include "util/log.h"

extern const char embed_http_v1_openapi_json[];
extern const size_t embed_http_v1_openapi_json_len;

const char *v1_openapi_document(size_t *len)
{
	if (len != NULL)
		*len = embed_http_v1_openapi_json_len;
	return embed_http_v1_openapi_json;
}

void v1_openapi(http_request *r)
{
	size_t len;
	const char *doc = v1_openapi_document(&len);
	char *copy = xmalloc(len + 1);
	memcpy(copy, doc, len + 1);
	http_respond(r, 200, "application/json", copy, len);
}

static size_t v1_body_max(const weft_config *cfg)
{
	return cfg->v1_payload_max_bytes;
}

static const http_route routes[] = {
	{ HTTP_GET, "/v1/openapi.json", v1_openapi, true, 0 },
	{ HTTP_GET, "/v1/tasks", v1_list_tasks, false, 0 },
	{ HTTP_GET, "/v1/tasks/{id}", v1_get_task, false, 0 },
	{ HTTP_GET, "/v1/tasks/{id}/events", v1_task_events, false, 0 },
	{ HTTP_GET, "/v1/tasks/{id}/logs", v1_task_logs, false, 0 },
	{ HTTP_GET, "/v1/tasks/{id}/deliveries", v1_task_deliveries, false, 0 },
	{ HTTP_POST, "/v1/jobs/{id}/logs", v1_job_logs_append, false, 0 },
	{ HTTP_GET, "/v1/logs", v1_search_logs, false, 0 },
	{ HTTP_GET, "/v1/changes", v1_changes, false, 0 },
	{ HTTP_GET, "/v1/metrics/history", v1_metrics_history, false, 0 },
	{ HTTP_POST, "/v1/jobs", v1_enqueue, false, 0 },
	{ HTTP_POST, "/v1/jobs/claim", v1_claim, false, 0 },
	{ HTTP_POST, "/v1/jobs/heartbeat", v1_heartbeat, false, 0 },
	{ HTTP_POST, "/v1/jobs/complete", v1_complete, false, 0 },
	{ HTTP_POST, "/v1/jobs/fail", v1_fail_jobs, false, 0 },
	{ HTTP_POST, "/v1/jobs/release", v1_release, false, 0 },
	{ HTTP_POST, "/v1/jobs/{id}/complete", v1_complete_one, false, 0 },
	{ HTTP_POST, "/v1/jobs/{id}/fail", v1_fail_one, false, 0 },
	/* operator actions, dead letters, workers (operator.c, workers.c) */
	{ HTTP_POST, "/v1/tasks/{id}/retry", v1_task_retry, false, 0 },
	{ HTTP_POST, "/v1/tasks/{id}/reset", v1_task_reset, false, 0 },
	{ HTTP_POST, "/v1/tasks/{id}/resolve", v1_task_resolve, false, 0 },
	{ HTTP_POST, "/v1/tasks/{id}/cancel", v1_task_cancel, false, 0 },
	{ HTTP_POST, "/v1/tasks/{id}/pause", v1_task_pause, false, 0 },
	{ HTTP_POST, "/v1/tasks/{id}/resume", v1_task_resume, false, 0 },
	{ HTTP_GET, "/v1/dead-letters", v1_dead_letters, false, 0 },
	{ HTTP_GET, "/v1/dead-letters/{id}", v1_dead_letter, false, 0 },
	{ HTTP_POST, "/v1/dead-letters/requeue", v1_requeue, false, 0 },
	{ HTTP_GET, "/v1/workers", v1_workers, false, 0 },
	{ HTTP_GET, "/v1/workers/{id}", v1_worker, false, 1 },
	{ HTTP_POST, "/v1/workers/{id}/drain", v1_worker_drain, false, 1 },
	{ HTTP_POST, "/v1/runs", v1_create_run, false, 0 },
	{ HTTP_GET, "/v1/runs", v1_list_runs, false, 0 },
	{ HTTP_GET, "/v1/runs/{id}", v1_get_run, false, 0 },
	{ HTTP_GET, "/v1/runs/{id}/tasks", v1_run_tasks, false, 0 },
	{ HTTP_GET, "/v1/runs/{id}/graph", v1_run_graph, false, 0 },
	{ HTTP_GET, "/v1/runs/{id}/critical-path", v1_run_critical_path, false, 0 },
	{ HTTP_PATCH, "/v1/runs/{id}/rules", v1_run_rules, false, 0 },
	{ HTTP_POST, "/v1/runs/{id}/cancel", v1_cancel_run, false, 0 },
	{ HTTP_POST, "/v1/runs/{id}/pause", v1_pause_run, false, 0 },
	{ HTTP_POST, "/v1/runs/{id}/resume", v1_resume_run, false, 0 },
	{ HTTP_POST, "/v1/tasks/{id}/complete", v1_task_complete, false, 0 },
	{ HTTP_POST, "/v1/tasks/{id}/fail", v1_task_fail, false, 0 },
	{ HTTP_GET, "/v1/queues", v1_list_queues, false, 0 },
	{ HTTP_GET, "/v1/queues/{name}", v1_get_queue, false, 1 },
	{ HTTP_PATCH, "/v1/queues/{name}", v1_patch_queue, false, 1 },
	{ HTTP_POST, "/v1/queues/{name}/pause", v1_pause_queue, false, 1 },
	{ HTTP_POST, "/v1/queues/{name}/resume", v1_resume_queue, false, 1 },
	{ HTTP_GET, "/v1/tokens", v1_list_tokens, false, 0 },
	{ HTTP_POST, "/v1/tokens", v1_create_token, false, 0 },
	{ HTTP_GET, "/v1/tokens/{name}", v1_get_token, false, 1 },
	{ HTTP_DELETE, "/v1/tokens/{name}", v1_revoke_token, false, 1 },
	{ HTTP_GET, "/v1/whoami", v1_whoami, false, 0 },
	{ HTTP_GET, "/v1/audit", v1_list_audit, false, 0 },
	{ HTTP_POST, "/v1/schedules", v1_create_schedule, false, 0 },
	{ HTTP_GET, "/v1/schedules", v1_list_schedules, false, 0 },
	{ HTTP_GET, "/v1/schedules/{name}", v1_get_schedule, false, 1 },
	{ HTTP_DELETE, "/v1/schedules/{name}", v1_delete_schedule, false, 1 },
	{ HTTP_POST, "/v1/schedules/{name}/pause", v1_pause_schedule, false, 1 },
	{ HTTP_POST, "/v1/schedules/{name}/resume", v1_resume_schedule, false, 1 },
	{ HTTP_POST, "/v1/schedules/{name}/trigger", v1_trigger_schedule, false, 1 },
	{ HTTP_POST, "/v1/hooks", v1_create_hook, false, 0 },
	{ HTTP_GET, "/v1/hooks", v1_list_hooks, false, 0 },
	{ HTTP_GET, "/v1/hooks/{name}", v1_get_hook, false, 1 },
	{ HTTP_DELETE, "/v1/hooks/{name}", v1_delete_hook, false, 1 },
	{ HTTP_POST, "/v1/hooks/{name}/rotate", v1_rotate_hook, false, 1 },
	{ HTTP_POST, "/v1/hooks/{name}", v1_deliver_hook, true, 1 },
	{ HTTP_POST, "/v1/events", v1_publish_event, false, 0 },
	{ HTTP_GET, "/v1/events", v1_list_events, false, 0 },
	{ HTTP_GET, "/v1/events/{id}", v1_get_event, false, 1 },
	{ HTTP_POST, "/v1/subscriptions", v1_create_subscription, false, 0 },
	{ HTTP_GET, "/v1/subscriptions", v1_list_subscriptions, false, 0 },
	{ HTTP_GET, "/v1/subscriptions/{name}", v1_get_subscription, false, 1 },
	{ HTTP_DELETE, "/v1/subscriptions/{name}", v1_delete_subscription, false, 1 },
	{ HTTP_POST, "/v1/templates", v1_put_template, false, 0 },
	{ HTTP_GET, "/v1/templates", v1_list_templates, false, 0 },
	{ HTTP_GET, "/v1/templates/{name}/{version}", v1_get_template, false, 3 },
	{ HTTP_POST, "/v1/templates/{name}/{version}/runs", v1_run_template, false, 3 },
	{ HTTP_POST, "/v1/workflows", v1_start_workflow, false, 0 },
	{ HTTP_GET, "/v1/workflows", v1_list_workflows, false, 0 },
	{ HTTP_GET, "/v1/workflows/{id}", v1_get_workflow, false, 0 },
	{ HTTP_GET, "/v1/workflows/by-key/{key}", v1_workflow_by_key, false, 1 },
	{ HTTP_GET, "/v1/workflows/{id}/steps", v1_workflow_steps, false, 0 },
	{ HTTP_POST, "/v1/workflows/{id}/cancel", v1_cancel_workflow, false, 0 },
	{ HTTP_POST, "/v1/workflows/{id}/terminate", v1_terminate_workflow, false, 0 },
	{ HTTP_POST, "/v1/workflows/{id}/retry", v1_retry_workflow, false, 0 },
	{ HTTP_POST, "/v1/workflows/{id}/signals", v1_signal_workflow, false, 0 },
	{ HTTP_POST, "/v1/workflows/{id}/wait-signal", v1_workflow_wait_signal, false, 0 },
	{ HTTP_POST, "/v1/workflows/{id}/steps/begin", v1_workflow_step_begin, false, 0 },
	{ HTTP_POST, "/v1/workflows/{id}/steps/complete", v1_workflow_step_complete, false, 0 },
	{ HTTP_POST, "/v1/workflows/{id}/steps/fail", v1_workflow_step_fail, false, 0 },
	{ HTTP_POST, "/v1/workflows/{id}/sleep", v1_workflow_sleep, false, 0 },
	{ HTTP_POST, "/v1/workflows/{id}/complete", v1_workflow_complete, false, 0 },
	{ HTTP_POST, "/v1/workflows/{id}/fail", v1_workflow_fail, false, 0 },
};

/* The query parameters of each route, from the embedded document: a
 * build whose document misses one of its routes must not serve. */
static void v1_init(void)
{
	size_t len;
	const char *doc = v1_openapi_document(&len);
	char err[256];
	if (v1_query_rules_load(doc, len, routes, ARRAY_LEN(routes), err, sizeof(err)) != 0) {
		log_error("http", "%s", err);
		abort();
	}
}

static int v1_check_query(http_request *r, const http_route *route)
{
	return v1_query_check(r, (size_t)(route - routes));
}

const http_api v1_api = {
	.name = "v1",
	.prefix = "/v1/",
	.routes = routes,
	.nroutes = ARRAY_LEN(routes),
	.fail = v1_fail,
	.body_max = v1_body_max,
	.init = v1_init,
	.check_query = v1_check_query,
};
