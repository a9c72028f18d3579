-- 0013_schedule_overlap.sql — schedules that start templates, and what a
-- firing skipped.
--
-- target_kind gains 'template' (a template run, a batch of tasks).
-- last_run_id: the run the last firing started (a workflow run's id, a
-- template run's batch id; a job's own id), judged by overlap skip and
-- cancel_previous. skipped_fires, last_skipped_at: due times that started
-- nothing because the previous run had not ended (overlap skip).
ALTER TABLE schedule DROP CONSTRAINT schedule_target_kind_check;
ALTER TABLE schedule ADD CONSTRAINT schedule_target_kind_check
	CHECK (target_kind IN ('job', 'workflow', 'template'));
ALTER TABLE schedule ADD COLUMN last_run_id TEXT COLLATE "C";
ALTER TABLE schedule ADD COLUMN skipped_fires BIGINT NOT NULL DEFAULT 0;
ALTER TABLE schedule ADD COLUMN last_skipped_at BIGINT;
UPDATE schedule SET last_run_id = last_job_id;
