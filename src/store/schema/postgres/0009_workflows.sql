-- 0009_workflows.sql — durable workflows (docs/internals/workflows.md).
--
-- A run is a job (a task with executor 'queue'); workflow_run has the same
-- id and what only a workflow has. Times are µs.
CREATE TABLE workflow_run (
	id              TEXT COLLATE "C" PRIMARY KEY,
	namespace       TEXT COLLATE "C" NOT NULL,
	type            TEXT COLLATE "C" NOT NULL,
	queue           TEXT COLLATE "C" NOT NULL,
	status          TEXT NOT NULL CHECK (status IN ('pending', 'running', 'suspended', 'completed',
	                                                'failed', 'canceled', 'terminated')),
	idempotency_key TEXT COLLATE "C",
	input           TEXT,
	output          TEXT,
	error_code      TEXT,
	error_message   TEXT,
	-- the steps' retry policy, canonical JSON of engine/retry.h (jobs' form)
	step_retry      TEXT NOT NULL,
	-- while suspended: why, until when (NULL: a signal wait without
	-- timeout), which signal, and the lease token of the attempt that
	-- suspended (its later calls are stale)
	suspend_reason  TEXT CHECK (suspend_reason IS NULL OR
	                            suspend_reason IN ('sleep', 'retry', 'signal')),
	wake_at         BIGINT,
	wait_signal     TEXT COLLATE "C",
	suspended_token BIGINT,
	-- the lease token of the last attempt that called: a call with another
	-- is the first of a new attempt (replays + 1)
	seen_token      BIGINT NOT NULL DEFAULT 0,
	replays         BIGINT NOT NULL DEFAULT 0,
	-- rows of its memo (workflow_step), bounded
	memo_rows       BIGINT NOT NULL DEFAULT 0,
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
	ended_at        BIGINT,
	CHECK ((status = 'suspended') = (suspend_reason IS NOT NULL))
);
-- One active run per key and namespace; a finished run frees its key.
CREATE UNIQUE INDEX workflow_run_key ON workflow_run (namespace, idempotency_key)
	WHERE idempotency_key IS NOT NULL AND status IN ('pending', 'running', 'suspended');
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
	run_id          TEXT COLLATE "C" NOT NULL,
	kind            TEXT COLLATE "C" NOT NULL CHECK (kind IN ('step', 'sleep', 'signal')),
	name            TEXT COLLATE "C" NOT NULL,
	seq             BIGINT NOT NULL CHECK (seq >= 1),
	status          TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'retrying',
	                                                'sleeping', 'waiting')),
	output          TEXT,
	error_code      TEXT,
	error_message   TEXT,
	attempts        BIGINT NOT NULL DEFAULT 0,
	next_attempt_at BIGINT,
	-- the lease token of the last attempt that reached this row
	seen_token      BIGINT NOT NULL,
	started_at      BIGINT NOT NULL,
	ended_at        BIGINT,
	PRIMARY KEY (run_id, kind, name, seq)
);

CREATE TABLE workflow_signal (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	run_id       TEXT COLLATE "C" NOT NULL,
	name         TEXT COLLATE "C" NOT NULL,
	payload      TEXT,
	sent_at      BIGINT NOT NULL,
	consumed_at  BIGINT,
	consumed_seq BIGINT
);
-- Unconsumed signals of a run and name, oldest first.
CREATE INDEX workflow_signal_pending ON workflow_signal (run_id, name, id)
	WHERE consumed_at IS NULL;
