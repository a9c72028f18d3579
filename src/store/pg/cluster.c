/*
 * cluster.c — what the PostgreSQL driver does for many nodes on one
 * database, besides the listener: the writer's session (its lock timeout,
 * the lock on the node's name), the wake-up notification, the rule locks
 * and the migration lock.
 */
#include "util/common.h"

#include <errno.h>

#include "store/pg/pg.h"
#include "util/log.h"

#define SUBSYS PG_SUBSYS

/* Sets the writer's session up, at opening (after the migrations, whose
 * lock may take longer than the timeout) and after each reconnection:
 *   * its lock_timeout (PG_WRITER_LOCK_TIMEOUT);
 *   * generic plans: the writer runs the same statements all day, and a
 *     custom plan per execution costs more than it gains;
 *   * a lock on the node's name, held as long as the session lives: other
 *     nodes take this node's delivery leases over once it is gone (see
 *     pg_outbox_lease). Another live node whose name hashes alike only
 *     delays that until the leases expire;
 *   * the node's name as weft.node, the default of outbox.leased_by: the
 *     rows the writer inserts leased (outbox.c) are leased by this node. */
static const db_sql q_session = {
	"writer_session",
	"SELECT CASE WHEN pg_try_advisory_lock(" PG_NODE_LOCK_K1 ", hashtext($1)) THEN 1 ELSE 0 END, "
	"set_config('lock_timeout', '" PG_WRITER_LOCK_TIMEOUT "', false), "
	"set_config('plan_cache_mode', 'force_generic_plan', false), "
	"set_config('enable_seqscan', 'off', false), set_config('weft.node', $1, false)",
	NULL,
};

int pg_writer_session_init(pg_conn *c)
{
	db_stmt *st;
	int err = db_prepare(&c->base, &q_session, &st);
	if (err)
		return err;
	db_bind_text(st, c->store->node_id);
	int rc = db_step(st);
	if (rc > 0 && db_col_int(st, 0) == 0)
		log_warn(SUBSYS, "the lock of node name %s is held by another session", c->store->node_id);
	return db_end(st, rc);
}

/* Delivered at commit (and dropped with a rollback). The payload is
 * "<node>/<bits in hex>" (pg_wake_parse): this node's own notifications
 * are recognised by it and ignored, and the others wake only the parts
 * that the bits concern. PostgreSQL folds identical notifications of one
 * transaction into one. */
static const db_sql q_notify = {
	"notify", "SELECT pg_notify('" PG_WAKE_CHANNEL "', $1)", NULL,
};

int pg_notify(store_conn *c, unsigned what)
{
	db_stmt *st;
	int err = db_prepare(c, &q_notify, &st);
	if (err)
		return err;
	char payload[sizeof pgc(c)->store->node_id + 16];
	snprintf(payload, sizeof payload, "%s/%x", pgc(c)->store->node_id, what);
	db_bind_text(st, payload);
	return db_send(st, NULL);
}

unsigned pg_wake_parse(const char *payload, const char *self)
{
	if (payload == NULL)
		return STORE_WAKE_WORK;
	const char *slash = strrchr(payload, '/');
	size_t sender = slash != NULL ? (size_t)(slash - payload) : strlen(payload);
	if (strlen(self) == sender && strncmp(payload, self, sender) == 0)
		return 0;
	if (slash == NULL)
		return STORE_WAKE_WORK;    /* a node that sends no bits */
	char *end;
	errno = 0;
	unsigned long bits = strtoul(slash + 1, &end, 16);
	if (errno != 0 || end == slash + 1 || *end != '\0')
		return STORE_WAKE_WORK;
	return (unsigned)bits & STORE_WAKE_WORK;
}

/* A transaction lock on (PG_RULES_LOCK_K1, hash of the kind), released at
 * commit or rollback. Two kinds may share a hash: they then share a lock,
 * which only costs waiting. The waiting form waits as long as the holder's
 * transaction lasts, not just lock_timeout (the expressions are evaluated
 * in order). */
static const db_sql q_rules_lock = {
	"rules_lock",
	"SELECT CASE WHEN pg_try_advisory_xact_lock(" PG_RULES_LOCK_K1 ", hashtext($1)) THEN 1 ELSE 0 END", NULL,
};
static const db_sql q_rules_lock_wait = {
	"rules_lock_wait",
	"SELECT set_config('lock_timeout', '0', true), pg_advisory_xact_lock(" PG_RULES_LOCK_K1 ", hashtext($1)), "
	"set_config('lock_timeout', '" PG_WRITER_LOCK_TIMEOUT "', true)",
	NULL,
};

int pg_rules_lock(store_conn *c, const char *kind, bool wait, bool *got)
{
	db_stmt *st;
	*got = false;
	int err = db_prepare(c, wait ? &q_rules_lock_wait : &q_rules_lock, &st);
	if (err)
		return err;
	db_bind_text(st, kind ? kind : "");
	int rc = db_step(st);
	*got = rc > 0 && (wait || db_col_int(st, 0) != 0);
	return db_end(st, rc);
}

/* Nodes starting at once wait for each other's migrations. */
static const db_sql q_migration_lock = {
	"migration_lock", "SELECT pg_advisory_xact_lock(" PG_MIGRATION_LOCK ")", NULL,
};

int pg_migration_lock(store_conn *c)
{
	db_stmt *st;
	int err = db_prepare(c, &q_migration_lock, &st);
	return err ? err : db_run(st, NULL);
}
