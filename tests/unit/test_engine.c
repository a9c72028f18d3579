/*
 * Engine tests against a real SQLite store and a real dispatcher.
 *
 * Start webhooks point at a local "hold" listener that accepts connections
 * and never answers, so started tasks stay Claimed (PATCH is allowed from
 * Claimed), or at a closed port, so their start fails at once.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/json.h"
#include "engine/engine.h"
#include "engine/commands/batches.h"
#include "engine/commands/tasks.h"
#include "exec/webhook.h"
#include "store/store.h"
#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine_test.h"

typedef struct fixture {
	char dir[64];
	store *st;
	dispatcher *disp;
	engine *eng;
	ssrf_policy ssrf;
	int hold_fd;
	char hold_url[64];
	char dead_url[64];
} fixture;

static fixture F;

static int setup(void **state)
{
	UNUSED(state);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(F.dir, sizeof(F.dir), "/tmp/weft-engine-XXXXXX");
	assert_non_null(mkdtemp(F.dir));
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/t.db", F.dir);
	store_options so = { .sync_full = false, .readers = 2 };
	F.st = store_open(path, &so, err, sizeof(err));
	assert_non_null(F.st);

	int port;
	F.hold_fd = test_listener(&port);
	assert_true(F.hold_fd >= 0);
	snprintf(F.hold_url, sizeof(F.hold_url), "http://127.0.0.1:%d/hold", port);
	int dead_fd = test_listener(&port);
	close(dead_fd);     /* nothing listens there any more: connection refused */
	snprintf(F.dead_url, sizeof(F.dead_url), "http://127.0.0.1:%d/dead", port);

	ssrf_policy_init(&F.ssrf);
	F.ssrf.skip = true;
	dispatcher_config dc = { .host_url = "http://127.0.0.1:8085", .concurrency = 64,
	                         .timeout_ms = 60000, .connect_timeout_ms = 2000,
	                         .max_response_bytes = 65536 };
	F.disp = dispatcher_new(&dc);
	engine_config ec = { .claim_timeout_us = 3600LL * 1000000, .sweep_interval_us = 0,
	                     .start_window = 1000, .dead_end_cancel = true, .ssrf = &F.ssrf,
	                     .delivery_window = 16, .max_attempts = 3, .backoff_base_us = 100000,
	                     .backoff_cap_us = 1000000, .lease_us = 60000000 };
	F.eng = engine_new(&ec, F.st, F.disp);
	assert_int_equal(engine_start(F.eng), 0);
	return 0;
}

static int teardown(void **state)
{
	UNUSED(state);
	engine_stop(F.eng);
	dispatcher_free(F.disp);
	engine_free(F.eng);
	store_close(F.st);
	ssrf_policy_release(&F.ssrf);
	close(F.hold_fd);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.dir);
	assert_int_equal(system(cmd), 0);
	curl_global_cleanup();
	return 0;
}

/* ---- building batches ---------------------------------------------------- */

typedef struct spec {
	const char *name;
	int parents[4];          /* indexes, -1 terminated */
	bool required[4];
	bool barrier;
	const char *url;         /* default: hold */
	const char *metadata;    /* default "null" */
} spec;

static char *params_for(const char *url)
{
	return xasprintf("{\"url\":\"%s\",\"verb\":\"Post\"}", url);
}

static void fill_task(new_task *t, const spec *s)
{
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(s->name);
	t->kind = xstrdup("test");
	t->timeout_secs = 3600;
	t->metadata = xstrdup(s->metadata ? s->metadata : "null");
	t->rules = xstrdup("[]");
	t->dead_end_barrier = s->barrier;
	t->on_start = params_for(s->url ? s->url : F.hold_url);
	size_t n = 0;
	while (n < 4 && s->parents[n] >= 0 && !(n > 0 && s->parents[n] == 0))
		n++;
	t->deps = xcalloc(n ? n : 1, sizeof(new_dependency));
	for (size_t i = 0; i < n; i++)
		t->deps[i] = (new_dependency){ .parent_index = (size_t)s->parents[i], .requires_success = s->required[i] };
	t->ndeps = n;
}

/* Submits the batch and copies the created ids out. */
/* A command's outcome as one int: its result, or NOOP_OUTCOME when it
 * succeeded without changing anything. */
#define NOOP_OUTCOME 1

static int outcome(const engine_cmd *cmd)
{
	return cmd->noop ? NOOP_OUTCOME : cmd->result;
}

static void submit(const spec *specs, size_t n, weft_id *ids, weft_id *batch)
{
	new_task *tasks = xcalloc(n, sizeof(new_task));
	for (size_t i = 0; i < n; i++)
		fill_task(&tasks[i], &specs[i]);
	cmd_submit cmd;
	cmd_submit_init(&cmd);
	id_new_v4(&cmd.batch_id);
	cmd.tasks = tasks;
	cmd.ntasks = n;
	engine_call(F.eng, &cmd.base);
	assert_int_equal(outcome(&cmd.base), 0);
	for (size_t i = 0; i < n; i++) {
		ids[i] = tasks[i].id;
		new_task_release(&tasks[i]);
	}
	if (batch)
		*batch = cmd.batch_id;
	free(tasks);
}

static task_row get(const weft_id *id) { return test_task_get(F.st, id); }
static task_status status_of(const weft_id *id) { return test_task_status(F.st, id); }
static task_status wait_not(const weft_id *id, task_status from)
{
	return test_wait_status_not(F.st, id, from, 500, 2000);
}

static int simple(task_action what, const weft_id *id, task_status *current)
{
	cmd_task cmd;
	cmd_task_init(&cmd, what);
	cmd.id = *id;
	engine_call(F.eng, &cmd.base);
	if (current)
		*current = cmd.base.current_status;
	return outcome(&cmd.base);
}

static int patch(const weft_id *id, task_status to, task_status *current)
{
	cmd_patch cmd;
	cmd_patch_init(&cmd);
	cmd.id = *id;
	cmd.has_status = true;
	cmd.status = to;
	cmd.failure_reason = to == TS_FAILURE ? "boom" : NULL;
	engine_call(F.eng, &cmd.base);
	if (current)
		*current = cmd.base.current_status;
	return outcome(&cmd.base);
}

#define NO { -1, -1, -1, -1 }

/* ---- tests ---------------------------------------------------------------- */

static void test_chain_success_releases_children(void **state)
{
	UNUSED(state);
	spec s[] = { { "a", NO, { 0 }, false, NULL, NULL },
	             { "b", { 0, -1 }, { true }, false, NULL, NULL },
	             { "c", { 1, -1 }, { true }, false, NULL, NULL } };
	weft_id id[3];
	submit(s, 3, id, NULL);
	assert_int_equal(wait_not(&id[0], TS_PENDING), TS_CLAIMED);
	assert_int_equal(status_of(&id[1]), TS_WAITING);
	assert_int_equal(patch(&id[0], TS_SUCCESS, NULL), 0);
	assert_int_equal(wait_not(&id[1], TS_PENDING), TS_CLAIMED);
	assert_int_equal(status_of(&id[2]), TS_WAITING);
	/* the same final status again is a no-op; another one a conflict */
	task_status cur;
	assert_int_equal(patch(&id[0], TS_SUCCESS, &cur), NOOP_OUTCOME);
	assert_int_equal(patch(&id[0], TS_FAILURE, &cur), WEFT_ECONFLICT);
	assert_int_equal(cur, TS_SUCCESS);
	task_row c = get(&id[2]);
	assert_int_equal(c.wait_finished, 1);
	assert_int_equal(c.wait_success, 1);
	task_row_release(&c);
}

static void test_cancel_cascades_to_required_children_only(void **state)
{
	UNUSED(state);
	spec s[] = { { "root", NO, { 0 }, false, NULL, NULL },
	             { "req", { 0, -1 }, { true }, false, NULL, NULL },
	             { "opt", { 0, -1 }, { false }, false, NULL, NULL },
	             { "grandchild", { 1, -1 }, { true }, false, NULL, NULL } };
	weft_id id[4];
	submit(s, 4, id, NULL);
	assert_int_equal(simple(TASK_CANCEL, &id[0], NULL), 0);
	task_row req = get(&id[1]);
	assert_int_equal(req.status, TS_FAILURE);
	char want[96];
	snprintf(want, sizeof(want), "Required parent task %s failed", id[0].str);
	assert_string_equal(req.failure_reason, want);
	assert_int_not_equal(req.ended_at, 0);
	task_row_release(&req);
	assert_int_equal(status_of(&id[3]), TS_FAILURE);
	/* an optional parent's cancel counts as resolved */
	assert_int_not_equal(status_of(&id[2]), TS_WAITING);
	assert_int_not_equal(status_of(&id[2]), TS_FAILURE);
	task_status cur;
	assert_int_equal(simple(TASK_CANCEL, &id[0], &cur), WEFT_ECONFLICT);
	assert_int_equal(cur, TS_CANCELED);
}

static void test_dead_end_cancels_siblings_and_stops_at_barrier(void **state)
{
	UNUSED(state);
	/* g -> barrier -> child ; a1, a2, a3 -> child */
	spec s[] = { { "g", NO, { 0 }, false, NULL, NULL },
	             { "barrier", { 0, -1 }, { false }, true, NULL, NULL },
	             { "a1", NO, { 0 }, false, NULL, NULL },
	             { "a2", NO, { 0 }, false, NULL, NULL },
	             { "child", { 1, 2, 3, -1 }, { true, true, true }, false, NULL, NULL } };
	weft_id id[5];
	submit(s, 5, id, NULL);
	assert_int_equal(patch(&id[3], TS_FAILURE, NULL), 0);
	assert_int_equal(status_of(&id[4]), TS_FAILURE);
	task_row a1 = get(&id[2]);
	assert_int_equal(a1.status, TS_CANCELED);
	assert_string_equal(a1.failure_reason, "All child tasks already terminated");
	task_row_release(&a1);
	assert_int_equal(status_of(&id[1]), TS_CANCELED);     /* the barrier itself is canceled */
	assert_int_not_equal(status_of(&id[0]), TS_CANCELED); /* but the walk stops there */
}

static void test_pause_resume_and_paused_child_gets_outcomes(void **state)
{
	UNUSED(state);
	spec s[] = { { "p1", NO, { 0 }, false, NULL, NULL },
	             { "p2", NO, { 0 }, false, NULL, NULL },
	             { "child", { 0, 1, -1 }, { true, true }, false, NULL, NULL } };
	weft_id id[3];
	submit(s, 3, id, NULL);
	task_status cur;
	assert_int_equal(simple(TASK_PAUSE, &id[2], NULL), 0);
	assert_int_equal(simple(TASK_PAUSE, &id[2], &cur), WEFT_ECONFLICT);
	assert_int_equal(cur, TS_PAUSED);
	assert_int_equal(simple(TASK_RESUME, &id[0], &cur), WEFT_ECONFLICT);
	assert_int_equal(patch(&id[0], TS_SUCCESS, NULL), 0);
	task_row c = get(&id[2]);
	assert_int_equal(c.status, TS_PAUSED);
	assert_int_equal(c.wait_finished, 1);
	task_row_release(&c);
	assert_int_equal(simple(TASK_RESUME, &id[2], &cur), 0);
	assert_int_equal(cur, TS_WAITING);
	assert_int_equal(simple(TASK_PAUSE, &id[2], NULL), 0);
	assert_int_equal(patch(&id[1], TS_SUCCESS, NULL), 0);
	assert_int_equal(status_of(&id[2]), TS_PAUSED);        /* released, but still paused */
	assert_int_equal(simple(TASK_RESUME, &id[2], &cur), 0);
	assert_int_equal(cur, TS_PENDING);
	assert_int_equal(wait_not(&id[2], TS_PENDING), TS_CLAIMED);
}

static void test_paused_child_fails_with_required_parent(void **state)
{
	UNUSED(state);
	spec s[] = { { "p", NO, { 0 }, false, NULL, NULL },
	             { "child", { 0, -1 }, { true }, false, NULL, NULL } };
	weft_id id[2];
	submit(s, 2, id, NULL);
	assert_int_equal(simple(TASK_PAUSE, &id[1], NULL), 0);
	assert_int_equal(patch(&id[0], TS_FAILURE, NULL), 0);
	assert_int_equal(status_of(&id[1]), TS_FAILURE);
}

static void test_start_failure_fails_task_and_children(void **state)
{
	UNUSED(state);
	spec s[] = { { "dead", NO, { 0 }, false, F.dead_url, NULL },
	             { "child", { 0, -1 }, { true }, false, NULL, NULL } };
	weft_id id[2];
	submit(s, 2, id, NULL);
	task_status st = TS_PENDING;
	for (int i = 0; i < 1000 && !task_status_terminal(st); i++) {
		st = status_of(&id[0]);
		usleep(2000);
	}
	assert_int_equal(st, TS_FAILURE);
	task_row r = get(&id[0]);
	assert_non_null(strstr(r.failure_reason, "on_start"));
	task_row_release(&r);
	assert_int_equal(status_of(&id[1]), TS_FAILURE);
}

static void test_counters_apply_in_any_status(void **state)
{
	UNUSED(state);
	spec s[] = { { "t", NO, { 0 }, false, NULL, NULL } };
	weft_id id[1];
	submit(s, 1, id, NULL);
	assert_int_equal(simple(TASK_CANCEL, &id[0], NULL), 0);
	cmd_counters cmd;
	cmd_counters_init(&cmd);
	cmd.id = id[0];
	cmd.success = 5;
	cmd.failures = 2;
	engine_call(F.eng, &cmd.base);
	assert_int_equal(outcome(&cmd.base), 0);
	task_row r = get(&id[0]);
	assert_int_equal(r.success, 5);
	assert_int_equal(r.failures, 2);
	task_row_release(&r);
	weft_id unknown;
	id_new_v7(&unknown);
	cmd.id = unknown;
	engine_call(F.eng, &cmd.base);
	assert_int_equal(outcome(&cmd.base), WEFT_ENOTFOUND);
}

static void test_dedupe_skips_and_drops_dependency(void **state)
{
	UNUSED(state);
	spec first[] = { { "orig", NO, { 0 }, false, NULL, "{\"key\":\"dedupe-1\"}" } };
	weft_id id0[1];
	submit(first, 1, id0, NULL);
	assert_int_equal(wait_not(&id0[0], TS_PENDING), TS_CLAIMED);

	new_task tasks[2];
	spec s[] = { { "dup", NO, { 0 }, false, NULL, "{\"key\":\"dedupe-1\"}" },
	             { "child", { 0, -1 }, { true }, false, NULL, NULL } };
	fill_task(&tasks[0], &s[0]);
	fill_task(&tasks[1], &s[1]);
	tasks[0].dedupe = xcalloc(1, sizeof(new_matcher));
	tasks[0].ndedupe = 1;
	tasks[0].dedupe[0].kind = xstrdup("test");
	tasks[0].dedupe[0].status = TS_CLAIMED;
	tasks[0].dedupe[0].fields = xcalloc(1, sizeof(char *));
	tasks[0].dedupe[0].fields[0] = xstrdup("key");
	tasks[0].dedupe[0].nfields = 1;
	cmd_submit cmd;
	cmd_submit_init(&cmd);
	id_new_v4(&cmd.batch_id);
	cmd.tasks = tasks;
	cmd.ntasks = 2;
	engine_call(F.eng, &cmd.base);
	assert_int_equal(outcome(&cmd.base), 0);
	assert_int_equal(cmd.created, 1);
	assert_false(tasks[0].created);
	assert_true(tasks[1].created);
	assert_int_equal(tasks[1].status, TS_PENDING);   /* its only dependency was dropped */
	new_task_release(&tasks[0]);
	new_task_release(&tasks[1]);
}

static void test_stop_batch_counts(void **state)
{
	UNUSED(state);
	spec s[] = { { "p", NO, { 0 }, false, NULL, NULL },
	             { "c", { 0, -1 }, { true }, false, NULL, NULL } };
	weft_id id[2], batch;
	submit(s, 2, id, &batch);
	assert_int_equal(wait_not(&id[0], TS_PENDING), TS_CLAIMED);
	cmd_stop_batch cmd;
	cmd_stop_batch_init(&cmd);
	cmd.batch_id = batch;
	engine_call(F.eng, &cmd.base);
	assert_int_equal(outcome(&cmd.base), 0);
	assert_int_equal(cmd.counts.canceled[TS_CLAIMED], 1);
	assert_int_equal(cmd.counts.canceled[TS_WAITING], 1);
	assert_int_equal(status_of(&id[1]), TS_CANCELED);
	engine_call(F.eng, &cmd.base);
	assert_int_equal(cmd.counts.already_terminal, 2);
	id_new_v4(&cmd.batch_id);
	engine_call(F.eng, &cmd.base);
	assert_int_equal(outcome(&cmd.base), WEFT_ENOTFOUND);
}

/* A 10,000-deep chain failing at its root: propagation is iterative and
 * set-based, so this neither overflows the stack nor takes long. */
static void test_deep_chain_failure(void **state)
{
	UNUSED(state);
	enum { DEPTH = 10000 };
	spec *s = xcalloc(DEPTH, sizeof(spec));
	for (int i = 0; i < DEPTH; i++) {
		s[i] = (spec){ "link", NO, { 0 }, false, NULL, NULL };
		if (i > 0) {
			s[i].parents[0] = i - 1;
			s[i].required[0] = true;
		}
	}
	weft_id *id = xcalloc(DEPTH, sizeof(weft_id));
	submit(s, DEPTH, id, NULL);
	assert_int_equal(simple(TASK_CANCEL, &id[0], NULL), 0);
	assert_int_equal(status_of(&id[DEPTH - 1]), TS_FAILURE);
	free(s);
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_success_releases_children),
		cmocka_unit_test(test_cancel_cascades_to_required_children_only),
		cmocka_unit_test(test_dead_end_cancels_siblings_and_stops_at_barrier),
		cmocka_unit_test(test_pause_resume_and_paused_child_gets_outcomes),
		cmocka_unit_test(test_paused_child_fails_with_required_parent),
		cmocka_unit_test(test_start_failure_fails_task_and_children),
		cmocka_unit_test(test_counters_apply_in_any_status),
		cmocka_unit_test(test_dedupe_skips_and_drops_dependency),
		cmocka_unit_test(test_stop_batch_counts),
		cmocka_unit_test(test_deep_chain_failure),
	};
	return cmocka_run_group_tests_name("engine", tests, setup, teardown);
}
