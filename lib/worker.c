/*
 * worker.c — libweft's worker runtime: options, the run thread that
 * starts and drains the others, the handler threads, and what a handler
 * calls (see worker_impl.h for the threads and their state).
 */
#include "worker_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define CLAIM_WAIT_DEFAULT_MS 5000
#define LEASE_DEFAULT_MS 60000

/* ---- handler results ---------------------------------------------------- */

void worker_result_clear(struct weft_job_result *r)
{
	free(r->result);
	free(r->code);
	free(r->message);
	memset(r, 0, sizeof(*r));
}

int weft_job_result_fail(weft_job_result *res, const char *code, const char *message, bool retryable)
{
	if (!res)
		return WEFT_EINVAL;
	worker_result_clear(res);
	res->set = true;
	res->code = xstrdup(code && *code ? code : "handler_error");
	res->message = message ? xstrndup(message, 4096) : NULL;
	res->retryable = retryable;
	return code && *code ? 0 : WEFT_EINVAL;
}

int weft_job_result_complete(weft_job_result *res, const char *result_json)
{
	if (!res)
		return WEFT_EINVAL;
	json_t *v = NULL;
	if (result_json) {
		json_error_t je;
		if (!(v = json_loads(result_json, JSON_DECODE_ANY, &je))) {
			char msg[256];
			snprintf(msg, sizeof(msg), "the handler's result is not JSON: %s", je.text);
			weft_job_result_fail(res, "bad_result", msg, false);
			return WEFT_EINVAL;
		}
	}
	worker_result_clear(res);
	res->set = true;
	res->ok = true;
	res->result = v ? json_text(v) : xstrdup("null");
	json_decref(v);
	return 0;
}

void weft_job_result_retry_after(weft_job_result *res, int64_t retry_after_ms)
{
	if (!res)
		return;
	res->retry_after_ms = retry_after_ms < 0 ? 0 : retry_after_ms;
	res->retry_after_set = true;
}

bool weft_job_canceled(const weft_job *job)
{
	const wjob *j = (const wjob *)job;   /* the first member of its wjob */
	return atomic_load(&j->lost) || atomic_load(&j->w->abort_requests);
}

/* ---- shared helpers ----------------------------------------------------- */

void wqueue_push(wqueue *q, wjob *j)
{
	j->qnext = NULL;
	if (q->tail)
		q->tail->qnext = j;
	else
		q->head = j;
	q->tail = j;
	q->len++;
}

wjob *wqueue_pop(wqueue *q)
{
	wjob *j = q->head;
	if (!j)
		return NULL;
	q->head = j->qnext;
	if (!q->head)
		q->tail = NULL;
	q->len--;
	j->qnext = NULL;
	return j;
}

void worker_forget(weft_worker *w, wjob *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		w->held_head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	w->held--;
	job_release_fields(&j->job);
	worker_result_clear(&j->res);
	free(j);
	pthread_cond_signal(&w->claim_cv);   /* for a claim held back by reports */
}

void worker_notify(weft_worker *w)
{
	char c = 1;
	ssize_t n = write(w->wake[1], &c, 1);   /* a full pipe already wakes the reader */
	(void)n;
}

void worker_log(weft_worker *w, weft_log_level level, const char *fmt, ...)
{
	if (!w->o.log && level < WEFT_LOG_WARN)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w->o.log)
		w->o.log(level, msg, w->o.log_arg);
	else
		fprintf(stderr, "weft worker %s: %s\n", w->id, msg);
}

weft_client *worker_client(weft_worker *w, const atomic_bool *cancel)
{
	weft_client_options o = { .url = w->url, .token = w->token };
	weft_error err = { 0 };
	weft_client *c = weft_client_new(&o, &err);
	if (!c) {
		worker_fatal(w, err.code, &err);
		weft_error_release(&err);
		return NULL;
	}
	http_client_set_cancel(c->http, cancel);
	return c;
}

void worker_fatal(weft_worker *w, int code, const weft_error *err)
{
	worker_log(w, WEFT_LOG_ERROR, "stopping: %s (%s)", err && err->message[0] ? err->message : weft_strerror(code),
	           weft_strerror(code));
	pthread_mutex_lock(&w->mu);
	if (!w->fatal) {
		w->fatal = code;
		if (err) {
			w->fatal_err = *err;
			w->fatal_err.details = err->details ? xstrdup(err->details) : NULL;
		}
		w->fatal_err.code = code;
	}
	w->draining = true;
	pthread_cond_broadcast(&w->claim_cv);
	pthread_mutex_unlock(&w->mu);
	worker_notify(w);
}

bool worker_retryable(int code)
{
	return code == WEFT_ECONNECT || code == WEFT_ETIMEOUT || code == WEFT_ETRANSPORT || code == WEFT_ESERVER ||
	       code == WEFT_EOVERLOADED || code == WEFT_EPROTOCOL;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void worker_pause(weft_worker *w, pthread_cond_t *cv, int64_t ms, bool or_drain)
{
	int64_t due = mono_ms() + ms, left;
	while ((left = due - mono_ms()) > 0 && !w->exiting && !atomic_load(&w->abort_requests) &&
	       !(or_drain && w->draining)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t ns = (int64_t)ts.tv_nsec + (left % 1000) * 1000000;
		ts.tv_sec += (time_t)(left / 1000 + ns / 1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		pthread_cond_timedwait(cv, &w->mu, &ts);
	}
}

void worker_backoff(weft_worker *w, pthread_cond_t *cv, int64_t *backoff_ms, bool or_drain)
{
	*backoff_ms = *backoff_ms ? MIN(*backoff_ms * 2, RETRY_MAX_MS) : RETRY_MIN_MS;
	worker_pause(w, cv, *backoff_ms, or_drain);
}

static void cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
}

/* ---- handlers ----------------------------------------------------------- */

static void run_handler(weft_worker *w, wjob *j, weft_client **client)
{
	struct weft_job_result *r = &j->res;
	j->client = client;
	if (!weft_job_canceled(&j->job) && !worker_run_workflow(w, j, client)) {
		int rc = w->o.handler(&j->job, r, w->o.handler_arg);
		if (!r->set && rc != 0)
			weft_job_result_fail(r, "handler_error", "the handler returned an error", true);
		else if (!r->set)
			weft_job_result_complete(r, NULL);
	}
	j->client = NULL;
	j->report_bytes = 200 + (r->result ? strlen(r->result) : 0) + (r->message ? strlen(r->message) : 0);
}

int weft_job_log_line(const weft_job *job, const char *stream, const char *level, const char *text)
{
	const wjob *j = (const wjob *)job;   /* the first member of its wjob */
	if (!j->client || !text)
		return WEFT_EINVAL;
	if (!*j->client && !(*j->client = worker_client(j->w, &j->w->abort_requests)))
		return WEFT_ECONNECT;
	weft_log_line line = { text, stream, level };
	weft_job_log_request req = { job->lease_token, &line, 1 };
	weft_error err = { 0 };
	int rc = weft_job_log(*j->client, job->id, &req, NULL, &err);
	weft_error_release(&err);
	return rc;
}

static void *handler_thread(void *arg)
{
	weft_worker *w = arg;
	weft_client *client = NULL;   /* for the step API, made on the first workflow */
	pthread_mutex_lock(&w->mu);
	for (;;) {
		wjob *j = wqueue_pop(&w->ready);
		if (!j) {
			if (w->exiting)
				break;
			pthread_cond_wait(&w->handler_cv, &w->mu);
			continue;
		}
		pthread_mutex_unlock(&w->mu);
		run_handler(w, j, &client);
		pthread_mutex_lock(&w->mu);
		wqueue_push(&w->done, j);
		w->active--;
		pthread_cond_signal(&w->report_cv);
		pthread_cond_signal(&w->claim_cv);   /* a free slot */
	}
	pthread_mutex_unlock(&w->mu);
	weft_client_free(client);
	return NULL;
}

/* ---- signals ------------------------------------------------------------ */

static weft_worker *volatile signal_worker;
static volatile sig_atomic_t signals_seen;
static struct sigaction old_term, old_int;

static void on_signal(int sig)
{
	if (signals_seen++ == 0 && signal_worker) {
		weft_worker_stop(signal_worker);
		return;
	}
	/* the second one: the default action, at once */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_signals(weft_worker *w)
{
	signal_worker = w;
	signals_seen = 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGINT, &sa, &old_int);
}

static void restore_signals(void)
{
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGINT, &old_int, NULL);
	signal_worker = NULL;
}

void weft_worker_stop(weft_worker *w)
{
	if (!w)
		return;
	atomic_store(&w->stop_requested, true);
	int saved = errno;   /* a signal handler must leave errno as it was */
	char c = 1;
	ssize_t n = write(w->wake[1], &c, 1);
	(void)n;
	errno = saved;
}

/* ---- the run ------------------------------------------------------------ */

static void make_id(weft_worker *w)
{
	char host[256];
	if (gethostname(host, sizeof(host)) != 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (!w->hostname)
		w->hostname = xstrdup(host);
	if (!w->id) {
		unsigned char rnd[3] = { 0 };
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			rnd[0] = (unsigned char)time(NULL);
		w->id = xasprintf("%.100s-%d-%02x%02x%02x", w->hostname, (int)getpid(), rnd[0], rnd[1], rnd[2]);
	}
}

weft_worker *weft_worker_new_sized(const weft_worker_options *given, size_t opt_size, weft_error *err)
{
	err_reset(err);
	lib_init_once();
	if (!given) {
		err_set(err, WEFT_EINVAL, "no options");
		return NULL;
	}
	weft_worker_options o;
	options_copy(&o, sizeof(o), given, opt_size);
	const char *bad = NULL;
	if (!o.url || !*o.url)
		bad = "url is required";
	else if (!o.queues || o.queues_len == 0 || o.queues_len > WORKER_QUEUES_MAX)
		bad = "queues: 1 to 16 queue names";
	else if (o.concurrency < 0 || o.concurrency > WORKER_CONCURRENCY_MAX)
		bad = "concurrency: 1 to 1,000 (0: 1)";
	else if (o.lease_ms != 0 && (o.lease_ms < 1000 || o.lease_ms > 3600000))
		bad = "lease_ms: 1,000 to 3,600,000 (0: 60,000)";
	else if (o.claim_wait_ms < 0 || o.claim_wait_ms > 60000)
		bad = "claim_wait_ms: 0 to 60,000";
	for (size_t i = 0; !bad && i < o.queues_len; i++)
		if (!o.queues[i] || !*o.queues[i])
			bad = "queues: an empty name";
	if (bad) {
		err_set(err, WEFT_EINVAL, "%s", bad);
		return NULL;
	}
	weft_worker *w = xcalloc(1, sizeof(*w));
	w->wake[0] = w->wake[1] = -1;
	w->url = xstrdup(o.url);
	w->token = xstrdup(o.token);
	w->ns = xstrdup(o.namespace_);
	w->id = xstrdup(o.worker_id);
	w->hostname = xstrdup(o.hostname);
	w->queues = xcalloc(o.queues_len, sizeof(*w->queues));
	for (size_t i = 0; i < o.queues_len; i++)
		w->queues[i] = xstrdup(o.queues[i]);
	make_id(w);
	w->o = o;
	w->o.url = w->url;
	w->o.token = w->token;
	w->o.namespace_ = w->ns;
	w->o.queues = (const char *const *)w->queues;
	w->o.worker_id = w->id;
	w->o.hostname = w->hostname;
	if (w->o.concurrency == 0)
		w->o.concurrency = 1;
	if (w->o.lease_ms == 0)
		w->o.lease_ms = LEASE_DEFAULT_MS;
	if (w->o.claim_wait_ms == 0)
		w->o.claim_wait_ms = CLAIM_WAIT_DEFAULT_MS;
	w->heartbeat_ms = w->o.lease_ms / 3;
	pthread_mutex_init(&w->mu, NULL);
	cond_init(&w->claim_cv);
	cond_init(&w->handler_cv);
	cond_init(&w->report_cv);
	cond_init(&w->beat_cv);
	if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		err_set(err, WEFT_EINVAL, "pipe: %s", strerror(errno));
		weft_worker_free(w);
		return NULL;
	}
	return w;
}

const char *weft_worker_id(const weft_worker *w)
{
	return w->id;
}

void weft_worker_get_stats(weft_worker *w, weft_worker_stats *out)
{
	out->claimed = atomic_load(&w->n_claimed);
	out->completed = atomic_load(&w->n_completed);
	out->failed = atomic_load(&w->n_failed);
	out->lost = atomic_load(&w->n_lost);
	out->released = atomic_load(&w->n_released);
	out->claim_requests = atomic_load(&w->n_claim_requests);
	out->heartbeat_requests = atomic_load(&w->n_heartbeat_requests);
	out->report_requests = atomic_load(&w->n_report_requests);
}

/* Whether the run is over (mu held): the drain done, or a fatal error. */
static bool run_over(weft_worker *w)
{
	if (atomic_load(&w->stop_requested) && !w->draining) {
		worker_log(w, WEFT_LOG_INFO, "stopping: finishing the %zu job(s) in hand", w->held);
		w->draining = true;
		pthread_cond_broadcast(&w->claim_cv);
	}
	if (w->draining)
		atomic_store(&w->claim_cancel, true);
	if (w->fatal)
		return true;
	return w->draining && w->claims_done && w->held == 0;
}

int weft_worker_run(weft_worker *w, weft_error *err)
{
	err_reset(err);
	if (!w)
		return err_set(err, WEFT_EINVAL, "no worker");
	if (w->started)
		return err_set(err, WEFT_EINVAL, "a worker runs once");
	if (!w->o.handler && w->n_wf_types == 0)
		return err_set(err, WEFT_EINVAL, "handler is required (or a workflow: weft_worker_workflow)");
	w->started = true;
	if (w->o.install_signal_handlers)
		install_signals(w);

	size_t nthreads = (size_t)w->o.concurrency + 3, started = 0;
	pthread_t *threads = xcalloc(nthreads, sizeof(*threads));
	void *(*const service[3])(void *) = { worker_beat_thread, worker_report_thread, worker_claim_thread };
	int rc = 0;
	for (size_t i = 0; i < nthreads && rc == 0; i++) {
		void *(*fn)(void *) = i < (size_t)w->o.concurrency ? handler_thread : service[i - (size_t)w->o.concurrency];
		if ((rc = pthread_create(&threads[i], NULL, fn, w)) == 0)
			started++;
	}
	if (rc != 0) {
		weft_error e = { 0 };
		err_set(&e, WEFT_EINVAL, "cannot start a thread: %s", strerror(rc));
		worker_fatal(w, WEFT_EINVAL, &e);
		if (started < nthreads - 1)   /* the claim thread never ran */
			w->claims_done = true;
	}

	struct pollfd pfd = { .fd = w->wake[0], .events = POLLIN };
	pthread_mutex_lock(&w->mu);
	while (!run_over(w)) {
		pthread_mutex_unlock(&w->mu);
		if (poll(&pfd, 1, -1) > 0) {
			char drainbuf[64];
			while (read(w->wake[0], drainbuf, sizeof(drainbuf)) > 0)
				;
		}
		pthread_mutex_lock(&w->mu);
	}
	/* the end: a fatal error stops what is in flight; handlers still
	 * running see their jobs as canceled */
	if (w->fatal)
		atomic_store(&w->abort_requests, true);
	w->exiting = w->draining = true;
	pthread_cond_broadcast(&w->claim_cv);
	pthread_cond_broadcast(&w->handler_cv);
	pthread_cond_broadcast(&w->report_cv);
	pthread_cond_broadcast(&w->beat_cv);
	pthread_mutex_unlock(&w->mu);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	while (w->held_head)
		worker_forget(w, w->held_head);
	w->ready.head = w->ready.tail = w->done.head = w->done.tail = NULL;
	if (w->o.install_signal_handlers)
		restore_signals();
	if (w->fatal && err) {
		*err = w->fatal_err;
		err->details = w->fatal_err.details ? xstrdup(w->fatal_err.details) : NULL;
	}
	return w->fatal;
}

void weft_worker_free(weft_worker *w)
{
	if (!w)
		return;
	if (w->wake[0] >= 0) {
		close(w->wake[0]);
		close(w->wake[1]);
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->claim_cv);
	pthread_cond_destroy(&w->handler_cv);
	pthread_cond_destroy(&w->report_cv);
	pthread_cond_destroy(&w->beat_cv);
	for (size_t i = 0; i < w->o.queues_len; i++)
		free(w->queues[i]);
	free(w->queues);
	free(w->url);
	free(w->token);
	free(w->ns);
	free(w->id);
	free(w->hostname);
	free(w->fatal_err.details);
	worker_workflows_free(w);
	free(w);
}
