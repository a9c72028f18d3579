/*
 * order.c — a durable order workflow: reserve the stock, charge the card,
 * wait out a cooling-off period, ship.
 *
 * Shows memoized steps, a step that fails and is retried by the server's
 * retry policy, and a durable sleep. The payment gateway of this example
 * times out on its first call in each worker process: the charge step
 * fails (retryable), the run is suspended, and the server replays it after
 * the step's backoff. On every replay the function runs from the top and
 * the steps that completed answer their stored output without running:
 * "reserve" runs once, "charge" twice.
 *
 *   WEFT_URL=http://127.0.0.1:8085 order start QUEUE ORDER_ID   (prints the run's id)
 *   WEFT_URL=http://127.0.0.1:8085 order worker QUEUE            (until SIGTERM)
 *
 * Each step prints "ran STEP ORDER_ID" when it runs. The run's output:
 * {"order": ..., "reservation": ..., "charge": ..., "tracking": ...}.
 *
 * Build: cc order.c $(pkg-config --cflags --libs weft)
 */
#define _POSIX_C_SOURCE 200809L
#include <weft.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example_util.h"

/* The order's id: the run's input is a JSON string of [A-Za-z0-9_-]. */
static int order_id(const weft_wf *wf, char id[64])
{
	return sscanf(weft_wf_job(wf)->input, "\"%63[A-Za-z0-9_-]\"", id) == 1 ? 0 : -1;
}

/* A step's output: the JSON string "<prefix>-<order id>". */
static int named_output(weft_wf *wf, weft_job_result *res, const char *step, const char *prefix)
{
	char id[64], out[96];
	if (order_id(wf, id) != 0)
		return weft_job_result_fail(res, "bad_input", "the input is not an order id", false);
	printf("ran %s %s\n", step, id);
	fflush(stdout);
	snprintf(out, sizeof(out), "\"%s-%s\"", prefix, id);
	return weft_job_result_complete(res, out);
}

static int reserve(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)arg;
	return named_output(wf, res, "reserve", "R");
}

static int charge(weft_wf *wf, weft_job_result *res, void *arg)
{
	static atomic_int calls;
	(void)arg;
	if (atomic_fetch_add(&calls, 1) == 0) {
		puts("ran charge: the gateway timed out");
		fflush(stdout);
		return weft_job_result_fail(res, "gateway_timeout", "the payment gateway did not answer", true);
	}
	return named_output(wf, res, "charge", "C");
}

static int ship(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)arg;
	return named_output(wf, res, "ship", "T");
}

/* The workflow: each call that does not return 0 ends it with that code
 * (WEFT_SUSPENDED: replayed later; WEFT_STEP_FAILED: the run fails). */
static int order(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)arg;
	char *reservation = NULL, *payment = NULL, *tracking = NULL;
	int rc;
	if ((rc = weft_step(wf, "reserve", reserve, NULL, &reservation)) != 0 ||
	    (rc = weft_step(wf, "charge", charge, NULL, &payment)) != 0 ||
	    (rc = weft_sleep(wf, "cooling-off", 300)) != 0 ||
	    (rc = weft_step(wf, "ship", ship, NULL, &tracking)) != 0)
		goto out;
	char output[512];
	snprintf(output, sizeof(output), "{\"order\":%s,\"reservation\":%s,\"charge\":%s,\"tracking\":%s}",
	         weft_wf_job(wf)->input, reservation, payment, tracking);
	rc = weft_job_result_complete(res, output);
out:
	weft_free(reservation);
	weft_free(payment);
	weft_free(tracking);
	return rc;
}

static int start(const char *queue, const char *id)
{
	char input[96];
	snprintf(input, sizeof(input), "\"%.64s\"", id);
	/* A step's retries follow the run's policy: 5 attempts, 200 ms apart at first. */
	weft_backoff backoff = { .initial_ms = 200, .jitter = 0, .jitter_set = true };
	weft_workflow_start_request req = { .type = "order", .queue = queue, .input = input, .max_attempts = 5,
	                                    .backoff = &backoff };
	return example_start(&req);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "start") == 0)
		return start(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "worker") == 0)
		return example_worker(argv[2], "order", order, NULL);
	fprintf(stderr, "usage: order start QUEUE ORDER_ID | order worker QUEUE   (WEFT_URL, WEFT_TOKEN)\n");
	return 2;
}
