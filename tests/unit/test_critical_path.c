/*
 * test_critical_path.c — longest paths of a batch's DAG by task count and
 * by duration (src/engine/critical_path.c).
 */
#include "util/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "engine/critical_path.h"
#include "util/alloc.h"

#define SEC 1000000LL
#define NOW (1773482400LL * SEC)
#define T0 (NOW - 3600 * SEC)

/* A graph under construction: tasks named by a letter index. */
typedef struct graph {
	task_row tasks[64];
	size_t n;
	link_row links[128];
	size_t nlinks;
	critical_path cp;
} graph;

static void set_id(weft_id *id, unsigned k)
{
	snprintf(id->str, sizeof(id->str), "00000000-0000-7000-8000-%012u", k);
}

/* Adds task k created at T0 + created seconds, which ran `secs` seconds
 * (ended), or is running since `secs` seconds (running), or never started
 * (secs < 0). Returns its index. */
static size_t add(graph *g, unsigned k, int64_t created, int64_t secs, task_status st)
{
	task_row *t = &g->tasks[g->n];
	memset(t, 0, sizeof(*t));
	set_id(&t->id, k);
	t->created_at = T0 + created * SEC;
	t->status = st;
	if (secs >= 0) {
		if (st == TS_RUNNING || st == TS_CLAIMED) {
			t->started_at = NOW - secs * SEC;
		} else {
			t->started_at = t->created_at + SEC;
			t->ended_at = t->started_at + secs * SEC;
		}
	}
	return g->n++;
}

static size_t done(graph *g, unsigned k, int64_t created, int64_t secs)
{
	return add(g, k, created, secs, TS_SUCCESS);
}

static void link_ids(graph *g, unsigned parent, unsigned child)
{
	link_row *l = &g->links[g->nlinks++];
	set_id(&l->parent_id, parent);
	set_id(&l->child_id, child);
	l->requires_success = true;
}

static void compute(graph *g)
{
	assert_int_equal(critical_path_compute(g->tasks, g->n, g->links, g->nlinks, NOW, &g->cp), 0);
}

/* Asserts that a path is exactly the tasks with these keys, in order. */
static void assert_path(const graph *g, const size_t *path, size_t n, const unsigned *keys, size_t nkeys)
{
	bool ok = n == nkeys;
	for (size_t i = 0; ok && i < n; i++) {
		weft_id want;
		set_id(&want, keys[i]);
		ok = strcmp(g->tasks[path[i]].id.str, want.str) == 0;
	}
	if (!ok) {
		print_message("path:");
		for (size_t i = 0; i < n; i++)
			print_message(" %s", g->tasks[path[i]].id.str + 24);
		print_message("\nwant:");
		for (size_t i = 0; i < nkeys; i++)
			print_message(" %012u", keys[i]);
		print_message("\n");
	}
	assert_true(ok);
}

#define DEPTH(g, ...)                                                                    \
	do {                                                                                 \
		const unsigned k_[] = { __VA_ARGS__ };                                           \
		assert_path((g), (g)->cp.by_depth, (g)->cp.ndepth, k_, ARRAY_LEN(k_));          \
	} while (0)
#define DURATION(g, ...)                                                                 \
	do {                                                                                 \
		const unsigned k_[] = { __VA_ARGS__ };                                           \
		assert_path((g), (g)->cp.by_duration, (g)->cp.nduration, k_, ARRAY_LEN(k_));    \
	} while (0)

static graph *new_graph(void)
{
	return xcalloc(1, sizeof(graph));
}

static void free_graph(graph *g)
{
	critical_path_release(&g->cp);
	free(g);
}

static void test_empty(void **state)
{
	UNUSED(state);
	critical_path cp;
	assert_int_equal(critical_path_compute(NULL, 0, NULL, 0, NOW, &cp), 0);
	assert_int_equal(cp.ndepth, 0);
	assert_int_equal(cp.nduration, 0);
	assert_int_equal(cp.duration_us, 0);
	critical_path_release(&cp);
}

static void test_single_task(void **state)
{
	UNUSED(state);
	graph *g = new_graph();
	done(g, 1, 0, 7);
	compute(g);
	DEPTH(g, 1);
	DURATION(g, 1);
	assert_int_equal(g->cp.duration_us, 7 * SEC);
	free_graph(g);

	g = new_graph();
	add(g, 1, 0, -1, TS_PENDING);
	compute(g);
	DEPTH(g, 1);
	DURATION(g, 1);
	assert_int_equal(g->cp.duration_us, 0);
	free_graph(g);
}

static void test_chain(void **state)
{
	UNUSED(state);
	graph *g = new_graph();
	done(g, 1, 0, 1);
	done(g, 2, 1, 2);
	done(g, 3, 2, 3);
	link_ids(g, 1, 2);
	link_ids(g, 2, 3);
	compute(g);
	DEPTH(g, 1, 2, 3);
	DURATION(g, 1, 2, 3);
	assert_int_equal(g->cp.duration_us, 6 * SEC);
	free_graph(g);
}

static void test_diamond(void **state)
{
	UNUSED(state);
	/* 1 -> {2, 3} -> 4; 2 is long. */
	graph *g = new_graph();
	done(g, 1, 0, 1);
	done(g, 2, 1, 10);
	done(g, 3, 2, 1);
	done(g, 4, 3, 1);
	link_ids(g, 1, 2);
	link_ids(g, 1, 3);
	link_ids(g, 2, 4);
	link_ids(g, 3, 4);
	compute(g);
	DEPTH(g, 1, 2, 4);
	DURATION(g, 1, 2, 4);
	assert_int_equal(g->cp.duration_us, 12 * SEC);
	free_graph(g);

	/* Same shape, 3 is long: depth ties go to the branch created first. */
	g = new_graph();
	done(g, 1, 0, 1);
	done(g, 2, 1, 1);
	done(g, 3, 2, 10);
	done(g, 4, 3, 1);
	link_ids(g, 1, 2);
	link_ids(g, 1, 3);
	link_ids(g, 2, 4);
	link_ids(g, 3, 4);
	compute(g);
	DEPTH(g, 1, 2, 4);
	DURATION(g, 1, 3, 4);
	assert_int_equal(g->cp.duration_us, 12 * SEC);
	free_graph(g);
}

static void test_fan_in_different_durations(void **state)
{
	UNUSED(state);
	/* Three roots into one sink. */
	graph *g = new_graph();
	done(g, 1, 0, 5);
	done(g, 2, 1, 1);
	done(g, 3, 2, 20);
	done(g, 4, 3, 2);
	link_ids(g, 1, 4);
	link_ids(g, 2, 4);
	link_ids(g, 3, 4);
	compute(g);
	DEPTH(g, 1, 4);             /* all of length 2: the root created first */
	DURATION(g, 3, 4);
	assert_int_equal(g->cp.duration_us, 22 * SEC);
	free_graph(g);
}

static void test_depth_and_duration_differ(void **state)
{
	UNUSED(state);
	graph *g = new_graph();
	for (unsigned k = 1; k <= 4; k++)
		done(g, k, k, 1);
	done(g, 10, 10, 100);
	done(g, 11, 11, 100);
	link_ids(g, 1, 2);
	link_ids(g, 2, 3);
	link_ids(g, 3, 4);
	link_ids(g, 10, 11);
	compute(g);
	DEPTH(g, 1, 2, 3, 4);
	DURATION(g, 10, 11);
	assert_int_equal(g->cp.duration_us, 200 * SEC);
	free_graph(g);
}

static void test_running_and_unstarted(void **state)
{
	UNUSED(state);
	/* 1 (ended, 3 s) -> 2 (running for 10 s) -> 3 (waiting, never started);
	 * 4 (ended, 12 s) alone. */
	graph *g = new_graph();
	done(g, 1, 0, 3);
	add(g, 2, 1, 10, TS_RUNNING);
	add(g, 3, 2, -1, TS_WAITING);
	done(g, 4, 3, 12);
	link_ids(g, 1, 2);
	link_ids(g, 2, 3);
	compute(g);
	DEPTH(g, 1, 2, 3);
	/* 13 s against 12 s; the unstarted child adds nothing but keeps the path going. */
	DURATION(g, 1, 2, 3);
	assert_int_equal(g->cp.duration_us, 13 * SEC);
	free_graph(g);

	/* Claimed with a started_at counts like running; a paused task
	 * that never ended counts 0. */
	g = new_graph();
	add(g, 1, 0, 30, TS_CLAIMED);
	task_row *p = &g->tasks[add(g, 2, 1, -1, TS_PAUSED)];
	p->started_at = NOW - 100 * SEC;
	compute(g);
	DURATION(g, 1);
	assert_int_equal(g->cp.duration_us, 30 * SEC);
	assert_int_equal(critical_path_task_duration(p, NOW), 0);
	free_graph(g);
}

static void test_ties(void **state)
{
	UNUSED(state);
	/* Two chains of equal length and duration: the root created first. */
	graph *g = new_graph();
	done(g, 5, 1, 2);
	done(g, 6, 2, 2);
	done(g, 7, 0, 2);
	done(g, 8, 3, 2);
	link_ids(g, 5, 6);
	link_ids(g, 7, 8);
	compute(g);
	DEPTH(g, 7, 8);
	DURATION(g, 7, 8);
	free_graph(g);

	/* Same creation time: the lower id. */
	g = new_graph();
	done(g, 9, 0, 2);
	done(g, 6, 0, 2);
	done(g, 8, 1, 2);
	done(g, 3, 1, 2);
	link_ids(g, 9, 8);
	link_ids(g, 6, 3);
	compute(g);
	DEPTH(g, 6, 3);
	DURATION(g, 6, 3);
	free_graph(g);

	/* Equal durations, different lengths: by_duration takes the longer. */
	g = new_graph();
	done(g, 1, 0, 4);
	done(g, 2, 1, 2);
	done(g, 3, 2, 2);
	link_ids(g, 2, 3);
	compute(g);
	DEPTH(g, 2, 3);
	DURATION(g, 2, 3);
	assert_int_equal(g->cp.duration_us, 4 * SEC);
	free_graph(g);

	/* The result does not depend on the order of tasks and links. */
	g = new_graph();
	done(g, 4, 3, 1);
	done(g, 3, 2, 1);
	done(g, 2, 1, 1);
	done(g, 1, 0, 1);
	link_ids(g, 3, 4);
	link_ids(g, 2, 4);
	link_ids(g, 1, 3);
	link_ids(g, 1, 2);
	compute(g);
	DEPTH(g, 1, 2, 4);
	DURATION(g, 1, 2, 4);
	free_graph(g);
}

static void test_ignores_bad_links(void **state)
{
	UNUSED(state);
	graph *g = new_graph();
	done(g, 1, 0, 1);
	done(g, 2, 1, 1);
	link_ids(g, 1, 2);
	link_ids(g, 1, 99);    /* unknown child */
	link_ids(g, 98, 2);    /* unknown parent */
	link_ids(g, 2, 2);     /* self */
	link_ids(g, 1, 2);     /* duplicate */
	compute(g);
	DEPTH(g, 1, 2);
	DURATION(g, 1, 2);
	free_graph(g);

	/* A cycle (not possible through the API) leaves its tasks out. */
	g = new_graph();
	done(g, 1, 0, 1);
	done(g, 2, 1, 50);
	done(g, 3, 2, 50);
	link_ids(g, 2, 3);
	link_ids(g, 3, 2);
	compute(g);
	DEPTH(g, 1);
	DURATION(g, 1);
	free_graph(g);
}

/* A long chain beside a wide fan: one pass, no recursion. */
static void test_large(void **state)
{
	UNUSED(state);
	const size_t n = 100000;
	task_row *tasks = xcalloc(n, sizeof(task_row));
	link_row *links = xcalloc(2 * n, sizeof(link_row));
	size_t nlinks = 0;
	for (size_t i = 0; i < n; i++) {
		set_id(&tasks[i].id, (unsigned)i);
		tasks[i].created_at = T0 + (int64_t)i;
		tasks[i].status = TS_SUCCESS;
		tasks[i].started_at = tasks[i].created_at;
		tasks[i].ended_at = tasks[i].started_at + SEC;
	}
	/* 0 -> 1 -> ... -> n/2 - 1 (a chain); n/2 -> every task after it (a fan). */
	for (size_t i = 0; i + 1 < n / 2; i++) {
		set_id(&links[nlinks].parent_id, (unsigned)i);
		set_id(&links[nlinks++].child_id, (unsigned)(i + 1));
	}
	for (size_t i = n / 2 + 1; i < n; i++) {
		set_id(&links[nlinks].parent_id, (unsigned)(n / 2));
		set_id(&links[nlinks++].child_id, (unsigned)i);
	}
	critical_path cp;
	assert_int_equal(critical_path_compute(tasks, n, links, nlinks, NOW, &cp), 0);
	assert_int_equal(cp.ndepth, n / 2);
	assert_int_equal(cp.by_depth[0], 0);
	assert_int_equal(cp.by_depth[n / 2 - 1], n / 2 - 1);
	assert_int_equal(cp.nduration, n / 2);
	assert_int_equal(cp.duration_us, (int64_t)(n / 2) * SEC);
	critical_path_release(&cp);
	free(tasks);
	free(links);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_single_task),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_diamond),
		cmocka_unit_test(test_fan_in_different_durations),
		cmocka_unit_test(test_depth_and_duration_differ),
		cmocka_unit_test(test_running_and_unstarted),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_ignores_bad_links),
		cmocka_unit_test(test_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
