/*
 * arcrun.h — the ArcRun-compatible API: an ArcRun client works against
 * weft unchanged. Its routes, spellings, messages and error shapes live in
 * this directory and nowhere else; routes.c lists the routes and where
 * weft differs from ArcRun on purpose.
 */
#ifndef WEFT_HTTP_ARCRUN_ARCRUN_H
#define WEFT_HTTP_ARCRUN_ARCRUN_H

#include "http/http.h"

/* The API as the server serves it (registered in http/apis.c). */
extern const http_api arcrun_api;

/* The OpenAPI 3.0 document describing it (NUL-terminated JSON, static
 * storage), embedded from openapi.json. */
const char *arcrun_openapi_document(size_t *len);

#endif
