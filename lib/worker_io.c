/*
 * worker_io.c — the worker threads that talk to the server: claims,
 * reports and heartbeats (see worker_impl.h).
 */
#include "worker_impl.h"

/* ---- claims ------------------------------------------------------------- */

/* Gives back leases of jobs that will not run (claimed as a drain began). */
static void release(weft_worker *w, weft_client *c, weft_job *jobs, size_t n)
{
	if (n == 0)
		return;
	weft_release_item *items = xcalloc(n, sizeof(*items));
	for (size_t i = 0; i < n; i++)
		items[i] = (weft_release_item){ .id = jobs[i].id, .lease_token = jobs[i].lease_token };
	weft_release_request req = { .items = items, .items_len = n };
	weft_error err = { 0 };
	if (weft_release_jobs(c, &req, NULL, &err) == 0)
		atomic_fetch_add(&w->n_released, n);
	else
		worker_log(w, WEFT_LOG_WARN, "releasing %zu job(s): %s (their leases will expire instead)", n, err.message);
	weft_error_release(&err);
	free(items);
}

/* Moves the claimed jobs onto the held list and the ready queue (mu held). */
static void take_jobs(weft_worker *w, weft_claim_result *r)
{
	for (size_t i = 0; i < r->jobs_len; i++) {
		wjob *j = xcalloc(1, sizeof(*j));
		j->job = r->jobs[i];
		memset(&r->jobs[i], 0, sizeof(r->jobs[i]));   /* the fields are the job's now */
		j->w = w;
		atomic_init(&j->lost, false);
		j->next = w->held_head;
		if (w->held_head)
			w->held_head->prev = j;
		w->held_head = j;
		w->held++;
		w->active++;
		if (j->job.heartbeat_ms >= 100 && j->job.heartbeat_ms < w->heartbeat_ms)
			w->heartbeat_ms = j->job.heartbeat_ms;
		wqueue_push(&w->ready, j);
	}
	atomic_fetch_add(&w->n_claimed, r->jobs_len);
	pthread_cond_broadcast(&w->handler_cv);
	pthread_cond_signal(&w->beat_cv);
}

void *worker_claim_thread(void *arg)
{
	weft_worker *w = arg;
	weft_client *c = worker_client(w, &w->claim_cancel);
	int64_t backoff = 0;
	weft_error err = { 0 };
	weft_claim_request req = {
		.namespace_ = w->ns,
		.queues = (const char *const *)w->queues,
		.queues_len = w->o.queues_len,
		.worker_id = w->id,
		.hostname = w->hostname,
		.wait_ms = w->o.claim_wait_ms,
		.lease_ms = w->o.lease_ms,
	};
	while (c) {
		pthread_mutex_lock(&w->mu);
		/* a free handler slot, and not too many reports behind */
		while (!w->draining && (w->active >= (size_t)w->o.concurrency ||
		                        w->held >= (size_t)w->o.concurrency + REPORT_ITEMS_MAX))
			pthread_cond_wait(&w->claim_cv, &w->mu);
		bool stop = w->draining;
		req.max_jobs = (int64_t)w->o.concurrency - (int64_t)w->active;
		pthread_mutex_unlock(&w->mu);
		if (stop)
			break;
		weft_claim_result *r = NULL;
		atomic_fetch_add(&w->n_claim_requests, 1);
		int rc = weft_claim_jobs(c, &req, &r, &err);
		if (rc == WEFT_ECANCELED)
			break;
		if (rc != 0 && !worker_retryable(rc)) {
			worker_fatal(w, rc, &err);
			break;
		}
		pthread_mutex_lock(&w->mu);
		if (rc != 0) {
			if (!backoff)
				worker_log(w, WEFT_LOG_WARN, "claim: %s (trying again until it answers)", err.message);
			worker_backoff(w, &w->claim_cv, &backoff, true);
			pthread_mutex_unlock(&w->mu);
			continue;
		}
		if (backoff)
			worker_log(w, WEFT_LOG_INFO, "claim: the server answers again");
		backoff = 0;
		if (r->drain && !w->draining) {
			worker_log(w, WEFT_LOG_INFO, "the server asks this worker to drain");
			w->draining = true;
		}
		bool keep = !w->draining;
		if (keep)
			take_jobs(w, r);
		pthread_mutex_unlock(&w->mu);
		if (!keep) {
			/* not stopped by the drain's cancel flag */
			http_client_set_cancel(c->http, &w->abort_requests);
			release(w, c, r->jobs, r->jobs_len);
		}
		weft_claim_result_free(r);
		if (!keep)
			worker_notify(w);
	}
	weft_error_release(&err);
	weft_client_free(c);
	pthread_mutex_lock(&w->mu);
	w->claims_done = true;
	pthread_mutex_unlock(&w->mu);
	worker_notify(w);
	return NULL;
}

/* ---- reports ------------------------------------------------------------ */

/* Sends one request (complete or fail) for batch[0..n), again while the
 * failure may pass. 0, WEFT_EBADREQUEST (the server refused it), or
 * another code when the worker stops. Counts the outcomes. */
static int report_request(weft_worker *w, weft_client *c, wjob **batch, size_t n, bool ok)
{
	weft_complete_item *ci = ok ? xcalloc(n, sizeof(*ci)) : NULL;
	weft_fail_item *fi = ok ? NULL : xcalloc(n, sizeof(*fi));
	for (size_t i = 0; i < n; i++) {
		const wjob *j = batch[i];
		if (ok) {
			ci[i] = (weft_complete_item){ .id = j->job.id, .lease_token = j->job.lease_token, .result = j->res.result };
		} else {
			fi[i] = (weft_fail_item){
				.id = j->job.id,
				.lease_token = j->job.lease_token,
				.error = { .code = j->res.code, .message = j->res.message,
				           .retryable = j->res.retryable ? WEFT_TRUE : WEFT_FALSE },
				.retry_after_ms = !j->res.retry_after_set ? 0
				                  : j->res.retry_after_ms == 0 ? WEFT_RETRY_NOW : j->res.retry_after_ms,
			};
		}
	}
	weft_complete_request creq = { .items = ci, .items_len = n };
	weft_fail_request freq = { .items = fi, .items_len = n };
	weft_report_results *res = NULL;
	weft_error err = { 0 };
	int64_t backoff = 0;
	int rc;
	for (;;) {
		atomic_fetch_add(&w->n_report_requests, 1);
		rc = ok ? weft_complete_jobs(c, &creq, &res, &err) : weft_fail_jobs(c, &freq, &res, &err);
		if (rc == 0 || !worker_retryable(rc))
			break;
		pthread_mutex_lock(&w->mu);
		if (!backoff)
			worker_log(w, WEFT_LOG_WARN, "report: %s (trying again until it answers)", err.message);
		worker_backoff(w, &w->report_cv, &backoff, false);
		pthread_mutex_unlock(&w->mu);
	}
	if (rc == 0) {
		for (size_t i = 0; i < res->results_len; i++) {
			const char *o = res->results[i].outcome ? res->results[i].outcome : "";
			if (!strcmp(o, "completed") || !strcmp(o, "already_completed"))
				atomic_fetch_add(&w->n_completed, 1);
			else if (!strcmp(o, "retrying") || !strcmp(o, "dead_lettered") || !strcmp(o, "already_failed"))
				atomic_fetch_add(&w->n_failed, 1);
			else {
				atomic_fetch_add(&w->n_lost, 1);
				worker_log(w, WEFT_LOG_INFO, "job %s: %s answered %s", res->results[i].id ? res->results[i].id : "?",
				           ok ? "complete" : "fail", o);
			}
		}
	} else if (rc != WEFT_ECANCELED && rc != WEFT_EBADREQUEST) {
		worker_fatal(w, rc, &err);
	} else if (rc == WEFT_EBADREQUEST) {
		worker_log(w, WEFT_LOG_ERROR, "the server refused %zu %s report(s): %s", n, ok ? "complete" : "fail",
		           err.message);
	}
	weft_report_results_free(res);
	weft_error_release(&err);
	free(ci);
	free(fi);
	return rc;
}

/* Sends the outcomes of batch[0..n) of one kind. A request the server
 * refuses is sent again one job at a time; a result refused alone
 * becomes a failure ("result_rejected", not retryable), so that one job's
 * output cannot hold up the others. */
static void report_kind(weft_worker *w, weft_client *c, wjob **batch, size_t n, bool ok)
{
	if (n == 0 || report_request(w, c, batch, n, ok) != WEFT_EBADREQUEST)
		return;
	for (size_t i = 0; i < n; i++) {
		wjob *j = batch[i];
		if (n > 1 && report_request(w, c, &j, 1, ok) != WEFT_EBADREQUEST)
			continue;
		if (ok) {
			weft_job_result_fail(&j->res, "result_rejected", "the server refused the job's result", false);
			report_request(w, c, &j, 1, false);
		}
	}
}

void *worker_report_thread(void *arg)
{
	weft_worker *w = arg;
	weft_client *c = worker_client(w, &w->abort_requests);
	wjob **oks = xcalloc(REPORT_ITEMS_MAX, sizeof(*oks)), **fails = xcalloc(REPORT_ITEMS_MAX, sizeof(*fails));
	pthread_mutex_lock(&w->mu);
	for (;;) {
		if (!w->done.head) {
			if (w->exiting)
				break;
			pthread_cond_wait(&w->report_cv, &w->mu);
			continue;
		}
		if (!c || atomic_load(&w->abort_requests)) {
			while (w->done.head)
				worker_forget(w, wqueue_pop(&w->done));
			continue;
		}
		/* everything finished so far, within one request's limits */
		size_t nok = 0, nfail = 0, bytes = 0, nlost = 0;
		wjob *lost = NULL;
		while (w->done.head && nok < REPORT_ITEMS_MAX && nfail < REPORT_ITEMS_MAX && bytes < REPORT_BYTES_MAX) {
			wjob *j = wqueue_pop(&w->done);
			if (atomic_load(&j->quiet) || atomic_load(&j->lost)) {
				j->qnext = lost;   /* its lease is gone: nothing to report */
				lost = j;
				nlost += !atomic_load(&j->quiet);
				continue;
			}
			bytes += j->report_bytes;
			if (j->res.ok)
				oks[nok++] = j;
			else
				fails[nfail++] = j;
		}
		while (lost) {
			wjob *next = lost->qnext;
			worker_forget(w, lost);
			lost = next;
		}
		atomic_fetch_add(&w->n_lost, nlost);
		pthread_mutex_unlock(&w->mu);
		report_kind(w, c, fails, nfail, false);
		report_kind(w, c, oks, nok, true);
		pthread_mutex_lock(&w->mu);
		for (size_t i = 0; i < nfail; i++)
			worker_forget(w, fails[i]);
		for (size_t i = 0; i < nok; i++)
			worker_forget(w, oks[i]);
		worker_notify(w);
	}
	pthread_mutex_unlock(&w->mu);
	free(oks);
	free(fails);
	weft_client_free(c);
	return NULL;
}

/* ---- heartbeats --------------------------------------------------------- */

/* Marks the held job id lost (mu held): the one of lease_token, since a
 * workflow run suspended by one attempt may be held again by the next. */
static void mark_lost(weft_worker *w, const char *id, const char *lease_token, const char *state)
{
	for (wjob *j = w->held_head; j; j = j->next) {
		if (strcmp(j->job.id, id) == 0 && strcmp(j->job.lease_token, lease_token) == 0 && !atomic_load(&j->lost)) {
			atomic_store(&j->lost, true);
			worker_log(w, WEFT_LOG_INFO, "job %s: the lease is %s: its handler is told to stop", id, state);
			return;
		}
	}
}

/* One heartbeat request for refs[0..n) (n <= REPORT_ITEMS_MAX), its
 * answer applied: leases gone marked lost, a drain begun. */
static int beat(weft_worker *w, weft_client *c, const weft_lease_ref *refs, size_t n, weft_error *err)
{
	weft_heartbeat_request req = { .worker_id = w->id, .lease_ms = w->o.lease_ms, .leases = refs, .leases_len = n };
	weft_heartbeat_result *r = NULL;
	atomic_fetch_add(&w->n_heartbeat_requests, 1);
	int rc = weft_heartbeat_jobs(c, &req, &r, err);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&w->mu);
	/* the answer is in request order */
	for (size_t i = 0; i < r->leases_len && i < n; i++)
		if (r->leases[i].id && r->leases[i].state && strcmp(r->leases[i].state, "held") != 0 &&
		    strcmp(r->leases[i].id, refs[i].id) == 0)
			mark_lost(w, refs[i].id, refs[i].lease_token, r->leases[i].state);
	if (r->drain && !w->draining) {
		worker_log(w, WEFT_LOG_INFO, "the server asks this worker to drain");
		w->draining = true;
		pthread_cond_broadcast(&w->claim_cv);
		worker_notify(w);
	}
	pthread_mutex_unlock(&w->mu);
	weft_heartbeat_result_free(r);
	return 0;
}

void *worker_beat_thread(void *arg)
{
	weft_worker *w = arg;
	weft_client *c = worker_client(w, &w->abort_requests);
	size_t cap = 0;
	weft_lease_ref *refs = NULL;
	weft_error err = { 0 };
	int64_t backoff = 0;
	pthread_mutex_lock(&w->mu);
	while (c && !w->exiting) {
		if (!w->held_head) {
			pthread_cond_wait(&w->beat_cv, &w->mu);
			continue;
		}
		/* a period from now, whatever claims meanwhile */
		worker_pause(w, &w->beat_cv, backoff ? backoff : w->heartbeat_ms, false);
		if (w->exiting || atomic_load(&w->abort_requests))
			break;
		/* copies of every lease held: a job may be reported and freed
		 * while the requests are out */
		if (cap < w->held) {
			cap = w->held;
			refs = xrealloc(refs, cap * sizeof(*refs));
		}
		size_t n = 0;
		for (wjob *j = w->held_head; j && n < cap; j = j->next)
			if (!atomic_load(&j->lost) && !atomic_load(&j->quiet))
				refs[n++] = (weft_lease_ref){ .id = xstrdup(j->job.id), .lease_token = xstrdup(j->job.lease_token) };
		pthread_mutex_unlock(&w->mu);
		int rc = 0;
		for (size_t from = 0; from < n && rc == 0; from += REPORT_ITEMS_MAX)
			rc = beat(w, c, refs + from, MIN(n - from, (size_t)REPORT_ITEMS_MAX), &err);
		for (size_t i = 0; i < n; i++) {
			free((char *)refs[i].id);
			free((char *)refs[i].lease_token);
		}
		if (rc != 0 && rc != WEFT_ECANCELED && !worker_retryable(rc))
			worker_fatal(w, rc, &err);
		pthread_mutex_lock(&w->mu);
		if (rc == WEFT_ECANCELED || (rc != 0 && !worker_retryable(rc)))
			break;
		if (rc != 0) {
			if (!backoff)
				worker_log(w, WEFT_LOG_WARN, "heartbeat: %s (trying again until it answers)", err.message);
			backoff = MIN(backoff ? backoff * 2 : RETRY_MIN_MS, w->heartbeat_ms);
		} else {
			backoff = 0;
		}
	}
	pthread_mutex_unlock(&w->mu);
	weft_error_release(&err);
	free(refs);
	weft_client_free(c);
	return NULL;
}
