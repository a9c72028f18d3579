/*
 * test_store_schedules.c — the store's cron schedules (schemas 0010, 0013) on
 * SQLite and PostgreSQL: a name taken in its namespace keeps its row; the
 * list pages by name within one namespace; pause and resume replace the
 * next fire time; due rows leave out paused ones; a firing and a skip
 * are recorded.
 */
#include "util/common.h"

#include "store_test.h"
#include "store/schedules.h"

#define SEC 1000000LL

static schedule_row new_schedule(const char *ns, const char *name, int64_t next)
{
	return (schedule_row){
		.namespace = (char *)ns, .name = (char *)name, .cron = "0 * * * *", .timezone = "Europe/Berlin",
		.target_kind = "job", .target = "{\"kind\":\"job\",\"queue\":\"q\"}", .catchup = "all",
		.catchup_max = 3, .overlap = "skip", .next_fire_at = next, .created_at = 10 * SEC,
	};
}

static void test_insert_get_list(void **state)
{
	fixture *f = *state;
	const char *names[] = { "c", "a", "b" };
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		schedule_row s = new_schedule("ns", names[i], 100 * SEC);
		bool created = false;
		assert_int_equal(store_schedule_insert(f->w, &s, &created), 0);
		assert_true(created);
	}
	schedule_row other = new_schedule("other", "a", 100 * SEC), taken = new_schedule("ns", "a", 5 * SEC);
	bool created = false;
	assert_int_equal(store_schedule_insert(f->w, &other, &created), 0);
	assert_true(created);
	assert_int_equal(store_schedule_insert(f->w, &taken, &created), 0);
	assert_false(created);

	schedule_row g;
	assert_int_equal(store_schedule_get(f->w, "ns", "a", &g), 0);
	assert_string_equal(g.cron, "0 * * * *");
	assert_string_equal(g.timezone, "Europe/Berlin");
	assert_string_equal(g.target, "{\"kind\":\"job\",\"queue\":\"q\"}");
	assert_string_equal(g.catchup, "all");
	assert_int_equal(g.catchup_max, 3);
	assert_string_equal(g.overlap, "skip");
	assert_false(g.paused);
	assert_int_equal(g.next_fire_at, 100 * SEC); /* the taken name kept its row */
	assert_int_equal(g.last_fire_at, 0);
	assert_null(g.last_job_id);
	assert_int_equal(g.created_at, 10 * SEC);
	schedule_row_release(&g);
	assert_int_equal(store_schedule_get(f->w, "ns", "zzz", &g), WEFT_ENOTFOUND);

	/* Schema 0013: a template target is a kind of its own. */
	schedule_row tpl = new_schedule("tpl", "t", 100 * SEC);
	tpl.target_kind = "template";
	tpl.target = "{\"kind\":\"template\",\"template\":\"etl@1\"}";
	assert_int_equal(store_schedule_insert(f->w, &tpl, &created), 0);
	assert_true(created);
	assert_int_equal(store_schedule_get(f->w, "tpl", "t", &g), 0);
	assert_string_equal(g.target_kind, "template");
	assert_null(g.last_run_id);
	assert_false(g.previous_active);
	schedule_row_release(&g);

	schedule_row *rows = NULL;
	size_t n = 0;
	assert_int_equal(store_schedule_list(f->w, "ns", NULL, 2, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].name, "a");
	assert_string_equal(rows[1].name, "b");
	store_free_schedules(rows, n);
	assert_int_equal(store_schedule_list(f->w, "ns", "b", 2, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].name, "c");
	store_free_schedules(rows, n);

	bool found = false;
	assert_int_equal(store_schedule_delete(f->w, "ns", "b", &found), 0);
	assert_true(found);
	assert_int_equal(store_schedule_delete(f->w, "ns", "b", &found), 0);
	assert_false(found);
	assert_int_equal(store_schedule_list(f->w, "ns", NULL, 10, &rows, &n), 0);
	assert_int_equal(n, 2);
	store_free_schedules(rows, n);
}

static void test_due_pause_fire(void **state)
{
	fixture *f = *state;
	schedule_row a = new_schedule("ns", "a", 100 * SEC), b = new_schedule("ns", "b", 50 * SEC),
	             late = new_schedule("ns", "late", 500 * SEC), never = new_schedule("ns", "never", 0);
	bool created;
	assert_int_equal(store_schedule_insert(f->w, &a, &created), 0);
	assert_int_equal(store_schedule_insert(f->w, &b, &created), 0);
	assert_int_equal(store_schedule_insert(f->w, &late, &created), 0);
	assert_int_equal(store_schedule_insert(f->w, &never, &created), 0);

	schedule_row *rows = NULL;
	size_t n = 0;
	assert_int_equal(store_schedules_due(f->w, 200 * SEC, 10, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].name, "b"); /* soonest first */
	assert_string_equal(rows[1].name, "a");
	store_free_schedules(rows, n);

	bool found = false;
	assert_int_equal(store_schedule_set_paused(f->w, "ns", "b", true, 50 * SEC, 150 * SEC, &found), 0);
	assert_true(found);
	assert_int_equal(store_schedules_due(f->w, 200 * SEC, 10, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].name, "a");
	store_free_schedules(rows, n);

	/* Resuming sets the next time from now: the missed one is gone. */
	assert_int_equal(store_schedule_set_paused(f->w, "ns", "b", false, 3600 * SEC, 160 * SEC, &found), 0);
	schedule_row g;
	assert_int_equal(store_schedule_get(f->w, "ns", "b", &g), 0);
	assert_false(g.paused);
	assert_int_equal(g.next_fire_at, 3600 * SEC);
	assert_int_equal(g.updated_at, 160 * SEC);
	schedule_row_release(&g);
	assert_int_equal(store_schedule_set_paused(f->w, "ns", "gone", true, 0, 160 * SEC, &found), 0);
	assert_false(found);

	assert_int_equal(store_schedule_fired(f->w, "ns", "a", 100 * SEC, "job-1", "job-1", 3700 * SEC), 0);
	assert_int_equal(store_schedule_get(f->w, "ns", "a", &g), 0);
	assert_int_equal(g.last_fire_at, 100 * SEC);
	assert_string_equal(g.last_job_id, "job-1");
	assert_string_equal(g.last_run_id, "job-1");
	assert_int_equal(g.next_fire_at, 3700 * SEC);
	assert_int_equal(g.fires, 1);
	/* No task job-1 exists: its run counts as ended. */
	assert_false(g.previous_active);
	assert_int_equal(g.skipped_fires, 0);
	schedule_row_release(&g);

	/* A skip counts the due times and moves the next one; fires stays. */
	assert_int_equal(store_schedule_skipped(f->w, "ns", "a", 3700 * SEC, 2, 7300 * SEC), 0);
	assert_int_equal(store_schedule_get(f->w, "ns", "a", &g), 0);
	assert_int_equal(g.skipped_fires, 2);
	assert_int_equal(g.last_skipped_at, 3700 * SEC);
	assert_int_equal(g.next_fire_at, 7300 * SEC);
	assert_int_equal(g.fires, 1);
	schedule_row_release(&g);
	assert_int_equal(store_schedules_due(f->w, 200 * SEC, 10, &rows, &n), 0);
	assert_int_equal(n, 0);
	free(rows);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_insert_get_list),
		STORE_TEST_SQLITE(test_due_pause_fire),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_insert_get_list),
		STORE_TEST_PG(test_due_pause_fire),
	};
	return run_store_tests("store schedules", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests,
	                       ARRAY_LEN(pg_tests));
}
