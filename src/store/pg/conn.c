/*
 * conn.c — the PostgreSQL driver's connections and statements (pg.h):
 * connecting and reconnecting, prepared statements per session, execution,
 * the writer's pipeline (its COPY is copy.c's), reads asked for ahead,
 * transactions and savepoints (the resolution of a COMMIT whose answer was
 * lost is doubt.c's).
 *
 * Statements are prepared once per session under a name derived from their
 * text (so a text is prepared at most once per session, however often the
 * statement cache lets it go and takes it back) and executed with text
 * parameters.
 */
#include "util/common.h"

#include <poll.h>

#include "store/pg/pg.h"
#include "util/alloc.h"
#include "util/log.h"

#define SUBSYS PG_SUBSYS
#define QL(name) "query=\"" name "\""
/* Statements queued in pipeline mode before their results are read: few
 * enough that their results (about 25 bytes each) fit in the server's
 * socket buffer, since libpq blocks sending while nothing reads them. */
#define PIPELINE_MAX 256
#define PIPELINE_MAX_BYTES (1024 * 1024)

/* The prepared names of the current session: a set of text hashes. */
typedef struct pg_prepared {
	uint64_t *slots;        /* 0: free */
	size_t cap, len;
} pg_prepared;

typedef struct pg_conn_full {
	pg_conn c;
	pg_prepared prepared;
} pg_conn_full;

static pg_stmt *pst(db_stmt *st) { return (pg_stmt *)st; }
static pg_prepared *prepared_of(pg_conn *c) { return &((pg_conn_full *)c)->prepared; }

int64_t pg_mono_ms(void) { return db_mono_ns() / 1000000; }

int pg_msg_len(const char *m)
{
	size_t n = m ? strlen(m) : 0;
	while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
		n--;
	return (int)MIN(n, (size_t)INT32_MAX);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211u;
	}
	return h ? h : 1;
}

static bool prepared_has(pg_prepared *p, uint64_t h)
{
	for (size_t i = p->cap ? h & (p->cap - 1) : 0; p->cap; i = (i + 1) & (p->cap - 1)) {
		if (p->slots[i] == h)
			return true;
		if (p->slots[i] == 0)
			return false;
	}
	return false;
}

static void prepared_add(pg_prepared *p, uint64_t h)
{
	if ((p->len + 1) * 2 > p->cap) {
		pg_prepared bigger = { xcalloc(p->cap ? p->cap * 2 : 64, sizeof(uint64_t)), p->cap ? p->cap * 2 : 64, 0 };
		for (size_t i = 0; i < p->cap; i++)
			if (p->slots[i] != 0)
				prepared_add(&bigger, p->slots[i]);
		free(p->slots);
		*p = bigger;
	}
	size_t i = h & (p->cap - 1);
	while (p->slots[i] != 0)
		i = (i + 1) & (p->cap - 1);
	p->slots[i] = h;
	p->len++;
}

static void prepared_clear(pg_prepared *p)
{
	free(p->slots);
	*p = (pg_prepared){ 0 };
}

/* ---- connecting ------------------------------------------------------------------------ */

static void notice_to_log(void *arg, const char *message)
{
	UNUSED(arg);
	log_debug(SUBSYS, "postgres: %.*s", pg_msg_len(message), message);
}

/* Keywords in this order so that the URL (dbname, expanded) overrides the
 * defaults before it. A reader's sessions are read-only: a write through
 * one fails rather than slipping past the engine. The writer's never plan
 * parallel workers: its statements touch a few rows each, and a generic
 * plan made while a queue held 100,000 jobs launched two workers for every
 * look-up of the next delayed job after the queue had drained (18 ms each,
 * run by every cycle that claimed). */
PGconn *pg_connect(const pg_store *s, db_role role, bool async)
{
	static const char *const keys[] = { "connect_timeout", "application_name", "keepalives_idle",
		                            "keepalives_interval", "keepalives_count", "options", "dbname", NULL };
	char timeout[16];
	snprintf(timeout, sizeof timeout, "%d", PG_CONNECT_TIMEOUT_S);
	const char *options = role == DB_READER ? "-c default_transaction_read_only=on"
	                                        : "-c max_parallel_workers_per_gather=0";
	const char *const vals[] = { timeout, "weft", "5", "2", "2", options, s->url, NULL };
	PGconn *pq = async ? PQconnectStartParams(keys, vals, 1) : PQconnectdbParams(keys, vals, 1);
	if (pq != NULL)
		PQsetNoticeProcessor(pq, notice_to_log, NULL);
	return pq;
}

pg_conn *pg_conn_new(pg_store *s, db_role role)
{
	pg_conn_full *f = xcalloc(1, sizeof *f);
	pg_conn *c = &f->c;
	db_conn_init(&c->base, &s->base, &pg_driver, role);
	c->store = s;
	c->session = 1;
	c->pq = pg_connect(s, role, false);
	if (c->pq == NULL || PQstatus(c->pq) != CONNECTION_OK) {
		/* The writer's failure is the opening's: its caller reports it. */
		const char *m = c->pq ? PQerrorMessage(c->pq) : "out of memory";
		if (role == DB_READER)
			log_warn(SUBSYS, "cannot connect to PostgreSQL at \"%s\": %.*s", s->url_shown, pg_msg_len(m), m);
		c->broken = true;
	}
	return c;
}

static void conn_free(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	if (c == NULL)
		return;
	db_conn_release(&c->base);
	if (c->pq != NULL)
		PQfinish(c->pq);
	prepared_clear(prepared_of(c));
	PQclear(c->prefetched.res);
	buf_release(&c->prefetched.args);
	free(c->queued);
	for (size_t i = 0; i < c->ncopies; i++)
		buf_release(&c->copies[i].rows);
	free(c->copies);
	free(c);
}

void pg_mark_broken(pg_conn *c, const char *why)
{
	if (!c->broken)
		log_warn(SUBSYS, "PostgreSQL connection (%s) lost: %.*s", c->base.role == DB_WRITER ? "writer" : "reader",
		         pg_msg_len(why), why);
	c->broken = true;
	c->in_tx = false;
}

/* Reconnects a broken connection (bounded by connect_timeout); what was
 * prepared, queued or collected on the old session is gone with it. */
int pg_conn_reset(pg_conn *c)
{
	if (!c->broken)
		return 0;
	prepared_clear(prepared_of(c));
	c->session++;
	c->nqueued = c->queued_bytes = c->queued_writes = 0;
	pg_copy_discard(c);
	c->in_tx = false;
	if (c->pq != NULL)
		PQreset(c->pq);
	else
		c->pq = pg_connect(c->store, c->base.role, false);
	if (c->pq == NULL || PQstatus(c->pq) != CONNECTION_OK) {
		log_debug(SUBSYS, "reconnecting to PostgreSQL failed: %s", c->pq ? PQerrorMessage(c->pq) : "out of memory");
		return WEFT_EUNAVAILABLE;
	}
	c->broken = false;
	log_info(SUBSYS, "PostgreSQL connection (%s) re-established", c->base.role == DB_WRITER ? "writer" : "reader");
	return c->base.role == DB_WRITER ? pg_writer_session_init(c) : 0;
}

static int conn_check(store_conn *cc) { return pg_conn_reset(pgc(cc)); }

/* ---- results ---------------------------------------------------------------------------- */

/* SQLSTATEs after which the session is gone: class 08 (connection
 * exception) and the administrator or crash shutdowns of class 57. */
static bool state_conn_lost(const char *st)
{
	return st != NULL && (strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 || strcmp(st, "57P02") == 0 ||
	                      strcmp(st, "57P03") == 0);
}

int pg_check(pg_conn *c, const PGresult *r, const char *what)
{
	ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r != NULL ? PQresultErrorMessage(r) : "";
	if (msg == NULL || msg[0] == '\0')
		msg = PQerrorMessage(c->pq);
	if (PQstatus(c->pq) == CONNECTION_BAD || state_conn_lost(state)) {
		pg_mark_broken(c, msg);
		return WEFT_EUNAVAILABLE;
	}
	/* deadlock_detected, serialization_failure, lock_not_available (the
	 * writer's lock_timeout): another node's transaction collided with this
	 * one; the caller may try again. */
	if (state != NULL && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0 ||
	                      strcmp(state, "55P03") == 0)) {
		log_info(SUBSYS, "postgres %s: %.*s (will retry)", what, pg_msg_len(msg), msg);
		return WEFT_ERETRY;
	}
	log_error(SUBSYS, "postgres %s: %.*s", what, pg_msg_len(msg), msg);
	return WEFT_ESTORE;
}

/* Runs a statement without parameters or result (transaction control),
 * waiting for it, timed under label. */
static int send_begin(pg_conn *c);

static int run_utility(pg_conn *c, const char *label, const char *sql)
{
	if (c->broken || c->pq == NULL)
		return WEFT_EUNAVAILABLE;
	if (c->begin_pending) {
		int err = send_begin(c);
		if (err || (err = pg_pipeline_flush(c)) != 0)
			return err;
	}
	int64_t t0 = db_mono_ns();
	PGresult *r = PQexec(c->pq, sql);
	db_observe(&c->base, label, db_mono_ns() - t0);
	int err = pg_check(c, r, label);
	PQclear(r);
	return err;
}

/* ---- the pipeline ------------------------------------------------------------------------ */

/* The statement's result, to be stepped through (r owned). */
static void keep_result(pg_stmt *s, PGresult *r)
{
	s->res = r;
	s->nrows = PQntuples(r);
	s->row = -1;
	const char *tuples = PQcmdTuples(r);
	s->base.changes = tuples[0] ? strtoll(tuples, NULL, 10) : 0;
}

/* Reads the results of the queued statements, then sends the rows kept
 * for COPY. The first error wins (the statements after a failed one are
 * skipped by the server, and the COPY rows are dropped). */
int pg_pipeline_flush(pg_conn *c)
{
	if (c->nqueued == 0)
		return pg_copy_flush(c);
	int err = 0;
	size_t n = c->nqueued;
	c->nqueued = c->queued_bytes = c->queued_writes = 0;
	c->sync_sent = false;
	if (c->broken || !PQpipelineSync(c->pq)) {
		pg_mark_broken(c, PQerrorMessage(c->pq));
		return WEFT_EUNAVAILABLE;
	}
	c->sync_sent = true;
	for (size_t i = 0; i < n && !c->broken; i++) {
		PGresult *r = PQgetResult(c->pq);
		if (r == NULL) {
			pg_mark_broken(c, PQerrorMessage(c->pq));
			break;
		}
		ExecStatusType st = PQresultStatus(r);
		if (st != PGRES_PIPELINE_ABORTED && !err)
			err = pg_check(c, r, c->queued[i].label ? c->queued[i].label : "txid");
		if (c->queued[i].commit && st == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") != 0 && !err) {
			log_error(SUBSYS, "postgres commit: the transaction had failed and was rolled back");
			err = WEFT_ESTORE;
		}
		if (c->queued[i].txid && st == PGRES_TUPLES_OK && PQntuples(r) == 1)
			c->txid = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		bool ok = (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) && !err;
		if (c->queued[i].keep != NULL && ok) {
			keep_result(c->queued[i].keep, r);
		} else if (c->queued[i].prefetch) {
			c->prefetched.queued = false;
			c->prefetched.res = ok ? r : NULL;
			if (!ok)
				PQclear(r);
		} else {
			PQclear(r);
		}
		/* Each statement's results end with a NULL. */
		while ((r = PQgetResult(c->pq)) != NULL)
			PQclear(r);
	}
	if (!c->broken) {
		PGresult *r = PQgetResult(c->pq);
		if (r == NULL || PQresultStatus(r) != PGRES_PIPELINE_SYNC)
			pg_mark_broken(c, PQerrorMessage(c->pq));
		PQclear(r);
	}
	if (!c->broken && !PQexitPipelineMode(c->pq))
		pg_mark_broken(c, PQerrorMessage(c->pq));
	if (c->broken) {
		pg_copy_discard(c);
		return WEFT_EUNAVAILABLE;
	}
	/* Each statement counts in the metrics with its share of the wait. */
	int64_t now = db_mono_ns(), each = (now - c->queue_start_ns) / (int64_t)n;
	for (size_t i = 0; i < n; i++)   /* those kept are timed by the step that reads them */
		if (c->queued[i].label != NULL && c->queued[i].keep == NULL && !c->queued[i].prefetch)
			db_observe(&c->base, c->queued[i].label, each);
	if (err) {
		pg_copy_discard(c);
		return err;
	}
	return pg_copy_flush(c);
}

/* Prepares s on the current session (a round trip, once per session). */
static int prepare(pg_conn *c, pg_stmt *s)
{
	PGresult *r = PQprepare(c->pq, s->name, s->sql, 0, NULL);
	int err = pg_check(c, r, s->base.label);
	PQclear(r);
	if (!err)
		prepared_add(prepared_of(c), s->hash);
	return err;
}

/* Queues a statement in pipeline mode: a prepared one (s) or a utility
 * statement without parameters (sql). Returns 1 (queued) or an error. */
static int enqueue(pg_conn *c, pg_stmt *s, const char *sql, const char *label, bool txid)
{
	if (c->broken || c->pq == NULL)
		return WEFT_EUNAVAILABLE;
	int err;
	if ((err = send_begin(c)) != 0)
		return err;
	/* Rows kept for COPY were written before this statement. */
	if (c->copy_bytes > 0 && (err = pg_pipeline_flush(c)) != 0)
		return err;
	/* Prepared outside the pipeline, once per session. */
	if (s != NULL && !prepared_has(prepared_of(c), s->hash) &&
	    ((err = pg_pipeline_flush(c)) != 0 || (err = prepare(c, s)) != 0))
		return err;
	if (c->nqueued == 0) {
		if (!PQenterPipelineMode(c->pq)) {
			log_error(SUBSYS, "postgres %s: cannot enter pipeline mode: %s", label, PQerrorMessage(c->pq));
			return WEFT_ESTORE;
		}
		c->queue_start_ns = db_mono_ns();
	}
	int sent;
	if (s != NULL) {
		for (int i = 0; i < s->base.nparams; i++)
			s->values[i] = s->off[i] == SIZE_MAX ? NULL : s->args.data + s->off[i];
		sent = PQsendQueryPrepared(c->pq, s->name, s->base.nparams, s->values, NULL, NULL, 0);
		c->queued_bytes += s->args.len;
	} else {
		sent = PQsendQueryParams(c->pq, sql, 0, NULL, NULL, NULL, NULL, 0);
	}
	if (!sent) {
		pg_mark_broken(c, PQerrorMessage(c->pq));
		c->nqueued = c->queued_writes = 0;
		return WEFT_EUNAVAILABLE;
	}
	if (c->nqueued == c->cap_queued) {
		c->cap_queued = c->cap_queued ? c->cap_queued * 2 : PIPELINE_MAX;
		c->queued = xrealloc(c->queued, c->cap_queued * sizeof *c->queued);
	}
	c->queued[c->nqueued++] = (pg_queued){ label, txid, NULL, false, false };
	c->queued_writes += s != NULL;
	if (c->nqueued >= PIPELINE_MAX || c->queued_bytes >= PIPELINE_MAX_BYTES)
		return (err = pg_pipeline_flush(c)) != 0 ? err : 1;
	return 1;
}

/* Sending without waiting is for the writer's transaction: elsewhere
 * nothing would read the answer in time. */
static bool can_defer(pg_conn *c) { return c->base.role == DB_WRITER && c->in_tx && !c->broken; }

/* ---- statements ------------------------------------------------------------------------------ */

static int pg_prepare(store_conn *cc, const char *sql, int nparams, db_stmt **out)
{
	UNUSED(cc);
	pg_stmt *s = xcalloc(1, sizeof *s);
	s->sql = xstrdup(sql);
	s->hash = fnv1a(sql);
	snprintf(s->name, sizeof s->name, "q%016" PRIx64, s->hash);
	buf_init(&s->args);
	s->off = xcalloc((size_t)MAX(nparams, 1), sizeof *s->off);
	s->values = xcalloc((size_t)MAX(nparams, 1), sizeof *s->values);
	s->base.nparams = nparams;
	*out = &s->base;
	return 0;
}

static void pg_reset(db_stmt *st)
{
	pg_stmt *s = pst(st);
	PQclear(s->res);
	s->res = NULL;
	s->row = s->nrows = 0;
	pg_trim(&s->args);
}

static void pg_finalize(db_stmt *st)
{
	pg_stmt *s = pst(st);
	pg_reset(st);
	buf_release(&s->args);
	free(s->off);
	free(s->values);
	free(s->sql);
	free(s);
}

static void put_arg(db_stmt *st, int i, const char *v, size_t n)
{
	pg_stmt *s = pst(st);
	if (v == NULL) {
		s->off[i] = SIZE_MAX;
		return;
	}
	s->off[i] = s->args.len;
	buf_append(&s->args, v, n);
	buf_putc(&s->args, '\0');
}

static void pg_bind_int(db_stmt *st, int i, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%" PRId64, v);
	put_arg(st, i, num, (size_t)n);
}

static void pg_bind_text(db_stmt *st, int i, const char *s, size_t n) { put_arg(st, i, s, n); }

static int exec_once(pg_conn *c, pg_stmt *s)
{
	if (c->broken || c->pq == NULL)
		return WEFT_EUNAVAILABLE;
	int err;
	if (!prepared_has(prepared_of(c), s->hash) && (err = prepare(c, s)) != 0)
		return err;
	for (int i = 0; i < s->base.nparams; i++)
		s->values[i] = s->off[i] == SIZE_MAX ? NULL : s->args.data + s->off[i];
	PGresult *r = PQexecPrepared(c->pq, s->name, s->base.nparams, s->values, NULL, NULL, 0);
	if ((err = pg_check(c, r, s->base.label)) != 0) {
		PQclear(r);
		return err;
	}
	keep_result(s, r);
	return 0;
}

/* Runs the statement now, after whatever was sent before it. A reader idle
 * in the pool may have lost its session (a server restart) without knowing
 * it; outside a transaction nothing is lost by reconnecting and asking
 * again. */
/* Forgets what was sent ahead (its answer, if read). */
static void prefetched_drop(pg_conn *c)
{
	pg_prefetched *p = &c->prefetched;
	if (p->queued && p->at < c->nqueued)
		c->queued[p->at].prefetch = false;   /* read with its pipeline, and dropped */
	p->queued = false;
	PQclear(p->res);
	p->res = NULL;
	p->stmt = NULL;
	buf_reset(&p->args);
}

/* The answer sent ahead for this very statement and values, if any:
 * 1 taken (s->res set), 0 none, or the error of the pipeline that
 * carried it. */
static int prefetched_take(pg_conn *c, pg_stmt *s)
{
	pg_prefetched *p = &c->prefetched;
	if (p->stmt != s || p->args.len != s->args.len || memcmp(p->args.data, s->args.data, s->args.len) != 0 ||
	    memcmp(p->off, s->off, (size_t)s->base.nparams * sizeof *s->off) != 0)
		return 0;
	int err = p->queued ? pg_pipeline_flush(c) : 0;
	if (err)
		return err;
	PGresult *r = p->res;
	p->res = NULL;
	prefetched_drop(c);
	if (r == NULL)
		return 0;
	keep_result(s, r);
	return 1;
}

static void pg_prefetch(db_stmt *st)
{
	pg_stmt *s = pst(st);
	pg_conn *c = pgc(st->c);
	/* Only a writer's transaction reads its answers in time; a statement
	 * not prepared yet on this session would need a round trip first. */
	if (!can_defer(c) || c->copy_bytes > 0 || !prepared_has(prepared_of(c), s->hash) ||
	    (size_t)s->base.nparams > PG_PREFETCH_PARAMS)
		return;
	prefetched_drop(c);
	if (enqueue(c, s, NULL, st->label, false) < 0)
		return;       /* the connection is broken: the next statement says so */
	pg_prefetched *p = &c->prefetched;
	if (c->nqueued == 0) {
		/* enqueue flushed a full pipeline, this statement with it: its
		 * answer was read as an ordinary one and is gone. */
		return;
	}
	c->queued[c->nqueued - 1].prefetch = true;
	p->stmt = s;
	p->queued = true;
	p->at = c->nqueued - 1;
	buf_append(&p->args, s->args.data, s->args.len);
	memcpy(p->off, s->off, (size_t)s->base.nparams * sizeof *s->off);
}

static int exec_now(pg_conn *c, pg_stmt *s)
{
	int taken = prefetched_take(c, s);
	if (taken != 0)
		return taken < 0 ? taken : 0;
	int begun = send_begin(c);
	if (begun != 0)
		return begun;
	/* After statements sent without waiting, the statement joins them:
	 * one round trip for all, its result kept from the pipeline's. */
	if (c->nqueued > 0 && c->copy_bytes == 0 && c->nqueued + 1 < PIPELINE_MAX &&
	    c->queued_bytes + s->args.len < PIPELINE_MAX_BYTES && prepared_has(prepared_of(c), s->hash)) {
		int rc = enqueue(c, s, NULL, s->base.label, false);
		if (rc < 0)
			return rc;
		c->queued[c->nqueued - 1].keep = s;
		rc = pg_pipeline_flush(c);
		if (rc == 0 && s->res == NULL)
			rc = WEFT_ESTORE;     /* cannot happen: the pipeline answered without error */
		return rc;
	}
	int err = pg_pipeline_flush(c);
	if (err)
		return err;
	bool idle_reader = c->base.role == DB_READER && !c->in_tx && !c->broken && c->pq != NULL;
	err = exec_once(c, s);
	if (err == WEFT_EUNAVAILABLE && idle_reader && pg_conn_reset(c) == 0)
		err = exec_once(c, s);
	return err;
}

static int pg_step(db_stmt *st)
{
	pg_stmt *s = pst(st);
	if (s->res == NULL) {
		int err = exec_now(pgc(st->c), s);
		if (err)
			return err;
	}
	return ++s->row < s->nrows ? 1 : 0;
}

static int pg_send(db_stmt *st)
{
	pg_stmt *s = pst(st);
	pg_conn *c = pgc(st->c);
	int err = send_begin(c);     /* before COPY rows are kept too: they go after it */
	if (err)
		return err;
	if (!can_defer(c)) {
		int rc;
		while ((rc = pg_step(st)) > 0)
			;
		return rc;
	}
	if (st->def != NULL && st->def->copy != NULL) {
		/* COPY rows are written after what was queued before them. */
		err = c->nqueued > 0 ? pg_pipeline_flush(c) : 0;
		return err ? err : pg_copy_row(c, s);
	}
	return enqueue(c, s, NULL, st->label, false);
}

static bool pg_col_null(db_stmt *st, int i) { return PQgetisnull(pst(st)->res, pst(st)->row, i) != 0; }

static const char *pg_col_text(db_stmt *st, int i, size_t *len)
{
	pg_stmt *s = pst(st);
	if (PQgetisnull(s->res, s->row, i)) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	if (len != NULL)
		*len = (size_t)PQgetlength(s->res, s->row, i);
	return PQgetvalue(s->res, s->row, i);
}

static int64_t pg_col_int(db_stmt *st, int i)
{
	const char *v = pg_col_text(st, i, NULL);
	if (v == NULL)
		return 0;
	if (v[0] == 't' || v[0] == 'f')
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

/* ---- transactions ------------------------------------------------------------------------------ */

static bool pg_in_transaction(store_conn *cc) { return pgc(cc)->in_tx; }

static bool pg_tx_failed(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	return c->broken || c->pq == NULL || PQtransactionStatus(c->pq) == PQTRANS_INERROR;
}

/* Whether anything came in on an idle session: an idle session hears
 * nothing unless the server is ending it (or sends a notice). */
static bool idle_session_spoke(pg_conn *c)
{
	struct pollfd p = { .fd = PQsocket(c->pq), .events = POLLIN };
	return p.fd < 0 || poll(&p, 1, 0) != 0;
}

/* The writer's BEGIN, with the read of the transaction id, waits for the
 * transaction's first statement: every path that sends one calls this
 * first. A cycle that sends none then costs no round trip, and no
 * transaction id, whose commit PostgreSQL would flush to the WAL. Such
 * cycles are common on many nodes, woken by other nodes' notifications
 * that turn out to concern nothing here. */
static int send_begin(pg_conn *c)
{
	if (!c->begin_pending)
		return 0;
	c->begin_pending = false;
	int err = enqueue(c, NULL, "BEGIN", QL("begin"), false);
	if (err >= 0)
		err = enqueue(c, NULL, "SELECT txid_current()", NULL, true);
	return err < 0 ? err : 0;
}

static int writer_begin(pg_conn *c)
{
	c->txid = 0;
	/* BEGIN goes with the transaction's first statements, unless the
	 * server said something while the session was idle: then it may be
	 * gone (a restart, a terminated backend), and a BEGIN of its own finds
	 * out while reconnecting and trying again is safe. */
	c->begin_pending = true;
	if (!idle_session_spoke(c))
		return 0;
	int err = send_begin(c);
	return err ? err : pg_pipeline_flush(c);
}

/* READ COMMITTED: every statement sees what other nodes committed before
 * it, and the row locks and guards make the writes safe. A broken writer
 * is reconnected here, at the start of a cycle; a session that died while
 * idle is found by the BEGIN itself, which is then safe to retry. */
static int pg_begin(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	pg_copy_discard(c);        /* rows of a transaction that did not end well */
	prefetched_drop(c);
	c->in_doubt = false;
	if (c->broken && pg_conn_reset(c) != 0)
		return WEFT_EUNAVAILABLE;
	if (c->in_tx || PQtransactionStatus(c->pq) != PQTRANS_IDLE) {
		log_warn(SUBSYS, "BEGIN inside a transaction; rolling the old one back");
		pg_pipeline_flush(c);
		int err = run_utility(c, QL("rollback"), "ROLLBACK");
		if (err)
			return err;
	}
	c->in_tx = false;
	c->begin_pending = false;
	int err = c->base.role == DB_WRITER ? writer_begin(c) : run_utility(c, QL("begin"), "BEGIN");
	if (err == WEFT_EUNAVAILABLE && pg_conn_reset(c) == 0)
		err = c->base.role == DB_WRITER ? writer_begin(c) : run_utility(c, QL("begin"), "BEGIN");
	c->in_tx = err == 0;
	return err;
}

static int pg_begin_snapshot(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	if (c->base.role == DB_WRITER)
		return pg_begin(cc);
	int err = run_utility(c, QL("begin_read"), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	c->in_tx = err == 0;
	return err;
}

/* COMMIT of a transaction that failed is answered "ROLLBACK": that is an
 * error, not a commit. Even after a failed write COMMIT is sent: it ends
 * the transaction (rolling it back). */
static int pg_commit(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	if (c->base.role == DB_READER) {
		c->in_tx = false;
		return run_utility(c, QL("commit"), "COMMIT");
	}
	prefetched_drop(c);
	c->in_tx = false;
	if (c->begin_pending) {
		c->begin_pending = false;     /* nothing was sent: nothing to commit */
		return 0;
	}
	/* COMMIT goes with what is queued: one round trip. Rows kept for COPY
	 * are sent first (enqueue), and a failure there leaves COMMIT unsent. */
	int err = c->nqueued + 1 >= PIPELINE_MAX ? pg_pipeline_flush(c) : 0;
	if (err == 0)
		err = enqueue(c, NULL, "COMMIT", QL("commit"), false);
	if (err < 0)
		return err;    /* the transaction failed, or the connection was lost: nothing committed */
	if (c->nqueued > 0)
		c->queued[c->nqueued - 1].commit = true;
	err = pg_pipeline_flush(c);
	if (err == WEFT_EUNAVAILABLE && c->sync_sent) {
		/* Lost after the pipeline carrying COMMIT was sent: the server
		 * may have committed it. */
		c->in_doubt = true;
		log_warn(SUBSYS, "connection lost during COMMIT of transaction %" PRId64 "; its outcome is in doubt", c->txid);
		return WEFT_EINDOUBT;
	}
	return err;    /* an error before COMMIT: it was skipped, and the transaction is rolled back */
}

/* Nothing to undo on a lost connection: the server dropped the transaction
 * with the session. */
static int pg_rollback(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	c->in_tx = false;
	c->begin_pending = false;
	pg_copy_discard(c);
	pg_pipeline_flush(c);      /* whatever failed is rolled back below */
	prefetched_drop(c);
	if (c->broken || c->pq == NULL || PQtransactionStatus(c->pq) == PQTRANS_IDLE)
		return 0;
	return run_utility(c, QL("rollback"), "ROLLBACK");
}

/* Every command of a cycle opens and releases one: neither waits for its
 * answer (an error shows at the next statement that does). */
static int pg_savepoint(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	if (!can_defer(c))
		return run_utility(c, QL("savepoint"), "SAVEPOINT weft_sp");
	int err = enqueue(c, NULL, "SAVEPOINT weft_sp", QL("savepoint"), false);
	return err < 0 ? err : 0;
}

/* The release waits for everything the step sent without waiting: a failed
 * write must fail this step, whose savepoint can still undo it, not show
 * up in the next one (whose rollback would then undo this step's writes
 * after it was reported done). A step whose writes were all answered
 * already (its last statement waited) has nothing left to fail: its
 * release goes with the next statement that waits. */
static int pg_sync_writes(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	return c->queued_writes > 0 || c->copy_bytes > 0 ? pg_pipeline_flush(c) : 0;
}

static int pg_savepoint_release(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	if (!can_defer(c))
		return run_utility(c, QL("savepoint_release"), "RELEASE SAVEPOINT weft_sp");
	int err = enqueue(c, NULL, "RELEASE SAVEPOINT weft_sp", QL("savepoint_release"), false);
	return err < 0 ? err : pg_sync_writes(cc);
}

/* No statement sent since BEGIN (which still waits for one): a savepoint set now is
 * the transaction itself (store_savepoint). */
static bool pg_tx_untouched(store_conn *cc) { return pgc(cc)->begin_pending; }

/* ROLLBACK TO keeps the savepoint (and clears an aborted statement's
 * error); RELEASE then pops it. Rows collected for COPY and not sent yet
 * belong to the step undone: anything sent since the savepoint made them
 * go out before it. */
static int pg_savepoint_rollback(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	pg_copy_discard(c);
	int flushed = pg_pipeline_flush(c);
	prefetched_drop(c);      /* it read what the step saw */
	if (flushed == WEFT_EUNAVAILABLE)
		return WEFT_EUNAVAILABLE;
	int err = run_utility(c, QL("savepoint_rollback"), "ROLLBACK TO SAVEPOINT weft_sp");
	return err ? err : run_utility(c, QL("savepoint_release"), "RELEASE SAVEPOINT weft_sp");
}

/* At commit the waits for the last locks (batch rows) are not bounded by
 * lock_timeout: every other lock of the transaction is taken by then, and
 * a failure would fail the whole transaction. */
static int pg_final_writes(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	if (!can_defer(c))
		return 0;
	int err = enqueue(c, NULL, "SET LOCAL lock_timeout = 0", QL("lock_timeout_off"), false);
	return err < 0 ? err : 0;
}

/* The generic plan of the statement (the one PostgreSQL may keep for any
 * parameter values), from EXPLAIN EXECUTE of a copy prepared under a name
 * of its own. */
static int pg_explain(db_stmt *st, buf *sql, buf *plan)
{
	pg_conn *c = pgc(st->c);
	pg_stmt *s = pst(st);
	buf_puts(sql, s->sql);
	if (c->broken || c->pq == NULL || c->in_tx)
		return WEFT_EUNAVAILABLE;
	buf q;
	buf_init(&q);
	buf_puts(&q, "EXPLAIN (COSTS OFF) EXECUTE weft_explain");
	for (int i = 0; i < st->nparams; i++)
		buf_puts(&q, i ? ", NULL" : "(NULL");
	buf_puts(&q, st->nparams ? ")" : "");
	PGresult *r = PQexec(c->pq, "SET plan_cache_mode = force_generic_plan");
	int err = pg_check(c, r, "explain");
	PQclear(r);
	if (err == 0) {
		r = PQprepare(c->pq, "weft_explain", s->sql, 0, NULL);
		err = pg_check(c, r, "explain");
		PQclear(r);
	}
	if (err == 0) {
		r = PQexec(c->pq, q.data);
		if ((err = pg_check(c, r, "explain")) == 0)
			for (int i = 0; i < PQntuples(r); i++)
				buf_printf(plan, "%s\n", PQgetvalue(r, i, 0));
		PQclear(r);
		PQclear(PQexec(c->pq, "DEALLOCATE weft_explain"));
	}
	PQclear(PQexec(c->pq, "RESET plan_cache_mode"));
	buf_release(&q);
	return err;
}

static int pg_exec_script(store_conn *cc, const char *sql, char *err, size_t errlen)
{
	pg_conn *c = pgc(cc);
	int e = pg_pipeline_flush(c);
	if (e != 0 || c->broken) {
		snprintf(err, errlen, "the connection failed");
		return e ? e : WEFT_EUNAVAILABLE;
	}
	PGresult *r = PQexec(c->pq, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(r);
		return 0;
	}
	const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(c->pq);
	if (m == NULL || m[0] == '\0')
		m = PQerrorMessage(c->pq);
	snprintf(err, errlen, "%.*s", pg_msg_len(m), m);
	PQclear(r);
	return WEFT_ESTORE;
}

/* ---- the driver -------------------------------------------------------------------------------- */

static const db_fragment fragments[] = {
	{ "lock", " FOR NO KEY UPDATE" },
	{ "lock_in_order", " ORDER BY %1 FOR NO KEY UPDATE" },
	{ "lock_in_order_of", " ORDER BY %1 FOR NO KEY UPDATE OF %2" },
	{ "lock_in_order_of_both", " ORDER BY %1 FOR NO KEY UPDATE OF %2, %3" },
	{ "lock_skip", " FOR NO KEY UPDATE SKIP LOCKED" },
	{ "index", "/* indexed by %1 */" },
	{ "noindex", "(%1 || '')" },
	{ "rowkey", "ctid" },
	{ "contains", "(%1::jsonb @> %2::jsonb)" },
	{ "strpos", "strpos(%1, %2)" },
	{ "in", "(%1 = ANY (ARRAY(SELECT json_array_elements_text(%2::json))))" },
	{ "in_int", "(%1 = ANY (ARRAY(SELECT CAST(json_array_elements_text(%2::json) AS bigint))))" },
	{ "in_query", "(%1 = ANY (ARRAY(%2)))" },
	{ "plan_ids", "(%1 = ANY (ARRAY(%2)))" },
	{ "each", "(SELECT json_array_elements_text(%1::json) AS value)" },
	{ "json_agg", "json_agg(%1)" },
	{ "least", "LEAST(%1, %2)" },
};

/* The columns "name type" are those of the rows' objects. */
static void rows_fragment(buf *out, const char *param, char *const *cols, int ncols)
{
	buf_printf(out, "(SELECT * FROM json_to_recordset(%s::json) AS r (", param);
	for (int i = 0; i < ncols; i++)
		buf_printf(out, "%s%s", i ? ", " : "", cols[i]);
	buf_puts(out, "))");
}

static const db_dialect dialect = { '$', fragments, ARRAY_LEN(fragments), rows_fragment };

extern const char embed_store_schema_postgres_0001_init_sql[];
extern const char embed_store_schema_postgres_0002_attempt_sql[];
extern const char embed_store_schema_postgres_0003_idempotency_sql[];
extern const char embed_store_schema_postgres_0004_batch_listing_sql[];
extern const char embed_store_schema_postgres_0005_task_counts_sql[];
extern const char embed_store_schema_postgres_0006_outbox_leased_by_sql[];
extern const char embed_store_schema_postgres_0007_jobs_sql[];
extern const char embed_store_schema_postgres_0008_tokens_sql[];
extern const char embed_store_schema_postgres_0009_workflows_sql[];
extern const char embed_store_schema_postgres_0010_schedules_sql[];
extern const char embed_store_schema_postgres_0011_templates_sql[];
extern const char embed_store_schema_postgres_0012_workflow_listing_sql[];
extern const char embed_store_schema_postgres_0013_schedule_overlap_sql[];
extern const char embed_store_schema_postgres_0014_task_ref_sql[];
extern const char embed_store_schema_postgres_0016_task_logs_sql[];
extern const char embed_store_schema_postgres_0017_triggers_sql[];
extern const char embed_store_schema_postgres_0018_audit_log_sql[];
extern const char embed_store_schema_postgres_0019_trigger_expiry_sql[];
extern const char embed_store_schema_postgres_0020_metrics_history_sql[];

static const db_migration migrations[] = {
	{ 1, embed_store_schema_postgres_0001_init_sql },
	{ 2, embed_store_schema_postgres_0002_attempt_sql },
	{ 3, embed_store_schema_postgres_0003_idempotency_sql },
	{ 4, embed_store_schema_postgres_0004_batch_listing_sql },
	{ 5, embed_store_schema_postgres_0005_task_counts_sql },
	{ 6, embed_store_schema_postgres_0006_outbox_leased_by_sql },
	{ 7, embed_store_schema_postgres_0007_jobs_sql },
	{ 8, embed_store_schema_postgres_0008_tokens_sql },
	{ 9, embed_store_schema_postgres_0009_workflows_sql },
	{ 10, embed_store_schema_postgres_0010_schedules_sql },
	{ 11, embed_store_schema_postgres_0011_templates_sql },
	{ 12, embed_store_schema_postgres_0012_workflow_listing_sql },
	{ 13, embed_store_schema_postgres_0013_schedule_overlap_sql },
	{ 14, embed_store_schema_postgres_0014_task_ref_sql },
	{ 16, embed_store_schema_postgres_0016_task_logs_sql },
	{ 17, embed_store_schema_postgres_0017_triggers_sql },
	{ 18, embed_store_schema_postgres_0018_audit_log_sql },
	{ 19, embed_store_schema_postgres_0019_trigger_expiry_sql },
	{ 20, embed_store_schema_postgres_0020_metrics_history_sql },
};

static store_conn *conn_open(store *s, db_role role) { return &pg_conn_new(pgs(s), role)->base; }

const db_driver pg_driver = {
	.name = "postgres",
	.dialect = &dialect,
	.migrations = migrations,
	.nmigrations = ARRAY_LEN(migrations),
	.shared = true,
	.conn_open = conn_open,
	.conn_check = conn_check,
	.conn_free = conn_free,
	.close = pg_store_close,
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.bind_int = pg_bind_int,
	.bind_text = pg_bind_text,
	.step = pg_step,
	.send = pg_send,
	.prefetch = pg_prefetch,
	.reset = pg_reset,
	.col_null = pg_col_null,
	.col_int = pg_col_int,
	.col_text = pg_col_text,
	.begin = pg_begin,
	.begin_snapshot = pg_begin_snapshot,
	.commit = pg_commit,
	.commit_resolve = pg_commit_resolve,
	.rollback = pg_rollback,
	.in_transaction = pg_in_transaction,
	.tx_failed = pg_tx_failed,
	.savepoint = pg_savepoint,
	.savepoint_release = pg_savepoint_release,
	.savepoint_rollback = pg_savepoint_rollback,
	.tx_untouched = pg_tx_untouched,
	.sync_writes = pg_sync_writes,
	.final_writes = pg_final_writes,
	.exec_script = pg_exec_script,
	.migration_lock = pg_migration_lock,
	.set_wakeup = pg_set_wakeup,
	.is_leader = pg_is_leader,
	.notify = pg_notify,
	.rules_lock = pg_rules_lock,
	.task_update_round = pg_task_update_round,
	.outbox_lease = pg_outbox_lease,
	.explain = pg_explain,
};
