/*
 * idempotent_start.c — starting a run twice with one key gets one run.
 *
 * Shows the run's idempotency key (weft_workflow_start_request's
 * idempotency_key): a start with a key that an active run of the
 * namespace holds answers that run instead of starting another, so a
 * client that retries a start after a lost answer, or two clients that
 * race, start the work once. Once the run has ended the key is free
 * again. weft_get_workflow_by_key finds the run by its key.
 *
 *   WEFT_URL=… idempotent_start QUEUE TYPE KEY
 *
 * Prints the id of each start's run and of the run found by key, and
 * exits 0 when they are the one run.
 *
 * Build: cc idempotent_start.c $(pkg-config --cflags --libs weft)
 */
#define _POSIX_C_SOURCE 200809L
#include <weft.h>

#include <stdio.h>
#include <string.h>

#include "example_util.h"

/* Starts the run (or finds it by the key): its id into id. */
static int start_once(weft_client *c, const weft_workflow_start_request *req, char id[64])
{
	weft_error err = { 0 };
	char *run = NULL;
	int rc = weft_start_workflow(c, req, NULL, &run, &err);
	if (rc != 0 || example_json_id(run, id, 64) != 0) {
		fprintf(stderr, "start: %s\n", rc ? err.message : "no id in the answer");
		rc = 1;
	}
	weft_free(run);
	weft_error_release(&err);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: idempotent_start QUEUE TYPE KEY   (WEFT_URL, WEFT_TOKEN)\n");
		return 2;
	}
	weft_client *c = example_client();
	if (!c)
		return 2;
	weft_workflow_start_request req = { .type = argv[2], .queue = argv[1], .input = "{\"greeting\":\"hello\"}",
	                                    .idempotency_key = argv[3] };
	char first[64], second[64], by_key[64];
	int rc = start_once(c, &req, first) || start_once(c, &req, second);
	if (rc == 0) {
		weft_error err = { 0 };
		char *run = NULL;
		if (weft_get_workflow_by_key(c, argv[3], NULL, &run, &err) != 0 ||
		    example_json_id(run, by_key, sizeof(by_key)) != 0) {
			fprintf(stderr, "by key: %s\n", err.message);
			rc = 1;
		}
		weft_free(run);
		weft_error_release(&err);
	}
	if (rc == 0) {
		printf("first %s\nsecond %s\nby-key %s\n", first, second, by_key);
		rc = strcmp(first, second) != 0 || strcmp(first, by_key) != 0;
	}
	weft_client_free(c);
	return rc;
}
