/*
 * jobs.c — the job commands (jobs.h). Each op applies the commands of a
 * cycle as one set: an enqueue set is one insert per job (a COPY on
 * PostgreSQL) and a statement or two for dedup keys and queue rows; the
 * claims of a cycle are one statement per queue and round (claims for
 * several queues take from them in the order listed); the completes of a
 * cycle are one fenced UPDATE; fails, releases and heartbeats a few more.
 * A report whose token is not its job's current one changes nothing and
 * is told why (jobs.h). Plain jobs (shape 0: no parents, children or
 * webhooks) end without the DAG and outbox statements.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/metrics.h"
#include "engine/engine_internal.h"
#include "engine/retry.h"
#include "engine/commands/command.h"
#include "engine/commands/jobs.h"

ENGINE_CMD_BASE_FIRST(cmd_job_enqueue);
ENGINE_CMD_BASE_FIRST(cmd_job_claim);
ENGINE_CMD_BASE_FIRST(cmd_job_heartbeat);
ENGINE_CMD_BASE_FIRST(cmd_job_complete);
ENGINE_CMD_BASE_FIRST(cmd_job_fail);
ENGINE_CMD_BASE_FIRST(cmd_job_release);

#define SEC 1000000LL

static const char *const outcome_names[] = {
	[JOB_OUTCOME_NONE] = "none",
	[JOB_COMPLETED] = "completed",
	[JOB_ALREADY_COMPLETED] = "already_completed",
	[JOB_RETRYING] = "retrying",
	[JOB_DEAD_LETTERED] = "dead_lettered",
	[JOB_ALREADY_FAILED] = "already_failed",
	[JOB_RELEASED] = "released",
	[JOB_STALE_LEASE] = "stale_lease",
	[JOB_CANCELED] = "canceled",
	[JOB_NOT_FOUND] = "not_found",
};

const char *job_outcome_name(job_outcome o)
{
	return (size_t)o < ARRAY_LEN(outcome_names) ? outcome_names[o] : "none";
}

const char *job_lease_state_name(job_lease_state s)
{
	switch (s) {
	case JOB_LEASE_HELD: return "held";
	case JOB_LEASE_CANCELED: return "canceled";
	case JOB_LEASE_LOST: return "lost";
	case JOB_LEASE_NOT_FOUND: return "not_found";
	default: return "none";
	}
}

void job_spec_init(job_spec *s)
{
	*s = (job_spec){
		.max_attempts = JOB_MAX_ATTEMPTS_DEFAULT,
		.backoff_initial_us = 1 * SEC,
		.backoff_coefficient = 2.0,
		.backoff_max_us = 60 * SEC,
		.backoff_jitter = 0.1,
		.timeout_secs = JOB_TIMEOUT_DEFAULT,
	};
}

/* The namespaces a report may touch, as the store takes them (NULL: any). */
static const char *const *visible_names(const job_visibility *v, size_t *n)
{
	*n = v->all ? 0 : v->n;
	if (v->all)
		return NULL;
	static const char *const none[] = { "" };
	return v->n ? v->names : none;    /* an empty list sees nothing */
}

/* ---- retries ------------------------------------------------------------------------- */

bool job_retry_plan(const task_row *t, const char *code, bool retryable, int64_t retry_after_us, int64_t now,
                    int32_t *attempt, int64_t *next_at)
{
	retry_policy p;
	if (!retryable || t->retry_policy == NULL || retry_policy_parse(t->retry_policy, &p) != 0)
		return false;
	if (retry_code_non_retryable(t->retry_policy, code))
		return false;
	int32_t used = MAX(MAX(t->attempt, 1) - 1 - t->retry_base, 0);
	if (p.max_retries >= 0 && used >= p.max_retries)
		return false;
	int64_t cap = (int64_t)(p.max_delay_secs * 1e6);
	int64_t delay = retry_after_us >= 0 ? MIN(retry_after_us, cap) : retry_delay_us(&p, used);
	*attempt = MAX(t->attempt, 1) + 1;
	*next_at = now + delay;
	return true;
}

/* ---- enqueue ----------------------------------------------------------------------------- */

/* The first spec of the set with the same (namespace, queue, dedup key)
 * before spec j of command i, or NULL. */
typedef struct spec_ref {
	const char *ns;
	job_spec *s;
	job_spec *first;            /* the spec that answers for it: itself when it leads */
	size_t dedup;               /* its index in the dedup requests, when it leads a key */
	bool has_dedup;
} spec_ref;

static bool same_key(const spec_ref *a, const spec_ref *b)
{
	return a->s->dedup_scope != JOB_DEDUP_NONE && b->s->dedup_scope != JOB_DEDUP_NONE &&
	       strcmp(a->ns, b->ns) == 0 && strcmp(a->s->queue, b->s->queue) == 0 &&
	       strcmp(a->s->dedup_key, b->s->dedup_key) == 0;
}

static int enqueue_many(engine *e, engine_cmd **cmds, size_t n, int64_t now)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += engine_cmd_of(cmds[i], cmd_job_enqueue)->njobs;
	spec_ref *refs = xcalloc(total ? total : 1, sizeof *refs);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		cmd_job_enqueue *c = engine_cmd_of(cmds[i], cmd_job_enqueue);
		c->created = 0;
		for (size_t j = 0; j < c->njobs; j++, k++) {
			refs[k] = (spec_ref){ .ns = c->namespace, .s = &c->jobs[j] };
			refs[k].s->duplicate = false;
			id_new_v7(&refs[k].s->id);
			refs[k].s->run_id = refs[k].s->id;
			refs[k].s->status = TS_PENDING;
			refs[k].first = refs[k].s;
		}
	}
	/* Dedup within the set: the first spec of a key answers for the later
	 * ones. The set is at most a few thousand specs, and keys are rare. */
	job_dedup_req *dreq = xcalloc(total ? total : 1, sizeof *dreq);
	const char **dns = xcalloc(total ? total : 1, sizeof *dns);
	size_t nd = 0;
	for (size_t x = 0; x < total; x++) {
		if (refs[x].s->dedup_scope == JOB_DEDUP_NONE || refs[x].s->dedup_key == NULL)
			continue;
		for (size_t y = 0; y < x; y++)
			if (refs[y].first == refs[y].s && same_key(&refs[y], &refs[x])) {
				refs[x].first = refs[y].s;
				break;
			}
		if (refs[x].first != refs[x].s)
			continue;
		refs[x].has_dedup = true;
		refs[x].dedup = nd;
		dns[nd] = refs[x].ns;
		dreq[nd++] = (job_dedup_req){
			.queue = refs[x].s->queue, .key = refs[x].s->dedup_key, .task_id = refs[x].s->id,
			.expires_at = refs[x].s->dedup_scope == JOB_DEDUP_WINDOW ? now + refs[x].s->dedup_window_us : 0,
		};
	}
	int rc = 0;
	/* One dedup statement per namespace of the set. */
	for (size_t a = 0; a < nd && rc == 0; a++) {
		if (dns[a] == NULL)
			continue;
		const char *ns = dns[a];
		job_dedup_req *grp = xcalloc(nd, sizeof *grp);
		size_t *pos = xcalloc(nd, sizeof *pos);
		size_t m = 0;
		for (size_t b = a; b < nd; b++)
			if (dns[b] != NULL && strcmp(dns[b], ns) == 0) {
				pos[m] = b;
				grp[m++] = dreq[b];
				dns[b] = NULL;
			}
		rc = store_jobs_dedup(e->w, ns, grp, m, now);
		for (size_t b = 0; b < m && rc == 0; b++)
			dreq[pos[b]] = grp[b];
		free(pos);
		free(grp);
	}
	/* The jobs to insert: leaders whose key was free, and every spec
	 * without a key. */
	job_new *rows = xcalloc(total ? total : 1, sizeof *rows);
	char **policies = xcalloc(total ? total : 1, sizeof *policies);
	size_t nrows = 0;
	for (size_t x = 0; x < total && rc == 0; x++) {
		job_spec *s = refs[x].s;
		if (refs[x].first != s)
			continue;
		if (refs[x].has_dedup && !dreq[refs[x].dedup].taken) {
			s->duplicate = true;
			s->id = dreq[refs[x].dedup].owner;
			s->run_id = s->id;
			s->status = dreq[refs[x].dedup].owner_status;
			continue;
		}
		size_t at = nrows++;
		policies[at] = retry_policy_job_json(s->max_attempts, s->backoff_initial_us, s->backoff_coefficient,
		                                        s->backoff_max_us, s->backoff_jitter, s->non_retryable,
		                                        s->nnon_retryable);
		rows[at] = (job_new){
			.id = s->id, .namespace = refs[x].ns, .queue = s->queue, .name = s->name, .input = s->input,
			.metadata = s->metadata, .retry_policy = policies[at], .concurrency_key = s->concurrency_key,
			.rate_key = s->rate_key, .priority = s->priority, .timeout_secs = s->timeout_secs,
			.created_at = now,
			.start_after = s->run_at_us ? s->run_at_us : now + MAX(s->delay_us, 0),
		};
	}
	/* Later specs of a key answer as their leader did. */
	for (size_t x = 0; x < total && rc == 0; x++) {
		job_spec *s = refs[x].s, *f = refs[x].first;
		if (f == s)
			continue;
		s->duplicate = true;
		s->id = f->id;
		s->run_id = f->run_id;
		s->status = f->status;
	}
	/* Queue rows, one statement per namespace. */
	for (size_t x = 0; x < nrows && rc == 0; x++) {
		if (x > 0 && strcmp(rows[x].namespace, rows[x - 1].namespace) == 0)
			continue;
		const char **names = xcalloc(nrows, sizeof *names);
		size_t nn = 0;
		for (size_t y = x; y < nrows; y++) {
			if (strcmp(rows[y].namespace, rows[x].namespace) != 0)
				continue;
			bool seen = false;
			for (size_t z = 0; z < nn && !seen; z++)
				seen = strcmp(names[z], rows[y].queue) == 0;
			if (!seen)
				names[nn++] = rows[y].queue;
		}
		rc = store_queues_ensure(e->w, rows[x].namespace, names, nn, now);
		free(names);
	}
	if (rc == 0)
		rc = store_jobs_insert(e->w, rows, nrows);
	if (rc == 0 && nrows > 0) {
		engine_count(e, "jobs_enqueued_total", NULL, nrows);
		engine_claims_wake(e);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		cmd_job_enqueue *c = engine_cmd_of(cmds[i], cmd_job_enqueue);
		for (size_t j = 0; j < c->njobs; j++)
			c->created += !c->jobs[j].duplicate;
		cmds[i]->result = 0;
	}
	for (size_t x = 0; x < nrows; x++)
		free(policies[x]);
	free(policies);
	free(rows);
	free((void *)dns);
	free(dreq);
	free(refs);
	return rc;
}

static int enqueue_one(engine *e, engine_cmd *cmd, int64_t now)
{
	return enqueue_many(e, &cmd, 1, now);
}

/* The recorded outcome of an enqueue (Idempotency-Key): its jobs' ids,
 * statuses and duplicate flags, in order. */
static void enqueue_save(const engine_cmd *cmd, json_t *out)
{
	const cmd_job_enqueue *c = engine_cmd_of((engine_cmd *)cmd, cmd_job_enqueue);
	json_t *jobs = json_array();
	for (size_t i = 0; i < c->njobs; i++)
		json_array_append_new(jobs, json_pack("[s,s,b]", c->jobs[i].id.str, task_status_name(c->jobs[i].status),
		                                      c->jobs[i].duplicate));
	json_object_set_new(out, "jobs", jobs);
}

static int enqueue_load(engine_cmd *cmd, const json_t *in)
{
	cmd_job_enqueue *c = engine_cmd_of(cmd, cmd_job_enqueue);
	const json_t *jobs = json_object_get(in, "jobs");
	if (!json_is_array(jobs) || json_array_size(jobs) != c->njobs)
		return WEFT_EINTERNAL;
	c->created = 0;
	for (size_t i = 0; i < c->njobs; i++) {
		const json_t *j = json_array_get(jobs, i);
		const char *id = json_string_value(json_array_get(j, 0));
		const char *st = json_string_value(json_array_get(j, 1));
		if (id == NULL || st == NULL || id_parse(id, &c->jobs[i].id) != 0 ||
		    task_status_parse(st, &c->jobs[i].status) != 0)
			return WEFT_EINTERNAL;
		c->jobs[i].run_id = c->jobs[i].id;
		c->jobs[i].duplicate = json_is_true(json_array_get(j, 2));
		c->created += !c->jobs[i].duplicate;
	}
	return 0;
}

/* ---- claims ------------------------------------------------------------------------------ */

void cmd_job_claim_release(cmd_job_claim *c)
{
	for (size_t i = 0; i < c->njobs; i++) {
		claimed_job *j = &c->jobs[i];
		free(j->queue);
		free(j->name);
		free(j->input);
		free(j->metadata);
		for (size_t p = 0; p < j->nparents; p++) {
			free(j->parents[p].name);
			free(j->parents[p].result);
		}
		free(j->parents);
	}
	free(c->jobs);
	c->jobs = NULL;
	c->njobs = 0;
}

/* The queues of a claim as a JSON array (the worker row). */
static char *queues_json(const cmd_job_claim *c)
{
	json_t *a = json_array();
	for (size_t i = 0; i < c->nqueues; i++)
		json_array_append_new(a, json_string(c->queues[i]));
	char *s = json_dump_compact(a);
	json_decref(a);
	return s;
}

/* max_attempts of a retry policy; consecutive rows usually share one
 * text, so the last one is remembered. */
typedef struct attempts_cache {
	char *policy;
	int32_t max;
} attempts_cache;

static int32_t max_attempts_cached(attempts_cache *k, const char *policy)
{
	if (policy == NULL)
		return 1;
	if (k->policy == NULL || strcmp(k->policy, policy) != 0) {
		free(k->policy);
		k->policy = xstrdup(policy);
		k->max = retry_max_attempts(policy);
	}
	return k->max;
}

/* Takes the claimed rows of one queue into their claims. */
static void take_rows(cmd_job_claim **who, int32_t *want, const char *queue, job_claimed_row *rows, size_t nrows,
                      attempts_cache *ak)
{
	for (size_t r = 0; r < nrows; r++) {
		job_claimed_row *x = &rows[r];
		cmd_job_claim *c = who[x->range];
		c->jobs = xrealloc(c->jobs, (c->njobs + 1) * sizeof *c->jobs);
		claimed_job *j = &c->jobs[c->njobs++];
		*j = (claimed_job){
			.id = x->id, .run_id = id_is_set(&x->batch_id) ? x->batch_id : x->id, .queue = xstrdup(queue),
			.name = x->name, .attempt = x->attempt, .max_attempts = max_attempts_cached(ak, x->retry_policy),
			.lease_token = x->lease_token, .lease_until = x->lease_until,
			.timeout_at = x->started_at + (int64_t)x->timeout_secs * SEC, .input = x->input,
			.metadata = x->metadata,
		};
		x->name = x->input = x->metadata = NULL;     /* moved */
		want[x->range]--;
	}
}

int job_claims_apply(engine *e, cmd_job_claim **cs, size_t n, bool touch, int64_t now)
{
	int rc = 0;
	int32_t *want = xcalloc(n ? n : 1, sizeof *want);
	for (size_t i = 0; i < n; i++) {
		cmd_job_claim_release(cs[i]);
		cs[i]->drain = false;
		want[i] = cs[i]->max_jobs;
	}
	for (size_t i = 0; i < n && touch && rc == 0; i++) {
		char *qs = queues_json(cs[i]);
		rc = store_worker_touch(e->w, cs[i]->namespace, cs[i]->worker_id, cs[i]->hostname, qs, now, &cs[i]->drain);
		free(qs);
		if (cs[i]->drain)
			want[i] = 0;
	}
	/* Round k serves each claim's k-th queue with what it still wants;
	 * claims of the same (namespace, queue) share one statement, the
	 * oldest first. */
	job_claim_range *ranges = xcalloc(n ? n : 1, sizeof *ranges);
	cmd_job_claim **who = xcalloc(n ? n : 1, sizeof *who);
	size_t *whoi = xcalloc(n ? n : 1, sizeof *whoi);
	bool *done = xcalloc(n ? n : 1, sizeof *done);
	attempts_cache ak = { 0 };
	size_t claimed = 0;
	for (size_t k = 0; k < CLAIM_QUEUES_MAX && rc == 0; k++) {
		memset(done, 0, n * sizeof *done);
		for (size_t i = 0; i < n && rc == 0; i++) {
			if (done[i] || k >= cs[i]->nqueues || want[i] <= 0)
				continue;
			const char *ns = cs[i]->namespace, *q = cs[i]->queues[k];
			size_t nr = 0;
			int64_t lo = 1;
			for (size_t j = i; j < n; j++) {
				if (done[j] || k >= cs[j]->nqueues || want[j] <= 0 || strcmp(cs[j]->namespace, ns) != 0 ||
				    strcmp(cs[j]->queues[k], q) != 0)
					continue;
				done[j] = true;
				who[nr] = cs[j];
				whoi[nr] = j;
				ranges[nr++] = (job_claim_range){ .lo = lo, .hi = lo + want[j] - 1, .worker_id = cs[j]->worker_id,
				                                  .actor = cs[j]->base.actor ? cs[j]->base.actor : "api",
				                                  .lease_us = cs[j]->lease_us };
				lo += want[j];
			}
			job_claimed_row *rows = NULL;
			size_t nrows = 0;
			rc = store_jobs_claim(e->w, ns, q, now, ranges, nr, &rows, &nrows);
			if (rc == 0) {
				int32_t *w = xcalloc(nr, sizeof *w);
				for (size_t r = 0; r < nr; r++)
					w[r] = want[whoi[r]];
				take_rows(who, w, q, rows, nrows, &ak);
				for (size_t r = 0; r < nr; r++)
					want[whoi[r]] = w[r];
				free(w);
				for (size_t r = 0; r < nrows; r++)
					deadline_arm(e, rows[r].lease_until, &deadline_job_lease, &rows[r].id);
				claimed += nrows;
			}
			store_free_claimed(rows, nrows);
		}
	}
	free(ak.policy);
	if (rc == 0 && claimed > 0) {
		engine_count(e, "jobs_claimed_total", NULL, claimed);
		engine_count(e, "task_status_transitions_total", "from_status=\"Pending\",to_status=\"Running\"", claimed);
	}
	if (rc != 0)
		for (size_t i = 0; i < n; i++)
			cmd_job_claim_release(cs[i]);
	free(done);
	free(whoi);
	free(who);
	free(ranges);
	free(want);
	return rc;
}

static int claim_many(engine *e, engine_cmd **cmds, size_t n, int64_t now)
{
	cmd_job_claim **cs = xmalloc((n ? n : 1) * sizeof *cs);
	for (size_t i = 0; i < n; i++)
		cs[i] = engine_cmd_of(cmds[i], cmd_job_claim);
	int rc = job_claims_apply(e, cs, n, true, now);
	size_t parked = engine_claims_parked(e);
	for (size_t i = 0; i < n && rc == 0; i++) {
		cmd_job_claim *c = cs[i];
		c->base.result = 0;
		if (c->njobs > 0 || c->drain || c->wait_us <= 0)
			continue;
		if (parked >= CLAIMS_PARKED_MAX) {
			c->base.result = WEFT_EOVERLOADED;
			continue;
		}
		c->park_until = now + c->wait_us;
		c->base.parked = true;
		parked++;
	}
	free(cs);
	return rc;
}

static int claim_one(engine *e, engine_cmd *cmd, int64_t now)
{
	return claim_many(e, &cmd, 1, now);
}

/* ---- reports ------------------------------------------------------------------------------ */

/* Why a fenced change did not apply to a job in state s (token: the
 * report's). */
static job_outcome not_applied(const job_state *s, int64_t token, task_status done_status, job_outcome already)
{
	if (!s->found)
		return JOB_NOT_FOUND;
	if (s->lease_token == token && s->status == TS_CANCELED)
		return JOB_CANCELED;
	if (already != JOB_OUTCOME_NONE && s->lease_token == token && s->status == done_status)
		return already;
	return JOB_STALE_LEASE;
}

/* Whether ids[i] appeared before i in the set (only its first change goes
 * into the fenced statement; the later ones see what it left). */
static bool *repeats_of(const weft_id *ids, size_t n)
{
	bool *rep = xcalloc(n ? n : 1, sizeof *rep);
	const weft_id **p = xmalloc((n ? n : 1) * sizeof *p);
	uint32_t *round = xmalloc((n ? n : 1) * sizeof *round);
	for (size_t i = 0; i < n; i++)
		p[i] = &ids[i];
	store_rounds(p, n, round);
	for (size_t i = 0; i < n; i++)
		rep[i] = round[i] > 0;
	free(round);
	free(p);
	return rep;
}

/* The rows of shaped jobs (parents, children or webhooks) that ended:
 * their end webhooks and DAG follow-ups. */
static int ended_shaped(engine *e, const weft_id *ids, size_t n, int64_t now)
{
	if (n == 0)
		return 0;
	task_row *rows = NULL;
	size_t nrows = 0;
	int rc = store_tasks_read(e->w, ids, n, false, &rows, &nrows);
	if (rc == 0)
		rc = dag_tasks_ended(e, rows, nrows, now);
	store_free_tasks(rows, nrows);
	return rc;
}

/* A report item as the set sees it. */
typedef struct item_ref {
	weft_id id;
	int64_t token;
	job_outcome *outcome;
	void *item;
} item_ref;

static int complete_many(engine *e, engine_cmd **cmds, size_t n, int64_t now)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += engine_cmd_of(cmds[i], cmd_job_complete)->nitems;
	/* One visibility per set: commands with another one are applied in a
	 * set of their own. */
	const job_visibility *vis = &engine_cmd_of(cmds[0], cmd_job_complete)->visible;
	for (size_t i = 1; i < n; i++) {
		const job_visibility *v = &engine_cmd_of(cmds[i], cmd_job_complete)->visible;
		if (v->all != vis->all || v->names != vis->names || v->n != vis->n)
			return WEFT_ECONFLICT;
	}
	weft_id *ids = xcalloc(total ? total : 1, sizeof *ids);
	int64_t *tokens = xcalloc(total ? total : 1, sizeof *tokens);
	job_complete_item **items = xcalloc(total ? total : 1, sizeof *items);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		cmd_job_complete *c = engine_cmd_of(cmds[i], cmd_job_complete);
		for (size_t j = 0; j < c->nitems; j++, k++) {
			items[k] = &c->items[j];
			items[k]->outcome = JOB_OUTCOME_NONE;
			ids[k] = items[k]->id;
			tokens[k] = items[k]->lease_token;
		}
	}
	bool *rep = repeats_of(ids, total);
	job_change *ch = xcalloc(total ? total : 1, sizeof *ch);
	size_t *which = xcalloc(total ? total : 1, sizeof *which);
	size_t nch = 0;
	for (size_t x = 0; x < total; x++) {
		if (rep[x])
			continue;
		which[nch] = x;
		ch[nch++] = (job_change){ .id = ids[x], .token = tokens[x], .to = TS_SUCCESS,
		                          .result = items[x]->result ? items[x]->result : "null", .ended = true,
		                          .actor = cmds[0]->actor ? cmds[0]->actor : "api" };
	}
	/* The actor of each change is its own command's. */
	k = 0;
	for (size_t i = 0, x = 0; i < n; i++) {
		cmd_job_complete *c = engine_cmd_of(cmds[i], cmd_job_complete);
		for (size_t j = 0; j < c->nitems; j++, x++)
			if (k < nch && which[k] == x)
				ch[k++].actor = cmds[i]->actor ? cmds[i]->actor : "api";
	}
	size_t nvis;
	const char *const *visible = visible_names(vis, &nvis);
	int rc = store_jobs_change(e->w, ch, nch, now, visible, nvis, false);
	size_t applied = 0, nshaped = 0;
	weft_id *shaped = xcalloc(nch ? nch : 1, sizeof *shaped);
	for (size_t y = 0; y < nch && rc == 0; y++) {
		if (!ch[y].applied)
			continue;
		items[which[y]]->outcome = JOB_COMPLETED;
		applied++;
		deadline_forget(e, &ch[y].id);
		if (ch[y].shape != 0)
			shaped[nshaped++] = ch[y].id;
	}
	/* The rest: why not. */
	job_state *st = xcalloc(total ? total : 1, sizeof *st);
	size_t nrest = 0;
	for (size_t x = 0; x < total; x++)
		if (items[x]->outcome == JOB_OUTCOME_NONE)
			nrest++;
	if (rc == 0 && nrest > 0)
		rc = store_jobs_state(e->w, ids, NULL, total, visible, nvis, st);
	for (size_t x = 0; x < total && rc == 0; x++)
		if (items[x]->outcome == JOB_OUTCOME_NONE)
			items[x]->outcome = not_applied(&st[x], tokens[x], TS_SUCCESS, JOB_ALREADY_COMPLETED);
	if (rc == 0)
		rc = ended_shaped(e, shaped, nshaped, now);
	if (rc == 0 && applied > 0) {
		engine_count(e, "jobs_completed_total", NULL, applied);
		engine_count(e, "task_status_transitions_total", "from_status=\"Running\",to_status=\"Success\"", applied);
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		cmds[i]->result = 0;
	free(st);
	free(shaped);
	free(which);
	free(ch);
	free(rep);
	free(items);
	free(tokens);
	free(ids);
	return rc;
}

static int complete_one(engine *e, engine_cmd *cmd, int64_t now)
{
	return complete_many(e, &cmd, 1, now);
}

/* ---- fail ------------------------------------------------------------------------------------ */

int job_attempts_end(engine *e, attempt_end *a, size_t n, const job_visibility *vis, int64_t now)
{
	weft_id *ids = xcalloc(n ? n : 1, sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		ids[i] = a[i].id;
		a[i].applied = a[i].retried = false;
		a[i].next_attempt_at = 0;
	}
	task_row *rows = NULL;
	size_t nrows = 0;
	int rc = store_tasks_read(e->w, ids, n, true, &rows, &nrows);
	task_rows_sort(rows, nrows);
	job_change *ch = xcalloc(n ? n : 1, sizeof *ch);
	job_attempt_row *hist = xcalloc(n ? n : 1, sizeof *hist);
	char (*why)[160] = xcalloc(n ? n : 1, sizeof *why);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const task_row *t = task_rows_find(rows, nrows, &a[i].id);
		ch[i] = (job_change){ .id = a[i].id, .token = a[i].token, .actor = a[i].actor };
		hist[i] = (job_attempt_row){ .task_id = a[i].id, .lease_token = a[i].token, .outcome = a[i].how,
		                             .ended_at = now, .error_code = (char *)a[i].code,
		                             .error_message = (char *)a[i].message, .error_details = (char *)a[i].details,
		                             .retryable = a[i].retryable };
		if (t == NULL) {
			ch[i].to = TS_FAILURE;       /* matches nothing: the token cannot be held */
			ch[i].token = -1;
			continue;
		}
		hist[i].attempt = t->attempt;
		hist[i].started_at = t->started_at;
		hist[i].worker_id = t->worker_id;
		int32_t attempt = 0;
		int64_t next_at = 0;
		bool retry = job_retry_plan(t, a[i].code, a[i].retryable, a[i].retry_after_us, now, &attempt, &next_at);
		ch[i].error_code = a[i].code;
		ch[i].failure_reason = a[i].message ? a[i].message : a[i].code;
		if (retry && a[i].requeue) {
			ch[i].to = TS_PENDING;
			ch[i].attempt = attempt;
			snprintf(why[i], sizeof why[i], "attempt %d: %s", (int)t->attempt, a[i].code);
		} else if (retry) {
			ch[i].to = TS_RETRYING;
			ch[i].attempt = attempt;
			ch[i].next_retry_at = next_at;
			a[i].next_attempt_at = next_at;
			snprintf(why[i], sizeof why[i], "attempt %d failed: %s", (int)t->attempt, a[i].code);
		} else {
			ch[i].to = TS_FAILURE;
			ch[i].dead = true;
			ch[i].ended = true;
			snprintf(why[i], sizeof why[i], "attempt %d failed for good: %s", (int)t->attempt, a[i].code);
		}
		ch[i].reason = why[i];
	}
	size_t nvis = 0;
	const char *const *visible = vis ? visible_names(vis, &nvis) : NULL;
	if (rc == 0)
		rc = store_jobs_change(e->w, ch, n, now, visible, nvis, false);
	job_attempt_row *keep = xcalloc(n ? n : 1, sizeof *keep);
	weft_id *shaped = xcalloc(n ? n : 1, sizeof *shaped);
	size_t nkeep = 0, nshaped = 0, nretry = 0, ndead = 0, npending = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!ch[i].applied)
			continue;
		a[i].applied = true;
		a[i].retried = ch[i].to != TS_FAILURE;
		keep[nkeep++] = hist[i];
		if (ch[i].to == TS_RETRYING) {
			nretry++;
			deadline_arm(e, ch[i].next_retry_at, &deadline_retry_backoff, &ch[i].id);
		} else if (ch[i].to == TS_PENDING) {
			npending++;
			a[i].next_attempt_at = now;
		} else {
			ndead++;
			deadline_forget(e, &ch[i].id);
			if (ch[i].shape != 0)
				shaped[nshaped++] = ch[i].id;
		}
	}
	if (rc == 0)
		rc = store_job_attempts_insert(e->w, keep, nkeep);
	if (rc == 0)
		rc = ended_shaped(e, shaped, nshaped, now);
	if (rc == 0) {
		engine_count(e, "jobs_failed_total", NULL, nkeep);
		engine_count(e, "jobs_dead_lettered_total", NULL, ndead);
		engine_count(e, "tasks_retried_total", NULL, nretry + npending);
		engine_count(e, "task_status_transitions_total", "from_status=\"Running\",to_status=\"RetryPending\"", nretry);
		engine_count(e, "task_status_transitions_total", "from_status=\"Running\",to_status=\"Failure\"", ndead);
		engine_count(e, "task_status_transitions_total", "from_status=\"Running\",to_status=\"Pending\"", npending);
		if (npending > 0)
			engine_claims_wake(e);
	}
	free(shaped);
	free(keep);
	free(why);
	free(hist);
	free(ch);
	store_free_tasks(rows, nrows);
	free(ids);
	return rc;
}

static int fail_many(engine *e, engine_cmd **cmds, size_t n, int64_t now)
{
	const job_visibility *vis = &engine_cmd_of(cmds[0], cmd_job_fail)->visible;
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		const job_visibility *v = &engine_cmd_of(cmds[i], cmd_job_fail)->visible;
		if (v->all != vis->all || v->names != vis->names || v->n != vis->n)
			return WEFT_ECONFLICT;
		total += engine_cmd_of(cmds[i], cmd_job_fail)->nitems;
	}
	job_fail_item **items = xcalloc(total ? total : 1, sizeof *items);
	weft_id *ids = xcalloc(total ? total : 1, sizeof *ids);
	int64_t *tokens = xcalloc(total ? total : 1, sizeof *tokens);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		cmd_job_fail *c = engine_cmd_of(cmds[i], cmd_job_fail);
		for (size_t j = 0; j < c->nitems; j++, k++) {
			items[k] = &c->items[j];
			items[k]->outcome = JOB_OUTCOME_NONE;
			items[k]->next_attempt_at = 0;
			ids[k] = items[k]->id;
			tokens[k] = items[k]->lease_token;
		}
	}
	bool *rep = repeats_of(ids, total);
	attempt_end *a = xcalloc(total ? total : 1, sizeof *a);
	size_t *which = xcalloc(total ? total : 1, sizeof *which);
	size_t na = 0;
	k = 0;
	for (size_t i = 0; i < n; i++) {
		cmd_job_fail *c = engine_cmd_of(cmds[i], cmd_job_fail);
		for (size_t j = 0; j < c->nitems; j++, k++) {
			if (rep[k])
				continue;
			job_fail_item *it = items[k];
			which[na] = k;
			a[na++] = (attempt_end){ .id = it->id, .token = it->lease_token, .code = it->code,
			                         .message = it->message, .details = it->details, .retryable = it->retryable,
			                         .retry_after_us = it->retry_after_us, .how = JA_FAILED,
			                         .actor = cmds[i]->actor ? cmds[i]->actor : "api" };
		}
	}
	int rc = job_attempts_end(e, a, na, vis, now);
	for (size_t y = 0; y < na && rc == 0; y++) {
		if (!a[y].applied)
			continue;
		job_fail_item *it = items[which[y]];
		it->outcome = a[y].retried ? JOB_RETRYING : JOB_DEAD_LETTERED;
		it->next_attempt_at = a[y].next_attempt_at;
	}
	size_t nvis;
	const char *const *visible = visible_names(vis, &nvis);
	job_state *st = xcalloc(total ? total : 1, sizeof *st);
	if (rc == 0)
		rc = store_jobs_state(e->w, ids, tokens, total, visible, nvis, st);
	for (size_t x = 0; x < total && rc == 0; x++) {
		if (items[x]->outcome != JOB_OUTCOME_NONE)
			continue;
		items[x]->outcome = st[x].found && st[x].failed_with_token ? JOB_ALREADY_FAILED
		                                                           : not_applied(&st[x], tokens[x], TS_FAILURE,
		                                                                         JOB_OUTCOME_NONE);
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		cmds[i]->result = 0;
	free(st);
	free(which);
	free(a);
	free(rep);
	free(tokens);
	free(ids);
	free(items);
	return rc;
}

static int fail_one(engine *e, engine_cmd *cmd, int64_t now)
{
	return fail_many(e, &cmd, 1, now);
}

/* ---- release -------------------------------------------------------------------------------- */

static int release_many(engine *e, engine_cmd **cmds, size_t n, int64_t now)
{
	const job_visibility *vis = &engine_cmd_of(cmds[0], cmd_job_release)->visible;
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		const job_visibility *v = &engine_cmd_of(cmds[i], cmd_job_release)->visible;
		if (v->all != vis->all || v->names != vis->names || v->n != vis->n)
			return WEFT_ECONFLICT;
		total += engine_cmd_of(cmds[i], cmd_job_release)->nitems;
	}
	job_release_item **items = xcalloc(total ? total : 1, sizeof *items);
	weft_id *ids = xcalloc(total ? total : 1, sizeof *ids);
	int64_t *tokens = xcalloc(total ? total : 1, sizeof *tokens);
	job_change *ch = xcalloc(total ? total : 1, sizeof *ch);
	size_t *which = xcalloc(total ? total : 1, sizeof *which);
	size_t k = 0, nch = 0;
	for (size_t i = 0; i < n; i++) {
		cmd_job_release *c = engine_cmd_of(cmds[i], cmd_job_release);
		for (size_t j = 0; j < c->nitems; j++, k++) {
			items[k] = &c->items[j];
			items[k]->outcome = JOB_OUTCOME_NONE;
			ids[k] = items[k]->id;
			tokens[k] = items[k]->lease_token;
		}
	}
	bool *rep = repeats_of(ids, total);
	k = 0;
	for (size_t i = 0; i < n; i++) {
		cmd_job_release *c = engine_cmd_of(cmds[i], cmd_job_release);
		for (size_t j = 0; j < c->nitems; j++, k++)
			if (!rep[k]) {
				which[nch] = k;
				ch[nch++] = (job_change){ .id = ids[k], .token = tokens[k], .to = TS_PENDING,
				                          .actor = cmds[i]->actor ? cmds[i]->actor : "api",
				                          .reason = "released by its worker" };
			}
	}
	size_t nvis;
	const char *const *visible = visible_names(vis, &nvis);
	int rc = store_jobs_change(e->w, ch, nch, now, visible, nvis, true);
	job_attempt_row *hist = xcalloc(nch ? nch : 1, sizeof *hist);
	size_t nhist = 0;
	for (size_t y = 0; y < nch && rc == 0; y++) {
		if (!ch[y].applied)
			continue;
		items[which[y]]->outcome = JOB_RELEASED;
		const task_row *t = &ch[y].after;
		hist[nhist++] = (job_attempt_row){ .task_id = t->id, .lease_token = t->lease_token, .attempt = t->attempt,
		                                   .worker_id = t->worker_id, .started_at = t->started_at,
		                                   .ended_at = now, .outcome = JA_RELEASED, .retryable = true };
	}
	if (rc == 0)
		rc = store_job_attempts_insert(e->w, hist, nhist);
	if (rc == 0 && nhist > 0) {
		engine_count(e, "task_status_transitions_total", "from_status=\"Running\",to_status=\"Pending\"", nhist);
		engine_claims_wake(e);
	}
	for (size_t y = 0; y < nch; y++)
		if (ch[y].applied)
			task_row_release(&ch[y].after);
	job_state *st = xcalloc(total ? total : 1, sizeof *st);
	if (rc == 0 && nhist < total)
		rc = store_jobs_state(e->w, ids, NULL, total, visible, nvis, st);
	for (size_t x = 0; x < total && rc == 0; x++)
		if (items[x]->outcome == JOB_OUTCOME_NONE)
			items[x]->outcome = not_applied(&st[x], tokens[x], TS_PENDING, JOB_OUTCOME_NONE);
	for (size_t i = 0; i < n && rc == 0; i++)
		cmds[i]->result = 0;
	free(st);
	free(hist);
	free(rep);
	free(which);
	free(ch);
	free(tokens);
	free(ids);
	free(items);
	return rc;
}

static int release_one(engine *e, engine_cmd *cmd, int64_t now)
{
	return release_many(e, &cmd, 1, now);
}

/* ---- heartbeat ------------------------------------------------------------------------------ */

static int heartbeat_many(engine *e, engine_cmd **cmds, size_t n, int64_t now)
{
	const job_visibility *vis = &engine_cmd_of(cmds[0], cmd_job_heartbeat)->visible;
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		const job_visibility *v = &engine_cmd_of(cmds[i], cmd_job_heartbeat)->visible;
		if (v->all != vis->all || v->names != vis->names || v->n != vis->n)
			return WEFT_ECONFLICT;
		total += engine_cmd_of(cmds[i], cmd_job_heartbeat)->nitems;
	}
	job_heartbeat_item **items = xcalloc(total ? total : 1, sizeof *items);
	job_beat *beats = xcalloc(total ? total : 1, sizeof *beats);
	weft_id *ids = xcalloc(total ? total : 1, sizeof *ids);
	size_t k = 0;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		cmd_job_heartbeat *c = engine_cmd_of(cmds[i], cmd_job_heartbeat);
		rc = store_worker_touch(e->w, c->namespace, c->worker_id, NULL, NULL, now, &c->drain);
		for (size_t j = 0; j < c->nitems; j++, k++) {
			items[k] = &c->items[j];
			ids[k] = items[k]->id;
			beats[k] = (job_beat){ .id = items[k]->id, .token = items[k]->lease_token, .lease_us = c->lease_us,
			                       .progress = items[k]->progress };
		}
	}
	size_t nvis;
	const char *const *visible = visible_names(vis, &nvis);
	/* A lease given twice in the set is extended once (the same end). */
	if (rc == 0)
		rc = store_jobs_heartbeat(e->w, beats, total, now, visible, nvis);
	job_state *st = xcalloc(total ? total : 1, sizeof *st);
	size_t lost = 0;
	for (size_t x = 0; x < total; x++)
		lost += !beats[x].held;
	if (rc == 0 && lost > 0)
		rc = store_jobs_state(e->w, ids, NULL, total, visible, nvis, st);
	for (size_t x = 0; x < total && rc == 0; x++) {
		job_heartbeat_item *it = items[x];
		it->lease_until = beats[x].lease_until;
		if (beats[x].held)
			it->state = JOB_LEASE_HELD;
		else if (!st[x].found)
			it->state = JOB_LEASE_NOT_FOUND;
		else if (st[x].status == TS_CANCELED && st[x].lease_token == it->lease_token)
			it->state = JOB_LEASE_CANCELED;
		else
			it->state = JOB_LEASE_LOST;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		cmds[i]->result = 0;
	free(st);
	free(ids);
	free(beats);
	free(items);
	return rc;
}

static int heartbeat_one(engine *e, engine_cmd *cmd, int64_t now)
{
	return heartbeat_many(e, &cmd, 1, now);
}

/* ---- the family --------------------------------------------------------------------------- */

#define FAILED "tasks_db_save_failures_total"

static const engine_op op_enqueue = { .name = "job.enqueue", .apply = enqueue_one, .apply_many = enqueue_many,
                                      .failure_metric = FAILED, .outcome_save = enqueue_save,
                                      .outcome_load = enqueue_load };
static const engine_op op_claim = { .name = "job.claim", .apply = claim_one, .apply_many = claim_many,
                                    .failure_metric = FAILED };
static const engine_op op_heartbeat = { .name = "job.heartbeat", .apply = heartbeat_one,
                                        .apply_many = heartbeat_many, .failure_metric = FAILED };
static const engine_op op_complete = { .name = "job.complete", .apply = complete_one, .apply_many = complete_many,
                                       .failure_metric = FAILED };
static const engine_op op_fail = { .name = "job.fail", .apply = fail_one, .apply_many = fail_many,
                                   .failure_metric = FAILED };
static const engine_op op_release = { .name = "job.release", .apply = release_one, .apply_many = release_many,
                                      .failure_metric = FAILED };

void cmd_job_enqueue_init(cmd_job_enqueue *c) { *c = (cmd_job_enqueue){ .base.op = &op_enqueue }; }
void cmd_job_claim_init(cmd_job_claim *c)
{
	*c = (cmd_job_claim){ .base.op = &op_claim, .max_jobs = 1, .lease_us = JOB_LEASE_DEFAULT_MS * 1000LL };
}
void cmd_job_heartbeat_init(cmd_job_heartbeat *c)
{
	*c = (cmd_job_heartbeat){ .base.op = &op_heartbeat, .visible.all = true,
	                          .lease_us = JOB_LEASE_DEFAULT_MS * 1000LL };
}
void cmd_job_complete_init(cmd_job_complete *c)
{
	*c = (cmd_job_complete){ .base.op = &op_complete, .visible.all = true };
}
void cmd_job_fail_init(cmd_job_fail *c) { *c = (cmd_job_fail){ .base.op = &op_fail, .visible.all = true }; }
void cmd_job_release_init(cmd_job_release *c)
{
	*c = (cmd_job_release){ .base.op = &op_release, .visible.all = true };
}

static void define_metrics(void)
{
	metrics_define("jobs_enqueued_total", METRIC_COUNTER, "Jobs enqueued");
	metrics_define("jobs_claimed_total", METRIC_COUNTER, "Jobs claimed by workers");
	metrics_define("jobs_completed_total", METRIC_COUNTER, "Jobs completed");
	metrics_define("jobs_failed_total", METRIC_COUNTER, "Job attempts that failed (reported, timed out or lost)");
	metrics_define("jobs_dead_lettered_total", METRIC_COUNTER, "Jobs that failed for good (dead letters)");
	metrics_define("jobs_lease_expired_total", METRIC_COUNTER, "Job leases that expired before a report");
	metrics_define("job_claims_parked", METRIC_GAUGE, "Job claims waiting for jobs on this node");
}

const command_family family_jobs = { .name = "jobs", .define_metrics = define_metrics };
