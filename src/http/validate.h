/*
 * validate.h — decoding and validation of ArcRun requests into engine and
 * store structs (reference/arcrun.md §3.1, §4, §12; SPEC §3.1).
 *
 * Every decoder collects all problems instead of stopping at the first, as
 * ArcRun does: each is one "<field>: <message>" string in an errlist, with
 * ArcRun's messages verbatim. A field of the wrong JSON type or an unknown
 * enum value is reported the same way ("tasks[0].timeout: expected an
 * integer, got string"), so a client learns every mistake from one answer.
 * Only a body that is not JSON at all, or not of the right top-level shape,
 * gives a plain-text message, like ArcRun's framework errors.
 *
 * The result code says which answer the HTTP layer gives; see
 * validate_result. Nothing here touches the network or the database.
 */
#ifndef WEFT_HTTP_VALIDATE_H
#define WEFT_HTTP_VALIDATE_H

#include "../util/common.h"
#include "../util/errlist.h"
#include "../util/json.h"
#include "../config.h"
#include "../engine/engine.h"
#include "engine/commands/batches.h"
#include "engine/commands/tasks.h"
#include "../store/store.h"
#include "core/limits.h"

typedef enum validate_result {
	VALIDATE_OK = 0,
	/* 400 {"error":"Validation failed","details":[errs...]} */
	VALIDATE_FAILED,
	/* 400 plain text `msg` (e.g. "Json deserialize error: ...",
	 * "Query deserialize error: ...") */
	VALIDATE_MALFORMED,
	/* 413 {"error":msg,"status":413}: a client-sized limit was exceeded */
	VALIDATE_TOO_LARGE,
	/* 400 {"error":msg,"status":400}: msg starts with "Bad request: " */
	VALIDATE_BAD_REQUEST,
} validate_result;

/* Room for any message written into `msg` (longer ones are truncated). */
#define VALIDATE_MSG_MAX 512

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
 * "metadata": ...}. On VALIDATE_OK *out is filled: every task has its
 * defaults applied (timeout 60, metadata "null", rules "[]", priority 0),
 * its dependencies as indices of strictly earlier tasks, and its webhook
 * params as compact JSON. weft's additions to NewTaskDto: "retry" (stored
 * as the canonical policy JSON of engine/retry.h, every field present),
 * "start_after" (RFC 3339, as µs) and "group" (trimmed, 1..255 bytes). On any other result *out is empty, and errs
 * (VALIDATE_FAILED) or msg (the others) says why. body is borrowed and
 * need not be NUL-terminated. */
validate_result validate_batch(const char *body, size_t len, const weft_config *cfg,
                               batch_input *out, errlist *errs, char *msg, size_t msglen);
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

/* PATCH: every field is type-checked, then §4.6: status only Success or
 * Failure, failure_reason required with Failure, counters and
 * expected_count >= 0, priority in range, metadata <= 64 KiB. */
validate_result validate_patch(const char *body, size_t len, const weft_config *cfg,
                               update_input *out, errlist *errs, char *msg, size_t msglen);
/* PUT: every field is type-checked, but only new_success and new_failures
 * are validated (>= 0); when both are absent or zero the answer is
 * VALIDATE_MALFORMED with "At least one of new_success or new_failures
 * must be non-zero". */
validate_result validate_put(const char *body, size_t len, const weft_config *cfg,
                             update_input *out, errlist *errs, char *msg, size_t msglen);
void update_input_release(update_input *u);

/* ---- PATCH /batch/{id}/rules ----------------------------------------- */

typedef struct rules_input {
	char *kind;     /* owned, as given */
	char *rules;    /* owned compact JSON array, as given */
} rules_input;

/* {"kind": string, "rules": [Strategy...]}, both required (§4.12).
 * expected_count is not required for Capacity rules here. */
validate_result validate_batch_rules(const char *body, size_t len, const weft_config *cfg,
                                     rules_input *out, errlist *errs, char *msg, size_t msglen);
void rules_input_release(rules_input *r);

/* ---- query strings --------------------------------------------------- */

/* Looks a query parameter up; NULL when absent. Values are already
 * percent-decoded. */
typedef const char *(*query_get_fn)(void *ctx, const char *key);

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
 * status, timeout, batch_id, metadata. Bad numbers, statuses or UUIDs give
 * VALIDATE_MALFORMED ("Query deserialize error: ..."); an unparseable
 * metadata filter gives VALIDATE_BAD_REQUEST. */
validate_result validate_task_query(query_get_fn get, void *ctx, const weft_config *cfg,
                                    task_query *out, char *msg, size_t msglen);
void task_query_release(task_query *q);

/* GET /batches: page, page_size, kind, status, name, created_after,
 * created_before (RFC 3339). Strings borrow from the query source. */
typedef struct batches_query {
	batch_filter filter;
	int64_t offset, limit;
} batches_query;

validate_result validate_batches_query(query_get_fn get, void *ctx, const weft_config *cfg,
                                       batches_query *out, char *msg, size_t msglen);

/* GET /webhook-deliveries: page, page_size (as GET /task) and status, one
 * of pending, failure, success, exhausted, as the mask of delivery states
 * it selects (0 = all). An unknown status gives VALIDATE_MALFORMED ("Query
 * deserialize error: unknown variant ..."). */
typedef struct deliveries_query {
	unsigned status_mask;
	int64_t offset, limit;
} deliveries_query;

validate_result validate_deliveries_query(query_get_fn get, void *ctx, const weft_config *cfg,
                                          deliveries_query *out, char *msg, size_t msglen);

#endif
