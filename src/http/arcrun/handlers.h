/*
 * handlers.h — the ArcRun API's route handlers, one file per family
 * (tasks.c, batches.c, health.c, additions.c), gathered into the route
 * table by routes.c.
 */
#ifndef WEFT_HTTP_ARCRUN_HANDLERS_H
#define WEFT_HTTP_ARCRUN_HANDLERS_H

#include "http/http.h"

/* tasks.c */
/* Whether task id is one the request may not act on (a token limited to
 * namespaces acts on the default namespace's tasks only): true after
 * answering 404 (or 503 without a reader). */
bool arcrun_task_hidden(http_request *r, const weft_id *id);
void arcrun_create(http_request *r);
void arcrun_list_tasks(http_request *r);
void arcrun_get_task(http_request *r);
void arcrun_patch_task(http_request *r);
void arcrun_put_task_counters(http_request *r);
void arcrun_cancel_task(http_request *r);
void arcrun_pause_task(http_request *r);
void arcrun_resume_task(http_request *r);

/* batches.c */

/* A batch's tasks (created_at order) and the links between them. */
typedef struct arcrun_graph {
	task_row *tasks;
	size_t ntasks;
	link_row *links;
	size_t nlinks;
} arcrun_graph;
/* Reads it from a store reader: 0, or the store's code (WEFT_ENOTFOUND for
 * a batch without tasks) in *rc; false after answering when no reader
 * could be had. Release g in any case. */
bool arcrun_graph_read(http_request *r, const weft_id *batch, arcrun_graph *g, int *rc);
void arcrun_graph_release(arcrun_graph *g);

void arcrun_batch_stats(http_request *r);
void arcrun_stop_batch(http_request *r);
void arcrun_batch_rules(http_request *r);
void arcrun_list_batches(http_request *r);
void arcrun_dag(http_request *r);

/* health.c */
void arcrun_health(http_request *r);
void arcrun_ready(http_request *r);
void arcrun_metrics(http_request *r);
void arcrun_define_metrics(void);

/* additions.c: weft's routes beside ArcRun's own */
void arcrun_group_cancel(http_request *r);
void arcrun_group_pause(http_request *r);
void arcrun_group_resume(http_request *r);
void arcrun_critical_path(http_request *r);
void arcrun_task_events(http_request *r);
void arcrun_deliveries(http_request *r);
void arcrun_openapi(http_request *r);

#endif
