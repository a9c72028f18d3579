/*
 * parts/trigger_retention.c — the retention pass's step for incoming
 * webhooks and events (parts/retention.c runs it): with
 * EVENT_RETENTION_DAYS (or _AFTER_SECS) set, the events published longer
 * ago than that go with their deliveries; and, whatever the settings, the
 * hook delivery ids whose replay window has passed. Both in batches of
 * RETENTION_BATCH_SIZE, a bounded number per pass. A task's task_emit row
 * goes with the task, when it is archived (store/retention.c).
 */
#include "util/common.h"
#include "util/log.h"
#include "engine/cycle.h"
#include "store/triggers.h"

#define MAX_CALLS_PER_PASS 50

static int expire_events(engine *e, int64_t now)
{
	int64_t events = 0, deliveries = 0, n = 0, nd = 0;
	int rc = 0;
	for (int pass = 0; pass < MAX_CALLS_PER_PASS; pass++) {
		rc = store_events_expire(e->w, now - e->cfg.event_retention_us, (size_t)e->cfg.retention_batch, &n, &nd);
		if (rc != 0)
			break;
		events += n;
		deliveries += nd;
		if (n < e->cfg.retention_batch)
			break;
	}
	engine_count(e, "retention_events_deleted_total", NULL, (uint64_t)events);
	engine_count(e, "retention_event_deliveries_deleted_total", NULL, (uint64_t)deliveries);
	if (events)
		log_info("engine", "deleted %" PRId64 " events published long ago (%" PRId64 " deliveries)", events,
		         deliveries);
	return rc;
}

static int expire_hook_deliveries(engine *e, int64_t now)
{
	int64_t total = 0, n = 0;
	int rc = 0;
	for (int pass = 0; pass < MAX_CALLS_PER_PASS; pass++) {
		rc = store_hook_deliveries_expire(e->w, now, (size_t)e->cfg.retention_batch, &n);
		if (rc != 0)
			break;
		total += n;
		if (n < e->cfg.retention_batch)
			break;
	}
	engine_count(e, "retention_hook_deliveries_deleted_total", NULL, (uint64_t)total);
	return rc;
}

int retention_triggers_step(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	int rc = e->cfg.event_retention_us > 0 ? expire_events(e, now) : 0;
	return rc != 0 ? rc : expire_hook_deliveries(e, now);
}
