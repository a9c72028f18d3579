/*
 * tasks.c — the ArcRun API's task routes: create a batch (POST /task),
 * list and read tasks, complete or update one (PATCH), add to its counters
 * (PUT), cancel, pause and resume it. Reads go to a store reader;
 * mutations are engine commands (actor "api" in the audit trail),
 * answered after the commit.
 */
#include "util/common.h"
#include "engine/rules.h"
#include "util/clock.h"
#include "http/arcrun/handlers.h"

#include "core/error.h"
#include "core/limits.h"
#include "http/decode.h"
#include "engine/commands/batches.h"
#include "engine/commands/tasks.h"
#include "http/arcrun/decode.h"
#include "http/arcrun/names.h"
#include "http/arcrun/shapes.h"
#include "util/alloc.h"

/* ---- POST /task ------------------------------------------------------ */

typedef struct submit_state {
	cmd_submit cmd;
	batch_input in;
} submit_state;

static void submit_state_free(void *p)
{
	submit_state *s = p;
	batch_input_release(&s->in);
	free(s);
}

static void finish_create(http_request *r, engine_cmd *cmd, void *state)
{
	submit_state *s = state;
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	const weft_id *batch = &s->cmd.batch_id;
	http_add_header(r, "X-Batch-ID", batch->str);

	size_t created = 0;
	for (size_t i = 0; i < s->in.ntasks; i++)
		created += s->in.tasks[i].created;
	if (created == 0) {
		http_respond_empty(r, 204);
		return;
	}
	buf b;
	buf_init(&b);
	buf_putc(&b, '[');
	bool first = true;
	for (size_t i = 0; i < s->in.ntasks; i++) {
		if (!s->in.tasks[i].created)
			continue;
		if (!first)
			buf_putc(&b, ',');
		first = false;
		arcrun_put_new_task(&b, &s->in.tasks[i], batch);
	}
	buf_putc(&b, ']');
	http_respond_json(r, 201, &b);
	buf_release(&b);
}

static void free_doc(void *doc)
{
	json_decref(doc);
}

void arcrun_create(http_request *r)
{
	submit_state *s = xcalloc(1, sizeof(*s));
	weft_id batch;
	size_t len;
	const char *body = http_body(r, &len);

	id_new_v4(&batch);
	int rc = arcrun_decode_batch(body, len, http_config(r), &s->in, http_err(r));
	if (rc != 0) {
		arcrun_fail_batch(r, rc, &batch);
		free(s);
		return;
	}
	cmd_submit_init(&s->cmd);
	s->cmd.base.actor = "api";
	s->cmd.batch_id = batch;
	s->cmd.tasks = s->in.tasks;
	s->cmd.ntasks = s->in.ntasks;
	s->cmd.scope = s->in.scope;
	s->cmd.metadata = s->in.metadata;
	s->cmd.on_complete = s->in.on_complete;
	/* Free the parsed body and its text while the engine commits. */
	json_t *doc = s->in.doc;
	s->in.doc = NULL;
	http_body_release(r);
	http_submit(r, &s->cmd.base, s, finish_create, submit_state_free);
	http_after_submit(r, free_doc, doc);
}

/* ---- reads ----------------------------------------------------------- */

/* ArcRun shows a token limited to some namespaces the default one only
 * (the one ArcRun's own tasks are in); tokens with "*" see every task. */
static bool arcrun_sees(const http_request *r, const task_row *t)
{
	return http_ns_all(r) || t->namespace == NULL || strcmp(t->namespace, NAMESPACE_DEFAULT) == 0;
}

bool arcrun_task_hidden(http_request *r, const weft_id *id)
{
	if (http_ns_all(r))
		return false;
	store_conn *c = http_reader(r);
	if (c == NULL)
		return true;
	task_row t;
	memset(&t, 0, sizeof(t));
	/* A task's namespace never changes: what this read says holds for the
	 * command that follows. */
	bool hidden = store_task_get(c, id, &t) == 0 && !arcrun_sees(r, &t);
	store_reader_release(http_store(r), c);
	task_row_release(&t);
	if (hidden)
		arcrun_fail_task_not_found(r, id);
	return hidden;
}

/* Why a pending task is not starting, when something holds it back: its
 * rules (a concurrency or capacity limit, or a matcher field its metadata
 * lacks, which holds it until the metadata gets it), or a start_after
 * still ahead. NULL otherwise. Owned. */
static char *blocked_reason(store_conn *c, const task_row *t)
{
	if (t->status != TS_PENDING || t->archived)
		return NULL;
	if (t->start_after > clock_now_us()) {
		char when[TIME_RFC3339_MAX];
		time_format_rfc3339(t->start_after, when);
		return xasprintf("start_after %s is not reached yet", when);
	}
	return rules_explain(c, t);
}

void arcrun_get_task(http_request *r)
{
	const weft_id *id = http_param(r, 0);
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	task_row t;
	action_row *acts = NULL;
	size_t nacts = 0;
	memset(&t, 0, sizeof(t));
	char *blocked = NULL;
	int rc = store_task_get(c, id, &t);
	if (rc == 0 && !arcrun_sees(r, &t))
		rc = WEFT_ENOTFOUND;
	if (rc == 0)
		rc = store_task_actions(c, id, &acts, &nacts);
	if (rc == 0)
		blocked = blocked_reason(c, &t);
	store_reader_release(http_store(r), c);

	if (rc == WEFT_ENOTFOUND) {
		http_respond_text(r, 404, "No task found with UID");
	} else if (rc != 0) {
		http_fail_server(r, rc, "task read");
	} else {
		arcrun_task_view v = { .task = &t, .actions = acts, .nactions = nacts, .blocked_reason = blocked };
		buf b;
		buf_init(&b);
		arcrun_put_task(&b, &v);
		http_respond_json(r, 200, &b);
		buf_release(&b);
	}
	free(blocked);
	task_row_release(&t);
	store_free_actions(acts, nacts);
}

void arcrun_list_tasks(http_request *r)
{
	task_query q;
	http_query_src src = http_query_src_of(r);
	int rc = arcrun_decode_task_query(&src, http_config(r), &q, http_err(r));
	store_conn *c = http_reader_after(r, rc);
	if (c != NULL) {
		task_row *rows = NULL;
		size_t n = 0;
		rc = store_task_list(c, &q.filter, q.offset, q.limit, &rows, &n);
		store_reader_release(http_store(r), c);
		/* Tasks of other namespaces leave the page (which may then be
		 * short: the store's listing does not filter by namespace). */
		size_t kept = 0;
		for (size_t i = 0; rc == 0 && i < n; i++) {
			if (arcrun_sees(r, &rows[i]))
				rows[kept++] = rows[i];
			else
				task_row_release(&rows[i]);
		}
		if (rc == 0)
			n = kept;
		if (rc != 0)
			http_fail_server(r, rc, "task list");
		else
			http_respond_json_array(r, 200, rows, n, sizeof(*rows), arcrun_put_basic_item);
		store_free_tasks(rows, n);
	}
	task_query_release(&q);
}

/* ---- PATCH and PUT ----------------------------------------------------- */

typedef struct update_state {
	union {
		cmd_patch patch;        /* PATCH */
		cmd_counters counters;  /* PUT */
	} cmd;
	update_input in;
} update_state;

static void update_state_free(void *p)
{
	update_state *s = p;
	update_input_release(&s->in);
	free(s);
}

/* Decodes a PATCH or PUT body; NULL after answering when it is invalid. */
static update_state *decode_update(http_request *r, bool put)
{
	update_state *s = xcalloc(1, sizeof(*s));
	size_t len;
	const char *body = http_body(r, &len);
	int rc = put ? arcrun_decode_put(body, len, http_config(r), &s->in, http_err(r))
	             : arcrun_decode_patch(body, len, http_config(r), &s->in, http_err(r));
	if (rc != 0) {
		http_fail(r, rc);
		free(s);
		s = NULL;
	}
	return s;
}

/* An increment the task's counter cannot take: 400 naming the field that
 * asked for it (new_success or new_failures). */
static void fail_over_limit(http_request *r, const char *counter)
{
	const char *field = counter && strcmp(counter, "failures") == 0 ? "new_failures" : "new_success";
	decode_problem(http_err(r), NULL, field, "the task's %s counter would exceed %" PRId64,
	               counter ? counter : "success", TASK_COUNTER_MAX);
	http_fail(r, WEFT_EINVALID);
}

static void finish_patch(http_request *r, engine_cmd *cmd, void *state)
{
	UNUSED(state);
	switch (cmd->result) {
	case 0:
		http_respond_text(r, 200, "Task updated successfully");
		break;
	case WEFT_EINVALID:
		fail_over_limit(r, engine_cmd_of(cmd, cmd_patch)->over_limit);
		break;
	case WEFT_ENOTFOUND:
		arcrun_fail_task_not_found(r, &engine_cmd_of(cmd, cmd_patch)->id);
		break;
	case WEFT_ECONFLICT:
		arcrun_fail_state(r, WEFT_ECONFLICT, cmd->current_status, "Task is %s, not Running",
		                  arcrun_status_name(cmd->current_status));
		break;
	default:
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		break;
	}
}

void arcrun_patch_task(http_request *r)
{
	if (arcrun_task_hidden(r, http_param(r, 0)))
		return;
	update_state *s = decode_update(r, false);
	if (s == NULL)
		return;
	cmd_patch *c = &s->cmd.patch;
	cmd_patch_init(c);
	c->base.actor = "api";
	c->id = *http_param(r, 0);
	c->has_status = s->in.has_status;
	c->status = s->in.status;
	c->new_success = s->in.new_success;
	c->new_failures = s->in.new_failures;
	c->metadata = s->in.metadata;
	c->failure_reason = s->in.failure_reason;
	c->has_expected_count = s->in.has_expected_count;
	c->expected_count = s->in.expected_count;
	c->has_priority = s->in.has_priority;
	c->priority = s->in.priority;
	http_submit(r, &c->base, s, finish_patch, update_state_free);
}

static void finish_put(http_request *r, engine_cmd *cmd, void *state)
{
	UNUSED(state);
	switch (cmd->result) {
	case 0:
		http_respond_text(r, 202, "Queued");
		break;
	case WEFT_EINVALID:
		fail_over_limit(r, engine_cmd_of(cmd, cmd_counters)->over_limit);
		break;
	case WEFT_ENOTFOUND:
		arcrun_fail_task_not_found(r, &engine_cmd_of(cmd, cmd_counters)->id);
		break;
	case WEFT_ECONFLICT:
		arcrun_fail_state(r, WEFT_ECONFLICT, cmd->current_status,
		                  "Task is %s; counters can no longer be updated", arcrun_status_name(cmd->current_status));
		break;
	default:
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		break;
	}
}

void arcrun_put_task_counters(http_request *r)
{
	if (arcrun_task_hidden(r, http_param(r, 0)))
		return;
	update_state *s = decode_update(r, true);
	if (s == NULL)
		return;
	cmd_counters *c = &s->cmd.counters;
	cmd_counters_init(c);
	c->base.actor = "api";
	c->id = *http_param(r, 0);
	c->success = s->in.new_success;
	c->failures = s->in.new_failures;
	http_submit(r, &c->base, s, finish_put, update_state_free);
}

/* ---- cancel, pause, resume ---------------------------------------------- */

/* They carry only the task id. */
typedef struct task_cmd_state {
	cmd_task cmd;
	task_action what;
} task_cmd_state;

static void fail_task_conflict(http_request *r, task_action what, task_status cur)
{
	const char *name = arcrun_status_name(cur);
	switch (what) {
	case TASK_CANCEL:
		arcrun_fail_state(r, WEFT_ECONFLICT, cur, "Task is %s and cannot be canceled", name);
		break;
	case TASK_PAUSE:
		/* A started task's remote work cannot be paused: a bad request,
		 * not a passing state. */
		arcrun_fail_state(r, cur == TS_RUNNING || cur == TS_CLAIMED ? WEFT_EINVALID : WEFT_ECONFLICT, cur,
		                  "Task is %s; only Pending or Waiting tasks can be paused", name);
		break;
	default:
		arcrun_fail_state(r, WEFT_ECONFLICT, cur, "Task is %s; only Paused tasks can be resumed", name);
		break;
	}
}

static void finish_task_cmd(http_request *r, engine_cmd *cmd, void *state)
{
	const task_cmd_state *s = state;
	switch (cmd->result) {
	case 0:
		http_respond_empty(r, 200);
		break;
	case WEFT_ENOTFOUND:
		arcrun_fail_task_not_found(r, &s->cmd.id);
		break;
	case WEFT_ECONFLICT:
		fail_task_conflict(r, s->what, cmd->current_status);
		break;
	default:
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		break;
	}
}

static void submit_task_cmd(http_request *r, task_action what)
{
	if (arcrun_task_hidden(r, http_param(r, 0)))
		return;
	task_cmd_state *s = xcalloc(1, sizeof(*s));
	cmd_task_init(&s->cmd, what);
	s->what = what;
	s->cmd.base.actor = "api";
	s->cmd.id = *http_param(r, 0);
	http_submit(r, &s->cmd.base, s, finish_task_cmd, free);
}

void arcrun_cancel_task(http_request *r) { submit_task_cmd(r, TASK_CANCEL); }
void arcrun_pause_task(http_request *r) { submit_task_cmd(r, TASK_PAUSE); }
void arcrun_resume_task(http_request *r) { submit_task_cmd(r, TASK_RESUME); }
