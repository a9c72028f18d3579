/*
 * cluster.c — the many-nodes part of store.h: whether the database is
 * shared, wake-ups, leadership, the wake-up notification and the rule
 * locks. Each is its driver's (pg/): a database with one node (SQLite)
 * has no other node to wake, is always the leader and is always granted
 * the locks.
 */
#include "util/common.h"

#include "store/db.h"

bool store_shared(const store *s) { return s->drv->shared; }

void store_set_wakeup(store *s, void (*wake)(void *arg, unsigned what), void *arg)
{
	if (s->drv->set_wakeup != NULL)
		s->drv->set_wakeup(s, wake, arg);
}

bool store_is_leader(store *s) { return s->drv->is_leader != NULL ? s->drv->is_leader(s) : true; }

int store_notify(store_conn *c, unsigned what) { return c->drv->notify != NULL ? c->drv->notify(c, what) : 0; }

int store_rules_lock(store_conn *c, const char *kind, bool *got)
{
	*got = true;
	return c->drv->rules_lock != NULL ? c->drv->rules_lock(c, kind, false, got) : 0;
}

int store_rules_lock_wait(store_conn *c, const char *kind)
{
	bool got = true;
	return c->drv->rules_lock != NULL ? c->drv->rules_lock(c, kind, true, &got) : 0;
}
