/*
 * v1.h — weft's native API under /v1/: jobs for pull workers, and tasks of
 * every kind, each in the namespace of its token (http/tokens.h). Its
 * routes are listed in routes.c and described by openapi.json, which is
 * also served at GET /v1/openapi.json.
 */
#ifndef WEFT_HTTP_V1_V1_H
#define WEFT_HTTP_V1_V1_H

#include "http/http.h"

/* The API as the server serves it (registered in http/apis.c). */
extern const http_api v1_api;

/* Its OpenAPI 3.0 document (NUL-terminated JSON, static storage),
 * embedded from openapi.json. */
const char *v1_openapi_document(size_t *len);

#endif
