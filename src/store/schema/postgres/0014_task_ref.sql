-- 0014_task_ref.sql — a /v1 run's task keeps its ref (unique in its run),
-- by which a decision task's result names the children it chooses
-- ({"next": [ref, ...]}). NULL for tasks submitted otherwise (ArcRun's
-- POST /task and /batch, lone jobs). Only live tasks need it: a task is
-- archived after it ended, and a decision reads its children while they
-- wait, so task_archive does not copy it.
ALTER TABLE task ADD COLUMN ref TEXT COLLATE "C";
