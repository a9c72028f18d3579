-- 0005_task_counts.sql — the number of tasks in each status, kept by the
-- store in the transaction of every status change (src/store/counts.c), so
-- that GET /metrics reads these rows instead of counting every task.
-- The active statuses but paused share the row 'active' (a task moving
-- among them changes no count); when read, the pending, claimed, running
-- and retrying ones are counted along their partial indexes, and the
-- waiting ones are the rest. Each connection adds to its own `slot` of a
-- status, so that nodes rarely queue on one row; a read sums them.
CREATE TABLE task_count (
	status text NOT NULL,
	slot   integer NOT NULL,
	n      bigint NOT NULL,
	PRIMARY KEY (status, slot)
);

INSERT INTO task_count (status, slot, n)
SELECT CASE WHEN status IN ('waiting', 'pending', 'claimed', 'running', 'retrying') THEN 'active'
            ELSE status END, 0, count(*)
FROM task GROUP BY 1;
