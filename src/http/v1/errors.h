/*
 * errors.h — the /v1 error body and the reasons it names.
 *
 * Every failure is answered {"error":{"code","message","details"}}: code
 * is a stable snake_case reason, finer than the HTTP status where a client
 * acts on it (stale_lease, canceled, forbidden_namespace), message one
 * sentence, details one "<path>: <problem>" per field or query parameter
 * at fault (possibly none). A conflict with an object's state adds
 * "current_status", the status that did not allow the request.
 */
#ifndef WEFT_HTTP_V1_ERRORS_H
#define WEFT_HTTP_V1_ERRORS_H

#include "http/http.h"
#include "util/json.h"

/* Reasons beyond each status's own (static strings for http_error.code). */
#define V1_STALE_LEASE "stale_lease"
#define V1_CANCELED "canceled"
#define V1_FORBIDDEN_NAMESPACE "forbidden_namespace"
#define V1_HAS_DEPENDENTS "has_dependents"     /* a terminal task with children is not reopened */
#define V1_AUTH_DISABLED "auth_disabled"       /* tokens are administered only with authentication on */

/* The API's fail function (http_api.fail). */
void v1_fail(http_request *r, unsigned status, int code, const http_error *err);

/* The code a failure is answered with: err's own reason when it has one,
 * else the one of the WEFT_E* code. Static storage. */
const char *v1_error_code(int code, const http_error *err);

/* Answers a failure with code, a finer reason (static, may be NULL) and a
 * one-sentence message. */
void v1_fail_msg(http_request *r, int code, const char *reason, const char *fmt, ...) WEFT_PRINTF(4, 5);

/* 404 not_found for an object the request may not see or that does not
 * exist (the two are not told apart). what: "task", "job". */
void v1_fail_not_found(http_request *r, const char *what, const weft_id *id);

/* 403 forbidden_namespace: the token may not act in namespace ns. */
void v1_fail_namespace(http_request *r, const char *ns);

/* The namespace a route acts in: ?namespace=, else the token's default.
 * NULL after answering 400 (malformed) or 403 forbidden_namespace. */
const char *v1_route_namespace(http_request *r);
/* The request's body, which must be a JSON object no deeper than the
 * server allows; 0, or non-zero with the problem added to the request's
 * error. */
int v1_body_object(http_request *r, json_t **doc);

#endif
