/*
 * worker_api.c — the threads of `weft worker` that talk to the server:
 * claims, heartbeats and reports (see worker_impl.h).
 *
 * A request that fails in a way that may pass (the server unreachable,
 * 5xx, 429) is tried again after a growing pause; one that cannot pass
 * (401, 403, a 400 that says this worker sends something wrong) ends the
 * worker with its exit code.
 */
#include "cli/worker_impl.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

#include <errno.h>
#include <time.h>

#define SUB "worker"
#define RETRY_MIN_US (100 * 1000LL)
#define RETRY_MAX_US (5 * 1000000LL)
#define WARN_EVERY_US (60 * 1000000LL)   /* how often a failing request is logged again */
#define ITEMS_PER_REQUEST 1000   /* the API's limit on the items of one request */

void worker_wait(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t wait_us)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t ns = (int64_t)ts.tv_nsec + (wait_us % 1000000) * 1000;
	ts.tv_sec += (time_t)(wait_us / 1000000 + ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	pthread_cond_timedwait(cv, mu, &ts);
}

static void set_fatal(worker *w, int code, const char *what, const char *err)
{
	log_error(SUB, "%s: %s", what, err);
	pthread_mutex_lock(&w->mu);
	if (!w->fatal)
		w->fatal = code;
	pthread_mutex_unlock(&w->mu);
	worker_notify(w);
}

/* Posts body; on a failure that may pass, waits (growing *backoff_us) and
 * returns -1 so that the caller tries again; on one that cannot, sets the
 * worker's fatal code and returns -2. 0 with *answer on success. A
 * request canceled for the shutdown returns -2 without a message. With
 * rejected, a request the server refused as bad (400, 413) is not fatal:
 * -3, with the server's reason in rejected. */
static int post(worker *w, http_client *c, const char *path, json_t *body, json_t **answer, int64_t *backoff_us,
                char *rejected, size_t rejected_len)
{
	char *text = json_dump_compact(body);
	char err[1024];
	long status = 0;
	int rc = cli_post(c, &w->o.client, path, text, strlen(text), answer, &status, err, sizeof(err));
	free(text);
	if (rc == CLI_EXIT_OK) {
		if (*backoff_us)
			log_info(SUB, "%s: the server answers again", path);
		*backoff_us = 0;
		return 0;
	}
	if (atomic_load(&w->cancel_requests) || http_client_canceled(c))
		return -2;
	if (rejected && rc == CLI_EXIT_USAGE) {
		snprintf(rejected, rejected_len, "%s", err);
		return -3;
	}
	if (!cli_retryable(rc, status)) {
		set_fatal(w, rc, path, err);
		return -2;
	}
	/* the first failure of a series, then one line a minute */
	static _Thread_local int64_t last_warned;
	int64_t now = clock_mono_us();
	if (!*backoff_us || now - last_warned >= WARN_EVERY_US) {
		log_warn(SUB, "%s (trying again until it answers)", err);
		last_warned = now;
	}
	*backoff_us = *backoff_us ? MIN(*backoff_us * 2, RETRY_MAX_US) : RETRY_MIN_US;
	pthread_mutex_lock(&w->mu);
	if (!w->stopping)
		worker_wait(&w->backoff_cv, &w->mu, *backoff_us);
	bool stopping = w->stopping;
	pthread_mutex_unlock(&w->mu);
	return stopping ? -2 : -1;
}

static http_client *thread_client(worker *w, long timeout_ms)
{
	http_client *c = cli_client_new("weft worker", &w->o.client, timeout_ms);
	if (c)
		http_client_set_cancel(c, &w->cancel_requests);
	return c;
}

static void add_namespace(const worker *w, json_t *body)
{
	if (w->o.client.ns)
		json_object_set_new(body, "namespace", json_string(w->o.client.ns));
}

/* ---- claims -------------------------------------------------------------- */

static char *string_field(const json_t *j, const char *key)
{
	const json_t *v = json_object_get(j, key);
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))   /* tolerated: a token sent as a number */
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return NULL;
}

static job *job_of(worker *w, const json_t *j)
{
	job *jb = xcalloc(1, sizeof(*jb));
	jb->owner = w;
	buf_init(&jb->log_part[0]);
	buf_init(&jb->log_part[1]);
	jb->id = string_field(j, "id");
	jb->lease_token = string_field(j, "lease_token");
	if (!jb->id || !jb->lease_token) {
		log_error(SUB, "a claimed job without %s: skipped (its lease will expire)", jb->id ? "lease_token" : "id");
		job_free(jb);
		return NULL;
	}
	jb->run_id = string_field(j, "run_id");
	jb->queue = string_field(j, "queue");
	json_int_t attempt = json_integer_value(json_object_get(j, "attempt"));
	jb->attempt = attempt > 0 ? attempt : 1;
	const json_t *input = json_object_get(j, "input");
	jb->input = input ? json_dump_compact(input) : xstrdup("null");
	const json_t *parents = json_object_get(j, "parents");
	jb->parents = json_is_array(parents) ? json_dump_compact(parents) : xstrdup("[]");
	const char *t = json_string_value(json_object_get(j, "timeout_at"));
	if (t && time_parse_rfc3339(t, &jb->timeout_at_us) != 0)
		jb->timeout_at_us = 0;
	return jb;
}

void *worker_claim_thread(void *arg)
{
	worker *w = arg;
	http_client *c = thread_client(w, (long)(w->o.claim_wait_us / 1000) + 30000);
	if (!c) {
		set_fatal(w, CLI_EXIT_USAGE, "claim", "bad --url");
		return NULL;
	}
	/* A drain ends the claim waiting on the server at once: the server
	 * sees the connection close and hands that claim nothing. */
	http_client_set_cancel(c, &w->cancel_claim);
	int64_t backoff = 0;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->stopping && !w->draining && !w->fatal && w->busy >= w->o.concurrency)
			pthread_cond_wait(&w->claim_cv, &w->mu);
		bool stop = w->stopping || w->draining || w->fatal;
		int want = w->o.concurrency - w->busy;
		pthread_mutex_unlock(&w->mu);
		if (stop)
			break;
		json_t *queues = json_array();
		for (size_t i = 0; i < w->o.nqueues; i++)
			json_array_append_new(queues, json_string(w->o.queues[i]));
		json_t *body = json_pack("{s:o,s:s,s:s,s:i,s:i,s:I}", "queues", queues, "worker_id", w->id, "hostname",
		                         w->hostname, "max_jobs", want, "wait_ms", (int)(w->o.claim_wait_us / 1000), "lease_ms",
		                         (json_int_t)(w->o.lease_us / 1000));
		add_namespace(w, body);
		json_t *answer = NULL;
		int rc = post(w, c, "/v1/jobs/claim", body, &answer, &backoff, NULL, 0);
		json_decref(body);
		if (rc == -2)
			break;
		if (rc == -1)
			continue;
		/* more than asked for (never expected) would overflow the slots:
		 * those go back */
		job *got[WORKER_CONCURRENCY_MAX], *extra[WORKER_CONCURRENCY_MAX];
		size_t n = 0, nextra = 0, i;
		json_t *j;
		json_array_foreach(json_object_get(answer, "jobs"), i, j) {
			job *jb = job_of(w, j);
			if (jb && n < (size_t)want)
				got[n++] = jb;
			else if (jb && nextra < ARRAY_LEN(extra))
				extra[nextra++] = jb;
			else
				job_free(jb);
		}
		if (nextra > 0) {
			worker_release(w, c, extra, nextra);
			for (size_t k = 0; k < nextra; k++)
				job_free(extra[k]);
		}
		bool drain = json_is_true(json_object_get(answer, "drain"));
		json_decref(answer);
		pthread_mutex_lock(&w->mu);
		if (drain && !w->draining) {
			log_info(SUB, "the server asks this worker to drain: finishing the jobs it has");
			w->draining = true;
		}
		bool release = w->draining || w->stopping;
		for (size_t k = 0; k < n && !release; k++) {
			job *jb = got[k];
			jb->state = JOB_CLAIMED;
			jb->prev = w->tail;
			if (w->tail)
				w->tail->next = jb;
			else
				w->head = jb;
			w->tail = jb;
			w->busy++;
		}
		pthread_mutex_unlock(&w->mu);
		if (release && n > 0) {
			/* claimed while the drain began: give them back at once (not
			 * stopped by the shutdown's cancel flag) */
			http_client_set_cancel(c, NULL);
			worker_release(w, c, got, n);
			for (size_t k = 0; k < n; k++)
				job_free(got[k]);
		}
		if (n > 0 || drain)
			worker_notify(w);
	}
	pthread_mutex_lock(&w->mu);
	w->claims_done = true;
	pthread_mutex_unlock(&w->mu);
	worker_notify(w);
	http_client_free(c);
	return NULL;
}

void worker_release(worker *w, http_client *c, job **jobs, size_t n)
{
	for (size_t from = 0; from < n; from += ITEMS_PER_REQUEST) {
		json_t *items = json_array();
		for (size_t i = from; i < n && i < from + ITEMS_PER_REQUEST; i++)
			json_array_append_new(items, json_pack("{s:s,s:s}", "id", jobs[i]->id, "lease_token",
			                                       jobs[i]->lease_token));
		json_t *body = json_pack("{s:o}", "items", items);
		char *text = json_dump_compact(body);
		json_decref(body);
		json_t *answer = NULL;
		char err[1024];
		if (cli_post(c, &w->o.client, "/v1/jobs/release", text, strlen(text), &answer, NULL, err, sizeof(err)))
			log_warn(SUB, "releasing %zu leases: %s (they will expire instead)", MIN(n - from, (size_t)ITEMS_PER_REQUEST),
			         err);
		else
			log_info(SUB, "released %zu leases", MIN(n - from, (size_t)ITEMS_PER_REQUEST));
		json_decref(answer);
		free(text);
	}
}

/* ---- heartbeats ---------------------------------------------------------- */

/* Marks the job whose lease the server no longer honours (mu held). */
static void lease_gone(worker *w, const char *id, const char *state)
{
	for (job *j = w->head; j; j = j->next) {
		if (strcmp(j->id, id) != 0 || j->lease_lost)
			continue;
		j->lease_lost = true;
		log_info(SUB, "job %s: the lease is %s: stopping it, nothing will be reported", id, state);
		return;
	}
}

/* One heartbeat for up to ITEMS_PER_REQUEST of the leases held. */
static int beat(worker *w, http_client *c, json_t *leases, int64_t *backoff)
{
	json_t *body = json_pack("{s:s,s:I,s:O}", "worker_id", w->id, "lease_ms", (json_int_t)(w->o.lease_us / 1000),
	                         "leases", leases);
	json_t *answer = NULL;
	int rc = post(w, c, "/v1/jobs/heartbeat", body, &answer, backoff, NULL, 0);
	json_decref(body);
	if (rc != 0)
		return rc;
	bool news = false;
	size_t i;
	json_t *l;
	pthread_mutex_lock(&w->mu);
	json_array_foreach(json_object_get(answer, "leases"), i, l) {
		const char *state = json_string_value(json_object_get(l, "state"));
		const char *id = json_string_value(json_object_get(l, "id"));
		if (id && state && strcmp(state, "held") != 0) {
			lease_gone(w, id, state);
			news = true;
		}
	}
	if (json_is_true(json_object_get(answer, "drain")) && !w->draining) {
		log_info(SUB, "the server asks this worker to drain: finishing the jobs it has");
		w->draining = true;
		pthread_cond_broadcast(&w->claim_cv);
		news = true;
	}
	pthread_mutex_unlock(&w->mu);
	json_decref(answer);
	if (news)
		worker_notify(w);
	return 0;
}

void *worker_heartbeat_thread(void *arg)
{
	worker *w = arg;
	http_client *c = thread_client(w, 30000);
	if (!c)
		return NULL;
	int64_t interval = w->o.lease_us / 3, backoff = 0;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		int64_t wait = backoff ? backoff : interval;
		worker_wait(&w->heartbeat_cv, &w->mu, wait);
		if (w->stopping)
			break;
		/* every lease held, in requests of at most ITEMS_PER_REQUEST */
		json_t *batches = json_array(), *leases = NULL;
		for (job *j = w->head; j; j = j->next) {
			if (j->lease_lost)
				continue;
			if (!leases || json_array_size(leases) == ITEMS_PER_REQUEST)
				json_array_append_new(batches, leases = json_array());
			json_array_append_new(leases, json_pack("{s:s,s:s}", "id", j->id, "lease_token", j->lease_token));
		}
		pthread_mutex_unlock(&w->mu);
		int rc = 0;
		size_t i;
		json_t *b;
		json_array_foreach(batches, i, b) {
			if ((rc = beat(w, c, b, &backoff)) != 0)
				break;
		}
		json_decref(batches);
		pthread_mutex_lock(&w->mu);
		if (rc == -2)
			break;
	}
	pthread_mutex_unlock(&w->mu);
	http_client_free(c);
	return NULL;
}

/* ---- reports ------------------------------------------------------------- */

static json_t *report_item(const job *j)
{
	const proc_outcome *o = &j->outcome;
	if (o->ok)
		return json_pack("{s:s,s:s,s:O}", "id", j->id, "lease_token", j->lease_token, "result", o->result);
	return json_pack("{s:s,s:s,s:{s:s,s:s,s:b}}", "id", j->id, "lease_token", j->lease_token, "error", "code",
	                 o->code, "message", o->message ? o->message : "", "retryable", o->retryable);
}

/* One request with the outcomes of jobs[0..n) that match ok (complete or
 * fail), resent while the failure may pass. 0, -2 (stopping or fatal), or
 * -3 when the server refused the request as bad (reason in why). */
static int report_request(worker *w, http_client *c, job **jobs, size_t n, bool ok, char *why, size_t whylen)
{
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		if (jobs[i]->outcome.ok == ok)
			json_array_append_new(items, report_item(jobs[i]));
	if (json_array_size(items) == 0) {
		json_decref(items);
		return 0;
	}
	json_t *body = json_pack("{s:o}", "items", items);
	const char *path = ok ? "/v1/jobs/complete" : "/v1/jobs/fail";
	json_t *answer = NULL;
	int64_t backoff = 0;
	int rc;
	while ((rc = post(w, c, path, body, &answer, &backoff, why, whylen)) == -1)
		;
	json_decref(body);
	if (rc != 0)
		return rc;
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(answer, "results"), i, r) {
		const char *id = json_string_value(json_object_get(r, "id"));
		const char *outcome = json_string_value(json_object_get(r, "outcome"));
		if (!id || !outcome)
			continue;
		const job *jb = NULL;
		for (size_t k = 0; k < n && !jb; k++)
			jb = strcmp(jobs[k]->id, id) == 0 ? jobs[k] : NULL;
		if (w->outcome_log)
			fprintf(w->outcome_log, "%s %" PRId64 " %s %s\n", id, jb ? jb->attempt : 0, ok ? "complete" : "fail",
			        outcome);
		if (w->o.json_out) {
			json_t *line = json_pack("{s:s,s:I,s:s,s:s}", "id", id, "attempt", (json_int_t)(jb ? jb->attempt : 0),
			                         "report", ok ? "complete" : "fail", "outcome", outcome);
			char *text = json_dump_compact(line);
			printf("%s\n", text);
			free(text);
			json_decref(line);
		}
		bool expected = strcmp(outcome, "completed") == 0 || strcmp(outcome, "retrying") == 0 ||
		                strcmp(outcome, "dead_lettered") == 0 || strcmp(outcome, "already_completed") == 0 ||
		                strcmp(outcome, "already_failed") == 0;
		if (expected)
			log_debug(SUB, "job %s: %s", id, outcome);
		else
			log_info(SUB, "job %s: %s answered %s (the server had already ended this attempt)", id,
			         ok ? "complete" : "fail", outcome);
	}
	if (w->outcome_log)
		fflush(w->outcome_log);
	if (w->o.json_out)
		fflush(stdout);
	json_decref(answer);
	return 0;
}

/* Sends the outcomes of jobs[0..n) that match ok. When the server
 * refuses the request as bad, one job's report is at fault (a result it
 * will not take, say): each is then sent alone, and a result refused
 * alone becomes a failure, `result_rejected`, not retryable, with the
 * server's reason, so that one job's output cannot stop the worker. The
 * failures go first (send_reports(false) before send_reports(true)), so a
 * failure made here is sent once. */
static int send_reports(worker *w, http_client *c, job **jobs, size_t n, bool ok)
{
	char why[1024];
	int rc = report_request(w, c, jobs, n, ok, why, sizeof(why));
	if (rc != -3)
		return rc;
	log_error(SUB, "the server refused %s reports: %s; sending them one by one", ok ? "complete" : "fail", why);
	for (size_t i = 0; i < n; i++) {
		job *j = jobs[i];
		if (j->outcome.ok != ok)
			continue;
		rc = report_request(w, c, &j, 1, ok, why, sizeof(why));
		if (rc == -3 && ok) {
			log_error(SUB, "job %s: the server refused its result: %s; failing it", j->id, why);
			json_decref(j->outcome.result);
			j->outcome = (proc_outcome){ .retryable = false, .message = xasprintf("the server refused the result: "
			                                                                      "%.3900s", why) };
			snprintf(j->outcome.code, sizeof(j->outcome.code), "result_rejected");
			rc = report_request(w, c, &j, 1, false, why, sizeof(why));
		}
		if (rc == -3)
			log_error(SUB, "job %s: the server refused its report: %s (its lease will expire)", j->id, why);
		else if (rc != 0)
			return rc;
	}
	return 0;
}

void *worker_report_thread(void *arg)
{
	worker *w = arg;
	http_client *c = thread_client(w, 60000);
	if (!c)
		return NULL;
	job *batch[REPORT_BATCH_MAX];
	pthread_mutex_lock(&w->mu);
	while (!w->stopping) {
		if (w->to_report == 0) {
			pthread_cond_wait(&w->report_cv, &w->mu);
			continue;
		}
		/* let others join the request: up to REPORT_BATCH_MAX, for at
		 * most REPORT_LINGER_US */
		int64_t until = clock_mono_us() + REPORT_LINGER_US, left;
		while (!w->stopping && w->to_report < REPORT_BATCH_MAX && (left = until - clock_mono_us()) > 0)
			worker_wait(&w->report_cv, &w->mu, left);
		size_t n = 0, bytes = 0;
		for (job *j = w->head; j && n < REPORT_BATCH_MAX; j = j->next) {
			if (j->state != JOB_REPORTING || j->reported || j->report_held)
				continue;
			if (n > 0 && bytes + j->report_bytes > REPORT_BATCH_BYTES_MAX)
				break;
			bytes += j->report_bytes;
			j->reported = true;
			batch[n++] = j;
		}
		w->to_report -= (int)n;
		pthread_mutex_unlock(&w->mu);
		int rc = send_reports(w, c, batch, n, false);
		if (rc == 0)
			rc = send_reports(w, c, batch, n, true);
		pthread_mutex_lock(&w->mu);
		if (rc != 0)
			break;   /* stopping, or fatal: the jobs stay listed, and are released */
		for (size_t i = 0; i < n; i++)
			worker_job_remove(w, batch[i]);
		worker_notify(w);
	}
	pthread_mutex_unlock(&w->mu);
	http_client_free(c);
	return NULL;
}
