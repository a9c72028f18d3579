/*
 * worker_logs.c — `weft worker` sends its jobs' output as log lines.
 *
 * The child's stdout and stderr reach main in chunks (proc_spec.on_output);
 * they are cut into lines here (a line longer than WORKER_LOG_LINE_MAX is
 * sent in pieces of that size) and queued, under the worker's mutex, for
 * the log thread, which sends them to POST /v1/jobs/{id}/logs, up to
 * 1,000 lines of one job a request, with the job's lease token. A job's
 * report waits until its lines were sent, so that every line is stored no
 * later than the job's end (a follower sees them all). When the server
 * answers that the job's buffer is full (503), the lines are sent again
 * after a growing pause, never dropped for it. The queue is
 * bounded (WORKER_LOG_QUEUE_MAX lines): past it lines are dropped and
 * counted, and the count is sent as a line of its own.
 */
#include "util/common.h"

#include <time.h>

#include "cli/worker_impl.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

#define SUB "worker"
#define WORKER_LOG_LINE_MAX 16384
#define WORKER_LOG_QUEUE_MAX 200000
#define WORKER_LOG_SEND_MAX 1000
#define WORKER_LOG_SEND_BYTES (1024 * 1024)
/* How long lines wait for others to share their request. */
#define WORKER_LOG_LINGER_US 20000
#define WORKER_LOG_TRIES 3

typedef struct log_line {
	struct log_line *next;
	job *j;
	bool is_stderr;
	size_t len;
	char text[];
} log_line;

static log_line *line_new(job *j, bool is_stderr, const char *text, size_t len)
{
	log_line *l = xmalloc(sizeof *l + len + 1);
	l->next = NULL;
	l->j = j;
	l->is_stderr = is_stderr;
	l->len = len;
	memcpy(l->text, text, len);
	l->text[len] = '\0';
	return l;
}

/* Queues the lines of list (mu not held). */
static void enqueue(worker *w, log_line *head, log_line *tail, size_t n)
{
	if (n == 0)
		return;
	pthread_mutex_lock(&w->mu);
	if (w->log_n + n > WORKER_LOG_QUEUE_MAX) {
		w->log_dropped += (int64_t)n;
		pthread_mutex_unlock(&w->mu);
		for (log_line *l = head, *next; l; l = next) {
			next = l->next;
			free(l);
		}
		return;
	}
	for (log_line *l = head; l; l = l->next)
		l->j->log_unsent++;
	if (w->log_tail)
		w->log_tail->next = head;
	else
		w->log_head = head;
	w->log_tail = tail;
	w->log_n += n;
	pthread_cond_signal(&w->log_cv);
	pthread_mutex_unlock(&w->mu);
}

void worker_log_output(void *arg, bool is_stdout, const char *data, size_t n)
{
	job *j = arg;
	bool is_stderr = !is_stdout;
	buf *part = &j->log_part[is_stderr];
	log_line *head = NULL, *tail = NULL;
	size_t count = 0;
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;
		/* A line longer than the most one line holds goes in pieces. */
		size_t room = WORKER_LOG_LINE_MAX - part->len;
		bool full = take > room;
		if (full)
			take = room;
		buf_append(part, data, take);
		data += take;
		n -= take;
		if (nl && !full) {
			data++;
			n--;
		}
		if ((nl && !full) || part->len >= WORKER_LOG_LINE_MAX) {
			log_line *l = line_new(j, is_stderr, part->data, part->len);
			if (tail)
				tail->next = l;
			else
				head = l;
			tail = l;
			count++;
			buf_reset(part);
		}
	}
	enqueue(j->owner, head, tail, count);
}

void worker_log_flush(job *j)
{
	for (int s = 0; s < 2; s++) {
		buf *part = &j->log_part[s];
		if (part->len > 0) {
			log_line *l = line_new(j, s == 1, part->data, part->len);
			enqueue(j->owner, l, l, 1);
		}
		buf_release(part);
		buf_init(part);
	}
}

void worker_log_forget(worker *w, job *j)
{
	log_line **pp = &w->log_head;
	w->log_tail = NULL;
	while (*pp) {
		log_line *l = *pp;
		if (l->j == j) {
			*pp = l->next;
			w->log_n--;
			free(l);
		} else {
			w->log_tail = l;
			pp = &l->next;
		}
	}
	j->log_unsent = 0;
}

void worker_log_release(worker *w)
{
	for (log_line *l = w->log_head, *next; l; l = next) {
		next = l->next;
		free(l);
	}
	w->log_head = w->log_tail = NULL;
	w->log_n = 0;
}

static bool listed(const worker *w, const job *j)
{
	for (const job *k = w->head; k; k = k->next)
		if (k == j)
			return true;
	return false;
}

static void pause_us(int64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000L };
	nanosleep(&ts, NULL);
}

/* One request for the lines of batch (all of one job): 0 sent (or not
 * wanted any more: the lease is gone), -1 to try again later, BUSY when
 * the server asks for them again shortly (its buffer of the job's lines
 * is full: nothing was dropped). *slow: the server dropped lines. */
#define BUSY 1
static int send_lines(worker *w, http_client *c, const char *id, const char *token, log_line *batch, bool *slow)
{
	json_t *body = json_object();
	json_object_set_new(body, "lease_token", json_string(token));
	json_t *lines = json_array();
	for (log_line *l = batch; l; l = l->next) {
		json_t *o = json_object();
		json_object_set_new(o, "text", json_stringn_nocheck(l->text, l->len));
		json_object_set_new(o, "stream", json_string(l->is_stderr ? "stderr" : "stdout"));
		json_array_append_new(lines, o);
	}
	json_object_set_new(body, "lines", lines);
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	char path[128], err[512];
	snprintf(path, sizeof path, "/v1/jobs/%s/logs", id);
	json_t *answer = NULL;
	long status = 0;
	int rc = cli_request(c, &w->o.client, "POST", path, text, strlen(text), &answer, &status, err, sizeof err);
	free(text);
	*slow = rc == CLI_EXIT_OK && json_is_true(json_object_get(answer, "dropped"));
	json_decref(answer);
	if (rc == CLI_EXIT_OK)
		return 0;
	if (status == 503 || status == 429)
		return BUSY;
	if (status == 409 || status == 404 || status == 400 || status == 413) {
		log_info(SUB, "job %s: log lines not taken: %s", id, err);
		return 0;
	}
	log_warn(SUB, "job %s: sending log lines: %s", id, err);
	return -1;
}

void *worker_log_thread(void *arg)
{
	worker *w = arg;
	http_client *c = cli_client_new("weft worker", &w->o.client, 30000);
	if (!c)
		return NULL;
	http_client_set_cancel(c, &w->cancel_requests);
	pthread_mutex_lock(&w->mu);
	while (!w->stopping) {
		if (w->log_n == 0) {
			pthread_cond_wait(&w->log_cv, &w->mu);
			continue;
		}
		if (w->log_n < WORKER_LOG_SEND_MAX) {
			/* Let more lines of the job join the request. */
			int64_t until = clock_mono_us() + WORKER_LOG_LINGER_US, left;
			while (!w->stopping && w->log_n < WORKER_LOG_SEND_MAX && (left = until - clock_mono_us()) > 0)
				worker_wait(&w->log_cv, &w->mu, left);
			/* Meanwhile the lines' job may have left, and its lines with it. */
			if (w->stopping || w->log_head == NULL)
				continue;
		}
		/* The first line's job: its lines from the head, in order. */
		job *j = w->log_head->j;
		log_line *batch = NULL, **bt = &batch, **pp = &w->log_head;
		size_t n = 0, bytes = 0;
		w->log_tail = NULL;
		while (*pp) {
			log_line *l = *pp;
			if (l->j == j && n < WORKER_LOG_SEND_MAX && bytes + l->len <= WORKER_LOG_SEND_BYTES) {
				*pp = l->next;
				l->next = NULL;
				*bt = l;
				bt = &l->next;
				n++;
				bytes += l->len + 32;
			} else {
				w->log_tail = l;
				pp = &l->next;
			}
		}
		w->log_n -= n;
		int64_t dropped = w->log_dropped;
		w->log_dropped = 0;
		char *id = xstrdup(j->id), *token = xstrdup(j->lease_token);
		pthread_mutex_unlock(&w->mu);
		if (dropped > 0) {
			char note[96];
			int len = snprintf(note, sizeof note, "weft worker: %" PRId64 " lines dropped (its queue was full)",
			                   dropped);
			log_line *l = line_new(j, true, note, (size_t)len);
			l->next = batch;
			batch = l;
		}
		bool slow = false;
		int rc = -1;
		int64_t busy_pause = 20000;
		for (int t = 0; t < WORKER_LOG_TRIES && rc != 0 && !atomic_load(&w->cancel_requests);) {
			rc = send_lines(w, c, id, token, batch, &slow);
			if (rc == BUSY) {
				/* The server writes more slowly than the job prints: the
				 * job's lines wait here (and its report with them). */
				pause_us(busy_pause);
				busy_pause = MIN(busy_pause * 2, 1000000LL);
			} else if (rc != 0) {
				t++;
				pause_us(200000LL * t);
			}
		}
		free(id);
		free(token);
		for (log_line *l = batch, *next; l; l = next) {
			next = l->next;
			free(l);
		}
		if (slow)
			pause_us(50000);
		pthread_mutex_lock(&w->mu);
		/* The job may have left meanwhile (its lease lost): then its
		 * counts went with it. */
		if (listed(w, j)) {
			j->log_unsent -= (int64_t)n;
			if (j->log_unsent <= 0 && j->report_held) {
				j->log_unsent = 0;
				j->report_held = false;
				w->to_report++;
				pthread_cond_signal(&w->report_cv);
			}
		}
	}
	pthread_mutex_unlock(&w->mu);
	http_client_free(c);
	return NULL;
}
