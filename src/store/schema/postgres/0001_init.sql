-- 0001_init.sql — weft's first PostgreSQL schema: the tables of the SQLite
-- schema after its last migration (sqlite/0001_init.sql, 0002_delivery.sql),
-- with the same names, columns and meanings.
--
-- Conventions, kept by every later migration:
--   * ids are canonical lowercase UUID text;
--   * timestamps are BIGINT microseconds since the Unix epoch, NULL when unset;
--   * flags (requires_success, add_handle, dead_end_barrier) are 0/1 BIGINTs,
--     as in SQLite, so both backends read them alike;
--   * JSON values are compact JSON text, never jsonb: a document must come
--     back byte for byte as the engine stored it (jsonb reorders keys and
--     drops duplicates). Containment casts at query time
--     (metadata::jsonb @> pattern::jsonb);
--   * enums are their lowercase spelling (model.c), checked by IN lists;
--   * text that is ordered or compared (ids, names, kinds, keys) is
--     COLLATE "C": bytewise order as in SQLite, whatever the database's
--     locale, and cheaper comparisons;
--   * generated ids are identity columns: their order is insertion order,
--     which the action list and the audit trail rely on.
-- The migration runs in one transaction under an advisory lock, so nodes
-- starting together apply it once.

-- A run: the tasks submitted together. Tasks refer to it by batch_id without a
-- foreign key, so a task may carry a batch id whose row is written later or never.
-- remaining: tasks of the batch not finished yet; at 0 the batch completes
-- (completed_at set once, when its batch_complete webhooks are queued).
CREATE TABLE batch (
	id           TEXT COLLATE "C" PRIMARY KEY,
	created_at   BIGINT NOT NULL,
	scope        TEXT,
	metadata     TEXT,
	on_complete  TEXT,
	remaining    BIGINT NOT NULL DEFAULT 0,
	completed_at BIGINT
);

CREATE TABLE task (
	id               TEXT COLLATE "C" PRIMARY KEY,
	batch_id         TEXT COLLATE "C",
	name             TEXT COLLATE "C" NOT NULL,
	kind             TEXT COLLATE "C" NOT NULL,
	-- sleeping and skipped are reserved for durable sleeps and conditional
	-- branches
	status           TEXT NOT NULL CHECK (status IN ('waiting', 'pending', 'claimed', 'running',
	                                                 'paused', 'retrying', 'success', 'failure',
	                                                 'canceled', 'sleeping', 'skipped')),
	executor         TEXT NOT NULL DEFAULT 'webhook',
	timeout_secs     BIGINT NOT NULL,
	created_at       BIGINT NOT NULL,
	started_at       BIGINT,
	ended_at         BIGINT,
	last_updated     BIGINT,
	metadata         TEXT NOT NULL,
	rules            TEXT NOT NULL,
	wait_success     BIGINT NOT NULL DEFAULT 0,   -- unresolved parents linked with requires_success
	wait_finished    BIGINT NOT NULL DEFAULT 0,   -- all unresolved parents
	success          BIGINT NOT NULL DEFAULT 0,
	failures         BIGINT NOT NULL DEFAULT 0,
	failure_reason   TEXT,
	expected_count   BIGINT,
	dead_end_barrier BIGINT NOT NULL DEFAULT 0,
	priority         BIGINT NOT NULL DEFAULT 0,
	attempt          BIGINT NOT NULL DEFAULT 0,   -- retries done so far
	group_name       TEXT COLLATE "C",
	start_after      BIGINT,                      -- not started before; NULL = when ready
	retry_policy     TEXT,                        -- canonical JSON (engine/retry.h)
	next_retry_at    BIGINT                       -- while retrying: when it is pending again
);

-- Start order of ready tasks; the partial index stays as small as the backlog.
-- The start scan locks what it reads (FOR NO KEY UPDATE SKIP LOCKED), so
-- nodes scanning together each take different rows.
CREATE INDEX task_pending ON task (priority DESC, created_at, id) WHERE status = 'pending';
-- The next delayed start.
CREATE INDEX task_delayed ON task (start_after) WHERE status = 'pending' AND start_after IS NOT NULL;
-- Batch stats, cancel, DAG and batch listing.
CREATE INDEX task_batch ON task (batch_id, created_at) WHERE batch_id IS NOT NULL;
-- Task listing, newest first; retention walks it from the oldest task (a
-- task ends after it is created).
CREATE INDEX task_created ON task (created_at);
-- Dedup, concurrency and capacity rules.
CREATE INDEX task_kind_status ON task (kind, status);
-- Timers at start-up, and stale claims (claimed, by last_updated) among the
-- deadlines kept in the database.
CREATE INDEX task_timed ON task (status, last_updated)
	WHERE status IN ('claimed', 'running', 'retrying');
-- Deadlines kept in the database (many nodes: the leader asks for the due
-- ones): inactivity timeouts of running tasks, by their due time. A query
-- must spell the expression exactly so for the index to apply.
CREATE INDEX task_run_deadline ON task ((last_updated + timeout_secs * 1000000))
	WHERE status = 'running';
-- ... and the end of retry backoffs.
CREATE INDEX task_retry_due ON task (next_retry_at) WHERE status = 'retrying';
-- Group cancel, pause and resume.
CREATE INDEX task_group ON task (group_name, created_at) WHERE group_name IS NOT NULL;

-- DAG edges. Propagation walks parent -> children, dead-end detection child -> parents.
CREATE TABLE link (
	parent_id        TEXT COLLATE "C" NOT NULL REFERENCES task (id) ON DELETE CASCADE,
	child_id         TEXT COLLATE "C" NOT NULL REFERENCES task (id) ON DELETE CASCADE,
	requires_success BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX link_child ON link (child_id);

-- Webhooks attached to a task; the id keeps insertion order.
CREATE TABLE action (
	id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	task_id   TEXT COLLATE "C" NOT NULL REFERENCES task (id) ON DELETE CASCADE,
	trigger   TEXT NOT NULL CHECK (trigger IN ('start', 'end', 'cancel')),
	condition TEXT NOT NULL CHECK (condition IN ('success', 'failure')),
	params    TEXT NOT NULL
);
CREATE INDEX action_task_trigger ON action (task_id, trigger);

-- Idempotency ledger of webhook firings, keyed "<task>:start", "<task>:end:success", ...
-- last_http_status, last_error: the last answer of a start call, for its
-- actions' delivery record.
CREATE TABLE webhook_execution (
	idempotency_key  TEXT COLLATE "C" PRIMARY KEY,
	task_id          TEXT COLLATE "C" NOT NULL,
	trigger          TEXT NOT NULL CHECK (trigger IN ('start', 'end', 'cancel')),
	condition        TEXT NOT NULL CHECK (condition IN ('success', 'failure')),
	status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'success', 'failure')),
	attempts         BIGINT NOT NULL DEFAULT 1,
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL,
	last_http_status BIGINT,
	last_error       TEXT
);
-- A task's ledger rows: retention, and the outbox lease, which holds back
-- the deliveries of a task whose start call may be in flight on any node.
CREATE INDEX webhook_execution_task ON webhook_execution (task_id);

-- Outgoing webhooks, written in the transaction of the state change that
-- causes them and delivered at least once. While delivering,
-- next_attempt_at is the lease expiry.
CREATE TABLE outbox (
	id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	idempotency_key  TEXT COLLATE "C" NOT NULL UNIQUE,
	event            TEXT NOT NULL CHECK (event IN ('end_success', 'end_failure', 'cancel',
	                                                'batch_complete')),
	task_id          TEXT COLLATE "C",            -- NULL for batch_complete
	batch_id         TEXT COLLATE "C",
	action_id        BIGINT,                      -- NULL for batch_complete
	params           TEXT NOT NULL,               -- rendered WebhookParams JSON
	add_handle       BIGINT NOT NULL DEFAULT 1,
	status           TEXT NOT NULL DEFAULT 'pending'
	                 CHECK (status IN ('pending', 'delivering', 'retrying', 'success', 'exhausted')),
	attempts         BIGINT NOT NULL DEFAULT 0,
	max_attempts     BIGINT NOT NULL,
	next_attempt_at  BIGINT NOT NULL,
	last_attempt_at  BIGINT,
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL,
	last_http_status BIGINT,
	last_error       TEXT,
	-- While delivering: the node holding the lease. A node's writer session
	-- holds an advisory lock on its name, so the lease of a node whose session
	-- is gone (killed, restarted) is taken over at once rather than when it
	-- expires.
	leased_by        TEXT
);
-- Due deliveries; only undelivered rows are indexed.
CREATE INDEX outbox_due ON outbox (next_attempt_at)
	WHERE status IN ('pending', 'retrying', 'delivering');
-- A task's deliveries (action delivery records, retention).
CREATE INDEX outbox_task ON outbox (task_id, action_id) WHERE task_id IS NOT NULL;
-- Listing by status, newest first; also the leases in flight (delivering).
CREATE INDEX outbox_status ON outbox (status, id);

-- Status transitions. No foreign key: the trail outlives the task's move to
-- the archive. The creation is not stored (it is the task's created_at).
CREATE TABLE task_event (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	task_id     TEXT COLLATE "C" NOT NULL,
	at          BIGINT NOT NULL,
	from_status TEXT CHECK (from_status IN ('waiting', 'pending', 'claimed', 'running', 'paused',
	                                        'retrying', 'success', 'failure', 'canceled',
	                                        'sleeping', 'skipped')),
	to_status   TEXT NOT NULL CHECK (to_status IN ('waiting', 'pending', 'claimed', 'running',
	                                               'paused', 'retrying', 'success', 'failure',
	                                               'canceled', 'sleeping', 'skipped')),
	reason      TEXT,
	actor       TEXT NOT NULL
);
CREATE INDEX task_event_task ON task_event (task_id, id);

-- Finished tasks moved out of `task` by retention: every task column, and
-- when it moved. Read by id (GET /task/{id}) and by batch (completion counts).
CREATE TABLE task_archive (
	id               TEXT COLLATE "C" PRIMARY KEY,
	batch_id         TEXT COLLATE "C",
	name             TEXT COLLATE "C" NOT NULL,
	kind             TEXT COLLATE "C" NOT NULL,
	status           TEXT NOT NULL CHECK (status IN ('success', 'failure', 'canceled', 'skipped')),
	executor         TEXT NOT NULL,
	timeout_secs     BIGINT NOT NULL,
	created_at       BIGINT NOT NULL,
	started_at       BIGINT,
	ended_at         BIGINT,
	last_updated     BIGINT,
	metadata         TEXT NOT NULL,
	rules            TEXT NOT NULL,
	wait_success     BIGINT NOT NULL,
	wait_finished    BIGINT NOT NULL,
	success          BIGINT NOT NULL,
	failures         BIGINT NOT NULL,
	failure_reason   TEXT,
	expected_count   BIGINT,
	dead_end_barrier BIGINT NOT NULL,
	priority         BIGINT NOT NULL,
	attempt          BIGINT NOT NULL,
	group_name       TEXT COLLATE "C",
	start_after      BIGINT,
	retry_policy     TEXT,
	next_retry_at    BIGINT,
	archived_at      BIGINT NOT NULL
);
CREATE INDEX task_archive_batch ON task_archive (batch_id) WHERE batch_id IS NOT NULL;
