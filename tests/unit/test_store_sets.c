/*
 * test_store_sets.c — the store's operations on sets: guarded updates of
 * many tasks (rounds for repeated tasks, the counter limit, rows back,
 * events and batch counters), and reading many tasks. Each case runs on
 * SQLite and on PostgreSQL (store_test.h).
 */
#include "util/common.h"

#include "core/limits.h"
#include "store_test.h"

static task_change change(const task_row *t, unsigned from, task_update u)
{
	return (task_change){ .id = t->id, .from_mask = from, .u = u };
}

static void test_update_many(void **state)
{
	fixture *f = *state;
	weft_id batch;
	new_batch(f, &batch, NULL);
	task_row a = new_task("a", "k", TS_RUNNING, T0);
	task_row b = new_task("b", "k", TS_RUNNING, T0 + 1);
	task_row c = new_task("c", "k", TS_PENDING, T0 + 2);
	a.batch_id = b.batch_id = c.batch_id = batch;
	insert(f, &a);
	insert(f, &b);
	insert(f, &c);
	assert_int_equal(store_batch_add_remaining(f->w, &batch, 3), 0);
	weft_id unknown;
	id_new_v7(&unknown);
	task_row ghost = a;
	ghost.id = unknown;

	unsigned started = TS_BIT(TS_RUNNING) | TS_BIT(TS_CLAIMED);
	task_row after[6];
	task_change ch[] = {
		/* a completes; the same completion again is refused by the guard */
		change(&a, started, (task_update){ .set_status = true, .status = TS_SUCCESS, .ended_at = T0 + 10,
		                                   .add_success = 2, .after = &after[0] }),
		/* b: counters only, twice, both count */
		change(&b, TS_ALL_MASK, (task_update){ .add_success = 1, .last_updated = T0 + 11, .after = &after[1] }),
		change(&a, started, (task_update){ .set_status = true, .status = TS_SUCCESS, .ended_at = T0 + 12,
		                                   .after = &after[2] }),
		change(&ghost, TS_ALL_MASK, (task_update){ .add_success = 1, .after = &after[3] }),
		change(&b, TS_ALL_MASK, (task_update){ .add_failures = 4, .metadata = "{\"m\":1}", .after = &after[4] }),
		/* c is pending: a completion does not apply */
		change(&c, started, (task_update){ .set_status = true, .status = TS_FAILURE, .after = &after[5] }),
	};
	task_update_result res[ARRAY_LEN(ch)];
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_task_update_many(f->w, ch, ARRAY_LEN(ch), res), 0);
	assert_int_equal(store_commit(f->w), 0);

	assert_true(res[0].found && res[0].applied);
	assert_int_equal(res[0].prev, TS_RUNNING);
	assert_int_equal(after[0].status, TS_SUCCESS);
	assert_int_equal(after[0].success, 2);
	assert_string_equal(after[0].executor, "webhook");
	assert_true(res[1].found && res[1].applied);
	assert_int_equal(after[1].success, 1);
	assert_true(res[2].found && !res[2].applied);
	assert_int_equal(res[2].prev, TS_SUCCESS);      /* what the first change left */
	assert_null(after[2].name);
	assert_false(res[3].found || res[3].applied);
	assert_true(res[4].found && res[4].applied);
	assert_int_equal(res[4].prev, TS_RUNNING);
	assert_int_equal(after[4].success, 1);          /* after the first change of b */
	assert_int_equal(after[4].failures, 4);
	assert_string_equal(after[4].metadata, "{\"m\":1}");
	assert_int_equal(after[4].last_updated, T0 + 11);
	assert_true(res[5].found && !res[5].applied);
	assert_int_equal(res[5].prev, TS_PENDING);
	for (size_t i = 0; i < ARRAY_LEN(ch); i++) {
		assert_null(res[i].over_limit);
		if (res[i].applied)
			task_row_release(&after[i]);
	}

	/* One event for a's change of status; one task left unfinished less. */
	size_t n;
	task_event *ev = events_of(f, &a.id, &n);
	assert_int_equal(n, 2);
	check_event(&ev[1], T0 + 10, TS_RUNNING, TS_SUCCESS, NULL, "api");
	store_free_events(ev, n);
	ev = events_of(f, &b.id, &n);
	assert_int_equal(n, 1);
	store_free_events(ev, n);
	assert_int_equal(remaining(f, &batch), 2);
	task_row g = get(f, &b.id);
	assert_int_equal(g.status, TS_RUNNING);
	assert_int_equal(g.success, 1);
	assert_int_equal(g.failures, 4);
	task_row_release(&g);

	/* An empty set does nothing; a set outside a transaction is written. */
	assert_int_equal(store_task_update_many(f->w, ch, 0, res), 0);
	task_change one = change(&c, TS_BIT(TS_PENDING), (task_update){ .set_status = true, .status = TS_PAUSED,
	                                                                .actor = "system", .reason = "r" });
	assert_int_equal(store_task_update_many(f->w, &one, 1, res), 0);
	assert_true(res[0].applied);
	assert_int_equal(status_of(f, &c.id), TS_PAUSED);
}

static void test_update_many_counter_limit(void **state)
{
	fixture *f = *state;
	task_row a = new_task("a", "k", TS_RUNNING, T0);
	task_row b = new_task("b", "k", TS_RUNNING, T0 + 1);
	a.success = TASK_COUNTER_MAX - 1;
	b.failures = TASK_COUNTER_MAX;
	insert(f, &a);
	insert(f, &b);
	task_change ch[] = {
		change(&a, TS_ALL_MASK, (task_update){ .add_success = 1, .last_updated = T0 + 5 }),
		/* past the limit: refused whole, its other fields too */
		change(&a, TS_ALL_MASK, (task_update){ .add_success = 1, .metadata = "{\"no\":1}" }),
		change(&b, TS_ALL_MASK, (task_update){ .add_success = 3, .add_failures = 1 }),
		/* a status change without counters is not concerned */
		change(&b, TS_ALL_MASK, (task_update){ .set_status = true, .status = TS_SUCCESS }),
		/* a guard that does not match is a conflict, not a limit */
		change(&a, TS_BIT(TS_PENDING), (task_update){ .add_success = 1 }),
	};
	task_update_result res[ARRAY_LEN(ch)];
	assert_int_equal(store_task_update_many(f->w, ch, ARRAY_LEN(ch), res), 0);
	assert_true(res[0].applied);
	assert_null(res[0].over_limit);
	assert_false(res[1].applied);
	assert_string_equal(res[1].over_limit, "success");
	assert_false(res[2].applied);
	assert_string_equal(res[2].over_limit, "failures");
	assert_true(res[3].applied);
	assert_false(res[4].applied);
	assert_null(res[4].over_limit);
	task_row g = get(f, &a.id);
	assert_int_equal(g.success, TASK_COUNTER_MAX);
	assert_string_equal(g.metadata, "null");
	task_row_release(&g);
	g = get(f, &b.id);
	assert_int_equal(g.success, 0);
	assert_int_equal(g.failures, TASK_COUNTER_MAX);
	assert_int_equal(g.status, TS_SUCCESS);
	task_row_release(&g);

	/* The single update reports it the same way. */
	task_update_result one;
	task_update u = { .add_success = 1 };
	assert_int_equal(store_task_update(f->w, &a.id, TS_ALL_MASK, &u, &one), 0);
	assert_false(one.applied);
	assert_string_equal(one.over_limit, "success");
}

static void test_rounds(void **state)
{
	UNUSED(state);
	weft_id x, y, z;
	id_new_v7(&x);
	id_new_v7(&y);
	id_new_v7(&z);
	const weft_id *ids[] = { &y, &x, &y, &z, &y, &x };
	uint32_t round[ARRAY_LEN(ids)];
	assert_int_equal(store_rounds(ids, ARRAY_LEN(ids), round), 3);
	uint32_t want[] = { 0, 0, 1, 0, 2, 1 };
	assert_memory_equal(round, want, sizeof want);
	assert_int_equal(store_rounds(ids, 1, round), 1);
	assert_int_equal(round[0], 0);
	assert_int_equal(store_rounds(ids, 0, round), 0);
}

static void test_tasks_read(void **state)
{
	fixture *f = *state;
	task_row a = new_task("a", "k", TS_RUNNING, T0);
	task_row b = new_task("b", "k", TS_WAITING, T0 + 1);
	insert(f, &a);
	insert(f, &b);
	weft_id unknown;
	id_new_v7(&unknown);
	weft_id ids[] = { b.id, unknown, a.id };
	task_row *rows;
	size_t n;
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_tasks_read(f->w, ids, ARRAY_LEN(ids), true, &rows, &n), 0);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(n, 2);
	bool seen_a = false, seen_b = false;
	for (size_t i = 0; i < n; i++) {
		seen_a |= id_eq(&rows[i].id, &a.id) && rows[i].status == TS_RUNNING;
		seen_b |= id_eq(&rows[i].id, &b.id) && rows[i].status == TS_WAITING;
	}
	assert_true(seen_a && seen_b);
	store_free_tasks(rows, n);
	assert_int_equal(store_tasks_read(f->w, ids, 0, false, &rows, &n), 0);
	assert_int_equal(n, 0);
	assert_null(rows);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_update_many),
		STORE_TEST_SQLITE(test_update_many_counter_limit),
		STORE_TEST_SQLITE(test_rounds),
		STORE_TEST_SQLITE(test_tasks_read),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_update_many),
		STORE_TEST_PG(test_update_many_counter_limit),
		STORE_TEST_PG(test_tasks_read),
	};
	return run_store_tests("store sets", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
}
