-- 0020_metrics_history.sql — what the server counted, a row a minute per
-- node (store/metrics_history.c): tasks created, completed, failed and
-- retried in the minute, the start latency's percentiles, and the queue
-- depth and running tasks at its end. Deleted after METRICS_HISTORY_DAYS
-- by the retention pass.

CREATE TABLE metrics_history (
	at             INTEGER NOT NULL,
	node           TEXT NOT NULL,
	created        INTEGER NOT NULL,
	completed      INTEGER NOT NULL,
	failed         INTEGER NOT NULL,
	retried        INTEGER NOT NULL,
	latency_p50_ms INTEGER,
	latency_p95_ms INTEGER,
	latency_p99_ms INTEGER,
	queue_depth    INTEGER NOT NULL,
	running        INTEGER NOT NULL,
	PRIMARY KEY (at, node)
) STRICT, WITHOUT ROWID;
