/*
 * changes.c — GET /v1/changes: the change feed as server-sent events.
 *
 *   run=ID        the tasks of one run (a lone job is its own run)
 *   namespace=NS  the tasks of one namespace
 *   neither       every namespace the token may see
 *   after=CURSOR  resume after an event's id (as the Last-Event-ID header)
 *   follow=false  no stream: one JSON answer, {"tasks", "cursor", "reset"},
 *                 of the changes after the cursor kept now (a poll; the feed
 *                 keeps changes for a minute after each)
 *
 * `event: tasks`, data {"tasks":[...]}: the tasks whose status changed,
 * in commit order, as they are when read; `event: reset`, data {}: the
 * stream fell behind what the feed keeps (or its cursor is of an earlier
 * process), reload what is shown; a comment every 15 s. Every event has an
 * id: the cursor to resume after it. Without a cursor a stream starts
 * with the changes after it opened. See http/change_feed.h.
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/error.h"
#include "http/change_feed.h"
#include "http/decode.h"
#include "http/stream.h"
#include "http/tokens.h"
#include "http/v1/cursor.h"
#include "http/v1/errors.h"
#include "http/v1/shapes.h"
#include "http/wire.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "store/runs.h"

#define HEARTBEAT_US (15 * 1000000LL)
#define CURSOR_TAG "changes"

typedef struct changes_state {
	change_feed *feed;
	change_filter filter;
	char **namespaces;           /* the filter's, owned */
	uint64_t cursor;
	bool reset_first;            /* the cursor given was stale: say so first */
	int64_t last_write_us;
} changes_state;

static void put_id(buf *out, const change_feed *f, uint64_t seq)
{
	v1_cursor c = { .at = change_feed_epoch(f), .filters = v1_fingerprint(CURSOR_TAG), .position = (int64_t)seq };
	char text[V1_CURSOR_MAX];
	v1_cursor_encode(&c, text);
	buf_puts(out, "id: ");
	buf_puts(out, text);
	buf_putc(out, '\n');
}

static int changes_produce(void *arg, buf *out)
{
	changes_state *s = arg;
	change_feed_load(s->feed);
	buf tasks;
	buf_init(&tasks);
	int n = s->reset_first ? -1 : change_feed_read(s->feed, &s->filter, &s->cursor, &tasks);
	if (s->reset_first)
		s->cursor = change_feed_head(s->feed);
	s->reset_first = false;
	if (n < 0) {
		put_id(out, s->feed, s->cursor);
		buf_puts(out, "event: reset\ndata: {}\n\n");
	} else if (n > 0) {
		put_id(out, s->feed, s->cursor);
		buf_puts(out, "event: tasks\ndata: {\"tasks\":[");
		buf_append(out, tasks.data, tasks.len);
		buf_puts(out, "]}\n\n");
	}
	buf_release(&tasks);
	int64_t now = clock_mono_us();
	if (out->len == 0 && now - s->last_write_us >= HEARTBEAT_US)
		buf_puts(out, ": heartbeat\n\n");
	if (out->len > 0)
		s->last_write_us = now;
	return 1;
}

/* follow=false: what is kept after the cursor now, as one answer. */
static void respond_poll(http_request *r, changes_state *s)
{
	change_feed_polled(s->feed);
	change_feed_load(s->feed);
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"tasks\":[");
	int n = s->reset_first ? -1 : change_feed_read(s->feed, &s->filter, &s->cursor, &b);
	if (s->reset_first)
		s->cursor = change_feed_head(s->feed);
	buf_puts(&b, "],\"cursor\":");
	char text[V1_CURSOR_MAX];
	v1_cursor c = { .at = change_feed_epoch(s->feed), .filters = v1_fingerprint(CURSOR_TAG),
	                .position = (int64_t)s->cursor };
	v1_cursor_encode(&c, text);
	wire_str(&b, text);
	buf_puts(&b, ",\"reset\":");
	wire_bool(&b, n < 0);
	buf_putc(&b, '}');
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

static void changes_free(void *arg)
{
	changes_state *s = arg;
	change_feed_unsubscribe(s->feed);
	for (size_t i = 0; i < s->filter.nnamespaces; i++)
		free(s->namespaces[i]);
	free(s->namespaces);
	free(s);
}

static const http_stream_ops changes_ops = { changes_produce, changes_free };

static void wake_streams(void) { http_streams_wake(&changes_ops); }

/* The cursor given (query or header): 0 and *seq, a stale one (*stale),
 * or WEFT_EINVALID. */
static int take_cursor(http_request *r, http_query_src *src, const change_feed *f, uint64_t *seq, bool *stale,
                       bool *given)
{
	const char *text = src->get(src->ctx, "after");
	if (text == NULL)
		text = http_header_in(r, "Last-Event-ID");
	*given = text != NULL && text[0] != '\0';
	if (!*given)
		return 0;
	v1_cursor c;
	if (v1_cursor_decode(text, &c) != 0 || c.filters != v1_fingerprint(CURSOR_TAG) || c.position < 0)
		return http_error_set(http_err(r), WEFT_EINVALID, HTTP_ERR_RULE, "after", "not a cursor of this feed");
	*stale = c.at != change_feed_epoch(f);
	*seq = (uint64_t)c.position;
	return 0;
}

void v1_changes(http_request *r)
{
	http_query_src src = http_query_src_of(r);
	http_error *e = http_err(r);
	weft_id run;
	bool has_run = false;
	int rc = decode_query_id(&src, "run", e, &run, &has_run);
	const char *ns = decode_query_text(&src, "namespace");
	const char *follow = decode_query_text(&src, "follow");
	if (rc == 0 && follow != NULL && strcmp(follow, "true") != 0 && strcmp(follow, "false") != 0)
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "follow", "expected true or false");
	bool poll = follow != NULL && strcmp(follow, "false") == 0;
	if (rc == 0 && ns != NULL && strlen(ns) > NAMESPACE_MAX)
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "namespace", "longer than %d bytes", NAMESPACE_MAX);
	if (rc == 0 && ns != NULL && has_run)
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "namespace", "give run or namespace, not both");
	change_feed *f = http_change_feed(r, wake_streams);
	uint64_t seq = 0;
	bool stale = false, given = false;
	if (rc == 0)
		rc = take_cursor(r, &src, f, &seq, &stale, &given);
	if (rc == 0 && has_run) {
		store_conn *c = http_reader_after(r, rc);
		if (c == NULL)
			return;
		run_row row;
		memset(&row, 0, sizeof row);
		task_row lone;
		memset(&lone, 0, sizeof lone);
		rc = store_run_get(c, &run, &row);
		if (rc == 0 && !http_ns_visible(r, row.namespace))
			rc = WEFT_ENOTFOUND;
		/* A lone job (a task without a run) is a run of its own. */
		if (rc == WEFT_ENOTFOUND && (rc = store_task_get(c, &run, &lone)) == 0 &&
		    (id_is_set(&lone.batch_id) || !http_ns_visible(r, v1_task_namespace(&lone))))
			rc = WEFT_ENOTFOUND;
		store_reader_release(http_store(r), c);
		run_row_release(&row);
		task_row_release(&lone);
		if (rc == WEFT_ENOTFOUND) {
			v1_fail_not_found(r, "run", &run);
			return;
		}
	}
	if (rc != 0) {
		http_fail(r, rc);
		return;
	}
	changes_state *s = xcalloc(1, sizeof *s);
	s->feed = f;
	s->filter.has_run = has_run;
	s->filter.run = run;
	const http_token *tok = http_token_of(r);
	if (ns != NULL) {
		s->namespaces = xcalloc(1, sizeof *s->namespaces);
		/* A namespace the token may not see: a filter nothing passes (a
		 * list of none). */
		if (http_ns_visible(r, ns)) {
			s->namespaces[0] = xstrdup(ns);
			s->filter.nnamespaces = 1;
		}
		s->filter.namespaces = (const char *const *)s->namespaces;
	} else if (!has_run && tok != NULL && !tok->all_namespaces) {
		s->namespaces = xcalloc(tok->nnamespaces + 1, sizeof *s->namespaces);
		for (size_t i = 0; i < tok->nnamespaces; i++)
			s->namespaces[i] = xstrdup(tok->namespaces[i]);
		s->filter.nnamespaces = tok->nnamespaces;
		s->filter.namespaces = (const char *const *)s->namespaces;
	}
	s->cursor = given && !stale ? seq : change_feed_head(f);
	s->reset_first = given && stale;
	s->last_write_us = clock_mono_us();
	change_feed_subscribe(f);
	if (poll) {
		respond_poll(r, s);
		changes_free(s);
		return;
	}
	if (http_respond_stream(r, "text/event-stream", &changes_ops, s, http_config(r)->ui_streams_max) != 0)
		v1_fail_msg(r, WEFT_EOVERLOADED, NULL, "Too many change streams are open (UI_STREAMS_MAX); try again later.");
}
