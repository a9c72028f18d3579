/*
 * task_list.c — the query of GET /v1/tasks and the keyset scan (see
 * task_list.h).
 */
#include "util/common.h"
#include "http/v1/task_list.h"

#include "core/error.h"
#include "core/limits.h"
#include "http/decode.h"
#include "store/store.h"
#include "util/alloc.h"

/* ---- the query ------------------------------------------------------------------------ */

static int bad(http_error *e, const char *param, const char *why)
{
	return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, param, "%s", why);
}

static int decode_status(const char *s, unsigned *mask, http_error *e)
{
	char name[32];
	*mask = 0;
	for (const char *p = s;;) {
		size_t n = strcspn(p, ",");
		task_status st;
		if (n == 0 || n >= sizeof name)
			return bad(e, "status", "expected comma-separated statuses");
		memcpy(name, p, n);
		name[n] = '\0';
		if (task_status_parse(name, &st) != 0)
			return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "status",
			                      "unknown status '%s' (waiting, pending, claimed, running, paused, retrying, "
			                      "success, failure, canceled, skipped)", name);
		*mask |= TS_BIT(st);
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

static bool executor_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > V1_EXECUTOR_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	}
	return true;
}

static uint64_t query_fingerprint(const v1_task_query *q)
{
	buf b;
	buf_init(&b);
	buf_printf(&b, "tasks|ns=%s|queue=%s|status=%u|executor=%s|run=%s|after=%" PRId64 "|before=%" PRId64,
	           q->namespace ? q->namespace : "", q->queue ? q->queue : "", q->status_mask,
	           q->executor ? q->executor : "", q->has_run_id ? q->run_id.str : "", q->created_after,
	           q->created_before);
	uint64_t fp = v1_fingerprint(b.data);
	buf_release(&b);
	return fp;
}

int v1_task_query_decode(const http_query_src *q, v1_task_query *out, http_error *e)
{
	memset(out, 0, sizeof(*out));
	out->limit = V1_LIST_LIMIT_DEFAULT;
	const char *s;
	int rc = decode_query_int(q, "limit", 1, V1_LIST_LIMIT_MAX, e, &out->limit, NULL);
	if (rc != 0)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "limit", "expected an integer from 1 to %d",
		                      V1_LIST_LIMIT_MAX);
	if ((s = q->get(q->ctx, "namespace")) != NULL) {
		if (!namespace_valid(s))
			return bad(e, "namespace", "expected a namespace name [a-z0-9][a-z0-9_-]{0,62}");
		out->namespace = s;
	}
	if ((s = q->get(q->ctx, "queue")) != NULL) {
		if (!queue_name_valid(s))
			return bad(e, "queue", "expected a queue name [A-Za-z0-9][A-Za-z0-9._:-]{0,99}");
		out->queue = s;
	}
	if ((s = q->get(q->ctx, "status")) != NULL && (rc = decode_status(s, &out->status_mask, e)) != 0)
		return rc;
	if ((s = q->get(q->ctx, "executor")) != NULL) {
		if (!executor_valid(s))
			return bad(e, "executor", "expected an executor name such as queue or webhook");
		out->executor = s;
	}
	if ((s = q->get(q->ctx, "run_id")) != NULL) {
		if (id_parse(s, &out->run_id) != 0)
			return bad(e, "run_id", "expected a UUID");
		out->has_run_id = true;
	}
	if (decode_query_time(q, "created_after", e, &out->created_after) != 0)
		return bad(e, "created_after", "expected an RFC 3339 time");
	if (decode_query_time(q, "created_before", e, &out->created_before) != 0)
		return bad(e, "created_before", "expected an RFC 3339 time");
	out->fingerprint = query_fingerprint(out);
	if ((s = q->get(q->ctx, "cursor")) != NULL) {
		if (v1_cursor_take(s, out->fingerprint, e, &out->cursor) != 0)
			return WEFT_EINVALID;
		out->has_cursor = true;
	}
	return 0;
}

/* ---- the scan ------------------------------------------------------------------------- */

/* <0, 0, >0 as a's key is before, equal to, after b's in time order. */
static int key_cmp(int64_t a_at, const weft_id *a_id, int64_t b_at, const weft_id *b_id)
{
	if (a_at != b_at)
		return a_at < b_at ? -1 : 1;
	return strcmp(a_id->str, b_id->str);
}

static void page_push(v1_page *p, size_t *cap, task_row *t)
{
	if (p->n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		p->rows = xrealloc(p->rows, *cap * sizeof(*p->rows));
	}
	p->rows[p->n++] = *t;
	memset(t, 0, sizeof(*t));    /* moved */
}

int v1_scan(v1_rows_fn read, void *read_ctx, v1_keep_fn keep, void *keep_ctx, const v1_cursor *after,
            uint64_t fingerprint, size_t limit, v1_page *out)
{
	memset(out, 0, sizeof(*out));
	size_t cap = 0;
	int64_t window = (int64_t)MIN(MAX(limit + 1, (size_t)64), (size_t)V1_LIST_LIMIT_MAX + 1);
	size_t passed_max = 10 * limit, passed = 0;
	/* The key of the last row examined: the page goes on strictly after it. */
	bool has_last = after != NULL;
	int64_t last_at = after ? after->at : 0;
	weft_id last_id;
	memset(&last_id, 0, sizeof last_id);
	if (after != NULL)
		last_id = after->id;
	/* Where to read: one row before the position after the last row, so
	 * that the read shows it still continues from there. */
	int64_t start = after != NULL && after->position > 0 ? after->position - 1 : 0;
	int64_t last_pos = after != NULL ? after->position : 0;   /* the position after that row */
	int64_t back = window;
	bool done = false;
	int err = 0;

	for (int reads = 0; !done; reads++) {
		if (reads == V1_SCAN_READS_MAX) {
			out->more = has_last;  /* a short page; the cursor goes on from the last row seen */
			break;
		}
		task_row *rows = NULL;
		size_t n = 0;
		err = read(read_ctx, start, window, &rows, &n);
		if (err != 0)
			break;
		if (has_last && start > 0 &&
		    (n == 0 || key_cmp(rows[0].created_at, &rows[0].id, last_at, &last_id) < 0)) {
			/* Rows before start went away: unseen rows may lie before it. */
			store_free_tasks(rows, n);
			start = start > back ? start - back : 0;
			back *= 2;
			continue;
		}
		for (size_t i = 0; i < n && !done; i++) {
			task_row *t = &rows[i];
			if (has_last && key_cmp(t->created_at, &t->id, last_at, &last_id) >= 0)
				continue;   /* seen already, or newer than the cursor */
			v1_verdict v = keep(keep_ctx, t);
			if (v == V1_END) {
				out->more = false;
				done = true;
				break;
			}
			has_last = true;
			last_at = t->created_at;
			last_id = t->id;
			last_pos = start + (int64_t)i + 1;
			if (v == V1_TAKE)
				page_push(out, &cap, t);
			else
				passed++;
			if (out->n == limit || passed >= passed_max) {
				/* More may follow unless this was the listing's last row. */
				out->more = !(i + 1 == n && (int64_t)n < window);
				done = true;
			}
		}
		if (!done && (int64_t)n < window) {
			out->more = false;
			done = true;
		}
		if (!done)
			start += (int64_t)n - 1;
		store_free_tasks(rows, n);
	}
	if (err != 0) {
		v1_page_release(out);
		return err;
	}
	if (out->more) {
		out->next.at = last_at;
		out->next.id = last_id;
		out->next.filters = fingerprint;
		out->next.position = MAX(last_pos, (int64_t)1);
	}
	return 0;
}

void v1_page_release(v1_page *p)
{
	store_free_tasks(p->rows, p->n);
	memset(p, 0, sizeof(*p));
}
