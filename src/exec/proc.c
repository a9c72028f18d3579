/*
 * proc.c — one job's child process (see proc.h).
 *
 * fork rather than posix_spawn: PR_SET_PDEATHSIG has no spawn attribute.
 * Everything the child needs (the program's path, argv, the environment)
 * is built before the fork, so that the child, a copy of a threaded
 * process, only makes async-signal-safe calls before execve. Whether
 * execve worked comes back on a close-on-exec pipe: EOF means it did, an
 * errno means it did not.
 */
#include "exec/proc.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_KILL_GRACE_US (10 * 1000000LL)
/* After the child exits, how long its pipes may stay open (a process that
 * left the group and kept them) before they are closed unread. */
#define DRAIN_AFTER_EXIT_US (1000 * 1000LL)
#define READ_CHUNK PROC_READ_CHUNK
/* Held output keeps the pipes open past DRAIN_AFTER_EXIT_US, but not
 * longer than this after the exit. */
#define HELD_DRAIN_MAX_US (30 * 1000000LL)

extern char **environ;

typedef enum { STOP_NONE, STOP_TIMEOUT, STOP_CANCELED } stop_reason;

struct proc {
	pid_t pid;
	int pidfd;
	int in_fd, out_fd, err_fd;         /* parent's ends, -1 once closed */
	buf input;                         /* input + "\n" */
	size_t input_off;
	buf out;                           /* stdout, up to output_max */
	size_t output_max;
	bool out_too_large;
	char err_tail[2 * PROC_STDERR_TAIL];
	size_t err_len;
	int stderr_copy_fd;
	void (*on_output)(void *arg, bool is_stdout, const char *data, size_t n);
	void *output_arg;
	bool (*output_room)(void *arg);
	bool held;                         /* output_room said no: out_fd and err_fd are not read */
	int64_t recheck_at;                /* held: when output_room is asked again */
	int64_t reaped_at;
	int permanent_exit;
	int64_t started_at, timeout_at, kill_at, drain_until;
	int64_t kill_grace_us;
	stop_reason stop;
	bool reaped;
	int wstatus;
	char *parents_file;                /* owned; removed by proc_free */
};

void proc_outcome_release(proc_outcome *o)
{
	json_decref(o->result);
	free(o->message);
	memset(o, 0, sizeof(*o));
}

/* ---- text ----------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at s[0..n), 0 when it is not one
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	uint32_t cp;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return len;
}

/* s[0..n) as valid UTF-8, each invalid byte replaced by U+FFFD. */
static void utf8_clean(const char *s, size_t n, buf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		size_t l = utf8_seq(u + i, n - i);
		if (l == 0) {
			buf_puts(out, "\xEF\xBF\xBD");
			i++;
		} else {
			buf_append(out, s + i, l);
			i += l;
		}
	}
}

/* Drops the bytes at the start of s[0..*n) that continue a sequence, so
 * that a text cut at an arbitrary byte starts on a character. */
static const char *skip_continuation(const char *s, size_t *n)
{
	while (*n > 0 && ((unsigned char)*s & 0xC0) == 0x80) {
		s++;
		(*n)--;
	}
	return s;
}

json_t *proc_result_of(const char *out, size_t len)
{
	if (len == 0)
		return json_null();
	size_t l = len;
	if (out[l - 1] == '\n') {
		l--;
		if (l > 0 && out[l - 1] == '\r')
			l--;
	}
	char err[160];
	json_t *v = json_parse_body(out, l, JSON_DEFAULT_MAX_DEPTH, err, sizeof(err));
	if (v)
		return v;
	buf b;
	buf_init(&b);
	utf8_clean(out, l, &b);
	v = json_stringn(b.data, b.len);
	buf_release(&b);
	return v ? v : json_string("");
}

/* ---- starting ----------------------------------------------------------- */

/* The descriptor limit children get back, when proc_reserve_fds raised
 * this process's (written before any thread starts, read by children). */
static struct rlimit child_nofile;
static bool restore_nofile;

int proc_reserve_fds(size_t n, char *err, size_t errlen)
{
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
		snprintf(err, errlen, "getrlimit: %s", strerror(errno));
		return -1;
	}
	rlim_t need = (rlim_t)n + 64;   /* and what the process has open besides */
	if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur >= need)
		return 0;
	if (lim.rlim_cur == RLIM_INFINITY)
		return 0;
	if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < need) {
		snprintf(err, errlen, "%zu descriptors are needed, and the hard limit is %llu (ulimit -Hn)", (size_t)need,
		         (unsigned long long)lim.rlim_max);
		return -1;
	}
	struct rlimit raised = { .rlim_cur = need, .rlim_max = lim.rlim_max };
	if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
		snprintf(err, errlen, "setrlimit(RLIMIT_NOFILE, %zu): %s", (size_t)need, strerror(errno));
		return -1;
	}
	if (!restore_nofile) {
		child_nofile = lim;
		restore_nofile = true;
	}
	return 0;
}

static bool executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *proc_resolve(const char *name, char *err, size_t errlen)
{
	if (!name || !*name) {
		snprintf(err, errlen, "no command given");
		return NULL;
	}
	if (strchr(name, '/')) {
		if (executable(name))
			return xstrdup(name);
		snprintf(err, errlen, "%s: %s", name, access(name, F_OK) == 0 ? "not an executable file" : strerror(errno));
		return NULL;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path;;) {
		const char *colon = strchr(p, ':');
		size_t dl = colon ? (size_t)(colon - p) : strlen(p);
		char *cand = dl ? xasprintf("%.*s/%s", (int)dl, p, name) : xasprintf("./%s", name);
		if (executable(cand))
			return cand;
		free(cand);
		if (!colon)
			break;
		p = colon + 1;
	}
	snprintf(err, errlen, "%s: command not found in PATH", name);
	return NULL;
}

static bool env_name_is(const char *entry, const char *name_eq)
{
	size_t n = strcspn(name_eq, "=");
	return strncmp(entry, name_eq, n) == 0 && entry[n] == '=';
}

/* The child's environment: the worker's, without the variables the job
 * gets its own value of (or that must not leak from the worker's own
 * environment), then spec->env and extra. The array is owned, the strings
 * are borrowed. */
static bool env_kept_clean(const char *entry)
{
	static const char *const kept[] = { "PATH=", "HOME=", "LANG=", "LC_ALL=", "TZ=", "TMPDIR=", "USER=", "LOGNAME=" };
	for (size_t i = 0; i < ARRAY_LEN(kept); i++)
		if (env_name_is(entry, kept[i]))
			return true;
	return false;
}

static char **build_env(char *const *spec_env, const char *extra, bool clean)
{
	static const char *const managed[] = { "WEFT_PARENTS=", "WEFT_PARENTS_FILE=" };
	size_t n = 0, m = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	for (char *const *e = spec_env; e && *e; e++)
		m++;
	char **env = xcalloc(n + m + 2, sizeof(char *));
	size_t k = 0;
	for (char **e = environ; e && *e; e++) {
		bool drop = clean && !env_kept_clean(*e);
		for (size_t i = 0; i < ARRAY_LEN(managed) && !drop; i++)
			drop = env_name_is(*e, managed[i]);
		for (char *const *s = spec_env; s && *s && !drop; s++)
			drop = env_name_is(*e, *s);
		if (!drop)
			env[k++] = *e;
	}
	for (char *const *s = spec_env; s && *s; s++)
		env[k++] = *s;
	if (extra)
		env[k++] = (char *)extra;
	env[k] = NULL;
	return env;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The parents' JSON as a variable, or in a 0600 file for a large one.
 * The owned "NAME=VALUE" entry, or NULL with a message. */
static char *parents_entry(proc *p, const proc_spec *spec, char *err, size_t errlen)
{
	size_t len = strlen(spec->parents_json);
	if (len <= PROC_PARENTS_ENV_MAX)
		return xasprintf("WEFT_PARENTS=%s", spec->parents_json);
	const char *dir = spec->tmp_dir ? spec->tmp_dir : getenv("TMPDIR");
	char *path = xasprintf("%s/weft-parents-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkostemp(path, O_CLOEXEC);   /* mode 0600 */
	if (fd < 0) {
		snprintf(err, errlen, "cannot create the parents file %s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	int rc = write_all(fd, spec->parents_json, len);
	if (close(fd) != 0 || rc != 0) {
		snprintf(err, errlen, "cannot write the parents file %s: %s", path, strerror(errno));
		unlink(path);
		free(path);
		return NULL;
	}
	p->parents_file = path;
	return xasprintf("WEFT_PARENTS_FILE=%s", path);
}

/* A pipe whose ends are both above 2 (the child's dup2 onto 0..2 must not
 * clobber one of them) and close-on-exec. */
static int pipe_above_stdio(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (fds[i] > 2)
			continue;
		int moved = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (moved < 0) {
			close(fds[0]);
			close(fds[1]);
			return -1;
		}
		close(fds[i]);
		fds[i] = moved;
	}
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* The C library keeps two real-time signals for itself and refuses to
 * change them, yet a process may inherit them ignored (as any signal) and
 * would pass that on through execve: the kernel's call sets them back to
 * the default. Its sigaction layout is the handler, the flags, the
 * restorer and the mask. */
static void reset_reserved_signal(int sig)
{
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} dfl = { SIG_DFL, 0, NULL, 0 };
	syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
}

/* In the forked child: only async-signal-safe calls. */
WEFT_NORETURN static void child_exec(const char *path, char *const *argv, char *const *envp, const char *cwd,
                                     const int in[2], const int out[2], const int errp[2], int report_fd,
                                     pid_t parent)
{
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)   /* the parent died before prctl */
		_exit(127);
	/* Ignored signals stay ignored across execve (the worker ignores
	 * SIGPIPE): every disposition back to the default, then the mask. */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (sigaction(s, &dfl, NULL) != 0)
			reset_reserved_signal(s);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (restore_nofile)
		setrlimit(RLIMIT_NOFILE, &child_nofile);
	if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(errp[1], 2) < 0)
		goto fail;
	if (cwd != NULL && chdir(cwd) != 0)
		goto fail;
	/* Every other descriptor closes at execve; the report pipe with it. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	execve(path, argv, envp);
fail:;
	int e = errno;
	ssize_t w = write(report_fd, &e, sizeof(e));
	(void)w;
	_exit(127);
}

static void set_nonblocking(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int proc_start(const proc_spec *spec, proc **out, char *err, size_t errlen)
{
	*out = NULL;
	char *path = proc_resolve(spec->path, err, errlen);
	if (!path)
		return -1;
	proc *p = xcalloc(1, sizeof(*p));
	p->pid = -1;
	p->pidfd = p->in_fd = p->out_fd = p->err_fd = -1;
	buf_init(&p->input);
	buf_init(&p->out);
	p->output_max = spec->output_max ? spec->output_max : PROC_OUTPUT_MAX;
	p->stderr_copy_fd = spec->stderr_copy_fd;
	p->on_output = spec->on_output;
	p->output_arg = spec->output_arg;
	p->output_room = spec->on_output ? spec->output_room : NULL;
	p->permanent_exit = spec->permanent_exit;
	p->kill_grace_us = spec->kill_grace_us > 0 ? spec->kill_grace_us : DEFAULT_KILL_GRACE_US;
	p->kill_at = p->drain_until = INT64_MAX;
	if (spec->input)
		buf_append(&p->input, spec->input, spec->input_len);
	else
		buf_puts(&p->input, "null");
	buf_putc(&p->input, '\n');

	char *parents = NULL;
	if (spec->parents_json && !(parents = parents_entry(p, spec, err, errlen))) {
		free(path);
		proc_free(p);
		return -1;
	}
	char **envp = build_env(spec->env, parents, spec->clean_env);

	int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, report[2] = { -1, -1 };
	int rc = -1;
	if (pipe_above_stdio(in) || pipe_above_stdio(outp) || pipe_above_stdio(errp) || pipe_above_stdio(report)) {
		snprintf(err, errlen, "cannot create pipes: %s", strerror(errno));
		goto out;
	}
	pid_t parent = getpid();
	/* vfork: no copy of the server's page tables (a fork of a large
	 * process costs milliseconds); this thread waits until the child has
	 * called execve or _exit, and the child makes only system calls.
	 * Every signal stays blocked across it: the child shares this
	 * process's memory until execve, so a handler of ours must not run
	 * in it before child_exec has set every disposition back to the
	 * default (it then unblocks them all). */
	sigset_t all, before;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &before);
	pid_t pid = vfork();
	if (pid != 0)
		pthread_sigmask(SIG_SETMASK, &before, NULL);
	if (pid < 0) {
		snprintf(err, errlen, "cannot fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(path, spec->argv, envp, spec->cwd, in, outp, errp, report[1], parent);
	/* Both sides set the group, so that it exists whichever runs first. */
	setpgid(pid, pid);
	p->pid = pid;
	close_fd(&in[0]);
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	close_fd(&report[1]);
	int child_errno = 0;
	ssize_t r;
	do
		r = read(report[0], &child_errno, sizeof(child_errno));
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		if (spec->cwd != NULL)
			snprintf(err, errlen, "cannot run %s in %s: %s", path, spec->cwd, strerror(child_errno));
		else
			snprintf(err, errlen, "cannot run %s: %s", path, strerror(child_errno));
		goto out;   /* proc_free reaps it */
	}
	p->pidfd = pidfd_open(pid, 0);
	if (p->pidfd < 0) {
		snprintf(err, errlen, "pidfd_open: %s", strerror(errno));
		goto out;
	}
	p->in_fd = in[1];
	p->out_fd = outp[0];
	p->err_fd = errp[0];
	in[1] = outp[0] = errp[0] = -1;
	set_nonblocking(p->in_fd);
	set_nonblocking(p->out_fd);
	set_nonblocking(p->err_fd);
	p->started_at = clock_mono_us();
	p->timeout_at = spec->timeout_us > 0 ? p->started_at + spec->timeout_us : INT64_MAX;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&outp[i]);
		close_fd(&errp[i]);
		close_fd(&report[i]);
	}
	free(envp);
	free(parents);
	free(path);
	if (rc != 0) {
		proc_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

/* ---- running ------------------------------------------------------------ */

pid_t proc_pid(const proc *p)
{
	return p->pid;
}

/* The group is signalled only before the child is reaped: until then its
 * pid, which is the group's id, cannot be reused. */
static void signal_group(proc *p, int sig)
{
	if (p->pid > 0 && !p->reaped)
		kill(-p->pid, sig);
}

size_t proc_pollfds(const proc *p, struct pollfd *fds)
{
	size_t n = 0;
	if (!p->reaped && p->pidfd >= 0)
		fds[n++] = (struct pollfd){ .fd = p->pidfd, .events = POLLIN };
	if (p->in_fd >= 0)
		fds[n++] = (struct pollfd){ .fd = p->in_fd, .events = POLLOUT };
	if (p->out_fd >= 0 && !p->held)
		fds[n++] = (struct pollfd){ .fd = p->out_fd, .events = POLLIN };
	if (p->err_fd >= 0 && !p->held)
		fds[n++] = (struct pollfd){ .fd = p->err_fd, .events = POLLIN };
	return n;
}

static void write_input(proc *p)
{
	while (p->input_off < p->input.len) {
		ssize_t w = write(p->in_fd, p->input.data + p->input_off, p->input.len - p->input_off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0)
			break;   /* EPIPE: the child does not read its input */
		p->input_off += (size_t)w;
	}
	close_fd(&p->in_fd);   /* EOF tells the child the input is complete */
}

static void keep_stdout(proc *p, const char *data, size_t n)
{
	if (p->out_too_large)
		return;
	if (p->out.len + n > p->output_max) {
		/* the child keeps writing into the pipe: read on, keep nothing */
		p->out_too_large = true;
		buf_release(&p->out);
		buf_init(&p->out);
		return;
	}
	buf_append(&p->out, data, n);
}

static void keep_stderr(proc *p, const char *data, size_t n)
{
	if (p->stderr_copy_fd >= 0)
		(void)write_all(p->stderr_copy_fd, data, n);
	if (n >= PROC_STDERR_TAIL) {
		memcpy(p->err_tail, data + n - PROC_STDERR_TAIL, PROC_STDERR_TAIL);
		p->err_len = PROC_STDERR_TAIL;
		return;
	}
	if (p->err_len + n > sizeof(p->err_tail)) {
		size_t keep = PROC_STDERR_TAIL - n;
		memmove(p->err_tail, p->err_tail + p->err_len - keep, keep);
		p->err_len = keep;
	}
	memcpy(p->err_tail + p->err_len, data, n);
	p->err_len += n;
}

/* Reads what fd has; closes it at EOF or on an error. */
static void read_pipe(proc *p, int *fd, bool is_stdout)
{
	char chunk[READ_CHUNK];
	for (;;) {
		if (p->held)
			return;
		if (p->output_room && !p->output_room(p->output_arg)) {
			p->held = true;
			p->recheck_at = clock_mono_us() + PROC_HOLD_RECHECK_US;
			return;
		}
		ssize_t r = read(*fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			close_fd(fd);
			return;
		}
		if (p->on_output)
			p->on_output(p->output_arg, is_stdout, chunk, (size_t)r);
		if (is_stdout)
			keep_stdout(p, chunk, (size_t)r);
		else
			keep_stderr(p, chunk, (size_t)r);
	}
}

static void reap(proc *p)
{
	/* Whatever the job left behind goes with it; the group's id is still
	 * reserved by the unreaped child. */
	signal_group(p, SIGKILL);
	pid_t r;
	do
		r = waitpid(p->pid, &p->wstatus, 0);
	while (r < 0 && errno == EINTR);
	p->reaped = true;
	close_fd(&p->pidfd);
	close_fd(&p->in_fd);
	p->reaped_at = clock_mono_us();
	p->drain_until = p->reaped_at + DRAIN_AFTER_EXIT_US;
}

void proc_handle(proc *p, const struct pollfd *fds, size_t n)
{
	bool exited = false;
	for (size_t i = 0; i < n; i++) {
		if (!fds[i].revents)
			continue;
		int fd = fds[i].fd;
		if (fd == p->pidfd)
			exited = true;
		else if (fd == p->in_fd)
			write_input(p);
		else if (fd == p->out_fd)
			read_pipe(p, &p->out_fd, true);
		else if (fd == p->err_fd)
			read_pipe(p, &p->err_fd, false);
	}
	if (exited && !p->reaped)
		reap(p);
}

int64_t proc_deadline(const proc *p)
{
	if (p->reaped) {
		if (p->out_fd < 0 && p->err_fd < 0)
			return INT64_MAX;
		return p->held ? MIN(p->recheck_at, p->reaped_at + HELD_DRAIN_MAX_US) : p->drain_until;
	}
	int64_t due = p->stop == STOP_NONE ? p->timeout_at : p->kill_at;
	return p->held ? MIN(due, p->recheck_at) : due;
}

/* Held output is read again once its taker has room; what the pipes still
 * hold after an exit gets the drain's time again from then, up to a bound. */
static void recheck_held(proc *p, int64_t now_us)
{
	if (!p->held || now_us < p->recheck_at)
		return;
	if (!p->output_room(p->output_arg)) {
		p->recheck_at = now_us + PROC_HOLD_RECHECK_US;
		return;
	}
	p->held = false;
	if (p->reaped)
		p->drain_until = MIN(MAX(p->drain_until, now_us + DRAIN_AFTER_EXIT_US), p->reaped_at + HELD_DRAIN_MAX_US);
}

static void stop(proc *p, stop_reason why, int64_t now_us)
{
	if (p->reaped || p->stop != STOP_NONE)
		return;
	p->stop = why;
	signal_group(p, SIGTERM);
	p->kill_at = now_us + p->kill_grace_us;
}

void proc_tick(proc *p, int64_t now_us)
{
	recheck_held(p, now_us);
	if (p->reaped) {
		if (now_us >= p->drain_until && (!p->held || now_us >= p->reaped_at + HELD_DRAIN_MAX_US)) {
			close_fd(&p->out_fd);
			close_fd(&p->err_fd);
		}
		return;
	}
	if (p->stop == STOP_NONE && now_us >= p->timeout_at)
		stop(p, STOP_TIMEOUT, now_us);
	else if (p->stop != STOP_NONE && now_us >= p->kill_at) {
		signal_group(p, SIGKILL);
		p->kill_at = INT64_MAX;
	}
}

void proc_cancel(proc *p)
{
	stop(p, STOP_CANCELED, clock_mono_us());
}

void proc_kill_now(proc *p)
{
	if (p->stop == STOP_NONE)
		p->stop = STOP_CANCELED;
	signal_group(p, SIGKILL);
	p->kill_at = INT64_MAX;
}

bool proc_finished(const proc *p)
{
	return p->reaped && p->out_fd < 0 && p->err_fd < 0;
}

/* ---- the outcome -------------------------------------------------------- */

/* "<what>" or "<what>: <stderr's tail>", valid UTF-8, at most
 * PROC_MESSAGE_MAX bytes: the end of stderr is what explains a failure. */
static char *failure_message(const proc *p, const char *what)
{
	buf b;
	buf_init(&b);
	buf_puts(&b, what);
	size_t n = p->err_len;
	const char *tail = p->err_tail;
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r' || tail[n - 1] == ' '))
		n--;
	size_t room = PROC_MESSAGE_MAX - b.len - 2;
	if (n > 0) {
		/* cleaning may grow the text (3 bytes per bad byte): cut twice */
		if (n > room) {
			tail += n - room;
			n = room;
		}
		buf clean;
		buf_init(&clean);
		tail = skip_continuation(tail, &n);
		utf8_clean(tail, n, &clean);
		size_t cl = clean.len;
		const char *c = clean.data;
		if (cl > room) {
			c += cl - room;
			cl = room;
			c = skip_continuation(c, &cl);
		}
		buf_puts(&b, ": ");
		buf_append(&b, c, cl);
		buf_release(&clean);
	}
	return buf_detach(&b, NULL);
}

static void fail_with(proc_outcome *o, const char *code, bool retryable, char *message)
{
	o->ok = false;
	snprintf(o->code, sizeof(o->code), "%s", code);
	o->retryable = retryable;
	o->message = message;
}

/* "sigkill" for SIGKILL: error codes are lower case. */
static void signal_name(int sig, char *out, size_t n)
{
	const char *abbrev = sigabbrev_np(sig);
	if (!abbrev) {
		snprintf(out, n, "%d", sig);
		return;
	}
	size_t i = 0;
	for (const char *s = "sig"; *s && i + 1 < n; s++)
		out[i++] = *s;
	for (const char *s = abbrev; *s && i + 1 < n; s++)
		out[i++] = (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
	out[i] = '\0';
}

void proc_take_outcome(proc *p, proc_outcome *o)
{
	memset(o, 0, sizeof(*o));
	int st = p->wstatus;
	o->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	o->term_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	char what[160], code[64];
	if (p->stop == STOP_TIMEOUT) {
		double secs = (double)(p->timeout_at - p->started_at) / 1e6;
		snprintf(what, sizeof(what), "timed out after %.3g s", secs);
		fail_with(o, "timeout", true, failure_message(p, what));
	} else if (p->stop == STOP_CANCELED) {
		fail_with(o, "canceled", false, failure_message(p, "stopped: the lease was canceled or lost"));
	} else if (o->term_signal) {
		char name[32];
		signal_name(o->term_signal, name, sizeof(name));
		snprintf(code, sizeof(code), "signal_%s", name);
		snprintf(what, sizeof(what), "killed by signal %s (%d)", sigabbrev_np(o->term_signal) ?: "?",
		         o->term_signal);
		fail_with(o, code, true, failure_message(p, what));
	} else if (o->exit_code != 0) {
		snprintf(code, sizeof(code), "exit_%d", o->exit_code);
		snprintf(what, sizeof(what), "exited with status %d", o->exit_code);
		fail_with(o, code, o->exit_code != p->permanent_exit, failure_message(p, what));
	} else if (p->out_too_large) {
		snprintf(what, sizeof(what), "the output is larger than %zu bytes", p->output_max);
		fail_with(o, "result_too_large", false, failure_message(p, what));
	} else {
		o->ok = true;
		o->result = proc_result_of(p->out.data, p->out.len);
	}
}

void proc_free(proc *p)
{
	if (!p)
		return;
	if (p->pid > 0 && !p->reaped)
		reap(p);
	close_fd(&p->pidfd);
	close_fd(&p->in_fd);
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
	if (p->parents_file) {
		unlink(p->parents_file);
		free(p->parents_file);
	}
	buf_release(&p->input);
	buf_release(&p->out);
	free(p);
}

/* The environment of process pid, each entry NUL-terminated, after one
 * NUL (so that every entry is preceded by one). false when unreadable. */
static bool read_environ(const char *pid, buf *out)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%s/environ", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	out->len = 0;
	buf_putc(out, '\0');
	char chunk[READ_CHUNK];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		buf_append(out, chunk, (size_t)r);
	}
	close(fd);
	return true;
}

size_t proc_kill_marked(const char *const *entries, size_t n)
{
	if (n == 0)
		return 0;
	DIR *dir = opendir("/proc");
	if (dir == NULL)
		return 0;
	pid_t self = getpid();
	size_t killed = 0;
	buf env, needle;
	buf_init(&env);
	buf_init(&needle);
	struct dirent *d;
	while ((d = readdir(dir)) != NULL) {
		char *end = NULL;
		long pid = strtol(d->d_name, &end, 10);
		if (pid <= 0 || *end != '\0' || pid == self || !read_environ(d->d_name, &env))
			continue;
		for (size_t i = 0; i < n; i++) {
			needle.len = 0;
			buf_putc(&needle, '\0');
			buf_puts(&needle, entries[i]);
			buf_putc(&needle, '\0');
			if (memmem(env.data, env.len, needle.data, needle.len) != NULL) {
				if (kill((pid_t)pid, SIGKILL) == 0)
					killed++;
				break;
			}
		}
	}
	closedir(dir);
	buf_release(&env);
	buf_release(&needle);
	return killed;
}

int proc_run(const proc_spec *spec, proc_outcome *o, char *err, size_t errlen)
{
	proc *p;
	if (proc_start(spec, &p, err, errlen) != 0)
		return -1;
	while (!proc_finished(p)) {
		struct pollfd fds[PROC_POLLFDS];
		size_t n = proc_pollfds(p, fds);
		int64_t due = proc_deadline(p), now = clock_mono_us();
		int ms = due == INT64_MAX ? -1 : due <= now ? 0 : (int)MIN((due - now + 999) / 1000, 60000);
		if (poll(fds, n, ms) > 0)
			proc_handle(p, fds, n);
		proc_tick(p, clock_mono_us());
	}
	proc_take_outcome(p, o);
	proc_free(p);
	return 0;
}
