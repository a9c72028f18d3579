-- 0012_workflow_listing.sql — the workflow runs of every namespace, newest
-- first (docs/internals/workflows.md, "The list's status filter and
-- indexes"): GET /v1/workflows for a token that sees every namespace
-- names none, which workflow_run_created (namespace first) cannot serve;
-- without this index each page sorted every run.
CREATE INDEX workflow_run_created_all ON workflow_run (created_at DESC, id DESC);
