/*
 * routes.c — the ArcRun API's route table.
 *
 * ArcRun's routes:
 *   GET    /health                  200 {"status":"ok"|"degraded","database":"healthy"|"unhealthy",
 *                                        "pool_size","pool_idle"} (always 200)
 *   GET    /ready                   200 {"status":"ready"} | 503 {"status":"not_ready","reason"}
 *   GET    /metrics                 Prometheus text 0.0.4
 *   POST   /task                    create a batch: array of NewTaskDto, or the object form
 *                                   {"tasks","on_batch_complete","scope","metadata"}; 201 [TaskDto]
 *                                   + X-Batch-ID, 204 when nothing was created (empty or deduped)
 *   GET    /task                    list [BasicTaskDto]: page, page_size, name, kind, status,
 *                                   timeout, batch_id, metadata (containment)
 *   GET    /task/{task_id}          TaskDto | 404 text "No task found with UID"
 *   PATCH  /task/{task_id}          complete / update; 200 text "Task updated successfully"
 *   PUT    /task/{task_id}          add counters; 202 text "Queued"
 *   DELETE /task/{task_id}          cancel; 200 empty
 *   PATCH  /task/pause/{task_id}    pause; 200 empty
 *   PATCH  /task/resume/{task_id}   resume; 200 empty
 *   GET    /batch/{batch_id}        stats | 404 {"error":"No tasks found for this batch_id"}
 *   DELETE /batch/{batch_id}        stop: counts of canceled tasks by previous status
 *   PATCH  /batch/{batch_id}/rules  replace the rules of one kind: {"batch_id","kind","updated_count"}
 *   GET    /batches                 [{"batch_id","total_tasks","first_created_at",
 *                                     "latest_updated_at","status_counts","kinds"}]
 *   GET    /dag/{batch_id}          {"tasks":[BasicTaskDto],"links":[...]}, empty arrays when unknown
 *
 * weft's additions (additions.c):
 *   DELETE /group/{name}            cancel every unfinished task of a group
 *   PATCH  /group/{name}/pause      pause its pending and waiting tasks
 *   PATCH  /group/{name}/resume     resume its paused tasks
 *   GET    /batch/{batch_id}/critical-path   longest paths by depth and by duration
 *   GET    /task/{task_id}/events   audit trail of a task
 *   GET    /webhook-deliveries      the outbox of end, cancel and batch-complete webhooks
 *   GET    /api-docs/openapi.json   the OpenAPI 3.0 document (openapi.json)
 *
 * Where weft differs from ArcRun on purpose (docs/decisions.md):
 *   - Unknown task ids answer 404 {"error":"Not found: Task <id> not found","status":404} on
 *     PATCH, PUT, DELETE, pause and resume.
 *   - A state conflict answers 409 {"error":"Conflict: ...","status":409,"current_status":"<S>"}.
 *     Re-sending a task's final status is a 200 no-op.
 *   - Pause applies only to Pending and Waiting tasks; a Running or Claimed task answers 400
 *     with current_status. PATCH /task/resume/{id} puts a paused task back (Waiting or Pending).
 *   - Cancel is allowed from Waiting.
 *   - PUT is durable: 202 comes after the counters are committed, so an unknown id can be
 *     told apart (404).
 *   - /health is 200 even when the database is down (degraded body); the task list answers 400
 *     for an unparseable ?metadata= filter instead of ignoring it.
 *   - A field of the wrong JSON type is a validation message naming the field (400 with
 *     details) rather than a bare deserializer error; limits on batch size (413), dependencies
 *     and actions per task apply; counters and expected_count are 64-bit, and a client may
 *     send at most 2^53 - 1 (the largest integer every JSON client reads exactly).
 *
 * Additive fields (ArcRun clients ignore unknown fields; ArcRun's own come
 * first, in its order):
 *   - NewTaskDto: "retry" {max_retries, initial_delay_secs, backoff_multiplier,
 *     max_delay_secs, retry_on}, "start_after" (RFC 3339), "group".
 *   - TaskDto: after "priority": "attempt", "group", "state", "start_after", "retry" (the
 *     stored policy, every field present), "next_retry_at"; last, on GET /task/{id} of a
 *     Pending task that cannot start, "blocked_reason". BasicTaskDto: "attempt", "group",
 *     "state".
 *   - ActionDto: "delivery": null, or {"status","attempts","last_http_status",
 *     "last_error","last_attempt_at"} of its last delivery.
 *   - Statuses are only ArcRun's eight: a task waiting for a retry shows as "Pending", with
 *     its precise state in "state" (TaskDto, BasicTaskDto), "current_state" (409 and pause
 *     bodies) and "from_state"/"to_state" (audit trail), lowercase. ?status=Pending selects
 *     such tasks too; ?status=RetryPending only them. status_counts' "pending" counts them,
 *     and a 9th key "retrying" says how many of the pending wait for a retry; a stopped
 *     batch's "canceled_pending" includes them.
 */
#include "util/common.h"
#include "http/arcrun/arcrun.h"

#include "http/arcrun/handlers.h"
#include "http/arcrun/shapes.h"

static const http_route routes[] = {
	{ HTTP_GET, "/health", arcrun_health, true, 0 },
	{ HTTP_GET, "/ready", arcrun_ready, true, 0 },
	{ HTTP_GET, "/metrics", arcrun_metrics, false, 0 },
	{ HTTP_POST, "/task", arcrun_create, false, 0 },
	{ HTTP_GET, "/task", arcrun_list_tasks, false, 0 },
	{ HTTP_GET, "/task/{task_id}", arcrun_get_task, false, 0 },
	{ HTTP_PATCH, "/task/{task_id}", arcrun_patch_task, false, 0 },
	{ HTTP_PUT, "/task/{task_id}", arcrun_put_task_counters, false, 0 },
	{ HTTP_DELETE, "/task/{task_id}", arcrun_cancel_task, false, 0 },
	{ HTTP_PATCH, "/task/pause/{task_id}", arcrun_pause_task, false, 0 },
	{ HTTP_PATCH, "/task/resume/{task_id}", arcrun_resume_task, false, 0 },
	{ HTTP_GET, "/batch/{batch_id}", arcrun_batch_stats, false, 0 },
	{ HTTP_DELETE, "/batch/{batch_id}", arcrun_stop_batch, false, 0 },
	{ HTTP_PATCH, "/batch/{batch_id}/rules", arcrun_batch_rules, false, 0 },
	{ HTTP_GET, "/batches", arcrun_list_batches, false, 0 },
	{ HTTP_GET, "/dag/{batch_id}", arcrun_dag, false, 0 },
	/* weft's additions */
	{ HTTP_DELETE, "/group/{name}", arcrun_group_cancel, false, 1u },
	{ HTTP_PATCH, "/group/{name}/pause", arcrun_group_pause, false, 1u },
	{ HTTP_PATCH, "/group/{name}/resume", arcrun_group_resume, false, 1u },
	{ HTTP_GET, "/batch/{batch_id}/critical-path", arcrun_critical_path, false, 0 },
	{ HTTP_GET, "/task/{task_id}/events", arcrun_task_events, false, 0 },
	{ HTTP_GET, "/webhook-deliveries", arcrun_deliveries, false, 0 },
	{ HTTP_GET, "/api-docs/openapi.json", arcrun_openapi, false, 0 },
};

/* A token limited to namespaces is served the default one only, which is
 * all ArcRun knows of: a token that cannot see it may not use ArcRun's
 * routes. */
static bool arcrun_admits(const http_request *r)
{
	return http_ns_visible(r, "default");
}

const http_api arcrun_api = {
	.name = "arcrun",
	.prefix = "",
	.routes = routes,
	.nroutes = ARRAY_LEN(routes),
	.fail = arcrun_fail,
	.init = arcrun_define_metrics,
	.admits = arcrun_admits,
};
