/*
 * shapes.h — the ArcRun API's JSON shapes (TaskDto, BasicTaskDto,
 * ActionDto, status counts) and its error bodies, written with the
 * generic writers of http/wire.h.
 *
 * ArcRun's own fields come first, in its order; weft's additions follow
 * (ArcRun clients ignore unknown fields). Optional values are null, never
 * omitted.
 */
#ifndef WEFT_HTTP_ARCRUN_SHAPES_H
#define WEFT_HTTP_ARCRUN_SHAPES_H

#include "util/common.h"
#include "util/buf.h"
#include "engine/commands/batches.h"
#include "http/http.h"
#include "store/store.h"

/* ---- tasks ------------------------------------------------------------- */

/* A task as GET /task/{id} shows it. Everything is borrowed. */
typedef struct arcrun_task_view {
	const task_row *task;
	const action_row *actions;
	size_t nactions;
	/* An additive "blocked_reason": why a pending task is not starting
	 * (which of its rules holds it back, or the time it waits for). NULL
	 * leaves the field out. */
	const char *blocked_reason;
} arcrun_task_view;

/* TaskDto. "status" is one of ArcRun's eight; weft's additive "state" is
 * the precise state, lowercase ("retrying" where status is Pending). */
void arcrun_put_task(buf *b, const arcrun_task_view *v);
/* BasicTaskDto (lists and the DAG). */
void arcrun_put_basic(buf *b, const task_row *t);
/* The same as an http_put_fn (item: a task_row). */
void arcrun_put_basic_item(buf *b, const void *item);
/* The TaskDto of a task just created, from what was submitted. */
void arcrun_put_new_task(buf *b, const new_task *t, const weft_id *batch);
/* status_counts: ArcRun's eight keys in its order, "pending" counting the
 * tasks waiting for a retry too and "success" the skipped ones, then
 * weft's "retrying" (how many of the pending wait for a retry) and
 * "skipped" (how many of the successes a decision pruned). */
void arcrun_put_status_counts(buf *b, const int64_t counts[TS__COUNT]);
/* counts[TS_PENDING] + counts[TS_RETRYING], what ArcRun's clients see as
 * Pending; saturates instead of overflowing. */
int64_t arcrun_pending_count(const int64_t counts[TS__COUNT]);

/* ---- errors -------------------------------------------------------------- */

/* The API's fail function (http_api.fail), ArcRun's shapes for each:
 *   - field problems: 400 {"error":"Validation failed","details":[...]};
 *   - a body or query parameter that cannot be read: 400 plain text
 *     "Json deserialize error: ..." / "Query deserialize error: ...";
 *   - a rule broken by a query parameter: 400 ApiError "Bad request: ...";
 *     by the body as a whole: 400 plain text;
 *   - a state that refused the operation: ApiError with "current_status"
 *     (ArcRun's spelling) and "current_state" (the precise state);
 *   - a path without a route: 404 plain text "Not Found";
 *   - the database unreachable, or the server stopping: 503 plain text;
 *   - otherwise ApiError {"error":"<Prefix>: <message>","status":N}. */
void arcrun_fail(http_request *r, unsigned status, int code, const http_error *err);
/* Fails a POST /task: as arcrun_fail, with "batch_id" in the Validation
 * failed body. */
void arcrun_fail_batch(http_request *r, int code, const weft_id *batch);
/* Fails with code and a message (printf-style). */
void arcrun_fail_msg(http_request *r, int code, const char *fmt, ...) WEFT_PRINTF(3, 4);
/* Fails with code, the state that refused the operation (shown as
 * "current_status") and a message. */
void arcrun_fail_state(http_request *r, int code, task_status current, const char *fmt, ...) WEFT_PRINTF(4, 5);
/* 404 "Not found: Task <id> not found". */
void arcrun_fail_task_not_found(http_request *r, const weft_id *id);
/* 404 "Not found: No tasks found for batch <id>". */
void arcrun_fail_batch_not_found(http_request *r, const weft_id *id);

#endif
