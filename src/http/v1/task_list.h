/*
 * task_list.h — GET /v1/tasks: its query, and the keyset scan that pages
 * through tasks newest first without ever skipping or repeating one.
 *
 * The scan reads the store's task listing (newest first along
 * (created_at, id), by offset) and decides by key, not by offset: a page
 * starts right after its cursor's key, and a read counts only when it
 * begins at a row at or before that key (else rows before it went away
 * and it looks further back). So rows inserted or removed while a client
 * pages move offsets but never make a page skip or repeat a row; the
 * cursor's position is only a hint of where to look.
 *
 * Filters the store does not apply are applied here; a page stops after
 * 10 × limit rows that do not match, so it may be short, and only
 * next_cursor null ends the list.
 */
#ifndef WEFT_HTTP_V1_TASK_LIST_H
#define WEFT_HTTP_V1_TASK_LIST_H

#include "util/common.h"
#include "http/http.h"
#include "http/v1/cursor.h"
#include "store/model.h"

#define V1_LIST_LIMIT_DEFAULT 100
#define V1_LIST_LIMIT_MAX 1000
/* Reads one scan may make before it answers a page, short if need be. */
#define V1_SCAN_READS_MAX 64
#define V1_EXECUTOR_NAME_MAX 32

typedef struct v1_task_query {
	const char *namespace;       /* exact; NULL = every namespace the token sees */
	const char *queue;           /* exact (jobs only); NULL = any */
	unsigned status_mask;        /* TS_BIT()s; 0 = any */
	const char *executor;        /* exact; NULL = any */
	bool has_run_id;
	weft_id run_id;
	int64_t created_after;       /* inclusive µs; 0 = none */
	int64_t created_before;      /* exclusive µs; 0 = none */
	bool has_cursor;
	v1_cursor cursor;
	int64_t limit;
	uint64_t fingerprint;        /* of the filters above, cursor and limit aside */
} v1_task_query;

/* Decodes the query parameters: namespace, queue, status (comma-separated
 * names), executor, run_id, created_after, created_before, cursor, limit
 * (1..V1_LIST_LIMIT_MAX, default V1_LIST_LIMIT_DEFAULT). Strings are
 * borrowed from q. 0, or WEFT_EINVALID naming the parameter; a cursor
 * made with other filters is refused. */
int v1_task_query_decode(const http_query_src *q, v1_task_query *out, http_error *e);

/* ---- the scan ---------------------------------------------------------------------- */

/* Reads rows [offset, offset + limit) of the listing, newest first along
 * (created_at, id); *rows owned by the caller (store_free_tasks). */
typedef int (*v1_rows_fn)(void *ctx, int64_t offset, int64_t limit, task_row **rows, size_t *n);

typedef enum v1_verdict {
	V1_TAKE,                     /* on the page */
	V1_PASS,                     /* not for this list */
	V1_END,                      /* neither this row nor any after it (older) */
} v1_verdict;
typedef v1_verdict (*v1_keep_fn)(void *ctx, const task_row *t);

typedef struct v1_page {
	task_row *rows;              /* owned */
	size_t n;
	bool more;                   /* next is the cursor of the next page */
	v1_cursor next;
} v1_page;

/* Up to limit rows after `after` (NULL: from the newest), as keep says.
 * The next cursor carries fingerprint. 0, or the reader's error. */
int v1_scan(v1_rows_fn read, void *read_ctx, v1_keep_fn keep, void *keep_ctx, const v1_cursor *after,
            uint64_t fingerprint, size_t limit, v1_page *out);
void v1_page_release(v1_page *p);

#endif
