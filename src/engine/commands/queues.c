/*
 * queues.c — the queue commands (queues.h), and how a claim takes from
 * one queue: the plain set-based claim, and for a queue with limits the
 * limited claim (store/queue_limits.c).
 *
 * The plain claim statement gives nothing from a paused or limited queue
 * (it checks the queue row it already reads for pause), so correctness
 * never depends on what the engine remembers. Only when it gives nothing
 * is the queue's row read, once, to learn whether limits apply; a queue
 * being drained never pays for it. The engine remembers the limited
 * queues it met (at most CLAIMS_LIMITED_MAX) for one purpose: when a job
 * of one of them ends, a slot may have freed, so parked claims look again
 * and the other nodes hear of it.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "engine/engine_internal.h"
#include "engine/commands/command.h"
#include "engine/commands/queues.h"
#include "engine/audit.h"
#include "store/jobs.h"
#include "store/queues.h"

ENGINE_CMD_BASE_FIRST(cmd_queue);

/* After another node held a limited queue's lock: when to look again. */
#define LIMITED_RETRY_US (20 * 1000LL)
#define CLAIMS_LIMITED_MAX 256

static const char *const action_names[] = {
	[QUEUE_PAUSE] = "pause",
	[QUEUE_RESUME] = "resume",
	[QUEUE_CONFIGURE] = "configure",
};

static const char *const audit_actions[] = {
	[QUEUE_PAUSE] = "queue.pause",
	[QUEUE_RESUME] = "queue.resume",
	[QUEUE_CONFIGURE] = "queue.update",
};

static int apply_queue(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_queue *c = engine_cmd_of(cmd, cmd_queue);
	queue_update u = {
		.ns = c->namespace, .name = c->name, .limits = c->limits, .set = c->set,
		.paused = c->action == QUEUE_PAUSE ? 1 : c->action == QUEUE_RESUME ? 0 : -1,
		.actor = cmd->actor ? cmd->actor : "api", .action = action_names[c->action], .detail = c->detail,
	};
	int rc = store_queue_update(e->w, &u, now);
	if (rc == 0)
		rc = audit_record_in(e, c->namespace, cmd->actor, audit_actions[c->action], "queue", c->name, c->detail);
	if (rc != 0)
		return rc;
	/* Resumed, or limits changed: parked claims look again, on every node. */
	engine_claims_wake(e);
	log_info("engine", "queue %s/%s: %s by %s", c->namespace, c->name, u.action, u.actor);
	cmd->result = 0;
	return 0;
}

static const engine_op op_queue = { .name = "queue.update", .apply = apply_queue,
                                    .failure_metric = "tasks_db_save_failures_total" };

void cmd_queue_init(cmd_queue *c, queue_action action)
{
	*c = (cmd_queue){ .base.op = &op_queue, .action = action };
}

const command_family family_queues = { .name = "queues" };

/* ---- limited queues the engine met --------------------------------------------------- */

static size_t limited_find(const engine *e, const char *ns, const char *q)
{
	for (size_t i = 0; i < e->claims.nlimited; i++)
		if (strcmp(e->claims.limited[i].ns, ns) == 0 && strcmp(e->claims.limited[i].queue, q) == 0)
			return i;
	return SIZE_MAX;
}

static void limited_note(engine *e, const char *ns, const char *q, bool limited)
{
	size_t i = limited_find(e, ns, q);
	if (!limited) {
		if (i != SIZE_MAX)
			e->claims.limited[i] = e->claims.limited[--e->claims.nlimited];
		return;
	}
	if (i != SIZE_MAX)
		return;
	if (e->claims.nlimited == CLAIMS_LIMITED_MAX)
		e->claims.nlimited--;                 /* forget one: the sweep still wakes its claims */
	if (e->claims.limited == NULL)
		e->claims.limited = xcalloc(CLAIMS_LIMITED_MAX, sizeof *e->claims.limited);
	engine_limited_queue *x = &e->claims.limited[e->claims.nlimited++];
	snprintf(x->ns, sizeof x->ns, "%s", ns);
	snprintf(x->queue, sizeof x->queue, "%s", q);
}

bool engine_limited_slot_freed(engine *e)
{
	for (size_t i = 0; i < e->claims.nlimited; i++)
		if (queue_stats_noted(e->w, e->claims.limited[i].ns, e->claims.limited[i].queue))
			return true;
	return false;
}

/* How long each claimed job could have been claimed (the metrics history's
 * start latency of a job). */
static void observe_claim_waits(engine *e, const job_claimed_row *rows, size_t n, int64_t now)
{
	for (size_t i = 0; i < n; i++)
		engine_observe(e, "job_claim_wait_seconds", NULL, (double)MAX(now - rows[i].start_after, 0) / 1e6);
}

int job_claim_queue(engine *e, const char *ns, const char *q, int64_t now, const job_claim_range *r, size_t nr,
                    job_claimed_row **rows, size_t *n)
{
	int rc = store_jobs_claim(e->w, ns, q, now, r, nr, rows, n);
	if (rc == 0)
		observe_claim_waits(e, *rows, *n, now);
	if (rc != 0 || *n > 0)
		return rc;
	/* Nothing: the queue is empty, paused, or limited. */
	queue_row row;
	rc = store_queue_get(e->w, ns, q, &row);
	if (rc == WEFT_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	bool limited = queue_limits_any(&row.limits);
	limited_note(e, ns, q, limited);
	if (limited && !row.paused) {
		store_free_claimed(*rows, *n);
		*rows = NULL;
		*n = 0;
		/* The queue's lock, tried: another node claiming from it now
		 * makes this one look again shortly. */
		bool got = false;
		rc = store_queue_lock(e->w, ns, q, &got);
		if (rc == 0 && !got)
			e->claims.limit_due = MIN(e->claims.limit_due, now + LIMITED_RETRY_US);
		if (rc == 0 && got) {
			limited_claim_info info = { .clock = clock_now_us };
			rc = store_jobs_claim_limited(e->w, ns, q, &row.limits, now, r, nr, rows, n, &info);
			if (rc == 0)
				observe_claim_waits(e, *rows, *n, now);
			if (rc == 0)
				e->claims.limit_due = MIN(e->claims.limit_due, info.next_token_at);
		}
	}
	queue_row_release(&row);
	return rc;
}
