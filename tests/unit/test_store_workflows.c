/*
 * test_store_workflows.c — workflow runs and their memo in the store, on
 * SQLite and PostgreSQL: an idempotency key is held by one active run per
 * namespace and freed when it ends; the look-up by key prefers the active
 * run; a step name reused in a loop reaches a distinct row per iteration,
 * and the same rows again on a replay (a new lease token); steps and
 * sleeps of the same name are different memo keys; a repeated call of one
 * attempt meets its running row again; a step ends once, and with a token
 * only for the attempt that reached it; a run reads with its job in one
 * locked statement; the memo's rows
 * per run are bounded; signals are
 * taken oldest first, each once; a run's change from active statuses
 * leaves an ended run alone; the list pages newest first with its filters;
 * the memo reads in the order its rows were reached, from an offset; runs
 * ended before a cutoff are deleted with their memo and signals, a batch
 * at a time, and no other.
 */
#include "util/common.h"

#include "store/workflows.h"
#include "store_test.h"

#define T0 1700000000000000LL
#define RETRY "{\"max_retries\":3}"

static bool start(fixture *f, weft_id *id, const char *ns, const char *key, int64_t at)
{
	id_new_v7(id);
	workflow_run_new r = { .id = *id, .namespace = ns, .type = "order", .queue = "wf", .idempotency_key = key,
	                       .input = "{\"n\":1}", .step_retry = RETRY, .now = at };
	bool created = false;
	assert_int_equal(store_workflow_run_insert(f->w, &r, &created), 0);
	return created;
}

static void test_run_keys(void **state)
{
	fixture *f = *state;
	weft_id a, b, c, d;
	assert_true(start(f, &a, "ns1", "k", T0));
	/* The same key in the namespace while a is active: nothing written. */
	assert_false(start(f, &b, "ns1", "k", T0 + 1));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM workflow_run"), 1);
	/* Another namespace, or no key: separate runs. */
	assert_true(start(f, &c, "ns2", "k", T0 + 2));
	assert_true(start(f, &d, "ns1", NULL, T0 + 3));
	assert_true(start(f, &d, "ns1", NULL, T0 + 4));

	workflow_run_row r;
	assert_int_equal(store_workflow_run_by_key(f->w, "ns1", "k", &r), 0);
	assert_true(id_eq(&r.id, &a));
	assert_string_equal(r.status, "pending");
	assert_string_equal(r.step_retry, RETRY);
	assert_string_equal(r.input, "{\"n\":1}");
	assert_null(r.output);
	assert_int_equal(r.created_at, T0);
	workflow_run_row_release(&r);
	assert_int_equal(store_workflow_run_by_key(f->w, "ns3", "k", &r), WEFT_ENOTFOUND);

	/* An ended run frees its key; the look-up then prefers the active run
	 * over the finished one, and finds the finished one when alone. */
	sql_exec(f, "UPDATE workflow_run SET status = 'completed' WHERE namespace = 'ns1' AND idempotency_key = 'k'");
	assert_true(start(f, &b, "ns1", "k", T0 - 5));
	assert_int_equal(store_workflow_run_by_key(f->w, "ns1", "k", &r), 0);
	assert_true(id_eq(&r.id, &b));
	workflow_run_row_release(&r);
	sql_exec(f, "UPDATE workflow_run SET status = 'failed' WHERE namespace = 'ns1' AND idempotency_key = 'k'");
	assert_int_equal(store_workflow_run_by_key(f->w, "ns1", "k", &r), 0);
	assert_true(id_eq(&r.id, &a));   /* the newer of two finished runs */
	workflow_run_row_release(&r);

	assert_int_equal(store_workflow_run_get(f->w, &c, &r), 0);
	assert_string_equal(r.namespace, "ns2");
	assert_string_equal(r.type, "order");
	assert_string_equal(r.queue, "wf");
	workflow_run_row_release(&r);
}

/* The seq that attempt `token` reaches by its next call of (kind, name). */
static int64_t reach(fixture *f, const weft_id *run, workflow_step_kind kind, const char *name, int64_t token,
                     bool *fresh)
{
	workflow_step_row s;
	assert_int_equal(store_workflow_step_reach(f->w, run, kind, name, token, "running", T0, 1000, &s, fresh), 0);
	int64_t seq = s.seq;
	assert_int_equal(s.seen_token, token);
	workflow_step_row_release(&s);
	return seq;
}

static void complete(fixture *f, const weft_id *run, workflow_step_kind kind, const char *name, int64_t seq,
                     const char *output, bool expect_changed)
{
	workflow_step_change ch = { .from = "running", .to = "completed", .output = output, .attempts_add = 1,
	                            .ended_at = T0 + seq };
	bool changed = !expect_changed;
	assert_int_equal(store_workflow_step_change(f->w, run, kind, name, seq, &ch, NULL, &changed), 0);
	assert_int_equal(changed, expect_changed);
}

static void test_step_iterations_and_replay(void **state)
{
	fixture *f = *state;
	weft_id run;
	assert_true(start(f, &run, "ns", NULL, T0));
	bool fresh;
	/* Attempt 1 runs a loop of three "fetch" steps and one sleep "fetch". */
	for (int64_t i = 1; i <= 3; i++) {
		assert_int_equal(reach(f, &run, WS_STEP, "fetch", 1, &fresh), i);
		assert_true(fresh);
		char out[16];
		snprintf(out, sizeof out, "%d", (int)(i * 10));
		complete(f, &run, WS_STEP, "fetch", i, out, true);
	}
	assert_int_equal(reach(f, &run, WS_SLEEP, "fetch", 1, &fresh), 1);
	assert_true(fresh);
	/* A step ends once: completing it again changes nothing. */
	complete(f, &run, WS_STEP, "fetch", 2, "99", false);

	/* The replay (token 2) meets the same rows in the same order, with
	 * their outputs; a fourth iteration is new. */
	for (int64_t i = 1; i <= 3; i++) {
		workflow_step_row s;
		assert_int_equal(store_workflow_step_reach(f->w, &run, WS_STEP, "fetch", 2, "running", T0, 1000, &s, &fresh), 0);
		assert_false(fresh);
		assert_int_equal(s.seq, i);
		assert_string_equal(s.status, "completed");
		char out[16];
		snprintf(out, sizeof out, "%d", (int)(i * 10));
		assert_string_equal(s.output, out);
		assert_int_equal(s.attempts, 1);
		workflow_step_row_release(&s);
	}
	assert_int_equal(reach(f, &run, WS_STEP, "fetch", 2, &fresh), 4);
	assert_true(fresh);
	/* The same call again while step 4 runs (a resent request) meets it
	 * again instead of making a fifth. */
	assert_int_equal(reach(f, &run, WS_STEP, "fetch", 2, &fresh), 4);
	assert_false(fresh);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM workflow_step WHERE kind = 'step'"), 4);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM workflow_step WHERE kind = 'sleep'"), 1);
	/* Another run's memo is its own. */
	weft_id other;
	assert_true(start(f, &other, "ns", NULL, T0));
	assert_int_equal(reach(f, &other, WS_STEP, "fetch", 1, &fresh), 1);
	assert_true(fresh);
}

static void test_memo_rows_bounded(void **state)
{
	fixture *f = *state;
	weft_id run;
	assert_true(start(f, &run, "ns", NULL, T0));
	workflow_step_row s;
	bool fresh;
	assert_int_equal(store_workflow_step_reach(f->w, &run, WS_STEP, "a", 1, "running", T0, 2, &s, &fresh), 0);
	workflow_step_row_release(&s);
	assert_int_equal(store_workflow_step_reach(f->w, &run, WS_SLEEP, "a", 1, "sleeping", T0, 2, &s, &fresh), 0);
	workflow_step_row_release(&s);
	/* Full: no third row, of any kind or name. */
	assert_int_equal(store_workflow_step_reach(f->w, &run, WS_STEP, "b", 1, "running", T0, 2, &s, &fresh),
	                 WEFT_ETOOLARGE);
	assert_false(fresh);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM workflow_step"), 2);
	assert_int_equal(sql_int(f, "SELECT memo_rows FROM workflow_run"), 2);
	/* The rows there still answer a replay. */
	assert_int_equal(store_workflow_step_reach(f->w, &run, WS_STEP, "a", 2, "running", T0, 2, &s, &fresh), 0);
	assert_false(fresh);
	assert_int_equal(s.seq, 1);
	workflow_step_row_release(&s);
}

static void test_step_change_fields(void **state)
{
	fixture *f = *state;
	weft_id run;
	assert_true(start(f, &run, "ns", NULL, T0));
	bool fresh, changed;
	assert_int_equal(reach(f, &run, WS_STEP, "charge", 7, &fresh), 1);
	workflow_step_change retry = { .from = "running", .to = "retrying", .error_code = "declined",
	                               .error_message = "card declined", .attempts_add = 1,
	                               .next_attempt_at = T0 + 5000 };
	assert_int_equal(store_workflow_step_change(f->w, &run, WS_STEP, "charge", 1, &retry, NULL, &changed), 0);
	assert_true(changed);
	workflow_step_row s;
	assert_int_equal(store_workflow_step_reach(f->w, &run, WS_STEP, "charge", 8, "running", T0, 1000, &s, &fresh), 0);
	assert_false(fresh);
	assert_string_equal(s.status, "retrying");
	assert_string_equal(s.error_code, "declined");
	assert_string_equal(s.error_message, "card declined");
	assert_int_equal(s.attempts, 1);
	assert_int_equal(s.next_attempt_at, T0 + 5000);
	assert_int_equal(s.ended_at, 0);
	workflow_step_row_release(&s);
	/* A change from a status the row does not have is refused. */
	assert_int_equal(store_workflow_step_change(f->w, &run, WS_STEP, "charge", 1, &retry, NULL, &changed), 0);
	assert_false(changed);
	/* An unknown seq changes nothing either. */
	retry.from = "retrying";
	assert_int_equal(store_workflow_step_change(f->w, &run, WS_STEP, "charge", 2, &retry, NULL, &changed), 0);
	assert_false(changed);

	/* With seen_token, only the attempt that reached the row changes it
	 * (8 did above); the changed row comes back. */
	workflow_step_change done = { .from = "retrying", .to = "completed", .output = "{\"ok\":true}",
	                              .attempts_add = 1, .ended_at = T0 + 9, .seen_token = 7 };
	assert_int_equal(store_workflow_step_change(f->w, &run, WS_STEP, "charge", 1, &done, &s, &changed), 0);
	assert_false(changed);
	assert_null(s.status);
	done.seen_token = 8;
	assert_int_equal(store_workflow_step_change(f->w, &run, WS_STEP, "charge", 1, &done, &s, &changed), 0);
	assert_true(changed);
	assert_int_equal(s.seq, 1);
	assert_string_equal(s.name, "charge");
	assert_string_equal(s.status, "completed");
	assert_string_equal(s.output, "{\"ok\":true}");
	assert_int_equal(s.attempts, 2);
	assert_int_equal(s.ended_at, T0 + 9);
	assert_int_equal(s.seen_token, 8);
	workflow_step_row_release(&s);
}

/* A run read with its job in one statement; a run without its job, or a
 * job without its run, is not found there (the reads apart tell which). */
static void test_run_locked(void **state)
{
	fixture *f = *state;
	task_row job = new_task("order", "job", TS_RUNNING, T0);
	insert(f, &job);
	workflow_run_new n = { .id = job.id, .namespace = "ns", .type = "order", .queue = "wf",
	                       .input = "{\"n\":2}", .step_retry = RETRY, .now = T0 };
	bool created = false;
	assert_int_equal(store_workflow_run_insert(f->w, &n, &created), 0);
	assert_true(created);
	task_row *t = NULL;
	workflow_run_row r;
	assert_int_equal(store_workflow_run_locked(f->w, &job.id, &t, &r), 0);
	assert_non_null(t);
	assert_true(id_eq(&t->id, &job.id));
	assert_int_equal(t->status, TS_RUNNING);
	assert_string_equal(t->name, "order");
	assert_true(id_eq(&r.id, &job.id));
	assert_string_equal(r.namespace, "ns");
	assert_string_equal(r.status, "pending");
	assert_string_equal(r.input, "{\"n\":2}");
	assert_string_equal(r.step_retry, RETRY);
	assert_int_equal(r.created_at, T0);
	store_free_tasks(t, 1);
	workflow_run_row_release(&r);

	weft_id alone;
	assert_true(start(f, &alone, "ns", NULL, T0));
	assert_int_equal(store_workflow_run_locked(f->w, &alone, &t, &r), WEFT_ENOTFOUND);
	assert_null(t);
	task_row other = new_task("plain", "job", TS_RUNNING, T0);
	insert(f, &other);
	assert_int_equal(store_workflow_run_locked(f->w, &other.id, &t, &r), WEFT_ENOTFOUND);
	assert_null(t);
}

static void test_signals_oldest_first_once(void **state)
{
	fixture *f = *state;
	weft_id run, other;
	assert_true(start(f, &run, "ns", NULL, T0));
	assert_true(start(f, &other, "ns", NULL, T0));
	int64_t a, b, c;
	assert_int_equal(store_workflow_signal_insert(f->w, &run, "go", "1", T0, &a), 0);
	assert_int_equal(store_workflow_signal_insert(f->w, &run, "go", NULL, T0, &b), 0);
	assert_int_equal(store_workflow_signal_insert(f->w, &other, "go", "3", T0, &c), 0);
	assert_true(a < b && b < c);
	bool found;
	char *payload;
	assert_int_equal(store_workflow_signal_take(f->w, &run, "go", 1, T0 + 1, &found, &payload), 0);
	assert_true(found);
	assert_string_equal(payload, "1");
	free(payload);
	assert_int_equal(store_workflow_signal_take(f->w, &run, "go", 2, T0 + 2, &found, &payload), 0);
	assert_true(found);
	assert_null(payload);
	/* Each once: none left for this run (the other run's is its own). */
	assert_int_equal(store_workflow_signal_take(f->w, &run, "go", 3, T0 + 3, &found, &payload), 0);
	assert_false(found);
	assert_int_equal(store_workflow_signal_take(f->w, &run, "stop", 1, T0 + 3, &found, &payload), 0);
	assert_false(found);
	assert_int_equal(sql_intf(f, "SELECT consumed_seq FROM workflow_signal WHERE id = %lld", (long long)b), 2);
}

static void test_run_change_and_list(void **state)
{
	fixture *f = *state;
	weft_id r1, r2, r3;
	assert_true(start(f, &r1, "ns", "k", T0));
	assert_true(start(f, &r2, "ns", NULL, T0 + 10));
	assert_true(start(f, &r3, "ns2", NULL, T0 + 20));
	workflow_run_change done = { .to = "completed", .from_active = true, .output = "7", .ended_at = T0 + 30 };
	bool changed;
	assert_int_equal(store_workflow_run_change(f->w, &r1, &done, T0 + 30, &changed), 0);
	assert_true(changed);
	/* An ended run is left alone by a change from active statuses. */
	workflow_run_change again = { .to = "running", .from_active = true, .replays_add = 1, .seen_token = 9 };
	assert_int_equal(store_workflow_run_change(f->w, &r1, &again, T0 + 40, &changed), 0);
	assert_false(changed);
	workflow_run_row r;
	assert_int_equal(store_workflow_run_get(f->w, &r1, &r), 0);
	assert_string_equal(r.status, "completed");
	assert_string_equal(r.output, "7");
	assert_int_equal(r.ended_at, T0 + 30);
	assert_int_equal(r.replays, 0);
	workflow_run_row_release(&r);
	/* Newest first; filters; the cursor continues after its row. (No job
	 * rows here: the status is the run's own.) */
	workflow_run_row *rows;
	size_t n;
	workflow_run_filter all = { 0 };
	assert_int_equal(store_workflow_run_list(f->w, &all, 10, &rows, &n), 0);
	assert_int_equal(n, 3);
	assert_true(id_eq(&rows[0].id, &r3) && id_eq(&rows[2].id, &r1));
	workflow_run_filter after = { .has_cursor = true, .cursor_at = rows[0].created_at, .cursor_id = rows[0].id };
	store_free_workflow_runs(rows, n);
	assert_int_equal(store_workflow_run_list(f->w, &after, 10, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_true(id_eq(&rows[0].id, &r2));
	store_free_workflow_runs(rows, n);
	const char *ns[] = { "ns" };
	workflow_run_filter filtered = { .namespaces = ns, .nnamespaces = 1, .status = "pending", .type = "order",
		                         .queue = "wf", .created_after = T0 + 1, .created_before = T0 + 11 };
	assert_int_equal(store_workflow_run_list(f->w, &filtered, 10, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_true(id_eq(&rows[0].id, &r2));
	store_free_workflow_runs(rows, n);
	filtered.status = "completed";
	assert_int_equal(store_workflow_run_list(f->w, &filtered, 10, &rows, &n), 0);
	assert_int_equal(n, 0);
	store_free_workflow_runs(rows, n);
}

/* A new row of the memo reached at `at` by attempt 1 (made completed, so
 * that the next call of its name is the next iteration). */
static void reach_at(fixture *f, const weft_id *run, workflow_step_kind kind, const char *name, int64_t at)
{
	workflow_step_row s;
	bool fresh;
	assert_int_equal(store_workflow_step_reach(f->w, run, kind, name, 1, "completed", at, 1000, &s, &fresh), 0);
	assert_true(fresh);
	workflow_step_row_release(&s);
}

static void test_step_list_in_reach_order(void **state)
{
	fixture *f = *state;
	weft_id run;
	assert_true(start(f, &run, "ns", NULL, T0));
	reach_at(f, &run, WS_STEP, "zeta", T0 + 1);
	reach_at(f, &run, WS_SLEEP, "alpha", T0 + 2);
	reach_at(f, &run, WS_STEP, "zeta", T0 + 3);
	reach_at(f, &run, WS_SIGNAL, "mid", T0 + 4);
	workflow_step_row *rows;
	size_t n;
	assert_int_equal(store_workflow_step_list(f->w, &run, 0, 10, &rows, &n), 0);
	assert_int_equal(n, 4);
	const char *want[][2] = { { "step", "zeta" }, { "sleep", "alpha" }, { "step", "zeta" }, { "signal", "mid" } };
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(rows[i].kind, want[i][0]);
		assert_string_equal(rows[i].name, want[i][1]);
		assert_int_equal(rows[i].started_at, T0 + 1 + (int64_t)i);
	}
	assert_int_equal(rows[2].seq, 2);
	store_free_workflow_steps(rows, n);
	assert_int_equal(store_workflow_step_list(f->w, &run, 3, 10, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].kind, "signal");
	store_free_workflow_steps(rows, n);
}

static void test_runs_expire(void **state)
{
	fixture *f = *state;
	weft_id old1, old2, recent, active;
	assert_true(start(f, &old1, "ns", NULL, T0));
	assert_true(start(f, &old2, "ns", NULL, T0));
	assert_true(start(f, &recent, "ns", NULL, T0));
	assert_true(start(f, &active, "ns", NULL, T0));
	bool changed;
	workflow_run_change done = { .to = "completed", .from_active = true, .ended_at = T0 + 10 };
	assert_int_equal(store_workflow_run_change(f->w, &old1, &done, T0 + 10, &changed), 0);
	workflow_run_change term = { .to = "terminated", .from_active = true, .ended_at = T0 + 20 };
	assert_int_equal(store_workflow_run_change(f->w, &old2, &term, T0 + 20, &changed), 0);
	workflow_run_change later = { .to = "failed", .from_active = true, .ended_at = T0 + 100 };
	assert_int_equal(store_workflow_run_change(f->w, &recent, &later, T0 + 100, &changed), 0);
	const weft_id *all[] = { &old1, &old2, &recent, &active };
	for (size_t i = 0; i < ARRAY_LEN(all); i++) {
		reach_at(f, all[i], WS_STEP, "s", T0 + 1);
		int64_t sig;
		assert_int_equal(store_workflow_signal_insert(f->w, all[i], "go", NULL, T0 + 1, &sig), 0);
	}
	/* A batch of one, then the rest: the active run and the one ended
	 * after the cutoff stay. */
	int64_t deleted;
	assert_int_equal(store_workflow_runs_expire(f->w, T0 + 50, 1, &deleted), 0);
	assert_int_equal(deleted, 1);
	assert_int_equal(store_workflow_runs_expire(f->w, T0 + 50, 10, &deleted), 0);
	assert_int_equal(deleted, 1);
	assert_int_equal(store_workflow_runs_expire(f->w, T0 + 50, 10, &deleted), 0);
	assert_int_equal(deleted, 0);
	workflow_run_row r;
	assert_int_equal(store_workflow_run_get(f->w, &old1, &r), WEFT_ENOTFOUND);
	assert_int_equal(store_workflow_run_get(f->w, &old2, &r), WEFT_ENOTFOUND);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM workflow_run"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM workflow_step"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM workflow_signal"), 2);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_run_keys),
		STORE_TEST_SQLITE(test_step_iterations_and_replay),
		STORE_TEST_SQLITE(test_step_change_fields),
		STORE_TEST_SQLITE(test_run_locked),
		STORE_TEST_SQLITE(test_memo_rows_bounded),
		STORE_TEST_SQLITE(test_signals_oldest_first_once),
		STORE_TEST_SQLITE(test_run_change_and_list),
		STORE_TEST_SQLITE(test_step_list_in_reach_order),
		STORE_TEST_SQLITE(test_runs_expire),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_run_keys),
		STORE_TEST_PG(test_step_iterations_and_replay),
		STORE_TEST_PG(test_step_change_fields),
		STORE_TEST_PG(test_run_locked),
		STORE_TEST_PG(test_memo_rows_bounded),
		STORE_TEST_PG(test_signals_oldest_first_once),
		STORE_TEST_PG(test_run_change_and_list),
		STORE_TEST_PG(test_step_list_in_reach_order),
		STORE_TEST_PG(test_runs_expire),
	};
	return run_store_tests("store workflows", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
}
