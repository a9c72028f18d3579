/*
 * trigger_routes.h — what the routes of hooks, events, subscriptions and
 * schedules (hooks.c, events.c, schedules.c) share: names, the {name} of a
 * route, the page of a list by name, the owner members of a create body.
 */
#ifndef WEFT_HTTP_V1_TRIGGER_ROUTES_H
#define WEFT_HTTP_V1_TRIGGER_ROUTES_H

#include "util/common.h"
#include "http/http.h"
#include "util/json.h"

#define TRIGGER_NAME_MAX 64
extern const char trigger_name_rule[];   /* "expected [a-z0-9][a-z0-9_.-]{0,63}" */

/* [a-z0-9][a-z0-9_.-]{0,63}: safe in a path and as a list's cursor. */
bool trigger_name_valid(const char *s);

/* The {name} of the path; NULL after answering 400. */
const char *trigger_route_name(http_request *r);
/* ?limit= and ?cursor= (a name) of a list by name; false after answering 400. */
bool trigger_list_page(http_request *r, int64_t *limit, const char **after);

/* The "namespace" member of a create body (NULL: the token's default) and
 * its "name", checked; problems added to the request's error. */
void trigger_decode_owner(http_request *r, const json_t *doc, const char **ns, const char **name);

#endif
