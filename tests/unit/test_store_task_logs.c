/*
 * test_store_task_logs.c — the store's log lines (schema 0016) on SQLite
 * and PostgreSQL: a batch is written in one statement with the task's
 * namespace, run and queue; lines of a missing task are skipped; a taken
 * key fails the batch; max(seq) per (task, attempt); a task's lines page
 * by (attempt, seq) with the attempt and stream filters; the search by
 * each filter, newest first, in keyset pages; expiry by age; archiving a
 * task takes its lines.
 */
#include "util/common.h"

#include "store_test.h"
#include "store/task_logs.h"

#define SEC 1000000LL

static task_log_put line(const task_row *t, int32_t attempt, int64_t seq, const char *stream, int64_t at,
                         const char *text)
{
	return (task_log_put){ t->id, attempt, seq, stream, strcmp(stream, "stderr") == 0 ? "warn" : "info", at, text,
		               strlen(text) };
}

static size_t list(fixture *f, const task_row *t, int32_t attempt, const char *stream, int32_t after_attempt,
                   int64_t after_seq, size_t limit, task_log_entry **out)
{
	size_t n = 0;
	assert_int_equal(store_task_logs_list(f->w, &t->id, attempt, stream, after_attempt, after_seq, limit, out, &n), 0);
	return n;
}

static void test_insert_and_list(void **state)
{
	fixture *f = *state;
	task_row a = new_task("a", "emails", TS_RUNNING, T0);
	a.namespace = "team";
	insert(f, &a);
	task_row ghost = new_task("ghost", "q", TS_RUNNING, T0);   /* never inserted */

	task_log_put batch[] = {
		line(&a, 1, 1, "stdout", T0 + 1, "one"),
		line(&a, 1, 2, "stderr", T0 + 2, "two"),
		line(&a, 1, 3, "stdout", T0 + 3, "three \"quoted\" é"),
		line(&a, 2, 1, "system", T0 + 4, "5 lines dropped"),
		line(&ghost, 1, 1, "stdout", T0 + 5, "lost"),
	};
	int64_t written = 0;
	assert_int_equal(store_task_logs_insert(f->w, batch, ARRAY_LEN(batch), &written), 0);
	assert_int_equal(written, 4);   /* the missing task's line is skipped */
	/* A key taken (another node numbered the same lines): the statement
	 * fails and writes nothing, so the engine numbers them again. */
	task_log_put taken[] = { line(&a, 1, 4, "stdout", T0 + 6, "new"), line(&a, 1, 3, "stdout", T0 + 7, "clash") };
	assert_int_not_equal(store_task_logs_insert(f->w, taken, 2, &written), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task_log"), 4);

	int64_t seq = -1;
	assert_int_equal(store_task_logs_max_seq(f->w, &a.id, 1, &seq), 0);
	assert_int_equal(seq, 3);
	assert_int_equal(store_task_logs_max_seq(f->w, &a.id, 3, &seq), 0);
	assert_int_equal(seq, 0);

	task_log_entry *rows = NULL;
	size_t n = list(f, &a, 0, NULL, 0, 0, 10, &rows);
	assert_int_equal(n, 4);
	assert_int_equal(rows[0].seq, 1);
	assert_string_equal(rows[0].text, "one");
	assert_string_equal(rows[0].namespace, "team");
	assert_string_equal(rows[0].queue, "emails");
	assert_string_equal(rows[0].run_id, a.id.str);   /* a lone task is its own run */
	assert_string_equal(rows[1].stream, "stderr");
	assert_string_equal(rows[1].level, "warn");
	assert_int_equal(rows[1].at, T0 + 2);
	assert_string_equal(rows[2].text, "three \"quoted\" é");
	assert_int_equal(rows[3].attempt, 2);
	assert_string_equal(rows[3].stream, "system");
	store_free_task_logs(rows, n);

	/* Keyset pages: after (1, 2) come (1, 3) and (2, 1). */
	n = list(f, &a, 0, NULL, 1, 2, 10, &rows);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].seq, 3);
	assert_int_equal(rows[1].attempt, 2);
	store_free_task_logs(rows, n);
	n = list(f, &a, 0, NULL, 0, 0, 1, &rows);
	assert_int_equal(n, 1);
	store_free_task_logs(rows, n);
	/* Filters. */
	n = list(f, &a, 2, NULL, 0, 0, 10, &rows);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].text, "5 lines dropped");
	store_free_task_logs(rows, n);
	n = list(f, &a, 0, "stdout", 0, 0, 10, &rows);
	assert_int_equal(n, 2);
	store_free_task_logs(rows, n);
}

static size_t search(fixture *f, const task_log_query *q, task_log_entry **out)
{
	size_t n = 0;
	assert_int_equal(store_task_logs_search(f->w, q, out, &n), 0);
	return n;
}

static void test_search_expire_archive(void **state)
{
	fixture *f = *state;
	task_row a = new_task("a", "alpha", TS_SUCCESS, T0), b = new_task("b", "beta", TS_RUNNING, T0);
	a.namespace = "one";
	a.ended_at = T0 + SEC;
	b.namespace = "two";
	insert(f, &a);
	insert(f, &b);
	task_log_put batch[] = {
		line(&a, 1, 1, "stdout", T0 + 1 * SEC, "Hello Alpha"),
		line(&a, 1, 2, "stderr", T0 + 2 * SEC, "boom"),
		line(&b, 1, 1, "stdout", T0 + 3 * SEC, "hello beta"),
	};
	assert_int_equal(store_task_logs_insert(f->w, batch, ARRAY_LEN(batch), NULL), 0);

	task_log_entry *rows = NULL;
	task_log_query q = { .limit = 10 };
	size_t n = search(f, &q, &rows);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].text, "hello beta");   /* newest first */
	assert_string_equal(rows[2].text, "Hello Alpha");
	store_free_task_logs(rows, n);

	const char *ns[] = { "two" };
	q = (task_log_query){ .namespaces = ns, .nnamespaces = 1, .limit = 10 };
	n = search(f, &q, &rows);
	assert_int_equal(n, 1);
	store_free_task_logs(rows, n);
	q = (task_log_query){ .task_id = &a.id, .limit = 10 };
	assert_int_equal((n = search(f, &q, &rows)), 2);
	store_free_task_logs(rows, n);
	q = (task_log_query){ .queue = "beta", .limit = 10 };
	assert_int_equal((n = search(f, &q, &rows)), 1);
	store_free_task_logs(rows, n);
	q = (task_log_query){ .run_id = a.id.str, .limit = 10 };
	assert_int_equal((n = search(f, &q, &rows)), 2);
	store_free_task_logs(rows, n);
	q = (task_log_query){ .stream = "stderr", .limit = 10 };
	assert_int_equal((n = search(f, &q, &rows)), 1);
	store_free_task_logs(rows, n);
	q = (task_log_query){ .level = "warn", .limit = 10 };
	assert_int_equal((n = search(f, &q, &rows)), 1);
	store_free_task_logs(rows, n);
	q = (task_log_query){ .text = "HELLO", .limit = 10 };
	assert_int_equal((n = search(f, &q, &rows)), 2);
	store_free_task_logs(rows, n);
	q = (task_log_query){ .since = T0 + 2 * SEC, .until = T0 + 3 * SEC, .limit = 10 };
	assert_int_equal((n = search(f, &q, &rows)), 1);
	assert_string_equal(rows[0].text, "boom");
	store_free_task_logs(rows, n);
	/* After the key of the newest line: the two older ones. */
	q = (task_log_query){ .has_after = true, .after_at = T0 + 3 * SEC, .after_task = b.id, .after_attempt = 1,
		              .after_seq = 1, .limit = 10 };
	assert_int_equal((n = search(f, &q, &rows)), 2);
	assert_string_equal(rows[0].text, "boom");
	store_free_task_logs(rows, n);

	/* Expiry by age, a bounded number a call. */
	int64_t removed = 0;
	assert_int_equal(store_task_logs_expire(f->w, T0 + 2 * SEC + 1, 1, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(store_task_logs_expire(f->w, T0 + 2 * SEC + 1, 10, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task_log"), 1);

	/* Archiving a task takes its lines: a ended long ago and goes. */
	assert_int_equal(store_task_logs_insert(f->w, batch, 2, NULL), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task_log"), 3);
	int64_t archived = 0;
	assert_int_equal(store_archive_terminal(f->w, T0 + 10 * SEC, 10, &archived), 0);
	assert_int_equal(archived, 1);   /* a, the one that ended */
	assert_int_equal(sql_intf(f, "SELECT count(*) FROM task_log WHERE task_id = '%s'", a.id.str), 0);
	assert_int_equal(sql_intf(f, "SELECT count(*) FROM task_log WHERE task_id = '%s'", b.id.str), 1);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_insert_and_list),
		STORE_TEST_SQLITE(test_search_expire_archive),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_insert_and_list),
		STORE_TEST_PG(test_search_expire_archive),
	};
	return run_store_tests("store task logs", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests,
	                       ARRAY_LEN(pg_tests));
}
