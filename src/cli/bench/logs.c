/*
 * logs.c — `weft bench --logs N`: log lines captured per second, end to
 * end. --clients jobs are enqueued and claimed; each client then appends
 * its share of the N lines to its job, 1,000 a request (POST
 * /v1/jobs/{id}/logs, the route `weft worker` uses), and the clock stops
 * when every line is stored and read back (GET /v1/tasks/{id}/logs, paged
 * on as a follower does). The server runs with a log buffer
 * large enough to drop nothing, and a drop fails the run: the figure is of
 * lines written, not lines thrown away.
 */
#include "cli/bench/bench_impl.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

#include <pthread.h>
#include <stdatomic.h>

#define LOGS_QUEUE "bench-logs"
#define LINES_PER_REQUEST 1000
#define LINE_TEXT "bench log line: the quick brown fox jumps over the lazy dog %08ld"

typedef struct logs_client {
	bench *b;
	http_client *h;
	char id[64], token[32];
	long lines;                 /* its share */
	pthread_barrier_t *start;
	atomic_long *dropped;
	int rc;
} logs_client;

static void build_body(buf *out, const char *token, long from, long n)
{
	buf_reset(out);
	buf_printf(out, "{\"lease_token\":\"%s\",\"lines\":[", token);
	for (long i = 0; i < n; i++) {
		buf_puts(out, i ? ",{\"text\":\"" : "{\"text\":\"");
		buf_printf(out, LINE_TEXT, from + i);
		buf_puts(out, "\"}");
	}
	buf_puts(out, "]}");
}

static void *client_main(void *arg)
{
	logs_client *c = arg;
	char path[128];
	snprintf(path, sizeof path, "/v1/jobs/%s/logs", c->id);
	/* The bodies are built before the clock starts. */
	long nreq = (c->lines + LINES_PER_REQUEST - 1) / LINES_PER_REQUEST;
	buf *bodies = xcalloc((size_t)(nreq ? nreq : 1), sizeof *bodies);
	for (long k = 0; k < nreq; k++) {
		buf_init(&bodies[k]);
		build_body(&bodies[k], c->token, k * LINES_PER_REQUEST, MIN(LINES_PER_REQUEST, c->lines - k * LINES_PER_REQUEST));
	}
	http_response r;
	http_response_init(&r);
	pthread_barrier_wait(c->start);
	for (long k = 0; k < nreq && c->rc == 0; k++) {
		c->rc = bench_queue_post(c->b, c->h, path, bodies[k].data, bodies[k].len, 200, &r);
		if (c->rc == 0 && strstr(r.body.data, "\"dropped\":true"))
			atomic_fetch_add(c->dropped, 1);
	}
	http_response_release(&r);
	for (long k = 0; k < nreq; k++)
		buf_release(&bodies[k]);
	free(bodies);
	return NULL;
}

/* Reads the job's lines written since *cursor, as a follower does: adds
 * them to *seen and moves *cursor (owned) on. -1 when the read fails. */
static int read_new(bench *b, http_client *h, const char *id, char **cursor, long *seen)
{
	for (;;) {
		char path[512];
		snprintf(path, sizeof path, "/v1/tasks/%s/logs?limit=1000%s%s", id, *cursor ? "&cursor=" : "",
		         *cursor ? *cursor : "");
		http_response r;
		http_response_init(&r);
		int rc = http_client_request(h, "GET", path, NULL, 0, NULL, &r);
		json_t *a = rc == 0 && r.status == 200 ? bench_queue_answer(b, &r, "GET /v1/tasks/{id}/logs") : NULL;
		http_response_release(&r);
		if (!a)
			return -1;
		*seen += (long)json_array_size(json_object_get(a, "lines"));
		const char *next = json_string_value(json_object_get(a, "next_cursor"));
		if (next) {
			free(*cursor);
			*cursor = xstrdup(next);
		}
		bool more = json_is_true(json_object_get(a, "more"));
		json_decref(a);
		if (!more)
			return 0;
	}
}

int bench_logs(bench *b)
{
	long nc = b->opt.clients, total = b->opt.logs;
	http_client **conn = bench_queue_connect(b);
	if (!conn)
		return -1;
	http_response r;
	http_response_init(&r);
	int rc = -1;
	logs_client *cl = xcalloc((size_t)nc, sizeof *cl);
	pthread_t *th = xcalloc((size_t)nc, sizeof *th);
	atomic_long dropped = 0;
	buf body;
	buf_init(&body);
	buf_puts(&body, "{\"jobs\":[");
	for (long i = 0; i < nc; i++)
		buf_puts(&body, i ? ",{\"queue\":\"" LOGS_QUEUE "\"}" : "{\"queue\":\"" LOGS_QUEUE "\"}");
	buf_puts(&body, "]}");
	if (bench_queue_post(b, conn[0], "/v1/jobs", body.data, body.len, 201, &r) != 0)
		goto out;
	buf_reset(&body);
	buf_printf(&body, "{\"queues\":[\"" LOGS_QUEUE "\"],\"worker_id\":\"bench\",\"max_jobs\":%ld,\"lease_ms\":600000}",
	           nc);
	if (bench_queue_post(b, conn[0], "/v1/jobs/claim", body.data, body.len, 200, &r) != 0)
		goto out;
	json_t *claimed = bench_queue_answer(b, &r, "claim");
	json_t *jobs = json_object_get(claimed, "jobs");
	if ((long)json_array_size(jobs) != nc) {
		bench_queue_fail(b, "claimed %zu jobs of %ld", json_array_size(jobs), nc);
		json_decref(claimed);
		goto out;
	}
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, (unsigned)nc + 1);
	for (long i = 0; i < nc; i++) {
		logs_client *c = &cl[i];
		json_t *j = json_array_get(jobs, (size_t)i);
		c->b = b;
		http_client_options o = { .base_url = b->nodes[0].base, .token = b->token,
			                  .timeout_ms = BENCH_DEADLINE_US / 1000 };
		c->h = http_client_new(&o);
		snprintf(c->id, sizeof c->id, "%s", json_string_value(json_object_get(j, "id")));
		snprintf(c->token, sizeof c->token, "%s", json_string_value(json_object_get(j, "lease_token")));
		c->lines = total / nc + (i < total % nc);
		c->start = &start;
		c->dropped = &dropped;
		pthread_create(&th[i], NULL, client_main, c);
	}
	json_decref(claimed);
	pthread_barrier_wait(&start);
	int64_t t0 = clock_mono_us();
	bool failed = false;
	for (long i = 0; i < nc; i++) {
		pthread_join(th[i], NULL);
		failed |= cl[i].rc != 0;
	}
	int64_t accepted_us = clock_mono_us() - t0;
	pthread_barrier_destroy(&start);
	if (failed)
		goto out;
	/* Stored and readable: each job's lines read back, as a follower
	 * reads them, until all are there. */
	for (long i = 0; i < nc && !failed; i++) {
		char *cursor = NULL;
		long seen = 0;
		while (!failed && seen < cl[i].lines) {
			if (read_new(b, conn[0], cl[i].id, &cursor, &seen) != 0)
				failed = true;
			if (clock_mono_us() - t0 > BENCH_DEADLINE_US) {
				bench_queue_fail(b, "job %s: its %ld log lines were not all stored within %lld s", cl[i].id,
				                 cl[i].lines, (long long)(BENCH_DEADLINE_US / 1000000));
				failed = true;
			} else if (seen < cl[i].lines) {
				bench_sleep_us(20000);
			}
		}
		free(cursor);
	}
	int64_t stored_us = clock_mono_us() - t0;
	if (failed)
		goto out;
	if (atomic_load(&dropped) > 0) {
		bench_queue_fail(b, "the server dropped log lines (%ld requests answered dropped)", (long)atomic_load(&dropped));
		goto out;
	}
	bench_figure(b, "logs_accepted_per_s", "log lines accepted (POST /v1/jobs/{id}/logs, 1,000 a request)",
	             bench_rate((double)total, accepted_us), 0, "lines/s");
	bench_figure(b, "logs_lines_per_s", "log lines captured end to end (accepted to stored and readable)",
	             bench_rate((double)total, stored_us), 0, "lines/s");
	bench_figure(b, "logs_s", "time for every line", bench_secs(stored_us), 2, "s");
	rc = 0;
out:
	for (long i = 0; i < nc; i++)
		http_client_free(cl[i].h);
	free(cl);
	free(th);
	buf_release(&body);
	http_response_release(&r);
	bench_queue_disconnect(b, conn);
	return rc;
}
