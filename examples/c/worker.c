/*
 * worker.c — a libweft worker: claims jobs from one queue and answers each
 * input {"n": N, "sleep_ms": S} with {"n": N, "double": 2N}, after
 * sleeping S milliseconds when S is given.
 *
 *   WEFT_URL=http://127.0.0.1:8085 [WEFT_TOKEN=…] worker QUEUE
 *       [--concurrency N] [--lease-ms MS]
 *
 * It runs until SIGTERM or SIGINT, then finishes the jobs in hand, reports
 * them and exits 0 (a second signal ends it at once).
 *
 * Build: cc worker.c $(pkg-config --cflags --libs weft)
 */
#define _POSIX_C_SOURCE 200809L
#include <weft.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Reads the integer member "key" of a flat JSON object. A real handler
 * would use a JSON library; the example keeps to libweft alone. */
static int json_int(const char *json, const char *key, long long *out)
{
	char pattern[64];
	snprintf(pattern, sizeof(pattern), "\"%s\"", key);
	const char *p = strstr(json, pattern);
	if (!p)
		return -1;
	p += strlen(pattern);
	while (*p == ' ' || *p == ':')
		p++;
	char *end;
	errno = 0;
	*out = strtoll(p, &end, 10);
	return end == p || errno ? -1 : 0;
}

static int handle(const weft_job *job, weft_job_result *res, void *arg)
{
	(void)arg;
	long long n, sleep_ms;
	if (json_int(job->input, "n", &n) != 0)
		return weft_job_result_fail(res, "bad_input", "the input has no integer \"n\"", false);
	if (json_int(job->input, "sleep_ms", &sleep_ms) == 0 && sleep_ms > 0) {
		/* in slices, so that a canceled job stops early */
		for (long long left = sleep_ms; left > 0 && !weft_job_canceled(job); left -= 50) {
			long long ms = left < 50 ? left : 50;
			struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	char result[96];
	snprintf(result, sizeof(result), "{\"n\":%lld,\"double\":%lld}", n, 2 * n);
	return weft_job_result_complete(res, result);
}

static void usage(void)
{
	fprintf(stderr, "usage: worker QUEUE [--concurrency N] [--lease-ms MS]   (WEFT_URL, WEFT_TOKEN)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *queue = NULL;
	int concurrency = 8;
	long long lease_ms = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--concurrency") == 0 && i + 1 < argc)
			concurrency = atoi(argv[++i]);
		else if (strcmp(argv[i], "--lease-ms") == 0 && i + 1 < argc)
			lease_ms = atoll(argv[++i]);
		else if (argv[i][0] == '-' || queue)
			usage();
		else
			queue = argv[i];
	}
	const char *url = getenv("WEFT_URL");
	if (!queue || !url || !*url)
		usage();

	const char *queues[] = { queue };
	weft_worker_options opt = {
		.url = url,
		.token = getenv("WEFT_TOKEN"),
		.queues = queues,
		.queues_len = 1,
		.handler = handle,
		.concurrency = concurrency,
		.lease_ms = lease_ms,
		.install_signal_handlers = true,
	};
	weft_error err = { 0 };
	weft_worker *w = weft_worker_new(&opt, &err);
	if (!w) {
		fprintf(stderr, "worker: %s\n", err.message);
		weft_error_release(&err);
		return 2;
	}
	int rc = weft_worker_run(w, &err);
	weft_worker_stats st;
	weft_worker_get_stats(w, &st);
	fprintf(stderr,
	        "worker %s: claimed %" PRIu64 ", completed %" PRIu64 ", failed %" PRIu64 ", lost %" PRIu64
	        ", released %" PRIu64 "; requests: claims %" PRIu64 ", heartbeats %" PRIu64 ", reports %" PRIu64 "\n",
	        weft_worker_id(w), st.claimed, st.completed, st.failed, st.lost, st.released, st.claim_requests,
	        st.heartbeat_requests, st.report_requests);
	if (rc != 0)
		fprintf(stderr, "worker: %s (%s)\n", err.message, weft_strerror(rc));
	weft_error_release(&err);
	weft_worker_free(w);
	return rc == 0 ? 0 : 1;
}
