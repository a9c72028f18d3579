/*
 * test_store_templates.c — templates and template runs in the store, on
 * SQLite and PostgreSQL: a version is stored once per namespace (a second
 * insert writes nothing and the first body stays); versions page newest
 * first by (created_at, id), by name when asked, without repeating or
 * skipping a row between pages; a run's identity is held by one run per
 * version and namespace, a run without one never conflicts, and a run is
 * found by its identity and by its id.
 */
#include "util/common.h"

#include "store/templates.h"
#include "store_test.h"

#define T0 1700000000000000LL

static bool put(fixture *f, const char *ns, const char *name, const char *version, const char *body, int64_t at)
{
	template_row t = { .namespace = (char *)ns, .name = (char *)name, .version = (char *)version,
		           .body = (char *)body, .body_hash = (char *)"h", .steps = 1, .created_at = at };
	id_new_v7(&t.id);
	bool created = false;
	assert_int_equal(store_template_insert(f->w, &t, &created), 0);
	return created;
}

static void test_versions_once_and_pages(void **state)
{
	fixture *f = *state;
	assert_true(put(f, "ns", "flow", "1", "{\"a\":1}", T0));
	assert_false(put(f, "ns", "flow", "1", "{\"a\":2}", T0 + 1));
	assert_true(put(f, "other", "flow", "1", "{\"a\":3}", T0 + 1));
	template_row t;
	assert_int_equal(store_template_get(f->w, "ns", "flow", "1", &t), 0);
	assert_string_equal(t.body, "{\"a\":1}");
	assert_null(t.description);
	assert_int_equal(t.created_at, T0);
	template_row_release(&t);
	assert_int_equal(store_template_get(f->w, "ns", "flow", "2", &t), WEFT_ENOTFOUND);

	/* Two rows share a created_at: the id orders them. */
	assert_true(put(f, "ns", "flow", "2", "{}", T0 + 10));
	assert_true(put(f, "ns", "flow", "3", "{}", T0 + 10));
	assert_true(put(f, "ns", "other", "1", "{}", T0 + 20));
	const char *want[] = { "other@1", "flow@3", "flow@2", "flow@1" };
	size_t seen = 0;
	int64_t at = 0;
	weft_id after;
	bool has_after = false;
	for (int page = 0; page < 4; page++) {
		template_row *rows = NULL;
		size_t n = 0;
		assert_int_equal(store_template_list(f->w, "ns", NULL, at, has_after ? &after : NULL, 2, &rows, &n), 0);
		for (size_t i = 0; i < n; i++) {
			char got[64];
			snprintf(got, sizeof got, "%s@%s", rows[i].name, rows[i].version);
			assert_true(seen < ARRAY_LEN(want));
			assert_string_equal(got, want[seen++]);
		}
		if (n > 0) {
			at = rows[n - 1].created_at;
			after = rows[n - 1].id;
			has_after = true;
		}
		store_free_templates(rows, n);
		if (n < 2)
			break;
	}
	assert_int_equal(seen, ARRAY_LEN(want));

	template_row *rows = NULL;
	size_t n = 0;
	assert_int_equal(store_template_list(f->w, "ns", "flow", 0, NULL, 10, &rows, &n), 0);
	assert_int_equal(n, 3);
	store_free_templates(rows, n);
}

static bool run(fixture *f, weft_id *id, const char *version, const char *identity)
{
	id_new_v7(id);
	template_run_row r = { .run_id = *id, .namespace = (char *)"ns", .template_name = (char *)"flow",
		               .template_version = (char *)version, .identity = (char *)identity,
		               .context = (char *)"{\"k\":1}", .created_at = T0 };
	bool created = false;
	assert_int_equal(store_template_run_insert(f->w, &r, &created), 0);
	return created;
}

static void test_run_identity(void **state)
{
	fixture *f = *state;
	weft_id a, b, c, d;
	assert_true(run(f, &a, "1", "ctx:abc"));
	assert_false(run(f, &b, "1", "ctx:abc"));
	/* Another version, or no identity: separate runs. */
	assert_true(run(f, &c, "2", "ctx:abc"));
	assert_true(run(f, &d, "1", NULL));
	assert_true(run(f, &d, "1", NULL));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM template_run"), 4);

	template_run_row r;
	assert_int_equal(store_template_run_by_identity(f->w, "ns", "flow", "1", "ctx:abc", &r), 0);
	assert_true(id_eq(&r.run_id, &a));
	assert_string_equal(r.context, "{\"k\":1}");
	template_run_row_release(&r);
	assert_int_equal(store_template_run_by_identity(f->w, "ns", "flow", "1", "key:x", &r), WEFT_ENOTFOUND);
	assert_int_equal(store_template_run_get(f->w, &c, &r), 0);
	assert_string_equal(r.template_version, "2");
	assert_string_equal(r.identity, "ctx:abc");
	template_run_row_release(&r);
	assert_int_equal(store_template_run_get(f->w, &d, &r), 0);
	assert_null(r.identity);
	template_run_row_release(&r);
	assert_int_equal(store_template_run_get(f->w, &b, &r), WEFT_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_versions_once_and_pages),
		STORE_TEST_SQLITE(test_run_identity),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_versions_once_and_pages),
		STORE_TEST_PG(test_run_identity),
	};
	return run_store_tests("store templates", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
}
