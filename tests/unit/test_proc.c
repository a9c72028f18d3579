/*
 * test_proc.c — a job's child process (src/exec/proc.c) with real children:
 * sh scripts that read their input, print, exit, get killed, time out with
 * a backgrounded grandchild, write too much, and show what they inherited
 * (environment, descriptors, signal state, process group).
 *
 * Only the timeout cases wait in real time (a few hundred ms each).
 */
#include "util/common.h"
#include "exec/proc.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

/* ---- helpers ------------------------------------------------------------- */

static char tmpdir[64];

static int setup(void **state)
{
	UNUSED(state);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/weft-test-proc-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	UNUSED(state);
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

/* A spec running `sh -c script` with input. */
static proc_spec sh_spec(const char *script, const char *input, char **argv_out)
{
	argv_out[0] = "sh";
	argv_out[1] = "-c";
	argv_out[2] = (char *)script;
	argv_out[3] = NULL;
	return (proc_spec){ .path = "sh", .argv = argv_out, .input = input, .input_len = input ? strlen(input) : 0,
	                    .permanent_exit = PROC_DEFAULT_PERMANENT_EXIT, .stderr_copy_fd = -1, .tmp_dir = tmpdir };
}

static void run_ok(const proc_spec *spec, proc_outcome *o)
{
	char err[256] = "";
	int rc = proc_run(spec, o, err, sizeof(err));
	if (rc != 0)
		fail_msg("proc_run: %s", err);
}

static char *dump(const json_t *v)
{
	return json_dump_compact(v);
}

static void assert_result(const proc_outcome *o, const char *json)
{
	if (!o->ok)
		fail_msg("failed: %s: %s", o->code, o->message);
	char *got = dump(o->result);
	assert_string_equal(got, json);
	free(got);
}

/* The first line of a file, or "" (owned). */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return xstrdup("");
	buf b;
	buf_init(&b);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_detach(&b, NULL);
}

/* Whether pid is gone, or only a zombie waiting for its new parent to
 * reap it, waiting up to 2 s. */
static bool pid_gone(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 200; i++) {
		char *stat = read_file(path);
		const char *paren = strrchr(stat, ')');
		bool gone = !*stat || (paren && paren[1] == ' ' && paren[2] == 'Z');
		free(stat);
		if (gone)
			return true;
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
	}
	return false;
}

/* ---- results ----------------------------------------------------------- */

static void test_result_is_parsed_json(void **state)
{
	UNUSED(state);
	char *argv[4];
	proc_spec s = sh_spec("read -r line; printf '{\"got\":%s,\"n\":2}\\n' \"$line\"", "{\"a\":[1,\"x\"]}", argv);
	proc_outcome o;
	run_ok(&s, &o);
	assert_result(&o, "{\"got\":{\"a\":[1,\"x\"]},\"n\":2}");
	assert_int_equal(o.exit_code, 0);
	proc_outcome_release(&o);
}

static void test_input_is_json_and_newline(void **state)
{
	UNUSED(state);
	char *argv[4];
	/* od shows every byte the child got: the input and one newline */
	proc_spec s = sh_spec("od -An -c | tr -d ' \\n'", "[1,2]", argv);
	proc_outcome o;
	run_ok(&s, &o);
	assert_result(&o, "\"[1,2]\\\\n\"");
	proc_outcome_release(&o);

	s = sh_spec("cat", NULL, argv);   /* no input: null */
	run_ok(&s, &o);
	assert_result(&o, "null");
	proc_outcome_release(&o);
}

static void test_result_string_when_not_json(void **state)
{
	UNUSED(state);
	char *argv[4];
	proc_outcome o;
	proc_spec s = sh_spec("echo hello world", NULL, argv);
	run_ok(&s, &o);
	assert_result(&o, "\"hello world\"");
	proc_outcome_release(&o);

	s = sh_spec("printf '{\"a\":1}\\n{\"b\":2}\\n'", NULL, argv);   /* two documents are one text */
	run_ok(&s, &o);
	assert_result(&o, "\"{\\\"a\\\":1}\\n{\\\"b\\\":2}\"");
	proc_outcome_release(&o);

	s = sh_spec("printf 'a\\377b'", NULL, argv);   /* invalid UTF-8 becomes U+FFFD */
	run_ok(&s, &o);
	assert_result(&o, "\"a\xEF\xBF\xBD" "b\"");
	proc_outcome_release(&o);

	s = sh_spec("true", NULL, argv);   /* no output: null */
	run_ok(&s, &o);
	assert_result(&o, "null");
	proc_outcome_release(&o);

	s = sh_spec("printf 42", NULL, argv);   /* no newline: still JSON */
	run_ok(&s, &o);
	assert_result(&o, "42");
	proc_outcome_release(&o);
}

static void test_result_of_direct(void **state)
{
	UNUSED(state);
	json_t *v = proc_result_of("\"x\"\r\n", 5);
	assert_string_equal(json_string_value(v), "x");
	json_decref(v);
	v = proc_result_of("[1,\n", 4);
	assert_string_equal(json_string_value(v), "[1,");
	json_decref(v);
}

/* ---- failures ---------------------------------------------------------- */

static void test_exit_codes(void **state)
{
	UNUSED(state);
	char *argv[4];
	proc_outcome o;
	proc_spec s = sh_spec("echo first line >&2; echo 'it broke' >&2; echo out; exit 3", NULL, argv);
	run_ok(&s, &o);
	assert_false(o.ok);
	assert_string_equal(o.code, "exit_3");
	assert_true(o.retryable);
	assert_int_equal(o.exit_code, 3);
	assert_string_equal(o.message, "exited with status 3: first line\nit broke");
	proc_outcome_release(&o);

	s = sh_spec("exit 100", NULL, argv);   /* the permanent code */
	run_ok(&s, &o);
	assert_string_equal(o.code, "exit_100");
	assert_false(o.retryable);
	assert_string_equal(o.message, "exited with status 100");
	proc_outcome_release(&o);

	s.permanent_exit = 7;
	run_ok(&s, &o);
	assert_true(o.retryable);
	proc_outcome_release(&o);
}

static void test_stderr_tail_is_bounded(void **state)
{
	UNUSED(state);
	char *argv[4];
	char path[128];
	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	/* 20,000 bytes of stderr ending in a marker: all of it passes through,
	 * the message keeps the end within the API's 4 KiB */
	proc_spec s = sh_spec("head -c 19995 /dev/zero | tr '\\0' 'e' >&2; printf 'LAST\\n' >&2; exit 1", NULL, argv);
	s.stderr_copy_fd = fd;
	proc_outcome o;
	run_ok(&s, &o);
	close(fd);
	assert_string_equal(o.code, "exit_1");
	assert_true(strlen(o.message) <= PROC_MESSAGE_MAX);
	assert_true(strlen(o.message) > PROC_MESSAGE_MAX - 100);
	assert_int_equal(strncmp(o.message, "exited with status 1: eee", 25), 0);
	assert_string_equal(o.message + strlen(o.message) - 4, "LAST");
	char *copied = read_file(path);
	assert_int_equal(strlen(copied), 20000);
	free(copied);
	proc_outcome_release(&o);
}

static void test_signal(void **state)
{
	UNUSED(state);
	char *argv[4];
	proc_outcome o;
	proc_spec s = sh_spec("kill -KILL $$", NULL, argv);
	run_ok(&s, &o);
	assert_false(o.ok);
	assert_string_equal(o.code, "signal_sigkill");
	assert_int_equal(o.term_signal, SIGKILL);
	assert_true(o.retryable);
	assert_string_equal(o.message, "killed by signal KILL (9)");
	proc_outcome_release(&o);
}

static void test_output_limit(void **state)
{
	UNUSED(state);
	char *argv[4];
	proc_outcome o;
	proc_spec s = sh_spec("head -c 5000 /dev/zero | tr '\\0' 'x'", NULL, argv);
	s.output_max = 1000;
	run_ok(&s, &o);
	assert_false(o.ok);
	assert_string_equal(o.code, "result_too_large");
	assert_false(o.retryable);
	proc_outcome_release(&o);

	s.output_max = 5000;   /* exactly at the limit is fine */
	run_ok(&s, &o);
	assert_true(o.ok);
	assert_int_equal(json_string_length(o.result), 5000);
	proc_outcome_release(&o);

	/* the default limit is the API's 1 MiB */
	s = sh_spec("head -c 1048577 /dev/zero | tr '\\0' 'x'", NULL, argv);
	run_ok(&s, &o);
	assert_string_equal(o.code, "result_too_large");
	proc_outcome_release(&o);
}

static void test_timeout_kills_the_group(void **state)
{
	UNUSED(state);
	char *argv[4];
	char pids[128], script[512];
	snprintf(pids, sizeof(pids), "%s/pids", tmpdir);
	snprintf(script, sizeof(script), "echo $$ > %s; sleep 60 & echo $! >> %s; wait", pids, pids);
	proc_spec s = sh_spec(script, NULL, argv);
	s.timeout_us = 300 * 1000;
	s.kill_grace_us = 200 * 1000;
	proc_outcome o;
	int64_t t0 = clock_mono_us();
	run_ok(&s, &o);
	int64_t took = clock_mono_us() - t0;
	assert_false(o.ok);
	assert_string_equal(o.code, "timeout");
	assert_true(o.retryable);
	assert_string_equal(o.message, "timed out after 0.3 s");
	assert_true(took >= 300 * 1000 && took < 3 * 1000000);
	char *text = read_file(pids);
	long sh_pid = 0, sleep_pid = 0;
	assert_int_equal(sscanf(text, "%ld %ld", &sh_pid, &sleep_pid), 2);
	free(text);
	assert_true(pid_gone((pid_t)sh_pid));
	assert_true(pid_gone((pid_t)sleep_pid));
	proc_outcome_release(&o);
}

static void test_timeout_grace_then_sigkill(void **state)
{
	UNUSED(state);
	char *argv[4];
	char pids[128], script[512];
	snprintf(pids, sizeof(pids), "%s/pids2", tmpdir);
	/* both ignore SIGTERM: only the SIGKILL after the grace ends them */
	snprintf(script, sizeof(script), "trap '' TERM; sleep 60 & echo $! > %s; wait; wait", pids);
	proc_spec s = sh_spec(script, NULL, argv);
	s.timeout_us = 200 * 1000;
	s.kill_grace_us = 300 * 1000;
	proc_outcome o;
	int64_t t0 = clock_mono_us();
	run_ok(&s, &o);
	int64_t took = clock_mono_us() - t0;
	assert_string_equal(o.code, "timeout");
	assert_true(took >= 500 * 1000);
	char *text = read_file(pids);
	assert_true(pid_gone((pid_t)atol(text)));
	free(text);
	proc_outcome_release(&o);
}

static void test_leftovers_die_with_the_job(void **state)
{
	UNUSED(state);
	char *argv[4];
	char pids[128], script[512];
	snprintf(pids, sizeof(pids), "%s/pids3", tmpdir);
	/* a background process that keeps stdout open: the job still ends
	 * when its main process does, and the leftover is killed */
	snprintf(script, sizeof(script), "sleep 60 & echo $! > %s; echo done", pids);
	proc_spec s = sh_spec(script, NULL, argv);
	proc_outcome o;
	int64_t t0 = clock_mono_us();
	run_ok(&s, &o);
	assert_true(clock_mono_us() - t0 < 2 * 1000000);
	assert_result(&o, "\"done\"");
	char *text = read_file(pids);
	assert_true(pid_gone((pid_t)atol(text)));
	free(text);
	proc_outcome_release(&o);
}

static void test_cancel(void **state)
{
	UNUSED(state);
	char *argv[4];
	proc_spec s = sh_spec("sleep 60", NULL, argv);
	s.kill_grace_us = 200 * 1000;
	proc *p;
	char err[256];
	assert_int_equal(proc_start(&s, &p, err, sizeof(err)), 0);
	pid_t pid = proc_pid(p);
	proc_cancel(p);
	while (!proc_finished(p)) {
		struct pollfd fds[PROC_POLLFDS];
		size_t n = proc_pollfds(p, fds);
		if (poll(fds, n, 50) > 0)
			proc_handle(p, fds, n);
		proc_tick(p, clock_mono_us());
	}
	proc_outcome o;
	proc_take_outcome(p, &o);
	proc_free(p);
	assert_string_equal(o.code, "canceled");
	assert_true(pid_gone(pid));
	proc_outcome_release(&o);
}

static void test_child_dies_with_the_worker(void **state)
{
	UNUSED(state);
	/* a process that starts a job and dies without a word (as a worker
	 * under SIGKILL does): the job's child gets SIGKILL from the kernel */
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t helper = fork();
	assert_true(helper >= 0);
	if (helper == 0) {
		char *argv[] = { "sleep", "60", NULL };
		proc_spec s = { .path = "sleep", .argv = argv, .stderr_copy_fd = -1 };
		proc *p;
		char err[256];
		pid_t child = proc_start(&s, &p, err, sizeof(err)) == 0 ? proc_pid(p) : -1;
		ssize_t w = write(fds[1], &child, sizeof(child));
		_exit(w == sizeof(child) ? 0 : 1);
	}
	close(fds[1]);
	pid_t child = -1;
	assert_int_equal(read(fds[0], &child, sizeof(child)), sizeof(child));
	close(fds[0]);
	assert_true(child > 0);
	int st;
	assert_int_equal(waitpid(helper, &st, 0), helper);
	assert_true(pid_gone(child));
}

/* ---- what the child inherits ------------------------------------------- */

static void test_environment(void **state)
{
	UNUSED(state);
	setenv("WEFT_JOB_ID", "inherited", 1);
	setenv("WEFT_PARENTS", "[\"inherited\"]", 1);
	setenv("WEFT_TEST_KEPT", "kept", 1);
	char *env[] = { "WEFT_JOB_ID=j1", "WEFT_ATTEMPT=2", NULL };
	char *argv[4];
	proc_spec s = sh_spec("printf '%s|%s|%s|%s|%s' \"$WEFT_JOB_ID\" \"$WEFT_ATTEMPT\" \"$WEFT_PARENTS\" "
	                      "\"${WEFT_PARENTS_FILE-unset}\" \"$WEFT_TEST_KEPT\"",
	                      NULL, argv);
	s.env = env;
	proc_outcome o;
	run_ok(&s, &o);
	assert_result(&o, "\"j1|2||unset|kept\"");   /* the worker's own WEFT_PARENTS does not leak */
	proc_outcome_release(&o);

	s.parents_json = "[{\"id\":\"p\",\"result\":1}]";
	run_ok(&s, &o);
	assert_result(&o, "\"j1|2|[{\\\"id\\\":\\\"p\\\",\\\"result\\\":1}]|unset|kept\"");
	proc_outcome_release(&o);
	unsetenv("WEFT_JOB_ID");
	unsetenv("WEFT_PARENTS");
	unsetenv("WEFT_TEST_KEPT");
}

/* What the exec executor asks for: a working directory, an environment
 * of its own (the server's variables kept out), and every chunk of
 * output handed over as it is read, stdout still the result. */
typedef struct chunks {
	buf out, err;
} chunks;

static void collect(void *arg, bool is_stdout, const char *data, size_t n)
{
	chunks *c = arg;
	buf_append(is_stdout ? &c->out : &c->err, data, n);
}

static void test_cwd_clean_env_and_output_hook(void **state)
{
	UNUSED(state);
	setenv("WEFT_TEST_SECRET", "s3cret", 1);
	char *env[] = { "GREETING=hi", NULL };
	char *argv[4];
	proc_spec s = sh_spec("printf '%s|%s|%s' \"$(pwd)\" \"${WEFT_TEST_SECRET-unset}\" \"$GREETING\"; "
	                      "seq 1 3000 >&2",
	                      NULL, argv);
	s.env = env;
	s.cwd = "/";
	s.clean_env = true;
	chunks c;
	buf_init(&c.out);
	buf_init(&c.err);
	s.on_output = collect;
	s.output_arg = &c;
	proc_outcome o;
	run_ok(&s, &o);
	assert_result(&o, "\"/|unset|hi\"");
	buf_putc(&c.out, '\0');
	assert_string_equal(c.out.data, "/|unset|hi");
	assert_int_equal(c.err.len, 13893);       /* every line of `seq 1 3000` */
	assert_memory_equal(c.err.data + c.err.len - 5, "3000\n", 5);
	proc_outcome_release(&o);
	buf_release(&c.out);
	buf_release(&c.err);

	s.cwd = "/no/such/directory";
	proc *p = NULL;
	char err[256] = "";
	assert_int_equal(proc_start(&s, &p, err, sizeof err), -1);
	assert_non_null(strstr(err, "/no/such/directory"));
	unsetenv("WEFT_TEST_SECRET");
}

/* A taker that, after each read, has no room the next three times it is
 * asked (as a log buffer waiting for the engine), then has. */
typedef struct held_taker {
	buf err;
	int refusals, refused_since_read;
	bool room;                   /* what it last answered */
	bool read_while_held;
} held_taker;

static bool held_room(void *arg)
{
	held_taker *t = arg;
	t->room = t->refused_since_read >= 3;
	if (!t->room) {
		t->refused_since_read++;
		t->refusals++;
	}
	return t->room;
}

static void held_collect(void *arg, bool is_stdout, const char *data, size_t n)
{
	held_taker *t = arg;
	if (!t->room)
		t->read_while_held = true;
	if (!is_stdout)
		buf_append(&t->err, data, n);
	t->refused_since_read = 0;
	t->room = false;
}

/* While the taker of the output has no room, the pipes are not read: the
 * child waits on its writes, and every byte still arrives. */
static void test_output_held_while_its_taker_has_no_room(void **state)
{
	UNUSED(state);
	char *argv[4];
	proc_spec s = sh_spec("seq 1 100000 >&2; echo done", NULL, argv);
	held_taker t = { 0 };
	buf_init(&t.err);
	s.on_output = held_collect;
	s.output_room = held_room;
	s.output_arg = &t;
	proc_outcome o;
	run_ok(&s, &o);
	assert_result(&o, "\"done\"");
	assert_int_equal(t.err.len, 588895);      /* every line of `seq 1 100000` */
	assert_memory_equal(t.err.data + t.err.len - 7, "100000\n", 7);
	assert_false(t.read_while_held);
	/* 64 KiB pipes: the child had to wait for several reads */
	assert_true(t.refusals >= 3 * 9);
	proc_outcome_release(&o);
	buf_release(&t.err);
}

static void test_large_parents_go_to_a_file(void **state)
{
	UNUSED(state);
	buf parents;
	buf_init(&parents);
	buf_puts(&parents, "[{\"result\":\"");
	for (int i = 0; i < PROC_PARENTS_ENV_MAX; i++)
		buf_putc(&parents, 'p');
	buf_puts(&parents, "\"}]");
	char *argv[4];
	/* the file's mode, its size, and that WEFT_PARENTS is unset */
	proc_spec s = sh_spec("echo \"$WEFT_PARENTS_FILE\" > \"$0.path\"; "
	                      "printf '[\"%s\",%s,\"%s\"]' \"$(stat -c %a \"$WEFT_PARENTS_FILE\")\" "
	                      "\"$(wc -c < \"$WEFT_PARENTS_FILE\")\" \"${WEFT_PARENTS-unset}\"",
	                      NULL, argv);
	char arg0[128];
	snprintf(arg0, sizeof(arg0), "%s/parents", tmpdir);
	char *argv2[] = { "sh", "-c", argv[2], arg0, NULL };
	s.argv = argv2;
	s.parents_json = parents.data;
	proc_outcome o;
	run_ok(&s, &o);
	char want[64];
	snprintf(want, sizeof(want), "[\"600\",%zu,\"unset\"]", parents.len);
	assert_result(&o, want);
	proc_outcome_release(&o);
	char pathfile[160];
	snprintf(pathfile, sizeof(pathfile), "%s.path", arg0);
	char *path = read_file(pathfile);
	path[strcspn(path, "\n")] = '\0';
	assert_int_equal(strncmp(path, tmpdir, strlen(tmpdir)), 0);
	assert_int_equal(access(path, F_OK), -1);   /* removed after the job */
	free(path);
	buf_release(&parents);
}

static void test_no_leaked_descriptors(void **state)
{
	UNUSED(state);
	int leak = open("/dev/null", O_RDONLY);   /* not close-on-exec */
	assert_true(leak > 2);
	char *argv[] = { "sleep", "5", NULL };
	proc_spec s = { .path = "sleep", .argv = argv, .stderr_copy_fd = -1, .kill_grace_us = 100000 };
	proc *p;
	char err[256];
	assert_int_equal(proc_start(&s, &p, err, sizeof(err)), 0);
	/* proc_start returns after execve: the descriptors are the program's */
	char *cmd = xasprintf("ls /proc/%d/fd | sort -n | tr '\\n' ' '", (int)proc_pid(p));
	FILE *ls = popen(cmd, "r");
	char line[256] = "";
	assert_non_null(fgets(line, sizeof(line), ls));
	pclose(ls);
	free(cmd);
	assert_string_equal(line, "0 1 2 ");
	proc_kill_now(p);
	proc_free(p);
	close(leak);
}

static void test_signals_and_group_are_fresh(void **state)
{
	UNUSED(state);
	/* what a worker does to itself: SIGPIPE ignored, SIGTERM blocked */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	sigaction(SIGPIPE, &ign, &old);
	sigset_t set, oldset;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &oldset);
	char *argv[4];
	proc_spec s = sh_spec("grep -E '^Sig(Blk|Ign)' /proc/$$/status | tr '\\n\\t' '  '; "
	                      "cut -d' ' -f5 /proc/$$/stat",
	                      NULL, argv);
	proc *p;
	char err[256];
	assert_int_equal(proc_start(&s, &p, err, sizeof(err)), 0);
	pid_t pid = proc_pid(p);
	while (!proc_finished(p)) {
		struct pollfd fds[PROC_POLLFDS];
		size_t n = proc_pollfds(p, fds);
		if (poll(fds, n, 100) > 0)
			proc_handle(p, fds, n);
		proc_tick(p, clock_mono_us());
	}
	proc_outcome o;
	proc_take_outcome(p, &o);
	proc_free(p);
	sigaction(SIGPIPE, &old, NULL);
	sigprocmask(SIG_SETMASK, &oldset, NULL);
	char want[128];
	/* sh ignores nothing by itself when run with -c */
	snprintf(want, sizeof(want), "\"SigBlk: 0000000000000000 SigIgn: 0000000000000000 %d\"", (int)pid);
	assert_result(&o, want);
	proc_outcome_release(&o);
}

static void test_descriptor_limit(void **state)
{
	UNUSED(state);
	struct rlimit orig;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &orig), 0);
	if (orig.rlim_max != RLIM_INFINITY && orig.rlim_max < 2048)
		skip();
	/* a low soft limit, as many systems start with */
	struct rlimit low = { .rlim_cur = 256, .rlim_max = orig.rlim_max };
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	char err[256];
	assert_int_equal(proc_reserve_fds(1000, err, sizeof(err)), 0);
	struct rlimit now;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &now), 0);
	assert_true(now.rlim_cur >= 1000);
	/* the child gets the limit it would have had */
	char *argv[4];
	proc_spec s = sh_spec("ulimit -n", NULL, argv);
	proc_outcome o;
	run_ok(&s, &o);
	assert_result(&o, "256");
	proc_outcome_release(&o);
	if (orig.rlim_max != RLIM_INFINITY) {   /* beyond the hard limit: a message */
		assert_int_equal(proc_reserve_fds((size_t)orig.rlim_max, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "ulimit -Hn"));
	}
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &orig), 0);
}

static void test_start_errors(void **state)
{
	UNUSED(state);
	char err[256];
	char *path = proc_resolve("no-such-command-weft", err, sizeof(err));
	assert_null(path);
	assert_string_equal(err, "no-such-command-weft: command not found in PATH");
	path = proc_resolve("/etc/passwd", err, sizeof(err));
	assert_null(path);
	assert_string_equal(err, "/etc/passwd: not an executable file");
	path = proc_resolve("sh", err, sizeof(err));
	assert_non_null(path);
	assert_int_equal(access(path, X_OK), 0);
	free(path);

	char *argv[] = { "nothing", NULL };
	proc_spec s = { .path = "/no/such/program", .argv = argv, .stderr_copy_fd = -1 };
	proc *p = NULL;
	assert_int_equal(proc_start(&s, &p, err, sizeof(err)), -1);
	assert_null(p);
	assert_string_equal(err, "/no/such/program: No such file or directory");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_is_parsed_json),
		cmocka_unit_test(test_input_is_json_and_newline),
		cmocka_unit_test(test_result_string_when_not_json),
		cmocka_unit_test(test_result_of_direct),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_stderr_tail_is_bounded),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_output_limit),
		cmocka_unit_test(test_timeout_kills_the_group),
		cmocka_unit_test(test_timeout_grace_then_sigkill),
		cmocka_unit_test(test_leftovers_die_with_the_job),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_child_dies_with_the_worker),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_large_parents_go_to_a_file),
		cmocka_unit_test(test_no_leaked_descriptors),
		cmocka_unit_test(test_signals_and_group_are_fresh),
		cmocka_unit_test(test_descriptor_limit),
		cmocka_unit_test(test_start_errors),
		cmocka_unit_test(test_cwd_clean_env_and_output_hook),
		cmocka_unit_test(test_output_held_while_its_taker_has_no_room),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
