/*
 * template.h — webhook parameters templated from task metadata.
 *
 * `{{metadata.KEY}}` (dotted paths for nested objects: {{metadata.a.b}})
 * may appear in a webhook's url, header values and body strings. Rendering
 * happens when the call is made, with the task's metadata:
 *   - url: the value's text, percent-encoded (RFC 3986 unreserved kept);
 *   - header values: the value's text; a value with CR or LF renders empty;
 *   - body strings: a string that is exactly one placeholder takes the
 *     value itself (keeping its JSON type); inside a longer string the
 *     value's text is spliced in.
 * A value's text is the string itself for strings, compact JSON otherwise.
 * A missing key renders as the empty string (and null for a whole-string
 * placeholder in a body). Anything not of the form {{metadata.…}} is left
 * as is.
 */
#ifndef WEFT_TEMPLATE_H
#define WEFT_TEMPLATE_H

#include "../util/common.h"

/* Renders a WebhookParams JSON text against a task's metadata JSON text
 * ("null" allowed). Returns a new owned JSON text; params without any
 * placeholder come back as an identical copy. NULL only when params is not
 * valid JSON. */
char *template_render_params(const char *params_json, const char *metadata_json);

/* Whether a params JSON text contains any placeholder (cheap check). */
bool template_has_placeholders(const char *params_json);

#endif
