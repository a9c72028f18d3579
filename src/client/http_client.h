/*
 * http_client.h — a blocking HTTP/1.1 client for weft's HTTP API: the base
 * of weft's client side, on which whatever talks to a weft server from C is
 * built (the bench's clients among them).
 *
 * A client is bound to one server (a base URL such as http://host:8085) and
 * sends one request at a time over a kept-alive connection (TCP_NODELAY,
 * reconnected when the server closed it), adding a bearer token when it has
 * one. It sits on libcurl's easy interface: the program calls
 * curl_global_init() once before the first http_client_new() (and
 * curl_global_cleanup() after the last free).
 *
 * Threads: a client and the responses it fills belong to one thread at a
 * time; give each thread its own client (clients share nothing, so any
 * number may run in parallel).
 *
 * Errors: a request returns 0 once an HTTP answer has arrived, whatever its
 * status (4xx and 5xx are answers, read resp->status), and a negative
 * HTTP_CLIENT_E* code when none did; resp->error then says what happened,
 * naming the method and URL ("GET http://127.0.0.1:9/health: cannot
 * connect: ...").
 */
#ifndef WEFT_HTTP_CLIENT_H
#define WEFT_HTTP_CLIENT_H

#include "util/common.h"
#include "util/buf.h"
#include <stdatomic.h>

enum {
	HTTP_CLIENT_OK = 0,
	HTTP_CLIENT_EINVAL = -1,     /* a bad argument: no request was sent */
	HTTP_CLIENT_ECONNECT = -2,   /* the server could not be reached (refused, no route, name unknown) */
	HTTP_CLIENT_ETIMEOUT = -3,   /* no complete answer within the timeout */
	HTTP_CLIENT_ETRANSPORT = -4, /* the connection failed during the exchange */
	HTTP_CLIENT_ECANCELED = -5,  /* stopped by the cancel flag (http_client_set_cancel) */
};

/* A short description of an HTTP_CLIENT_E* code (static). */
const char *http_client_strerror(int code);

typedef struct http_client_options {
	const char *base_url;     /* required: "http://host:port", no trailing path needed; copied */
	const char *token;        /* bearer token sent as "Authorization: Bearer <token>", or NULL; copied */
	long timeout_ms;          /* whole request, connecting included; 0: 30 s */
	long connect_timeout_ms;  /* connecting; 0: 5 s */
	size_t max_body;          /* the largest answer body taken; a larger one fails the request
	                             (HTTP_CLIENT_ETRANSPORT, "answer too large"); 0: HTTP_CLIENT_BODY_MAX */
} http_client_options;

/* The default bound of an answer's body: a server (or something posing as
 * one) cannot make a client hold more than this. */
#define HTTP_CLIENT_BODY_MAX ((size_t)256 << 20)

typedef struct http_client http_client;

/* A client for opt->base_url (owned by the caller, free with
 * http_client_free), or NULL when base_url is missing or does not start
 * with http:// or https://. No connection is made until the first request. */
http_client *http_client_new(const http_client_options *opt);
/* Closes the connection and frees c; NULL is allowed. */
void http_client_free(http_client *c);

/* The base URL as given (borrowed, valid until http_client_free). */
const char *http_client_base_url(const http_client *c);
/* Changes the timeout of the next requests (0: the default). */
void http_client_set_timeout(http_client *c, long timeout_ms);

/* A flag another thread may set to stop this client's request in flight
 * (and refuse new ones while it is set): the request then returns
 * HTTP_CLIENT_ECANCELED within about a second (libcurl's progress
 * callback runs at least once a second while a transfer waits). The flag
 * is borrowed and must outlive the client; NULL removes it. For a long
 * poll that must not hold up a shutdown. */
void http_client_set_cancel(http_client *c, const atomic_bool *flag);
/* Whether c's cancel flag is set (false without one). */
bool http_client_canceled(const http_client *c);

/* A progress hook: called while a request's body goes out and its answer
 * comes in (as bytes move, and at least once a second while the transfer
 * waits), with the bytes sent so far of up_total and received of
 * down_total (a total is 0 while unknown). It runs on the requesting
 * thread, inside http_client_request. Returns 0 to go on; anything else
 * stops the request, which then returns HTTP_CLIENT_ECANCELED. */
typedef int (*http_progress_fn)(void *ud, int64_t up_now, int64_t up_total, int64_t down_now, int64_t down_total);

/* Sets the progress hook of this client's next requests (fn and ud are
 * borrowed; ud must outlive the requests); fn NULL removes it. Works
 * beside a cancel flag: the flag is checked first. For a progress bar on a
 * large upload. */
void http_client_set_progress(http_client *c, http_progress_fn fn, void *ud);

/* What came back. Embedded: http_response_init() before use,
 * http_response_release() after; one response may serve many requests (each
 * request resets it). */
typedef struct http_response {
	long status;              /* the HTTP status, 0 when no answer arrived */
	buf body;                 /* the body, NUL-terminated (empty with discard_body) */
	size_t body_bytes;        /* bytes of body received, kept or not */
	bool discard_body;        /* set by the caller: count the body, do not keep it */
	size_t max_body_;         /* private: the client's bound, for this request */
	char error[320];          /* why the request failed, "" after an answer */
	/* the final answer's header fields as "name\0value\0" pairs (private:
	 * read them with http_response_header) */
	buf headers_;
} http_response;

void http_response_init(http_response *r);
void http_response_release(http_response *r);
/* The value of header field name (case-insensitive) of the last answer,
 * without surrounding blanks; the first one when repeated. Borrowed from r,
 * valid until its next request or release; NULL when absent. */
const char *http_response_header(const http_response *r, const char *name);

/* Sends method (GET, POST, PUT, PATCH, DELETE, ...) to base_url + path and
 * waits for the whole answer, filled into resp.
 * - path: "/task/…" (borrowed), appended to the base URL as it is (the
 *   caller percent-encodes what needs it);
 * - body: body_len bytes sent as the request body (borrowed, may hold NULs),
 *   or NULL for none; a body is sent as Content-Type: application/json
 *   unless headers name another Content-Type;
 * - headers: extra "Name: value" lines, NULL-terminated (borrowed), or
 *   NULL; "Name:" alone removes a header the client would send.
 * Returns 0 when an answer arrived (any status), or a negative
 * HTTP_CLIENT_E* code with resp->error set. */
int http_client_request(http_client *c, const char *method, const char *path, const char *body, size_t body_len,
                        const char *const *headers, http_response *resp);

#endif
