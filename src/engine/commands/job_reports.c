/*
 * job_reports.c — a worker's reports on the jobs it holds (jobs.h):
 * complete, fail, release and heartbeat, each applied as a set for a
 * cycle's commands; the failure of attempts shared with the job_lease
 * deadline (retry, dead letter, error history); and the retry plan.
 *
 * Every change is fenced (store_jobs_change): it applies only while the
 * job runs under the report's lease token and in a namespace the caller
 * may see. What did not apply is explained from one read of the jobs'
 * state: stale_lease, canceled, not_found, or a resend (already_completed,
 * already_failed).
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/log.h"
#include "engine/engine_internal.h"
#include "engine/retry.h"
#include "engine/commands/command.h"
#include "engine/commands/jobs.h"
#include "store/jobs.h"

ENGINE_CMD_BASE_FIRST(cmd_job_heartbeat);
ENGINE_CMD_BASE_FIRST(cmd_job_complete);
ENGINE_CMD_BASE_FIRST(cmd_job_fail);
ENGINE_CMD_BASE_FIRST(cmd_job_release);

#define SEC 1000000LL
#define FAILED "tasks_db_save_failures_total"

/* The namespaces a report may touch, as the store takes them (NULL: any). */
static const char *const *visible_names(const job_visibility *v, size_t *n)
{
	*n = v->all ? 0 : v->n;
	if (v->all)
		return NULL;
	static const char *const none[] = { "" };
	if (v->n == 0)
		*n = 1;
	return v->n ? v->names : none;    /* an empty list sees nothing */
}

/* Whether a job of namespace ns is one the caller may see. */
static bool job_visible(const job_visibility *v, const char *ns)
{
	if (v == NULL || v->all)
		return true;
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->names[i], ns) == 0)
			return true;
	return false;
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

/* ---- reports ------------------------------------------------------------------------------ */

/* Why a fenced change did not apply to a job in state s (token: the
 * report's). */
static job_outcome not_applied(const job_state *s, const job_visibility *vis, int64_t token, task_status done_status,
                               job_outcome already)
{
	if (!s->found || !job_visible(vis, s->ns))
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
	weft_id *ids = xcalloc(total ? total : 1, sizeof *ids);
	int64_t *tokens = xcalloc(total ? total : 1, sizeof *tokens);
	job_complete_item **items = xcalloc(total ? total : 1, sizeof *items);
	const job_visibility **vis = xcalloc(total ? total : 1, sizeof *vis);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		cmd_job_complete *c = engine_cmd_of(cmds[i], cmd_job_complete);
		for (size_t j = 0; j < c->nitems; j++, k++) {
			vis[k] = &c->visible;
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
		ch[nch] = (job_change){ .id = ids[x], .token = tokens[x], .to = TS_SUCCESS,
		                        .result = items[x]->result ? items[x]->result : "null", .ended = true,
		                        .actor = cmds[0]->actor ? cmds[0]->actor : "api" };
		ch[nch].visible = visible_names(vis[x], &ch[nch].nvisible);
		nch++;
	}
	/* The actor of each change is its own command's. */
	k = 0;
	for (size_t i = 0, x = 0; i < n; i++) {
		cmd_job_complete *c = engine_cmd_of(cmds[i], cmd_job_complete);
		for (size_t j = 0; j < c->nitems; j++, x++)
			if (k < nch && which[k] == x)
				ch[k++].actor = cmds[i]->actor ? cmds[i]->actor : "api";
	}
	int rc = store_jobs_change(e->w, ch, nch, now, false);
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
		rc = store_jobs_state(e->w, ids, NULL, total, st);
	for (size_t x = 0; x < total && rc == 0; x++)
		if (items[x]->outcome == JOB_OUTCOME_NONE)
			items[x]->outcome = not_applied(&st[x], vis[x], tokens[x], TS_SUCCESS, JOB_ALREADY_COMPLETED);
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
	free(vis);
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

int job_attempts_end(engine *e, attempt_end *a, size_t n, int64_t now)
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
		ch[i].visible = a[i].vis ? visible_names(a[i].vis, &ch[i].nvisible) : NULL;
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
	if (rc == 0)
		rc = store_jobs_change(e->w, ch, n, now, false);
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
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += engine_cmd_of(cmds[i], cmd_job_fail)->nitems;
	job_fail_item **items = xcalloc(total ? total : 1, sizeof *items);
	const job_visibility **vis = xcalloc(total ? total : 1, sizeof *vis);
	weft_id *ids = xcalloc(total ? total : 1, sizeof *ids);
	int64_t *tokens = xcalloc(total ? total : 1, sizeof *tokens);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		cmd_job_fail *c = engine_cmd_of(cmds[i], cmd_job_fail);
		for (size_t j = 0; j < c->nitems; j++, k++) {
			vis[k] = &c->visible;
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
			                         .actor = cmds[i]->actor ? cmds[i]->actor : "api", .vis = &c->visible };
		}
	}
	int rc = job_attempts_end(e, a, na, now);
	for (size_t y = 0; y < na && rc == 0; y++) {
		if (!a[y].applied)
			continue;
		job_fail_item *it = items[which[y]];
		it->outcome = a[y].retried ? JOB_RETRYING : JOB_DEAD_LETTERED;
		it->next_attempt_at = a[y].next_attempt_at;
	}
	job_state *st = xcalloc(total ? total : 1, sizeof *st);
	bool rest = false;
	for (size_t x = 0; x < total; x++)
		rest |= items[x]->outcome == JOB_OUTCOME_NONE;
	if (rc == 0 && rest)
		rc = store_jobs_state(e->w, ids, tokens, total, st);
	for (size_t x = 0; x < total && rc == 0; x++) {
		if (items[x]->outcome != JOB_OUTCOME_NONE)
			continue;
		bool seen = st[x].found && job_visible(vis[x], st[x].ns);
		items[x]->outcome = seen && st[x].failed_with_token
		                            ? JOB_ALREADY_FAILED
		                            : not_applied(&st[x], vis[x], tokens[x], TS_FAILURE, JOB_OUTCOME_NONE);
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		cmds[i]->result = 0;
	free(st);
	free(which);
	free(a);
	free(rep);
	free(tokens);
	free(ids);
	free(vis);
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
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += engine_cmd_of(cmds[i], cmd_job_release)->nitems;
	job_release_item **items = xcalloc(total ? total : 1, sizeof *items);
	const job_visibility **vis = xcalloc(total ? total : 1, sizeof *vis);
	weft_id *ids = xcalloc(total ? total : 1, sizeof *ids);
	int64_t *tokens = xcalloc(total ? total : 1, sizeof *tokens);
	job_change *ch = xcalloc(total ? total : 1, sizeof *ch);
	size_t *which = xcalloc(total ? total : 1, sizeof *which);
	size_t k = 0, nch = 0;
	for (size_t i = 0; i < n; i++) {
		cmd_job_release *c = engine_cmd_of(cmds[i], cmd_job_release);
		for (size_t j = 0; j < c->nitems; j++, k++) {
			vis[k] = &c->visible;
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
				ch[nch] = (job_change){ .id = ids[k], .token = tokens[k], .to = TS_PENDING,
				                        .actor = cmds[i]->actor ? cmds[i]->actor : "api",
				                        .reason = "released by its worker" };
				ch[nch].visible = visible_names(vis[k], &ch[nch].nvisible);
				nch++;
			}
	}
	int rc = store_jobs_change(e->w, ch, nch, now, true);
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
		rc = store_jobs_state(e->w, ids, NULL, total, st);
	for (size_t x = 0; x < total && rc == 0; x++)
		if (items[x]->outcome == JOB_OUTCOME_NONE)
			items[x]->outcome = not_applied(&st[x], vis[x], tokens[x], TS_PENDING, JOB_OUTCOME_NONE);
	for (size_t i = 0; i < n && rc == 0; i++)
		cmds[i]->result = 0;
	free(st);
	free(hist);
	free(rep);
	free(which);
	free(ch);
	free(tokens);
	free(ids);
	free(vis);
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
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += engine_cmd_of(cmds[i], cmd_job_heartbeat)->nitems;
	job_heartbeat_item **items = xcalloc(total ? total : 1, sizeof *items);
	const job_visibility **vis = xcalloc(total ? total : 1, sizeof *vis);
	job_beat *beats = xcalloc(total ? total : 1, sizeof *beats);
	weft_id *ids = xcalloc(total ? total : 1, sizeof *ids);
	worker_seen *seen = xcalloc(n ? n : 1, sizeof *seen);
	for (size_t i = 0; i < n; i++) {
		cmd_job_heartbeat *c = engine_cmd_of(cmds[i], cmd_job_heartbeat);
		seen[i] = (worker_seen){ .ns = c->namespace, .id = c->worker_id };
	}
	int rc = store_workers_seen(e->w, seen, n, now);
	size_t k = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		cmd_job_heartbeat *c = engine_cmd_of(cmds[i], cmd_job_heartbeat);
		c->drain = seen[i].draining;
		for (size_t j = 0; j < c->nitems; j++, k++) {
			vis[k] = &c->visible;
			items[k] = &c->items[j];
			ids[k] = items[k]->id;
			beats[k] = (job_beat){ .id = items[k]->id, .token = items[k]->lease_token, .lease_us = c->lease_us,
			                       .progress = items[k]->progress };
			beats[k].visible = visible_names(&c->visible, &beats[k].nvisible);
		}
	}
	/* A lease given twice in the set is extended once (the same end). */
	if (rc == 0)
		rc = store_jobs_heartbeat(e->w, beats, total, now);
	job_state *st = xcalloc(total ? total : 1, sizeof *st);
	size_t lost = 0;
	for (size_t x = 0; x < total; x++)
		lost += !beats[x].held;
	if (rc == 0 && lost > 0)
		rc = store_jobs_state(e->w, ids, NULL, total, st);
	for (size_t x = 0; x < total && rc == 0; x++) {
		job_heartbeat_item *it = items[x];
		it->lease_until = beats[x].lease_until;
		if (beats[x].held)
			it->state = JOB_LEASE_HELD;
		else if (!st[x].found || !job_visible(vis[x], st[x].ns))
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
	free(vis);
	free(items);
	free(seen);
	return rc;
}

static int heartbeat_one(engine *e, engine_cmd *cmd, int64_t now)
{
	return heartbeat_many(e, &cmd, 1, now);
}

/* ---- the ops ---------------------------------------------------------------------------------- */

static const engine_op op_heartbeat = { .name = "job.heartbeat", .apply = heartbeat_one,
                                        .apply_many = heartbeat_many, .failure_metric = FAILED };
static const engine_op op_complete = { .name = "job.complete", .apply = complete_one, .apply_many = complete_many,
                                       .failure_metric = FAILED };
static const engine_op op_fail = { .name = "job.fail", .apply = fail_one, .apply_many = fail_many,
                                   .failure_metric = FAILED };
static const engine_op op_release = { .name = "job.release", .apply = release_one, .apply_many = release_many,
                                      .failure_metric = FAILED };

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
