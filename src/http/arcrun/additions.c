/*
 * additions.c — the routes weft adds beside ArcRun's own: task groups, the
 * critical path of a batch, a task's audit trail, the webhook outbox and
 * the OpenAPI document. They answer in ArcRun's conventions: ApiError
 * bodies, RFC 3339 timestamps, null for absent optional values,
 * plain-text query errors.
 */
#include "util/common.h"
#include "http/arcrun/handlers.h"

#include "core/error.h"
#include "engine/commands/groups.h"
#include "engine/critical_path.h"
#include "http/arcrun/arcrun.h"
#include "http/arcrun/decode.h"
#include "http/arcrun/names.h"
#include "http/arcrun/shapes.h"
#include "http/wire.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/json.h"

/* The document, embedded from src/http/arcrun/openapi.json (scripts/embed.sh). */
extern const char embed_http_arcrun_openapi_json[];
extern const size_t embed_http_arcrun_openapi_json_len;

const char *arcrun_openapi_document(size_t *len)
{
	if (len != NULL)
		*len = embed_http_arcrun_openapi_json_len;
	return embed_http_arcrun_openapi_json;
}

void arcrun_openapi(http_request *r)
{
	size_t len;
	const char *doc = arcrun_openapi_document(&len);
	char *copy = xmalloc(len + 1);
	memcpy(copy, doc, len + 1);
	http_respond(r, 200, "application/json", copy, len);
}

/* ---- groups ---------------------------------------------------------- */

typedef struct group_state {
	cmd_group cmd;
	group_action what;
	char name[HTTP_TEXT_PARAM_MAX + 1];
} group_state;

static void finish_group(http_request *r, engine_cmd *cmd, void *state)
{
	group_state *s = state;
	if (cmd->result == WEFT_ENOTFOUND) {
		arcrun_fail_msg(r, WEFT_ENOTFOUND, "No tasks found in group %s", s->name);
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	const char *key = s->what == GROUP_CANCEL ? "canceled" : s->what == GROUP_PAUSE ? "paused" : "resumed";
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"group\":");
	wire_str(&b, s->name);
	buf_printf(&b, ",\"%s\":", key);
	wire_i64(&b, s->cmd.count);
	buf_putc(&b, '}');
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

static void submit_group(http_request *r, group_action what)
{
	group_state *s = xcalloc(1, sizeof(*s));
	const char *name = http_param_text(r, 0);
	snprintf(s->name, sizeof(s->name), "%s", name != NULL ? name : "");
	cmd_group_init(&s->cmd, what);
	s->what = what;
	s->cmd.base.actor = "api";
	s->cmd.name = s->name;
	http_submit(r, &s->cmd.base, s, finish_group, free);
}

void arcrun_group_cancel(http_request *r) { submit_group(r, GROUP_CANCEL); }
void arcrun_group_pause(http_request *r) { submit_group(r, GROUP_PAUSE); }
void arcrun_group_resume(http_request *r) { submit_group(r, GROUP_RESUME); }

/* ---- critical path --------------------------------------------------- */

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

static void respond_critical_path(http_request *r, const arcrun_graph *g)
{
	critical_path cp;
	critical_path_compute(g->tasks, g->ntasks, g->links, g->nlinks, clock_now_us(), &cp);
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"by_depth\":");
	put_path(&b, g->tasks, cp.by_depth, cp.ndepth);
	buf_puts(&b, ",\"by_duration\":");
	put_path(&b, g->tasks, cp.by_duration, cp.nduration);
	buf_puts(&b, ",\"duration_secs\":");
	wire_secs(&b, cp.duration_us);
	buf_putc(&b, '}');
	http_respond_json(r, 200, &b);
	buf_release(&b);
	critical_path_release(&cp);
}

void arcrun_critical_path(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	arcrun_graph g;
	int rc;
	if (arcrun_graph_read(r, id, &g, &rc)) {
		if (rc == WEFT_ENOTFOUND || (rc == 0 && g.ntasks == 0))
			arcrun_fail_batch_not_found(r, id);
		else if (rc != 0)
			http_fail_server(r, rc, "critical path");
		else
			respond_critical_path(r, &g);
	}
	arcrun_graph_release(&g);
}

/* ---- audit trail ----------------------------------------------------- */

static void put_event(buf *b, const void *item)
{
	const task_event *e = item;
	buf_puts(b, "{\"at\":");
	wire_ts(b, e->at);
	buf_puts(b, ",\"from\":");
	wire_str(b, e->has_from ? arcrun_status_name(e->from) : NULL);
	buf_puts(b, ",\"to\":");
	wire_str(b, arcrun_status_name(e->to));
	buf_puts(b, ",\"from_state\":");
	wire_str(b, e->has_from ? task_status_name(e->from) : NULL);
	buf_puts(b, ",\"to_state\":");
	wire_str(b, task_status_name(e->to));
	buf_puts(b, ",\"reason\":");
	wire_str(b, e->reason);
	buf_puts(b, ",\"actor\":");
	wire_str(b, e->actor != NULL ? e->actor : "system");
	buf_putc(b, '}');
}

void arcrun_task_events(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	if (arcrun_task_hidden(r, id))
		return;
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	task_event *ev = NULL;
	size_t n = 0;
	int rc = store_task_events(c, id, &ev, &n);
	store_reader_release(http_store(r), c);

	if (rc == WEFT_ENOTFOUND) {
		arcrun_fail_task_not_found(r, id);
	} else if (rc != 0) {
		http_fail_server(r, rc, "task events");
	} else {
		http_respond_json_array(r, 200, ev, n, sizeof(*ev), put_event);
	}
	store_free_events(ev, n);
}

/* ---- webhook deliveries ---------------------------------------------- */

/* The "url" of a rendered WebhookParams, as a JSON string or null. */
static void put_params_url(buf *b, const char *params)
{
	json_t *p = params != NULL ? json_parse_text(params) : NULL;
	const char *url = NULL;
	if (p != NULL && json_get_str(p, "url", &url) != 0)
		url = NULL;
	wire_str(b, url);
	json_decref(p);
}

static void put_delivery(buf *b, const void *item)
{
	const outbox_row *o = item;
	buf_puts(b, "{\"id\":");
	wire_i64(b, o->id);
	buf_puts(b, ",\"idempotency_key\":");
	wire_str(b, o->key);
	buf_puts(b, ",\"event\":");
	wire_str(b, delivery_event_name(o->event));
	buf_puts(b, ",\"task_id\":");
	wire_id(b, &o->task_id);
	buf_puts(b, ",\"batch_id\":");
	wire_id(b, &o->batch_id);
	buf_puts(b, ",\"url\":");
	put_params_url(b, o->params);
	buf_puts(b, ",\"status\":");
	wire_str(b, arcrun_delivery_name(o->status));
	buf_puts(b, ",\"attempts\":");
	wire_i64(b, o->attempts);
	buf_puts(b, ",\"max_attempts\":");
	wire_i64(b, o->max_attempts);
	/* Due time (or lease expiry) while undelivered; null once finished. */
	bool finished = o->status == DS_SUCCESS || o->status == DS_EXHAUSTED;
	buf_puts(b, ",\"next_attempt_at\":");
	wire_ts(b, finished ? 0 : o->next_attempt_at);
	buf_puts(b, ",\"last_attempt_at\":");
	wire_ts(b, o->last_attempt_at);
	buf_puts(b, ",\"last_http_status\":");
	wire_i64_or_null(b, o->last_http_status);
	buf_puts(b, ",\"last_error\":");
	wire_str(b, o->last_error);
	buf_puts(b, ",\"created_at\":");
	wire_ts(b, o->created_at);
	buf_putc(b, '}');
}

void arcrun_deliveries(http_request *r)
{
	deliveries_query q;
	http_query_src src = http_query_src_of(r);
	int rc = arcrun_decode_deliveries_query(&src, http_config(r), &q, http_err(r));
	store_conn *c = http_reader_after(r, rc);
	if (c == NULL)
		return;
	outbox_row *rows = NULL;
	size_t n = 0;
	rc = store_outbox_list(c, q.status_mask, q.offset, q.limit, &rows, &n);
	store_reader_release(http_store(r), c);
	if (rc != 0)
		http_fail_server(r, rc, "webhook deliveries");
	else
		http_respond_json_array(r, 200, rows, n, sizeof(*rows), put_delivery);
	store_free_outbox(rows, n);
}
