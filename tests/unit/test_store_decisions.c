/*
 * test_store_decisions.c — what a decision's success reads and writes in
 * the store: its children by ref and its result, the invalid_decision
 * mark, and the skip cascade (every level in one query; a task with a
 * parent that is not skipped stays; audit events, batch counters, status
 * counts). Each case runs on SQLite and on PostgreSQL (store_test.h).
 */
#include "util/common.h"

#include "store_test.h"

static void insert_ref(fixture *f, const task_row *t, const char *ref)
{
	assert_int_equal(store_run_task_insert(f->w, t, ref), 0);
}

static void test_decision_read(void **state)
{
	fixture *f = *state;
	task_row d = new_task("decide", "k", TS_SUCCESS, T0);
	task_row a = new_task("named-otherwise", "k", TS_WAITING, T0 + 1);
	task_row b = new_task("b", "k", TS_PAUSED, T0 + 2);
	task_row other = new_task("other", "k", TS_WAITING, T0 + 3);
	d.shape = TASK_SHAPE_DECISION;
	insert_ref(f, &d, "decide");
	insert_ref(f, &a, "a");
	insert_ref(f, &b, "b");
	insert_ref(f, &other, "other");
	add_link(f, &d, &a, true);
	add_link(f, &d, &b, false);
	add_link(f, &a, &other, true);     /* a grandchild: not the decision's */
	char sql[200];
	snprintf(sql, sizeof sql, "UPDATE task SET result = '{\"next\":[\"a\"]}' WHERE id = '%s'", d.id.str);
	sql_exec(f, sql);

	char *result;
	decision_child *kids;
	size_t n;
	assert_int_equal(store_decision_read(f->w, &d.id, &result, &kids, &n), 0);
	assert_string_equal(result, "{\"next\":[\"a\"]}");
	assert_int_equal(n, 2);
	bool a_first = strcmp(a.id.str, b.id.str) < 0;     /* in id order */
	const decision_child *ka = &kids[a_first ? 0 : 1], *kb = &kids[a_first ? 1 : 0];
	assert_true(id_eq(&ka->id, &a.id));
	assert_string_equal(ka->ref, "a");          /* the ref, not the name */
	assert_int_equal(ka->status, TS_WAITING);
	assert_true(id_eq(&kb->id, &b.id));
	assert_string_equal(kb->ref, "b");
	assert_int_equal(kb->status, TS_PAUSED);
	decision_children_free(kids, n);
	free(result);

	/* The shape keeps the decision bit; a task inserted without a ref has none. */
	task_row got = get(f, &d.id);
	assert_true(got.shape & TASK_SHAPE_DECISION);
	task_row_release(&got);
	got = get(f, &a.id);
	assert_false(got.shape & TASK_SHAPE_DECISION);
	task_row_release(&got);

	assert_int_equal(store_decision_mark_invalid(f->w, &d.id), 0);
	got = get(f, &d.id);
	assert_string_equal(got.error_code, "invalid_decision");
	task_row_release(&got);
}

/*
 *   D (decision, success)        X (running)    S (skipped earlier)
 *   |         \                   |              |
 *   B1         B2 (seed) ---------+--------------+---> E (parents B2, S)
 *              | \                |
 *              C  K (paused)      |
 *              |   \              |
 *              |    L             |
 *              +--> J <-----------+  (parents C and X)
 *              |
 *              chain[0] -> ... -> chain[N-1]
 */
static void test_skip_cascade(void **state)
{
	fixture *f = *state;
	weft_id batch;
	new_batch(f, &batch, NULL);
	enum { N = 300 };
	task_row d = new_task("D", "k", TS_SUCCESS, T0), x = new_task("X", "k", TS_RUNNING, T0 + 1);
	task_row s = new_task("S", "k", TS_SKIPPED, T0 + 2), b1 = new_task("B1", "k", TS_WAITING, T0 + 3);
	task_row b2 = new_task("B2", "k", TS_WAITING, T0 + 4), c = new_task("C", "k", TS_WAITING, T0 + 5);
	task_row k = new_task("K", "k", TS_PAUSED, T0 + 6), l = new_task("L", "k", TS_WAITING, T0 + 7);
	task_row j = new_task("J", "k", TS_WAITING, T0 + 8), e = new_task("E", "k", TS_WAITING, T0 + 9);
	task_row chain[N];
	task_row *all[] = { &d, &x, &s, &b1, &b2, &c, &k, &l, &j, &e };
	for (size_t i = 0; i < ARRAY_LEN(all); i++) {
		all[i]->batch_id = batch;
		all[i]->wait_finished = all[i]->wait_success = 1;
		insert(f, all[i]);
	}
	for (int i = 0; i < N; i++) {
		chain[i] = new_task("chain", "k", TS_WAITING, T0 + 10 + i);
		chain[i].batch_id = batch;
		chain[i].wait_finished = chain[i].wait_success = 1;
		insert(f, &chain[i]);
		add_link(f, i == 0 ? &c : &chain[i - 1], &chain[i], true);
	}
	add_link(f, &d, &b1, true);
	add_link(f, &d, &b2, true);
	add_link(f, &b2, &c, true);
	add_link(f, &b2, &k, false);
	add_link(f, &k, &l, true);
	add_link(f, &c, &j, true);
	add_link(f, &x, &j, false);
	add_link(f, &b2, &e, true);
	add_link(f, &s, &e, true);
	/* Active: X, B1, B2, C, K, L, J, E and the chain. */
	assert_int_equal(store_batch_add_remaining(f->w, &batch, 8 + N), 0);

	assert_int_equal(store_begin(f->w), 0);
	task_row *rows;
	size_t n;
	assert_int_equal(store_skip_cascade(f->w, &b2.id, &d.id, 1, T0 + 900, &rows, &n), 0);
	/* B2, C, K, L, E and the whole chain; not J (X may still run it). */
	assert_int_equal(n, 5 + N);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(rows[i].status, TS_SKIPPED);      /* as the cascade left it */
		assert_int_equal(rows[i].ended_at, T0 + 900);
		assert_false(id_eq(&rows[i].id, &j.id));
		assert_false(id_eq(&rows[i].id, &b1.id));
	}
	store_free_tasks(rows, n);
	/* Again: nothing left. */
	assert_int_equal(store_skip_cascade(f->w, &b2.id, &d.id, 1, T0 + 901, &rows, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_commit(f->w), 0);

	assert_int_equal(status_of(f, &j.id), TS_WAITING);
	assert_int_equal(status_of(f, &b1.id), TS_WAITING);
	assert_int_equal(status_of(f, &l.id), TS_SKIPPED);
	assert_int_equal(status_of(f, &chain[N - 1].id), TS_SKIPPED);
	task_row got = get(f, &k.id);
	assert_int_equal(got.status, TS_SKIPPED);
	assert_null(got.failure_reason);              /* a skip is no failure */
	task_row_release(&got);
	assert_int_equal(remaining(f, &batch), 8 + N - (5 + N));
	assert_int_equal(sql_int(f, "SELECT coalesce(sum(n), 0) FROM task_count WHERE status = 'skipped'"), 1 + 5 + N);

	char reason[96];
	snprintf(reason, sizeof reason, "Not chosen by decision task %s", d.id.str);
	task_event *ev = events_of(f, &b2.id, &n);
	assert_int_equal(n, 2);
	check_event(&ev[1], T0 + 900, TS_WAITING, TS_SKIPPED, reason, "system");
	store_free_events(ev, n);
	ev = events_of(f, &k.id, &n);
	assert_int_equal(n, 2);
	check_event(&ev[1], T0 + 900, TS_PAUSED, TS_SKIPPED, "Every parent task skipped", "system");
	store_free_events(ev, n);
}

/* A seed that is no longer waiting (failed by another parent) is left as
 * it is, and so is what is below it. */
static void test_skip_leaves_ended_seeds(void **state)
{
	fixture *f = *state;
	task_row d = new_task("D", "k", TS_SUCCESS, T0), b = new_task("B", "k", TS_FAILURE, T0 + 1);
	task_row c = new_task("C", "k", TS_WAITING, T0 + 2);
	c.wait_finished = 1;
	insert(f, &d);
	insert(f, &b);
	insert(f, &c);
	add_link(f, &d, &b, true);
	add_link(f, &b, &c, false);
	task_row *rows;
	size_t n;
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_skip_cascade(f->w, &b.id, &d.id, 1, T0 + 50, &rows, &n), 0);
	assert_int_equal(n, 0);
	assert_null(rows);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(status_of(f, &b.id), TS_FAILURE);
	assert_int_equal(status_of(f, &c.id), TS_WAITING);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_decision_read),
		STORE_TEST_SQLITE(test_skip_cascade),
		STORE_TEST_SQLITE(test_skip_leaves_ended_seeds),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_decision_read),
		STORE_TEST_PG(test_skip_cascade),
		STORE_TEST_PG(test_skip_leaves_ended_seeds),
	};
	return run_store_tests("store_decisions", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests,
	                       ARRAY_LEN(pg_tests));
}
