/*
 * test_v1_list.c — the /v1 list machinery: cursors (codec, refusal of
 * foreign or tampered ones), the GET /v1/tasks query, and the keyset scan
 * over a listing that changes between every read it makes: rows inserted
 * at the front (new tasks), rows inserted behind the cursor (another
 * node's slower clock), rows removed (archived). Every row present from
 * start to end of the paging is returned exactly once, and nothing twice.
 */
#include "util/common.h"
#include "http/v1/cursor.h"
#include "http/v1/task_list.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "core/error.h"
#include "http/wire.h"
#include "query_table.h"
#include "store/store.h"
#include "util/alloc.h"

/* ---- cursors ---------------------------------------------------------------------------- */

static void test_base64url(void **state)
{
	UNUSED(state);
	char out[64];
	unsigned char back[64];
	const char *samples[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\xfd" };
	for (size_t i = 0; i < ARRAY_LEN(samples); i++) {
		size_t len = strlen(samples[i]);
		v1_base64url_encode((const unsigned char *)samples[i], len, out);
		assert_null(strchr(out, '='));
		assert_null(strchr(out, '+'));
		assert_null(strchr(out, '/'));
		long n = v1_base64url_decode(out, back, sizeof back);
		assert_int_equal(n, (long)len);
		assert_memory_equal(back, samples[i], len);
	}
	v1_base64url_encode((const unsigned char *)"foobar", 6, out);
	assert_string_equal(out, "Zm9vYmFy");
	assert_int_equal(v1_base64url_decode("Zm9vY", back, sizeof back), -1);     /* 5 characters */
	assert_int_equal(v1_base64url_decode("Zm9v+mFy", back, sizeof back), -1);  /* not url-safe */
	assert_int_equal(v1_base64url_decode("Zm9vYmFy", back, 5), -1);            /* does not fit */
}

static void test_cursor_round_trip(void **state)
{
	UNUSED(state);
	v1_cursor c = { .at = 1796457000123456, .filters = 0x0123456789abcdefull, .position = 4200 };
	assert_int_equal(id_parse("0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11", &c.id), 0);
	char text[V1_CURSOR_MAX];
	v1_cursor_encode(&c, text);
	v1_cursor d;
	assert_int_equal(v1_cursor_decode(text, &d), 0);
	assert_int_equal(d.at, c.at);
	assert_string_equal(d.id.str, c.id.str);
	assert_true(d.filters == c.filters);
	assert_int_equal(d.position, 4200);

	/* Keyed by ordinal: no id. */
	v1_cursor e = { .at = 17, .filters = 1, .position = 17 };
	v1_cursor_encode(&e, text);
	assert_int_equal(v1_cursor_decode(text, &d), 0);
	assert_false(id_is_set(&d.id));
	assert_int_equal(d.at, 17);
}

static void check_refused(const char *plain)
{
	char text[V1_CURSOR_MAX * 2];
	v1_cursor d;
	v1_base64url_encode((const unsigned char *)plain, strlen(plain), text);
	if (v1_cursor_decode(text, &d) != -1)
		fail_msg("accepted %s", plain);
}

static void test_cursor_refused(void **state)
{
	UNUSED(state);
	v1_cursor d;
	assert_int_equal(v1_cursor_decode("", &d), -1);
	assert_int_equal(v1_cursor_decode("not a cursor!", &d), -1);
	check_refused("v2|1|0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11|0123456789abcdef|1");
	check_refused("v1|x|0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11|0123456789abcdef|1");
	check_refused("v1|1|0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c1|0123456789abcdef|1");
	check_refused("v1|1|0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11|0123456789abcde|1");
	check_refused("v1|1|0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11|0123456789abcdeF|1");
	check_refused("v1|1|0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11|0123456789abcdef|-1");
	check_refused("v1|1|0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11|0123456789abcdef");
	check_refused("v1|1|0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11|0123456789abcdef|1|9");
	check_refused("v1|99999999999999999999999|0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11|0123456789abcdef|1");
}

/* ---- times ------------------------------------------------------------------------------- */

static void check_ts_ms(int64_t us, const char *want)
{
	buf b;
	buf_init(&b);
	wire_ts_ms(&b, us);
	if (strcmp(b.data, want) != 0)
		fail_msg("%" PRId64 ": expected %s, got %s", us, want, b.data);
	buf_release(&b);
}

/* /v1 times always have their 3 fraction digits, truncated. */
static void test_times_in_ms(void **state)
{
	UNUSED(state);
	check_ts_ms(0, "null");
	check_ts_ms(1796457000000000, "\"2026-12-05T07:50:00.000Z\"");
	check_ts_ms(1796457000123000, "\"2026-12-05T07:50:00.123Z\"");
	check_ts_ms(1796457000123999, "\"2026-12-05T07:50:00.123Z\"");
	check_ts_ms(1796457000000999, "\"2026-12-05T07:50:00.000Z\"");
	check_ts_ms(-1, "\"1969-12-31T23:59:59.999Z\"");
}

/* ---- the query -------------------------------------------------------------------------- */

static int decode(const kv *table, v1_task_query *q, http_error *e)
{
	http_query_src src = { kv_get, (void *)table };
	http_error_release(e);
	return v1_task_query_decode(&src, q, e);
}

static void test_query(void **state)
{
	UNUSED(state);
	http_error e;
	http_error_init(&e);
	v1_task_query q;
	const kv none[] = { { NULL, NULL } };
	assert_int_equal(decode(none, &q, &e), 0);
	assert_int_equal(q.limit, V1_LIST_LIMIT_DEFAULT);
	assert_null(q.namespace);
	assert_false(q.has_cursor);
	uint64_t unfiltered = q.fingerprint;

	const kv all[] = { { "namespace", "billing" }, { "queue", "emails.send" }, { "status", "pending,running" },
		           { "executor", "queue" }, { "run_id", "0A8E6F0C-5C6B-4B8E-9E32-6F7A2D7E1C11" },
		           { "created_after", "2026-01-01T00:00:00Z" }, { "created_before", "2026-02-01T00:00:00.5Z" },
		           { "limit", "1000" }, { NULL, NULL } };
	assert_int_equal(decode(all, &q, &e), 0);
	assert_string_equal(q.namespace, "billing");
	assert_string_equal(q.queue, "emails.send");
	assert_int_equal(q.status_mask, TS_BIT(TS_PENDING) | TS_BIT(TS_RUNNING));
	assert_string_equal(q.executor, "queue");
	assert_true(q.has_run_id);
	assert_string_equal(q.run_id.str, "0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11");
	assert_int_equal(q.created_after, 1767225600000000);
	assert_int_equal(q.created_before, 1769904000500000);
	assert_int_equal(q.limit, 1000);
	assert_true(q.fingerprint != unfiltered);

	/* A cursor is taken with the filters it was made with, only. */
	v1_cursor c = { .at = 5, .filters = q.fingerprint, .position = 3 };
	id_parse("0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11", &c.id);
	char text[V1_CURSOR_MAX];
	v1_cursor_encode(&c, text);
	const kv same[] = { { "namespace", "billing" }, { "queue", "emails.send" }, { "status", "pending,running" },
		            { "executor", "queue" }, { "run_id", "0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11" },
		            { "created_after", "2026-01-01T00:00:00Z" }, { "created_before", "2026-02-01T00:00:00.5Z" },
		            { "limit", "7" }, { "cursor", text }, { NULL, NULL } };
	assert_int_equal(decode(same, &q, &e), 0);
	assert_true(q.has_cursor);
	assert_int_equal(q.cursor.position, 3);
	const kv other[] = { { "namespace", "billing" }, { "cursor", text }, { NULL, NULL } };
	assert_int_equal(decode(other, &q, &e), WEFT_EINVALID);
	assert_string_equal(e.param, "cursor");
	assert_non_null(strstr(e.message, "other filters"));

	struct {
		const char *k, *v;
	} bad[] = { { "limit", "0" }, { "limit", "1001" }, { "limit", "x" }, { "namespace", "Billing" },
		    { "namespace", "" }, { "queue", ".x" }, { "status", "done" }, { "status", "pending," },
		    { "executor", "Queue" }, { "run_id", "nope" }, { "created_after", "yesterday" },
		    { "created_before", "2026-13-01T00:00:00Z" }, { "cursor", "abc" } };
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		const kv one[] = { { bad[i].k, bad[i].v }, { NULL, NULL } };
		if (decode(one, &q, &e) != WEFT_EINVALID)
			fail_msg("%s=%s accepted", bad[i].k, bad[i].v);
		assert_string_equal(e.param, bad[i].k);
	}
	http_error_release(&e);
}

/* ---- the scan over a changing listing ----------------------------------------------------------- */

#define ROWS_MAX 4096

typedef struct row {
	int64_t at;
	weft_id id;
} row;

/* A listing, newest first, with a change made before every read. */
typedef struct listing {
	row rows[ROWS_MAX];
	size_t n;
	unsigned seed;
	int64_t next_at;                 /* the time of the next row inserted at the front */
	size_t reads;
	void (*change)(struct listing *l);
	bool removed[ROWS_MAX + 1];      /* by serial (the id's last digits) */
	size_t serial;
} listing;

static unsigned rnd(listing *l)
{
	l->seed = l->seed * 1103515245u + 12345u;
	return (l->seed >> 16) & 0x7fff;
}

static int row_cmp_desc(const void *a, const void *b)
{
	const row *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? 1 : -1;
	return -strcmp(x->id.str, y->id.str);
}

static void add(listing *l, int64_t at)
{
	assert_true(l->n < ROWS_MAX);
	row *r = &l->rows[l->n++];
	r->at = at;
	snprintf(r->id.str, sizeof r->id.str, "00000000-0000-4000-8000-%012zu", l->serial++);
	qsort(l->rows, l->n, sizeof(row), row_cmp_desc);
}

static size_t serial_of(const weft_id *id)
{
	return (size_t)strtoull(id->str + 24, NULL, 10);
}

static void remove_at(listing *l, size_t i)
{
	l->removed[serial_of(&l->rows[i].id)] = true;
	memmove(&l->rows[i], &l->rows[i + 1], (l->n - i - 1) * sizeof(row));
	l->n--;
}

static int read_rows(void *ctx, int64_t offset, int64_t limit, task_row **out, size_t *n)
{
	listing *l = ctx;
	l->reads++;
	if (l->change != NULL)
		l->change(l);
	*n = 0;
	*out = NULL;
	if (offset >= (int64_t)l->n)
		return 0;
	size_t k = MIN((size_t)limit, l->n - (size_t)offset);
	*out = xcalloc(k, sizeof(task_row));
	for (size_t i = 0; i < k; i++) {
		(*out)[i].created_at = l->rows[offset + (int64_t)i].at;
		(*out)[i].id = l->rows[offset + (int64_t)i].id;
	}
	*n = k;
	return 0;
}

/* Many rows share a time, as the tasks of one batch do. */
static void fill(listing *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		add(l, 1000000 + (int64_t)(i / 7) * 1000);
	l->next_at = 1000000 + (int64_t)(n / 7 + 1) * 1000;
}

static void churn(listing *l)
{
	for (unsigned k = rnd(l) % 40; k > 0; k--) {      /* new tasks */
		add(l, l->next_at);
		if (rnd(l) % 3 == 0)
			l->next_at += 1000;
	}
	for (unsigned k = rnd(l) % 5; k > 0; k--)         /* another node's clock, behind */
		add(l, 1000000 + (int64_t)(rnd(l) % 300) * 1000);
	for (unsigned k = rnd(l) % 30; k > 0 && l->n > 0; k--)   /* archived */
		remove_at(l, rnd(l) % l->n);
}

static v1_verdict keep_all(void *ctx, const task_row *t)
{
	UNUSED(ctx);
	UNUSED(t);
	return V1_TAKE;
}

/* Rows whose serial is even. */
static v1_verdict keep_even(void *ctx, const task_row *t)
{
	UNUSED(ctx);
	return serial_of(&t->id) % 2 == 0 ? V1_TAKE : V1_PASS;
}

/* Pages through the listing; counts how often each serial was given. */
static size_t page_all(listing *l, v1_keep_fn keep, size_t limit, unsigned *seen, size_t *pages)
{
	v1_cursor cur;
	bool has = false;
	size_t total = 0;
	*pages = 0;
	for (;;) {
		v1_page p;
		assert_int_equal(v1_scan(read_rows, l, keep, NULL, has ? &cur : NULL, 42, limit, &p), 0);
		assert_true(p.n <= limit);
		for (size_t i = 0; i < p.n; i++) {
			seen[serial_of(&p.rows[i].id)]++;
			/* Each page is in key order. */
			if (i > 0)
				assert_true(p.rows[i - 1].created_at > p.rows[i].created_at ||
				            (p.rows[i - 1].created_at == p.rows[i].created_at &&
				             strcmp(p.rows[i - 1].id.str, p.rows[i].id.str) > 0));
		}
		total += p.n;
		(*pages)++;
		bool more = p.more;
		if (more) {
			assert_int_equal(p.next.filters, 42);
			/* Through the wire form. */
			char text[V1_CURSOR_MAX];
			v1_cursor_encode(&p.next, text);
			assert_int_equal(v1_cursor_decode(text, &cur), 0);
			has = true;
		}
		v1_page_release(&p);
		if (!more)
			break;
		assert_true(*pages < 10000);
	}
	return total;
}

static void test_scan_static(void **state)
{
	UNUSED(state);
	static listing l;
	static unsigned seen[ROWS_MAX + 1];
	memset(&l, 0, sizeof l);
	memset(seen, 0, sizeof seen);
	fill(&l, 1000);
	size_t pages;
	assert_int_equal(page_all(&l, keep_all, 100, seen, &pages), 1000);
	assert_true(pages == 10 || pages == 11);
	for (size_t s = 0; s < 1000; s++)
		assert_int_equal(seen[s], 1);
	/* An exact multiple ends without an empty page only when the listing's
	 * end is seen; at most one more page, which is empty. */
	memset(seen, 0, sizeof seen);
	assert_int_equal(page_all(&l, keep_all, 1000, seen, &pages), 1000);
	assert_true(pages <= 2);
}

static void test_scan_under_churn(void **state)
{
	UNUSED(state);
	static listing l;
	static unsigned seen[ROWS_MAX + 1];
	for (unsigned seed = 1; seed <= 20; seed++) {
		memset(&l, 0, sizeof l);
		memset(seen, 0, sizeof seen);
		fill(&l, 600);
		size_t initial = l.serial;
		l.seed = seed;
		l.change = churn;
		size_t limit = 1 + seed * 7 % 60, pages;
		page_all(&l, seed % 2 ? keep_all : keep_even, limit, seen, &pages);
		for (size_t s = 0; s < l.serial; s++) {
			if (seen[s] > 1)
				fail_msg("seed %u: row %zu given %u times", seed, s, seen[s]);
			bool wanted = seed % 2 || s % 2 == 0;
			/* Present throughout: there at the start, never removed. */
			if (s < initial && !l.removed[s] && wanted && seen[s] != 1)
				fail_msg("seed %u: row %zu skipped", seed, s);
			if (!wanted && seen[s] != 0)
				fail_msg("seed %u: row %zu does not match the filter", seed, s);
		}
	}
}

/* A filter matching little makes short pages, which still go on. */
static v1_verdict keep_rare(void *ctx, const task_row *t)
{
	UNUSED(ctx);
	return serial_of(&t->id) % 97 == 0 ? V1_TAKE : V1_PASS;
}

static v1_verdict keep_until(void *ctx, const task_row *t)
{
	int64_t after = *(const int64_t *)ctx;
	return t->created_at >= after ? V1_TAKE : V1_END;
}

static void test_scan_short_pages_and_end(void **state)
{
	UNUSED(state);
	static listing l;
	static unsigned seen[ROWS_MAX + 1];
	memset(&l, 0, sizeof l);
	memset(seen, 0, sizeof seen);
	fill(&l, 3000);
	size_t pages;
	assert_int_equal(page_all(&l, keep_rare, 5, seen, &pages), 31);   /* 0, 97, ..., 2910 */
	assert_true(pages > 1);

	/* V1_END stops the list at once. */
	int64_t after = l.rows[99].at;
	v1_page p;
	assert_int_equal(v1_scan(read_rows, &l, keep_until, &after, NULL, 1, 1000, &p), 0);
	assert_false(p.more);
	assert_true(p.n >= 100 && p.n < 107);
	v1_page_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64url),
		cmocka_unit_test(test_cursor_round_trip),
		cmocka_unit_test(test_cursor_refused),
		cmocka_unit_test(test_times_in_ms),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_scan_static),
		cmocka_unit_test(test_scan_under_churn),
		cmocka_unit_test(test_scan_short_pages_and_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
