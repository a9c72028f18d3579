-- 0010_schedules.sql — cron schedules (/v1/schedules).
--
-- A schedule fires its target on a cron expression read on a zone's wall
-- clock (core/cron.h, core/tz.h). The `schedule` deadline kind reads the
-- rows due (next_fire_at <= now, not paused). Times are µs.
CREATE TABLE schedule (
	namespace      TEXT NOT NULL,
	name           TEXT NOT NULL,
	cron           TEXT NOT NULL,
	timezone       TEXT NOT NULL,
	-- what a firing starts: canonical JSON {"kind":"job","queue":...,
	-- "input":...,...}; kind is a column too so reads need not parse it
	target_kind    TEXT NOT NULL CHECK (target_kind = 'job' OR target_kind = 'workflow'),
	target         TEXT NOT NULL,
	-- after downtime: skip what was missed, fire once, or fire each missed
	-- time up to catchup_max
	catchup        TEXT NOT NULL CHECK (catchup = 'none' OR catchup = 'one' OR catchup = 'all'),
	catchup_max    INTEGER NOT NULL DEFAULT 1 CHECK (catchup_max >= 1),
	-- when a firing finds the previous one still running
	overlap        TEXT NOT NULL CHECK (overlap = 'skip' OR overlap = 'queue' OR
	                                    overlap = 'cancel_previous'),
	paused         INTEGER NOT NULL DEFAULT 0 CHECK (paused = 0 OR paused = 1),
	-- NULL when the expression never fires again
	next_fire_at   INTEGER,
	last_fire_at   INTEGER,
	-- the job the last firing started (overlap is judged on it)
	last_job_id    TEXT,
	fires          INTEGER NOT NULL DEFAULT 0,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	PRIMARY KEY (namespace, name)
) STRICT, WITHOUT ROWID;
-- The deadline's due rows, soonest first.
CREATE INDEX schedule_due ON schedule (next_fire_at)
	WHERE paused = 0 AND next_fire_at IS NOT NULL;
