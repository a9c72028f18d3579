/*
 * deadline.h — every deadline of the engine: {due, kind, object}.
 *
 * A kind (a stale claim, an inactivity timeout, a retry backoff, a delayed
 * start …) is a deadline_kind with a handler that fires a due deadline of
 * its object (a task; a schedule or a workflow's sleep fit the same
 * shape). Deadlines are hints, not truth: the handler re-reads its object
 * and either acts or arms the deadline again with the current due time, so
 * nothing needs updating when a task's last_updated moves.
 *
 * Where they live:
 *  - on a single node, in a min-heap ordered by due time, rebuilt at
 *    start-up by each kind's `recover`: one entry per (kind, object), and
 *    a task's entries leave it when the task ends (deadline_forget), so
 *    the heap holds at most a few entries per live task;
 *  - on a database shared by several nodes, in the rows themselves: the
 *    leader asks each kind's source (`due`, `next`) for its due objects and
 *    sleeps until the earliest next one. A kind without a source (a delayed
 *    start, which every node's own start pass looks for) stays in each
 *    node's heap there too.
 *
 * Adding a kind: a deadline_kind in its own file, its declaration below,
 * and one line in the kinds table of deadline.c.
 */
#ifndef WEFT_ENGINE_DEADLINE_H
#define WEFT_ENGINE_DEADLINE_H

#include "../util/common.h"
#include "core/id.h"

typedef struct engine engine;
typedef struct deadline_kind deadline_kind;

typedef struct deadline {
	int64_t due;                 /* wall clock µs */
	const deadline_kind *kind;   /* static */
	weft_id object;              /* the task (or other object) it concerns; empty when none */
} deadline;

struct deadline_kind {
	const char *name;
	/* In the cycle's transaction, in a savepoint of its own: the deadline
	 * `d` is due at `now`. Re-reads the object, then acts or re-arms. */
	int (*fire)(engine *e, const deadline *d, int64_t now);
	/* Optional: fires the n deadlines of this kind due in one cycle, as a
	 * set, in one savepoint (the same outcome as firing them one after
	 * the other). When it fails they are fired one at a time. */
	int (*fire_many)(engine *e, const deadline *d, size_t n, int64_t now);
	/* Single node, at start-up: arm the kind's deadlines found in the
	 * database. NULL when there are none to recover. */
	int (*recover)(engine *e, int64_t now);
	/* Shared database, on the leader: up to `limit` due deadlines of this
	 * kind, earliest first (owned array, freed with free()); *more when
	 * more may be due than were returned. NULL: the kind stays in each
	 * node's heap. */
	int (*due)(engine *e, int64_t now, size_t limit, deadline **out, size_t *n, bool *more);
	/* Shared database: the earliest due time of the kind, due or not;
	 * INT64_MAX when none. */
	int (*next)(engine *e, int64_t *due);
};

/* The kinds (each in its own file). */
extern const deadline_kind deadline_claim_stale;     /* deadlines/tasks.c */
extern const deadline_kind deadline_run_timeout;     /* deadlines/tasks.c */
extern const deadline_kind deadline_retry_backoff;   /* deadlines/tasks.c */
extern const deadline_kind deadline_delayed_start;   /* parts/start.c */
extern const deadline_kind deadline_job_lease;       /* deadlines/jobs.c */
extern const deadline_kind deadline_schedule;        /* deadlines/schedules.c */
extern const deadline_kind deadline_exec_orphans;    /* exec/process_executor.c */
extern const deadline_kind deadline_exec_watch;      /* exec/process_executor.c */
/* Arms the schedule deadline at due (µs; 0: nothing to arm). */
void schedule_arm(engine *e, int64_t due);

/* A binary min-heap of deadlines holding at most one entry per (kind,
 * object), with an index from (kind, object) to the entry's position that
 * the heap's moves keep up to date, so that an entry can be found and
 * removed. Arming a deadline that has an entry keeps the earlier of the
 * two due times: a deadline is a hint, and one that fires early only
 * re-arms. Not thread-safe. */
typedef struct deadline_entry {
	deadline d;
	uint32_t hash;               /* of (kind, object) */
	uint32_t slot;               /* its slot in the index */
} deadline_entry;

typedef struct deadline_heap {
	deadline_entry *items;
	uint32_t *index;             /* icap slots: a position in items, or UINT32_MAX */
	size_t len, cap, icap;
} deadline_heap;

void deadline_heap_push(deadline_heap *h, const deadline *d);
/* Earliest due time, or INT64_MAX when empty. */
int64_t deadline_heap_next(const deadline_heap *h);
/* Pops the earliest entry if it is due at `now`; false otherwise. */
bool deadline_heap_pop_due(deadline_heap *h, int64_t now, deadline *out);
/* Removes the entry of (kind, object) (object borrowed; NULL = none);
 * false when there is none. */
bool deadline_heap_remove(deadline_heap *h, const deadline_kind *kind, const weft_id *object);
/* Whether (kind, object) has an entry. */
bool deadline_heap_has(const deadline_heap *h, const deadline_kind *kind, const weft_id *object);
void deadline_heap_release(deadline_heap *h);

typedef struct deadline_list {
	deadline *items;
	size_t len, cap;
} deadline_list;

/* The engine's deadline state (engine.deadlines). */
typedef struct deadline_state {
	deadline_heap heap;
	deadline_list fired;         /* fired by this cycle: back into the heap if it rolls back */
	deadline_list rearm;         /* whose handler failed: armed again after the cycle */
	/* Shared database. */
	bool dirty;                  /* re-read the sources: another node changed something */
	bool conflict;               /* a source's deadline lost a lock conflict: read again */
	int64_t db_next;             /* earliest known due time from the sources */
	/* A source's reading kept for the rest of the cycle (one query may
	 * serve several kinds), freed with cache_free after it. */
	void *cache;
	void (*cache_free)(void *cache);
} deadline_state;

/* Arms a deadline of `object` (borrowed; NULL = none): in the heap, or on
 * a shared database for a kind with a source, only as a hint for the
 * leader's next wake-up (the row itself is the deadline, and the other
 * nodes hear of it through the commit's notify). */
void deadline_arm(engine *e, int64_t due, const deadline_kind *kind, const weft_id *object);

/* A task (borrowed id) reached a terminal status, which it never leaves:
 * its entries leave the heap once the cycle commits (a job; a step or cycle
 * that rolls back drops it). Without this they would stay until due, which
 * for a long timeout is long after the task ended. */
void deadline_forget(engine *e, const weft_id *object);

#endif
