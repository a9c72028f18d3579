/*
 * task_logs.h — the lines an execution prints, queued for the engine to
 * write.
 *
 * Any thread (an executor reading a child's pipes, an HTTP handler taking
 * a worker's lines) hands lines to task_logs_append. They are copied into
 * a bounded buffer per execution (task, attempt): LOG_BUFFER_LINES lines
 * and LOG_BUFFER_BYTES bytes; past either the oldest waiting lines are
 * dropped, and the drop is written as a LOG_SYSTEM line ("N lines
 * dropped") where they were. The engine takes every waiting line in its
 * next cycle, numbers them per execution (seq, from 1, continuing after a
 * restart from the largest stored one) and writes them in batches of one
 * statement each, in the cycle's transaction.
 */
#ifndef WEFT_ENGINE_TASK_LOGS_H
#define WEFT_ENGINE_TASK_LOGS_H

#include "engine/engine.h"

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

/* The same with a level per line ("info", "warn", "error", "debug"; at
 * most 8 bytes), as workers may give one; levels NULL or a NULL entry:
 * "warn" for stderr, else "info". */
int task_logs_append_levels(engine *e, const task_log_line *lines, const char *const *levels, size_t n);

/* Whether n more lines (of bytes bytes) fit in the execution's buffer
 * without dropping any, or it is empty (a batch larger than the buffer is
 * then taken, its oldest lines dropped). A sender that can wait (a worker
 * over HTTP) is refused instead of losing lines. Any thread. */
bool task_logs_room(engine *e, const weft_id *task, int32_t attempt, size_t n, size_t bytes);

/* The name of a stream ("stdout", "stderr", "system"), and back (-1: none). */
const char *log_stream_name(log_stream s);
int log_stream_parse(const char *name);

/* Lines written and dropped since the start (for metrics and benches). */
typedef struct task_logs_stats {
	uint64_t written, dropped, waiting;
} task_logs_stats;
void task_logs_get_stats(engine *e, task_logs_stats *out);

#endif
