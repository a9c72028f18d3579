/*
 * exec.c — `weft bench exec`: exec tasks started per second.
 *
 * The node runs with --allow-exec (WEFT_ALLOW_EXEC=1) and EXEC_CONCURRENCY
 * = --concurrency (default 8). --tasks exec tasks running /bin/true are
 * submitted as runs of up to 1,000 (POST /v1/runs), and the clock stops
 * when every run has ended: exec_tasks_per_s. The same number of queue
 * tasks is then run by `weft worker --concurrency <same> -- /bin/true`
 * against the same node, for comparison (worker_jobs_per_s): the same
 * children, started by a client process over HTTP instead of by the
 * server.
 */
#include "cli/bench/bench_impl.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define RUN_MAX_TASKS 1000
#define POLL_US (20 * 1000)

/* The bodies of the runs: n tasks in runs of RUN_MAX_TASKS. */
static size_t run_bodies(long n, bool exec, buf **out)
{
	size_t nruns = (size_t)((n + RUN_MAX_TASKS - 1) / RUN_MAX_TASKS);
	buf *bodies = xcalloc(nruns ? nruns : 1, sizeof *bodies);
	for (size_t r = 0; r < nruns; r++) {
		buf_init(&bodies[r]);
		buf_puts(&bodies[r], "{\"tasks\":[");
		long first = (long)r * RUN_MAX_TASKS, last = MIN(n, first + RUN_MAX_TASKS);
		for (long i = first; i < last; i++) {
			if (exec)
				buf_printf(&bodies[r], "%s{\"ref\":\"t%ld\",\"executor\":\"exec\",\"exec\":{\"argv\":[\"/bin/true\"]}}",
				           i > first ? "," : "", i);
			else
				buf_printf(&bodies[r], "%s{\"ref\":\"t%ld\",\"queue\":\"bench-true\"}", i > first ? "," : "", i);
		}
		buf_puts(&bodies[r], "]}");
	}
	*out = bodies;
	return nruns;
}

/* Submits the runs and waits until each has ended with success; the time
 * from the first POST to the last end, or -1 logged. */
static int64_t run_all(bench *b, http_client *h, long n, bool exec)
{
	buf *bodies = NULL;
	size_t nruns = run_bodies(n, exec, &bodies);
	char (*ids)[64] = xcalloc(nruns ? nruns : 1, sizeof *ids);
	http_response r;
	http_response_init(&r);
	int64_t t0 = clock_mono_us(), took = -1;
	for (size_t k = 0; k < nruns; k++) {
		if (bench_queue_post(b, h, "/v1/runs", bodies[k].data, bodies[k].len, 201, &r) != 0)
			goto out;
		json_t *v = bench_queue_answer(b, &r, "POST /v1/runs");
		if (!v)
			goto out;
		snprintf(ids[k], sizeof ids[k], "%s", json_string_value(json_object_get(v, "id")) ?: "");
		json_decref(v);
	}
	for (size_t k = 0; k < nruns; k++) {
		char path[128];
		snprintf(path, sizeof path, "/v1/runs/%s", ids[k]);
		for (;;) {
			if (http_client_request(h, "GET", path, NULL, 0, NULL, &r) != 0 || r.status != 200) {
				bench_queue_fail(b, "GET %s: %s", path, r.error[0] ? r.error : "not 200");
				goto out;
			}
			json_t *v = bench_queue_answer(b, &r, "GET /v1/runs/{id}");
			if (!v)
				goto out;
			char status[32];
			snprintf(status, sizeof status, "%s", json_string_value(json_object_get(v, "status")) ?: "");
			json_decref(v);
			if (strcmp(status, "success") == 0)
				break;
			if (strcmp(status, "active") != 0) {
				bench_queue_fail(b, "run %s ended %s: every /bin/true should succeed", ids[k], status);
				goto out;
			}
			if (clock_mono_us() - t0 > BENCH_DEADLINE_US * 10) {
				bench_queue_fail(b, "run %s has not ended after %lld s", ids[k],
				                 (long long)(BENCH_DEADLINE_US * 10 / 1000000));
				goto out;
			}
			bench_sleep_us(POLL_US);
		}
	}
	took = clock_mono_us() - t0;
out:
	http_response_release(&r);
	for (size_t k = 0; k < nruns; k++)
		buf_release(&bodies[k]);
	free(bodies);
	free(ids);
	return took;
}

/* `weft worker --queue bench-true --concurrency N --url BASE -- /bin/true`. */
static pid_t start_worker(bench *b)
{
	char conc[32];
	snprintf(conc, sizeof conc, "%ld", b->opt.concurrency);
	char *logpath = xasprintf("%s/worker.log", b->tmpdir);
	pid_t pid = fork();
	if (pid == 0) {
		FILE *f = freopen(logpath, "a", stdout);
		(void)f;
		dup2(1, 2);
		execl(b->server, b->server, "worker", "--queue", "bench-true", "--concurrency", conc, "--claim-wait",
		      "1s", "--url", b->nodes[0].base, "--", "/bin/true", (char *)NULL);
		_exit(127);
	}
	free(logpath);
	return pid;
}

int bench_exec(bench *b)
{
	http_client **h = bench_queue_connect(b);
	if (!h)
		return -1;
	int rc = -1;
	long n = b->opt.tasks;
	bench_stmts before, after;
	bench_stmts_read(b, &before);
	int64_t took = run_all(b, h[0], n, true);
	bench_stmts_read(b, &after);
	if (took >= 0)
		bench_stmts_report(b, "exec", "exec tasks", &before, &after, n, 8);
	bench_stmts_release(&before);
	bench_stmts_release(&after);
	if (took < 0)
		goto out;
	double exec_rate = bench_rate((double)n, took);
	bench_figure(b, "exec_tasks_per_s", "exec tasks of /bin/true, submit to ended", exec_rate, 0, "tasks/s");
	pid_t worker = start_worker(b);
	if (worker < 0) {
		bench_queue_fail(b, "cannot start weft worker");
		goto out;
	}
	took = run_all(b, h[0], n, false);
	kill(worker, SIGTERM);
	waitpid(worker, NULL, 0);
	if (took < 0)
		goto out;
	double worker_rate = bench_rate((double)n, took);
	bench_figure(b, "worker_jobs_per_s", "weft worker -- /bin/true jobs, submit to ended", worker_rate, 0,
	             "jobs/s");
	bench_figure(b, "exec_vs_worker", "exec tasks per weft worker job", worker_rate > 0 ? exec_rate / worker_rate : 0,
	             2, "x");
	rc = 0;
out:
	bench_queue_disconnect(b, h);
	return rc;
}
