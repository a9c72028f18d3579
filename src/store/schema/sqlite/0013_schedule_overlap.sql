-- 0013_schedule_overlap.sql — schedules that start templates, and what a
-- firing skipped.
--
-- target_kind gains 'template' (a template run, a batch of tasks); a
-- CHECK cannot change in place here, so the table is made again.
-- last_run_id: the run the last firing started (a workflow run's id, a
-- template run's batch id; a job's own id), judged by overlap skip and
-- cancel_previous. skipped_fires, last_skipped_at: due times that started
-- nothing because the previous run had not ended (overlap skip).
CREATE TABLE schedule_new (
	namespace      TEXT NOT NULL,
	name           TEXT NOT NULL,
	cron           TEXT NOT NULL,
	timezone       TEXT NOT NULL,
	target_kind    TEXT NOT NULL CHECK (target_kind = 'job' OR target_kind = 'workflow' OR
	                                    target_kind = 'template'),
	target         TEXT NOT NULL,
	catchup        TEXT NOT NULL CHECK (catchup = 'none' OR catchup = 'one' OR catchup = 'all'),
	catchup_max    INTEGER NOT NULL DEFAULT 1 CHECK (catchup_max >= 1),
	overlap        TEXT NOT NULL CHECK (overlap = 'skip' OR overlap = 'queue' OR
	                                    overlap = 'cancel_previous'),
	paused         INTEGER NOT NULL DEFAULT 0 CHECK (paused = 0 OR paused = 1),
	next_fire_at   INTEGER,
	last_fire_at   INTEGER,
	last_job_id    TEXT,
	fires          INTEGER NOT NULL DEFAULT 0,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	last_run_id    TEXT,
	skipped_fires  INTEGER NOT NULL DEFAULT 0,
	last_skipped_at INTEGER,
	PRIMARY KEY (namespace, name)
) STRICT, WITHOUT ROWID;
INSERT INTO schedule_new (namespace, name, cron, timezone, target_kind, target, catchup, catchup_max, overlap,
                          paused, next_fire_at, last_fire_at, last_job_id, fires, created_at, updated_at,
                          last_run_id)
	SELECT namespace, name, cron, timezone, target_kind, target, catchup, catchup_max, overlap, paused,
	       next_fire_at, last_fire_at, last_job_id, fires, created_at, updated_at, last_job_id
	FROM schedule;
DROP TABLE schedule;
ALTER TABLE schedule_new RENAME TO schedule;
CREATE INDEX schedule_due ON schedule (next_fire_at)
	WHERE paused = 0 AND next_fire_at IS NOT NULL;
