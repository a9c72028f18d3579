/*
 * task_deliveries.c — GET /v1/tasks/{id}/deliveries: the webhook calls of
 * a task's actions (its start call, its end and cancel webhooks), oldest
 * first, as stored: a call is one entry with its attempts counted and the
 * last attempt's outcome (HTTP status, error); the attempts one by one are
 * not kept. At most DELIVERIES_MAX entries.
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/error.h"
#include "http/v1/errors.h"
#include "http/v1/shapes.h"
#include "http/wire.h"

#define DELIVERIES_MAX 1000

static const char *action_of(const char *kind)
{
	if (strcmp(kind, "start") == 0)
		return "on_start";
	return strcmp(kind, "cancel") == 0 ? "on_cancel" : "on_end";
}

static void put_delivery(buf *b, const task_webhook_call *d)
{
	buf_puts(b, "{\"action\":");
	wire_str(b, action_of(d->kind));
	buf_puts(b, ",\"event\":");
	wire_str(b, d->kind);
	buf_puts(b, ",\"attempt\":");
	wire_i64(b, d->attempts);
	buf_puts(b, ",\"max_attempts\":");
	wire_i64_or_null(b, d->max_attempts);
	buf_puts(b, ",\"status\":");
	wire_str(b, d->status);
	buf_puts(b, ",\"http_status\":");
	wire_i64_or_null(b, d->http_status);
	buf_puts(b, ",\"error\":");
	wire_str(b, d->error);
	buf_puts(b, ",\"started_at\":");
	wire_ts_ms(b, d->created_at);
	buf_puts(b, ",\"ended_at\":");
	wire_ts_ms(b, d->ended_at);
	buf_putc(b, '}');
}

void v1_task_deliveries(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	task_row t;
	memset(&t, 0, sizeof t);
	task_webhook_call *rows = NULL;
	size_t n = 0;
	int rc = store_task_get(c, id, &t);
	if (rc == 0 && !http_ns_visible(r, v1_task_namespace(&t)))
		rc = WEFT_ENOTFOUND;
	if (rc == 0)
		rc = store_task_deliveries(c, id, DELIVERIES_MAX, &rows, &n);
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "task", id);
	} else if (rc != 0) {
		http_fail_server(r, rc, "task deliveries");
	} else {
		buf b;
		buf_init(&b);
		buf_puts(&b, "{\"task_id\":");
		wire_id(&b, id);
		buf_puts(&b, ",\"deliveries\":[");
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				buf_putc(&b, ',');
			put_delivery(&b, &rows[i]);
		}
		buf_puts(&b, "]}");
		http_respond_json(r, 200, &b);
		buf_release(&b);
	}
	store_free_task_deliveries(rows, n);
	task_row_release(&t);
}
