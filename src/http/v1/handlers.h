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

#endif
