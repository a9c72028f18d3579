-- 0008_tokens.sql — bearer tokens made over the API (/v1/tokens).
--
-- Only the SHA-256 of a secret is kept (64 hex digits), unique: a presented
-- token is looked up by it. namespaces is "*" or the names joined by ','.
-- A revoked token keeps its row (revoked_at, revoked_by), so its name stays
-- taken and the list shows who revoked it. last_used_at is written at most
-- once a minute per token and node.
CREATE TABLE api_token (
	name         TEXT PRIMARY KEY,
	digest       TEXT NOT NULL UNIQUE,
	namespaces   TEXT NOT NULL,
	admin        INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	created_by   TEXT NOT NULL,
	expires_at   INTEGER,
	revoked_at   INTEGER,
	revoked_by   TEXT,
	last_used_at INTEGER
) STRICT;

-- The trail of token changes, as queue_event is the queues'.
CREATE TABLE token_event (
	id     INTEGER PRIMARY KEY,
	name   TEXT NOT NULL,
	at     INTEGER NOT NULL,
	actor  TEXT NOT NULL,
	action TEXT NOT NULL
) STRICT;
CREATE INDEX token_event_name ON token_event (name, at);
