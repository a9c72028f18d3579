/*
 * handlers.h — the /v1 route handlers, one file per family (tasks.c,
 * jobs.c), gathered into the route table by routes.c.
 */
#ifndef WEFT_HTTP_V1_HANDLERS_H
#define WEFT_HTTP_V1_HANDLERS_H

#include "http/http.h"

/* routes.c */
void v1_openapi(http_request *r);

/* tasks.c */
void v1_get_task(http_request *r);
void v1_list_tasks(http_request *r);
void v1_task_events(http_request *r);
/* task_logs.c */
void v1_task_logs(http_request *r);
void v1_job_logs_append(http_request *r);
void v1_search_logs(http_request *r);
/* run_graph.c */
void v1_run_graph(http_request *r);
void v1_run_critical_path(http_request *r);
void v1_run_rules(http_request *r);
/* metrics_history.c */
void v1_metrics_history(http_request *r);
/* task_deliveries.c */
void v1_task_deliveries(http_request *r);
/* changes.c */
void v1_changes(http_request *r);

/* jobs.c */
void v1_enqueue(http_request *r);
void v1_claim(http_request *r);
void v1_heartbeat(http_request *r);
void v1_complete(http_request *r);
void v1_fail_jobs(http_request *r);
void v1_release(http_request *r);
void v1_complete_one(http_request *r);
void v1_fail_one(http_request *r);

/* operator.c: actions on any task, dead letters */
void v1_task_retry(http_request *r);
void v1_task_reset(http_request *r);
void v1_task_resolve(http_request *r);
void v1_task_cancel(http_request *r);
void v1_task_pause(http_request *r);
void v1_task_resume(http_request *r);
void v1_dead_letters(http_request *r);
void v1_dead_letter(http_request *r);
void v1_requeue(http_request *r);

/* workers.c: the worker registry */
void v1_workers(http_request *r);
void v1_worker(http_request *r);
void v1_worker_drain(http_request *r);
/* runs.c */
void v1_create_run(http_request *r);
void v1_list_runs(http_request *r);
void v1_get_run(http_request *r);
void v1_run_tasks(http_request *r);
void v1_cancel_run(http_request *r);
void v1_pause_run(http_request *r);
void v1_resume_run(http_request *r);
void v1_task_complete(http_request *r);
void v1_task_fail(http_request *r);
/* queues.c */
void v1_list_queues(http_request *r);
void v1_get_queue(http_request *r);
void v1_patch_queue(http_request *r);
void v1_pause_queue(http_request *r);
void v1_resume_queue(http_request *r);
/* tokens.c: bearer tokens made over the API */
void v1_list_tokens(http_request *r);
void v1_create_token(http_request *r);
void v1_get_token(http_request *r);
void v1_revoke_token(http_request *r);
void v1_whoami(http_request *r);

/* templates.c: templates and their runs */
void v1_put_template(http_request *r);
void v1_list_templates(http_request *r);
void v1_get_template(http_request *r);
void v1_run_template(http_request *r);

/* schedules.c: cron schedules */
void v1_create_schedule(http_request *r);
void v1_list_schedules(http_request *r);
void v1_get_schedule(http_request *r);
void v1_delete_schedule(http_request *r);
void v1_pause_schedule(http_request *r);
void v1_resume_schedule(http_request *r);
void v1_trigger_schedule(http_request *r);

/* hooks.c: incoming webhooks */
void v1_create_hook(http_request *r);
void v1_list_hooks(http_request *r);
void v1_get_hook(http_request *r);
void v1_delete_hook(http_request *r);
void v1_rotate_hook(http_request *r);
void v1_deliver_hook(http_request *r);

/* events.c: events and subscriptions */
void v1_publish_event(http_request *r);
void v1_list_events(http_request *r);
void v1_get_event(http_request *r);
void v1_create_subscription(http_request *r);
void v1_list_subscriptions(http_request *r);
void v1_get_subscription(http_request *r);
void v1_delete_subscription(http_request *r);
/* workflows.c */
void v1_start_workflow(http_request *r);
void v1_get_workflow(http_request *r);
void v1_list_workflows(http_request *r);
void v1_cancel_workflow(http_request *r);
void v1_terminate_workflow(http_request *r);
void v1_retry_workflow(http_request *r);
void v1_signal_workflow(http_request *r);
void v1_workflow_by_key(http_request *r);
void v1_workflow_step_begin(http_request *r);
void v1_workflow_step_complete(http_request *r);
void v1_workflow_step_fail(http_request *r);
void v1_workflow_sleep(http_request *r);
void v1_workflow_complete(http_request *r);
void v1_workflow_fail(http_request *r);
void v1_workflow_wait_signal(http_request *r);
/* {"code", "message"} of a run's or a step's error, or null without one. */
void v1_put_workflow_error(buf *b, const char *code, const char *message);
/* workflow_steps.c */
void v1_workflow_steps(http_request *r);
void v1_list_audit(http_request *r);        /* audit.c */

#endif
