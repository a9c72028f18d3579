/*
 * idempotency.c — keys of requests that must be applied at most once
 * (Idempotency-Key): see store.h. The key is inserted before the request
 * is applied, so that a second transaction with the same key waits for the
 * first (PostgreSQL) or runs after it (SQLite's single writer) and then
 * finds its row, outcome included.
 */
#include "util/common.h"

#include "store/db.h"

static const db_sql q_take = {
	"idempotency_take",
	"INSERT INTO idempotency_key (key, fingerprint, outcome, created_at) VALUES ($1, $2, NULL, $3) "
	"ON CONFLICT (key) DO NOTHING RETURNING 1",
	NULL,
};
static const db_sql q_read = {
	"idempotency_read", "SELECT fingerprint, outcome FROM idempotency_key WHERE key = $1", NULL,
};
static const db_sql q_finish = {
	"idempotency_finish", "UPDATE idempotency_key SET outcome = $2 WHERE key = $1", NULL,
};
static const db_sql q_expire = {
	"idempotency_expire",
	"DELETE FROM idempotency_key WHERE {in_query:key,SELECT key FROM idempotency_key "
	"WHERE created_at < $1 ORDER BY created_at LIMIT $2}",
	NULL,
};

int store_idempotency_begin(store_conn *c, const char *key, const char *fingerprint, int64_t now, bool *fresh,
                            char **fingerprint_was, char **outcome)
{
	db_stmt *st;
	*fresh = false;
	*fingerprint_was = *outcome = NULL;
	int err = db_prepare(c, &q_take, &st);
	if (err)
		return err;
	db_bind_text(st, key);
	db_bind_text(st, fingerprint);
	db_bind_int(st, now);
	int rc = db_step(st);
	if ((err = db_end(st, rc)) != 0)
		return err;
	if (rc > 0) {
		*fresh = true;
		return 0;
	}
	if ((err = db_prepare(c, &q_read, &st)) != 0)
		return err;
	db_bind_text(st, key);
	rc = db_step(st);
	if (rc > 0) {
		*fingerprint_was = db_col_str(st, 0);
		*outcome = db_col_str(st, 1);
	}
	err = db_end(st, rc);
	if (err == 0 && rc == 0)
		err = WEFT_ESTORE;      /* neither inserted nor there: not expected */
	if (err != 0) {
		free(*fingerprint_was);
		free(*outcome);
		*fingerprint_was = *outcome = NULL;
	}
	return err;
}

int store_idempotency_finish(store_conn *c, const char *key, const char *outcome)
{
	db_stmt *st;
	int err = db_prepare(c, &q_finish, &st);
	if (err)
		return err;
	db_bind_text(st, key);
	db_bind_text(st, outcome);
	return db_send(st, NULL);
}

int store_idempotency_expire(store_conn *c, int64_t before, size_t limit, int64_t *removed)
{
	db_stmt *st;
	*removed = 0;
	int err = db_prepare(c, &q_expire, &st);
	if (err)
		return err;
	db_bind_int(st, before);
	db_bind_int(st, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	return db_run(st, removed);
}
