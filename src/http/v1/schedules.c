/*
 * schedules.c — the /v1 schedule routes: cron schedules that start a job,
 * a workflow run or a template run.
 *
 *   POST   /v1/schedules                 create: name, cron, timezone, target, catchup, overlap
 *   GET    /v1/schedules                 list by name (?namespace=, ?limit=, ?cursor=)
 *   GET    /v1/schedules/{name}          one, with its next fire times (?next=N, at most 100)
 *   DELETE /v1/schedules/{name}          delete
 *   POST   /v1/schedules/{name}/pause    stop firing
 *   POST   /v1/schedules/{name}/resume   fire again from now on (what was missed is not fired)
 *   POST   /v1/schedules/{name}/trigger  fire now, once (paused or not; the next fire time stays)
 *
 * A schedule's cron text and zone are checked here, with errors naming
 * the field ("cron: field 3 (day of month): 32 is out of 1-31",
 * "timezone: unknown zone Mars/Olympus"). Its target (a job, a workflow
 * run or a template run) is checked by the decoder of its own route
 * (targets.h), so a firing cannot start what the API would
 * refuse. overlap says what a firing does while the previous run has not
 * ended: queue (start anyway), skip (start nothing, counted in
 * skipped_fires), cancel_previous (cancel it, then start). Routes
 * with {name} take the namespace from ?namespace= (the token's default
 * otherwise); a schedule of a namespace the token may not see is unknown.
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/cron.h"
#include "core/limits.h"
#include "core/tz.h"
#include "engine/commands/schedules.h"
#include "http/decode.h"
#include "http/v1/decode_job.h"
#include "http/v1/cursor.h"
#include "http/v1/errors.h"
#include "http/v1/targets.h"
#include "http/v1/task_list.h"
#include "http/v1/trigger_routes.h"
#include "http/wire.h"
#include "store/schedules.h"
#include "store/templates.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"

#define SCHEDULE_NEXT_DEFAULT 5
#define SCHEDULE_NEXT_MAX 100
#define SCHEDULE_CATCHUP_MAX 1000    /* most missed times one firing makes up for */


/* ---- the Schedule shape ----------------------------------------------------------------- */

static void put_schedule(buf *b, const schedule_row *s, const int64_t *next, int nnext)
{
	buf_puts(b, "{\"namespace\":");
	wire_str(b, s->namespace);
	buf_puts(b, ",\"name\":");
	wire_str(b, s->name);
	buf_puts(b, ",\"cron\":");
	wire_str(b, s->cron);
	buf_puts(b, ",\"timezone\":");
	wire_str(b, s->timezone);
	buf_puts(b, ",\"target\":");
	wire_raw(b, s->target, "null");
	buf_puts(b, ",\"catchup\":");
	wire_str(b, s->catchup);
	buf_puts(b, ",\"catchup_max\":");
	wire_i64(b, s->catchup_max);
	buf_puts(b, ",\"overlap\":");
	wire_str(b, s->overlap);
	buf_puts(b, ",\"paused\":");
	wire_bool(b, s->paused);
	buf_puts(b, ",\"next_fire_at\":");
	wire_ts(b, s->paused ? 0 : s->next_fire_at);
	buf_puts(b, ",\"last_fire_at\":");
	wire_ts(b, s->last_fire_at);
	buf_puts(b, ",\"last_job_id\":");
	if (s->last_job_id != NULL)
		wire_str(b, s->last_job_id);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"last_run_id\":");
	if (s->last_run_id != NULL)
		wire_str(b, s->last_run_id);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"last_run_active\":");
	wire_bool(b, s->previous_active);
	buf_puts(b, ",\"fires\":");
	wire_i64(b, s->fires);
	buf_puts(b, ",\"skipped_fires\":");
	wire_i64(b, s->skipped_fires);
	buf_puts(b, ",\"last_skipped_at\":");
	wire_ts(b, s->last_skipped_at);
	buf_puts(b, ",\"created_at\":");
	wire_ts(b, s->created_at);
	buf_puts(b, ",\"updated_at\":");
	wire_ts(b, s->updated_at);
	if (next != NULL) {
		buf_puts(b, ",\"next\":[");
		for (int i = 0; i < nnext; i++) {
			if (i > 0)
				buf_putc(b, ',');
			wire_ts(b, next[i]);
		}
		buf_putc(b, ']');
	}
	buf_putc(b, '}');
}


static void fail_no_schedule(http_request *r, const char *ns, const char *name)
{
	v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No schedule %s in namespace %s.", name, ns);
}

/* Reads the schedule and answers it (with `nnext` next fire times after
 * now when nnext >= 0). */
static void answer_schedule(http_request *r, int status, const char *ns, const char *name, int nnext)
{
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	schedule_row s;
	int rc = store_schedule_get(c, ns, name, &s);
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND) {
		fail_no_schedule(r, ns, name);
		return;
	}
	if (rc != 0) {
		http_fail_server(r, rc, "schedule read");
		return;
	}
	int64_t next[SCHEDULE_NEXT_MAX];
	int found = 0;
	if (nnext > 0) {
		cron_expr e;
		const tz_zone *z;
		if (cron_parse(s.cron, strlen(s.cron), &e, NULL, 0) == 0 && tz_load(s.timezone, &z, NULL, 0) == 0)
			found = cron_next_n(&e, z, clock_now_us(), (size_t)nnext, next);
		if (found < 0)
			found = 0;
	}
	buf b;
	buf_init(&b);
	put_schedule(&b, &s, nnext >= 0 ? next : NULL, found);
	schedule_row_release(&s);
	http_respond_json(r, status, &b);
	buf_release(&b);
}

/* ---- POST /v1/schedules ---------------------------------------------------------------- */

typedef struct create_state {
	cmd_schedule_create cmd;
	json_t *doc;                 /* strings are borrowed from it */
	v1_target target;
	char *namespace;
} create_state;

static void create_state_free(void *p)
{
	create_state *s = p;
	json_decref(s->doc);
	v1_target_release(&s->target);
	free(s->namespace);
	free(s);
}

static int decode_create(http_request *r, create_state *s)
{
	http_error *e = http_err(r);
	int rc = v1_body_object(r, &s->doc);
	if (rc != 0)
		return rc;
	static const char *const known[] = { "namespace", "name",    "cron",   "timezone", "target",
		                             "catchup",   "catchup_max", "overlap", "paused", NULL };
	decode_unknown_members(e, s->doc, "", known);
	schedule_row *row = &s->cmd.row;
	const char *ns, *name, *cron = NULL, *zone = "UTC", *catchup = "none", *overlap = "queue";
	trigger_decode_owner(r, s->doc, &ns, &name);
	if (decode_str(e, s->doc, "", "cron", DECODE_REQUIRED, &cron) == 0) {
		cron_expr ce;
		char why[CRON_ERR_LEN];
		if (cron_parse(cron, strlen(cron), &ce, why, sizeof why) != 0)
			decode_problem(e, "", "cron", "%s", why);
	}
	if (decode_str(e, s->doc, "", "timezone", 0, &zone) == 0) {
		if (zone == NULL)
			zone = "UTC";
		const tz_zone *z;
		char why[160];
		int zr = tz_load(zone, &z, why, sizeof why);
		if (zr == WEFT_ENOTFOUND)
			decode_problem(e, "", "timezone", "unknown zone %s", zone);
		else if (zr != 0)
			decode_problem(e, "", "timezone", "%s", why);
	}
	bool too_large = false;
	v1_decode_target(s->doc, &s->target, e, &too_large);
	if (decode_str(e, s->doc, "", "catchup", 0, &catchup) == 0) {
		if (catchup == NULL)
			catchup = "none";
		if (strcmp(catchup, "none") != 0 && strcmp(catchup, "one") != 0 && strcmp(catchup, "all") != 0)
			decode_problem(e, "", "catchup", "expected none, one or all");
	}
	int64_t catchup_max = 1;
	bool has_max = false;
	if (decode_int(e, s->doc, "", "catchup_max", 0, &catchup_max, &has_max) == 0 && has_max &&
	    (catchup_max < 1 || catchup_max > SCHEDULE_CATCHUP_MAX))
		decode_problem(e, "", "catchup_max", "must be from 1 to %d", SCHEDULE_CATCHUP_MAX);
	if (!has_max)
		catchup_max = 1;
	if (decode_str(e, s->doc, "", "overlap", 0, &overlap) == 0) {
		if (overlap == NULL)
			overlap = "queue";
		if (strcmp(overlap, "queue") != 0 && strcmp(overlap, "skip") != 0 &&
		    strcmp(overlap, "cancel_previous") != 0)
			decode_problem(e, "", "overlap", "expected queue, skip or cancel_previous");
	}
	bool paused = false;
	decode_bool(e, s->doc, "", "paused", 0, &paused, NULL);
	if (e->details.len > 0)
		return too_large ? WEFT_ETOOLARGE : WEFT_EINVALID;
	s->namespace = ns != NULL ? xstrdup(ns) : NULL;
	row->name = (char *)name;
	row->cron = (char *)cron;
	row->timezone = (char *)zone;
	row->target_kind = (char *)s->target.kind;
	row->target = s->target.compact;
	row->catchup = (char *)catchup;
	row->catchup_max = catchup_max;
	row->overlap = (char *)overlap;
	row->paused = paused;
	return 0;
}

static void finish_create(http_request *r, engine_cmd *cmd, void *state)
{
	create_state *s = state;
	if (cmd->result == WEFT_ECONFLICT) {
		v1_fail_msg(r, WEFT_ECONFLICT, NULL, "A schedule named %s exists already in namespace %s.",
		            s->cmd.row.name, s->cmd.row.namespace);
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	answer_schedule(r, 201, s->cmd.row.namespace, s->cmd.row.name, -1);
}

void v1_create_schedule(http_request *r)
{
	create_state *s = xcalloc(1, sizeof *s);
	cmd_schedule_create_init(&s->cmd);
	int rc = decode_create(r, s);
	if (rc != 0) {
		http_fail(r, rc);
		create_state_free(s);
		return;
	}
	const char *ns = s->namespace != NULL ? s->namespace : http_default_ns(r);
	const char *run_ns = s->target.namespace;
	if (!http_ns_visible(r, ns) || (run_ns != NULL && !http_ns_visible(r, run_ns))) {
		v1_fail_namespace(r, http_ns_visible(r, ns) ? run_ns : ns);
		create_state_free(s);
		return;
	}
	if (!v1_target_template_exists(r, &s->target, ns)) {
		create_state_free(s);
		return;
	}
	s->cmd.row.namespace = (char *)ns;
	s->cmd.base.actor = http_actor(r);
	http_submit(r, &s->cmd.base, s, finish_create, create_state_free);
}

/* ---- GET /v1/schedules, GET /v1/schedules/{name} ------------------------------------------ */

static void put_schedule_item(buf *b, const void *item)
{
	put_schedule(b, item, NULL, 0);
}

void v1_list_schedules(http_request *r)
{
	int64_t limit;
	const char *after;
	if (!trigger_list_page(r, &limit, &after))
		return;
	const char *ns = v1_route_namespace(r);
	if (ns == NULL)
		return;
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	schedule_row *rows = NULL;
	size_t n = 0;
	int rc = store_schedule_list(c, ns, after, (size_t)limit + 1, &rows, &n);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		store_free_schedules(rows, n);
		http_fail_server(r, rc, "schedule list");
		return;
	}
	size_t shown = MIN(n, (size_t)limit);
	v1_respond_name_page(r, "schedules", rows, shown, sizeof *rows, put_schedule_item,
	                     n > shown ? rows[shown - 1].name : NULL);
	store_free_schedules(rows, n);
}

void v1_get_schedule(http_request *r)
{
	const char *name = trigger_route_name(r);
	if (name == NULL)
		return;
	http_query_src q = http_query_src_of(r);
	int64_t nnext = SCHEDULE_NEXT_DEFAULT;
	if (decode_query_int(&q, "next", 0, SCHEDULE_NEXT_MAX, http_err(r), &nnext, NULL) != 0) {
		http_error_set(http_err(r), WEFT_EINVALID, HTTP_ERR_RULE, "next", "expected an integer from 0 to %d",
		               SCHEDULE_NEXT_MAX);
		http_fail(r, WEFT_EINVALID);
		return;
	}
	const char *ns = v1_route_namespace(r);
	if (ns != NULL)
		answer_schedule(r, 200, ns, name, (int)nnext);
}

/* ---- DELETE /v1/schedules/{name}, POST .../pause, .../resume ------------------------------- */

typedef struct change_state {
	union {
		engine_cmd base;
		cmd_schedule_delete del;
		cmd_schedule_pause pause;
		cmd_schedule_trigger trigger;
	} cmd;
	char kind;                   /* 'd'elete, 'p'ause, 'r'esume, 't'rigger */
	char namespace[NAMESPACE_MAX + 1];
	char name[TRIGGER_NAME_MAX + 1];
} change_state;

static void finish_change(http_request *r, engine_cmd *cmd, void *state)
{
	change_state *s = state;
	if (cmd->result == WEFT_ENOTFOUND) {
		fail_no_schedule(r, s->namespace, s->name);
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	if (s->kind == 'd')
		http_respond_empty(r, 204);
	else
		answer_schedule(r, 200, s->namespace, s->name, -1);
}

/* kind: 'd'elete, 'p'ause, 'r'esume, 't'rigger. */
static void change(http_request *r, char kind)
{
	const char *name = trigger_route_name(r);
	const char *ns = name != NULL ? v1_route_namespace(r) : NULL;
	if (ns == NULL)
		return;
	change_state *s = xcalloc(1, sizeof *s);
	s->kind = kind;
	snprintf(s->namespace, sizeof s->namespace, "%s", ns);
	snprintf(s->name, sizeof s->name, "%s", name);
	if (kind == 'd') {
		cmd_schedule_delete_init(&s->cmd.del);
		s->cmd.del.namespace = s->namespace;
		s->cmd.del.name = s->name;
	} else if (kind == 't') {
		cmd_schedule_trigger_init(&s->cmd.trigger);
		s->cmd.trigger.namespace = s->namespace;
		s->cmd.trigger.name = s->name;
	} else {
		cmd_schedule_pause_init(&s->cmd.pause);
		s->cmd.pause.namespace = s->namespace;
		s->cmd.pause.name = s->name;
		s->cmd.pause.paused = kind == 'p';
	}
	s->cmd.base.actor = http_actor(r);
	http_submit(r, &s->cmd.base, s, finish_change, free);
}

void v1_delete_schedule(http_request *r) { change(r, 'd'); }
void v1_pause_schedule(http_request *r) { change(r, 'p'); }
void v1_resume_schedule(http_request *r) { change(r, 'r'); }
void v1_trigger_schedule(http_request *r) { change(r, 't'); }
