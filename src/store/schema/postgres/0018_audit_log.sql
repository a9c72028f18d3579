-- 0018_audit_log.sql — the audit log: every operator action and
-- configuration change, written in the transaction that makes it (see
-- docs/internals/audit.md).
--
-- id is a UUIDv7 (time-ordered), so (at, id) orders rows for the keyset
-- paging of GET /v1/audit. namespace is '' for what belongs to none (a
-- token). actor is the acting token's name, or "system" / "schedule" for
-- the server's own actions. detail is a bounded JSON object, never a
-- secret. Listings read newest first along (at, id), filtered by one of
-- the leading columns of an index.
CREATE TABLE audit_log (
	id          TEXT COLLATE "C" PRIMARY KEY,
	at          BIGINT NOT NULL,
	namespace   TEXT COLLATE "C" NOT NULL,
	actor       TEXT COLLATE "C" NOT NULL,
	action      TEXT COLLATE "C" NOT NULL,
	object_kind TEXT COLLATE "C" NOT NULL,
	object_id   TEXT COLLATE "C" NOT NULL,
	detail      TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_actor ON audit_log (actor, at, id);
CREATE INDEX audit_log_object ON audit_log (object_kind, object_id, at, id);
CREATE INDEX audit_log_namespace ON audit_log (namespace, at, id);
