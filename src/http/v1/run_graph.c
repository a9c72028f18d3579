/*
 * run_graph.c — a run as a graph, for drawing it:
 *
 *   GET   /v1/runs/{id}/graph           its tasks in submission order with the edges
 *                                       into them, keyset pages (cursor, limit
 *                                       1..10,000, default 10,000): an edge comes in
 *                                       the page of its child ("to")
 *   GET   /v1/runs/{id}/critical-path   the path of the largest sum of task
 *                                       durations (engine/critical_path.h)
 *   PATCH /v1/runs/{id}/rules           replace the rules of the run's tasks of one
 *                                       kind: {"kind", "rules"} (the ArcRun batch
 *                                       rules command)
 *
 * A lone job is a run of one task. A run of a namespace the token may not
 * see is unknown (404).
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/error.h"
#include "engine/commands/batches.h"
#include "engine/critical_path.h"
#include "http/arcrun/decode.h"
#include "http/decode.h"
#include "http/v1/cursor.h"
#include "http/v1/errors.h"
#include "http/v1/shapes.h"
#include "http/wire.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "store/runs.h"

#define GRAPH_LIMIT_MAX 10000

/* The run of id as the request may see it: its task count, or a lone
 * job (*lone filled, released by the caller). 0, WEFT_ENOTFOUND, or an
 * error. */
static int visible_run(http_request *r, store_conn *c, const weft_id *id, int64_t *total, task_row *lone,
                       bool *is_lone)
{
	run_row run;
	memset(&run, 0, sizeof run);
	*is_lone = false;
	*total = 0;
	int rc = store_run_get(c, id, &run);
	if (rc == 0 && !http_ns_visible(r, run.namespace))
		rc = WEFT_ENOTFOUND;
	if (rc == 0 && (rc = store_run_counts(c, &run, 1)) == 0)
		for (int s = 0; s < TS__COUNT; s++)
			*total += run.counts[s];
	run_row_release(&run);
	if (rc != WEFT_ENOTFOUND)
		return rc;
	rc = store_task_get(c, id, lone);
	if (rc == 0 && (id_is_set(&lone->batch_id) || !http_ns_visible(r, v1_task_namespace(lone))))
		rc = WEFT_ENOTFOUND;
	*is_lone = rc == 0;
	*total = rc == 0;
	return rc;
}

static void put_graph_task(buf *b, const task_row *t)
{
	buf_puts(b, "{\"id\":");
	wire_id(b, &t->id);
	buf_puts(b, ",\"name\":");
	wire_str(b, t->name);
	buf_puts(b, ",\"kind\":");
	wire_str(b, t->kind);
	buf_puts(b, ",\"executor\":");
	wire_str(b, t->executor ? t->executor : "webhook");
	buf_puts(b, ",\"status\":");
	wire_str(b, task_status_name(t->status));
	buf_puts(b, ",\"barrier\":");
	wire_bool(b, t->dead_end_barrier);
	buf_puts(b, ",\"created_at\":");
	wire_ts_ms(b, t->created_at);
	buf_puts(b, ",\"started_at\":");
	wire_ts_ms(b, t->started_at);
	buf_puts(b, ",\"ended_at\":");
	wire_ts_ms(b, t->ended_at);
	buf_puts(b, ",\"attempt\":");
	wire_i64(b, t->attempt);
	buf_putc(b, '}');
}

/* The tasks and edges of one page, then the cursor after it (NULL: the
 * last page). */
static int put_graph_page(buf *b, store_conn *c, const weft_id *run, const v1_cursor *after, size_t limit)
{
	run_task_row *rows = NULL;
	size_t n = 0;
	int rc = store_run_tasks(c, run, after ? after->at : 0, after ? &after->id : NULL, limit + 1, &rows, &n);
	size_t shown = MIN(n, limit);
	weft_id *ids = xmalloc(MAX(shown, (size_t)1) * sizeof *ids);
	for (size_t i = 0; i < shown; i++)
		ids[i] = rows[i].task.id;
	link_row *links = NULL;
	size_t nlinks = 0;
	if (rc == 0)
		rc = store_links_to(c, ids, shown, &links, &nlinks);
	if (rc == 0) {
		buf_puts(b, ",\"tasks\":[");
		for (size_t i = 0; i < shown; i++) {
			if (i > 0)
				buf_putc(b, ',');
			put_graph_task(b, &rows[i].task);
		}
		buf_puts(b, "],\"edges\":[");
		for (size_t i = 0; i < nlinks; i++) {
			buf_puts(b, i > 0 ? ",{\"from\":" : "{\"from\":");
			wire_id(b, &links[i].parent_id);
			buf_puts(b, ",\"to\":");
			wire_id(b, &links[i].child_id);
			buf_puts(b, ",\"required\":");
			wire_bool(b, links[i].requires_success);
			buf_putc(b, '}');
		}
		buf_puts(b, "],\"next_cursor\":");
		if (n > limit) {
			const task_row *last = &rows[limit - 1].task;
			v1_cursor next = { .at = last->created_at, .id = last->id, .filters = v1_fingerprint(run->str) };
			char text[V1_CURSOR_MAX];
			v1_cursor_encode(&next, text);
			wire_str(b, text);
		} else {
			buf_puts(b, "null");
		}
	}
	free(ids);
	free(links);
	store_free_run_tasks(rows, n);
	return rc;
}

void v1_run_graph(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	http_query_src q = http_query_src_of(r);
	int64_t limit = GRAPH_LIMIT_MAX;
	int rc = decode_query_int(&q, "limit", 1, GRAPH_LIMIT_MAX, http_err(r), &limit, NULL);
	v1_cursor after = { 0 };
	const char *text = q.get(q.ctx, "cursor");
	if (rc == 0 && text != NULL && (v1_cursor_decode(text, &after) != 0 || after.filters != v1_fingerprint(id->str)))
		rc = http_error_set(http_err(r), WEFT_EINVALID, HTTP_ERR_RULE, "cursor", "not a cursor of this run's graph");
	store_conn *c = http_reader_after(r, rc);
	if (c == NULL)
		return;
	task_row lone;
	memset(&lone, 0, sizeof lone);
	bool is_lone;
	int64_t total;
	rc = visible_run(r, c, id, &total, &lone, &is_lone);
	buf b;
	buf_init(&b);
	if (rc == 0) {
		buf_puts(&b, "{\"run_id\":");
		wire_id(&b, id);
		buf_puts(&b, ",\"total\":");
		wire_i64(&b, total);
		if (is_lone) {
			buf_puts(&b, ",\"tasks\":[");
			if (text == NULL)
				put_graph_task(&b, &lone);
			buf_puts(&b, "],\"edges\":[],\"next_cursor\":null");
		} else {
			rc = put_graph_page(&b, c, id, text != NULL ? &after : NULL, (size_t)limit);
		}
		buf_putc(&b, '}');
	}
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND)
		v1_fail_not_found(r, "run", id);
	else if (rc != 0)
		http_fail_server(r, rc, "run graph");
	else
		http_respond_json(r, 200, &b);
	buf_release(&b);
	task_row_release(&lone);
}

/* ---- GET /v1/runs/{id}/critical-path ------------------------------------------------------------ */

static void put_path(buf *b, const task_row *tasks, const size_t *path, size_t n)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		wire_id(b, &tasks[path[i]].id);
	}
	buf_putc(b, ']');
}

void v1_run_critical_path(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	task_row lone;
	memset(&lone, 0, sizeof lone);
	bool is_lone;
	int64_t total;
	task_row *tasks = NULL;
	link_row *links = NULL;
	size_t ntasks = 0, nlinks = 0;
	int rc = visible_run(r, c, id, &total, &lone, &is_lone);
	if (rc == 0 && !is_lone)
		rc = store_dag(c, id, &tasks, &ntasks, &links, &nlinks);
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "run", id);
	} else if (rc != 0) {
		http_fail_server(r, rc, "critical path");
	} else {
		const task_row *all = is_lone ? &lone : tasks;
		critical_path cp;
		critical_path_compute(all, is_lone ? 1 : ntasks, links, nlinks, clock_now_us(), &cp);
		buf b;
		buf_init(&b);
		buf_puts(&b, "{\"tasks\":");
		put_path(&b, all, cp.by_duration, cp.nduration);
		buf_puts(&b, ",\"duration_ms\":");
		wire_i64(&b, cp.duration_us / 1000);
		buf_puts(&b, ",\"by_depth\":");
		put_path(&b, all, cp.by_depth, cp.ndepth);
		buf_putc(&b, '}');
		http_respond_json(r, 200, &b);
		buf_release(&b);
		critical_path_release(&cp);
	}
	store_free_tasks(tasks, ntasks);
	free(links);
	task_row_release(&lone);
}

/* ---- PATCH /v1/runs/{id}/rules --------------------------------------------------------------------- */

typedef struct rules_state {
	cmd_batch_rules cmd;
	rules_input in;
} rules_state;

static void rules_state_free(void *p)
{
	rules_state *s = p;
	rules_input_release(&s->in);
	free(s);
}

static void finish_rules(http_request *r, engine_cmd *cmd, void *state)
{
	UNUSED(state);
	const cmd_batch_rules *c = engine_cmd_of(cmd, cmd_batch_rules);
	if (cmd->result == WEFT_ENOTFOUND) {
		v1_fail_not_found(r, "run", &c->batch_id);
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"run_id\":");
	wire_id(&b, &c->batch_id);
	buf_puts(&b, ",\"kind\":");
	wire_str(&b, c->kind);
	buf_puts(&b, ",\"updated\":");
	wire_i64(&b, c->updated);
	buf_putc(&b, '}');
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

void v1_run_rules(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	rules_state *s = xcalloc(1, sizeof(*s));
	size_t len;
	const char *body = http_body(r, &len);
	int rc = arcrun_decode_rules(body, len, http_config(r), &s->in, http_err(r));
	store_conn *c = http_reader_after(r, rc);
	if (c == NULL) {
		rules_state_free(s);
		return;
	}
	run_row run;
	memset(&run, 0, sizeof run);
	rc = store_run_get(c, id, &run);
	store_reader_release(http_store(r), c);
	if (rc == 0 && !http_ns_visible(r, run.namespace))
		rc = WEFT_ENOTFOUND;
	run_row_release(&run);
	if (rc != 0) {
		if (rc == WEFT_ENOTFOUND)
			v1_fail_not_found(r, "run", id);
		else
			http_fail_server(r, rc, "run read");
		rules_state_free(s);
		return;
	}
	cmd_batch_rules_init(&s->cmd);
	s->cmd.base.actor = http_actor(r);
	s->cmd.batch_id = *id;
	s->cmd.kind = s->in.kind;
	s->cmd.rules = s->in.rules;
	http_submit(r, &s->cmd.base, s, finish_rules, rules_state_free);
}
