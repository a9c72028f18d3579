/*
 * test_change_feed.c — the change feed's two halves on both backends: the
 * store's journal of changed tasks (noted with the status they got,
 * forgotten with a rolled-back savepoint, cleared by the next begin) and
 * the feed's ring (one load for every reader, commit order, the filters,
 * reset once a cursor fell behind what is kept or changes were lost).
 */
#include "store_test.h"

#include <jansson.h>

#include "http/change_feed.h"

static int g_wakes;
static void count_wake(void) { g_wakes++; }

static task_row task_in(const char *name, const char *ns, task_status s)
{
	task_row t = new_task(name, "k", s, T0);
	t.namespace = (char *)ns;
	return t;
}

static void test_journal_follows_savepoints(void **state)
{
	fixture *f = *state;
	task_row a = task_in("a", "default", TS_PENDING), b = task_in("b", "default", TS_PENDING);
	insert(f, &a);
	insert(f, &b);
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_changes_of(f->w).n, 0);
	set_status(f, &a.id, TS_RUNNING, NULL);
	assert_int_equal(store_savepoint(f->w), 0);
	set_status(f, &b.id, TS_CANCELED, NULL);
	assert_int_equal(store_changes_of(f->w).n, 2);
	assert_int_equal(store_savepoint_rollback(f->w), 0);
	assert_int_equal(store_commit(f->w), 0);
	store_changes ch = store_changes_of(f->w);
	assert_int_equal(ch.n, 1);
	assert_true(id_eq(&ch.items[0].id, &a.id));
	assert_int_equal(ch.items[0].status, TS_RUNNING);
	assert_false(ch.overflow);
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_changes_of(f->w).n, 0);
	assert_int_equal(store_rollback(f->w), 0);
}

/* The tasks of one read as a JSON array (owned). */
static json_t *read_all(change_feed *feed, const change_filter *flt, uint64_t *cursor, int *rc)
{
	buf b;
	buf_init(&b);
	buf_putc(&b, '[');
	*rc = change_feed_read(feed, flt, cursor, &b);
	buf_putc(&b, ']');
	buf_putc(&b, '\0');
	json_t *arr = json_loads(b.data, 0, NULL);
	buf_release(&b);
	assert_non_null(arr);
	return arr;
}

static const char *field(json_t *arr, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(arr, i), key));
}

static void test_ring_order_and_filters(void **state)
{
	fixture *f = *state;
	task_row a = task_in("a", "team-a", TS_SUCCESS), b = task_in("b", "team-b", TS_PENDING);
	insert(f, &a);
	insert(f, &b);
	g_wakes = 0;
	change_feed *feed = change_feed_new(NULL, f->st, count_wake);
	store_change none[] = { { a.id, TS_PENDING } };
	store_changes early = { .items = none, .n = 1 };
	change_feed_publish(feed, &early);          /* no stream yet: dropped */
	assert_int_equal(g_wakes, 0);
	change_feed_subscribe(feed);
	uint64_t start = change_feed_head(feed);
	store_change items[] = { { a.id, TS_PENDING }, { a.id, TS_RUNNING }, { b.id, TS_PENDING },
		                 { a.id, TS_SUCCESS } };
	store_changes ch = { .items = items, .n = 4 };
	change_feed_publish(feed, &ch);
	assert_int_equal(g_wakes, 1);
	change_feed_load(feed);
	assert_int_equal(change_feed_head(feed), start + 4);

	int rc;
	uint64_t cursor = start;
	json_t *all = read_all(feed, &(change_filter){ 0 }, &cursor, &rc);
	assert_int_equal(rc, 4);
	assert_int_equal(cursor, start + 4);
	assert_string_equal(field(all, 0, "status"), "pending");
	assert_string_equal(field(all, 1, "status"), "running");
	assert_string_equal(field(all, 2, "id"), b.id.str);
	assert_string_equal(field(all, 3, "status"), "success");
	assert_string_equal(field(all, 0, "run_id"), a.id.str);   /* a lone task is its own run */
	assert_string_equal(field(all, 0, "namespace"), "team-a");
	json_decref(all);

	const char *only_b[] = { "team-b" };
	cursor = start;
	json_t *nb = read_all(feed, &(change_filter){ .namespaces = only_b, .nnamespaces = 1 }, &cursor, &rc);
	assert_int_equal(rc, 1);
	assert_string_equal(field(nb, 0, "id"), b.id.str);
	json_decref(nb);
	cursor = start;
	json_t *ra = read_all(feed, &(change_filter){ .has_run = true, .run = a.id }, &cursor, &rc);
	assert_int_equal(rc, 3);
	json_decref(ra);
	/* Nothing new after the head. */
	json_t *empty = read_all(feed, &(change_filter){ 0 }, &cursor, &rc);
	assert_int_equal(rc, 0);
	json_decref(empty);
	change_feed_unsubscribe(feed);
	change_feed_free(feed);
}

static void test_reset_when_behind_or_lost(void **state)
{
	fixture *f = *state;
	task_row a = task_in("a", "default", TS_PENDING);
	insert(f, &a);
	change_feed *feed = change_feed_new(NULL, f->st, count_wake);
	change_feed_subscribe(feed);
	store_change one[] = { { a.id, TS_PENDING } };
	store_changes ch = { .items = one, .n = 1 };
	change_feed_publish(feed, &ch);
	change_feed_load(feed);
	uint64_t behind = change_feed_head(feed) - 1;
	/* More changes than the ring keeps. */
	store_change *many = calloc(CHANGE_FEED_RING, sizeof *many);
	for (size_t i = 0; i < CHANGE_FEED_RING; i++)
		many[i] = (store_change){ a.id, i % 2 ? TS_RUNNING : TS_PENDING };
	store_changes lots = { .items = many, .n = CHANGE_FEED_RING };
	change_feed_publish(feed, &lots);
	change_feed_load(feed);
	free(many);
	int rc;
	uint64_t cursor = behind;
	json_t *r = read_all(feed, &(change_filter){ 0 }, &cursor, &rc);
	assert_int_equal(rc, -1);
	assert_int_equal(cursor, change_feed_head(feed));
	json_decref(r);
	/* Changes the journal could not keep: every reader before them resets. */
	uint64_t before = change_feed_head(feed);
	store_changes lost = { .overflow = true };
	change_feed_publish(feed, &lost);
	change_feed_load(feed);
	cursor = before;
	r = read_all(feed, &(change_filter){ 0 }, &cursor, &rc);
	assert_int_equal(rc, -1);
	json_decref(r);
	change_feed_unsubscribe(feed);
	change_feed_free(feed);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_journal_follows_savepoints),
		STORE_TEST_SQLITE(test_ring_order_and_filters),
		STORE_TEST_SQLITE(test_reset_when_behind_or_lost),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_journal_follows_savepoints),
		STORE_TEST_PG(test_ring_order_and_filters),
		STORE_TEST_PG(test_reset_when_behind_or_lost),
	};
	return run_store_tests("change feed", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
}
