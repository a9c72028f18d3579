/*
 * example_util.h — what the workflow examples share: a client and a
 * worker configured from the environment (WEFT_URL, WEFT_TOKEN), and
 * starting a run. Not part of libweft: plain code a program would have.
 */
#ifndef WEFT_EXAMPLE_UTIL_H
#define WEFT_EXAMPLE_UTIL_H

#include <weft.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A client of $WEFT_URL, or NULL with the reason printed. */
static inline weft_client *example_client(void)
{
	weft_client_options o = { .url = getenv("WEFT_URL"), .token = getenv("WEFT_TOKEN") };
	weft_error err = { 0 };
	weft_client *c = weft_client_new(&o, &err);
	if (!c)
		fprintf(stderr, "client: %s (set WEFT_URL)\n", err.message);
	weft_error_release(&err);
	return c;
}

/* Copies the first "id" member of a JSON answer into id (at most n - 1
 * bytes). A real program would use a JSON library; the examples keep to
 * libweft alone. */
static inline int example_json_id(const char *json, char *id, size_t n)
{
	const char *p = strstr(json, "\"id\":\"");
	const char *end = p ? strchr(p + 6, '"') : NULL;
	if (!end || (size_t)(end - (p + 6)) >= n)
		return -1;
	memcpy(id, p + 6, (size_t)(end - (p + 6)));
	id[end - (p + 6)] = '\0';
	return 0;
}

/* Starts the run req describes and prints its id: the exit code. */
static inline int example_start(const weft_workflow_start_request *req)
{
	weft_client *c = example_client();
	if (!c)
		return 2;
	weft_error err = { 0 };
	char *run = NULL, id[64];
	int rc = weft_start_workflow(c, req, NULL, &run, &err);
	if (rc == 0 && example_json_id(run, id, sizeof(id)) == 0)
		printf("%s\n", id);
	else
		fprintf(stderr, "start: %s\n", rc ? err.message : "no id in the answer");
	weft_free(run);
	weft_error_release(&err);
	weft_client_free(c);
	return rc == 0 ? 0 : 1;
}

/* Runs a worker of queue for the workflow type (and handler for the other
 * jobs, or NULL) until SIGTERM or SIGINT: the exit code. */
static inline int example_worker(const char *queue, const char *type, weft_workflow_fn fn, weft_handler handler)
{
	const char *queues[] = { queue };
	const char *lease = getenv("LEASE_MS");   /* the tests shorten it */
	weft_worker_options opt = {
		.url = getenv("WEFT_URL"),
		.token = getenv("WEFT_TOKEN"),
		.queues = queues,
		.queues_len = 1,
		.handler = handler,
		.concurrency = 4,
		.lease_ms = lease ? atoll(lease) : 0,
		.claim_wait_ms = 1000,
		.install_signal_handlers = true,
	};
	weft_error err = { 0 };
	weft_worker *w = weft_worker_new(&opt, &err);
	int rc = w ? weft_worker_workflow(w, type, fn, NULL) : err.code;
	if (rc == 0)
		rc = weft_worker_run(w, &err);
	if (rc != 0)
		fprintf(stderr, "worker: %s (%s)\n", err.message, weft_strerror(rc));
	weft_error_release(&err);
	weft_worker_free(w);
	return rc == 0 ? 0 : 1;
}

#endif
