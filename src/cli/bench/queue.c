/*
 * queue.c — `weft bench --queue`: the /v1 job queue measured end to end, in
 * the phases that bench/peers compares with other queues:
 *
 *   queue-enqueue  --jobs N jobs {"queue":"bench","input":{"i":n}} in
 *                  POST /v1/jobs of 1,000 (the API's most), sent by
 *                  --clients threads, batch k through node k mod nodes.
 *                  Every answer must be 201 with one id per job, none
 *                  "duplicate", and no id twice over the whole phase;
 *   queue-drain    those N jobs, now pre-inserted (on PostgreSQL after a
 *                  VACUUM ANALYZE, as every peer gets): the clients claim
 *                  up to 1,000 (wait_ms 0) and complete all of them in one
 *                  POST /v1/jobs/complete, client k through node k mod
 *                  nodes, until a claim comes back empty. Each claimed
 *                  input's i is counted; lost (never claimed) and dup
 *                  (claimed more than once) must be 0, every outcome
 *                  "completed", and the server's tasks_by_status{status=
 *                  "Success"} N;
 *   queue-latency  queue_latency.c.
 *
 * Request bodies are built before the clock starts; answers are parsed by
 * the clients inside it, as a real worker must. Both timed phases run from
 * a barrier that releases every client at once to the last answer.
 *
 * A run whose jobs are lost or duplicated fails: its rate is not reported
 * as a number (bench/peers/report.py shows it as failed).
 */
#include "cli/bench/bench_impl.h"
#include "cli/bench/pg_admin.h"
#include "client/prom_text.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#define QUEUE_NAME "bench"
#define JOBS_PER_REQUEST 1000   /* POST /v1/jobs, claim max_jobs and complete: the API's most */
#define LEASE_MS 600000         /* nothing expires during a phase */

/* ---- shared with queue_latency.c ----------------------------------------- */

static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;

void bench_queue_fail(bench *b, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("bench", "%s", msg);
	pthread_mutex_lock(&fail_lock);
	if (!json_object_get(b->report, "error"))
		json_object_set_new(b->report, "error", json_string(msg));
	pthread_mutex_unlock(&fail_lock);
}

int bench_queue_post(bench *b, http_client *h, const char *path, const char *body, size_t len, long want,
                     http_response *r)
{
	int rc = http_client_request(h, "POST", path, body, len, NULL, r);
	if (rc == 0 && r->status == want)
		return 0;
	if (rc != 0)
		bench_queue_fail(b, "POST %s: no answer (%s)", path, r->error[0] ? r->error : http_client_strerror(rc));
	else if (r->status == 404 && strncmp(path, "/v1/jobs", 8) == 0)
		bench_queue_fail(b, "the server answers 404 for %s: this build has no /v1 job routes, so the queue "
		                    "cannot be measured (run --queue with a server that has them, e.g. --server PATH)",
		                 path);
	else
		bench_queue_fail(b, "POST %s: HTTP %ld, expected %ld: %.*s", path, r->status, want,
		                 (int)MIN(r->body.len, (size_t)300), r->body.data);
	return -1;
}

json_t *bench_queue_answer(bench *b, const http_response *r, const char *what)
{
	char err[200];
	json_t *v = json_parse_body(r->body.data, r->body.len, JSON_DEFAULT_MAX_DEPTH, err, sizeof(err));
	if (!v || !json_is_object(v)) {
		bench_queue_fail(b, "%s: the answer is not a JSON object (%s)", what, v ? json_type_name(v) : err);
		json_decref(v);
		return NULL;
	}
	return v;
}

http_client **bench_queue_connect(bench *b)
{
	http_client **h = xcalloc(b->nnodes, sizeof(*h));
	http_response r;
	http_response_init(&r);
	for (size_t k = 0; k < b->nnodes; k++) {
		http_client_options o = {
			.base_url = b->nodes[k].base, .token = b->token, .timeout_ms = BENCH_DEADLINE_US / 1000
		};
		h[k] = http_client_new(&o);
		if (!h[k] || http_client_request(h[k], "GET", "/health", NULL, 0, NULL, &r) != 0 || r.status != 200) {
			bench_queue_fail(b, "a client cannot reach %s: GET /health %s", b->nodes[k].base,
			                 r.status ? "did not answer 200" : r.error);
			http_response_release(&r);
			bench_queue_disconnect(b, h);
			return NULL;
		}
	}
	http_response_release(&r);
	return h;
}

void bench_queue_disconnect(const bench *b, http_client **h)
{
	if (!h)
		return;
	for (size_t k = 0; k < b->nnodes; k++)
		http_client_free(h[k]);
	free(h);
}

/* ---- the clients --------------------------------------------------------- */

/* What the threads of one phase share. */
typedef struct queue_run {
	bench *b;
	long n;                        /* jobs */
	buf *bodies;                   /* enqueue: one POST body per batch */
	size_t nbatches;
	char **ids;                    /* enqueue: the id answered for job i (owned) */
	atomic_uint *claims;           /* drain: how often job i was claimed */
	atomic_long foreign;           /* drain: claimed jobs whose input is not one of ours */
	atomic_long not_completed;     /* drain: completion outcomes other than "completed" */
	atomic_long requests;          /* drain: claims and completions sent */
	atomic_size_t next;            /* enqueue: the next batch to send */
	atomic_int failed;
	pthread_barrier_t go;
} queue_run;

typedef struct queue_client {
	queue_run *q;
	size_t num;
	http_client **h;               /* one per node */
	pthread_t tid;
} queue_client;

/* Records the ids of one POST /v1/jobs answer for jobs [from, from + count). */
static int take_ids(queue_run *q, const http_response *r, long from, long count)
{
	json_t *a = bench_queue_answer(q->b, r, "POST /v1/jobs");
	const json_t *jobs = a ? json_object_get(a, "jobs") : NULL;
	int rc = -1;
	if (!a)
		return -1;
	if (!json_is_array(jobs) || (long)json_array_size(jobs) != count) {
		bench_queue_fail(q->b, "POST /v1/jobs of %ld jobs: %zu in the answer", count,
		                 json_is_array(jobs) ? json_array_size(jobs) : 0);
		goto out;
	}
	for (long k = 0; k < count; k++) {
		const json_t *j = json_array_get(jobs, (size_t)k);
		const char *id = NULL;
		bool duplicate = false;
		if (json_get_str(j, "id", &id) != 0 || !*id) {
			bench_queue_fail(q->b, "POST /v1/jobs: job %ld of the answer has no id", k);
			goto out;
		}
		if (json_get_bool(j, "duplicate", &duplicate) == 0 && duplicate) {
			bench_queue_fail(q->b, "POST /v1/jobs: job %ld (input i=%ld) answered as a duplicate", k, from + k);
			goto out;
		}
		q->ids[from + k] = xstrdup(id);
	}
	rc = 0;
out:
	json_decref(a);
	return rc;
}

static void *enqueue_client(void *arg)
{
	queue_client *c = arg;
	queue_run *q = c->q;
	http_response r;
	http_response_init(&r);
	pthread_barrier_wait(&q->go);
	while (!atomic_load_explicit(&q->failed, memory_order_relaxed)) {
		size_t k = atomic_fetch_add(&q->next, 1);
		if (k >= q->nbatches)
			break;
		long from = (long)k * JOBS_PER_REQUEST;
		long count = MIN((long)JOBS_PER_REQUEST, q->n - from);
		if (bench_queue_post(q->b, c->h[k % q->b->nnodes], "/v1/jobs", q->bodies[k].data, q->bodies[k].len, 201,
		                     &r) != 0 ||
		    take_ids(q, &r, from, count) != 0)
			atomic_store(&q->failed, 1);
	}
	http_response_release(&r);
	return NULL;
}

/* ---- claims and completions (also queue_latency.c's) ---------------------- */

const json_t *bench_queue_take(bench *b, const json_t *job, buf *items, bool first)
{
	const char *id = NULL, *token = NULL;
	if (json_get_str(job, "id", &id) != 0 || json_get_str(job, "lease_token", &token) != 0) {
		bench_queue_fail(b, "POST /v1/jobs/claim: a job without id or lease_token");
		return NULL;
	}
	if (!first)
		buf_putc(items, ',');
	buf_puts(items, "{\"id\":");
	json_put_string(items, id, strlen(id));
	buf_puts(items, ",\"lease_token\":");
	json_put_string(items, token, strlen(token));
	buf_putc(items, '}');
	const json_t *in = json_object_get(job, "input");
	return in ? in : json_null();
}

int bench_queue_completed(bench *b, const http_response *r, size_t count, atomic_long *not_completed)
{
	json_t *a = bench_queue_answer(b, r, "POST /v1/jobs/complete");
	if (!a)
		return -1;
	const json_t *res = json_object_get(a, "results");
	int rc = 0;
	if (!json_is_array(res) || json_array_size(res) != count) {
		bench_queue_fail(b, "POST /v1/jobs/complete of %zu items: %zu results", count,
		                 json_is_array(res) ? json_array_size(res) : 0);
		rc = -1;
	} else {
		size_t k;
		const json_t *it;
		json_array_foreach(res, k, it) {
			const char *outcome = NULL;
			if ((json_get_str(it, "outcome", &outcome) != 0 || strcmp(outcome, "completed") != 0) &&
			    atomic_fetch_add(not_completed, 1) == 0)
				log_error("bench", "POST /v1/jobs/complete: outcome %s", outcome ? outcome : "missing");
		}
	}
	json_decref(a);
	return rc;
}

/* The "i" of a job's input, or -1. */
long bench_queue_input_i(const json_t *input, long n)
{
	const json_t *iv = json_is_object(input) ? json_object_get(input, "i") : NULL;
	json_int_t i = json_is_integer(iv) ? json_integer_value(iv) : -1;
	return i >= 0 && i < n ? (long)i : -1;
}

static void *drain_client(void *arg)
{
	queue_client *c = arg;
	queue_run *q = c->q;
	http_client *h = c->h[c->num % q->b->nnodes];
	buf claim, done;
	buf_init(&claim);
	buf_init(&done);
	buf_printf(&claim,
	           "{\"queues\":[\"" QUEUE_NAME "\"],\"worker_id\":\"bench-%zu\",\"max_jobs\":%d,\"wait_ms\":0,"
	           "\"lease_ms\":%d}",
	           c->num, JOBS_PER_REQUEST, LEASE_MS);
	http_response r;
	http_response_init(&r);
	pthread_barrier_wait(&q->go);
	while (!atomic_load_explicit(&q->failed, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&q->requests, 1, memory_order_relaxed);
		if (bench_queue_post(q->b, h, "/v1/jobs/claim", claim.data, claim.len, 200, &r) != 0) {
			atomic_store(&q->failed, 1);
			break;
		}
		json_t *a = bench_queue_answer(q->b, &r, "POST /v1/jobs/claim");
		const json_t *jobs = a ? json_object_get(a, "jobs") : NULL;
		if (!json_is_array(jobs)) {
			if (a)
				bench_queue_fail(q->b, "POST /v1/jobs/claim: no \"jobs\" array in the answer");
			json_decref(a);
			atomic_store(&q->failed, 1);
			break;
		}
		size_t count = json_array_size(jobs);
		if (count == 0) {   /* every pending job is claimed: this client is done */
			json_decref(a);
			break;
		}
		buf_reset(&done);
		buf_puts(&done, "{\"items\":[");
		int rc = 0;
		for (size_t k = 0; k < count && rc == 0; k++) {
			const json_t *in = bench_queue_take(q->b, json_array_get(jobs, k), &done, k == 0);
			long i = in ? bench_queue_input_i(in, q->n) : -1;
			if (!in)
				rc = -1;
			else if (i >= 0)
				atomic_fetch_add_explicit(&q->claims[i], 1, memory_order_relaxed);
			else
				atomic_fetch_add(&q->foreign, 1);
		}
		buf_puts(&done, "]}");
		json_decref(a);
		atomic_fetch_add_explicit(&q->requests, 1, memory_order_relaxed);
		if (rc != 0 || bench_queue_post(q->b, h, "/v1/jobs/complete", done.data, done.len, 200, &r) != 0 ||
		    bench_queue_completed(q->b, &r, count, &q->not_completed) != 0) {
			atomic_store(&q->failed, 1);
			break;
		}
	}
	http_response_release(&r);
	buf_release(&claim);
	buf_release(&done);
	return NULL;
}

/* Starts opt.clients threads on fn, releases them together, and returns
 * the time from the release to the last one's end; -1 when a client could
 * not connect. */
static int64_t run_clients(queue_run *q, void *(*fn)(void *))
{
	bench *b = q->b;
	size_t nc = (size_t)b->opt.clients;
	queue_client *cs = xcalloc(nc, sizeof(*cs));
	int64_t us = -1;
	size_t started = 0;
	for (; started < nc; started++) {
		cs[started].q = q;
		cs[started].num = started;
		cs[started].h = bench_queue_connect(b);
		if (!cs[started].h)
			goto out;
	}
	pthread_barrier_init(&q->go, NULL, (unsigned)nc + 1);
	for (size_t i = 0; i < nc; i++) {
		if (pthread_create(&cs[i].tid, NULL, fn, &cs[i]) != 0) {
			log_error("bench", "pthread_create failed");
			abort();   /* the barrier would never open */
		}
	}
	pthread_barrier_wait(&q->go);
	int64_t t0 = clock_mono_us();
	for (size_t i = 0; i < nc; i++)
		pthread_join(cs[i].tid, NULL);
	us = clock_mono_us() - t0;
	pthread_barrier_destroy(&q->go);
out:
	for (size_t i = 0; i < started; i++)
		bench_queue_disconnect(b, cs[i].h);
	free(cs);
	return us;
}

/* ---- the phases ---------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Is the server's id for every job distinct? The number of ids answered
 * twice (each a job the server stored once for two inputs). */
static long duplicate_ids(char **ids, long n)
{
	char **sorted = xcalloc((size_t)n, sizeof(char *));
	long m = 0, dup = 0;
	for (long i = 0; i < n; i++)
		if (ids[i])
			sorted[m++] = ids[i];
	qsort(sorted, (size_t)m, sizeof(char *), cmp_str);
	for (long i = 1; i < m; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			dup++;
	free(sorted);
	return dup;
}

/* An empty POST /v1/jobs: a server with the routes answers 400 (no jobs),
 * one without them 404, which says so once instead of at every client. */
static int probe_routes(bench *b)
{
	http_response r;
	http_response_init(&r);
	static const char body[] = "{\"jobs\":[]}";
	int rc = http_client_request(b->nodes[0].ctl, "POST", "/v1/jobs", body, sizeof(body) - 1, NULL, &r);
	int out = 0;
	if (rc != 0) {
		bench_queue_fail(b, "POST /v1/jobs: no answer (%s)", r.error);
		out = -1;
	} else if (r.status == 404) {
		bench_queue_fail(b, "the server answers 404 for /v1/jobs: this build has no /v1 job routes, so the "
		                    "queue cannot be measured (run --queue with a server that has them, e.g. --server PATH)");
		out = -1;
	}
	http_response_release(&r);
	return out;
}

static int phase_enqueue(bench *b, queue_run *q)
{
	q->nbatches = (size_t)((q->n + JOBS_PER_REQUEST - 1) / JOBS_PER_REQUEST);
	q->bodies = xcalloc(q->nbatches, sizeof(buf));
	for (size_t k = 0; k < q->nbatches; k++) {
		buf *body = &q->bodies[k];
		buf_init(body);
		buf_puts(body, "{\"jobs\":[");
		long from = (long)k * JOBS_PER_REQUEST, to = MIN(from + JOBS_PER_REQUEST, q->n);
		for (long i = from; i < to; i++)
			buf_printf(body, "%s{\"queue\":\"" QUEUE_NAME "\",\"input\":{\"i\":%ld}}", i > from ? "," : "", i);
		buf_puts(body, "]}");
	}
	q->ids = xcalloc((size_t)q->n, sizeof(char *));
	bench_stmts st0 = { 0 }, st1 = { 0 };
	bench_stmts_read(b, &st0);
	int64_t us = run_clients(q, enqueue_client);
	if (us >= 0 && !atomic_load(&q->failed))
		bench_stmts_read(b, &st1);
	for (size_t k = 0; k < q->nbatches; k++)
		buf_release(&q->bodies[k]);
	free(q->bodies);
	q->bodies = NULL;
	int rc = -1;
	if (us < 0 || atomic_load(&q->failed))
		goto out;
	long lost = 0;
	for (long i = 0; i < q->n; i++)
		lost += q->ids[i] == NULL;
	long dup = duplicate_ids(q->ids, q->n);
	char label[64];
	snprintf(label, sizeof(label), "queue-enqueue: %ld jobs", q->n);
	bench_figure(b, "queue_enqueue_s", label, bench_secs(us), 3, "s");
	bench_figure(b, "queue_enqueue_lost", "  jobs without an id", (double)lost, 0, "jobs");
	bench_figure(b, "queue_enqueue_dup", "  ids answered twice", (double)dup, 0, "jobs");
	bench_stmts_report(b, "queue_enqueue", "  database statements per job", &st0, &st1, q->n, 0);
	if (lost || dup) {
		bench_queue_fail(b, "queue-enqueue: %ld jobs without an id and %ld ids answered twice", lost, dup);
		goto out;
	}
	bench_figure(b, "queue_enqueue_per_s", "  rate", bench_rate((double)q->n, us), 0, "jobs/s");
	rc = 0;
out:
	bench_stmts_release(&st0);
	bench_stmts_release(&st1);
	return rc;
}

/* tasks_by_status{status="Success"} of node 1's /metrics (database-wide),
 * or -1 when unreadable. */
static int on_success_gauge(const prom_sample *ps, void *ud)
{
	double *v = ud;
	const char *st = strcmp(ps->name, "tasks_by_status") == 0 ? prom_sample_label(ps, "status") : NULL;
	if (st && strcmp(st, "Success") == 0)
		*v = ps->value;
	return 0;
}

static double server_successes(bench *b)
{
	http_response r;
	http_response_init(&r);
	double v = -1;
	char err[160];
	if (http_client_request(b->nodes[0].ctl, "GET", "/metrics", NULL, 0, NULL, &r) == 0 && r.status == 200 &&
	    prom_text_parse(r.body.data, r.body.len, on_success_gauge, &v, err, sizeof(err)) < 0)
		v = -1;
	http_response_release(&r);
	return v;
}

static int phase_drain(bench *b, queue_run *q)
{
	if (b->opt.db && pg_admin_vacuum_analyze(b->db) != 0)
		return -1;
	q->claims = xcalloc((size_t)q->n, sizeof(*q->claims));
	atomic_init(&q->failed, 0);
	bench_stmts st0 = { 0 }, st1 = { 0 };
	bench_stmts_read(b, &st0);
	int64_t us = run_clients(q, drain_client);
	int rc = -1;
	if (us < 0 || atomic_load(&q->failed))
		goto out;
	bench_stmts_read(b, &st1);
	long lost = 0, dup = 0;
	for (long i = 0; i < q->n; i++) {
		unsigned k = atomic_load_explicit(&q->claims[i], memory_order_relaxed);
		lost += k == 0;
		dup += k > 1 ? (long)k - 1 : 0;
	}
	dup += atomic_load(&q->foreign);
	long bad = atomic_load(&q->not_completed);
	double ok = server_successes(b);
	char label[64];
	snprintf(label, sizeof(label), "queue-drain: %ld jobs, %ld clients", q->n, b->opt.clients);
	bench_figure(b, "queue_drain_s", label, bench_secs(us), 3, "s");
	bench_figure(b, "queue_drain_lost", "  jobs never claimed", (double)lost, 0, "jobs");
	bench_figure(b, "queue_drain_dup", "  claims beyond the first", (double)dup, 0, "jobs");
	bench_figure(b, "queue_drain_not_completed", "  outcomes other than completed", (double)bad, 0, "jobs");
	bench_figure(b, "queue_drain_requests", "  claims and completions sent", (double)atomic_load(&q->requests), 0,
	             "requests");
	if (ok >= 0)
		bench_figure(b, "queue_drain_server_success", "  server's Success count", ok, 0, "jobs");
	else
		bench_note(b, "  server's Success count: unreadable from GET /metrics (not checked)");
	bench_stmts_report(b, "queue_drain", "  database statements per job", &st0, &st1, q->n, 5);
	if (lost || dup || bad || (ok >= 0 && ok != (double)q->n)) {
		bench_queue_fail(b, "queue-drain: %ld lost, %ld duplicated, %ld not completed, server Success %.0f of %ld",
		                 lost, dup, bad, ok, q->n);
		goto out;
	}
	bench_figure(b, "queue_drain_per_s", "  rate", bench_rate((double)q->n, us), 0, "jobs/s");
	rc = 0;
out:
	bench_stmts_release(&st0);
	bench_stmts_release(&st1);
	return rc;
}

int bench_queue(bench *b)
{
	if (probe_routes(b) != 0)
		return -1;
	queue_run q;
	memset(&q, 0, sizeof(q));
	q.b = b;
	q.n = b->opt.jobs;
	atomic_init(&q.next, 0);
	atomic_init(&q.failed, 0);
	atomic_init(&q.foreign, 0);
	atomic_init(&q.not_completed, 0);
	atomic_init(&q.requests, 0);
	int rc = phase_enqueue(b, &q);
	if (rc == 0)
		rc = phase_drain(b, &q);
	if (rc == 0 && b->opt.latency_secs > 0)
		rc = bench_queue_latency(b);
	if (q.ids)
		for (long i = 0; i < q.n; i++)
			free(q.ids[i]);
	free(q.ids);
	free(q.claims);
	return rc;
}
