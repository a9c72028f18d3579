/*
 * wire.h — what every route handler shares: writing JSON values in
 * ArcRun's conventions (reference/arcrun.md §3) and the common answers
 * (errors, store and engine failures).
 *
 * The writers append to a buf without printf where they sit on the path of
 * every task of a large answer.
 */
#ifndef WEFT_HTTP_WIRE_H
#define WEFT_HTTP_WIRE_H

#include "util/common.h"
#include "util/buf.h"
#include "util/errlist.h"
#include "http/arcrun.h"
#include "http/validate.h"

/* ---- values ---------------------------------------------------------- */

void wire_i64(buf *b, int64_t v);
/* RFC 3339 UTC string; 0 gives null. */
void wire_ts(buf *b, int64_t us);
/* JSON text we stored ourselves, embedded as is; NULL or "" gives fallback. */
void wire_raw(buf *b, const char *json, const char *fallback);
/* Quoted UUID; NULL or unset gives null. */
void wire_id(buf *b, const weft_id *id);
/* µs as a JSON number of seconds, without trailing zeros ("12.5", "0"). */
void wire_secs(buf *b, int64_t us);
/* Integer, or null when 0 (optional HTTP statuses). */
void wire_i64_or_null(buf *b, int64_t v);

/* ---- answers --------------------------------------------------------- */

/* The answer for a request that did not validate: 400 with details,
 * 413, 400 ApiError or 400 plain text (validate.h). batch may be NULL. */
void wire_respond_invalid(http_request *r, validate_result res, const errlist *errs, const char *msg,
                          const weft_id *batch);
/* 503 plain text "Database connection unavailable". */
void wire_respond_unavailable(http_request *r);
/* 500 {"error":"Internal server error: Database error","status":500}. */
void wire_respond_db_error(http_request *r);
/* One of the two above, by store return code. */
void wire_respond_store_error(http_request *r, int rc);
/* {"error":...,"status":...,"current_status":"<S>"} */
void wire_respond_state(http_request *r, unsigned status, const char *message, task_status current);
/* 404 "Not found: Task <id> not found". */
void wire_respond_task_not_found(http_request *r, const weft_id *id);
/* 404 "Not found: No tasks found for batch <id>". */
void wire_respond_batch_not_found(http_request *r, const weft_id *id);
/* Answers a failed command (an error other than WEFT_ENOTFOUND and
 * WEFT_ECONFLICT); false for the other outcomes. */
bool wire_respond_engine_failure(http_request *r, const engine_cmd *cmd);
/* Logs and answers 500 for an outcome the handler did not expect. */
void wire_respond_unexpected(http_request *r, const engine_cmd *cmd);

/* A reader connection, or NULL after answering 503. */
store_conn *wire_reader(http_request *r);

#endif
