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

/* The builder of template runs the engine is given at start-up
 * (engine_config.template_runs): a version's steps and a context made a
 * run by the decoder of POST /v1/runs under cfg (borrowed, outlives x). */
void v1_template_runs_init(template_expander *x, const weft_config *cfg);

#endif
