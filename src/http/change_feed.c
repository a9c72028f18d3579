/*
 * change_feed.c — the change feed's ring (change_feed.h).
 *
 * Locks: `mu` guards the pending ids, the ring and the counters, and is
 * held only for copies; `load` lets one stream at a time read the pending
 * tasks from the database, outside `mu`, so that the engine's publish
 * never waits for a query.
 */
#include "util/common.h"
#include "http/change_feed.h"

#include <pthread.h>

#include "engine/engine.h"
#include "http/wire.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "store/runs.h"

/* Pending ids kept at most between two loads; more, and the streams reset. */
#define PENDING_MAX 50000
/* Tasks of a run changed as a whole that one load reads at most. */
#define RUN_TASKS_MAX 10000
#define READ_CHUNK 1000

typedef struct feed_entry {
	uint64_t seq;
	weft_id run;
	char *ns;
	char *json;
} feed_entry;

struct change_feed {
	pthread_mutex_t mu, load;
	struct engine *eng;
	store *st;
	void (*wake)(void);
	int64_t epoch;
	size_t subscribers;          /* under mu */
	int64_t polled_until;        /* under mu: keep changes for pollers until then (mono µs) */
	store_change *pend;          /* under mu; status AS_READ: the one read */
	weft_id *pend_runs;          /* under mu */
	size_t npend, pend_cap, npend_runs, pend_runs_cap;
	bool pend_lost;              /* under mu: more changed than kept */
	feed_entry *ring;            /* CHANGE_FEED_RING slots; seq s at s % RING */
	uint64_t head;               /* the last seq given, under mu */
	uint64_t lost;               /* entries up to this seq are gone for good, under mu */
	int64_t remote_after;        /* the trail entry read last (-1: not yet known); load */
	int64_t remote_next_us;      /* the trail's next read (mono µs), under mu */
};

change_feed *change_feed_new(struct engine *e, store *st, void (*wake)(void))
{
	change_feed *f = xcalloc(1, sizeof *f);
	pthread_mutex_init(&f->mu, NULL);
	pthread_mutex_init(&f->load, NULL);
	f->eng = e;
	f->st = st;
	f->wake = wake;
	f->epoch = clock_mono_us() ^ clock_now_us();
	f->ring = xcalloc(CHANGE_FEED_RING, sizeof *f->ring);
	f->remote_after = -1;
	if (e != NULL)
		engine_on_commit(e, change_feed_publish, f);
	return f;
}

void change_feed_free(change_feed *f)
{
	if (f == NULL)
		return;
	if (f->eng != NULL)
		engine_on_commit(f->eng, NULL, NULL);
	for (size_t i = 0; i < CHANGE_FEED_RING; i++) {
		free(f->ring[i].ns);
		free(f->ring[i].json);
	}
	free(f->ring);
	free(f->pend);
	free(f->pend_runs);
	pthread_mutex_destroy(&f->mu);
	pthread_mutex_destroy(&f->load);
	free(f);
}

void change_feed_subscribe(change_feed *f)
{
	pthread_mutex_lock(&f->mu);
	f->subscribers++;
	pthread_mutex_unlock(&f->mu);
}

void change_feed_unsubscribe(change_feed *f)
{
	pthread_mutex_lock(&f->mu);
	if (f->subscribers > 0 && --f->subscribers == 0 && clock_mono_us() >= f->polled_until) {
		/* Nobody reads them: what waits is dropped, the ring stays. */
		f->npend = f->npend_runs = 0;
		f->pend_lost = false;
	}
	pthread_mutex_unlock(&f->mu);
}

void change_feed_polled(change_feed *f)
{
	pthread_mutex_lock(&f->mu);
	f->polled_until = clock_mono_us() + CHANGE_FEED_POLL_KEEP_US;
	pthread_mutex_unlock(&f->mu);
}

int64_t change_feed_epoch(const change_feed *f) { return f->epoch; }

uint64_t change_feed_head(change_feed *f)
{
	pthread_mutex_lock(&f->mu);
	uint64_t h = f->head;
	pthread_mutex_unlock(&f->mu);
	return h;
}

/* A change whose status is the task's when it is read (another node's). */
#define AS_READ TS__COUNT

/* Appends k items of `size` bytes to the growing array *v. */
static void push(void **v, size_t *n, size_t *cap, const void *items, size_t k, size_t size)
{
	if (k == 0)
		return;
	if (*n + k > *cap) {
		*cap = MAX(*n + k, *cap * 2);
		*v = xrealloc(*v, *cap * size);
	}
	memcpy((char *)*v + *n * size, items, k * size);
	*n += k;
}

void change_feed_publish(void *feed, const store_changes *ch)
{
	change_feed *f = feed;
	if (ch->n == 0 && ch->nruns == 0 && !ch->overflow)
		return;
	pthread_mutex_lock(&f->mu);
	bool any = f->subscribers > 0 || clock_mono_us() < f->polled_until;
	if (any) {
		if (ch->overflow || f->npend + ch->n + ch->nruns > PENDING_MAX) {
			f->pend_lost = true;
		} else {
			push((void **)&f->pend, &f->npend, &f->pend_cap, ch->items, ch->n, sizeof *ch->items);
			push((void **)&f->pend_runs, &f->npend_runs, &f->pend_runs_cap, ch->runs, ch->nruns, sizeof *ch->runs);
		}
	}
	pthread_mutex_unlock(&f->mu);
	if (any && f->wake != NULL)
		f->wake();
}

/* ---- loading ---------------------------------------------------------------------------- */

static void render(buf *b, const task_row *t, task_status status)
{
	const weft_id *run = id_is_set(&t->batch_id) ? &t->batch_id : &t->id;
	buf_puts(b, "{\"id\":");
	wire_id(b, &t->id);
	buf_puts(b, ",\"run_id\":");
	wire_id(b, run);
	buf_puts(b, ",\"namespace\":");
	wire_str(b, t->namespace ? t->namespace : NAMESPACE_DEFAULT);
	buf_puts(b, ",\"name\":");
	wire_str(b, t->name);
	buf_puts(b, ",\"kind\":");
	wire_str(b, t->kind);
	buf_puts(b, ",\"queue\":");
	wire_str(b, t->kind);
	buf_puts(b, ",\"executor\":");
	wire_str(b, t->executor ? t->executor : "webhook");
	buf_puts(b, ",\"status\":");
	wire_str(b, task_status_name(status));
	buf_puts(b, ",\"attempt\":");
	wire_i64(b, t->attempt);
	buf_puts(b, ",\"started_at\":");
	wire_ts(b, t->started_at);
	buf_puts(b, ",\"ended_at\":");
	wire_ts(b, t->ended_at);
	buf_putc(b, '}');
}

/* Under mu: the next entry: t with the status its change gave. */
static void append(change_feed *f, const task_row *t, task_status status)
{
	uint64_t seq = ++f->head;
	feed_entry *e = &f->ring[seq % CHANGE_FEED_RING];
	free(e->ns);
	free(e->json);
	buf b;
	buf_init(&b);
	render(&b, t, status == AS_READ ? t->status : status);
	e->seq = seq;
	e->run = id_is_set(&t->batch_id) ? t->batch_id : t->id;
	e->ns = xstrdup(t->namespace ? t->namespace : NAMESPACE_DEFAULT);
	e->json = buf_detach(&b, NULL);
}

static int cmp_id(const void *a, const void *b)
{
	return strncmp(((const weft_id *)a)->str, ((const weft_id *)b)->str, WEFT_ID_LEN);
}

/* Puts the changes in the ring in their order, each with its task's row
 * (found by id among rows; a task gone meanwhile is left out). */
static void append_in_order(change_feed *f, const store_change *ch, size_t n, task_row *rows, size_t nrows)
{
	qsort(rows, nrows, sizeof *rows, cmp_id);
	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < n; i++) {
		const task_row *t = bsearch(&ch[i].id, rows, nrows, sizeof *rows, cmp_id);
		if (t != NULL)
			append(f, t, ch[i].status);
	}
	pthread_mutex_unlock(&f->mu);
}

/* The changes a chunk at a time: each chunk's tasks read once. */
static int load_changes(change_feed *f, store_conn *c, const store_change *ch, size_t n)
{
	weft_id *ids = xmalloc(MAX(n, (size_t)1) * sizeof *ids);
	int err = 0;
	for (size_t at = 0; at < n && !err; at += READ_CHUNK) {
		size_t k = MIN((size_t)READ_CHUNK, n - at);
		for (size_t i = 0; i < k; i++)
			ids[i] = ch[at + i].id;
		qsort(ids, k, sizeof *ids, cmp_id);
		size_t u = 0;
		for (size_t i = 0; i < k; i++)
			if (u == 0 || !id_eq(&ids[u - 1], &ids[i]))
				ids[u++] = ids[i];
		task_row *rows = NULL;
		size_t nrows = 0;
		err = store_tasks_read(c, ids, u, false, &rows, &nrows);
		if (!err)
			append_in_order(f, ch + at, k, rows, nrows);
		store_free_tasks(rows, nrows);
	}
	free(ids);
	return err;
}

static int load_run(change_feed *f, store_conn *c, const weft_id *run)
{
	run_task_row *rows = NULL;
	size_t n = 0;
	int err = store_run_tasks(c, run, 0, NULL, RUN_TASKS_MAX + 1, &rows, &n);
	if (err == 0) {
		pthread_mutex_lock(&f->mu);
		if (n > RUN_TASKS_MAX)
			f->lost = f->head;
		for (size_t i = 0; i < MIN(n, (size_t)RUN_TASKS_MAX); i++)
			append(f, &rows[i].task, AS_READ);
		pthread_mutex_unlock(&f->mu);
	}
	store_free_run_tasks(rows, n);
	return err;
}

/* Other nodes' changes, from the trail (ours come again: harmless, the
 * entry shows the task as it is). */
static void load_remote(change_feed *f, store_conn *c, store_change **ch, size_t *n, size_t *cap)
{
	weft_id *got = NULL;
	size_t k = 0;
	if (store_task_events_after(c, &f->remote_after, READ_CHUNK, &got, &k) == 0)
		for (size_t i = 0; i < k; i++)
			push((void **)ch, n, cap, &(store_change){ got[i], (task_status)AS_READ }, 1, sizeof **ch);
	if (k == READ_CHUNK) {
		pthread_mutex_lock(&f->mu);
		f->remote_next_us = 0;    /* more wait: the next look reads them */
		pthread_mutex_unlock(&f->mu);
	}
	free(got);
}

/* Under mu: whether the trail is due to be read (and then not again for
 * CHANGE_FEED_REMOTE_US). */
static bool remote_due(change_feed *f, bool take)
{
	int64_t now = clock_mono_us();
	if (!store_shared(f->st) || now < f->remote_next_us)
		return false;
	if (take)
		f->remote_next_us = now + CHANGE_FEED_REMOTE_US;
	return true;
}

void change_feed_load(change_feed *f)
{
	pthread_mutex_lock(&f->mu);
	bool idle = f->npend == 0 && f->npend_runs == 0 && !f->pend_lost && !remote_due(f, false);
	pthread_mutex_unlock(&f->mu);
	if (idle)
		return;
	pthread_mutex_lock(&f->load);
	pthread_mutex_lock(&f->mu);
	bool remote = remote_due(f, true);
	store_change *changes = f->pend;
	weft_id *runs = f->pend_runs;
	size_t n = f->npend, cap = f->pend_cap, nruns = f->npend_runs;
	bool lost = f->pend_lost;
	f->pend = NULL;
	f->pend_runs = NULL;
	f->npend = f->pend_cap = f->npend_runs = f->pend_runs_cap = 0;
	f->pend_lost = false;
	pthread_mutex_unlock(&f->mu);
	store_conn *c = store_reader_acquire(f->st);
	int err = c == NULL ? WEFT_EUNAVAILABLE : 0;
	if (c != NULL && remote)
		load_remote(f, c, &changes, &n, &cap);
	if (!err)
		err = load_changes(f, c, changes, n);
	for (size_t i = 0; i < nruns && !err; i++)
		err = load_run(f, c, &runs[i]);
	store_reader_release(f->st, c);
	bool added;
	pthread_mutex_lock(&f->mu);
	if (err || lost) {
		/* Changes that cannot be shown: every stream before them resets. */
		if (err)
			log_warn("http", "change feed: reading the changed tasks failed (%d); streams reset", err);
		f->lost = ++f->head;
	}
	added = n > 0 || nruns > 0 || err || lost;
	pthread_mutex_unlock(&f->mu);
	pthread_mutex_unlock(&f->load);
	free(changes);
	free(runs);
	if (added && f->wake != NULL)
		f->wake();
}

/* ---- reading ---------------------------------------------------------------------------- */

static bool passes(const change_filter *flt, const feed_entry *e)
{
	if (flt->has_run)
		return id_eq(&flt->run, &e->run);
	if (flt->namespaces == NULL)
		return true;
	for (size_t i = 0; i < flt->nnamespaces; i++)
		if (strcmp(flt->namespaces[i], e->ns) == 0)
			return true;
	return false;
}

int change_feed_read(change_feed *f, const change_filter *flt, uint64_t *cursor, buf *out)
{
	int count = 0;
	pthread_mutex_lock(&f->mu);
	uint64_t oldest = f->head >= CHANGE_FEED_RING ? f->head - CHANGE_FEED_RING + 1 : 1;
	oldest = MAX(oldest, f->lost + 1);
	if (*cursor > f->head || *cursor + 1 < oldest) {
		*cursor = f->head;
		pthread_mutex_unlock(&f->mu);
		return -1;
	}
	while (*cursor < f->head && count < CHANGE_FEED_EVENT_MAX) {
		const feed_entry *e = &f->ring[(*cursor + 1) % CHANGE_FEED_RING];
		(*cursor)++;
		if (e->json == NULL || !passes(flt, e))
			continue;
		if (count++ > 0)
			buf_putc(out, ',');
		buf_puts(out, e->json);
	}
	pthread_mutex_unlock(&f->mu);
	return count;
}
