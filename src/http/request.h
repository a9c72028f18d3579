/*
 * request.h — the request context behind http.h's http_request, shared by
 * server.c (libmicrohttpd's callbacks, engine commands) and respond.c
 * (accessors, responses, failures). Nothing outside those two files sees
 * it.
 */
#ifndef WEFT_HTTP_REQUEST_H
#define WEFT_HTTP_REQUEST_H

#include "http/http.h"

struct MHD_Connection;
typedef struct http_server http_server;
typedef struct http_async http_async;

#define HTTP_MAX_EXTRA_HEADERS 10

/* Requests with bodies at least this large hand freed memory back to the
 * system when they end, so one big submission does not leave the process
 * resident size high for the rest of its life. */
#define HTTP_TRIM_AFTER_BODY_BYTES (4u << 20)

struct http_request {
	http_server *srv;
	const weft_config *cfg;         /* the server's, borrowed */
	engine *eng;
	store *st;
	struct MHD_Connection *conn;
	http_method method;
	const http_route *route;        /* NULL when no route matched */
	const http_api *api;            /* the route's API, or the one answering for the path */
	const http_token *token;        /* what authenticated it; NULL: no tokens, or open route */
	size_t body_max;                /* its API's body limit */
	char *raw_path;                 /* request target up to '?', not decoded; NULL if not seen */
	bool begun;                     /* the first on_request call has run */
	weft_id params[HTTP_MAX_PARAMS];
	char text_params[HTTP_MAX_PARAMS][HTTP_TEXT_PARAM_MAX + 1];
	buf body;
	bool big_body;                  /* trim the heap when the request ends */
	int refused;                    /* WEFT_E* to answer once the body is in (0: none) */
	bool responded;
	unsigned status;
	int64_t started_us;
	http_error err;
	char *hdr_name[HTTP_MAX_EXTRA_HEADERS];
	char *hdr_value[HTTP_MAX_EXTRA_HEADERS];
	size_t nheaders;
	/* The request's Idempotency-Key ("" when none) and, once its body is
	 * in, the fingerprint of its method, path and body (hex SHA-256). */
	char idem_key[HTTP_IDEMPOTENCY_KEY_MAX + 1];
	char idem_fingerprint[65];
	bool submitted;                 /* http_submit() was called (MHD thread only) */
	bool long_poll;                 /* http_long_poll(): the engine may hold it for long */
	http_async *queued;             /* submitted, not yet given to the engine (MHD thread) */
	void (*after_submit)(void *arg); /* http_after_submit() (MHD thread) */
	void *after_submit_arg;
	/* Under the server's async lock: */
	http_async *async;
	bool async_done;                /* the engine answered; finish may run */
	bool async_abandoned;           /* the server stopped first */
};

#endif
