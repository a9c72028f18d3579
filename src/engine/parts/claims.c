/*
 * parts/claims.c — job claims that found no job and may wait (wait_us > 0)
 * are parked here, in memory, oldest first, and answered:
 *  - with jobs, by the first cycle that finds some for them: a cycle that
 *    made jobs claimable (an enqueue, a release, a lost lease, a DAG
 *    release: engine_claims_wake, engine_wake_starts; on a shared database
 *    another node's STORE_WAKE_QUEUE or STORE_WAKE_STARTS) claims for every
 *    parked claim in one step, after the commands, so that a claim parked
 *    by one request is answered at the commit of the enqueue that fed it;
 *  - with no jobs, when their wait ends;
 *  - with no jobs when the engine stops, so that no request is left
 *    suspended.
 * Delayed jobs (start_after in the future) wake nobody when they become
 * due: the part looks up the earliest one of the parked claims' queues and
 * asks for a cycle then. The sweep interval bounds a missed wake-up.
 *
 * A claim is parked only once its command's step succeeded, and a cycle
 * that does not commit undoes what the part did in it: the claims it
 * answered go back to the parked list (their claims rolled back), and the
 * claims parked by it leave the list (engine_cycle_end answers them with
 * the cycle's error).
 *
 * No lost wake-up across nodes: a node whose claim statement missed
 * another node's job ran before that job's commit, whose notification
 * reaches it afterwards and makes it claim again.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/cycle.h"
#include "engine/commands/jobs.h"
#include "store/jobs.h"

/* After a lock conflict with another node, and after a failed step: when
 * the parked claims look again. */
#define CLAIM_RETRY_US (20 * 1000LL)
#define CLAIM_FAILED_RETRY_US (1000 * 1000LL)

static void list_push(cmd_job_claim ***arr, size_t *len, size_t *cap, cmd_job_claim *c)
{
	if (*len == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*arr = xrealloc(*arr, *cap * sizeof(**arr));
	}
	(*arr)[(*len)++] = c;
}

void engine_claims_wake(engine *e)
{
	e->claims.dirty = true;
	e->cycle.notify |= STORE_WAKE_QUEUE;
}

void engine_park_command(engine *e, engine_cmd *cmd)
{
	cmd_job_claim *c = engine_cmd_of(cmd, cmd_job_claim);
	c->parked_seq = e->cycle.seq;
	list_push(&e->claims.parked, &e->claims.nparked, &e->claims.cap, c);
	/* Looks again in this cycle's part: a job made ready after the
	 * claim's own statement (later in the same cycle), and the time of
	 * the queue's next delayed job. */
	e->claims.dirty = true;
	metrics_gauge_set("job_claims_parked", NULL, (double)e->claims.nparked);
}

size_t engine_claims_parked(const engine *e)
{
	return e->claims.nparked;
}

/* Takes parked claim i off the list, to be answered after the commit. */
static void answer_parked(engine *e, size_t i)
{
	cmd_job_claim *c = e->claims.parked[i];
	memmove(&e->claims.parked[i], &e->claims.parked[i + 1], (e->claims.nparked - i - 1) * sizeof(c));
	e->claims.nparked--;
	list_push(&e->claims.answered, &e->claims.nanswered, &e->claims.answered_cap, c);
	engine_answer_later(e, &c->base);
}

void engine_claims_drain(engine *e, const char *ns, const char *worker_id)
{
	for (size_t i = e->claims.nparked; i-- > 0;) {
		cmd_job_claim *c = e->claims.parked[i];
		if (strcmp(c->namespace, ns) == 0 && strcmp(c->worker_id, worker_id) == 0) {
			c->drain = true;
			answer_parked(e, i);
		}
	}
}

/* The earliest delayed job among the parked claims' queues. */
static int next_ready(engine *e, int64_t now, int64_t *due)
{
	*due = INT64_MAX;
	/* Each distinct (namespace, queue) once. */
	const char **ns = NULL, **qs = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	for (size_t i = 0; i < e->claims.nparked && rc == 0; i++) {
		cmd_job_claim *c = e->claims.parked[i];
		for (size_t k = 0; k < c->nqueues && rc == 0; k++) {
			bool seen = false;
			for (size_t j = 0; j < n && !seen; j++)
				seen = strcmp(ns[j], c->namespace) == 0 && strcmp(qs[j], c->queues[k]) == 0;
			if (seen)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				ns = xrealloc(ns, cap * sizeof *ns);
				qs = xrealloc(qs, cap * sizeof *qs);
			}
			ns[n] = c->namespace;
			qs[n++] = c->queues[k];
			int64_t at = INT64_MAX;
			rc = store_jobs_next_ready(e->w, c->namespace, c->queues[k], now, &at);
			*due = MIN(*due, at);
		}
	}
	free(ns);
	free(qs);
	return rc;
}

/* One step: claims for every parked claim; those that got jobs are
 * answered. */
static int claim_step(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	size_t n = e->claims.nparked;
	cmd_job_claim **cs = xmalloc((n ? n : 1) * sizeof *cs);
	memcpy(cs, e->claims.parked, n * sizeof *cs);
	e->claims.limit_due = INT64_MAX;
	int rc = job_claims_apply(e, cs, n, now);
	if (rc == 0)
		rc = next_ready(e, now, &e->claims.due);
	/* Limited queues: their next token, or a lock tried again. */
	if (rc == 0)
		e->claims.due = MIN(e->claims.due, e->claims.limit_due);
	if (rc != 0) {
		for (size_t i = 0; i < n; i++)
			cmd_job_claim_release(cs[i]);
	}
	free(cs);
	return rc;
}

/* Claims whose clients went away (engine_abandon) are answered with no
 * jobs before any claiming, so that no job goes to a client that is gone
 * and comes back only when its lease expires, an attempt lost. */
static void answer_abandoned(engine *e)
{
	cycle_state *c = &e->cycle;
	for (size_t k = 0; k < c->nabandoned; k++)
		for (size_t i = e->claims.nparked; i-- > 0;)
			if (&e->claims.parked[i]->base == c->abandoned[k]) {
				answer_parked(e, i);
				break;
			}
	c->nabandoned = 0;
}

static void claims_run(engine *e, int64_t now)
{
	answer_abandoned(e);
	if (e->cycle.remote & (STORE_WAKE_QUEUE | STORE_WAKE_STARTS))
		e->claims.dirty = true;
	/* A job of a limited queue ended: a slot may be free, here or on
	 * another node (nothing to look at while no limited queue was met). */
	if (e->claims.nlimited > 0 && engine_limited_slot_freed(e))
		engine_claims_wake(e);
	if (e->claims.nparked == 0) {
		e->claims.dirty = false;
		e->claims.due = INT64_MAX;
		return;
	}
	if (e->claims.dirty || now >= e->claims.due) {
		int rc = engine_step(e, claim_step, NULL, now);
		if (rc == 0) {
			e->claims.dirty = false;
			for (size_t i = e->claims.nparked; i-- > 0;)
				if (e->claims.parked[i]->njobs > 0)
					answer_parked(e, i);
		} else {
			/* Another node's transaction held a lock (look again
			 * shortly), or the step failed (in a second). */
			if (rc != WEFT_ERETRY)
				log_error("engine", "claiming jobs for parked claims failed (%d); will retry", rc);
			e->claims.due = now + (rc == WEFT_ERETRY ? CLAIM_RETRY_US : CLAIM_FAILED_RETRY_US);
			e->claims.dirty = false;
		}
	}
	/* Waits that ended: answered with no jobs. */
	for (size_t i = e->claims.nparked; i-- > 0;)
		if (e->claims.parked[i]->park_until <= now)
			answer_parked(e, i);
}

static int64_t claims_next_wake(const engine *e)
{
	if (e->claims.nparked == 0)
		return INT64_MAX;
	if (e->claims.dirty)
		return INT64_MIN;
	int64_t due = e->claims.due;
	for (size_t i = 0; i < e->claims.nparked; i++)
		due = MIN(due, e->claims.parked[i]->park_until);
	return due;
}

static void claims_finish(engine *e, bool committed)
{
	if (!committed) {
		/* Parked by this cycle: engine_cycle_end answers them with its
		 * error. */
		size_t k = 0;
		for (size_t i = 0; i < e->claims.nparked; i++)
			if (e->claims.parked[i]->parked_seq != e->cycle.seq)
				e->claims.parked[k++] = e->claims.parked[i];
		e->claims.nparked = k;
		/* Answered by this cycle after an earlier one parked them: their
		 * jobs were rolled back, they wait on. */
		for (size_t i = 0; i < e->claims.nanswered; i++) {
			cmd_job_claim *c = e->claims.answered[i];
			if (c->parked_seq == e->cycle.seq)
				continue;
			cmd_job_claim_release(c);
			c->drain = false;       /* a drain of this cycle was rolled back too */
			c->base.parked = true;
			list_push(&e->claims.parked, &e->claims.nparked, &e->claims.cap, c);
		}
		e->claims.dirty = true;
	}
	e->claims.nanswered = 0;
	metrics_gauge_set("job_claims_parked", NULL, (double)e->claims.nparked);
}

/* The engine stops: every parked claim is answered with no jobs. */
static void claims_stop(engine *e)
{
	size_t n = e->claims.nparked;
	e->claims.nparked = 0;
	for (size_t i = 0; i < n; i++) {
		cmd_job_claim *c = e->claims.parked[i];
		c->base.parked = false;
		c->base.result = 0;
		if (c->base.done)
			c->base.done(&c->base, c->base.arg);
	}
}

static void claims_init(engine *e)
{
	e->claims.due = INT64_MAX;
	e->claims.limit_due = INT64_MAX;
}

static void claims_release(engine *e)
{
	free(e->claims.parked);
	free(e->claims.answered);
	free(e->claims.limited);
}

const cycle_part part_claims = {
	.name = "claims",
	.init = claims_init,
	.run = claims_run,
	.next_wake = claims_next_wake,
	.finish = claims_finish,
	.stop = claims_stop,
	.release = claims_release,
};
