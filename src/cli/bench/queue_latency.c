/*
 * queue_latency.c — the queue-latency phase of `weft bench --queue`: how
 * long a job waits between its enqueue and its claim when workers are
 * waiting for it, at a steady rate below the queue's capacity.
 *
 * Open loop: job k is due at t0 + k / rate (--latency-rate, 1,000 per
 * second by default, for --latency-secs). One producer sends, whenever jobs
 * are due, all of them in one POST /v1/jobs (one job per request while it
 * keeps up; several when a request took longer than the gap), each with its
 * due time in its input: {"i":k,"t":<due, monotonic µs>}. So a slow enqueue
 * delays the jobs behind it and counts in their latency instead of slowing
 * the timetable down (no coordinated omission).
 *
 * CONSUMERS clients hold waiting long-poll claims (wait_ms CLAIM_WAIT_MS,
 * up to CLAIM_MAX jobs) on another queue than the drain's, complete what
 * they get in one request, and claim again. A job's latency runs from its
 * due time to the moment its claim answer was received: enqueue request,
 * commit, the server waking a parked claim, and the claim answer. Every job
 * must be claimed exactly once. With several nodes the producer enqueues
 * through node 1 and consumer k waits on node k + 1 (mod nodes), so the
 * jobs reach their claims through another node's wake-up.
 */
#include "cli/bench/bench_impl.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

#include <pthread.h>

#define LATENCY_QUEUE "bench-latency"
#define CONSUMERS 2
#define CLAIM_MAX 100
#define CLAIM_WAIT_MS 2000
#define LEASE_MS 600000
#define ENQUEUE_MAX 1000            /* jobs per POST /v1/jobs */
#define SETTLE_US (60 * 1000000LL)  /* after the last enqueue, for the last claims */

typedef struct lat_run {
	bench *b;
	long m;                   /* jobs */
	long rate;
	int64_t t0;               /* job 0's due time, monotonic µs */
	int64_t *lat_us;          /* job k's latency, from its first claim */
	atomic_uint *claims;      /* claims of job k */
	atomic_long claimed;      /* claims of ours, all jobs */
	atomic_long foreign;      /* claimed jobs whose input is not one of ours */
	atomic_long not_completed;
	atomic_int failed;
	atomic_llong produced_at; /* when the last job was enqueued; 0 before */
	int64_t max_lag_us;       /* how late the producer sent a job, at most */
	pthread_barrier_t go;
} lat_run;

typedef struct lat_thread {
	lat_run *q;
	size_t num;
	http_client **h;
	pthread_t tid;
} lat_thread;

static int64_t due_us(const lat_run *q, long k)
{
	return q->t0 + (int64_t)k * 1000000 / q->rate;
}

static void *producer(void *arg)
{
	lat_thread *t = arg;
	lat_run *q = t->q;
	http_response r;
	http_response_init(&r);
	buf body;
	buf_init(&body);
	pthread_barrier_wait(&q->go);
	long sent = 0;
	while (sent < q->m && !atomic_load_explicit(&q->failed, memory_order_relaxed)) {
		int64_t now = clock_mono_us();
		if (now < due_us(q, sent)) {
			bench_sleep_us(due_us(q, sent) - now);
			continue;
		}
		long due = MIN(q->m, (long)((now - q->t0) * q->rate / 1000000) + 1);
		long to = MIN(due, sent + ENQUEUE_MAX);
		q->max_lag_us = MAX(q->max_lag_us, now - due_us(q, sent));
		buf_reset(&body);
		buf_puts(&body, "{\"jobs\":[");
		for (long k = sent; k < to; k++)
			buf_printf(&body, "%s{\"queue\":\"" LATENCY_QUEUE "\",\"input\":{\"i\":%ld,\"t\":%lld}}",
			           k > sent ? "," : "", k, (long long)due_us(q, k));
		buf_puts(&body, "]}");
		if (bench_queue_post(q->b, t->h[0], "/v1/jobs", body.data, body.len, 201, &r) != 0) {
			atomic_store(&q->failed, 1);
			break;
		}
		sent = to;
	}
	atomic_store(&q->produced_at, (long long)clock_mono_us());
	buf_release(&body);
	http_response_release(&r);
	return NULL;
}

/* Records one claimed job: its latency at its first claim. */
static void record(lat_run *q, const json_t *input, int64_t received)
{
	long k = bench_queue_input_i(input, q->m);
	const json_t *tv = k >= 0 ? json_object_get(input, "t") : NULL;
	if (k < 0 || !json_is_integer(tv)) {
		atomic_fetch_add(&q->foreign, 1);
		return;
	}
	if (atomic_fetch_add(&q->claims[k], 1) == 0)
		q->lat_us[k] = received - (int64_t)json_integer_value(tv);
	atomic_fetch_add(&q->claimed, 1);
}

static void *consumer(void *arg)
{
	lat_thread *t = arg;
	lat_run *q = t->q;
	http_client *h = t->h[t->num % q->b->nnodes];
	buf claim, done;
	buf_init(&claim);
	buf_init(&done);
	buf_printf(&claim,
	           "{\"queues\":[\"" LATENCY_QUEUE "\"],\"worker_id\":\"bench-latency-%zu\",\"max_jobs\":%d,"
	           "\"wait_ms\":%d,\"lease_ms\":%d}",
	           t->num, CLAIM_MAX, CLAIM_WAIT_MS, LEASE_MS);
	http_response r;
	http_response_init(&r);
	pthread_barrier_wait(&q->go);
	while (!atomic_load_explicit(&q->failed, memory_order_relaxed) && atomic_load(&q->claimed) < q->m) {
		long long produced = atomic_load(&q->produced_at);
		if (produced && clock_mono_us() - produced > SETTLE_US)
			break;   /* the jobs not claimed by now count as lost */
		if (bench_queue_post(q->b, h, "/v1/jobs/claim", claim.data, claim.len, 200, &r) != 0) {
			atomic_store(&q->failed, 1);
			break;
		}
		int64_t received = clock_mono_us();
		json_t *a = bench_queue_answer(q->b, &r, "POST /v1/jobs/claim");
		const json_t *jobs = a ? json_object_get(a, "jobs") : NULL;
		size_t count = json_is_array(jobs) ? json_array_size(jobs) : 0;
		if (!json_is_array(jobs)) {
			if (a)
				bench_queue_fail(q->b, "POST /v1/jobs/claim: no \"jobs\" array in the answer");
			json_decref(a);
			atomic_store(&q->failed, 1);
			break;
		}
		buf_reset(&done);
		buf_puts(&done, "{\"items\":[");
		int rc = 0;
		for (size_t k = 0; k < count && rc == 0; k++) {
			const json_t *in = bench_queue_take(q->b, json_array_get(jobs, k), &done, k == 0);
			if (in)
				record(q, in, received);
			else
				rc = -1;
		}
		buf_puts(&done, "]}");
		json_decref(a);
		if (rc != 0 || (count > 0 && (bench_queue_post(q->b, h, "/v1/jobs/complete", done.data, done.len, 200,
		                                               &r) != 0 ||
		                              bench_queue_completed(q->b, &r, count, &q->not_completed) != 0))) {
			atomic_store(&q->failed, 1);
			break;
		}
	}
	http_response_release(&r);
	buf_release(&claim);
	buf_release(&done);
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The figures of a finished run; -1 when a job was lost or claimed twice. */
static int report(bench *b, lat_run *q)
{
	long lost = 0, dup = atomic_load(&q->foreign), got = 0;
	int64_t *sorted = xcalloc((size_t)q->m, sizeof(int64_t));
	for (long k = 0; k < q->m; k++) {
		unsigned c = atomic_load(&q->claims[k]);
		lost += c == 0;
		dup += c > 1 ? (long)c - 1 : 0;
		if (c)
			sorted[got++] = q->lat_us[k];
	}
	long bad = atomic_load(&q->not_completed);
	char label[96];
	snprintf(label, sizeof(label), "queue-latency: %ld jobs at %ld/s, %d waiting claims", q->m, q->rate, CONSUMERS);
	bench_note(b, "  %s", label);
	bench_figure(b, "queue_latency_lost", "  jobs never claimed", (double)lost, 0, "jobs");
	bench_figure(b, "queue_latency_dup", "  claims beyond the first", (double)dup, 0, "jobs");
	bench_figure(b, "queue_latency_send_lag_max_ms", "  enqueue sent late by, at most", (double)q->max_lag_us / 1000.0,
	             2, "ms");
	int rc = 0;
	if (lost || dup || bad) {
		bench_queue_fail(b, "queue-latency: %ld lost, %ld duplicated, %ld not completed", lost, dup, bad);
		rc = -1;
	} else {
		qsort(sorted, (size_t)got, sizeof(int64_t), cmp_i64);
		bench_figure(b, "queue_latency_p50_ms", "  enqueue -> claim p50", (double)sorted[got / 2] / 1000.0, 2, "ms");
		bench_figure(b, "queue_latency_p99_ms", "  enqueue -> claim p99",
		             (double)sorted[MIN(got - 1, got * 99 / 100)] / 1000.0, 2, "ms");
		bench_figure(b, "queue_latency_max_ms", "  enqueue -> claim max", (double)sorted[got - 1] / 1000.0, 2, "ms");
	}
	free(sorted);
	return rc;
}

int bench_queue_latency(bench *b)
{
	lat_run q;
	memset(&q, 0, sizeof(q));
	q.b = b;
	q.rate = b->opt.latency_rate;
	q.m = b->opt.latency_rate * b->opt.latency_secs;
	q.lat_us = xcalloc((size_t)q.m, sizeof(int64_t));
	q.claims = xcalloc((size_t)q.m, sizeof(*q.claims));
	atomic_init(&q.claimed, 0);
	atomic_init(&q.foreign, 0);
	atomic_init(&q.not_completed, 0);
	atomic_init(&q.failed, 0);
	atomic_init(&q.produced_at, 0);
	size_t nt = CONSUMERS + 1;   /* thread 0 produces */
	lat_thread *ts = xcalloc(nt, sizeof(*ts));
	int rc = -1;
	size_t connected = 0;
	for (; connected < nt; connected++) {
		ts[connected] = (lat_thread){ .q = &q, .num = connected, .h = bench_queue_connect(b) };
		if (!ts[connected].h)
			goto out;
	}
	pthread_barrier_init(&q.go, NULL, (unsigned)nt + 1);
	/* The consumers park their first claims before job 0 is due. */
	q.t0 = clock_mono_us() + 200000;
	for (size_t i = 0; i < nt; i++) {
		if (pthread_create(&ts[i].tid, NULL, i == 0 ? producer : consumer, &ts[i]) != 0) {
			log_error("bench", "pthread_create failed");
			abort();   /* the barrier would never open */
		}
	}
	pthread_barrier_wait(&q.go);
	for (size_t i = 0; i < nt; i++)
		pthread_join(ts[i].tid, NULL);
	pthread_barrier_destroy(&q.go);
	if (!atomic_load(&q.failed))
		rc = report(b, &q);
out:
	for (size_t i = 0; i < connected; i++)
		bench_queue_disconnect(b, ts[i].h);
	free(ts);
	free(q.lat_us);
	free(q.claims);
	return rc;
}
