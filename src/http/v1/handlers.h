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

/* jobs.c */
void v1_enqueue(http_request *r);
void v1_claim(http_request *r);
void v1_heartbeat(http_request *r);
void v1_complete(http_request *r);
void v1_fail_jobs(http_request *r);
void v1_release(http_request *r);
void v1_complete_one(http_request *r);
void v1_fail_one(http_request *r);

/* queues.c */
void v1_list_queues(http_request *r);
void v1_get_queue(http_request *r);
void v1_patch_queue(http_request *r);
void v1_pause_queue(http_request *r);
void v1_resume_queue(http_request *r);

#endif
