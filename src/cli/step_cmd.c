/*
 * step_cmd.c — `weft step`, `weft sleep` and `weft wait-signal`: durable
 * workflow calls from a shell script that `weft worker` runs for a
 * workflow run's job.
 *
 * Each call is a separate process: it finds the run (WEFT_JOB_ID, the run's
 * job id is the run id) and the attempt (WEFT_LEASE_TOKEN) in the
 * environment `weft worker` gives, and the server maps the n-th call of a
 * name to the same memo row on every replay. A call that suspends the run
 * exits CLI_EXIT_SUSPENDED so that a `set -e` script stops there; the
 * worker then reports nothing, and the server replays the job from the top
 * when it is due.
 */
#include "cli/cli.h"
#include "cli/client_opts.h"
#include "exec/proc.h"
#include "util/alloc.h"
#include "util/buf.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#define STEP_NAME_MAX 255
#define STEP_TIMEOUT_MS 60000
/* `weft wait-signal`: the wait's timeout passed first (as timeout(1)). */
#define WAIT_EXIT_TIMED_OUT 124

static const char ENV_HELP[] =
	"Runs only inside a job of a workflow run started by `weft worker`: it reads\n"
	"WEFT_JOB_ID (the run), WEFT_LEASE_TOKEN (the attempt), and WEFT_URL,\n"
	"WEFT_TOKEN and WEFT_NAMESPACE (the worker's server). Outside one it refuses\n"
	"(exit 2) rather than run anything without its memo.\n";

typedef struct wf_ctx {
	const char *prog;
	const char *run_id;
	const char *lease;
	cli_client_opts opts;
	http_client *c;
} wf_ctx;

static int ctx_open(wf_ctx *x, const char *prog)
{
	x->prog = prog;
	x->run_id = getenv("WEFT_JOB_ID");
	x->lease = getenv("WEFT_LEASE_TOKEN");
	if (!x->run_id || !*x->run_id || !x->lease || !*x->lease) {
		fprintf(stderr, "%s: not inside a workflow job: WEFT_JOB_ID and WEFT_LEASE_TOKEN are not set "
		                "(run the script with `weft worker`)\n", prog);
		return CLI_EXIT_USAGE;
	}
	cli_client_opts_init(&x->opts);
	x->c = cli_client_new(prog, &x->opts, STEP_TIMEOUT_MS);
	return x->c ? 0 : CLI_EXIT_USAGE;
}

/* POSTs body (consumed) to /v1/workflows/{run}/<what>: 0 and *answer, or
 * an exit code with the message printed. */
static int call(wf_ctx *x, const char *what, json_t *body, json_t **answer)
{
	json_object_set_new(body, "lease_token", json_string(x->lease));
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	char *path = xasprintf("/v1/workflows/%s/%s", x->run_id, what);
	char err[1024];
	int rc = cli_post(x->c, &x->opts, path, text, strlen(text), answer, NULL, err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s: %s\n", x->prog, err);
	free(path);
	free(text);
	return rc;
}

static bool suspended(const json_t *answer)
{
	return json_is_true(json_object_get(answer, "suspended"));
}

static void print_output(const json_t *out)
{
	if (json_is_string(out))
		puts(json_string_value(out));   /* as CMD printed it, but for its last newline */
	else if (out && !json_is_null(out)) {
		char *s = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
		puts(s);
		free(s);
	}
	fflush(stdout);
}

/* Runs argv with stdin and stderr inherited, its stdout kept (up to
 * PROC_OUTPUT_MAX) and copied to ours. Its exit code (128+N for signal
 * N), or -1 when it could not start (message printed). *too_big when it
 * printed more than the step output limit. */
static int run_cmd(const char *prog, char **argv, buf *out, bool *too_big)
{
	char err[256];
	char *path = proc_resolve(argv[0], err, sizeof(err));
	if (!path) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return -1;
	}
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {   /* dup2 gives the child a stdout without it */
		fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
		free(path);
		return -1;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		free(path);
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(path, argv);
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		_exit(127);
	}
	free(path);
	close(fds[1]);
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (fwrite(chunk, 1, (size_t)n, stdout) != (size_t)n) {
			/* our stdout is gone: keep reading so the child is not blocked */
		}
		size_t room = PROC_OUTPUT_MAX - MIN(out->len, PROC_OUTPUT_MAX);
		if ((size_t)n > room)
			*too_big = true;
		buf_append(out, chunk, MIN((size_t)n, room));
	}
	fflush(stdout);
	close(fds[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void step_usage(FILE *f)
{
	fprintf(f,
	        "usage: weft step NAME -- CMD [ARGS...]\n"
	        "\n"
	        "A memoized step of the workflow run whose job runs this script. When step\n"
	        "NAME has completed before (an earlier attempt), prints its stored output and\n"
	        "exits 0 without running CMD. Otherwise runs CMD (stdin and stderr pass\n"
	        "through; stdout is printed and kept, up to 1 MiB) and records it: exit 0\n"
	        "completes the step with CMD's stdout as output (JSON if it parses, else a\n"
	        "string); exit N fails the step, and `weft step` exits N (1 for N = %d).\n"
	        "When the failure will be retried later, or the step waits for its retry\n"
	        "backoff, the run is suspended and `weft step` exits %d: under `set -e` the\n"
	        "script stops, and the job is replayed from the top when it is due.\n"
	        "\n%s",
	        CLI_EXIT_SUSPENDED, CLI_EXIT_SUSPENDED, ENV_HELP);
}

int step_main(int argc, char **argv)
{
	const char *prog = "weft step";
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		step_usage(stdout);
		return 0;
	}
	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		step_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!*name || strlen(name) > STEP_NAME_MAX) {
		fprintf(stderr, "%s: NAME needs 1 to %d bytes\n", prog, STEP_NAME_MAX);
		return CLI_EXIT_USAGE;
	}
	wf_ctx x;
	int rc = ctx_open(&x, prog);
	if (rc)
		return rc;
	json_t *a = NULL;
	rc = call(&x, "steps/begin", json_pack("{s:s}", "name", name), &a);
	if (rc)
		goto out;
	const json_t *step = json_object_get(a, "step");
	if (json_is_true(json_object_get(a, "memoized"))) {
		print_output(json_object_get(step, "output"));
		goto out;
	}
	if (suspended(a)) {
		fprintf(stderr, "%s: step %s waits for its retry: the run is suspended\n", prog, name);
		rc = CLI_EXIT_SUSPENDED;
		goto out;
	}
	json_int_t seq = json_integer_value(json_object_get(step, "seq"));
	buf out;
	buf_init(&out);
	bool too_big = false;
	int code = run_cmd(prog, argv + 3, &out, &too_big);
	json_decref(a);
	a = NULL;
	if (code == 0 && !too_big) {
		json_t *output = proc_result_of(out.data, out.len);
		rc = call(&x, "steps/complete", json_pack("{s:s,s:I,s:o}", "name", name, "seq", seq, "output", output), &a);
	} else {
		char ecode[32], msg[128];
		if (too_big) {
			snprintf(ecode, sizeof(ecode), "result_too_large");
			snprintf(msg, sizeof(msg), "step output above %zu bytes", PROC_OUTPUT_MAX);
		} else {
			snprintf(ecode, sizeof(ecode), code < 0 ? "exec_failed" : "exit_%d", code);
			snprintf(msg, sizeof(msg), "step %.60s: command exited with status %d", name, code);
		}
		rc = call(&x, "steps/fail",
		          json_pack("{s:s,s:I,s:{s:s,s:s},s:b}", "name", name, "seq", seq, "error", "code", ecode, "message",
		                    msg, "retryable", !too_big),
		          &a);
		if (rc == 0)
			/* CMD's own 75 must not read as a suspension to the worker. */
			rc = suspended(a) ? CLI_EXIT_SUSPENDED : (code > 0 && code != CLI_EXIT_SUSPENDED ? code : 1);
	}
	buf_release(&out);
out:
	json_decref(a);
	http_client_free(x.c);
	return rc;
}

static void sleep_usage(FILE *f)
{
	fprintf(f,
	        "usage: weft sleep NAME DURATION\n"
	        "\n"
	        "A durable sleep of the workflow run whose job runs this script (DURATION:\n"
	        "300ms, 5s, 2m, 2h, 3d). When the sleep NAME is already over (a replay after\n"
	        "it), exits 0 at once. Otherwise the run is suspended until it is due and\n"
	        "`weft sleep` exits %d: under `set -e` the script stops, and the job is\n"
	        "replayed from the top when the sleep is over.\n"
	        "\n%s",
	        CLI_EXIT_SUSPENDED, ENV_HELP);
}

int sleep_main(int argc, char **argv)
{
	const char *prog = "weft sleep";
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		sleep_usage(stdout);
		return 0;
	}
	if (argc != 3) {
		sleep_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!*name || strlen(name) > STEP_NAME_MAX) {
		fprintf(stderr, "%s: NAME needs 1 to %d bytes\n", prog, STEP_NAME_MAX);
		return CLI_EXIT_USAGE;
	}
	int64_t us;
	if (cli_parse_duration(prog, "DURATION", argv[2], 1000, 365 * 86400 * 1000000LL, &us) != 0)
		return CLI_EXIT_USAGE;
	wf_ctx x;
	int rc = ctx_open(&x, prog);
	if (rc)
		return rc;
	json_t *a = NULL;
	rc = call(&x, "sleep", json_pack("{s:s,s:I}", "name", name, "duration_ms", (json_int_t)(us / 1000)), &a);
	if (rc == 0 && suspended(a)) {
		fprintf(stderr, "%s: %s: the run is suspended until the sleep is over\n", prog, name);
		rc = CLI_EXIT_SUSPENDED;
	}
	json_decref(a);
	http_client_free(x.c);
	return rc;
}

static void wait_signal_usage(FILE *f)
{
	fprintf(f,
	        "usage: weft wait-signal NAME [--timeout DURATION]\n"
	        "\n"
	        "Waits, durably, for signal NAME sent to the workflow run whose job runs this\n"
	        "script (POST /v1/workflows/{id}/signals, `weft workflows signal`). When one\n"
	        "has arrived (before the wait, or on an earlier attempt), prints its payload\n"
	        "(a string as it is, other JSON compact; nothing for none) and exits 0.\n"
	        "Otherwise the run is suspended until the signal arrives and `weft\n"
	        "wait-signal` exits %d: under `set -e` the script stops, and the job is\n"
	        "replayed from the top when the signal comes. With --timeout (300ms, 5s, 2h,\n"
	        "3d), a wait that ends without the signal exits %d on the replay after it; a\n"
	        "signal that comes later is kept for a later wait of NAME.\n"
	        "\n%s",
	        CLI_EXIT_SUSPENDED, WAIT_EXIT_TIMED_OUT, ENV_HELP);
}

int wait_signal_main(int argc, char **argv)
{
	const char *prog = "weft wait-signal";
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		wait_signal_usage(stdout);
		return 0;
	}
	const char *name = NULL, *timeout = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			timeout = argv[++i];
		else if (strncmp(argv[i], "--timeout=", 10) == 0)
			timeout = argv[i] + 10;
		else if (argv[i][0] != '-' && name == NULL)
			name = argv[i];
		else {
			wait_signal_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (name == NULL) {
		wait_signal_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!*name || strlen(name) > STEP_NAME_MAX) {
		fprintf(stderr, "%s: NAME needs 1 to %d bytes\n", prog, STEP_NAME_MAX);
		return CLI_EXIT_USAGE;
	}
	int64_t us = 0;
	if (timeout && cli_parse_duration(prog, "--timeout", timeout, 1000, 365 * 86400 * 1000000LL, &us) != 0)
		return CLI_EXIT_USAGE;
	wf_ctx x;
	int rc = ctx_open(&x, prog);
	if (rc)
		return rc;
	json_t *body = json_pack("{s:s}", "name", name);
	if (timeout)
		json_object_set_new(body, "timeout_ms", json_integer((json_int_t)(us / 1000)));
	json_t *a = NULL;
	rc = call(&x, "wait-signal", body, &a);
	if (rc == 0 && suspended(a)) {
		fprintf(stderr, "%s: %s: the run is suspended until the signal arrives\n", prog, name);
		rc = CLI_EXIT_SUSPENDED;
	} else if (rc == 0 && json_is_true(json_object_get(a, "timed_out"))) {
		fprintf(stderr, "%s: %s: timed out without the signal\n", prog, name);
		rc = WAIT_EXIT_TIMED_OUT;
	} else if (rc == 0) {
		print_output(json_object_get(json_object_get(a, "step"), "output"));
	}
	json_decref(a);
	http_client_free(x.c);
	return rc;
}
