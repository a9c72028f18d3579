/*
 * task_logs.c — the /v1 routes of per-execution logs:
 *
 *   GET  /v1/tasks/{id}/logs   a task's lines in (attempt, seq) order, keyset pages:
 *                              attempt, stream, cursor, limit; with follow=true or
 *                              Accept: text/event-stream, server-sent events: the
 *                              stored lines, then new ones as they are committed,
 *                              until the task ended
 *   POST /v1/jobs/{id}/logs    the worker holding the job (lease_token) appends
 *                              1..1000 lines to its attempt
 *   GET  /v1/logs              the search across executions, newest first: namespace,
 *                              task_id, run_id, queue, stream, level, q (text), since,
 *                              until, cursor, limit
 *
 * Lines a worker sends are handed to the engine's log buffer
 * (engine/task_logs.h) and written with its next cycle: a line is
 * readable a cycle after it was accepted.
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/error.h"
#include "engine/task_logs.h"
#include "http/decode.h"
#include "http/stream.h"
#include "http/tokens.h"
#include "http/v1/cursor.h"
#include "http/v1/decode_job.h"
#include "http/v1/errors.h"
#include "http/v1/shapes.h"
#include "http/v1/task_list.h"
#include "http/wire.h"
#include "store/task_logs.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/json.h"

#define LOGS_POST_MAX_LINES 1000
/* A worker's line may be longer than a stored one: it is cut and marked. */
#define LOGS_POST_LINE_MAX (64 * 1024)
#define LOG_SEARCH_TEXT_MAX 256

static void put_line(buf *b, const task_log_entry *l, bool with_task)
{
	buf_puts(b, "{");
	if (with_task) {
		buf_puts(b, "\"task_id\":");
		wire_id(b, &l->task_id);
		buf_puts(b, ",\"namespace\":");
		wire_str(b, l->namespace);
		buf_puts(b, ",\"run_id\":");
		wire_str(b, l->run_id);
		buf_puts(b, ",\"queue\":");
		wire_str(b, l->queue);
		buf_putc(b, ',');
	}
	buf_puts(b, "\"attempt\":");
	wire_i64(b, l->attempt);
	buf_puts(b, ",\"seq\":");
	wire_i64(b, l->seq);
	buf_puts(b, ",\"stream\":");
	wire_str(b, l->stream);
	buf_puts(b, ",\"level\":");
	wire_str(b, l->level);
	buf_puts(b, ",\"at\":");
	wire_ts(b, l->at);
	buf_puts(b, ",\"text\":");
	wire_str(b, l->text);
	buf_putc(b, '}');
}

static int query_stream(http_query_src *src, http_error *e, const char **out)
{
	const char *s = decode_query_text(src, "stream");
	*out = NULL;
	if (s == NULL)
		return 0;
	if (log_stream_parse(s) < 0)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "stream", "expected stdout, stderr or system");
	*out = s;
	return 0;
}

static bool level_ok(const char *s)
{
	return strcmp(s, "debug") == 0 || strcmp(s, "info") == 0 || strcmp(s, "warn") == 0 || strcmp(s, "error") == 0;
}

/* ---- GET /v1/tasks/{id}/logs ---------------------------------------------------------------- */

/* The cursor's key (attempt, seq) as one ordinal: seq stays below 2^40. */
#define SEQ_BITS 40
/* A followed stream writes a comment when it wrote nothing for this long:
 * a client that went away is found by the write. */
#define FOLLOW_KEEPALIVE_US (15 * 1000000LL)
#define FOLLOW_PAGE 1000

/* A task's lines followed as server-sent events. */
typedef struct follow_state {
	store *st;
	weft_id id;
	int32_t attempt;
	char stream[8];              /* "" for every stream */
	uint64_t fp;                 /* the cursor fingerprint, as the pages' */
	int64_t after;               /* (attempt, seq) of the last line sent */
	bool ended_seen;             /* the task had ended at the last look */
	int64_t last_write_us;
} follow_state;

static void put_cursor(buf *b, uint64_t fp, int64_t key)
{
	v1_cursor next = { .at = key, .filters = fp, .position = key };
	char text[V1_CURSOR_MAX];
	v1_cursor_encode(&next, text);
	buf_puts(b, text);
}

/* Lines written since the last call; the end once the task ended and a
 * look after that found nothing more (its last lines are written no
 * later than its end). */
static int follow_produce(void *arg, buf *out)
{
	follow_state *f = arg;
	store_conn *c = store_reader_acquire(f->st);
	if (c == NULL)
		return -1;
	task_row t;
	memset(&t, 0, sizeof t);
	task_log_entry *rows = NULL;
	size_t n = 0;
	int rc = store_task_get(c, &f->id, &t);
	if (rc == 0)
		rc = store_task_logs_list(c, &f->id, f->attempt, f->stream[0] ? f->stream : NULL,
		                          (int32_t)(f->after >> SEQ_BITS), f->after & ((1LL << SEQ_BITS) - 1), FOLLOW_PAGE,
		                          &rows, &n);
	store_reader_release(f->st, c);
	int more = 1;
	if (rc != 0) {
		/* Gone (archived) or unreadable: the stream ends with why. */
		buf_printf(out, "event: end\ndata: {\"reason\":\"%s\"}\n\n", rc == WEFT_ENOTFOUND ? "gone" : "error");
		more = 0;
	}
	for (size_t i = 0; i < n; i++) {
		f->after = ((int64_t)rows[i].attempt << SEQ_BITS) | rows[i].seq;
		buf_puts(out, "id: ");
		put_cursor(out, f->fp, f->after);
		buf_puts(out, "\nevent: line\ndata: ");
		put_line(out, &rows[i], false);
		buf_puts(out, "\n\n");
	}
	bool ended = rc == 0 && (task_status_terminal(t.status) || (f->attempt > 0 && t.attempt > f->attempt));
	if (rc == 0 && n == 0 && ended && f->ended_seen) {
		buf_puts(out, "event: end\ndata: {\"status\":");
		wire_str(out, task_status_name(t.status));
		buf_puts(out, "}\n\n");
		more = 0;
	}
	if (rc == 0 && n < FOLLOW_PAGE)
		f->ended_seen = ended;
	int64_t now = clock_mono_us();
	if (out->len == 0 && now - f->last_write_us >= FOLLOW_KEEPALIVE_US)
		buf_puts(out, ": keepalive\n\n");
	if (out->len > 0)
		f->last_write_us = now;
	store_free_task_logs(rows, n);
	task_row_release(&t);
	return more;
}

static void follow_free(void *arg) { free(arg); }

static const http_stream_ops follow_ops = { follow_produce, follow_free };

static bool want_follow(http_request *r, http_query_src *src, http_error *e, int *rc)
{
	const char *v = decode_query_text(src, "follow");
	if (v != NULL && strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
		*rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "follow", "expected true or false");
		return false;
	}
	return (v != NULL && strcmp(v, "true") == 0) || (v == NULL && http_accepts_event_stream(r));
}

void v1_task_logs(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	http_query_src src = http_query_src_of(r);
	http_error *e = http_err(r);
	int64_t limit = V1_LIST_LIMIT_DEFAULT, attempt = 0;
	const char *stream = NULL;
	int rc = decode_query_int(&src, "limit", 1, V1_LIST_LIMIT_MAX, e, &limit, NULL);
	if (rc == 0)
		rc = decode_query_int(&src, "attempt", 1, INT32_MAX, e, &attempt, NULL);
	if (rc == 0)
		rc = query_stream(&src, e, &stream);
	bool follow = rc == 0 && want_follow(r, &src, e, &rc);
	char what[128];
	snprintf(what, sizeof what, "logs|%s|%" PRId64 "|%s", id->str, attempt, stream ? stream : "");
	uint64_t fp = v1_fingerprint(what);
	int64_t after = 0;
	const char *cur = src.get(src.ctx, "cursor");
	if (rc == 0 && cur != NULL)
		rc = v1_ordinal_cursor_take(cur, fp, "this task's logs", e, &after);
	store_conn *c = http_reader_after(r, rc);
	if (c == NULL)
		return;
	task_row t;
	memset(&t, 0, sizeof(t));
	task_log_entry *rows = NULL;
	size_t n = 0;
	rc = store_task_get(c, id, &t);
	if (rc == 0 && !http_ns_visible(r, v1_task_namespace(&t)))
		rc = WEFT_ENOTFOUND;
	else if (rc == 0 && !follow)   /* a follower's stream reads its own lines */
		rc = store_task_logs_list(c, id, (int32_t)attempt, stream, (int32_t)(after >> SEQ_BITS),
		                          after & ((1LL << SEQ_BITS) - 1), (size_t)limit + 1, &rows, &n);
	store_reader_release(http_store(r), c);
	if (rc == 0 && follow) {
		follow_state *f = xcalloc(1, sizeof *f);
		f->st = http_store(r);
		f->id = *id;
		f->attempt = (int32_t)attempt;
		snprintf(f->stream, sizeof f->stream, "%s", stream ? stream : "");
		f->fp = fp;
		f->after = after;
		f->last_write_us = clock_mono_us();
		if (http_respond_stream(r, "text/event-stream", &follow_ops, f, http_config(r)->log_streams_max) != 0)
			v1_fail_msg(r, WEFT_EOVERLOADED, NULL, "Too many log streams are open (LOG_STREAMS_MAX); try again later.");
	} else if (rc == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "task", id);
	} else if (rc != 0) {
		http_fail_server(r, rc, "task logs");
	} else {
		buf b;
		buf_init(&b);
		buf_puts(&b, "{\"task_id\":");
		wire_id(&b, id);
		buf_puts(&b, ",\"status\":");
		wire_str(&b, task_status_name(t.status));
		buf_puts(&b, ",\"attempt\":");
		wire_i64(&b, t.attempt);
		buf_puts(&b, ",\"lines\":[");
		size_t shown = MIN(n, (size_t)limit);
		for (size_t i = 0; i < shown; i++) {
			if (i)
				buf_putc(&b, ',');
			put_line(&b, &rows[i], false);
		}
		buf_puts(&b, "],\"next_cursor\":");
		/* A page goes on after its last line even when it was the last
		 * one so far: a follower keeps asking with it for new lines. */
		if (shown > 0 || cur != NULL) {
			int64_t key = shown > 0 ? ((int64_t)rows[shown - 1].attempt << SEQ_BITS) | rows[shown - 1].seq : after;
			v1_cursor next = { .at = key, .filters = fp, .position = key };
			char text[V1_CURSOR_MAX];
			v1_cursor_encode(&next, text);
			wire_str(&b, text);
		} else {
			buf_puts(&b, "null");
		}
		buf_puts(&b, ",\"more\":");
		wire_bool(&b, n > shown);
		buf_putc(&b, '}');
		http_respond_json(r, 200, &b);
		buf_release(&b);
	}
	store_free_task_logs(rows, n);
	task_row_release(&t);
}

/* ---- POST /v1/jobs/{id}/logs ---------------------------------------------------------------- */

static const char *const post_fields[] = { "lease_token", "lines", NULL };
static const char *const line_fields[] = { "text", "stream", "level", NULL };

void v1_job_logs_append(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	http_error *e = http_err(r);
	size_t len;
	const char *body = http_body(r, &len);
	json_t *doc = NULL, *arr = NULL;
	int64_t token = 0;
	char path[DECODE_PATH_MAX];
	int rc = decode_body_object(body, len, http_config(r)->json_max_depth, e, &doc);
	if (rc == 0) {
		decode_unknown_members(e, doc, "", post_fields);
		const char *tok = NULL;
		if (decode_str(e, doc, "", "lease_token", DECODE_REQUIRED, &tok) == 0 && tok != NULL &&
		    v1_parse_lease_token(tok, &token) != 0)
			http_error_detail(e, "lease_token: expected the lease_token the claim gave (a decimal string)");
		decode_array(e, doc, "", "lines", DECODE_REQUIRED, &arr, path);
		size_t n = arr ? json_array_size(arr) : 0;
		if (arr != NULL && (n < 1 || n > LOGS_POST_MAX_LINES))
			http_error_detail(e, "lines: expected 1 to %d lines, got %zu", LOGS_POST_MAX_LINES, n);
		rc = e->details.len ? WEFT_EINVALID : 0;
	}
	size_t n = rc == 0 ? json_array_size(arr) : 0, body_bytes = 0;
	task_log_line *lines = xcalloc(n ? n : 1, sizeof *lines);
	const char **levels = xcalloc(n ? n : 1, sizeof *levels);
	bool too_large = false;
	for (size_t i = 0; i < n; i++) {
		json_t *item = json_array_get(arr, i);
		char at[48];
		snprintf(at, sizeof at, "lines[%zu]", i);
		if (!json_is_object(item)) {
			http_error_detail(e, "%s: expected an object", at);
			continue;
		}
		decode_unknown_members(e, item, at, line_fields);
		const char *text = NULL, *stream = NULL, *level = NULL;
		if (decode_str(e, item, at, "text", DECODE_REQUIRED, &text) == 0 && text != NULL &&
		    strlen(text) > LOGS_POST_LINE_MAX) {
			http_error_detail(e, "%s.text: longer than %d bytes", at, LOGS_POST_LINE_MAX);
			too_large = true;
		}
		decode_str(e, item, at, "stream", 0, &stream);
		decode_str(e, item, at, "level", 0, &level);
		if (stream != NULL && log_stream_parse(stream) != LOG_STDOUT && log_stream_parse(stream) != LOG_STDERR)
			http_error_detail(e, "%s.stream: expected stdout or stderr", at);
		if (level != NULL && !level_ok(level))
			http_error_detail(e, "%s.level: expected debug, info, warn or error", at);
		lines[i].task_id = *id;
		lines[i].stream = stream != NULL ? (log_stream)log_stream_parse(stream) : LOG_STDOUT;
		lines[i].text = text != NULL ? text : "";
		lines[i].len = strlen(lines[i].text);
		body_bytes += lines[i].len;
		levels[i] = level;
	}
	if (rc == 0 && e->details.len)
		rc = too_large ? WEFT_ETOOLARGE : WEFT_EINVALID;
	store_conn *c = http_reader_after(r, rc);
	if (c == NULL)
		goto out;
	task_row t;
	memset(&t, 0, sizeof(t));
	rc = store_task_get(c, id, &t);
	store_reader_release(http_store(r), c);
	if (rc == 0 && !http_ns_visible(r, v1_task_namespace(&t)))
		rc = WEFT_ENOTFOUND;
	if (rc == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "job", id);
	} else if (rc != 0) {
		http_fail_server(r, rc, "job logs");
	} else if (t.status != TS_RUNNING || t.lease_token != token) {
		/* Fenced as every report is: only the lease's holder writes. */
		v1_fail_msg(r, WEFT_ECONFLICT, "stale_lease",
		            "The job is not running under this lease_token: its lease was lost or it ended.");
	} else if (!task_logs_room(http_engine(r), id, t.attempt, n, body_bytes)) {
		/* The worker can wait: refused, nothing is dropped. */
		v1_fail_msg(r, WEFT_EOVERLOADED, "log_buffer_full",
		            "The job's log lines are written more slowly than they come: send these again shortly.");
	} else {
		int64_t now = clock_now_us();
		for (size_t i = 0; i < n; i++) {
			lines[i].attempt = t.attempt;
			lines[i].at = now;
		}
		int full = task_logs_append_levels(http_engine(r), lines, levels, n);
		buf b;
		buf_init(&b);
		buf_puts(&b, "{\"accepted\":");
		wire_i64(&b, (int64_t)n);
		buf_puts(&b, ",\"attempt\":");
		wire_i64(&b, t.attempt);
		buf_puts(&b, ",\"dropped\":");
		wire_bool(&b, full == WEFT_EFULL);
		buf_putc(&b, '}');
		http_respond_json(r, 200, &b);
		buf_release(&b);
	}
	task_row_release(&t);
out:
	free(lines);
	free(levels);
	json_decref(doc);
}

/* ---- GET /v1/logs --------------------------------------------------------------------------- */

void v1_search_logs(http_request *r)
{
	http_query_src src = http_query_src_of(r);
	http_error *e = http_err(r);
	task_log_query q = { 0 };
	int64_t limit = V1_LIST_LIMIT_DEFAULT;
	weft_id task;
	bool has_task = false;
	int rc = decode_query_int(&src, "limit", 1, V1_LIST_LIMIT_MAX, e, &limit, NULL);
	if (rc == 0)
		rc = decode_query_id(&src, "task_id", e, &task, &has_task);
	if (rc == 0)
		rc = query_stream(&src, e, &q.stream);
	if (rc == 0)
		rc = decode_query_time(&src, "since", e, &q.since);
	if (rc == 0)
		rc = decode_query_time(&src, "until", e, &q.until);
	const char *ns = decode_query_text(&src, "namespace");
	q.run_id = decode_query_text(&src, "run_id");
	q.queue = decode_query_text(&src, "queue");
	q.level = decode_query_text(&src, "level");
	q.text = decode_query_text(&src, "q");
	if (rc == 0 && q.level != NULL && !level_ok(q.level))
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "level", "expected debug, info, warn or error");
	if (rc == 0 && q.text != NULL && strlen(q.text) > LOG_SEARCH_TEXT_MAX)
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "q", "longer than %d bytes", LOG_SEARCH_TEXT_MAX);
	if (rc == 0 && ((q.run_id && strlen(q.run_id) > 64) || (q.queue && strlen(q.queue) > TASK_KIND_MAX) ||
	                (ns && strlen(ns) > NAMESPACE_MAX)))
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, q.run_id && strlen(q.run_id) > 64 ? "run_id"
		                                                     : ns && strlen(ns) > NAMESPACE_MAX ? "namespace"
		                                                                                        : "queue",
		                    "too long");
	if (has_task)
		q.task_id = &task;
	/* Namespaces: the one asked for (when visible), else every visible one. */
	const char *one[1];
	const http_token *tok = http_token_of(r);
	if (ns != NULL) {
		one[0] = ns;
		q.namespaces = one;
		q.nnamespaces = 1;
		if (rc == 0 && !http_ns_visible(r, ns))
			q.nnamespaces = 0;   /* nothing to see */
	} else if (tok != NULL && !tok->all_namespaces) {
		q.namespaces = (const char *const *)tok->namespaces;
		q.nnamespaces = tok->nnamespaces;
	}
	char what[1024];
	snprintf(what, sizeof what, "search|%s|%s|%s|%s|%s|%s|%s|%" PRId64 "|%" PRId64, ns ? ns : "",
	         has_task ? task.str : "", q.run_id ? q.run_id : "", q.queue ? q.queue : "", q.stream ? q.stream : "",
	         q.level ? q.level : "", q.text ? q.text : "", q.since, q.until);
	uint64_t fp = v1_fingerprint(what);
	const char *cur = src.get(src.ctx, "cursor");
	if (rc == 0 && cur != NULL) {
		v1_cursor c;
		if (v1_cursor_decode(cur, &c) != 0 || !id_is_set(&c.id) || c.filters != fp || c.position < 0) {
			rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "cursor", "not a cursor of this search");
		} else {
			q.has_after = true;
			q.after_at = c.at;
			q.after_task = c.id;
			q.after_attempt = (int32_t)(c.position >> SEQ_BITS);
			q.after_seq = c.position & ((1LL << SEQ_BITS) - 1);
		}
	}
	q.limit = (size_t)limit + 1;
	task_log_entry *rows = NULL;
	size_t n = 0;
	if (rc == 0 && q.namespaces != NULL && q.nnamespaces == 0) {
		/* A namespace the token may not see: an empty answer. */
	} else {
		store_conn *c = http_reader_after(r, rc);
		if (c == NULL)
			return;
		rc = store_task_logs_search(c, &q, &rows, &n);
		store_reader_release(http_store(r), c);
		if (rc != 0) {
			http_fail_server(r, rc, "log search");
			return;
		}
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"lines\":[");
	size_t shown = MIN(n, (size_t)limit);
	for (size_t i = 0; i < shown; i++) {
		if (i)
			buf_putc(&b, ',');
		put_line(&b, &rows[i], true);
	}
	buf_puts(&b, "],\"next_cursor\":");
	if (n > shown) {
		const task_log_entry *l = &rows[shown - 1];
		v1_cursor next = { .at = l->at, .id = l->task_id, .filters = fp,
		                   .position = ((int64_t)l->attempt << SEQ_BITS) | l->seq };
		char text[V1_CURSOR_MAX];
		v1_cursor_encode(&next, text);
		wire_str(&b, text);
	} else {
		buf_puts(&b, "null");
	}
	buf_putc(&b, '}');
	http_respond_json(r, 200, &b);
	buf_release(&b);
	store_free_task_logs(rows, n);
}
