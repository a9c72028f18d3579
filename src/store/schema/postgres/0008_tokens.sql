-- 0008_tokens.sql — bearer tokens made over the API (/v1/tokens).
--
-- Only the SHA-256 of a secret is kept (64 hex digits), unique: a presented
-- token is looked up by it. namespaces is "*" or the names joined by ','.
-- A revoked token keeps its row (revoked_at, revoked_by), so its name stays
-- taken and the list shows who revoked it. last_used_at is written at most
-- once a minute per token and node.
CREATE TABLE api_token (
	name         TEXT COLLATE "C" PRIMARY KEY,
	digest       TEXT COLLATE "C" NOT NULL UNIQUE,
	namespaces   TEXT NOT NULL,
	admin        INTEGER NOT NULL,
	created_at   BIGINT NOT NULL,
	created_by   TEXT NOT NULL,
	expires_at   BIGINT,
	revoked_at   BIGINT,
	revoked_by   TEXT,
	last_used_at BIGINT
);

-- The trail of token changes, as queue_event is the queues'.
CREATE TABLE token_event (
	id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name   TEXT COLLATE "C" NOT NULL,
	at     BIGINT NOT NULL,
	actor  TEXT NOT NULL,
	action TEXT NOT NULL
);
CREATE INDEX token_event_name ON token_event (name, at);
