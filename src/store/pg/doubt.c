/*
 * doubt.c — the outcome of a COMMIT whose answer was lost (pg.h: the
 * driver's commit_resolve), learned from the server by the transaction's
 * id, which the writer read at BEGIN.
 */
#include "util/common.h"

#include "store/pg/pg.h"
#include "util/log.h"

#define SUBSYS PG_SUBSYS

/* The connection was lost while COMMIT was under way: it may or may not
 * have committed. The transaction's id was read at BEGIN; one attempt:
 * reconnect if needed, and ask txid_status(). "in progress" is the old
 * session still finishing (or aborting) it: asked again by a later
 * attempt. Nothing here waits beyond one connection attempt and one
 * statement. */
int pg_commit_resolve(store_conn *cc, bool *committed)
{
	pg_conn *c = pgc(cc);
	bool *doubt = &c->in_doubt;
	if (!*doubt)
		return WEFT_EINVALID;
	if (c->txid == 0) {
		*doubt = false;
		log_error(SUBSYS, "connection lost during COMMIT; whether the transaction committed is unknown "
		                  "(its id was never read)");
		return WEFT_EINDOUBT;
	}
	if (pg_conn_reset(c) != 0)
		return WEFT_EUNAVAILABLE;
	char xid[24];
	snprintf(xid, sizeof xid, "%" PRId64, c->txid);
	const char *values[] = { xid };
	PGresult *r = PQexecParams(c->pq, "SELECT txid_status($1::bigint)", 1, NULL, values, NULL, NULL, 0);
	int err = pg_check(c, r, "txid_status");
	const char *st = err == 0 && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : NULL;
	if (err == 0 && st == NULL) {
		/* NULL: too old to tell (the commit log was truncated past it). */
		log_error(SUBSYS, "connection lost during COMMIT; whether transaction %s committed is unknown "
		                  "(too old to tell)", xid);
		err = WEFT_EINDOUBT;
	} else if (err == 0 && strcmp(st, "committed") == 0) {
		log_warn(SUBSYS, "connection lost during COMMIT; transaction %s did commit", xid);
		*committed = true;
	} else if (err == 0 && strcmp(st, "aborted") == 0) {
		log_warn(SUBSYS, "connection lost during COMMIT; transaction %s did not commit", xid);
	} else if (err == 0) {
		log_info(SUBSYS, "connection lost during COMMIT; transaction %s is still %s", xid, st);
		err = WEFT_EUNAVAILABLE;
	} else if (err != WEFT_EUNAVAILABLE) {
		/* The server refused the question (logged by pg_check): asking
		 * again would get the same answer. */
		log_error(SUBSYS, "connection lost during COMMIT; whether transaction %s committed is unknown", xid);
		err = WEFT_EINDOUBT;
	}
	PQclear(r);
	if (err != WEFT_EUNAVAILABLE)
		*doubt = false;
	return err;
}
