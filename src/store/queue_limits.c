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
#include "util/alloc.h"

#define TOKEN_MICRO 1000000LL
/* Candidates read per claim: enough to pass over jobs whose keys are
 * blocked, bounded so that a step stays short. */
#define LIMITED_PAGE_MIN 256
#define LIMITED_PAGE_MAX 4096

/* ---- a small string-keyed table (keys borrowed) ----------------------------------- */

typedef struct key_slot {
	const char *key;           /* NULL: empty */
	int64_t count;             /* running jobs, or micro-tokens (at the claims' time) */
	bool known;                /* buckets: read or created */
	bool touched;              /* buckets: spent from, to be written */
} key_slot;

typedef struct key_table {
	key_slot *v;
	size_t cap;                /* a power of two */
} key_table;

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void table_init(key_table *t, size_t expect)
{
	t->cap = 16;
	while (t->cap < expect * 2)
		t->cap *= 2;
	t->v = xcalloc(t->cap, sizeof *t->v);
}

/* The slot of key, or NULL when the table does not hold it. */
static key_slot *table_find(key_table *t, const char *key)
{
	size_t i = (size_t)hash_str(key) & (t->cap - 1);
	while (t->v[i].key != NULL && strcmp(t->v[i].key, key) != 0)
		i = (i + 1) & (t->cap - 1);
	return t->v[i].key != NULL ? &t->v[i] : NULL;
}

/* The slot of key, added when missing (key borrowed: it must outlive the
 * table). */
static key_slot *table_at(key_table *t, const char *key)
{
	size_t i = (size_t)hash_str(key) & (t->cap - 1);
	while (t->v[i].key != NULL && strcmp(t->v[i].key, key) != 0)
		i = (i + 1) & (t->cap - 1);
	if (t->v[i].key == NULL)
		t->v[i].key = key;
	return &t->v[i];
}

/* ---- statements ------------------------------------------------------------------------ */

static const db_sql q_candidates = {
	"job_claim_candidates",
	"SELECT id, concurrency_key, coalesce(rate_key, '') FROM task{index:task_queue_ready} "
	"WHERE status = 'pending' AND executor = 'queue' AND namespace = $1 AND kind = $2 AND start_after <= $3 "
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
} candidate;

static int read_candidate(db_stmt *st, void *row)
{
	candidate *x = row;
	db_col_id(st, 0, &x->id);
	x->ckey = db_col_str(st, 1);
	x->rkey = db_col_str_nn(st, 2, "");
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

/* Reads running counts and buckets into the tables. *at: the claims' time,
 * read from the clock after the counts (never before `now`): every end of a
 * job the counts saw (ends take no lock, and may commit while the lock is
 * held) then precedes the start of a claim that took its slot, also by the
 * timestamps; the buckets are counted at that time too, so that a bucket's
 * tokens and the claims' started_at share one time base. */
static int read_state(store_conn *c, const char *ns, const char *queue, const queue_limits *l, candidate *cand,
                      size_t ncand, key_table *keys, key_table *buckets, int64_t *total, int64_t now,
                      int64_t (*clock)(void), int64_t *at)
{
	db_stmt *st;
	int err = 0, rc;
	if (l->key_concurrency > 0) {
		/* Only the page's keys matter (borrowed from the page). */
		for (size_t i = 0; i < ncand; i++)
			if (cand[i].ckey != NULL)
				table_at(keys, cand[i].ckey);
		if ((err = db_prepare(c, &q_key_running, &st)) != 0)
			return err;
		db_bind_text(st, ns);
		db_bind_text(st, queue);
		while ((rc = db_step(st)) > 0) {
			const char *k = db_col_text(st, 0);
			key_slot *slot = k != NULL ? table_find(keys, k) : NULL;
			if (slot != NULL)
				slot->count = db_col_int(st, 1);
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
		if ((err = db_query_int(st, total, &found)) != 0)
			return err;
	}
	*at = clock != NULL ? MAX(now, clock()) : now;
	now = *at;
	if (l->rate_limit > 0) {
		db_set set;
		db_set_init(&set);
		for (size_t i = 0; i < ncand; i++) {
			key_slot *b = table_at(buckets, cand[i].rkey);
			if (!b->known) {
				b->known = true;
				b->count = l->rate_burst * TOKEN_MICRO;     /* a new bucket starts full */
				db_set_text(&set, cand[i].rkey);
			}
		}
		if ((err = db_prepare(c, &q_buckets, &st)) == 0) {
			db_bind_text(st, ns);
			db_bind_text(st, queue);
			db_bind_set(st, &set);
			while ((rc = db_step(st)) > 0) {
				const char *k = db_col_text(st, 0);
				key_slot *b = k != NULL ? table_find(buckets, k) : NULL;
				if (b != NULL)
					b->count = refill(l, db_col_int(st, 1), db_col_int(st, 2), now);
			}
			err = db_end(st, rc);
		}
		db_set_release(&set);
	}
	return err;
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
	db_stmt *st;
	int err;
	if ((err = db_prepare(c, &q_candidates, &st)) != 0)
		return err;
	db_bind_text(st, ns);
	db_bind_text(st, queue);
	db_bind_int(st, now);
	db_bind_int(st, MIN(LIMITED_PAGE_MAX, MAX(LIMITED_PAGE_MIN, 8 * want)));
	static const db_row_kind kind = { sizeof(candidate), read_candidate, release_candidate };
	void *crows = NULL;
	size_t ncand = 0;
	if ((err = db_collect(st, &kind, &crows, &ncand)) != 0)
		return err;
	candidate *cand = crows;
	key_table keys, buckets;
	table_init(&keys, ncand);
	table_init(&buckets, ncand);
	int64_t total = 0, at = now;
	err = read_state(c, ns, queue, l, cand, ncand, &keys, &buckets, &total, now, clock, &at);

	/* The walk: candidates in claim order, each taken when its slots and
	 * its bucket allow; ranks go to the ranges in order. */
	chosen *pick = xcalloc(ncand ? ncand : 1, sizeof *pick);
	size_t npick = 0, range = 0;
	int64_t in_range = 0;
	for (size_t i = 0; i < ncand && err == 0 && range < nr; i++) {
		if (l->concurrency > 0 && total >= l->concurrency) {
			info->blocked = true;
			break;
		}
		key_slot *k = l->key_concurrency > 0 && cand[i].ckey ? table_at(&keys, cand[i].ckey) : NULL;
		if (k != NULL && k->count >= l->key_concurrency) {
			info->blocked = true;
			continue;
		}
		key_slot *b = l->rate_limit > 0 ? table_at(&buckets, cand[i].rkey) : NULL;
		if (b != NULL && b->count < TOKEN_MICRO) {
			info->blocked = true;
			info->next_token_at = MIN(info->next_token_at, next_token_at(l, b->count, at));
			continue;
		}
		if (k != NULL)
			k->count++;
		if (b != NULL) {
			b->count -= TOKEN_MICRO;
			b->touched = true;
		}
		total++;
		pick[npick++] = (chosen){ .id = cand[i].id, .range = range };
		if (++in_range > r[range].hi - r[range].lo) {
			range++;
			in_range = 0;
		}
	}
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
	free(keys.v);
	free(buckets.v);
	for (size_t i = 0; i < ncand; i++)
		release_candidate(&cand[i]);
	free(cand);
	return err;
}
