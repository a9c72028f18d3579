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
	namespace          TEXT COLLATE "C" NOT NULL,
	name               TEXT COLLATE "C" NOT NULL,
	target_kind        TEXT COLLATE "C" NOT NULL CHECK (target_kind IN ('job', 'workflow', 'template')),
	target             TEXT COLLATE "C" NOT NULL,
	scheme             TEXT COLLATE "C" NOT NULL CHECK (scheme IN ('weft', 'github')),
	secret             TEXT COLLATE "C" NOT NULL,
	replay_window_secs BIGINT NOT NULL CHECK (replay_window_secs >= 1),
	deliveries         BIGINT NOT NULL DEFAULT 0,
	last_delivery_at   BIGINT,
	created_at         BIGINT NOT NULL,
	updated_at         BIGINT NOT NULL,
	PRIMARY KEY (namespace, name)
);

CREATE TABLE hook_delivery (
	namespace    TEXT COLLATE "C" NOT NULL,
	hook         TEXT COLLATE "C" NOT NULL,
	delivery_id  TEXT COLLATE "C" NOT NULL,
	run_id       TEXT,
	job_id       TEXT,
	received_at  BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	PRIMARY KEY (namespace, hook, delivery_id)
);
CREATE INDEX hook_delivery_expiry ON hook_delivery (namespace, hook, expires_at);

CREATE TABLE event (
	namespace    TEXT COLLATE "C" NOT NULL,
	id           TEXT COLLATE "C" NOT NULL,
	topic        TEXT COLLATE "C" NOT NULL,
	payload      TEXT COLLATE "C" NOT NULL,
	source       TEXT COLLATE "C" NOT NULL,
	created_at   BIGINT NOT NULL,
	PRIMARY KEY (namespace, id)
);
-- GET /v1/events: newest first
CREATE INDEX event_listing ON event (namespace, created_at, id);

CREATE TABLE subscription (
	namespace    TEXT COLLATE "C" NOT NULL,
	name         TEXT COLLATE "C" NOT NULL,
	topic        TEXT COLLATE "C" NOT NULL,
	prefix       TEXT,
	target_kind  TEXT COLLATE "C" NOT NULL CHECK (target_kind IN ('job', 'workflow', 'template')),
	target       TEXT COLLATE "C" NOT NULL,
	created_at   BIGINT NOT NULL,
	PRIMARY KEY (namespace, name)
);

CREATE TABLE event_delivery (
	namespace    TEXT COLLATE "C" NOT NULL,
	event_id     TEXT COLLATE "C" NOT NULL,
	subscription TEXT COLLATE "C" NOT NULL,
	target_kind  TEXT COLLATE "C" NOT NULL,
	run_id       TEXT,
	job_id       TEXT,
	created_at   BIGINT NOT NULL,
	PRIMARY KEY (namespace, event_id, subscription)
);

-- task_emit: a run's task that publishes an event when it ends (its
-- task field emit: {topic, on}); the task's shape has TASK_SHAPE_EMIT, so
-- only such tasks' ends read this table.
CREATE TABLE task_emit (
	task_id      TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	namespace    TEXT COLLATE "C" NOT NULL,
	topic        TEXT COLLATE "C" NOT NULL,
	on_end       TEXT COLLATE "C" NOT NULL CHECK (on_end IN ('success', 'failure', 'end'))
);
