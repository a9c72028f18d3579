/*
 * test_attempt_migration.c — schema migration 0003 (SQLite): a task's
 * attempt counts its tries from 1, and the idempotency keys that name an
 * attempt move up with it, so that a task retrying across the upgrade does
 * not call its webhooks twice.
 */
#include "util/common.h"
#include "store/store.h"
#include <sqlite3.h>
#include <unistd.h>
#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

extern const char embed_store_schema_sqlite_0001_init_sql[];
extern const char embed_store_schema_sqlite_0002_delivery_sql[];

#define TID "01234567-89ab-4def-8123-456789abcdef"

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s", err);
}

static bool has_key(sqlite3 *db, const char *table, const char *key)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE idempotency_key = ?", table);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	bool found = sqlite3_column_int(st, 0) == 1;
	sqlite3_finalize(st);
	return found;
}

static void test_attempts_and_keys_move_up(void **state)
{
	UNUSED(state);
	char dir[64] = "/tmp/weft-migration-XXXXXX", path[128], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.db", dir);

	/* A database as the previous version left it: 0001 and 0002 applied, a
	 * task in its second try (attempt 1 then) with its keys. */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	exec(db, embed_store_schema_sqlite_0001_init_sql);
	exec(db, embed_store_schema_sqlite_0002_delivery_sql);
	exec(db, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER);"
	         "INSERT INTO schema_migrations VALUES (1, 0), (2, 0);"
	         "INSERT INTO task (id, name, kind, status, timeout_secs, created_at, metadata, rules, attempt) VALUES "
	         "  ('" TID "', 'a', 'k', 'running', 60, 1, 'null', '[]', 1);"
	         "INSERT INTO webhook_execution (idempotency_key, task_id, trigger, condition, status, attempts, "
	         "  created_at, updated_at) VALUES "
	         "  ('" TID ":start', '" TID "', 'start', 'success', 'failure', 1, 1, 1),"
	         "  ('" TID ":start:1', '" TID "', 'start', 'success', 'success', 1, 2, 2);"
	         "INSERT INTO outbox (idempotency_key, event, task_id, params, add_handle, status, attempts, "
	         "  max_attempts, next_attempt_at, created_at, updated_at) VALUES "
	         "  ('" TID ":cancel', 'cancel', '" TID "', '{}', 1, 'success', 1, 3, 1, 1, 1),"
	         "  ('" TID ":cancel:attempt:1', 'cancel', '" TID "', '{}', 1, 'pending', 0, 3, 1, 1, 1),"
	         "  ('" TID ":cancel:attempt:1:1', 'cancel', '" TID "', '{}', 1, 'pending', 0, 3, 1, 1, 1),"
	         "  ('" TID ":end:failure', 'end_failure', '" TID "', '{}', 1, 'pending', 0, 3, 1, 1, 1);");
	sqlite3_close(db);

	store_options so = { .sync_full = false, .readers = 1 };
	store *st = store_open(path, &so, err, sizeof(err));
	assert_non_null(st);
	weft_id id = { .str = TID };
	task_row t;
	assert_int_equal(store_task_get(store_writer(st), &id, &t), 0);
	assert_int_equal(t.attempt, 2);
	task_row_release(&t);
	store_close(st);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_true(has_key(db, "webhook_execution", TID ":start"));
	assert_true(has_key(db, "webhook_execution", TID ":start:2"));
	assert_false(has_key(db, "webhook_execution", TID ":start:1"));
	assert_true(has_key(db, "outbox", TID ":cancel"));
	assert_true(has_key(db, "outbox", TID ":cancel:attempt:2"));
	assert_true(has_key(db, "outbox", TID ":cancel:attempt:2:1"));
	assert_false(has_key(db, "outbox", TID ":cancel:attempt:1"));
	assert_true(has_key(db, "outbox", TID ":end:failure"));
	sqlite3_close(db);

	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attempts_and_keys_move_up),
	};
	return cmocka_run_group_tests_name("attempt_migration", tests, NULL, NULL);
}
