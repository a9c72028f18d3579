/*
 * router.h — matching a request to a route of the APIs served (http.h),
 * for server.c. Paths are matched raw, each segment percent-decoded on its
 * own, so that an encoded '/' stays inside its segment.
 */
#ifndef WEFT_HTTP_ROUTER_H
#define WEFT_HTTP_ROUTER_H

#include "http/http.h"

/* "GET", "POST", … ("OTHER" for anything else). Static storage. */
const char *http_method_label(http_method m);
http_method http_method_parse(const char *m);

/* The route for method and raw path (without the query), or NULL. On a
 * match, the API it belongs to goes to *api, UUID params to params and
 * text params to text. */
const http_route *router_find(http_method m, const char *raw_path, const http_api **api, weft_id *params,
                              char text[][HTTP_TEXT_PARAM_MAX + 1]);

/* The API that answers for a path no route matches: the one with the
 * longest prefix of it. Never NULL when an API has the prefix "". */
const http_api *router_api_for(const char *raw_path);

#endif
