/*
 * test_engine_sets.c — commands applied as sets: PATCH commands queued for
 * one cycle (duplicates, an unknown task, a task whose state does not
 * allow it, a retried failure, an increment past the counter bound among
 * them) answer exactly as the same commands applied one at a time, and
 * leave the same tasks behind; failures whose outcome as a set would
 * depend on their order are applied one at a time. On SQLite and on
 * PostgreSQL (store_test.h's fixture, with an engine on top).
 *
 * Started tasks stay claimed: their start webhooks go to a listener that
 * accepts connections and never answers. To have the commands share one
 * cycle, a command of the test's own blocks the engine inside a cycle
 * while they are queued.
 */
#include "util/common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <curl/curl.h>

/* store_test.h's row helper new_task() would clash with the engine's
 * new_task struct: renamed here. */
#define new_task store_test_new_task
#include "store_test.h"
#undef new_task

#include "core/limits.h"
#include "engine/commands/batches.h"
#include "engine/commands/command.h"
#include "engine/commands/tasks.h"
#include "engine/engine.h"
#include "exec/webhook.h"
#include "util/alloc.h"
#include "util/metrics.h"

typedef struct rig {
	dispatcher *disp;
	engine *eng;
	ssrf_policy ssrf;
	int hold_fd;
	char hold_url[64];
} rig;

static void rig_start(fixture *f, rig *r)
{
	r->hold_fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	assert_int_equal(bind(r->hold_fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(r->hold_fd, 1024), 0);
	assert_int_equal(getsockname(r->hold_fd, (struct sockaddr *)&a, &len), 0);
	snprintf(r->hold_url, sizeof r->hold_url, "http://127.0.0.1:%d/hold", ntohs(a.sin_port));
	ssrf_policy_init(&r->ssrf);
	r->ssrf.skip = true;
	dispatcher_config dc = { .host_url = "http://127.0.0.1:8085", .concurrency = 64, .timeout_ms = 60000,
	                         .connect_timeout_ms = 2000, .max_response_bytes = 65536 };
	r->disp = dispatcher_new(&dc);
	engine_config ec = { .claim_timeout_us = 3600LL * 1000000, .start_window = 1000, .dead_end_cancel = true,
	                     .ssrf = &r->ssrf, .delivery_window = 16, .max_attempts = 3,
	                     .backoff_base_us = 100000, .backoff_cap_us = 1000000, .lease_us = 60000000 };
	r->eng = engine_new(&ec, f->st, r->disp);
	assert_int_equal(engine_start(r->eng), 0);
}

static void rig_stop(rig *r)
{
	engine_stop(r->eng);
	dispatcher_free(r->disp);
	engine_free(r->eng);
	ssrf_policy_release(&r->ssrf);
	close(r->hold_fd);
}

/* ---- a command that holds the engine inside a cycle ------------------------------- */

typedef struct gate {
	engine_cmd base;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool entered, open;
} gate;

static int apply_gate(engine *e, engine_cmd *cmd, int64_t now)
{
	UNUSED(e);
	UNUSED(now);
	gate *g = (gate *)cmd;
	pthread_mutex_lock(&g->mu);
	g->entered = true;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	cmd->result = 0;
	return 0;
}

static const engine_op op_gate = { .name = "test.gate", .apply = apply_gate, .failure_metric = "x" };

/* Queues the n commands while the engine is held inside a cycle, so that
 * the next cycle takes them all, and returns once they are answered (a
 * whole cycle that began after them has run). */
static void apply_in_one_cycle(engine *eng, engine_cmd **cmds, size_t n)
{
	gate g = { .base = { .op = &op_gate } };
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	engine_submit(eng, &g.base);
	pthread_mutex_lock(&g.mu);
	while (!g.entered)
		pthread_cond_wait(&g.cv, &g.mu);
	for (size_t i = 0; i < n; i++)
		engine_submit(eng, cmds[i]);
	g.open = true;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
	assert_int_equal(engine_sync(eng), 0);
	pthread_cond_destroy(&g.cv);
	pthread_mutex_destroy(&g.mu);
}

/* Guarded update statements executed so far (the store counts each
 * statement in db_query_duration_seconds). */
static int64_t updates_run(void)
{
	buf b;
	buf_init(&b);
	metrics_render(&b);
	const char *key = "db_query_duration_seconds_count{query=\"task_update\"} ";
	const char *at = strstr(b.data, key);
	int64_t n = at ? strtoll(at + strlen(key), NULL, 10) : 0;
	buf_release(&b);
	return n;
}

/* ---- the scenario ------------------------------------------------------------------ */

enum { A, B, C, D, E, P, W, NTASKS };

/* n tasks whose start calls go to the listener that never answers. */
static new_task *held_tasks(const rig *r, size_t n)
{
	new_task *t = xcalloc(n, sizeof *t);
	for (size_t i = 0; i < n; i++) {
		t[i].name = xasprintf("t%zu", i);
		t[i].kind = xstrdup("set");
		t[i].timeout_secs = 3600;
		t[i].metadata = xstrdup("null");
		t[i].rules = xstrdup("[]");
		t[i].on_start = xasprintf("{\"url\":\"%s\",\"verb\":\"Post\"}", r->hold_url);
	}
	return t;
}

/* Submits the tasks (released after) as a batch; their ids into ids. */
static void submit_tasks(rig *r, new_task *t, size_t n, weft_id *ids)
{
	cmd_submit s;
	cmd_submit_init(&s);
	s.tasks = t;
	s.ntasks = n;
	id_new_v4(&s.batch_id);
	engine_call(r->eng, &s.base);
	assert_int_equal(s.base.result, 0);
	for (size_t i = 0; i < n; i++) {
		ids[i] = t[i].id;
		new_task_release(&t[i]);
	}
	free(t);
}

/* A batch of NTASKS tasks: A..E started (claimed, since their start calls
 * never answer), W waiting for P, P started; D retries one explicit
 * failure. */
static void submit_scenario(rig *r, weft_id *ids)
{
	new_task *t = held_tasks(r, NTASKS);
	t[D].retry_policy = xstrdup("{\"max_retries\":1,\"initial_delay_secs\":3600,\"backoff_multiplier\":2,"
	                            "\"max_delay_secs\":3600,\"retry_on\":[\"explicit\"]}");
	t[W].deps = xcalloc(1, sizeof(new_dependency));
	t[W].deps[0] = (new_dependency){ .parent_index = P, .requires_success = true };
	t[W].ndeps = 1;
	submit_tasks(r, t, NTASKS, ids);
	/* E's success counter at the bound: one more would pass it. */
	cmd_counters c;
	cmd_counters_init(&c);
	c.id = ids[E];
	c.success = TASK_COUNTER_MAX;
	engine_call(r->eng, &c.base);
	assert_int_equal(c.base.result, 0);
}

static task_status status_of_task(fixture *f, const weft_id *id)
{
	store_conn *c = store_reader_acquire(f->st);
	task_row row;
	assert_int_equal(store_task_get(c, id, &row), 0);
	store_reader_release(f->st, c);
	task_status s = row.status;
	task_row_release(&row);
	return s;
}

static void wait_claimed(fixture *f, const weft_id *ids)
{
	static const int started[] = { A, B, C, D, E, P };
	for (size_t k = 0; k < ARRAY_LEN(started); k++) {
		int tries = 0;
		while (status_of_task(f, &ids[started[k]]) != TS_CLAIMED && tries++ < 1000)
			usleep(2000);
		assert_int_equal(status_of_task(f, &ids[started[k]]), TS_CLAIMED);
	}
}

#define NCMDS 12

/* The commands, in queue order. */
static void fill_commands(cmd_patch *p, const weft_id *ids)
{
	weft_id unknown;
	id_new_v7(&unknown);
	struct {
		int task;                /* -1: unknown */
		int status;              /* -1: none */
		int64_t add;
	} spec[NCMDS] = {
		{ A, TS_SUCCESS, 0 },
		{ B, TS_FAILURE, 0 },
		{ A, TS_SUCCESS, 0 },    /* again: a no-op */
		{ -1, TS_SUCCESS, 0 },   /* no such task */
		{ C, -1, 3 },            /* counters only */
		{ C, TS_SUCCESS, 2 },
		{ W, TS_SUCCESS, 0 },    /* waiting: a conflict */
		{ D, TS_FAILURE, 0 },    /* retried */
		{ D, TS_FAILURE, 0 },    /* retrying now: a conflict */
		{ E, -1, 1 },            /* past the bound */
		{ E, TS_FAILURE, 0 },
		{ A, TS_FAILURE, 0 },    /* a success already: a conflict */
	};
	for (int i = 0; i < NCMDS; i++) {
		cmd_patch_init(&p[i]);
		p[i].base.actor = "api";
		p[i].id = spec[i].task < 0 ? unknown : ids[spec[i].task];
		p[i].has_status = spec[i].status >= 0;
		p[i].status = spec[i].status >= 0 ? (task_status)spec[i].status : TS_SUCCESS;
		p[i].failure_reason = p[i].status == TS_FAILURE ? "boom" : NULL;
		p[i].new_success = spec[i].add;
	}
}

typedef struct answer {
	int result;
	bool noop;
	task_status current;
	const char *over_limit;
} answer;

typedef struct end_state {
	task_status status;
	int64_t success;
	int32_t attempt;
	char reason[96];
} end_state;

static void run(fixture *f, bool one_cycle, answer *ans, end_state *end)
{
	rig r;
	rig_start(f, &r);
	weft_id ids[NTASKS];
	submit_scenario(&r, ids);
	wait_claimed(f, ids);
	cmd_patch p[NCMDS];
	fill_commands(p, ids);
	if (one_cycle) {
		engine_cmd *cmds[NCMDS];
		for (int i = 0; i < NCMDS; i++)
			cmds[i] = &p[i].base;
		int64_t before = updates_run();
		apply_in_one_cycle(r.eng, cmds, NCMDS);
		/* As a set: at most one update per round (A is patched three
		 * times), where one at a time would take one per command. */
		int64_t updates = updates_run() - before;
		assert_true(updates >= 1 && updates <= 3);
	} else {
		for (int i = 0; i < NCMDS; i++)
			engine_call(r.eng, &p[i].base);
	}
	for (int i = 0; i < NCMDS; i++)
		ans[i] = (answer){ p[i].base.result, p[i].base.noop, p[i].base.current_status, p[i].over_limit };
	store_conn *c = store_reader_acquire(f->st);
	for (int i = 0; i < NTASKS; i++) {
		task_row row;
		assert_int_equal(store_task_get(c, &ids[i], &row), 0);
		end[i] = (end_state){ row.status, row.success, row.attempt, "" };
		snprintf(end[i].reason, sizeof end[i].reason, "%s", row.failure_reason ? row.failure_reason : "");
		task_row_release(&row);
	}
	store_reader_release(f->st, c);
	rig_stop(&r);
}

static void test_patch_set_answers_as_one_at_a_time(void **state)
{
	fixture *f = *state;
	answer set[NCMDS], one[NCMDS];
	end_state set_end[NTASKS], one_end[NTASKS];
	run(f, true, set, set_end);
	run(f, false, one, one_end);
	for (int i = 0; i < NCMDS; i++) {
		if (set[i].result != one[i].result || set[i].noop != one[i].noop ||
		    (set[i].result != WEFT_ENOTFOUND && set[i].current != one[i].current))
			fail_msg("command %d: as a set %d/%d/%s, one at a time %d/%d/%s", i, set[i].result, set[i].noop,
			         task_status_name(set[i].current), one[i].result, one[i].noop,
			         task_status_name(one[i].current));
		assert_true((set[i].over_limit == NULL) == (one[i].over_limit == NULL));
	}
	for (int i = 0; i < NTASKS; i++) {
		assert_int_equal(set_end[i].status, one_end[i].status);
		assert_int_equal(set_end[i].success, one_end[i].success);
		assert_int_equal(set_end[i].attempt, one_end[i].attempt);
		assert_string_equal(set_end[i].reason, one_end[i].reason);
	}
	/* What the answers are, besides being alike. */
	assert_int_equal(one[0].result, 0);
	assert_true(one[2].noop);
	assert_int_equal(one[3].result, WEFT_ENOTFOUND);
	assert_int_equal(one[6].result, WEFT_ECONFLICT);
	assert_int_equal(one[6].current, TS_WAITING);
	assert_int_equal(one[7].result, 0);
	assert_int_equal(one[7].current, TS_RETRYING);
	assert_int_equal(one[8].result, WEFT_ECONFLICT);
	assert_int_equal(one[9].result, WEFT_EINVALID);
	assert_string_equal(one[9].over_limit, "success");
	assert_int_equal(one[11].result, WEFT_ECONFLICT);
	assert_int_equal(one[11].current, TS_SUCCESS);
	assert_int_equal(one_end[C].success, 5);
	assert_int_equal(one_end[D].attempt, 2);
	assert_int_equal(one_end[E].status, TS_FAILURE);
	assert_int_equal(one_end[E].success, TASK_COUNTER_MAX);
}

/* Two started tasks X and Y fail in one cycle, with a child D requiring
 * both: one after the other, the first's failure fails D and cancels the
 * other as a dead end (all its children ended), whose PATCH then
 * conflicts. Applied at once they would both fail; the set answers so that
 * the engine applies them one at a time, in queue order. */
static void test_failures_that_make_each_other_dead_ends(void **state)
{
	fixture *f = *state;
	rig r;
	rig_start(f, &r);
	enum { X, Y, DD, N };
	new_task *t = held_tasks(&r, N);
	t[DD].deps = xcalloc(2, sizeof(new_dependency));
	t[DD].deps[0] = (new_dependency){ .parent_index = X, .requires_success = true };
	t[DD].deps[1] = (new_dependency){ .parent_index = Y, .requires_success = true };
	t[DD].ndeps = 2;
	weft_id ids[N];
	submit_tasks(&r, t, N, ids);
	for (int k = X; k <= Y; k++)
		for (int tries = 0; status_of_task(f, &ids[k]) != TS_CLAIMED && tries < 1000; tries++)
			usleep(2000);
	cmd_patch p[2];
	engine_cmd *cmds[2];
	for (int i = 0; i < 2; i++) {
		cmd_patch_init(&p[i]);
		p[i].id = ids[i == 0 ? X : Y];
		p[i].has_status = true;
		p[i].status = TS_FAILURE;
		p[i].failure_reason = "boom";
		cmds[i] = &p[i].base;
	}
	apply_in_one_cycle(r.eng, cmds, 2);
	assert_int_equal(p[0].base.result, 0);
	assert_int_equal(p[1].base.result, WEFT_ECONFLICT);
	assert_int_equal(p[1].base.current_status, TS_CANCELED);
	assert_int_equal(status_of_task(f, &ids[X]), TS_FAILURE);
	assert_int_equal(status_of_task(f, &ids[Y]), TS_CANCELED);
	assert_int_equal(status_of_task(f, &ids[DD]), TS_FAILURE);
	rig_stop(&r);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_patch_set_answers_as_one_at_a_time),
		STORE_TEST_SQLITE(test_failures_that_make_each_other_dead_ends),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_patch_set_answers_as_one_at_a_time),
		STORE_TEST_PG(test_failures_that_make_each_other_dead_ends),
	};
	int rc = run_store_tests("engine sets", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
	curl_global_cleanup();
	return rc;
}
