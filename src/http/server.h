/*
 * server.h — the HTTP front door (libmicrohttpd).
 *
 * Serves the APIs listed in apis.c: parses requests, hands them to their
 * route's handler (http.h), and sends mutations to the engine as commands,
 * answered once the engine has committed.
 */
#ifndef WEFT_HTTP_SERVER_H
#define WEFT_HTTP_SERVER_H

#include "config.h"
#include "engine/engine.h"
#include "store/store.h"

typedef struct http_server http_server;

/* Binds cfg->port on all interfaces and starts serving. All pointers are
 * borrowed and must outlive the server. NULL with err set on failure. */
http_server *http_server_start(const weft_config *cfg, engine *eng, store *st, char *err, size_t errlen);
/* Stops accepting, lets in-flight requests finish (bounded), frees. */
void http_server_stop(http_server *s);

#endif
