/*
 * The deadline heap on its own: earliest first, one entry per (kind,
 * object) keeping the earlier due time, removal by key, and an array that
 * shrinks again. A random sequence of operations is checked against a
 * plain array.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "engine/deadline.h"
#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

static const deadline_kind kind_a = { .name = "a" };
static const deadline_kind kind_b = { .name = "b" };

static weft_id id_of(int n)
{
	weft_id id = { 0 };
	snprintf(id.str, sizeof(id.str), "00000000-0000-4000-8000-%012d", n);
	return id;
}

static void push(deadline_heap *h, int64_t due, const deadline_kind *k, int n)
{
	deadline d = { .due = due, .kind = k, .object = id_of(n) };
	deadline_heap_push(h, &d);
}

static void test_order_and_merge(void **state)
{
	UNUSED(state);
	deadline_heap h = { 0 };
	assert_int_equal(deadline_heap_next(&h), INT64_MAX);
	push(&h, 30, &kind_a, 1);
	push(&h, 10, &kind_a, 2);
	push(&h, 20, &kind_b, 1);       /* another kind: its own entry */
	push(&h, 50, &kind_a, 1);       /* later: the earlier due stands */
	push(&h, 5, &kind_a, 2);        /* earlier: replaces */
	assert_int_equal(h.len, 3);
	assert_int_equal(deadline_heap_next(&h), 5);
	deadline d;
	assert_false(deadline_heap_pop_due(&h, 4, &d));
	assert_true(deadline_heap_pop_due(&h, 100, &d));
	assert_int_equal(d.due, 5);
	assert_true(d.kind == &kind_a);
	weft_id two = id_of(2);
	assert_true(id_eq(&d.object, &two));
	assert_true(deadline_heap_pop_due(&h, 100, &d));
	assert_int_equal(d.due, 20);
	assert_true(deadline_heap_pop_due(&h, 100, &d));
	assert_int_equal(d.due, 30);
	assert_false(deadline_heap_pop_due(&h, 100, &d));
	deadline_heap_release(&h);
}

static void test_no_object_is_one_key(void **state)
{
	UNUSED(state);
	deadline_heap h = { 0 };
	deadline d = { .due = 9, .kind = &kind_a };
	deadline_heap_push(&h, &d);
	d.due = 3;
	deadline_heap_push(&h, &d);
	assert_int_equal(h.len, 1);
	assert_true(deadline_heap_has(&h, &kind_a, NULL));
	assert_true(deadline_heap_remove(&h, &kind_a, NULL));
	assert_false(deadline_heap_remove(&h, &kind_a, NULL));
	assert_int_equal(h.len, 0);
	deadline_heap_release(&h);
}

static void test_remove_and_shrink(void **state)
{
	UNUSED(state);
	deadline_heap h = { 0 };
	enum { N = 20000 };
	for (int i = 0; i < N; i++)
		push(&h, (int64_t)((i * 7919) % N), i % 2 ? &kind_a : &kind_b, i);
	assert_int_equal(h.len, N);
	size_t grown = h.cap;
	for (int i = 0; i < N; i++) {
		weft_id id = id_of(i);
		assert_true(deadline_heap_has(&h, i % 2 ? &kind_a : &kind_b, &id));
		assert_false(deadline_heap_has(&h, i % 2 ? &kind_b : &kind_a, &id));
		assert_true(deadline_heap_remove(&h, i % 2 ? &kind_a : &kind_b, &id));
	}
	assert_int_equal(h.len, 0);
	assert_true(h.cap < grown);
	assert_true(h.cap <= 128);
	deadline_heap_release(&h);
}

/* Random pushes, removals and pops against a plain array of live keys. */
static void test_random_against_reference(void **state)
{
	UNUSED(state);
	enum { KEYS = 500, OPS = 200000 };
	int64_t ref[2][KEYS];            /* due per (kind, object); -1 = none */
	memset(ref, 0xff, sizeof(ref));
	const deadline_kind *kinds[2] = { &kind_a, &kind_b };
	deadline_heap h = { 0 };
	uint64_t x = 88172645463325252ULL;
	size_t live = 0;
	int64_t now = 0;
	for (int op = 0; op < OPS; op++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int k = (int)(x % 2), n = (int)((x >> 8) % KEYS);
		weft_id id = id_of(n);
		switch ((x >> 20) % 4) {
		case 0:
		case 1: {
			int64_t due = now + (int64_t)((x >> 32) % 1000);
			push(&h, due, kinds[k], n);
			if (ref[k][n] < 0) {
				ref[k][n] = due;
				live++;
			} else {
				ref[k][n] = MIN(ref[k][n], due);
			}
			break;
		}
		case 2:
			assert_int_equal(deadline_heap_remove(&h, kinds[k], &id), ref[k][n] >= 0);
			if (ref[k][n] >= 0)
				live--;
			ref[k][n] = -1;
			break;
		default: {
			now += 10;
			deadline d;
			int64_t last = INT64_MIN;
			while (deadline_heap_pop_due(&h, now, &d)) {
				assert_true(d.due <= now && d.due >= last);
				last = d.due;
				int dk = d.kind == &kind_a ? 0 : 1, dn = atoi(d.object.str + 24);
				assert_int_equal(ref[dk][dn], d.due);
				ref[dk][dn] = -1;
				live--;
			}
			break;
		}
		}
		assert_int_equal(h.len, live);
	}
	int64_t earliest = INT64_MAX;
	for (int k = 0; k < 2; k++)
		for (int n = 0; n < KEYS; n++)
			if (ref[k][n] >= 0)
				earliest = MIN(earliest, ref[k][n]);
	assert_int_equal(deadline_heap_next(&h), earliest);
	deadline_heap_release(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_merge),
		cmocka_unit_test(test_no_object_is_one_key),
		cmocka_unit_test(test_remove_and_shrink),
		cmocka_unit_test(test_random_against_reference),
	};
	return cmocka_run_group_tests_name("deadline_heap", tests, NULL, NULL);
}
