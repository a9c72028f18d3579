/*
 * config.h — server settings, from environment variables (ArcRun's names
 * where it has one) overridden by command-line flags.
 *
 * Precedence: flag > environment > default. A malformed value is a start-up
 * error naming the variable. DATABASE_URL and HOST_URL are optional here
 * (ArcRun required them): the defaults are ./weft.db and
 * http://localhost:<port>.
 */
#ifndef WEFT_CONFIG_H
#define WEFT_CONFIG_H

#include "util/common.h"
#include "exec/ssrf.h"

typedef struct weft_config {
	int port;                        /* PORT, --port; 8085 */
	char *host_url;                  /* HOST_URL, --host; http://localhost:<port> (no trailing '/') */
	char *db_url;                    /* DATABASE_URL or WEFT_DB, --db; "./weft.db" */
	bool sync_full;                  /* --durability full|normal (WEFT_DURABILITY); full */
	int64_t pagination_default;      /* PAGINATION_DEFAULT 50 */
	int64_t pagination_max;          /* PAGINATION_MAX 100 */
	int64_t worker_loop_interval_ms; /* WORKER_LOOP_INTERVAL_MS 1000: safety sweep period */
	int64_t claim_timeout_secs;      /* WORKER_CLAIM_TIMEOUT_SECS 30 */
	int webhook_concurrency;         /* WORKER_WEBHOOK_CONCURRENCY 10 */
	int64_t webhook_timeout_ms;      /* WEBHOOK_TIMEOUT_MS 10000 */
	bool dead_end_cancel;            /* DEAD_END_CANCEL_ENABLED 1 */
	ssrf_policy ssrf;                /* SKIP_SSRF_VALIDATION 0, BLOCKED_HOSTNAMES, BLOCKED_HOSTNAME_SUFFIXES */
	size_t payload_max_bytes;        /* PAYLOAD_MAX_BYTES 2097152 */
	size_t max_tasks_per_batch;      /* MAX_TASKS_PER_BATCH 100000 */
	size_t max_deps_per_task;        /* MAX_DEPS_PER_TASK 100 */
	size_t max_actions_per_task;     /* MAX_ACTIONS_PER_TASK 20 */
	int json_max_depth;              /* JSON_MAX_DEPTH 64 */
	int max_connections;             /* MAX_CONNECTIONS 1024 */
	int max_connections_per_ip;      /* MAX_CONNECTIONS_PER_IP 256: past the first request
	                                  * header; as many more may wait for theirs */
	int64_t header_timeout_us;       /* HTTP_HEADER_TIMEOUT_SECS 5: a new connection's first
	                                  * request header must be in by then */
	int idle_timeout_secs;           /* HTTP_IDLE_TIMEOUT_SECS 60: silence allowed once past
	                                  * the first header (keep-alive, slow bodies) */
	int http_threads;                /* HTTP_THREADS 4 */
	int db_readers;                  /* DB_READERS 8 */
	int db_cache_mb;                 /* DB_CACHE_MB 32: database page cache of the process */
	char *log_level;                 /* WEFT_LOG or RUST_LOG: error|warn|info|debug; info */
	char *auth_token;                /* AUTH_TOKEN: bearer token required on every route but
	                                  * /health, /ready and the web UI's files; NULL = no authentication */
	char *tokens_file;               /* WEFT_TOKENS_FILE: tokens with namespaces and roles, one a
	                                  * line (http/tokens.h); read again on SIGHUP */
	char *tokens;                    /* WEFT_TOKENS: the same lines joined by ';' */
	size_t v1_payload_max_bytes;     /* V1_PAYLOAD_MAX_BYTES 16777216: largest /v1 request body */
	/* outbox of end, cancel and batch-complete webhooks */
	int delivery_concurrency;        /* WEBHOOK_DELIVERY_CONCURRENCY 10 */
	int webhook_max_attempts;        /* WEBHOOK_MAX_ATTEMPTS 10 */
	int64_t backoff_base_us;         /* WEBHOOK_RETRY_BACKOFF_BASE_SECS 2 (fractions allowed) */
	int64_t backoff_cap_us;          /* WEBHOOK_RETRY_BACKOFF_CAP_SECS 300 */
	int64_t delivery_lease_us;       /* WEBHOOK_DELIVERY_LEASE_SECS 120 */
	char *signing_secret;            /* WEBHOOK_SIGNING_SECRET: HMAC-SHA256 signature; NULL = off */
	/* retention: archive terminal tasks older than this; 0 = keep forever */
	int64_t archive_after_us;        /* RETENTION_ARCHIVE_DAYS 0, or RETENTION_ARCHIVE_AFTER_SECS */
	int64_t workflow_retention_us;   /* RETENTION_WORKFLOW_DAYS 0, or RETENTION_WORKFLOW_AFTER_SECS */
	int64_t audit_retention_us;      /* AUDIT_RETENTION_DAYS 90, or AUDIT_RETENTION_AFTER_SECS; 0 = keep */
	int64_t event_retention_us;      /* EVENT_RETENTION_DAYS 0, or EVENT_RETENTION_AFTER_SECS; 0 = keep */
	int64_t retention_interval_us;   /* RETENTION_CLEANUP_INTERVAL_SECS 3600 */
	int retention_batch;             /* RETENTION_BATCH_SIZE 1000 */
	int engine_queue_max;            /* ENGINE_QUEUE_MAX 10000: commands waiting for the engine */
	int64_t idempotency_ttl_us;      /* IDEMPOTENCY_TTL_SECS 86400: how long a key is remembered */
	int64_t slow_query_ms;           /* SLOW_QUERY_THRESHOLD_MS 100 */
	/* the exec executor: tasks run as local child processes */
	bool allow_exec;                 /* WEFT_ALLOW_EXEC, --allow-exec: 0 (refused at submit) */
	char *exec_allow;                /* EXEC_ALLOW: programs allowed, ':'-separated absolute paths
	                                  * or names; NULL = any */
	int exec_concurrency;            /* EXEC_CONCURRENCY 8: children running at once */
	int64_t exec_kill_grace_ms;      /* EXEC_KILL_GRACE_MS 5000: SIGTERM to SIGKILL */
	char *node_id;                   /* WEFT_NODE_ID: this node's name in the tasks it runs;
	                                  * NULL = <hostname>:<port> */
	/* per-execution logs */
	int log_buffer_lines;            /* LOG_BUFFER_LINES 10000: lines an execution may have waiting */
	int64_t log_buffer_bytes;        /* LOG_BUFFER_BYTES 8388608: their bytes */
	int64_t log_retention_us;        /* LOG_RETENTION_DAYS 0 (keep), or LOG_RETENTION_AFTER_SECS */
	int log_streams_max;             /* LOG_STREAMS_MAX 64: live log streams (SSE) at once */
	int64_t metrics_history_us;      /* METRICS_HISTORY_DAYS 7: metrics history rows kept */
	int ui_streams_max;              /* UI_STREAMS_MAX 256: change feed streams (SSE) at once */
	char *ui_dir;                    /* WEFT_UI_DIR, --ui-dir: serve the web UI from this directory
	                                  * (a vite build) instead of the copy built in; NULL = built in */
} weft_config;

/* Fills cfg from the environment and argv (argv[0] is the subcommand,
 * e.g. "serve"). Returns 0; 1 when --help was printed; -1 with a message
 * on stderr for a bad value or an unknown flag. */
int config_load(weft_config *cfg, int argc, char **argv);
void config_release(weft_config *cfg);
/* The `weft serve --help` text. */
void config_print_help(FILE *out);
/* Whether the allow-list (EXEC_ALLOW) lets argv0 run: NULL list = any;
 * an entry with '/' matches argv0 exactly, a name matches argv0 equal
 * to it. */
bool config_exec_allowed(const weft_config *cfg, const char *argv0);

#endif
