/*
 * workers.c — the /v1 worker registry: the workers that claimed or
 * heartbeated (table worker, written by claims and heartbeats), their
 * jobs in flight counted from running rows, and drain (admin), an engine
 * command (engine/commands/operator.h).
 *
 * A worker's state: "draining" once told to drain; else "stale" when it
 * has not been seen for WORKER_STALE_MS (a claim waits at most
 * CLAIM_WAIT_MAX_MS, and a holder heartbeats every lease/3); else
 * "active". Worker ids are unique per namespace: a request that names no
 * namespace finds the worker in the namespaces the token sees (the first
 * in name order when several have one of that id).
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/error.h"
#include "engine/commands/operator.h"
#include "http/decode.h"
#include "http/tokens.h"
#include "http/v1/cursor.h"
#include "http/v1/errors.h"
#include "http/v1/task_list.h"
#include "http/wire.h"
#include "store/store.h"
#include "store/operator.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/json.h"

/* A worker not seen for this long is stale: twice the longest claim wait. */
#define WORKER_STALE_MS (2LL * CLAIM_WAIT_MAX_MS)

static const char *worker_state(const worker_row *w, int64_t now)
{
	if (w->draining)
		return "draining";
	return now - w->last_seen_at > WORKER_STALE_MS * 1000 ? "stale" : "active";
}

static void put_worker(buf *b, const worker_row *w, int64_t now)
{
	buf_puts(b, "{\"id\":");
	wire_str(b, w->id);
	buf_puts(b, ",\"namespace\":");
	wire_str(b, w->namespace);
	buf_puts(b, ",\"hostname\":");
	if (w->hostname != NULL)
		wire_str(b, w->hostname);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"queues\":");
	buf_puts(b, w->queues);       /* stored as a JSON array by the claims */
	buf_puts(b, ",\"in_flight\":");
	wire_i64(b, w->in_flight);
	buf_puts(b, ",\"first_seen_at\":");
	wire_ts_ms(b, w->first_seen_at);
	buf_puts(b, ",\"last_heartbeat_at\":");
	wire_ts_ms(b, w->last_seen_at);
	buf_puts(b, ",\"state\":");
	wire_str(b, worker_state(w, now));
	buf_putc(b, '}');
}

/* Whether a worker's queues (a JSON array) include queue. */
static bool serves_queue(const worker_row *w, const char *queue)
{
	json_t *q = json_parse_text(w->queues);
	bool found = false;
	size_t i;
	json_t *v;
	json_array_foreach(q, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), queue) == 0)
			found = true;
	}
	json_decref(q);
	return found;
}

/* The namespace filter of a request: the one it names (which the token
 * must see: false after answering 403), or the token's namespaces. */
static bool namespace_filter(http_request *r, const char *ns, worker_filter *f)
{
	if (ns != NULL) {
		if (!http_ns_visible(r, ns)) {
			v1_fail_namespace(r, ns);
			return false;
		}
		f->namespace = ns;
		return true;
	}
	static const char *const none[] = { "" };
	const http_token *t = http_token_of(r);
	if (t != NULL && !t->all_namespaces) {
		f->visible = t->nnamespaces > 0 ? (const char *const *)t->namespaces : none;
		f->nvisible = t->nnamespaces;
	}
	return true;
}

/* ---- GET /v1/workers -------------------------------------------------------------------- */

/* A page's cursor: base64url of "<namespace>\n<id>" of its last worker. */
static void worker_cursor(const worker_row *w, char *out, size_t cap)
{
	char key[NAMESPACE_MAX + WORKER_ID_MAX + 2];
	int n = snprintf(key, sizeof key, "%s\n%s", w->namespace, w->id);
	char text[4 * ((sizeof key + 2) / 3) + 1];
	v1_base64url_encode((const unsigned char *)key, (size_t)n, text);
	snprintf(out, cap, "%s", text);
}

void v1_workers(http_request *r)
{
	http_query_src src = http_query_src_of(r);
	http_error *e = http_err(r);
	const char *ns = decode_query_text(&src, "namespace");
	const char *queue = decode_query_text(&src, "queue");
	const char *cur = src.get(src.ctx, "cursor");
	int64_t limit = V1_LIST_LIMIT_DEFAULT;
	int rc = 0;
	if (ns != NULL && !namespace_valid(ns))
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "namespace", "must match [a-z0-9][a-z0-9_-]{0,62}");
	if (rc == 0 && queue != NULL && !queue_name_valid(queue))
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "queue", "not a queue name");
	if (rc == 0 && decode_query_int(&src, "limit", 1, V1_LIST_LIMIT_MAX, e, &limit, NULL) != 0)
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "limit", "expected an integer from 1 to %d",
		                    V1_LIST_LIMIT_MAX);
	char key[NAMESPACE_MAX + WORKER_ID_MAX + 2] = "";
	char *after_id = NULL;
	if (rc == 0 && cur != NULL) {
		long n = strlen(cur) < 4 * sizeof key / 3
		                 ? v1_base64url_decode(cur, (unsigned char *)key, sizeof key - 1)
		                 : -1;
		if (n > 0) {
			key[n] = '\0';
			after_id = strchr(key, '\n');
		}
		if (after_id == NULL)
			rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "cursor", "not a cursor of this list");
		else
			*after_id++ = '\0';
	}
	if (rc != 0) {
		http_fail(r, rc);
		return;
	}
	worker_filter f = { .limit = (size_t)limit + 1, .after_namespace = after_id ? key : NULL,
		            .after_id = after_id };
	if (!namespace_filter(r, ns, &f))
		return;
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	worker_row *rows = NULL;
	size_t n = 0;
	rc = store_workers(c, &f, &rows, &n);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		http_fail_server(r, rc, "workers");
		return;
	}
	/* The queue filter reads the stored arrays: a page may be short, and
	 * only next_cursor null ends the list. */
	bool more = n > (size_t)limit;
	size_t shown = more ? (size_t)limit : n;
	int64_t now = clock_now_us();
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"workers\":[");
	size_t k = 0;
	for (size_t i = 0; i < shown; i++) {
		if (queue != NULL && !serves_queue(&rows[i], queue))
			continue;
		buf_puts(&b, k++ > 0 ? "," : "");
		put_worker(&b, &rows[i], now);
	}
	buf_puts(&b, "],\"next_cursor\":");
	if (more) {
		char text[V1_CURSOR_MAX * 2];
		worker_cursor(&rows[shown - 1], text, sizeof text);
		wire_str(&b, text);
	} else {
		buf_puts(&b, "null");
	}
	buf_putc(&b, '}');
	store_free_workers(rows, n);
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

/* ---- GET /v1/workers/{id} --------------------------------------------------------------- */

/* The worker named by the path (and the namespace query parameter, when
 * given): 0 with *w (store_free_workers(w, 1)), or after answering. */
static int find_worker(http_request *r, const char *ns, worker_row **w)
{
	const char *id = http_param_text(r, 0);
	*w = NULL;
	if (id == NULL || strlen(id) == 0 || strlen(id) > WORKER_ID_MAX) {
		v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No such worker.");
		return WEFT_ENOTFOUND;
	}
	if (ns != NULL && !namespace_valid(ns)) {
		http_error_set(http_err(r), WEFT_EINVALID, HTTP_ERR_RULE, "namespace", "must match [a-z0-9][a-z0-9_-]{0,62}");
		http_fail(r, WEFT_EINVALID);
		return WEFT_EINVALID;
	}
	worker_filter f = { .id = id, .limit = 1 };
	if (!namespace_filter(r, ns, &f))
		return WEFT_EFORBIDDEN;
	store_conn *c = http_reader(r);
	if (c == NULL)
		return WEFT_EUNAVAILABLE;
	size_t n = 0;
	int rc = store_workers(c, &f, w, &n);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		http_fail_server(r, rc, "worker read");
		return rc;
	}
	if (n == 0) {
		store_free_workers(*w, n);
		*w = NULL;
		v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No worker '%s'.", id);
		return WEFT_ENOTFOUND;
	}
	return 0;
}

void v1_worker(http_request *r)
{
	http_query_src src = http_query_src_of(r);
	worker_row *w;
	if (find_worker(r, decode_query_text(&src, "namespace"), &w) != 0)
		return;
	buf b;
	buf_init(&b);
	put_worker(&b, w, clock_now_us());
	store_free_workers(w, 1);
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

/* ---- POST /v1/workers/{id}/drain ---------------------------------------------------------- */

typedef struct drain_state {
	cmd_worker_drain cmd;
	worker_row *w;
} drain_state;

static void drain_state_free(void *p)
{
	drain_state *s = p;
	store_free_workers(s->w, s->w != NULL);
	free(s);
}

static void finish_drain(http_request *r, engine_cmd *cmd, void *state)
{
	drain_state *s = state;
	if (cmd->result == WEFT_ENOTFOUND) {
		v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No worker '%s'.", s->w->id);
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	s->w->draining = true;
	buf b;
	buf_init(&b);
	put_worker(&b, s->w, clock_now_us());
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

void v1_worker_drain(http_request *r)
{
	if (!http_admin(r)) {
		v1_fail_msg(r, WEFT_EFORBIDDEN, NULL, "Only an admin token may do this.");
		return;
	}
	http_query_src src = http_query_src_of(r);
	drain_state *s = xcalloc(1, sizeof *s);
	if (find_worker(r, decode_query_text(&src, "namespace"), &s->w) != 0) {
		drain_state_free(s);
		return;
	}
	cmd_worker_drain_init(&s->cmd);
	s->cmd.base.actor = http_actor(r);
	s->cmd.namespace = s->w->namespace;
	s->cmd.worker_id = s->w->id;
	http_submit(r, &s->cmd.base, s, finish_drain, drain_state_free);
}
