/*
 * model.c — spellings of the model's enums: the stored (lowercase) form and
 * the wire form (ArcRun's PascalCase for task statuses). The tables are
 * indexed by enum value. Also the release functions of the model's rows.
 */
#include "util/common.h"
#include "store/model.h"

static const char *const status_db[TS__COUNT] = {
	[TS_WAITING] = "waiting",   [TS_PENDING] = "pending", [TS_CLAIMED] = "claimed",
	[TS_RUNNING] = "running",   [TS_PAUSED] = "paused",   [TS_RETRYING] = "retrying",
	[TS_SUCCESS] = "success",   [TS_FAILURE] = "failure", [TS_CANCELED] = "canceled",
};

static const char *const status_wire[TS__COUNT] = {
	[TS_WAITING] = "Waiting",   [TS_PENDING] = "Pending", [TS_CLAIMED] = "Claimed",
	[TS_RUNNING] = "Running",   [TS_PAUSED] = "Paused",   [TS_RETRYING] = "RetryPending",
	[TS_SUCCESS] = "Success",   [TS_FAILURE] = "Failure", [TS_CANCELED] = "Canceled",
};

static const char *const trigger_db[] = { [TRIGGER_START] = "start", [TRIGGER_END] = "end",
                                          [TRIGGER_CANCEL] = "cancel" };
static const char *const trigger_wire[] = { [TRIGGER_START] = "Start", [TRIGGER_END] = "End",
                                            [TRIGGER_CANCEL] = "Cancel" };
static const char *const condition_db[] = { [COND_SUCCESS] = "success", [COND_FAILURE] = "failure" };

static const char *const delivery_db[DS__COUNT] = {
	[DS_PENDING] = "pending",   [DS_DELIVERING] = "delivering", [DS_RETRYING] = "retrying",
	[DS_SUCCESS] = "success",   [DS_EXHAUSTED] = "exhausted",
};

/* The API shows a leased delivery as still pending and a failed one that
 * will be retried as "failure". */
static const char *const delivery_wire[DS__COUNT] = {
	[DS_PENDING] = "pending",   [DS_DELIVERING] = "pending", [DS_RETRYING] = "failure",
	[DS_SUCCESS] = "success",   [DS_EXHAUSTED] = "exhausted",
};

static const char *const event_names[] = {
	[DELIVERY_END_SUCCESS] = "end_success", [DELIVERY_END_FAILURE] = "end_failure",
	[DELIVERY_CANCEL] = "cancel",           [DELIVERY_BATCH_COMPLETE] = "batch_complete",
};

/* Index of s in names[0..n), or -1. NULL never matches. */
static int lookup(const char *const *names, size_t n, const char *s)
{
	if (s == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

static const char *name_at(const char *const *names, size_t n, unsigned i)
{
	return i < n ? names[i] : "unknown";
}

const char *task_status_db(task_status s) { return name_at(status_db, ARRAY_LEN(status_db), (unsigned)s); }
const char *task_status_wire(task_status s) { return name_at(status_wire, ARRAY_LEN(status_wire), (unsigned)s); }

int task_status_from_db(const char *s, task_status *out)
{
	int i = lookup(status_db, ARRAY_LEN(status_db), s);
	if (i < 0)
		return -1;
	*out = (task_status)i;
	return 0;
}

int task_status_from_wire(const char *s, task_status *out)
{
	int i = lookup(status_wire, ARRAY_LEN(status_wire), s);
	if (i < 0)
		return -1;
	*out = (task_status)i;
	return 0;
}

const char *action_trigger_db(action_trigger t) { return name_at(trigger_db, ARRAY_LEN(trigger_db), (unsigned)t); }
const char *action_trigger_wire(action_trigger t) { return name_at(trigger_wire, ARRAY_LEN(trigger_wire), (unsigned)t); }

int action_trigger_from_db(const char *s, action_trigger *out)
{
	int i = lookup(trigger_db, ARRAY_LEN(trigger_db), s);
	if (i < 0)
		return -1;
	*out = (action_trigger)i;
	return 0;
}

const char *action_condition_db(action_condition c) { return name_at(condition_db, ARRAY_LEN(condition_db), (unsigned)c); }

int action_condition_from_db(const char *s, action_condition *out)
{
	int i = lookup(condition_db, ARRAY_LEN(condition_db), s);
	if (i < 0)
		return -1;
	*out = (action_condition)i;
	return 0;
}

const char *delivery_status_db(delivery_status s) { return name_at(delivery_db, ARRAY_LEN(delivery_db), (unsigned)s); }
const char *delivery_status_wire(delivery_status s) { return name_at(delivery_wire, ARRAY_LEN(delivery_wire), (unsigned)s); }

int delivery_status_from_db(const char *s, delivery_status *out)
{
	int i = lookup(delivery_db, ARRAY_LEN(delivery_db), s);
	if (i < 0)
		return -1;
	*out = (delivery_status)i;
	return 0;
}

const char *delivery_event_name(delivery_event e) { return name_at(event_names, ARRAY_LEN(event_names), (unsigned)e); }

int delivery_event_from_name(const char *s, delivery_event *out)
{
	int i = lookup(event_names, ARRAY_LEN(event_names), s);
	if (i < 0)
		return -1;
	*out = (delivery_event)i;
	return 0;
}

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
	t->name = t->kind = t->metadata = t->rules = t->failure_reason = NULL;
	t->group_name = t->retry_policy = NULL;
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
