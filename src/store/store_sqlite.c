/*
 * store_sqlite.c — the SQLite backend of store.h.
 *
 * One writer connection (engine thread only) and a pool of read-only
 * connections for HTTP reads, all on one WAL database file. Every
 * connection caches its prepared statements: the fixed ones in an array
 * indexed by stmt_id, the ones whose SQL depends on which fields or filters
 * are given in a small LRU keyed by that shape, so each shape is prepared
 * once per connection. Statements are reset as soon as their rows are read:
 * a statement left open pins its snapshot and starves WAL checkpoints.
 *
 * Checkpoints run on a thread of their own with its own connection, woken
 * by the writer's WAL hook once the log passes CHECKPOINT_PAGES, so no
 * commit pays for copying the log back into the database.
 *
 * Query plans: without statistics SQLite may prefer an index on `status`
 * over a far more selective id or batch lookup. Where the plan must be
 * driven by ids or by a batch, status terms are written `+status` (which
 * disqualifies them from index use); the pending scan, the outbox due
 * lookups and the retention walk name their index explicitly.
 *
 * Every status change leaves an audit event in task_event, in the same
 * transaction: one INSERT per single update, one set-based statement per
 * cascade or batch cancel. The batch's counter of unfinished tasks
 * (batch.remaining) moves with it.
 *
 * Every statement execution is timed into db_query_duration_seconds and
 * slow_queries_total, labelled with the statement's name (stmt_label,
 * dyn_label).
 */
#include "util/common.h"

#include <pthread.h>
#include <sqlite3.h>
#include <strings.h>
#include <time.h>

#include "store/store_impl.h"
#include "store/store_sqlite.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/metrics.h"

#define SUBSYS "store"
#define DEFAULT_READERS 8
#define BUSY_TIMEOUT_MS 5000
#define WRITER_CACHE_KIB 65536
#define READER_CACHE_KIB 16384
#define JOURNAL_SIZE_LIMIT (64 * 1024 * 1024)
#define DYN_SLOTS 32
#define CHECKPOINT_PAGES 1000   /* SQLite's own auto-checkpoint threshold */
#define DEFAULT_SLOW_QUERY_US 100000

/* ---- schema migrations ---------------------------------------------- */

extern const char embed_store_schema_sqlite_0001_init_sql[];
extern const size_t embed_store_schema_sqlite_0001_init_sql_len;
extern const char embed_store_schema_sqlite_0002_delivery_sql[];
extern const size_t embed_store_schema_sqlite_0002_delivery_sql_len;
extern const char embed_store_schema_sqlite_0003_attempt_sql[];

typedef struct migration {
	int version;
	const char *sql;    /* NUL-terminated */
} migration;

static const migration migrations[] = {
	{ 1, embed_store_schema_sqlite_0001_init_sql },
	{ 2, embed_store_schema_sqlite_0002_delivery_sql },
	{ 3, embed_store_schema_sqlite_0003_attempt_sql },
};

/* ---- fixed statements ------------------------------------------------ */

#define TASK_COLS                                                                              \
	"id, batch_id, name, kind, status, timeout_secs, created_at, started_at, ended_at, "  \
	"last_updated, metadata, rules, wait_success, wait_finished, success, failures, "     \
	"failure_reason, expected_count, dead_end_barrier, priority, attempt, group_name, "   \
	"start_after, retry_policy, next_retry_at"

#define OUTBOX_COLS                                                                            \
	"id, idempotency_key, event, task_id, batch_id, action_id, params, add_handle, status, " \
	"attempts, max_attempts, next_attempt_at, last_attempt_at, created_at, updated_at, "    \
	"last_http_status, last_error"

#define ACTIVE_IN "('waiting', 'pending', 'claimed', 'running', 'paused', 'retrying')"
#define TERMINAL_IN "('success', 'failure', 'canceled')"
/* Written exactly as the predicate of the partial index outbox_due, so
 * that it can be used; the statements name it, since without statistics
 * the planner prefers outbox_status (status = ...). */
#define UNDELIVERED "(status = 'pending' OR status = 'retrying' OR status = 'delivering')"
#define EVENT_INSERT "INSERT INTO task_event (task_id, at, from_status, to_status, reason, actor) "
#define IN_IDS "IN (SELECT value FROM json_each(?1))"

/* One parameter slot per status, ?2 to ?10 (see bind_status_slots). */
#define STATUS_SLOTS "(?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
_Static_assert(TS__COUNT == 9, "STATUS_SLOTS has one slot per task status");
_Static_assert(DS__COUNT == 5, "S_OUTBOX_LIST_STATUS has one slot per delivery status");

typedef enum stmt_id {
	S_PING,
	S_BEGIN,
	S_BEGIN_READ,
	S_COMMIT,
	S_ROLLBACK,
	S_SAVEPOINT,
	S_RELEASE,
	S_ROLLBACK_TO,
	S_BATCH_INSERT,
	S_TASK_INSERT,
	S_LINK_INSERT,
	S_ACTION_INSERT,
	S_TASK_GET,
	S_ARCHIVE_GET,
	S_TASK_STATUS,
	S_ACTIONS,
	S_ACTIONS_FOR,
	S_EVENT_INSERT,
	S_FAIL_CHILDREN_EVENTS,
	S_FAIL_CHILDREN,
	S_RELEASE_CHILDREN,
	S_RELEASE_EVENTS,
	S_DEAD_END,
	S_PENDING_FIRST,
	S_PENDING_AFTER,
	S_PENDING_NEXT_START,
	S_COUNT_MATCHING,
	S_CAPACITY,
	S_LEDGER_CLAIM,
	S_LEDGER_STATUS,
	S_LEDGER_FINISH,
	S_BATCH_COUNT,
	S_BATCH_REMAINING,
	S_BATCH_COMPLETE,
	S_BATCH_OUTCOME,
	S_BATCH_BY_STATUS,
	S_BATCH_RUNNING,
	S_BATCH_CANCEL_EVENTS,
	S_BATCH_CANCEL,
	S_BATCH_RULES,
	S_GROUP_TASKS,
	S_OUTBOX_INSERT,
	S_OUTBOX_DUE,
	S_OUTBOX_LEASE,
	S_OUTBOX_FINISH,
	S_OUTBOX_NEXT_DUE,
	S_OUTBOX_RECOVER,
	S_ARCHIVE_PICK,
	S_ARCHIVE_COPY,
	S_ARCHIVE_ACTIONS,
	S_ARCHIVE_LINKS_OUT,
	S_ARCHIVE_LINKS_IN,
	S_ARCHIVE_LEDGER,
	S_ARCHIVE_OUTBOX,
	S_ARCHIVE_TASKS,
	S_TASK_HEAD,
	S_EVENTS,
	S_OUTBOX_LIST,
	S_OUTBOX_LIST_STATUS,
	S_STATUS_COUNTS,
	S_RUNNING_BY_KIND,
	S_DAG_TASKS,
	S_DAG_LINKS,
	S__COUNT
} stmt_id;

static const char *const stmt_sql[S__COUNT] = {
	[S_PING] = "SELECT 1",
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_BEGIN_READ] = "BEGIN",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_SAVEPOINT] = "SAVEPOINT weft_sp",
	[S_RELEASE] = "RELEASE weft_sp",
	[S_ROLLBACK_TO] = "ROLLBACK TO weft_sp",
	[S_BATCH_INSERT] =
		"INSERT INTO batch (id, created_at, scope, metadata, on_complete) VALUES (?, ?, ?, ?, ?)",
	[S_TASK_INSERT] = "INSERT INTO task (" TASK_COLS ") VALUES "
	                  "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[S_LINK_INSERT] = "INSERT INTO link (parent_id, child_id, requires_success) VALUES (?, ?, ?)",
	[S_ACTION_INSERT] = "INSERT INTO action (task_id, trigger, condition, params) VALUES (?, ?, ?, ?)",
	[S_TASK_GET] = "SELECT " TASK_COLS " FROM task WHERE id = ?",
	[S_ARCHIVE_GET] = "SELECT " TASK_COLS " FROM task_archive WHERE id = ?",
	[S_TASK_STATUS] = "SELECT status, batch_id FROM task WHERE id = ?",
	/* With the delivery record: start actions share the task's start
	 * ledger row; an end or cancel action shows its newest outbox row. */
	[S_ACTIONS] =
		"SELECT a.id, a.trigger, a.condition, a.params, w.status, w.attempts, w.updated_at, "
		"w.last_http_status, w.last_error, "
		"o.status, o.attempts, o.last_http_status, o.last_error, o.last_attempt_at "
		"FROM action AS a "
		"LEFT JOIN webhook_execution AS w "
		"  ON a.trigger = 'start' AND w.idempotency_key = a.task_id || ':start' "
		"LEFT JOIN outbox AS o ON a.trigger <> 'start' AND o.id = "
		"  (SELECT max(x.id) FROM outbox AS x WHERE x.task_id = a.task_id AND x.action_id = a.id) "
		"WHERE a.task_id = ?1 ORDER BY a.id",
	[S_ACTIONS_FOR] = "SELECT id, trigger, condition, params FROM action "
	                  "WHERE task_id = ? AND trigger = ? AND condition = ? ORDER BY id",
	[S_EVENT_INSERT] = EVENT_INSERT "VALUES (?, ?, ?, ?, ?, ?)",
	/* The events of the cascade are written before it, while the rows
	 * still show the status they leave. */
	[S_FAIL_CHILDREN_EVENTS] =
		EVENT_INSERT "SELECT id, ?3, status, 'failure', ?2, 'system' FROM task "
		"WHERE id IN (SELECT child_id FROM link WHERE parent_id = ?1 AND requires_success) "
		"AND +status IN ('waiting', 'paused')",
	[S_FAIL_CHILDREN] =
		"UPDATE task SET status = 'failure', failure_reason = ?2, ended_at = ?3 "
		"WHERE id IN (SELECT child_id FROM link WHERE parent_id = ?1 AND requires_success) "
		"AND +status IN ('waiting', 'paused') RETURNING id, batch_id",
	/* One pass: SET expressions see the old values, so the new counters are
	 * recomputed in the status test. Only waiting/paused rows are touched,
	 * so a returned 'pending' is a task that has just become ready. */
	[S_RELEASE_CHILDREN] =
		"UPDATE task SET wait_finished = wait_finished - 1, "
		"wait_success = wait_success - (?2 AND link.requires_success), "
		"status = CASE WHEN status = 'waiting' AND wait_finished - 1 <= 0 "
		"AND wait_success - (?2 AND link.requires_success) <= 0 THEN 'pending' ELSE status END "
		"FROM link WHERE link.parent_id = ?1 AND link.child_id = task.id "
		"AND +task.status IN ('waiting', 'paused') RETURNING id, status = 'pending'",
	[S_RELEASE_EVENTS] =
		EVENT_INSERT "SELECT value, ?2, 'waiting', 'pending', 'dependencies resolved', 'system' "
		"FROM json_each(?1)",
	/* Distinct parents first, so each is checked once however many of its
	 * children are in the list. */
	[S_DEAD_END] =
		"SELECT p.id FROM task AS p "
		"WHERE p.id IN (SELECT l.parent_id FROM json_each(?1) AS j "
		"               JOIN link AS l ON l.child_id = j.value) "
		"AND +p.status IN " ACTIVE_IN " "
		"AND NOT EXISTS (SELECT 1 FROM link AS l2 JOIN task AS c ON c.id = l2.child_id "
		"                WHERE l2.parent_id = p.id AND +c.status IN " ACTIVE_IN ")",
	/* start_after is a column of task_pending: delayed rows are skipped in
	 * the index. */
	[S_PENDING_FIRST] = "SELECT " TASK_COLS " FROM task INDEXED BY task_pending "
	                    "WHERE status = 'pending' AND (start_after IS NULL OR start_after <= ?2) "
	                    "ORDER BY priority DESC, created_at, id LIMIT ?1",
	/* (priority DESC, created_at, id) > cursor, as two index ranges merged in order. */
	[S_PENDING_AFTER] =
		"SELECT " TASK_COLS " FROM task INDEXED BY task_pending "
		"WHERE status = 'pending' AND priority = ?1 AND (created_at, id) > (?2, ?3) "
		"AND (start_after IS NULL OR start_after <= ?5) "
		"UNION ALL "
		"SELECT " TASK_COLS " FROM task INDEXED BY task_pending "
		"WHERE status = 'pending' AND priority < ?1 "
		"AND (start_after IS NULL OR start_after <= ?5) "
		"ORDER BY priority DESC, created_at, id LIMIT ?4",
	[S_PENDING_NEXT_START] = "SELECT start_after FROM task INDEXED BY task_delayed "
	                         "WHERE status = 'pending' AND start_after IS NOT NULL AND start_after > ?1 "
	                         "ORDER BY start_after LIMIT 1",
	/* The status list has one slot per status; unused slots are bound NULL,
	 * which matches nothing, so one statement serves every mask. */
	[S_COUNT_MATCHING] =
		"SELECT count(*) FROM (SELECT 1 FROM task WHERE kind = ?1 "
		"AND status IN " STATUS_SLOTS " "
		"AND weft_json_contains(metadata, ?11) LIMIT ?12)",
	[S_CAPACITY] =
		"SELECT coalesce(sum(max(coalesce(expected_count, 0) - success - failures, 0)), 0) "
		"FROM task WHERE kind = ?1 AND status IN ('claimed', 'running') "
		"AND weft_json_contains(metadata, ?2)",
	/* ArcRun's try_claim: insert, or re-claim a failed or stale pending row. */
	[S_LEDGER_CLAIM] =
		"INSERT INTO webhook_execution "
		"(idempotency_key, task_id, trigger, condition, status, attempts, created_at, updated_at) "
		"VALUES (?1, ?2, ?3, ?4, 'pending', 1, ?5, ?5) "
		"ON CONFLICT (idempotency_key) DO UPDATE SET "
		"attempts = attempts + 1, status = 'pending', updated_at = excluded.updated_at "
		"WHERE status = 'failure' OR (status = 'pending' AND updated_at < ?6) "
		"RETURNING 1",
	[S_LEDGER_STATUS] = "SELECT status FROM webhook_execution WHERE idempotency_key = ?",
	[S_LEDGER_FINISH] =
		"UPDATE webhook_execution SET status = ?2, updated_at = ?3, last_http_status = ?4, last_error = ?5 "
		"WHERE idempotency_key = ?1",
	[S_BATCH_COUNT] = "SELECT count(*) FROM task WHERE batch_id = ?",
	[S_BATCH_REMAINING] = "UPDATE batch SET remaining = remaining + ?2 WHERE id = ?1",
	/* A counter that went below 0 (a task counted twice) still completes once. */
	[S_BATCH_COMPLETE] =
		"UPDATE batch SET completed_at = ?2 "
		"WHERE id = ?1 AND remaining <= 0 AND completed_at IS NULL RETURNING on_complete",
	[S_BATCH_OUTCOME] =
		"SELECT coalesce(sum(status = 'success'), 0), coalesce(sum(status = 'failure'), 0), "
		"coalesce(sum(status = 'canceled'), 0) FROM "
		"(SELECT status FROM task WHERE batch_id = ?1 "
		" UNION ALL SELECT status FROM task_archive WHERE batch_id = ?1)",
	[S_BATCH_BY_STATUS] =
		"SELECT status, count(*), sum(success), sum(failures), count(expected_count), "
		"sum(expected_count) FROM task WHERE batch_id = ? GROUP BY status",
	[S_BATCH_RUNNING] = "SELECT id FROM task WHERE batch_id = ? AND +status = 'running'",
	[S_BATCH_CANCEL_EVENTS] =
		EVENT_INSERT "SELECT id, ?3, status, 'canceled', ?2, 'api' FROM task "
		"WHERE batch_id = ?1 AND +status IN " ACTIVE_IN,
	[S_BATCH_CANCEL] =
		"UPDATE task SET status = 'canceled', failure_reason = ?2, ended_at = ?3, "
		"last_updated = ?3 WHERE batch_id = ?1 AND +status IN " ACTIVE_IN,
	[S_BATCH_RULES] =
		"UPDATE task SET rules = ?3, last_updated = ?4 "
		"WHERE batch_id = ?1 AND kind = ?2 AND +status IN " ACTIVE_IN,
	[S_GROUP_TASKS] = "SELECT id FROM task WHERE group_name = ?1 AND +status IN " STATUS_SLOTS " "
	                  "ORDER BY created_at, id",
	[S_OUTBOX_INSERT] =
		"INSERT INTO outbox (idempotency_key, event, task_id, batch_id, action_id, params, "
		"add_handle, status, attempts, max_attempts, next_attempt_at, last_attempt_at, "
		"created_at, updated_at, last_http_status, last_error) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		"ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
	/* A NULL task_id (batch_complete) is never skipped: NULL NOT IN (...)
	 * would be NULL. */
	[S_OUTBOX_DUE] =
		"SELECT id FROM outbox INDEXED BY outbox_due WHERE " UNDELIVERED " AND next_attempt_at <= ?1 "
		"AND (task_id IS NULL OR task_id NOT IN (SELECT value FROM json_each(?2))) "
		"ORDER BY next_attempt_at, id LIMIT ?3",
	[S_OUTBOX_LEASE] =
		"UPDATE outbox SET status = 'delivering', next_attempt_at = ?2, attempts = attempts + 1, "
		"last_attempt_at = ?3, updated_at = ?3 WHERE id " IN_IDS " RETURNING " OUTBOX_COLS,
	[S_OUTBOX_FINISH] =
		"UPDATE outbox SET "
		"status = CASE WHEN ?2 THEN 'success' WHEN ?6 = 0 THEN 'exhausted' ELSE 'retrying' END, "
		"next_attempt_at = CASE WHEN ?2 OR ?6 = 0 THEN next_attempt_at ELSE ?6 END, "
		"last_http_status = ?3, last_error = ?4, updated_at = ?5 WHERE id = ?1",
	[S_OUTBOX_NEXT_DUE] =
		"SELECT next_attempt_at FROM outbox INDEXED BY outbox_due WHERE " UNDELIVERED " "
		"ORDER BY next_attempt_at LIMIT 1",
	[S_OUTBOX_RECOVER] =
		"UPDATE outbox SET next_attempt_at = ?1, updated_at = ?1 "
		"WHERE status = 'delivering' AND next_attempt_at > ?1",
	/* Oldest first along task_created: a task ends after it is created, so
	 * the walk stops at the cutoff (see 0002_delivery.sql). */
	[S_ARCHIVE_PICK] = "SELECT id FROM task INDEXED BY task_created "
	                   "WHERE created_at <= ?1 AND ended_at <= ?1 AND +status IN " TERMINAL_IN " "
	                   "ORDER BY created_at LIMIT ?2",
	/* OR REPLACE: an id archived before (restored by hand, say) must not
	 * stop retention for good. */
	[S_ARCHIVE_COPY] =
		"INSERT OR REPLACE INTO task_archive (" TASK_COLS ", executor, archived_at) "
		"SELECT " TASK_COLS ", executor, ?2 FROM task WHERE id " IN_IDS,
	[S_ARCHIVE_ACTIONS] = "DELETE FROM action WHERE task_id " IN_IDS,
	[S_ARCHIVE_LINKS_OUT] = "DELETE FROM link WHERE parent_id " IN_IDS,
	[S_ARCHIVE_LINKS_IN] = "DELETE FROM link WHERE child_id " IN_IDS,
	[S_ARCHIVE_LEDGER] = "DELETE FROM webhook_execution WHERE task_id " IN_IDS,
	[S_ARCHIVE_OUTBOX] = "DELETE FROM outbox WHERE task_id " IN_IDS " "
	                     "AND +status IN ('success', 'exhausted')",
	[S_ARCHIVE_TASKS] = "DELETE FROM task WHERE id " IN_IDS,
	[S_TASK_HEAD] = "SELECT created_at, status FROM task WHERE id = ?1 "
	                "UNION ALL SELECT created_at, status FROM task_archive WHERE id = ?1 LIMIT 1",
	[S_EVENTS] = "SELECT at, from_status, to_status, reason, actor FROM task_event "
	             "WHERE task_id = ?1 ORDER BY id",
	[S_OUTBOX_LIST] = "SELECT " OUTBOX_COLS " FROM outbox ORDER BY id DESC LIMIT ?1 OFFSET ?2",
	/* One slot per delivery status; unused ones are bound NULL. */
	[S_OUTBOX_LIST_STATUS] = "SELECT " OUTBOX_COLS " FROM outbox WHERE status IN (?3, ?4, ?5, ?6, ?7) "
	                         "ORDER BY id DESC LIMIT ?1 OFFSET ?2",
	[S_STATUS_COUNTS] = "SELECT status, count(*) FROM task GROUP BY status",
	[S_RUNNING_BY_KIND] = "SELECT kind, count(*) FROM task WHERE status = 'running' "
	                      "GROUP BY kind ORDER BY kind",
	[S_DAG_TASKS] = "SELECT " TASK_COLS " FROM task WHERE batch_id = ? ORDER BY created_at, id",
	[S_DAG_LINKS] = "SELECT l.parent_id, l.child_id, l.requires_success FROM task AS p "
	                "JOIN link AS l ON l.parent_id = p.id JOIN task AS c ON c.id = l.child_id "
	                "WHERE p.batch_id = ?1 AND c.batch_id = ?1",
};

/* Statement names for db_query_duration_seconds / slow_queries_total, as
 * ready-made label strings. */
#define QL(name) "query=\"" name "\""

static const char *const stmt_label[S__COUNT] = {
	[S_PING] = QL("ping"),
	[S_BEGIN] = QL("begin"),
	[S_BEGIN_READ] = QL("begin_read"),
	[S_COMMIT] = QL("commit"),
	[S_ROLLBACK] = QL("rollback"),
	[S_SAVEPOINT] = QL("savepoint"),
	[S_RELEASE] = QL("savepoint_release"),
	[S_ROLLBACK_TO] = QL("savepoint_rollback"),
	[S_BATCH_INSERT] = QL("batch_insert"),
	[S_TASK_INSERT] = QL("task_insert"),
	[S_LINK_INSERT] = QL("link_insert"),
	[S_ACTION_INSERT] = QL("action_insert"),
	[S_TASK_GET] = QL("task_get"),
	[S_ARCHIVE_GET] = QL("archive_get"),
	[S_TASK_STATUS] = QL("task_status"),
	[S_ACTIONS] = QL("task_actions"),
	[S_ACTIONS_FOR] = QL("task_actions_for"),
	[S_EVENT_INSERT] = QL("event_insert"),
	[S_FAIL_CHILDREN_EVENTS] = QL("fail_children_events"),
	[S_FAIL_CHILDREN] = QL("fail_children"),
	[S_RELEASE_CHILDREN] = QL("release_children"),
	[S_RELEASE_EVENTS] = QL("release_children_events"),
	[S_DEAD_END] = QL("dead_end_parents"),
	[S_PENDING_FIRST] = QL("pending_scan"),
	[S_PENDING_AFTER] = QL("pending_scan_after"),
	[S_PENDING_NEXT_START] = QL("pending_next_start"),
	[S_COUNT_MATCHING] = QL("count_matching"),
	[S_CAPACITY] = QL("capacity_sum"),
	[S_LEDGER_CLAIM] = QL("ledger_claim"),
	[S_LEDGER_STATUS] = QL("ledger_status"),
	[S_LEDGER_FINISH] = QL("ledger_finish"),
	[S_BATCH_COUNT] = QL("batch_task_count"),
	[S_BATCH_REMAINING] = QL("batch_remaining"),
	[S_BATCH_COMPLETE] = QL("batch_complete"),
	[S_BATCH_OUTCOME] = QL("batch_outcome"),
	[S_BATCH_BY_STATUS] = QL("batch_by_status"),
	[S_BATCH_RUNNING] = QL("batch_running"),
	[S_BATCH_CANCEL_EVENTS] = QL("batch_cancel_events"),
	[S_BATCH_CANCEL] = QL("batch_cancel"),
	[S_BATCH_RULES] = QL("batch_rules"),
	[S_GROUP_TASKS] = QL("group_tasks"),
	[S_OUTBOX_INSERT] = QL("outbox_insert"),
	[S_OUTBOX_DUE] = QL("outbox_due"),
	[S_OUTBOX_LEASE] = QL("outbox_lease"),
	[S_OUTBOX_FINISH] = QL("outbox_finish"),
	[S_OUTBOX_NEXT_DUE] = QL("outbox_next_due"),
	[S_OUTBOX_RECOVER] = QL("outbox_recover"),
	[S_ARCHIVE_PICK] = QL("archive_pick"),
	[S_ARCHIVE_COPY] = QL("archive_copy"),
	[S_ARCHIVE_ACTIONS] = QL("archive_actions"),
	[S_ARCHIVE_LINKS_OUT] = QL("archive_links_out"),
	[S_ARCHIVE_LINKS_IN] = QL("archive_links_in"),
	[S_ARCHIVE_LEDGER] = QL("archive_ledger"),
	[S_ARCHIVE_OUTBOX] = QL("archive_outbox"),
	[S_ARCHIVE_TASKS] = QL("archive_tasks"),
	[S_TASK_HEAD] = QL("task_head"),
	[S_EVENTS] = QL("task_events"),
	[S_OUTBOX_LIST] = QL("outbox_list"),
	[S_OUTBOX_LIST_STATUS] = QL("outbox_list_status"),
	[S_STATUS_COUNTS] = QL("status_counts"),
	[S_RUNNING_BY_KIND] = QL("running_by_kind"),
	[S_DAG_TASKS] = QL("dag_tasks"),
	[S_DAG_LINKS] = QL("dag_links"),
};

/* ---- connections and the store -------------------------------------- */

/* Statements whose SQL depends on which optional parts are present. The
 * key is (kind << 32 | shape bits); the SQL is built only on a miss. */
enum { DYN_TASK_UPDATE = 1, DYN_TASK_LIST, DYN_BATCH_PAGE, DYN_BATCH_AGG, DYN_DEADLINES, DYN__END };

static const char *const dyn_label[DYN__END] = {
	[DYN_TASK_UPDATE] = QL("task_update"),
	[DYN_TASK_LIST] = QL("task_list"),
	[DYN_BATCH_PAGE] = QL("batch_page"),
	[DYN_BATCH_AGG] = QL("batch_aggregate"),
	[DYN_DEADLINES] = QL("deadlines"),
};

typedef struct dyn_stmt {
	uint64_t key;
	uint64_t used;          /* LRU clock value of the last use */
	sqlite3_stmt *st;
} dyn_stmt;

typedef struct sq_conn {
	store_conn base;        /* first: the public handle */
	sqlite3 *db;
	bool readonly;
	sqlite3_stmt *st[S__COUNT];
	dyn_stmt dyn[DYN_SLOTS];
	uint64_t dyn_clock;
	/* The statement execution being timed (statements of a connection run
	 * one after the other): its label, NULL when none, and its start. */
	const char *q_label;
	int64_t q_start_ns;
	int64_t slow_ns;        /* slow_queries_total threshold */
} sq_conn;

/* The checkpoint thread and its connection. */
typedef struct checkpointer {
	sqlite3 *db;
	pthread_t thread;
	bool started;
	bool due;               /* the WAL passed the threshold since the last run */
	bool stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} checkpointer;

typedef struct sq_store {
	store base;             /* first: the public handle */
	char *path;
	sq_conn *writer;
	checkpointer ckpt;
	sq_conn **readers;      /* all reader connections */
	int nreaders;
	sq_conn **idle;         /* stack of free readers */
	int nidle;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} sq_store;

static const store_ops sqlite_ops;

static sq_conn *sqc(store_conn *c) { return (sq_conn *)c; }
static sq_store *sqs(store *s) { return (sq_store *)s; }

/* Errors that mean the database itself cannot be used (disk, file, lock). */
static bool rc_unavailable(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_FULL:
	case SQLITE_BUSY:
	case SQLITE_PERM:
		return true;
	default:
		return false;
	}
}

/* Logs a failed call with SQLite's message and maps rc to a store code. */
static int sq_fail(sq_conn *c, int rc, const char *what)
{
	log_error(SUBSYS, "sqlite %s: %s (code %d)", what, sqlite3_errmsg(c->db), rc);
	return rc_unavailable(rc) ? WEFT_EUNAVAILABLE : WEFT_ESTORE;
}

/* ---- query metrics ---------------------------------------------------
 * An execution is timed from the moment its statement is fetched from the
 * cache (stmt_get, dyn_get) until it is reset (st_reset, which every path
 * ends with). The raw monotonic clock is read, not clock.h's: a test moving
 * the clock forward must not turn a statement into a slow one. One
 * observation costs about 50 ns uncontended, a clock read 25 ns. */

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void q_start(sq_conn *c, const char *label)
{
	c->q_label = label;
	c->q_start_ns = mono_ns();
}

static void q_stop(sq_conn *c)
{
	if (c->q_label == NULL)
		return;
	int64_t ns = mono_ns() - c->q_start_ns;
	metrics_observe("db_query_duration_seconds", c->q_label, (double)ns / 1e9);
	if (ns > c->slow_ns)
		metrics_inc("slow_queries_total", c->q_label, 1);
	c->q_label = NULL;
}

/* Ends an execution: every statement is reset through here. */
static void st_reset(sq_conn *c, sqlite3_stmt *st)
{
	sqlite3_reset(st);
	q_stop(c);
}

static int stmt_get(sq_conn *c, stmt_id id, sqlite3_stmt **out)
{
	*out = NULL;
	q_start(c, stmt_label[id]);
	if (c->st[id] == NULL) {
		int rc = sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
		                            &c->st[id], NULL);
		if (rc != SQLITE_OK) {
			c->st[id] = NULL;
			c->q_label = NULL;
			return sq_fail(c, rc, "prepare");
		}
	}
	*out = c->st[id];
	return 0;
}

/* The cached statement for key, built by build(sql, shape) on a miss. The
 * least recently used slot is evicted when all are taken; the statement
 * handed out last is never the victim. */
static int dyn_get(sq_conn *c, uint64_t key, void (*build)(buf *sql, unsigned shape),
                   sqlite3_stmt **out)
{
	dyn_stmt *victim = &c->dyn[0];
	*out = NULL;
	unsigned kind = (unsigned)(key >> 32);
	q_start(c, kind < DYN__END ? dyn_label[kind] : QL("other"));
	c->dyn_clock++;
	for (size_t i = 0; i < DYN_SLOTS; i++) {
		dyn_stmt *d = &c->dyn[i];
		if (d->st != NULL && d->key == key) {
			d->used = c->dyn_clock;
			*out = d->st;
			return 0;
		}
		if (d->st == NULL || (victim->st != NULL && d->used < victim->used))
			victim = d;
	}
	buf sql;
	buf_init(&sql);
	build(&sql, (unsigned)(key & 0xffffffffu));
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(c->db, sql.data, (int)sql.len, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		int err = sq_fail(c, rc, "prepare");
		c->q_label = NULL;
		log_error(SUBSYS, "statement was: %s", sql.data);
		buf_release(&sql);
		return err;
	}
	buf_release(&sql);
	sqlite3_finalize(victim->st);
	victim->st = st;
	victim->key = key;
	victim->used = c->dyn_clock;
	*out = st;
	return 0;
}

static uint64_t dyn_key(unsigned kind, unsigned shape) { return (uint64_t)kind << 32 | shape; }

/* ---- binding: parameters are bound in order, the first error kept ---- */

typedef struct binder {
	sqlite3_stmt *st;
	int idx;
	int rc;
} binder;

static binder bind_start(sqlite3_stmt *st) { return (binder){ .st = st, .idx = 0, .rc = SQLITE_OK }; }

static void bind_keep(binder *b, int rc)
{
	if (b->rc == SQLITE_OK)
		b->rc = rc;
}

static void b_int(binder *b, int64_t v) { bind_keep(b, sqlite3_bind_int64(b->st, ++b->idx, v)); }
static void b_null(binder *b) { bind_keep(b, sqlite3_bind_null(b->st, ++b->idx)); }
/* 0 is stored as NULL (no value, e.g. no HTTP answer). */
static void b_int_or_null(binder *b, int64_t v)
{
	if (v == 0)
		b_null(b);
	else
		b_int(b, v);
}

/* 0 is stored as NULL (an unset timestamp). */
static void b_ts(binder *b, int64_t us)
{
	if (us == 0)
		b_null(b);
	else
		b_int(b, us);
}

/* NULL is stored as NULL. The text is borrowed until the statement is reset. */
static void b_text(binder *b, const char *s)
{
	if (s == NULL)
		b_null(b);
	else
		bind_keep(b, sqlite3_bind_text(b->st, ++b->idx, s, -1, SQLITE_STATIC));
}

/* An unset id is stored as NULL. */
static void b_id(binder *b, const weft_id *id)
{
	if (id == NULL || !id_is_set(id))
		b_null(b);
	else
		bind_keep(b, sqlite3_bind_text(b->st, ++b->idx, id->str,
		                               (int)strnlen(id->str, WEFT_ID_LEN), SQLITE_STATIC));
}

static int bind_done(sq_conn *c, binder *b)
{
	if (b->rc == SQLITE_OK)
		return 0;
	int err = sq_fail(c, b->rc, "bind");
	st_reset(c, b->st);
	return err;
}

/* ---- stepping -------------------------------------------------------- */

/* Ends a statement after its last step: resets it and maps rc. */
static int step_end(sq_conn *c, sqlite3_stmt *st, int rc, const char *what)
{
	int err = 0;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW && rc != SQLITE_OK)
		err = sq_fail(c, rc, what);
	st_reset(c, st);
	return err;
}

/* Runs a statement that returns no rows the caller needs. */
static int run(sq_conn *c, sqlite3_stmt *st, const char *what)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	return step_end(c, st, rc, what);
}

static int run_fixed(sq_conn *c, stmt_id id, const char *what)
{
	sqlite3_stmt *st;
	int err = stmt_get(c, id, &st);
	return err ? err : run(c, st, what);
}

/* Runs a statement returning one integer (count(*), sum()). */
static int run_int(sq_conn *c, sqlite3_stmt *st, int64_t *out, const char *what)
{
	int rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	return step_end(c, st, rc, what);
}

/* ---- reading rows ---------------------------------------------------- */

static char *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s == NULL ? NULL : xstrndup((const char *)s, (size_t)sqlite3_column_bytes(st, i));
}

/* For NOT NULL columns: never NULL. */
static char *col_str_nn(sqlite3_stmt *st, int i, const char *dflt)
{
	char *s = col_str(st, i);
	return s != NULL ? s : xstrdup(dflt);
}

static void col_id(sqlite3_stmt *st, int i, weft_id *out)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	size_t n = s == NULL ? 0 : MIN((size_t)sqlite3_column_bytes(st, i), (size_t)WEFT_ID_LEN);
	if (n > 0)
		memcpy(out->str, s, n);
	out->str[n] = '\0';
}

static int col_status(sqlite3_stmt *st, int i, task_status *out)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	if (task_status_parse(s, out) != 0) {
		log_error(SUBSYS, "unknown task status \"%s\" in the database", s ? s : "(null)");
		return -1;
	}
	return 0;
}

/* One row of TASK_COLS. */
static int read_task(sqlite3_stmt *st, task_row *t)
{
	memset(t, 0, sizeof *t);
	col_id(st, 0, &t->id);
	col_id(st, 1, &t->batch_id);
	if (col_status(st, 4, &t->status) != 0)
		return WEFT_ESTORE;
	t->name = col_str_nn(st, 2, "");
	t->kind = col_str_nn(st, 3, "");
	t->timeout_secs = sqlite3_column_int(st, 5);
	t->created_at = sqlite3_column_int64(st, 6);     /* NULL reads as 0 */
	t->started_at = sqlite3_column_int64(st, 7);
	t->ended_at = sqlite3_column_int64(st, 8);
	t->last_updated = sqlite3_column_int64(st, 9);
	t->metadata = col_str_nn(st, 10, "null");
	t->rules = col_str_nn(st, 11, "[]");
	t->wait_success = sqlite3_column_int64(st, 12);
	t->wait_finished = sqlite3_column_int64(st, 13);
	t->success = sqlite3_column_int64(st, 14);
	t->failures = sqlite3_column_int64(st, 15);
	t->failure_reason = col_str(st, 16);
	t->has_expected_count = sqlite3_column_type(st, 17) != SQLITE_NULL;
	t->expected_count = sqlite3_column_int64(st, 17);
	t->dead_end_barrier = sqlite3_column_int(st, 18) != 0;
	t->priority = sqlite3_column_int(st, 19);
	t->attempt = sqlite3_column_int(st, 20);
	t->group_name = col_str(st, 21);
	t->start_after = sqlite3_column_int64(st, 22);
	t->retry_policy = col_str(st, 23);
	t->next_retry_at = sqlite3_column_int64(st, 24);
	return 0;
}

/* One row of OUTBOX_COLS. */
static int read_outbox(sqlite3_stmt *st, outbox_row *o)
{
	memset(o, 0, sizeof *o);
	o->id = sqlite3_column_int64(st, 0);
	const unsigned char *key = sqlite3_column_text(st, 1);
	size_t klen = key == NULL ? 0 : MIN((size_t)sqlite3_column_bytes(st, 1), sizeof o->key - 1);
	if (klen > 0)
		memcpy(o->key, key, klen);
	o->key[klen] = '\0';
	const char *event = (const char *)sqlite3_column_text(st, 2);
	const char *status = (const char *)sqlite3_column_text(st, 8);
	if (delivery_event_parse(event, &o->event) != 0 ||
	    delivery_status_parse(status, &o->status) != 0) {
		log_error(SUBSYS, "unknown outbox event \"%s\" or status \"%s\" in the database",
		          event ? event : "(null)", status ? status : "(null)");
		return WEFT_ESTORE;
	}
	col_id(st, 3, &o->task_id);
	col_id(st, 4, &o->batch_id);
	o->action_id = sqlite3_column_int64(st, 5);
	o->params = col_str_nn(st, 6, "{}");
	o->add_handle = sqlite3_column_int(st, 7) != 0;
	o->attempts = sqlite3_column_int(st, 9);
	o->max_attempts = sqlite3_column_int(st, 10);
	o->next_attempt_at = sqlite3_column_int64(st, 11);
	o->last_attempt_at = sqlite3_column_int64(st, 12);
	o->created_at = sqlite3_column_int64(st, 13);
	o->updated_at = sqlite3_column_int64(st, 14);
	o->last_http_status = sqlite3_column_int(st, 15);
	o->last_error = col_str(st, 16);
	return 0;
}

/* Makes room for one more element of size elem in *arr (count n, capacity *cap). */
static void grow(void **arr, size_t n, size_t *cap, size_t elem)
{
	if (n < *cap)
		return;
	*cap = *cap ? *cap * 2 : 16;
	*arr = xrealloc(*arr, *cap * elem);
}

/* How to collect one row type: its element size, how to fill an element
 * (zeroed first) from the current row, and how to free one (NULL: nothing
 * to free). An element whose read failed is released with the others. */
typedef struct row_kind {
	size_t size;
	int (*read)(sqlite3_stmt *st, void *row);
	void (*release)(void *row);
} row_kind;

/* Steps st to the end, collecting every row into a new array. On error
 * nothing is returned and the statement is reset. */
static int collect_rows(sq_conn *c, sqlite3_stmt *st, const row_kind *k, void **out, size_t *n,
                        const char *what)
{
	char *rows = NULL;
	size_t len = 0, cap = 0;
	int rc, err = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		grow((void **)&rows, len, &cap, k->size);
		void *row = rows + len * k->size;
		memset(row, 0, k->size);
		len++;
		if ((err = k->read(st, row)) != 0)
			break;
	}
	if (err)
		st_reset(c, st);
	else
		err = step_end(c, st, rc, what);
	if (err) {
		for (size_t i = 0; k->release && i < len; i++)
			k->release(rows + i * k->size);
		free(rows);
		rows = NULL;
		len = 0;
	}
	*out = rows;
	*n = len;
	return err;
}

static int read_id_row(sqlite3_stmt *st, void *row)
{
	col_id(st, 0, row);
	return 0;
}

static int read_task_row(sqlite3_stmt *st, void *row) { return read_task(st, row); }
static void release_task_row(void *row) { task_row_release(row); }

/* Steps st to the end, collecting column 0 as ids. */
static int collect_ids(sq_conn *c, sqlite3_stmt *st, weft_id **out, size_t *n, const char *what)
{
	static const row_kind ids = { sizeof(weft_id), read_id_row, NULL };
	void *rows;
	int err = collect_rows(c, st, &ids, &rows, n, what);
	*out = rows;
	return err;
}

/* Steps st to the end, collecting TASK_COLS rows. */
static int collect_tasks(sq_conn *c, sqlite3_stmt *st, task_row **out, size_t *n, const char *what)
{
	static const row_kind tasks = { sizeof(task_row), read_task_row, release_task_row };
	void *rows;
	int err = collect_rows(c, st, &tasks, &rows, n, what);
	*out = rows;
	return err;
}

/* The delivery record of an action row of S_ACTIONS (columns 4..13): the
 * start ledger (4..8) for start actions, the outbox (9..13) for the rest. */
static int read_delivery(sqlite3_stmt *st, action_row *a)
{
	if (a->trigger == TRIGGER_START) {
		const char *s = (const char *)sqlite3_column_text(st, 4);
		if (s == NULL)
			return 0;
		if (strcmp(s, "success") == 0)
			a->delivery = DS_SUCCESS;
		else if (strcmp(s, "failure") == 0)
			a->delivery = DS_RETRYING;
		else
			a->delivery = DS_DELIVERING;
		a->has_delivery = true;
		a->attempts = sqlite3_column_int(st, 5);
		a->last_attempt_at = sqlite3_column_int64(st, 6);
		a->last_http_status = sqlite3_column_int(st, 7);
		a->last_error = col_str(st, 8);
		return 0;
	}
	const char *s = (const char *)sqlite3_column_text(st, 9);
	if (s == NULL)
		return 0;
	if (delivery_status_parse(s, &a->delivery) != 0) {
		log_error(SUBSYS, "unknown outbox status \"%s\" in the database", s);
		return WEFT_ESTORE;
	}
	a->has_delivery = true;
	a->attempts = sqlite3_column_int(st, 10);
	a->last_http_status = sqlite3_column_int(st, 11);
	a->last_error = col_str(st, 12);
	a->last_attempt_at = sqlite3_column_int64(st, 13);
	return 0;
}

/* A row of (id, trigger, condition, params), with the delivery record
 * when the statement has its columns. */
static int read_action_row(sqlite3_stmt *st, void *row)
{
	action_row *a = row;
	if (action_trigger_parse((const char *)sqlite3_column_text(st, 1), &a->trigger) != 0 ||
	    action_condition_parse((const char *)sqlite3_column_text(st, 2), &a->condition) != 0) {
		log_error(SUBSYS, "unknown action trigger or condition in the database");
		return WEFT_ESTORE;
	}
	a->id = sqlite3_column_int64(st, 0);
	a->params = col_str_nn(st, 3, "{}");
	return sqlite3_column_count(st) > 4 ? read_delivery(st, a) : 0;
}

static void release_action_row(void *row) { action_row_release(row); }

static int collect_actions(sq_conn *c, sqlite3_stmt *st, action_row **out, size_t *n)
{
	static const row_kind actions = { sizeof(action_row), read_action_row, release_action_row };
	void *rows;
	int err = collect_rows(c, st, &actions, &rows, n, "read actions");
	*out = rows;
	return err;
}

static int read_outbox_row(sqlite3_stmt *st, void *row) { return read_outbox(st, row); }
static void release_outbox_row(void *row) { outbox_row_release(row); }

/* Steps st to the end, collecting OUTBOX_COLS rows. */
static int collect_outbox(sq_conn *c, sqlite3_stmt *st, outbox_row **out, size_t *n, const char *what)
{
	static const row_kind outbox = { sizeof(outbox_row), read_outbox_row, release_outbox_row };
	void *rows;
	int err = collect_rows(c, st, &outbox, &rows, n, what);
	*out = rows;
	return err;
}

/* A JSON array of the ids, for json_each(). */
static char *ids_json(const weft_id *ids, size_t n)
{
	buf b;
	buf_init(&b);
	buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		buf_putc(&b, '"');
		buf_append(&b, ids[i].str, strnlen(ids[i].str, WEFT_ID_LEN));
		buf_putc(&b, '"');
	}
	buf_putc(&b, ']');
	return buf_detach(&b, NULL);
}

/* ---- weft_json_contains(container, pattern) -------------------------- */

static void pattern_free(void *p) { json_decref((json_t *)p); }

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static bool text_contains(const char *text, const json_t *pattern)
{
	if (json_is_object(pattern)) {
		/* Only an object contains an object; "{}" is contained by any
		 * object, which needs no parse. */
		if (*skip_space(text) != '{')
			return false;
		if (json_object_size(pattern) == 0)
			return true;
	}
	json_t *container = json_parse_text(text);
	if (container == NULL)
		return false;
	bool r = json_contains(container, pattern);
	json_decref(container);
	return r;
}

/* jsonb-style containment (container @> pattern). The parsed pattern is
 * kept as auxiliary data of argument 1, so a bound pattern is parsed once
 * per statement execution rather than once per row. */
static void fn_json_contains(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	UNUSED(argc);
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	const char *text = (const char *)sqlite3_value_text(argv[0]);
	json_t *pattern = sqlite3_get_auxdata(ctx, 1);
	bool parsed_here = false;
	if (pattern == NULL) {
		pattern = json_parse_text((const char *)sqlite3_value_text(argv[1]));
		if (pattern == NULL) {
			sqlite3_result_error(ctx, "weft_json_contains: the pattern is not valid JSON", -1);
			return;
		}
		parsed_here = true;
	}
	sqlite3_result_int(ctx, text != NULL && text_contains(text, pattern));
	/* Last: SQLite may free the pattern inside sqlite3_set_auxdata. */
	if (parsed_here)
		sqlite3_set_auxdata(ctx, 1, pattern, pattern_free);
}

/* ---- opening --------------------------------------------------------- */

static void conn_free(sq_conn *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < S__COUNT; i++)
		sqlite3_finalize(c->st[i]);
	for (size_t i = 0; i < DYN_SLOTS; i++)
		sqlite3_finalize(c->dyn[i].st);
	sqlite3_close(c->db);
	free(c);
}

/* Runs one pragma (or any statement) on a connection being opened. */
static int open_exec(sqlite3 *db, const char *path, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "database \"%s\": %s", path, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

static int set_wal(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "database \"%s\": %s", path, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	const char *mode = (const char *)sqlite3_column_text(st, 0);
	bool wal = mode != NULL && strcasecmp(mode, "wal") == 0;
	if (!wal)
		snprintf(err, errlen, "database \"%s\": cannot use WAL mode (journal mode stays %s)",
		         path, mode ? mode : "unknown");
	sqlite3_finalize(st);
	return wal ? 0 : -1;
}

static sq_conn *conn_open(const char *path, bool readonly, bool sync_full, char *err, size_t errlen)
{
	sq_conn *c = xcalloc(1, sizeof *c);
	c->base.ops = &sqlite_ops;
	c->readonly = readonly;
	int flags = SQLITE_OPEN_NOMUTEX |
	            (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database \"%s\": %s", path,
		         c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);

	/* The writer keeps temp_store at its default (file): the engine runs
	 * every command in a savepoint, and SQLite's statement journal then
	 * lives in a temporary file once past 64 KiB. Held in memory it is a
	 * chunk list that each statement's truncate walks from the start,
	 * which made a 100,000-task failure cascade quadratic (minutes). */
	char pragmas[256];
	if (readonly) {
		snprintf(pragmas, sizeof pragmas, "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-%d;",
		         READER_CACHE_KIB);
		/* Reading the schema here makes "not a database" fail at open. */
		if (open_exec(c->db, path, pragmas, err, errlen) != 0 ||
		    open_exec(c->db, path, "SELECT count(*) FROM sqlite_schema", err, errlen) != 0)
			goto fail;
	} else {
		snprintf(pragmas, sizeof pragmas,
		         "PRAGMA synchronous=%s; PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=%d; "
		         "PRAGMA cache_size=-%d;",
		         sync_full ? "FULL" : "NORMAL", JOURNAL_SIZE_LIMIT, WRITER_CACHE_KIB);
		if (set_wal(c->db, path, err, errlen) != 0 ||
		    open_exec(c->db, path, pragmas, err, errlen) != 0)
			goto fail;
	}
	rc = sqlite3_create_function_v2(c->db, "weft_json_contains", 2,
	                                SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	                                fn_json_contains, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "database \"%s\": cannot register weft_json_contains: %s", path,
		         sqlite3_errmsg(c->db));
		goto fail;
	}
	return c;
fail:
	conn_free(c);
	return NULL;
}

/* Applies every embedded migration not yet recorded, each in its own
 * transaction; the check runs inside it, so concurrent openers agree. */
static int migrate(sq_conn *w, const char *path, char *err, size_t errlen)
{
	if (open_exec(w->db, path,
	              "CREATE TABLE IF NOT EXISTS schema_migrations "
	              "(version INTEGER PRIMARY KEY, applied_at INTEGER)",
	              err, errlen) != 0)
		return -1;

	int newest = migrations[ARRAY_LEN(migrations) - 1].version;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(w->db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
	                            -1, &st, NULL);
	int64_t current = 0;
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		current = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "database \"%s\": %s", path, sqlite3_errmsg(w->db));
		return -1;
	}
	if (current > newest) {
		snprintf(err, errlen,
		         "database \"%s\" has schema version %" PRId64 ", newer than this weft knows (%d)",
		         path, current, newest);
		return -1;
	}

	for (size_t i = 0; i < ARRAY_LEN(migrations); i++) {
		const migration *m = &migrations[i];
		char sql[160];
		if (open_exec(w->db, path, "BEGIN IMMEDIATE", err, errlen) != 0)
			return -1;
		snprintf(sql, sizeof sql, "SELECT 1 FROM schema_migrations WHERE version = %d", m->version);
		st = NULL;
		rc = sqlite3_prepare_v2(w->db, sql, -1, &st, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc == SQLITE_ROW) {
			sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
			continue;
		}
		snprintf(sql, sizeof sql,
		         "INSERT INTO schema_migrations (version, applied_at) VALUES (%d, %" PRId64 ")",
		         m->version, clock_now_us());
		if (rc != SQLITE_DONE || open_exec(w->db, path, m->sql, err, errlen) != 0 ||
		    open_exec(w->db, path, sql, err, errlen) != 0 ||
		    open_exec(w->db, path, "COMMIT", err, errlen) != 0) {
			if (rc != SQLITE_DONE)
				snprintf(err, errlen, "database \"%s\": %s", path, sqlite3_errmsg(w->db));
			size_t len = strlen(err);
			snprintf(err + len, errlen - len, " (in schema migration %04d)", m->version);
			sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		log_info(SUBSYS, "applied schema migration %04d", m->version);
	}
	return 0;
}

/* ---- checkpoints ----------------------------------------------------- */

static void *checkpoint_main(void *arg)
{
	checkpointer *k = arg;
	pthread_mutex_lock(&k->mu);
	for (;;) {
		while (!k->due && !k->stop)
			pthread_cond_wait(&k->cv, &k->mu);
		if (k->stop)
			break;
		k->due = false;
		pthread_mutex_unlock(&k->mu);
		/* PASSIVE never blocks the writer or the readers; what a reader
		 * still needs is copied on a later run. */
		int log_pages = 0, done_pages = 0;
		int rc = sqlite3_wal_checkpoint_v2(k->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_pages,
		                                   &done_pages);
		if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
			log_warn(SUBSYS, "checkpoint: %s (code %d)", sqlite3_errmsg(k->db), rc);
		else
			log_debug(SUBSYS, "checkpoint: %d of %d WAL pages", done_pages, log_pages);
		pthread_mutex_lock(&k->mu);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

/* Runs on the writer after each commit, its locks released. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	UNUSED(db);
	UNUSED(name);
	checkpointer *k = arg;
	if (pages >= CHECKPOINT_PAGES) {
		pthread_mutex_lock(&k->mu);
		k->due = true;
		pthread_cond_signal(&k->cv);
		pthread_mutex_unlock(&k->mu);
	}
	return SQLITE_OK;
}

static int checkpointer_start(sq_store *s, bool sync_full, char *err, size_t errlen)
{
	checkpointer *k = &s->ckpt;
	int rc = sqlite3_open_v2(s->path, &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database \"%s\": %s", s->path,
		         k->db ? sqlite3_errmsg(k->db) : sqlite3_errstr(rc));
		return -1;
	}
	sqlite3_extended_result_codes(k->db, 1);
	sqlite3_busy_timeout(k->db, BUSY_TIMEOUT_MS);
	if (open_exec(k->db, s->path, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
	              err, errlen) != 0)
		return -1;
	if (pthread_create(&k->thread, NULL, checkpoint_main, k) != 0) {
		snprintf(err, errlen, "cannot start the checkpoint thread");
		return -1;
	}
	k->started = true;
	/* Replaces SQLite's auto-checkpoint, which would run inside COMMIT. */
	sqlite3_wal_hook(s->writer->db, on_wal_commit, k);
	return 0;
}

static void checkpointer_stop(sq_store *s)
{
	checkpointer *k = &s->ckpt;
	if (s->writer != NULL)
		sqlite3_wal_hook(s->writer->db, NULL, NULL);
	if (k->started) {
		pthread_mutex_lock(&k->mu);
		k->stop = true;
		pthread_cond_signal(&k->cv);
		pthread_mutex_unlock(&k->mu);
		pthread_join(k->thread, NULL);
		k->started = false;
	}
	sqlite3_close(k->db);
	k->db = NULL;
}

/* SQLite's memory statistics take a global mutex on every allocation;
 * weft never reads them. Only possible before SQLite initializes. */
static void sqlite_global_config(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void sq_close(store *base)
{
	sq_store *s = sqs(base);
	checkpointer_stop(s);
	for (int i = 0; i < s->nreaders; i++)
		conn_free(s->readers[i]);
	if (s->writer != NULL) {
		/* Refreshes planner statistics where they drifted; the analysis
		 * limit keeps it quick on a large database. */
		sqlite3_exec(s->writer->db, "PRAGMA analysis_limit=400; PRAGMA optimize", NULL, NULL, NULL);
		conn_free(s->writer);
	}
	pthread_cond_destroy(&s->ckpt.cv);
	pthread_mutex_destroy(&s->ckpt.mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->readers);
	free(s->idle);
	free(s->path);
	free(s);
}

store *store_sqlite_open(const char *path, const store_options *opt, char *err, size_t errlen)
{
	int nreaders = opt != NULL && opt->readers > 0 ? opt->readers : DEFAULT_READERS;
	bool sync_full = opt != NULL ? opt->sync_full : true;
	int64_t slow_us = opt != NULL && opt->slow_query_us > 0 ? opt->slow_query_us : DEFAULT_SLOW_QUERY_US;

	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_global_config);
	if (sqlite3_threadsafe() == 0) {
		snprintf(err, errlen, "the SQLite library was built without thread support");
		return NULL;
	}
	sq_store *s = xcalloc(1, sizeof *s);
	s->base.ops = &sqlite_ops;
	s->path = xstrdup(path);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_init(&s->ckpt.mu, NULL);
	pthread_cond_init(&s->ckpt.cv, NULL);

	/* The writer first: it creates the file and the schema the readers need. */
	s->writer = conn_open(path, false, sync_full, err, errlen);
	if (s->writer == NULL || migrate(s->writer, path, err, errlen) != 0)
		goto fail;
	s->writer->slow_ns = slow_us * 1000;

	s->readers = xcalloc((size_t)nreaders, sizeof *s->readers);
	s->idle = xcalloc((size_t)nreaders, sizeof *s->idle);
	for (int i = 0; i < nreaders; i++) {
		sq_conn *r = conn_open(path, true, sync_full, err, errlen);
		if (r == NULL)
			goto fail;
		r->slow_ns = slow_us * 1000;
		s->readers[s->nreaders++] = r;
		s->idle[s->nidle++] = r;
	}
	if (checkpointer_start(s, sync_full, err, errlen) != 0)
		goto fail;
	return &s->base;
fail:
	sq_close(&s->base);
	return NULL;
}

static store_conn *sq_writer(store *base) { return &sqs(base)->writer->base; }

static store_conn *sq_reader_acquire(store *base)
{
	sq_store *s = sqs(base);
	pthread_mutex_lock(&s->mu);
	while (s->nidle == 0)
		pthread_cond_wait(&s->cv, &s->mu);
	sq_conn *c = s->idle[--s->nidle];
	pthread_mutex_unlock(&s->mu);
	return &c->base;
}

static void sq_reader_release(store *base, store_conn *cc)
{
	sq_store *s = sqs(base);
	sq_conn *c = sqc(cc);
	if (c == NULL)
		return;
	/* An open read transaction would pin its snapshot. */
	if (!sqlite3_get_autocommit(c->db)) {
		log_warn(SUBSYS, "reader released inside a transaction; rolling it back");
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	}
	pthread_mutex_lock(&s->mu);
	s->idle[s->nidle++] = c;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void sq_pool_stats(store *base, int *size, int *idle)
{
	sq_store *s = sqs(base);
	pthread_mutex_lock(&s->mu);
	if (size != NULL)
		*size = s->nreaders;
	if (idle != NULL)
		*idle = s->nidle;
	pthread_mutex_unlock(&s->mu);
}

static int sq_ping(store_conn *cc)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	int64_t one;
	int err = stmt_get(c, S_PING, &st);
	return err ? err : run_int(c, st, &one, "ping");
}

/* ---- transactions ---------------------------------------------------- */

/* BEGIN IMMEDIATE on the writer; a plain (snapshot) BEGIN on a reader. */
static int sq_begin(store_conn *cc)
{
	sq_conn *c = sqc(cc);
	return run_fixed(c, c->readonly ? S_BEGIN_READ : S_BEGIN, "begin");
}

static int sq_commit(store_conn *cc) { return run_fixed(sqc(cc), S_COMMIT, "commit"); }

static int sq_rollback(store_conn *cc)
{
	sq_conn *c = sqc(cc);
	if (sqlite3_get_autocommit(c->db))
		return 0;   /* nothing open (SQLite may have rolled back already) */
	return run_fixed(c, S_ROLLBACK, "rollback");
}

static int sq_savepoint(store_conn *cc) { return run_fixed(sqc(cc), S_SAVEPOINT, "savepoint"); }
static int sq_savepoint_release(store_conn *cc) { return run_fixed(sqc(cc), S_RELEASE, "release savepoint"); }

/* ROLLBACK TO keeps the savepoint open; RELEASE then pops it. */
static int sq_savepoint_rollback(store_conn *cc)
{
	sq_conn *c = sqc(cc);
	int err = run_fixed(c, S_ROLLBACK_TO, "rollback to savepoint");
	return err ? err : run_fixed(c, S_RELEASE, "release savepoint");
}

/* Read-only operations of several statements run in one snapshot: inside
 * the caller's transaction if there is one, else in their own. */
static int snapshot_begin(sq_conn *c, bool *own)
{
	*own = sqlite3_get_autocommit(c->db) != 0;
	return *own ? run_fixed(c, S_BEGIN_READ, "begin") : 0;
}

static int snapshot_end(sq_conn *c, bool own, int err)
{
	if (!own)
		return err;
	int e2 = run_fixed(c, err ? S_ROLLBACK : S_COMMIT, "end read transaction");
	return err ? err : e2;
}

/* ---- inserts --------------------------------------------------------- */

static int sq_batch_insert(store_conn *cc, const batch_row *r)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	int err = stmt_get(c, S_BATCH_INSERT, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, &r->id);
	b_int(&b, r->created_at);
	b_text(&b, r->scope);
	b_text(&b, r->metadata);
	b_text(&b, r->on_complete);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return run(c, st, "insert batch");
}

static int sq_task_insert(store_conn *cc, const task_row *t)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	int err = stmt_get(c, S_TASK_INSERT, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, &t->id);
	b_id(&b, &t->batch_id);
	b_text(&b, t->name ? t->name : "");
	b_text(&b, t->kind ? t->kind : "");
	b_text(&b, task_status_name(t->status));
	b_int(&b, t->timeout_secs);
	b_int(&b, t->created_at);
	b_ts(&b, t->started_at);
	b_ts(&b, t->ended_at);
	b_ts(&b, t->last_updated);
	b_text(&b, t->metadata ? t->metadata : "null");
	b_text(&b, t->rules ? t->rules : "[]");
	b_int(&b, t->wait_success);
	b_int(&b, t->wait_finished);
	b_int(&b, t->success);
	b_int(&b, t->failures);
	b_text(&b, t->failure_reason);
	if (t->has_expected_count)
		b_int(&b, t->expected_count);
	else
		b_null(&b);
	b_int(&b, t->dead_end_barrier);
	b_int(&b, t->priority);
	b_int(&b, t->attempt);
	b_text(&b, t->group_name);
	b_ts(&b, t->start_after);
	b_text(&b, t->retry_policy);
	b_ts(&b, t->next_retry_at);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return run(c, st, "insert task");
}

static int sq_link_insert(store_conn *cc, const link_row *l)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	int err = stmt_get(c, S_LINK_INSERT, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, &l->parent_id);
	b_id(&b, &l->child_id);
	b_int(&b, l->requires_success);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return run(c, st, "insert link");
}

static int sq_action_insert(store_conn *cc, const weft_id *task_id, const action_row *a)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	int err = stmt_get(c, S_ACTION_INSERT, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, task_id);
	b_text(&b, action_trigger_name(a->trigger));
	b_text(&b, action_condition_name(a->condition));
	b_text(&b, a->params ? a->params : "{}");
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return run(c, st, "insert action");
}

/* ---- single task ----------------------------------------------------- */

/* One task row by id from the live table (S_TASK_GET) or the archive
 * (S_ARCHIVE_GET). */
static int get_task_from(sq_conn *c, stmt_id which, const weft_id *id, task_row *out)
{
	sqlite3_stmt *st;
	memset(out, 0, sizeof *out);
	int err = stmt_get(c, which, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, id);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		err = read_task(st, out);
		if (err)
			task_row_release(out);
		st_reset(c, st);
		return err;
	}
	err = step_end(c, st, rc, "get task");
	return err ? err : WEFT_ENOTFOUND;
}

static int sq_task_get(store_conn *cc, const weft_id *id, task_row *out)
{
	sq_conn *c = sqc(cc);
	int err = get_task_from(c, S_TASK_GET, id, out);
	if (err != WEFT_ENOTFOUND)
		return err;
	err = get_task_from(c, S_ARCHIVE_GET, id, out);
	if (err == 0)
		out->archived = true;
	return err;
}

static int sq_task_actions(store_conn *cc, const weft_id *id, action_row **out, size_t *n)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	int err = stmt_get(c, S_ACTIONS, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, id);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return collect_actions(c, st, out, n);
}

static int sq_task_actions_for(store_conn *cc, const weft_id *id, action_trigger trig,
                               action_condition cond, action_row **out, size_t *n)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	int err = stmt_get(c, S_ACTIONS_FOR, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, id);
	b_text(&b, action_trigger_name(trig));
	b_text(&b, action_condition_name(cond));
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return collect_actions(c, st, out, n);
}

static void build_update(buf *sql, unsigned shape)
{
	buf_puts(sql, "UPDATE task SET ");
	const char *sep = "";
	for (unsigned f = 0; f < TU__COUNT; f++) {
		if (shape & (1u << f)) {
			const task_update_column *col = &task_update_columns[f];
			buf_printf(sql, col->add ? "%s%s = %s + ?" : "%s%s = ?", sep, col->name, col->name);
			sep = ", ";
		}
	}
	buf_puts(sql, " WHERE id = ? AND status = ?");
}

static void bind_update(binder *b, const task_update *u, unsigned shape)
{
	for (unsigned f = 0; f < TU__COUNT; f++) {
		if (!(shape & (1u << f)))
			continue;
		switch (f) {
		case TU_STATUS: b_text(b, task_status_name(u->status)); break;
		case TU_SUCCESS: b_int(b, u->add_success); break;
		case TU_FAILURES: b_int(b, u->add_failures); break;
		case TU_METADATA: b_text(b, u->metadata); break;
		case TU_REASON: b_text(b, u->failure_reason); break;
		case TU_RULES: b_text(b, u->rules); break;
		case TU_EXPECTED: b_int(b, u->expected_count); break;
		case TU_PRIORITY: b_int(b, u->priority); break;
		case TU_STARTED: b_int(b, u->started_at); break;
		case TU_ENDED: b_int(b, u->ended_at); break;
		case TU_UPDATED: b_int(b, u->last_updated); break;
		case TU_ATTEMPT: b_int(b, u->attempt); break;
		case TU_NEXT_RETRY: b_int(b, u->next_retry_at); break;
		default: break;
		}
	}
}

/* Appends one audit event. */
static int insert_event(sq_conn *c, const weft_id *task, int64_t at, const task_status *from,
                        task_status to, const char *reason, const char *actor)
{
	sqlite3_stmt *st;
	int err = stmt_get(c, S_EVENT_INSERT, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, task);
	b_int(&b, at);
	b_text(&b, from ? task_status_name(*from) : NULL);
	b_text(&b, task_status_name(to));
	b_text(&b, reason);
	b_text(&b, actor);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return run(c, st, "insert task event");
}

/* batch.remaining += delta; no-op for a task without a batch or a batch
 * without a row. */
static int batch_remaining_add(sq_conn *c, const weft_id *batch, int64_t delta)
{
	sqlite3_stmt *st;
	if (delta == 0 || batch == NULL || !id_is_set(batch))
		return 0;
	int err = stmt_get(c, S_BATCH_REMAINING, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, batch);
	b_int(&b, delta);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return run(c, st, "update batch remaining");
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

/* The status (and batch) is read first to tell NOT_FOUND from GUARD and to
 * report the previous status; the UPDATE is then guarded on exactly that
 * status, so it stays correct even outside a transaction. A status change
 * adds an audit event and moves the batch's remaining counter: down when
 * the task finishes, up should it ever leave a terminal status again. */
static int sq_task_update(store_conn *cc, const weft_id *id, unsigned from_mask,
                          const task_update *u, task_update_result *res)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	if (u->after != NULL)
		memset(u->after, 0, sizeof *u->after);
	int err = stmt_get(c, S_TASK_STATUS, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, id);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	int rc = sqlite3_step(st);
	task_status cur = TS_WAITING;
	weft_id batch = { 0 };
	bool found = rc == SQLITE_ROW;
	if (found) {
		if (col_status(st, 0, &cur) != 0) {
			st_reset(c, st);
			return WEFT_ESTORE;
		}
		col_id(st, 1, &batch);
	}
	if ((err = step_end(c, st, rc, "read task status")) != 0)
		return err;
	if (!found)
		return WEFT_ENOTFOUND;
	res->prev = cur;
	res->applied = false;
	if (!(from_mask & TS_BIT(cur)))
		return 0;

	unsigned shape = task_update_shape(u);
	if (shape != 0) {
		if ((err = dyn_get(c, dyn_key(DYN_TASK_UPDATE, shape), build_update, &st)) != 0)
			return err;
		b = bind_start(st);
		bind_update(&b, u, shape);
		b_id(&b, id);
		b_text(&b, task_status_name(cur));
		if ((err = bind_done(c, &b)) != 0 || (err = run(c, st, "update task")) != 0)
			return err;
		if (sqlite3_changes(c->db) != 1)
			return 0;
	}
	res->applied = true;

	if (u->set_status && u->status != cur) {
		const char *reason = u->reason ? u->reason : u->failure_reason;
		err = insert_event(c, id, update_time(u), &cur, u->status, reason,
		                   u->actor ? u->actor : "api");
		if (err)
			return err;
		bool was_done = task_status_terminal(cur), done = task_status_terminal(u->status);
		if (was_done != done && (err = batch_remaining_add(c, &batch, done ? -1 : 1)) != 0)
			return err;
	}
	if (u->after != NULL) {
		err = get_task_from(c, S_TASK_GET, id, u->after);
		if (err)
			return err == WEFT_ENOTFOUND ? WEFT_ESTORE : err;
	}
	return 0;
}

/* ---- DAG propagation ------------------------------------------------- */

static int cmp_id(const void *a, const void *b)
{
	return strncmp(((const weft_id *)a)->str, ((const weft_id *)b)->str, WEFT_ID_LEN);
}

/* Subtracts from each batch's remaining the number of finished tasks in it:
 * batches[i] is the batch of the i-th task (unset when none); sorted here.
 * Children usually share one batch, so this is one statement. */
static int batches_finished(sq_conn *c, weft_id *batches, size_t n)
{
	qsort(batches, n, sizeof *batches, cmp_id);
	for (size_t i = 0; i < n;) {
		size_t k = i + 1;
		while (k < n && cmp_id(&batches[k], &batches[i]) == 0)
			k++;
		int err = batch_remaining_add(c, &batches[i], -(int64_t)(k - i));
		if (err)
			return err;
		i = k;
	}
	return 0;
}

/* The audit events are written first (they read the status each child
 * leaves), then the update returns each child with its batch. */
static int sq_fail_required_children(store_conn *cc, const weft_id *parent, const char *reason,
                                     int64_t now, weft_id **changed, size_t *n)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*changed = NULL;
	*n = 0;
	int err = stmt_get(c, S_FAIL_CHILDREN_EVENTS, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, parent);
	b_text(&b, reason);
	b_int(&b, now);
	if ((err = bind_done(c, &b)) != 0 || (err = run(c, st, "fail required children (events)")) != 0)
		return err;
	if (sqlite3_changes64(c->db) == 0)
		return 0;

	if ((err = stmt_get(c, S_FAIL_CHILDREN, &st)) != 0)
		return err;
	b = bind_start(st);
	b_id(&b, parent);
	b_text(&b, reason);
	b_ts(&b, now);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	weft_id *ids = NULL, *batches = NULL;
	size_t len = 0, cap = 0, bcap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		grow((void **)&ids, len, &cap, sizeof *ids);
		grow((void **)&batches, len, &bcap, sizeof *batches);
		col_id(st, 0, &ids[len]);
		col_id(st, 1, &batches[len]);
		len++;
	}
	err = step_end(c, st, rc, "fail required children");
	if (!err)
		err = batches_finished(c, batches, len);
	free(batches);
	if (err) {
		free(ids);
		return err;
	}
	*changed = ids;
	*n = len;
	return 0;
}

static int sq_release_children(store_conn *cc, const weft_id *parent, bool parent_succeeded,
                               weft_id **became_pending, size_t *n)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*became_pending = NULL;
	*n = 0;
	int err = stmt_get(c, S_RELEASE_CHILDREN, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, parent);
	b_int(&b, parent_succeeded);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	weft_id *ids = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!sqlite3_column_int(st, 1))
			continue;
		grow((void **)&ids, len, &cap, sizeof *ids);
		col_id(st, 0, &ids[len++]);
	}
	if ((err = step_end(c, st, rc, "release children")) != 0) {
		free(ids);
		return err;
	}
	if (len > 0) {
		/* Only waiting tasks become pending (a paused one stays paused). */
		char *json = ids_json(ids, len);
		if ((err = stmt_get(c, S_RELEASE_EVENTS, &st)) == 0) {
			b = bind_start(st);
			b_text(&b, json);
			b_int(&b, clock_now_us());
			if ((err = bind_done(c, &b)) == 0)
				err = run(c, st, "release children (events)");
		}
		free(json);
		if (err) {
			free(ids);
			return err;
		}
	}
	*became_pending = ids;
	*n = len;
	return 0;
}

static int sq_dead_end_parents(store_conn *cc, const weft_id *tasks, size_t ntasks,
                               weft_id **parents, size_t *n)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*parents = NULL;
	*n = 0;
	if (ntasks == 0)
		return 0;
	int err = stmt_get(c, S_DEAD_END, &st);
	if (err)
		return err;
	char *json = ids_json(tasks, ntasks);
	binder b = bind_start(st);
	b_text(&b, json);
	if ((err = bind_done(c, &b)) == 0)
		err = collect_ids(c, st, parents, n, "dead-end parents");
	free(json);
	return err;
}

/* ---- starting tasks -------------------------------------------------- */

/* The statuses of a mask between bars ("|pending|retrying|"), for
 * `instr(?, '|' || status || '|') > 0`: one statement serves every mask.
 * Returns out. */
#define STATUS_BARS_MAX 128
static const char *status_bars(unsigned mask, char out[STATUS_BARS_MAX])
{
	size_t len = 0;
	out[len++] = '|';
	out[len] = '\0';
	for (unsigned s = 0; s < TS__COUNT; s++) {
		if (mask & TS_BIT(s))
			len += (size_t)snprintf(out + len, STATUS_BARS_MAX - len, "%s|", task_status_name((task_status)s));
	}
	return out;
}
_Static_assert(TS__COUNT * 10 + 2 <= STATUS_BARS_MAX, "every status fits between bars");

/* STATUS_SLOTS: each status of the mask in its slot, NULL in the others. */
static void bind_status_slots(binder *b, unsigned status_mask)
{
	for (unsigned s = 0; s < TS__COUNT; s++)
		b_text(b, (status_mask & TS_BIT(s)) ? task_status_name((task_status)s) : NULL);
}

static int64_t clamp_limit(size_t limit) { return limit > INT64_MAX ? INT64_MAX : (int64_t)limit; }

static int sq_pending_scan(store_conn *cc, const pending_cursor *after, size_t limit, int64_t now,
                           task_row **out, size_t *n)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return 0;
	int err = stmt_get(c, after ? S_PENDING_AFTER : S_PENDING_FIRST, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	if (after != NULL) {
		b_int(&b, after->priority);
		b_int(&b, after->created_at);
		b_text(&b, after->id.str);
	}
	b_int(&b, clamp_limit(limit));
	b_int(&b, now);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return collect_tasks(c, st, out, n, "pending scan");
}

static int sq_pending_next_start(store_conn *cc, int64_t now, int64_t *due)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*due = 0;
	int err = stmt_get(c, S_PENDING_NEXT_START, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_int(&b, now);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	int rc = sqlite3_step(st);
	bool found = rc == SQLITE_ROW;
	if (found)
		*due = sqlite3_column_int64(st, 0);
	if ((err = step_end(c, st, rc, "next delayed start")) != 0)
		return err;
	return found ? 0 : WEFT_ENOTFOUND;
}

static int sq_count_matching(store_conn *cc, const char *kind, unsigned status_mask,
                             const char *pattern, int64_t limit, int64_t *count)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*count = 0;
	if (limit <= 0 || (status_mask & TS_ALL_MASK) == 0)
		return 0;
	int err = stmt_get(c, S_COUNT_MATCHING, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_text(&b, kind);
	bind_status_slots(&b, status_mask);
	b_text(&b, pattern ? pattern : "{}");
	b_int(&b, limit);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return run_int(c, st, count, "count matching tasks");
}

static int sq_capacity_sum(store_conn *cc, const char *kind, const char *pattern, int64_t *sum)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*sum = 0;
	int err = stmt_get(c, S_CAPACITY, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_text(&b, kind);
	b_text(&b, pattern ? pattern : "{}");
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return run_int(c, st, sum, "capacity sum");
}

static int sq_ledger_claim(store_conn *cc, const char *key, const weft_id *task,
                           action_trigger trig, action_condition cond, int64_t now,
                           int64_t stale_before, ledger_claim_result *result)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	int err = stmt_get(c, S_LEDGER_CLAIM, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_text(&b, key);
	b_id(&b, task);
	b_text(&b, action_trigger_name(trig));
	b_text(&b, action_condition_name(cond));
	b_int(&b, now);
	b_int(&b, stale_before);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	int rc = sqlite3_step(st);
	bool claimed = rc == SQLITE_ROW;
	if ((err = step_end(c, st, rc, "ledger claim")) != 0)
		return err;
	if (claimed) {
		*result = LEDGER_CLAIMED;
		return 0;
	}
	/* Not inserted nor re-claimed: succeeded before, or pending and fresh. */
	if ((err = stmt_get(c, S_LEDGER_STATUS, &st)) != 0)
		return err;
	b = bind_start(st);
	b_text(&b, key);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	rc = sqlite3_step(st);
	const char *status = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	*result = status != NULL && strcmp(status, "success") == 0 ? LEDGER_DONE : LEDGER_BUSY;
	return step_end(c, st, rc, "ledger status");
}

static int sq_ledger_finish(store_conn *cc, const char *key, bool ok, int32_t http_status, const char *error,
                            int64_t now)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	int err = stmt_get(c, S_LEDGER_FINISH, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_text(&b, key);
	b_text(&b, ok ? "success" : "failure");
	b_int(&b, now);
	b_int_or_null(&b, http_status);
	b_text(&b, error);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return run(c, st, "ledger finish");
}

/* The status is written into the SQL (one cached statement per status) so
 * that the partial indexes apply: task_timed for claimed, running and
 * retrying, task_delayed for pending (only delayed tasks have a timer
 * then). */
static void build_deadlines(buf *sql, unsigned status)
{
	const char *order = "last_updated", *extra = "";
	if (status == TS_RETRYING) {
		order = "next_retry_at";
	} else if (status == TS_PENDING) {
		order = "start_after";
		extra = " AND start_after IS NOT NULL";
	}
	buf_printf(sql, "SELECT id, last_updated, timeout_secs, next_retry_at, start_after FROM task "
	                "WHERE status = '%s'%s ORDER BY %s",
	           task_status_name((task_status)status), extra, order);
}

static int sq_deadlines(store_conn *cc, task_status status, deadline_row **out, size_t *n)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	if ((unsigned)status >= TS__COUNT)
		return WEFT_ESTORE;
	int err = dyn_get(c, dyn_key(DYN_DEADLINES, (unsigned)status), build_deadlines, &st);
	if (err)
		return err;
	deadline_row *rows = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		grow((void **)&rows, len, &cap, sizeof *rows);
		col_id(st, 0, &rows[len].id);
		rows[len].last_updated = sqlite3_column_int64(st, 1);
		rows[len].timeout_secs = sqlite3_column_int(st, 2);
		rows[len].next_retry_at = sqlite3_column_int64(st, 3);
		rows[len].start_after = sqlite3_column_int64(st, 4);
		len++;
	}
	if ((err = step_end(c, st, rc, "deadlines")) != 0) {
		free(rows);
		return err;
	}
	*out = rows;
	*n = len;
	return 0;
}

/* ---- batches --------------------------------------------------------- */

static int sq_batch_task_count(store_conn *cc, const weft_id *batch, int64_t *count)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*count = 0;
	int err = stmt_get(c, S_BATCH_COUNT, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, batch);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return run_int(c, st, count, "batch task count");
}

/* Per-status aggregates of one batch, summed into out (zeroed first). */
static int batch_by_status(sq_conn *c, const weft_id *batch, batch_stats *out)
{
	sqlite3_stmt *st;
	memset(out, 0, sizeof *out);
	int err = stmt_get(c, S_BATCH_BY_STATUS, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, batch);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	int64_t with_expected = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		task_status s;
		if (col_status(st, 0, &s) != 0) {
			st_reset(c, st);
			return WEFT_ESTORE;
		}
		int64_t count = sqlite3_column_int64(st, 1);
		out->status_counts[s] = count;
		out->total_tasks += count;
		out->total_success += sqlite3_column_int64(st, 2);
		out->total_failures += sqlite3_column_int64(st, 3);
		with_expected += sqlite3_column_int64(st, 4);
		out->total_expected += sqlite3_column_int64(st, 5);
	}
	out->has_total_expected = with_expected == out->total_tasks;
	if (!out->has_total_expected)
		out->total_expected = 0;
	return step_end(c, st, rc, "batch stats");
}

static int sq_batch_stats(store_conn *cc, const weft_id *batch, batch_stats *out)
{
	sq_conn *c = sqc(cc);
	int err = batch_by_status(c, batch, out);
	if (err)
		return err;
	return out->total_tasks == 0 ? WEFT_ENOTFOUND : 0;
}

static int sq_batch_add_remaining(store_conn *cc, const weft_id *batch, int64_t delta)
{
	return batch_remaining_add(sqc(cc), batch, delta);
}

static int sq_batch_complete(store_conn *cc, const weft_id *batch, int64_t now, char **on_complete,
                             batch_outcome *counts)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*on_complete = NULL;
	memset(counts, 0, sizeof *counts);
	int err = stmt_get(c, S_BATCH_COMPLETE, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, batch);
	b_int(&b, now);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	int rc = sqlite3_step(st);
	bool completed = rc == SQLITE_ROW;
	char *json = completed ? col_str(st, 0) : NULL;
	if ((err = step_end(c, st, rc, "complete batch")) != 0) {
		free(json);
		return err;
	}
	if (!completed)
		return WEFT_ENOTFOUND;

	if ((err = stmt_get(c, S_BATCH_OUTCOME, &st)) != 0)
		goto fail;
	b = bind_start(st);
	b_id(&b, batch);
	if ((err = bind_done(c, &b)) != 0)
		goto fail;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		counts->success = sqlite3_column_int64(st, 0);
		counts->failure = sqlite3_column_int64(st, 1);
		counts->canceled = sqlite3_column_int64(st, 2);
	}
	if ((err = step_end(c, st, rc, "batch outcome")) != 0)
		goto fail;
	*on_complete = json;
	return 0;
fail:
	free(json);
	memset(counts, 0, sizeof *counts);
	return err;
}

static int sq_batch_cancel(store_conn *cc, const weft_id *batch, const char *reason, int64_t now,
                           batch_cancel_counts *counts, weft_id **was_running, size_t *nrunning)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	batch_stats before;
	memset(counts, 0, sizeof *counts);
	*was_running = NULL;
	*nrunning = 0;

	/* Every non-terminal task is canceled, so the counts before the update
	 * are the counts canceled. */
	int err = batch_by_status(c, batch, &before);
	if (err)
		return err;
	for (unsigned s = 0; s < TS__COUNT; s++) {
		if (task_status_terminal((task_status)s))
			counts->already_terminal += before.status_counts[s];
		else
			counts->canceled[s] = before.status_counts[s];
	}
	if (before.total_tasks == counts->already_terminal)
		return 0;

	if ((err = stmt_get(c, S_BATCH_RUNNING, &st)) != 0)
		return err;
	binder b = bind_start(st);
	b_id(&b, batch);
	if ((err = bind_done(c, &b)) != 0 ||
	    (err = collect_ids(c, st, was_running, nrunning, "batch running tasks")) != 0)
		return err;

	/* Events first: they read the status each task leaves. */
	if ((err = stmt_get(c, S_BATCH_CANCEL_EVENTS, &st)) != 0)
		goto fail;
	b = bind_start(st);
	b_id(&b, batch);
	b_text(&b, reason);
	b_int(&b, now);
	if ((err = bind_done(c, &b)) != 0 || (err = run(c, st, "cancel batch (events)")) != 0)
		goto fail;

	if ((err = stmt_get(c, S_BATCH_CANCEL, &st)) != 0)
		goto fail;
	b = bind_start(st);
	b_id(&b, batch);
	b_text(&b, reason);
	b_ts(&b, now);
	if ((err = bind_done(c, &b)) != 0 || (err = run(c, st, "cancel batch")) != 0)
		goto fail;
	if ((err = batch_remaining_add(c, batch, -sqlite3_changes64(c->db))) != 0)
		goto fail;
	return 0;
fail:
	free(*was_running);
	*was_running = NULL;
	*nrunning = 0;
	return err;
}

static int sq_batch_set_rules(store_conn *cc, const weft_id *batch, const char *kind,
                              const char *rules_json, int64_t now, int64_t *updated)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*updated = 0;
	int err = stmt_get(c, S_BATCH_RULES, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, batch);
	b_text(&b, kind);
	b_text(&b, rules_json ? rules_json : "[]");
	b_ts(&b, now);
	if ((err = bind_done(c, &b)) != 0 || (err = run(c, st, "set batch rules")) != 0)
		return err;
	*updated = sqlite3_changes64(c->db);
	return 0;
}

/* ---- groups ---------------------------------------------------------- */

static int sq_group_tasks(store_conn *cc, const char *name, unsigned status_mask, weft_id **ids,
                          size_t *n)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*ids = NULL;
	*n = 0;
	if (name == NULL || (status_mask & TS_ALL_MASK) == 0)
		return 0;
	int err = stmt_get(c, S_GROUP_TASKS, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_text(&b, name);
	bind_status_slots(&b, status_mask);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return collect_ids(c, st, ids, n, "group tasks");
}

/* ---- outbox ---------------------------------------------------------- */

static int sq_outbox_insert(store_conn *cc, outbox_row *o)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	int err = stmt_get(c, S_OUTBOX_INSERT, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	bind_keep(&b, sqlite3_bind_text(st, ++b.idx, o->key, (int)strnlen(o->key, sizeof o->key),
	                                SQLITE_STATIC));
	b_text(&b, delivery_event_name(o->event));
	b_id(&b, &o->task_id);
	b_id(&b, &o->batch_id);
	if (o->action_id != 0)
		b_int(&b, o->action_id);
	else
		b_null(&b);
	b_text(&b, o->params ? o->params : "{}");
	b_int(&b, o->add_handle);
	b_text(&b, delivery_status_name(o->status));
	b_int(&b, o->attempts);
	b_int(&b, o->max_attempts);
	b_int(&b, o->next_attempt_at);
	b_ts(&b, o->last_attempt_at);
	b_int(&b, o->created_at);
	b_int(&b, o->updated_at != 0 ? o->updated_at : o->created_at);
	if (o->last_http_status != 0)
		b_int(&b, o->last_http_status);
	else
		b_null(&b);
	b_text(&b, o->last_error);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	int rc = sqlite3_step(st);
	o->id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	return step_end(c, st, rc, "insert outbox row");
}

/* A JSON array of integers, for json_each(). */
static char *ints_json(const int64_t *v, size_t n)
{
	buf b;
	buf_init(&b);
	buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, i > 0 ? ",%" PRId64 : "%" PRId64, v[i]);
	buf_putc(&b, ']');
	return buf_detach(&b, NULL);
}

typedef struct id_rank {
	int64_t id;
	size_t rank;
} id_rank;

static int cmp_id_rank(const void *a, const void *b)
{
	int64_t x = ((const id_rank *)a)->id, y = ((const id_rank *)b)->id;
	return (x > y) - (x < y);
}

/* Puts rows (as the lease returned them) back in the order of ids (due
 * order); returns their number. */
static size_t order_by_ids(outbox_row *rows, size_t n, const int64_t *ids, size_t nids)
{
	id_rank *ranks = xcalloc(nids, sizeof *ranks);
	for (size_t i = 0; i < nids; i++)
		ranks[i] = (id_rank){ ids[i], i };
	qsort(ranks, nids, sizeof *ranks, cmp_id_rank);
	outbox_row *sorted = xcalloc(nids, sizeof *sorted);
	bool *used = xcalloc(nids, sizeof *used);
	for (size_t i = 0; i < n; i++) {
		id_rank key = { rows[i].id, 0 };
		id_rank *r = bsearch(&key, ranks, nids, sizeof *ranks, cmp_id_rank);
		if (r != NULL && !used[r->rank]) {
			sorted[r->rank] = rows[i];
			used[r->rank] = true;
		} else {
			outbox_row_release(&rows[i]);   /* cannot happen: the update was on these ids */
		}
	}
	size_t k = 0;
	for (size_t i = 0; i < nids; i++)
		if (used[i])
			rows[k++] = sorted[i];
	free(used);
	free(sorted);
	free(ranks);
	return k;
}

/* Two steps: the due ids in due order, then one UPDATE ... RETURNING over
 * them. RETURNING gives no order, and once leased every row has the same
 * next_attempt_at, so the order of the first step is restored in C. */
static int sq_outbox_lease(store_conn *cc, int64_t now, int64_t lease_until, size_t limit,
                           const weft_id *skip, size_t nskip, outbox_row **out, size_t *n)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return 0;
	int err = stmt_get(c, S_OUTBOX_DUE, &st);
	if (err)
		return err;
	char *skip_json = nskip > 0 ? ids_json(skip, nskip) : NULL;
	binder b = bind_start(st);
	b_int(&b, now);
	b_text(&b, skip_json ? skip_json : "[]");
	b_int(&b, clamp_limit(limit));
	if ((err = bind_done(c, &b)) != 0) {
		free(skip_json);
		return err;
	}
	int64_t *ids = NULL;
	size_t nids = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		grow((void **)&ids, nids, &cap, sizeof *ids);
		ids[nids++] = sqlite3_column_int64(st, 0);
	}
	err = step_end(c, st, rc, "due outbox rows");
	free(skip_json);
	if (err || nids == 0) {
		free(ids);
		return err;
	}

	char *json = ints_json(ids, nids);
	outbox_row *rows = NULL;
	size_t len = 0;
	if ((err = stmt_get(c, S_OUTBOX_LEASE, &st)) == 0) {
		b = bind_start(st);
		b_text(&b, json);
		b_int(&b, lease_until);
		b_int(&b, now);
		if ((err = bind_done(c, &b)) == 0)
			err = collect_outbox(c, st, &rows, &len, "lease outbox rows");
	}
	free(json);
	if (!err)
		len = order_by_ids(rows, len, ids, nids);
	free(ids);
	if (err)
		return err;
	*out = rows;
	*n = len;
	return 0;
}

/* An unknown id (nothing to record) is not an error. */
static int sq_outbox_finish(store_conn *cc, int64_t id, bool ok, int32_t http_status,
                            const char *error, int64_t now, int64_t retry_at)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	int err = stmt_get(c, S_OUTBOX_FINISH, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_int(&b, id);
	b_int(&b, ok);
	if (http_status != 0)
		b_int(&b, http_status);
	else
		b_null(&b);
	b_text(&b, error);
	b_int(&b, now);
	b_int(&b, retry_at);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return run(c, st, "finish outbox row");
}

static int sq_outbox_next_due(store_conn *cc, int64_t *due)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*due = 0;
	int err = stmt_get(c, S_OUTBOX_NEXT_DUE, &st);
	if (err)
		return err;
	int rc = sqlite3_step(st);
	bool found = rc == SQLITE_ROW;
	if (found)
		*due = sqlite3_column_int64(st, 0);
	if ((err = step_end(c, st, rc, "next outbox due time")) != 0)
		return err;
	return found ? 0 : WEFT_ENOTFOUND;
}

/* The lease of a row left delivering belonged to a process that is gone:
 * it expires now, so the next lease takes the row again. */
static int sq_outbox_recover(store_conn *cc, int64_t now)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	int err = stmt_get(c, S_OUTBOX_RECOVER, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_int(&b, now);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return run(c, st, "recover outbox rows");
}

/* ---- retention ------------------------------------------------------- */

/* Several writes that must apply together: inside the caller's transaction
 * when there is one, else in their own. */
static int write_begin(sq_conn *c, bool *own)
{
	*own = sqlite3_get_autocommit(c->db) != 0;
	return *own ? run_fixed(c, S_BEGIN, "begin") : 0;
}

static int write_end(sq_conn *c, bool own, int err)
{
	if (!own)
		return err;
	int e2 = run_fixed(c, err ? S_ROLLBACK : S_COMMIT, "end write transaction");
	return err ? err : e2;
}

/* Runs one of the archive statements over the JSON array of ids (?1). */
static int archive_step(sq_conn *c, stmt_id id, const char *json, int64_t now, const char *what)
{
	sqlite3_stmt *st;
	int err = stmt_get(c, id, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_text(&b, json);
	if (id == S_ARCHIVE_COPY)
		b_int(&b, now);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return run(c, st, what);
}

/* Copies the tasks into task_archive, then deletes what hangs off them and
 * the tasks themselves. Undelivered outbox rows stay (they carry their
 * rendered request) and so do the audit events. */
static int sq_archive_terminal(store_conn *cc, int64_t ended_before, size_t limit, int64_t *archived)
{
	static const struct {
		stmt_id id;
		const char *what;
	} steps[] = {
		{ S_ARCHIVE_COPY, "archive tasks" },
		{ S_ARCHIVE_ACTIONS, "archive: delete actions" },
		{ S_ARCHIVE_LINKS_OUT, "archive: delete links to children" },
		{ S_ARCHIVE_LINKS_IN, "archive: delete links from parents" },
		{ S_ARCHIVE_LEDGER, "archive: delete ledger rows" },
		{ S_ARCHIVE_OUTBOX, "archive: delete delivered outbox rows" },
		{ S_ARCHIVE_TASKS, "archive: delete tasks" },
	};
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*archived = 0;
	if (limit == 0)
		return 0;
	bool own;
	int err = write_begin(c, &own);
	if (err)
		return err;
	weft_id *ids = NULL;
	size_t n = 0;
	char *json = NULL;
	if ((err = stmt_get(c, S_ARCHIVE_PICK, &st)) != 0)
		goto done;
	binder b = bind_start(st);
	b_int(&b, ended_before);
	b_int(&b, clamp_limit(limit));
	if ((err = bind_done(c, &b)) != 0 ||
	    (err = collect_ids(c, st, &ids, &n, "tasks to archive")) != 0 || n == 0)
		goto done;
	json = ids_json(ids, n);
	int64_t now = clock_now_us();
	for (size_t i = 0; i < ARRAY_LEN(steps) && !err; i++) {
		err = archive_step(c, steps[i].id, json, now, steps[i].what);
		if (!err && steps[i].id == S_ARCHIVE_TASKS)
			*archived = sqlite3_changes64(c->db);
	}
done:
	free(json);
	free(ids);
	err = write_end(c, own, err);
	if (err)
		*archived = 0;
	return err;
}

/* ---- reads for the API ----------------------------------------------- */

/* Normalizes a page: a negative offset is 0, and LIMIT + OFFSET must not
 * overflow (SQLite would then drop the limit). False when the page is
 * empty for sure. */
static bool page_clamp(int64_t *offset, int64_t *limit)
{
	if (*offset < 0)
		*offset = 0;
	if (*limit > INT64_MAX - *offset)
		*limit = INT64_MAX - *offset;
	return *limit > 0;
}

static void build_task_list(buf *sql, unsigned shape)
{
	static const char *const terms[] = {
		[TL_NAME] = "instr(name, ?) > 0",
		[TL_KIND] = "instr(kind, ?) > 0",
		[TL_STATUS] = "instr(?, '|' || status || '|') > 0",
		[TL_TIMEOUT] = "timeout_secs = ?",
		[TL_BATCH] = "batch_id = ?",
		[TL_METADATA] = "weft_json_contains(metadata, ?)",
	};
	buf_puts(sql, "SELECT " TASK_COLS " FROM task");
	const char *sep = " WHERE ";
	for (unsigned i = 0; i < ARRAY_LEN(terms); i++) {
		if (shape & (1u << i)) {
			buf_printf(sql, "%s%s", sep, terms[i]);
			sep = " AND ";
		}
	}
	buf_puts(sql, " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?");
}

static int sq_task_list(store_conn *cc, const task_filter *f, int64_t offset, int64_t limit,
                        task_row **out, size_t *n)
{
	static const task_filter none = { 0 };
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	if (f == NULL)
		f = &none;
	if (!page_clamp(&offset, &limit))
		return 0;
	unsigned shape = task_list_shape(f);
	int err = dyn_get(c, dyn_key(DYN_TASK_LIST, shape), build_task_list, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	if (shape & (1u << TL_NAME))
		b_text(&b, f->name);
	if (shape & (1u << TL_KIND))
		b_text(&b, f->kind);
	char statuses[STATUS_BARS_MAX];
	if (shape & (1u << TL_STATUS))
		b_text(&b, status_bars(f->status_mask, statuses));
	if (shape & (1u << TL_TIMEOUT))
		b_int(&b, f->timeout);
	if (shape & (1u << TL_BATCH))
		b_id(&b, f->batch_id);
	if (shape & (1u << TL_METADATA))
		b_text(&b, f->metadata);
	b_int(&b, limit);
	b_int(&b, offset);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return collect_tasks(c, st, out, n, "list tasks");
}

/* Batch listing: one query pages the qualifying batch ids, one aggregates
 * the page. Both share the task filter below. */
static const char *const batch_terms[BL__COUNT] = {
	[BL_KIND] = "instr(kind, ?) > 0",
	[BL_NAME] = "instr(name, ?) > 0",
	[BL_STATUS] = "instr(?, '|' || status || '|') > 0",
	[BL_AFTER] = "created_at >= ?",
	[BL_BEFORE] = "created_at <= ?",
};

static void put_batch_terms(buf *sql, unsigned shape)
{
	for (unsigned i = 0; i < BL__COUNT; i++)
		if (shape & (1u << i))
			buf_printf(sql, " AND %s", batch_terms[i]);
}

/* statuses: STATUS_BARS_MAX bytes that live until the statement has run. */
static void bind_batch_terms(binder *b, const batch_filter *f, unsigned shape, char *statuses)
{
	if (shape & (1u << BL_KIND))
		b_text(b, f->kind);
	if (shape & (1u << BL_NAME))
		b_text(b, f->name);
	if (shape & (1u << BL_STATUS))
		b_text(b, status_bars(f->status_mask, statuses));
	if (shape & (1u << BL_AFTER))
		b_int(b, f->created_after);
	if (shape & (1u << BL_BEFORE))
		b_int(b, f->created_before);
}

static void build_batch_page(buf *sql, unsigned shape)
{
	buf_puts(sql, "SELECT batch_id FROM task WHERE batch_id IS NOT NULL");
	put_batch_terms(sql, shape);
	buf_puts(sql, " GROUP BY batch_id ORDER BY min(created_at) DESC, batch_id DESC "
	              "LIMIT ? OFFSET ?");
}

/* Columns: batch_id, count, min(created_at), max(last_updated), one count
 * per status in enum order, then the JSON array of the matching kinds. */
static void build_batch_agg(buf *sql, unsigned shape)
{
	buf_puts(sql, "SELECT batch_id, count(*), min(created_at), max(last_updated)");
	for (unsigned s = 0; s < TS__COUNT; s++)
		buf_printf(sql, ", sum(status = '%s')", task_status_name((task_status)s));
	buf_puts(sql, ", json_group_array(DISTINCT kind) FILTER (WHERE 1");
	put_batch_terms(sql, shape);
	buf_puts(sql, ") FROM task WHERE batch_id IN (SELECT value FROM json_each(?)) "
	              "GROUP BY batch_id");
}


static int batch_page(sq_conn *c, const batch_filter *f, unsigned shape, int64_t offset,
                      int64_t limit, batch_summary **out, size_t *n)
{
	sqlite3_stmt *st;
	int err = dyn_get(c, dyn_key(DYN_BATCH_PAGE, shape), build_batch_page, &st);
	if (err)
		return err;
	char statuses[STATUS_BARS_MAX];
	binder b = bind_start(st);
	bind_batch_terms(&b, f, shape, statuses);
	b_int(&b, limit);
	b_int(&b, offset);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	batch_summary *rows = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		grow((void **)&rows, len, &cap, sizeof *rows);
		memset(&rows[len], 0, sizeof rows[len]);
		col_id(st, 0, &rows[len].batch_id);
		len++;
	}
	*out = rows;
	*n = len;
	return step_end(c, st, rc, "list batches");
}

static int batch_aggregate(sq_conn *c, const batch_filter *f, unsigned shape,
                           batch_summary *rows, size_t n)
{
	sqlite3_stmt *st;
	int err = dyn_get(c, dyn_key(DYN_BATCH_AGG, shape), build_batch_agg, &st);
	if (err)
		return err;
	weft_id *ids = xcalloc(n, sizeof *ids);
	for (size_t i = 0; i < n; i++)
		ids[i] = rows[i].batch_id;
	char *json = ids_json(ids, n);
	free(ids);
	char statuses[STATUS_BARS_MAX];
	binder b = bind_start(st);
	bind_batch_terms(&b, f, shape, statuses);
	b_text(&b, json);
	if ((err = bind_done(c, &b)) != 0) {
		free(json);
		return err;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		weft_id id;
		col_id(st, 0, &id);
		batch_summary *bs = NULL;
		for (size_t i = 0; i < n && bs == NULL; i++)
			if (id_eq(&rows[i].batch_id, &id))
				bs = &rows[i];
		if (bs == NULL)
			continue;
		bs->total_tasks = sqlite3_column_int64(st, 1);
		bs->first_created_at = sqlite3_column_int64(st, 2);
		bs->latest_updated_at = sqlite3_column_int64(st, 3);
		for (int s = 0; s < TS__COUNT; s++)
			bs->status_counts[s] = sqlite3_column_int64(st, 4 + s);
		batch_summary_set_kinds(bs, (const char *)sqlite3_column_text(st, 4 + TS__COUNT));
	}
	err = step_end(c, st, rc, "aggregate batches");
	free(json);
	return err;
}

static int sq_batch_list(store_conn *cc, const batch_filter *f, int64_t offset, int64_t limit,
                         batch_summary **out, size_t *n)
{
	static const batch_filter none = { 0 };
	sq_conn *c = sqc(cc);
	*out = NULL;
	*n = 0;
	if (f == NULL)
		f = &none;
	if (!page_clamp(&offset, &limit))
		return 0;
	unsigned shape = batch_list_shape(f);
	bool own;
	int err = snapshot_begin(c, &own);
	if (err)
		return err;
	batch_summary *rows = NULL;
	size_t len = 0;
	err = batch_page(c, f, shape, offset, limit, &rows, &len);
	if (!err && len > 0)
		err = batch_aggregate(c, f, shape, rows, len);
	err = snapshot_end(c, own, err);
	if (err) {
		store_free_batch_summaries(rows, len);
		return err;
	}
	*out = rows;
	*n = len;
	return 0;
}

static int dag_links(sq_conn *c, const weft_id *batch, link_row **out, size_t *n)
{
	sqlite3_stmt *st;
	int err = stmt_get(c, S_DAG_LINKS, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, batch);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	link_row *rows = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		grow((void **)&rows, len, &cap, sizeof *rows);
		col_id(st, 0, &rows[len].parent_id);
		col_id(st, 1, &rows[len].child_id);
		rows[len].requires_success = sqlite3_column_int(st, 2) != 0;
		len++;
	}
	if ((err = step_end(c, st, rc, "dag links")) != 0) {
		free(rows);
		return err;
	}
	*out = rows;
	*n = len;
	return 0;
}

static int dag_tasks(sq_conn *c, const weft_id *batch, task_row **out, size_t *n)
{
	sqlite3_stmt *st;
	int err = stmt_get(c, S_DAG_TASKS, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, batch);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return collect_tasks(c, st, out, n, "dag tasks");
}

static int sq_dag(store_conn *cc, const weft_id *batch, task_row **tasks, size_t *ntasks,
                  link_row **links, size_t *nlinks)
{
	sq_conn *c = sqc(cc);
	*tasks = NULL;
	*ntasks = 0;
	*links = NULL;
	*nlinks = 0;
	bool own;
	int err = snapshot_begin(c, &own);
	if (err)
		return err;
	err = dag_tasks(c, batch, tasks, ntasks);
	if (!err)
		err = dag_links(c, batch, links, nlinks);
	err = snapshot_end(c, own, err);
	if (err) {
		store_free_tasks(*tasks, *ntasks);
		free(*links);
		*tasks = NULL;
		*ntasks = 0;
		*links = NULL;
		*nlinks = 0;
	}
	return err;
}

/* The creation entry is not stored: it is made from the task's created_at,
 * with the status it had before its first recorded transition. */
static int task_events(sq_conn *c, const weft_id *id, task_event **out, size_t *n)
{
	sqlite3_stmt *st;
	int err = stmt_get(c, S_TASK_HEAD, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_id(&b, id);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	int rc = sqlite3_step(st);
	bool found = rc == SQLITE_ROW;
	int64_t created_at = 0;
	task_status current = TS_WAITING;
	if (found) {
		created_at = sqlite3_column_int64(st, 0);
		if (col_status(st, 1, &current) != 0) {
			st_reset(c, st);
			return WEFT_ESTORE;
		}
	}
	if ((err = step_end(c, st, rc, "task head")) != 0)
		return err;
	if (!found)
		return WEFT_ENOTFOUND;

	if ((err = stmt_get(c, S_EVENTS, &st)) != 0)
		return err;
	b = bind_start(st);
	b_id(&b, id);
	if ((err = bind_done(c, &b)) != 0)
		return err;
	task_event *rows = NULL;
	size_t len = 0, cap = 0;
	grow((void **)&rows, len, &cap, sizeof *rows);
	rows[0] = (task_event){ .at = created_at, .has_from = false, .to = current,
	                        .reason = xstrdup("created"), .actor = xstrdup("api") };
	len = 1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		grow((void **)&rows, len, &cap, sizeof *rows);
		task_event *e = &rows[len];
		memset(e, 0, sizeof *e);
		e->at = sqlite3_column_int64(st, 0);
		e->has_from = sqlite3_column_type(st, 1) != SQLITE_NULL;
		if ((e->has_from && col_status(st, 1, &e->from) != 0) || col_status(st, 2, &e->to) != 0) {
			err = WEFT_ESTORE;
			break;
		}
		e->reason = col_str(st, 3);
		e->actor = col_str_nn(st, 4, "system");
		len++;
	}
	if (err)
		st_reset(c, st);
	else
		err = step_end(c, st, rc, "task events");
	if (err) {
		store_free_events(rows, len);
		return err;
	}
	if (len > 1 && rows[1].has_from)
		rows[0].to = rows[1].from;
	*out = rows;
	*n = len;
	return 0;
}

static int sq_task_events(store_conn *cc, const weft_id *id, task_event **out, size_t *n)
{
	sq_conn *c = sqc(cc);
	*out = NULL;
	*n = 0;
	bool own;
	int err = snapshot_begin(c, &own);
	if (err)
		return err;
	err = task_events(c, id, out, n);
	return snapshot_end(c, own, err);
}

/* Filters by the wire name of a delivery status. */
static int sq_outbox_list(store_conn *cc, unsigned status_mask, int64_t offset, int64_t limit,
                          outbox_row **out, size_t *n)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	if (!page_clamp(&offset, &limit))
		return 0;
	int err = stmt_get(c, status_mask ? S_OUTBOX_LIST_STATUS : S_OUTBOX_LIST, &st);
	if (err)
		return err;
	binder b = bind_start(st);
	b_int(&b, limit);
	b_int(&b, offset);
	for (unsigned s = 0; status_mask && s < DS__COUNT; s++) {
		if (status_mask & (1u << s))
			b_text(&b, delivery_status_name((delivery_status)s));
		else
			b_null(&b);
	}
	if ((err = bind_done(c, &b)) != 0)
		return err;
	return collect_outbox(c, st, out, n, "list outbox rows");
}

static int sq_status_counts(store_conn *cc, int64_t counts[TS__COUNT])
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	for (int s = 0; s < TS__COUNT; s++)
		counts[s] = 0;
	int err = stmt_get(c, S_STATUS_COUNTS, &st);
	if (err)
		return err;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		task_status s;
		/* A status this version does not know (a later one's) is left out. */
		if (task_status_parse((const char *)sqlite3_column_text(st, 0), &s) == 0)
			counts[s] = sqlite3_column_int64(st, 1);
	}
	return step_end(c, st, rc, "status counts");
}

static int sq_running_by_kind(store_conn *cc, kind_count **out, size_t *n)
{
	sq_conn *c = sqc(cc);
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	int err = stmt_get(c, S_RUNNING_BY_KIND, &st);
	if (err)
		return err;
	kind_count *rows = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		grow((void **)&rows, len, &cap, sizeof *rows);
		rows[len].kind = col_str_nn(st, 0, "");
		rows[len].count = sqlite3_column_int64(st, 1);
		len++;
	}
	if ((err = step_end(c, st, rc, "running tasks by kind")) != 0) {
		store_free_kind_counts(rows, len);
		return err;
	}
	*out = rows;
	*n = len;
	return 0;
}

static const store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.writer = sq_writer,
	.reader_acquire = sq_reader_acquire,
	.reader_release = sq_reader_release,
	.pool_stats = sq_pool_stats,
	.ping = sq_ping,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.savepoint = sq_savepoint,
	.savepoint_release = sq_savepoint_release,
	.savepoint_rollback = sq_savepoint_rollback,
	.batch_insert = sq_batch_insert,
	.task_insert = sq_task_insert,
	.link_insert = sq_link_insert,
	.action_insert = sq_action_insert,
	.task_get = sq_task_get,
	.task_actions = sq_task_actions,
	.task_actions_for = sq_task_actions_for,
	.task_update = sq_task_update,
	.fail_required_children = sq_fail_required_children,
	.release_children = sq_release_children,
	.dead_end_parents = sq_dead_end_parents,
	.pending_scan = sq_pending_scan,
	.pending_next_start = sq_pending_next_start,
	.count_matching = sq_count_matching,
	.capacity_sum = sq_capacity_sum,
	.ledger_claim = sq_ledger_claim,
	.ledger_finish = sq_ledger_finish,
	.deadlines = sq_deadlines,
	.batch_task_count = sq_batch_task_count,
	.batch_add_remaining = sq_batch_add_remaining,
	.batch_complete = sq_batch_complete,
	.batch_cancel = sq_batch_cancel,
	.batch_set_rules = sq_batch_set_rules,
	.group_tasks = sq_group_tasks,
	.outbox_insert = sq_outbox_insert,
	.outbox_lease = sq_outbox_lease,
	.outbox_finish = sq_outbox_finish,
	.outbox_next_due = sq_outbox_next_due,
	.outbox_recover = sq_outbox_recover,
	.archive_terminal = sq_archive_terminal,
	.task_list = sq_task_list,
	.batch_stats = sq_batch_stats,
	.batch_list = sq_batch_list,
	.dag = sq_dag,
	.task_events = sq_task_events,
	.outbox_list = sq_outbox_list,
	.status_counts = sq_status_counts,
	.running_by_kind = sq_running_by_kind,
};
