/*
 * shapes.c — TaskDto, BasicTaskDto, ActionDto and status counts (see
 * shapes.h). Error bodies are in errors.c.
 */
#include "util/common.h"
#include "http/arcrun/shapes.h"

#include "http/arcrun/names.h"
#include "http/wire.h"

/* status_counts keys: ArcRun's 8 in its order, then weft's. "pending"
 * also counts the retrying tasks, "success" the skipped ones (see
 * arcrun_put_status_counts). */
static const struct {
	const char *key;
	task_status status;
} count_keys[] = {
	{ "waiting", TS_WAITING }, { "pending", TS_PENDING }, { "claimed", TS_CLAIMED },
	{ "running", TS_RUNNING }, { "success", TS_SUCCESS }, { "failure", TS_FAILURE },
	{ "paused", TS_PAUSED },   { "canceled", TS_CANCELED }, { "retrying", TS_RETRYING },
	{ "skipped", TS_SKIPPED },
};

/* ,"success":N,"failures":N,"expected_count":N|null */
static void put_counters(buf *b, const task_row *t)
{
	buf_puts(b, ",\"success\":");
	wire_i64(b, t->success);
	buf_puts(b, ",\"failures\":");
	wire_i64(b, t->failures);
	buf_puts(b, ",\"expected_count\":");
	wire_i64_opt(b, t->has_expected_count, t->expected_count);
}

/* {"id":...,"name":...,"kind":...,"status":"<S>" — how both DTOs start. */
static void put_head(buf *b, const task_row *t)
{
	buf_puts(b, "{\"id\":");
	wire_id(b, &t->id);
	buf_puts(b, ",\"name\":");
	wire_str(b, t->name);
	buf_puts(b, ",\"kind\":");
	wire_str(b, t->kind);
	buf_puts(b, ",\"status\":\"");
	buf_puts(b, arcrun_status_name(t->status));
	buf_putc(b, '"');
}

/* ,"batch_id":...,"dead_end_barrier":...,"priority":N,"attempt":N,"group":...
 * — the common end of BasicTaskDto and TaskDto; TaskDto (full) goes on
 * with "start_after", "retry" and "next_retry_at". Does not close the
 * object. */
static void put_tail(buf *b, const task_row *t, bool full)
{
	buf_puts(b, ",\"batch_id\":");
	wire_id(b, &t->batch_id);
	buf_puts(b, ",\"dead_end_barrier\":");
	wire_bool(b, t->dead_end_barrier);
	buf_puts(b, ",\"priority\":");
	wire_i64(b, t->priority);
	buf_puts(b, ",\"attempt\":");
	wire_i64(b, t->attempt);
	buf_puts(b, ",\"group\":");
	wire_str(b, t->group_name);
	buf_puts(b, ",\"state\":\"");
	buf_puts(b, task_status_name(t->status));
	buf_putc(b, '"');
	if (full) {
		buf_puts(b, ",\"start_after\":");
		wire_ts(b, t->start_after);
		buf_puts(b, ",\"retry\":");
		wire_raw(b, t->retry_policy, "null");
		buf_puts(b, ",\"next_retry_at\":");
		wire_ts(b, t->status == TS_RETRYING ? t->next_retry_at : 0);
	}
}

void arcrun_put_basic(buf *b, const task_row *t)
{
	put_head(b, t);
	buf_puts(b, ",\"created_at\":");
	wire_ts(b, t->created_at);
	buf_puts(b, ",\"started_at\":");
	wire_ts(b, t->started_at);
	put_counters(b, t);
	buf_puts(b, ",\"ended_at\":");
	wire_ts(b, t->ended_at);
	put_tail(b, t, false);
	buf_putc(b, '}');
}

void arcrun_put_basic_item(buf *b, const void *item)
{
	arcrun_put_basic(b, item);
}

/* TaskDto up to and including `"actions":[`; the caller writes the
 * actions, then calls put_task_tail. */
static void put_task_head(buf *b, const task_row *t)
{
	put_head(b, t);
	buf_puts(b, ",\"timeout\":");
	wire_i64(b, t->timeout_secs);
	buf_puts(b, ",\"rules\":");
	wire_raw(b, t->rules, "[]");
	buf_puts(b, ",\"metadata\":");
	wire_raw(b, t->metadata, "null");
	buf_puts(b, ",\"actions\":[");
}

static void put_task_tail(buf *b, const task_row *t)
{
	buf_puts(b, "],\"created_at\":");
	wire_ts(b, t->created_at);
	buf_puts(b, ",\"started_at\":");
	wire_ts(b, t->started_at);
	buf_puts(b, ",\"ended_at\":");
	wire_ts(b, t->ended_at);
	buf_puts(b, ",\"last_updated\":");
	wire_ts(b, t->last_updated);
	put_counters(b, t);
	buf_puts(b, ",\"failure_reason\":");
	wire_str(b, t->failure_reason);
	put_tail(b, t, true);
}

/* ActionDto: no condition on the wire, so on_success and on_failure both
 * show as End. weft adds "delivery", the record of its last delivery, null
 * while it never fired. */
static void put_action(buf *b, bool first, const action_row *a)
{
	buf_puts(b, first ? "{\"kind\":\"Webhook\",\"trigger\":\"" : ",{\"kind\":\"Webhook\",\"trigger\":\"");
	buf_puts(b, arcrun_trigger_name(a->trigger));
	buf_puts(b, "\",\"params\":");
	wire_raw(b, a->params, "{}");
	if (!a->has_delivery) {
		buf_puts(b, ",\"delivery\":null}");
		return;
	}
	buf_puts(b, ",\"delivery\":{\"status\":");
	wire_str(b, arcrun_delivery_name(a->delivery));
	buf_puts(b, ",\"attempts\":");
	wire_i64(b, a->attempts);
	buf_puts(b, ",\"last_http_status\":");
	wire_i64_or_null(b, a->last_http_status);
	buf_puts(b, ",\"last_error\":");
	wire_str(b, a->last_error);
	buf_puts(b, ",\"last_attempt_at\":");
	wire_ts(b, a->last_attempt_at);
	buf_puts(b, "}}");
}

void arcrun_put_task(buf *b, const arcrun_task_view *v)
{
	put_task_head(b, v->task);
	for (size_t i = 0; i < v->nactions; i++)
		put_action(b, i == 0, &v->actions[i]);
	put_task_tail(b, v->task);
	if (v->blocked_reason != NULL) {
		buf_puts(b, ",\"blocked_reason\":");
		wire_str(b, v->blocked_reason);
	}
	buf_putc(b, '}');
}

/* An action just created: no delivery yet. */
static void put_new_action(buf *b, bool first, action_trigger trig, char *params)
{
	action_row a;
	memset(&a, 0, sizeof(a));
	a.trigger = trig;
	a.params = params;
	put_action(b, first, &a);
}

void arcrun_put_new_task(buf *b, const new_task *t, const weft_id *batch)
{
	task_row v;
	memset(&v, 0, sizeof(v));
	v.id = t->id;
	v.batch_id = *batch;
	v.name = t->name;
	v.kind = t->kind;
	v.status = t->status;
	v.timeout_secs = t->timeout_secs;
	v.created_at = v.last_updated = t->created_at;
	v.metadata = t->metadata;
	v.rules = t->rules;
	v.has_expected_count = t->has_expected_count;
	v.expected_count = t->expected_count;
	v.dead_end_barrier = t->dead_end_barrier;
	v.priority = t->priority;
	v.group_name = t->group;
	v.start_after = t->start_after;
	v.retry_policy = t->retry_policy;
	v.attempt = t->attempt;

	put_task_head(b, &v);
	put_new_action(b, true, TRIGGER_START, t->on_start);
	for (size_t i = 0; i < t->non_failure; i++)
		put_new_action(b, false, TRIGGER_END, t->on_failure[i]);
	for (size_t i = 0; i < t->non_success; i++)
		put_new_action(b, false, TRIGGER_END, t->on_success[i]);
	put_task_tail(b, &v);
	buf_putc(b, '}');
}

static int64_t sum_saturated(int64_t a, int64_t b)
{
	int64_t sum;
	if (__builtin_add_overflow(a, b, &sum))
		sum = b < 0 ? INT64_MIN : INT64_MAX;
	return sum;
}

int64_t arcrun_pending_count(const int64_t counts[TS__COUNT])
{
	return sum_saturated(counts[TS_PENDING], counts[TS_RETRYING]);
}

void arcrun_put_status_counts(buf *b, const int64_t counts[TS__COUNT])
{
	buf_putc(b, '{');
	for (size_t i = 0; i < ARRAY_LEN(count_keys); i++) {
		task_status s = count_keys[i].status;
		buf_puts(b, i ? ",\"" : "\"");
		buf_puts(b, count_keys[i].key);
		buf_puts(b, "\":");
		wire_i64(b, s == TS_PENDING ? arcrun_pending_count(counts)
		            : s == TS_SUCCESS ? sum_saturated(counts[TS_SUCCESS], counts[TS_SKIPPED])
		                              : counts[s]);
	}
	buf_putc(b, '}');
}
