-- 0011_templates.sql — templates (/v1/templates) and the runs started from them.
--
-- A template is a named, versioned DAG of steps (each a /v1/runs task).
-- A version is immutable: its body is kept as canonical JSON (keys sorted,
-- compact) with its SHA-256, so registering the same body again is told
-- apart from a different body under a version that exists. Times are µs.
CREATE TABLE template (
	id             TEXT NOT NULL PRIMARY KEY,
	namespace      TEXT NOT NULL,
	name           TEXT NOT NULL,
	version        TEXT NOT NULL,
	description    TEXT,
	body           TEXT NOT NULL,
	body_hash      TEXT NOT NULL,
	steps          INTEGER NOT NULL CHECK (steps >= 1),
	created_by     TEXT,
	created_at     INTEGER NOT NULL,
	UNIQUE (namespace, name, version)
) STRICT;
-- The list of a namespace, newest first (keyset pages on created_at, id).
CREATE INDEX template_list ON template (namespace, created_at DESC, id DESC);

-- A run (batch) started from a template: which version, with which
-- context. identity is what makes a repeated request answer the same run
-- ("ctx:<sha256 of the canonical context>" or "key:<idempotency key>"),
-- NULL when every request starts a new run; the unique index is the
-- arbiter when two nodes start the same one at once.
CREATE TABLE template_run (
	run_id           TEXT NOT NULL PRIMARY KEY,
	namespace        TEXT NOT NULL,
	template_name    TEXT NOT NULL,
	template_version TEXT NOT NULL,
	identity         TEXT,
	context          TEXT NOT NULL,
	created_at       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX template_run_identity ON template_run (namespace, template_name, template_version, identity)
	WHERE identity IS NOT NULL;
