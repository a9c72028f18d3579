/*
 * cron.c — a workflow started by a cron schedule.
 *
 * Shows a schedule (weft_create_schedule) that fires on a cron's times in
 * a time zone and whose target is the workflow itself (kind "workflow"):
 * each firing starts a run of "report" on the queue, with the schedule's
 * name as its input. Its overlap policy is "skip": a report still running
 * when the next time comes makes that time start nothing rather than a
 * second report beside it. The worker runs the workflow's function.
 *
 *   WEFT_URL=… cron schedule QUEUE NAME 'CRON' [ZONE]   (creates the schedule)
 *   WEFT_URL=… cron worker QUEUE                        (until SIGTERM)
 *
 * The report prints "ran report" when it runs; the run's output is
 * {"report": "done", "schedule": NAME}.
 *
 * Build: cc cron.c $(pkg-config --cflags --libs weft)
 */
#define _POSIX_C_SOURCE 200809L
#include <weft.h>

#include <stdio.h>
#include <string.h>

#include "example_util.h"

static int collect(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)wf;
	(void)arg;
	puts("ran report");
	fflush(stdout);
	return weft_job_result_complete(res, "\"done\"");
}

static int report(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)arg;
	char *done = NULL, output[256];
	int rc = weft_step(wf, "collect", collect, NULL, &done);
	if (rc != 0)
		return rc;
	/* the input is {"schedule": NAME}: its member is carried to the output */
	const char *by = strstr(weft_wf_job(wf)->input, "\"schedule\":");
	snprintf(output, sizeof(output), "{\"report\":%s,%.120s", done, by ? by : "\"schedule\":null}");
	weft_free(done);
	return weft_job_result_complete(res, output);
}

static int schedule(const char *queue, const char *name, const char *cron, const char *zone)
{
	weft_client *c = example_client();
	if (!c)
		return 2;
	char input[96];
	snprintf(input, sizeof(input), "{\"schedule\":\"%.64s\"}", name);
	weft_schedule_create_request req = {
		.name = name,
		.cron = cron,
		.timezone = zone,
		.overlap = "skip",
		.target = { .kind = "workflow", .type = "report", .queue = queue, .input = input },
	};
	weft_error err = { 0 };
	char *answer = NULL;
	int rc = weft_create_schedule(c, &req, &answer, &err);
	if (rc == 0)
		printf("%s\n", answer);
	else
		fprintf(stderr, "schedule: %s\n", err.message);
	weft_free(answer);
	weft_error_release(&err);
	weft_client_free(c);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "schedule") == 0)
		return schedule(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
	if (argc == 3 && strcmp(argv[1], "worker") == 0)
		return example_worker(argv[2], "report", report, NULL);
	fprintf(stderr, "usage: cron schedule QUEUE NAME 'CRON' [ZONE] | cron worker QUEUE   (WEFT_URL, WEFT_TOKEN)\n");
	return 2;
}
