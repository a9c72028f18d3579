/*
 * test_store_audit.c — the audit log's rows (store/audit.h) on both
 * backends: inserted in the caller's transaction (a rollback keeps none),
 * listed newest first along (at, id) with each filter and the keyset
 * bound, and deleted by age, oldest first, in bounded batches.
 */
#include "store_test.h"
#include "store/audit.h"

static void insert_entry(fixture *f, int64_t at, const char *ns, const char *actor, const char *action,
                         const char *kind, const char *object, weft_id *id)
{
	audit_row r = { .at = at, .namespace = (char *)ns, .actor = (char *)actor, .action = (char *)action,
		        .object_kind = (char *)kind, .object_id = (char *)object, .detail = "{\"n\":1}" };
	id_new_v7(&r.id);
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_audit_insert(f->w, &r), 0);
	assert_int_equal(store_commit(f->w), 0);
	if (id != NULL)
		*id = r.id;
}

/* The actions of the rows f selects, newest first, joined by ','. */
static void listed(fixture *f, audit_filter *flt, char *out, size_t cap)
{
	audit_row *rows = NULL;
	size_t n = 0;
	if (flt->limit == 0)
		flt->limit = 100;
	assert_int_equal(store_audit_list(f->w, flt, &rows, &n), 0);
	out[0] = '\0';
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + len, cap - len, "%s%s", i > 0 ? "," : "", rows[i].action);
		assert_true(w > 0 && (size_t)w < cap - len);
		len += (size_t)w;
	}
	if (n > 0)
		assert_string_equal(rows[0].detail, "{\"n\":1}");
	store_free_audit(rows, n);
}

static void seed(fixture *f)
{
	insert_entry(f, T0 + 1, "", "root", "token.create", "token", "ops", NULL);
	insert_entry(f, T0 + 2, "a", "ops", "queue.pause", "queue", "q1", NULL);
	insert_entry(f, T0 + 3, "b", "ops", "queue.pause", "queue", "q2", NULL);
	insert_entry(f, T0 + 4, "a", "root", "queue.resume", "queue", "q1", NULL);
	insert_entry(f, T0 + 5, "a", "schedule", "run.cancel", "run", "r1", NULL);
}

static void test_filters(void **state)
{
	fixture *f = *state;
	seed(f);
	char got[512];
	listed(f, &(audit_filter){ 0 }, got, sizeof got);
	assert_string_equal(got, "run.cancel,queue.resume,queue.pause,queue.pause,token.create");
	listed(f, &(audit_filter){ .actor = "ops" }, got, sizeof got);
	assert_string_equal(got, "queue.pause,queue.pause");
	listed(f, &(audit_filter){ .action = "queue.pause", .namespace = "b" }, got, sizeof got);
	assert_string_equal(got, "queue.pause");
	listed(f, &(audit_filter){ .object_kind = "queue", .object_id = "q1" }, got, sizeof got);
	assert_string_equal(got, "queue.resume,queue.pause");
	listed(f, &(audit_filter){ .since = T0 + 2, .until = T0 + 4 }, got, sizeof got);
	assert_string_equal(got, "queue.pause,queue.pause");
	static const char *const only_b[] = { "b", "c" };
	listed(f, &(audit_filter){ .visible = only_b, .nvisible = 2 }, got, sizeof got);
	assert_string_equal(got, "queue.pause");
	listed(f, &(audit_filter){ .actor = "nobody" }, got, sizeof got);
	assert_string_equal(got, "");
}

static void test_keyset_pages(void **state)
{
	fixture *f = *state;
	weft_id ids[6];
	/* Three at one microsecond: the id (UUIDv7) orders them. */
	for (int i = 0; i < 6; i++)
		insert_entry(f, T0 + (i < 3 ? 10 : i), "a", "ops", "queue.pause", "queue", "q", &ids[i]);
	audit_filter flt = { .limit = 2 };
	size_t seen = 0;
	weft_id order[6];
	for (int page = 0; page < 4; page++) {
		audit_row *rows = NULL;
		size_t n = 0;
		assert_int_equal(store_audit_list(f->w, &flt, &rows, &n), 0);
		for (size_t i = 0; i < n; i++)
			order[seen++] = rows[i].id;
		if (n > 0) {
			flt.after_at = rows[n - 1].at;
			flt.after_id = rows[n - 1].id;
		}
		store_free_audit(rows, n);
		if (n < 2)
			break;
	}
	assert_int_equal(seen, 6);
	/* Newest first: the three at T0 + 10 (newest id first), then 5, 4, 3. */
	assert_true(id_eq(&order[0], &ids[2]) && id_eq(&order[1], &ids[1]) && id_eq(&order[2], &ids[0]));
	assert_true(id_eq(&order[3], &ids[5]) && id_eq(&order[4], &ids[4]) && id_eq(&order[5], &ids[3]));
}

static void test_rollback_keeps_nothing(void **state)
{
	fixture *f = *state;
	audit_row r = { .at = T0, .namespace = "a", .actor = "ops", .action = "queue.pause", .object_kind = "queue",
		        .object_id = "q", .detail = "{}" };
	id_new_v7(&r.id);
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_audit_insert(f->w, &r), 0);
	assert_int_equal(store_rollback(f->w), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM audit_log"), 0);
}

static void test_expire_oldest_first_in_batches(void **state)
{
	fixture *f = *state;
	for (int i = 0; i < 5; i++)
		insert_entry(f, T0 + i, "a", "ops", "queue.pause", "queue", "q", NULL);
	int64_t deleted = -1;
	assert_int_equal(store_audit_expire(f->w, T0 + 3, 2, &deleted), 0);
	assert_int_equal(deleted, 2);
	assert_int_equal(sql_int(f, "SELECT min(at) FROM audit_log"), T0 + 2);
	assert_int_equal(store_audit_expire(f->w, T0 + 3, 2, &deleted), 0);
	assert_int_equal(deleted, 1);
	assert_int_equal(store_audit_expire(f->w, T0 + 3, 2, &deleted), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM audit_log"), 2);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_filters),
		STORE_TEST_SQLITE(test_keyset_pages),
		STORE_TEST_SQLITE(test_rollback_keeps_nothing),
		STORE_TEST_SQLITE(test_expire_oldest_first_in_batches),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_filters),
		STORE_TEST_PG(test_keyset_pages),
		STORE_TEST_PG(test_rollback_keeps_nothing),
		STORE_TEST_PG(test_expire_oldest_first_in_batches),
	};
	return run_store_tests("store audit", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
}
