/*
 * nodes.c — the servers of a `weft bench` run: each one a child process
 * `weft serve --port N --db ...` on a free port of 127.0.0.1, its output in
 * its own log file; started one after the other, stopped all at once.
 *
 * The binary is this one or, with --server, another weft build; the command
 * line and the environment variables the bench sets are the same for both,
 * so that builds older than the bench can be measured by it.
 */
#include "cli/bench/bench_impl.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define HEALTH_DEADLINE_US (10 * 1000000LL)
#define HEALTH_POLL_US 10000
#define STOP_DEADLINE_US (10 * 1000000LL)

int bench_resolve_server(bench *b)
{
	if (!b->opt.server) {
		char exe[4096];
		ssize_t el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (el <= 0) {
			fprintf(stderr, "weft bench: cannot read /proc/self/exe: %s\n", strerror(errno));
			return -1;
		}
		exe[el] = '\0';
		b->server = xstrdup(exe);
		return 0;
	}
	/* Absolute, so that it does not depend on the directory the nodes
	 * run in; checked before anything starts rather than seen as a
	 * node's exit status 127. */
	char *path = realpath(b->opt.server, NULL);
	struct stat st;
	const char *why = !path ? strerror(errno)
	                  : stat(path, &st) != 0 ? strerror(errno)
	                  : !S_ISREG(st.st_mode) ? "not a file"
	                  : access(path, X_OK) != 0 ? strerror(errno)
	                  : NULL;
	if (why) {
		fprintf(stderr, "weft bench: --server %s: %s\n", b->opt.server, why);
		free(path);
		return -1;
	}
	b->server = xstrdup(path);
	free(path);
	return 0;
}

void bench_sleep_us(int64_t us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sa);
	int port = -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Each port is free when asked, and the kernel could hand out the same one
 * twice. */
int bench_node_port(const bench *b, size_t k)
{
	for (int tries = 0; tries < 100; tries++) {
		int port = free_port();
		if (port <= 0)
			return -1;
		bool taken = port == b->sink.port;
		for (size_t i = 0; i < k && !taken; i++)
			taken = b->nodes[i].port == port;
		if (!taken)
			return port;
	}
	return -1;
}

/* The variables the bench sets for the server, whatever the environment
 * says. */
static bool env_overridden(const char *entry)
{
	static const char *const keys[] = {
		"PORT", "HOST_URL", "SKIP_SSRF_VALIDATION", "PAYLOAD_MAX_BYTES", "MAX_TASKS_PER_BATCH",
		"WORKER_WEBHOOK_CONCURRENCY", "WEFT_LOG", "RUST_LOG", "DATABASE_URL", "WEFT_DB",
		"WEBHOOK_DELIVERY_CONCURRENCY", "LOG_BUFFER_LINES", "LOG_BUFFER_BYTES",
	};
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		size_t n = strlen(keys[i]);
		if (strncmp(entry, keys[i], n) == 0 && entry[n] == '=')
			return true;
	}
	return false;
}

/* Everything is prepared before fork() because the sink's threads already
 * run (only async-signal-safe calls between fork and exec). */
static int spawn(bench *b, node *n)
{
	char port_s[16];
	snprintf(port_s, sizeof(port_s), "%d", n->port);
	char *argv[] = { b->server, (char *)"serve", (char *)"--port", port_s, (char *)"--db", b->db, NULL };
	/* This binary is run through /proc/self/exe: the same code, even if
	 * the file was rebuilt meanwhile. */
	const char *exe = b->opt.server ? b->server : "/proc/self/exe";

	size_t nenv = 0;
	while (environ[nenv])
		nenv++;
	char **envp = xcalloc(nenv + 16, sizeof(char *));
	char *owned[16];
	size_t no = 0, ne = 0;
	for (size_t i = 0; i < nenv; i++)
		if (!env_overridden(environ[i]))
			envp[ne++] = environ[i];
	owned[no++] = xasprintf("HOST_URL=%s", n->base);
	owned[no++] = xstrdup("SKIP_SSRF_VALIDATION=1");
	owned[no++] = xstrdup("PAYLOAD_MAX_BYTES=268435456");
	owned[no++] = xstrdup("MAX_TASKS_PER_BATCH=1000000");
	owned[no++] = xasprintf("WORKER_WEBHOOK_CONCURRENCY=%ld", b->opt.concurrency);
	owned[no++] = xasprintf("WEBHOOK_DELIVERY_CONCURRENCY=%ld", b->opt.concurrency);
	owned[no++] = xstrdup("WEFT_LOG=warn");
	/* --logs measures lines written: a buffer that drops none. */
	owned[no++] = xstrdup("LOG_BUFFER_LINES=10000000");
	owned[no++] = xstrdup("LOG_BUFFER_BYTES=1073741824");
	for (size_t i = 0; i < no; i++)
		envp[ne++] = owned[i];
	envp[ne] = NULL;

	int logfd = open(n->logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t parent = getpid();
	pid_t pid = -1;
	if (logfd >= 0 && nullfd >= 0)
		pid = fork();
	if (pid == 0) {
		/* The server must not outlive an interrupted bench. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		dup2(nullfd, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &dfl, NULL);   /* the bench ignores it; exec keeps ignored signals */
		execve(exe, argv, envp);
		_exit(127);
	}
	int saved = errno;
	if (logfd >= 0)
		close(logfd);
	if (nullfd >= 0)
		close(nullfd);
	for (size_t i = 0; i < no; i++)
		free(owned[i]);
	free(envp);
	if (pid < 0) {
		char nm[32];
		log_error("bench", "cannot start %s: %s", bench_node_name(b, n, nm, sizeof(nm)), strerror(saved));
		return -1;
	}
	n->pid = pid;
	b->spawned = true;
	return 0;
}

/* Records how a reaped node ended. */
static void reaped(node *n, int st)
{
	n->pid = 0;
	if (WIFEXITED(st)) {
		n->end = END_EXITED;
		n->end_code = WEXITSTATUS(st);
	} else {
		n->end = END_SIGNALED;
		n->end_code = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	}
}

/* Node still running? Reports how it ended otherwise. */
static bool alive(bench *b, node *n)
{
	if (n->pid <= 0)
		return false;
	int st = 0;
	pid_t w = waitpid(n->pid, &st, WNOHANG);
	if (w == 0)
		return true;
	char nm[32];
	bench_node_name(b, n, nm, sizeof(nm));
	if (w == n->pid) {
		reaped(n, st);
		if (n->end == END_EXITED)
			log_error("bench", "%s exited with status %d (see %s)", nm, n->end_code, n->logpath);
		else
			log_error("bench", "%s was killed by signal %d (see %s)", nm, n->end_code, n->logpath);
	} else {
		n->pid = 0;
		n->end = END_LOST;
	}
	return false;
}

bool bench_nodes_alive(bench *b)
{
	bool all = true;
	for (size_t k = 0; k < b->nnodes; k++)
		if (!alive(b, &b->nodes[k]))
			all = false;
	return all;
}

long bench_proc_kib(pid_t pid, const char *field)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[256];
	size_t fl = strlen(field);
	long v = -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			v = strtol(line + fl + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* Polls GET /health of node n every 10 ms; on success n->startup_us is set. */
static int wait_healthy(bench *b, node *n, int64_t spawned_at)
{
	http_response r;
	http_response_init(&r);
	int rc = -1;
	int64_t deadline = spawned_at + HEALTH_DEADLINE_US;
	http_client_set_timeout(n->ctl, 1000);
	for (;;) {
		if (http_client_request(n->ctl, "GET", "/health", NULL, 0, NULL, &r) == 0 && r.status == 200) {
			rc = 0;
			break;
		}
		if (!alive(b, n))
			break;
		if (clock_mono_us() > deadline) {
			char nm[32];
			if (r.status)
				bench_report_bad("GET /health", &r, 200);
			log_error("bench", "%s did not become healthy within %lld s (see %s)",
			          bench_node_name(b, n, nm, sizeof(nm)), (long long)(HEALTH_DEADLINE_US / 1000000), n->logpath);
			break;
		}
		bench_sleep_us(HEALTH_POLL_US);
	}
	http_client_set_timeout(n->ctl, 0);
	if (rc == 0)
		n->startup_us = clock_mono_us() - spawned_at;
	http_response_release(&r);
	return rc;
}

int bench_start_node(bench *b, node *n)
{
	int64_t spawned = clock_mono_us();
	if (spawn(b, n) != 0)
		return -1;
	return wait_healthy(b, n, spawned);
}

/* A cluster is stopped as a whole: SIGTERM to every running node at once,
 * then each one's exit. A node that had already ended (reported then) or
 * never started fails the run too. */
int bench_stop_nodes(bench *b)
{
	int rc = 0;
	/* A node that died on its own is reported as such, not timed. */
	for (size_t k = 0; k < b->nnodes; k++)
		if (!alive(b, &b->nodes[k]))
			rc = -1;
	int64_t t0 = clock_mono_us();
	for (size_t k = 0; k < b->nnodes; k++)
		if (b->nodes[k].pid > 0)
			kill(b->nodes[k].pid, SIGTERM);
	for (;;) {
		bool waiting = false;
		for (size_t k = 0; k < b->nnodes; k++) {
			node *n = &b->nodes[k];
			if (n->pid <= 0)
				continue;
			int st = 0;
			pid_t w = waitpid(n->pid, &st, WNOHANG);
			if (w == n->pid) {
				n->shutdown_us = clock_mono_us() - t0;
				reaped(n, st);
			} else if (w < 0) {
				log_error("bench", "waitpid: %s", strerror(errno));
				n->pid = 0;
				n->end = END_LOST;
			} else {
				waiting = true;
			}
		}
		if (!waiting)
			break;
		if (clock_mono_us() - t0 > STOP_DEADLINE_US) {
			for (size_t k = 0; k < b->nnodes; k++) {
				node *n = &b->nodes[k];
				if (n->pid <= 0)
					continue;
				char nm[32];
				log_error("bench", "%s did not stop within %lld s of SIGTERM: killing it",
				          bench_node_name(b, n, nm, sizeof(nm)), (long long)(STOP_DEADLINE_US / 1000000));
				kill(n->pid, SIGKILL);
				waitpid(n->pid, NULL, 0);
				n->pid = 0;
				n->end = END_KILLED;
			}
			break;
		}
		bench_sleep_us(5000);
	}

	/* The cluster's shutdown is its slowest node's; the exit status is 0
	 * when every node's is, else the first other one. */
	int64_t slowest = -1;
	bool killed = false;
	const node *bad = NULL;
	for (size_t k = 0; k < b->nnodes; k++) {
		const node *n = &b->nodes[k];
		if (n->shutdown_us > slowest)
			slowest = n->shutdown_us;
		if (n->end == END_KILLED)
			killed = true;
		if (!bad && !(n->end == END_EXITED && n->end_code == 0))
			bad = n;
	}
	if (slowest >= 0 && !killed) {
		bench_figure(b, "shutdown_ms",
		             b->nnodes == 1 ? "shutdown (SIGTERM to exit)" : "shutdown (SIGTERM to all exited)",
		             (double)slowest / 1000.0, 1, "ms");
		for (size_t k = 0; k < b->nnodes && b->nnodes > 1; k++) {
			const node *n = &b->nodes[k];
			char nl[32];
			snprintf(nl, sizeof(nl), "  node %d", n->num);
			if (n->shutdown_us >= 0)
				bench_detail(b, nl, (double)n->shutdown_us / 1000.0, 1, "ms");
		}
	}
	const node *shown = bad ? bad : &b->nodes[0];
	char label[64];
	if (b->nnodes == 1)
		snprintf(label, sizeof(label), "server exit status");
	else if (!bad)
		snprintf(label, sizeof(label), "server exit status, every node");
	else
		snprintf(label, sizeof(label), "server exit status, node %d", bad->num);
	if (shown->end == END_EXITED)
		bench_figure(b, "exit_status", label, shown->end_code, 0, "");
	else
		json_object_set_new(b->report, "exit_status", bench_end_json(shown));
	for (size_t k = 0; k < b->nnodes; k++) {
		const node *n = &b->nodes[k];
		char nm[32];
		bench_node_name(b, n, nm, sizeof(nm));
		if (n->end == END_EXITED && n->end_code == 0)
			continue;
		rc = -1;
		if (n->shutdown_us < 0)
			continue;   /* already reported when it ended */
		if (n->end == END_EXITED)
			log_error("bench", "%s exited with status %d (see %s)", nm, n->end_code, n->logpath);
		else if (n->end == END_SIGNALED)
			log_error("bench", "%s ended on signal %d (see %s)", nm, n->end_code, n->logpath);
	}
	return rc;
}

void bench_kill_nodes(bench *b)
{
	for (size_t k = 0; k < b->nnodes; k++) {
		node *n = &b->nodes[k];
		if (n->pid > 0) {
			kill(n->pid, SIGKILL);
			waitpid(n->pid, NULL, 0);
			n->pid = 0;
		}
	}
}

void bench_remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	if (rmdir(dir) != 0)
		log_warn("bench", "cannot remove %s: %s", dir, strerror(errno));
}
