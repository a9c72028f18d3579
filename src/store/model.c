/*
 * model.c — the release functions of the store's rows (model.h).
 */
#include "util/common.h"
#include "store/model.h"
#include "core/error.h"

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
	free(t->namespace);
	free(t->worker_id);
	free(t->error_code);
	t->name = t->kind = t->metadata = t->rules = t->failure_reason = NULL;
	t->group_name = t->retry_policy = t->executor = NULL;
	t->namespace = t->worker_id = t->error_code = NULL;
}

static const char *const attempt_outcome_names[JA__COUNT] = {
	"failed", "timed_out", "lease_expired", "released", "canceled",
};

const char *job_attempt_outcome_name(job_attempt_outcome o)
{
	return o < JA__COUNT ? attempt_outcome_names[o] : "unknown";
}

int job_attempt_outcome_parse(const char *s, job_attempt_outcome *out)
{
	for (int i = 0; i < JA__COUNT; i++)
		if (strcmp(s, attempt_outcome_names[i]) == 0) {
			*out = (job_attempt_outcome)i;
			return 0;
		}
	return WEFT_EINVALID;
}

void job_attempt_row_release(job_attempt_row *a)
{
	if (a == NULL)
		return;
	free(a->worker_id);
	free(a->claimed_by);
	free(a->error_code);
	free(a->error_message);
	free(a->error_details);
	a->worker_id = a->claimed_by = a->error_code = a->error_message = a->error_details = NULL;
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
