/*
 * migrate.c — the schema migration runner, for both drivers. The
 * migrations themselves are per dialect (schema/sqlite/, schema/postgres/),
 * embedded into the binary and listed by each driver.
 *
 * Each migration is applied in its own transaction, which first takes the
 * writer's exclusive lock (SQLite's BEGIN IMMEDIATE, PostgreSQL's
 * migration advisory lock) and then checks whether the migration is
 * recorded: openers racing each other apply it once, and a later one finds
 * it done.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/clock.h"
#include "util/log.h"

#define SUBSYS "store"

static const db_sql q_current = { "migrations_current", "SELECT coalesce(max(version), 0) FROM schema_migrations",
	                          NULL };
static const db_sql q_applied = { "migrations_applied", "SELECT 1 FROM schema_migrations WHERE version = $1",
	                          NULL };
static const db_sql q_record = { "migrations_record",
	                         "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", NULL };

/* BEGIN and the lock that keeps other openers out until the end. */
static int locked_begin(store_conn *w)
{
	int err = w->drv->begin(w);
	if (!err && w->drv->migration_lock != NULL)
		err = w->drv->migration_lock(w);
	return err;
}

static int current_version(store_conn *w, int64_t *version, char *msg, size_t msglen)
{
	db_stmt *st;
	int err = locked_begin(w);
	if (!err)
		err = w->drv->exec_script(w, "CREATE TABLE IF NOT EXISTS schema_migrations "
		                             "(version INTEGER PRIMARY KEY, applied_at BIGINT)",
		                          msg, msglen);
	if (!err && (err = db_prepare(w, &q_current, &st)) == 0)
		err = db_query_int(st, version, NULL);
	if (!err)
		err = w->drv->commit(w);
	if (err && msg[0] == '\0')
		snprintf(msg, msglen, "cannot read the schema version (%s)", weft_strerror(err));
	return err;
}

static int apply(store_conn *w, const db_migration *m, char *msg, size_t msglen)
{
	db_stmt *st;
	bool found = false;
	int64_t one;
	int err = locked_begin(w);
	if (!err && (err = db_prepare(w, &q_applied, &st)) == 0) {
		db_bind_int(st, m->version);
		err = db_query_int(st, &one, &found);
	}
	if (!err && found)
		return w->drv->rollback(w);
	if (!err)
		err = w->drv->exec_script(w, m->sql, msg, msglen);
	if (!err && (err = db_prepare(w, &q_record, &st)) == 0) {
		db_bind_int(st, m->version);
		db_bind_int(st, clock_now_us());
		err = db_run(st, NULL);
	}
	if (!err)
		err = w->drv->commit(w);
	if (err) {
		if (msg[0] == '\0')
			snprintf(msg, msglen, "%s", weft_strerror(err));
		w->drv->rollback(w);
		return err;
	}
	log_info(SUBSYS, "applied schema migration %04d", m->version);
	return 0;
}

int db_migrate(store_conn *w, const char *where, char *err, size_t errlen)
{
	const db_driver *d = w->drv;
	int newest = d->migrations[d->nmigrations - 1].version;
	char msg[400] = "";
	int64_t current = 0;
	if (current_version(w, &current, msg, sizeof msg) != 0) {
		w->drv->rollback(w);
		snprintf(err, errlen, "database \"%s\": %s", where, msg);
		return -1;
	}
	if (current > newest) {
		snprintf(err, errlen, "database \"%s\" has schema version %" PRId64 ", newer than this weft knows (%d)",
		         where, current, newest);
		return -1;
	}
	for (size_t i = 0; i < d->nmigrations; i++) {
		if (apply(w, &d->migrations[i], msg, sizeof msg) != 0) {
			snprintf(err, errlen, "database \"%s\": %s (in schema migration %04d)", where, msg,
			         d->migrations[i].version);
			return -1;
		}
	}
	return 0;
}
