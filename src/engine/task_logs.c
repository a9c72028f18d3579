/*
 * task_logs.c — log lines queued per execution and written by the engine
 * in batches (task_logs.h), and the cycle part that writes them.
 *
 * Appenders (any thread) add copies of lines to their execution's queue
 * under the state's own lock, never the engine's, and wake the engine.
 * The part takes every queue's lines (up to a bound per cycle), numbers
 * them and writes them in one step, a statement per batch of lines. Until
 * the cycle has committed the taken lines stay with their execution: a
 * failed step or commit puts them back in front of what came meanwhile,
 * and the sequence numbers given to them are given again.
 */
#include "util/common.h"

#include <stdatomic.h>

#include "engine/cycle.h"
#include "engine/task_logs.h"
#include "store/task_logs.h"
#include "util/alloc.h"
#include "util/log.h"

#define DEFAULT_BUFFER_LINES 10000
#define DEFAULT_BUFFER_BYTES (8 * 1024 * 1024)
/* One statement's share of lines, and of their bytes. */
#define BATCH_LINES 1000
#define BATCH_BYTES (1024 * 1024)
/* One cycle writes at most this much; the rest waits for the next one. */
#define CYCLE_LINES 50000
#define CYCLE_BYTES (32 * 1024 * 1024)
/* An execution whose lines all went is forgotten (with its next seq)
 * after this long without a line. */
#define IDLE_FORGET_US (60 * 1000000LL)
/* A batch that failed this many times in a row is dropped (logged): a bad
 * line must not stop logging for good, while a key another node took (a
 * failure that the next try, numbered again, passes) must not lose lines. */
#define MAX_FAILURES 20

typedef struct pending_line {
	struct pending_line *next;
	int64_t at;
	log_stream stream;
	char level[TASK_LOG_LEVEL_MAX + 1];
	size_t len;
	char text[];
} pending_line;

typedef struct line_list {
	pending_line *head, *tail;
	size_t n, bytes;
} line_list;

typedef struct log_exec {
	weft_id task;
	int32_t attempt;
	line_list waiting;          /* under mu */
	int64_t dropped;            /* dropped since the last take, under mu */
	int64_t dropped_at;         /* when the first of them was read */
	int64_t idle_since;         /* clock_mono_us() when it last had nothing waiting, under mu */
	/* Engine thread only. */
	line_list taken;            /* by the current cycle */
	int64_t taken_dropped;
	int64_t taken_dropped_at;
	bool in_cycle;
	int64_t next_seq;           /* the next seq to give; 0: not read from the store yet */
	int64_t cycle_seq;          /* next_seq once the cycle commits */
} log_exec;

struct task_logs_state {
	pthread_mutex_t mu;
	log_exec **execs;           /* under mu */
	size_t nexecs, cap;
	size_t last_hit;            /* under mu */
	atomic_bool pending;        /* lines are waiting */
	size_t max_lines, max_bytes;
	uint64_t written, dropped, waiting;   /* under mu */
	/* Engine thread only. */
	log_exec **cycle;           /* the executions this cycle took lines of */
	size_t ncycle, cycle_cap;
	bool step_ok;
	int failures;
	int64_t next_forget;
};

/* ---- names ---------------------------------------------------------------------------------- */

const char *log_stream_name(log_stream s)
{
	switch (s) {
	case LOG_STDOUT: return "stdout";
	case LOG_STDERR: return "stderr";
	case LOG_SYSTEM: return "system";
	}
	return "system";
}

int log_stream_parse(const char *name)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "stdout") == 0)
		return LOG_STDOUT;
	if (strcmp(name, "stderr") == 0)
		return LOG_STDERR;
	if (strcmp(name, "system") == 0)
		return LOG_SYSTEM;
	return -1;
}

/* ---- copies of lines ------------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t min, cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0) {
		len = 2, min = 0x80, cp = c & 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3, min = 0x800, cp = c & 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4, min = 0x10000, cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/* A stored copy of text: without a trailing CR, bytes that are not UTF-8
 * (and NUL, which no database text holds) as '?', cut at a character
 * boundary with TASK_LOG_CUT_MARK past TASK_LOG_LINE_MAX. */
static pending_line *line_copy(const task_log_line *l, const char *level)
{
	size_t n = l->len;
	const unsigned char *s = (const unsigned char *)l->text;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	const size_t mark = sizeof TASK_LOG_CUT_MARK - 1;
	bool cut = n > TASK_LOG_LINE_MAX;
	size_t room = cut ? TASK_LOG_LINE_MAX - mark : n;
	pending_line *p = xmalloc(sizeof *p + (cut ? TASK_LOG_LINE_MAX : n) + 1);
	size_t out = 0, i = 0;
	while (i < n) {
		size_t k = s[i] == 0 ? 0 : utf8_seq(s + i, n - i);
		size_t w = k ? k : 1;
		if (out + w > room)
			break;
		if (k)
			memcpy(p->text + out, s + i, k);
		else
			p->text[out] = '?';
		out += w;
		i += k ? k : 1;
	}
	if (cut) {
		memcpy(p->text + out, TASK_LOG_CUT_MARK, mark);
		out += mark;
	}
	p->text[out] = '\0';
	p->len = out;
	p->next = NULL;
	p->at = l->at;
	p->stream = l->stream;
	snprintf(p->level, sizeof p->level, "%s", level != NULL ? level : l->stream == LOG_STDERR ? "warn" : "info");
	return p;
}

static void list_push(line_list *q, pending_line *p)
{
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	q->n++;
	q->bytes += p->len;
}

static pending_line *list_pop(line_list *q)
{
	pending_line *p = q->head;
	if (!p)
		return NULL;
	q->head = p->next;
	if (!q->head)
		q->tail = NULL;
	q->n--;
	q->bytes -= p->len;
	p->next = NULL;
	return p;
}

static void list_free(line_list *q)
{
	pending_line *p;
	while ((p = list_pop(q)) != NULL)
		free(p);
}

/* ---- appending (any thread) ----------------------------------------------------------------- */

/* The execution's state, created when new; under mu. */
static log_exec *exec_of(struct task_logs_state *s, const weft_id *task, int32_t attempt)
{
	if (s->last_hit < s->nexecs) {
		log_exec *x = s->execs[s->last_hit];
		if (x->attempt == attempt && id_eq(&x->task, task))
			return x;
	}
	for (size_t i = 0; i < s->nexecs; i++) {
		log_exec *x = s->execs[i];
		if (x->attempt == attempt && id_eq(&x->task, task)) {
			s->last_hit = i;
			return x;
		}
	}
	if (s->nexecs == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->execs = xrealloc(s->execs, s->cap * sizeof *s->execs);
	}
	log_exec *x = xcalloc(1, sizeof *x);
	x->task = *task;
	x->attempt = attempt;
	s->last_hit = s->nexecs;
	s->execs[s->nexecs++] = x;
	return x;
}

int task_logs_append_levels(engine *e, const task_log_line *lines, const char *const *levels, size_t n)
{
	struct task_logs_state *s = e->logs;
	if (n == 0)
		return 0;
	/* Copies made before the lock: appenders do not wait on each other's copying. */
	pending_line **copies = xmalloc(n * sizeof *copies);
	for (size_t i = 0; i < n; i++)
		copies[i] = line_copy(&lines[i], levels != NULL ? levels[i] : NULL);
	bool full = false;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < n; i++) {
		log_exec *x = exec_of(s, &lines[i].task_id, lines[i].attempt);
		list_push(&x->waiting, copies[i]);
		s->waiting++;
		while (x->waiting.n > s->max_lines || (x->waiting.bytes > s->max_bytes && x->waiting.n > 1)) {
			pending_line *old = list_pop(&x->waiting);
			if (x->dropped == 0)
				x->dropped_at = old->at;
			x->dropped++;
			s->dropped++;
			s->waiting--;
			free(old);
			full = true;
		}
	}
	atomic_store(&s->pending, true);
	pthread_mutex_unlock(&s->mu);
	free(copies);
	/* The engine checks `pending` under its lock before it sleeps: taking
	 * that lock to signal means it either saw the flag or is waiting. */
	pthread_mutex_lock(&e->mu);
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
	return full ? WEFT_EFULL : 0;
}

bool task_logs_room(engine *e, const weft_id *task, int32_t attempt, size_t n, size_t bytes)
{
	struct task_logs_state *s = e->logs;
	bool room = true;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nexecs; i++) {
		log_exec *x = s->execs[i];
		if (x->attempt == attempt && id_eq(&x->task, task)) {
			room = x->waiting.n == 0 ||
			       (x->waiting.n + n <= s->max_lines && x->waiting.bytes + bytes <= s->max_bytes);
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return room;
}

int task_logs_append(engine *e, const task_log_line *lines, size_t n)
{
	return task_logs_append_levels(e, lines, NULL, n);
}

void task_logs_get_stats(engine *e, task_logs_stats *out)
{
	struct task_logs_state *s = e->logs;
	pthread_mutex_lock(&s->mu);
	out->written = s->written;
	out->dropped = s->dropped;
	out->waiting = s->waiting;
	pthread_mutex_unlock(&s->mu);
}

/* ---- the part (engine thread) --------------------------------------------------------------- */

/* Takes the waiting lines of every execution, up to the cycle's bound. */
static void take(struct task_logs_state *s)
{
	size_t lines = 0, bytes = 0;
	bool left = false;
	pthread_mutex_lock(&s->mu);
	atomic_store(&s->pending, false);
	for (size_t i = 0; i < s->nexecs; i++) {
		log_exec *x = s->execs[i];
		if (x->waiting.n == 0 && x->dropped == 0)
			continue;
		if (lines >= CYCLE_LINES || bytes >= CYCLE_BYTES) {
			left = true;
			continue;
		}
		x->taken_dropped = x->dropped;
		x->taken_dropped_at = x->dropped_at;
		x->dropped = 0;
		pending_line *p;
		while ((lines < CYCLE_LINES && bytes < CYCLE_BYTES) && (p = list_pop(&x->waiting)) != NULL) {
			list_push(&x->taken, p);
			lines++;
			bytes += p->len;
			s->waiting--;
		}
		if (x->waiting.n)
			left = true;
		else
			x->idle_since = clock_mono_us();
		x->in_cycle = true;
		if (s->ncycle == s->cycle_cap) {
			s->cycle_cap = s->cycle_cap ? s->cycle_cap * 2 : 16;
			s->cycle = xrealloc(s->cycle, s->cycle_cap * sizeof *s->cycle);
		}
		s->cycle[s->ncycle++] = x;
	}
	if (left)
		atomic_store(&s->pending, true);
	pthread_mutex_unlock(&s->mu);
}

typedef struct batch {
	task_log_put *rows;
	size_t n, cap, bytes;
	char (*drop_texts)[64];    /* the "N lines dropped" lines */
	size_t ndrops;
} batch;

static int flush(engine *e, batch *b, int64_t *written)
{
	int64_t w = 0;
	int rc = store_task_logs_insert(e->w, b->rows, b->n, &w);
	*written += w > 0 ? w : 0;
	b->n = b->bytes = 0;
	return rc;
}

static int add(engine *e, batch *b, const task_log_put *r, int64_t *written)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->rows = xrealloc(b->rows, b->cap * sizeof *b->rows);
	}
	b->rows[b->n++] = *r;
	b->bytes += r->len;
	if (b->n >= BATCH_LINES || b->bytes >= BATCH_BYTES)
		return flush(e, b, written);
	return 0;
}

static int write_step(engine *e, void *arg, int64_t now)
{
	UNUSED(now);
	struct task_logs_state *s = e->logs;
	int64_t *written = arg;
	batch b = { 0 };
	b.drop_texts = xmalloc((s->ncycle ? s->ncycle : 1) * sizeof *b.drop_texts);
	int rc = 0;
	for (size_t i = 0; i < s->ncycle && rc == 0; i++) {
		log_exec *x = s->cycle[i];
		if (x->next_seq == 0) {
			int64_t max = 0;
			rc = store_task_logs_max_seq(e->w, &x->task, x->attempt, &max);
			if (rc != 0)
				break;
			x->next_seq = max + 1;
		}
		x->cycle_seq = x->next_seq;
		if (x->taken_dropped > 0) {
			char *t = b.drop_texts[b.ndrops++];
			snprintf(t, sizeof *b.drop_texts, "%" PRId64 " lines dropped", x->taken_dropped);
			task_log_put r = { x->task, x->attempt, x->cycle_seq++, "system", "warn", x->taken_dropped_at, t,
			                   strlen(t) };
			rc = add(e, &b, &r, written);
		}
		for (pending_line *p = x->taken.head; p != NULL && rc == 0; p = p->next) {
			task_log_put r = { x->task,   x->attempt, x->cycle_seq++, log_stream_name(p->stream),
			                   p->level,  p->at,      p->text,        p->len };
			rc = add(e, &b, &r, written);
		}
	}
	if (rc == 0 && b.n)
		rc = flush(e, &b, written);
	free(b.rows);
	free(b.drop_texts);
	return rc;
}

static void logs_run(engine *e, int64_t now)
{
	struct task_logs_state *s = e->logs;
	if (!atomic_load(&s->pending))
		return;
	take(s);
	if (s->ncycle == 0)
		return;
	int64_t written = 0;
	s->step_ok = engine_step(e, write_step, &written, now) == 0;
	if (!s->step_ok)
		log_error("engine", "writing log lines failed; will retry");
}

static int64_t logs_next_wake(const engine *e)
{
	return atomic_load(&e->logs->pending) ? 0 : INT64_MAX;
}

/* Forgets executions with nothing waiting for a while (a line coming
 * later reads its next seq from the store again). Under mu. */
static void forget_idle(struct task_logs_state *s, int64_t mono)
{
	size_t k = 0;
	for (size_t i = 0; i < s->nexecs; i++) {
		log_exec *x = s->execs[i];
		if (x->waiting.n == 0 && x->dropped == 0 && !x->in_cycle && mono - x->idle_since > IDLE_FORGET_US)
			free(x);
		else
			s->execs[k++] = x;
	}
	s->nexecs = k;
	s->last_hit = 0;
}

static void logs_finish(engine *e, bool committed)
{
	struct task_logs_state *s = e->logs;
	if (s->ncycle == 0)
		return;
	bool ok = committed && s->step_ok;
	if (!ok && ++s->failures >= MAX_FAILURES) {
		log_error("engine", "dropping log lines of %zu executions after %d failed writes", s->ncycle, s->failures);
		ok = true;   /* given up: forgotten as if written */
		for (size_t i = 0; i < s->ncycle; i++)
			s->cycle[i]->next_seq = 0;
	}
	uint64_t written = 0;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->ncycle; i++) {
		log_exec *x = s->cycle[i];
		if (ok) {
			if (x->next_seq != 0)
				x->next_seq = x->cycle_seq;
			written += x->taken.n + (x->taken_dropped > 0);
			list_free(&x->taken);
		} else {
			/* Numbered again from the store's largest seq: another node
			 * may have written lines of this execution (a taken key). */
			x->next_seq = 0;
			/* Back in front of what came meanwhile, the drop with them. */
			if (x->taken.n) {
				x->taken.tail->next = x->waiting.head;
				if (!x->waiting.head)
					x->waiting.tail = x->taken.tail;
				x->waiting.head = x->taken.head;
				x->waiting.n += x->taken.n;
				x->waiting.bytes += x->taken.bytes;
				s->waiting += x->taken.n;
				x->taken = (line_list){ 0 };
			}
			if (x->taken_dropped) {
				if (x->dropped == 0 || x->taken_dropped_at < x->dropped_at)
					x->dropped_at = x->taken_dropped_at;
				x->dropped += x->taken_dropped;
			}
			atomic_store(&s->pending, true);
		}
		x->taken_dropped = 0;
		x->in_cycle = false;
	}
	s->written += written;
	if (ok)
		s->failures = 0;
	s->ncycle = 0;
	int64_t mono = clock_mono_us();
	if (mono >= s->next_forget) {
		forget_idle(s, mono);
		s->next_forget = mono + IDLE_FORGET_US / 4;
	}
	pthread_mutex_unlock(&s->mu);
}

static void logs_init(engine *e)
{
	struct task_logs_state *s = xcalloc(1, sizeof *s);
	pthread_mutex_init(&s->mu, NULL);
	atomic_init(&s->pending, false);
	s->max_lines = e->cfg.log_buffer_lines > 0 ? (size_t)e->cfg.log_buffer_lines : DEFAULT_BUFFER_LINES;
	s->max_bytes = e->cfg.log_buffer_bytes > 0 ? (size_t)e->cfg.log_buffer_bytes : DEFAULT_BUFFER_BYTES;
	e->logs = s;
}

static void logs_release(engine *e)
{
	struct task_logs_state *s = e->logs;
	if (!s)
		return;
	for (size_t i = 0; i < s->nexecs; i++) {
		list_free(&s->execs[i]->waiting);
		list_free(&s->execs[i]->taken);
		free(s->execs[i]);
	}
	free(s->execs);
	free(s->cycle);
	pthread_mutex_destroy(&s->mu);
	free(s);
	e->logs = NULL;
}

const cycle_part part_task_logs = {
	.name = "task_logs",
	.init = logs_init,
	.run = logs_run,
	.next_wake = logs_next_wake,
	.finish = logs_finish,
	.release = logs_release,
};
