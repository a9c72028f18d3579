/*
 * test_store_dag.c — DAG propagation in the store: failure cascades (every
 * level in one query, from several roots), releases and dead ends with
 * their audit events and batch counters, and the DAG read. Each case runs
 * on SQLite and on PostgreSQL unless its list says otherwise
 * (store_test.h).
 */
#include "util/common.h"

#include "store_test.h"

/*      A
 *    r/ \o   \r
 *    B   C    P (paused)
 *    r\ /o
 *      D
 */
typedef struct diamond {
	task_row a, b, c, d, p;
} diamond;

static void make_diamond(fixture *f, diamond *g)
{
	g->a = new_task("A", "k", TS_RUNNING, T0);
	g->b = new_task("B", "k", TS_WAITING, T0 + 1);
	g->c = new_task("C", "k", TS_WAITING, T0 + 2);
	g->d = new_task("D", "k", TS_WAITING, T0 + 3);
	g->p = new_task("P", "k", TS_PAUSED, T0 + 4);
	g->b.wait_success = 1, g->b.wait_finished = 1;
	g->c.wait_success = 0, g->c.wait_finished = 1;
	g->d.wait_success = 1, g->d.wait_finished = 2;
	g->p.wait_success = 1, g->p.wait_finished = 1;
	insert(f, &g->a);
	insert(f, &g->b);
	insert(f, &g->c);
	insert(f, &g->d);
	insert(f, &g->p);
	add_link(f, &g->a, &g->b, true);
	add_link(f, &g->a, &g->c, false);
	add_link(f, &g->b, &g->d, true);
	add_link(f, &g->c, &g->d, false);
	add_link(f, &g->a, &g->p, true);
}

/* The cascade's reason for a task failed through `parent`. */
static const char *because(const task_row *parent)
{
	static char reason[96];
	snprintf(reason, sizeof reason, "Required parent task %s failed", parent->id.str);
	return reason;
}

static void test_propagate_failure(void **state)
{
	fixture *f = *state;
	diamond g;
	make_diamond(f, &g);
	assert_int_equal(store_begin(f->w), 0);

	/* The cascade goes through every level: B and the paused P (a paused
	 * child receives the outcome too), then D through B. */
	task_row *rows;
	weft_id *parents;
	size_t n;
	assert_int_equal(store_fail_cascade(f->w, &g.a.id, 1, T0 + 50, &rows, &parents, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		const task_row *via = id_eq(&rows[i].id, &g.d.id) ? &g.b : &g.a;
		assert_true(id_eq(&rows[i].id, &g.b.id) || id_eq(&rows[i].id, &g.p.id) || id_eq(&rows[i].id, &g.d.id));
		assert_true(id_eq(&parents[i], &via->id));
		assert_int_equal(rows[i].status, TS_FAILURE);      /* as the cascade left it */
		assert_string_equal(rows[i].failure_reason, because(via));
		assert_int_equal(rows[i].ended_at, T0 + 50);
	}
	store_free_tasks(rows, n);
	free(parents);
	task_row b = get(f, &g.b.id);
	assert_int_equal(b.status, TS_FAILURE);
	assert_string_equal(b.failure_reason, because(&g.a));
	assert_int_equal(b.ended_at, T0 + 50);
	assert_int_equal(b.last_updated, T0 + 1);   /* untouched */
	task_row_release(&b);
	task_row d = get(f, &g.d.id);
	assert_int_equal(d.status, TS_FAILURE);
	assert_string_equal(d.failure_reason, because(&g.b));
	task_row_release(&d);

	/* The optional child is released and becomes pending; D, failed, is
	 * left alone. */
	parent_outcome ended[] = { { g.a.id, false }, { g.b.id, false }, { g.p.id, false }, { g.d.id, false } };
	weft_id *ids;
	assert_int_equal(store_release_children_many(f->w, ended, ARRAY_LEN(ended), &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_true(id_eq(&ids[0], &g.c.id));
	free(ids);
	task_row c = get(f, &g.c.id);
	assert_int_equal(c.status, TS_PENDING);
	assert_int_equal(c.wait_finished, 0);
	assert_int_equal(c.wait_success, 0);
	task_row_release(&c);

	/* Calling it again changes nothing. */
	assert_int_equal(store_fail_cascade(f->w, &g.a.id, 1, T0 + 52, &rows, &parents, &n), 0);
	assert_int_equal(n, 0);
	assert_null(rows);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(status_of(f, &g.d.id), TS_FAILURE);
}

/* A cascade from several roots at once, through a long chain. */
static void test_cascade_many_roots(void **state)
{
	fixture *f = *state;
	task_row x = new_task("X", "k", TS_FAILURE, T0), y = new_task("Y", "k", TS_CANCELED, T0 + 1);
	insert(f, &x);
	insert(f, &y);
	/* X -> c[0] -> c[1] -> ... -> c[N-1], and Y -> c[N-1] too. */
	enum { N = 200 };
	task_row c[N];
	for (int i = 0; i < N; i++) {
		c[i] = new_task("c", "k", TS_WAITING, T0 + 2 + i);
		c[i].wait_finished = c[i].wait_success = i == N - 1 ? 2 : 1;
		insert(f, &c[i]);
		add_link(f, i == 0 ? &x : &c[i - 1], &c[i], true);
	}
	add_link(f, &y, &c[N - 1], true);
	weft_id roots[] = { x.id, y.id };
	task_row *rows;
	weft_id *parents;
	size_t n;
	assert_int_equal(store_fail_cascade(f->w, roots, 2, T0 + 900, &rows, &parents, &n), 0);
	assert_int_equal(n, N);
	store_free_tasks(rows, n);
	free(parents);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task WHERE status = 'failure'"), N + 1);
	/* The last has two failed parents: the least one is named. */
	const task_row *least = strcmp(c[N - 2].id.str, y.id.str) < 0 ? &c[N - 2] : &y;
	task_row last = get(f, &c[N - 1].id);
	assert_string_equal(last.failure_reason, because(least));
	task_row_release(&last);
	bool found;
	assert_int_equal(store_two_parents_among(f->w, &c[N - 1].id, 1, roots, 2, &found), 0);
	assert_false(found);
	weft_id among[] = { y.id, c[N - 2].id };
	assert_int_equal(store_two_parents_among(f->w, &c[N - 1].id, 1, among, 2, &found), 0);
	assert_true(found);
}

static void test_propagate_success(void **state)
{
	fixture *f = *state;
	diamond g;
	make_diamond(f, &g);
	weft_id *ids;
	size_t n;

	assert_int_equal(store_release_children(f->w, &g.a.id, true, &ids, &n), 0);
	assert_int_equal(n, 2);
	assert_true(ids_have(ids, n, &g.b.id));
	assert_true(ids_have(ids, n, &g.c.id));
	free(ids);
	/* The paused child's counters move, but it stays paused. */
	task_row p = get(f, &g.p.id);
	assert_int_equal(p.status, TS_PAUSED);
	assert_int_equal(p.wait_finished, 0);
	assert_int_equal(p.wait_success, 0);
	task_row_release(&p);

	/* D needs both: after B only one counter is resolved. */
	assert_int_equal(store_release_children(f->w, &g.b.id, true, &ids, &n), 0);
	assert_int_equal(n, 0);
	task_row d = get(f, &g.d.id);
	assert_int_equal(d.status, TS_WAITING);
	assert_int_equal(d.wait_finished, 1);
	assert_int_equal(d.wait_success, 0);
	task_row_release(&d);
	/* An optional parent's failure still counts as finished. */
	assert_int_equal(store_release_children(f->w, &g.c.id, false, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_true(id_eq(&ids[0], &g.d.id));
	free(ids);
	assert_int_equal(status_of(f, &g.d.id), TS_PENDING);

	/* A required parent's success decrements wait_success only on required links. */
	task_row x = new_task("X", "k", TS_RUNNING, T0 + 10);
	task_row y = new_task("Y", "k", TS_WAITING, T0 + 11);
	y.wait_success = 1;
	y.wait_finished = 2;
	insert(f, &x);
	insert(f, &y);
	add_link(f, &x, &y, false);
	assert_int_equal(store_release_children(f->w, &x.id, true, &ids, &n), 0);
	assert_int_equal(n, 0);
	task_row yy = get(f, &y.id);
	assert_int_equal(yy.wait_finished, 1);
	assert_int_equal(yy.wait_success, 1);
	task_row_release(&yy);
}

static void test_dead_end_parents(void **state)
{
	fixture *f = *state;
	task_row x = new_task("X", "k", TS_RUNNING, T0);
	task_row w = new_task("W", "k", TS_SUCCESS, T0 + 1);
	task_row y = new_task("Y", "k", TS_FAILURE, T0 + 2);
	task_row z = new_task("Z", "k", TS_PENDING, T0 + 3);
	insert(f, &x);
	insert(f, &w);
	insert(f, &y);
	insert(f, &z);
	add_link(f, &x, &y, false);
	add_link(f, &x, &z, false);
	add_link(f, &w, &y, false);

	weft_id check[] = { y.id, z.id };
	weft_id *ids;
	size_t n;
	assert_int_equal(store_dead_end_parents(f->w, check, 1, &ids, &n), 0);
	assert_int_equal(n, 0);   /* Z is still active */

	task_update u = { .set_status = true, .status = TS_CANCELED };
	assert_int_equal(update(f->w, &z.id, TS_ACTIVE_MASK, &u, NULL), 0);
	assert_int_equal(store_dead_end_parents(f->w, check, 2, &ids, &n), 0);
	assert_int_equal(n, 1);   /* X once; W is terminal already */
	assert_true(id_eq(&ids[0], &x.id));
	free(ids);

	assert_int_equal(store_dead_end_parents(f->w, check, 0, &ids, &n), 0);
	assert_int_equal(n, 0);
	u.status = TS_CANCELED;
	assert_int_equal(update(f->w, &x.id, TS_ACTIVE_MASK, &u, NULL), 0);
	assert_int_equal(store_dead_end_parents(f->w, check, 2, &ids, &n), 0);
	assert_int_equal(n, 0);
}

static void test_cascade_events(void **state)
{
	fixture *f = *state;
	weft_id batch, other;
	new_batch(f, &batch, NULL);
	new_batch(f, &other, NULL);
	task_row a = new_task("A", "k", TS_RUNNING, T0);
	task_row c1 = new_task("c1", "k", TS_WAITING, T0 + 1);   /* required */
	task_row c2 = new_task("c2", "k", TS_PAUSED, T0 + 2);    /* required, paused */
	task_row c3 = new_task("c3", "k", TS_WAITING, T0 + 3);   /* optional */
	task_row c4 = new_task("c4", "k", TS_WAITING, T0 + 4);   /* required, other batch */
	a.batch_id = c1.batch_id = c2.batch_id = c3.batch_id = batch;
	c4.batch_id = other;
	c1.wait_finished = c2.wait_finished = c3.wait_finished = c4.wait_finished = 1;
	c1.wait_success = c2.wait_success = c4.wait_success = 1;
	task_row *all[] = { &a, &c1, &c2, &c3, &c4 };
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		insert(f, all[i]);
	add_link(f, &a, &c1, true);
	add_link(f, &a, &c2, true);
	add_link(f, &a, &c3, false);
	add_link(f, &a, &c4, true);
	assert_int_equal(store_batch_add_remaining(f->w, &batch, 4), 0);
	assert_int_equal(store_batch_add_remaining(f->w, &other, 1), 0);

	set_status(f, &a.id, TS_FAILURE, &(task_update){ .ended_at = T0 + 40 });
	assert_int_equal(remaining(f, &batch), 3);
	assert_int_equal(store_begin(f->w), 0);
	task_row *rows;
	weft_id *parents, *ids;
	size_t n;
	assert_int_equal(store_fail_cascade(f->w, &a.id, 1, T0 + 50, &rows, &parents, &n), 0);
	assert_int_equal(n, 3);
	store_free_tasks(rows, n);
	free(parents);
	assert_int_equal(store_release_children(f->w, &a.id, false, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_true(id_eq(&ids[0], &c3.id));
	free(ids);
	/* Nothing left to fail: no events, no counter change. */
	assert_int_equal(store_fail_cascade(f->w, &a.id, 1, T0 + 60, &rows, &parents, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(remaining(f, &batch), 1);   /* c3 is still to run */
	assert_int_equal(remaining(f, &other), 0);

	task_event *ev = events_of(f, &c1.id, &n);
	assert_int_equal(n, 2);
	check_event(&ev[0], T0 + 1, -1, TS_WAITING, "created", "api");
	check_event(&ev[1], T0 + 50, TS_WAITING, TS_FAILURE, because(&a), "system");
	store_free_events(ev, n);
	ev = events_of(f, &c2.id, &n);
	assert_int_equal(n, 2);
	check_event(&ev[0], T0 + 2, -1, TS_PAUSED, "created", "api");
	check_event(&ev[1], T0 + 50, TS_PAUSED, TS_FAILURE, because(&a), "system");
	store_free_events(ev, n);
	ev = events_of(f, &c3.id, &n);
	assert_int_equal(n, 2);
	check_event(&ev[0], T0 + 3, -1, TS_WAITING, "created", "api");
	check_event(&ev[1], 0, TS_WAITING, TS_PENDING, "dependencies resolved", "system");
	store_free_events(ev, n);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task_event"), 5);   /* A, c1, c2, c3, c4 */
}

static void test_dag(void **state)
{
	fixture *f = *state;
	weft_id batch, other;
	id_new_v4(&batch);
	id_new_v4(&other);
	task_row a = new_task("a", "k", TS_SUCCESS, T0 + 2);
	task_row b = new_task("b", "k", TS_PENDING, T0 + 1);
	task_row c = new_task("c", "k", TS_WAITING, T0 + 1);
	task_row x = new_task("x", "k", TS_WAITING, T0);
	a.batch_id = b.batch_id = c.batch_id = batch;
	x.batch_id = other;
	insert(f, &a);
	insert(f, &b);
	insert(f, &c);
	insert(f, &x);
	add_link(f, &a, &b, true);
	add_link(f, &b, &c, false);
	add_link(f, &a, &x, true);   /* leaves the batch: not shown */

	task_row *tasks;
	link_row *links;
	size_t nt, nl;
	assert_int_equal(store_dag(f->w, &batch, &tasks, &nt, &links, &nl), 0);
	assert_int_equal(nt, 3);
	assert_string_equal(tasks[0].name, "b");   /* created_at, then id */
	assert_string_equal(tasks[1].name, "c");
	assert_string_equal(tasks[2].name, "a");
	assert_int_equal(nl, 2);
	for (size_t i = 0; i < nl; i++) {
		if (id_eq(&links[i].parent_id, &a.id)) {
			assert_string_equal(links[i].child_id.str, b.id.str);
			assert_true(links[i].requires_success);
		} else {
			assert_string_equal(links[i].parent_id.str, b.id.str);
			assert_string_equal(links[i].child_id.str, c.id.str);
			assert_false(links[i].requires_success);
		}
	}
	store_free_tasks(tasks, nt);
	free(links);
	weft_id none;
	id_new_v4(&none);
	assert_int_equal(store_dag(f->w, &none, &tasks, &nt, &links, &nl), 0);
	assert_int_equal(nt, 0);
	assert_int_equal(nl, 0);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_propagate_failure),
		STORE_TEST_SQLITE(test_cascade_many_roots),
		STORE_TEST_SQLITE(test_propagate_success),
		STORE_TEST_SQLITE(test_dead_end_parents),
		STORE_TEST_SQLITE(test_cascade_events),
		STORE_TEST_SQLITE(test_dag),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_propagate_failure),
		STORE_TEST_PG(test_cascade_many_roots),
		STORE_TEST_PG(test_propagate_success),
		STORE_TEST_PG(test_dead_end_parents),
		STORE_TEST_PG(test_cascade_events),
		STORE_TEST_PG(test_dag),
	};
	return run_store_tests("store_dag", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
}
