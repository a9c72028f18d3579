-- 0009_workflows.sql — durable workflows (docs/internals/workflows.md).
--
-- A run is a job (a task with executor 'queue'); workflow_run has the same
-- id and what only a workflow has. Times are µs.
CREATE TABLE workflow_run (
	id              TEXT PRIMARY KEY,
	namespace       TEXT NOT NULL,
	type            TEXT NOT NULL,
	queue           TEXT NOT NULL,
	status          TEXT NOT NULL CHECK (status = 'pending' OR status = 'running' OR
	                                     status = 'suspended' OR status = 'completed' OR
	                                     status = 'failed' OR status = 'canceled' OR
	                                     status = 'terminated'),
	idempotency_key TEXT,
	input           TEXT,
	output          TEXT,
	error_code      TEXT,
	error_message   TEXT,
	-- the steps' retry policy, canonical JSON of engine/retry.h (jobs' form)
	step_retry      TEXT NOT NULL,
	-- while suspended: why, until when (NULL: a signal wait without
	-- timeout), which signal, and the lease token of the attempt that
	-- suspended (its later calls are stale)
	suspend_reason  TEXT CHECK (suspend_reason IS NULL OR suspend_reason = 'sleep' OR
	                            suspend_reason = 'retry' OR suspend_reason = 'signal'),
	wake_at         INTEGER,
	wait_signal     TEXT,
	suspended_token INTEGER,
	-- the lease token of the last attempt that called: a call with another
	-- is the first of a new attempt (replays + 1)
	seen_token      INTEGER NOT NULL DEFAULT 0,
	replays         INTEGER NOT NULL DEFAULT 0,
	-- rows of its memo (workflow_step), bounded
	memo_rows       INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	ended_at        INTEGER,
	CHECK ((status = 'suspended') = (suspend_reason IS NOT NULL))
) STRICT;
-- One active run per key and namespace; a finished run frees its key.
CREATE UNIQUE INDEX workflow_run_key ON workflow_run (namespace, idempotency_key)
	WHERE idempotency_key IS NOT NULL AND
	      (status = 'pending' OR status = 'running' OR status = 'suspended');
-- Every run that held a key, newest first (GET /v1/workflows/by-key/{key}).
CREATE INDEX workflow_run_key_all ON workflow_run (namespace, idempotency_key, created_at DESC)
	WHERE idempotency_key IS NOT NULL;
-- The listing and its cursor, newest first. Its status filter is on the
-- status reads show (joined with the job's row), which no index holds;
-- wake-ups are the job's (task.next_retry_at), not read from here.
CREATE INDEX workflow_run_created ON workflow_run (namespace, created_at DESC, id DESC);

-- The memo: one row per (kind, name, seq) of a run; seq tells apart the
-- iterations of a name reused in a loop.
CREATE TABLE workflow_step (
	run_id          TEXT NOT NULL,
	kind            TEXT NOT NULL CHECK (kind = 'step' OR kind = 'sleep' OR kind = 'signal'),
	name            TEXT NOT NULL,
	seq             INTEGER NOT NULL CHECK (seq >= 1),
	status          TEXT NOT NULL CHECK (status = 'running' OR status = 'completed' OR
	                                     status = 'failed' OR status = 'retrying' OR
	                                     status = 'sleeping' OR status = 'waiting'),
	output          TEXT,
	error_code      TEXT,
	error_message   TEXT,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER,
	-- the lease token of the last attempt that reached this row
	seen_token      INTEGER NOT NULL,
	started_at      INTEGER NOT NULL,
	ended_at        INTEGER,
	PRIMARY KEY (run_id, kind, name, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE workflow_signal (
	id           INTEGER PRIMARY KEY,
	run_id       TEXT NOT NULL,
	name         TEXT NOT NULL,
	payload      TEXT,
	sent_at      INTEGER NOT NULL,
	consumed_at  INTEGER,
	consumed_seq INTEGER
) STRICT;
-- Unconsumed signals of a run and name, oldest first.
CREATE INDEX workflow_signal_pending ON workflow_signal (run_id, name, id)
	WHERE consumed_at IS NULL;
