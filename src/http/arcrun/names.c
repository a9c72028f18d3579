/*
 * names.c — see names.h.
 */
#include "util/common.h"
#include "http/arcrun/names.h"
#include "core/error.h"

static const char *const trigger_names[] = { [TRIGGER_START] = "Start", [TRIGGER_END] = "End",
                                             [TRIGGER_CANCEL] = "Cancel" };

static const char *const delivery_names[DS__COUNT] = {
	[DS_PENDING] = "pending",   [DS_DELIVERING] = "pending", [DS_RETRYING] = "failure",
	[DS_SUCCESS] = "success",   [DS_EXHAUSTED] = "exhausted",
};

const char *arcrun_status_name(task_status s)
{
	if (s == TS_RETRYING)
		return task_status_label(TS_PENDING);
	return task_status_label(s == TS_SKIPPED ? TS_SUCCESS : s);
}

int arcrun_status_parse(const char *s, task_status *out) { return task_status_from_label(s, out); }

int arcrun_status_filter(const char *s, unsigned *mask)
{
	task_status st;
	if (arcrun_status_parse(s, &st) != 0)
		return WEFT_EINVALID;
	*mask = TS_BIT(st) | (st == TS_PENDING ? TS_BIT(TS_RETRYING) : 0) | (st == TS_SUCCESS ? TS_BIT(TS_SKIPPED) : 0);
	return 0;
}

const char *arcrun_trigger_name(action_trigger t)
{
	return (unsigned)t < ARRAY_LEN(trigger_names) ? trigger_names[t] : "unknown";
}

const char *arcrun_delivery_name(delivery_status s)
{
	return (unsigned)s < DS__COUNT ? delivery_names[s] : "unknown";
}

int arcrun_delivery_filter(const char *word, unsigned *mask)
{
	unsigned m = 0;
	for (unsigned s = 0; s < DS__COUNT && word != NULL; s++)
		if (strcmp(delivery_names[s], word) == 0)
			m |= 1u << s;
	if (m == 0)
		return WEFT_EINVALID;
	*mask = m;
	return 0;
}
