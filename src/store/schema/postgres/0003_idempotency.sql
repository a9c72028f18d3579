-- 0003_idempotency.sql — Idempotency-Key: a request that carries a key is
-- applied at most once. The first request with a key inserts it, with the
-- fingerprint of its method, path and body, in the transaction that applies
-- it, and records its outcome there; a later request with the same key gets
-- that outcome instead of being applied again (a node inserting a key that
-- another node's open transaction holds waits for that transaction). Keys
-- expire after IDEMPOTENCY_TTL_SECS (the created_at index serves the expiry
-- pass).
CREATE TABLE idempotency_key (
	key          TEXT PRIMARY KEY,
	fingerprint  TEXT NOT NULL,
	outcome      TEXT,
	created_at   BIGINT NOT NULL
);
CREATE INDEX idempotency_key_created ON idempotency_key (created_at);
