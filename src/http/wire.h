/*
 * wire.h — writing JSON values into a buf: integers, RFC 3339 times, ids,
 * seconds, escaped strings, and JSON text stored earlier. Every API's
 * shapes are written with these.
 *
 * The writers append without printf where they sit on the path of every
 * task of a large answer.
 */
#ifndef WEFT_HTTP_WIRE_H
#define WEFT_HTTP_WIRE_H

#include "util/common.h"
#include "util/buf.h"
#include "core/id.h"

void wire_i64(buf *b, int64_t v);
/* Integer, or null when 0 (optional values such as HTTP statuses). */
void wire_i64_or_null(buf *b, int64_t v);
/* Integer, or null when has is false. */
void wire_i64_opt(buf *b, bool has, int64_t v);
void wire_bool(buf *b, bool v);
/* RFC 3339 UTC string; 0 gives null. */
void wire_ts(buf *b, int64_t us);
/* RFC 3339 UTC string with exactly 3 fraction digits (the µs truncated to
 * ms: "2026-12-05T07:50:00.123Z"); 0 gives null. */
void wire_ts_ms(buf *b, int64_t us);
/* JSON text stored earlier, embedded as is; NULL or "" gives fallback. */
void wire_raw(buf *b, const char *json, const char *fallback);
/* Quoted UUID; NULL or unset gives null. */
void wire_id(buf *b, const weft_id *id);
/* µs as a JSON number of seconds, without trailing zeros ("12.5", "0"). */
void wire_secs(buf *b, int64_t us);
/* s as a JSON string literal (quoted, escaped); NULL gives null. */
void wire_str(buf *b, const char *s);

#endif
