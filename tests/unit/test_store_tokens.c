/*
 * test_store_tokens.c — bearer tokens made over the API, in the store, on
 * SQLite and PostgreSQL: a name or digest taken refuses the insert and
 * writes nothing; look-ups by name and by digest; the list by name; a
 * revocation keeps the row (and the first revocation's time and actor);
 * the last use moves forward only;
 * every change in the trail.
 */
#include "util/common.h"

#include "store_test.h"
#include "store/tokens.h"

#define T0 1700000000000000LL
#define DIGEST(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
                  c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static bool insert_token(fixture *f, const char *name, const char *digest, const char *ns, bool admin,
                         int64_t expires_at)
{
	api_token_new t = { .name = name, .digest = digest, .namespaces = ns, .admin = admin, .created_at = T0,
	                    .created_by = "token:root", .expires_at = expires_at };
	bool created = true;
	assert_int_equal(store_api_token_insert(f->w, &t, &created), 0);
	return created;
}

static void test_insert_and_look_up(void **state)
{
	fixture *f = *state;
	assert_true(insert_token(f, "zeta", DIGEST("a"), "*", true, 0));
	assert_true(insert_token(f, "alpha", DIGEST("b"), "billing,shared", false, T0 + 60000000));
	/* A taken name, or a taken digest: nothing written. */
	assert_false(insert_token(f, "alpha", DIGEST("c"), "x", false, 0));
	assert_false(insert_token(f, "beta", DIGEST("a"), "x", false, 0));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM api_token"), 2);

	api_token_row t;
	assert_int_equal(store_api_token_by_digest(f->w, DIGEST("b"), &t), 0);
	assert_string_equal(t.name, "alpha");
	assert_string_equal(t.namespaces, "billing,shared");
	assert_false(t.admin);
	assert_int_equal(t.created_at, T0);
	assert_string_equal(t.created_by, "token:root");
	assert_int_equal(t.expires_at, T0 + 60000000);
	assert_int_equal(t.revoked_at, 0);
	assert_null(t.revoked_by);
	assert_int_equal(t.last_used_at, 0);
	api_token_row_release(&t);
	assert_int_equal(store_api_token_by_digest(f->w, DIGEST("c"), &t), WEFT_ENOTFOUND);
	assert_int_equal(store_api_token_get(f->w, "zeta", &t), 0);
	assert_true(t.admin);
	assert_int_equal(t.expires_at, 0);
	api_token_row_release(&t);
	assert_int_equal(store_api_token_get(f->w, "nobody", &t), WEFT_ENOTFOUND);

	api_token_row *rows;
	size_t n;
	assert_int_equal(store_api_token_list(f->w, 10, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].name, "alpha");
	assert_string_equal(rows[1].name, "zeta");
	store_free_api_tokens(rows, n);
	assert_int_equal(store_api_token_list(f->w, 1, &rows, &n), 0);
	assert_int_equal(n, 1);
	store_free_api_tokens(rows, n);
}

static void test_revocation_keeps_the_row(void **state)
{
	fixture *f = *state;
	assert_true(insert_token(f, "ci", DIGEST("d"), "a", false, 0));
	bool found = false;
	assert_int_equal(store_api_token_revoke(f->w, "ci", T0 + 5, "token:ops", &found), 0);
	assert_true(found);
	/* Again, later, by someone else: the first revocation stands. */
	assert_int_equal(store_api_token_revoke(f->w, "ci", T0 + 9, "token:other", &found), 0);
	assert_true(found);
	assert_int_equal(store_api_token_revoke(f->w, "nobody", T0, "token:ops", &found), 0);
	assert_false(found);
	api_token_row t;
	assert_int_equal(store_api_token_by_digest(f->w, DIGEST("d"), &t), 0);
	assert_int_equal(t.revoked_at, T0 + 5);
	assert_string_equal(t.revoked_by, "token:ops");
	api_token_row_release(&t);
	/* Uses move last_used_at forward only. */
	assert_int_equal(store_api_token_used(f->w, "ci", T0 + 100), 0);
	assert_int_equal(store_api_token_used(f->w, "ci", T0 + 50), 0);
	assert_int_equal(sql_int(f, "SELECT last_used_at FROM api_token WHERE name = 'ci'"), T0 + 100);
	/* The name stays taken. */
	assert_false(insert_token(f, "ci", DIGEST("e"), "a", false, 0));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM token_event WHERE name = 'ci'"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM token_event WHERE name = 'ci' AND action = 'revoke' "
	                            "AND actor = 'token:ops'"), 1);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_insert_and_look_up),
		STORE_TEST_SQLITE(test_revocation_keeps_the_row),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_insert_and_look_up),
		STORE_TEST_PG(test_revocation_keeps_the_row),
	};
	return run_store_tests("store tokens", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
}
