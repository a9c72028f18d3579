/*
 * workflows.c — `weft bench workflows`: durable workflow runs end to end,
 * over HTTP, against the real server: a 10-step workflow whose step bodies
 * do nothing, so what is measured is the server's cost of a run (its
 * start, its claim, twenty step calls and its completion, each committed
 * before it is answered).
 *
 * Closed loop with --in-flight runs at a time:
 *
 *   starters  STARTERS threads; each takes a free slot (a semaphore of
 *             --in-flight), then POST /v1/workflows {"type":"bench10",
 *             "queue":"bench-wf","input":{"i":n}}, n the next of --runs;
 *   workers   --workers threads, each on its own keep-alive connection,
 *             claim runs with POST /v1/jobs/claim (up to CLAIM_BATCH per
 *             claim, a long poll), and for each one call steps/begin and
 *             steps/complete for step_1 .. step_10 (output null), then
 *             complete the run (output {"i":n}); the completion frees the
 *             run's slot.
 *
 * Timed from the barrier that releases every thread to the last run's
 * completion: runs/s and steps/s; each run's latency runs from the start
 * request being sent to its completion answer received (p50, p99, max).
 *
 * Verification (a run that fails it reports no rate): every run started
 * once (201) and completed once, every begin answered a fresh step at seq
 * 1 (memoized false), every completion answered run_status "completed";
 * afterwards the database holds --runs workflow runs, each `completed`
 * with memo_rows 10 and 10 completed step rows, read directly (SQLite
 * read-only, or libpq), not through the API under test.
 */
#include "cli/bench/bench_impl.h"
#include "cli/bench/pg_admin.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <time.h>

#define WF_TYPE "bench10"
#define WF_QUEUE "bench-wf"
#define WF_STEPS 10
#define WF_TEXT_(x) #x
#define WF_TEXT(x) WF_TEXT_(x)               /* WF_STEPS in the checking SQL */
#define STARTERS 4
#define CLAIM_WAIT_MS 200        /* a worker's long poll; short, so it notices the end */
#define LEASE_MS 600000          /* nothing expires during the run */

/* What the threads share. */
typedef struct wf_run {
	bench *b;
	long n;                      /* runs */
	long claim_batch;            /* max_jobs of a claim */
	sem_t slots;                 /* free in-flight slots */
	atomic_long next;            /* the next run to start */
	atomic_long completed;       /* runs completed */
	atomic_long requests;        /* HTTP requests sent, all threads */
	atomic_long foreign;         /* claimed jobs whose input is not one of ours */
	atomic_int failed;
	int64_t *sent_us;            /* run i: its start request sent (monotonic µs) */
	int64_t *done_us;            /* run i: its completion answered */
	atomic_uint *starts;         /* run i: 201 answers */
	atomic_uint *claims;         /* run i: claims of it */
	pthread_barrier_t go;
} wf_run;

typedef struct wf_thread {
	wf_run *q;
	size_t num;
	http_client **h;             /* one per node */
	pthread_t tid;
} wf_thread;

static bool stopping(wf_run *q)
{
	return atomic_load_explicit(&q->failed, memory_order_relaxed) ||
	       atomic_load_explicit(&q->completed, memory_order_relaxed) >= q->n;
}

static int post(wf_run *q, http_client *h, const char *path, const buf *body, long want, http_response *r)
{
	atomic_fetch_add_explicit(&q->requests, 1, memory_order_relaxed);
	int rc = bench_queue_post(q->b, h, path, body->data, body->len, want, r);
	if (rc != 0)
		atomic_store(&q->failed, 1);
	return rc;
}

/* ---- starters ------------------------------------------------------------ */

/* Waits for a free slot; false once the run is over or failed. */
static bool take_slot(wf_run *q)
{
	for (;;) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (sem_timedwait(&q->slots, &ts) == 0)
			return true;
		if (errno != ETIMEDOUT && errno != EINTR)
			return false;
		if (stopping(q))
			return false;
	}
}

static void *starter(void *arg)
{
	wf_thread *t = arg;
	wf_run *q = t->q;
	buf body;
	buf_init(&body);
	http_response r;
	http_response_init(&r);
	pthread_barrier_wait(&q->go);
	while (!stopping(q) && take_slot(q)) {
		long i = atomic_fetch_add(&q->next, 1);
		if (i >= q->n)
			break;
		buf_reset(&body);
		buf_printf(&body, "{\"type\":\"" WF_TYPE "\",\"queue\":\"" WF_QUEUE "\",\"input\":{\"i\":%ld}}", i);
		q->sent_us[i] = clock_mono_us();
		if (post(q, t->h[(size_t)i % q->b->nnodes], "/v1/workflows", &body, 201, &r) != 0)
			break;
		atomic_fetch_add(&q->starts[i], 1);
	}
	buf_release(&body);
	http_response_release(&r);
	return NULL;
}

/* ---- workers ------------------------------------------------------------- */

/* Checks a worker call's answer: run_status want, and for a begin a fresh
 * step at seq 1. -1 through bench_queue_fail otherwise. */
static int check_call(wf_run *q, const http_response *r, const char *what, const char *want_status, bool begin)
{
	json_t *a = bench_queue_answer(q->b, r, what);
	if (!a)
		return -1;
	const char *st = NULL;
	bool memoized = true;
	int64_t seq = 0;
	int rc = 0;
	if (json_get_str(a, "run_status", &st) != 0 || strcmp(st, want_status) != 0) {
		bench_queue_fail(q->b, "%s: run_status %s, expected %s", what, st ? st : "missing", want_status);
		rc = -1;
	} else if (begin && (json_get_bool(a, "memoized", &memoized) != 0 || memoized ||
	                     json_get_i64(json_object_get(a, "step"), "seq", &seq) != 0 || seq != 1)) {
		bench_queue_fail(q->b, "%s: expected a fresh step at seq 1, got memoized %s, seq %lld", what,
		                 memoized ? "true" : "false", (long long)seq);
		rc = -1;
	}
	json_decref(a);
	if (rc != 0)
		atomic_store(&q->failed, 1);
	return rc;
}

/* Runs one claimed run through its steps and completes it. */
static int run_one(wf_run *q, http_client *h, const char *id, const char *token, long i, buf *body,
                   http_response *r)
{
	char path[160], what[200];
	for (int k = 1; k <= WF_STEPS; k++) {
		snprintf(path, sizeof(path), "/v1/workflows/%s/steps/begin", id);
		buf_reset(body);
		buf_puts(body, "{\"lease_token\":");
		json_put_string(body, token, strlen(token));
		buf_printf(body, ",\"name\":\"step_%d\"}", k);
		snprintf(what, sizeof(what), "begin step_%d of run %ld", k, i);
		if (post(q, h, path, body, 200, r) != 0 || check_call(q, r, what, "running", true) != 0)
			return -1;
		snprintf(path, sizeof(path), "/v1/workflows/%s/steps/complete", id);
		buf_reset(body);
		buf_puts(body, "{\"lease_token\":");
		json_put_string(body, token, strlen(token));
		buf_printf(body, ",\"name\":\"step_%d\",\"seq\":1,\"output\":null}", k);
		snprintf(what, sizeof(what), "complete step_%d of run %ld", k, i);
		if (post(q, h, path, body, 200, r) != 0 || check_call(q, r, what, "running", false) != 0)
			return -1;
	}
	snprintf(path, sizeof(path), "/v1/workflows/%s/complete", id);
	buf_reset(body);
	buf_puts(body, "{\"lease_token\":");
	json_put_string(body, token, strlen(token));
	buf_printf(body, ",\"output\":{\"i\":%ld}}", i);
	snprintf(what, sizeof(what), "complete run %ld", i);
	if (post(q, h, path, body, 200, r) != 0 || check_call(q, r, what, "completed", false) != 0)
		return -1;
	q->done_us[i] = clock_mono_us();
	atomic_fetch_add(&q->completed, 1);
	sem_post(&q->slots);
	return 0;
}

static void *worker(void *arg)
{
	wf_thread *t = arg;
	wf_run *q = t->q;
	http_client *h = t->h[t->num % q->b->nnodes];
	buf claim, body;
	buf_init(&claim);
	buf_init(&body);
	buf_printf(&claim,
	           "{\"queues\":[\"" WF_QUEUE "\"],\"worker_id\":\"bench-wf-%zu\",\"max_jobs\":%ld,\"wait_ms\":%d,"
	           "\"lease_ms\":%d}",
	           t->num, q->claim_batch, CLAIM_WAIT_MS, LEASE_MS);
	http_response r;
	http_response_init(&r);
	pthread_barrier_wait(&q->go);
	while (!stopping(q)) {
		if (post(q, h, "/v1/jobs/claim", &claim, 200, &r) != 0)
			break;
		json_t *a = bench_queue_answer(q->b, &r, "POST /v1/jobs/claim");
		const json_t *jobs = a ? json_object_get(a, "jobs") : NULL;
		if (!json_is_array(jobs)) {
			if (a)
				bench_queue_fail(q->b, "POST /v1/jobs/claim: no \"jobs\" array in the answer");
			json_decref(a);
			atomic_store(&q->failed, 1);
			break;
		}
		size_t k;
		const json_t *job;
		json_array_foreach(jobs, k, job) {
			const char *id = NULL, *token = NULL;
			if (json_get_str(job, "id", &id) != 0 || json_get_str(job, "lease_token", &token) != 0 ||
			    strlen(id) > 64) {
				bench_queue_fail(q->b, "POST /v1/jobs/claim: a job without id or lease_token");
				atomic_store(&q->failed, 1);
				break;
			}
			long i = bench_queue_input_i(json_object_get(job, "input"), q->n);
			if (i < 0) {
				atomic_fetch_add(&q->foreign, 1);
				continue;
			}
			atomic_fetch_add(&q->claims[i], 1);
			if (run_one(q, h, id, token, i, &body, &r) != 0)
				break;
		}
		json_decref(a);
	}
	buf_release(&claim);
	buf_release(&body);
	http_response_release(&r);
	return NULL;
}

/* ---- verification in the database --------------------------------------- */

/* Runs of the database, and those completed with WF_STEPS completed steps
 * and memo rows: the same SQL on both dialects. */
static const char SQL_TOTAL[] = "SELECT count(*) FROM workflow_run WHERE type = '" WF_TYPE "'";
static const char SQL_GOOD[] =
	"SELECT count(*) FROM workflow_run r WHERE r.type = '" WF_TYPE "' AND r.status = 'completed' AND "
	"r.memo_rows = " WF_TEXT(WF_STEPS) " AND (SELECT count(*) FROM workflow_step s WHERE s.run_id = r.id AND "
	"s.kind = 'step' AND s.status = 'completed') = " WF_TEXT(WF_STEPS);

static int64_t sqlite_count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		log_error("bench", "reading the SQLite database: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return v;
}

/* 0 with *total and *good read, or -1 (logged). */
static int db_counts(bench *b, int64_t *total, int64_t *good)
{
	if (b->opt.db) {
		*total = pg_admin_query_int(b->db, SQL_TOTAL);
		*good = pg_admin_query_int(b->db, SQL_GOOD);
		return *total >= 0 && *good >= 0 ? 0 : -1;
	}
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(b->db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		log_error("bench", "cannot open %s: %s", b->db, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 10000);
	*total = sqlite_count(db, SQL_TOTAL);
	*good = sqlite_count(db, SQL_GOOD);
	sqlite3_close(db);
	return *total >= 0 && *good >= 0 ? 0 : -1;
}

/* ---- the run ------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The figures of a finished run; -1 when it fails its checks. */
static int report(bench *b, wf_run *q, int64_t us, const bench_stmts *st0, const bench_stmts *st1)
{
	long lost = 0, dup = atomic_load(&q->foreign), unstarted = 0;
	int64_t *lat = xcalloc((size_t)q->n, sizeof(int64_t));
	long got = 0;
	for (long i = 0; i < q->n; i++) {
		unsigned s = atomic_load(&q->starts[i]), c = atomic_load(&q->claims[i]);
		unstarted += s != 1;
		lost += c == 0 || q->done_us[i] == 0;
		dup += c > 1 ? (long)c - 1 : 0;
		if (q->done_us[i])
			lat[got++] = q->done_us[i] - q->sent_us[i];
	}
	int64_t total = -1, good = -1;
	int rc = db_counts(b, &total, &good);
	char label[96];
	snprintf(label, sizeof(label), "workflows: %ld runs of %d steps", q->n, WF_STEPS);
	bench_figure(b, "wf_s", label, bench_secs(us), 3, "s");
	bench_figure(b, "wf_not_started_once", "  runs not started exactly once", (double)unstarted, 0, "runs");
	bench_figure(b, "wf_lost", "  runs never completed", (double)lost, 0, "runs");
	bench_figure(b, "wf_dup", "  claims beyond the first", (double)dup, 0, "runs");
	bench_figure(b, "wf_requests", "  HTTP requests sent", (double)atomic_load(&q->requests), 0, "requests");
	if (rc == 0) {
		bench_figure(b, "wf_db_runs", "  runs in the database", (double)total, 0, "runs");
		bench_figure(b, "wf_db_verified", "  completed with 10 memo rows", (double)good, 0, "runs");
	}
	bench_stmts_report(b, "wf", "  database statements per run", st0, st1, q->n, 12);
	if (rc != 0 || unstarted || lost || dup || total != q->n || good != q->n) {
		bench_queue_fail(b, "workflows: %ld not started once, %ld lost, %ld duplicated; database: %lld runs, %lld "
		                    "completed with %d steps, of %ld",
		                 unstarted, lost, dup, (long long)total, (long long)good, WF_STEPS, q->n);
		free(lat);
		return -1;
	}
	qsort(lat, (size_t)got, sizeof(int64_t), cmp_i64);
	bench_figure(b, "wf_runs_per_s", "  rate", bench_rate((double)q->n, us), 1, "runs/s");
	bench_figure(b, "wf_steps_per_s", "  steps", bench_rate((double)q->n * WF_STEPS, us), 0, "steps/s");
	bench_figure(b, "wf_latency_p50_ms", "  start -> completed p50", (double)lat[got / 2] / 1000.0, 2, "ms");
	bench_figure(b, "wf_latency_p99_ms", "  start -> completed p99", (double)lat[MIN(got - 1, got * 99 / 100)] / 1000.0,
	             2, "ms");
	bench_figure(b, "wf_latency_max_ms", "  start -> completed max", (double)lat[got - 1] / 1000.0, 2, "ms");
	free(lat);
	return 0;
}

int bench_workflows(bench *b)
{
	wf_run q;
	memset(&q, 0, sizeof(q));
	q.b = b;
	q.n = b->opt.runs;
	long in_flight = MIN(b->opt.in_flight, q.n);
	q.claim_batch = MAX(1, (in_flight + b->opt.workers - 1) / b->opt.workers);
	q.sent_us = xcalloc((size_t)q.n, sizeof(int64_t));
	q.done_us = xcalloc((size_t)q.n, sizeof(int64_t));
	q.starts = xcalloc((size_t)q.n, sizeof(*q.starts));
	q.claims = xcalloc((size_t)q.n, sizeof(*q.claims));
	atomic_init(&q.next, 0);
	atomic_init(&q.completed, 0);
	atomic_init(&q.requests, 0);
	atomic_init(&q.foreign, 0);
	atomic_init(&q.failed, 0);
	sem_init(&q.slots, 0, (unsigned)in_flight);
	json_object_set_new(b->report, "steps_per_run", json_integer(WF_STEPS));
	bench_note(b, "  %ld runs, %ld in flight, %ld workers claiming up to %ld, %d starters", q.n, in_flight,
	           b->opt.workers, q.claim_batch, STARTERS);
	size_t nt = STARTERS + (size_t)b->opt.workers;
	wf_thread *ts = xcalloc(nt, sizeof(*ts));
	int rc = -1;
	size_t connected = 0;
	bench_stmts st0 = { 0 }, st1 = { 0 };
	for (; connected < nt; connected++) {
		ts[connected] = (wf_thread){ .q = &q, .num = connected, .h = bench_queue_connect(b) };
		if (!ts[connected].h)
			goto out;
	}
	bench_stmts_read(b, &st0);
	pthread_barrier_init(&q.go, NULL, (unsigned)nt + 1);
	for (size_t i = 0; i < nt; i++) {
		if (pthread_create(&ts[i].tid, NULL, i < STARTERS ? starter : worker, &ts[i]) != 0) {
			log_error("bench", "pthread_create failed");
			abort();   /* the barrier would never open */
		}
	}
	pthread_barrier_wait(&q.go);
	int64_t t0 = clock_mono_us();
	for (size_t i = 0; i < nt; i++)
		pthread_join(ts[i].tid, NULL);
	/* The last completion, not the last thread's end (a worker's idle long
	 * poll may outlast it). */
	int64_t end = t0;
	for (long i = 0; i < q.n; i++)
		end = MAX(end, q.done_us[i]);
	pthread_barrier_destroy(&q.go);
	if (atomic_load(&q.failed))
		goto out;
	bench_stmts_read(b, &st1);
	rc = report(b, &q, end - t0, &st0, &st1);
out:
	bench_stmts_release(&st0);
	bench_stmts_release(&st1);
	for (size_t i = 0; i < connected; i++)
		bench_queue_disconnect(b, ts[i].h);
	free(ts);
	sem_destroy(&q.slots);
	free(q.sent_us);
	free(q.done_us);
	free(q.starts);
	free(q.claims);
	return rc;
}
