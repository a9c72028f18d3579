/*
 * cron.c — a workflow started by a cron schedule.
 *
 * Shows a schedule (weft_create_schedule) that fires on a cron's times in
 * a time zone. Its target is a small job, "start-report", whose handler
 * starts the workflow "report"; the job's id is the run's idempotency key,
 * so a starter job that runs twice (a lost report, a retry) still starts
 * one run. One worker runs both: the handler for the job, the function
 * for the workflow.
 *
 *   WEFT_URL=… cron schedule QUEUE NAME 'CRON' [ZONE]   (creates the schedule)
 *   WEFT_URL=… cron worker QUEUE                        (until SIGTERM)
 *
 * The report prints "ran report" when it runs; the run's output is
 * {"report": "done", "scheduled_by": JOB_ID}.
 *
 * Build: cc cron.c $(pkg-config --cflags --libs weft)
 */
#define _POSIX_C_SOURCE 200809L
#include <weft.h>

#include <stdio.h>
#include <string.h>

#include "example_util.h"

/* The job the schedule starts: it starts the workflow, once. */
static int start_report(const weft_job *job, weft_job_result *res, void *arg)
{
	(void)arg;
	weft_client *c = example_client();   /* one per call: handlers may run in several threads */
	if (!c)
		return weft_job_result_fail(res, "no_client", "WEFT_URL is not usable", true);
	char key[96], input[160], id[64];
	snprintf(key, sizeof(key), "report-%s", job->id);
	snprintf(input, sizeof(input), "{\"scheduled_by\":\"%s\"}", job->id);
	weft_workflow_start_request req = { .type = "report", .queue = job->queue, .input = input,
	                                    .idempotency_key = key };
	weft_error err = { 0 };
	char *run = NULL;
	int rc = weft_start_workflow(c, &req, NULL, &run, &err);
	if (rc == 0 && example_json_id(run, id, sizeof(id)) == 0) {
		char result[96];
		snprintf(result, sizeof(result), "{\"run_id\":\"%s\"}", id);
		rc = weft_job_result_complete(res, result);
	} else {
		rc = weft_job_result_fail(res, "start_failed", err.message, true);
	}
	weft_free(run);
	weft_error_release(&err);
	weft_client_free(c);
	return rc;
}

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
	const char *by = strstr(weft_wf_job(wf)->input, "\"scheduled_by\":");
	snprintf(output, sizeof(output), "{\"report\":%s,%.120s", done, by ? by : "\"scheduled_by\":null}");
	weft_free(done);
	return weft_job_result_complete(res, output);
}

static int schedule(const char *queue, const char *name, const char *cron, const char *zone)
{
	weft_client *c = example_client();
	if (!c)
		return 2;
	weft_schedule_create_request req = {
		.name = name,
		.cron = cron,
		.timezone = zone,
		.target = { .queue = queue, .name = "start-report" },
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
		return example_worker(argv[2], "report", report, start_report);
	fprintf(stderr, "usage: cron schedule QUEUE NAME 'CRON' [ZONE] | cron worker QUEUE   (WEFT_URL, WEFT_TOKEN)\n");
	return 2;
}
