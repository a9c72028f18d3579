/*
 * test_libweft_client.c — libweft against a real server, one scenario per
 * run (tests/clients/test_libweft.py starts the server and runs each):
 *
 *   libweft_client URL SCENARIO
 *
 * Prints "ok SCENARIO" and exits 0, or names the failed check and exits 1.
 * Only the public API (weft.h) is used, as a program of the library's
 * users would.
 */
#define _GNU_SOURCE 1
#include <weft.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fprintf(stderr, "\n"); \
			exit(1); \
		} \
	} while (0)

static const char *url;
static char queue[64];

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static weft_client *client(void)
{
	weft_error err = { 0 };
	weft_client_options o = { .url = url };
	weft_client *c = weft_client_new(&o, &err);
	CHECK(c, "%s", err.message);
	return c;
}

/* Enqueues one job with input and returns its id (owned). */
static char *enqueue(weft_client *c, const char *input, int64_t max_attempts)
{
	weft_error err = { 0 };
	weft_job_spec spec = { .queue = queue, .input = input, .max_attempts = max_attempts };
	weft_enqueue_request req = { .jobs = &spec, .jobs_len = 1 };
	weft_enqueue_result *r = NULL;
	int rc = weft_enqueue_jobs(c, &req, NULL, &r, &err);
	CHECK(rc == 0 && r->jobs_len == 1, "enqueue: %d %s", rc, err.message);
	char *id = strdup(r->jobs[0].id);
	CHECK(!r->jobs[0].duplicate && r->jobs[0].status && r->jobs[0].run_id, "enqueued job fields");
	weft_enqueue_result_free(r);
	return id;
}

/* The task's JSON has "status":"<status>". */
static bool task_has(weft_client *c, const char *id, const char *needle)
{
	char *t = NULL;
	weft_error err = { 0 };
	int rc = weft_get_task(c, id, &t, &err);
	CHECK(rc == 0, "get task: %s", err.message);
	bool yes = strstr(t, needle) != NULL;
	weft_free(t);
	return yes;
}

/* ---- errors ------------------------------------------------------------- */

static int never_called(const weft_job *job, weft_job_result *res, void *arg)
{
	(void)job;
	(void)res;
	(void)arg;
	return 1;
}

static void scenario_errors(void)
{
	weft_client *c = client();
	weft_error err = { 0 };
	char *out = (char *)"untouched";

	int rc = weft_get_task(c, "00000000-0000-4000-8000-000000000000", &out, &err);
	CHECK(rc == WEFT_ENOTFOUND && err.code == rc, "404: rc %d", rc);
	CHECK(err.http_status == 404 && strcmp(err.server_code, "not_found") == 0, "404: %ld %s", err.http_status,
	      err.server_code);
	CHECK(err.message[0] && out == NULL, "404 message and out");
	CHECK(strcmp(weft_strerror(rc), "not found (404)") == 0, "strerror");

	/* a bad JSON value is refused before anything is sent, naming it */
	weft_job_spec spec = { .queue = queue, .input = "{not json" };
	weft_enqueue_request req = { .jobs = &spec, .jobs_len = 1 };
	rc = weft_enqueue_jobs(c, &req, NULL, NULL, &err);
	CHECK(rc == WEFT_EINVAL && strstr(err.message, "jobs[0].input") && err.http_status == 0, "%s", err.message);

	/* the server's own refusal: 400 with its code and details */
	spec = (weft_job_spec){ .queue = queue, .max_attempts = 5000 };
	rc = weft_enqueue_jobs(c, &req, NULL, NULL, &err);
	CHECK(rc == WEFT_EBADREQUEST && err.http_status == 400 && strcmp(err.server_code, "invalid_request") == 0,
	      "400: %d %ld %s", rc, err.http_status, err.server_code);

	/* a conflict carries details */
	char *id = enqueue(c, "{\"n\":1}", 1);
	rc = weft_cancel_task(c, id, NULL, NULL, NULL, &err);
	CHECK(rc == 0, "cancel: %s", err.message);
	rc = weft_retry_task(c, id, &(weft_operator_request){ .reason = "again" }, NULL, NULL, &err);
	CHECK(rc == WEFT_ECONFLICT || rc == 0, "retry of a canceled task: %d %s", rc, err.message);
	free(id);

	weft_client_free(c);

	/* nothing listens on port 9 */
	weft_client_options o = { .url = "http://127.0.0.1:9", .connect_timeout_ms = 2000 };
	c = weft_client_new(&o, &err);
	CHECK(c, "client");
	rc = weft_list_queues(c, NULL, &out, &err);
	CHECK(rc == WEFT_ECONNECT && err.http_status == 0 && strstr(err.message, "127.0.0.1:9"), "unreachable: %d %s",
	      rc, err.message);
	weft_client_free(c);

	o.url = "ftp://example.com";
	CHECK(!weft_client_new(&o, &err) && err.code == WEFT_EINVAL, "a bad URL");

	/* a worker's options are checked, naming the one at fault */
	const char *queues[] = { queue };
	weft_worker_options wo = { .url = url, .queues = queues, .queues_len = 1 };
	/* no handler: a worker may run workflows only, so the run refuses it
	 * when none is registered either */
	weft_worker *nohandler = weft_worker_new(&wo, &err);
	CHECK(nohandler && weft_worker_run(nohandler, &err) == WEFT_EINVAL && strstr(err.message, "handler"), "%s",
	      err.message);
	weft_worker_free(nohandler);
	wo = (weft_worker_options){ .url = url, .handler = never_called, .queues_len = 0 };
	CHECK(!weft_worker_new(&wo, &err) && strstr(err.message, "queues"), "%s", err.message);
	wo = (weft_worker_options){ .url = url, .handler = never_called, .queues = queues, .queues_len = 1,
	                            .lease_ms = 10 };
	CHECK(!weft_worker_new(&wo, &err) && strstr(err.message, "lease_ms"), "%s", err.message);
	weft_error_release(&err);
	CHECK(err.details == NULL && err.code == 0, "released");
}

/* ---- the job calls, one by one ------------------------------------------ */

static void scenario_jobs(void)
{
	weft_client *c = client();
	weft_error err = { 0 };
	char *a = enqueue(c, "{\"n\":1}", 3), *b = enqueue(c, "{\"n\":2}", 3), *d = enqueue(c, "{\"n\":3}", 3);

	const char *queues[] = { queue };
	weft_claim_request creq = { .queues = queues, .queues_len = 1, .worker_id = "t-1", .hostname = "h",
	                            .max_jobs = 3, .wait_ms = 1000, .lease_ms = 5000 };
	weft_claim_result *cr = NULL;
	int rc = weft_claim_jobs(c, &creq, &cr, &err);
	CHECK(rc == 0 && cr->jobs_len == 3 && !cr->drain, "claim: %d %s", rc, err.message);
	const weft_job *j = &cr->jobs[0];
	CHECK(j->attempt == 1 && j->max_attempts == 3 && j->lease_token && j->heartbeat_ms > 0 && j->timeout_at &&
	          j->lease_until && strstr(j->input, "\"n\"") && strcmp(j->queue, queue) == 0,
	      "claimed job fields");

	weft_lease_ref refs[3];
	for (int i = 0; i < 3; i++)
		refs[i] = (weft_lease_ref){ .id = cr->jobs[i].id, .lease_token = cr->jobs[i].lease_token,
		                            .progress = "{\"pct\":50}" };
	weft_heartbeat_request hreq = { .worker_id = "t-1", .lease_ms = 5000, .leases = refs, .leases_len = 3 };
	weft_heartbeat_result *hr = NULL;
	rc = weft_heartbeat_jobs(c, &hreq, &hr, &err);
	CHECK(rc == 0 && hr->leases_len == 3 && strcmp(hr->leases[0].state, "held") == 0 && hr->leases[0].lease_until,
	      "heartbeat: %d %s", rc, err.message);
	weft_heartbeat_result_free(hr);

	weft_complete_item ci = { .id = cr->jobs[0].id, .lease_token = cr->jobs[0].lease_token, .result = "{\"ok\":1}" };
	weft_report_results *rr = NULL;
	rc = weft_complete_jobs(c, &(weft_complete_request){ .items = &ci, .items_len = 1 }, &rr, &err);
	CHECK(rc == 0 && rr->results_len == 1 && strcmp(rr->results[0].outcome, "completed") == 0, "complete: %s",
	      err.message);
	weft_report_results_free(rr);
	/* again: the server says so */
	weft_report_result *one = NULL;
	rc = weft_complete_job(c, cr->jobs[0].id, &ci, &one, &err);
	CHECK(rc == 0 && strcmp(one->outcome, "already_completed") == 0, "complete again: %d %s", rc, err.message);
	weft_report_result_free(one);

	weft_fail_item fi = { .id = cr->jobs[1].id, .lease_token = cr->jobs[1].lease_token,
	                      .error = { .code = "boom", .message = "it broke", .retryable = WEFT_TRUE,
	                                 .details = "{\"line\":7}" },
	                      .retry_after_ms = WEFT_RETRY_NOW };
	rc = weft_fail_jobs(c, &(weft_fail_request){ .items = &fi, .items_len = 1 }, &rr, &err);
	CHECK(rc == 0 && strcmp(rr->results[0].outcome, "retrying") == 0 && rr->results[0].next_attempt_at,
	      "fail: %d %s", rc, err.message);
	weft_report_results_free(rr);

	weft_release_item ri = { .id = cr->jobs[2].id, .lease_token = cr->jobs[2].lease_token };
	rc = weft_release_jobs(c, &(weft_release_request){ .items = &ri, .items_len = 1 }, &rr, &err);
	CHECK(rc == 0 && strcmp(rr->results[0].outcome, "released") == 0, "release: %d %s", rc, err.message);
	weft_report_results_free(rr);
	weft_claim_result_free(cr);

	/* both come back; fail one for good through the single-job call */
	creq.max_jobs = 2;
	rc = weft_claim_jobs(c, &creq, &cr, &err);
	CHECK(rc == 0 && cr->jobs_len == 2, "claim again: %d %s %zu", rc, err.message, rc ? 0 : cr->jobs_len);
	for (size_t i = 0; i < cr->jobs_len; i++) {
		fi = (weft_fail_item){ .lease_token = cr->jobs[i].lease_token,
		                       .error = { .code = "fatal", .retryable = WEFT_FALSE } };
		rc = weft_fail_job(c, cr->jobs[i].id, &fi, &one, &err);
		CHECK(rc == 0 && strcmp(one->outcome, "dead_lettered") == 0, "fail one: %d %s", rc, err.message);
		weft_report_result_free(one);
	}
	weft_claim_result_free(cr);
	CHECK(task_has(c, a, "\"status\":\"success\""), "a succeeded");
	CHECK(task_has(c, b, "\"status\":\"failure\""), "b failed");

	char *out = NULL;
	rc = weft_list_dead_letters(c, &(weft_dead_letter_query){ .queue = queue, .limit = 10 }, &out, &err);
	CHECK(rc == 0 && strstr(out, b) && strstr(out, d), "dead letters: %s", err.message);
	weft_free(out);
	rc = weft_get_dead_letter(c, d, &out, &err);
	CHECK(rc == 0 && strstr(out, d), "dead letter: %s", err.message);
	weft_free(out);
	const char *ids[] = { d };
	rc = weft_requeue_dead_letters(c, &(weft_requeue_request){ .ids = ids, .ids_len = 1, .reason = "try again" },
	                               queue, &out, &err);
	CHECK(rc == 0, "requeue: %s", err.message);
	weft_free(out);
	rc = weft_list_tasks(c, &(weft_task_query){ .queue = queue, .status = "success", .limit = 5 }, &out, &err);
	CHECK(rc == 0 && strstr(out, a) && !strstr(out, b), "list tasks: %s", err.message);
	weft_free(out);
	rc = weft_list_task_events(c, a, &(weft_page_query){ .limit = 50 }, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"events\""), "events: %s", err.message);
	weft_free(out);
	free(a);
	free(b);
	free(d);
	weft_error_release(&err);
	weft_client_free(c);
}

/* ---- queues, runs, workers and the rest of the API ---------------------- */

static void scenario_api(void)
{
	weft_client *c = client();
	weft_error err = { 0 };
	char *out = NULL;
	free(enqueue(c, "{\"n\":1}", 0));

	int rc = weft_get_open_api(c, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"openapi\""), "openapi: %s", err.message);
	weft_free(out);
	rc = weft_get_queue(c, queue, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"depth\""), "queue: %s", err.message);
	weft_free(out);
	weft_rate_limit rl = { .limit = 100, .period_ms = 1000 };
	rc = weft_configure_queue(c, queue, NULL, &(weft_queue_patch){ .concurrency_limit = 5, .rate_limit = &rl },
	                          NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"concurrency_limit\":5"), "configure: %s %s", err.message, out);
	weft_free(out);
	rc = weft_configure_queue(c, queue, NULL,
	                          &(weft_queue_patch){ .concurrency_limit = WEFT_NO_LIMIT, .remove_rate_limit = true },
	                          NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"paused\":false,\"concurrency_limit\":null,"), "unlimit: %s", err.message);
	weft_free(out);
	rc = weft_configure_queue(c, queue, NULL, &(weft_queue_patch){ 0 }, NULL, &out, &err);
	CHECK(rc == WEFT_EINVAL, "an empty patch");
	rc = weft_pause_queue(c, queue, NULL, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"paused\":true"), "pause queue: %s %s", err.message, out ? out : "");
	weft_free(out);
	rc = weft_resume_queue(c, queue, NULL, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"paused\":false"), "resume queue: %s", err.message);
	weft_free(out);
	rc = weft_list_queues(c, &(weft_queue_query){ .limit = 100 }, &out, &err);
	CHECK(rc == 0 && strstr(out, queue), "queues: %s", err.message);
	weft_free(out);

	weft_run_parent parent = { .ref = "a" };
	weft_run_task_spec tasks[2] = {
		{ .ref = "a", .queue = queue, .input = "{\"n\":1}" },
		{ .ref = "b", .queue = queue, .parents = &parent, .parents_len = 1, .metadata = "{\"k\":\"v\"}" },
	};
	rc = weft_create_run(c, &(weft_run_request){ .name = "r", .tasks = tasks, .tasks_len = 2 }, queue, &out,
	                     &err);
	CHECK(rc == 0 && strstr(out, "\"id\""), "create run: %s", err.message);
	char run_id[40] = "";
	const char *p = strstr(out, "\"id\":\"");
	CHECK(p, "run id in %s", out);
	snprintf(run_id, sizeof(run_id), "%.36s", p + 6);
	weft_free(out);
	rc = weft_get_run(c, run_id, true, &out, &err);
	CHECK(rc == 0 && strstr(out, run_id) && strstr(out, "\"tasks\":["), "get run: %s", err.message);
	weft_free(out);
	rc = weft_get_run(c, run_id, false, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"total\":2") && !strstr(out, "\"tasks\""), "run summary: %s", err.message);
	weft_free(out);
	rc = weft_list_runs(c, &(weft_run_query){ .limit = 10 }, &out, &err);
	CHECK(rc == 0 && strstr(out, run_id), "runs: %s", err.message);
	weft_free(out);
	rc = weft_list_run_tasks(c, run_id, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"b\"") , "run tasks: %s", err.message);
	weft_free(out);
	rc = weft_cancel_run(c, run_id, NULL, &out, &err);
	CHECK(rc == 0, "cancel run: %s", err.message);
	weft_free(out);
	/* The decision flag is sent: a decision without children is refused. */
	weft_run_task_spec lone = { .ref = "d", .queue = queue, .decision = true };
	rc = weft_create_run(c, &(weft_run_request){ .tasks = &lone, .tasks_len = 1 }, NULL, &out, &err);
	CHECK(rc != 0 && err.http_status == 400 && err.details && strstr(err.details, "tasks[0].decision"),
	      "a decision without children: %d %ld %s", rc, err.http_status, err.details ? err.details : "");
	/* An exec task's spec and retries are sent: an exec spec without argv is
	 * refused here, retries out of bounds by the server, by field. */
	weft_run_task_spec exec_task = { .ref = "x", .executor = "exec", .exec = &(weft_exec_spec){ .cwd = "/tmp" } };
	rc = weft_create_run(c, &(weft_run_request){ .tasks = &exec_task, .tasks_len = 1 }, NULL, &out, &err);
	CHECK(rc == WEFT_EINVAL && strstr(err.message, "tasks[0].exec.argv"), "exec without argv: %d %s", rc,
	      err.message);
	const char *argv[] = { "/bin/true" };
	exec_task.exec = &(weft_exec_spec){ .argv = argv, .argv_len = 1, .timeout_secs = 5 };
	exec_task.retry = &(weft_exec_retry){ .max_retries = 101, .initial_delay_secs = 0, .initial_delay_set = true };
	rc = weft_create_run(c, &(weft_run_request){ .tasks = &exec_task, .tasks_len = 1 }, NULL, &out, &err);
	CHECK(rc != 0 && err.http_status == 400 && err.details && strstr(err.details, "tasks[0].retry.max_retries"),
	      "exec retries out of bounds: %d %ld %s", rc, err.http_status, err.details ? err.details : "");

	/* a worker the server knows, after a claim */
	const char *queues[] = { queue };
	weft_claim_result *cr = NULL;
	rc = weft_claim_jobs(c, &(weft_claim_request){ .queues = queues, .queues_len = 1, .worker_id = "w-api" }, &cr,
	                     &err);
	CHECK(rc == 0, "claim: %s", err.message);
	weft_claim_result_free(cr);
	rc = weft_list_workers(c, &(weft_worker_query){ .queue = queue }, &out, &err);
	CHECK(rc == 0 && strstr(out, "w-api"), "workers: %s", err.message);
	weft_free(out);
	rc = weft_get_worker(c, "w-api", NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "w-api"), "worker: %s", err.message);
	weft_free(out);
	rc = weft_drain_worker(c, "w-api", NULL, NULL, &out, &err);
	CHECK(rc == 0, "drain worker: %s", err.message);
	weft_free(out);
	weft_error_release(&err);
	weft_client_free(c);
}

/* ---- the worker runtime ------------------------------------------------- */

static weft_worker *the_worker;
static atomic_int handler_calls, saw_cancel, started;

static weft_worker *worker(weft_handler h, int64_t lease_ms, bool signals)
{
	static const char *queues[1];
	queues[0] = queue;
	weft_worker_options o = { .url = url, .queues = queues, .queues_len = 1, .handler = h, .concurrency = 2,
	                          .lease_ms = lease_ms, .claim_wait_ms = 500, .install_signal_handlers = signals };
	weft_error err = { 0 };
	weft_worker *w = weft_worker_new(&o, &err);
	CHECK(w, "worker: %s", err.message);
	return w;
}

static void *run_thread(void *arg)
{
	weft_error err = { 0 };
	int rc = weft_worker_run(arg, &err);
	CHECK(rc == 0, "run: %d %s", rc, err.message);
	return NULL;
}

/* Fails the first attempt (retry at once), completes the second. */
static int flaky(const weft_job *job, weft_job_result *res, void *arg)
{
	(void)arg;
	atomic_fetch_add(&handler_calls, 1);
	if (job->attempt == 1) {
		weft_job_result_fail(res, "flaky", "first attempt", true);
		weft_job_result_retry_after(res, 0);
		return 0;
	}
	weft_worker_stop(the_worker);
	return weft_job_result_complete(res, "{\"second\":true}");
}

static void scenario_retry(void)
{
	weft_client *c = client();
	char *id = enqueue(c, "{\"n\":1}", 3);
	the_worker = worker(flaky, 0, false);
	pthread_t t;
	pthread_create(&t, NULL, run_thread, the_worker);
	pthread_join(t, NULL);
	weft_worker_stats st;
	weft_worker_get_stats(the_worker, &st);
	CHECK(st.claimed == 2 && st.failed == 1 && st.completed == 1, "stats %lu %lu %lu", (unsigned long)st.claimed,
	      (unsigned long)st.failed, (unsigned long)st.completed);
	CHECK(task_has(c, id, "\"second\":true") && task_has(c, id, "\"status\":\"success\""), "result");
	weft_worker_free(the_worker);
	free(id);
	weft_client_free(c);
}

/* Works until told its job was canceled. */
static int until_canceled(const weft_job *job, weft_job_result *res, void *arg)
{
	(void)arg;
	atomic_store(&started, 1);
	for (int i = 0; i < 400 && !weft_job_canceled(job); i++)
		sleep_ms(25);
	if (weft_job_canceled(job))
		atomic_store(&saw_cancel, 1);
	weft_worker_stop(the_worker);
	return weft_job_result_complete(res, "{\"ignored\":true}");
}

static void scenario_cancel(void)
{
	weft_client *c = client();
	weft_error err = { 0 };
	char *id = enqueue(c, "{\"n\":1}", 1);
	the_worker = worker(until_canceled, 1500, false);
	pthread_t t;
	pthread_create(&t, NULL, run_thread, the_worker);
	while (!atomic_load(&started))
		sleep_ms(10);
	int rc = weft_cancel_task(c, id, &(weft_operator_request){ .reason = "test" }, queue, NULL, &err);
	CHECK(rc == 0, "cancel: %s", err.message);
	pthread_join(t, NULL);
	CHECK(atomic_load(&saw_cancel), "the handler never saw the cancel");
	weft_worker_stats st;
	weft_worker_get_stats(the_worker, &st);
	CHECK(st.lost == 1 && st.completed == 0, "lost %lu completed %lu", (unsigned long)st.lost,
	      (unsigned long)st.completed);
	CHECK(task_has(c, id, "\"status\":\"canceled\""), "canceled");
	weft_worker_free(the_worker);
	free(id);
	weft_client_free(c);
}

/* Runs 3.5 s, past its 1 s lease: the heartbeats keep it. */
static int slow(const weft_job *job, weft_job_result *res, void *arg)
{
	(void)arg;
	for (int i = 0; i < 35 && !weft_job_canceled(job); i++)
		sleep_ms(100);
	weft_worker_stop(the_worker);
	return weft_job_result_complete(res, weft_job_canceled(job) ? "{\"lost\":true}" : "{\"slow\":true}");
}

static void scenario_heartbeat(void)
{
	weft_client *c = client();
	char *id = enqueue(c, "{\"n\":1}", 1);
	the_worker = worker(slow, 1000, false);
	weft_error err = { 0 };
	CHECK(weft_worker_run(the_worker, &err) == 0, "run: %s", err.message);
	weft_worker_stats st;
	weft_worker_get_stats(the_worker, &st);
	CHECK(st.completed == 1 && st.lost == 0, "completed %lu lost %lu", (unsigned long)st.completed,
	      (unsigned long)st.lost);
	CHECK(task_has(c, id, "\"slow\":true"), "result");
	weft_worker_free(the_worker);
	free(id);
	weft_client_free(c);
}

/* SIGTERM while a job runs: it finishes, is reported, run returns 0. */
static int signaled(const weft_job *job, weft_job_result *res, void *arg)
{
	(void)arg;
	(void)job;
	if (atomic_fetch_add(&handler_calls, 1) == 0)
		kill(getpid(), SIGTERM);
	sleep_ms(300);
	return weft_job_result_complete(res, "{\"drained\":true}");
}

static void scenario_sigterm(void)
{
	weft_client *c = client();
	char *id = enqueue(c, "{\"n\":1}", 1);
	the_worker = worker(signaled, 0, true);
	weft_error err = { 0 };
	CHECK(weft_worker_run(the_worker, &err) == 0, "run: %s", err.message);
	weft_worker_stats st;
	weft_worker_get_stats(the_worker, &st);
	CHECK(st.completed == 1 && handler_calls == 1, "completed %lu calls %d", (unsigned long)st.completed,
	      handler_calls);
	CHECK(task_has(c, id, "\"drained\":true"), "result");
	weft_worker_free(the_worker);
	free(id);
	weft_client_free(c);
}

/* drainWorker while a job runs: the worker finishes it and returns. */
static int drained(const weft_job *job, weft_job_result *res, void *arg)
{
	(void)arg;
	atomic_store(&started, 1);
	for (int i = 0; i < 100 && !weft_job_canceled(job) && atomic_load(&started) != 2; i++)
		sleep_ms(50);
	return weft_job_result_complete(res, "{\"drained\":true}");
}

static void scenario_server_drain(void)
{
	weft_client *c = client();
	weft_error err = { 0 };
	char *id = enqueue(c, "{\"n\":1}", 1);
	the_worker = worker(drained, 1500, false);
	pthread_t t;
	pthread_create(&t, NULL, run_thread, the_worker);
	while (!atomic_load(&started))
		sleep_ms(10);
	int rc = weft_drain_worker(c, weft_worker_id(the_worker), NULL, NULL, NULL, &err);
	CHECK(rc == 0, "drain: %s", err.message);
	sleep_ms(1200);   /* past a heartbeat period (500 ms) */
	atomic_store(&started, 2);
	pthread_join(t, NULL);   /* returns only because of the drain */
	CHECK(task_has(c, id, "\"drained\":true"), "result");
	weft_worker_free(the_worker);
	free(id);
	weft_client_free(c);
}

/* ---- pause and resume of tasks and runs --------------------------------- */

static size_t claim_now(weft_client *c)
{
	const char *queues[] = { queue };
	weft_error err = { 0 };
	weft_claim_result *cr = NULL;
	int rc = weft_claim_jobs(c, &(weft_claim_request){ .queues = queues, .queues_len = 1, .worker_id = "w-pause",
	                                                    .max_jobs = 10 },
	                         &cr, &err);
	CHECK(rc == 0, "claim: %s", err.message);
	size_t n = cr->jobs_len;
	for (size_t i = 0; i < n; i++) {
		weft_complete_item ci = { .id = cr->jobs[i].id, .lease_token = cr->jobs[i].lease_token };
		CHECK(weft_complete_jobs(c, &(weft_complete_request){ .items = &ci, .items_len = 1 }, NULL, &err) == 0,
		      "complete: %s", err.message);
	}
	weft_claim_result_free(cr);
	return n;
}

static void scenario_pause(void)
{
	weft_client *c = client();
	weft_error err = { 0 };
	char *out = NULL;
	char *id = enqueue(c, "{\"n\":1}", 1);
	int rc = weft_pause_task(c, id, &(weft_operator_request){ .reason = "hold" }, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"status\":\"paused\""), "pause task: %d %s %s", rc, err.message, out ? out : "");
	weft_free(out);
	CHECK(claim_now(c) == 0, "a paused job was claimed");
	rc = weft_resume_task(c, id, NULL, NULL, &out, &err);
	CHECK(rc == 0 && !strstr(out, "\"status\":\"paused\""), "resume task: %d %s", rc, err.message);
	weft_free(out);
	CHECK(claim_now(c) == 1, "the resumed job was not claimed");
	rc = weft_pause_task(c, id, NULL, NULL, &out, &err);
	CHECK(rc == WEFT_ECONFLICT && err.http_status == 409 && out == NULL, "pause of a finished task: %d", rc);

	weft_run_task_spec tasks[2] = { { .ref = "a", .queue = queue }, { .ref = "b", .queue = queue } };
	rc = weft_create_run(c, &(weft_run_request){ .tasks = tasks, .tasks_len = 2 }, NULL, &out, &err);
	CHECK(rc == 0, "create run: %s", err.message);
	char run_id[40];
	snprintf(run_id, sizeof(run_id), "%.36s", strstr(out, "\"id\":\"") + 6);
	weft_free(out);
	rc = weft_pause_run(c, run_id, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"paused\":2"), "pause run: %s %s", err.message, out ? out : "");
	weft_free(out);
	CHECK(claim_now(c) == 0, "a paused run's job was claimed");
	rc = weft_resume_run(c, run_id, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"resumed\":2"), "resume run: %s %s", err.message, out ? out : "");
	weft_free(out);
	CHECK(claim_now(c) == 2, "the resumed run's jobs were not claimed");
	free(id);
	weft_error_release(&err);
	weft_client_free(c);
}

/* ---- tokens (the server runs with an admin token in WEFT_TOKEN) --------- */

static void scenario_tokens(void)
{
	const char *admin = getenv("WEFT_TOKEN");
	CHECK(admin && *admin, "WEFT_TOKEN is not set");
	weft_error err = { 0 };
	char *out = NULL;
	weft_client *anon = client();
	int rc = weft_list_tokens(anon, &out, &err);
	CHECK(rc == WEFT_EAUTH && err.http_status == 401, "no token: %d %ld", rc, err.http_status);
	weft_client_free(anon);

	weft_client_options o = { .url = url, .token = admin };
	weft_client *c = weft_client_new(&o, &err);
	CHECK(c, "client");
	const char *namespaces[] = { "default" };
	weft_token_request req = { .name = queue, .namespaces = namespaces, .namespaces_len = 1, .role = "client" };
	rc = weft_create_token(c, &req, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"secret\":\"wft_"), "create: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_create_token(c, &req, &out, &err);
	CHECK(rc == WEFT_ECONFLICT && strcmp(err.server_code, "conflict") == 0, "create again: %d", rc);
	rc = weft_get_token(c, queue, &out, &err);
	CHECK(rc == 0 && strstr(out, queue) && !strstr(out, "secret"), "get: %s", err.message);
	weft_free(out);
	rc = weft_list_tokens(c, &out, &err);
	CHECK(rc == 0 && strstr(out, queue), "list: %s", err.message);
	weft_free(out);
	rc = weft_whoami(c, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"admin\":true") && strstr(out, "\"namespaces\":[\"*\"]"), "whoami: %d %s", rc,
	      err.message);
	weft_free(out);
	rc = weft_revoke_token(c, queue, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"revoked_at\":\""), "revoke: %s %s", err.message, out ? out : "");
	weft_free(out);
	rc = weft_get_token(c, "no-such-token", &out, &err);
	CHECK(rc == WEFT_ENOTFOUND, "get a missing token: %d", rc);
	/* The audit log names the creation and the revocation, newest first. */
	rc = weft_list_audit(c, &(weft_audit_query){ .object_kind = "token", .object_id = queue }, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"token.revoke\"") && strstr(out, "\"token.create\"") &&
	              strstr(out, "\"token.revoke\"") < strstr(out, "\"token.create\"") && !strstr(out, "wft_"),
	      "audit: %d %s %s", rc, err.message, out ? out : "");
	weft_free(out);
	rc = weft_list_audit(c, &(weft_audit_query){ .since = "yesterday" }, &out, &err);
	CHECK(rc == WEFT_EBADREQUEST && strstr(err.message, "since"), "audit, a bad since: %d %s", rc, err.message);
	weft_error_release(&err);
	weft_client_free(c);
}

/* ---- a workflow driven by hand ------------------------------------------ */

static void scenario_workflow(void)
{
	weft_client *c = client();
	weft_error err = { 0 };
	char *out = NULL;
	char key[96];
	snprintf(key, sizeof(key), "%s-key", queue);
	weft_workflow_start_request start = { .type = "wf-type", .queue = queue, .input = "{\"n\":1}",
	                                      .max_attempts = 3, .idempotency_key = key };
	int rc = weft_start_workflow(c, &start, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"wf-type\""), "start: %d %s", rc, err.message);
	char *start_answer = out;

	const char *queues[] = { queue };
	weft_claim_result *cr = NULL;
	rc = weft_claim_jobs(c, &(weft_claim_request){ .queues = queues, .queues_len = 1, .worker_id = "w-wf" }, &cr,
	                     &err);
	CHECK(rc == 0 && cr->jobs_len == 1, "claim: %d %s", rc, err.message);
	const weft_job *job = &cr->jobs[0];
	CHECK(strstr(start_answer, job->id) && strcmp(job->name, "wf-type") == 0, "the claimed job is the run: %s",
	      start_answer);
	weft_free(start_answer);

	/* a bad request names its field and sends nothing */
	rc = weft_workflow_step_begin(c, job->id, &(weft_workflow_step_begin_request){ .name = "fetch" }, &out, &err);
	CHECK(rc == WEFT_EINVAL && strstr(err.message, "lease_token") && out == NULL, "no lease: %d %s", rc,
	      err.message);

	rc = weft_workflow_step_begin(
		c, job->id, &(weft_workflow_step_begin_request){ .lease_token = job->lease_token, .name = "fetch" }, &out,
		&err);
	CHECK(rc == 0 && strstr(out, "\"seq\":1") && strstr(out, "\"memoized\":false"), "begin: %d %s %s", rc,
	      err.message, out ? out : "");
	weft_free(out);
	weft_workflow_step_complete_request done = { .lease_token = job->lease_token, .name = "fetch", .seq = 1,
	                                             .output = "{\"item\":1}" };
	rc = weft_workflow_step_complete(c, job->id, &done, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"completed\""), "step complete: %d %s", rc, err.message);
	weft_free(out);
	/* the same completion again changes nothing and says so */
	rc = weft_workflow_step_complete(c, job->id, &done, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"memoized\":true"), "again: %d %s", rc, err.message);
	weft_free(out);

	rc = weft_workflow_complete(
		c, job->id, &(weft_workflow_complete_request){ .lease_token = job->lease_token, .output = "{\"total\":1}" },
		&out, &err);
	CHECK(rc == 0 && strstr(out, "\"run_status\":\"completed\""), "complete: %d %s", rc, err.message);
	weft_free(out);

	rc = weft_get_workflow(c, job->id, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"status\":\"completed\"") && strstr(out, "\"total\""), "get: %d %s", rc,
	      err.message);
	weft_free(out);
	rc = weft_get_workflow_by_key(c, key, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, job->id), "by key: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_list_workflows(c, &(weft_workflow_query){ .queue = queue, .status = "completed" }, &out, &err);
	CHECK(rc == 0 && strstr(out, job->id), "list: %d %s", rc, err.message);
	weft_free(out);

	/* an ended run refuses the worker's calls and a cancel */
	rc = weft_workflow_step_begin(
		c, job->id, &(weft_workflow_step_begin_request){ .lease_token = job->lease_token, .name = "late" }, &out,
		&err);
	CHECK(rc == WEFT_ECONFLICT && strcmp(err.server_code, "workflow_ended") == 0 && out == NULL, "late: %d %s", rc,
	      err.server_code);
	rc = weft_cancel_workflow(c, job->id, &(weft_operator_request){ .reason = "too late" }, NULL, &out, &err);
	CHECK(rc == WEFT_ECONFLICT, "cancel an ended run: %d %s", rc, err.message);
	weft_claim_result_free(cr);
	weft_error_release(&err);
	weft_client_free(c);
}

/* ---- hooks, events, subscriptions ------------------------------------------ */

static void scenario_triggers(void)
{
	weft_client *c = client();
	weft_error err = { 0 };
	char *out = NULL;
	/* GitHub's scheme carries no time, so a signature computed once (HMAC-SHA256
	 * of the body below with this secret) stays valid. */
	static const char secret[] = "libweft-secret-0123456789";
	static const char body[] = "{\"n\":1}";
	static const char sig[] = "sha256=039c332a1e16e38c809ee03e09937eac3f8578c3d3af108f0c85c741a25c31c4";
	weft_hook_create_request hook = { .name = "gh", .scheme = "github", .secret = secret,
		                          .target = { .queue = queue } };
	int rc = weft_create_hook(c, &hook, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"secret\":\"libweft-secret"), "create hook: %d %s", rc, err.message);
	weft_free(out);
	weft_hook_delivery d = { .body = body, .body_len = strlen(body), .hub_signature_256 = sig,
		                 .delivery_id = "gh-1", .scheme = "github" };
	rc = weft_deliver_hook(c, "gh", &d, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"duplicate\":false"), "deliver: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_deliver_hook(c, "gh", &d, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"duplicate\":true"), "deliver again: %d %s", rc, err.message);
	weft_free(out);
	d.hub_signature_256 = "sha256=00";
	rc = weft_deliver_hook(c, "gh", &d, &out, &err);
	CHECK(rc == WEFT_EAUTH && err.http_status == 401 && out == NULL, "a bad signature: %d", rc);
	rc = weft_get_hook(c, "gh", NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"deliveries\":1") && !strstr(out, "secret"), "get hook: %d %s", rc,
	      err.message);
	weft_free(out);
	rc = weft_rotate_hook_secret(c, "gh", NULL, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "whsec_"), "rotate: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_list_hooks(c, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"gh\""), "list hooks: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_delete_hook(c, "gh", NULL, &out, &err);
	CHECK(rc == 0, "delete hook: %d %s", rc, err.message);
	weft_free(out);

	weft_subscription_create_request sub = { .name = "s", .topic = "orders.*", .target = { .queue = queue } };
	rc = weft_create_subscription(c, &sub, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"match\":\"prefix\""), "subscribe: %d %s", rc, err.message);
	weft_free(out);
	weft_event_publish_request ev = { .topic = "orders.paid", .payload = "{\"order\":1}", .id = "o-1" };
	rc = weft_publish_event(c, &ev, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"subscription\":\"s\""), "publish: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_get_event(c, "o-1", NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"outcome\":\"pending\""), "get event: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_list_events(c, &(weft_event_query){ .topic = "orders.paid" }, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"o-1\""), "list events: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_get_subscription(c, "s", NULL, &out, &err);
	CHECK(rc == 0, "get subscription: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_list_subscriptions(c, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"s\""), "list subscriptions: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_delete_subscription(c, "s", NULL, &out, &err);
	CHECK(rc == 0, "delete subscription: %d %s", rc, err.message);
	weft_free(out);
	weft_error_release(&err);
	weft_client_free(c);
}

/* ---- a schedule ---------------------------------------------------------- */

static void scenario_schedule(void)
{
	weft_client *c = client();
	weft_error err = { 0 };
	char *out = NULL;
	/* once a year: it never fires by itself during the test */
	weft_schedule_create_request req = { .name = queue, .cron = "0 0 1 1 *", .timezone = "Europe/Paris",
	                                     .target = { .queue = queue, .name = "sched-job", .input = "{\"n\":1}" } };
	int rc = weft_create_schedule(c, &req, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"next_fire_at\""), "create: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_create_schedule(c, &req, &out, &err);
	CHECK(rc == WEFT_ECONFLICT && out == NULL, "create twice: %d", rc);
	rc = weft_create_schedule(c, &(weft_schedule_create_request){ .name = "x", .cron = "0 0 1 1 *" }, &out, &err);
	CHECK(rc == WEFT_EINVAL, "no target.queue: %d", rc);

	rc = weft_get_schedule(c, queue, &(weft_schedule_get_query){ .next = 3 }, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"next\""), "get: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_list_schedules(c, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, queue), "list: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_pause_schedule(c, queue, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"paused\":true"), "pause: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_trigger_schedule(c, queue, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"last_job_id\":\""), "trigger: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_resume_schedule(c, queue, NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"paused\":false"), "resume: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_delete_schedule(c, queue, NULL, &out, &err);
	CHECK(rc == 0, "delete: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_get_schedule(c, queue, NULL, &out, &err);
	CHECK(rc == WEFT_ENOTFOUND && out == NULL, "get after delete: %d", rc);

	/* A workflow run each time; skip while the last one is active. */
	weft_backoff backoff = { .initial_ms = 500 };
	weft_schedule_create_request wf = {
		.name = "wf-sched", .cron = "0 0 1 1 *", .overlap = "skip",
		.target = { .kind = "workflow", .type = "nightly", .queue = queue, .backoff = &backoff },
	};
	rc = weft_create_schedule(c, &wf, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"type\":\"nightly\"") && strstr(out, "\"overlap\":\"skip\""),
	      "create workflow target: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_trigger_schedule(c, "wf-sched", NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"last_run_active\":true"), "trigger workflow: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_trigger_schedule(c, "wf-sched", NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"skipped_fires\":1"), "trigger skipped: %d %s", rc, err.message);
	weft_free(out);
	wf.target = (weft_schedule_target){ .kind = "workflow", .queue = queue };
	rc = weft_create_schedule(c, &wf, &out, &err);
	CHECK(rc == WEFT_EINVAL && out == NULL, "no target.type: %d", rc);
	rc = weft_delete_schedule(c, "wf-sched", NULL, &out, &err);
	CHECK(rc == 0, "delete workflow schedule: %d %s", rc, err.message);
	weft_free(out);
	weft_error_release(&err);
	weft_client_free(c);
}

/* ---- a template ---------------------------------------------------------- */

static void scenario_template(void)
{
	/* named after the queue: each build of this test registers its own */
	weft_client *c = client();
	weft_error err = { 0 };
	char *out = NULL;
	weft_run_parent parent = { .ref = "a" };
	weft_run_task_spec steps[] = {
		{ .ref = "a", .queue = queue, .input = "{\"k\":1}" },
		{ .ref = "b", .queue = queue, .parents = &parent, .parents_len = 1 },
	};
	weft_template_create_request req = { .name = queue, .version = "1.0", .steps = steps, .steps_len = 2 };
	int rc = weft_create_template(c, &req, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"body_hash\""), "create: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_create_template(c, &req, &out, &err);
	CHECK(rc == 0, "the same body again: %d %s", rc, err.message);
	weft_free(out);
	req.steps_len = 1;
	rc = weft_create_template(c, &req, &out, &err);
	CHECK(rc == WEFT_ECONFLICT && out == NULL, "another body: %d", rc);
	rc = weft_get_template(c, queue, "1.0", NULL, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"steps\":2"), "get: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_list_templates(c, &(weft_template_query){ .name = queue }, &out, &err);
	CHECK(rc == 0 && strstr(out, queue), "list: %d %s", rc, err.message);
	weft_free(out);
	weft_template_run_request run = { .context = "{\"order\":7}" };
	rc = weft_run_template(c, queue, "1.0", &run, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"created\":true"), "run: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_run_template(c, queue, "1.0", &run, &out, &err);
	CHECK(rc == 0 && strstr(out, "\"created\":false"), "run again: %d %s", rc, err.message);
	weft_free(out);
	rc = weft_run_template(c, queue, "1.0", &(weft_template_run_request){ .context = "{bad" }, &out, &err);
	CHECK(rc == WEFT_EINVAL && out == NULL, "bad context: %d", rc);
	rc = weft_get_template(c, queue, "9", NULL, &out, &err);
	CHECK(rc == WEFT_ENOTFOUND && out == NULL, "unknown version: %d", rc);
	weft_error_release(&err);
	weft_client_free(c);
}

/* ---- a result the server refuses ---------------------------------------- */

/* Input {"big":true}: a result over the API's 1 MiB limit. */
static int big_or_small(const weft_job *job, weft_job_result *res, void *arg)
{
	(void)arg;
	if (!strstr(job->input, "big"))
		return weft_job_result_complete(res, "{\"small\":true}");
	size_t n = (1u << 20) + 1024;
	char *text = malloc(n + 3);
	CHECK(text, "malloc");
	text[0] = '"';
	memset(text + 1, 'x', n);
	text[n + 1] = '"';
	text[n + 2] = '\0';
	int rc = weft_job_result_complete(res, text);
	free(text);
	return rc;
}

static int on_both_done(const weft_job *job, weft_job_result *res, void *arg)
{
	int rc = big_or_small(job, res, arg);
	if (atomic_fetch_add(&handler_calls, 1) == 1)
		weft_worker_stop(the_worker);
	return rc;
}

static void scenario_rejected(void)
{
	weft_client *c = client();
	char *big = enqueue(c, "{\"big\":true}", 3), *small = enqueue(c, "{\"n\":1}", 3);
	the_worker = worker(on_both_done, 0, false);
	weft_error err = { 0 };
	CHECK(weft_worker_run(the_worker, &err) == 0, "run: %s", err.message);
	weft_worker_stats st;
	weft_worker_get_stats(the_worker, &st);
	CHECK(st.completed == 1 && st.failed == 1, "completed %lu failed %lu", (unsigned long)st.completed,
	      (unsigned long)st.failed);
	CHECK(task_has(c, small, "\"small\":true"), "the small result");
	CHECK(task_has(c, big, "\"status\":\"failure\"") && task_has(c, big, "result_rejected"), "the big one failed");
	weft_worker_free(the_worker);
	free(big);
	free(small);
	weft_client_free(c);
}

/* ---- a worker the server refuses ---------------------------------------- */

static int never(const weft_job *job, weft_job_result *res, void *arg)
{
	(void)job;
	(void)res;
	(void)arg;
	CHECK(0, "a job reached a worker without a token");
	return 1;
}

static void scenario_unauthorized(void)
{
	the_worker = worker(never, 0, false);
	weft_error err = { 0 };
	int rc = weft_worker_run(the_worker, &err);
	CHECK(rc == WEFT_EAUTH && err.code == rc && err.http_status == 401 && strcmp(err.server_code, "unauthorized") == 0,
	      "run: %d %ld %s %s", rc, err.http_status, err.server_code, err.message);
	weft_error_release(&err);
	weft_worker_free(the_worker);
}

/* ---- logs ---------------------------------------------------------------- */

/* Writes two lines to its job's log, then completes it. */
static int logging(const weft_job *job, weft_job_result *res, void *arg)
{
	(void)arg;
	CHECK(weft_job_log_line(job, NULL, NULL, "from the handler") == 0, "log line");
	CHECK(weft_job_log_line(job, "stderr", "error", "it went wrong") == 0, "log line 2");
	weft_worker_stop(the_worker);
	return weft_job_result_complete(res, NULL);
}

static void scenario_logs(void)
{
	weft_client *c = client();
	weft_error err = { 0 };
	char *id = enqueue(c, "{\"n\":1}", 1);
	the_worker = worker(logging, 0, false);
	pthread_t t;
	pthread_create(&t, NULL, run_thread, the_worker);
	pthread_join(t, NULL);
	weft_worker_free(the_worker);
	/* Written a cycle after they were accepted: the job's end comes no
	 * earlier, so both are there once it ended. */
	char *out = NULL;
	int rc = weft_list_task_logs(c, id, NULL, &out, &err);
	CHECK(rc == 0, "list logs: %s", err.message);
	CHECK(strstr(out, "\"seq\":1") && strstr(out, "from the handler") && strstr(out, "\"seq\":2") &&
	          strstr(out, "\"level\":\"error\""),
	      "lines: %s", out);
	weft_free(out);
	rc = weft_list_task_logs(c, id, &(weft_task_log_query){ .stream = "stderr" }, &out, &err);
	CHECK(rc == 0 && strstr(out, "it went wrong") && !strstr(out, "from the handler"), "stderr only: %s", out);
	weft_free(out);
	rc = weft_search_logs(c, &(weft_log_search_query){ .task_id = id, .q = "WENT" }, &out, &err);
	CHECK(rc == 0 && strstr(out, "it went wrong"), "search: %s", out);
	weft_free(out);
	/* Followed after its end: the stored lines, then the end. */
	rc = weft_list_task_logs(c, id, &(weft_task_log_query){ .follow = true }, &out, &err);
	CHECK(rc == 0 && strstr(out, "event: line") && strstr(out, "event: end"), "follow: %s", out ? out : "");
	weft_free(out);
	/* The job ended: its lease no longer takes lines. */
	weft_log_line line = { "late", NULL, NULL };
	rc = weft_job_log(c, id, &(weft_job_log_request){ "1", &line, 1 }, NULL, &err);
	CHECK(rc == WEFT_ECONFLICT, "late line: %d", rc);
	weft_error_release(&err);
	free(id);
	weft_client_free(c);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: libweft_client URL SCENARIO\n");
		return 2;
	}
	url = argv[1];
	snprintf(queue, sizeof(queue), "libweft-%s-%d", argv[2], (int)getpid());
	static const struct {
		const char *name;
		void (*fn)(void);
	} scenarios[] = {
		{ "errors", scenario_errors },       { "jobs", scenario_jobs },           { "api", scenario_api },
		{ "retry", scenario_retry },         { "cancel", scenario_cancel },       { "heartbeat", scenario_heartbeat },
		{ "sigterm", scenario_sigterm },     { "server-drain", scenario_server_drain }, { "pause", scenario_pause },
		{ "tokens", scenario_tokens },       { "rejected", scenario_rejected },   { "unauthorized", scenario_unauthorized },
		{ "workflow", scenario_workflow },   { "schedule", scenario_schedule },
		{ "template", scenario_template },   { "triggers", scenario_triggers },
		{ "logs", scenario_logs },
	};
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(argv[2], scenarios[i].name) == 0) {
			scenarios[i].fn();
			printf("ok %s\n", argv[2]);
			return 0;
		}
	}
	fprintf(stderr, "unknown scenario %s\n", argv[2]);
	return 2;
}
