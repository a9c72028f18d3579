/*
 * metrics_history.c — GET /v1/metrics/history?since=&until= (RFC 3339;
 * default the last hour): what the server counted, step by step
 * (engine/history.h). A range that starts within the last hour is answered
 * from this process's memory in steps of 10 s; an older one from the
 * database's rows, a minute each, every node's summed. At most 31 days at
 * once. The counts cover every namespace: a token limited to some
 * namespaces is refused (403).
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/error.h"
#include "engine/history.h"
#include "http/decode.h"
#include "http/v1/errors.h"
#include "http/wire.h"
#include "store/metrics_history.h"
#include "util/alloc.h"
#include "util/clock.h"

#define HOUR_US (3600 * 1000000LL)
#define RANGE_MAX_US (31 * 24 * HOUR_US)

static void put_latency(buf *b, const char *key, int64_t ms)
{
	buf_printf(b, ",\"%s\":", key);
	if (ms < 0)
		buf_puts(b, "null");
	else
		wire_i64(b, ms);
}

static void put_sample(buf *b, const metrics_sample *s)
{
	buf_puts(b, "{\"at\":");
	wire_ts_ms(b, s->at);
	buf_puts(b, ",\"created\":");
	wire_i64(b, s->created);
	buf_puts(b, ",\"completed\":");
	wire_i64(b, s->completed);
	buf_puts(b, ",\"failed\":");
	wire_i64(b, s->failed);
	buf_puts(b, ",\"retried\":");
	wire_i64(b, s->retried);
	put_latency(b, "latency_p50_ms", s->latency_p50_ms);
	put_latency(b, "latency_p95_ms", s->latency_p95_ms);
	put_latency(b, "latency_p99_ms", s->latency_p99_ms);
	buf_puts(b, ",\"queue_depth\":");
	wire_i64(b, s->queue_depth);
	buf_puts(b, ",\"running\":");
	wire_i64(b, s->running);
	buf_putc(b, '}');
}

void v1_metrics_history(http_request *r)
{
	http_query_src q = http_query_src_of(r);
	http_error *e = http_err(r);
	int64_t now = clock_now_us(), since = 0, until = 0;
	int rc = decode_query_time(&q, "since", e, &since);
	if (rc == 0)
		rc = decode_query_time(&q, "until", e, &until);
	if (until == 0)
		until = now;
	if (since == 0)
		since = until - HOUR_US;
	if (rc == 0 && since >= until)
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "since", "must be before until");
	if (rc == 0 && until - since > RANGE_MAX_US)
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "since", "at most 31 days before until");
	if (rc != 0) {
		http_fail(r, rc);
		return;
	}
	if (!http_ns_all(r)) {
		v1_fail_msg(r, WEFT_EFORBIDDEN, NULL, "The metrics history covers every namespace: it needs a token that "
		                                      "sees them all.");
		return;
	}
	bool memory = since >= now - HOUR_US;
	metrics_sample *rows = NULL;
	size_t n = 0;
	if (memory) {
		rows = xcalloc(HISTORY_MEMORY_STEPS, sizeof *rows);
		n = history_recent(since, until, rows, HISTORY_MEMORY_STEPS);
	} else {
		store_conn *c = http_reader(r);
		if (c == NULL)
			return;
		rc = store_metrics_history_list(c, since, until, (size_t)(RANGE_MAX_US / HISTORY_MINUTE_US), &rows, &n);
		store_reader_release(http_store(r), c);
		if (rc != 0) {
			http_fail_server(r, rc, "metrics history");
			return;
		}
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"step_secs\":");
	wire_i64(&b, (memory ? HISTORY_STEP_US : HISTORY_MINUTE_US) / 1000000);
	buf_puts(&b, ",\"samples\":[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		put_sample(&b, &rows[i]);
	}
	buf_puts(&b, "]}");
	http_respond_json(r, 200, &b);
	buf_release(&b);
	free(rows);
}
