/*
 * worker.c — `weft worker --queue Q [options] -- CMD ARGS…`: claims jobs
 * from queues and runs CMD once per job, the job's input on its stdin and
 * its stdout as the result (exec/proc.h); the threads that talk to the
 * server are in worker_api.c, their plan in worker_impl.h.
 *
 * This file holds the options and the main thread's loop: it starts the
 * claimed jobs' children, drives them with poll(2), hands finished ones to
 * the reporter, and stops the children whose lease the server took back.
 *
 * Shutdown: the first SIGTERM or SIGINT drains (no new claims; the claim
 * waiting on the server is dropped: the server sees its connection close
 * and hands it nothing, and a job it handed in that instant comes back
 * when its lease ends; running jobs finish and are reported; exit 0). A second one kills the children's
 * groups, releases every lease still held and exits 143. A worker killed
 * with SIGKILL cannot stop its grandchildren (PR_SET_PDEATHSIG reaches the
 * child only); its jobs run again once their leases expire.
 */
#include "cli/cli.h"
#include "cli/worker_impl.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define PROG "weft worker"
#define SUB "worker"
#define EXIT_FORCED 143

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: weft worker --queue Q [--queue Q2 ...] [options] -- CMD [ARGS...]\n"
	        "\n"
	        "Claims jobs from the queues (in the order given) and runs CMD once per job,\n"
	        "never through a shell. The job's input arrives on CMD's stdin as one line of\n"
	        "JSON; what CMD prints on stdout is the result (JSON if it parses, else a\n"
	        "string). Exit 0 completes the job; exit N fails it with the code exit_N, to be\n"
	        "retried unless N is the permanent exit code; death by a signal fails it with\n"
	        "signal_<name>. stderr passes through; its end becomes the error message.\n"
	        "CMD also gets WEFT_JOB_ID, WEFT_RUN_ID, WEFT_QUEUE, WEFT_ATTEMPT,\n"
	        "WEFT_LEASE_TOKEN, WEFT_NAMESPACE, WEFT_URL, WEFT_TOKEN and WEFT_PARENTS (the\n"
	        "parent jobs' results as JSON; above 64 KiB, in the file WEFT_PARENTS_FILE).\n"
	        "WEFT_URL, WEFT_TOKEN and WEFT_NAMESPACE are the worker's own server options,\n"
	        "so that `weft step` and `weft sleep` in a workflow job's script reach the\n"
	        "same server. A CMD that exits 75 (what they exit when the workflow run is\n"
	        "suspended) is not reported: the server replays the job when it is due (for a\n"
	        "job that is not a workflow run's, the lease runs out and the job is retried).\n"
	        "\n"
	        "options:\n"
	        "  --queue Q                a queue to claim from (1 to 16)\n"
	        "  --concurrency N          jobs run at once, 1..1000 (default 1)\n"
	        "  --lease DURATION         lease per claim, renewed every third of it (default 30s)\n"
	        "  --kill-grace DURATION    after a job's timeout, SIGTERM, then SIGKILL after this\n"
	        "                           (default 10s)\n"
	        "  --claim-wait DURATION    how long a claim waits on the server for a job, 1s..60s\n"
	        "                           (default 30s)\n"
	        "  --permanent-exit N       the exit code that fails a job for good (default 100;\n"
	        "                           -1: every exit code is retried)\n"
	        "  --outcome-log FILE       append \"<job id> <attempt> complete|fail <outcome>\" per\n"
	        "                           answered report\n"
	        "  --json                   print each answered report on stdout as a line of JSON:\n"
	        "                           {\"id\", \"attempt\", \"report\": \"complete\"|\"fail\", \"outcome\"}\n"
	        "%s"
	        "  -h, --help               show this text\n"
	        "\n"
	        "SIGTERM or SIGINT: drain (no new claims; the claim waiting on the server is\n"
	        "dropped at once; the running jobs finish and are reported; exit 0); a second\n"
	        "one: kill the jobs, give their leases back, exit 143.\n"
	        "Exit codes: 0 drained, 1 server error, 2 bad usage, 3 auth, 4 unreachable.\n"
	        "WEFT_LOG=debug logs every job.\n",
	        CLI_CLIENT_OPTS_HELP);
}

/* ---- options ------------------------------------------------------------- */

static int parse_opts(int argc, char **argv, worker_opts *o)
{
	cli_client_opts_init(&o->client);
	o->concurrency = 1;
	o->lease_us = 30 * 1000000LL;
	o->kill_grace_us = 10 * 1000000LL;
	o->claim_wait_us = CLAIM_WAIT_DEFAULT_US;
	o->permanent_exit = PROC_DEFAULT_PERMANENT_EXIT;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i], *v;
		int64_t n;
		int r;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 1;
		}
		if ((r = cli_client_opt(PROG, argc, argv, &i, &o->client)) != 0) {
			if (r < 0)
				return -1;
		} else if ((r = cli_opt_value(PROG, argc, argv, &i, "--queue", &v)) != 0) {
			if (r < 0)
				return -1;
			if (!*v || o->nqueues == WORKER_QUEUES_MAX) {
				fprintf(stderr, PROG ": %s\n", *v ? "at most 16 --queue" : "--queue needs a name");
				return -1;
			}
			o->queues[o->nqueues++] = v;
		} else if ((r = cli_opt_value(PROG, argc, argv, &i, "--concurrency", &v)) != 0) {
			if (r < 0 || cli_parse_i64(PROG, "--concurrency", v, 1, WORKER_CONCURRENCY_MAX, &n))
				return -1;
			o->concurrency = (int)n;
		} else if ((r = cli_opt_value(PROG, argc, argv, &i, "--lease", &v)) != 0) {
			if (r < 0 || cli_parse_duration(PROG, "--lease", v, 1000000, 3600 * 1000000LL, &o->lease_us))
				return -1;
		} else if ((r = cli_opt_value(PROG, argc, argv, &i, "--kill-grace", &v)) != 0) {
			if (r < 0 || cli_parse_duration(PROG, "--kill-grace", v, 1000, 3600 * 1000000LL, &o->kill_grace_us))
				return -1;
		} else if ((r = cli_opt_value(PROG, argc, argv, &i, "--claim-wait", &v)) != 0) {
			if (r < 0 || cli_parse_duration(PROG, "--claim-wait", v, 1000000, CLAIM_WAIT_MAX_US, &o->claim_wait_us))
				return -1;
		} else if ((r = cli_opt_value(PROG, argc, argv, &i, "--permanent-exit", &v)) != 0) {
			if (r < 0 || cli_parse_i64(PROG, "--permanent-exit", v, -1, 255, &n))
				return -1;
			o->permanent_exit = (int)n;
		} else if (strcmp(a, "--json") == 0) {
			o->json_out = true;
		} else if ((r = cli_opt_value(PROG, argc, argv, &i, "--outcome-log", &v)) != 0) {
			if (r < 0)
				return -1;
			o->outcome_log = v;
		} else {
			fprintf(stderr, PROG ": unknown option '%s' (see weft worker --help)\n", a);
			return -1;
		}
	}
	if (o->nqueues == 0) {
		fprintf(stderr, PROG ": which queue? give --queue Q (see weft worker --help)\n");
		return -1;
	}
	if (i >= argc) {
		fprintf(stderr, PROG ": what should run for each job? usage: weft worker --queue Q -- CMD [ARGS...]\n");
		return -1;
	}
	o->cmd = argv + i;
	char err[512];
	if (!(o->cmd_path = proc_resolve(o->cmd[0], err, sizeof(err)))) {
		fprintf(stderr, PROG ": cannot run the command: %s\n", err);
		return -1;
	}
	return 0;
}

/* ---- the job list -------------------------------------------------------- */

void job_free(job *j)
{
	if (!j)
		return;
	free(j->id);
	free(j->lease_token);
	free(j->run_id);
	free(j->queue);
	free(j->input);
	free(j->parents);
	proc_outcome_release(&j->outcome);
	buf_release(&j->log_part[0]);
	buf_release(&j->log_part[1]);
	free(j);
}

void worker_job_remove(worker *w, job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		w->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		w->tail = j->prev;
	if (j->log_unsent > 0)
		worker_log_forget(w, j);
	job_free(j);
}

void worker_notify(worker *w)
{
	uint64_t one = 1;
	ssize_t r = write(w->notify_fd, &one, sizeof(one));
	(void)r;   /* a full counter already wakes main */
}

/* ---- running jobs --------------------------------------------------------- */

typedef struct runner {
	worker *w;
	job **running;      /* jobs whose child runs (main's own list) */
	size_t nrunning;
	int signals;        /* SIGTERM/SIGINT received */
} runner;

static void start_job(runner *r, job *j)
{
	worker *w = r->w;
	const worker_opts *o = &w->o;
	char *env[10];
	size_t n = 0;
	env[n++] = xasprintf("WEFT_JOB_ID=%s", j->id);
	env[n++] = xasprintf("WEFT_RUN_ID=%s", j->run_id ? j->run_id : j->id);
	env[n++] = xasprintf("WEFT_QUEUE=%s", j->queue ? j->queue : "");
	env[n++] = xasprintf("WEFT_ATTEMPT=%" PRId64, j->attempt);
	env[n++] = xasprintf("WEFT_LEASE_TOKEN=%s", j->lease_token);
	env[n++] = xasprintf("WEFT_URL=%s", o->client.url);
	if (o->client.ns)
		env[n++] = xasprintf("WEFT_NAMESPACE=%s", o->client.ns);
	if (o->client.token)
		env[n++] = xasprintf("WEFT_TOKEN=%s", o->client.token);
	env[n] = NULL;
	int64_t timeout_us = 0;
	if (j->timeout_at_us)   /* the server's deadline, on this host's clock */
		timeout_us = MAX(j->timeout_at_us - clock_now_us(), (int64_t)1);
	proc_spec spec = {
		.path = o->cmd_path, .argv = o->cmd, .input = j->input, .input_len = strlen(j->input), .env = env,
		.parents_json = j->parents, .timeout_us = timeout_us, .kill_grace_us = o->kill_grace_us,
		.permanent_exit = o->permanent_exit, .stderr_copy_fd = STDERR_FILENO,
		.on_output = worker_log_output, .output_arg = j,
	};
	char err[512];
	proc *p = NULL;
	int rc = proc_start(&spec, &p, err, sizeof(err));
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	pthread_mutex_lock(&w->mu);
	if (rc == 0) {
		j->run = p;
		j->state = JOB_RUNNING;
		r->running[r->nrunning++] = j;
		if (j->lease_lost)   /* lost while it was being started */
			proc_cancel(p);
		log_debug(SUB, "job %s (attempt %" PRId64 "): started pid %d", j->id, j->attempt, (int)proc_pid(p));
	} else {
		log_error(SUB, "job %s: %s", j->id, err);
		j->outcome = (proc_outcome){ .retryable = true, .message = xstrdup(err), .exit_code = -1 };
		snprintf(j->outcome.code, sizeof(j->outcome.code), "exec_failed");
		j->report_bytes = 256 + strlen(err);
		j->state = JOB_REPORTING;
		w->busy--;
		w->to_report++;
		pthread_cond_signal(&w->report_cv);
		pthread_cond_signal(&w->claim_cv);
	}
	pthread_mutex_unlock(&w->mu);
}

/* What the other threads said: jobs to start, leases lost. The jobs to
 * start are collected under the lock and started outside it. */
static void take_news(runner *r)
{
	worker *w = r->w;
	uint64_t count;
	ssize_t rd = read(w->notify_fd, &count, sizeof(count));
	(void)rd;
	job *start[WORKER_CONCURRENCY_MAX];
	size_t nstart = 0;
	pthread_mutex_lock(&w->mu);
	for (job *j = w->head, *next; j; j = next) {
		next = j->next;
		if (j->state == JOB_CLAIMED && j->lease_lost) {
			worker_job_remove(w, j);
			w->busy--;
			pthread_cond_signal(&w->claim_cv);
		} else if (j->state == JOB_CLAIMED && nstart < ARRAY_LEN(start)) {
			j->state = JOB_RUNNING;   /* so that the next pass does not take it again */
			start[nstart++] = j;
		} else if (j->state == JOB_RUNNING && j->lease_lost && j->run) {
			proc_cancel(j->run);
		}
	}
	pthread_mutex_unlock(&w->mu);
	for (size_t i = 0; i < nstart; i++)
		start_job(r, start[i]);
}

/* A child finished: its outcome goes to the reporter, unless its lease was
 * taken back (the server no longer wants to hear of it). */
static void job_finished(runner *r, size_t idx)
{
	worker *w = r->w;
	job *j = r->running[idx];
	r->running[idx] = r->running[--r->nrunning];
	proc_outcome o;
	proc_take_outcome(j->run, &o);
	proc_free(j->run);
	worker_log_flush(j);
	pthread_mutex_lock(&w->mu);
	j->run = NULL;
	w->busy--;
	pthread_cond_signal(&w->claim_cv);
	if (j->lease_lost) {
		proc_outcome_release(&o);
		worker_job_remove(w, j);
	} else if (o.exit_code == CLI_EXIT_SUSPENDED) {
		/* `weft step` or `weft sleep` suspended the workflow run: the
		 * server has ended this attempt and replays the job when it is
		 * due, so there is nothing to report. */
		log_info(SUB, "job %s (attempt %" PRId64 "): suspended", j->id, j->attempt);
		proc_outcome_release(&o);
		worker_job_remove(w, j);
	} else {
		if (o.ok)
			log_debug(SUB, "job %s: succeeded", j->id);
		else
			log_info(SUB, "job %s (attempt %" PRId64 "): failed: %s: %.300s", j->id, j->attempt, o.code,
			         o.message ? o.message : "");
		j->report_bytes = 256 + (o.ok ? json_dumpb(o.result, NULL, 0, JSON_COMPACT) : strlen(o.message ? o.message : ""));
		j->outcome = o;
		j->state = JOB_REPORTING;
		if (j->log_unsent > 0) {
			j->report_held = true;   /* the log thread reports it once its lines are sent */
		} else {
			w->to_report++;
			pthread_cond_signal(&w->report_cv);
		}
	}
	pthread_mutex_unlock(&w->mu);
}

static void begin_drain(runner *r, int sig)
{
	worker *w = r->w;
	pthread_mutex_lock(&w->mu);
	w->draining = true;
	atomic_store(&w->cancel_claim, true);
	pthread_cond_broadcast(&w->claim_cv);
	pthread_cond_broadcast(&w->backoff_cv);
	pthread_mutex_unlock(&w->mu);
	log_info(SUB, "%s: draining: no new claims; %zu running job(s) finish and are reported (send it again to "
	              "kill them and exit)",
	         sig == SIGINT ? "SIGINT" : "SIGTERM", r->nrunning);
}

/* The loop of the main thread, until the drain is complete (0) or the
 * worker must stop at once (EXIT_FORCED, or a fatal CLI_EXIT_* code). */
static int run(runner *r, int sig_fd)
{
	worker *w = r->w;
	size_t cap = 2 + (size_t)WORKER_CONCURRENCY_MAX * PROC_POLLFDS;
	struct pollfd *fds = xcalloc(cap, sizeof(*fds));
	size_t *owner = xcalloc(cap, sizeof(*owner));   /* fds[i] belongs to running[owner[i]] */
	int rc = -1;
	take_news(r);
	while (rc < 0) {
		size_t n = 0;
		fds[n++] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = w->notify_fd, .events = POLLIN };
		int64_t due = INT64_MAX;
		for (size_t k = 0; k < r->nrunning; k++) {
			size_t got = proc_pollfds(r->running[k]->run, fds + n);
			for (size_t i = 0; i < got; i++)
				owner[n + i] = k;
			n += got;
			due = MIN(due, proc_deadline(r->running[k]->run));
		}
		int64_t now = clock_mono_us();
		int ms = due == INT64_MAX ? -1 : due <= now ? 0 : (int)MIN((due - now + 999) / 1000, 60000);
		int ready = poll(fds, n, ms);
		if (ready < 0 && errno != EINTR) {
			log_error(SUB, "poll: %s", strerror(errno));
			rc = CLI_EXIT_SERVER;
			break;
		}
		/* the children first: the indexes in owner[] are this pass's */
		for (size_t i = 2; i < n;) {
			size_t k = owner[i], end = i;
			while (end < n && owner[end] == k)
				end++;
			proc_handle(r->running[k]->run, fds + i, end - i);
			i = end;
		}
		now = clock_mono_us();
		for (size_t k = r->nrunning; k-- > 0;) {
			proc_tick(r->running[k]->run, now);
			if (proc_finished(r->running[k]->run))
				job_finished(r, k);
		}
		if (fds[0].revents) {
			struct signalfd_siginfo si;
			while (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
				if (++r->signals == 1) {
					begin_drain(r, (int)si.ssi_signo);
				} else {
					log_info(SUB, "second signal: killing %zu job(s) and giving their leases back", r->nrunning);
					rc = EXIT_FORCED;
				}
			}
		}
		if (fds[1].revents)
			take_news(r);
		pthread_mutex_lock(&w->mu);
		if (rc < 0 && w->fatal)
			rc = w->fatal;
		else if (rc < 0 && w->draining && !w->head && w->claims_done)
			rc = CLI_EXIT_OK;
		pthread_mutex_unlock(&w->mu);
	}
	free(fds);
	free(owner);
	return rc;
}

/* ---- start and stop ----------------------------------------------------- */

static void make_id(worker *w)
{
	if (gethostname(w->hostname, sizeof(w->hostname)) != 0 || !w->hostname[0])
		snprintf(w->hostname, sizeof(w->hostname), "localhost");
	w->hostname[sizeof(w->hostname) - 1] = '\0';
	unsigned char rnd[3] = { 0 };
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memcpy(rnd, &(int64_t){ clock_now_us() }, sizeof(rnd));
	snprintf(w->id, sizeof(w->id), "%.100s-%d-%02x%02x%02x", w->hostname, (int)getpid(), rnd[0], rnd[1], rnd[2]);
}

/* Stops the threads; when forced, kills the children first and releases
 * every lease still held. */
static void shut_down(runner *r, pthread_t *threads, size_t nthreads, bool forced)
{
	worker *w = r->w;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_broadcast(&w->claim_cv);
	pthread_cond_broadcast(&w->report_cv);
	pthread_cond_broadcast(&w->heartbeat_cv);
	pthread_cond_broadcast(&w->backoff_cv);
	pthread_cond_broadcast(&w->log_cv);
	pthread_mutex_unlock(&w->mu);
	/* requests in flight end now (after a drain, none is: the claim
	 * thread has ended, the others are idle) */
	atomic_store(&w->cancel_requests, true);
	atomic_store(&w->cancel_claim, true);
	if (forced) {
		for (size_t k = 0; k < r->nrunning; k++)
			proc_kill_now(r->running[k]->run);
		for (size_t k = 0; k < r->nrunning; k++) {
			proc_free(r->running[k]->run);
			r->running[k]->run = NULL;
		}
		r->nrunning = 0;
	}
	for (size_t i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	size_t n = 0;
	for (job *j = w->head; j; j = j->next)
		n++;
	if (n > 0 && forced) {
		job **held = xcalloc(n, sizeof(*held));
		n = 0;
		for (job *j = w->head; j; j = j->next)
			if (!j->lease_lost)
				held[n++] = j;
		http_client *c = cli_client_new(PROG, &w->o.client, 5000);
		if (c && n > 0)
			worker_release(w, c, held, n);
		http_client_free(c);
		free(held);
	}
	while (w->head)
		worker_job_remove(w, w->head);
}

int worker_main(int argc, char **argv)
{
	worker *w = xcalloc(1, sizeof(*w));
	int rc = parse_opts(argc, argv, &w->o);
	if (rc != 0) {
		free(w->o.cmd_path);
		free(w);
		return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	char err[256];
	if (proc_reserve_fds((size_t)w->o.concurrency * PROC_POLLFDS, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": --concurrency %d: %s\n", w->o.concurrency, err);
		free(w->o.cmd_path);
		free(w);
		return CLI_EXIT_USAGE;
	}
	log_level lvl = LOG_INFO;
	const char *lv = getenv("WEFT_LOG");
	if (lv && *lv && log_parse_level(lv, &lvl) != 0)
		fprintf(stderr, PROG ": unknown WEFT_LOG level '%s', using info\n", lv);
	log_set_level(lvl);
	if (w->o.outcome_log && !(w->outcome_log = fopen(w->o.outcome_log, "ae"))) {
		fprintf(stderr, PROG ": cannot open --outcome-log %s: %s\n", w->o.outcome_log, strerror(errno));
		free(w->o.cmd_path);
		free(w);
		return CLI_EXIT_USAGE;
	}
	/* Signals are read from a signalfd by main; every thread inherits the
	 * mask, and the children get a clean one (proc.c). */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	w->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sig_fd < 0 || w->notify_fd < 0) {
		fprintf(stderr, PROG ": signalfd/eventfd: %s\n", strerror(errno));
		return CLI_EXIT_SERVER;
	}
	/* the config file is read once, before the threads make their clients */
	if (cli_client_opts_resolve(PROG, &w->o.client) != 0) {
		free(w->o.cmd_path);
		free(w);
		return CLI_EXIT_USAGE;
	}
	json_object_seed(0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->claim_cv, &ca);
	pthread_cond_init(&w->report_cv, &ca);
	pthread_cond_init(&w->heartbeat_cv, &ca);
	pthread_cond_init(&w->backoff_cv, &ca);
	pthread_cond_init(&w->log_cv, &ca);
	pthread_condattr_destroy(&ca);
	make_id(w);
	log_info(SUB, "worker %s: %d slot(s) on %s, lease %.0f s, running %s", w->id, w->o.concurrency, w->o.client.url,
	         (double)w->o.lease_us / 1e6, w->o.cmd_path);

	runner r = { .w = w, .running = xcalloc((size_t)WORKER_CONCURRENCY_MAX + 1, sizeof(job *)) };
	pthread_t threads[4];
	void *(*const mains[4])(void *) = { worker_claim_thread, worker_heartbeat_thread, worker_report_thread,
	                                    worker_log_thread };
	for (size_t i = 0; i < ARRAY_LEN(threads); i++)
		pthread_create(&threads[i], NULL, mains[i], w);
	rc = run(&r, sig_fd);
	shut_down(&r, threads, ARRAY_LEN(threads), rc != CLI_EXIT_OK);
	if (rc == CLI_EXIT_OK)
		log_info(SUB, "drained: stopped");
	else
		log_info(SUB, "stopped (exit %d)", rc);

	free(r.running);
	if (w->outcome_log)
		fclose(w->outcome_log);
	close(sig_fd);
	close(w->notify_fd);
	pthread_cond_destroy(&w->claim_cv);
	pthread_cond_destroy(&w->report_cv);
	pthread_cond_destroy(&w->heartbeat_cv);
	pthread_cond_destroy(&w->backoff_cv);
	pthread_cond_destroy(&w->log_cv);
	worker_log_release(w);
	pthread_mutex_destroy(&w->mu);
	curl_global_cleanup();
	free(w->o.cmd_path);
	free(w);
	return rc;
}
