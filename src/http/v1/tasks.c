/*
 * tasks.c — the /v1 task reads: one task or job, the list (keyset pages,
 * task_list.h), and a task's audit trail. Reads go to a store reader; a
 * task of a namespace the token may not see is answered as unknown.
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/error.h"
#include "http/decode.h"
#include "http/tokens.h"
#include "http/v1/cursor.h"
#include "http/v1/errors.h"
#include "http/v1/shapes.h"
#include "http/v1/task_list.h"
#include "http/wire.h"
#include "store/store.h"
#include "store/jobs.h"

/* ---- GET /v1/tasks/{id} ------------------------------------------------------------ */

void v1_get_task(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	/* The store answers a task of a namespace the token may not see as
	 * unknown. */
	const http_token *tok = http_token_of(r);
	const char *const *names = NULL;
	size_t nnames = 0;
	if (!http_ns_all(r)) {
		names = (const char *const *)tok->namespaces;
		nnames = tok->nnamespaces;
	}
	job_detail d;
	int rc = store_job_get(c, id, names, nnames, &d);
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "task", id);
	} else if (rc != 0) {
		http_fail_server(r, rc, "task read");
	} else {
		v1_task_view v = { .task = &d.task, .detail = true, .input = d.input, .result = d.result,
			           .max_attempts = d.max_attempts, .attempts = d.attempts, .nattempts = d.nattempts };
		buf b;
		buf_init(&b);
		v1_put_task(&b, &v);
		http_respond_json(r, 200, &b);
		buf_release(&b);
		job_detail_release(&d);
	}
}

/* ---- GET /v1/tasks ------------------------------------------------------------------ */

typedef struct list_ctx {
	http_request *r;
	store_conn *c;
	const v1_task_query *q;
	task_filter filter;           /* what the store applies */
} list_ctx;

static int list_read(void *ctx, int64_t offset, int64_t limit, task_row **rows, size_t *n)
{
	list_ctx *l = ctx;
	return store_task_list(l->c, &l->filter, offset, limit, rows, n);
}

static v1_verdict list_keep(void *ctx, const task_row *t)
{
	const list_ctx *l = ctx;
	const v1_task_query *q = l->q;
	if (q->created_after != 0 && t->created_at < q->created_after)
		return V1_END;          /* and every row after it, older */
	if (q->created_before != 0 && t->created_at >= q->created_before)
		return V1_PASS;
	const char *ns = v1_task_namespace(t);
	if (q->namespace != NULL ? strcmp(ns, q->namespace) != 0 : !http_ns_visible(l->r, ns))
		return V1_PASS;
	if (q->queue != NULL && (!v1_task_is_job(t) || strcmp(t->kind, q->queue) != 0))
		return V1_PASS;
	if (q->executor != NULL && strcmp(t->executor != NULL ? t->executor : "webhook", q->executor) != 0)
		return V1_PASS;
	return V1_TAKE;
}

void v1_list_tasks(http_request *r)
{
	v1_task_query q;
	http_query_src src = http_query_src_of(r);
	int rc = v1_task_query_decode(&src, &q, http_err(r));
	if (rc == 0 && q.namespace != NULL && !http_ns_visible(r, q.namespace)) {
		v1_fail_namespace(r, q.namespace);
		return;
	}
	store_conn *c = http_reader_after(r, rc);
	if (c == NULL)
		return;
	list_ctx l = { .r = r, .c = c, .q = &q };
	l.filter.kind = q.queue;          /* a substring here; list_keep wants it exact */
	l.filter.status_mask = q.status_mask;
	l.filter.batch_id = q.has_run_id ? &q.run_id : NULL;
	v1_page page;
	rc = v1_scan(list_read, &l, list_keep, &l, q.has_cursor ? &q.cursor : NULL, q.fingerprint, (size_t)q.limit,
	             &page);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		http_fail_server(r, rc, "task list");
		return;
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"tasks\":[");
	for (size_t i = 0; i < page.n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		v1_task_view v = { .task = &page.rows[i], .max_attempts = v1_task_max_attempts(&page.rows[i]) };
		v1_put_task(&b, &v);
	}
	buf_puts(&b, "],\"next_cursor\":");
	if (page.more) {
		char cur[V1_CURSOR_MAX];
		v1_cursor_encode(&page.next, cur);
		wire_str(&b, cur);
	} else {
		buf_puts(&b, "null");
	}
	buf_putc(&b, '}');
	v1_page_release(&page);
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

/* ---- GET /v1/tasks/{id}/events -------------------------------------------------------- */

/* The trail only grows at its end, so a page goes on from an ordinal. */
static void put_listed_event(buf *b, const void *item)
{
	v1_put_event(b, item);
}

void v1_task_events(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	http_query_src src = http_query_src_of(r);
	http_error *e = http_err(r);
	char what[64];
	snprintf(what, sizeof what, "events|%s", id->str);
	uint64_t fp = v1_fingerprint(what);
	int64_t limit = V1_LIST_LIMIT_DEFAULT, from = 0;
	int rc = decode_query_int(&src, "limit", 1, V1_LIST_LIMIT_MAX, e, &limit, NULL);
	if (rc != 0)
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "limit", "expected an integer from 1 to %d",
		                    V1_LIST_LIMIT_MAX);
	const char *cur = src.get(src.ctx, "cursor");
	if (rc == 0 && cur != NULL)
		rc = v1_ordinal_cursor_take(cur, fp, "this task's events", e, &from);
	store_conn *c = http_reader_after(r, rc);
	if (c == NULL)
		return;
	task_row t;
	memset(&t, 0, sizeof(t));
	task_event *ev = NULL;
	size_t n = 0;
	rc = store_task_get(c, id, &t);
	if (rc == 0 && http_ns_visible(r, v1_task_namespace(&t)))
		rc = store_task_events(c, id, &ev, &n);
	else if (rc == 0)
		rc = WEFT_ENOTFOUND;
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "task", id);
	} else if (rc != 0) {
		http_fail_server(r, rc, "task events");
	} else {
		size_t start = (size_t)MIN((int64_t)n, from);
		size_t end = (size_t)MIN((int64_t)n, from + limit);
		v1_cursor next = { .at = (int64_t)end, .filters = fp, .position = (int64_t)end };
		const task_event *page = n > 0 ? ev + start : NULL; /* ev is NULL when there are none */
		v1_respond_page(r, "events", page, end - start, sizeof *ev, put_listed_event, end < n ? &next : NULL);
	}
	store_free_events(ev, n);
	task_row_release(&t);
}
