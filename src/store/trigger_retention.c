/*
 * trigger_retention.c — the retention pass's deletes of schema 0017's
 * rows: events published long ago with their deliveries, and hook
 * delivery ids whose replay window has passed (a hook that is never
 * delivered to again would otherwise keep them; its next delivery forgets
 * its own, store_hook_delivery_claim).
 *
 * Each call deletes at most `limit` events (or delivery ids) in one
 * transaction, oldest first. The events' deliveries go first, by the same
 * pick: the order (created_at, namespace, id) is total, so both statements
 * name the same events within the transaction.
 */
#include "util/common.h"

#include "store/db.h"
#include "store/triggers.h"

#define EXPIRED_EVENTS "SELECT namespace, id FROM event WHERE created_at < $1 ORDER BY created_at, namespace, id LIMIT $2"

static const db_sql q_event_deliveries_expire = {
	"event_deliveries_expire",
	"DELETE FROM event_delivery WHERE (namespace, event_id) IN (" EXPIRED_EVENTS ")", NULL,
};
static const db_sql q_events_expire = {
	"events_expire", "DELETE FROM event WHERE (namespace, id) IN (" EXPIRED_EVENTS ")", NULL,
};
static const db_sql q_hook_deliveries_expire = {
	"hook_deliveries_expire",
	"DELETE FROM hook_delivery WHERE (namespace, hook, delivery_id) IN "
	"(SELECT namespace, hook, delivery_id FROM hook_delivery WHERE expires_at <= $1 LIMIT $2)",
	NULL,
};

int store_events_expire(store_conn *c, int64_t before, size_t limit, int64_t *events, int64_t *deliveries)
{
	*events = *deliveries = 0;
	if (limit == 0)
		return 0;
	bool own;
	int err = db_write_begin(c, &own);
	if (err)
		return err;
	err = db_delete_before(c, &q_event_deliveries_expire, before, limit, deliveries);
	if (err == 0)
		err = db_delete_before(c, &q_events_expire, before, limit, events);
	err = db_own_end(c, own, err);
	if (err)
		*events = *deliveries = 0;
	return err;
}

int store_hook_deliveries_expire(store_conn *c, int64_t now, size_t limit, int64_t *deleted)
{
	return db_expire_before(c, &q_hook_deliveries_expire, now, limit, deleted);
}
