-- 0016_task_logs.sql — the lines an execution printed (an exec task's
-- process, a job's worker): one row per line, keyed by the task, its
-- attempt and a sequence number the engine assigns per (task, attempt).
-- namespace, run_id (the batch, or the task itself for a lone job) and
-- queue (the task's kind) are copied from the task when the line is
-- written, so that a search across executions reads this table alone.
-- level: 'info' for stdout and system lines, 'warn' for stderr, or what a
-- worker gave. text is at most 16 KiB (longer lines are cut and marked).
CREATE TABLE task_log (
	task_id   TEXT NOT NULL,
	attempt   INTEGER NOT NULL,
	seq       INTEGER NOT NULL,
	stream    TEXT NOT NULL CHECK (stream = 'stdout' OR stream = 'stderr' OR stream = 'system'),
	level     TEXT NOT NULL,
	at        INTEGER NOT NULL,
	namespace TEXT NOT NULL,
	run_id    TEXT NOT NULL,
	queue     TEXT NOT NULL,
	text      TEXT NOT NULL,
	PRIMARY KEY (task_id, attempt, seq)
) WITHOUT ROWID;
-- The search: a namespace's lines by time (then filtered); retention by age.
CREATE INDEX task_log_ns_at ON task_log (namespace, at);
CREATE INDEX task_log_at ON task_log (at);
CREATE INDEX task_log_run ON task_log (run_id, at);
