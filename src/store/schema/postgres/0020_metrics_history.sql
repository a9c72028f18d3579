-- 0020_metrics_history.sql — what the server counted, a row a minute per
-- node (store/metrics_history.c): tasks created, completed, failed and
-- retried in the minute, the start latency's percentiles, and the queue
-- depth and running tasks at its end. Deleted after METRICS_HISTORY_DAYS
-- by the retention pass.

CREATE TABLE metrics_history (
	at             BIGINT NOT NULL,
	node           TEXT COLLATE "C" NOT NULL,
	created        BIGINT NOT NULL,
	completed      BIGINT NOT NULL,
	failed         BIGINT NOT NULL,
	retried        BIGINT NOT NULL,
	latency_p50_ms BIGINT,
	latency_p95_ms BIGINT,
	latency_p99_ms BIGINT,
	queue_depth    BIGINT NOT NULL,
	running        BIGINT NOT NULL,
	PRIMARY KEY (at, node)
);
