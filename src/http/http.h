/*
 * http.h — what an API served over HTTP is written against: requests,
 * routes, responses, the request's error object, and engine commands.
 *
 * server.c owns libmicrohttpd. For each request it finds the route
 * (router.c), checks the bearer token and the body limit, reads the body,
 * and calls the route's handler once the whole request is in. A handler
 * answers at once (reads, refusals) or hands a command to the engine with
 * http_submit(): the connection waits, and once the engine has committed,
 * the finish callback runs on an HTTP thread and answers.
 *
 * An API is a table of routes and the function that writes its error
 * bodies (http_api; the APIs served are listed in apis.c). A handler
 * reports a failure with http_fail(r, code): the code (core/error.h) gives
 * the HTTP status, in one place (http_status_of), and the API's fail
 * function writes the body from the request's error object, which the
 * decoders (decode.h) and the handler filled. Every API thus answers a
 * failure with the same status, each in its own shape.
 *
 * Every request gets exactly one response. Threads: a handler and its
 * finish callback run on an HTTP thread; handlers must not block on
 * anything but a store reader connection.
 */
#ifndef WEFT_HTTP_HTTP_H
#define WEFT_HTTP_HTTP_H

#include "util/common.h"
#include "util/buf.h"
#include "util/errlist.h"
#include "config.h"
#include "core/status.h"
#include "engine/engine.h"
#include "store/store.h"

typedef struct http_request http_request;

typedef enum http_method {
	HTTP_GET,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_HEAD,        /* routed to GET routes of APIs with `head` (http_api) */
	HTTP_OTHER,
} http_method;

typedef void (*http_handler_fn)(http_request *r);

/* ---- routes ------------------------------------------------------------ */

/* One route: exact method and path pattern. A "{name}" segment matches one
 * path segment, percent-decoded on its own (so "%2F" stays inside it).
 * By default the segment must be a UUID (anything else does not match, so
 * the request gets the API's 404) and the parsed id is available through
 * http_param(); when the route marks it as text (bit i of text_params for
 * the i-th "{...}"), any segment of 1..HTTP_TEXT_PARAM_MAX bytes without
 * NUL matches and http_param_text() gives it. Params are numbered in
 * order. */
typedef struct http_route {
	http_method method;
	const char *pattern;      /* e.g. "/task/{task_id}"; also the metrics label
	                           * and the path in the OpenAPI document */
	http_handler_fn handler;
	bool open;                /* served without the bearer token */
	unsigned text_params;     /* bit i: the i-th param is text, not a UUID */
} http_route;

#define HTTP_MAX_PARAMS 2
/* Longest Idempotency-Key a request may carry. */
#define HTTP_IDEMPOTENCY_KEY_MAX 255
#define HTTP_TEXT_PARAM_MAX 255

/* ---- the request's error object ------------------------------------------ */

#define HTTP_ERROR_MSG_MAX 512

/* What kind of problem a WEFT_EINVALID (or WEFT_ETOOLARGE) answer is
 * about; an API may shape each kind differently. */
typedef enum http_error_kind {
	HTTP_ERR_FIELDS = 0,   /* members of a well-formed body break rules: `details` */
	HTTP_ERR_SYNTAX,       /* the body, or the query parameter `param`, cannot be
	                        * read as what it should be (not JSON, not a number) */
	HTTP_ERR_RULE,         /* the request as a whole, or the query parameter
	                        * `param`, breaks a rule (`message`) */
} http_error_kind;

/* Why a request failed, as far as a client is told: filled by decoders and
 * handlers, read by the API's fail function. One per request (http_err). */
typedef struct http_error {
	http_error_kind kind;
	const char *param;                   /* the query parameter `message` is about
	                                      * (static storage); NULL: the body or
	                                      * the request as a whole */
	char message[HTTP_ERROR_MSG_MAX];    /* one sentence; "" when the code says it all */
	errlist details;                     /* HTTP_ERR_FIELDS: "<path>: <problem>", one each */
	bool has_state;                      /* with WEFT_ECONFLICT: the state that did not */
	task_status state;                   /* allow the operation */
	char state_name[32];                 /* or, for an object that is not a task (a
	                                      * workflow run, a step), its state's name;
	                                      * "" when none */
	const char *code;                    /* a finer reason than the code's own name, for
	                                      * APIs that show one ("stale_lease"); static
	                                      * storage; NULL: none */
} http_error;

void http_error_init(http_error *e);
void http_error_release(http_error *e);
/* Sets kind, param (borrowed, static storage) and the message; returns
 * code, so that a decoder may `return http_error_set(...)`. */
int http_error_set(http_error *e, int code, http_error_kind kind, const char *param, const char *fmt, ...)
	WEFT_PRINTF(5, 6);
/* Adds one "<path>: <problem>" detail (kind HTTP_ERR_FIELDS); returns
 * WEFT_EINVALID. */
int http_error_detail(http_error *e, const char *fmt, ...) WEFT_PRINTF(2, 3);
/* Records the state that refused the operation. */
void http_error_state(http_error *e, task_status s);
/* Records the state, by name, of an object that is not a task. */
void http_error_state_named(http_error *e, const char *name);
/* Records a finer reason (static storage) than the failure's code gives;
 * returns code. */
int http_error_code(http_error *e, int code, const char *reason);

/* The HTTP status of an outcome, the one place weft's codes become
 * statuses: 0 is 200; WEFT_EINVALID 400, WEFT_EUNAUTHORIZED 401,
 * WEFT_EFORBIDDEN 403, WEFT_ENOTFOUND 404, WEFT_ECONFLICT 409,
 * WEFT_ETOOLARGE 413, WEFT_EREUSED 422; WEFT_EUNAVAILABLE,
 * WEFT_EOVERLOADED and WEFT_ERETRY 503; anything else 500. */
unsigned http_status_of(int code);
/* Seconds for the Retry-After header of a failure with code; 0 for none
 * (given with WEFT_EOVERLOADED and WEFT_ERETRY, which a client should
 * simply send again). */
unsigned http_retry_after_of(int code);

/* ---- APIs ------------------------------------------------------------------ */

/* Writes the body of a failed request: status is http_status_of(code),
 * err the request's error object. Must respond (http_respond*). */
typedef void (*http_fail_fn)(http_request *r, unsigned status, int code, const http_error *err);

/* One API: its routes and its error shape. */
typedef struct http_api {
	const char *name;          /* for logs */
	/* The paths it answers for when no route matches: those starting with
	 * prefix ("/v1/"); "" takes every path no other API's prefix claims. */
	const char *prefix;
	const http_route *routes;
	size_t nroutes;
	http_fail_fn fail;
	void (*init)(void);        /* run once when the server starts; may be NULL */
	/* Its largest request body; NULL: the server's PAYLOAD_MAX_BYTES. */
	size_t (*body_max)(const weft_config *cfg);
	/* Whether a token limited to some namespaces may use it at all (see
	 * tokens.h); NULL: any token may. Called with the request's token
	 * known; answered 403 when false. */
	bool (*admits)(const http_request *r);
	/* Checks the request's query parameters against what route takes,
	 * before its body is read and its handler runs: 0, or a code after
	 * filling the request's error object (answered as a failure). NULL:
	 * any parameter is accepted, and those the handler does not read are
	 * ignored. */
	int (*check_query)(http_request *r, const http_route *route);
	/* HEAD requests take its GET routes (libmicrohttpd leaves the body
	 * out); false: HEAD matches no route of it. */
	bool head;
} http_api;

/* The APIs served, in matching order (apis.c). */
extern const http_api *const http_apis[];
extern const size_t http_napis;

/* ---- the routes served (router.c) -------------------------------------- */

/* Every route served, across the APIs in order: method label ("GET",
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

/* ---- the request ------------------------------------------------------------ */

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
/* A request header's value (the first of its name, matched without
 * regard to case); NULL when absent. Borrowed. */
const char *http_header_in(http_request *r, const char *name);
/* A query-string argument, percent-decoded; NULL when absent. Borrowed. */
const char *http_query(http_request *r, const char *key);
/* Calls fn with each query-string argument in the order given, repeated
 * keys included; value is NULL for a key without '=' (borrowed). */
typedef void (*http_query_each_fn)(void *ctx, const char *key, const char *value);
void http_query_each(http_request *r, http_query_each_fn fn, void *ctx);

/* Where query parameters come from: a request (http_query_src), or a
 * table in a unit test. get returns NULL for an absent key; the strings
 * are percent-decoded and borrowed. */
typedef struct http_query_src {
	const char *(*get)(void *ctx, const char *key);
	void *ctx;
} http_query_src;
http_query_src http_query_src_of(http_request *r);

/* The request's error object (borrowed, lives as long as the request). */
http_error *http_err(http_request *r);

/* ---- who is asking (tokens.h) ------------------------------------------------ */

typedef struct http_token http_token;
/* The token the request was authenticated with; NULL when the server
 * checks no tokens (none configured) or the route is open. Borrowed: it
 * lives as long as the process, across reloads. */
const http_token *http_token_of(const http_request *r);
/* What the audit trail records as the request's author: "token:<name>",
 * or "api" without a token. Static or token storage. */
const char *http_actor(const http_request *r);
/* Whether the request may see objects of namespace ns: always without a
 * token; else when the token lists ns, or all namespaces ("*"). */
bool http_ns_visible(const http_request *r, const char *ns);
/* Whether the request sees every namespace: without a token, or with one
 * listing "*". */
bool http_ns_all(const http_request *r);
/* Whether the request may use admin-only routes: without a token, or with
 * an admin token. */
bool http_admin(const http_request *r);
/* The namespace of a request that names none: the token's only one when it
 * has exactly one, else "default". Static or token storage. */
const char *http_default_ns(const http_request *r);

/* A store reader connection, or NULL after answering WEFT_EUNAVAILABLE. */
store_conn *http_reader(http_request *r);
/* The same once decoding the request gave rc: NULL after answering the
 * failure when rc is not 0. */
store_conn *http_reader_after(http_request *r, int rc);

/* ---- responses ----------------------------------------------------------- */

/* Sets a response header (copied) of the response queued next; a header
 * of the same name set before is replaced. */
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
/* Writes one element of an array (item points into the array). */
typedef void (*http_put_fn)(buf *b, const void *item);
/* application/json: the array of the n items of `size` bytes at items,
 * each written by put. */
void http_respond_json_array(http_request *r, unsigned status, const void *items, size_t n, size_t size,
                             http_put_fn put);

/* Answers the request as failed with code: the status http_status_of(code),
 * Retry-After when http_retry_after_of(code) says so, and the body the
 * route's API writes from the request's error object. */
void http_fail(http_request *r, int code);
/* For an outcome the handler has no answer of its own for (a store or
 * engine failure): WEFT_ESTORE, WEFT_EUNAVAILABLE, WEFT_EOVERLOADED,
 * WEFT_ERETRY and WEFT_EINTERNAL are answered as they are; any other code
 * is logged as unexpected (what: the operation) and answered as
 * WEFT_EINTERNAL. */
void http_fail_server(http_request *r, int code, const char *what);

/* ---- engine commands ------------------------------------------------------ */

/* Runs a mutation through the engine. `state` (owned, freed with
 * state_free) holds `cmd` and whatever the command borrows. The server
 * sets cmd->done/arg and submits; after the commit, finish(r, cmd, state)
 * runs on an HTTP thread and must respond. If the server stops first, the
 * client gets WEFT_EUNAVAILABLE and state is freed when the engine is done
 * with it. The handler must return right after this.
 *
 * Idempotency-Key: when the request (POST, PUT, PATCH or DELETE) carries
 * one, the command carries it with the fingerprint of the request's
 * method, path and body (engine.h): a repeated request gets the first
 * one's outcome, answered by finish as the first was, plus the header
 * "Idempotent-Replayed: true"; a key used before with a different request
 * is answered WEFT_EREUSED (422) without calling finish. */
typedef void (*http_finish_fn)(http_request *r, engine_cmd *cmd, void *state);
void http_submit(http_request *r, engine_cmd *cmd, void *state, http_finish_fn finish,
                 void (*state_free)(void *state));
/* Submits the request's command without its Idempotency-Key, for routes
 * that are safe to repeat by their nature (a claim, a heartbeat, a fenced
 * report). Call before http_submit(). */
void http_idempotency_ignore(http_request *r);
/* Marks the request's command as one the engine may hold for long (a claim
 * waiting for jobs): stopping the server does not wait for it, and its
 * client is answered WEFT_EUNAVAILABLE at once. Call before http_submit(). */
void http_long_poll(http_request *r);
/* Runs fn(arg) on the HTTP thread right after the command of http_submit()
 * has reached the engine, or when the request ends before: work that may
 * run while the engine commits, such as freeing a large parsed body. Call
 * it right after http_submit(). */
void http_after_submit(http_request *r, void (*fn)(void *arg), void *arg);

#endif
