/*
 * pg.h — the PostgreSQL driver of the store (db.h), and what its files
 * share: conn.c (connections, statements, pipelining, COPY, transactions
 * and the outcome of a COMMIT whose answer was lost), listener.c (LISTEN /
 * NOTIFY and the leader lock), cluster.c (the session set-up, rule locks,
 * wake-up notifications) and overrides.c.
 *
 * Any number of weft nodes share one database, each with its own engine
 * and writer connection. Nothing relies on being the only writer: a
 * status change locks its row and is guarded on the status it read; set-
 * based transitions lock their rows in id order; scans that hand work out
 * skip the rows another node holds (SKIP LOCKED); one-time events are
 * single guarded statements. Row locks are FOR NO KEY UPDATE: they
 * serialize writers of a task the same way as FOR UPDATE but do not wait
 * for the key-share locks that inserting a link or an action takes.
 *
 * What is its own besides: libpq connections and their reconnection (a
 * connection that breaks answers WEFT_EUNAVAILABLE until it is reset: the
 * writer at its next BEGIN, a reader when it is next handed out, or at
 * once when it was idle); the writer's lock_timeout; prepared statements
 * per session; its dialect ($NNN parameters, (col || '') to keep an index
 * out of a plan, json_array_elements_text / json_to_recordset for sets,
 * id = ANY (ARRAY(subquery)) for "id in these", jsonb's @>).
 *
 * Strategies that differ from the operations written once, each for its
 * reason (measured: docs/internals/store.md):
 *   * pipelining: inside the writer's transaction a write whose answer is
 *     not needed (db_send), SAVEPOINT and its RELEASE are sent without
 *     waiting; their answers are read together at the next statement that
 *     waits, and a savepoint release waits for the step's writes, so a
 *     failed one fails its own step. A round trip per statement would
 *     otherwise dominate a cycle;
 *   * COPY: a transaction's single-row inserts of a table with a COPY form
 *     (db_sql.copy) are collected and sent as one COPY per table when
 *     anything else runs: a 20,000-task submission is four statements;
 *   * task_update_round: lock, guard, counter check, update and audit
 *     events of a whole round of a set of guarded updates in one statement
 *     (pg_task_update_round), one round trip where the written-once form
 *     needs two;
 *   * outbox_lease: due rows locked with SKIP LOCKED, updated and returned
 *     in one statement (pg_outbox_lease), each delivery attempt belonging
 *     to one node, and deliveries whose node is gone taken over at once;
 *   * BEGIN reads the transaction id (txid_current(), in the same round
 *     trip), so that a COMMIT whose answer is lost with the connection can
 *     be resolved after reconnecting (txid_status());
 *   * many nodes: LISTEN/NOTIFY wake-ups, a session advisory lock for the
 *     leader and one per node name, transaction advisory locks for rules.
 */
#ifndef WEFT_STORE_PG_H
#define WEFT_STORE_PG_H

#include <libpq-fe.h>
#include <stdatomic.h>

#include "store/db.h"

/* Connects to the PostgreSQL database at url ("postgres://..." or
 * "postgresql://...", borrowed), migrates it, and starts the listener that
 * carries wake-ups between nodes and holds the leader lock. NULL with a
 * message in err on failure. */
store *pg_store_open(const char *url, const store_options *opt, char *err, size_t errlen);

/* ---- internals shared by the driver's files ----------------------------------------- */

#define PG_SUBSYS "store"
#define PG_CONNECT_TIMEOUT_S 3
#define PG_WAKE_CHANNEL "weft_wake"
/* Advisory lock keys. The migration and leader locks use the one-bigint
 * form; the rule locks (hash of the kind) and the node locks (hash of the
 * node's name) the two-integer form. PostgreSQL keeps the two forms apart,
 * and the values differ too. */
#define PG_MIGRATION_LOCK "8603395311563440129"   /* 0x7765667400000001: "weft", 1 */
#define PG_LEADER_LOCK "8603395311563440130"      /* 0x7765667400000002: "weft", 2 */
#define PG_RULES_LOCK_K1 "2003134066"             /* 0x77656672: "wefr" */
#define PG_NODE_LOCK_K1 "2003134062"              /* 0x7765666e: "wefn" */
/* The writer's lock_timeout. Two nodes' cycles that lock two tasks in
 * opposite orders deadlock; PostgreSQL would break that only after
 * deadlock_timeout (1 s, settable by superusers only), stalling both
 * cycles. A wait this long is answered WEFT_ERETRY instead (as a deadlock
 * is), and the step is tried again. */
#define PG_WRITER_LOCK_TIMEOUT "250ms"

/* A table's rows collected for one COPY. */
typedef struct pg_copy {
	const db_sql *def;
	const char *label;
	buf rows;
} pg_copy;

/* A statement sent in pipeline mode whose answer is not read yet. */
typedef struct pg_queued {
	const char *label;      /* NULL: not timed on its own */
	bool txid;              /* its one value is the transaction id */
	struct pg_stmt *keep;   /* its result goes to that statement (borrowed), to be read */
	bool prefetch;          /* its result goes to the connection's prefetch slot */
	bool commit;            /* COMMIT: answered "ROLLBACK" when the transaction had failed */
} pg_queued;

/* A read sent ahead (db_prefetch): the statement, its values, and its
 * result once the pipeline that carried it was read. */
#define PG_PREFETCH_PARAMS 8
typedef struct pg_prefetched {
	struct pg_stmt *stmt;   /* borrowed (cached by the connection); NULL: none */
	buf args;               /* the values, as bound */
	size_t off[PG_PREFETCH_PARAMS];
	PGresult *res;          /* NULL until read, or when it failed */
	bool queued;            /* sent, answer not read yet ... */
	size_t at;              /* ... at this place of the pipeline */
} pg_prefetched;

typedef struct pg_store pg_store;

typedef struct pg_conn {
	store_conn base;        /* first: the seam's part */
	pg_store *store;
	PGconn *pq;             /* NULL only when libpq could not allocate one */
	bool broken;            /* lost: calls answer WEFT_EUNAVAILABLE until reset */
	bool in_tx;             /* a transaction is open */
	bool begin_pending;     /* the writer's BEGIN waits for the first statement */
	unsigned session;       /* counts reconnections: prepared names are per session */
	unsigned next_name;     /* prepared statements are named s1, s2, ... */
	int64_t txid;           /* the writer's transaction id (0: unknown) */
	/* The writer's last COMMIT was under way when the connection was lost
	 * (its transaction is txid): until the next BEGIN. */
	bool in_doubt;
	bool sync_sent;         /* the last pipeline reached the server's socket (then it may have run) */
	/* The writer's statements sent without waiting. */
	pg_queued *queued;
	size_t nqueued, cap_queued, queued_bytes;
	size_t queued_writes;   /* of them, statements other than SAVEPOINT and RELEASE */
	int64_t queue_start_ns;
	pg_prefetched prefetched;
	/* The writer's inserts not sent yet, per table in first-use order. */
	pg_copy *copies;
	size_t ncopies, copy_bytes;
} pg_conn;

/* Buffers kept between uses up to this size; a larger one (a big set
 * bound, a big submission's COPY) is freed once used, so that memory
 * follows the budget rather than the largest request ever served. */
#define PG_KEEP_BYTES (64 * 1024)

typedef struct pg_stmt {
	db_stmt base;           /* first: the seam's part */
	char *sql;              /* owned */
	char name[20];          /* "q" and the text's hash */
	uint64_t hash;
	/* The values bound for this execution, one after the other. */
	buf args;
	size_t *off;            /* per parameter: offset in args, SIZE_MAX for NULL */
	const char **values;
	PGresult *res;
	int row, nrows;
} pg_stmt;

/* conn.c: reads the results of the queued statements, then sends the
 * rows kept for COPY; the first error. */
int pg_pipeline_flush(pg_conn *c);

/* copy.c */
/* Empties b, freeing its memory when it grew large (PG_KEEP_BYTES). */
void pg_trim(buf *b);
/* Drops the rows collected and not sent (their step is undone). */
void pg_copy_discard(pg_conn *c);
/* Sends the rows collected, one COPY per table; 0 or the first error. */
int pg_copy_flush(pg_conn *c);
/* Adds the bound values of s (an insert with a COPY form) as a row of its
 * table's COPY; 1 (kept) or an error. */
int pg_copy_row(pg_conn *c, pg_stmt *s);

/* The listener: its own connection, LISTEN weft_wake and the leader lock. */
typedef struct pg_listener {
	pthread_t thread;
	bool started;
	int stop_pipe[2];       /* pg_listener_stop writes a byte to stop the thread */
	PGconn *pq;
	atomic_bool leader;
	pthread_mutex_t mu;     /* guards wake and arg */
	void (*wake)(void *arg, unsigned what);
	void *arg;
} pg_listener;

struct pg_store {
	store base;             /* first: the seam's part */
	char *url;              /* as given: libpq parses it */
	char *url_shown;        /* the password masked, for messages */
	char node_id[64];       /* names the sender in this node's notifications */
	int64_t orphan_sweep_ms;    /* writer: when leases were last checked (mono ms) */
	pg_listener lis;
};

static inline pg_conn *pgc(store_conn *c) { return (pg_conn *)c; }
static inline pg_store *pgs(store *s) { return (pg_store *)s; }

int64_t pg_mono_ms(void);
/* PostgreSQL's messages end with a newline; the log adds its own. */
int pg_msg_len(const char *m);

/* open.c */
void pg_store_close(store *s);

/* conn.c */
extern const db_driver pg_driver;
PGconn *pg_connect(const pg_store *s, db_role role, bool async);
pg_conn *pg_conn_new(pg_store *s, db_role role);
void pg_mark_broken(pg_conn *c, const char *why);
/* Maps a result to 0 or a store code, marking the connection broken when
 * it was lost. */
int pg_check(pg_conn *c, const PGresult *r, const char *what);
/* Reconnects a broken connection (conn.c); 0 when usable. */
int pg_conn_reset(pg_conn *c);
/* doubt.c: one attempt to learn whether the COMMIT in doubt committed
 * (db.h: commit_resolve). */
int pg_commit_resolve(store_conn *cc, bool *committed);

/* cluster.c */
int pg_writer_session_init(pg_conn *c);
int pg_notify(store_conn *c, unsigned what);
/* The STORE_WAKE_* bits of a notification's payload, heard by the node
 * named self: 0 for its own, every work bit when the payload names no
 * bits (or cannot be read). */
unsigned pg_wake_parse(const char *payload, const char *self);
int pg_rules_lock(store_conn *c, const char *kind, bool wait, bool *got);
int pg_migration_lock(store_conn *c);

/* listener.c */
int pg_listener_start(pg_store *s, char *err, size_t errlen);
void pg_listener_stop(pg_store *s);
void pg_set_wakeup(store *s, void (*wake)(void *arg, unsigned what), void *arg);
bool pg_is_leader(store *s);

/* overrides.c: exactly the contracts of db.h's slots */
int pg_task_update_round(store_conn *c, const task_change *ch, const size_t *idx, size_t n,
                         task_update_result *res, weft_id *batch);
int pg_outbox_lease(store_conn *c, int64_t now, int64_t lease_until, size_t limit, const weft_id *skip,
                    size_t nskip, outbox_row **out, size_t *n, int64_t *next_due);

#endif
