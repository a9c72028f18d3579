/*
 * deadline.c — the deadline heap, the table of kinds, and the cycle part
 * that fires due deadlines (see deadline.h).
 *
 * The due deadlines of one kind fire as a set, in one savepoint, when the
 * kind can (one at a time when that fails). A deadline taken off the heap
 * is kept until its cycle commits: if the commit fails it goes back into
 * the heap, and if its own step fails it is armed again a little later,
 * so no deadline is lost until a restart.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/log.h"
#include "engine/cycle.h"

#define SOURCE_PAGE 256
/* A deadline whose handler failed is tried again after this. */
#define FIRE_RETRY_US (1000 * 1000LL)

/* The kinds: a new kind is one more line here. */
static const deadline_kind *const kinds[] = {
	&deadline_claim_stale,
	&deadline_run_timeout,
	&deadline_retry_backoff,
	&deadline_delayed_start,
	&deadline_job_lease,
	&deadline_schedule,
	&deadline_exec_orphans,
	&deadline_exec_watch,
};

/* ---- the heap -------------------------------------------------------------- */

#define NO_POS UINT32_MAX
#define MIN_CAP 64

static uint32_t key_hash(const deadline_kind *kind, const weft_id *object)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)kind;     /* FNV-1a */
	for (size_t i = 0; i < WEFT_ID_LEN && object->str[i]; i++)
		h = (h ^ (unsigned char)object->str[i]) * 1099511628211ULL;
	return (uint32_t)(h ^ (h >> 32));
}

static bool key_eq(const deadline *d, const deadline_kind *kind, const weft_id *object)
{
	return d->kind == kind && memcmp(d->object.str, object->str, WEFT_ID_LEN) == 0;
}

/* The slot holding (kind, object), or the empty slot where it would go. */
static size_t index_find(const deadline_heap *h, uint32_t hash, const deadline_kind *kind, const weft_id *object)
{
	size_t mask = h->icap - 1;
	for (size_t s = hash & mask;; s = (s + 1) & mask) {
		uint32_t pos = h->index[s];
		if (pos == NO_POS || (h->items[pos].hash == hash && key_eq(&h->items[pos].d, kind, object)))
			return s;
	}
}

/* Empties slot s, moving later entries of its probe run back so that no
 * lookup meets a gap before its key (linear probing without tombstones). */
static void index_delete(deadline_heap *h, size_t s)
{
	size_t mask = h->icap - 1;
	for (size_t j = (s + 1) & mask; h->index[j] != NO_POS; j = (j + 1) & mask) {
		size_t home = h->items[h->index[j]].hash & mask;
		/* j's entry may move to s unless its home lies in (s, j]. */
		bool stays = s <= j ? (home > s && home <= j) : (home > s || home <= j);
		if (stays)
			continue;
		h->index[s] = h->index[j];
		h->items[h->index[s]].slot = (uint32_t)s;
		s = j;
	}
	h->index[s] = NO_POS;
}

/* Items room for `cap` entries, and an index of twice that, rebuilt. */
static void heap_resize(deadline_heap *h, size_t cap)
{
	h->cap = cap;
	h->items = xrealloc(h->items, cap * sizeof(*h->items));
	h->icap = 2 * cap;
	free(h->index);
	h->index = xmalloc(h->icap * sizeof(*h->index));
	memset(h->index, 0xff, h->icap * sizeof(*h->index));
	for (size_t i = 0; i < h->len; i++) {
		size_t s = index_find(h, h->items[i].hash, h->items[i].d.kind, &h->items[i].d.object);
		h->index[s] = (uint32_t)i;
		h->items[i].slot = (uint32_t)s;
	}
}

static void place(deadline_heap *h, size_t i, const deadline_entry *x)
{
	h->items[i] = *x;
	h->index[x->slot] = (uint32_t)i;
}

static void sift_up(deadline_heap *h, size_t i)
{
	deadline_entry x = h->items[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->items[parent].d.due <= x.d.due)
			break;
		place(h, i, &h->items[parent]);
		i = parent;
	}
	place(h, i, &x);
}

static void sift_down(deadline_heap *h, size_t i)
{
	deadline_entry x = h->items[i];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = l;
		if (l >= h->len)
			break;
		if (r < h->len && h->items[r].d.due < h->items[l].d.due)
			m = r;
		if (h->items[m].d.due >= x.d.due)
			break;
		place(h, i, &h->items[m]);
		i = m;
	}
	place(h, i, &x);
}

/* Removes the entry at position i; the array shrinks when mostly empty. */
static void remove_at(deadline_heap *h, size_t i)
{
	index_delete(h, h->items[i].slot);
	if (i != --h->len) {
		place(h, i, &h->items[h->len]);
		if (i > 0 && h->items[(i - 1) / 2].d.due > h->items[i].d.due)
			sift_up(h, i);
		else
			sift_down(h, i);
	}
	if (h->cap > MIN_CAP && h->len < h->cap / 4)
		heap_resize(h, h->cap / 2);
}

void deadline_heap_push(deadline_heap *h, const deadline *d)
{
	if (h->len == h->cap)
		heap_resize(h, h->cap ? h->cap * 2 : MIN_CAP);
	uint32_t hash = key_hash(d->kind, &d->object);
	size_t s = index_find(h, hash, d->kind, &d->object);
	uint32_t pos = h->index[s];
	if (pos != NO_POS) {
		/* One entry per (kind, object): the earlier due time stands. */
		if (d->due < h->items[pos].d.due) {
			h->items[pos].d.due = d->due;
			sift_up(h, pos);
		}
		return;
	}
	size_t i = h->len++;
	deadline_entry x = { .d = *d, .hash = hash, .slot = (uint32_t)s };
	place(h, i, &x);
	sift_up(h, i);
}

int64_t deadline_heap_next(const deadline_heap *h)
{
	return h->len ? h->items[0].d.due : INT64_MAX;
}

bool deadline_heap_pop_due(deadline_heap *h, int64_t now, deadline *out)
{
	if (h->len == 0 || h->items[0].d.due > now)
		return false;
	*out = h->items[0].d;
	remove_at(h, 0);
	return true;
}

static const weft_id no_object;

bool deadline_heap_has(const deadline_heap *h, const deadline_kind *kind, const weft_id *object)
{
	if (h->len == 0)
		return false;
	object = object ? object : &no_object;
	return h->index[index_find(h, key_hash(kind, object), kind, object)] != NO_POS;
}

bool deadline_heap_remove(deadline_heap *h, const deadline_kind *kind, const weft_id *object)
{
	if (h->len == 0)
		return false;
	object = object ? object : &no_object;
	uint32_t pos = h->index[index_find(h, key_hash(kind, object), kind, object)];
	if (pos == NO_POS)
		return false;
	remove_at(h, pos);
	return true;
}

void deadline_heap_release(deadline_heap *h)
{
	free(h->items);
	free(h->index);
	*h = (deadline_heap){ 0 };
}

/* ---- arming ------------------------------------------------------------------ */

void deadline_arm(engine *e, int64_t due, const deadline_kind *kind, const weft_id *object)
{
	deadline_state *s = &e->deadlines;
	if (e->shared && kind->due) {
		s->db_next = MIN(s->db_next, due);
		e->cycle.notify |= STORE_WAKE_DEADLINES;    /* for the leader */
		return;
	}
	deadline d = { .due = due, .kind = kind };
	if (object)
		d.object = *object;
	deadline_heap_push(&s->heap, &d);
}

/* ---- forgetting a task's deadlines ----------------------------------------------- */

typedef struct forget_job {
	engine_job base;
	weft_id object;
} forget_job;

static void forget_launch(engine *e, engine_job *j)
{
	forget_job *f = (forget_job *)(void *)j;
	for (size_t k = 0; k < ARRAY_LEN(kinds); k++)
		deadline_heap_remove(&e->deadlines.heap, kinds[k], &f->object);
	j->ops->free(j);     /* nothing comes back */
}

static void forget_free(engine_job *j)
{
	free(j);
}

static const job_ops forget_ops = { .name = "deadline.forget", .actor = "system", .launch = forget_launch,
                                    .free = forget_free };

void deadline_forget(engine *e, const weft_id *object)
{
	bool any = false;
	for (size_t k = 0; k < ARRAY_LEN(kinds) && !any; k++)
		any = deadline_heap_has(&e->deadlines.heap, kinds[k], object);
	if (!any)
		return;
	forget_job *f = xcalloc(1, sizeof(*f));
	f->base.ops = &forget_ops;
	f->object = *object;
	engine_launch(e, &f->base);
}

/* ---- the cycle part ------------------------------------------------------------ */

static void list_push(deadline_list *l, const deadline *d)
{
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->len++] = *d;
}

static int fire_one(engine *e, void *item, int64_t now)
{
	const deadline *d = item;
	e->actor = "system";
	return d->kind->fire(e, d, now);
}

static int fire_many(engine *e, void **items, size_t n, int64_t now)
{
	deadline *d = xmalloc(n * sizeof *d);
	for (size_t i = 0; i < n; i++)
		d[i] = *(const deadline *)items[i];
	e->actor = "system";
	int rc = d[0].kind->fire_many(e, d, n, now);
	free(d);
	return rc;
}

static const void *kind_of(const void *item)
{
	return ((const deadline *)item)->kind;
}

static bool kind_has_many(const void *item)
{
	return ((const deadline *)item)->kind->fire_many != NULL;
}

/* Fires the deadlines d[0..n-1], those of one kind as a set; `done`
 * learns each one's outcome. */
static void fire_all(engine *e, deadline *d, size_t n, void (*done)(engine *e, void *item, int rc), int64_t now)
{
	engine_group_ops ops = { .key = kind_of, .has_many = kind_has_many, .many = fire_many, .one = fire_one,
	                         .done = done };
	void **items = xmalloc((n ? n : 1) * sizeof *items);
	for (size_t i = 0; i < n; i++)
		items[i] = &d[i];
	engine_apply_groups(e, items, n, &ops, now);
	free(items);
}

static void heap_fired(engine *e, void *item, int rc)
{
	deadline_state *s = &e->deadlines;
	deadline *d = item;
	if (rc == 0) {
		list_push(&s->fired, d);
		return;
	}
	log_error("engine", "%s deadline of %s failed (%d); tried again shortly", d->kind->name,
	          d->object.str[0] ? d->object.str : "-", rc);
	/* Armed again once this cycle is over, or it would be due again
	 * within this loop. */
	d->due = e->cycle.now + FIRE_RETRY_US;
	list_push(&s->rearm, d);
}

static void fire_heap(engine *e, int64_t now)
{
	deadline_state *s = &e->deadlines;
	deadline_list due = { 0 };
	deadline d;
	while (deadline_heap_pop_due(&s->heap, now, &d))
		list_push(&due, &d);
	fire_all(e, due.items, due.len, heap_fired, now);
	free(due.items);
}

typedef struct source_page {
	const deadline_kind *kind;
	deadline *rows;
	size_t n;
	bool more;
} source_page;

static int due_step(engine *e, void *arg, int64_t now)
{
	source_page *p = arg;
	return p->kind->due(e, now, SOURCE_PAGE, &p->rows, &p->n, &p->more);
}

static int next_step(engine *e, void *arg, int64_t now)
{
	UNUSED(now);
	int64_t *next = arg;
	for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
		if (!kinds[k]->due)
			continue;
		int64_t due = INT64_MAX;
		int rc = kinds[k]->next(e, &due);
		if (rc != 0)
			return rc;
		*next = MIN(*next, due);
	}
	return 0;
}

static void source_fired(engine *e, void *item, int rc)
{
	const deadline *d = item;
	if (rc == WEFT_ERETRY)
		e->deadlines.conflict = true;      /* still due: read again next cycle */
	else if (rc != 0)
		log_error("engine", "%s deadline of %s failed", d->kind->name, d->object.str);
}

/* Shared database, on the leader: every source's due deadlines, then the
 * earliest next one. */
static void fire_sources(engine *e, int64_t now)
{
	deadline_state *s = &e->deadlines;
	bool again = false;
	for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
		if (!kinds[k]->due)
			continue;
		source_page page = { .kind = kinds[k] };
		if (engine_step(e, due_step, &page, now) != 0) {
			log_error("engine", "reading due %s deadlines failed; will retry", kinds[k]->name);
			again = true;
			continue;
		}
		s->conflict = false;
		fire_all(e, page.rows, page.n, source_fired, now);
		again |= s->conflict;
		again |= page.more;
		free(page.rows);
	}
	if (again) {
		s->db_next = now;      /* the rest in the next cycle */
		return;
	}
	int64_t next = INT64_MAX;
	if (engine_step(e, next_step, &next, now) != 0) {
		log_error("engine", "reading the next deadline failed; will retry");
		s->db_next = now + FIRE_RETRY_US;
		return;
	}
	s->dirty = false;
	s->db_next = next;
}

static void deadlines_init(engine *e)
{
	e->deadlines.db_next = INT64_MAX;
	e->deadlines.dirty = true;
}

static int deadlines_start(engine *e, int64_t now)
{
	for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
		/* On a shared database the sources are the deadlines. */
		if (kinds[k]->recover && !(e->shared && kinds[k]->due)) {
			int rc = kinds[k]->recover(e, now);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static void deadlines_run(engine *e, int64_t now)
{
	deadline_state *s = &e->deadlines;
	if (e->cycle.remote & STORE_WAKE_DEADLINES)
		s->dirty = true;    /* another node may have armed an earlier one */
	fire_heap(e, now);
	if (e->shared && e->leader && (s->dirty || now >= s->db_next))
		fire_sources(e, now);
}

static int64_t deadlines_next_wake(const engine *e)
{
	const deadline_state *s = &e->deadlines;
	int64_t due = deadline_heap_next(&s->heap);
	if (e->shared && e->leader)
		due = MIN(due, s->dirty ? INT64_MIN : s->db_next);
	return due;
}

static void deadlines_finish(engine *e, bool committed)
{
	deadline_state *s = &e->deadlines;
	/* What fired in a cycle that did not commit did not happen. */
	for (size_t i = 0; !committed && i < s->fired.len; i++)
		deadline_heap_push(&s->heap, &s->fired.items[i]);
	for (size_t i = 0; i < s->rearm.len; i++)
		deadline_heap_push(&s->heap, &s->rearm.items[i]);
	s->fired.len = s->rearm.len = 0;
	pthread_mutex_lock(&e->mu);
	e->stats.deadlines = s->heap.len;
	pthread_mutex_unlock(&e->mu);
	if (!committed)
		s->dirty = true;
	if (s->cache_free)
		s->cache_free(s->cache);
	s->cache = NULL;
	s->cache_free = NULL;
}

static void deadlines_release(engine *e)
{
	deadline_state *s = &e->deadlines;
	deadline_heap_release(&s->heap);
	free(s->fired.items);
	free(s->rearm.items);
	if (s->cache_free)
		s->cache_free(s->cache);
}

const cycle_part part_deadlines = {
	.name = "deadlines",
	.init = deadlines_init,
	.start = deadlines_start,
	.run = deadlines_run,
	.next_wake = deadlines_next_wake,
	.finish = deadlines_finish,
	.release = deadlines_release,
};
