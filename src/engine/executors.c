/*
 * executors.c — the table of executors (exec/executor.h) and their
 * per-engine state.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "engine/engine_internal.h"
#include "exec/executor.h"

/* The executors: a new one is one more line here. */
static const executor *const executors[] = {
	&executor_webhook,
	&executor_queue,
	&executor_exec,
};

#define DEFAULT_EXECUTOR (&executor_webhook)

const executor *executor_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(executors); i++)
		if (strcmp(executors[i]->name, name) == 0)
			return executors[i];
	return NULL;
}

/* A row without an executor (NULL) runs on the default one, which is also
 * the column's default. NULL for a name no executor has. */
const executor *executor_of_task(const task_row *t)
{
	return t->executor ? executor_find(t->executor) : DEFAULT_EXECUTOR;
}

size_t executors_room(const engine *e)
{
	size_t room = 0;
	for (size_t i = 0; i < ARRAY_LEN(executors); i++)
		if (executors[i]->start)
			room += executors[i]->room(e);
	return room;
}

void *executor_state(const engine *e, const executor *ex)
{
	for (size_t i = 0; i < ARRAY_LEN(executors); i++)
		if (executors[i] == ex)
			return e->exec_state[i];
	return NULL;
}

void executors_attach(engine *e)
{
	e->exec_state = xcalloc(ARRAY_LEN(executors), sizeof(void *));
	for (size_t i = 0; i < ARRAY_LEN(executors); i++)
		if (executors[i]->attach)
			e->exec_state[i] = executors[i]->attach(e);
}

void executors_detach(engine *e)
{
	for (size_t i = 0; i < ARRAY_LEN(executors); i++)
		if (executors[i]->detach)
			executors[i]->detach(e->exec_state[i]);
	free(e->exec_state);
	e->exec_state = NULL;
}
