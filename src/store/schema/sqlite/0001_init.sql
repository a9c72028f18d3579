-- 0001_init.sql — weft's first SQLite schema.
--
-- Conventions, kept by every later migration:
--   * ids are canonical lowercase UUID text;
--   * timestamps are INTEGER microseconds since the Unix epoch, NULL when unset;
--   * JSON values are compact JSON text;
--   * enums are their lowercase spelling (model.c), checked by CHECK constraints
--     written as OR chains: SQLite evaluates a constant IN list in a CHECK by
--     building a temporary index on every insert, which made task inserts 40%
--     slower;
--   * tables are STRICT so a wrongly typed bind fails loudly instead of being stored.

-- A run: the tasks submitted together. Tasks refer to it by batch_id without a
-- foreign key, so a task may carry a batch id whose row is written later or never.
CREATE TABLE batch (
	id          TEXT PRIMARY KEY,
	created_at  INTEGER NOT NULL,
	scope       TEXT,
	metadata    TEXT,
	on_complete TEXT
) STRICT;

CREATE TABLE task (
	id               TEXT PRIMARY KEY,
	batch_id         TEXT,
	name             TEXT NOT NULL,
	kind             TEXT NOT NULL,
	status           TEXT NOT NULL CHECK (status = 'waiting' OR status = 'pending' OR
	                                      status = 'claimed' OR status = 'running' OR
	                                      status = 'paused' OR status = 'success' OR
	                                      status = 'failure' OR status = 'canceled' OR
	                                      -- reserved for retries, durable sleeps and
	                                      -- conditional branches
	                                      status = 'retrying' OR status = 'sleeping' OR
	                                      status = 'skipped'),
	executor         TEXT NOT NULL DEFAULT 'webhook',
	timeout_secs     INTEGER NOT NULL,
	created_at       INTEGER NOT NULL,
	started_at       INTEGER,
	ended_at         INTEGER,
	last_updated     INTEGER,
	metadata         TEXT NOT NULL,
	rules            TEXT NOT NULL,
	wait_success     INTEGER NOT NULL DEFAULT 0,   -- unresolved parents linked with requires_success
	wait_finished    INTEGER NOT NULL DEFAULT 0,   -- all unresolved parents
	success          INTEGER NOT NULL DEFAULT 0,
	failures         INTEGER NOT NULL DEFAULT 0,
	failure_reason   TEXT,
	expected_count   INTEGER,
	dead_end_barrier INTEGER NOT NULL DEFAULT 0,
	priority         INTEGER NOT NULL DEFAULT 0,
	attempt          INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Start order of ready tasks; the partial index stays as small as the backlog.
CREATE INDEX task_pending ON task (priority DESC, created_at, id) WHERE status = 'pending';
-- Batch stats, cancel, DAG and batch listing.
CREATE INDEX task_batch ON task (batch_id, created_at) WHERE batch_id IS NOT NULL;
-- Task listing, newest first (scanned backwards: new rows append at the right edge).
CREATE INDEX task_created ON task (created_at);
-- Dedup, concurrency and capacity rules.
CREATE INDEX task_kind_status ON task (kind, status);
-- Timers at start-up (timeouts of running tasks, stale claims); only the
-- statuses that have a deadline are indexed.
CREATE INDEX task_timed ON task (status, last_updated) WHERE status = 'claimed' OR status = 'running';

-- DAG edges. Propagation walks parent -> children, dead-end detection child -> parents.
CREATE TABLE link (
	parent_id        TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
	child_id         TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
	requires_success INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (parent_id, child_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX link_child ON link (child_id);

-- Webhooks attached to a task; the rowid keeps insertion order.
CREATE TABLE action (
	id        INTEGER PRIMARY KEY,
	task_id   TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
	trigger   TEXT NOT NULL CHECK (trigger = 'start' OR trigger = 'end' OR trigger = 'cancel'),
	condition TEXT NOT NULL CHECK (condition = 'success' OR condition = 'failure'),
	params    TEXT NOT NULL
) STRICT;
CREATE INDEX action_task_trigger ON action (task_id, trigger);

-- Idempotency ledger of webhook firings, keyed "<task>:start", "<task>:end:success", ...
CREATE TABLE webhook_execution (
	idempotency_key TEXT PRIMARY KEY,
	task_id         TEXT NOT NULL,
	trigger         TEXT NOT NULL CHECK (trigger = 'start' OR trigger = 'end' OR trigger = 'cancel'),
	condition       TEXT NOT NULL CHECK (condition = 'success' OR condition = 'failure'),
	status          TEXT NOT NULL DEFAULT 'pending'
	                CHECK (status = 'pending' OR status = 'success' OR status = 'failure'),
	attempts        INTEGER NOT NULL DEFAULT 1,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_execution_task ON webhook_execution (task_id);
