/*
 * task_logs.h — the lines an execution prints, handed to the engine to be
 * stored in batches.
 */
#ifndef WEFT_ENGINE_TASK_LOGS_H
#define WEFT_ENGINE_TASK_LOGS_H

#include "util/common.h"
#include "core/id.h"

typedef struct engine engine;

typedef enum log_stream { LOG_STDOUT = 0, LOG_STDERR = 1, LOG_SYSTEM = 2 } log_stream;
typedef struct task_log_line {
	weft_id task_id;
	int32_t attempt;       /* the task's attempt the line belongs to */
	log_stream stream;
	int64_t at;            /* µs, when read */
	const char *text;      /* one line without its newline, not NUL-bounded: len */
	size_t len;
} task_log_line;
/* Thread-safe; copies the lines; never blocks on the database: the lines are
 * queued and written by the engine in batches (one statement per batch).
 * Returns 0, or WEFT_EFULL when the execution's buffer overflowed (lines
 * dropped, and the drop recorded as a LOG_SYSTEM line). */
int task_logs_append(engine *e, const task_log_line *lines, size_t n);

#endif
