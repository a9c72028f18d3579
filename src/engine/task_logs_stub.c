/*
 * task_logs_stub.c — task_logs_append (task_logs.h) that keeps nothing,
 * until the engine stores execution logs.
 */
#include "engine/task_logs.h"

int task_logs_append(engine *e, const task_log_line *lines, size_t n)
{
	UNUSED(e);
	UNUSED(lines);
	UNUSED(n);
	return 0;
}
