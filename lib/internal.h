/*
 * internal.h — what libweft's files share and nothing outside sees: the
 * client's request path (on src/client/http_client.c, compiled into the
 * library), error filling, and the helpers that turn the public request
 * structs into JSON and answers into typed structs.
 *
 * Every symbol here has hidden visibility (the library is built with
 * -fvisibility=hidden); only WEFT_API functions are exported.
 */
#ifndef WEFT_LIB_INTERNAL_H
#define WEFT_LIB_INTERNAL_H

#include "util/common.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "client/http_client.h"
#include "weft.h"

#include <jansson.h>
#include <stdarg.h>

struct weft_client {
	http_client *http;
	http_response resp;
	long timeout_ms;   /* the default, to restore after a long poll */
};

/* Global set-up (libcurl, jansson's hash seed) once per process. */
void lib_init_once(void);

/* The first opt_size bytes of a caller's options struct, zero-extended to
 * the library's own size (older callers pass a shorter struct). */
void options_copy(void *dst, size_t dst_size, const void *src, size_t src_size);

/* Resets err (freeing its details); NULL is allowed. */
void err_reset(weft_error *err);
/* Fills err (when not NULL) with code and a formatted message; returns code. */
int err_set(weft_error *err, int code, const char *fmt, ...) WEFT_PRINTF(3, 4);

/* A client's request. path: already encoded (see path_*); body: stolen,
 * NULL for none; idem: the Idempotency-Key, or NULL. On a 2xx answer: 0,
 * with *json_out (parsed) and/or *text_out (owned copy of the body) when
 * asked for. Otherwise the WEFT_E* code with err filled in. */
int client_call(weft_client *c, const char *method, const char *path, json_t *body, const char *idem,
                json_t **json_out, char **text_out, weft_error *err);

/* ---- paths and query strings -------------------------------------------- */

/* Appends s percent-encoded (everything but unreserved characters). */
void path_encode(buf *b, const char *s);
/* Appends "?name=value" or "&name=value" (value encoded) when value is set. */
void query_str(buf *b, const char *name, const char *value);
void query_int(buf *b, const char *name, int64_t value);   /* when value != 0 */
/* A required path parameter: WEFT_EINVAL when missing or empty. */
int check_id(const char *id, const char *what, weft_error *err);

/* ---- building bodies ---------------------------------------------------- */

/* Collects the first bad field while a body is built. */
typedef struct encoder {
	weft_error *err;
	int rc;            /* 0, or WEFT_EINVAL after a bad field */
} encoder;

void enc_str(json_t *o, const char *key, const char *v);             /* when v != NULL */
void enc_int(json_t *o, const char *key, int64_t v);                 /* when v != 0 */
void enc_tristate(json_t *o, const char *key, weft_tristate v);
void enc_strings(json_t *o, const char *key, const char *const *v, size_t n);   /* when n > 0 */
/* v (JSON text) parsed into o[key] when v != NULL; a bad value records
 * "<field>: not JSON" in e. want_object: it must be an object. */
void enc_json(encoder *e, json_t *o, const char *key, const char *v, const char *field, bool want_object);
/* A required string member: records "<field> is required" when missing. */
void enc_required(encoder *e, json_t *o, const char *key, const char *v, const char *field);
/* A trigger's target object (schedules, hooks, subscriptions). */
struct weft_schedule_target;
json_t *enc_target(encoder *e, const struct weft_schedule_target *t);

json_t *enc_backoff(const weft_backoff *b);
json_t *enc_job_error(encoder *e, const weft_job_error *je, const char *field);
/* A task of a run (api.c), also a template's step; problems name "tasks[i]". */
json_t *enc_run_task(encoder *e, const weft_run_task_spec *t, size_t i);

/* ---- reading answers ---------------------------------------------------- */

char *ans_str(const json_t *o, const char *key);    /* owned copy, or NULL when absent or not a string */
char *ans_json(const json_t *o, const char *key);   /* the member as compact JSON text ("null" when absent) */
int64_t ans_int(const json_t *o, const char *key);
bool ans_bool(const json_t *o, const char *key);
char *json_text(const json_t *v);                   /* compact JSON text, owned */

/* ---- the calls answered as JSON text (api.c, workflows.c) ---------------- */

/* Resets err and *out (when out is set) at the start of a call. */
#define API_START(out) \
	do { \
		err_reset(err); \
		if (out) \
			*(out) = NULL; \
	} while (0)

/* Sends the request built in path (released here) and hands the answer's
 * text to *out. body is stolen; NULL for none. */
int api_send(weft_client *c, const char *method, buf *path, json_t *body, const char *idem, char **out,
             weft_error *err);
/* The same with a body of raw bytes and extra header lines ("Name: value",
 * NULL-terminated list). */
int api_send_raw(weft_client *c, const char *method, buf *path, const char *body, size_t len,
                 const char *const *headers, char **out, weft_error *err);
/* "<prefix><id encoded><suffix>" into path (initialised here); WEFT_EINVAL
 * naming what without id. */
int api_path(buf *path, const char *prefix, const char *id, const char *what, const char *suffix, weft_error *err);
/* Drops path and body (a body that failed to build); returns rc. */
int api_drop(buf *path, json_t *body, int rc);
/* POSTs body (stolen) to the fixed path, unless building it failed
 * (e->rc, then the body is dropped and that code returned). */
int api_post_built(weft_client *c, const char *path, json_t *body, const encoder *e, const char *idem, char **out,
                   weft_error *err);

/* ---- the job hot path, shared with the worker --------------------------- */

void job_release_fields(weft_job *j);
void job_fill(weft_job *j, const json_t *o);

#endif
