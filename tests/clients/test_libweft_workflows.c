/*
 * test_libweft_workflows.c — libweft's workflow runtime against a real
 * server, one scenario per run (tests/clients/test_libweft_workflows.py
 * starts the server and runs each):
 *
 *   libweft_workflows URL SCENARIO
 *   libweft_workflows URL five-steps QUEUE DIR   (a worker until SIGTERM;
 *                                                  the crash test's)
 *
 * Prints "ok SCENARIO" and exits 0, or names the failed check and exits 1.
 * Only the public API (weft.h) is used.
 */
#define _GNU_SOURCE 1
#include <weft.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
static weft_worker *the_worker;

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

/* Starts a run of type on the queue; its id (owned). */
static char *start(weft_client *c, const char *type, const char *input, int64_t max_attempts)
{
	weft_error err = { 0 };
	char *out = NULL;
	weft_backoff fast = { .initial_ms = 100, .jitter = 0, .jitter_set = true };
	weft_workflow_start_request req = { .type = type, .queue = queue, .input = input,
	                                    .max_attempts = max_attempts, .backoff = &fast };
	int rc = weft_start_workflow(c, &req, NULL, &out, &err);
	CHECK(rc == 0, "start %s: %s", type, err.message);
	const char *p = strstr(out, "\"id\":\"");
	CHECK(p, "no id: %s", out);
	char *id = strndup(p + 6, strcspn(p + 6, "\""));
	weft_free(out);
	return id;
}

/* The run's JSON (owned). */
static char *run_json(weft_client *c, const char *id)
{
	weft_error err = { 0 };
	char *out = NULL;
	int rc = weft_get_workflow(c, id, &out, &err);
	CHECK(rc == 0, "get %s: %s", id, err.message);
	return out;
}

/* Waits up to 20 s for the run's JSON to hold needle; the JSON (owned). */
static char *wait_run(weft_client *c, const char *id, const char *needle)
{
	for (int i = 0; i < 400; i++) {
		char *run = run_json(c, id);
		if (strstr(run, needle))
			return run;
		weft_free(run);
		sleep_ms(50);
	}
	char *run = run_json(c, id);
	CHECK(0, "run %s never showed %s: %s", id, needle, run);
	return NULL;
}

static atomic_int log_lines_nothing_reported;

static void on_log(weft_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (strstr(msg, "nothing is reported"))
		atomic_fetch_add(&log_lines_nothing_reported, 1);
	if (level >= WEFT_LOG_WARN)
		fprintf(stderr, "worker: %s\n", msg);
}

static weft_worker *worker(weft_handler handler, int64_t lease_ms)
{
	static const char *queues[1];
	queues[0] = queue;
	weft_worker_options o = { .url = url, .queues = queues, .queues_len = 1, .handler = handler, .concurrency = 2,
	                          .lease_ms = lease_ms, .claim_wait_ms = 300, .log = on_log };
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

static pthread_t run_in_background(weft_worker *w)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, run_thread, w) == 0, "thread");
	return t;
}

static void stop_and_join(weft_worker *w, pthread_t t, weft_worker_stats *st)
{
	weft_worker_stop(w);
	pthread_join(t, NULL);
	weft_worker_get_stats(w, st);
}

/* ---- registration -------------------------------------------------------- */

static int nothing(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)wf;
	(void)res;
	(void)arg;
	return 0;
}

static void scenario_register(void)
{
	weft_worker *w = worker(NULL, 0);
	weft_error err = { 0 };
	/* no handler and no workflow: nothing to run */
	CHECK(weft_worker_run(w, &err) == WEFT_EINVAL && strstr(err.message, "handler is required"), "%s",
	      err.message);
	weft_worker_free(w);

	w = worker(NULL, 0);
	char long_type[300];
	memset(long_type, 't', sizeof(long_type) - 1);
	long_type[sizeof(long_type) - 1] = '\0';
	CHECK(weft_worker_workflow(NULL, "a", nothing, NULL) == WEFT_EINVAL, "no worker");
	CHECK(weft_worker_workflow(w, NULL, nothing, NULL) == WEFT_EINVAL, "no type");
	CHECK(weft_worker_workflow(w, "", nothing, NULL) == WEFT_EINVAL, "empty type");
	CHECK(weft_worker_workflow(w, long_type, nothing, NULL) == WEFT_EINVAL, "a type over 255 bytes");
	CHECK(weft_worker_workflow(w, "a", NULL, NULL) == WEFT_EINVAL, "no function");
	CHECK(weft_worker_workflow(w, "a", nothing, NULL) == 0, "a");
	CHECK(weft_worker_workflow(w, "a", nothing, NULL) == WEFT_EINVAL, "a twice");
	long_type[255] = '\0';
	CHECK(weft_worker_workflow(w, long_type, nothing, NULL) == 0, "a type of 255 bytes");
	weft_worker_free(w);

	CHECK(weft_wf_job(NULL) == NULL, "no context");
	char *out = (char *)"x";
	CHECK(weft_step(NULL, "a", nothing, NULL, &out) == WEFT_EINVAL && out == NULL, "step without a context");
	CHECK(weft_sleep(NULL, "a", 1) == WEFT_EINVAL, "sleep without a context");
	CHECK(weft_wait_signal(NULL, "a", 0, NULL) == WEFT_EINVAL, "wait without a context");
	CHECK(strstr(weft_strerror(WEFT_SUSPENDED), "suspended") && strstr(weft_strerror(WEFT_ENDED), "over") &&
	          strstr(weft_strerror(WEFT_STEP_FAILED), "failed") && strstr(weft_strerror(WEFT_TIMED_OUT), "signal"),
	      "the codes are named");
}

/* ---- steps, a sleep, signals --------------------------------------------- */

static atomic_int a_runs, item_runs, flow_calls;

static int step_a(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)arg;
	atomic_fetch_add(&a_runs, 1);
	CHECK(strcmp(weft_wf_job(wf)->name, "flow") == 0, "the job is the run's");
	return weft_job_result_complete(res, "{\"a\":1}");
}

static int step_item(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)wf;
	atomic_fetch_add(&item_runs, 1);
	char out[32];
	snprintf(out, sizeof(out), "%d", *(const int *)arg * 10);
	return weft_job_result_complete(res, out);
}

static int step_null(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)wf;
	(void)res;
	(void)arg;
	return 0;   /* no result: completed with null */
}

static int flow(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)arg;
	atomic_fetch_add(&flow_calls, 1);
	char *a = NULL, *payload = NULL, *none = NULL;
	int rc, sum = 0;
	/* bad arguments: nothing is sent, the run goes on */
	CHECK(weft_step(wf, "", step_a, NULL, &a) == WEFT_EINVAL && a == NULL, "a step without a name");
	CHECK(weft_step(wf, "a", NULL, NULL, NULL) == WEFT_EINVAL, "a step without a function");
	CHECK(weft_sleep(wf, "nap", -1) == WEFT_EINVAL, "a negative sleep");
	CHECK(weft_wait_signal(wf, "go", -1, NULL) == WEFT_EINVAL, "a negative timeout");
	if ((rc = weft_step(wf, "a", step_a, NULL, &a)) != 0)
		return rc;
	CHECK(strcmp(a, "{\"a\":1}") == 0, "a's output: %s", a);
	weft_free(a);
	for (int i = 1; i <= 3; i++) {
		char *out = NULL;
		if ((rc = weft_step(wf, "item", step_item, &i, &out)) != 0)
			return rc;
		sum += atoi(out);
		weft_free(out);
	}
	if ((rc = weft_step(wf, "null", step_null, NULL, &none)) != 0)
		return rc;
	CHECK(strcmp(none, "null") == 0, "null's output: %s", none);
	weft_free(none);
	if ((rc = weft_sleep(wf, "nap", 100)) != 0)
		return rc;
	if ((rc = weft_wait_signal(wf, "go", 0, &payload)) != 0)
		return rc;
	rc = weft_wait_signal(wf, "never", 100, NULL);
	if (rc != WEFT_TIMED_OUT) {
		weft_free(payload);
		return rc;
	}
	char output[256];
	snprintf(output, sizeof(output), "{\"sum\":%d,\"payload\":%s}", sum, payload);
	weft_free(payload);
	return weft_job_result_complete(res, output);
}

static void scenario_steps(void)
{
	weft_client *c = client();
	weft_error err = { 0 };
	the_worker = worker(NULL, 0);
	CHECK(weft_worker_workflow(the_worker, "flow", flow, NULL) == 0, "register");
	char *id = start(c, "flow", "{\"n\":1}", 3);
	pthread_t t = run_in_background(the_worker);

	/* past the sleep, waiting for "go" */
	weft_free(wait_run(c, id, "\"signal\":\"go\""));
	CHECK(a_runs == 1 && item_runs == 3, "the steps ran once: a %d items %d", a_runs, item_runs);
	char *out = NULL;
	int rc = weft_signal_workflow(c, id, &(weft_workflow_signal_request){ .name = "go", .payload = "{\"x\":7}" },
	                              NULL, &out, &err);
	CHECK(rc == 0, "signal: %s", err.message);
	weft_free(out);

	char *run = wait_run(c, id, "\"status\":\"completed\"");
	CHECK(strstr(run, "\"output\":{\"sum\":60,\"payload\":{\"x\":7}}"), "output: %s", run);
	/* the first call, after the sleep, after the signal, after the wait's timeout */
	CHECK(strstr(run, "\"replays\":4") && flow_calls == 4, "replays: %d %s", flow_calls, run);
	weft_free(run);
	CHECK(a_runs == 1 && item_runs == 3, "memoized on every replay: a %d items %d", a_runs, item_runs);
	weft_worker_stats st;
	stop_and_join(the_worker, t, &st);
	CHECK(st.claimed == 4 && st.completed == 1 && st.failed == 0 && st.lost == 0, "stats: claimed %lu completed %lu "
	      "failed %lu lost %lu", (unsigned long)st.claimed, (unsigned long)st.completed, (unsigned long)st.failed,
	      (unsigned long)st.lost);
	weft_worker_free(the_worker);
	free(id);
	weft_error_release(&err);
	weft_client_free(c);
}

/* ---- a step that fails for good -------------------------------------------- */

static atomic_int refunds;

static int declined(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)wf;
	(void)arg;
	return weft_job_result_fail(res, "card_declined", "the card was declined", false);
}

static int flaky_forever(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)wf;
	(void)res;
	(void)arg;
	return 1;   /* no result: retryable, "step_error" */
}

static int refund(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)wf;
	(void)arg;
	atomic_fetch_add(&refunds, 1);
	return weft_job_result_complete(res, "\"refunded\"");
}

/* Returns the failure: the run fails with the step's error. */
static int gives_up(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)res;
	(void)arg;
	return weft_step(wf, "charge", declined, NULL, NULL);
}

/* Compensates: the run completes. Its step's retries run out (a run of
 * max_attempts 2: one retry). */
static int compensates(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)arg;
	int rc = weft_step(wf, "charge", flaky_forever, NULL, NULL);
	if (rc != WEFT_STEP_FAILED)
		return rc;
	char *r = NULL;
	if ((rc = weft_step(wf, "refund", refund, NULL, &r)) != 0)
		return rc;
	weft_free(r);
	return weft_job_result_complete(res, "{\"compensated\":true}");
}

static void scenario_failed(void)
{
	weft_client *c = client();
	the_worker = worker(NULL, 0);
	CHECK(weft_worker_workflow(the_worker, "gives-up", gives_up, NULL) == 0, "register");
	CHECK(weft_worker_workflow(the_worker, "compensates", compensates, NULL) == 0, "register");
	char *a = start(c, "gives-up", NULL, 3), *b = start(c, "compensates", NULL, 2);
	pthread_t t = run_in_background(the_worker);
	char *run = wait_run(c, a, "\"status\":\"failed\"");
	CHECK(strstr(run, "\"code\":\"step_failed\"") && strstr(run, "step charge failed: card_declined"), "a: %s", run);
	weft_free(run);
	run = wait_run(c, b, "\"status\":\"completed\"");
	CHECK(strstr(run, "\"compensated\":true") && refunds == 1, "b: %d %s", refunds, run);
	weft_free(run);
	weft_worker_stats st;
	stop_and_join(the_worker, t, &st);
	CHECK(st.completed == 1 && st.failed == 1, "stats: completed %lu failed %lu", (unsigned long)st.completed,
	      (unsigned long)st.failed);
	/* the failed run was not retried: its job failed for good */
	char *job = NULL;
	weft_error err = { 0 };
	CHECK(weft_get_task(c, a, &job, &err) == 0 && strstr(job, "\"attempt\":1") && strstr(job, "\"failure\""),
	      "job: %s", job ? job : err.message);
	weft_free(job);
	weft_worker_free(the_worker);
	free(a);
	free(b);
	weft_client_free(c);
}

/* ---- a run failed by its function, retried by its policy ------------------- */

static atomic_int once_runs;

static int once(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)wf;
	(void)arg;
	atomic_fetch_add(&once_runs, 1);
	return weft_job_result_complete(res, "1");
}

/* Fails its first attempt (retryable); the replay completes. */
static int fails_once(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)arg;
	int rc = weft_step(wf, "once", once, NULL, NULL);
	if (rc != 0)
		return rc;
	if (weft_wf_job(wf)->attempt == 1)
		return weft_job_result_fail(res, "flaky_run", "the first attempt fails", true);
	return weft_job_result_complete(res, "{\"attempt\":2}");
}

static void scenario_run_retry(void)
{
	weft_client *c = client();
	the_worker = worker(NULL, 0);
	CHECK(weft_worker_workflow(the_worker, "fails-once", fails_once, NULL) == 0, "register");
	char *id = start(c, "fails-once", NULL, 3);
	pthread_t t = run_in_background(the_worker);
	char *run = wait_run(c, id, "\"status\":\"completed\"");
	CHECK(strstr(run, "\"output\":{\"attempt\":2}") && once_runs == 1, "%d %s", once_runs, run);
	weft_free(run);
	weft_worker_stats st;
	stop_and_join(the_worker, t, &st);
	CHECK(st.failed == 1 && st.completed == 1 && st.claimed == 2, "failed %lu completed %lu claimed %lu",
	      (unsigned long)st.failed, (unsigned long)st.completed, (unsigned long)st.claimed);
	weft_worker_free(the_worker);
	free(id);
	weft_client_free(c);
}

/* ---- a cancel while a step runs ------------------------------------------ */

static atomic_int in_step, step_saw_cancel, after_cancel_rc;

static int until_canceled(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)arg;
	atomic_store(&in_step, 1);
	for (int i = 0; i < 200 && !weft_job_canceled(weft_wf_job(wf)); i++)
		sleep_ms(50);
	atomic_store(&step_saw_cancel, weft_job_canceled(weft_wf_job(wf)));
	return weft_job_result_complete(res, "\"too late\"");
}

static int cancelable(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)res;
	(void)arg;
	int rc = weft_step(wf, "long", until_canceled, NULL, NULL);
	atomic_store(&after_cancel_rc, rc);
	if (rc == WEFT_ENDED)   /* every later call says so too */
		CHECK(weft_sleep(wf, "later", 1) == WEFT_ENDED, "a call after the end");
	return rc;
}

static void scenario_cancel(void)
{
	weft_client *c = client();
	weft_error err = { 0 };
	the_worker = worker(NULL, 1000);
	CHECK(weft_worker_workflow(the_worker, "cancelable", cancelable, NULL) == 0, "register");
	char *id = start(c, "cancelable", NULL, 3);
	pthread_t t = run_in_background(the_worker);
	while (!atomic_load(&in_step))
		sleep_ms(10);
	char *out = NULL;
	CHECK(weft_cancel_workflow(c, id, &(weft_operator_request){ .reason = "test" }, NULL, &out, &err) == 0, "%s",
	      err.message);
	weft_free(out);
	for (int i = 0; i < 200 && atomic_load(&after_cancel_rc) == 0; i++)
		sleep_ms(50);
	CHECK(after_cancel_rc == WEFT_ENDED && step_saw_cancel, "the step call answered %d (saw the cancel: %d)",
	      after_cancel_rc, step_saw_cancel);
	weft_worker_stats st;
	stop_and_join(the_worker, t, &st);
	CHECK(st.lost == 1 && st.completed == 0 && st.failed == 0, "stats: lost %lu completed %lu failed %lu",
	      (unsigned long)st.lost, (unsigned long)st.completed, (unsigned long)st.failed);
	char *run = run_json(c, id);
	CHECK(strstr(run, "\"status\":\"canceled\""), "%s", run);
	weft_free(run);
	weft_worker_free(the_worker);
	free(id);
	weft_error_release(&err);
	weft_client_free(c);
}

/* ---- a step longer than the lease ----------------------------------------- */

static int slow_step(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)arg;
	for (int i = 0; i < 25 && !weft_job_canceled(weft_wf_job(wf)); i++)
		sleep_ms(100);
	return weft_job_result_complete(res, weft_job_canceled(weft_wf_job(wf)) ? "\"lost\"" : "\"kept\"");
}

static int slow_flow(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)arg;
	char *out = NULL;
	int rc = weft_step(wf, "slow", slow_step, NULL, &out);
	if (rc == 0)
		rc = weft_job_result_complete(res, out);
	weft_free(out);
	return rc;
}

/* A step of 2.5 s under a 1 s lease: the heartbeats keep it. */
static void scenario_heartbeat(void)
{
	weft_client *c = client();
	the_worker = worker(NULL, 1000);
	CHECK(weft_worker_workflow(the_worker, "slow", slow_flow, NULL) == 0, "register");
	char *id = start(c, "slow", NULL, 3);
	pthread_t t = run_in_background(the_worker);
	char *run = wait_run(c, id, "\"status\":\"completed\"");
	CHECK(strstr(run, "\"output\":\"kept\"") && strstr(run, "\"replays\":1"), "%s", run);
	weft_free(run);
	weft_worker_stats st;
	stop_and_join(the_worker, t, &st);
	CHECK(st.completed == 1 && st.lost == 0 && st.heartbeat_requests >= 3, "completed %lu lost %lu heartbeats %lu",
	      (unsigned long)st.completed, (unsigned long)st.lost, (unsigned long)st.heartbeat_requests);
	weft_worker_free(the_worker);
	free(id);
	weft_client_free(c);
}

/* ---- a function that swallows its suspension ------------------------------ */

static atomic_int swallow_calls;

static int swallows(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)arg;
	atomic_fetch_add(&swallow_calls, 1);
	int rc = weft_sleep(wf, "nap", 100);
	if (rc == WEFT_SUSPENDED) {
		CHECK(weft_sleep(wf, "again", 1) == WEFT_SUSPENDED, "a call after the suspension");
		return weft_job_result_complete(res, "{\"swallowed\":true}");   /* not sent */
	}
	return rc ? rc : weft_job_result_complete(res, "{\"replayed\":true}");
}

static void scenario_swallow(void)
{
	weft_client *c = client();
	the_worker = worker(NULL, 0);
	CHECK(weft_worker_workflow(the_worker, "swallows", swallows, NULL) == 0, "register");
	char *id = start(c, "swallows", NULL, 3);
	pthread_t t = run_in_background(the_worker);
	char *run = wait_run(c, id, "\"status\":\"completed\"");
	CHECK(strstr(run, "\"replayed\":true") && swallow_calls == 2, "%d %s", swallow_calls, run);
	weft_free(run);
	weft_worker_stats st;
	stop_and_join(the_worker, t, &st);
	CHECK(log_lines_nothing_reported == 1 && st.completed == 1 && st.lost == 0, "warned %d, completed %lu",
	      log_lines_nothing_reported, (unsigned long)st.completed);
	weft_worker_free(the_worker);
	free(id);
	weft_client_free(c);
}

/* ---- a type no function runs ------------------------------------------------- */

static void scenario_unknown(void)
{
	weft_client *c = client();
	the_worker = worker(NULL, 0);
	CHECK(weft_worker_workflow(the_worker, "known", nothing, NULL) == 0, "register");
	char *id = start(c, "other", NULL, 1);
	/* a plain job named as a workflow type: no run has its id */
	weft_error err = { 0 };
	weft_job_spec spec = { .queue = queue, .name = "known", .max_attempts = 1 };
	weft_enqueue_result *er = NULL;
	CHECK(weft_enqueue_jobs(c, &(weft_enqueue_request){ .jobs = &spec, .jobs_len = 1 }, NULL, &er, &err) == 0,
	      "enqueue: %s", err.message);
	char *plain = strdup(er->jobs[0].id);
	weft_enqueue_result_free(er);
	pthread_t t = run_in_background(the_worker);
	weft_free(wait_run(c, id, "\"status\":\"failed\""));
	/* the run's job failed with the reason */
	char *job = NULL;
	CHECK(weft_get_task(c, id, &job, &err) == 0 && strstr(job, "unknown_workflow_type") && strstr(job, "type other"),
	      "%s", job ? job : err.message);
	weft_free(job);
	for (int i = 0; i < 400; i++) {
		CHECK(weft_get_task(c, plain, &job, &err) == 0, "%s", err.message);
		if (strstr(job, "\"status\":\"failure\""))
			break;
		weft_free(job);
		job = NULL;
		sleep_ms(50);
	}
	CHECK(job && strstr(job, "not_a_workflow"), "the plain job: %s", job ? job : "not failed");
	weft_free(job);
	free(plain);
	weft_worker_stats st;
	stop_and_join(the_worker, t, &st);
	CHECK(st.failed == 2, "failed %lu", (unsigned long)st.failed);
	weft_worker_free(the_worker);
	free(id);
	weft_client_free(c);
}

/* ---- the crash test's worker ------------------------------------------------ */

static const char *crash_dir;

/* Appends "step N" to DIR/log; the first time step 3 runs while DIR/block
 * exists, it says so (DIR/in-step-3) and waits to be killed. */
static int numbered(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)wf;
	int n = *(const int *)arg;
	char path[4096], line[32];
	snprintf(path, sizeof(path), "%s/log", crash_dir);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	CHECK(fd >= 0, "%s: %s", path, strerror(errno));
	int len = snprintf(line, sizeof(line), "step %d\n", n);
	CHECK(write(fd, line, (size_t)len) == len, "write");
	close(fd);
	snprintf(path, sizeof(path), "%s/block", crash_dir);
	if (n == 3 && access(path, F_OK) == 0) {
		snprintf(path, sizeof(path), "%s/in-step-3", crash_dir);
		close(open(path, O_WRONLY | O_CREAT, 0644));
		for (;;)
			sleep_ms(1000);
	}
	snprintf(line, sizeof(line), "%d", n * n);
	return weft_job_result_complete(res, line);
}

static int five_steps(weft_wf *wf, weft_job_result *res, void *arg)
{
	(void)arg;
	int rc, sum = 0;
	for (int i = 1; i <= 5; i++) {
		char name[32], *out = NULL;
		snprintf(name, sizeof(name), "step-%d", i);
		if ((rc = weft_step(wf, name, numbered, &i, &out)) != 0)
			return rc;
		sum += atoi(out);
		weft_free(out);
	}
	char output[64];
	snprintf(output, sizeof(output), "{\"sum\":%d}", sum);
	return weft_job_result_complete(res, output);
}

static int five_steps_worker(const char *q, const char *dir)
{
	crash_dir = dir;
	snprintf(queue, sizeof(queue), "%s", q);
	const char *queues[] = { queue };
	weft_worker_options o = { .url = url, .queues = queues, .queues_len = 1, .lease_ms = 1000,
	                          .claim_wait_ms = 300, .install_signal_handlers = true };
	weft_error err = { 0 };
	weft_worker *w = weft_worker_new(&o, &err);
	CHECK(w && weft_worker_workflow(w, "five", five_steps, NULL) == 0, "worker: %s", err.message);
	int rc = weft_worker_run(w, &err);
	CHECK(rc == 0, "run: %s", err.message);
	weft_worker_free(w);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[2], "five-steps") == 0) {
		url = argv[1];
		return five_steps_worker(argv[3], argv[4]);
	}
	if (argc != 3) {
		fprintf(stderr, "usage: libweft_workflows URL SCENARIO | URL five-steps QUEUE DIR\n");
		return 2;
	}
	url = argv[1];
	snprintf(queue, sizeof(queue), "libweft-wf-%s-%d", argv[2], (int)getpid());
	static const struct {
		const char *name;
		void (*fn)(void);
	} scenarios[] = {
		{ "register", scenario_register }, { "steps", scenario_steps },     { "failed", scenario_failed },
		{ "cancel", scenario_cancel },     { "swallow", scenario_swallow }, { "unknown", scenario_unknown },
		{ "heartbeat", scenario_heartbeat }, { "run-retry", scenario_run_retry },
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
