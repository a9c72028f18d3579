/*
 * ops.c — the routes weft adds to ArcRun's API for the items of its issue
 * lists (reference/arcrun.md §19, Appendix A): task groups, the critical
 * path of a batch, a task's audit trail, the webhook outbox and the
 * OpenAPI document; and the gauges /metrics shows. See routes.h.
 *
 * Answers follow ArcRun's conventions (§3): ApiError bodies
 * {"error":"Not found: ...","status":404}, RFC 3339 timestamps, null for
 * absent optional values, plain-text query errors.
 */
#include "util/common.h"
#include "engine/commands/groups.h"
#include "http/arcrun_names.h"
#include "http/routes.h"

#include <pthread.h>

#include "engine/critical_path.h"
#include "http/validate.h"
#include "http/wire.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/metrics.h"

/* The document, embedded from src/http/openapi.json (scripts/embed.sh). */
extern const char embed_http_openapi_json[];
extern const size_t embed_http_openapi_json_len;

const char *http_openapi_document(size_t *len)
{
	if (len != NULL)
		*len = embed_http_openapi_json_len;
	return embed_http_openapi_json;
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
	if (wire_respond_engine_failure(r, cmd))
		return;
	if (cmd->result == WEFT_ENOTFOUND) {
		char *msg = xasprintf("Not found: No tasks found in group %s", s->name);
		http_respond_error(r, 404, msg);
		free(msg);
		return;
	}
	if (cmd->result != 0) {
		wire_respond_unexpected(r, cmd);
		return;
	}
	const char *key = s->what == GROUP_CANCEL ? "canceled" : s->what == GROUP_PAUSE ? "paused" : "resumed";
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"group\":");
	http_json_str(&b, s->name);
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

static void h_group_cancel(http_request *r) { submit_group(r, GROUP_CANCEL); }
static void h_group_pause(http_request *r) { submit_group(r, GROUP_PAUSE); }
static void h_group_resume(http_request *r) { submit_group(r, GROUP_RESUME); }

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

static void h_critical_path(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	store_conn *c = wire_reader(r);
	if (c == NULL)
		return;
	task_row *tasks = NULL;
	link_row *links = NULL;
	size_t ntasks = 0, nlinks = 0;
	int rc = store_dag(c, id, &tasks, &ntasks, &links, &nlinks);
	store_reader_release(http_store(r), c);

	if (rc == WEFT_ENOTFOUND || (rc == 0 && ntasks == 0)) {
		wire_respond_batch_not_found(r, id);
	} else if (rc != 0) {
		wire_respond_store_error(r, rc);
	} else {
		critical_path cp;
		critical_path_compute(tasks, ntasks, links, nlinks, clock_now_us(), &cp);
		buf b;
		buf_init(&b);
		buf_puts(&b, "{\"by_depth\":");
		put_path(&b, tasks, cp.by_depth, cp.ndepth);
		buf_puts(&b, ",\"by_duration\":");
		put_path(&b, tasks, cp.by_duration, cp.nduration);
		buf_puts(&b, ",\"duration_secs\":");
		wire_secs(&b, cp.duration_us);
		buf_putc(&b, '}');
		http_respond_json(r, 200, &b);
		buf_release(&b);
		critical_path_release(&cp);
	}
	store_free_tasks(tasks, ntasks);
	free(links);
}

/* ---- audit trail ----------------------------------------------------- */

static void h_task_events(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	store_conn *c = wire_reader(r);
	if (c == NULL)
		return;
	task_event *ev = NULL;
	size_t n = 0;
	int rc = store_task_events(c, id, &ev, &n);
	store_reader_release(http_store(r), c);

	if (rc == WEFT_ENOTFOUND) {
		wire_respond_task_not_found(r, id);
	} else if (rc != 0) {
		wire_respond_store_error(r, rc);
	} else {
		buf b;
		buf_init(&b);
		buf_putc(&b, '[');
		for (size_t i = 0; i < n; i++) {
			const task_event *e = &ev[i];
			buf_puts(&b, i ? ",{\"at\":" : "{\"at\":");
			wire_ts(&b, e->at);
			buf_puts(&b, ",\"from\":");
			http_json_str(&b, e->has_from ? arcrun_status_name(e->from) : NULL);
			buf_puts(&b, ",\"to\":");
			http_json_str(&b, arcrun_status_name(e->to));
			buf_puts(&b, ",\"reason\":");
			http_json_str(&b, e->reason);
			buf_puts(&b, ",\"actor\":");
			http_json_str(&b, e->actor != NULL ? e->actor : "system");
			buf_putc(&b, '}');
		}
		buf_putc(&b, ']');
		http_respond_json(r, 200, &b);
		buf_release(&b);
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
	http_json_str(b, url);
	json_decref(p);
}

static void put_delivery(buf *b, const outbox_row *o)
{
	buf_puts(b, "{\"id\":");
	wire_i64(b, o->id);
	buf_puts(b, ",\"idempotency_key\":");
	http_json_str(b, o->key);
	buf_puts(b, ",\"event\":");
	http_json_str(b, delivery_event_name(o->event));
	buf_puts(b, ",\"task_id\":");
	wire_id(b, &o->task_id);
	buf_puts(b, ",\"batch_id\":");
	wire_id(b, &o->batch_id);
	buf_puts(b, ",\"url\":");
	put_params_url(b, o->params);
	buf_puts(b, ",\"status\":");
	http_json_str(b, arcrun_delivery_name(o->status));
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
	http_json_str(b, o->last_error);
	buf_puts(b, ",\"created_at\":");
	wire_ts(b, o->created_at);
	buf_putc(b, '}');
}

static void h_deliveries(http_request *r)
{
	deliveries_query q;
	char msg[VALIDATE_MSG_MAX];
	validate_result res = validate_deliveries_query(http_query_get, r, http_config(r), &q, msg, sizeof(msg));
	if (res != VALIDATE_OK) {
		wire_respond_invalid(r, res, NULL, msg, NULL);
		return;
	}
	store_conn *c = wire_reader(r);
	if (c == NULL)
		return;
	outbox_row *rows = NULL;
	size_t n = 0;
	int rc = store_outbox_list(c, q.status_mask, q.offset, q.limit, &rows, &n);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		wire_respond_store_error(r, rc);
	} else {
		buf b;
		buf_init(&b);
		buf_putc(&b, '[');
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				buf_putc(&b, ',');
			put_delivery(&b, &rows[i]);
		}
		buf_putc(&b, ']');
		http_respond_json(r, 200, &b);
		buf_release(&b);
	}
	store_free_outbox(rows, n);
}

/* ---- OpenAPI --------------------------------------------------------- */

static void h_openapi(http_request *r)
{
	size_t len;
	const char *doc = http_openapi_document(&len);
	char *copy = xmalloc(len + 1);
	memcpy(copy, doc, len + 1);
	http_respond(r, 200, "application/json", copy, len);
}

/* ---- gauges for /metrics --------------------------------------------- */

void ops_label_escape(buf *b, const char *s)
{
	const char *run = s;
	for (; *s; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
		if (esc == NULL)
			continue;
		buf_append(b, run, (size_t)(s - run));
		buf_puts(b, esc);
		run = s + 1;
	}
	buf_append(b, run, (size_t)(s - run));
}

/* Kinds given a non-zero running_tasks_by_kind at the last refresh,
 * sorted; under gauge_lock. */
static pthread_mutex_t gauge_lock = PTHREAD_MUTEX_INITIALIZER;
static char **gauge_kinds;
static size_t gauge_nkinds;

void ops_define_metrics(void)
{
	metrics_define("tasks_by_status", METRIC_GAUGE, "Live tasks by status");
	metrics_define("running_tasks_by_kind", METRIC_GAUGE, "Running tasks by kind");
}

static void gauge_set(const char *family, const char *label, const char *value, int64_t n)
{
	buf b;
	buf_init(&b);
	buf_puts(&b, label);
	buf_puts(&b, "=\"");
	ops_label_escape(&b, value);
	buf_putc(&b, '"');
	metrics_gauge_set(family, b.data, n);
	buf_release(&b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ops_refresh_gauges(store *st)
{
	store_conn *c = store_reader_acquire(st);
	if (c == NULL)
		return;
	int64_t counts[TS__COUNT];
	memset(counts, 0, sizeof(counts));
	kind_count *kinds = NULL;
	size_t nkinds = 0;
	int rc_status = store_status_counts(c, counts);
	int rc_kinds = store_running_by_kind(c, &kinds, &nkinds);
	store_reader_release(st, c);

	pthread_mutex_lock(&gauge_lock);
	if (rc_status == 0) {
		for (int s = 0; s < TS__COUNT; s++)
			gauge_set("tasks_by_status", "status", arcrun_status_name((task_status)s), counts[s]);
	}
	if (rc_kinds == 0) {
		char **now = xcalloc(nkinds ? nkinds : 1, sizeof(char *));
		size_t nnow = 0;
		for (size_t i = 0; i < nkinds; i++) {
			if (kinds[i].kind == NULL)
				continue;
			gauge_set("running_tasks_by_kind", "kind", kinds[i].kind, kinds[i].count);
			if (kinds[i].count != 0)
				now[nnow++] = xstrdup(kinds[i].kind);
		}
		qsort(now, nnow, sizeof(char *), cmp_str);
		for (size_t i = 0; i < gauge_nkinds; i++) {
			if (nnow == 0 || bsearch(&gauge_kinds[i], now, nnow, sizeof(char *), cmp_str) == NULL)
				gauge_set("running_tasks_by_kind", "kind", gauge_kinds[i], 0);
			free(gauge_kinds[i]);
		}
		free(gauge_kinds);
		gauge_kinds = now;
		gauge_nkinds = nnow;
	}
	pthread_mutex_unlock(&gauge_lock);
	store_free_kind_counts(kinds, nkinds);
}

/* ---- the table ------------------------------------------------------- */

const http_route ops_routes[] = {
	{ HTTP_DELETE, "/group/{name}", h_group_cancel, false, 1u },
	{ HTTP_PATCH, "/group/{name}/pause", h_group_pause, false, 1u },
	{ HTTP_PATCH, "/group/{name}/resume", h_group_resume, false, 1u },
	{ HTTP_GET, "/batch/{batch_id}/critical-path", h_critical_path, false, 0 },
	{ HTTP_GET, "/task/{task_id}/events", h_task_events, false, 0 },
	{ HTTP_GET, "/webhook-deliveries", h_deliveries, false, 0 },
	{ HTTP_GET, "/api-docs/openapi.json", h_openapi, false, 0 },
};

const size_t ops_nroutes = ARRAY_LEN(ops_routes);
