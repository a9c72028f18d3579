/*
 * jobs.c — the job commands (jobs.h): enqueue and claim, the names of
 * outcomes, and the family; the reports on held jobs are job_reports.c's.
 * Each op applies the commands of a cycle as one set: an enqueue set is
 * one insert per job (a COPY on PostgreSQL) and a statement or two for
 * dedup keys and queue rows; the claims of a cycle are one statement per
 * claim and queue (claims for several queues take from them in the order
 * listed), plus one read of parents for jobs of runs.
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
#include "store/jobs.h"

ENGINE_CMD_BASE_FIRST(cmd_job_enqueue);
ENGINE_CMD_BASE_FIRST(cmd_job_claim);

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

/* Whether two specs have the same retry policy. */
static bool same_policy(const job_spec *a, const job_spec *b)
{
	if (a->max_attempts != b->max_attempts || a->backoff_initial_us != b->backoff_initial_us ||
	    a->backoff_coefficient != b->backoff_coefficient || a->backoff_max_us != b->backoff_max_us ||
	    a->backoff_jitter != b->backoff_jitter || a->nnon_retryable != b->nnon_retryable)
		return false;
	for (size_t i = 0; i < a->nnon_retryable; i++)
		if (strcmp(a->non_retryable[i], b->non_retryable[i]) != 0)
			return false;
	return true;
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
	/* The policy texts, one per run of specs with the same policy (the
	 * jobs of a request nearly always share one: written once). */
	char **policies = xcalloc(total ? total : 1, sizeof *policies);
	size_t nrows = 0, npolicies = 0;
	const job_spec *policy_of = NULL;
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
		if (policy_of == NULL || !same_policy(policy_of, s)) {
			policies[npolicies++] = retry_policy_job_json(s->max_attempts, s->backoff_initial_us,
			                                              s->backoff_coefficient, s->backoff_max_us,
			                                              s->backoff_jitter, s->non_retryable, s->nnon_retryable);
			policy_of = s;
		}
		rows[at] = (job_new){
			.id = s->id, .namespace = refs[x].ns, .queue = s->queue, .name = s->name, .input = s->input,
			.metadata = s->metadata, .retry_policy = policies[npolicies - 1], .concurrency_key = s->concurrency_key,
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
		engine_count(e, "tasks_created_total", NULL, nrows);      /* jobs are tasks */
		engine_claims_wake(e);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		cmd_job_enqueue *c = engine_cmd_of(cmds[i], cmd_job_enqueue);
		for (size_t j = 0; j < c->njobs; j++)
			c->created += !c->jobs[j].duplicate;
		cmds[i]->result = 0;
	}
	for (size_t x = 0; x < npolicies; x++)
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

/* Bytes a claimed job adds to its claim's answer (its payloads). */
static size_t answer_bytes(const job_claimed_row *x)
{
	return strlen(x->input) + strlen(x->metadata) + strlen(x->name);
}

/* Takes the claimed rows of one queue into their claims; rows that would
 * pass a claim's CLAIM_ANSWER_MAX_BYTES (a claim always takes its first
 * row) go to `back`, to be given back. */
static void take_rows(cmd_job_claim **who, int32_t *want, size_t *bytes, const char *queue, job_claimed_row *rows,
                      size_t nrows, attempts_cache *ak, job_change *back, size_t *nback, id_set *with_parents)
{
	for (size_t r = 0; r < nrows; r++) {
		job_claimed_row *x = &rows[r];
		cmd_job_claim *c = who[x->range];
		size_t add = answer_bytes(x);
		if (c->njobs > 0 && bytes[x->range] + add > CLAIM_ANSWER_MAX_BYTES) {
			back[(*nback)++] = (job_change){ .id = x->id, .token = x->lease_token, .to = TS_PENDING,
			                                 .actor = "system" };
			want[x->range] = 0;
			continue;
		}
		bytes[x->range] += add;
		if ((c->njobs & (c->njobs - 1)) == 0)      /* 0, 1, 2, 4, ...: full, the room doubles */
			c->jobs = xrealloc(c->jobs, (c->njobs ? 2 * c->njobs : 1) * sizeof *c->jobs);
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
		if (x->shape & TASK_SHAPE_PARENTS)
			id_set_add(with_parents, &x->id);
	}
}

static int cmp_parent_child(const void *key, const void *row)
{
	return strncmp(((const weft_id *)key)->str, ((const job_parent_row *)row)->child.str, WEFT_ID_LEN);
}

/* The parents (with their results) of the claimed jobs that have some,
 * read in one statement for the whole set. */
static int add_parents(engine *e, cmd_job_claim **cs, size_t n, const id_set *with_parents)
{
	job_parent_row *rows = NULL;
	size_t nrows = 0;
	int rc = store_job_parents(e->w, with_parents->items, with_parents->len, &rows, &nrows);
	for (size_t i = 0; i < n && rc == 0; i++) {
		for (size_t k = 0; k < cs[i]->njobs; k++) {
			claimed_job *j = &cs[i]->jobs[k];
			job_parent_row *hit = nrows ? bsearch(&j->id, rows, nrows, sizeof *rows, cmp_parent_child) : NULL;
			if (hit == NULL)
				continue;
			while (hit > rows && id_eq(&hit[-1].child, &j->id))
				hit--;
			size_t m = 0;
			while (hit + m < rows + nrows && id_eq(&hit[m].child, &j->id))
				m++;
			j->parents = xcalloc(m, sizeof *j->parents);
			j->nparents = m;
			for (size_t p = 0; p < m; p++) {
				j->parents[p] = (job_parent){ .id = hit[p].id, .name = hit[p].name, .status = hit[p].status,
				                              .result = hit[p].result };
				hit[p].name = hit[p].result = NULL;     /* moved */
			}
		}
	}
	store_free_parents(rows, nrows);
	return rc;
}

int job_claims_apply(engine *e, cmd_job_claim **cs, size_t n, int64_t now)
{
	int rc = 0;
	int32_t *want = xcalloc(n ? n : 1, sizeof *want);
	size_t *bytes = xcalloc(n ? n : 1, sizeof *bytes);
	for (size_t i = 0; i < n; i++) {
		cmd_job_claim_release(cs[i]);
		want[i] = cs[i]->drain ? 0 : cs[i]->max_jobs;
	}
	/* Round k serves each claim's k-th queue with what it still wants;
	 * claims of the same (namespace, queue) share one statement, the
	 * oldest first. */
	job_claim_range *ranges = xcalloc(n ? n : 1, sizeof *ranges);
	cmd_job_claim **who = xcalloc(n ? n : 1, sizeof *who);
	size_t *whoi = xcalloc(n ? n : 1, sizeof *whoi);
	bool *done = xcalloc(n ? n : 1, sizeof *done);
	attempts_cache ak = { 0 };
	id_set with_parents = { 0 };
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
			rc = job_claim_queue(e, ns, q, now, ranges, nr, &rows, &nrows);
			if (rc == 0) {
				int32_t *w = xcalloc(nr, sizeof *w);
				size_t *b = xcalloc(nr, sizeof *b);
				job_change *back = xcalloc(nrows ? nrows : 1, sizeof *back);
				size_t nback = 0;
				for (size_t r = 0; r < nr; r++) {
					w[r] = want[whoi[r]];
					b[r] = bytes[whoi[r]];
				}
				take_rows(who, w, b, q, rows, nrows, &ak, back, &nback, &with_parents);
				for (size_t r = 0; r < nr; r++) {
					want[whoi[r]] = w[r];
					bytes[whoi[r]] = b[r];
				}
				/* Past the answer's size: back to pending at once, as if
				 * never claimed (no attempt, no event). */
				if (nback > 0)
					rc = store_jobs_change(e->w, back, nback, now, false);
				for (size_t r = 0; r < nrows; r++)
					deadline_arm(e, rows[r].lease_until, &deadline_job_lease, &rows[r].id);
				claimed += nrows - nback;
				free(back);
				free(b);
				free(w);
			}
			store_free_claimed(rows, nrows);
		}
	}
	free(ak.policy);
	if (rc == 0 && with_parents.len > 0)
		rc = add_parents(e, cs, n, &with_parents);
	id_set_release(&with_parents);
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
	free(bytes);
	free(want);
	return rc;
}

/* Claims are served oldest first: while claims are parked, a new claim
 * that may wait joins them instead of claiming ahead of them, and the
 * claims part serves them all, in order, later in this cycle (a job made
 * ready by this cycle's enqueues goes to the claim that waited longest).
 * A claim that may not wait claims at once. */
static int claim_many(engine *e, engine_cmd **cmds, size_t n, int64_t now)
{
	cmd_job_claim **cs = xmalloc((n ? n : 1) * sizeof *cs);
	cmd_job_claim **at_once = xmalloc((n ? n : 1) * sizeof *at_once);
	worker_seen *seen = xcalloc(n ? n : 1, sizeof *seen);
	size_t parked = engine_claims_parked(e), nat = 0, joining = 0;
	for (size_t i = 0; i < n; i++) {
		cs[i] = engine_cmd_of(cmds[i], cmd_job_claim);
		cmd_job_claim_release(cs[i]);
		seen[i] = (worker_seen){ .ns = cs[i]->namespace, .id = cs[i]->worker_id, .hostname = cs[i]->hostname,
		                         .queues_json = queues_json(cs[i]) };
	}
	int rc = store_workers_touch(e->w, seen, n, now);
	for (size_t i = 0; i < n; i++) {
		cmd_job_claim *c = cs[i];
		c->drain = rc == 0 && seen[i].draining;
		free((char *)seen[i].queues_json);
		bool join = parked > 0 && c->wait_us > 0 && parked + joining < CLAIMS_PARKED_MAX;
		joining += join;
		if (!c->drain && !join)
			at_once[nat++] = c;
	}
	free(seen);
	if (rc == 0)
		rc = job_claims_apply(e, at_once, nat, now);
	free(at_once);
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

/* ---- the family --------------------------------------------------------------------------- */

#define FAILED "tasks_db_save_failures_total"

static const engine_op op_enqueue = { .name = "job.enqueue", .apply = enqueue_one, .apply_many = enqueue_many,
                                      .failure_metric = FAILED, .outcome_save = enqueue_save,
                                      .outcome_load = enqueue_load };
static const engine_op op_claim = { .name = "job.claim", .apply = claim_one, .apply_many = claim_many,
                                    .failure_metric = FAILED };

void cmd_job_enqueue_init(cmd_job_enqueue *c) { *c = (cmd_job_enqueue){ .base.op = &op_enqueue }; }
void cmd_job_claim_init(cmd_job_claim *c)
{
	*c = (cmd_job_claim){ .base.op = &op_claim, .max_jobs = 1, .lease_us = JOB_LEASE_DEFAULT_MS * 1000LL };
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
