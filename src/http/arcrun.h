/*
 * arcrun.h — ArcRun's HTTP API (reference/arcrun.md §4, SPEC §3.1) and the
 * request interface its handlers are written against.
 *
 * server.c owns libmicrohttpd: it reads the request, matches it against the
 * route tables, enforces the body limit and authentication, and calls the
 * route's handler once the whole body is in. A handler either answers at
 * once (reads, validation errors) or hands a command to the engine with
 * http_submit(): the connection is suspended, and when the engine has
 * committed, the finish callback runs on an HTTP thread and answers.
 *
 * Every request gets exactly one response. Threads: a handler and its
 * finish callback run on an HTTP worker thread; handlers must not block on
 * anything but a store reader connection.
 */
#ifndef WEFT_HTTP_ARCRUN_H
#define WEFT_HTTP_ARCRUN_H

#include "../util/common.h"
#include "../util/buf.h"
#include "../config.h"
#include "../engine/engine.h"
#include "../store/store.h"

/* ---- request interface (implemented in server.c) --------------------- */

typedef struct http_request http_request;

typedef enum http_method {
	HTTP_GET,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_OTHER,
} http_method;

typedef void (*http_handler_fn)(http_request *r);

/* One route: exact method and path pattern. A "{name}" segment matches one
 * path segment, percent-decoded on its own (so "%2F" stays inside it).
 * By default the segment must be a UUID (anything else does not match:
 * 404, as ArcRun) and the parsed id is available through http_param();
 * when the route marks it as text (bit i of text_params for the i-th
 * "{...}"), any segment of 1..HTTP_TEXT_PARAM_MAX bytes without NUL
 * matches and http_param_text() gives it. Params are numbered in order. */
typedef struct http_route {
	http_method method;
	const char *pattern;      /* e.g. "/task/{task_id}"; also the metrics label
	                           * and the path in the OpenAPI document */
	http_handler_fn handler;
	bool open;                /* served without the bearer token (/health, /ready) */
	unsigned text_params;     /* bit i: the i-th param is text, not a UUID */
} http_route;

#define HTTP_MAX_PARAMS 2
#define HTTP_TEXT_PARAM_MAX 255

/* The server's collaborators (borrowed). */
const weft_config *http_config(const http_request *r);
engine *http_engine(const http_request *r);
store *http_store(const http_request *r);

/* The i-th "{name}" segment of the matched route, as a UUID. */
const weft_id *http_param(const http_request *r, size_t i);
/* The i-th "{name}" segment when the route declares it as text
 * (percent-decoded, NUL-terminated); NULL otherwise. Borrowed. */
const char *http_param_text(const http_request *r, size_t i);
/* The request body (NUL-terminated; len may be 0). Borrowed. */
const char *http_body(const http_request *r, size_t *len);
/* Frees the request body once it has been decoded (large batches: the
 * memory is not held while the engine commits and the answer is built). */
void http_body_release(http_request *r);
/* A query-string argument, percent-decoded; NULL when absent. Borrowed. */
const char *http_query(http_request *r, const char *key);
/* Adapter for validate.h's query_get_fn (ctx is the http_request). */
const char *http_query_get(void *ctx, const char *key);

/* Adds a response header (copied) to the response queued next. */
void http_add_header(http_request *r, const char *name, const char *value);
/* Queues the response. body is taken over (malloc'd, may be NULL with
 * len 0); content_type may be NULL for an empty body. */
void http_respond(http_request *r, unsigned status, const char *content_type, char *body, size_t len);
/* text/plain; charset=utf-8 */
void http_respond_text(http_request *r, unsigned status, const char *text);
/* application/json; takes over b's bytes (b is reset). */
void http_respond_json(http_request *r, unsigned status, buf *b);
/* No body. */
void http_respond_empty(http_request *r, unsigned status);
/* ArcRun's ApiError: {"error":"<message>","status":<status>}. */
void http_respond_error(http_request *r, unsigned status, const char *message);

/* Appends s as a JSON string literal (quoted, escaped). NULL gives null. */
void http_json_str(buf *b, const char *s);

/* Runs a mutation through the engine. `state` (owned, freed with
 * state_free) holds `cmd` and whatever the command borrows. The server sets
 * cmd->done/arg, suspends the connection and submits; after the commit,
 * finish(r, cmd, state) runs on an HTTP thread and must respond. If the
 * server stops first, the client gets a 503 and state is freed when the
 * engine is done with it. The handler must return right after this. */
typedef void (*http_finish_fn)(http_request *r, engine_cmd *cmd, void *state);
void http_submit(http_request *r, engine_cmd *cmd, void *state, http_finish_fn finish,
                 void (*state_free)(void *state));

/* ---- ArcRun routes (arcrun.c) ---------------------------------------- */

extern const http_route arcrun_routes[];
extern const size_t arcrun_nroutes;

#endif
