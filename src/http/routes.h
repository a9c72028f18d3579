/*
 * routes.h — the routes beyond ArcRun's original API (ops.c), every route
 * the server serves (server.c), and the OpenAPI document describing them.
 *
 * Routes of ops.c:
 *   DELETE /group/{name}                cancel every unfinished task of a group
 *   PATCH  /group/{name}/pause          pause its pending and waiting tasks
 *   PATCH  /group/{name}/resume         resume its paused tasks
 *   GET    /batch/{batch_id}/critical-path   longest paths by depth and by duration
 *   GET    /task/{task_id}/events       audit trail of a task
 *   GET    /webhook-deliveries          the outbox of end, cancel and batch-complete webhooks
 *   GET    /api-docs/openapi.json       the OpenAPI 3.0 document (src/http/openapi.json)
 */
#ifndef WEFT_HTTP_ROUTES_H
#define WEFT_HTTP_ROUTES_H

#include "util/common.h"
#include "util/buf.h"
#include "http/arcrun.h"

extern const http_route ops_routes[];
extern const size_t ops_nroutes;

/* Every route the server matches, in matching order: method label ("GET",
 * "POST", "PUT", "PATCH", "DELETE") and pattern ("/task/{task_id}"). */
size_t http_route_count(void);
const char *http_route_method(size_t i);
const char *http_route_pattern(size_t i);

/* Which route a request for `method` ("GET", ...) and the raw path (not
 * yet percent-decoded, without the query) would take: true with its index
 * in the list above, and the first param as the handler sees it (the
 * text, or the UUID in canonical form) copied into param0 when non-NULL. */
bool http_route_resolve(const char *method, const char *raw_path, size_t *index,
                        char param0[HTTP_TEXT_PARAM_MAX + 1]);

/* The embedded OpenAPI document (NUL-terminated JSON). */
const char *http_openapi_document(size_t *len);

/* Sets the gauges tasks_by_status{status} and running_tasks_by_kind{kind}
 * from a store reader (before /metrics renders). Kinds no longer running
 * go back to 0. Does nothing when no reader can be had. */
void ops_refresh_gauges(store *st);
/* Declares the gauge families (at server start). */
void ops_define_metrics(void);

/* Appends a Prometheus label value with \\, \" and \n escaped. */
void ops_label_escape(buf *b, const char *s);

#endif
