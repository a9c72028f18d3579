/*
 * fanout.c — fan-out and fan-in: one step per item, then a total.
 *
 * Shows a step name reached in a loop ("item"): each iteration is a step
 * of its own (the server numbers the calls of a name), so a replay maps
 * the n-th call to the n-th stored output. After the items the run sleeps
 * (durably: it is suspended, no worker holds it) and is replayed from the
 * top when the sleep is over: the items answer their stored outputs
 * without running again, and the total is computed from them.
 *
 *   WEFT_URL=… fanout start QUEUE N SETTLE_MS   (a run over items 1..N; prints its id)
 *   WEFT_URL=… fanout worker QUEUE              (until SIGTERM)
 *
 * Each item prints "ran item I" when it runs. The run's output:
 * {"items": N, "total": 1² + … + N²}.
 *
 * Build: cc fanout.c $(pkg-config --cflags --libs weft)
 */
#define _POSIX_C_SOURCE 200809L
#include <weft.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example_util.h"

#define ITEMS_MAX 1000

/* One item's work: its square. */
static int square(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)wf;
	long long i = *(const long long *)arg;
	printf("ran item %lld\n", i);
	fflush(stdout);
	char out[32];
	snprintf(out, sizeof(out), "%lld", i * i);
	return weft_job_result_complete(res, out);
}

static int total(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)wf;
	char out[64];
	snprintf(out, sizeof(out), "%lld", *(const long long *)arg);
	return weft_job_result_complete(res, out);
}

static int fanout(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)arg;
	long long n, settle_ms;   /* the input: [N, SETTLE_MS] */
	if (sscanf(weft_wf_job(wf)->input, "[%lld,%lld]", &n, &settle_ms) != 2 || n < 1 || n > ITEMS_MAX)
		return weft_job_result_fail(res, "bad_input", "the input is not [N, SETTLE_MS] with N 1..1000", false);
	long long sum = 0;
	int rc;
	for (long long i = 1; i <= n; i++) {
		char *out = NULL;
		if ((rc = weft_step(wf, "item", square, &i, &out)) != 0)
			return rc;
		sum += atoll(out);
		weft_free(out);
	}
	if ((rc = weft_sleep(wf, "settle", settle_ms)) != 0)
		return rc;
	char *sum_text = NULL;
	if ((rc = weft_step(wf, "total", total, &sum, &sum_text)) != 0)
		return rc;
	char output[96];
	snprintf(output, sizeof(output), "{\"items\":%lld,\"total\":%s}", n, sum_text);
	weft_free(sum_text);
	return weft_job_result_complete(res, output);
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "start") == 0) {
		char input[64];
		snprintf(input, sizeof(input), "[%lld,%lld]", atoll(argv[3]), atoll(argv[4]));
		weft_workflow_start_request req = { .type = "fanout", .queue = argv[2], .input = input };
		return example_start(&req);
	}
	if (argc == 3 && strcmp(argv[1], "worker") == 0)
		return example_worker(argv[2], "fanout", fanout, NULL);
	fprintf(stderr, "usage: fanout start QUEUE N SETTLE_MS | fanout worker QUEUE   (WEFT_URL, WEFT_TOKEN)\n");
	return 2;
}
