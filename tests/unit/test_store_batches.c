/*
 * test_store_batches.c — batches in the store: statistics, cancel with its audit
 * events, rules, completion (archived tasks included) and the listing.
 * Each case runs on SQLite and on PostgreSQL unless its list says
 * otherwise (store_test.h).
 */
#include "util/common.h"

#include "store_test.h"

static void test_batch_stats_cancel_rules(void **state)
{
	fixture *f = *state;
	weft_id batch, other;
	id_new_v4(&batch);
	id_new_v4(&other);
	task_row rows[TS__COUNT + 1];
	for (int s = 0; s < TS__COUNT; s++) {
		rows[s] = new_task("t", s % 2 ? "odd" : "even", (task_status)s, T0 + s);
		rows[s].batch_id = batch;
		rows[s].success = s;
		rows[s].failures = 1;
		rows[s].has_expected_count = true;
		rows[s].expected_count = 10;
		insert(f, &rows[s]);
	}
	task_row outside = new_task("o", "odd", TS_RUNNING, T0);
	outside.batch_id = other;
	insert(f, &outside);

	batch_stats bs;
	assert_int_equal(store_batch_stats(f->w, &batch, &bs), 0);
	assert_int_equal(bs.total_tasks, TS__COUNT);
	assert_int_equal(bs.total_success, TS__COUNT * (TS__COUNT - 1) / 2);
	assert_int_equal(bs.total_failures, TS__COUNT);
	assert_true(bs.has_total_expected);
	assert_int_equal(bs.total_expected, 10 * TS__COUNT);
	for (int s = 0; s < TS__COUNT; s++)
		assert_int_equal(bs.status_counts[s], 1);
	int64_t count;
	assert_int_equal(store_batch_task_count(f->w, &batch, &count), 0);
	assert_int_equal(count, TS__COUNT);

	/* One null expected_count makes the total null. */
	task_row extra = new_task("t", "even", TS_SUCCESS, T0 + 20);
	extra.batch_id = batch;
	insert(f, &extra);
	rows[TS__COUNT] = extra;
	assert_int_equal(store_batch_stats(f->w, &batch, &bs), 0);
	assert_false(bs.has_total_expected);
	assert_int_equal(bs.total_tasks, TS__COUNT + 1);

	weft_id none;
	id_new_v4(&none);
	assert_int_equal(store_batch_stats(f->w, &none, &bs), WEFT_ENOTFOUND);
	assert_int_equal(store_batch_task_count(f->w, &none, &count), 0);
	assert_int_equal(count, 0);

	/* Rules: non-terminal tasks of that exact kind. */
	int64_t updated;
	assert_int_equal(store_batch_set_rules(f->w, &batch, "odd", "[{\"type\":\"Capacity\"}]", T0 + 500, &updated), 0);
	assert_int_equal(updated, 3);   /* the pending, the running and the retrying one */

	batch_cancel_counts cc;
	weft_id *running;
	size_t nrunning;
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_batch_cancel(f->w, &batch, "Batch stopped", T0 + 1000, &cc, &running, &nrunning), 0);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(cc.already_terminal, 5);   /* success, failure, canceled, skipped, extra */
	for (int s = 0; s < TS__COUNT; s++)
		assert_int_equal(cc.canceled[s], task_status_terminal((task_status)s) ? 0 : 1);
	assert_int_equal(nrunning, 1);
	assert_string_equal(running[0].str, rows[TS_RUNNING].id.str);
	free(running);

	for (int s = 0; s <= TS__COUNT; s++) {
		task_row g = get(f, &rows[s].id);
		if (s < TS__COUNT && !task_status_terminal((task_status)s)) {
			assert_int_equal(g.status, TS_CANCELED);
			assert_string_equal(g.failure_reason, "Batch stopped");
			assert_int_equal(g.ended_at, T0 + 1000);
			assert_int_equal(g.last_updated, T0 + 1000);
		} else {
			assert_int_not_equal(g.last_updated, T0 + 1000);
		}
		task_row_release(&g);
	}
	assert_int_equal(status_of(f, &outside.id), TS_RUNNING);

	/* Again: everything is terminal now. */
	assert_int_equal(store_batch_cancel(f->w, &batch, "Batch stopped", T0 + 2000, &cc, &running, &nrunning), 0);
	assert_int_equal(cc.already_terminal, TS__COUNT + 1);
	assert_int_equal(nrunning, 0);
}

static void test_batch_cancel_events(void **state)
{
	fixture *f = *state;
	weft_id batch;
	new_batch(f, &batch, NULL);
	const task_status st[] = { TS_WAITING, TS_PENDING, TS_RETRYING, TS_RUNNING, TS_SUCCESS };
	task_row rows[ARRAY_LEN(st)];
	for (size_t i = 0; i < ARRAY_LEN(st); i++) {
		rows[i] = new_task("t", "k", st[i], T0 + (int64_t)i);
		rows[i].batch_id = batch;
		insert(f, &rows[i]);
	}
	assert_int_equal(store_batch_add_remaining(f->w, &batch, 4), 0);
	batch_cancel_counts cc;
	weft_id *running;
	size_t nrunning;
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_batch_cancel(f->w, &batch, "Batch stopped", T0 + 100, &cc, &running, &nrunning), 0);
	assert_int_equal(store_commit(f->w), 0);
	free(running);
	assert_int_equal(cc.canceled[TS_RETRYING], 1);
	assert_int_equal(cc.already_terminal, 1);
	assert_int_equal(remaining(f, &batch), 0);
	for (size_t i = 0; i < ARRAY_LEN(st); i++) {
		size_t n;
		task_event *ev = events_of(f, &rows[i].id, &n);
		if (st[i] == TS_SUCCESS) {
			assert_int_equal(n, 1);
		} else {
			assert_int_equal(n, 2);
			check_event(&ev[1], T0 + 100, (int)st[i], TS_CANCELED, "Batch stopped", "api");
		}
		store_free_events(ev, n);
	}
	char *json;
	batch_outcome out;
	assert_int_equal(complete_batch(f->w, &batch, T0 + 101, &json, &out), 0);
	assert_null(json);
	assert_int_equal(out.success, 1);
	assert_int_equal(out.canceled, 4);
	assert_int_equal(out.failure, 0);
}

static void test_batch_complete(void **state)
{
	fixture *f = *state;
	weft_id batch;
	new_batch(f, &batch, "[{\"url\":\"http://done\"}]");
	const task_status st[] = { TS_SUCCESS, TS_FAILURE, TS_CANCELED, TS_RUNNING };
	task_row rows[ARRAY_LEN(st)];
	for (size_t i = 0; i < ARRAY_LEN(st); i++) {
		rows[i] = new_task("t", "k", st[i], T0 + (int64_t)i);
		rows[i].batch_id = batch;
		insert(f, &rows[i]);
	}
	assert_int_equal(store_batch_add_remaining(f->w, &batch, 1), 0);
	char *json = (char *)"untouched";
	batch_outcome out = { 9, 9, 9 };
	assert_int_equal(complete_batch(f->w, &batch, T0 + 100, &json, &out), WEFT_ENOTFOUND);
	assert_null(json);
	assert_int_equal(out.success, 0);

	set_status(f, &rows[3].id, TS_SUCCESS, &(task_update){ .ended_at = T0 + 90 });
	assert_int_equal(remaining(f, &batch), 0);
	assert_int_equal(complete_batch(f->w, &batch, T0 + 100, &json, &out), 0);
	assert_string_equal(json, "[{\"url\":\"http://done\"}]");
	free(json);
	assert_int_equal(out.success, 2);
	assert_int_equal(out.failure, 1);
	assert_int_equal(out.canceled, 1);
	assert_int_equal(sql_intf(f, "SELECT completed_at FROM batch WHERE id = '%s'", batch.str), T0 + 100);
	/* Only once. */
	assert_int_equal(complete_batch(f->w, &batch, T0 + 200, &json, &out), WEFT_ENOTFOUND);
	assert_int_equal(sql_intf(f, "SELECT completed_at FROM batch WHERE id = '%s'", batch.str), T0 + 100);

	/* No batch row: nothing to complete. A batch row without tasks completes. */
	weft_id none, empty;
	id_new_v4(&none);
	assert_int_equal(complete_batch(f->w, &none, T0, &json, &out), WEFT_ENOTFOUND);
	new_batch(f, &empty, NULL);
	assert_int_equal(complete_batch(f->w, &empty, T0, &json, &out), 0);
	assert_null(json);
	assert_int_equal(out.success + out.failure + out.canceled, 0);
	assert_int_equal(store_batch_add_remaining(f->w, &none, 5), 0);   /* no row: no-op */

	/* Archived tasks still count. */
	weft_id b3;
	new_batch(f, &b3, NULL);
	task_row old = new_task("old", "k", TS_SUCCESS, T0);
	task_row late = new_task("late", "k", TS_RUNNING, T0 + 1);
	old.batch_id = late.batch_id = b3;
	old.ended_at = T0 + 5;
	insert(f, &old);
	insert(f, &late);
	assert_int_equal(store_batch_add_remaining(f->w, &b3, 1), 0);
	int64_t archived;
	assert_int_equal(store_archive_terminal(f->w, T0 + 10, 100, &archived), 0);
	assert_int_equal(archived, 1);
	set_status(f, &late.id, TS_FAILURE, &(task_update){ .ended_at = T0 + 20 });
	assert_int_equal(complete_batch(f->w, &b3, T0 + 30, &json, &out), 0);
	assert_int_equal(out.success, 1);
	assert_int_equal(out.failure, 1);
}

static void test_batch_list(void **state)
{
	fixture *f = *state;
	/* As the engine writes them: a batch row, and tasks created with it. */
	weft_id b1, b2, b3;
	const struct { weft_id *id; int64_t at; } batches[] = { { &b1, 10 }, { &b2, 20 }, { &b3, 30 } };
	for (size_t i = 0; i < ARRAY_LEN(batches); i++) {
		id_new_v4(batches[i].id);
		batch_row br = { .id = *batches[i].id, .created_at = T0 + batches[i].at };
		assert_int_equal(store_batch_insert(f->w, &br), 0);
	}
	struct { weft_id *b; const char *name, *kind; task_status s; int64_t at, upd; } spec[] = {
		{ &b1, "one", "alpha", TS_SUCCESS, 10, 100 },
		{ &b1, "two", "beta", TS_RUNNING, 10, 150 },
		{ &b1, "three", "beta", TS_RUNNING, 10, 120 },
		{ &b2, "uno", "alpha", TS_PENDING, 20, 20 },
		{ &b2, "dos", "gamma", TS_FAILURE, 20, 300 },
		{ &b3, "x", "beta", TS_WAITING, 30, 30 },
		{ NULL, "loose", "alpha", TS_PENDING, 50, 50 },   /* no batch: never listed */
	};
	for (size_t i = 0; i < ARRAY_LEN(spec); i++) {
		task_row t = new_task(spec[i].name, spec[i].kind, spec[i].s, T0 + spec[i].at);
		t.last_updated = T0 + spec[i].upd;
		if (spec[i].b)
			t.batch_id = *spec[i].b;
		insert(f, &t);
	}
	batch_summary *out;
	size_t n;

	/* No filter: newest batch first. */
	assert_int_equal(store_batch_list(f->w, NULL, 0, 10, &out, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(out[0].batch_id.str, b3.str);
	assert_string_equal(out[1].batch_id.str, b2.str);
	assert_string_equal(out[2].batch_id.str, b1.str);
	batch_summary *s1 = &out[2];
	assert_int_equal(s1->total_tasks, 3);
	assert_int_equal(s1->first_created_at, T0 + 10);
	assert_int_equal(s1->latest_updated_at, T0 + 150);
	assert_int_equal(s1->status_counts[TS_SUCCESS], 1);
	assert_int_equal(s1->status_counts[TS_RUNNING], 2);
	assert_int_equal(s1->status_counts[TS_PENDING], 0);
	assert_int_equal(s1->nkinds, 2);
	store_free_batch_summaries(out, n);

	/* kind=beta: b3 and b1 have a matching task; counts stay over all
	 * tasks, kinds only the matching ones. */
	batch_filter flt = { .kind = "beta" };
	assert_int_equal(store_batch_list(f->w, &flt, 0, 10, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].batch_id.str, b3.str);
	assert_string_equal(out[1].batch_id.str, b1.str);
	assert_int_equal(out[1].total_tasks, 3);
	assert_int_equal(out[1].first_created_at, T0 + 10);
	assert_int_equal(out[1].nkinds, 1);
	assert_string_equal(out[1].kinds[0], "beta");
	store_free_batch_summaries(out, n);

	/* "a" is in every kind; only the failed task matches the status. */
	flt = (batch_filter){ .kind = "a", .status_mask = TS_BIT(TS_FAILURE) | TS_BIT(TS_RETRYING) };
	assert_int_equal(store_batch_list(f->w, &flt, 0, 10, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].batch_id.str, b2.str);
	assert_int_equal(out[0].total_tasks, 2);
	assert_int_equal(out[0].status_counts[TS_PENDING], 1);
	assert_int_equal(out[0].status_counts[TS_FAILURE], 1);
	assert_int_equal(out[0].latest_updated_at, T0 + 300);
	assert_int_equal(out[0].nkinds, 1);
	assert_string_equal(out[0].kinds[0], "gamma");
	store_free_batch_summaries(out, n);

	/* Time window (inclusive) and name. */
	flt = (batch_filter){ .created_after = T0 + 20, .created_before = T0 + 30 };
	assert_int_equal(store_batch_list(f->w, &flt, 0, 10, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].batch_id.str, b3.str);
	assert_string_equal(out[1].batch_id.str, b2.str);
	assert_int_equal(out[1].nkinds, 2);
	store_free_batch_summaries(out, n);
	flt = (batch_filter){ .name = "o" };
	assert_int_equal(store_batch_list(f->w, &flt, 0, 10, &out, &n), 0);
	assert_int_equal(n, 2);   /* one, two (b1); uno, dos (b2) */
	store_free_batch_summaries(out, n);

	/* Pages. */
	assert_int_equal(store_batch_list(f->w, NULL, 1, 1, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].batch_id.str, b2.str);
	store_free_batch_summaries(out, n);
	assert_int_equal(store_batch_list(f->w, NULL, INT64_MAX, 100, &out, &n), 0);
	assert_int_equal(n, 0);

	/* Works on a reader too. */
	store_conn *r = store_reader_acquire(f->st);
	assert_int_equal(store_batch_list(r, NULL, 0, 10, &out, &n), 0);
	assert_int_equal(n, 3);
	store_free_batch_summaries(out, n);
	store_reader_release(f->st, r);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_batch_stats_cancel_rules),
		STORE_TEST_SQLITE(test_batch_cancel_events),
		STORE_TEST_SQLITE(test_batch_complete),
		STORE_TEST_SQLITE(test_batch_list),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_batch_stats_cancel_rules),
		STORE_TEST_PG(test_batch_cancel_events),
		STORE_TEST_PG(test_batch_complete),
		STORE_TEST_PG(test_batch_list),
	};
	return run_store_tests("store_batches", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
}
