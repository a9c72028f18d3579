-- 0002_delivery.sql — task retries, delayed start and groups; batch
-- completion; the webhook outbox; the audit trail; the archive of old tasks.
--
-- The conventions of 0001 hold: STRICT tables, µs INTEGER timestamps (NULL =
-- unset), compact JSON text, enums checked by OR chains (never IN lists).

-- ---- tasks --------------------------------------------------------------

ALTER TABLE task ADD COLUMN group_name TEXT;
ALTER TABLE task ADD COLUMN start_after INTEGER;      -- not started before; NULL = when ready
ALTER TABLE task ADD COLUMN retry_policy TEXT;        -- canonical JSON (engine/retry.h)
ALTER TABLE task ADD COLUMN next_retry_at INTEGER;    -- while retrying: when it is pending again

-- Every index of `task` costs each task insert a cursor, partial or not (about
-- 900 instructions, some 2% of an insert), so lookups reuse the existing
-- indexes where they can:
--   * the start scan filters on start_after, carried in task_pending so that a
--     delayed task is passed over without reading its row;
--   * retry timers share task_timed with timeouts and stale claims;
--   * retention walks task_created from the oldest task (a task ends after it
--     is created), so ended_at needs no index of its own.
-- Delayed starts get their own index: the engine asks for the next one after
-- every start pass, which must not cost a walk over the whole backlog.
DROP INDEX task_pending;
CREATE INDEX task_pending ON task (priority DESC, created_at, id, start_after) WHERE status = 'pending';
CREATE INDEX task_delayed ON task (start_after) WHERE status = 'pending' AND start_after IS NOT NULL;
DROP INDEX task_timed;
CREATE INDEX task_timed ON task (status, last_updated)
	WHERE status = 'claimed' OR status = 'running' OR status = 'retrying';
-- Group cancel, pause and resume.
CREATE INDEX task_group ON task (group_name, created_at) WHERE group_name IS NOT NULL;

-- ---- batches ------------------------------------------------------------

-- remaining: tasks of the batch not finished yet; at 0 the batch completes
-- (completed_at set once, when its batch_complete webhooks are queued).
ALTER TABLE batch ADD COLUMN remaining INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batch ADD COLUMN completed_at INTEGER;

UPDATE batch SET remaining = (
	SELECT count(*) FROM task
	WHERE task.batch_id = batch.id
	  AND NOT (task.status = 'success' OR task.status = 'failure' OR task.status = 'canceled' OR
	           task.status = 'skipped'));
-- Batches that finished before this migration completed then: they must not
-- fire their completion now.
UPDATE batch SET completed_at = coalesce((SELECT max(ended_at) FROM task WHERE task.batch_id = batch.id),
                                         created_at)
WHERE remaining = 0;

-- ---- webhook ledger -----------------------------------------------------

-- The last answer of a start call, for its actions' delivery record.
ALTER TABLE webhook_execution ADD COLUMN last_http_status INTEGER;
ALTER TABLE webhook_execution ADD COLUMN last_error TEXT;

-- ---- outbox -------------------------------------------------------------

-- Outgoing webhooks, written in the transaction of the state change that
-- causes them and delivered at least once. While delivering,
-- next_attempt_at is the lease expiry.
CREATE TABLE outbox (
	id               INTEGER PRIMARY KEY,
	idempotency_key  TEXT NOT NULL UNIQUE,
	event            TEXT NOT NULL CHECK (event = 'end_success' OR event = 'end_failure' OR
	                                     event = 'cancel' OR event = 'batch_complete'),
	task_id          TEXT,                        -- NULL for batch_complete
	batch_id         TEXT,
	action_id        INTEGER,                     -- NULL for batch_complete
	params           TEXT NOT NULL,               -- rendered WebhookParams JSON
	add_handle       INTEGER NOT NULL DEFAULT 1,
	status           TEXT NOT NULL DEFAULT 'pending'
	                 CHECK (status = 'pending' OR status = 'delivering' OR status = 'retrying' OR
	                        status = 'success' OR status = 'exhausted'),
	attempts         INTEGER NOT NULL DEFAULT 0,
	max_attempts     INTEGER NOT NULL,
	next_attempt_at  INTEGER NOT NULL,
	last_attempt_at  INTEGER,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	last_http_status INTEGER,
	last_error       TEXT
) STRICT;
-- Due deliveries; only undelivered rows are indexed.
CREATE INDEX outbox_due ON outbox (next_attempt_at)
	WHERE status = 'pending' OR status = 'retrying' OR status = 'delivering';
-- A task's deliveries (action delivery records, retention).
CREATE INDEX outbox_task ON outbox (task_id, action_id) WHERE task_id IS NOT NULL;
-- Listing by status, newest first.
CREATE INDEX outbox_status ON outbox (status, id);

-- ---- audit trail --------------------------------------------------------

-- Status transitions. No foreign key: the trail outlives the task's move to
-- the archive. The creation is not stored (it is the task's created_at).
CREATE TABLE task_event (
	id          INTEGER PRIMARY KEY,
	task_id     TEXT NOT NULL,
	at          INTEGER NOT NULL,
	from_status TEXT CHECK (from_status IS NULL OR
	                        from_status = 'waiting' OR from_status = 'pending' OR
	                        from_status = 'claimed' OR from_status = 'running' OR
	                        from_status = 'paused' OR from_status = 'retrying' OR
	                        from_status = 'success' OR from_status = 'failure' OR
	                        from_status = 'canceled' OR from_status = 'sleeping' OR
	                        from_status = 'skipped'),
	to_status   TEXT NOT NULL CHECK (to_status = 'waiting' OR to_status = 'pending' OR
	                                 to_status = 'claimed' OR to_status = 'running' OR
	                                 to_status = 'paused' OR to_status = 'retrying' OR
	                                 to_status = 'success' OR to_status = 'failure' OR
	                                 to_status = 'canceled' OR to_status = 'sleeping' OR
	                                 to_status = 'skipped'),
	reason      TEXT,
	actor       TEXT NOT NULL
) STRICT;
CREATE INDEX task_event_task ON task_event (task_id, id);

-- ---- archive ------------------------------------------------------------

-- Finished tasks moved out of `task` by retention: every task column, and
-- when it moved. Read by id (GET /task/{id}) and by batch (completion counts).
CREATE TABLE task_archive (
	id               TEXT PRIMARY KEY,
	batch_id         TEXT,
	name             TEXT NOT NULL,
	kind             TEXT NOT NULL,
	status           TEXT NOT NULL CHECK (status = 'success' OR status = 'failure' OR
	                                      status = 'canceled' OR status = 'skipped'),
	executor         TEXT NOT NULL,
	timeout_secs     INTEGER NOT NULL,
	created_at       INTEGER NOT NULL,
	started_at       INTEGER,
	ended_at         INTEGER,
	last_updated     INTEGER,
	metadata         TEXT NOT NULL,
	rules            TEXT NOT NULL,
	wait_success     INTEGER NOT NULL,
	wait_finished    INTEGER NOT NULL,
	success          INTEGER NOT NULL,
	failures         INTEGER NOT NULL,
	failure_reason   TEXT,
	expected_count   INTEGER,
	dead_end_barrier INTEGER NOT NULL,
	priority         INTEGER NOT NULL,
	attempt          INTEGER NOT NULL,
	group_name       TEXT,
	start_after      INTEGER,
	retry_policy     TEXT,
	next_retry_at    INTEGER,
	archived_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX task_archive_batch ON task_archive (batch_id) WHERE batch_id IS NOT NULL;
