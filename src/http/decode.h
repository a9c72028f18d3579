/*
 * decode.h — the decode kit: reading a request's JSON body and query
 * string into typed values, for any API.
 *
 * Decoders collect every problem instead of stopping at the first, so a
 * client learns all its mistakes from one answer. A problem with a body
 * member is one "<path>: <problem>" detail in the request's error object
 * (http.h), where path names the member ("tasks[3].rules[0].kind",
 * "status"); a body that is not JSON, or a query parameter that cannot be
 * read, is one message (HTTP_ERR_SYNTAX). Functions return 0, or
 * WEFT_EINVALID once they have recorded the problem; an optional member
 * that is absent (or null) is not a problem: it leaves the output as it was
 * and reports `present` false where asked.
 *
 * Field paths are built only when a problem is recorded or the caller asks
 * for one, so that decoding a 100,000-task body stays cheap.
 */
#ifndef WEFT_HTTP_DECODE_H
#define WEFT_HTTP_DECODE_H

#include "util/common.h"
#include "util/json.h"
#include "http/http.h"

#define DECODE_PATH_MAX 256

/* Flags of a member lookup. */
enum {
	DECODE_REQUIRED = 1u << 0,   /* absence is "<path>: missing field"; null is a type error */
	DECODE_INT32 = 1u << 1,      /* integers: also within int32 */
};

/* ---- bodies --------------------------------------------------------------- */

/* Parses a body (need not be NUL-terminated) with nesting at most
 * max_depth: *out is a new reference. Otherwise WEFT_EINVALID with
 * HTTP_ERR_SYNTAX and the parser's message ("expected ... at line 1
 * column 9"). */
int decode_body(const char *body, size_t len, int max_depth, http_error *e, json_t **out);
/* The same for a body that must be an object ("expected an object, got
 * array"). */
int decode_body_object(const char *body, size_t len, int max_depth, http_error *e, json_t **out);

/* ---- paths and problems --------------------------------------------------- */

/* "<at>.<key>", or "<key>" when at is "" or NULL. */
void decode_path(char out[DECODE_PATH_MAX], const char *at, const char *key);
/* "<at>[<i>]". */
void decode_path_index(char out[DECODE_PATH_MAX], const char *at, size_t i);
/* Records "<at>.<key>: <problem>" (key may be NULL: "<at>: ..."). Returns
 * WEFT_EINVALID. */
int decode_problem(http_error *e, const char *at, const char *key, const char *fmt, ...) WEFT_PRINTF(4, 5);
/* Records "<path>: expected <expected>, got <type of got>". Returns
 * WEFT_EINVALID. */
int decode_type_error(http_error *e, const char *path, const char *expected, const json_t *got);

/* ---- members ---------------------------------------------------------------- */

/* Member key of obj, whose path is at. NULL when absent, and when null
 * unless DECODE_REQUIRED; a required absent member is recorded. When the
 * member is there and path is non-NULL, its path is written there
 * (DECODE_PATH_MAX bytes). Borrowed. */
json_t *decode_member(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags,
                      char *path);

/* Typed members: 0 with *out set when present and of the right type (and
 * *present true when present is non-NULL); 0 with *out untouched when
 * absent and optional; WEFT_EINVALID after recording a missing or
 * mistyped member. Strings are borrowed from obj. */
int decode_str(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags,
               const char **out);
/* A string member of 1..max bytes: NULL when absent, or after recording
 * why it is not one (a longer one also sets *too_large, for a 413). */
const char *decode_str_bounded(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags,
                               size_t max, bool *too_large);
/* Records "<at>.<member>: unknown field" for each member of obj whose key
 * is not in known (NULL-terminated). */
void decode_unknown_members(http_error *e, const json_t *obj, const char *at, const char *const *known);
/* A JSON integer (no fraction): "expected an integer, got number";
 * DECODE_INT32 also "expected a 32-bit integer, got <n>". */
int decode_int(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags, int64_t *out,
               bool *present);
int decode_bool(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags, bool *out,
                bool *present);
/* Any JSON number in [min, max] ("<key> must be between <min> and <max>");
 * -0 reads as 0. */
int decode_number(http_error *e, const json_t *obj, const char *at, const char *key, double min, double max,
                  double *out);
/* An array, or an object: *out borrowed, its path in path (required,
 * DECODE_PATH_MAX bytes). */
int decode_array(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags, json_t **out,
                 char *path);
int decode_object(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags, json_t **out,
                  char *path);

/* True when s is empty or only white space. */
bool decode_blank(const char *s);
/* s without leading and trailing white space: its start, length in *len. */
const char *decode_trim(const char *s, size_t *len);

/* ---- query strings ---------------------------------------------------------- */

/* An integer parameter in [min, max], with the messages of Rust's
 * str::parse ("invalid digit found in string", "number too large to fit
 * in target type"). *out untouched when absent. */
int decode_query_int(const http_query_src *q, const char *key, int64_t min, int64_t max, http_error *e,
                     int64_t *out, bool *present);
/* A UUID parameter ("<key>: invalid UUID"). */
int decode_query_id(const http_query_src *q, const char *key, http_error *e, weft_id *out, bool *present);
/* An RFC 3339 time parameter, as µs ("<key>: invalid RFC 3339 timestamp");
 * *out untouched when absent. */
int decode_query_time(const http_query_src *q, const char *key, http_error *e, int64_t *out);
/* A text parameter; NULL when absent or empty (an empty substring filter
 * matches everything). Borrowed. */
const char *decode_query_text(const http_query_src *q, const char *key);
/* Page-number paging: page (default 0, negative -> 0) and size (absent
 * or <= 0 -> def, > max -> max) as an offset (saturating) and a limit. */
int decode_query_page(const http_query_src *q, const char *page_key, const char *size_key, int64_t def,
                      int64_t max, http_error *e, int64_t *offset, int64_t *limit);

#endif
