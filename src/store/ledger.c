/*
 * ledger.c — the idempotency ledger of start webhooks (webhook_execution),
 * keyed "<task>:start" and so on: a key is claimed before its call and
 * finished with the call's outcome, so that a claim which went stale is
 * called again but one that succeeded never is.
 */
#include "util/common.h"

#include "store/db.h"

/* Insert, or re-claim a failed or stale pending row, in one statement: two
 * nodes claiming one key serialize on it (the second waits for the first's
 * commit, then sees its row). */
static const db_sql q_claim = {
	"ledger_claim",
	"INSERT INTO webhook_execution AS w "
	"(idempotency_key, task_id, trigger, condition, status, attempts, created_at, updated_at) "
	"VALUES ($1, $2, $3, $4, 'pending', 1, $5, $5) "
	"ON CONFLICT (idempotency_key) DO UPDATE SET "
	"attempts = w.attempts + 1, status = 'pending', updated_at = excluded.updated_at "
	"WHERE w.status = 'failure' OR (w.status = 'pending' AND w.updated_at < $6) "
	"RETURNING 1",
	NULL,
};
static const db_sql q_status = {
	"ledger_status", "SELECT status FROM webhook_execution WHERE idempotency_key = $1", NULL,
};
static const db_sql q_finish = {
	"ledger_finish",
	"UPDATE webhook_execution SET status = $2, updated_at = $3, last_http_status = $4, last_error = $5 "
	"WHERE idempotency_key = $1",
	NULL,
};

int store_ledger_claim(store_conn *c, const char *key, const weft_id *task, action_trigger trig,
                       action_condition cond, int64_t now, int64_t stale_before, ledger_claim_result *result)
{
	db_stmt *st;
	int err = db_prepare(c, &q_claim, &st);
	if (err)
		return err;
	db_bind_text(st, key);
	db_bind_id(st, task);
	db_bind_text(st, action_trigger_name(trig));
	db_bind_text(st, action_condition_name(cond));
	db_bind_int(st, now);
	db_bind_int(st, stale_before);
	int rc = db_step(st);
	if ((err = db_end(st, rc)) != 0)
		return err;
	if (rc > 0) {
		*result = LEDGER_CLAIMED;
		return 0;
	}
	/* Neither inserted nor re-claimed: it succeeded before, or it is
	 * pending and fresh. (A new statement sees a row another node
	 * committed meanwhile.) */
	if ((err = db_prepare(c, &q_status, &st)) != 0)
		return err;
	db_bind_text(st, key);
	rc = db_step(st);
	const char *status = rc > 0 ? db_col_text(st, 0) : NULL;
	*result = status != NULL && strcmp(status, "success") == 0 ? LEDGER_DONE : LEDGER_BUSY;
	return db_end(st, rc);
}

int store_ledger_finish(store_conn *c, const char *key, bool ok, int32_t http_status, const char *error,
                        int64_t now)
{
	db_stmt *st;
	int err = db_prepare(c, &q_finish, &st);
	if (err)
		return err;
	db_bind_text(st, key);
	db_bind_text(st, ok ? "success" : "failure");
	db_bind_int(st, now);
	db_bind_int_or_null(st, http_status);
	db_bind_text(st, error);
	return db_send(st, NULL);
}
