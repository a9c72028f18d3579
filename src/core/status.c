/*
 * status.c — the names of the shared enums (status.h). The tables are
 * indexed by enum value.
 */
#include "util/common.h"
#include "core/status.h"
#include "core/error.h"

static const char *const status_names[TS__COUNT] = {
	[TS_WAITING] = "waiting",   [TS_PENDING] = "pending", [TS_CLAIMED] = "claimed",
	[TS_RUNNING] = "running",   [TS_PAUSED] = "paused",   [TS_RETRYING] = "retrying",
	[TS_SUCCESS] = "success",   [TS_FAILURE] = "failure", [TS_CANCELED] = "canceled",
	[TS_SKIPPED] = "skipped",
};

static const char *const status_labels[TS__COUNT] = {
	[TS_WAITING] = "Waiting",   [TS_PENDING] = "Pending", [TS_CLAIMED] = "Claimed",
	[TS_RUNNING] = "Running",   [TS_PAUSED] = "Paused",   [TS_RETRYING] = "RetryPending",
	[TS_SUCCESS] = "Success",   [TS_FAILURE] = "Failure", [TS_CANCELED] = "Canceled",
	[TS_SKIPPED] = "Skipped",
};

static const char *const trigger_names[] = { [TRIGGER_START] = "start", [TRIGGER_END] = "end",
                                             [TRIGGER_CANCEL] = "cancel" };
static const char *const condition_names[] = { [COND_SUCCESS] = "success", [COND_FAILURE] = "failure" };

static const char *const delivery_names[DS__COUNT] = {
	[DS_PENDING] = "pending",   [DS_DELIVERING] = "delivering", [DS_RETRYING] = "retrying",
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

/* Parses s against names into *out (an enum of int size). */
#define PARSE(names, s, out, type)                                  \
	do {                                                            \
		int i_ = lookup(names, ARRAY_LEN(names), s);                \
		if (i_ < 0)                                                 \
			return WEFT_EINVALID;                                   \
		*(out) = (type)i_;                                          \
		return 0;                                                   \
	} while (0)

const char *task_status_name(task_status s) { return name_at(status_names, TS__COUNT, (unsigned)s); }
const char *task_status_label(task_status s) { return name_at(status_labels, TS__COUNT, (unsigned)s); }
int task_status_parse(const char *s, task_status *out) { PARSE(status_names, s, out, task_status); }
int task_status_from_label(const char *s, task_status *out) { PARSE(status_labels, s, out, task_status); }

const char *action_trigger_name(action_trigger t)
{
	return name_at(trigger_names, ARRAY_LEN(trigger_names), (unsigned)t);
}
int action_trigger_parse(const char *s, action_trigger *out) { PARSE(trigger_names, s, out, action_trigger); }

const char *action_condition_name(action_condition c)
{
	return name_at(condition_names, ARRAY_LEN(condition_names), (unsigned)c);
}
int action_condition_parse(const char *s, action_condition *out)
{
	PARSE(condition_names, s, out, action_condition);
}

const char *delivery_status_name(delivery_status s)
{
	return name_at(delivery_names, DS__COUNT, (unsigned)s);
}
int delivery_status_parse(const char *s, delivery_status *out) { PARSE(delivery_names, s, out, delivery_status); }

const char *delivery_event_name(delivery_event e)
{
	return name_at(event_names, ARRAY_LEN(event_names), (unsigned)e);
}
int delivery_event_parse(const char *s, delivery_event *out) { PARSE(event_names, s, out, delivery_event); }
