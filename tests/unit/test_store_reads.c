/*
 * test_store_reads.c — what the store reads for the start pass, the timers and
 * the API: the pending scan and delayed starts, rule counts, deadlines, task
 * listing, groups, gauges, and retention into the archive (which reads
 * fall back to).
 * Each case runs on SQLite and on PostgreSQL unless its list says
 * otherwise (store_test.h).
 */
#include "util/common.h"

#include "core/limits.h"
#include "store_test.h"
#include "store/triggers.h"

static void test_pending_scan(void **state)
{
	fixture *f = *state;
	/* Inserted out of order; ids are time-ordered, so equal created_at
	 * breaks ties in insertion order. */
	struct { int prio; int64_t at; task_status s; } spec[] = {
		{ 0, 5, TS_PENDING },  { 10, 9, TS_PENDING }, { 0, 1, TS_PENDING }, { -5, 0, TS_PENDING },
		{ 10, 9, TS_PENDING }, { 0, 1, TS_PENDING },  { 99, 0, TS_RUNNING }, { 0, 3, TS_WAITING },
		{ 10, 2, TS_PENDING },
	};
	task_row rows[ARRAY_LEN(spec)];
	for (size_t i = 0; i < ARRAY_LEN(spec); i++) {
		rows[i] = new_task("p", "k", spec[i].s, T0 + spec[i].at);
		rows[i].priority = spec[i].prio;
		insert(f, &rows[i]);
	}
	const size_t want[] = { 8, 1, 4, 2, 5, 0, 3 };

	task_row *out;
	size_t n;
	assert_int_equal(store_pending_scan(f->w, NULL, 100, T0, &out, &n, NULL), 0);
	assert_int_equal(n, ARRAY_LEN(want));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out[i].id.str, rows[want[i]].id.str);
	store_free_tasks(out, n);

	/* Pages of two, each after the last row of the previous one. */
	pending_cursor cur = { 0 };
	size_t seen = 0;
	bool first = true;
	for (;;) {
		assert_int_equal(store_pending_scan(f->w, first ? NULL : &cur, 2, T0, &out, &n, NULL), 0);
		first = false;
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++)
			assert_string_equal(out[i].id.str, rows[want[seen + i]].id.str);
		seen += n;
		cur.priority = out[n - 1].priority;
		cur.created_at = out[n - 1].created_at;
		cur.id = out[n - 1].id;
		store_free_tasks(out, n);
	}
	assert_int_equal(seen, ARRAY_LEN(want));
	assert_int_equal(store_pending_scan(f->w, NULL, 0, T0, &out, &n, NULL), 0);
	assert_int_equal(n, 0);

	/* After a cursor, the tasks of executors left out are not read, in
	 * the cursor's priority and below. */
	task_row ex1 = new_task("x1", "k", TS_PENDING, T0 + 20);
	task_row ex2 = new_task("x2", "k", TS_PENDING, T0 + 20);
	ex1.priority = 10;
	ex2.priority = -5;
	ex1.executor = ex2.executor = (char *)"exec";
	insert(f, &ex1);
	insert(f, &ex2);
	const char *skip[] = { "exec" };
	pending_cursor after = { .priority = rows[8].priority, .created_at = rows[8].created_at, .id = rows[8].id };
	assert_int_equal(store_pending_scan(f->w, &after, 100, T0 + 30, &out, &n, NULL), 0);
	assert_int_equal(n, ARRAY_LEN(want) + 1);        /* both exec tasks, less rows[8] itself */
	store_free_tasks(out, n);
	after.skip = skip;
	after.nskip = 1;
	assert_int_equal(store_pending_scan(f->w, &after, 100, T0 + 30, &out, &n, NULL), 0);
	assert_int_equal(n, ARRAY_LEN(want) - 1);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out[i].id.str, rows[want[i + 1]].id.str);
	store_free_tasks(out, n);
}

static void scan_expect(fixture *f, const pending_cursor *after, int64_t now, const task_row *const *want,
                        size_t nwant)
{
	task_row *out;
	size_t n;
	assert_int_equal(store_pending_scan(f->w, after, 100, now, &out, &n, NULL), 0);
	if (n != nwant)
		fail_msg("scan at %" PRId64 ": %zu rows, want %zu", (int64_t)(now - T0), n, nwant);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out[i].id.str, want[i]->id.str);
	store_free_tasks(out, n);
}

static void test_pending_scan_start_after(void **state)
{
	fixture *f = *state;
	task_row t1 = new_task("now", "k", TS_PENDING, T0 + 1);
	task_row t2 = new_task("late", "k", TS_PENDING, T0 + 2);
	task_row t3 = new_task("soon", "k", TS_PENDING, T0 + 3);
	t2.priority = 5;
	t2.start_after = T0 + 100;
	t3.start_after = T0 + 50;
	insert(f, &t1);
	insert(f, &t2);
	insert(f, &t3);
	scan_expect(f, NULL, T0 + 10, (const task_row *[]){ &t1 }, 1);
	scan_expect(f, NULL, T0 + 50, (const task_row *[]){ &t1, &t3 }, 2);
	scan_expect(f, NULL, T0 + 100, (const task_row *[]){ &t2, &t1, &t3 }, 3);
	pending_cursor cur = { .priority = 5, .created_at = t2.created_at, .id = t2.id };
	scan_expect(f, &cur, T0 + 10, (const task_row *[]){ &t1 }, 1);
	scan_expect(f, &cur, T0 + 60, (const task_row *[]){ &t1, &t3 }, 2);
	cur = (pending_cursor){ .priority = 0, .created_at = t1.created_at, .id = t1.id };
	scan_expect(f, &cur, T0 + 10, NULL, 0);
	scan_expect(f, &cur, T0 + 60, (const task_row *[]){ &t3 }, 1);

	/* The next delayed start strictly after now, among pending tasks only. */
	task_row run = new_task("run", "k", TS_RUNNING, T0);
	run.start_after = T0 + 20;
	insert(f, &run);
	int64_t due;
	assert_int_equal(due_found(store_pending_next_start(f->w, T0, &due), &due), 0);
	assert_int_equal(due, T0 + 50);
	/* The first page of the scan says the same. */
	task_row *page;
	size_t npage;
	assert_int_equal(store_pending_scan(f->w, NULL, 1, T0, &page, &npage, &due), 0);
	assert_int_equal(due, T0 + 50);
	store_free_tasks(page, npage);
	assert_int_equal(store_pending_scan(f->w, NULL, 1, T0 + 100, &page, &npage, &due), 0);
	assert_int_equal(due, INT64_MAX);
	store_free_tasks(page, npage);
	assert_int_equal(due_found(store_pending_next_start(f->w, T0 + 50, &due), &due), 0);
	assert_int_equal(due, T0 + 100);
	assert_int_equal(due_found(store_pending_next_start(f->w, T0 + 100, &due), &due), WEFT_ENOTFOUND);
	set_status(f, &t2.id, TS_CLAIMED, NULL);
	assert_int_equal(due_found(store_pending_next_start(f->w, T0 + 50, &due), &due), WEFT_ENOTFOUND);
}

static void test_count_matching(void **state)
{
	fixture *f = *state;
	const char *meta[] = { "{\"p\":1,\"tags\":[\"a\",\"b\"],\"o\":{\"x\":1,\"y\":2}}", "{\"p\":2}",
	                       "null", "{\"p\":1}", "[1]" };
	for (size_t i = 0; i < ARRAY_LEN(meta); i++) {
		task_row t = new_task("t", "job", i == 3 ? TS_RUNNING : TS_PENDING, T0 + (int64_t)i);
		t.metadata = (char *)meta[i];
		insert(f, &t);
	}
	task_row other = new_task("t", "other", TS_PENDING, T0);
	other.metadata = (char *)"{\"p\":1}";
	insert(f, &other);

	int64_t count;
	unsigned pend = TS_BIT(TS_PENDING);
	assert_int_equal(store_count_matching(f->w, "job", pend, "{\"p\":1}", 100, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_count_matching(f->w, "job", pend | TS_BIT(TS_RUNNING), "{\"p\":1}", 100, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(store_count_matching(f->w, "job", pend | TS_BIT(TS_RUNNING), "{\"p\":1}", 1, &count), 0);
	assert_int_equal(count, 1);   /* stops at the limit */
	/* "{}" matches objects only: not null, not an array. */
	assert_int_equal(store_count_matching(f->w, "job", TS_ALL_MASK, "{}", 100, &count), 0);
	assert_int_equal(count, 3);
	assert_int_equal(store_count_matching(f->w, "job", pend, "{\"tags\":[\"b\"],\"o\":{\"y\":2}}", 100, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_count_matching(f->w, "job", pend, "{\"p\":1.0}", 100, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_count_matching(f->w, "job", TS_BIT(TS_CLAIMED), "{}", 100, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(store_count_matching(f->w, "nope", TS_ALL_MASK, "{}", 100, &count), 0);
	assert_int_equal(count, 0);
	/* The statement is reused with another pattern: the cached pattern must not leak. */
	assert_int_equal(store_count_matching(f->w, "job", pend, "{\"p\":2}", 100, &count), 0);
	assert_int_equal(count, 1);
	assert_true(store_count_matching(f->w, "job", pend, "{oops", 100, &count) < 0);
}

static void test_capacity_sum(void **state)
{
	fixture *f = *state;
	struct { task_status s; bool has; int64_t exp, ok, bad; const char *meta; } spec[] = {
		{ TS_RUNNING, true, 10, 3, 2, "{\"q\":1}" },   /* 5 */
		{ TS_CLAIMED, true, 4, 0, 0, "{\"q\":1}" },    /* 4 */
		{ TS_RUNNING, true, 2, 5, 0, "{\"q\":1}" },    /* over: 0 */
		{ TS_RUNNING, false, 0, 0, 0, "{\"q\":1}" },   /* null: 0 */
		{ TS_PENDING, true, 50, 0, 0, "{\"q\":1}" },   /* not started */
		{ TS_RUNNING, true, 7, 0, 0, "{\"q\":2}" },    /* other key */
	};
	for (size_t i = 0; i < ARRAY_LEN(spec); i++) {
		task_row t = new_task("t", "cap", spec[i].s, T0);
		t.has_expected_count = spec[i].has;
		t.expected_count = spec[i].exp;
		t.success = spec[i].ok;
		t.failures = spec[i].bad;
		t.metadata = (char *)spec[i].meta;
		insert(f, &t);
	}
	int64_t sum;
	assert_int_equal(store_capacity_sum(f->w, "cap", "{\"q\":1}", &sum), 0);
	assert_int_equal(sum, 9);
	assert_int_equal(store_capacity_sum(f->w, "cap", "{}", &sum), 0);
	assert_int_equal(sum, 16);
	assert_int_equal(store_capacity_sum(f->w, "none", "{}", &sum), 0);
	assert_int_equal(sum, 0);
}

/* 1,100 running tasks with nothing done of TASK_COUNTER_MAX each: their
 * sum passes INT64_MAX and saturates there. */
static void test_capacity_sum_saturates(void **state)
{
	fixture *f = *state;
	for (int i = 0; i < 1100; i++) {
		task_row t = new_task("t", "big", TS_RUNNING, T0);
		t.has_expected_count = true;
		t.expected_count = TASK_COUNTER_MAX;
		t.metadata = (char *)"{}";
		insert(f, &t);
	}
	int64_t sum;
	assert_int_equal(store_capacity_sum(f->w, "big", "{}", &sum), 0);
	assert_int_equal(sum, INT64_MAX);
}

static void test_deadlines(void **state)
{
	fixture *f = *state;
	task_row a = new_task("a", "k", TS_RUNNING, T0);
	task_row b = new_task("b", "k", TS_RUNNING, T0);
	task_row c = new_task("c", "k", TS_CLAIMED, T0);
	a.last_updated = T0 + 20;
	b.last_updated = T0 + 10;
	b.timeout_secs = 5;
	insert(f, &a);
	insert(f, &b);
	insert(f, &c);
	deadline_row *d;
	size_t n;
	assert_int_equal(store_deadlines(f->w, TS_RUNNING, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].id.str, b.id.str);
	assert_int_equal(d[0].last_updated, T0 + 10);
	assert_int_equal(d[0].timeout_secs, 5);
	assert_string_equal(d[1].id.str, a.id.str);
	free(d);
	assert_int_equal(store_deadlines(f->w, TS_PAUSED, &d, &n), 0);
	assert_int_equal(n, 0);
}

static void test_deadlines_retrying_and_delayed(void **state)
{
	fixture *f = *state;
	task_row r1 = new_task("r1", "k", TS_RETRYING, T0);
	task_row r2 = new_task("r2", "k", TS_RETRYING, T0);
	task_row p1 = new_task("p1", "k", TS_PENDING, T0);
	task_row p2 = new_task("p2", "k", TS_PENDING, T0);
	task_row p3 = new_task("p3", "k", TS_PENDING, T0);
	task_row run = new_task("run", "k", TS_RUNNING, T0);
	r1.next_retry_at = T0 + 300;
	r2.next_retry_at = T0 + 200;
	r2.attempt = 2;
	p2.start_after = T0 + 50;
	p3.start_after = T0 + 40;
	task_row *all[] = { &r1, &r2, &p1, &p2, &p3, &run };
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		insert(f, all[i]);
	deadline_row *d;
	size_t n;
	assert_int_equal(store_deadlines(f->w, TS_RETRYING, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].id.str, r2.id.str);
	assert_int_equal(d[0].next_retry_at, T0 + 200);
	assert_string_equal(d[1].id.str, r1.id.str);
	assert_int_equal(d[1].next_retry_at, T0 + 300);
	free(d);
	assert_int_equal(store_deadlines(f->w, TS_PENDING, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].id.str, p3.id.str);
	assert_int_equal(d[0].start_after, T0 + 40);
	assert_string_equal(d[1].id.str, p2.id.str);
	assert_int_equal(d[1].start_after, T0 + 50);
	free(d);
	assert_int_equal(store_deadlines(f->w, TS_RUNNING, &d, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].timeout_secs, 60);
	assert_int_equal(d[0].next_retry_at, 0);
	free(d);

	/* A retrying task is not finished: dead-end detection and the rules see it as active. */
	task_row child = new_task("child", "k", TS_SUCCESS, T0);
	insert(f, &child);
	add_link(f, &r1, &child, false);
	weft_id *ids;
	assert_int_equal(store_dead_end_parents(f->w, &child.id, 1, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_true(id_eq(&ids[0], &r1.id));
	free(ids);
	int64_t count;
	assert_int_equal(store_count_matching(f->w, "k", TS_BIT(TS_RETRYING), "null", 10, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(store_count_matching(f->w, "k", TS_ACTIVE_MASK, "null", 10, &count), 0);
	assert_int_equal(count, 6);
}

static void test_task_list(void **state)
{
	fixture *f = *state;
	weft_id b1;
	id_new_v4(&b1);
	struct { const char *name, *kind; task_status s; int timeout; bool in_b1; const char *meta; } spec[] = {
		{ "Build app", "ci-build", TS_SUCCESS, 60, true, "{\"env\":\"prod\"}" },
		{ "build lib", "ci-build", TS_RUNNING, 30, true, "null" },
		{ "test", "ci-test", TS_PENDING, 60, false, "{\"env\":\"dev\"}" },
		{ "deploy", "cd", TS_WAITING, 60, true, "{\"env\":\"prod\",\"r\":1}" },
		{ "100%_done", "misc", TS_PENDING, 60, false, "{}" },
	};
	task_row rows[ARRAY_LEN(spec)];
	for (size_t i = 0; i < ARRAY_LEN(spec); i++) {
		rows[i] = new_task(spec[i].name, spec[i].kind, spec[i].s, T0 + (int64_t)i);
		rows[i].timeout_secs = spec[i].timeout;
		rows[i].metadata = (char *)spec[i].meta;
		if (spec[i].in_b1)
			rows[i].batch_id = b1;
		insert(f, &rows[i]);
	}
	task_row *out;
	size_t n;

	/* No filter: newest first. */
	assert_int_equal(store_task_list(f->w, NULL, 0, 100, &out, &n), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out[i].id.str, rows[4 - i].id.str);
	store_free_tasks(out, n);

	struct { task_filter flt; size_t count; int first; } cases[] = {
		{ { .name = "build" }, 1, 1 },                 /* case-sensitive */
		{ { .name = "uild" }, 2, 1 },
		{ { .name = "%_" }, 1, 4 },                    /* no LIKE wildcards */
		{ { .name = "" }, 5, 4 },
		{ { .kind = "ci-" }, 3, 2 },
		{ { .status_mask = TS_BIT(TS_PENDING) }, 2, 4 },
		{ { .status_mask = TS_BIT(TS_PENDING) | TS_BIT(TS_CANCELED) | TS_BIT(TS_RETRYING) }, 2, 4 },
		{ { .has_timeout = true, .timeout = 30 }, 1, 1 },
		{ { .batch_id = &b1 }, 3, 3 },
		{ { .metadata = "{\"env\":\"prod\"}" }, 2, 3 },
		{ { .metadata = "{}" }, 4, 4 },
		{ { .kind = "ci", .metadata = "{\"env\":\"prod\"}", .batch_id = &b1 }, 1, 0 },
		{ { .kind = "ci", .status_mask = TS_BIT(TS_CANCELED) }, 0, 0 },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		assert_int_equal(store_task_list(f->w, &cases[i].flt, 0, 100, &out, &n), 0);
		if (n != cases[i].count)
			fail_msg("case %zu: %zu rows, want %zu", i, n, cases[i].count);
		if (n > 0)
			assert_string_equal(out[0].id.str, rows[cases[i].first].id.str);
		store_free_tasks(out, n);
	}

	/* Pages. */
	assert_int_equal(store_task_list(f->w, NULL, 2, 2, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].id.str, rows[2].id.str);
	assert_string_equal(out[1].id.str, rows[1].id.str);
	store_free_tasks(out, n);
	assert_int_equal(store_task_list(f->w, NULL, 4, 2, &out, &n), 0);
	assert_int_equal(n, 1);
	store_free_tasks(out, n);
	assert_int_equal(store_task_list(f->w, NULL, 5, 2, &out, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_task_list(f->w, NULL, INT64_MAX, 100, &out, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_task_list(f->w, NULL, INT64_MAX - 1, INT64_MAX, &out, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_task_list(f->w, NULL, -5, 1, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].id.str, rows[4].id.str);
	store_free_tasks(out, n);
}

static void test_group_tasks(void **state)
{
	fixture *f = *state;
	struct { const char *group; task_status s; int64_t at; } spec[] = {
		{ "g1", TS_PENDING, 2 }, { "g1", TS_RUNNING, 1 }, { "g1", TS_SUCCESS, 3 },
		{ "g1", TS_PAUSED, 4 },  { "g2", TS_PENDING, 0 }, { NULL, TS_PENDING, 0 },
	};
	task_row rows[ARRAY_LEN(spec)];
	for (size_t i = 0; i < ARRAY_LEN(spec); i++) {
		rows[i] = new_task("t", "k", spec[i].s, T0 + spec[i].at);
		rows[i].group_name = (char *)spec[i].group;
		insert(f, &rows[i]);
	}
	weft_id *ids;
	size_t n;
	assert_int_equal(store_group_tasks(f->w, "g1", TS_ACTIVE_MASK, &ids, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ids[0].str, rows[1].id.str);
	assert_string_equal(ids[1].str, rows[0].id.str);
	assert_string_equal(ids[2].str, rows[3].id.str);
	free(ids);
	assert_int_equal(store_group_tasks(f->w, "g1", TS_BIT(TS_PENDING) | TS_BIT(TS_PAUSED), &ids, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0].str, rows[0].id.str);
	free(ids);
	assert_int_equal(store_group_tasks(f->w, "g1", TS_TERMINAL_MASK, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0].str, rows[2].id.str);
	free(ids);
	assert_int_equal(store_group_tasks(f->w, "G1", TS_ALL_MASK, &ids, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_group_tasks(f->w, "g1", 0, &ids, &n), 0);
	assert_int_equal(n, 0);
	assert_null(ids);
}

static void test_status_counts_and_running_by_kind(void **state)
{
	fixture *f = *state;
	int64_t counts[TS__COUNT];
	kind_count *kc;
	size_t n;
	assert_int_equal(store_status_counts(f->w, counts), 0);
	for (int s = 0; s < TS__COUNT; s++)
		assert_int_equal(counts[s], 0);
	assert_int_equal(store_running_by_kind(f->w, &kc, &n), 0);
	assert_int_equal(n, 0);

	struct { const char *kind; task_status s; } spec[] = {
		{ "b", TS_RUNNING }, { "b", TS_RUNNING }, { "a", TS_RUNNING }, { "a", TS_PENDING },
		{ "a", TS_RETRYING }, { "c", TS_SUCCESS }, { "c", TS_CLAIMED },
	};
	for (size_t i = 0; i < ARRAY_LEN(spec); i++) {
		task_row t = new_task("t", spec[i].kind, spec[i].s, T0);
		insert(f, &t);
	}
	store_conn *r = store_reader_acquire(f->st);
	assert_int_equal(store_status_counts(r, counts), 0);
	assert_int_equal(counts[TS_RUNNING], 3);
	assert_int_equal(counts[TS_PENDING], 1);
	assert_int_equal(counts[TS_RETRYING], 1);
	assert_int_equal(counts[TS_SUCCESS], 1);
	assert_int_equal(counts[TS_CLAIMED], 1);
	assert_int_equal(counts[TS_WAITING], 0);
	assert_int_equal(store_running_by_kind(r, &kc, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(kc[0].kind, "a");
	assert_int_equal(kc[0].count, 1);
	assert_string_equal(kc[1].kind, "b");
	assert_int_equal(kc[1].count, 2);
	store_free_kind_counts(kc, n);
	store_reader_release(f->st, r);
}

/* The counts by status against the rows themselves, on the writer and a reader. */
static void check_counts(fixture *f, const weft_id *ids, size_t n)
{
	int64_t want[TS__COUNT] = { 0 }, got[TS__COUNT];
	store_conn *r = store_reader_acquire(f->st);
	for (size_t i = 0; i < n; i++) {
		task_row t;
		int rc = store_task_get(r, &ids[i], &t);
		if (rc == WEFT_ENOTFOUND)
			continue;     /* archived */
		assert_int_equal(rc, 0);
		if (!t.archived)
			want[t.status]++;
		task_row_release(&t);
	}
	assert_int_equal(store_status_counts(r, got), 0);
	store_reader_release(f->st, r);
	for (int s = 0; s < TS__COUNT; s++)
		if (got[s] != want[s])
			fail_msg("status %s: counted %lld, rows %lld", task_status_name((task_status)s), (long long)got[s],
			         (long long)want[s]);
	assert_int_equal(store_status_counts(f->w, got), 0);
	for (int s = 0; s < TS__COUNT; s++)
		assert_int_equal(got[s], want[s]);
}

static void move(fixture *f, const weft_id *id, task_status from, task_status to)
{
	task_update u = { .set_status = true, .status = to, .last_updated = T0 + 1, .ended_at = T0 + 1 };
	task_update_result res;
	assert_int_equal(store_task_update(f->w, id, TS_BIT(from), &u, &res), 0);
	assert_true(res.applied);
}

/* Every path that changes a status keeps the counts: inserts, guarded
 * updates in and out of a transaction, a savepoint's rollback, a
 * dependency's release, a batch's cancel, archiving. */
static void test_status_counts_follow_changes(void **state)
{
	fixture *f = *state;
	batch_row b = { .created_at = T0, .scope = "s", .metadata = "null" };
	id_new_v4(&b.id);
	weft_id ids[8];
	size_t n = 0;
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_batch_insert(f->w, &b), 0);
	task_row parent = new_task("p", "k", TS_PENDING, T0), child = new_task("c", "k", TS_WAITING, T0);
	parent.batch_id = child.batch_id = b.id;
	child.wait_success = child.wait_finished = 1;
	insert(f, &parent);
	insert(f, &child);
	add_link(f, &parent, &child, true);
	ids[n++] = parent.id;
	ids[n++] = child.id;
	for (int i = 0; i < 3; i++) {
		task_row t = new_task("t", "k", i == 0 ? TS_RUNNING : TS_PENDING, T0);
		t.batch_id = b.id;
		insert(f, &t);
		ids[n++] = t.id;
	}
	task_row old = new_task("old", "k", TS_SUCCESS, T0 - 1000);
	old.ended_at = T0 - 1000;
	insert(f, &old);
	ids[n++] = old.id;
	assert_int_equal(store_commit(f->w), 0);
	check_counts(f, ids, n);

	/* Outside a transaction: written at once. */
	move(f, &ids[2], TS_RUNNING, TS_PAUSED);
	check_counts(f, ids, n);

	/* A rolled-back savepoint takes its changes back; the rest commits. */
	assert_int_equal(store_begin(f->w), 0);
	move(f, &ids[3], TS_PENDING, TS_CLAIMED);
	assert_int_equal(store_savepoint(f->w), 0);
	move(f, &ids[3], TS_CLAIMED, TS_RUNNING);
	move(f, &ids[4], TS_PENDING, TS_CANCELED);
	assert_int_equal(store_savepoint_rollback(f->w), 0);
	assert_int_equal(store_savepoint(f->w), 0);
	move(f, &ids[3], TS_CLAIMED, TS_RUNNING);
	assert_int_equal(store_savepoint_release(f->w), 0);
	assert_int_equal(store_commit(f->w), 0);
	check_counts(f, ids, n);

	/* A transaction rolled back writes nothing. */
	assert_int_equal(store_begin(f->w), 0);
	move(f, &ids[3], TS_RUNNING, TS_FAILURE);
	assert_int_equal(store_rollback(f->w), 0);
	check_counts(f, ids, n);

	/* The parent succeeds; its child is released from waiting to pending. */
	assert_int_equal(store_begin(f->w), 0);
	move(f, &ids[0], TS_PENDING, TS_SUCCESS);
	weft_id *became = NULL;
	size_t nbecame = 0;
	assert_int_equal(store_release_children(f->w, &ids[0], true, &became, &nbecame), 0);
	assert_int_equal(nbecame, 1);
	free(became);
	assert_int_equal(store_commit(f->w), 0);
	check_counts(f, ids, n);

	/* The batch's cancel ends the active rest. */
	assert_int_equal(store_begin(f->w), 0);
	batch_cancel_counts bc;
	weft_id *running = NULL;
	size_t nrunning = 0;
	assert_int_equal(store_batch_cancel(f->w, &b.id, "stop", T0 + 2, &bc, &running, &nrunning), 0);
	free(running);
	assert_int_equal(store_commit(f->w), 0);
	check_counts(f, ids, n);

	/* Archiving takes the ended tasks out, in its own transaction. */
	int64_t archived = 0;
	assert_int_equal(store_archive_terminal(f->w, T0 - 1, 100, &archived), 0);
	assert_int_equal(archived, 1);
	check_counts(f, ids, n);
	int64_t got[TS__COUNT];
	assert_int_equal(store_status_counts(f->w, got), 0);
	assert_int_equal(got[TS_CANCELED], 4);
	assert_int_equal(got[TS_SUCCESS], 1);
}

static void test_archive(void **state)
{
	fixture *f = *state;
	weft_id batch;
	new_batch(f, &batch, NULL);
	task_row p = new_task("p", "k", TS_RUNNING, T0);              /* parent, still running */
	task_row old = new_task("old", "k", TS_RUNNING, T0 + 1);      /* finishes at T0 + 10 */
	task_row old2 = new_task("old2", "k", TS_FAILURE, T0 + 2);
	task_row young = new_task("young", "k", TS_SUCCESS, T0 + 3);
	task_row c = new_task("c", "k", TS_WAITING, T0 + 4);          /* child of old */
	old.batch_id = batch;
	old.metadata = (char *)"{\"m\":1}";
	old.group_name = (char *)"g";
	old.retry_policy = (char *)"{\"max_retries\":1}";
	old2.ended_at = T0 + 20;
	young.ended_at = T0 + 500;
	task_row *all[] = { &p, &old, &old2, &young, &c };
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		insert(f, all[i]);
	add_link(f, &p, &old, false);
	add_link(f, &old, &c, false);
	add_link(f, &p, &c, false);
	action_row act = { .trigger = TRIGGER_END, .condition = COND_SUCCESS, .params = (char *)"{}" };
	assert_int_equal(store_action_insert(f->w, &old.id, &act), 0);
	assert_int_equal(store_action_insert(f->w, &p.id, &act), 0);
	assert_int_equal(store_task_emit_insert(f->w, &old.id, "default", "old.ended", "end"), 0);
	assert_int_equal(store_task_emit_insert(f->w, &p.id, "default", "p.ended", "end"), 0);
	ledger_claim_result lr;
	assert_int_equal(store_ledger_claim(f->w, "old:start", &old.id, TRIGGER_START, COND_SUCCESS, T0, 0, &lr), 0);
	set_status(f, &old.id, TS_SUCCESS, &(task_update){ .ended_at = T0 + 10, .last_updated = T0 + 10 });
	outbox_row sent = delivery("old:end", DELIVERY_END_SUCCESS, &old, 1, T0);
	outbox_row unsent = delivery("old:end:2", DELIVERY_END_SUCCESS, &old, 1, T0 + 99999);
	assert_int_equal(store_outbox_insert(f->w, &sent), 0);
	assert_int_equal(store_outbox_insert(f->w, &unsent), 0);
	lease(f, T0 + 11, T0 + 20, 10, NULL, 0, (int64_t[]){ sent.id }, 1);
	assert_int_equal(store_outbox_finish(f->w, sent.id, true, 200, NULL, T0 + 12, 0), 0);

	/* Oldest first, up to the limit; the young and the unfinished stay. */
	int64_t archived;
	assert_int_equal(store_archive_terminal(f->w, T0 + 100, 1, &archived), 0);
	assert_int_equal(archived, 1);
	task_row g;
	assert_int_equal(store_task_get(f->w, &old.id, &g), 0);
	assert_true(g.archived);
	assert_int_equal(g.status, TS_SUCCESS);
	assert_string_equal(g.name, "old");
	assert_string_equal(g.batch_id.str, batch.str);
	assert_string_equal(g.metadata, "{\"m\":1}");
	assert_string_equal(g.group_name, "g");
	assert_string_equal(g.retry_policy, "{\"max_retries\":1}");
	assert_int_equal(g.ended_at, T0 + 10);
	task_row_release(&g);
	assert_int_equal(sql_intf(f, "SELECT count(*) FROM task WHERE id = '%s'", old.id.str), 0);
	assert_int_equal(sql_intf(f, "SELECT archived_at > 0 FROM task_archive WHERE id = '%s'", old.id.str), 1);
	assert_int_equal(sql_intf(f, "SELECT count(*) FROM action WHERE task_id = '%s'", old.id.str), 0);
	assert_int_equal(sql_intf(f, "SELECT count(*) FROM action WHERE task_id = '%s'", p.id.str), 1);
	assert_int_equal(sql_intf(f, "SELECT count(*) FROM link WHERE parent_id = '%s' OR child_id = '%s'",
	                          old.id.str, old.id.str), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM link"), 1);   /* p -> c */
	assert_int_equal(sql_intf(f, "SELECT count(*) FROM task_emit WHERE task_id = '%s'", old.id.str), 0);
	assert_int_equal(sql_intf(f, "SELECT count(*) FROM task_emit WHERE task_id = '%s'", p.id.str), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM webhook_execution"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox"), 1);
	assert_int_equal(sql_intf(f, "SELECT id FROM outbox"), unsent.id);
	action_row *acts;
	size_t n;
	assert_int_equal(store_task_actions(f->w, &old.id, &acts, &n), 0);
	assert_int_equal(n, 0);
	/* Its audit trail stays readable. */
	task_event *ev = events_of(f, &old.id, &n);
	assert_int_equal(n, 2);
	check_event(&ev[0], T0 + 1, -1, TS_RUNNING, "created", "api");
	check_event(&ev[1], T0 + 10, TS_RUNNING, TS_SUCCESS, NULL, "api");
	store_free_events(ev, n);
	/* Archived tasks are no longer live. */
	task_update u = { .set_status = true, .status = TS_FAILURE };
	assert_int_equal(update(f->w, &old.id, TS_ALL_MASK, &u, NULL), WEFT_ENOTFOUND);
	task_row *rows;
	assert_int_equal(store_task_list(f->w, NULL, 0, 100, &rows, &n), 0);
	assert_int_equal(n, 4);
	store_free_tasks(rows, n);

	store_conn *r = store_reader_acquire(f->st);
	assert_int_equal(store_task_get(r, &old.id, &g), 0);
	assert_true(g.archived);
	task_row_release(&g);
	assert_int_equal(store_task_events(r, &old.id, &ev, &n), 0);
	assert_int_equal(n, 2);
	store_free_events(ev, n);
	store_reader_release(f->st, r);

	assert_int_equal(store_archive_terminal(f->w, T0 + 100, 10, &archived), 0);
	assert_int_equal(archived, 1);   /* old2 */
	assert_int_equal(store_archive_terminal(f->w, T0 + 100, 10, &archived), 0);
	assert_int_equal(archived, 0);
	assert_int_equal(store_archive_terminal(f->w, T0 + 100000, 0, &archived), 0);
	assert_int_equal(archived, 0);
	/* Inside a transaction it is part of it. */
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_archive_terminal(f->w, T0 + 100000, 10, &archived), 0);
	assert_int_equal(archived, 1);   /* young */
	assert_int_equal(store_rollback(f->w), 0);
	g = get(f, &young.id);
	assert_false(g.archived);
	task_row_release(&g);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task_archive"), 2);
	weft_id unknown;
	id_new_v7(&unknown);
	assert_int_equal(store_task_events(f->w, &unknown, &ev, &n), WEFT_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_pending_scan),
		STORE_TEST_SQLITE(test_pending_scan_start_after),
		STORE_TEST_SQLITE(test_count_matching),
		STORE_TEST_SQLITE(test_capacity_sum),
		STORE_TEST_SQLITE(test_capacity_sum_saturates),
		STORE_TEST_SQLITE(test_deadlines),
		STORE_TEST_SQLITE(test_deadlines_retrying_and_delayed),
		STORE_TEST_SQLITE(test_task_list),
		STORE_TEST_SQLITE(test_group_tasks),
		STORE_TEST_SQLITE(test_status_counts_and_running_by_kind),
		STORE_TEST_SQLITE(test_archive),
		STORE_TEST_SQLITE(test_status_counts_follow_changes),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_pending_scan),
		STORE_TEST_PG(test_pending_scan_start_after),
		STORE_TEST_PG(test_count_matching),
		STORE_TEST_PG(test_capacity_sum),
		STORE_TEST_PG(test_capacity_sum_saturates),
		STORE_TEST_PG(test_deadlines),
		STORE_TEST_PG(test_deadlines_retrying_and_delayed),
		STORE_TEST_PG(test_task_list),
		STORE_TEST_PG(test_group_tasks),
		STORE_TEST_PG(test_status_counts_and_running_by_kind),
		STORE_TEST_PG(test_archive),
		STORE_TEST_PG(test_status_counts_follow_changes),
	};
	return run_store_tests("store_reads", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
}
