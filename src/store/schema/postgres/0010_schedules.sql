-- 0010_schedules.sql — cron schedules (/v1/schedules).
--
-- A schedule fires its target on a cron expression read on a zone's wall
-- clock (core/cron.h, core/tz.h). The `schedule` deadline kind reads the
-- rows due (next_fire_at <= now, not paused). Times are µs.
CREATE TABLE schedule (
	namespace      TEXT COLLATE "C" NOT NULL,
	name           TEXT COLLATE "C" NOT NULL,
	cron           TEXT NOT NULL,
	timezone       TEXT COLLATE "C" NOT NULL,
	-- what a firing starts: canonical JSON {"kind":"job","queue":...,
	-- "input":...,...}; kind is a column too so reads need not parse it
	target_kind    TEXT NOT NULL CHECK (target_kind IN ('job', 'workflow')),
	target         TEXT NOT NULL,
	-- after downtime: skip what was missed, fire once, or fire each missed
	-- time up to catchup_max
	catchup        TEXT NOT NULL CHECK (catchup IN ('none', 'one', 'all')),
	catchup_max    BIGINT NOT NULL DEFAULT 1 CHECK (catchup_max >= 1),
	-- when a firing finds the previous one still running
	overlap        TEXT NOT NULL CHECK (overlap IN ('skip', 'queue', 'cancel_previous')),
	paused         INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
	-- NULL when the expression never fires again
	next_fire_at   BIGINT,
	last_fire_at   BIGINT,
	-- the job the last firing started (overlap is judged on it)
	last_job_id    TEXT COLLATE "C",
	fires          BIGINT NOT NULL DEFAULT 0,
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL,
	PRIMARY KEY (namespace, name)
);
-- The deadline's due rows, soonest first.
CREATE INDEX schedule_due ON schedule (next_fire_at)
	WHERE paused = 0 AND next_fire_at IS NOT NULL;
