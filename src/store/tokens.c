/*
 * tokens.c — bearer tokens made over the API (table api_token, with the
 * trail token_event; see store.h). Writes come from the engine's token
 * commands; reads from any connection (the HTTP layer's look-up of a
 * presented token goes through the unique index on digest).
 */
#include "util/common.h"

#include "store/db.h"
#include "store/tokens.h"
#include "util/alloc.h"

#define TOKEN_COLS \
	"name, digest, namespaces, admin, created_at, created_by, expires_at, revoked_at, revoked_by, last_used_at"

void api_token_row_release(api_token_row *t)
{
	free(t->name);
	free(t->digest);
	free(t->namespaces);
	free(t->created_by);
	free(t->revoked_by);
	memset(t, 0, sizeof *t);
}

void store_free_api_tokens(api_token_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		api_token_row_release(&rows[i]);
	free(rows);
}

static int read_token(db_stmt *st, void *row)
{
	api_token_row *t = row;
	t->name = db_col_str_nn(st, 0, "");
	t->digest = db_col_str_nn(st, 1, "");
	t->namespaces = db_col_str_nn(st, 2, "");
	t->admin = db_col_int(st, 3) != 0;
	t->created_at = db_col_int(st, 4);
	t->created_by = db_col_str_nn(st, 5, "");
	t->expires_at = db_col_int(st, 6);
	t->revoked_at = db_col_int(st, 7);
	t->revoked_by = db_col_str(st, 8);
	t->last_used_at = db_col_int(st, 9);
	return 0;
}

static void release_token(void *row)
{
	api_token_row_release(row);
}

static const db_row_kind token_kind = { sizeof(api_token_row), read_token, release_token };

/* The one row st answers (bound already): 0 or WEFT_ENOTFOUND. */
static int one_token(db_stmt *st, api_token_row *out)
{
	void *rows = NULL;
	size_t n = 0;
	int err = db_collect(st, &token_kind, &rows, &n);
	if (err)
		return err;
	if (n == 0) {
		free(rows);
		return WEFT_ENOTFOUND;
	}
	*out = *(api_token_row *)rows;
	for (size_t i = 1; i < n; i++)
		api_token_row_release((api_token_row *)rows + i);
	free(rows);
	return 0;
}

static const db_sql q_token_get = { "api_token_get", "SELECT " TOKEN_COLS " FROM api_token WHERE name = $1", NULL };
static const db_sql q_token_by_digest = { "api_token_by_digest",
	                                  "SELECT " TOKEN_COLS " FROM api_token WHERE digest = $1", NULL };
static const db_sql q_token_list = { "api_token_list",
	                             "SELECT " TOKEN_COLS " FROM api_token ORDER BY name LIMIT $1", NULL };

static int token_by(store_conn *c, const db_sql *q, const char *key, api_token_row *out)
{
	memset(out, 0, sizeof *out);
	db_stmt *st;
	int err = db_prepare(c, q, &st);
	if (err)
		return err;
	db_bind_text(st, key);
	return one_token(st, out);
}

int store_api_token_get(store_conn *c, const char *name, api_token_row *out)
{
	return token_by(c, &q_token_get, name, out);
}

int store_api_token_by_digest(store_conn *c, const char *digest, api_token_row *out)
{
	return token_by(c, &q_token_by_digest, digest, out);
}

int store_api_token_list(store_conn *c, size_t limit, api_token_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_token_list, &st);
	if (err)
		return err;
	db_bind_int(st, (int64_t)limit);
	void *rows = NULL;
	err = db_collect(st, &token_kind, &rows, n);
	*out = rows;
	return err;
}

/* ---- writes (the engine's token commands) --------------------------------------------- */

/* A taken name or digest leaves the row there as it is. */
static const db_sql q_token_insert = {
	"api_token_insert",
	"INSERT INTO api_token (name, digest, namespaces, admin, created_at, created_by, expires_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
	NULL,
};
static const db_sql q_token_event = {
	"token_event_insert", "INSERT INTO token_event (name, at, actor, action) VALUES ($1, $2, $3, $4)", NULL,
};
static const db_sql q_token_revoke = {
	"api_token_revoke",
	"UPDATE api_token SET revoked_at = $2, revoked_by = $3 WHERE name = $1 AND revoked_at IS NULL", NULL,
};

static int token_event(store_conn *c, const char *name, int64_t at, const char *actor, const char *action)
{
	db_stmt *st;
	int err = db_prepare(c, &q_token_event, &st);
	if (err)
		return err;
	db_bind_text(st, name);
	db_bind_int(st, at);
	db_bind_text(st, actor);
	db_bind_text(st, action);
	return db_run(st, NULL);
}

int store_api_token_insert(store_conn *c, const api_token_new *t, bool *created)
{
	*created = false;
	db_stmt *st;
	int err = db_prepare(c, &q_token_insert, &st);
	if (err)
		return err;
	db_bind_text(st, t->name);
	db_bind_text(st, t->digest);
	db_bind_text(st, t->namespaces);
	db_bind_int(st, t->admin ? 1 : 0);
	db_bind_int(st, t->created_at);
	db_bind_text(st, t->created_by);
	db_bind_int_or_null(st, t->expires_at);
	int64_t changes = 0;
	if ((err = db_run(st, &changes)) != 0 || changes == 0)
		return err;
	*created = true;
	return token_event(c, t->name, t->created_at, t->created_by, "create");
}

/* Whether the token exists, after an update that changed nothing. */
static const db_sql q_token_exists = { "api_token_exists", "SELECT count(*) FROM api_token WHERE name = $1", NULL };

int store_api_token_revoke(store_conn *c, const char *name, int64_t now, const char *actor, bool *found)
{
	*found = false;
	db_stmt *st;
	int err = db_prepare(c, &q_token_revoke, &st);
	if (err)
		return err;
	db_bind_text(st, name);
	db_bind_int(st, now);
	db_bind_text(st, actor);
	int64_t changes = 0;
	if ((err = db_run(st, &changes)) != 0)
		return err;
	if (changes > 0) {
		*found = true;
		return token_event(c, name, now, actor, "revoke");
	}
	if ((err = db_prepare(c, &q_token_exists, &st)) != 0)
		return err;
	db_bind_text(st, name);
	int64_t n = 0;
	err = db_query_int(st, &n, NULL);
	*found = n > 0;
	return err;
}

static const db_sql q_token_used = {
	"api_token_used",
	"UPDATE api_token SET last_used_at = $2 WHERE name = $1 AND (last_used_at IS NULL OR last_used_at < $2)", NULL,
};

int store_api_token_used(store_conn *c, const char *name, int64_t at)
{
	db_stmt *st;
	int err = db_prepare(c, &q_token_used, &st);
	if (err)
		return err;
	db_bind_text(st, name);
	db_bind_int(st, at);
	return db_send(st, NULL);
}
