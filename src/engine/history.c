/*
 * history.c — the steps and minutes of the metrics history (history.h).
 *
 * The step's and the minute's windows belong to the engine thread, the
 * only one that adds to them (after each commit) and closes them; the lock
 * guards only the ring of closed steps, which the HTTP threads read.
 * Percentiles come from the start latencies of the step (or the minute):
 * the first HISTORY_LATENCY_SAMPLES of them, then a uniform sample
 * (reservoir), so that a busy minute costs bounded memory.
 */
#include "util/common.h"
#include "engine/history.h"

#include <pthread.h>

#include "util/alloc.h"

typedef struct window {
	int64_t created, completed, failed, retried;
	double *latency_ms;          /* HISTORY_LATENCY_SAMPLES */
	size_t nlatency;
	uint64_t seen;               /* latencies offered, for the reservoir */
} window;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static window g_step, g_minute;
static metrics_sample g_ring[HISTORY_MEMORY_STEPS];
static size_t g_next;            /* steps pushed in all */
static uint64_t g_rand = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	g_rand ^= g_rand << 13;
	g_rand ^= g_rand >> 7;
	g_rand ^= g_rand << 17;
	return g_rand;
}

static void offer(window *w, double ms)
{
	if (w->latency_ms == NULL)
		w->latency_ms = xcalloc(HISTORY_LATENCY_SAMPLES, sizeof *w->latency_ms);
	w->seen++;
	if (w->nlatency < HISTORY_LATENCY_SAMPLES) {
		w->latency_ms[w->nlatency++] = ms;
		return;
	}
	uint64_t k = next_rand() % w->seen;
	if (k < HISTORY_LATENCY_SAMPLES)
		w->latency_ms[k] = ms;
}

void history_note_count(const char *name, const char *labels, uint64_t by)
{
	int64_t *field = NULL;
	if (strcmp(name, "tasks_created_total") == 0)
		field = &g_step.created;
	else if (strcmp(name, "tasks_retried_total") == 0)
		field = &g_step.retried;
	else if (strcmp(name, "task_status_transitions_total") == 0 && labels != NULL)
		field = strstr(labels, "to_status=\"Success\"") ? &g_step.completed
		        : strstr(labels, "to_status=\"Failure\"") ? &g_step.failed
		                                                   : NULL;
	if (field != NULL)
		*field += (int64_t)by;
}

void history_note_observe(const char *name, double value)
{
	if (strcmp(name, "task_wait_seconds") != 0 && strcmp(name, "job_claim_wait_seconds") != 0)
		return;
	double ms = value < 0 ? 0 : value * 1000.0;
	offer(&g_step, ms);
	offer(&g_minute, ms);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The nearest-rank percentile p (0..100) of the sorted values; -1: none. */
static int64_t percentile(const double *v, size_t n, int p)
{
	if (n == 0)
		return -1;
	size_t rank = (size_t)((p * n + 99) / 100);
	return (int64_t)(v[rank > 0 ? rank - 1 : 0] + 0.5);
}

static metrics_sample sample_of(window *w, int64_t at, int64_t depth, int64_t running)
{
	metrics_sample s = { .at = at, .created = w->created, .completed = w->completed, .failed = w->failed,
		             .retried = w->retried, .queue_depth = depth, .running = running };
	if (w->nlatency > 1)
		qsort(w->latency_ms, w->nlatency, sizeof *w->latency_ms, cmp_double);
	s.latency_p50_ms = percentile(w->latency_ms, w->nlatency, 50);
	s.latency_p95_ms = percentile(w->latency_ms, w->nlatency, 95);
	s.latency_p99_ms = percentile(w->latency_ms, w->nlatency, 99);
	double *keep = w->latency_ms;
	*w = (window){ .latency_ms = keep };
	return s;
}

void history_close_step(int64_t step_at, int64_t queue_depth, int64_t running, metrics_sample *minute,
                        bool *closed_minute)
{
	g_minute.created += g_step.created;
	g_minute.completed += g_step.completed;
	g_minute.failed += g_step.failed;
	g_minute.retried += g_step.retried;
	metrics_sample step = sample_of(&g_step, step_at, queue_depth, running);
	pthread_mutex_lock(&g_mu);
	g_ring[g_next++ % HISTORY_MEMORY_STEPS] = step;
	pthread_mutex_unlock(&g_mu);
	int64_t end = step_at + HISTORY_STEP_US;
	*closed_minute = end % HISTORY_MINUTE_US == 0;
	if (*closed_minute)
		*minute = sample_of(&g_minute, end - HISTORY_MINUTE_US, queue_depth, running);
}

size_t history_recent(int64_t since, int64_t until, metrics_sample *out, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&g_mu);
	size_t kept = MIN(g_next, (size_t)HISTORY_MEMORY_STEPS);
	for (size_t i = g_next - kept; i < g_next && n < max; i++) {
		const metrics_sample *s = &g_ring[i % HISTORY_MEMORY_STEPS];
		if (s->at >= since && s->at < until)
			out[n++] = *s;
	}
	pthread_mutex_unlock(&g_mu);
	return n;
}
