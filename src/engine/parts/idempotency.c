/*
 * parts/idempotency.c — the leader forgets Idempotency-Keys older than
 * IDEMPOTENCY_TTL_SECS, a bounded number per pass, a pass every
 * twenty-fourth of the TTL (at least every second, at most every hour) or
 * at once again while a pass finds a full page. The same pass removes job
 * dedup keys that no longer hold (a key is taken over anyway when it is
 * used again: this only keeps the table from growing), and the per-minute
 * throughput rows of queues older than any figure reads.
 */
#include "util/common.h"
#include "util/log.h"
#include "engine/cycle.h"
#include "store/jobs.h"
#include "store/queues.h"

#define PAGE 1000
#define PAGES_PER_PASS 10
#define MIN_INTERVAL_US 1000000LL
#define MAX_INTERVAL_US (3600 * 1000000LL)

static int expire_step(engine *e, void *arg, int64_t now)
{
	bool *more = arg;
	int64_t removed = 0, total = 0;
	int rc = 0;
	*more = false;
	for (int page = 0; page < PAGES_PER_PASS; page++) {
		rc = store_idempotency_expire(e->w, now - e->cfg.idempotency_ttl_us, PAGE, &removed);
		if (rc != 0)
			break;
		total += removed;
		if (removed < PAGE)
			break;
		*more = page + 1 == PAGES_PER_PASS;
	}
	engine_count(e, "idempotency_keys_expired_total", NULL, (uint64_t)total);
	for (int page = 0; page < PAGES_PER_PASS && rc == 0; page++) {
		rc = store_jobs_dedup_expire(e->w, now, PAGE, &removed);
		if (rc != 0 || removed < PAGE)
			break;
		*more = page + 1 == PAGES_PER_PASS;
	}
	if (rc == 0)
		rc = store_queue_stats_expire(e->w, now);
	return rc;
}

static int64_t interval(const engine *e)
{
	int64_t every = e->cfg.idempotency_ttl_us / 24;
	return MIN(MAX(every, MIN_INTERVAL_US), MAX_INTERVAL_US);
}

static int idem_start(engine *e, int64_t now)
{
	e->idempotency.next_us = now;
	return 0;
}

static void idem_run(engine *e, int64_t now)
{
	if (now < e->idempotency.next_us)
		return;
	bool more = false;
	if (engine_step(e, expire_step, &more, now) != 0) {
		log_error("engine", "forgetting expired idempotency keys failed; will retry");
		more = false;
	}
	e->idempotency.next_us = more ? now : now + interval(e);
}

static int64_t idem_next_wake(const engine *e)
{
	return e->idempotency.next_us;
}

const cycle_part part_idempotency = {
	.name = "idempotency",
	.leader_only = true,
	.start = idem_start,
	.run = idem_run,
	.next_wake = idem_next_wake,
};
