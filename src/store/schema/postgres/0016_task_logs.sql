-- 0016_task_logs.sql — the lines an execution printed (an exec task's
-- process, a job's worker): one row per line, keyed by the task, its
-- attempt and a sequence number the engine assigns per (task, attempt).
-- namespace, run_id (the batch, or the task itself for a lone job) and
-- queue (the task's kind) are copied from the task when the line is
-- written, so that a search across executions reads this table alone.
-- level: 'info' for stdout and system lines, 'warn' for stderr, or what a
-- worker gave. text is at most 16 KiB (longer lines are cut and marked).
-- The text search is ILIKE bounded by the namespace, a time range and a
-- limit (no trigram index: pg_trgm is an extension a server may not have).
CREATE TABLE task_log (
	task_id   TEXT COLLATE "C" NOT NULL,
	attempt   BIGINT NOT NULL,
	seq       BIGINT NOT NULL,
	stream    TEXT NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
	level     TEXT NOT NULL,
	at        BIGINT NOT NULL,
	namespace TEXT COLLATE "C" NOT NULL,
	run_id    TEXT COLLATE "C" NOT NULL,
	queue     TEXT COLLATE "C" NOT NULL,
	text      TEXT NOT NULL,
	PRIMARY KEY (task_id, attempt, seq)
);
CREATE INDEX task_log_ns_at ON task_log (namespace, at);
CREATE INDEX task_log_at ON task_log (at);
CREATE INDEX task_log_run ON task_log (run_id, at);
