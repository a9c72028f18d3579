-- 0006_task_counts.sql — the number of tasks in each status, kept by the
-- store in the transaction of every status change (src/store/counts.c), so
-- that GET /metrics reads these rows instead of counting every task.
-- The active statuses but paused share the row 'active' (a task moving
-- among them changes no count); when read, the pending, claimed, running
-- and retrying ones are counted along their partial indexes, and the
-- waiting ones are the rest. `slot` spreads the writes
-- of several nodes over several rows (PostgreSQL); a read sums them.
CREATE TABLE task_count (
	status TEXT NOT NULL,
	slot   INTEGER NOT NULL,
	n      INTEGER NOT NULL,
	PRIMARY KEY (status, slot)
) STRICT, WITHOUT ROWID;

INSERT INTO task_count (status, slot, n)
SELECT CASE WHEN status IN ('waiting', 'pending', 'claimed', 'running', 'retrying') THEN 'active'
            ELSE status END, 0, count(*)
FROM task GROUP BY 1;
