/*
 * deadline.c — the deadline heap, the table of kinds, and the cycle part
 * that fires due deadlines (see deadline.h).
 *
 * A deadline taken off the heap is kept until its cycle commits: if the
 * commit fails it goes back into the heap, and if its own step fails it is
 * armed again a little later, so no deadline is lost until a restart.
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
};

/* ---- the heap -------------------------------------------------------------- */

static void swap_entries(deadline *a, deadline *b)
{
	deadline t = *a;
	*a = *b;
	*b = t;
}

void deadline_heap_push(deadline_heap *h, const deadline *d)
{
	if (h->len == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->items = xrealloc(h->items, h->cap * sizeof(*h->items));
	}
	size_t i = h->len++;
	h->items[i] = *d;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->items[parent].due <= h->items[i].due)
			break;
		swap_entries(&h->items[parent], &h->items[i]);
		i = parent;
	}
}

int64_t deadline_heap_next(const deadline_heap *h)
{
	return h->len ? h->items[0].due : INT64_MAX;
}

bool deadline_heap_pop_due(deadline_heap *h, int64_t now, deadline *out)
{
	if (h->len == 0 || h->items[0].due > now)
		return false;
	*out = h->items[0];
	h->items[0] = h->items[--h->len];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->len && h->items[l].due < h->items[m].due)
			m = l;
		if (r < h->len && h->items[r].due < h->items[m].due)
			m = r;
		if (m == i)
			break;
		swap_entries(&h->items[m], &h->items[i]);
		i = m;
	}
	return true;
}

void deadline_heap_release(deadline_heap *h)
{
	free(h->items);
	*h = (deadline_heap){ 0 };
}

/* ---- arming ------------------------------------------------------------------ */

void deadline_arm(engine *e, int64_t due, const deadline_kind *kind, const weft_id *object)
{
	deadline_state *s = &e->deadlines;
	if (e->shared && kind->due) {
		s->db_next = MIN(s->db_next, due);
		return;
	}
	deadline d = { .due = due, .kind = kind };
	if (object)
		d.object = *object;
	deadline_heap_push(&s->heap, &d);
}

/* ---- the cycle part ------------------------------------------------------------ */

static int fire_step(engine *e, void *arg, int64_t now)
{
	const deadline *d = arg;
	e->actor = "system";
	return d->kind->fire(e, d, now);
}

static void list_push(deadline_list *l, const deadline *d)
{
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->len++] = *d;
}

static void fire_heap(engine *e, int64_t now)
{
	deadline_state *s = &e->deadlines;
	deadline d;
	while (deadline_heap_pop_due(&s->heap, now, &d)) {
		int rc = engine_step(e, fire_step, &d, now);
		if (rc == 0) {
			list_push(&s->fired, &d);
			continue;
		}
		log_error("engine", "%s deadline of %s failed (%d); tried again shortly", d.kind->name,
		          d.object.str[0] ? d.object.str : "-", rc);
		/* Armed again once this cycle is over, or it would be due again
		 * within this loop. */
		d.due = now + FIRE_RETRY_US;
		list_push(&s->rearm, &d);
	}
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
		for (size_t i = 0; i < page.n; i++) {
			int r = engine_step(e, fire_step, &page.rows[i], now);
			if (r == WEFT_ERETRY)
				again = true;      /* still due: read again next cycle */
			else if (r != 0)
				log_error("engine", "%s deadline of %s failed", kinds[k]->name, page.rows[i].object.str);
		}
		e->cycle.changed |= page.n > 0;
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
	if (e->cycle.remote & STORE_WAKE_WORK)
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
