-- 0007_jobs.sql — job queues: a job is a task row with executor 'queue' whose
-- kind is its queue. A lone job has no batch row: its batch_id is NULL and its
-- run id is its own id (batch_id has no foreign key, 0001).
--
-- New task columns (task_archive gets the same, copied by retention):
--   namespace        who may see it; 'default' for every older row
--   input, result    compact JSON text, read only by job reads and claims
--   progress         the last heartbeat's progress JSON
--   concurrency_key, rate_key
--   lease_token      the fencing token: + 1 by every claim, never reset
--   lease_until      while a job runs: when its lease ends (µs)
--   worker_id        the worker holding the lease
--   dead_at          failed for good by its own attempts (dead letter)
--   error_code       the last failure's code
--   retry_base       attempts used before an operator reset
--   claimed_by, ended_by   who claimed and who ended the current attempt
--   shape            bits: 1 parents, 2 children, 4 end/cancel actions; a task
--                    with 0 ends without the DAG and outbox statements. 7 (all)
--                    is safe for older rows.
ALTER TABLE task ADD COLUMN namespace TEXT COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE task ADD COLUMN input TEXT;
ALTER TABLE task ADD COLUMN result TEXT;
ALTER TABLE task ADD COLUMN progress TEXT;
ALTER TABLE task ADD COLUMN concurrency_key TEXT COLLATE "C";
ALTER TABLE task ADD COLUMN rate_key TEXT;
ALTER TABLE task ADD COLUMN lease_token BIGINT NOT NULL DEFAULT 0;
ALTER TABLE task ADD COLUMN lease_until BIGINT;
ALTER TABLE task ADD COLUMN worker_id TEXT COLLATE "C";
ALTER TABLE task ADD COLUMN dead_at BIGINT;
ALTER TABLE task ADD COLUMN error_code TEXT;
ALTER TABLE task ADD COLUMN retry_base BIGINT NOT NULL DEFAULT 0;
ALTER TABLE task ADD COLUMN claimed_by TEXT;
ALTER TABLE task ADD COLUMN ended_by TEXT;
ALTER TABLE task ADD COLUMN shape BIGINT NOT NULL DEFAULT 7;

ALTER TABLE task_archive ADD COLUMN namespace TEXT COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE task_archive ADD COLUMN input TEXT;
ALTER TABLE task_archive ADD COLUMN result TEXT;
ALTER TABLE task_archive ADD COLUMN progress TEXT;
ALTER TABLE task_archive ADD COLUMN concurrency_key TEXT;
ALTER TABLE task_archive ADD COLUMN rate_key TEXT;
ALTER TABLE task_archive ADD COLUMN lease_token BIGINT NOT NULL DEFAULT 0;
ALTER TABLE task_archive ADD COLUMN lease_until BIGINT;
ALTER TABLE task_archive ADD COLUMN worker_id TEXT;
ALTER TABLE task_archive ADD COLUMN dead_at BIGINT;
ALTER TABLE task_archive ADD COLUMN error_code TEXT;
ALTER TABLE task_archive ADD COLUMN retry_base BIGINT NOT NULL DEFAULT 0;
ALTER TABLE task_archive ADD COLUMN claimed_by TEXT;
ALTER TABLE task_archive ADD COLUMN ended_by TEXT;
ALTER TABLE task_archive ADD COLUMN shape BIGINT NOT NULL DEFAULT 7;

ALTER TABLE batch ADD COLUMN namespace TEXT COLLATE "C" NOT NULL DEFAULT 'default';

-- Jobs leave the start pass's indexes (the start pass, rules, dedup and the
-- run timeout never read a job; queues have their own limits) and get their
-- own. Rebuilt once, under the migration lock.
DROP INDEX task_pending;
CREATE INDEX task_pending ON task (priority DESC, created_at, id)
	WHERE status = 'pending' AND executor <> 'queue';
DROP INDEX task_delayed;
CREATE INDEX task_delayed ON task (start_after)
	WHERE status = 'pending' AND start_after IS NOT NULL AND executor <> 'queue';
DROP INDEX task_kind_status;
CREATE INDEX task_kind_status ON task (kind, status) WHERE executor <> 'queue';
DROP INDEX task_run_deadline;
CREATE INDEX task_run_deadline ON task ((last_updated + timeout_secs * 1000000))
	WHERE status = 'running' AND executor <> 'queue';
-- The claim's range scan: as small as the ready backlog. Every job has a
-- start_after (its enqueue time when not delayed).
CREATE INDEX task_queue_ready ON task (namespace, kind, priority DESC, start_after, id)
	WHERE status = 'pending' AND executor = 'queue';
-- Leases of running jobs: the job_lease deadlines read by the leader.
CREATE INDEX task_lease ON task (lease_until) WHERE status = 'running' AND executor = 'queue';
-- Dead letters, newest first per queue.
CREATE INDEX task_dead ON task (namespace, kind, dead_at, id) WHERE dead_at IS NOT NULL;
-- Running jobs per concurrency key (per-key limits); only keyed jobs pay.
CREATE INDEX task_key_running ON task (namespace, kind, concurrency_key)
	WHERE status = 'running' AND concurrency_key IS NOT NULL;

-- The error history: one row per attempt that did not succeed.
CREATE TABLE job_attempt (
	task_id       TEXT COLLATE "C" NOT NULL,
	lease_token   BIGINT NOT NULL,
	attempt       BIGINT NOT NULL,
	worker_id     TEXT,
	claimed_by    TEXT,
	started_at    BIGINT NOT NULL,
	ended_at      BIGINT NOT NULL,
	outcome       TEXT NOT NULL CHECK (outcome IN ('failed', 'timed_out', 'lease_expired',
	                                                  'released', 'canceled')),
	error_code    TEXT,
	error_message TEXT,
	error_details TEXT,
	retryable     BIGINT,
	PRIMARY KEY (task_id, lease_token)
);

-- One live dedup key per (namespace, queue, key); expires_at NULL = while
-- its job is active.
CREATE TABLE job_dedup (
	namespace  TEXT COLLATE "C" NOT NULL,
	queue      TEXT COLLATE "C" NOT NULL,
	key        TEXT COLLATE "C" NOT NULL,
	task_id    TEXT COLLATE "C" NOT NULL,
	expires_at BIGINT,
	PRIMARY KEY (namespace, queue, key)
);

-- A queue's identity and configuration; written at its first enqueue.
CREATE TABLE queue (
	id                    TEXT COLLATE "C" PRIMARY KEY,
	namespace             TEXT COLLATE "C" NOT NULL,
	name                  TEXT COLLATE "C" NOT NULL,
	paused                BIGINT NOT NULL DEFAULT 0,
	concurrency_limit     BIGINT,
	key_concurrency_limit BIGINT,
	rate_limit            BIGINT,
	rate_period_ms        BIGINT,
	rate_burst            BIGINT,
	created_at            BIGINT NOT NULL,
	updated_at            BIGINT NOT NULL,
	UNIQUE (namespace, name)
);

-- Token buckets per rate key, tokens in millionths.
CREATE TABLE rate_bucket (
	namespace    TEXT COLLATE "C" NOT NULL,
	queue        TEXT COLLATE "C" NOT NULL,
	key          TEXT COLLATE "C" NOT NULL,
	tokens_micro BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL,
	PRIMARY KEY (namespace, queue, key)
);

CREATE TABLE worker (
	namespace     TEXT COLLATE "C" NOT NULL,
	id            TEXT COLLATE "C" NOT NULL,
	hostname      TEXT,
	queues        TEXT NOT NULL,
	token         TEXT,
	first_seen_at BIGINT NOT NULL,
	last_seen_at  BIGINT NOT NULL,
	draining      BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (namespace, id)
);
-- Heartbeats name a worker without its namespace.
CREATE INDEX worker_id ON worker (id);

-- Throughput per queue and minute; `slot` spreads the writes of several
-- nodes as task_count does.
CREATE TABLE queue_stat (
	namespace TEXT COLLATE "C" NOT NULL,
	queue     TEXT COLLATE "C" NOT NULL,
	minute    BIGINT NOT NULL,
	slot      BIGINT NOT NULL,
	completed BIGINT NOT NULL DEFAULT 0,
	failed    BIGINT NOT NULL DEFAULT 0,
	dead      BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (namespace, queue, minute, slot)
);

-- ---- runs (POST /v1/runs) -------------------------------------------------
-- A run is a batch: its optional name, and its listing per namespace,
-- newest first (GET /v1/runs).
ALTER TABLE batch ADD COLUMN name TEXT;
CREATE INDEX batch_namespace_created ON batch (namespace, created_at DESC, id DESC);

-- Queues and limits: who changed a queue's configuration last, and the
-- trail of those changes.
ALTER TABLE queue ADD COLUMN updated_by TEXT;
CREATE TABLE queue_event (
	id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	namespace TEXT COLLATE "C" NOT NULL,
	queue     TEXT COLLATE "C" NOT NULL,
	at        BIGINT NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	detail    TEXT
);
CREATE INDEX queue_event_queue ON queue_event (namespace, queue, at);
