/*
 * workflow_steps.c — GET /v1/workflows/{id}/steps: a run's memo
 * (docs/internals/workflows.md, "Tables"), the rows its steps, sleeps and
 * signal waits left, in the order they were first reached; `limit` (1 to
 * 1000, default 100) rows a page, `cursor` the next page.
 *
 * Memo rows are only appended, so a page goes on from an ordinal, as a
 * task's events do. A run of a namespace the token may not see is
 * answered as unknown.
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/error.h"
#include "http/decode.h"
#include "http/v1/cursor.h"
#include "http/v1/errors.h"
#include "http/v1/task_list.h"
#include "http/wire.h"
#include "store/workflows.h"

static void put_memo_row(buf *b, const workflow_step_row *s)
{
	buf_puts(b, "{\"kind\":");
	wire_str(b, s->kind);
	buf_puts(b, ",\"name\":");
	wire_str(b, s->name);
	buf_puts(b, ",\"seq\":");
	wire_i64(b, s->seq);
	buf_puts(b, ",\"status\":");
	wire_str(b, s->status);
	buf_puts(b, ",\"attempts\":");
	wire_i64(b, s->attempts);
	buf_puts(b, ",\"output\":");
	wire_raw(b, s->output, "null");
	buf_puts(b, ",\"error\":");
	v1_put_workflow_error(b, s->error_code, s->error_message);
	buf_puts(b, ",\"next_attempt_at\":");
	wire_ts(b, s->next_attempt_at);
	buf_puts(b, ",\"started_at\":");
	wire_ts(b, s->started_at);
	buf_puts(b, ",\"ended_at\":");
	wire_ts(b, s->ended_at);
	buf_putc(b, '}');
}

static void put_listed_memo_row(buf *b, const void *item)
{
	put_memo_row(b, item);
}

/* The query: 0 with *limit and *from, or WEFT_EINVALID recorded. */
static int decode_steps_query(http_request *r, uint64_t fp, int64_t *limit, int64_t *from)
{
	http_query_src q = http_query_src_of(r);
	http_error *e = http_err(r);
	*limit = V1_LIST_LIMIT_DEFAULT;
	*from = 0;
	if (decode_query_int(&q, "limit", 1, V1_LIST_LIMIT_MAX, e, limit, NULL) != 0)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "limit", "expected an integer from 1 to %d",
		                      V1_LIST_LIMIT_MAX);
	const char *text = q.get(q.ctx, "cursor");
	if (text == NULL)
		return 0;
	return v1_ordinal_cursor_take(text, fp, "this run's steps", e, from);
}

void v1_workflow_steps(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	char what[64];
	snprintf(what, sizeof what, "workflow-steps|%s", id->str);
	uint64_t fp = v1_fingerprint(what);
	int64_t limit, from;
	int rc = decode_steps_query(r, fp, &limit, &from);
	store_conn *c = http_reader_after(r, rc);
	if (c == NULL)
		return;
	workflow_run_row run;
	workflow_step_row *rows = NULL;
	size_t n = 0;
	rc = store_workflow_run_get(c, id, &run);
	if (rc == 0 && !http_ns_visible(r, run.namespace))
		rc = WEFT_ENOTFOUND;
	if (rc == 0)
		rc = store_workflow_step_list(c, id, from, (size_t)limit + 1, &rows, &n);
	store_reader_release(http_store(r), c);
	workflow_run_row_release(&run);
	if (rc == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "workflow", id);
	} else if (rc != 0) {
		http_fail_server(r, rc, "workflow steps");
	} else {
		size_t shown = MIN(n, (size_t)limit);
		int64_t next_at = from + (int64_t)shown;
		v1_cursor next = { .at = next_at, .filters = fp, .position = next_at };
		v1_respond_page(r, "steps", rows, shown, sizeof *rows, put_listed_memo_row, n > shown ? &next : NULL);
	}
	store_free_workflow_steps(rows, n);
}
