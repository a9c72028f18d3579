/*
 * store_pg.c — the PostgreSQL backend of store.h: connections and the
 * reader pool, migrations, statement execution (store_pg_internal.h), the
 * listener thread that carries wake-ups between nodes and holds the leader
 * lock, transactions, and every write operation. The read operations are
 * in store_pg_read.c.
 *
 * Any number of weft nodes share one database, each with its own engine
 * and writer connection. Nothing here relies on being the only writer:
 *   * a status change first locks its row (SELECT ... FOR NO KEY UPDATE)
 *     and is then guarded on the status it read, so two nodes never both
 *     apply a transition;
 *   * set-based transitions (cascades, batch cancel) lock the rows they
 *     change in id order, so concurrent ones wait for each other instead of
 *     deadlocking (a deadlock PostgreSQL breaks anyway answers WEFT_ERETRY);
 *   * scans that hand work out (the start scan, outbox leases, retention)
 *     lock their rows with SKIP LOCKED, so nodes scanning together take
 *     different rows instead of queueing behind each other;
 *   * one-time events are single guarded statements (batch completion,
 *     the start ledger's claim).
 * Row locks are FOR NO KEY UPDATE rather than FOR UPDATE: they serialize
 * writers of a task exactly the same way, but do not wait for the key-share
 * locks that inserting a link or an action referencing the task takes.
 *
 * Round trips: every statement costs one, so several statements of a
 * write are folded into one with data-modifying CTEs (an update and its
 * audit events), inserts are sent in pipeline mode (see "pipelined
 * inserts"), and batch counters are summed in memory and written once per
 * transaction (see "batch counters").
 *
 * A node that dies holding outbox leases: its writer session held a lock on
 * the node's name, so other nodes see it is gone and take the deliveries
 * over at once (see pg_outbox_lease).
 *
 * Query plans must not depend on statistics: a batch of thousands of
 * tasks is often submitted and cascaded before autovacuum has analyzed
 * anything, and within one long transaction the statistics about statuses
 * go stale. With either, the planner preferred scanning every waiting task
 * (by task_kind_status, or all of `task` for a hash join) for each child.
 * So where a statement is driven by ids, a link or a batch:
 *   * its status terms are written `(status || '') IN (...)`, which no
 *     index matches;
 *   * tasks reached through links are looked up as
 *     `id = ANY (ARRAY(SELECT child_id FROM link ...))`, an index scan of
 *     the primary key whatever the estimates.
 *
 * Statement names: a name identifies one SQL text on every connection (the
 * prepared-name set remembers a hash of the text and refuses a name reused
 * for another text). Statements built from optional parts carry a suffix
 * after '#' ("task_update#1a09"); the metrics label is the name up to the
 * '#', so the shapes of one operation share a series.
 */
#include "util/common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "store/store_pg.h"
#include "store/store_pg_internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"
#include "core/id.h"

#define SUBSYS "store"
#define DEFAULT_READERS 8
#define DEFAULT_SLOW_QUERY_US 100000
#define MIN_SERVER_VERSION 100000      /* identity columns: PostgreSQL 10 */

#define CONNECT_TIMEOUT_S 3
#define WAKE_CHANNEL "weft_wake"
#define LISTEN_POLL_MS 500
#define LEADER_TRY_MS 1000
#define RECONNECT_MIN_MS 250
#define RECONNECT_MAX_MS 2000
/* A listener statement (LISTEN, the leader lock) answers at once; one that
 * does not within this long is on a connection that is gone. */
#define LISTENER_QUERY_MS 10000

/* Advisory lock keys. The migration and leader locks use the one-bigint
 * form; the rule locks (RULES_LOCK_K1, hash of the kind) and the node locks
 * (NODE_LOCK_K1, hash of the node's name) the two-integer form. PostgreSQL
 * keeps the two forms apart, and the values differ too. */
#define MIGRATION_LOCK "8603395311563440129"    /* 0x7765667400000001: "weft", 1 */
#define LEADER_LOCK "8603395311563440130"       /* 0x7765667400000002: "weft", 2 */
#define RULES_LOCK_K1 "2003134066"              /* 0x77656672: "wefr" */
#define NODE_LOCK_K1 "2003134062"               /* 0x7765666e: "wefn" */
/* The writer's lock_timeout. Two nodes' cycles that lock two tasks in
 * opposite orders deadlock; PostgreSQL would break that only after
 * deadlock_timeout (1 s, settable by superusers only), stalling both
 * cycles. A wait this long is answered WEFT_ERETRY instead (as a deadlock
 * is), and the step is tried again. */
#define WRITER_LOCK_TIMEOUT "250ms"
/* How often a node looks for deliveries leased by nodes that are gone. */
#define ORPHAN_SWEEP_MS 1000
/* Inserts queued in pipeline mode before their results are read: few
 * enough that their results (about 25 bytes each) fit in the server's
 * socket buffer, since libpq blocks sending while nothing reads them. */
#define PIPELINE_MAX 256
#define PIPELINE_MAX_BYTES (1024 * 1024)
/* Rows of batch, task, link and action collected for one COPY each. */
#define COPY_MAX_BYTES (8 * 1024 * 1024)

enum { COPY_BATCH, COPY_TASK, COPY_LINK, COPY_ACTION, COPY__COUNT };

/* ---- schema migrations ---------------------------------------------- */

extern const char embed_store_schema_postgres_0001_init_sql[];
extern const size_t embed_store_schema_postgres_0001_init_sql_len;
extern const char embed_store_schema_postgres_0002_attempt_sql[];

typedef struct migration {
	int version;
	const char *sql;    /* NUL-terminated */
} migration;

static const migration migrations[] = {
	{ 1, embed_store_schema_postgres_0001_init_sql },
	{ 2, embed_store_schema_postgres_0002_attempt_sql },
};

/* ---- the store and its connections ----------------------------------- */

/* A statement name prepared on a connection, with a hash of its SQL. */
typedef struct prep_entry {
	char *name;             /* owned; NULL = free slot */
	uint64_t sql_hash;
} prep_entry;

typedef struct prep_set {
	prep_entry *slots;
	size_t cap;             /* a power of two, or 0 */
	size_t len;
} prep_set;

typedef enum { PG_WRITER, PG_READER } pg_role;

/* A change of one batch's counter of unfinished tasks, not written yet. */
typedef struct batch_delta {
	weft_id batch;
	int64_t delta;
} batch_delta;

typedef struct pg_store pg_store;

struct pg_conn {
	store_conn base;        /* first: the public handle */
	pg_store *store;
	PGconn *pq;             /* NULL only when libpq could not allocate one */
	pg_role role;
	bool broken;            /* lost: calls answer WEFT_EUNAVAILABLE until reset */
	bool sp_open;           /* the savepoint is set */
	int64_t slow_ns;        /* slow_queries_total threshold */
	prep_set prepared;
	/* The writer's batch.remaining changes of this transaction, written
	 * together before COMMIT and before a completion check (see
	 * remaining_add). Entries before `flushed` are written; the savepoint
	 * remembers where the log and the written part stood. */
	batch_delta *deltas;
	size_t ndeltas, cap_deltas, flushed;
	size_t sp_ndeltas, sp_flushed;
	/* The writer's inserts sent in pipeline mode whose results are not
	 * read yet (see pg_enqueue): their names, for the metrics. */
	const char **queued;
	size_t nqueued, cap_queued;
	size_t queued_bytes;
	int64_t queue_start_ns;
	/* The writer's inserts not sent yet, as COPY text rows per table (see
	 * copy_row); ncopy counts them. */
	buf copy[COPY__COUNT];
	size_t ncopy, copy_bytes;
};

/* The listener: its own connection, LISTEN weft_wake and the leader lock. */
typedef struct listener {
	pthread_t thread;
	bool started;
	int stop_pipe[2];       /* close() writes a byte to stop the thread */
	PGconn *pq;
	atomic_bool leader;
	pthread_mutex_t mu;     /* guards wake and arg */
	void (*wake)(void *arg, unsigned what);
	void *arg;
} listener;

struct pg_store {
	store base;             /* first: the public handle */
	char *url;              /* as given: libpq parses it */
	char *url_shown;        /* the password masked, for messages */
	char node_id[64];       /* payload of this node's notifications */
	int64_t slow_ns;
	pg_conn *writer;
	int64_t orphan_sweep_ms;    /* writer: when leases were last checked (mono ms) */
	/* The reader pool: slots are connected on first need. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pg_conn **readers;      /* max_readers slots, the first nopen used */
	int max_readers;
	int nopen;              /* slots taken (connected or being connected) */
	pg_conn **idle;         /* stack of free readers */
	int nidle;
	listener lis;
};

static const store_ops pg_ops;

static pg_store *pgs(store *s) { return (pg_store *)s; }

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ms(void) { return mono_ns() / 1000000; }

/* PostgreSQL's messages end with a newline; the log adds its own. */
static int msg_len(const char *m)
{
	size_t n = m ? strlen(m) : 0;
	while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
		n--;
	return (int)MIN(n, (size_t)INT32_MAX);
}

/* The URL with its password (user:PASSWORD@ or password=...) masked. */
static char *mask_url(const char *url)
{
	buf b;
	buf_init(&b);
	const char *p = url;
	const char *scheme = strstr(url, "://");
	if (scheme != NULL) {
		const char *auth = scheme + 3;
		size_t host_end = strcspn(auth, "/?");
		const char *at = memchr(auth, '@', host_end);
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon != NULL) {
			buf_append(&b, url, (size_t)(colon + 1 - url));
			buf_puts(&b, "***");
			p = at;
		}
	}
	/* A password given as a query parameter. */
	const char *q;
	while ((q = strstr(p, "password=")) != NULL) {
		size_t skip = (size_t)(q - p) + strlen("password=");
		buf_append(&b, p, skip);
		p += skip;
		if (q > url && (q[-1] == '?' || q[-1] == '&')) {
			buf_puts(&b, "***");
			p += strcspn(p, "&");
		}
	}
	buf_puts(&b, p);
	return buf_detach(&b, NULL);
}

/* ---- parameters -------------------------------------------------------- */

void pg_args_init(pg_args *a)
{
	a->n = 0;
	a->overflow = false;
}

static bool arg_room(pg_args *a)
{
	if (a->n < PG_MAX_PARAMS)
		return true;
	a->overflow = true;
	return false;
}

void pg_arg_int(pg_args *a, int64_t v)
{
	if (!arg_room(a))
		return;
	snprintf(a->num[a->n], sizeof a->num[a->n], "%" PRId64, v);
	a->values[a->n] = a->num[a->n];
	a->n++;
}

void pg_arg_null(pg_args *a)
{
	if (arg_room(a))
		a->values[a->n++] = NULL;
}

void pg_arg_text(pg_args *a, const char *s)
{
	if (arg_room(a))
		a->values[a->n++] = s;
}

void pg_arg_id(pg_args *a, const weft_id *id)
{
	pg_arg_text(a, id != NULL && id_is_set(id) ? id->str : NULL);
}

void pg_arg_ts(pg_args *a, int64_t us)
{
	if (us == 0)
		pg_arg_null(a);
	else
		pg_arg_int(a, us);
}

void pg_arg_bool(pg_args *a, bool v) { pg_arg_text(a, v ? "t" : "f"); }

/* 0 binds NULL (no HTTP answer, no action). */
static void arg_int_or_null(pg_args *a, int64_t v)
{
	if (v == 0)
		pg_arg_null(a);
	else
		pg_arg_int(a, v);
}

/* ---- prepared statement names ------------------------------------------ */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211u;
	}
	return h;
}

static prep_entry *prep_find(prep_set *p, const char *name, uint64_t hn)
{
	if (p->cap == 0)
		return NULL;
	for (size_t i = hn & (p->cap - 1);; i = (i + 1) & (p->cap - 1)) {
		prep_entry *e = &p->slots[i];
		if (e->name == NULL)
			return NULL;
		if (strcmp(e->name, name) == 0)
			return e;
	}
}

static void prep_put(prep_set *p, char *name, uint64_t sql_hash)
{
	if ((p->len + 1) * 2 > p->cap) {
		prep_set bigger = { xcalloc(p->cap ? p->cap * 2 : 64, sizeof(prep_entry)),
		                    p->cap ? p->cap * 2 : 64, 0 };
		for (size_t i = 0; i < p->cap; i++)
			if (p->slots[i].name != NULL)
				prep_put(&bigger, p->slots[i].name, p->slots[i].sql_hash);
		free(p->slots);
		*p = bigger;
	}
	size_t i = fnv1a(name) & (p->cap - 1);
	while (p->slots[i].name != NULL)
		i = (i + 1) & (p->cap - 1);
	p->slots[i] = (prep_entry){ name, sql_hash };
	p->len++;
}

static void prep_clear(prep_set *p)
{
	for (size_t i = 0; i < p->cap; i++)
		free(p->slots[i].name);
	free(p->slots);
	*p = (prep_set){ 0 };
}

/* ---- connecting ------------------------------------------------------------ */

static void notice_to_log(void *arg, const char *message)
{
	UNUSED(arg);
	log_debug(SUBSYS, "postgres: %.*s", msg_len(message), message);
}

/* Keywords in this order so that the URL (dbname, expanded) overrides the
 * defaults before it. */
static PGconn *connect_start(const pg_store *s, bool async)
{
	static const char *const keys[] = { "connect_timeout", "application_name", "keepalives_idle",
		                            "keepalives_interval", "keepalives_count", "dbname", NULL };
	char timeout[16];
	snprintf(timeout, sizeof timeout, "%d", CONNECT_TIMEOUT_S);
	const char *const vals[] = { timeout, "weft", "5", "2", "2", s->url, NULL };
	PGconn *pq = async ? PQconnectStartParams(keys, vals, 1) : PQconnectdbParams(keys, vals, 1);
	if (pq != NULL)
		PQsetNoticeProcessor(pq, notice_to_log, NULL);
	return pq;
}

static pg_conn *conn_new(pg_store *s, pg_role role)
{
	pg_conn *c = xcalloc(1, sizeof *c);
	c->base.ops = &pg_ops;
	c->store = s;
	c->role = role;
	c->slow_ns = s->slow_ns;
	c->pq = connect_start(s, false);
	if (c->pq == NULL || PQstatus(c->pq) != CONNECTION_OK) {
		/* The writer's failure is the opening's: its caller reports it. */
		const char *m = c->pq ? PQerrorMessage(c->pq) : "out of memory";
		if (role == PG_READER)
			log_warn(SUBSYS, "cannot connect to PostgreSQL at \"%s\": %.*s", s->url_shown, msg_len(m), m);
		c->broken = true;
	}
	return c;
}

static void conn_free(pg_conn *c)
{
	if (c == NULL)
		return;
	if (c->pq != NULL)
		PQfinish(c->pq);
	prep_clear(&c->prepared);
	free(c->deltas);
	free(c->queued);
	for (int t = 0; t < COPY__COUNT; t++)
		buf_release(&c->copy[t]);
	free(c);
}

static int writer_session_init(pg_conn *c);

static void mark_broken(pg_conn *c, const char *why)
{
	if (!c->broken)
		log_warn(SUBSYS, "PostgreSQL connection (%s) lost: %.*s",
		         c->role == PG_WRITER ? "writer" : "reader", msg_len(why), why);
	c->broken = true;
}

/* Reconnects a broken connection (bounded by connect_timeout); what was
 * prepared on the old session is gone with it. */
static int conn_reset(pg_conn *c)
{
	if (!c->broken)
		return 0;
	prep_clear(&c->prepared);
	c->sp_open = false;
	c->nqueued = 0;
	c->queued_bytes = 0;
	if (c->pq != NULL)
		PQreset(c->pq);
	else
		c->pq = connect_start(c->store, false);
	if (c->pq == NULL || PQstatus(c->pq) != CONNECTION_OK) {
		log_debug(SUBSYS, "reconnecting to PostgreSQL failed: %s",
		          c->pq ? PQerrorMessage(c->pq) : "out of memory");
		return WEFT_EUNAVAILABLE;
	}
	c->broken = false;
	log_info(SUBSYS, "PostgreSQL connection (%s) re-established",
	         c->role == PG_WRITER ? "writer" : "reader");
	return c->role == PG_WRITER ? writer_session_init(c) : 0;
}

/* ---- execution ------------------------------------------------------------- */

/* SQLSTATEs after which the session is gone: class 08 (connection
 * exception) and the administrator or crash shutdowns of class 57. */
static bool state_conn_lost(const char *st)
{
	return st != NULL && (strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 ||
	                      strcmp(st, "57P02") == 0 || strcmp(st, "57P03") == 0);
}

/* Maps a result to 0 or a store code, marking the connection broken when
 * it was lost. */
static int check_result(pg_conn *c, const PGresult *r, const char *name)
{
	ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r != NULL ? PQresultErrorMessage(r) : "";
	if (msg == NULL || msg[0] == '\0')
		msg = PQerrorMessage(c->pq);
	if (PQstatus(c->pq) == CONNECTION_BAD || state_conn_lost(state)) {
		mark_broken(c, msg);
		return WEFT_EUNAVAILABLE;
	}
	/* deadlock_detected, serialization_failure, lock_not_available (the
	 * writer's lock_timeout): another node's transaction collided with this
	 * one; the caller may try again. */
	if (state != NULL && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0 ||
	                      strcmp(state, "55P03") == 0)) {
		log_info(SUBSYS, "postgres %s: %.*s (will retry)", name, msg_len(msg), msg);
		return WEFT_ERETRY;
	}
	log_error(SUBSYS, "postgres %s: %.*s", name, msg_len(msg), msg);
	return WEFT_ESTORE;
}

/* Prepares name from sql on this connection unless it was already. */
static int prepare(pg_conn *c, const char *name, const char *sql)
{
	uint64_t hs = fnv1a(sql);
	prep_entry *e = prep_find(&c->prepared, name, fnv1a(name));
	if (e != NULL) {
		if (e->sql_hash == hs)
			return 0;
		log_error(SUBSYS, "statement name \"%s\" is used for two different statements", name);
		return WEFT_ESTORE;
	}
	PGresult *r = PQprepare(c->pq, name, sql, 0, NULL);
	int err = check_result(c, r, name);
	PQclear(r);
	if (err) {
		if (err == WEFT_ESTORE)
			log_error(SUBSYS, "statement was: %s", sql);
		return err;
	}
	prep_put(&c->prepared, xstrdup(name), hs);
	return 0;
}

/* db_query_duration_seconds and slow_queries_total, labelled with the name
 * up to its '#'. The raw monotonic clock is read, not clock.h's: a test
 * moving the clock must not turn a statement into a slow one. */
static void observe(pg_conn *c, const char *name, int64_t t0)
{
	int64_t ns = mono_ns() - t0;
	char label[96];
	snprintf(label, sizeof label, "query=\"%.*s\"", (int)strcspn(name, "#"), name);
	metrics_observe("db_query_duration_seconds", label, (double)ns / 1e9);
	if (ns > c->slow_ns)
		metrics_inc("slow_queries_total", label, 1);
}

static int query_once(pg_conn *c, const char *name, const char *sql, const pg_args *a, PGresult **out)
{
	if (c->broken || c->pq == NULL)
		return WEFT_EUNAVAILABLE;
	int64_t t0 = mono_ns();
	int err = prepare(c, name, sql);
	if (err)
		return err;
	PGresult *r = PQexecPrepared(c->pq, name, a ? a->n : 0, a ? a->values : NULL, NULL, NULL, 0);
	observe(c, name, t0);
	if ((err = check_result(c, r, name)) != 0) {
		PQclear(r);
		return err;
	}
	if (out != NULL)
		*out = r;
	else
		PQclear(r);
	return 0;
}

/* ---- pipelined inserts ------------------------------------------------------
 * Submitting a batch writes a row per task, link and action: one round
 * trip each would make a 5,000-task submission 15,000 round trips. The
 * inserts are instead sent in libpq's pipeline mode without waiting, and
 * their results read together (pipeline_flush) before any other statement
 * runs on the connection, or once PIPELINE_MAX are queued. Each call still
 * sends its own statement, so parameters need not outlive it. A failed
 * insert is reported by the flush, to whichever call comes next; the
 * transaction is then aborted, so its commit fails and nothing of it is
 * acknowledged. Each insert counts in the metrics with its share of the
 * flush's time. */

/* ---- inserts by COPY ---------------------------------------------------------
 * The rows a submission writes (batch, tasks, links, actions) are kept as
 * COPY text rows and sent with one COPY per table when anything else runs
 * on the connection (pipeline_flush, which every statement goes through):
 * one statement per table instead of one per row. They are sent after the
 * statements queued before them and before any later one, in foreign-key
 * order, so the order of writes is the order of the calls. A savepoint
 * rollback drops the rows not sent yet: they belong to the step undone. */

/* The task columns written on insert: PG_TASK_COLS without executor (its
 * default is the only executor there is). */
#define TASK_INSERT_COLS                                                                      \
	"id, batch_id, name, kind, status, timeout_secs, created_at, started_at, ended_at, "  \
	"last_updated, metadata, rules, wait_success, wait_finished, success, failures, "     \
	"failure_reason, expected_count, dead_end_barrier, priority, attempt, group_name, "   \
	"start_after, retry_policy, next_retry_at"

static const struct {
	const char *name;
	const char *sql;
} copy_tables[COPY__COUNT] = {
	[COPY_BATCH] = { "batch_insert", "COPY batch (id, created_at, scope, metadata, on_complete) FROM STDIN" },
	[COPY_TASK] = { "task_insert", "COPY task (" TASK_INSERT_COLS ") FROM STDIN" },
	[COPY_LINK] = { "link_insert", "COPY link (parent_id, child_id, requires_success) FROM STDIN" },
	[COPY_ACTION] = { "action_insert", "COPY action (task_id, trigger, condition, params) FROM STDIN" },
};

static void copy_discard(pg_conn *c)
{
	for (int t = 0; t < COPY__COUNT; t++)
		if (c->copy[t].data != NULL)
			buf_reset(&c->copy[t]);
	c->ncopy = c->copy_bytes = 0;
}

/* Sends one table's rows; 0 or the error. */
static int copy_send(pg_conn *c, int t)
{
	int64_t t0 = mono_ns();
	PGresult *r = PQexec(c->pq, copy_tables[t].sql);
	int err = 0;
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		err = check_result(c, r, copy_tables[t].name);
		PQclear(r);
		return err ? err : WEFT_ESTORE;
	}
	PQclear(r);
	if (PQputCopyData(c->pq, c->copy[t].data, (int)c->copy[t].len) != 1 || PQputCopyEnd(c->pq, NULL) != 1) {
		mark_broken(c, PQerrorMessage(c->pq));
		return WEFT_EUNAVAILABLE;
	}
	while ((r = PQgetResult(c->pq)) != NULL) {
		if (!err)
			err = check_result(c, r, copy_tables[t].name);
		PQclear(r);
	}
	if (c->broken)
		return WEFT_EUNAVAILABLE;
	observe(c, copy_tables[t].name, t0);
	return err;
}

static int copy_flush(pg_conn *c)
{
	if (c->ncopy == 0)
		return 0;
	int err = 0;
	for (int t = 0; t < COPY__COUNT && !err; t++)
		if (c->copy[t].len > 0)
			err = c->broken ? WEFT_EUNAVAILABLE : copy_send(c, t);
	copy_discard(c);
	return err;
}

static int pipeline_flush(pg_conn *c);

/* Adds a row (the args' values in column order; NULL is \N) to a table's
 * COPY, escaped as COPY's text format wants. */
static int copy_row(pg_conn *c, int t, const pg_args *a)
{
	if (a->overflow)
		return WEFT_ESTORE;
	if (c->broken || c->pq == NULL)
		return WEFT_EUNAVAILABLE;
	buf *b = &c->copy[t];
	if (b->data == NULL)
		buf_init(b);
	size_t before = b->len;
	for (int i = 0; i < a->n; i++) {
		if (i > 0)
			buf_putc(b, '\t');
		const char *v = a->values[i];
		if (v == NULL) {
			buf_puts(b, "\\N");
			continue;
		}
		for (; *v; v++) {
			switch (*v) {
			case '\\': buf_puts(b, "\\\\"); break;
			case '\n': buf_puts(b, "\\n"); break;
			case '\r': buf_puts(b, "\\r"); break;
			case '\t': buf_puts(b, "\\t"); break;
			default: buf_putc(b, *v); break;
			}
		}
	}
	buf_putc(b, '\n');
	c->ncopy++;
	c->copy_bytes += b->len - before;
	return c->copy_bytes >= COPY_MAX_BYTES ? pipeline_flush(c) : 0;
}

/* Reads the results of the queued statements, then sends the rows kept
 * for COPY. The first error wins (the statements after a failed one are
 * skipped by the server). */
static int pipeline_flush(pg_conn *c)
{
	if (c->nqueued == 0)
		return copy_flush(c);
	int err = 0;
	size_t n = c->nqueued;
	c->nqueued = 0;
	c->queued_bytes = 0;
	if (c->broken || !PQpipelineSync(c->pq)) {
		mark_broken(c, PQerrorMessage(c->pq));
		return WEFT_EUNAVAILABLE;
	}
	for (size_t i = 0; i < n && !c->broken; i++) {
		PGresult *r = PQgetResult(c->pq);
		if (r == NULL) {
			mark_broken(c, PQerrorMessage(c->pq));
			break;
		}
		ExecStatusType st = PQresultStatus(r);
		if (st != PGRES_PIPELINE_ABORTED && !err)
			err = check_result(c, r, c->queued[i]);
		PQclear(r);
		/* Each statement's results end with a NULL. */
		while ((r = PQgetResult(c->pq)) != NULL)
			PQclear(r);
	}
	if (!c->broken) {
		PGresult *r = PQgetResult(c->pq);
		if (r == NULL || PQresultStatus(r) != PGRES_PIPELINE_SYNC)
			mark_broken(c, PQerrorMessage(c->pq));
		PQclear(r);
	}
	if (!c->broken && !PQexitPipelineMode(c->pq))
		mark_broken(c, PQerrorMessage(c->pq));
	if (c->broken)
		return WEFT_EUNAVAILABLE;
	int64_t each = n ? (mono_ns() - c->queue_start_ns) / (int64_t)n : 0;
	for (size_t i = 0; i < n; i++)
		observe(c, c->queued[i], mono_ns() - each);
	if (err) {
		copy_discard(c);
		return err;
	}
	return copy_flush(c);
}

/* Sends a statement whose only result is its success (an insert, a
 * savepoint; name: a string constant) without waiting for it. 0 means
 * sent, not applied. Utility statements (SAVEPOINT) cannot be prepared:
 * they go as unnamed statements (prepared = false, no parameters). */
static int enqueue(pg_conn *c, const char *name, const char *sql, const pg_args *a, bool prepared)
{
	if (a->overflow) {
		log_error(SUBSYS, "postgres %s: more than %d parameters", name, PG_MAX_PARAMS);
		return WEFT_ESTORE;
	}
	if (c->broken || c->pq == NULL)
		return WEFT_EUNAVAILABLE;
	int err = 0;
	/* Rows kept for COPY were written before this statement. */
	if (c->ncopy > 0 && (err = pipeline_flush(c)) != 0)
		return err;
	prep_entry *e = prepared ? prep_find(&c->prepared, name, fnv1a(name)) : NULL;
	if (prepared && (e == NULL || e->sql_hash != fnv1a(sql))) {
		/* Prepared outside the pipeline, once per connection. */
		if ((err = pipeline_flush(c)) != 0 || (err = prepare(c, name, sql)) != 0)
			return err;
	}
	if (c->nqueued == 0) {
		if (!PQenterPipelineMode(c->pq)) {
			log_error(SUBSYS, "postgres %s: cannot enter pipeline mode: %s", name, PQerrorMessage(c->pq));
			return WEFT_ESTORE;
		}
		c->queue_start_ns = mono_ns();
	}
	int sent = prepared ? PQsendQueryPrepared(c->pq, name, a->n, a->values, NULL, NULL, 0)
	                    : PQsendQueryParams(c->pq, sql, 0, NULL, NULL, NULL, NULL, 0);
	if (!sent) {
		mark_broken(c, PQerrorMessage(c->pq));
		c->nqueued = 0;
		return WEFT_EUNAVAILABLE;
	}
	if (c->nqueued == c->cap_queued) {
		c->cap_queued = c->cap_queued ? c->cap_queued * 2 : PIPELINE_MAX;
		c->queued = xrealloc(c->queued, c->cap_queued * sizeof *c->queued);
	}
	c->queued[c->nqueued++] = name;
	for (int i = 0; i < a->n; i++)
		c->queued_bytes += a->values[i] ? strlen(a->values[i]) : 0;
	if (c->nqueued >= PIPELINE_MAX || c->queued_bytes >= PIPELINE_MAX_BYTES)
		return pipeline_flush(c);
	return 0;
}

static int pg_enqueue(pg_conn *c, const char *name, const char *sql, const pg_args *a)
{
	return enqueue(c, name, sql, a, true);
}

/* A statement without parameters or result, sent without waiting. */
static int pg_enqueue_utility(pg_conn *c, const char *name, const char *sql)
{
	pg_args none;
	pg_args_init(&none);
	return enqueue(c, name, sql, &none, false);
}

int pg_query(pg_conn *c, const char *name, const char *sql, const pg_args *a, PGresult **out)
{
	if (out != NULL)
		*out = NULL;
	if (a != NULL && a->overflow) {
		log_error(SUBSYS, "postgres %s: more than %d parameters", name, PG_MAX_PARAMS);
		return WEFT_ESTORE;
	}
	int err = pipeline_flush(c);
	if (err)
		return err;
	/* A reader idle in the pool may have lost its session (a server
	 * restart) without knowing it; outside a transaction nothing is lost by
	 * reconnecting and asking again. */
	bool idle = c->role == PG_READER && !c->broken && c->pq != NULL &&
	            PQtransactionStatus(c->pq) == PQTRANS_IDLE;
	err = query_once(c, name, sql, a, out);
	if (err == WEFT_EUNAVAILABLE && idle && conn_reset(c) == 0)
		err = query_once(c, name, sql, a, out);
	return err;
}

int pg_run(pg_conn *c, const char *name, const char *sql, const pg_args *a)
{
	return pg_query(c, name, sql, a, NULL);
}

int pg_query_int(pg_conn *c, const char *name, const char *sql, const pg_args *a, int64_t *out,
                 bool *is_null)
{
	PGresult *r;
	*out = 0;
	if (is_null != NULL)
		*is_null = false;
	int err = pg_query(c, name, sql, a, &r);
	if (err)
		return err;
	if (PQntuples(r) == 0 || PQnfields(r) == 0) {
		PQclear(r);
		return WEFT_ENOTFOUND;
	}
	if (is_null != NULL)
		*is_null = PQgetisnull(r, 0, 0);
	*out = pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

int64_t pg_changes(const PGresult *r)
{
	const char *s = r ? PQcmdTuples((PGresult *)r) : "";
	return s[0] ? strtoll(s, NULL, 10) : 0;
}

/* ---- reading columns ------------------------------------------------------- */

bool pg_is_null(const PGresult *r, int row, int col) { return PQgetisnull(r, row, col) != 0; }

int64_t pg_int(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

bool pg_bool(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return false;
	const char *v = PQgetvalue(r, row, col);
	if (v[0] == 't')
		return true;
	if (v[0] == 'f')
		return false;
	return strtoll(v, NULL, 10) != 0;
}

char *pg_str(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	return xstrndup(PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

char *pg_str_nn(const PGresult *r, int row, int col, const char *dflt)
{
	char *s = pg_str(r, row, col);
	return s != NULL ? s : xstrdup(dflt);
}

void pg_id(const PGresult *r, int row, int col, weft_id *out)
{
	memset(out, 0, sizeof *out);
	if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != WEFT_ID_LEN)
		return;
	memcpy(out->str, PQgetvalue(r, row, col), WEFT_ID_LEN);
}

static int read_status(const PGresult *r, int row, int col, task_status *out)
{
	const char *s = PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
	if (task_status_parse(s, out) != 0) {
		log_error(SUBSYS, "unknown task status \"%s\" in the database", s ? s : "(null)");
		return WEFT_ESTORE;
	}
	return 0;
}

int pg_read_task(const PGresult *r, int row, int col0, task_row *t)
{
	memset(t, 0, sizeof *t);
	if (read_status(r, row, col0 + 4, &t->status) != 0)
		return WEFT_ESTORE;
	pg_id(r, row, col0 + 0, &t->id);
	pg_id(r, row, col0 + 1, &t->batch_id);
	t->name = pg_str_nn(r, row, col0 + 2, "");
	t->kind = pg_str_nn(r, row, col0 + 3, "");
	/* col0 + 5: executor, not part of task_row */
	t->timeout_secs = (int32_t)pg_int(r, row, col0 + 6);
	t->created_at = pg_int(r, row, col0 + 7);
	t->started_at = pg_int(r, row, col0 + 8);
	t->ended_at = pg_int(r, row, col0 + 9);
	t->last_updated = pg_int(r, row, col0 + 10);
	t->metadata = pg_str_nn(r, row, col0 + 11, "null");
	t->rules = pg_str_nn(r, row, col0 + 12, "[]");
	t->wait_success = pg_int(r, row, col0 + 13);
	t->wait_finished = pg_int(r, row, col0 + 14);
	t->success = pg_int(r, row, col0 + 15);
	t->failures = pg_int(r, row, col0 + 16);
	t->failure_reason = pg_str(r, row, col0 + 17);
	t->has_expected_count = !pg_is_null(r, row, col0 + 18);
	t->expected_count = pg_int(r, row, col0 + 18);
	t->dead_end_barrier = pg_int(r, row, col0 + 19) != 0;
	t->priority = (int32_t)pg_int(r, row, col0 + 20);
	t->attempt = (int32_t)pg_int(r, row, col0 + 21);
	t->group_name = pg_str(r, row, col0 + 22);
	t->start_after = pg_int(r, row, col0 + 23);
	t->retry_policy = pg_str(r, row, col0 + 24);
	t->next_retry_at = pg_int(r, row, col0 + 25);
	return 0;
}

int pg_read_outbox(const PGresult *r, int row, int col0, outbox_row *o)
{
	memset(o, 0, sizeof *o);
	const char *event = PQgetisnull(r, row, col0 + 2) ? NULL : PQgetvalue(r, row, col0 + 2);
	const char *status = PQgetisnull(r, row, col0 + 8) ? NULL : PQgetvalue(r, row, col0 + 8);
	if (delivery_event_parse(event, &o->event) != 0 ||
	    delivery_status_parse(status, &o->status) != 0) {
		log_error(SUBSYS, "unknown outbox event \"%s\" or status \"%s\" in the database",
		          event ? event : "(null)", status ? status : "(null)");
		return WEFT_ESTORE;
	}
	o->id = pg_int(r, row, col0 + 0);
	size_t klen = MIN((size_t)PQgetlength(r, row, col0 + 1), sizeof o->key - 1);
	memcpy(o->key, PQgetvalue(r, row, col0 + 1), klen);
	o->key[klen] = '\0';
	pg_id(r, row, col0 + 3, &o->task_id);
	pg_id(r, row, col0 + 4, &o->batch_id);
	o->action_id = pg_int(r, row, col0 + 5);
	o->params = pg_str_nn(r, row, col0 + 6, "{}");
	o->add_handle = pg_int(r, row, col0 + 7) != 0;
	o->attempts = (int32_t)pg_int(r, row, col0 + 9);
	o->max_attempts = (int32_t)pg_int(r, row, col0 + 10);
	o->next_attempt_at = pg_int(r, row, col0 + 11);
	o->last_attempt_at = pg_int(r, row, col0 + 12);
	o->created_at = pg_int(r, row, col0 + 13);
	o->updated_at = pg_int(r, row, col0 + 14);
	o->last_http_status = (int32_t)pg_int(r, row, col0 + 15);
	o->last_error = pg_str(r, row, col0 + 16);
	return 0;
}

int pg_collect_ids(const PGresult *r, int col, weft_id **out, size_t *n)
{
	int rows = PQntuples(r);
	*out = rows > 0 ? xcalloc((size_t)rows, sizeof **out) : NULL;
	*n = (size_t)rows;
	for (int i = 0; i < rows; i++)
		pg_id(r, i, col, &(*out)[i]);
	return 0;
}

/* Appends the tasks of r to *out (count *n, capacity *cap). */
static int append_tasks(const PGresult *r, task_row **out, size_t *n, size_t *cap)
{
	int rows = PQntuples(r);
	if (*n + (size_t)rows > *cap) {
		*cap = *n + (size_t)rows;
		*out = xrealloc(*out, *cap * sizeof **out);
	}
	for (int i = 0; i < rows; i++) {
		if (pg_read_task(r, i, 0, &(*out)[*n]) != 0)
			return WEFT_ESTORE;
		(*n)++;
	}
	return 0;
}

int pg_collect_tasks(const PGresult *r, task_row **out, size_t *n)
{
	task_row *rows = NULL;
	size_t len = 0, cap = 0;
	*out = NULL;
	*n = 0;
	if (append_tasks(r, &rows, &len, &cap) != 0) {
		store_free_tasks(rows, len);
		return WEFT_ESTORE;
	}
	*out = rows;
	*n = len;
	return 0;
}

char *pg_ids_array(const weft_id *ids, size_t n)
{
	buf b;
	buf_init(&b);
	buf_putc(&b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		buf_putc(&b, '"');
		buf_append(&b, ids[i].str, strnlen(ids[i].str, WEFT_ID_LEN));
		buf_putc(&b, '"');
	}
	buf_putc(&b, '}');
	return buf_detach(&b, NULL);
}

/* Sets the writer's session up, at opening (after the migrations, whose
 * lock may take longer than the timeout) and after each reconnection:
 *   * its lock_timeout (WRITER_LOCK_TIMEOUT);
 *   * a lock on the node's name, held as long as the session lives: other
 *     nodes take this node's delivery leases over once it is gone (see
 *     pg_outbox_lease). Another live node whose name hashes alike only
 *     delays that until the leases expire. */
static int writer_session_init(pg_conn *c)
{
	pg_args a;
	PGresult *r;
	pg_args_init(&a);
	pg_arg_text(&a, c->store->node_id);
	int err = pg_query(c, "writer_session",
	                   "SELECT pg_try_advisory_lock(" NODE_LOCK_K1 ", hashtext($1)), "
	                   "set_config('lock_timeout', '" WRITER_LOCK_TIMEOUT "', false), "
	                   "set_config('plan_cache_mode', 'force_generic_plan', false)",
	                   &a, &r);
	if (err)
		return err;
	if (!(PQntuples(r) == 1 && pg_bool(r, 0, 0)))
		log_warn(SUBSYS, "the lock of node name %s is held by another session", c->store->node_id);
	PQclear(r);
	return 0;
}

/* ---- migrations -------------------------------------------------------------- */

/* Runs sql (one or more statements) on a connection being opened; a
 * failure is described in err. out, when non-NULL, gets the last result. */
static int open_exec(pg_store *s, PGconn *pq, const char *sql, PGresult **out, char *err, size_t errlen)
{
	PGresult *r = PQexec(pq, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out != NULL)
			*out = r;
		else
			PQclear(r);
		return 0;
	}
	const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(pq);
	if (m == NULL || m[0] == '\0')
		m = PQerrorMessage(pq);
	snprintf(err, errlen, "database \"%s\": %.*s", s->url_shown, msg_len(m), m);
	PQclear(r);
	return -1;
}

static int open_query_int(pg_store *s, PGconn *pq, const char *sql, int64_t *v, bool *found, char *err,
                          size_t errlen)
{
	PGresult *r;
	if (open_exec(s, pq, sql, &r, err, errlen) != 0)
		return -1;
	*found = PQntuples(r) > 0;
	*v = *found ? pg_int(r, 0, 0) : 0;
	PQclear(r);
	return 0;
}

/* Applies every embedded migration not yet recorded, each in its own
 * transaction under an advisory lock: nodes starting at once wait for each
 * other, and each finds what the first one applied. */
static int migrate(pg_store *s, PGconn *pq, char *err, size_t errlen)
{
	static const char lock[] = "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")";
	int newest = migrations[ARRAY_LEN(migrations) - 1].version;
	int64_t current = 0;
	bool found = false;
	if (open_exec(s, pq, "BEGIN", NULL, err, errlen) != 0 ||
	    open_exec(s, pq, lock, NULL, err, errlen) != 0 ||
	    open_exec(s, pq,
	              "CREATE TABLE IF NOT EXISTS schema_migrations "
	              "(version BIGINT PRIMARY KEY, applied_at BIGINT)",
	              NULL, err, errlen) != 0 ||
	    open_query_int(s, pq, "SELECT coalesce(max(version), 0) FROM schema_migrations", &current,
	                   &found, err, errlen) != 0)
		goto fail;
	if (current > newest) {
		snprintf(err, errlen,
		         "database \"%s\" has schema version %" PRId64 ", newer than this weft knows (%d)",
		         s->url_shown, current, newest);
		goto fail;
	}
	if (open_exec(s, pq, "COMMIT", NULL, err, errlen) != 0)
		goto fail;

	for (size_t i = 0; i < ARRAY_LEN(migrations); i++) {
		const migration *m = &migrations[i];
		char sql[160];
		int64_t one;
		if (open_exec(s, pq, "BEGIN", NULL, err, errlen) != 0 ||
		    open_exec(s, pq, lock, NULL, err, errlen) != 0)
			goto fail_in;
		snprintf(sql, sizeof sql, "SELECT 1 FROM schema_migrations WHERE version = %d", m->version);
		if (open_query_int(s, pq, sql, &one, &found, err, errlen) != 0)
			goto fail_in;
		if (found) {
			PQclear(PQexec(pq, "ROLLBACK"));
			continue;
		}
		snprintf(sql, sizeof sql,
		         "INSERT INTO schema_migrations (version, applied_at) VALUES (%d, %" PRId64 ")",
		         m->version, clock_now_us());
		if (open_exec(s, pq, m->sql, NULL, err, errlen) != 0 ||
		    open_exec(s, pq, sql, NULL, err, errlen) != 0 ||
		    open_exec(s, pq, "COMMIT", NULL, err, errlen) != 0)
			goto fail_in;
		log_info(SUBSYS, "applied schema migration %04d", m->version);
		continue;
	fail_in:;
		size_t len = strlen(err);
		snprintf(err + len, errlen - len, " (in schema migration %04d)", m->version);
		goto fail;
	}
	return 0;
fail:
	PQclear(PQexec(pq, "ROLLBACK"));
	return -1;
}

/* ---- the listener: wake-ups and leadership ---------------------------------- */

static void lis_wake(listener *l, unsigned what)
{
	pthread_mutex_lock(&l->mu);
	void (*wake)(void *, unsigned) = l->wake;
	void *arg = l->arg;
	pthread_mutex_unlock(&l->mu);
	if (wake != NULL)
		wake(arg, what);
}

static void lis_drop(listener *l)
{
	if (l->pq != NULL)
		PQfinish(l->pq);
	l->pq = NULL;
	if (atomic_exchange(&l->leader, false)) {
		log_warn(SUBSYS, "lost the leader lock with the listener's connection");
		lis_wake(l, STORE_WAKE_LEADER);
	}
}

/* Waits up to ms for fd (events) or the stop pipe. Returns 1 when fd is
 * ready, 0 on timeout, -1 when asked to stop. */
static int lis_wait(listener *l, int fd, short events, int ms)
{
	struct pollfd p[2] = { { .fd = l->stop_pipe[0], .events = POLLIN },
		               { .fd = fd, .events = events } };
	int rc = poll(p, fd >= 0 ? 2 : 1, ms < 0 ? 0 : ms);
	if (rc < 0) {
		/* Not a reason to stop listening; not a reason to spin either. */
		if (errno != EINTR) {
			log_warn(SUBSYS, "listener: poll: %s", strerror(errno));
			struct timespec pause = { 0, 100 * 1000000 };
			nanosleep(&pause, NULL);
		}
		return 0;
	}
	if (p[0].revents)
		return -1;
	return rc > 0 && fd >= 0 && p[1].revents ? 1 : 0;
}

/* Connects without blocking the stop pipe (PQconnectPoll does not enforce
 * connect_timeout: this does). 0, -1 on failure, -2 when asked to stop. */
static int lis_connect(listener *l, pg_store *s)
{
	PGconn *pq = connect_start(s, true);
	if (pq == NULL || PQstatus(pq) == CONNECTION_BAD)
		goto fail;
	int64_t deadline = mono_ms() + CONNECT_TIMEOUT_S * 1000;
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	while (ps != PGRES_POLLING_OK) {
		if (ps == PGRES_POLLING_FAILED)
			goto fail;
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			goto fail;
		int w = lis_wait(l, PQsocket(pq), ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, (int)left);
		if (w < 0) {
			PQfinish(pq);
			return -2;
		}
		ps = PQconnectPoll(pq);
	}
	l->pq = pq;
	return 0;
fail:
	log_debug(SUBSYS, "listener: cannot connect: %s", pq ? PQerrorMessage(pq) : "out of memory");
	if (pq != NULL)
		PQfinish(pq);
	return -1;
}

/* Runs one statement on the listener's connection without blocking the
 * stop pipe. Returns the result (PQclear it) or NULL, the connection then
 * being unusable (or the thread asked to stop: *stop). */
static PGresult *lis_exec(listener *l, const char *sql, bool *stop)
{
	if (!PQsendQuery(l->pq, sql))
		return NULL;
	int64_t deadline = mono_ms() + LISTENER_QUERY_MS;
	while (PQisBusy(l->pq)) {
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return NULL;
		int w = lis_wait(l, PQsocket(l->pq), POLLIN, (int)left);
		if (w < 0) {
			*stop = true;
			return NULL;
		}
		if (w > 0 && !PQconsumeInput(l->pq))
			return NULL;
	}
	PGresult *r = NULL, *next;
	while ((next = PQgetResult(l->pq)) != NULL) {
		PQclear(r);
		r = next;
	}
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		log_warn(SUBSYS, "listener: %s: %s", sql, r ? PQresultErrorMessage(r) : PQerrorMessage(l->pq));
		PQclear(r);
		return NULL;
	}
	return r;
}

/* Tries to take the leader lock; false when the connection failed. */
static bool lis_try_lead(listener *l, bool *stop)
{
	PGresult *r = lis_exec(l, "SELECT pg_try_advisory_lock(" LEADER_LOCK ")", stop);
	if (r == NULL)
		return false;
	bool got = PQntuples(r) == 1 && pg_bool(r, 0, 0);
	PQclear(r);
	if (got) {
		atomic_store(&l->leader, true);
		log_info(SUBSYS, "took the leader lock");
		lis_wake(l, STORE_WAKE_LEADER);
	}
	return true;
}

static void *listener_main(void *arg)
{
	pg_store *s = arg;
	listener *l = &s->lis;
	int backoff = RECONNECT_MIN_MS;
	bool first = true, stop = false;
	int64_t next_try = 0;
	while (!stop) {
		if (l->pq == NULL) {
			int rc = lis_connect(l, s);
			if (rc == -2)
				break;
			PGresult *r = NULL;
			if (rc == 0 && (r = lis_exec(l, "LISTEN " WAKE_CHANNEL, &stop)) != NULL) {
				PQclear(r);
				log_info(SUBSYS, "listening for other nodes' changes as node %s", s->node_id);
				backoff = RECONNECT_MIN_MS;
				next_try = 0;
				/* Changes committed while it was away went unheard. */
				if (!first)
					lis_wake(l, STORE_WAKE_WORK);
				first = false;
			} else {
				lis_drop(l);
				if (stop || lis_wait(l, -1, 0, backoff) < 0)
					break;
				backoff = MIN(backoff * 2, RECONNECT_MAX_MS);
				continue;
			}
		}
		int64_t now = mono_ms();
		if (!atomic_load(&l->leader) && now >= next_try) {
			next_try = now + LEADER_TRY_MS;
			if (!lis_try_lead(l, &stop)) {
				lis_drop(l);
				continue;
			}
		}
		int timeout = LISTEN_POLL_MS;
		if (!atomic_load(&l->leader))
			timeout = (int)MAX(0, MIN((int64_t)timeout, next_try - mono_ms()));
		int w = lis_wait(l, PQsocket(l->pq), POLLIN, timeout);
		if (w < 0)
			break;
		if (w > 0 && !PQconsumeInput(l->pq)) {
			log_warn(SUBSYS, "listener: connection lost: %.*s", msg_len(PQerrorMessage(l->pq)),
			         PQerrorMessage(l->pq));
			lis_drop(l);
			continue;
		}
		bool work = false;
		PGnotify *n;
		while ((n = PQnotifies(l->pq)) != NULL) {
			work |= n->extra == NULL || strcmp(n->extra, s->node_id) != 0;
			PQfreemem(n);
		}
		if (work)
			lis_wake(l, STORE_WAKE_WORK);
	}
	return NULL;
}

static int listener_start(pg_store *s, char *err, size_t errlen)
{
	listener *l = &s->lis;
	if (pipe2(l->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "cannot create the listener's pipe: %s", strerror(errno));
		l->stop_pipe[0] = l->stop_pipe[1] = -1;
		return -1;
	}
	if (pthread_create(&l->thread, NULL, listener_main, s) != 0) {
		snprintf(err, errlen, "cannot start the listener thread");
		return -1;
	}
	l->started = true;
	return 0;
}

static void listener_stop(pg_store *s)
{
	listener *l = &s->lis;
	if (l->started) {
		ssize_t w;
		do
			w = write(l->stop_pipe[1], "x", 1);
		while (w < 0 && errno == EINTR);
		pthread_join(l->thread, NULL);
		l->started = false;
	}
	/* Closing the session releases the leader lock at once. */
	if (l->pq != NULL)
		PQfinish(l->pq);
	l->pq = NULL;
	atomic_store(&l->leader, false);
	for (int i = 0; i < 2; i++)
		if (l->stop_pipe[i] >= 0)
			close(l->stop_pipe[i]);
	l->stop_pipe[0] = l->stop_pipe[1] = -1;
}

static void pg_set_wakeup(store *base, void (*wake)(void *arg, unsigned what), void *arg)
{
	listener *l = &pgs(base)->lis;
	pthread_mutex_lock(&l->mu);
	l->wake = wake;
	l->arg = arg;
	pthread_mutex_unlock(&l->mu);
}

static bool pg_is_leader(store *base) { return atomic_load(&pgs(base)->lis.leader); }

/* ---- opening and closing ------------------------------------------------------ */

static void pg_close(store *base)
{
	pg_store *s = pgs(base);
	listener_stop(s);
	for (int i = 0; i < s->nopen; i++)
		conn_free(s->readers[i]);
	conn_free(s->writer);
	pthread_mutex_destroy(&s->lis.mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->readers);
	free(s->idle);
	free(s->url);
	free(s->url_shown);
	free(s);
}

store *store_pg_open(const char *url, const store_options *opt, char *err, size_t errlen)
{
	int64_t slow_us = opt != NULL && opt->slow_query_us > 0 ? opt->slow_query_us : DEFAULT_SLOW_QUERY_US;
	pg_store *s = xcalloc(1, sizeof *s);
	s->base.ops = &pg_ops;
	s->url = xstrdup(url);
	s->url_shown = mask_url(url);
	s->slow_ns = slow_us * 1000;
	s->max_readers = opt != NULL && opt->readers > 0 ? opt->readers : DEFAULT_READERS;
	s->readers = xcalloc((size_t)s->max_readers, sizeof *s->readers);
	s->idle = xcalloc((size_t)s->max_readers, sizeof *s->idle);
	s->lis.stop_pipe[0] = s->lis.stop_pipe[1] = -1;
	atomic_init(&s->lis.leader, false);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_init(&s->lis.mu, NULL);
	if (opt != NULL && opt->node_id != NULL && opt->node_id[0] != '\0') {
		snprintf(s->node_id, sizeof s->node_id, "%s", opt->node_id);
	} else {
		weft_id id;
		id_new_v4(&id);
		snprintf(s->node_id, sizeof s->node_id, "%s", id.str);
	}

	s->writer = conn_new(s, PG_WRITER);
	if (s->writer->broken) {
		const char *m = s->writer->pq ? PQerrorMessage(s->writer->pq) : "out of memory";
		snprintf(err, errlen, "cannot connect to PostgreSQL at \"%s\": %.*s", s->url_shown,
		         msg_len(m), m);
		goto fail;
	}
	int version = PQserverVersion(s->writer->pq);
	if (version < MIN_SERVER_VERSION) {
		snprintf(err, errlen, "database \"%s\": PostgreSQL %d.%d is too old (10 or later is needed)",
		         s->url_shown, version / 10000, version % 10000 / 100);
		goto fail;
	}
	if (migrate(s, s->writer->pq, err, errlen) != 0)
		goto fail;
	if (writer_session_init(s->writer) != 0) {
		snprintf(err, errlen, "database \"%s\": cannot set the writer's session up", s->url_shown);
		goto fail;
	}
	if (listener_start(s, err, errlen) != 0)
		goto fail;
	return &s->base;
fail:
	pg_close(&s->base);
	return NULL;
}

static store_conn *pg_writer(store *base) { return &pgs(base)->writer->base; }

/* Connections are opened as they are first needed; a broken one is
 * reconnected when it is handed out (a failure leaves it broken: its calls
 * answer WEFT_EUNAVAILABLE). */
static store_conn *pg_reader_acquire(store *base)
{
	pg_store *s = pgs(base);
	pthread_mutex_lock(&s->mu);
	while (s->nidle == 0 && s->nopen >= s->max_readers)
		pthread_cond_wait(&s->cv, &s->mu);
	pg_conn *c;
	if (s->nidle > 0) {
		c = s->idle[--s->nidle];
		pthread_mutex_unlock(&s->mu);
		if (c->broken)
			conn_reset(c);
		return &c->base;
	}
	int slot = s->nopen++;
	pthread_mutex_unlock(&s->mu);
	c = conn_new(s, PG_READER);
	pthread_mutex_lock(&s->mu);
	s->readers[slot] = c;
	pthread_mutex_unlock(&s->mu);
	return &c->base;
}

static void pg_reader_release(store *base, store_conn *cc)
{
	pg_store *s = pgs(base);
	pg_conn *c = pgc(cc);
	if (c == NULL)
		return;
	/* An open transaction would hold its snapshot and locks. */
	if (!c->broken && c->pq != NULL && PQtransactionStatus(c->pq) != PQTRANS_IDLE) {
		log_warn(SUBSYS, "reader released inside a transaction; rolling it back");
		pg_run(c, "rollback", "ROLLBACK", NULL);
	}
	pthread_mutex_lock(&s->mu);
	s->idle[s->nidle++] = c;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Connections not opened yet count as idle: acquiring one does not wait. */
static void pg_pool_stats(store *base, int *size, int *idle)
{
	pg_store *s = pgs(base);
	pthread_mutex_lock(&s->mu);
	if (size != NULL)
		*size = s->max_readers;
	if (idle != NULL)
		*idle = s->nidle + (s->max_readers - s->nopen);
	pthread_mutex_unlock(&s->mu);
}

static int pg_ping(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	if (c->broken && conn_reset(c) != 0)
		return WEFT_EUNAVAILABLE;
	int64_t one;
	int err = pg_query_int(c, "ping", "SELECT 1", NULL, &one, NULL);
	return err == WEFT_ENOTFOUND ? WEFT_ESTORE : err;
}

/* ---- batch counters -----------------------------------------------------------
 * Every terminal transition moves its batch's `remaining`. Written as they
 * happen, a cascade or a cycle finishing thousands of tasks of one batch
 * would update one batch row thousands of times in one transaction, and
 * PostgreSQL walks every earlier version of a row that the transaction
 * updated before (a 5,000-task cascade took seconds, quadratically). The
 * changes are therefore summed per batch in memory and written in one
 * statement before COMMIT, or before a completion check reads the counter.
 * It also keeps a batch row, which every node finishing tasks of the batch
 * must lock, locked only from that moment to the commit. Nothing else reads
 * the counter. */

static int cmp_delta(const void *a, const void *b)
{
	return strncmp(((const batch_delta *)a)->batch.str, ((const batch_delta *)b)->batch.str, WEFT_ID_LEN);
}

/* batch.remaining += delta at the next flush; no-op without a batch. */
static void remaining_add(pg_conn *c, const weft_id *batch, int64_t delta)
{
	if (delta == 0 || batch == NULL || !id_is_set(batch))
		return;
	/* Added to an entry of the same batch when that entry is neither
	 * written yet nor older than the savepoint (a rollback drops the
	 * entries after it). */
	size_t floor = MAX(c->flushed, c->sp_open ? c->sp_ndeltas : 0);
	for (size_t i = c->ndeltas; i > floor; i--) {
		if (id_eq(&c->deltas[i - 1].batch, batch)) {
			c->deltas[i - 1].delta += delta;
			return;
		}
	}
	if (c->ndeltas == c->cap_deltas) {
		c->cap_deltas = c->cap_deltas ? c->cap_deltas * 2 : 16;
		c->deltas = xrealloc(c->deltas, c->cap_deltas * sizeof *c->deltas);
	}
	c->deltas[c->ndeltas++] = (batch_delta){ *batch, delta };
}

/* Writes the changes not written yet, summed per batch. The rows are
 * locked in id order, so nodes flushing several batches cannot deadlock on
 * them. At commit the wait for them is not bounded by lock_timeout: every
 * other lock of the transaction is taken by then, and a failure would fail
 * the whole transaction (the SET LOCAL goes in the same round trip). */
static int remaining_flush(pg_conn *c, bool at_commit)
{
	static const char sql[] =
		"UPDATE batch SET remaining = batch.remaining + d.delta FROM "
		"(SELECT b.id, x.delta FROM unnest($1::text[], $2::bigint[]) AS x (id, delta) "
		" JOIN batch AS b ON b.id = x.id ORDER BY b.id FOR NO KEY UPDATE OF b) AS d "
		"WHERE batch.id = d.id";
	if (c->flushed >= c->ndeltas)
		return 0;
	size_t n = c->ndeltas - c->flushed, k = 0;
	batch_delta *v = xmalloc(n * sizeof *v);
	memcpy(v, c->deltas + c->flushed, n * sizeof *v);
	qsort(v, n, sizeof *v, cmp_delta);
	weft_id *ids = xmalloc(n * sizeof *ids);
	buf deltas;
	buf_init(&deltas);
	buf_putc(&deltas, '{');
	for (size_t i = 0; i < n;) {
		int64_t sum = 0;
		size_t j = i;
		for (; j < n && id_eq(&v[j].batch, &v[i].batch); j++)
			sum += v[j].delta;
		if (sum != 0) {
			buf_printf(&deltas, k > 0 ? ",%" PRId64 : "%" PRId64, sum);
			ids[k++] = v[i].batch;
		}
		i = j;
	}
	buf_putc(&deltas, '}');
	int err = 0;
	if (k > 0) {
		char *idarr = pg_ids_array(ids, k);
		pg_args a;
		pg_args_init(&a);
		pg_arg_text(&a, idarr);
		pg_arg_text(&a, deltas.data);
		if (at_commit) {
			pg_args none;
			pg_args_init(&none);
			err = pg_enqueue(c, "lock_timeout_off", "SET LOCAL lock_timeout = 0", &none);
			if (!err)
				err = pg_enqueue(c, "batch_remaining", sql, &a);
			if (!err)
				err = pipeline_flush(c);
		} else {
			err = pg_run(c, "batch_remaining", sql, &a);
		}
		free(idarr);
	}
	buf_release(&deltas);
	free(ids);
	free(v);
	if (!err)
		c->flushed = c->ndeltas;
	return err;
}

static void remaining_reset(pg_conn *c)
{
	c->ndeltas = c->flushed = c->sp_ndeltas = c->sp_flushed = 0;
}

/* ---- transactions ----------------------------------------------------------- */

/* READ COMMITTED: every statement sees what other nodes committed before
 * it, and the row locks and guards below make the writes safe. A broken
 * writer is reconnected here, at the start of a cycle; a session that died
 * while idle is found by the BEGIN itself, which is then safe to retry. */
static int pg_begin(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	copy_discard(c);        /* rows of a transaction that did not end well */
	if (c->broken && conn_reset(c) != 0)
		return WEFT_EUNAVAILABLE;
	if (PQtransactionStatus(c->pq) != PQTRANS_IDLE) {
		log_warn(SUBSYS, "BEGIN inside a transaction; rolling the old one back");
		int err = pg_run(c, "rollback", "ROLLBACK", NULL);
		if (err)
			return err;
	}
	c->sp_open = false;
	remaining_reset(c);
	int err = pg_run(c, "begin", "BEGIN", NULL);
	if (err == WEFT_EUNAVAILABLE && conn_reset(c) == 0)
		err = pg_run(c, "begin", "BEGIN", NULL);
	return err;
}

/* COMMIT of a transaction that failed is answered "ROLLBACK": that is an
 * error, not a commit. */
static int pg_commit(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	PGresult *r;
	c->sp_open = false;
	/* A failed transaction only rolls back: nothing to write into it. */
	int err = pipeline_flush(c);
	if (!err && !c->broken && PQtransactionStatus(c->pq) != PQTRANS_INERROR)
		err = remaining_flush(c, true);
	remaining_reset(c);
	if (err == WEFT_EUNAVAILABLE)
		return err;
	/* Even after a failed write, COMMIT ends the transaction (rolling it
	 * back). */
	int cerr = pg_query(c, "commit", "COMMIT", NULL, &r);
	if (cerr)
		return cerr;
	if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		if (!err)
			log_error(SUBSYS, "postgres commit: the transaction had failed and was rolled back");
		cerr = WEFT_ESTORE;
	}
	PQclear(r);
	return err ? err : cerr;
}

/* Nothing to undo on a lost connection: the server dropped the transaction
 * with the session. */
static int pg_rollback(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	c->sp_open = false;
	remaining_reset(c);
	copy_discard(c);
	pipeline_flush(c);      /* whatever failed is rolled back below */
	if (c->broken || c->pq == NULL || PQtransactionStatus(c->pq) == PQTRANS_IDLE)
		return 0;
	return pg_run(c, "rollback", "ROLLBACK", NULL);
}

static int pg_savepoint(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	/* Every command of a cycle opens and releases one: neither waits for
	 * its answer (an error shows at the next statement that does). */
	int err = pg_enqueue_utility(c, "savepoint", "SAVEPOINT weft_sp");
	c->sp_open = err == 0;
	c->sp_ndeltas = c->ndeltas;
	c->sp_flushed = c->flushed;
	return err;
}

/* Releasing a savepoint that is not set would abort the whole transaction
 * on PostgreSQL, so a release after a rollback (which already released
 * it) does nothing. */
static int pg_savepoint_release(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	if (!c->sp_open)
		return 0;
	/* The release waits for everything the step sent without waiting: a
	 * failed write must fail this step, whose savepoint can still undo it,
	 * not show up in the next one (whose rollback would then undo this
	 * step's writes after it was reported done). */
	int err = pg_enqueue_utility(c, "savepoint_release", "RELEASE SAVEPOINT weft_sp");
	if (!err)
		err = pipeline_flush(c);
	if (!err)
		c->sp_open = false;
	return err;
}

/* ROLLBACK TO keeps the savepoint (and clears an aborted statement's
 * error); RELEASE then pops it. */
static int pg_savepoint_rollback(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	if (!c->sp_open)
		return WEFT_ESTORE;
	c->sp_open = false;
	/* The counter changes made since are dropped; those written since are
	 * undone by the server, including older ones written with them. */
	c->ndeltas = c->sp_ndeltas;
	c->flushed = c->sp_flushed;
	copy_discard(c);        /* rows of the step undone, not sent yet */
	if (pipeline_flush(c) == WEFT_EUNAVAILABLE)
		return WEFT_EUNAVAILABLE;
	int err = pg_run(c, "savepoint_rollback", "ROLLBACK TO SAVEPOINT weft_sp", NULL);
	return err ? err : pg_run(c, "savepoint_release", "RELEASE SAVEPOINT weft_sp", NULL);
}

/* ---- inserts ------------------------------------------------------------------ */

#define ACTIVE_IN "('waiting', 'pending', 'claimed', 'running', 'paused', 'retrying')"
#define TERMINAL_IN "('success', 'failure', 'canceled')"
#define EVENT_INSERT "INSERT INTO task_event (task_id, at, from_status, to_status, reason, actor) "


static int pg_batch_insert(store_conn *cc, const batch_row *b)
{
	pg_args a;
	pg_args_init(&a);
	pg_arg_id(&a, &b->id);
	pg_arg_int(&a, b->created_at);
	pg_arg_text(&a, b->scope);
	pg_arg_text(&a, b->metadata);
	pg_arg_text(&a, b->on_complete);
	return copy_row(pgc(cc), COPY_BATCH, &a);
}

static int pg_task_insert(store_conn *cc, const task_row *t)
{
	pg_args a;
	pg_args_init(&a);
	pg_arg_id(&a, &t->id);
	pg_arg_id(&a, &t->batch_id);
	pg_arg_text(&a, t->name ? t->name : "");
	pg_arg_text(&a, t->kind ? t->kind : "");
	pg_arg_text(&a, task_status_name(t->status));
	pg_arg_int(&a, t->timeout_secs);
	pg_arg_int(&a, t->created_at);
	pg_arg_ts(&a, t->started_at);
	pg_arg_ts(&a, t->ended_at);
	pg_arg_ts(&a, t->last_updated);
	pg_arg_text(&a, t->metadata ? t->metadata : "null");
	pg_arg_text(&a, t->rules ? t->rules : "[]");
	pg_arg_int(&a, t->wait_success);
	pg_arg_int(&a, t->wait_finished);
	pg_arg_int(&a, t->success);
	pg_arg_int(&a, t->failures);
	pg_arg_text(&a, t->failure_reason);
	if (t->has_expected_count)
		pg_arg_int(&a, t->expected_count);
	else
		pg_arg_null(&a);
	pg_arg_int(&a, t->dead_end_barrier);
	pg_arg_int(&a, t->priority);
	pg_arg_int(&a, t->attempt);
	pg_arg_text(&a, t->group_name);
	pg_arg_ts(&a, t->start_after);
	pg_arg_text(&a, t->retry_policy);
	pg_arg_ts(&a, t->next_retry_at);
	return copy_row(pgc(cc), COPY_TASK, &a);
}

static int pg_link_insert(store_conn *cc, const link_row *l)
{
	pg_args a;
	pg_args_init(&a);
	pg_arg_id(&a, &l->parent_id);
	pg_arg_id(&a, &l->child_id);
	pg_arg_int(&a, l->requires_success);
	return copy_row(pgc(cc), COPY_LINK, &a);
}

static int pg_action_insert(store_conn *cc, const weft_id *task_id, const action_row *r)
{
	pg_args a;
	pg_args_init(&a);
	pg_arg_id(&a, task_id);
	pg_arg_text(&a, action_trigger_name(r->trigger));
	pg_arg_text(&a, action_condition_name(r->condition));
	pg_arg_text(&a, r->params ? r->params : "{}");
	return copy_row(pgc(cc), COPY_ACTION, &a);
}

/* ---- single task ---------------------------------------------------------------- */

/* The optional parts of the update statement, after the field bits. */
enum {
	U_EVENT = TU__COUNT,    /* records the transition */
	U_AFTER,                /* returns the row */
};

/* One statement, one round trip: lock the row and read its status (cur),
 * the UPDATE guarded on that status being one of the allowed ones (upd),
 * and when the status is set, the audit event of an actual change (ev).
 * The answer is one row per existing task: its status before, its batch,
 * then the updated row (all NULL when the guard did not match).
 * Parameters: the fields in shape order, then id, the allowed statuses
 * (a text[] literal), then (U_EVENT) time, reason, actor. */
static void build_update(buf *sql, unsigned shape)
{
	int p = 0;
	const char *sep = "";
	buf sets;
	buf_init(&sets);
	for (unsigned f = 0; f < TU__COUNT; f++) {
		if (shape & (1u << f)) {
			const task_update_column *col = &task_update_columns[f];
			++p;
			if (col->add)
				buf_printf(&sets, "%s%s = %s + $%d", sep, col->name, col->name, p);
			else
				buf_printf(&sets, "%s%s = $%d", sep, col->name, p);
			sep = ", ";
		}
	}
	int id = ++p, allowed = ++p;
	buf_printf(sql,
	           "WITH cur AS (SELECT id AS cur_id, status AS cur_status, batch_id AS cur_batch FROM task "
	           "WHERE id = $%d FOR NO KEY UPDATE), "
	           "upd AS (UPDATE task SET %s FROM cur WHERE task.id = cur.cur_id AND cur.cur_status = ANY ($%d::text[]) "
	           "RETURNING %s)",
	           id, sets.data, allowed, shape & (1u << U_AFTER) ? PG_TASK_COLS_OF("task.") : "task.id, task.status");
	buf_release(&sets);
	if (shape & (1u << U_EVENT)) {
		int at = ++p, reason = ++p, actor = ++p;
		buf_printf(sql,
		           ", ev AS (" EVENT_INSERT "SELECT upd.id, $%d::bigint, cur.cur_status, upd.status, $%d, $%d "
		           "FROM upd, cur WHERE upd.status <> cur.cur_status)",
		           at, reason, actor);
	}
	buf_puts(sql, " SELECT cur.cur_status, cur.cur_batch, upd.* FROM cur LEFT JOIN upd ON true");
}

static void bind_update(pg_args *a, const task_update *u, unsigned shape)
{
	for (unsigned f = 0; f < TU__COUNT; f++) {
		if (!(shape & (1u << f)))
			continue;
		switch (f) {
		case TU_STATUS: pg_arg_text(a, task_status_name(u->status)); break;
		case TU_SUCCESS: pg_arg_int(a, u->add_success); break;
		case TU_FAILURES: pg_arg_int(a, u->add_failures); break;
		case TU_METADATA: pg_arg_text(a, u->metadata); break;
		case TU_REASON: pg_arg_text(a, u->failure_reason); break;
		case TU_RULES: pg_arg_text(a, u->rules); break;
		case TU_EXPECTED: pg_arg_int(a, u->expected_count); break;
		case TU_PRIORITY: pg_arg_int(a, u->priority); break;
		case TU_STARTED: pg_arg_int(a, u->started_at); break;
		case TU_ENDED: pg_arg_int(a, u->ended_at); break;
		case TU_UPDATED: pg_arg_int(a, u->last_updated); break;
		case TU_ATTEMPT: pg_arg_int(a, u->attempt); break;
		case TU_NEXT_RETRY: pg_arg_int(a, u->next_retry_at); break;
		default: break;
		}
	}
}

/* When the transition happened: the update's own timestamps, else now. */
static int64_t update_time(const task_update *u)
{
	if (u->last_updated != 0)
		return u->last_updated;
	if (u->ended_at != 0)
		return u->ended_at;
	if (u->started_at != 0)
		return u->started_at;
	return clock_now_us();
}

/* One task row by id into out (0 / WEFT_ENOTFOUND). */
static int task_by_id(pg_conn *c, const weft_id *id, task_row *out)
{
	pg_args a;
	PGresult *r;
	memset(out, 0, sizeof *out);
	pg_args_init(&a);
	pg_arg_id(&a, id);
	int err = pg_query(c, "task_update_get", "SELECT " PG_TASK_COLS " FROM task WHERE id = $1", &a, &r);
	if (err)
		return err;
	err = PQntuples(r) == 1 ? pg_read_task(r, 0, 0, out) : WEFT_ENOTFOUND;
	PQclear(r);
	return err;
}

/* "{status,status,...}": the statuses of a mask, as a text[] literal. */
static void status_array(char *out, size_t n, unsigned mask)
{
	size_t len = 0;
	out[len++] = '{';
	for (int st = 0; st < TS__COUNT && len < n; st++)
		if (mask & TS_BIT(st))
			len += (size_t)snprintf(out + len, n - len, "%s%s", len > 1 ? "," : "", task_status_name((task_status)st));
	snprintf(out + MIN(len, n - 2), n - MIN(len, n - 2), "}");
}

/* The row is locked first: a node updating the same task concurrently
 * waits for this transaction, then reads the status it left. This also
 * tells NOT_FOUND from GUARD and reports the previous status. A status
 * change records an audit event and moves the batch's counter of
 * unfinished tasks: down when the task finishes, up should it ever leave a
 * terminal status again. */
static int pg_task_update(store_conn *cc, const weft_id *id, unsigned from_mask, const task_update *u,
                          task_update_result *res)
{
	pg_conn *c = pgc(cc);
	pg_args a;
	PGresult *r;
	if (u->after != NULL)
		memset(u->after, 0, sizeof *u->after);
	unsigned shape = task_update_shape(u);
	if (shape == 0) {
		/* Nothing to write: the guard and the row as they are. */
		task_row row;
		int err = task_by_id(c, id, &row);
		if (err)
			return err;
		res->prev = row.status;
		res->applied = from_mask & TS_BIT(row.status);
		if (res->applied && u->after != NULL)
			*u->after = row;
		else
			task_row_release(&row);
		return 0;
	}
	shape |= (unsigned)u->set_status << U_EVENT;
	shape |= (unsigned)(u->after != NULL) << U_AFTER;

	char name[40], allowed[160];
	snprintf(name, sizeof name, "task_update#%x", shape);
	status_array(allowed, sizeof allowed, from_mask);
	buf sql;
	buf_init(&sql);
	build_update(&sql, shape);
	pg_args_init(&a);
	bind_update(&a, u, shape);
	pg_arg_id(&a, id);
	pg_arg_text(&a, allowed);
	if (u->set_status) {
		pg_arg_int(&a, update_time(u));
		pg_arg_text(&a, u->reason ? u->reason : u->failure_reason);
		pg_arg_text(&a, u->actor ? u->actor : "api");
	}
	int err = pg_query(c, name, sql.data, &a, &r);
	buf_release(&sql);
	if (err)
		return err;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return WEFT_ENOTFOUND;
	}
	task_status cur;
	weft_id batch;
	if (read_status(r, 0, 0, &cur) != 0) {
		PQclear(r);
		return WEFT_ESTORE;
	}
	pg_id(r, 0, 1, &batch);
	res->prev = cur;
	res->applied = !pg_is_null(r, 0, 2);
	if (res->applied && u->after != NULL && (err = pg_read_task(r, 0, 2, u->after)) != 0)
		task_row_release(u->after);
	PQclear(r);
	if (!err && res->applied && u->set_status && u->status != cur && task_status_terminal(cur) != task_status_terminal(u->status))
		remaining_add(c, &batch, task_status_terminal(u->status) ? -1 : 1);
	return err;
}

/* ---- DAG propagation ------------------------------------------------------------ */

/* The children are locked in id order (concurrent cascades over shared
 * children wait rather than deadlock) and re-checked after the wait; their
 * events are written by the same statement. */
static int pg_fail_required_children(store_conn *cc, const weft_id *parent, const char *reason,
                                     int64_t now, weft_id **changed, size_t *n)
{
	static const char sql[] =
		"WITH ch AS (SELECT id, status FROM task WHERE id = ANY (ARRAY("
		"    SELECT child_id FROM link WHERE parent_id = $1 AND requires_success <> 0)) "
		"  AND (status || '') IN ('waiting', 'paused') ORDER BY id FOR NO KEY UPDATE), "
		"upd AS (UPDATE task SET status = 'failure', failure_reason = $2, ended_at = $3 FROM ch "
		"  WHERE task.id = ch.id AND (task.status || '') IN ('waiting', 'paused') "
		"  RETURNING task.id, task.batch_id, ch.status AS prev), "
		"ev AS (" EVENT_INSERT "SELECT id, $3, prev, 'failure', $2, 'system' FROM upd) "
		"SELECT id, batch_id FROM upd";
	pg_args a;
	PGresult *r;
	*changed = NULL;
	*n = 0;
	pg_args_init(&a);
	pg_arg_id(&a, parent);
	pg_arg_text(&a, reason);
	pg_arg_int(&a, now);
	pg_conn *c = pgc(cc);
	int err = pg_query(c, "fail_children", sql, &a, &r);
	if (err)
		return err;
	err = pg_collect_ids(r, 0, changed, n);
	for (int i = 0; i < PQntuples(r); i++) {
		weft_id batch;
		pg_id(r, i, 1, &batch);
		remaining_add(c, &batch, -1);
	}
	PQclear(r);
	return err;
}

/* One pass: SET expressions see the old values, so the new counters are
 * recomputed in the status test; RETURNING shows the new status, so a
 * 'pending' there is a child that has just become ready (a paused one stays
 * paused). */
static int pg_release_children(store_conn *cc, const weft_id *parent, bool parent_succeeded,
                               weft_id **became_pending, size_t *n)
{
	static const char sql[] =
		"WITH ch AS (SELECT id FROM task WHERE id = ANY (ARRAY("
		"    SELECT child_id FROM link WHERE parent_id = $1)) "
		"  AND (status || '') IN ('waiting', 'paused') ORDER BY id FOR NO KEY UPDATE), "
		"d AS (SELECT ch.id, CASE WHEN $2::boolean AND l.requires_success <> 0 THEN 1 ELSE 0 END AS s "
		"  FROM ch JOIN link AS l ON l.parent_id = $1 AND l.child_id = ch.id), "
		"upd AS (UPDATE task SET wait_finished = task.wait_finished - 1, "
		"  wait_success = task.wait_success - d.s, "
		"  status = CASE WHEN task.status = 'waiting' AND task.wait_finished - 1 <= 0 "
		"    AND task.wait_success - d.s <= 0 THEN 'pending' ELSE task.status END "
		"  FROM d WHERE task.id = d.id AND (task.status || '') IN ('waiting', 'paused') "
		"  RETURNING task.id, task.status = 'pending' AS ready), "
		"ev AS (" EVENT_INSERT "SELECT id, $3::bigint, 'waiting', 'pending', 'dependencies resolved', "
		"  'system' FROM upd WHERE ready) "
		"SELECT id FROM upd WHERE ready";
	pg_args a;
	PGresult *r;
	*became_pending = NULL;
	*n = 0;
	pg_args_init(&a);
	pg_arg_id(&a, parent);
	pg_arg_bool(&a, parent_succeeded);
	pg_arg_int(&a, clock_now_us());
	int err = pg_query(pgc(cc), "release_children", sql, &a, &r);
	if (err)
		return err;
	err = pg_collect_ids(r, 0, became_pending, n);
	PQclear(r);
	return err;
}

/* Distinct parents first, so each is checked once however many of its
 * children are in the list. */
static int pg_dead_end_parents(store_conn *cc, const weft_id *tasks, size_t ntasks, weft_id **parents,
                               size_t *n)
{
	static const char sql[] =
		"SELECT p.id FROM task AS p "
		"WHERE p.id = ANY (ARRAY(SELECT DISTINCT parent_id FROM link WHERE child_id = ANY ($1::text[]))) "
		"AND (p.status || '') IN " ACTIVE_IN " "
		"AND NOT EXISTS (SELECT 1 FROM task AS c "
		"  WHERE c.id = ANY (ARRAY(SELECT child_id FROM link WHERE parent_id = p.id)) "
		"  AND (c.status || '') IN " ACTIVE_IN ")";
	pg_args a;
	PGresult *r;
	*parents = NULL;
	*n = 0;
	if (ntasks == 0)
		return 0;
	char *ids = pg_ids_array(tasks, ntasks);
	pg_args_init(&a);
	pg_arg_text(&a, ids);
	int err = pg_query(pgc(cc), "dead_end_parents", sql, &a, &r);
	free(ids);
	if (err)
		return err;
	err = pg_collect_ids(r, 0, parents, n);
	PQclear(r);
	return err;
}

/* ---- starting tasks ------------------------------------------------------------- */

static int64_t clamp_limit(size_t limit) { return limit > INT64_MAX ? INT64_MAX : (int64_t)limit; }

/* The pending rows read are locked, skipping those another node holds:
 * nodes scanning together each get rows nobody else is claiming, and a row
 * claimed and committed since is re-checked (no longer pending: left out).
 * After a cursor the scan is two index ranges (the rest of the cursor's
 * priority, then the lower ones), each its own statement so that each
 * starts where it should in task_pending; the second only runs when the
 * first did not fill the page. */
static int pg_pending_scan(store_conn *cc, const pending_cursor *after, size_t limit, int64_t now,
                           task_row **out, size_t *n)
{
	static const char first[] =
		"SELECT " PG_TASK_COLS " FROM task "
		"WHERE status = 'pending' AND (start_after IS NULL OR start_after <= $2) "
		"ORDER BY priority DESC, created_at, id LIMIT $1 FOR NO KEY UPDATE SKIP LOCKED";
	static const char same[] =
		"SELECT " PG_TASK_COLS " FROM task "
		"WHERE status = 'pending' AND priority = $1 AND (created_at, id) > ($2, $3) "
		"AND (start_after IS NULL OR start_after <= $5) "
		"ORDER BY priority DESC, created_at, id LIMIT $4 FOR NO KEY UPDATE SKIP LOCKED";
	static const char lower[] =
		"SELECT " PG_TASK_COLS " FROM task "
		"WHERE status = 'pending' AND priority < $1 AND (start_after IS NULL OR start_after <= $3) "
		"ORDER BY priority DESC, created_at, id LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED";
	pg_conn *c = pgc(cc);
	pg_args a;
	PGresult *r;
	task_row *rows = NULL;
	size_t len = 0, cap = 0;
	int err;
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return 0;
	pg_args_init(&a);
	if (after == NULL) {
		pg_arg_int(&a, clamp_limit(limit));
		pg_arg_int(&a, now);
		err = pg_query(c, "pending_scan", first, &a, &r);
	} else {
		pg_arg_int(&a, after->priority);
		pg_arg_int(&a, after->created_at);
		pg_arg_text(&a, after->id.str);
		pg_arg_int(&a, clamp_limit(limit));
		pg_arg_int(&a, now);
		err = pg_query(c, "pending_scan_after", same, &a, &r);
	}
	if (err)
		return err;
	err = append_tasks(r, &rows, &len, &cap);
	PQclear(r);
	if (!err && after != NULL && len < limit) {
		pg_args_init(&a);
		pg_arg_int(&a, after->priority);
		pg_arg_int(&a, clamp_limit(limit - len));
		pg_arg_int(&a, now);
		if ((err = pg_query(c, "pending_scan_lower", lower, &a, &r)) == 0) {
			err = append_tasks(r, &rows, &len, &cap);
			PQclear(r);
		}
	}
	if (err) {
		store_free_tasks(rows, len);
		return err;
	}
	*out = rows;
	*n = len;
	return 0;
}

/* ArcRun's try_claim in one statement: insert, or re-claim a failed or
 * stale pending row. Two nodes claiming one key serialize on it (the second
 * waits for the first's commit, then sees its row). */
static int pg_ledger_claim(store_conn *cc, const char *key, const weft_id *task, action_trigger trig,
                           action_condition cond, int64_t now, int64_t stale_before,
                           ledger_claim_result *result)
{
	static const char claim[] =
		"INSERT INTO webhook_execution AS w "
		"(idempotency_key, task_id, trigger, condition, status, attempts, created_at, updated_at) "
		"VALUES ($1, $2, $3, $4, 'pending', 1, $5, $5) "
		"ON CONFLICT (idempotency_key) DO UPDATE SET "
		"attempts = w.attempts + 1, status = 'pending', updated_at = excluded.updated_at "
		"WHERE w.status = 'failure' OR (w.status = 'pending' AND w.updated_at < $6) "
		"RETURNING 1";
	pg_conn *c = pgc(cc);
	pg_args a;
	PGresult *r;
	pg_args_init(&a);
	pg_arg_text(&a, key);
	pg_arg_id(&a, task);
	pg_arg_text(&a, action_trigger_name(trig));
	pg_arg_text(&a, action_condition_name(cond));
	pg_arg_int(&a, now);
	pg_arg_int(&a, stale_before);
	int err = pg_query(c, "ledger_claim", claim, &a, &r);
	if (err)
		return err;
	bool claimed = PQntuples(r) == 1;
	PQclear(r);
	if (claimed) {
		*result = LEDGER_CLAIMED;
		return 0;
	}
	/* Not inserted nor re-claimed: succeeded before, or pending and fresh.
	 * A new statement sees a row another node committed meanwhile. */
	pg_args_init(&a);
	pg_arg_text(&a, key);
	err = pg_query(c, "ledger_status", "SELECT status FROM webhook_execution WHERE idempotency_key = $1",
	               &a, &r);
	if (err)
		return err;
	bool done = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "success") == 0;
	*result = done ? LEDGER_DONE : LEDGER_BUSY;
	PQclear(r);
	return 0;
}

static int pg_ledger_finish(store_conn *cc, const char *key, bool ok, int32_t http_status, const char *error,
                            int64_t now)
{
	pg_args a;
	pg_args_init(&a);
	pg_arg_text(&a, key);
	pg_arg_text(&a, ok ? "success" : "failure");
	pg_arg_int(&a, now);
	arg_int_or_null(&a, http_status);
	pg_arg_text(&a, error);
	return pg_enqueue(pgc(cc), "ledger_finish",
	              "UPDATE webhook_execution SET status = $2, updated_at = $3, last_http_status = $4, "
	              "last_error = $5 WHERE idempotency_key = $1",
	              &a);
}

/* ---- batches -------------------------------------------------------------------- */

/* batch.remaining += delta (at the next flush); no-op for a batch without
 * a row. */
static int pg_batch_add_remaining(store_conn *cc, const weft_id *batch, int64_t delta)
{
	remaining_add(pgc(cc), batch, delta);
	return 0;
}

/* One guarded UPDATE: of two nodes finishing a batch's last tasks, the
 * second waits for the first's row lock and then finds completed_at set.
 * A counter that went below 0 (a task counted twice) still completes once. */
static int pg_batch_complete(store_conn *cc, const weft_id *batch, int64_t now, char **on_complete,
                             batch_outcome *counts)
{
	static const char outcome[] =
		"SELECT count(*) FILTER (WHERE status = 'success'), count(*) FILTER (WHERE status = 'failure'), "
		"count(*) FILTER (WHERE status = 'canceled') FROM "
		"(SELECT status FROM task WHERE batch_id = $1 "
		" UNION ALL SELECT status FROM task_archive WHERE batch_id = $1) AS s";
	pg_conn *c = pgc(cc);
	pg_args a;
	PGresult *r;
	*on_complete = NULL;
	memset(counts, 0, sizeof *counts);
	int err = remaining_flush(c, false);
	if (err)
		return err;
	pg_args_init(&a);
	pg_arg_id(&a, batch);
	pg_arg_int(&a, now);
	err = pg_query(c, "batch_complete",
	                   "UPDATE batch SET completed_at = $2 "
	                   "WHERE id = $1 AND remaining <= 0 AND completed_at IS NULL RETURNING on_complete",
	                   &a, &r);
	if (err)
		return err;
	bool completed = PQntuples(r) == 1;
	char *json = completed ? pg_str(r, 0, 0) : NULL;
	PQclear(r);
	if (!completed)
		return WEFT_ENOTFOUND;

	pg_args_init(&a);
	pg_arg_id(&a, batch);
	if ((err = pg_query(c, "batch_outcome", outcome, &a, &r)) != 0) {
		free(json);
		return err;
	}
	if (PQntuples(r) == 1) {
		counts->success = pg_int(r, 0, 0);
		counts->failure = pg_int(r, 0, 1);
		counts->canceled = pg_int(r, 0, 2);
	}
	PQclear(r);
	*on_complete = json;
	return 0;
}

/* One statement: the count of tasks already terminal (read before the
 * update, in the statement's snapshot), the non-terminal ones locked in id
 * order and canceled, their events. Each canceled task comes back with the
 * status it left. */
static int pg_batch_cancel(store_conn *cc, const weft_id *batch, const char *reason, int64_t now,
                           batch_cancel_counts *counts, weft_id **was_running, size_t *nrunning)
{
	static const char sql[] =
		"WITH term AS (SELECT count(*) AS n FROM task WHERE batch_id = $1 AND (status || '') IN " TERMINAL_IN "), "
		"t AS (SELECT id, status FROM task WHERE batch_id = $1 AND (status || '') IN " ACTIVE_IN " "
		"  ORDER BY id FOR NO KEY UPDATE), "
		"upd AS (UPDATE task SET status = 'canceled', failure_reason = $2, ended_at = $3, last_updated = $3 "
		"  FROM t WHERE task.id = t.id AND (task.status || '') IN " ACTIVE_IN " "
		"  RETURNING task.id, t.status AS prev), "
		"ev AS (" EVENT_INSERT "SELECT id, $3, prev, 'canceled', $2, 'api' FROM upd) "
		"SELECT term.n, upd.id, upd.prev FROM term LEFT JOIN upd ON true";
	pg_args a;
	PGresult *r;
	memset(counts, 0, sizeof *counts);
	*was_running = NULL;
	*nrunning = 0;
	pg_args_init(&a);
	pg_arg_id(&a, batch);
	pg_arg_text(&a, reason);
	pg_arg_int(&a, now);
	pg_conn *c = pgc(cc);
	int err = pg_query(c, "batch_cancel", sql, &a, &r);
	if (err)
		return err;
	int rows = PQntuples(r);
	int64_t ncanceled = 0;
	weft_id *running = NULL;
	size_t nrun = 0;
	for (int i = 0; i < rows && !err; i++) {
		if (i == 0)
			counts->already_terminal = pg_int(r, 0, 0);
		if (pg_is_null(r, i, 1))
			continue;
		task_status prev;
		if ((err = read_status(r, i, 2, &prev)) != 0)
			break;
		counts->canceled[prev]++;
		ncanceled++;
		if (prev == TS_RUNNING) {
			running = xrealloc(running, (nrun + 1) * sizeof *running);
			pg_id(r, i, 1, &running[nrun++]);
		}
	}
	PQclear(r);
	if (err) {
		free(running);
		memset(counts, 0, sizeof *counts);
		return err;
	}
	remaining_add(c, batch, -ncanceled);
	*was_running = running;
	*nrunning = nrun;
	return 0;
}

static int pg_batch_set_rules(store_conn *cc, const weft_id *batch, const char *kind, const char *rules_json,
                              int64_t now, int64_t *updated)
{
	pg_args a;
	PGresult *r;
	*updated = 0;
	pg_args_init(&a);
	pg_arg_id(&a, batch);
	pg_arg_text(&a, kind);
	pg_arg_text(&a, rules_json ? rules_json : "[]");
	pg_arg_ts(&a, now);
	int err = pg_query(pgc(cc), "batch_rules",
	                   "UPDATE task SET rules = $3, last_updated = $4 "
	                   "WHERE batch_id = $1 AND kind = $2 AND (status || '') IN " ACTIVE_IN,
	                   &a, &r);
	if (err)
		return err;
	*updated = pg_changes(r);
	PQclear(r);
	return 0;
}

/* ---- outbox --------------------------------------------------------------------- */

static int pg_outbox_insert(store_conn *cc, outbox_row *o)
{
	pg_args a;
	PGresult *r;
	char key[sizeof o->key];
	snprintf(key, sizeof key, "%.*s", (int)strnlen(o->key, sizeof o->key), o->key);
	pg_args_init(&a);
	pg_arg_text(&a, key);
	pg_arg_text(&a, delivery_event_name(o->event));
	pg_arg_id(&a, &o->task_id);
	pg_arg_id(&a, &o->batch_id);
	arg_int_or_null(&a, o->action_id);
	pg_arg_text(&a, o->params ? o->params : "{}");
	pg_arg_int(&a, o->add_handle);
	pg_arg_text(&a, delivery_status_name(o->status));
	pg_arg_int(&a, o->attempts);
	pg_arg_int(&a, o->max_attempts);
	pg_arg_int(&a, o->next_attempt_at);
	pg_arg_ts(&a, o->last_attempt_at);
	pg_arg_int(&a, o->created_at);
	pg_arg_int(&a, o->updated_at != 0 ? o->updated_at : o->created_at);
	arg_int_or_null(&a, o->last_http_status);
	pg_arg_text(&a, o->last_error);
	int err = pg_query(pgc(cc), "outbox_insert",
	                   "INSERT INTO outbox (idempotency_key, event, task_id, batch_id, action_id, params, "
	                   "add_handle, status, attempts, max_attempts, next_attempt_at, last_attempt_at, "
	                   "created_at, updated_at, last_http_status, last_error) "
	                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
	                   "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
	                   &a, &r);
	if (err)
		return err;
	o->id = PQntuples(r) == 1 ? pg_int(r, 0, 0) : 0;
	PQclear(r);
	return 0;
}

/* Due rows are locked with SKIP LOCKED, so each delivery attempt belongs to
 * one node. Left out: the rows of the tasks in the skip list (this node's
 * start calls in flight) and those of a task whose start ledger row is
 * pending and younger than a lease (another node's start call may be in
 * flight: the service must see the start before the end). A NULL task_id
 * (batch_complete) is never skipped. The rows come back oldest due first,
 * ordered by their due time before the lease. */
/* Deliveries leased by a node whose writer session is gone (no session
 * holds the lock of its name) will never be answered: they become due now
 * instead of when their lease expires. Checked at most every
 * ORPHAN_SWEEP_MS, the first time at a node's first lease, along
 * outbox_status (`+ 0` keeps the planner off outbox_due, whose range would
 * cover every delivery waiting for a retry). */
static int lease_orphans(pg_conn *c, int64_t now)
{
	static const char sql[] =
		"UPDATE outbox SET next_attempt_at = $1, updated_at = $1 "
		"WHERE status = 'delivering' AND (next_attempt_at + 0) > $1 AND leased_by IS DISTINCT FROM $2 "
		"AND (leased_by IS NULL OR hashtext(leased_by)::oid NOT IN "
		"  (SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
		"   AND classid = " NODE_LOCK_K1 " "
		"   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())))";
	pg_store *s = c->store;
	int64_t t = mono_ms();
	if (s->orphan_sweep_ms != 0 && t - s->orphan_sweep_ms < ORPHAN_SWEEP_MS)
		return 0;
	pg_args a;
	PGresult *r;
	pg_args_init(&a);
	pg_arg_int(&a, now);
	pg_arg_text(&a, s->node_id);
	int err = pg_query(c, "outbox_orphans", sql, &a, &r);
	if (err)
		return err;
	s->orphan_sweep_ms = t;
	if (pg_changes(r) > 0)
		log_info(SUBSYS, "took over %" PRId64 " deliveries leased by nodes that are gone", pg_changes(r));
	PQclear(r);
	return 0;
}

static int pg_outbox_lease(store_conn *cc, int64_t now, int64_t lease_until, size_t limit,
                           const weft_id *skip, size_t nskip, outbox_row **out, size_t *n)
{
	static const char sql[] =
		"WITH due AS (SELECT o.id, o.next_attempt_at AS due FROM outbox AS o "
		"  WHERE o.status IN ('pending', 'retrying', 'delivering') AND o.next_attempt_at <= $1 "
		"  AND (o.task_id IS NULL OR (NOT o.task_id = ANY ($3::text[]) "
		"    AND NOT EXISTS (SELECT 1 FROM webhook_execution AS w WHERE w.task_id = o.task_id "
		"      AND w.trigger = 'start' AND w.status = 'pending' AND w.updated_at > $4))) "
		"  ORDER BY o.next_attempt_at, o.id LIMIT $5 FOR UPDATE SKIP LOCKED), "
		"upd AS (UPDATE outbox SET status = 'delivering', next_attempt_at = $2, "
		"  attempts = outbox.attempts + 1, last_attempt_at = $1, updated_at = $1, leased_by = $6 "
		"  FROM due WHERE outbox.id = due.id RETURNING " PG_OUTBOX_COLS_OF("outbox.") ", due.due) "
		"SELECT * FROM upd ORDER BY due, id";
	pg_conn *c = pgc(cc);
	pg_args a;
	PGresult *r;
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return 0;
	char *skip_ids = pg_ids_array(skip, nskip);
	pg_args_init(&a);
	pg_arg_int(&a, now);
	pg_arg_int(&a, lease_until);
	pg_arg_text(&a, skip_ids);
	pg_arg_int(&a, now - (lease_until - now));
	pg_arg_int(&a, clamp_limit(limit));
	pg_arg_text(&a, c->store->node_id);
	int err = lease_orphans(c, now);
	if (!err)
		err = pg_query(c, "outbox_lease", sql, &a, &r);
	free(skip_ids);
	if (err)
		return err;
	int rows = PQntuples(r);
	outbox_row *res = rows > 0 ? xcalloc((size_t)rows, sizeof *res) : NULL;
	size_t len = 0;
	for (int i = 0; i < rows && !err; i++)
		if ((err = pg_read_outbox(r, i, 0, &res[len])) == 0)
			len++;
	PQclear(r);
	if (err) {
		store_free_outbox(res, len);
		return err;
	}
	*out = res;
	*n = len;
	return 0;
}

/* An unknown id (nothing to record) is not an error. */
static int pg_outbox_finish(store_conn *cc, int64_t id, bool ok, int32_t http_status, const char *error,
                            int64_t now, int64_t retry_at)
{
	pg_args a;
	pg_args_init(&a);
	pg_arg_int(&a, id);
	pg_arg_bool(&a, ok);
	arg_int_or_null(&a, http_status);
	pg_arg_text(&a, error);
	pg_arg_int(&a, now);
	pg_arg_int(&a, retry_at);
	return pg_enqueue(pgc(cc), "outbox_finish",
	              "UPDATE outbox SET "
	              "status = CASE WHEN $2::boolean THEN 'success' WHEN $6::bigint = 0 THEN 'exhausted' "
	              "ELSE 'retrying' END, "
	              "next_attempt_at = CASE WHEN $2::boolean OR $6::bigint = 0 THEN next_attempt_at "
	              "ELSE $6::bigint END, "
	              "last_http_status = $3, last_error = $4, updated_at = $5 WHERE id = $1",
	              &a);
}

/* The lease of a row left delivering belonged to a process that is gone:
 * it expires now. (A node sharing the database does not call this: other
 * nodes' leases are theirs.) */
static int pg_outbox_recover(store_conn *cc, int64_t now)
{
	pg_args a;
	pg_args_init(&a);
	pg_arg_int(&a, now);
	return pg_run(pgc(cc), "outbox_recover",
	              "UPDATE outbox SET next_attempt_at = $1, updated_at = $1 "
	              "WHERE status = 'delivering' AND next_attempt_at > $1",
	              &a);
}

/* ---- retention ------------------------------------------------------------------ */

#define ARCHIVE_SET(col) col " = excluded." col
/* One statement, atomic on its own or inside the caller's transaction:
 * pick terminal tasks oldest first along task_created (SKIP LOCKED: rows
 * another transaction holds wait for the next pass), copy them into the
 * archive (replacing an id archived before, restored by hand say, so that
 * it cannot stop retention for good), delete what hangs off them, then the
 * tasks. Undelivered outbox rows stay (they carry their rendered request),
 * and so do the audit events. Rows deleted twice in one statement (a link
 * between two picked tasks) are deleted once. */
static int pg_archive_terminal(store_conn *cc, int64_t ended_before, size_t limit, int64_t *archived)
{
	static const char sql[] =
		"WITH pick AS (SELECT id FROM task WHERE created_at <= $1 AND ended_at <= $1 "
		"  AND (status || '') IN " TERMINAL_IN " ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
		"cp AS (INSERT INTO task_archive (" PG_TASK_COLS ", archived_at) "
		"  SELECT " PG_TASK_COLS ", $3::bigint FROM task WHERE id IN (SELECT id FROM pick) "
		"  ON CONFLICT (id) DO UPDATE SET "
		ARCHIVE_SET("batch_id") ", " ARCHIVE_SET("name") ", " ARCHIVE_SET("kind") ", "
		ARCHIVE_SET("status") ", " ARCHIVE_SET("executor") ", " ARCHIVE_SET("timeout_secs") ", "
		ARCHIVE_SET("created_at") ", " ARCHIVE_SET("started_at") ", " ARCHIVE_SET("ended_at") ", "
		ARCHIVE_SET("last_updated") ", " ARCHIVE_SET("metadata") ", " ARCHIVE_SET("rules") ", "
		ARCHIVE_SET("wait_success") ", " ARCHIVE_SET("wait_finished") ", " ARCHIVE_SET("success") ", "
		ARCHIVE_SET("failures") ", " ARCHIVE_SET("failure_reason") ", " ARCHIVE_SET("expected_count") ", "
		ARCHIVE_SET("dead_end_barrier") ", " ARCHIVE_SET("priority") ", " ARCHIVE_SET("attempt") ", "
		ARCHIVE_SET("group_name") ", " ARCHIVE_SET("start_after") ", " ARCHIVE_SET("retry_policy") ", "
		ARCHIVE_SET("next_retry_at") ", " ARCHIVE_SET("archived_at") "), "
		"da AS (DELETE FROM action WHERE task_id IN (SELECT id FROM pick)), "
		"dlo AS (DELETE FROM link WHERE parent_id IN (SELECT id FROM pick)), "
		"dli AS (DELETE FROM link WHERE child_id IN (SELECT id FROM pick)), "
		"dw AS (DELETE FROM webhook_execution WHERE task_id IN (SELECT id FROM pick)), "
		"dob AS (DELETE FROM outbox WHERE task_id IN (SELECT id FROM pick) "
		"  AND (status || '') IN ('success', 'exhausted')), "
		"dt AS (DELETE FROM task WHERE id IN (SELECT id FROM pick) RETURNING 1) "
		"SELECT count(*) FROM dt";
	pg_args a;
	*archived = 0;
	if (limit == 0)
		return 0;
	pg_args_init(&a);
	pg_arg_int(&a, ended_before);
	pg_arg_int(&a, clamp_limit(limit));
	pg_arg_int(&a, clock_now_us());
	int err = pg_query_int(pgc(cc), "archive", sql, &a, archived, NULL);
	return err == WEFT_ENOTFOUND ? WEFT_ESTORE : err;
}

/* ---- many nodes ------------------------------------------------------------------ */

/* Delivered at commit (and dropped with a rollback). This node's own
 * notifications are recognised by their payload and ignored. */
static int pg_notify(store_conn *cc)
{
	pg_conn *c = pgc(cc);
	pg_args a;
	pg_args_init(&a);
	pg_arg_text(&a, c->store->node_id);
	return pg_enqueue(c, "notify", "SELECT pg_notify('" WAKE_CHANNEL "', $1)", &a);
}

/* A transaction lock on (RULES_LOCK_K1, hash of the kind), released at
 * commit or rollback. Two kinds may share a hash: they then share a lock,
 * which only costs waiting. */
static int pg_rules_lock(store_conn *cc, const char *kind, bool wait, bool *got)
{
	pg_conn *c = pgc(cc);
	pg_args a;
	PGresult *r;
	*got = false;
	pg_args_init(&a);
	pg_arg_text(&a, kind ? kind : "");
	if (wait) {
		/* Waits as long as the holder's transaction lasts, not just
		 * lock_timeout (the expressions are evaluated in order). */
		int err = pg_run(c, "rules_lock_wait",
		                 "SELECT set_config('lock_timeout', '0', true), "
		                 "pg_advisory_xact_lock(" RULES_LOCK_K1 ", hashtext($1)), "
		                 "set_config('lock_timeout', '" WRITER_LOCK_TIMEOUT "', true)",
		                 &a);
		*got = err == 0;
		return err;
	}
	int err = pg_query(c, "rules_lock", "SELECT pg_try_advisory_xact_lock(" RULES_LOCK_K1 ", hashtext($1))",
	                   &a, &r);
	if (err)
		return err;
	*got = PQntuples(r) == 1 && pg_bool(r, 0, 0);
	PQclear(r);
	return 0;
}

/* ---- the operations table -------------------------------------------------------- */

static const store_ops pg_ops = {
	.name = "postgres",
	.close = pg_close,
	.writer = pg_writer,
	.reader_acquire = pg_reader_acquire,
	.reader_release = pg_reader_release,
	.pool_stats = pg_pool_stats,
	.ping = pg_ping,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.savepoint = pg_savepoint,
	.savepoint_release = pg_savepoint_release,
	.savepoint_rollback = pg_savepoint_rollback,
	.batch_insert = pg_batch_insert,
	.task_insert = pg_task_insert,
	.link_insert = pg_link_insert,
	.action_insert = pg_action_insert,
	.task_get = pg_task_get,
	.task_actions = pg_task_actions,
	.task_actions_for = pg_task_actions_for,
	.task_update = pg_task_update,
	.fail_required_children = pg_fail_required_children,
	.release_children = pg_release_children,
	.dead_end_parents = pg_dead_end_parents,
	.pending_scan = pg_pending_scan,
	.pending_next_start = pg_pending_next_start,
	.count_matching = pg_count_matching,
	.capacity_sum = pg_capacity_sum,
	.ledger_claim = pg_ledger_claim,
	.ledger_finish = pg_ledger_finish,
	.deadlines = pg_deadlines,
	.batch_task_count = pg_batch_task_count,
	.batch_add_remaining = pg_batch_add_remaining,
	.batch_complete = pg_batch_complete,
	.batch_cancel = pg_batch_cancel,
	.batch_set_rules = pg_batch_set_rules,
	.group_tasks = pg_group_tasks,
	.outbox_insert = pg_outbox_insert,
	.outbox_lease = pg_outbox_lease,
	.outbox_finish = pg_outbox_finish,
	.outbox_next_due = pg_outbox_next_due,
	.outbox_recover = pg_outbox_recover,
	.archive_terminal = pg_archive_terminal,
	.task_list = pg_task_list,
	.batch_stats = pg_batch_stats,
	.batch_list = pg_batch_list,
	.dag = pg_dag,
	.task_events = pg_task_events,
	.outbox_list = pg_outbox_list,
	.status_counts = pg_status_counts,
	.running_by_kind = pg_running_by_kind,
	.set_wakeup = pg_set_wakeup,
	.is_leader = pg_is_leader,
	.notify = pg_notify,
	.rules_lock = pg_rules_lock,
	.timers_due = pg_timers_due,
	.timers_next = pg_timers_next,
};
