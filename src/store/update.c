/*
 * update.c — the guarded task update, of one task or of a set of them.
 *
 * A change names a task, the statuses it may be in (the guard) and the
 * fields to set or add. A set is applied in rounds, each naming a task at
 * most once: the k-th change of a task is in round k, so that several
 * changes of one task give what applying them in order gives. A round is
 * a constant number of statements whatever its size:
 *
 *   1. the rows' status, batch and counters, locked in id order where
 *      other nodes write (so that nodes updating the same tasks wait for
 *      each other instead of deadlocking);
 *   2. one UPDATE of the rows whose guard matched and whose counters stay
 *      within TASK_COUNTER_MAX, from a set of rows bound as one parameter
 *      (returning the rows when a caller wants them);
 *   3. one INSERT of the audit events of the status changes.
 *
 * The UPDATE assigns the fields that the round's changes give (a part of
 * TASK_CHANGE_SET): a field that one change gives and another does not is
 * null in the other's row and keeps its column. A driver may do a round
 * its own way (pg/pg.h: the three steps as one statement); the rounds and
 * the batch counters are done here either way.
 */
#include "util/common.h"

#include "core/limits.h"
#include "store/db.h"
#include "util/alloc.h"
#include "util/clock.h"

/* ---- rounds -------------------------------------------------------------------------- */

static int cmp_id_pos(const void *a, const void *b)
{
	const id_pos *x = a, *y = b;
	int c = strncmp(x->id->str, y->id->str, WEFT_ID_LEN);
	return c != 0 ? c : (x->i > y->i) - (x->i < y->i);
}

size_t store_rounds(const weft_id *const *ids, size_t n, uint32_t *round)
{
	if (n <= 1) {
		if (n == 1)
			round[0] = 0;
		return n;
	}
	id_pos *v = xmalloc(n * sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = (id_pos){ ids[i], i };
	qsort(v, n, sizeof *v, cmp_id_pos);
	uint32_t most = 0, k = 0;
	for (size_t j = 0; j < n; j++) {
		k = j > 0 && id_eq(v[j].id, v[j - 1].id) ? k + 1 : 0;
		round[v[j].i] = k;
		most = MAX(most, k);
	}
	free(v);
	return (size_t)most + 1;
}

int store_each_round(const weft_id *const *ids, size_t n, int (*fn)(void *ctx, const size_t *idx, size_t m),
                     void *ctx)
{
	uint32_t *round = xmalloc((n ? n : 1) * sizeof *round);
	size_t *idx = xmalloc((n ? n : 1) * sizeof *idx);
	size_t rounds = store_rounds(ids, n, round);
	int err = 0;
	for (uint32_t r = 0; r < rounds && !err; r++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (round[i] == r)
				idx[m++] = i;
		err = fn(ctx, idx, m);
	}
	free(idx);
	free(round);
	return err;
}

/* ---- the pieces a driver's round shares --------------------------------------------------- */

unsigned task_change_fields(db_set *s, const task_update *u)
{
	unsigned given = 0;
#define GIVE(field, add) \
	do {                 \
		add;             \
		given |= field;  \
	} while (0)
	if (u->set_status)
		GIVE(TCF_STATUS, db_set_field_text(s, "status", task_status_name(u->status)));
	if (u->add_success != 0)
		GIVE(TCF_ADD_SUCCESS, db_set_field_int(s, "add_success", u->add_success));
	if (u->add_failures != 0)
		GIVE(TCF_ADD_FAILURES, db_set_field_int(s, "add_failures", u->add_failures));
	if (u->metadata != NULL)
		GIVE(TCF_METADATA, db_set_field_text(s, "metadata", u->metadata));
	if (u->failure_reason != NULL)
		GIVE(TCF_FAILURE_REASON, db_set_field_text(s, "failure_reason", u->failure_reason));
	if (u->rules != NULL)
		GIVE(TCF_RULES, db_set_field_text(s, "rules", u->rules));
	if (u->set_expected_count)
		GIVE(TCF_EXPECTED_COUNT, db_set_field_int(s, "expected_count", u->expected_count));
	if (u->set_priority)
		GIVE(TCF_PRIORITY, db_set_field_int(s, "priority", u->priority));
	if (u->started_at != 0)
		GIVE(TCF_STARTED_AT, db_set_field_int(s, "started_at", u->started_at));
	if (u->ended_at != 0)
		GIVE(TCF_ENDED_AT, db_set_field_int(s, "ended_at", u->ended_at));
	if (u->last_updated != 0)
		GIVE(TCF_LAST_UPDATED, db_set_field_int(s, "last_updated", u->last_updated));
	if (u->set_attempt)
		GIVE(TCF_ATTEMPT, db_set_field_int(s, "attempt", u->attempt));
	if (u->next_retry_at != 0)
		GIVE(TCF_NEXT_RETRY_AT, db_set_field_int(s, "next_retry_at", u->next_retry_at));
#undef GIVE
	return given;
}

/* Item i of a comma-separated SQL list, commas inside parentheses not
 * counting: its start, and its length in *len (0 past the end). */
static const char *list_item(const char *list, unsigned i, size_t *len)
{
	const char *p = list;
	for (unsigned k = 0;; k++) {
		while (*p == ' ')
			p++;
		const char *start = p;
		int depth = 0;
		for (; *p != '\0' && (depth > 0 || *p != ','); p++)
			depth += (*p == '(') - (*p == ')');
		if (k == i) {
			*len = (size_t)(p - start);
			return start;
		}
		if (*p == '\0') {
			*len = 0;
			return p;
		}
		p++;
	}
}

/* Appends, comma-separated, the items of list whose bit is in given. */
static void put_items(buf *sql, const char *list, unsigned given)
{
	bool first = true;
	for (unsigned i = 0; i < TCF__COUNT; i++) {
		if (!(given & (1u << i)))
			continue;
		size_t len;
		const char *item = list_item(list, i, &len);
		if (!first)
			buf_puts(sql, ", ");
		buf_append(sql, item, len);
		first = false;
	}
}

const char *task_change_over(const task_update *u, int64_t success, int64_t failures)
{
	if (u->add_success > 0 && u->add_success > TASK_COUNTER_MAX - success)
		return "success";
	if (u->add_failures > 0 && u->add_failures > TASK_COUNTER_MAX - failures)
		return "failures";
	return NULL;
}

int64_t task_update_time(const task_update *u)
{
	if (u->last_updated != 0)
		return u->last_updated;
	if (u->ended_at != 0)
		return u->ended_at;
	if (u->started_at != 0)
		return u->started_at;
	return clock_now_us();
}

const char *task_update_reason(const task_update *u) { return u->reason ? u->reason : u->failure_reason; }
const char *task_update_actor(const task_update *u) { return u->actor ? u->actor : "api"; }

/* ---- a round, written once ------------------------------------------------------------------- */

static const db_sql q_current = {
	"task_status",
	"SELECT id, status, batch_id, success, failures, executor FROM task WHERE {in:id,$1}{lock_in_order:id}",
	NULL,
};

/* The UPDATE of a round, per shape: the fields its rows give (TCF_*
 * bits), and SHAPE_AFTER when it returns the rows. Only the given columns
 * are assigned: SQLite rewrites the entries of every index on an assigned
 * column, changed or not, and a counter update that assigned them all
 * wrote twice the pages. */
#define SHAPE_AFTER (1u << TCF__COUNT)

static void build_update(buf *sql, unsigned shape)
{
	unsigned given = shape & (SHAPE_AFTER - 1);
	buf_puts(sql, "UPDATE task SET ");
	if (given == 0)
		buf_puts(sql, "status = task.status");   /* a change that gives nothing */
	put_items(sql, TASK_CHANGE_SET("r"), given);
	buf_puts(sql, " FROM {rows:$1,id text,prev text");
	if (given != 0)
		buf_puts(sql, ",");
	put_items(sql, TASK_CHANGE_COLS, given);
	buf_puts(sql, "} AS r WHERE task.id = r.id AND task.status = r.prev "
	              "AND {plan_ids:task.id,SELECT r2.id FROM {rows:$1,id text} AS r2}");
	if (shape & SHAPE_AFTER)
		buf_puts(sql, " RETURNING " TASK_COLS_OF("task."));
}

static const db_dyn dyn_update = { "task_update", build_update };

typedef struct current {
	weft_id id;
	task_status status;
	weft_id batch;
	int64_t success, failures;
	bool job;
} current;

static int cmp_current(const void *a, const void *b)
{
	return strncmp(((const current *)a)->id.str, ((const current *)b)->id.str, WEFT_ID_LEN);
}

static current *find_current(current *cur, size_t n, const weft_id *id)
{
	current key = { .id = *id };
	return n > 0 ? bsearch(&key, cur, n, sizeof *cur, cmp_current) : NULL;
}

/* The rows of the round's tasks, sorted by id. */
static int read_current(store_conn *c, const task_change *ch, const size_t *idx, size_t n, current **out,
                        size_t *nout)
{
	db_stmt *st;
	int err = db_prepare(c, &q_current, &st);
	if (err)
		return err;
	db_set ids;
	db_set_init(&ids);
	for (size_t k = 0; k < n; k++)
		db_set_id(&ids, &ch[idx[k]].id);
	db_bind_set(st, &ids);
	current *cur = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		cur = db_grow(cur, len, &cap, sizeof *cur);
		current *r = &cur[len++];
		db_col_id(st, 0, &r->id);
		db_col_id(st, 2, &r->batch);
		r->success = db_col_int(st, 3);
		r->failures = db_col_int(st, 4);
		r->job = db_col_text(st, 5) != NULL && strcmp(db_col_text(st, 5), "queue") == 0;
		if ((rc = db_col_status(st, 1, &r->status)) != 0)
			break;
	}
	err = db_end(st, rc);
	db_set_release(&ids);
	if (err) {
		free(cur);
		return err;
	}
	if (len > 1)
		qsort(cur, len, sizeof *cur, cmp_current);
	*out = cur;
	*nout = len;
	return 0;
}

static int cmp_id_only(const void *a, const void *b)
{
	return strncmp(((const id_pos *)a)->id->str, ((const id_pos *)b)->id->str, WEFT_ID_LEN);
}

task_row *task_change_after(const task_change *ch, const size_t *idx, size_t n, const weft_id *id, id_pos **index)
{
	if (*index == NULL) {
		*index = xmalloc((n ? n : 1) * sizeof **index);
		for (size_t k = 0; k < n; k++)
			(*index)[k] = (id_pos){ &ch[idx[k]].id, idx[k] };
		qsort(*index, n, sizeof **index, cmp_id_only);
	}
	id_pos key = { id, 0 };
	id_pos *hit = bsearch(&key, *index, n, sizeof **index, cmp_id_only);
	return hit != NULL ? ch[hit->i].u.after : NULL;
}

/* The UPDATE of the rows in `rows`; with `after`, the rows it returns
 * go to the changes that asked (a round names each task once). */
static int write_rows(store_conn *c, db_set *rows, unsigned given, const task_change *ch, const size_t *idx, size_t n,
                      bool after)
{
	db_stmt *st;
	int err = db_prepare_dyn(c, &dyn_update, given | (after ? SHAPE_AFTER : 0), &st);
	if (err)
		return err;
	db_bind_set(st, rows);
	if (!after)
		return db_send(st, NULL);
	id_pos *index = NULL;
	int rc;
	task_row row;
	while ((rc = db_step(st)) > 0) {
		if ((rc = db_read_task(st, 0, &row)) != 0)
			break;
		task_row *to = task_change_after(ch, idx, n, &row.id, &index);
		if (to != NULL)
			*to = row;
		else
			task_row_release(&row);
	}
	free(index);
	return db_end(st, rc);
}

static int update_round(store_conn *c, const task_change *ch, const size_t *idx, size_t n, task_update_result *res,
                        weft_id *batch)
{
	current *cur = NULL;
	size_t ncur = 0;
	int err = read_current(c, ch, idx, n, &cur, &ncur);
	if (err)
		return err;
	db_set rows, events;
	db_set_init(&rows);
	db_set_init(&events);
	bool after = false;
	unsigned given = 0;
	for (size_t k = 0; k < n; k++) {
		size_t i = idx[k];
		const task_update *u = &ch[i].u;
		current *r = find_current(cur, ncur, &ch[i].id);
		if (r == NULL)
			continue;
		res[i].found = true;
		res[i].prev = r->status;
		batch[i] = r->batch;
		if (!(ch[i].from_mask & TS_BIT(r->status)) || (u->not_jobs && r->job))
			continue;
		if ((res[i].over_limit = task_change_over(u, r->success, r->failures)) != NULL)
			continue;
		res[i].applied = true;
		after |= u->after != NULL;
		db_set_row(&rows);
		db_set_field_text(&rows, "id", ch[i].id.str);
		db_set_field_text(&rows, "prev", task_status_name(r->status));
		given |= task_change_fields(&rows, u);
		if (u->set_status && u->status != r->status)
			event_row(&events, &ch[i].id, task_update_time(u), task_status_name(r->status),
			          task_status_name(u->status), task_update_reason(u), task_update_actor(u));
	}
	if (rows.n > 0)
		err = write_rows(c, &rows, given, ch, idx, n, after);
	if (!err && events.n > 0)
		err = event_add_rows(c, &events);
	db_set_release(&rows);
	db_set_release(&events);
	free(cur);
	return err;
}

/* ---- sets and single updates ------------------------------------------------------------------ */

typedef struct set_update {
	store_conn *c;
	const task_change *ch;
	task_update_result *res;
	weft_id *batch;        /* each change's task's batch */
} set_update;

static int apply_round(void *ctx, const size_t *idx, size_t m)
{
	set_update *s = ctx;
	store_conn *c = s->c;
	int err = c->drv->task_update_round != NULL ? c->drv->task_update_round(c, s->ch, idx, m, s->res, s->batch)
	                                            : update_round(c, s->ch, idx, m, s->res, s->batch);
	/* The counters move once the round is done: outside a transaction
	 * each change is written at once. */
	for (size_t k = 0; k < m && !err; k++) {
		size_t i = idx[k];
		if (s->res[i].applied && s->ch[i].u.set_status) {
			task_changed_note(c, &s->ch[i].id, s->ch[i].u.status);
			err = batch_remaining_move(c, &s->batch[i], s->res[i].prev, s->ch[i].u.status);
		}
	}
	return err;
}

int store_task_update_many(store_conn *c, const task_change *ch, size_t n, task_update_result *res)
{
	for (size_t i = 0; i < n; i++) {
		res[i] = (task_update_result){ .prev = TS_WAITING };
		if (ch[i].u.after != NULL)
			memset(ch[i].u.after, 0, sizeof *ch[i].u.after);
	}
	if (n == 0)
		return 0;
	const weft_id **ids = xmalloc(n * sizeof *ids);
	for (size_t i = 0; i < n; i++)
		ids[i] = &ch[i].id;
	set_update s = { .c = c, .ch = ch, .res = res, .batch = xcalloc(n, sizeof(weft_id)) };
	int err = store_each_round(ids, n, apply_round, &s);
	for (size_t i = 0; i < n && err; i++)
		if (ch[i].u.after != NULL)
			task_row_release(ch[i].u.after);
	free(s.batch);
	free(ids);
	return err;
}

int store_task_update(store_conn *c, const weft_id *id, unsigned from_mask, const task_update *u,
                      task_update_result *res)
{
	task_change ch = { .id = *id, .from_mask = from_mask, .u = *u };
	int err = store_task_update_many(c, &ch, 1, res);
	return err ? err : res->found ? 0 : WEFT_ENOTFOUND;
}

/* ---- reading a set ---------------------------------------------------------------------------- */

static const db_sql q_read = {
	"task_read", "SELECT " TASK_COLS " FROM task WHERE {in:id,$1}", NULL,
};
static const db_sql q_read_lock = {
	"task_read", "SELECT " TASK_COLS " FROM task WHERE {in:id,$1}{lock_in_order:id}", NULL,
};

int store_tasks_read(store_conn *c, const weft_id *ids, size_t n, bool lock, task_row **out, size_t *nout)
{
	db_stmt *st;
	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	int err = db_prepare(c, lock ? &q_read_lock : &q_read, &st);
	if (err)
		return err;
	db_set set;
	db_set_init(&set);
	db_set_ids(&set, ids, n);
	db_bind_set(st, &set);
	err = db_collect_tasks(st, out, nout);
	db_set_release(&set);
	return err;
}
