/*
 * proc.h — one job's child process, for `weft worker` and the exec
 * executor (exec/process_executor.c).
 *
 * A job runs as a fresh process: its own process group (so that a timeout
 * or a cancel reaches everything it started), SIGKILL when the thread that
 * started it dies (PR_SET_PDEATHSIG), the default signal mask and
 * dispositions, no descriptor of the worker but 0, 1 and 2, and the
 * program run with execve, never through a shell: the job's input reaches
 * it only on stdin, as the JSON text and a newline.
 *
 * stdout is the result, kept up to a limit; stderr is copied through to
 * the worker's stderr, its last PROC_STDERR_TAIL bytes kept for the error
 * message. When the main child exits, what is left of its process group is
 * killed: a job's processes end with it.
 *
 * A proc is driven by an event loop: proc_pollfds() says which descriptors
 * to poll (a pidfd tells the child's exit, so no SIGCHLD is needed),
 * proc_handle() does the I/O they are ready for, and proc_tick() acts on
 * proc_deadline() (the timeout's SIGTERM, the grace's SIGKILL). When
 * proc_finished() says so, proc_take_outcome() gives the job's outcome and
 * proc_free() releases the rest. proc_run() is that loop for one process.
 *
 * Times are clock_mono_us() microseconds. A proc belongs to one thread:
 * the one that started it (PR_SET_PDEATHSIG is tied to it).
 */
#ifndef WEFT_EXEC_PROC_H
#define WEFT_EXEC_PROC_H

#include "util/common.h"
#include "util/buf.h"
#include <jansson.h>
#include <poll.h>
#include <sys/types.h>

#define PROC_OUTPUT_MAX ((size_t)1 << 20)        /* stdout kept as the result (the API's payload limit) */
#define PROC_STDERR_TAIL 4096                    /* stderr bytes kept for the message */
#define PROC_MESSAGE_MAX 4096                    /* the API's limit on error.message */
#define PROC_PARENTS_ENV_MAX (64 * 1024)         /* WEFT_PARENTS above this goes to a file */
#define PROC_POLLFDS 4                           /* descriptors one proc polls at most */
#define PROC_READ_CHUNK 65536                    /* bytes on_output gets at most at once */
#define PROC_HOLD_RECHECK_US (5 * 1000LL)        /* output held: how often output_room is asked again */
#define PROC_DEFAULT_PERMANENT_EXIT 100

typedef struct proc_spec {
	const char *path;            /* the program: a path with '/', or a name looked up in PATH */
	char *const *argv;           /* argv[0..], NULL-terminated */
	const char *input;           /* the job's input JSON (compact), written with a "\n"; NULL: "null" */
	size_t input_len;
	/* "NAME=VALUE" entries for the child, NULL-terminated (or NULL): they
	 * replace inherited variables of the same name. */
	char *const *env;
	/* the parents' JSON: WEFT_PARENTS, or above PROC_PARENTS_ENV_MAX a
	 * 0600 file named by WEFT_PARENTS_FILE, removed by proc_free. NULL:
	 * neither is set. */
	const char *parents_json;
	const char *tmp_dir;         /* for the parents file; NULL: $TMPDIR or /tmp */
	int64_t timeout_us;          /* from the start; 0: none */
	int64_t kill_grace_us;       /* SIGTERM to SIGKILL; 0: 10 s */
	int permanent_exit;          /* this exit code is not retryable; <0: every code is */
	int stderr_copy_fd;          /* where the child's stderr goes as it arrives; -1: nowhere */
	size_t output_max;           /* 0: PROC_OUTPUT_MAX (tests lower it) */
	/* Optional: every chunk read from the child's stdout (is_stdout) or
	 * stderr, as it arrives, on the thread driving the proc (the exec
	 * executor and `weft worker` cut them into log lines); NULL: none. */
	void (*on_output)(void *arg, bool is_stdout, const char *data, size_t n);
	void *output_arg;
	/* Optional, with on_output: false while the taker of the output has
	 * no room for a chunk more. The child's stdout and stderr are then
	 * left unread, so that it waits on its full pipe instead of its lines
	 * being lost, and proc_deadline() asks for a tick within
	 * PROC_HOLD_RECHECK_US to ask again. NULL: always read. */
	bool (*output_room)(void *arg);
	const char *cwd;             /* the child's working directory; NULL: the worker's */
	/* The child inherits only PATH, HOME, LANG, LC_ALL, TZ, TMPDIR, USER
	 * and LOGNAME of this process's environment (then env): a server's
	 * own variables (its database URL, its tokens) stay out of the
	 * programs it runs. */
	bool clean_env;
} proc_spec;

typedef struct proc_outcome {
	bool ok;
	json_t *result;              /* ok: the result (owned; JSON null for no output) */
	/* failed: */
	char code[64];               /* exit_<n>, signal_<name>, timeout, result_too_large, exec_failed, canceled */
	char *message;               /* owned, valid UTF-8, at most PROC_MESSAGE_MAX bytes */
	bool retryable;
	/* what happened, for logs and tests */
	int exit_code;               /* -1 when killed by a signal */
	int term_signal;             /* 0 when it exited */
} proc_outcome;

void proc_outcome_release(proc_outcome *o);

typedef struct proc proc;

/* Makes room for n more descriptors in this process (a running job holds
 * PROC_POLLFDS): raises the soft RLIMIT_NOFILE, up to the hard one, when
 * it is too low. Children get the soft limit back as it was, for programs
 * that walk every possible descriptor. 0, or -1 with a message when the
 * hard limit is too low. Call it before starting threads. */
int proc_reserve_fds(size_t n, char *err, size_t errlen);

/* Looks name up in PATH (a name with '/' is taken as it is) and checks it
 * can be executed. The owned path, or NULL with a message in err. */
char *proc_resolve(const char *name, char *err, size_t errlen);

/* Starts the child. 0 and *out, or -1 with a message in err (nothing is
 * left running). spec and what it points to may be freed after the call. */
int proc_start(const proc_spec *spec, proc **out, char *err, size_t errlen);

pid_t proc_pid(const proc *p);
/* Fills fds (room for PROC_POLLFDS) with what p waits on; the count. */
size_t proc_pollfds(const proc *p, struct pollfd *fds);
/* Acts on the revents of the fds proc_pollfds() gave. */
void proc_handle(proc *p, const struct pollfd *fds, size_t n);
/* When p next needs proc_tick() (INT64_MAX: never). */
int64_t proc_deadline(const proc *p);
void proc_tick(proc *p, int64_t now_us);
/* Stops the job for a cancel or a lost lease: SIGTERM to its group, SIGKILL
 * after the grace. Its outcome is then `canceled`. */
void proc_cancel(proc *p);
/* SIGKILL to its group at once (the worker is going away). */
void proc_kill_now(proc *p);
/* The child has exited and its output was read. */
bool proc_finished(const proc *p);
/* The outcome of a finished proc, moved into *o. */
void proc_take_outcome(proc *p, proc_outcome *o);
/* Kills and reaps what is still running, closes everything, removes the
 * parents file. NULL is allowed. */
void proc_free(proc *p);

/* Sends SIGKILL to every process of this system (that this user may read)
 * whose environment holds one of the n entries (each "NAME=VALUE"), this
 * process excepted: what a child left behind after its parent died (a
 * process group outlives its leader). The number killed. */
size_t proc_kill_marked(const char *const *entries, size_t n);

/* Runs one job to its end (the loop above). 0 with *o filled, or -1 when
 * it could not start (message in err). */
int proc_run(const proc_spec *spec, proc_outcome *o, char *err, size_t errlen);

/* The result of a successful job's stdout: JSON when it parses without its
 * trailing newline, else a JSON string of it (invalid UTF-8 replaced);
 * null for no output. New reference. */
json_t *proc_result_of(const char *out, size_t len);

#endif
