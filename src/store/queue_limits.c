/*
 * queue_limits.c — claiming from a queue with limits (see queues.c for
 * why it is atomic across nodes): a total concurrency limit, a per-key
 * concurrency limit (jobs with the same concurrency_key running at once)
 * and a token bucket per rate key (jobs without a rate key share the
 * queue's bucket, key "").
 *
 * A bucket holds at most `burst` tokens and gains `limit` tokens per
 * `period`; a claim spends one. Tokens are kept in millionths, with the
 * time they were counted at, and refilled when read: a bucket is a pure
 * function of its row and the clock, so an idle bucket is never written.
 */
#include "util/common.h"

#include "store/db.h"
#include "store/jobs.h"
#include "store/queues.h"
#include "util/alloc.h"

#define TOKEN_MICRO 1000000LL
/* Candidates read per page (8 per job wanted, within these bounds), and
 * pages per claim: enough to pass over jobs whose keys are blocked (no
 * head-of-line blocking by a busy key), bounded so that a step stays
 * short. */
#define LIMITED_PAGE_MIN 256
#define LIMITED_PAGE_MAX 1024
#define LIMITED_PAGES 4

/* ---- a small string-keyed table (keys borrowed) ----------------------------------- */

typedef struct key_slot {
	char *key;                 /* owned; NULL: empty */
	int64_t count;             /* running jobs, or micro-tokens (at the claims' time) */
	bool known;                /* buckets: read or created */
	bool touched;              /* buckets: spent from, to be written */
} key_slot;

typedef struct key_table {
	key_slot *v;
	size_t cap;                /* a power of two */
	size_t len;
} key_table;

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void table_init(key_table *t)
{
	t->cap = 64;
	t->len = 0;
	t->v = xcalloc(t->cap, sizeof *t->v);
}

static void table_release(key_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->v[i].key);
	free(t->v);
}

static size_t table_pos(const key_table *t, const char *key)
{
	size_t i = (size_t)hash_str(key) & (t->cap - 1);
	while (t->v[i].key != NULL && strcmp(t->v[i].key, key) != 0)
		i = (i + 1) & (t->cap - 1);
	return i;
}

/* The slot of key, or NULL when the table does not hold it. */
static key_slot *table_find(key_table *t, const char *key)
{
	size_t i = table_pos(t, key);
	return t->v[i].key != NULL ? &t->v[i] : NULL;
}

/* The slot of key (copied), added zeroed when missing. */
static key_slot *table_at(key_table *t, const char *key)
{
	size_t i = table_pos(t, key);
	if (t->v[i].key != NULL)
		return &t->v[i];
	if (2 * (t->len + 1) > t->cap) {        /* at most half full */
		key_table bigger = { .cap = t->cap * 2, .len = t->len };
		bigger.v = xcalloc(bigger.cap, sizeof *bigger.v);
		for (size_t j = 0; j < t->cap; j++)
			if (t->v[j].key != NULL)
				bigger.v[table_pos(&bigger, t->v[j].key)] = t->v[j];
		free(t->v);
		*t = bigger;
		i = table_pos(t, key);
	}
	t->v[i] = (key_slot){ .key = xstrdup(key) };
	t->len++;
	return &t->v[i];
}

/* ---- statements ------------------------------------------------------------------------ */

#define CANDIDATE_SELECT                                                                             \
	"SELECT id, concurrency_key, coalesce(rate_key, ''), priority, start_after FROM task{index:task_queue_ready} " \
	"WHERE status = 'pending' AND executor = 'queue' AND namespace = $1 AND kind = $2 AND start_after <= $3 "
static const db_sql q_candidates = {
	"job_claim_candidates",
	CANDIDATE_SELECT "ORDER BY priority DESC, start_after, id LIMIT $4{lock_skip}",
	NULL,
};
/* The next page: after the last candidate in claim order. */
static const db_sql q_candidates_after = {
	"job_claim_candidates_after",
	CANDIDATE_SELECT "AND (priority < $5 OR (priority = $5 AND (start_after > $6 OR (start_after = $6 AND id > $7)))) "
	"ORDER BY priority DESC, start_after, id LIMIT $4{lock_skip}",
	NULL,
};
static const db_sql q_key_running = {
	"job_key_running",
	"SELECT concurrency_key, count(*) FROM task{index:task_key_running} "
	"WHERE status = 'running' AND concurrency_key IS NOT NULL AND namespace = $1 AND kind = $2 "
	"GROUP BY concurrency_key",
	NULL,
};
static const db_sql q_queue_running = {
	"job_queue_running",
	"SELECT count(*) FROM task WHERE status = 'running' AND executor = 'queue' AND namespace = $1 AND kind = $2",
	NULL,
};
static const db_sql q_buckets = {
	"rate_buckets",
	"SELECT key, tokens_micro, updated_at FROM rate_bucket WHERE namespace = $1 AND queue = $2 AND {in:key,$3}",
	NULL,
};
static const db_sql q_buckets_save = {
	"rate_buckets_save",
	"INSERT INTO rate_bucket (namespace, queue, key, tokens_micro, updated_at) "
	"SELECT $1, $2, r.key, r.tokens, $3 FROM {rows:$4,key text,tokens bigint} AS r WHERE true "
	"ON CONFLICT (namespace, queue, key) DO UPDATE SET tokens_micro = excluded.tokens_micro, "
	"updated_at = excluded.updated_at",
	NULL,
};
/* The chosen rows, by id; each with its claim's worker, actor and lease. */
static const db_sql q_claim_chosen = {
	"job_claim_limited",
	"UPDATE task SET status = 'running', started_at = $1, last_updated = $1, "
	"lease_token = task.lease_token + 1, worker_id = s.worker, claimed_by = s.actor, "
	"lease_until = {least:$1 + s.lease_us,$1 + task.timeout_secs * 1000000} "
	"FROM {rows:$2,id text,worker text,actor text,lease_us bigint} AS s "
	"WHERE task.id = s.id AND {noindex:task.status} = 'pending' "
	"AND {plan_ids:task.id,SELECT s2.id FROM {rows:$2,id text} AS s2} "
	"RETURNING task.id, task.priority, task.start_after, task.attempt, task.lease_token, task.lease_until, "
	"task.name, task.input, task.metadata, task.retry_policy, task.timeout_secs, task.shape, task.batch_id, "
	"task.started_at",
	NULL,
};

/* The queue's row, locked for the transaction, or nothing when another
 * transaction holds it (SKIP LOCKED: never waited for). */
static const db_sql q_queue_lock = {
	"queue_lock", "SELECT 1 FROM queue WHERE namespace = $1 AND name = $2{lock_skip}", NULL,
};

int store_queue_lock(store_conn *c, const char *ns, const char *queue, bool *got)
{
	*got = true;
	if (!c->drv->shared)
		return 0;              /* one writer: the lock is the writer's */
	db_stmt *st;
	int err = db_prepare(c, &q_queue_lock, &st);
	if (err)
		return err;
	db_bind_text(st, ns);
	db_bind_text(st, queue);
	int rc = db_step(st);
	*got = rc > 0;
	return db_end(st, rc < 0 ? rc : 0);
}

typedef struct candidate {
	weft_id id;
	char *ckey;                /* NULL: none */
	char *rkey;                /* "" : the queue's bucket */
	int64_t priority, start_after;
} candidate;

static int read_candidate(db_stmt *st, void *row)
{
	candidate *x = row;
	db_col_id(st, 0, &x->id);
	x->ckey = db_col_str(st, 1);
	x->rkey = db_col_str_nn(st, 2, "");
	x->priority = db_col_int(st, 3);
	x->start_after = db_col_int(st, 4);
	return 0;
}

static void release_candidate(void *row)
{
	candidate *x = row;
	free(x->ckey);
	free(x->rkey);
}

/* Micro-tokens of a bucket at `now`. */
static int64_t refill(const queue_limits *l, int64_t tokens, int64_t counted_at, int64_t now)
{
	int64_t full = l->rate_burst * TOKEN_MICRO;
	if (now <= counted_at)
		return MIN(tokens, full);
	double add = (double)(now - counted_at) * (double)l->rate_limit * (double)TOKEN_MICRO /
	             ((double)l->rate_period_ms * 1000.0);
	double t = (double)tokens + add;
	return t >= (double)full ? full : (int64_t)t;
}

/* When a bucket holding `tokens` micro-tokens has a whole token. */
static int64_t next_token_at(const queue_limits *l, int64_t tokens, int64_t now)
{
	int64_t missing = TOKEN_MICRO - tokens;
	if (missing <= 0)
		return now;
	double us = (double)missing * (double)l->rate_period_ms * 1000.0 / ((double)l->rate_limit * TOKEN_MICRO);
	return now + (int64_t)us + 1;
}

static int cmp_row_id(const void *a, const void *b)
{
	return strncmp(((const job_claimed_row *)a)->id.str, ((const job_claimed_row *)b)->id.str, WEFT_ID_LEN);
}

static int cmp_claimed_order(const void *a, const void *b)
{
	const job_claimed_row *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	if (x->start_after != y->start_after)
		return x->start_after < y->start_after ? -1 : 1;
	return strncmp(x->id.str, y->id.str, WEFT_ID_LEN);
}

typedef struct chosen {
	weft_id id;
	size_t range;
} chosen;

static int cmp_chosen(const void *a, const void *b)
{
	return strncmp(((const chosen *)a)->id.str, ((const chosen *)b)->id.str, WEFT_ID_LEN);
}

/* The running counts: of each concurrency key of the queue (along
 * task_key_running: as many rows as keyed jobs running), and the queue's
 * total when it has a total limit. */
static int read_counts(store_conn *c, const char *ns, const char *queue, const queue_limits *l, key_table *keys,
                       int64_t *total)
{
	db_stmt *st;
	int err = 0, rc;
	if (l->key_concurrency > 0) {
		if ((err = db_prepare(c, &q_key_running, &st)) != 0)
			return err;
		db_bind_text(st, ns);
		db_bind_text(st, queue);
		while ((rc = db_step(st)) > 0) {
			const char *k = db_col_text(st, 0);
			if (k != NULL)
				table_at(keys, k)->count = db_col_int(st, 1);
		}
		if ((err = db_end(st, rc)) != 0)
			return err;
	}
	if (l->concurrency > 0) {
		bool found;
		if ((err = db_prepare(c, &q_queue_running, &st)) != 0)
			return err;
		db_bind_text(st, ns);
		db_bind_text(st, queue);
		err = db_query_int(st, total, &found);
	}
	return err;
}

/* The buckets of a page's rate keys not met yet, refilled to `at` (a new
 * bucket starts full). */
static int read_buckets(store_conn *c, const char *ns, const char *queue, const queue_limits *l,
                        const candidate *cand, size_t ncand, key_table *buckets, int64_t at)
{
	db_set set;
	db_set_init(&set);
	size_t fresh = 0;
	for (size_t i = 0; i < ncand; i++) {
		key_slot *b = table_at(buckets, cand[i].rkey);
		if (!b->known) {
			b->known = true;
			b->count = l->rate_burst * TOKEN_MICRO;
			db_set_text(&set, cand[i].rkey);
			fresh++;
		}
	}
	db_stmt *st;
	int err = 0, rc;
	if (fresh > 0 && (err = db_prepare(c, &q_buckets, &st)) == 0) {
		db_bind_text(st, ns);
		db_bind_text(st, queue);
		db_bind_set(st, &set);
		while ((rc = db_step(st)) > 0) {
			const char *k = db_col_text(st, 0);
			key_slot *b = k != NULL ? table_find(buckets, k) : NULL;
			if (b != NULL)
				b->count = refill(l, db_col_int(st, 1), db_col_int(st, 2), at);
		}
		err = db_end(st, rc);
	}
	db_set_release(&set);
	return err;
}

/* A page of candidates in claim order: the first, or the one after `last`. */
static int read_page(store_conn *c, const char *ns, const char *queue, int64_t now, int64_t size,
                     const candidate *last, candidate **out, size_t *n)
{
	db_stmt *st;
	int err = db_prepare(c, last ? &q_candidates_after : &q_candidates, &st);
	if (err)
		return err;
	db_bind_text(st, ns);
	db_bind_text(st, queue);
	db_bind_int(st, now);
	db_bind_int(st, size);
	if (last) {
		db_bind_int(st, last->priority);
		db_bind_int(st, last->start_after);
		db_bind_id(st, &last->id);
	}
	static const db_row_kind kind = { sizeof(candidate), read_candidate, release_candidate };
	void *rows = NULL;
	err = db_collect(st, &kind, &rows, n);
	*out = rows;
	return err;
}

static void free_page(candidate *cand, size_t n)
{
	for (size_t i = 0; i < n; i++)
		release_candidate(&cand[i]);
	free(cand);
}

/* What a walk over pages carries from one page to the next. */
typedef struct walk {
	const queue_limits *l;
	const job_claim_range *r;
	size_t nr;
	key_table keys, buckets;
	int64_t total;             /* the queue's running jobs */
	int64_t at;                /* the claims' time */
	chosen *pick;
	size_t npick, cap;
	size_t range;              /* the range being filled */
	int64_t in_range;          /* rows it has */
} walk;

/* Takes the page's candidates, in claim order, while their slots and
 * buckets allow; ranks go to the ranges in order. False once nothing more
 * can be taken (every range full, or the queue's total reached). */
static bool walk_page(walk *w, const candidate *cand, size_t ncand, limited_claim_info *info)
{
	const queue_limits *l = w->l;
	for (size_t i = 0; i < ncand && w->range < w->nr; i++) {
		if (l->concurrency > 0 && w->total >= l->concurrency) {
			info->blocked = true;
			return false;
		}
		key_slot *k = l->key_concurrency > 0 && cand[i].ckey ? table_at(&w->keys, cand[i].ckey) : NULL;
		if (k != NULL && k->count >= l->key_concurrency) {
			info->blocked = true;
			continue;
		}
		key_slot *b = l->rate_limit > 0 ? table_find(&w->buckets, cand[i].rkey) : NULL;
		if (b != NULL && b->count < TOKEN_MICRO) {
			info->blocked = true;
			info->next_token_at = MIN(info->next_token_at, next_token_at(l, b->count, w->at));
			continue;
		}
		if (k != NULL)
			k->count++;
		if (b != NULL) {
			b->count -= TOKEN_MICRO;
			b->touched = true;
		}
		w->total++;
		w->pick = db_grow(w->pick, w->npick, &w->cap, sizeof *w->pick);
		w->pick[w->npick++] = (chosen){ .id = cand[i].id, .range = w->range };
		if (++w->in_range > w->r[w->range].hi - w->r[w->range].lo) {
			w->range++;
			w->in_range = 0;
		}
	}
	return w->range < w->nr;
}

int store_jobs_claim_limited(store_conn *c, const char *ns, const char *queue, const queue_limits *l, int64_t now,
                             const job_claim_range *r, size_t nr, job_claimed_row **out, size_t *n,
                             limited_claim_info *info)
{
	*out = NULL;
	*n = 0;
	int64_t (*clock)(void) = info->clock;
	*info = (limited_claim_info){ .next_token_at = INT64_MAX, .clock = clock };
	int64_t want = 0;
	for (size_t i = 0; i < nr; i++)
		want = MAX(want, r[i].hi);
	if (want <= 0)
		return 0;
	int64_t size = MIN(LIMITED_PAGE_MAX, MAX(LIMITED_PAGE_MIN, 8 * want));
	walk w = { .l = l, .r = r, .nr = nr, .at = now };
	table_init(&w.keys);
	table_init(&w.buckets);
	candidate *cand = NULL;
	size_t ncand = 0;
	int err = read_page(c, ns, queue, now, size, NULL, &cand, &ncand);
	if (err == 0 && ncand > 0)
		err = read_counts(c, ns, queue, l, &w.keys, &w.total);
	/* The claims' time: read after the counts (never before `now`), so that
	 * every end of a job the counts saw (ends take no lock, and may commit
	 * while the lock is held) precedes the start of a claim that took its
	 * slot, also by the timestamps; the buckets are counted at that time
	 * too, so that tokens and started_at share one time base. */
	w.at = clock != NULL ? MAX(now, clock()) : now;
	for (int page = 0; err == 0 && ncand > 0; page++) {
		if (l->rate_limit > 0)
			err = read_buckets(c, ns, queue, l, cand, ncand, &w.buckets, w.at);
		bool more = err == 0 && walk_page(&w, cand, ncand, info);
		if (!more || (int64_t)ncand < size || page + 1 == LIMITED_PAGES)
			break;
		candidate last = cand[ncand - 1], *next = NULL;
		size_t nnext = 0;
		err = read_page(c, ns, queue, now, size, &last, &next, &nnext);
		free_page(cand, ncand);
		cand = next;
		ncand = nnext;
	}
	free_page(cand, ncand);
	chosen *pick = w.pick;
	size_t npick = w.npick;
	int64_t at = w.at;
	db_stmt *st;
	key_table buckets = w.buckets;
	/* The chosen rows. */
	if (err == 0 && npick > 0) {
		db_set rows;
		db_set_init(&rows);
		for (size_t i = 0; i < npick; i++) {
			const job_claim_range *x = &r[pick[i].range];
			db_set_row(&rows);
			db_set_field_text(&rows, "id", pick[i].id.str);
			db_set_field_text(&rows, "worker", x->worker_id);
			db_set_field_text(&rows, "actor", x->actor);
			db_set_field_int(&rows, "lease_us", x->lease_us);
		}
		if ((err = db_prepare(c, &q_claim_chosen, &st)) == 0) {
			db_bind_int(st, at);
			db_bind_set(st, &rows);
			err = db_collect(st, store_claimed_row_kind(), (void **)out, n);
		}
		db_set_release(&rows);
	}
	/* The buckets spent from. */
	if (err == 0 && l->rate_limit > 0) {
		db_set rows;
		db_set_init(&rows);
		size_t nb = 0;
		for (size_t i = 0; i < buckets.cap; i++) {
			if (buckets.v[i].key == NULL || !buckets.v[i].touched)
				continue;
			db_set_row(&rows);
			db_set_field_text(&rows, "key", buckets.v[i].key);
			db_set_field_int(&rows, "tokens", buckets.v[i].count);
			nb++;
		}
		if (nb > 0 && (err = db_prepare(c, &q_buckets_save, &st)) == 0) {
			db_bind_text(st, ns);
			db_bind_text(st, queue);
			db_bind_int(st, at);      /* the time the buckets were counted at */
			db_bind_set(st, &rows);
			err = db_run(st, NULL);
		}
		db_set_release(&rows);
	}
	/* Each row's range, then claim order. */
	if (err == 0 && *n > 0) {
		qsort(pick, npick, sizeof *pick, cmp_chosen);
		qsort(*out, *n, sizeof **out, cmp_row_id);
		for (size_t i = 0, j = 0; i < *n; i++) {
			while (j < npick && cmp_chosen(&pick[j], &(chosen){ .id = (*out)[i].id }) < 0)
				j++;
			(*out)[i].range = j < npick ? pick[j].range : 0;
		}
		qsort(*out, *n, sizeof **out, cmp_claimed_order);
		for (size_t i = 0; i < *n; i++)
			task_changed_note(c, &(*out)[i].id, TS_RUNNING);
		err = task_count_add(c, TS_PENDING, -(int64_t)*n);
		if (err == 0)
			err = task_count_add(c, TS_RUNNING, (int64_t)*n);
	}
	if (err != 0) {
		store_free_claimed(*out, *n);
		*out = NULL;
		*n = 0;
	}
	free(pick);
	table_release(&w.keys);
	table_release(&w.buckets);
	return err;
}
