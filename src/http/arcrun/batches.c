/*
 * batches.c — the ArcRun API's batch routes: a batch's stats, stopping it,
 * replacing the rules of its tasks of one kind, the list of batches, and a
 * batch's DAG.
 */
#include "util/common.h"
#include "http/arcrun/handlers.h"

#include "core/error.h"
#include "engine/commands/batches.h"
#include "http/arcrun/decode.h"
#include "http/arcrun/shapes.h"
#include "http/wire.h"
#include "util/alloc.h"

/* ---- reads ----------------------------------------------------------- */

void arcrun_batch_stats(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	batch_stats st;
	memset(&st, 0, sizeof(st));
	int rc = store_batch_stats(c, id, &st);
	store_reader_release(http_store(r), c);

	buf b;
	buf_init(&b);
	if (rc == WEFT_ENOTFOUND) {
		/* ArcRun's own shape here: no "status". */
		buf_puts(&b, "{\"error\":\"No tasks found for this batch_id\"}");
		http_respond_json(r, 404, &b);
	} else if (rc != 0) {
		http_fail_server(r, rc, "batch stats");
	} else {
		buf_puts(&b, "{\"batch_id\":");
		wire_id(&b, id);
		buf_puts(&b, ",\"total_tasks\":");
		wire_i64(&b, st.total_tasks);
		buf_puts(&b, ",\"total_success\":");
		wire_i64(&b, st.total_success);
		buf_puts(&b, ",\"total_failures\":");
		wire_i64(&b, st.total_failures);
		buf_puts(&b, ",\"total_expected\":");
		wire_i64_opt(&b, st.has_total_expected, st.total_expected);
		buf_puts(&b, ",\"status_counts\":");
		arcrun_put_status_counts(&b, st.status_counts);
		buf_putc(&b, '}');
		http_respond_json(r, 200, &b);
	}
	buf_release(&b);
}

static void put_summary(buf *b, const void *item)
{
	const batch_summary *s = item;
	buf_puts(b, "{\"batch_id\":");
	wire_id(b, &s->batch_id);
	buf_puts(b, ",\"total_tasks\":");
	wire_i64(b, s->total_tasks);
	buf_puts(b, ",\"first_created_at\":");
	wire_ts(b, s->first_created_at);
	buf_puts(b, ",\"latest_updated_at\":");
	wire_ts(b, s->latest_updated_at);
	buf_puts(b, ",\"status_counts\":");
	arcrun_put_status_counts(b, s->status_counts);
	buf_puts(b, ",\"kinds\":[");
	for (size_t k = 0; k < s->nkinds; k++) {
		if (k > 0)
			buf_putc(b, ',');
		wire_str(b, s->kinds[k]);
	}
	buf_puts(b, "]}");
}

void arcrun_list_batches(http_request *r)
{
	batches_query q;
	http_query_src src = http_query_src_of(r);
	int rc = arcrun_decode_batches_query(&src, http_config(r), &q, http_err(r));
	store_conn *c = http_reader_after(r, rc);
	if (c == NULL)
		return;
	batch_summary *rows = NULL;
	size_t n = 0;
	rc = store_batch_list(c, &q.filter, q.offset, q.limit, &rows, &n);
	store_reader_release(http_store(r), c);
	if (rc != 0)
		http_fail_server(r, rc, "batch list");
	else
		http_respond_json_array(r, 200, rows, n, sizeof(*rows), put_summary);
	store_free_batch_summaries(rows, n);
}

static void put_dag(buf *b, const task_row *tasks, size_t ntasks, const link_row *links, size_t nlinks)
{
	buf_puts(b, "{\"tasks\":[");
	for (size_t i = 0; i < ntasks; i++) {
		buf_puts(b, i ? "," : "");
		arcrun_put_basic(b, &tasks[i]);
	}
	buf_puts(b, "],\"links\":[");
	for (size_t i = 0; i < nlinks; i++) {
		buf_puts(b, i ? ",{\"parent_id\":" : "{\"parent_id\":");
		wire_id(b, &links[i].parent_id);
		buf_puts(b, ",\"child_id\":");
		wire_id(b, &links[i].child_id);
		buf_puts(b, ",\"requires_success\":");
		wire_bool(b, links[i].requires_success);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
}

bool arcrun_graph_read(http_request *r, const weft_id *batch, arcrun_graph *g, int *rc)
{
	memset(g, 0, sizeof(*g));
	store_conn *c = http_reader(r);
	if (c == NULL)
		return false;
	*rc = store_dag(c, batch, &g->tasks, &g->ntasks, &g->links, &g->nlinks);
	store_reader_release(http_store(r), c);
	return true;
}

void arcrun_graph_release(arcrun_graph *g)
{
	store_free_tasks(g->tasks, g->ntasks);
	free(g->links);
	memset(g, 0, sizeof(*g));
}

void arcrun_dag(http_request *r)
{
	arcrun_graph g;
	int rc;
	if (arcrun_graph_read(r, http_param(r, 0), &g, &rc)) {
		if (rc == WEFT_ENOTFOUND)
			rc = 0;      /* an unknown batch is an empty graph, as in ArcRun */
		if (rc != 0) {
			http_fail_server(r, rc, "dag");
		} else {
			buf b;
			buf_init(&b);
			put_dag(&b, g.tasks, g.ntasks, g.links, g.nlinks);
			http_respond_json(r, 200, &b);
			buf_release(&b);
		}
	}
	arcrun_graph_release(&g);
}

/* ---- mutations ------------------------------------------------------------ */

/* Answers a batch command that did not succeed; false when it did. */
static bool batch_cmd_failed(http_request *r, const engine_cmd *cmd, const weft_id *batch)
{
	if (cmd->result == WEFT_ENOTFOUND)
		arcrun_fail_batch_not_found(r, batch);
	else if (cmd->result != 0)
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
	return cmd->result != 0;
}

static void finish_stop_batch(http_request *r, engine_cmd *cmd, void *state)
{
	UNUSED(state);
	const cmd_stop_batch *c = engine_cmd_of(cmd, cmd_stop_batch);
	if (batch_cmd_failed(r, cmd, &c->batch_id))
		return;
	static const struct {
		const char *key;
		task_status status;
	} keys[] = {
		{ "canceled_waiting", TS_WAITING }, { "canceled_pending", TS_PENDING },
		{ "canceled_claimed", TS_CLAIMED }, { "canceled_running", TS_RUNNING },
		{ "canceled_paused", TS_PAUSED },
	};
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"batch_id\":");
	wire_id(&b, &c->batch_id);
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		task_status s = keys[i].status;
		buf_puts(&b, ",\"");
		buf_puts(&b, keys[i].key);
		buf_puts(&b, "\":");
		/* Tasks waiting for a retry showed as Pending. */
		wire_i64(&b, s == TS_PENDING ? arcrun_pending_count(c->counts.canceled) : c->counts.canceled[s]);
	}
	buf_puts(&b, ",\"already_terminal\":");
	wire_i64(&b, c->counts.already_terminal);
	buf_putc(&b, '}');
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

void arcrun_stop_batch(http_request *r)
{
	cmd_stop_batch *c = xmalloc(sizeof(*c));
	cmd_stop_batch_init(c);
	c->base.actor = "api";
	c->batch_id = *http_param(r, 0);
	http_submit(r, &c->base, c, finish_stop_batch, free);
}

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

static void finish_batch_rules(http_request *r, engine_cmd *cmd, void *state)
{
	UNUSED(state);
	const cmd_batch_rules *c = engine_cmd_of(cmd, cmd_batch_rules);
	if (batch_cmd_failed(r, cmd, &c->batch_id))
		return;
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"batch_id\":");
	wire_id(&b, &c->batch_id);
	buf_puts(&b, ",\"kind\":");
	wire_str(&b, c->kind);
	buf_puts(&b, ",\"updated_count\":");
	wire_i64(&b, c->updated);
	buf_putc(&b, '}');
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

void arcrun_batch_rules(http_request *r)
{
	rules_state *s = xcalloc(1, sizeof(*s));
	size_t len;
	const char *body = http_body(r, &len);
	int rc = arcrun_decode_rules(body, len, http_config(r), &s->in, http_err(r));
	if (rc != 0) {
		http_fail(r, rc);
		free(s);
		return;
	}
	cmd_batch_rules_init(&s->cmd);
	s->cmd.base.actor = "api";
	s->cmd.batch_id = *http_param(r, 0);
	s->cmd.kind = s->in.kind;
	s->cmd.rules = s->in.rules;
	http_submit(r, &s->cmd.base, s, finish_batch_rules, rules_state_free);
}
