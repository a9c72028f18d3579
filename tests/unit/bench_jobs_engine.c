/*
 * bench_jobs_engine.c — job throughput through the engine, without HTTP:
 * N jobs enqueued in sets of 1,000, then drained by C client threads that
 * each claim 1,000 and complete them in one command, until the queue is
 * empty. Prints jobs/s for both phases and the time each statement took
 * (db_query_duration_seconds), which says where a cycle's time goes.
 *
 * Not a test (nothing asserts a speed) and not built by `make check`:
 *   make build/weft-core.a
 *   cc -std=c17 -O2 -pthread -Isrc -Itests/unit -I/usr/include/postgresql \
 *      tests/unit/bench_jobs_engine.c build/weft-core.a -lcmocka -lmicrohttpd -ljansson \
 *      -lcurl -lsqlite3 -lpq -lcrypto -lm -o build/bench_jobs_engine
 *   build/bench_jobs_engine DB_URL_OR_PATH [JOBS] [CLIENTS]
 * Every job must be completed exactly once: a client that gets another
 * outcome reports it and the run fails.
 */
#include "util/common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <curl/curl.h>

#include "engine/commands/jobs.h"
#include "engine/engine.h"
#include "exec/webhook.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"

#define SET 1000

static engine *eng;
static atomic_long wrong;

static void *drainer(void *arg)
{
	char worker[32];
	snprintf(worker, sizeof worker, "bench-%ld", (long)(intptr_t)arg);
	const char *queues[] = { "bench" };
	job_complete_item *items = xcalloc(SET, sizeof *items);
	long done = 0;
	for (;;) {
		cmd_job_claim c;
		cmd_job_claim_init(&c);
		c.namespace = "default";
		c.queues = queues;
		c.nqueues = 1;
		c.worker_id = worker;
		c.max_jobs = SET;
		c.lease_us = 60 * 1000000LL;
		engine_call(eng, &c.base);
		size_t n = c.njobs;
		for (size_t i = 0; i < n; i++)
			items[i] = (job_complete_item){ .id = c.jobs[i].id, .lease_token = c.jobs[i].lease_token,
			                                .result = "{\"ok\":true}" };
		cmd_job_claim_release(&c);
		if (c.base.result != 0 || n == 0)
			break;
		cmd_job_complete k;
		cmd_job_complete_init(&k);
		k.items = items;
		k.nitems = n;
		engine_call(eng, &k.base);
		for (size_t i = 0; i < n; i++)
			if (k.base.result != 0 || items[i].outcome != JOB_COMPLETED)
				atomic_fetch_add(&wrong, 1);
		done += (long)n;
	}
	free(items);
	return (void *)done;
}

static void print_statement_times(void)
{
	buf b;
	buf_init(&b);
	metrics_render(&b);
	for (char *line = strtok(b.data, "\n"); line != NULL; line = strtok(NULL, "\n"))
		if ((strstr(line, "db_query_duration_seconds_sum{") != NULL || strstr(line, "db_query_duration_seconds_count{") != NULL) && strstr(line, "query=\"job") != NULL)
			printf("  %s\n", line);
	buf_release(&b);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DB_URL_OR_PATH [JOBS] [CLIENTS]\n", argv[0]);
		return 2;
	}
	long njobs = argc > 2 ? atol(argv[2]) : 100000;
	int nclients = argc > 3 ? atoi(argv[3]) : 4;
	if (njobs <= 0 || nclients <= 0 || nclients > 256)
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	log_set_level(LOG_WARN);
	char err[256];
	store_options so = { .sync_full = true, .readers = 2 };
	store *st = store_open(argv[1], &so, err, sizeof err);
	if (st == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	ssrf_policy ssrf;
	ssrf_policy_init(&ssrf);
	dispatcher_config dc = { .host_url = "http://127.0.0.1:8085", .concurrency = 4, .timeout_ms = 60000,
	                         .connect_timeout_ms = 2000, .max_response_bytes = 65536 };
	dispatcher *disp = dispatcher_new(&dc);
	engine_config ec = { .claim_timeout_us = 3600 * 1000000LL, .start_window = 100, .ssrf = &ssrf,
	                     .delivery_window = 16, .max_attempts = 3, .backoff_base_us = 100000,
	                     .backoff_cap_us = 1000000, .lease_us = 60 * 1000000LL, .queue_max = 100000 };
	eng = engine_new(&ec, st, disp);
	if (engine_start(eng) != 0)
		return 1;

	int64_t t0 = clock_mono_us();
	job_spec *specs = xcalloc(SET, sizeof *specs);
	for (long done = 0; done < njobs; done += SET) {
		size_t n = (size_t)MIN((long)SET, njobs - done);
		for (size_t i = 0; i < n; i++) {
			job_spec_init(&specs[i]);
			specs[i].queue = "bench";
			specs[i].input = "{\"i\":1}";
		}
		cmd_job_enqueue c;
		cmd_job_enqueue_init(&c);
		c.namespace = "default";
		c.jobs = specs;
		c.njobs = n;
		engine_call(eng, &c.base);
		if (c.base.result != 0) {
			fprintf(stderr, "enqueue failed: %s\n", weft_strerror(c.base.result));
			return 1;
		}
	}
	free(specs);
	int64_t t1 = clock_mono_us();
	printf("enqueue: %ld jobs in %.3f s = %.0f jobs/s\n", njobs, (double)(t1 - t0) / 1e6,
	       (double)njobs / ((double)(t1 - t0) / 1e6));

	pthread_t th[256];
	for (int i = 0; i < nclients; i++)
		pthread_create(&th[i], NULL, drainer, (void *)(intptr_t)i);
	long total = 0;
	for (int i = 0; i < nclients; i++) {
		void *got;
		pthread_join(th[i], &got);
		total += (long)got;
	}
	int64_t t2 = clock_mono_us();
	printf("drain: %ld jobs in %.3f s = %.0f jobs/s (%d clients)\n", total, (double)(t2 - t1) / 1e6,
	       (double)total / ((double)(t2 - t1) / 1e6), nclients);
	print_statement_times();
	engine_stop(eng);
	dispatcher_free(disp);
	engine_free(eng);
	store_close(st);
	ssrf_policy_release(&ssrf);
	curl_global_cleanup();
	if (total != njobs || atomic_load(&wrong) != 0) {
		fprintf(stderr, "FAILED: %ld of %ld jobs completed, %ld wrong outcomes\n", total, njobs,
		        (long)atomic_load(&wrong));
		return 1;
	}
	return 0;
}
