/*
 * ui.h — the web UI's pages and static files (index.html, the built
 * assets, the icon), served without the bearer token; ui.c lists the
 * routes, the caching and the security headers.
 */
#ifndef WEFT_HTTP_UI_H
#define WEFT_HTTP_UI_H

#include "http/http.h"

/* The API as the server serves it (registered in http/apis.c). */
extern const http_api ui_api;

#endif
