/*
 * in_doubt.c — a cycle whose COMMIT may or may not have committed.
 *
 * When the connection is lost while COMMIT is under way (PostgreSQL), the
 * store cannot say whether the transaction committed: store_commit answers
 * WEFT_EINDOUBT. Answering its commands now would be a guess either way (a
 * 503 for a write that is stored, or a success for one that is not), and
 * waiting for the database on the engine thread would stall every request
 * behind it. So the cycle is *parked*, exactly as the commit left it: its
 * commands with their results, the jobs it queued, its metric journal,
 * and whatever the parts keep until they learn the outcome (deadlines
 * taken off the heap, batches being checked, results put back). Nothing
 * else touches them while parked, since no cycle begins.
 *
 *   running --commit in doubt--> parked
 *   parked --one attempt, database out of reach--> parked
 *       (the commands that arrived meanwhile are answered WEFT_EUNAVAILABLE
 *       by engine.c; the next attempt comes with the next command, or after
 *       ENGINE_UNAVAILABLE_BACKOFF_US)
 *   parked --committed--> running: the cycle ends as a successful commit
 *   parked --not committed--> running: it ends as a failed one (503s)
 *   parked --unknowable, parked for IN_DOUBT_MAX_US, or the engine stops-->
 *       running: it ends as a failed one, and an error says the outcome is
 *       unknown
 *
 * Ending a cycle whose outcome is unknown as failed is safe for the
 * engine's own state: a deadline put back fires again and its handler
 * re-reads its task, a batch checked again completes once (its update is
 * guarded), a start not launched leaves its task claimed until the claim
 * deadline requeues it, a delivery not launched is leased again when its
 * lease expires. Its clients get 503 and may retry; a write that did
 * commit is then applied again only if it is not idempotent (a counter
 * increment), which is why the outcome is asked for rather than assumed.
 */
#include "util/common.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/engine_internal.h"

/* How long a cycle may stay parked. Its clients' HTTP requests wait for it,
 * so this bounds their wait; past it the database has been out of reach
 * for long enough that a 503 (outcome unknown) serves them better. */
#define IN_DOUBT_MAX_US (30 * 1000000LL)

void in_doubt_park(engine *e, int64_t now)
{
	e->doubt.parked = true;
	e->doubt.since = now;
	e->doubt.next_try = now;      /* the first attempt at once */
	e->doubt.attempts = 0;
	pthread_mutex_lock(&e->mu);
	e->stats.commit_in_doubt = true;
	pthread_mutex_unlock(&e->mu);
	log_warn("engine", "the outcome of a commit is in doubt: %zu commands wait until it is known, "
	                   "new ones are answered 503 meanwhile", e->cycle.ncmds);
}

/* The store's answer, or the injected fault's (engine_test_doubt). */
static int resolve(engine *e, bool *committed)
{
	if (!e->doubt.injected)
		return store_commit_resolve(e->w, committed);
	if (e->faults.doubt_unreachable > 0) {
		e->faults.doubt_unreachable--;
		return WEFT_EUNAVAILABLE;
	}
	e->doubt.injected = false;
	*committed = e->faults.doubt_committed;
	return 0;
}

bool in_doubt_try(engine *e, bool last)
{
	bool committed = false;
	int rc = resolve(e, &committed);
	int64_t now = clock_now_us();
	double waited = (double)(now - e->doubt.since) / 1e6;
	e->doubt.attempts++;
	if (rc == WEFT_EUNAVAILABLE && !last && now - e->doubt.since < IN_DOUBT_MAX_US) {
		e->doubt.next_try = now + ENGINE_UNAVAILABLE_BACKOFF_US;
		return false;
	}
	e->doubt.parked = false;
	e->doubt.injected = false;
	pthread_mutex_lock(&e->mu);
	e->stats.commit_in_doubt = false;
	pthread_mutex_unlock(&e->mu);
	if (rc != 0) {
		committed = false;
		log_error("engine", "the outcome of a commit is unknown (%s after %d attempts over %.1f s): "
		                    "its %zu commands are answered 503 though they may have been applied",
		          rc == WEFT_EINDOUBT ? "unknowable" : "database out of reach", e->doubt.attempts, waited,
		          e->cycle.ncmds);
	} else {
		log_warn("engine", "a commit in doubt %s (learned after %d attempts over %.1f s)",
		         committed ? "did commit" : "did not commit", e->doubt.attempts, waited);
	}
	if (!committed)
		metrics_inc("engine_commit_failures_total", NULL, 1);
	engine_cycle_end(e, committed ? 0 : WEFT_EUNAVAILABLE);
	return true;
}
