/*
 * process_executor.c — the exec executor: tasks with "executor": "exec"
 * run as child processes of the server (exec/proc.h), when it was started
 * with --allow-exec.
 *
 *   start:  in the claiming transaction the tasks go claimed -> running,
 *           their worker_id becomes this node's id (WEFT_NODE_ID), and
 *           their exec specs (kept as their start action, see
 *           http/v1/decode_exec.h) become jobs; after the commit each job
 *           is handed to the executor's thread, which forks the child.
 *   result: the children that ended, as a set: exit 0 -> success with
 *           stdout as the result; otherwise the failure path with the
 *           error code exit_<n>, signal_<name>, timeout or exec_failed
 *           (retried under the task's policy: a timeout as a timeout, the
 *           others as explicit failures; exec_failed never).
 *   cancel: the thread sends SIGTERM to the child's process group, and
 *           SIGKILL after EXEC_KILL_GRACE_MS. The task has already ended
 *           (canceled, timed out): the child's outcome is dropped.
 *
 * One long-lived thread forks and watches every child: PR_SET_PDEATHSIG
 * is tied to the thread that forked, so the children get SIGKILL when the
 * server dies, never when some short-lived thread ends. It polls the
 * children's pidfds and pipes and an eventfd that wakes it for new starts
 * and cancels. It runs at most EXEC_CONCURRENCY children at once; the
 * engine's window for them lets as many more be handed over while the
 * children end quickly (engine_window: a launch-to-back time of 20 ms at
 * most), which wait in the thread for a free slot and start the moment a
 * child ends, instead of a cycle later. Slow children get no more than the
 * limit, so a task never waits long between its start and its child's.
 *
 * Each line a child prints (stdout or stderr) goes to task_logs_append;
 * stdout is also kept whole as the result. While the task's log buffer
 * has no room for a read more, its pipes are left unread: the child waits
 * on its writes, as a worker waits on a full buffer, rather than its lines
 * being dropped.
 *
 * On a database shared by several nodes, a cancel or a timeout may be
 * applied by another node than the one running the child: each node
 * looks at the tasks of its children every EXEC_WATCH_US (the exec_watch
 * deadline, armed while it has children) and stops those no longer
 * running.
 *
 * After a crash (kill -9) the children died with the server, but their
 * tasks are still running in the database: at start-up the exec_orphans
 * deadline fails the exec tasks this node was running (error code
 * server_restarted, retried as an explicit failure). With several nodes
 * on one database each recovers only its own, by worker_id (so a node's
 * WEFT_NODE_ID must stay the same across its restarts).
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "engine/engine_internal.h"
#include "engine/retry.h"
#include "engine/task_logs.h"
#include "exec/executor.h"
#include "exec/proc.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "store/runs.h"

/* A log line longer than this is cut into pieces of this size. */
#define LOG_LINE_MAX 16384
/* Lines handed to task_logs_append at once (a chunk read holds many). */
#define LOG_BATCH 256
/* Orphans failed by one step at start-up; the deadline fires again for more. */
#define ORPHANS_PER_STEP 1000
/* Shared database: how often a node checks that its children's tasks are
 * still running (a cancel applied by another node). */
#define EXEC_WATCH_US (1000 * 1000LL)

typedef struct exec_job exec_job;

typedef struct exec_state {
	engine *e;
	engine_window window;
	bool enabled;
	char *worker;                   /* "exec:<node>": the worker_id of its tasks */
	int64_t kill_grace_us;
	int64_t booted_at;              /* clock_now_us() at attach: older running tasks are orphans */
	size_t limit;                   /* children at once */
	pthread_t thread;
	bool thread_started;
	int wake_fd;
	pthread_mutex_t mu;
	/* under mu */
	exec_job *incoming;             /* launched, not yet forked */
	weft_id *cancels;
	size_t ncancels, cancap;
	bool stopping;
	/* the thread's */
	exec_job **running;
	size_t nrunning, runcap;
	exec_job *waiting, *waiting_tail;   /* handed over ahead, waiting for a slot (FIFO) */
	/* the engine thread's: the tasks of the jobs out, and their attempts */
	weft_id *out;
	int32_t *out_attempt;
	size_t nout, outcap;
} exec_state;

struct exec_job {
	engine_job job;
	engine *e;
	exec_state *s;
	int32_t attempt;
	/* the spec, owned */
	char **argv;                    /* NULL-terminated */
	char **env;                     /* "NAME=VALUE", NULL-terminated */
	char *cwd;
	char *input;
	int64_t timeout_us;
	/* the thread's */
	proc *p;
	buf partial[2];                 /* stdout's and stderr's unfinished line */
	exec_job *next;
	/* the outcome, written by the thread before engine_job_done */
	bool spawned;
	char spawn_error[512];
	proc_outcome outcome;
};

static exec_state *state_of(const engine *e)
{
	return executor_state(e, &executor_exec);
}

/* ---- logs ------------------------------------------------------------------------- */

/* The lines of one chunk, handed to the logs together. */
typedef struct line_batch {
	exec_job *j;
	log_stream stream;
	int64_t at;
	task_log_line v[LOG_BATCH];
	size_t n;
} line_batch;

static void batch_flush(line_batch *b)
{
	if (b->n > 0)
		(void)task_logs_append(b->j->e, b->v, b->n);
	b->n = 0;
}

static void batch_add(line_batch *b, const char *text, size_t len)
{
	b->v[b->n++] = (task_log_line){ .task_id = b->j->job.task_id, .attempt = b->j->attempt, .stream = b->stream,
		                        .at = b->at, .text = text, .len = len };
	if (b->n == LOG_BATCH)
		batch_flush(b);
}

/* The line held in part, complete (or cut at LOG_LINE_MAX): handed over
 * at once, with the lines before it, since part is reused next. */
static void batch_add_part(line_batch *b, buf *part)
{
	batch_add(b, part->data, part->len);
	batch_flush(b);
	part->len = 0;
}

/* A chunk of the child's output: its complete lines go to the logs, the
 * rest waits for its newline (or for the end). */
static void on_output(void *arg, bool is_stdout, const char *data, size_t n)
{
	exec_job *j = arg;
	buf *part = &j->partial[is_stdout ? 0 : 1];
	line_batch b = { .j = j, .stream = is_stdout ? LOG_STDOUT : LOG_STDERR, .at = clock_now_us() };
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;
		if (part->len + take >= LOG_LINE_MAX) {
			size_t room = LOG_LINE_MAX - part->len;
			buf_append(part, data, room);
			batch_add_part(&b, part);
			data += room;
			n -= room;
			continue;
		}
		if (!nl) {
			buf_append(part, data, n);
			break;
		}
		if (part->len == 0) {
			batch_add(&b, data, take);     /* the usual case: a whole line of this chunk */
		} else {
			buf_append(part, data, take);
			batch_add_part(&b, part);
		}
		data += take + 1;
		n -= take + 1;
	}
	batch_flush(&b);
}

/* Whether a read of the child's pipes (PROC_READ_CHUNK bytes, as many
 * lines at most) fits in the task's log buffer without a drop. */
static bool output_room(void *arg)
{
	exec_job *j = arg;
	return task_logs_room(j->e, &j->job.task_id, j->attempt, PROC_READ_CHUNK, PROC_READ_CHUNK);
}

static void flush_partial(exec_job *j)
{
	for (int k = 0; k < 2; k++)
		if (j->partial[k].len > 0) {
			line_batch b = { .j = j, .stream = k == 0 ? LOG_STDOUT : LOG_STDERR, .at = clock_now_us() };
			batch_add_part(&b, &j->partial[k]);
		}
}

/* ---- the thread ------------------------------------------------------------------- */

static void spawn(exec_state *s, exec_job *j)
{
	if (s->nrunning >= s->limit) {
		j->next = NULL;
		if (s->waiting_tail)
			s->waiting_tail->next = j;
		else
			s->waiting = j;
		s->waiting_tail = j;
		return;
	}
	proc_spec spec = {
		.path = j->argv[0],
		.argv = j->argv,
		.input = j->input,
		.input_len = j->input ? strlen(j->input) : 0,
		.env = j->env,
		.timeout_us = j->timeout_us,
		.kill_grace_us = s->kill_grace_us,
		.permanent_exit = -1,
		.stderr_copy_fd = -1,
		.on_output = on_output,
		.output_room = output_room,
		.output_arg = j,
		.cwd = j->cwd,
		.clean_env = true,
	};
	if (proc_start(&spec, &j->p, j->spawn_error, sizeof j->spawn_error) != 0) {
		engine_job_done(s->e, &j->job);
		return;
	}
	j->spawned = true;
	if (s->nrunning == s->runcap) {
		s->runcap = s->runcap ? 2 * s->runcap : 16;
		s->running = xrealloc(s->running, s->runcap * sizeof *s->running);
	}
	s->running[s->nrunning++] = j;
}

/* Starts what waits, while there is room. */
static void spawn_waiting(exec_state *s)
{
	while (s->waiting && s->nrunning < s->limit) {
		exec_job *j = s->waiting;
		s->waiting = j->next;
		if (!s->waiting)
			s->waiting_tail = NULL;
		spawn(s, j);
	}
}

static void apply_cancel(exec_state *s, const weft_id *task)
{
	for (size_t i = 0; i < s->nrunning; i++)
		if (id_eq(&s->running[i]->job.task_id, task))
			proc_cancel(s->running[i]->p);
	/* One still waiting never starts: it comes back as canceled. */
	for (exec_job **at = &s->waiting; *at;) {
		exec_job *j = *at;
		if (!id_eq(&j->job.task_id, task)) {
			at = &j->next;
			continue;
		}
		*at = j->next;
		j->spawned = true;
		snprintf(j->outcome.code, sizeof j->outcome.code, "canceled");
		engine_job_done(s->e, &j->job);
	}
	s->waiting_tail = NULL;
	for (exec_job *j = s->waiting; j; j = j->next)
		s->waiting_tail = j;
}

/* New starts, then cancels (a cancel may concern a start of the same
 * batch); false once the executor stops. */
static bool take_requests(exec_state *s)
{
	pthread_mutex_lock(&s->mu);
	exec_job *in = s->incoming;
	s->incoming = NULL;
	weft_id *cancels = s->cancels;
	size_t ncancels = s->ncancels;
	s->cancels = NULL;
	s->ncancels = s->cancap = 0;
	bool stopping = s->stopping;
	pthread_mutex_unlock(&s->mu);
	/* The list is newest first: start in launch order. */
	exec_job *rev = NULL;
	while (in) {
		exec_job *next = in->next;
		in->next = rev;
		rev = in;
		in = next;
	}
	for (exec_job *j = rev, *next; j; j = next) {
		next = j->next;
		if (stopping)
			j->job.ops->free(&j->job);
		else
			spawn(s, j);
	}
	for (size_t i = 0; i < ncancels; i++)
		apply_cancel(s, &cancels[i]);
	free(cancels);
	return !stopping;
}

static void *exec_main(void *arg)
{
	exec_state *s = arg;
	struct pollfd *fds = NULL;
	size_t fdcap = 0;
	while (take_requests(s)) {
		size_t need = 1 + s->nrunning * PROC_POLLFDS;
		if (need > fdcap) {
			fdcap = need * 2;
			fds = xrealloc(fds, fdcap * sizeof *fds);
		}
		size_t *first = xcalloc(s->nrunning + 1, sizeof *first);
		size_t nfds = 0;
		fds[nfds++] = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
		int64_t due = INT64_MAX;
		for (size_t i = 0; i < s->nrunning; i++) {
			first[i] = nfds;
			nfds += proc_pollfds(s->running[i]->p, fds + nfds);
			due = MIN(due, proc_deadline(s->running[i]->p));
		}
		first[s->nrunning] = nfds;
		int64_t now = clock_mono_us();
		int timeout_ms = due == INT64_MAX ? -1 : due <= now ? 0 : (int)MIN((due - now + 999) / 1000, 60000);
		int r = poll(fds, nfds, timeout_ms);
		if (r > 0 && fds[0].revents) {
			uint64_t v;
			ssize_t rd = read(s->wake_fd, &v, sizeof v);
			(void)rd;
		}
		now = clock_mono_us();
		size_t kept = 0;
		for (size_t i = 0; i < s->nrunning; i++) {
			exec_job *j = s->running[i];
			if (r > 0)
				proc_handle(j->p, fds + first[i], first[i + 1] - first[i]);
			proc_tick(j->p, now);
			if (!proc_finished(j->p)) {
				s->running[kept++] = j;
				continue;
			}
			flush_partial(j);
			proc_take_outcome(j->p, &j->outcome);
			proc_free(j->p);
			j->p = NULL;
			engine_job_done(s->e, &j->job);
		}
		s->nrunning = kept;
		spawn_waiting(s);
		free(first);
	}
	/* The server is stopping: its children go with it. Their tasks stay
	 * running and are recovered at the next start. */
	for (exec_job *j = s->waiting, *next; j; j = next) {
		next = j->next;
		j->job.ops->free(&j->job);
	}
	s->waiting = s->waiting_tail = NULL;
	for (size_t i = 0; i < s->nrunning; i++) {
		exec_job *j = s->running[i];
		proc_kill_now(j->p);
		proc_free(j->p);
		j->p = NULL;
		j->job.ops->free(&j->job);
	}
	s->nrunning = 0;
	free(fds);
	return NULL;
}

static void wake(exec_state *s)
{
	uint64_t one = 1;
	ssize_t w = write(s->wake_fd, &one, sizeof one);
	(void)w;
}

/* ---- the job ---------------------------------------------------------------------- */

static void job_launch(engine *e, engine_job *job)
{
	UNUSED(e);
	exec_job *j = (exec_job *)job;
	pthread_mutex_lock(&j->s->mu);
	j->next = j->s->incoming;
	j->s->incoming = j;
	pthread_mutex_unlock(&j->s->mu);
	wake(j->s);
}

static void job_landed(engine *e, engine_job *job)
{
	exec_state *s = ((exec_job *)job)->s;
	for (size_t i = 0; i < s->nout; i++)
		if (id_eq(&s->out[i], &job->task_id)) {
			s->nout--;
			s->out[i] = s->out[s->nout];
			s->out_attempt[i] = s->out_attempt[s->nout];
			break;
		}
	engine_start_slot_freed(e);
	engine_wake_held_deliveries(e);
}

static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static void job_free(engine_job *job)
{
	exec_job *j = (exec_job *)job;
	proc_free(j->p);
	free_strv(j->argv);
	free_strv(j->env);
	free(j->cwd);
	free(j->input);
	buf_release(&j->partial[0]);
	buf_release(&j->partial[1]);
	proc_outcome_release(&j->outcome);
	free(j);
}

static int exec_result(engine *e, engine_job **jobs, size_t n, int64_t now);

static int exec_result_one(engine *e, engine_job *job, int64_t now)
{
	return exec_result(e, &job, 1, now);
}

static const job_ops exec_job_ops = {
	.name = "exec.run",
	.actor = "exec",
	.launch = job_launch,
	.landed = job_landed,
	.apply = exec_result_one,
	.apply_many = exec_result,
	.free = job_free,
};

/* The job of a task from its stored spec (validated at submit); NULL when
 * the spec cannot be read. */
static exec_job *job_of_spec(engine *e, exec_state *s, const task_row *t, const char *spec_text)
{
	json_t *spec = json_parse_text(spec_text);
	json_t *argv = json_object_get(spec, "argv");
	if (!json_is_array(argv) || json_array_size(argv) == 0) {
		json_decref(spec);
		return NULL;
	}
	exec_job *j = xcalloc(1, sizeof *j);
	j->job = (engine_job){ .ops = &exec_job_ops, .window = &s->window, .holds_task = true, .task_id = t->id };
	j->e = e;
	j->s = s;
	j->attempt = t->attempt;
	buf_init(&j->partial[0]);
	buf_init(&j->partial[1]);
	size_t argc = json_array_size(argv);
	j->argv = xcalloc(argc + 1, sizeof(char *));
	for (size_t i = 0; i < argc; i++)
		j->argv[i] = xstrdup(json_string_value(json_array_get(argv, i)) ?: "");
	json_t *env = json_object_get(spec, "env");
	/* First, so that the task's own env cannot hide it: it marks every
	 * process of the task (recovery finds what a crash left with it). */
	j->env = xcalloc(json_object_size(env) + 3, sizeof(char *));
	size_t k = 0;
	j->env[k++] = xasprintf("WEFT_TASK_ID=%s", t->id.str);
	j->env[k++] = xasprintf("WEFT_ATTEMPT=%d", (int)t->attempt);
	const char *name;
	json_t *value;
	json_object_foreach(env, name, value)
		j->env[k++] = xasprintf("%s=%s", name, json_string_value(value) ?: "");
	const char *cwd = json_string_value(json_object_get(spec, "cwd"));
	j->cwd = cwd ? xstrdup(cwd) : NULL;
	json_t *timeout = json_object_get(spec, "timeout_secs");
	j->timeout_us = json_is_integer(timeout) ? json_integer_value(timeout) * 1000000 : 0;
	json_t *input = json_object_get(spec, "input");
	j->input = json_dump_compact(input ? input : json_null());
	json_decref(spec);
	return j;
}

/* ---- start ------------------------------------------------------------------------ */

static const char *spec_of(const action_row *actions, size_t na, const weft_id *task)
{
	for (size_t i = 0; i < na; i++)
		if (id_eq(&actions[i].task_id, task))
			return actions[i].params;
	return NULL;
}

static int exec_start(engine *e, const task_row *tasks, size_t n, int64_t now)
{
	exec_state *s = state_of(e);
	action_query *q = xcalloc(n ? n : 1, sizeof *q);
	weft_id *ids = xcalloc(n ? n : 1, sizeof *ids);
	bool *applied = xcalloc(n ? n : 1, sizeof *applied);
	fail_req *bad = xcalloc(n ? n : 1, sizeof *bad);
	size_t nbad = 0;
	for (size_t i = 0; i < n; i++) {
		q[i] = (action_query){ .task_id = tasks[i].id, .trigger = TRIGGER_START, .condition = COND_SUCCESS };
		ids[i] = tasks[i].id;
	}
	/* The specs are asked for ahead: they come back with the update's
	 * round trip (store_task_actions_prefetch). */
	store_task_actions_prefetch(e->w, q, n);
	int rc = engine_tasks_running(e, ids, n, now, applied);
	action_row *actions = NULL;
	size_t na = 0;
	if (rc == 0)
		rc = store_task_actions_many(e->w, q, n, &actions, &na);
	size_t nrun = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (applied[i])
			ids[nrun++] = tasks[i].id;
	if (rc == 0)
		rc = store_exec_tasks_mark(e->w, ids, nrun, s->worker);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!applied[i])
			continue;
		const char *spec = spec_of(actions, na, &tasks[i].id);
		exec_job *j = spec ? job_of_spec(e, s, &tasks[i], spec) : NULL;
		if (j == NULL) {
			bad[nbad++] = (fail_req){ .id = tasks[i].id, .from_mask = TS_BIT(TS_RUNNING),
				                  .reason = "exec_failed: the task has no readable exec spec",
				                  .touch_last_updated = true };
			continue;
		}
		engine_launch(e, &j->job);
		if (s->nout == s->outcap) {
			s->outcap = s->outcap ? 2 * s->outcap : 16;
			s->out = xrealloc(s->out, s->outcap * sizeof *s->out);
			s->out_attempt = xrealloc(s->out_attempt, s->outcap * sizeof *s->out_attempt);
		}
		s->out_attempt[s->nout] = tasks[i].attempt;
		s->out[s->nout++] = tasks[i].id;
		if (e->shared)
			deadline_arm(e, now + EXEC_WATCH_US, &deadline_exec_watch, &(weft_id){ 0 });
	}
	if (rc == 0)
		rc = dag_fail_tasks(e, bad, nbad, false, now);
	store_free_actions(actions, na);
	free(bad);
	free(applied);
	free(ids);
	free(q);
	return rc;
}

/* ---- result ----------------------------------------------------------------------- */

/* What the child's outcome says of its task's end. */
static void failure_of(const exec_job *j, const char **code, const char **message, unsigned *cause)
{
	if (!j->spawned) {
		*code = "exec_failed";
		*message = j->spawn_error;
		*cause = 0;     /* a program that cannot run will not run on a retry */
		return;
	}
	*code = j->outcome.code;
	*message = j->outcome.message ? j->outcome.message : j->outcome.code;
	*cause = strcmp(j->outcome.code, "timeout") == 0 ? RETRY_ON_TIMEOUT
	         : j->outcome.retryable                  ? RETRY_ON_EXPLICIT
	                                                 : 0;
}

static int succeed(engine *e, const weft_id *ids, size_t n, int64_t now)
{
	if (n == 0)
		return 0;
	task_update_result *res = xcalloc(n, sizeof *res);
	task_row *after = xcalloc(n, sizeof *after);
	task_row *ended = xcalloc(n, sizeof *ended);
	size_t nended = 0;
	task_update u = { .set_status = true, .status = TS_SUCCESS, .ended_at = now, .last_updated = now,
		          .actor = "exec", .reason = "exited with status 0" };
	int rc = engine_update_tasks(e, ids, n, TS_BIT(TS_RUNNING), &u, res, after);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!res[i].applied)
			continue;
		engine_metric_transition(e, TS_RUNNING, TS_SUCCESS);
		engine_metric_terminal(e, &after[i]);
		ended[nended++] = after[i];
	}
	if (nended > 0)
		engine_wake_held_starts(e);     /* a rule slot was freed */
	if (rc == 0)
		rc = dag_tasks_ended(e, ended, nended, now);
	for (size_t i = 0; i < n; i++)
		if (res[i].applied)
			task_row_release(&after[i]);
	free(ended);
	free(after);
	free(res);
	return rc;
}

static bool id_in(const weft_id *ids, size_t n, const weft_id *id)
{
	for (size_t i = 0; i < n; i++)
		if (id_eq(&ids[i], id))
			return true;
	return false;
}

/* The results and error codes first, in one statement (only while the
 * tasks are running); then the successes and the failures as sets. */
static int exec_result(engine *e, engine_job **jobs, size_t n, int64_t now)
{
	exec_report *reports = xcalloc(n, sizeof *reports);
	char **results = xcalloc(n, sizeof *results);
	exec_job **reported = xcalloc(n, sizeof *reported);
	size_t nrep = 0;
	for (size_t i = 0; i < n; i++) {
		exec_job *j = (exec_job *)jobs[i];
		/* A child stopped for a cancel or a timeout of its task: the
		 * task has already moved on. */
		if (j->spawned && !j->outcome.ok && strcmp(j->outcome.code, "canceled") == 0)
			continue;
		const char *code = NULL, *message;
		unsigned cause;
		if (j->spawned && j->outcome.ok)
			results[nrep] = json_dump_compact(j->outcome.result);
		else
			failure_of(j, &code, &message, &cause);
		reports[nrep] = (exec_report){ .id = j->job.task_id, .result = results[nrep], .error_code = code };
		reported[nrep++] = j;
	}
	weft_id *applied = NULL;
	size_t napplied = 0;
	int rc = store_exec_tasks_report(e->w, reports, nrep, &applied, &napplied);
	weft_id *ok = xcalloc(n, sizeof *ok);
	fail_req *failed = xcalloc(n, sizeof *failed);
	size_t nok = 0, nfailed = 0;
	for (size_t i = 0; i < nrep && rc == 0; i++) {
		exec_job *j = reported[i];
		if (!id_in(applied, napplied, &j->job.task_id))
			continue;
		if (reports[i].error_code == NULL) {
			ok[nok++] = j->job.task_id;
			continue;
		}
		const char *code, *message;
		unsigned cause;
		failure_of(j, &code, &message, &cause);
		failed[nfailed++] = (fail_req){ .id = j->job.task_id, .from_mask = TS_BIT(TS_RUNNING), .reason = message,
			                        .cause = cause, .touch_last_updated = true };
	}
	if (rc == 0)
		rc = succeed(e, ok, nok, now);
	if (rc == 0)
		rc = dag_fail_tasks(e, failed, nfailed, false, now);
	for (size_t i = 0; i < nrep; i++)
		free(results[i]);
	free(applied);
	free(failed);
	free(ok);
	free(reported);
	free(results);
	free(reports);
	return rc;
}

/* ---- cancel ----------------------------------------------------------------------- */

static int exec_cancel(engine *e, const task_row *rows, size_t n, int64_t now)
{
	UNUSED(now);
	exec_state *s = state_of(e);
	if (s == NULL || !s->thread_started || n == 0)
		return 0;
	/* Told at once rather than after the commit: a cancel whose cycle
	 * rolls back has stopped a child whose task is still running; its
	 * outcome (canceled) is dropped and the task's own timeout fails it.
	 * Cancels are rare and their rollback rarer still. */
	pthread_mutex_lock(&s->mu);
	if (s->ncancels + n > s->cancap) {
		s->cancap = MAX(2 * s->cancap, s->ncancels + n);
		s->cancels = xrealloc(s->cancels, s->cancap * sizeof *s->cancels);
	}
	for (size_t i = 0; i < n; i++)
		s->cancels[s->ncancels++] = rows[i].id;
	pthread_mutex_unlock(&s->mu);
	wake(s);
	return 0;
}

/* ---- the rest --------------------------------------------------------------------- */

static size_t exec_room(const engine *e)
{
	exec_state *s = state_of(e);
	if (s == NULL || !s->enabled)
		return 0;
	return engine_window_room(&s->window, clock_mono_us());
}

static void *exec_attach(engine *e)
{
	exec_state *s = xcalloc(1, sizeof *s);
	s->e = e;
	s->wake_fd = -1;
	s->booted_at = clock_now_us();
	s->worker = xasprintf("exec:%s", e->cfg.node_id ? e->cfg.node_id : "local");
	s->kill_grace_us = e->cfg.exec_kill_grace_us > 0 ? e->cfg.exec_kill_grace_us : 5000000;
	size_t limit = (size_t)MAX(e->cfg.exec_concurrency, 1);
	s->limit = limit;
	engine_window_init(&s->window, limit, limit);
	pthread_mutex_init(&s->mu, NULL);
	if (!e->cfg.allow_exec)
		return s;
	char err[256];
	if (proc_reserve_fds(limit * PROC_POLLFDS + 64, err, sizeof err) != 0)
		log_warn("exec", "%s: fewer exec tasks may run at once than EXEC_CONCURRENCY", err);
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0 || pthread_create(&s->thread, NULL, exec_main, s) != 0) {
		log_error("exec", "cannot start the exec executor's thread: exec tasks will not start");
		return s;
	}
	pthread_setname_np(s->thread, "weft-exec");
	s->thread_started = true;
	s->enabled = true;
	return s;
}

static void exec_detach(void *state)
{
	exec_state *s = state;
	if (s->thread_started) {
		pthread_mutex_lock(&s->mu);
		s->stopping = true;
		pthread_mutex_unlock(&s->mu);
		wake(s);
		pthread_join(s->thread, NULL);
	}
	/* Jobs launched while the thread was stopping. */
	take_requests(s);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_mutex_destroy(&s->mu);
	free(s->running);
	free(s->out);
	free(s->out_attempt);
	free(s->cancels);
	free(s->worker);
	free(s);
}

const executor executor_exec = {
	.name = "exec",
	.attach = exec_attach,
	.detach = exec_detach,
	.room = exec_room,
	.start = exec_start,
	.result = exec_result,
	.cancel = exec_cancel,
};

/* ---- recovery after a crash ------------------------------------------------------- */

/* The exec tasks this node was running before it started: their children
 * died with the previous process. They fail as server_restarted, and
 * retry under their policy. */
static int fire_orphans(engine *e, const deadline *d, int64_t now)
{
	UNUSED(d);
	exec_state *s = state_of(e);
	weft_id *ids = NULL;
	size_t n = 0;
	/* A database of its own (SQLite) has no other node: every exec task
	 * left running is this server's, whatever its node id was then. */
	int rc = store_exec_tasks_orphaned(e->w, e->shared ? s->worker : NULL, s->booted_at, ORPHANS_PER_STEP, &ids,
	                                   &n);
	/* The process group of a child outlives it: what the task started in
	 * the background is found by the mark in its environment. */
	char **marks = xcalloc(n ? n : 1, sizeof *marks);
	for (size_t i = 0; i < n; i++)
		marks[i] = xasprintf("WEFT_TASK_ID=%s", ids[i].str);
	size_t killed = proc_kill_marked((const char *const *)marks, n);
	if (killed > 0)
		log_info("exec", "killed %zu processes left by exec tasks of the previous run", killed);
	for (size_t i = 0; i < n; i++)
		free(marks[i]);
	free(marks);
	exec_report *reports = xcalloc(n ? n : 1, sizeof *reports);
	for (size_t i = 0; i < n; i++)
		reports[i] = (exec_report){ .id = ids[i], .error_code = "server_restarted" };
	weft_id *applied = NULL;
	size_t napplied = 0;
	if (rc == 0)
		rc = store_exec_tasks_report(e->w, reports, n, &applied, &napplied);
	fail_req *reqs = xcalloc(napplied ? napplied : 1, sizeof *reqs);
	size_t nreqs = 0;
	for (size_t i = 0; i < napplied && rc == 0; i++)
		reqs[nreqs++] = (fail_req){ .id = applied[i], .from_mask = TS_BIT(TS_CLAIMED) | TS_BIT(TS_RUNNING),
			                    .reason = "server_restarted: the server stopped while the process ran",
			                    .cause = RETRY_ON_EXPLICIT, .touch_last_updated = true };
	free(applied);
	free(reports);
	if (rc == 0)
		rc = dag_fail_tasks(e, reqs, nreqs, false, now);
	if (rc == 0 && nreqs > 0)
		log_info("exec", "%zu exec tasks were running when the server stopped: failed as server_restarted",
		         nreqs);
	if (rc == 0 && n == ORPHANS_PER_STEP)
		deadline_arm(e, now, &deadline_exec_orphans, &(weft_id){ 0 });
	free(reqs);
	free(ids);
	return rc;
}

static int recover_orphans(engine *e, int64_t now)
{
	deadline_arm(e, now, &deadline_exec_orphans, &(weft_id){ 0 });
	return 0;
}

const deadline_kind deadline_exec_orphans = {
	.name = "exec_orphans",
	.fire = fire_orphans,
	.recover = recover_orphans,
};

/* ---- a shared database: cancels applied by other nodes ------------------------------ */

/* The children whose tasks' attempts are no longer running are stopped. A launch
 * rolled back with its cycle leaves an id whose task is not running
 * either: a cancel of nothing. */
static int fire_watch(engine *e, const deadline *d, int64_t now)
{
	UNUSED(d);
	exec_state *s = state_of(e);
	if (s == NULL || s->nout == 0)
		return 0;
	task_row *rows = NULL;
	size_t nrows = 0;
	int rc = store_tasks_read(e->w, s->out, s->nout, false, &rows, &nrows);
	if (rc != 0)
		return rc;
	task_rows_sort(rows, nrows);
	task_row *stopped = xcalloc(s->nout, sizeof *stopped);
	size_t nstopped = 0;
	for (size_t i = 0; i < s->nout; i++) {
		const task_row *t = task_rows_find(rows, nrows, &s->out[i]);
		/* Its attempt ended (a retry may run elsewhere since). */
		if (t == NULL || t->status != TS_RUNNING || t->attempt != s->out_attempt[i])
			stopped[nstopped++] = (task_row){ .id = s->out[i] };
	}
	rc = exec_cancel(e, stopped, nstopped, now);
	free(stopped);
	store_free_tasks(rows, nrows);
	deadline_arm(e, now + EXEC_WATCH_US, &deadline_exec_watch, &(weft_id){ 0 });
	return rc;
}

const deadline_kind deadline_exec_watch = {
	.name = "exec_watch",
	.fire = fire_watch,
};
