/*
 * queues.c — the /v1 queue routes: list and read queues with their
 * figures, change their limits, pause and resume them.
 *
 *   GET   /v1/queues                 namespace?, cursor?, limit? (1..100)
 *   GET   /v1/queues/{name}          namespace?
 *   PATCH /v1/queues/{name}          namespace?; {"concurrency_limit", "key_concurrency_limit",
 *                                    "rate_limit": {"limit", "period_ms", "burst"}}, null removes
 *   POST  /v1/queues/{name}/pause    namespace?
 *   POST  /v1/queues/{name}/resume   namespace?
 *
 * A queue is named by its name in the path and its namespace in the query
 * (default: the token's only namespace, else "default"). A queue of a
 * namespace the token may not see is answered as unknown (404); changes
 * need an admin token (403 otherwise). Changes are engine commands
 * (engine/commands/queues.h) recorded with the token as actor; the answer
 * is the queue as read after the commit.
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/error.h"
#include "engine/commands/queues.h"
#include "http/decode.h"
#include "http/tokens.h"
#include "http/v1/cursor.h"
#include "http/v1/errors.h"
#include "http/wire.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/json.h"
#include "store/queues.h"

/* Bounds of a queue's limits (also in openapi.json). */
#define QUEUE_CONCURRENCY_MAX 1000000
#define QUEUE_RATE_LIMIT_MAX 1000000
#define QUEUE_RATE_PERIOD_MS_MAX 86400000        /* a day */
#define QUEUE_RATE_BURST_MAX 1000000
#define QUEUE_LIST_LIMIT_DEFAULT 100
#define QUEUE_LIST_LIMIT_MAX 100
/* Changes of configuration shown with a queue. */
#define QUEUE_RECENT_CHANGES 10

/* ---- answers -------------------------------------------------------------------------- */

static void put_limit(buf *b, const char *key, int64_t v)
{
	buf_printf(b, ",\"%s\":", key);
	wire_i64_or_null(b, v);
}

static void put_windows(buf *b, const char *key, const int64_t v[QUEUE_WINDOWS])
{
	buf_printf(b, "\"%s\":{", key);
	for (int w = 0; w < QUEUE_WINDOWS; w++)
		buf_printf(b, "%s\"%dm\":%" PRId64, w ? "," : "", queue_stats_window_minutes(w), v[w]);
	buf_putc(b, '}');
}

/* A queue with its figures (and its recent changes when given). */
static void put_queue(buf *b, const queue_row *q, const queue_stats *s, int64_t now, const queue_event *ev,
                      size_t nev, bool with_changes)
{
	buf_puts(b, "{\"namespace\":");
	wire_str(b, q->namespace);
	buf_puts(b, ",\"name\":");
	wire_str(b, q->name);
	buf_puts(b, ",\"paused\":");
	wire_bool(b, q->paused);
	put_limit(b, "concurrency_limit", q->limits.concurrency);
	put_limit(b, "key_concurrency_limit", q->limits.key_concurrency);
	buf_puts(b, ",\"rate_limit\":");
	if (q->limits.rate_limit > 0)
		buf_printf(b, "{\"limit\":%" PRId64 ",\"period_ms\":%" PRId64 ",\"burst\":%" PRId64 "}",
		           q->limits.rate_limit, q->limits.rate_period_ms, q->limits.rate_burst);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"created_at\":");
	wire_ts_ms(b, q->created_at);
	buf_puts(b, ",\"updated_at\":");
	wire_ts_ms(b, q->updated_at);
	buf_puts(b, ",\"updated_by\":");
	if (q->updated_by)
		wire_str(b, q->updated_by);
	else
		buf_puts(b, "null");
	buf_printf(b,
	           ",\"depth\":{\"ready\":%" PRId64 ",\"scheduled\":%" PRId64 ",\"running\":%" PRId64
	           ",\"retrying\":%" PRId64 ",\"paused\":%" PRId64 ",\"dead\":%" PRId64 "}",
	           s->ready, s->scheduled, s->running, s->retrying, s->paused, s->dead);
	buf_puts(b, ",\"oldest_ready_age_ms\":");
	if (s->oldest_ready_at > 0)
		wire_i64(b, MAX(now - s->oldest_ready_at, 0) / 1000);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"throughput\":{");
	put_windows(b, "completed", s->completed);
	buf_putc(b, ',');
	put_windows(b, "failed", s->failed);
	buf_putc(b, ',');
	put_windows(b, "dead_lettered", s->dead_lettered);
	buf_putc(b, '}');
	if (with_changes) {
		buf_puts(b, ",\"recent_changes\":[");
		for (size_t i = 0; i < nev; i++) {
			buf_puts(b, i ? ",{\"at\":" : "{\"at\":");
			wire_ts_ms(b, ev[i].at);
			buf_puts(b, ",\"actor\":");
			wire_str(b, ev[i].actor);
			buf_puts(b, ",\"action\":");
			wire_str(b, ev[i].action);
			buf_puts(b, ",\"detail\":");
			wire_raw(b, ev[i].detail, "null");
			buf_putc(b, '}');
		}
		buf_putc(b, ']');
	}
	buf_putc(b, '}');
}

/* A paused queue's ready jobs are held by the pause: they count as paused. */
static void held_by_pause(const queue_row *q, queue_stats *s)
{
	if (q->paused) {
		s->paused = s->ready;
		s->ready = 0;
	}
}

/* Reads one queue with its figures and answers it: 200, or 404 when it
 * has no row. */
static void answer_queue(http_request *r, store_conn *c, const char *ns, const char *name)
{
	int64_t now = clock_now_us();
	queue_row q;
	queue_stats s;
	queue_event *ev = NULL;
	size_t nev = 0;
	int rc = store_queue_get(c, ns, name, &q);
	if (rc == 0)
		rc = store_queue_stats(c, ns, name, now, &s);
	if (rc == 0)
		held_by_pause(&q, &s);
	if (rc == 0)
		rc = store_queue_events(c, ns, name, QUEUE_RECENT_CHANGES, &ev, &nev);
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND) {
		v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No queue %s in namespace %s.", name, ns);
	} else if (rc != 0) {
		http_fail_server(r, rc, "queue read");
	} else {
		buf b;
		buf_init(&b);
		put_queue(&b, &q, &s, now, ev, nev, true);
		http_respond_json(r, 200, &b);
		buf_release(&b);
	}
	queue_row_release(&q);         /* zeroed by a read that found nothing */
	store_free_queue_events(ev, nev);
}

/* The namespace of a queue route: ?namespace=, else the token's default.
 * NULL after answering: 400 for a malformed one, 404 for one the token may
 * not see (its queues do not exist for it). */
static const char *queue_namespace(http_request *r, const char *name)
{
	const char *ns = http_query(r, "namespace");
	if (ns != NULL && !namespace_valid(ns)) {
		http_error_set(http_err(r), WEFT_EINVALID, HTTP_ERR_RULE, "namespace",
		               "expected a namespace name [a-z0-9][a-z0-9_-]{0,62}");
		http_fail(r, WEFT_EINVALID);
		return NULL;
	}
	if (ns == NULL)
		ns = http_default_ns(r);
	if (!http_ns_visible(r, ns)) {
		v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No queue %s in namespace %s.", name, ns);
		return NULL;
	}
	return ns;
}

/* The queue name of the path: NULL after answering 400. */
static const char *queue_name(http_request *r)
{
	const char *name = http_param_text(r, 0);
	if (name == NULL || !queue_name_valid(name)) {
		http_error_set(http_err(r), WEFT_EINVALID, HTTP_ERR_RULE, NULL,
		               "name: expected a queue name [A-Za-z0-9][A-Za-z0-9._:-]{0,99}");
		http_fail(r, WEFT_EINVALID);
		return NULL;
	}
	return name;
}

/* ---- GET /v1/queues/{name} -------------------------------------------------------------- */

void v1_get_queue(http_request *r)
{
	const char *name = queue_name(r);
	const char *ns = name ? queue_namespace(r, name) : NULL;
	if (ns == NULL)
		return;
	store_conn *c = http_reader(r);
	if (c != NULL)
		answer_queue(r, c, ns, name);
}

/* ---- GET /v1/queues ------------------------------------------------------------------------- */

/* The cursor: base64url of "q1|<namespace>|<name>" of the last queue given. */
static void cursor_encode(const queue_row *q, char *out, size_t cap)
{
	char text[8 + NAMESPACE_MAX + TASK_KIND_MAX];
	int n = snprintf(text, sizeof text, "q1|%s|%s", q->namespace, q->name);
	if (n < 0 || (size_t)n >= sizeof text || 4 * (((size_t)n + 2) / 3) + 1 > cap) {
		out[0] = '\0';
		return;
	}
	v1_base64url_encode((const unsigned char *)text, (size_t)n, out);
}

static int cursor_decode(const char *cur, char ns[NAMESPACE_MAX + 1], char name[TASK_KIND_MAX + 1])
{
	unsigned char text[8 + NAMESPACE_MAX + TASK_KIND_MAX + 4];
	if (strlen(cur) > 4 * sizeof text / 3)
		return -1;
	long n = v1_base64url_decode(cur, text, sizeof text - 1);
	if (n < 4)
		return -1;
	text[n] = '\0';
	const char *s = (const char *)text;
	const char *bar = strchr(s + 3, '|');
	if (strncmp(s, "q1|", 3) != 0 || bar == NULL || (size_t)(bar - s - 3) > NAMESPACE_MAX)
		return -1;
	memcpy(ns, s + 3, (size_t)(bar - s - 3));
	ns[bar - s - 3] = '\0';
	snprintf(name, TASK_KIND_MAX + 1, "%s", bar + 1);
	return namespace_valid(ns) && queue_name_valid(name) ? 0 : -1;
}

void v1_list_queues(http_request *r)
{
	http_query_src src = http_query_src_of(r);
	http_error *e = http_err(r);
	int64_t limit = QUEUE_LIST_LIMIT_DEFAULT;
	int rc = decode_query_int(&src, "limit", 1, QUEUE_LIST_LIMIT_MAX, e, &limit, NULL);
	if (rc != 0)
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "limit", "expected an integer from 1 to %d",
		                    QUEUE_LIST_LIMIT_MAX);
	const char *ns = http_query(r, "namespace");
	if (rc == 0 && ns != NULL && !namespace_valid(ns))
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "namespace",
		                    "expected a namespace name [a-z0-9][a-z0-9_-]{0,62}");
	char after_ns[NAMESPACE_MAX + 1] = "", after_name[TASK_KIND_MAX + 1] = "";
	const char *cur = http_query(r, "cursor");
	if (rc == 0 && cur != NULL && cursor_decode(cur, after_ns, after_name) != 0)
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "cursor", "not a cursor of this list");
	if (rc == 0 && ns != NULL && !http_ns_visible(r, ns)) {
		v1_fail_namespace(r, ns);
		return;
	}
	store_conn *c = http_reader_after(r, rc);
	if (c == NULL)
		return;
	/* The namespaces listed: the one asked for, else the token's (all
	 * without a token or with "*"). */
	const char *const *names = NULL;
	size_t nnames = 0;
	if (ns != NULL) {
		names = &ns;
		nnames = 1;
	} else if (!http_ns_all(r)) {
		const http_token *t = http_token_of(r);
		names = (const char *const *)t->namespaces;
		nnames = t->nnamespaces;
	}
	queue_row *rows = NULL;
	size_t n = 0;
	int64_t now = clock_now_us();
	rc = store_queue_list(c, names, nnames, after_ns, after_name, (size_t)limit + 1, &rows, &n);
	bool more = n > (size_t)limit;
	n = MIN(n, (size_t)limit);
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"queues\":[");
	for (size_t i = 0; i < n && rc == 0; i++) {
		queue_stats s;
		rc = store_queue_stats(c, rows[i].namespace, rows[i].name, now, &s);
		if (rc == 0) {
			held_by_pause(&rows[i], &s);
			if (i > 0)
				buf_putc(&b, ',');
			put_queue(&b, &rows[i], &s, now, NULL, 0, false);
		}
	}
	store_reader_release(http_store(r), c);
	buf_puts(&b, "],\"next_cursor\":");
	if (more && n > 0) {
		char text[V1_CURSOR_MAX * 2];
		cursor_encode(&rows[n - 1], text, sizeof text);
		wire_str(&b, text);
	} else {
		buf_puts(&b, "null");
	}
	buf_putc(&b, '}');
	store_free_queues(rows, more ? n + 1 : n);
	if (rc != 0)
		http_fail_server(r, rc, "queue list");
	else
		http_respond_json(r, 200, &b);
	buf_release(&b);
}

/* ---- changes ------------------------------------------------------------------------------- */

typedef struct queue_state {
	cmd_queue cmd;
	char ns[NAMESPACE_MAX + 1];
	char name[TASK_KIND_MAX + 1];
	char *detail;
} queue_state;

static void queue_state_free(void *p)
{
	queue_state *s = p;
	free(s->detail);
	free(s);
}

static void finish_change(http_request *r, engine_cmd *cmd, void *state)
{
	queue_state *s = state;
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	store_conn *c = http_reader(r);
	if (c != NULL)
		answer_queue(r, c, s->ns, s->name);
}

/* Common to the three changes: the queue, its namespace, the admin check.
 * NULL after answering. */
static queue_state *change_begin(http_request *r, queue_action action)
{
	const char *name = queue_name(r);
	const char *ns = name ? queue_namespace(r, name) : NULL;
	if (ns == NULL)
		return NULL;
	if (!http_admin(r)) {
		v1_fail_msg(r, WEFT_EFORBIDDEN, NULL, "Changing a queue needs an admin token.");
		return NULL;
	}
	queue_state *s = xcalloc(1, sizeof *s);
	snprintf(s->ns, sizeof s->ns, "%s", ns);
	snprintf(s->name, sizeof s->name, "%s", name);
	cmd_queue_init(&s->cmd, action);
	s->cmd.base.actor = http_actor(r);
	s->cmd.namespace = s->ns;
	s->cmd.name = s->name;
	return s;
}

void v1_pause_queue(http_request *r)
{
	queue_state *s = change_begin(r, QUEUE_PAUSE);
	if (s != NULL)
		http_submit(r, &s->cmd.base, s, finish_change, queue_state_free);
}

void v1_resume_queue(http_request *r)
{
	queue_state *s = change_begin(r, QUEUE_RESUME);
	if (s != NULL)
		http_submit(r, &s->cmd.base, s, finish_change, queue_state_free);
}

/* An optional limit member: absent (nothing), null (removed: 0 with the
 * bit), or an integer in 1..max. */
static int decode_limit(http_error *e, const json_t *body, const char *key, int64_t max, unsigned bit,
                        int64_t *out, unsigned *set)
{
	const json_t *v = json_object_get(body, key);
	if (v == NULL)
		return 0;
	*set |= bit;
	if (json_is_null(v)) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max)
		return decode_problem(e, NULL, key, "expected an integer from 1 to %" PRId64 ", or null to remove it",
		                      max);
	*out = json_integer_value(v);
	return 0;
}

static int decode_bounded(http_error *e, const json_t *obj, const char *key, int64_t max, bool required,
                          int64_t *out)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL) {
		if (required)
			return decode_problem(e, "rate_limit", key, "missing field");
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max)
		return decode_problem(e, "rate_limit", key, "expected an integer from 1 to %" PRId64, max);
	*out = json_integer_value(v);
	return 0;
}

/* The PATCH body: WEFT_EINVALID with every problem named by its field. */
static int decode_patch(const json_t *body, queue_limits *l, unsigned *set, http_error *e)
{
	memset(l, 0, sizeof *l);
	*set = 0;
	int bad = 0;
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)body, key, v) {
		if (strcmp(key, "concurrency_limit") != 0 && strcmp(key, "key_concurrency_limit") != 0 &&
		    strcmp(key, "rate_limit") != 0)
			bad |= decode_problem(e, NULL, key, "unknown field; expected concurrency_limit, "
			                                    "key_concurrency_limit or rate_limit");
	}
	bad |= decode_limit(e, body, "concurrency_limit", QUEUE_CONCURRENCY_MAX, QUEUE_SET_CONCURRENCY,
	                    &l->concurrency, set);
	bad |= decode_limit(e, body, "key_concurrency_limit", QUEUE_CONCURRENCY_MAX, QUEUE_SET_KEY_CONCURRENCY,
	                    &l->key_concurrency, set);
	const json_t *rl = json_object_get(body, "rate_limit");
	if (rl != NULL) {
		*set |= QUEUE_SET_RATE;
		if (json_is_object(rl)) {
			json_object_foreach((json_t *)rl, key, v) {
				if (strcmp(key, "limit") != 0 && strcmp(key, "period_ms") != 0 && strcmp(key, "burst") != 0)
					bad |= decode_problem(e, "rate_limit", key,
					                      "unknown field; expected limit, period_ms or burst");
			}
			l->rate_period_ms = 1000;
			bad |= decode_bounded(e, rl, "limit", QUEUE_RATE_LIMIT_MAX, true, &l->rate_limit);
			bad |= decode_bounded(e, rl, "period_ms", QUEUE_RATE_PERIOD_MS_MAX, false, &l->rate_period_ms);
			l->rate_burst = l->rate_limit;
			bad |= decode_bounded(e, rl, "burst", QUEUE_RATE_BURST_MAX, false, &l->rate_burst);
		} else if (!json_is_null(rl)) {
			bad |= decode_type_error(e, "rate_limit", "an object or null", rl);
		}
	}
	if (!bad && *set == 0)
		bad = decode_problem(e, NULL, "body", "expected at least one of concurrency_limit, "
		                                     "key_concurrency_limit, rate_limit");
	return bad ? WEFT_EINVALID : 0;
}

void v1_patch_queue(http_request *r)
{
	queue_state *s = change_begin(r, QUEUE_CONFIGURE);
	if (s == NULL)
		return;
	size_t len;
	const char *text = http_body(r, &len);
	json_t *body = NULL;
	int rc = decode_body_object(text, len, http_config(r)->json_max_depth, http_err(r), &body);
	if (rc == 0)
		rc = decode_patch(body, &s->cmd.limits, &s->cmd.set, http_err(r));
	if (rc != 0) {
		json_decref(body);
		queue_state_free(s);
		http_fail(r, rc);
		return;
	}
	s->detail = json_dump_compact(body);
	s->cmd.detail = s->detail;
	json_decref(body);
	http_submit(r, &s->cmd.base, s, finish_change, queue_state_free);
}
