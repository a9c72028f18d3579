-- 0017_triggers.sql — incoming webhooks (/v1/hooks), events (/v1/events)
-- and their subscriptions (/v1/subscriptions).
--
-- hook: a named endpoint POST /v1/hooks/{name} that starts its target
-- (a job, a workflow run or a template run: canonical JSON, as a
-- schedule's) with the request's body as input. The secret is kept as
-- given: the signature of each delivery is computed from it.
-- hook_delivery: the deliveries seen within the replay window, by their
-- delivery id, with the run each started, so a delivery sent again
-- answers its run instead of starting another.
-- event: every event published, with or without a subscriber; its id is
-- the publisher's idempotency key in its namespace.
-- subscription: a topic pattern (exact, or a prefix when it ends with
-- ".*"; prefix keeps the part before the "*") and a target.
-- event_delivery: an event's start of a subscription's target, once per
-- (event, subscription), with the run it started.
CREATE TABLE hook (
	namespace          TEXT NOT NULL,
	name               TEXT NOT NULL,
	target_kind        TEXT NOT NULL CHECK (target_kind IN ('job', 'workflow', 'template')),
	target             TEXT NOT NULL,
	scheme             TEXT NOT NULL CHECK (scheme IN ('weft', 'github')),
	secret             TEXT NOT NULL,
	replay_window_secs INTEGER NOT NULL CHECK (replay_window_secs >= 1),
	deliveries         INTEGER NOT NULL DEFAULT 0,
	last_delivery_at   INTEGER,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL,
	PRIMARY KEY (namespace, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE hook_delivery (
	namespace    TEXT NOT NULL,
	hook         TEXT NOT NULL,
	delivery_id  TEXT NOT NULL,
	run_id       TEXT,
	job_id       TEXT,
	received_at  INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	PRIMARY KEY (namespace, hook, delivery_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX hook_delivery_expiry ON hook_delivery (namespace, hook, expires_at);

CREATE TABLE event (
	namespace    TEXT NOT NULL,
	id           TEXT NOT NULL,
	topic        TEXT NOT NULL,
	payload      TEXT NOT NULL,
	source       TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (namespace, id)
) STRICT, WITHOUT ROWID;
-- GET /v1/events: newest first
CREATE INDEX event_listing ON event (namespace, created_at, id);

CREATE TABLE subscription (
	namespace    TEXT NOT NULL,
	name         TEXT NOT NULL,
	topic        TEXT NOT NULL,
	prefix       TEXT,
	target_kind  TEXT NOT NULL CHECK (target_kind IN ('job', 'workflow', 'template')),
	target       TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (namespace, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE event_delivery (
	namespace    TEXT NOT NULL,
	event_id     TEXT NOT NULL,
	subscription TEXT NOT NULL,
	target_kind  TEXT NOT NULL,
	run_id       TEXT,
	job_id       TEXT,
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (namespace, event_id, subscription)
) STRICT, WITHOUT ROWID;

-- task_emit: a run's task that publishes an event when it ends (its
-- task field emit: {topic, on}); the task's shape has TASK_SHAPE_EMIT, so
-- only such tasks' ends read this table.
CREATE TABLE task_emit (
	task_id      TEXT NOT NULL PRIMARY KEY,
	namespace    TEXT NOT NULL,
	topic        TEXT NOT NULL,
	on_end       TEXT NOT NULL CHECK (on_end IN ('success', 'failure', 'end'))
) STRICT, WITHOUT ROWID;
