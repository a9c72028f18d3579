/*
 * enqueue.c — enqueues jobs with libweft and prints their ids.
 *
 *   WEFT_URL=http://127.0.0.1:8085 [WEFT_TOKEN=…] enqueue QUEUE JSON...
 *
 * One job per JSON argument (its input). Exits 1 with the server's reason
 * when the server refuses them.
 *
 * Build: cc enqueue.c $(pkg-config --cflags --libs weft)
 */
#include <weft.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	const char *url = getenv("WEFT_URL");
	if (argc < 3 || !url) {
		fprintf(stderr, "usage: enqueue QUEUE JSON...   (WEFT_URL, WEFT_TOKEN)\n");
		return 2;
	}
	size_t n = (size_t)argc - 2;
	weft_job_spec *jobs = calloc(n, sizeof(*jobs));
	if (!jobs)
		return 1;
	for (size_t i = 0; i < n; i++)
		jobs[i] = (weft_job_spec){ .queue = argv[1], .input = argv[i + 2] };

	weft_error err = { 0 };
	weft_client_options opt = { .url = url, .token = getenv("WEFT_TOKEN") };
	weft_client *c = weft_client_new(&opt, &err);
	weft_enqueue_result *res = NULL;
	weft_enqueue_request req = { .jobs = jobs, .jobs_len = n };
	int rc = c ? weft_enqueue_jobs(c, &req, NULL, &res, &err) : err.code;
	if (rc == 0) {
		for (size_t i = 0; i < res->jobs_len; i++)
			printf("%s%s\n", res->jobs[i].id, res->jobs[i].duplicate ? " duplicate" : "");
	} else {
		fprintf(stderr, "enqueue: %s", err.message);
		if (err.http_status)
			fprintf(stderr, " (HTTP %ld, %s)", err.http_status, err.server_code);
		fprintf(stderr, "\n");
	}
	weft_enqueue_result_free(res);
	weft_client_free(c);
	weft_error_release(&err);
	free(jobs);
	return rc == 0 ? 0 : 1;
}
