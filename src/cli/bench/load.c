/*
 * load.c — the request load of the PATCH and PUT phases: client threads,
 * each with its own keep-alive connection to every node, released together
 * by a barrier once every connection is open, taking request indexes from a
 * shared counter until all are sent.
 */
#include "cli/bench/bench_impl.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct load_job {
	bench *b;
	const char *method;
	const char *body;
	size_t body_len;
	long want;
	size_t count;
	int64_t *lat_us;               /* one per request */
	pthread_barrier_t start;
	atomic_size_t next;            /* the next index to send */
	atomic_int failed;
} load_job;

typedef struct load_thread {
	load_job *job;
	pthread_t tid;
} load_thread;

static void *load_run(void *arg)
{
	load_thread *lt = arg;
	load_job *j = lt->job;
	bench *b = j->b;
	size_t nn = b->nnodes;
	http_response r;
	http_response_init(&r);
	/* Connect to every node before the clock starts. */
	http_client **h = xcalloc(nn, sizeof(*h));
	for (size_t k = 0; k < nn; k++) {
		http_client_options o = {
			.base_url = b->nodes[k].base, .token = b->token, .timeout_ms = BENCH_DEADLINE_US / 1000
		};
		h[k] = http_client_new(&o);
		if (!h[k]) {
			log_error("bench", "cannot create an HTTP client");
			abort();   /* the barrier would never open */
		}
		if (http_client_request(h[k], "GET", "/health", NULL, 0, NULL, &r) != 0 || r.status != 200) {
			bench_report_bad("GET /health (client warm-up)", &r, 200);
			atomic_store(&j->failed, 1);
		}
	}
	pthread_barrier_wait(&j->start);
	char what[64], path[80];
	snprintf(what, sizeof(what), "%s /task/{id}", j->method);
	/* Contiguous chunks of 16 keep the atomic counter off the hot path. */
	const size_t chunk = 16;
	while (!atomic_load_explicit(&j->failed, memory_order_relaxed)) {
		size_t from = atomic_fetch_add(&j->next, chunk);
		if (from >= j->count)
			break;
		size_t to = MIN(from + chunk, j->count);
		for (size_t i = from; i < to; i++) {
			snprintf(path, sizeof(path), "/task/%s", b->ids[i % b->nids]);
			int64_t t0 = clock_mono_us();
			int rc = http_client_request(h[i % nn], j->method, path, j->body, j->body_len, NULL, &r);
			j->lat_us[i] = clock_mono_us() - t0;
			if (rc != 0 || r.status != j->want) {
				if (atomic_exchange(&j->failed, 1) == 0)
					bench_report_bad(what, &r, j->want);
				break;
			}
		}
	}
	for (size_t k = 0; k < nn; k++)
		http_client_free(h[k]);
	free(h);
	http_response_release(&r);
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The clock runs from the start barrier to the last answer. */
int bench_run_load(bench *b, const char *method, const char *body, long want, size_t count, const char *key,
                   const char *label, const char *unit)
{
	size_t nt = (size_t)b->opt.clients;
	load_job *j = xcalloc(1, sizeof(*j));
	j->b = b;
	j->method = method;
	j->body = body;
	j->body_len = strlen(body);
	j->want = want;
	j->count = count;
	j->lat_us = xcalloc(count, sizeof(int64_t));
	atomic_init(&j->next, 0);
	atomic_init(&j->failed, 0);
	pthread_barrier_init(&j->start, NULL, (unsigned)nt + 1);
	load_thread *th = xcalloc(nt, sizeof(*th));
	for (size_t i = 0; i < nt; i++) {
		th[i].job = j;
		if (pthread_create(&th[i].tid, NULL, load_run, &th[i]) != 0) {
			log_error("bench", "pthread_create failed");
			abort();   /* the barrier would never open */
		}
	}
	pthread_barrier_wait(&j->start);
	int64_t t0 = clock_mono_us();
	for (size_t i = 0; i < nt; i++)
		pthread_join(th[i].tid, NULL);
	int64_t us = clock_mono_us() - t0;
	int rc = atomic_load(&j->failed) ? -1 : 0;
	if (rc == 0) {
		char k[64], l[64];
		snprintf(k, sizeof(k), "%s_s", key);
		snprintf(l, sizeof(l), "%zu x %s", count, label);
		bench_figure(b, k, l, bench_secs(us), 3, "s");
		snprintf(k, sizeof(k), "%s_per_s", key);
		bench_figure(b, k, "  rate", bench_rate((double)count, us), 0, unit);
		qsort(j->lat_us, count, sizeof(int64_t), cmp_i64);
		snprintf(k, sizeof(k), "%s_p50_ms", key);
		bench_figure(b, k, "  latency p50", (double)j->lat_us[count / 2] / 1000.0, 2, "ms");
		snprintf(k, sizeof(k), "%s_p99_ms", key);
		bench_figure(b, k, "  latency p99", (double)j->lat_us[MIN(count - 1, count * 99 / 100)] / 1000.0, 2, "ms");
		snprintf(k, sizeof(k), "%s_max_ms", key);
		bench_figure(b, k, "  latency max", (double)j->lat_us[count - 1] / 1000.0, 2, "ms");
	}
	pthread_barrier_destroy(&j->start);
	free(th);
	free(j->lat_us);
	free(j);
	return rc;
}
