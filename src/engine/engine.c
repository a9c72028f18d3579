/*
 * engine.c — the single writer: the command queue, the group commit,
 * savepoints, conflict retries and answers. What a cycle does inside its
 * transaction is the business of the cycle parts (cycle.h); what a command
 * does, of its family (commands/).
 *
 * One cycle:
 *   take every queued command and every job that came back (under mu);
 *   BEGIN;
 *     run each part in the order of cycle.c, each unit of work in a
 *     savepoint of its own (engine_step);
 *   COMMIT (one fsync for all of it);
 *   then launch the jobs the steps queued, apply the metrics they counted,
 *   answer every command, and put the commands that lost a lock conflict
 *   with another node back at the head of the queue.
 * A failed commit drops the jobs and metrics with the transaction, so no
 * webhook announces and no counter counts a state that was not stored.
 * A commit whose outcome is unknown (the connection was lost during
 * COMMIT) parks the cycle until the outcome is known (in_doubt.c): then it
 * ends as committed or as failed; meanwhile no cycle begins, and the
 * commands that arrive are answered WEFT_EUNAVAILABLE at once.
 *
 * The thread sleeps through the clock (util/clock.h) until a command, a
 * job coming back, a wake-up from another node, or the earliest time any
 * part asks for; an advance of the clock wakes it too. Nothing polls.
 *
 * The queue is bounded (ENGINE_QUEUE_MAX): past the bound a command is
 * answered at once with WEFT_EOVERLOADED, and nothing accepted is dropped.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/cycle.h"
#include "engine/engine_internal.h"
#include "engine/commands/command.h"
#include "exec/executor.h"

#define MAX_WAIT_US (60 * 1000000LL)
#define DEFAULT_IDEMPOTENCY_TTL_US (86400 * 1000000LL)
#define DEFAULT_QUEUE_MAX 10000

static void push_ptr(void ***arr, size_t *len, size_t *cap, void *item)
{
	if (*len == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*arr = xrealloc(*arr, *cap * sizeof(void *));
	}
	(*arr)[(*len)++] = item;
}

static void answer(engine_cmd *cmd)
{
	if (cmd->done)
		cmd->done(cmd, cmd->arg);
}

/* ---- jobs ------------------------------------------------------------------ */

/* Jobs back within this time on average, and none out for longer, may
 * have `ahead` more out. */
#define WINDOW_AHEAD_BACK_US (20 * 1000LL)

size_t engine_window_room(const engine_window *w, int64_t now)
{
	size_t busy = w->queued + w->in_flight, limit = MAX(w->limit, 1);
	if (w->ahead > 0 && w->back_us <= WINDOW_AHEAD_BACK_US &&
	    (w->oldest == NULL || now - w->oldest->launched_us <= WINDOW_AHEAD_BACK_US))
		limit += w->ahead;
	return busy >= limit ? 0 : limit - busy;
}

void engine_window_init(engine_window *w, size_t limit, size_t ahead)
{
	*w = (engine_window){ .limit = MAX(limit, 1), .ahead = ahead, .back_us = INT64_MAX };
}

static void window_out(engine_window *w, engine_job *j, int64_t now)
{
	j->launched_us = now;
	j->out_prev = w->newest;
	j->out_next = NULL;
	if (w->newest != NULL)
		w->newest->out_next = j;
	else
		w->oldest = j;
	w->newest = j;
	w->queued--;
	w->in_flight++;
}

static void window_back(engine_window *w, engine_job *j, int64_t now)
{
	if (j->out_prev != NULL)
		j->out_prev->out_next = j->out_next;
	else if (w->oldest == j)
		w->oldest = j->out_next;
	if (j->out_next != NULL)
		j->out_next->out_prev = j->out_prev;
	else if (w->newest == j)
		w->newest = j->out_prev;
	j->out_prev = j->out_next = NULL;
	w->in_flight -= MIN(w->in_flight, 1);
	int64_t took = MAX(now - j->launched_us, 0);
	w->back_us = w->back_us == INT64_MAX ? took : (7 * w->back_us + took) / 8;
}

void engine_launch(engine *e, engine_job *j)
{
	if (j->window)
		j->window->queued++;
	push_ptr((void ***)&e->fx, &e->nfx, &e->fxcap, j);
}

/* Drops the jobs queued after `mark` (their step was rolled back). */
static void jobs_truncate(engine *e, size_t mark)
{
	while (e->nfx > mark) {
		engine_job *j = e->fx[--e->nfx];
		if (j->window)
			j->window->queued--;
		j->ops->free(j);
	}
}

static void jobs_launch(engine *e)
{
	int64_t now = clock_mono_us();
	for (size_t i = 0; i < e->nfx; i++) {
		engine_job *j = e->fx[i];
		if (j->window)
			window_out(j->window, j, now);
		if (j->holds_task)
			id_set_add(&e->start_tasks, &j->task_id);
		j->ops->launch(e, j);
	}
	e->nfx = 0;
}

void engine_job_done(engine *e, engine_job *j)
{
	pthread_mutex_lock(&e->mu);
	push_ptr((void ***)&e->done, &e->dlen, &e->dcap, j);
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

/* A job that came back no longer holds its slot, whatever the fate of the
 * cycle that applies it: if that cycle fails, a start's task stays claimed
 * (its claim deadline requeues it) and a delivery's lease expires. */
static void job_landed(engine *e, engine_job *j, int64_t now)
{
	if (j->window)
		window_back(j->window, j, now);
	if (j->holds_task)
		id_set_remove(&e->start_tasks, &j->task_id);
	if (j->ops->landed)
		j->ops->landed(e, j);
}

/* ---- steps ----------------------------------------------------------------- */

int engine_step(engine *e, engine_step_fn fn, void *arg, int64_t now)
{
	size_t fx_mark = e->nfx, metric_mark = e->metrics.len;
	int rc = store_savepoint(e->w);
	if (rc != 0)
		return rc;
	rc = fn(e, arg, now);
	if (rc == 0 && e->faults.fail_part && e->cycle.part && strcmp(e->faults.fail_part, e->cycle.part) == 0) {
		e->faults.fail_part = NULL;
		rc = WEFT_ESTORE;
	}
	/* The release can fail too: a backend may send writes without waiting
	 * and learn of their failure only there. */
	if (rc == 0)
		rc = store_savepoint_release(e->w);
	if (rc != 0) {
		store_savepoint_rollback(e->w);     /* also releases it */
		jobs_truncate(e, fx_mark);
		metric_journal_truncate(&e->metrics, metric_mark);
	}
	if (rc == WEFT_ERETRY)
		metrics_inc("engine_conflict_retries_total", NULL, 1);
	return rc;
}

/* ---- groups of items of one kind ------------------------------------------------ */

typedef struct group_call {
	const engine_group_ops *ops;
	void **items;
	size_t n;
} group_call;

static int group_many(engine *e, void *arg, int64_t now)
{
	group_call *c = arg;
	return c->ops->many(e, c->items, c->n, now);
}

static int group_one(engine *e, void *arg, int64_t now)
{
	group_call *c = arg;
	return c->ops->one(e, c->items[0], now);
}

static void apply_group(engine *e, const engine_group_ops *ops, void **items, size_t n, int64_t now)
{
	if (n > 1 && ops->has_many(items[0])) {
		group_call call = { ops, items, n };
		int rc = engine_step(e, group_many, &call, now);
		if (rc == 0 || rc == WEFT_ERETRY || rc == WEFT_EUNAVAILABLE) {
			/* Done; or, after a conflict, all of them again in the next
			 * cycle, when this one's commit has released what the other
			 * node waits for; or the database is gone for all of them. */
			for (size_t i = 0; i < n; i++)
				ops->done(e, items[i], rc);
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		group_call call = { ops, &items[i], 1 };
		ops->done(e, items[i], engine_step(e, group_one, &call, now));
	}
}

void engine_apply_groups(engine *e, void *const *items, size_t n, const engine_group_ops *ops, int64_t now)
{
	if (n == 0)
		return;
	/* Kinds are few (one per op or kind): a linear look-up suffices. */
	const void **keys = xmalloc(n * sizeof *keys);
	size_t *kind = xmalloc(n * sizeof *kind), *count = xcalloc(n + 1, sizeof *count);
	size_t nkinds = 0;
	for (size_t i = 0; i < n; i++) {
		const void *k = ops->key(items[i]);
		size_t g = 0;
		while (g < nkinds && keys[g] != k)
			g++;
		if (g == nkinds)
			keys[nkinds++] = k;
		kind[i] = g;
		count[g + 1]++;
	}
	for (size_t g = 0; g < nkinds; g++)
		count[g + 1] += count[g];          /* where each kind starts */
	void **sorted = xmalloc(n * sizeof *sorted);
	size_t *at = xmalloc(n * sizeof *at);
	memcpy(at, count, nkinds * sizeof *at);
	for (size_t i = 0; i < n; i++)
		sorted[at[kind[i]]++] = items[i];
	for (size_t g = 0; g < nkinds; g++)
		apply_group(e, ops, sorted + count[g], count[g + 1] - count[g], now);
	free(at);
	free(sorted);
	free(count);
	free(kind);
	free(keys);
}

/* ---- the cycle --------------------------------------------------------------- */

static int commit(engine *e)
{
	if (e->faults.fail_commits > 0) {
		e->faults.fail_commits--;
		store_rollback(e->w);
		return WEFT_ESTORE;
	}
	int rc;
	if (e->faults.doubt) {
		e->faults.doubt = false;
		rc = e->faults.doubt_committed ? store_commit(e->w) : store_rollback(e->w);
		if (rc == 0) {
			e->doubt.injected = true;
			return WEFT_EINDOUBT;
		}
	} else {
		rc = store_commit(e->w);
	}
	if (rc != 0)
		store_rollback(e->w);     /* on a lost connection: nothing to do */
	return rc;
}

static void run_cycle(engine *e)
{
	cycle_state *c = &e->cycle;
	int64_t t0 = clock_mono_us();
	int64_t now = clock_now_us();
	c->seq++;
	c->now = now;
	c->notify = 0;
	c->nanswer = c->nretry = 0;
	for (size_t i = 0; i < c->njobs; i++)
		job_landed(e, c->jobs[i], t0);

	int rc = store_begin(e->w);
	if (rc == 0) {
		for (size_t i = 0; i < cycle_nparts; i++) {
			const cycle_part *p = cycle_parts[i];
			if (p->leader_only && !e->leader)
				continue;
			c->part = p->name;
			e->actor = "system";
			p->run(e, now);
		}
		c->part = NULL;
		rc = commit(e);
		if (rc != 0 && rc != WEFT_EINDOUBT)
			metrics_inc("engine_commit_failures_total", NULL, 1);
	}
	if (rc == WEFT_EINDOUBT)
		in_doubt_park(e, now);
	else
		engine_cycle_end(e, rc);

	metrics_inc("worker_loop_iterations_total", NULL, 1);
	metrics_observe("worker_loop_duration_seconds", NULL, (double)(clock_mono_us() - t0) / 1e6);
	if (c->ncmds)
		metrics_observe("engine_commands_per_commit", NULL, (double)c->ncmds);
}

void engine_on_commit(engine *e, engine_commit_fn fn, void *arg)
{
	pthread_mutex_lock(&e->commit_mu);
	e->on_commit = fn;
	e->on_commit_arg = arg;
	pthread_mutex_unlock(&e->commit_mu);
}

/* The tasks the commit changed, to whoever listens (the change feed). */
static void publish_changes(engine *e)
{
	store_changes ch = store_changes_of(e->w);
	if (ch.n == 0 && ch.nruns == 0 && !ch.overflow)
		return;
	pthread_mutex_lock(&e->commit_mu);
	if (e->on_commit != NULL)
		e->on_commit(e->on_commit_arg, &ch);
	pthread_mutex_unlock(&e->commit_mu);
}

void engine_cycle_end(engine *e, int rc)
{
	cycle_state *c = &e->cycle;
	if (rc == 0) {
		e->backoff_until = 0;
		jobs_launch(e);
		metric_journal_apply(&e->metrics);
		publish_changes(e);
	} else {
		log_error("engine", "transaction failed (%d): %zu commands answered with an error", rc, c->ncmds);
		jobs_truncate(e, 0);
		metric_journal_truncate(&e->metrics, 0);
		if (rc == WEFT_EUNAVAILABLE)
			e->backoff_until = clock_now_us() + ENGINE_UNAVAILABLE_BACKOFF_US;
		/* Nothing of the cycle was written: every command, also one put
		 * back after a conflict, is answered with the cycle's error. */
		c->nanswer = c->nretry = 0;
		for (size_t i = 0; i < c->ncmds; i++) {
			c->cmds[i]->result = rc == WEFT_EUNAVAILABLE ? WEFT_EUNAVAILABLE : WEFT_ESTORE;
			c->cmds[i]->noop = false;
			push_ptr((void ***)&c->answer, &c->nanswer, &c->answer_cap, c->cmds[i]);
		}
	}
	for (size_t i = 0; i < cycle_nparts; i++)
		if (cycle_parts[i]->finish)
			cycle_parts[i]->finish(e, rc == 0);
	c->njobs = 0;      /* freed by the results part */

	for (size_t i = 0; i < c->nanswer; i++)
		answer(c->answer[i]);
	pthread_mutex_lock(&e->mu);
	if (c->nretry) {
		/* Back at the head of the queue, in their order; they were accepted
		 * already, so the queue's bound does not apply to them. */
		size_t need = e->qlen + c->nretry;
		if (need > e->qcap) {
			e->qcap = need;
			e->queue = xrealloc(e->queue, e->qcap * sizeof(*e->queue));
		}
		if (e->qlen)
			memmove(e->queue + c->nretry, e->queue, e->qlen * sizeof(*e->queue));
		memcpy(e->queue, c->retry, c->nretry * sizeof(*e->queue));
		e->qlen = need;
		e->stats.queue_len = e->qlen;
	}
	e->stats.cycles++;
	e->stats.commands += c->ncmds - c->nretry;
	e->stats.commits += rc == 0;
	e->stats.starts_in_flight = e->start_tasks.len;
	pthread_mutex_unlock(&e->mu);
}

/* The earliest time a part needs a cycle without new input. */
static int64_t next_wake(const engine *e)
{
	int64_t due = INT64_MAX;
	for (size_t i = 0; i < cycle_nparts; i++) {
		const cycle_part *p = cycle_parts[i];
		if (p->next_wake && (!p->leader_only || e->leader))
			due = MIN(due, p->next_wake(e));
	}
	return MAX(due, e->backoff_until);
}

/* While a cycle is parked, the commands that arrive are answered at once:
 * nothing can begin before its outcome is known. */
static void refuse_queued(engine *e)
{
	pthread_mutex_lock(&e->mu);
	size_t n = e->qlen;
	if (n > e->doubt.refused_cap) {
		e->doubt.refused_cap = n;
		e->doubt.refused = xrealloc(e->doubt.refused, n * sizeof(*e->doubt.refused));
	}
	if (n)
		memcpy(e->doubt.refused, e->queue, n * sizeof(*e->queue));
	e->qlen = 0;
	e->stats.queue_len = 0;
	pthread_mutex_unlock(&e->mu);
	if (n == 0)
		return;
	metrics_gauge_set("engine_queue_depth", NULL, 0);
	for (size_t i = 0; i < n; i++) {
		engine_cmd *cmd = e->doubt.refused[i];
		cmd->result = WEFT_EUNAVAILABLE;
		cmd->noop = false;
		answer(cmd);
	}
}

static void *engine_main(void *arg)
{
	engine *e = arg;
	cycle_state *c = &e->cycle;
	size_t ccap = 0;

	for (;;) {
		pthread_mutex_lock(&e->mu);
		for (;;) {
			/* Parked, only a command or the next attempt wakes the thread;
			 * jobs that come back and other nodes' news wait for the end
			 * of the parked cycle. */
			if (e->qlen || (!e->doubt.parked && (e->dlen || e->remote_wake || e->nabandoned)))
				break;
			if (e->stopping) {
				pthread_mutex_unlock(&e->mu);
				goto out;
			}
			int64_t due = e->doubt.parked ? e->doubt.next_try : next_wake(e);
			if (due <= clock_now_us())
				break;
			clock_wait_until(&e->waiter, due, MAX_WAIT_US);
		}
		pthread_mutex_unlock(&e->mu);
		if (e->doubt.parked && !in_doubt_try(e, false)) {
			refuse_queued(e);
			continue;
		}
		pthread_mutex_lock(&e->mu);
		/* Swap the queues out so producers never wait for a transaction. */
		if (e->qlen > ccap) {
			ccap = e->qlen;
			c->cmds = xrealloc(c->cmds, ccap * sizeof(*c->cmds));
		}
		if (e->qlen)
			memcpy(c->cmds, e->queue, e->qlen * sizeof(*c->cmds));
		c->ncmds = e->qlen;
		for (size_t i = 0; i < e->dlen; i++)
			push_ptr((void ***)&c->jobs, &c->njobs, &c->jobs_cap, e->done[i]);
		c->remote = e->remote_wake;
		for (size_t i = 0; i < e->nabandoned; i++)
			push_ptr((void ***)&c->abandoned, &c->nabandoned, &c->abandoned_cap, e->abandoned[i]);
		e->nabandoned = 0;
		if (e->faults_set) {
			e->faults = e->faults_next;
			e->faults_set = false;
		}
		e->qlen = e->dlen = 0;
		e->remote_wake = 0;
		e->stats.queue_len = 0;
		pthread_mutex_unlock(&e->mu);
		metrics_gauge_set("engine_queue_depth", NULL, 0);

		run_cycle(e);
	}
out:
	/* Stopping: one last attempt, else the outcome stays unknown; the
	 * commands it would put back cannot run any more. */
	if (e->doubt.parked) {
		in_doubt_try(e, true);
		refuse_queued(e);
	}
	return NULL;
}

/* ---- public API ---------------------------------------------------------------- */

void engine_abandon(engine *e, engine_cmd *cmd)
{
	pthread_mutex_lock(&e->mu);
	push_ptr((void ***)&e->abandoned, &e->nabandoned, &e->abandoned_cap, cmd);
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

/* The store's listener thread: another node committed, or leadership moved. */
static void engine_wake_remote(void *arg, unsigned what)
{
	engine *e = arg;
	pthread_mutex_lock(&e->mu);
	e->remote_wake |= what;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

engine *engine_new(const engine_config *cfg, store *st, dispatcher *disp)
{
	engine *e = xcalloc(1, sizeof(*e));
	e->cfg = *cfg;
	if (e->cfg.start_window <= 0)
		e->cfg.start_window = 1;
	if (e->cfg.queue_max <= 0)
		e->cfg.queue_max = DEFAULT_QUEUE_MAX;
	if (e->cfg.idempotency_ttl_us <= 0)
		e->cfg.idempotency_ttl_us = DEFAULT_IDEMPOTENCY_TTL_US;
	e->st = st;
	e->w = store_writer(st);
	e->disp = disp;
	clock_cond_init(&e->cv);
	pthread_mutex_init(&e->mu, NULL);
	pthread_mutex_init(&e->commit_mu, NULL);
	clock_waiter_register(&e->waiter, &e->mu, &e->cv);
	e->shared = store_shared(st);
	e->leader = !e->shared;
	e->actor = "system";
	engine_metrics_define();
	executors_attach(e);
	for (size_t i = 0; i < cycle_nparts; i++)
		if (cycle_parts[i]->init)
			cycle_parts[i]->init(e);
	store_set_wakeup(st, engine_wake_remote, e);
	return e;
}

int engine_start(engine *e)
{
	int64_t now = clock_now_us();
	for (size_t i = 0; i < cycle_nparts; i++) {
		int rc = cycle_parts[i]->start ? cycle_parts[i]->start(e, now) : 0;
		if (rc != 0)
			return rc;
	}
	if (pthread_create(&e->thread, NULL, engine_main, e) != 0)
		return WEFT_EINTERNAL;
	pthread_setname_np(e->thread, "weft-engine");   /* for top -H, perf and gdb */
	e->thread_started = true;
	return 0;
}

void engine_stop(engine *e)
{
	pthread_mutex_lock(&e->mu);
	e->stopping = true;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
	if (e->thread_started) {
		pthread_join(e->thread, NULL);
		e->thread_started = false;
	}
	for (size_t i = 0; i < cycle_nparts; i++)
		if (cycle_parts[i]->stop)
			cycle_parts[i]->stop(e);
}

void engine_answer_later(engine *e, engine_cmd *cmd)
{
	cycle_state *c = &e->cycle;
	cmd->parked = false;
	push_ptr((void ***)&c->answer, &c->nanswer, &c->answer_cap, cmd);
}

void engine_free(engine *e)
{
	if (!e)
		return;
	engine_stop(e);
	/* The store's listener thread may be calling engine_wake_remote right
	 * now: once this returns it no longer does, and never will again. */
	store_set_wakeup(e->st, NULL, NULL);
	clock_waiter_unregister(&e->waiter);
	/* Jobs never launched (they hold their executor's window), then the
	 * executors, whose threads may still hand jobs back until then. */
	jobs_truncate(e, 0);
	executors_detach(e);
	/* Jobs that came back after the stop: a start's task stays claimed and
	 * is requeued by its claim deadline at the next start; a delivery's
	 * lease expires. */
	for (size_t i = 0; i < e->dlen; i++)
		e->done[i]->ops->free(e->done[i]);
	for (size_t i = 0; i < cycle_nparts; i++)
		if (cycle_parts[i]->release)
			cycle_parts[i]->release(e);
	metric_journal_release(&e->metrics);
	free(e->fx);
	free(e->done);
	free(e->abandoned);
	free(e->cycle.abandoned);
	free(e->queue);
	free(e->cycle.cmds);
	free(e->cycle.answer);
	free(e->cycle.retry);
	free(e->cycle.jobs);
	free(e->doubt.refused);
	id_set_release(&e->start_tasks);
	pthread_mutex_destroy(&e->mu);
	pthread_mutex_destroy(&e->commit_mu);
	pthread_cond_destroy(&e->cv);
	free(e);
}

void engine_submit(engine *e, engine_cmd *cmd)
{
	pthread_mutex_lock(&e->mu);
	if (e->stopping || e->qlen >= (size_t)e->cfg.queue_max) {
		bool stopping = e->stopping;
		pthread_mutex_unlock(&e->mu);
		cmd->result = stopping ? WEFT_EUNAVAILABLE : WEFT_EOVERLOADED;
		if (!stopping)
			metrics_inc("engine_commands_rejected_total", NULL, 1);
		answer(cmd);
		return;
	}
	if (e->qlen == e->qcap) {
		e->qcap = e->qcap ? e->qcap * 2 : 256;
		e->queue = xrealloc(e->queue, e->qcap * sizeof(*e->queue));
	}
	e->queue[e->qlen++] = cmd;
	e->stats.queue_len = e->qlen;
	size_t depth = e->qlen;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
	metrics_gauge_set("engine_queue_depth", NULL, (int64_t)depth);
}

typedef struct call_waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
} call_waiter;

static void call_done(engine_cmd *cmd, void *arg)
{
	UNUSED(cmd);
	call_waiter *w = arg;
	pthread_mutex_lock(&w->mu);
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void engine_call(engine *e, engine_cmd *cmd)
{
	call_waiter w = { .done = false };
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	cmd->done = call_done;
	cmd->arg = &w;
	engine_submit(e, cmd);
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	cmd->done = NULL;
}

/* engine_sync(): a command that changes nothing; its answer comes after a
 * whole cycle that started after it was queued. */
static int apply_sync(engine *e, engine_cmd *cmd, int64_t now)
{
	UNUSED(e);
	UNUSED(now);
	cmd->result = 0;
	return 0;
}

static const engine_op op_sync = { .name = "engine.sync", .apply = apply_sync,
                                   .failure_metric = "tasks_db_save_failures_total" };

int engine_sync(engine *e)
{
	engine_cmd cmd = { .op = &op_sync, .actor = "system" };
	engine_call(e, &cmd);
	return cmd.result;
}

void engine_test_faults(engine *e, int fail_commits, const char *fail_part)
{
	pthread_mutex_lock(&e->mu);
	e->faults_next = (engine_faults){ .fail_commits = fail_commits, .fail_part = fail_part };
	e->faults_set = true;
	pthread_mutex_unlock(&e->mu);
}

void engine_test_doubt(engine *e, bool committed, int unreachable)
{
	pthread_mutex_lock(&e->mu);
	e->faults_next = (engine_faults){ .doubt = true, .doubt_committed = committed,
		                          .doubt_unreachable = unreachable };
	e->faults_set = true;
	pthread_mutex_unlock(&e->mu);
}

const char *engine_cmd_name(const engine_cmd *cmd)
{
	return cmd->op ? cmd->op->name : "unknown";
}

void engine_get_stats(engine *e, engine_stats *out)
{
	pthread_mutex_lock(&e->mu);
	*out = e->stats;
	pthread_mutex_unlock(&e->mu);
}
