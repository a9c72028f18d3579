/*
 * json.h — the JSON facade over jansson.
 *
 * All JSON in weft goes through jansson (json_t, exact 64-bit integers,
 * insertion-ordered objects). This header adds what jansson lacks for a
 * server: parsing client bodies with a depth limit and a precise error,
 * compact dumping, typed getters for validation, and PostgreSQL-jsonb-style
 * containment (`@>`), which the SQLite driver gives its statements for the
 * dedup and rule matchers and the task list's metadata filter (PostgreSQL
 * has jsonb's own).
 *
 * Ownership follows jansson: functions returning json_t* return a new
 * reference (caller json_decref()s); getters return borrowed pointers.
 */
#ifndef WEFT_JSON_H
#define WEFT_JSON_H

#include "common.h"
#include "buf.h"
#include <jansson.h>

#define JSON_DEFAULT_MAX_DEPTH 64

/* Parses a client body (need not be NUL-terminated). Rejects nesting deeper
 * than max_depth before jansson recurses, duplicate keys, and trailing
 * garbage. Any JSON value is accepted at top level. On error returns NULL and
 * writes a human message into err, e.g. "expected ',' or '}' at line 1
 * column 9" or "nesting deeper than 64 levels". */
json_t *json_parse_body(const char *data, size_t len, int max_depth, char *err, size_t errlen);

/* Parses JSON text we stored ourselves; NULL on error (never expected). */
json_t *json_parse_text(const char *s);

/* Compact text (no spaces), any value, object key order preserved. Owned. */
char *json_dump_compact(const json_t *v);
/* Appends the compact form to b. */
void json_dump_buf(const json_t *v, buf *b);
/* Appends s[0..len) as a JSON string literal, escaped as jansson does. */
void json_put_string(buf *b, const char *s, size_t len);

/* jsonb containment: true when `container @> contained`. Scalars: equal
 * (numbers compared by value, 1 == 1.0). Objects: every key of `contained`
 * is in `container` with a contained value. Arrays: every element of
 * `contained` is contained by some element of `container`. */
bool json_contains(const json_t *container, const json_t *contained);

/* Typed getters of an object's members. Return 0 and set *out;
 * WEFT_ENOTFOUND when obj is not an object, the key is absent or its value
 * is null (*out untouched); WEFT_EINVALID when the value has another type.
 * Integers must be JSON integers (no fraction) within the target type's
 * range, else WEFT_EINVALID. Strings are borrowed. */
int json_get_str(const json_t *obj, const char *key, const char **out);
int json_get_i64(const json_t *obj, const char *key, int64_t *out);
int json_get_i32(const json_t *obj, const char *key, int32_t *out);
int json_get_bool(const json_t *obj, const char *key, bool *out);

/* Name of a value's JSON type for messages: "object", "array", "string",
 * "integer", "number", "boolean", "null". */
const char *json_type_name(const json_t *v);

#endif
