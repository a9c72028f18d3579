/*
 * critical_path.c — longest paths of a batch's DAG by task count and by
 * duration (see critical_path.h).
 *
 * Steps, each linear:
 *   1. index the tasks by id (open addressing);
 *   2. turn the links into child lists (CSR) and in-degrees, dropping
 *      links to unknown tasks and self-links;
 *   3. Kahn's algorithm: pop tasks whose parents are all done, and offer
 *      each child the path "best path to the parent + the child", keeping
 *      the better of the offers for both metrics;
 *   4. pick the best path end over all tasks and walk its predecessors.
 */
#include "util/common.h"
#include "engine/critical_path.h"

#include "util/alloc.h"

#define NONE SIZE_MAX

/* The best path found so far to one task, for one metric. */
typedef struct path_end {
	int64_t value;      /* tasks on the path (depth) or µs (duration) */
	size_t count;       /* tasks on the path */
	size_t root;        /* first task */
	size_t pred;        /* task before this one, NONE at a root */
	bool set;
} path_end;

/* ---- task index ------------------------------------------------------ */

typedef struct id_index {
	size_t *slot;       /* task index + 1; 0 = empty */
	size_t mask;
} id_index;

static uint64_t hash_id(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static void index_build(id_index *x, const task_row *tasks, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap <<= 1;
	x->slot = xcalloc(cap, sizeof(size_t));
	x->mask = cap - 1;
	for (size_t i = 0; i < n; i++) {
		size_t s = (size_t)hash_id(tasks[i].id.str) & x->mask;
		bool dup = false;
		while (x->slot[s] != 0) {
			if (strcmp(tasks[x->slot[s] - 1].id.str, tasks[i].id.str) == 0) {
				dup = true;    /* the first occurrence wins */
				break;
			}
			s = (s + 1) & x->mask;
		}
		if (!dup)
			x->slot[s] = i + 1;
	}
}

static size_t index_find(const id_index *x, const task_row *tasks, const weft_id *id)
{
	size_t s = (size_t)hash_id(id->str) & x->mask;
	while (x->slot[s] != 0) {
		if (strcmp(tasks[x->slot[s] - 1].id.str, id->str) == 0)
			return x->slot[s] - 1;
		s = (s + 1) & x->mask;
	}
	return NONE;
}

/* ---- ordering -------------------------------------------------------- */

int64_t critical_path_task_duration(const task_row *t, int64_t now)
{
	if (t->started_at <= 0)
		return 0;
	if (t->ended_at > 0)
		return t->ended_at > t->started_at ? t->ended_at - t->started_at : 0;
	if (t->status == TS_RUNNING || t->status == TS_CLAIMED)
		return now > t->started_at ? now - t->started_at : 0;
	return 0;
}

/* True when task a sorts before task b: created first, then lower id. */
static bool task_before(const task_row *tasks, size_t a, size_t b)
{
	if (tasks[a].created_at != tasks[b].created_at)
		return tasks[a].created_at < tasks[b].created_at;
	return strcmp(tasks[a].id.str, tasks[b].id.str) < 0;
}

/* Whether path a is better than path b. `last_a`/`last_b` are the tasks
 * compared when everything else is equal (the predecessors when both
 * paths end at the same task, the end tasks otherwise). */
static bool better(const task_row *tasks, bool by_duration, const path_end *a, size_t last_a,
                   const path_end *b, size_t last_b)
{
	if (!b->set)
		return true;
	if (a->value != b->value)
		return a->value > b->value;
	if (by_duration && a->count != b->count)
		return a->count > b->count;
	if (a->root != b->root)
		return task_before(tasks, a->root, b->root);
	if (last_a != last_b && last_a != NONE && last_b != NONE)
		return task_before(tasks, last_a, last_b);
	return false;
}

static int64_t add_sat(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* Offers child c the path through parent p (already final). */
static void offer(const task_row *tasks, bool by_duration, path_end *ends, size_t p, size_t c, int64_t weight)
{
	path_end cand = {
		.value = add_sat(ends[p].value, weight),
		.count = ends[p].count + 1,
		.root = ends[p].root,
		.pred = p,
		.set = true,
	};
	if (better(tasks, by_duration, &cand, p, &ends[c], ends[c].pred))
		ends[c] = cand;
}

/* The best end over the processed tasks, then its path root first. */
static size_t *walk_best(const task_row *tasks, bool by_duration, const path_end *ends, const size_t *order,
                         size_t norder, size_t *len)
{
	size_t best = NONE;
	for (size_t k = 0; k < norder; k++) {
		size_t v = order[k];
		if (best == NONE || better(tasks, by_duration, &ends[v], v, &ends[best], best))
			best = v;
	}
	*len = 0;
	if (best == NONE)
		return NULL;
	size_t n = ends[best].count;
	size_t *path = xcalloc(n, sizeof(size_t));
	size_t i = n;
	for (size_t v = best; v != NONE && i > 0; v = ends[v].pred)
		path[--i] = v;
	*len = n - i;
	if (i > 0)      /* cannot happen: counts follow the predecessor chain */
		memmove(path, path + i, *len * sizeof(size_t));
	return path;
}

int critical_path_compute(const task_row *tasks, size_t ntasks, const link_row *links, size_t nlinks,
                          int64_t now, critical_path *out)
{
	memset(out, 0, sizeof(*out));
	if (ntasks == 0)
		return 0;

	id_index x;
	index_build(&x, tasks, ntasks);

	/* Children lists (CSR): edge e goes parent[e] -> child[e]. */
	size_t *eparent = xcalloc(nlinks ? nlinks : 1, sizeof(size_t));
	size_t *echild = xcalloc(nlinks ? nlinks : 1, sizeof(size_t));
	size_t *start = xcalloc(ntasks + 1, sizeof(size_t));
	size_t *indeg = xcalloc(ntasks, sizeof(size_t));
	size_t nedges = 0;
	for (size_t i = 0; i < nlinks; i++) {
		size_t p = index_find(&x, tasks, &links[i].parent_id);
		size_t c = index_find(&x, tasks, &links[i].child_id);
		if (p == NONE || c == NONE || p == c)
			continue;
		eparent[nedges] = p;
		echild[nedges] = c;
		nedges++;
		start[p + 1]++;
		indeg[c]++;
	}
	for (size_t i = 0; i < ntasks; i++)
		start[i + 1] += start[i];
	size_t *children = xcalloc(nedges ? nedges : 1, sizeof(size_t));
	size_t *fill = xcalloc(ntasks, sizeof(size_t));
	for (size_t e = 0; e < nedges; e++)
		children[start[eparent[e]] + fill[eparent[e]]++] = echild[e];
	free(fill);
	free(eparent);
	free(echild);

	int64_t *weight = xcalloc(ntasks, sizeof(int64_t));
	path_end *depth = xcalloc(ntasks, sizeof(path_end));
	path_end *dur = xcalloc(ntasks, sizeof(path_end));
	size_t *order = xcalloc(ntasks, sizeof(size_t));   /* Kahn queue = topological order */
	size_t head = 0, tail = 0;
	for (size_t i = 0; i < ntasks; i++) {
		weight[i] = critical_path_task_duration(&tasks[i], now);
		if (indeg[i] == 0) {
			depth[i] = (path_end){ 1, 1, i, NONE, true };
			dur[i] = (path_end){ weight[i], 1, i, NONE, true };
			order[tail++] = i;
		}
	}
	while (head < tail) {
		size_t p = order[head++];
		for (size_t k = start[p]; k < start[p + 1]; k++) {
			size_t c = children[k];
			offer(tasks, false, depth, p, c, 1);
			offer(tasks, true, dur, p, c, weight[c]);
			if (--indeg[c] == 0)
				order[tail++] = c;
		}
	}

	out->by_depth = walk_best(tasks, false, depth, order, tail, &out->ndepth);
	out->by_duration = walk_best(tasks, true, dur, order, tail, &out->nduration);
	for (size_t k = 0; k < out->nduration; k++)
		out->duration_us = add_sat(out->duration_us, weight[out->by_duration[k]]);

	free(order);
	free(dur);
	free(depth);
	free(weight);
	free(children);
	free(indeg);
	free(start);
	free(x.slot);
	return 0;
}

void critical_path_release(critical_path *cp)
{
	free(cp->by_depth);
	free(cp->by_duration);
	memset(cp, 0, sizeof(*cp));
}
