/*
 * query_params.h — the query parameters each /v1 route takes, read from
 * openapi.json, and the refusal of any other.
 *
 * The document is the one description of what a route reads from its
 * query: a filter the server ignored would be a silent no-op, so a
 * parameter the route's operation does not declare is refused with 400
 * invalid_request naming it. The table is built once at start-up from the
 * embedded document; a request then costs a lookup per parameter it names.
 *
 * No /v1 route takes a list in its query, so a parameter named twice is
 * refused as well: which of the values a handler would read is not
 * something a client should have to guess.
 */
#ifndef WEFT_HTTP_V1_QUERY_PARAMS_H
#define WEFT_HTTP_V1_QUERY_PARAMS_H

#include "http/http.h"

/* Most query parameters a request may name; more is refused. */
#define V1_QUERY_PARAMS_MAX 32

/* Builds the table for routes[0..n) from the OpenAPI document doc (len
 * bytes): each route's operation (path = its pattern, method in lower
 * case) and the "in": "query" entries of its parameters, $refs into
 * #/components/parameters resolved. Replaces any table built before.
 * Returns 0, or -1 with why in err when the document does not parse or
 * lacks a route's operation. */
int v1_query_rules_load(const char *doc, size_t len, const http_route *routes, size_t n, char *err,
                        size_t errlen);

/* The parameters route i takes, comma-separated ("none" when none);
 * NULL when there is no table or no such route. Static until the next
 * load. */
const char *v1_query_rule_takes(size_t route);

/* Checks the names of a request's query parameters (keys[0..nkeys),
 * in order) against what route i takes: 0, or WEFT_EINVALID with one
 * detail in e per name the route does not take and per name given more
 * than once. */
int v1_query_rule_check(size_t route, const char *const *keys, size_t nkeys, http_error *e);

/* The check of a request on route i (routes.c calls it before the
 * handler runs). */
int v1_query_check(http_request *r, size_t route);

#endif
