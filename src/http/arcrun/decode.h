/*
 * decode.h — decoding and validating the ArcRun API's request bodies and
 * query strings into engine and store structs, with ArcRun's validation
 * messages verbatim, written with the decode kit (http/decode.h).
 *
 * Every decoder returns 0, or WEFT_EINVALID (WEFT_ETOOLARGE for a
 * client-sized limit) with the problems in the request's error object:
 * "<field>: <message>" details for fields (ArcRun's 400 "Validation
 * failed"), one message for a body or query parameter that cannot be read
 * (its "Json deserialize error" / "Query deserialize error" plain text) or
 * for the request as a whole. A field of the wrong JSON type or an unknown
 * enum value is a field problem ("tasks[0].timeout: expected an integer,
 * got string"), so a client learns every mistake from one answer. On
 * failure the output is empty. Nothing here touches the network or the
 * database.
 */
#ifndef WEFT_HTTP_ARCRUN_DECODE_H
#define WEFT_HTTP_ARCRUN_DECODE_H

#include "util/common.h"
#include "util/json.h"
#include "config.h"
#include "core/limits.h"
#include "engine/commands/batches.h"
#include "http/decode.h"
#include "store/store.h"

/* ---- POST /task ------------------------------------------------------ */

/* A decoded batch. Everything is owned; batch_input_release() frees it. */
typedef struct batch_input {
	new_task *tasks;       /* ntasks entries, in request order */
	size_t ntasks;
	char *scope;           /* object form "scope"; NULL when absent */
	char *metadata;        /* object form "metadata", compact JSON; NULL when absent or null */
	char *on_complete;     /* object form "on_batch_complete", compact JSON array; NULL when absent or empty */
	json_t *doc;           /* the parsed body; nothing above borrows from it. Kept so that
	                        * the caller can free it off the critical path (a 100,000-task
	                        * tree takes a while); batch_input_release() frees it if still here. */
} batch_input;

/* Decodes and validates a POST /task body: an array of NewTaskDto, or an
 * object {"tasks": [...], "on_batch_complete": [...], "scope": ...,
 * "metadata": ...}. On success *out is filled: every task has its defaults
 * applied (timeout 60, metadata "null", rules "[]", priority 0), its
 * dependencies as indices of strictly earlier tasks, and its webhook
 * params as compact JSON. weft's additions to NewTaskDto: "retry" (stored
 * as the canonical policy JSON of engine/retry.h, every field present),
 * "start_after" (RFC 3339, as µs) and "group" (trimmed, 1..255 bytes).
 * Task and batch metadata must be objects (or null); expected_count is at
 * most TASK_COUNTER_MAX.
 * More tasks than MAX_TASKS_PER_BATCH is WEFT_ETOOLARGE. body is borrowed
 * and need not be NUL-terminated. */
int arcrun_decode_batch(const char *body, size_t len, const weft_config *cfg, batch_input *out, http_error *e);
void batch_input_release(batch_input *b);

/* ---- PATCH /task/{id} and PUT /task/{id} ----------------------------- */

/* An UpdateTaskDto. Owned strings; update_input_release() frees them. */
typedef struct update_input {
	bool has_status;
	task_status status;
	int64_t new_success, new_failures;   /* 0 when absent */
	char *metadata;          /* compact JSON; NULL = absent or null (keep) */
	char *failure_reason;    /* NULL = absent or null */
	bool has_expected_count;
	int64_t expected_count;
	bool has_priority;
	int32_t priority;
} update_input;

/* PATCH: every field is type-checked, then: status only Success or
 * Failure, failure_reason required with Failure, counters and
 * expected_count in 0..TASK_COUNTER_MAX, priority in range, metadata an
 * object of at most 64 KiB. */
int arcrun_decode_patch(const char *body, size_t len, const weft_config *cfg, update_input *out, http_error *e);
/* PUT: every field is type-checked, but only new_success and new_failures
 * are validated (0..TASK_COUNTER_MAX); when both are absent or zero the
 * request as a whole is refused: "At least one of new_success or
 * new_failures must be non-zero". */
int arcrun_decode_put(const char *body, size_t len, const weft_config *cfg, update_input *out, http_error *e);
void update_input_release(update_input *u);

/* ---- PATCH /batch/{id}/rules ----------------------------------------- */

typedef struct rules_input {
	char *kind;     /* owned, as given */
	char *rules;    /* owned compact JSON array, as given */
} rules_input;

/* {"kind": string, "rules": [Strategy...]}, both required.
 * expected_count is not required for Capacity rules here. */
int arcrun_decode_rules(const char *body, size_t len, const weft_config *cfg, rules_input *out, http_error *e);
void rules_input_release(rules_input *r);

/* ---- query strings --------------------------------------------------- */

/* GET /task. filter.name/kind borrow from the query source; filter.batch_id
 * points into this struct (do not copy it); filter.metadata is owned. */
typedef struct task_query {
	task_filter filter;
	weft_id batch_id;
	char *metadata;          /* owned compact JSON of the ?metadata filter */
	int64_t offset, limit;
} task_query;

/* page (default 0, negative -> 0, offset saturates), page_size (default
 * cfg->pagination_default, > max -> max, <= 0 -> default), name, kind,
 * status (see arcrun_status_filter), timeout, batch_id, metadata. Bad numbers, statuses or UUIDs are
 * query syntax errors; an unparseable metadata filter breaks a rule of the
 * metadata parameter. */
int arcrun_decode_task_query(const http_query_src *q, const weft_config *cfg, task_query *out, http_error *e);
void task_query_release(task_query *q);

/* GET /batches: page, page_size, kind, status, name, created_after,
 * created_before (RFC 3339). Strings borrow from the query source. */
typedef struct batches_query {
	batch_filter filter;
	int64_t offset, limit;
} batches_query;

int arcrun_decode_batches_query(const http_query_src *q, const weft_config *cfg, batches_query *out,
                                http_error *e);

/* GET /webhook-deliveries: page, page_size (as GET /task) and status, one
 * of pending, failure, success, exhausted, as the mask of delivery states
 * it selects (0 = all). */
typedef struct deliveries_query {
	unsigned status_mask;
	int64_t offset, limit;
} deliveries_query;

int arcrun_decode_deliveries_query(const http_query_src *q, const weft_config *cfg, deliveries_query *out,
                                   http_error *e);

/* ---- parts shared by the body decoders (decode.c) --------------------- */

/* A member holding an ArcRun status ("<path>: unknown status '<s>'"). */
int arcrun_decode_status(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags,
                         task_status *out, bool *present);
/* One rules array (Strategy elements tagged by "type") at path; sets
 * *has_capacity when a Capacity rule is present. */
int arcrun_check_rules(http_error *e, const json_t *rules, const char *path, bool *has_capacity);
/* Matcher {status, kind, fields}, all required; *out owns its strings. */
int arcrun_decode_matcher(http_error *e, const json_t *m, const char *path, new_matcher *out);
/* A "metadata" member: an object of at most 64 KiB, as compact JSON
 * (owned) in *out; NULL when absent or null. Any other JSON type is
 * refused ("metadata: expected an object, got array"), as ArcRun does. */
int arcrun_decode_metadata(http_error *e, const json_t *obj, const char *at, char **out);
/* A counter member in 0..TASK_COUNTER_MAX ("<key>: <key> cannot be
 * negative", "<key>: <key> cannot exceed 9007199254740991"). */
int arcrun_decode_count(http_error *e, const json_t *obj, const char *at, const char *key, int64_t *out,
                        bool *present);

#endif
