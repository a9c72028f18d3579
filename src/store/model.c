/*
 * model.c — the release functions of the store's rows (model.h).
 */
#include "util/common.h"
#include "store/model.h"

/* ---- releasing rows ---------------------------------------------------- */

void task_row_release(task_row *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->kind);
	free(t->metadata);
	free(t->rules);
	free(t->failure_reason);
	free(t->group_name);
	free(t->retry_policy);
	free(t->executor);
	t->name = t->kind = t->metadata = t->rules = t->failure_reason = NULL;
	t->group_name = t->retry_policy = t->executor = NULL;
}

void action_row_release(action_row *a)
{
	if (a == NULL)
		return;
	free(a->params);
	free(a->last_error);
	a->params = a->last_error = NULL;
}

void outbox_row_release(outbox_row *o)
{
	if (o == NULL)
		return;
	free(o->params);
	free(o->last_error);
	o->params = o->last_error = NULL;
}

void task_event_release(task_event *e)
{
	if (e == NULL)
		return;
	free(e->reason);
	free(e->actor);
	e->reason = e->actor = NULL;
}
