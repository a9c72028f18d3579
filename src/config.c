/*
 * config.c — server settings from defaults, the environment and flags
 * (see config.h).
 *
 * One table describes every setting: its environment names, its flag, the
 * accepted range and the default (as text, parsed by the same code as any
 * other value). Loading applies defaults, then the environment, then flags,
 * and the --help text is printed from the same table, so the three cannot
 * drift apart.
 */
#include "config.h"
#include "util/alloc.h"
#include "util/log.h"

#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum kind {
	K_INT,         /* int field */
	K_I64,         /* int64_t field */
	K_SIZE,        /* size_t field */
	K_BOOL,        /* bool field */
	K_DB,          /* char *db_url */
	K_HOST,        /* char *host_url */
	K_DURABILITY,  /* bool sync_full */
	K_LOG,         /* char *log_level */
	K_SSRF_HOSTS,  /* appended to ssrf.blocked_hosts */
	K_SSRF_SUFFIXES,
	K_SECRET,      /* char *, optional, never shown */
	K_DIR,         /* char *, optional: a directory that exists at start-up */
	K_SECS,        /* int64_t µs from decimal seconds ("0.25"); min/max in whole seconds */
	K_DAYS,        /* int64_t µs from whole days */
};

struct setting {
	const char *env[2];   /* the first one set wins */
	const char *flag;     /* NULL: environment only */
	const char *metavar;
	enum kind kind;
	size_t off;
	int64_t min, max;
	const char *def;      /* NULL: no value (computed or built in) */
	const char *shown;    /* default as shown by --help when def is NULL */
	const char *help;
};

#define F(field) offsetof(weft_config, field)

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static const struct setting settings[] = {
	{ { "WEFT_DB", "DATABASE_URL" }, "--db", "URL", K_DB, F(db_url), 0, 0, "./weft.db", NULL,
	  "SQLite file path or postgres:// URL" },
	{ { "PORT" }, "--port", "N", K_INT, F(port), 1, 65535, "8085", NULL,
	  "TCP port to listen on" },
	{ { "HOST_URL" }, "--host", "URL", K_HOST, F(host_url), 0, 0, NULL, "http://localhost:PORT",
	  "public base URL of this server (used in handle links)" },
	{ { "WEFT_DURABILITY" }, "--durability", "MODE", K_DURABILITY, F(sync_full), 0, 0, "full",
	  NULL, "full, or normal: faster, may lose the last commits on power loss" },
	{ { "WEFT_LOG", "RUST_LOG" }, NULL, NULL, K_LOG, F(log_level), 0, 0, "info", NULL,
	  "log level: error, warn, info or debug" },
	{ { "PAGINATION_DEFAULT" }, NULL, NULL, K_I64, F(pagination_default), 1, 100000, "50", NULL,
	  "page size of list requests that give none" },
	{ { "PAGINATION_MAX" }, NULL, NULL, K_I64, F(pagination_max), 1, 100000, "100", NULL,
	  "largest page size a list request may ask for" },
	{ { "WORKER_LOOP_INTERVAL_MS" }, NULL, NULL, K_I64, F(worker_loop_interval_ms), 1, 3600000,
	  "60000", NULL, "period of the safety sweep (ms); tasks start on wake-ups, not on this loop" },
	{ { "WORKER_CLAIM_TIMEOUT_SECS" }, NULL, NULL, K_I64, F(claim_timeout_secs), 1, 604800, "30",
	  NULL, "seconds before a task stuck in Claimed is requeued" },
	{ { "WORKER_WEBHOOK_CONCURRENCY" }, NULL, NULL, K_INT, F(webhook_concurrency), 1, 10000, "10",
	  NULL, "webhook calls in flight at once" },
	{ { "WEBHOOK_TIMEOUT_MS" }, NULL, NULL, K_I64, F(webhook_timeout_ms), 1, 3600000, "10000", NULL,
	  "timeout of one webhook call (ms)" },
	{ { "DEAD_END_CANCEL_ENABLED" }, NULL, NULL, K_BOOL, F(dead_end_cancel), 0, 0, "1", NULL,
	  "cancel ancestors whose children are all terminal" },
	{ { "SKIP_SSRF_VALIDATION" }, NULL, NULL, K_BOOL, F(ssrf.skip), 0, 0, "0", NULL,
	  "check only the syntax of webhook URLs, not their hosts" },
	{ { "BLOCKED_HOSTNAMES" }, NULL, NULL, K_SSRF_HOSTS, 0, 0, 0, NULL, "built-in list",
	  "more webhook hosts to refuse, comma-separated" },
	{ { "BLOCKED_HOSTNAME_SUFFIXES" }, NULL, NULL, K_SSRF_SUFFIXES, 0, 0, 0, NULL, "built-in list",
	  "more webhook host suffixes to refuse, comma-separated" },
	{ { "PAYLOAD_MAX_BYTES" }, NULL, NULL, K_SIZE, F(payload_max_bytes), 1, 1073741824, "2097152",
	  NULL, "largest request body (bytes)" },
	{ { "V1_PAYLOAD_MAX_BYTES" }, NULL, NULL, K_SIZE, F(v1_payload_max_bytes), 1, 1073741824, "16777216",
	  NULL, "largest request body of the /v1 API (bytes)" },
	{ { "MAX_TASKS_PER_BATCH" }, NULL, NULL, K_SIZE, F(max_tasks_per_batch), 1, 10000000, "100000",
	  NULL, "most tasks in one submitted batch" },
	{ { "MAX_DEPS_PER_TASK" }, NULL, NULL, K_SIZE, F(max_deps_per_task), 1, 1000000, "100", NULL,
	  "most dependencies of one task" },
	{ { "MAX_ACTIONS_PER_TASK" }, NULL, NULL, K_SIZE, F(max_actions_per_task), 1, 1000000, "20",
	  NULL, "most webhook actions of one task" },
	{ { "JSON_MAX_DEPTH" }, NULL, NULL, K_INT, F(json_max_depth), 1, 1000, "64", NULL,
	  "deepest JSON nesting accepted in a request body" },
	{ { "MAX_CONNECTIONS" }, NULL, NULL, K_INT, F(max_connections), 1, 1000000, "1024", NULL,
	  "most simultaneous HTTP connections" },
	{ { "MAX_CONNECTIONS_PER_IP" }, NULL, NULL, K_INT, F(max_connections_per_ip), 1, 1000000, "256", NULL,
	  "most HTTP connections from one address (raise it behind a proxy)" },
	{ { "HTTP_HEADER_TIMEOUT_SECS" }, NULL, NULL, K_SECS, F(header_timeout_us), 1, 3600, "5", NULL,
	  "a new connection is closed when its first request header is not in by then (seconds)" },
	{ { "HTTP_IDLE_TIMEOUT_SECS" }, NULL, NULL, K_INT, F(idle_timeout_secs), 1, 86400, "60", NULL,
	  "a connection past its first request may be silent this long: between keep-alive requests, "
	  "within a body (seconds)" },
	{ { "HTTP_THREADS" }, NULL, NULL, K_INT, F(http_threads), 1, 1024, "4", NULL,
	  "HTTP server threads" },
	{ { "AUTH_TOKEN" }, NULL, NULL, K_SECRET, F(auth_token), 0, 0, NULL, "none",
	  "bearer token required on every route but /health, /ready and the web UI's files" },
	{ { "WEFT_TOKENS_FILE" }, NULL, NULL, K_SECRET, F(tokens_file), 0, 0, NULL, "none",
	  "file of bearer tokens with namespaces and roles, one per line: name secret namespaces role "
	  "(read again on SIGHUP)" },
	{ { "WEFT_TOKENS" }, NULL, NULL, K_SECRET, F(tokens), 0, 0, NULL, "none",
	  "bearer tokens as in WEFT_TOKENS_FILE, the lines joined by ';'" },
	{ { "WEBHOOK_DELIVERY_CONCURRENCY" }, NULL, NULL, K_INT, F(delivery_concurrency), 1, 10000, "10",
	  NULL, "end, cancel and batch-complete webhooks in flight at once" },
	{ { "WEBHOOK_MAX_ATTEMPTS" }, NULL, NULL, K_INT, F(webhook_max_attempts), 1, 1000, "10", NULL,
	  "delivery attempts before a webhook is marked exhausted" },
	{ { "WEBHOOK_RETRY_BACKOFF_BASE_SECS" }, NULL, NULL, K_SECS, F(backoff_base_us), 0, 86400, "2",
	  NULL, "delay before the first redelivery; doubles each attempt (seconds, fractions allowed)" },
	{ { "WEBHOOK_RETRY_BACKOFF_CAP_SECS" }, NULL, NULL, K_SECS, F(backoff_cap_us), 0, 604800, "300",
	  NULL, "longest delay between two delivery attempts (seconds)" },
	{ { "WEBHOOK_DELIVERY_LEASE_SECS" }, NULL, NULL, K_SECS, F(delivery_lease_us), 1, 86400, "120",
	  NULL, "how long a delivery in flight is reserved before another attempt may take it" },
	{ { "WEBHOOK_SIGNING_SECRET" }, NULL, NULL, K_SECRET, F(signing_secret), 0, 0, NULL, "none",
	  "sign every outgoing webhook (X-Weft-Signature, HMAC-SHA256)" },
	{ { "RETENTION_ARCHIVE_DAYS" }, NULL, NULL, K_DAYS, F(archive_after_us), 0, 36500, "0", NULL,
	  "archive terminal tasks ended this many days ago; 0 keeps them forever" },
	{ { "RETENTION_ARCHIVE_AFTER_SECS" }, NULL, NULL, K_SECS, F(archive_after_us), 0, 3153600000, NULL,
	  "unset", "the same in seconds (overrides RETENTION_ARCHIVE_DAYS)" },
	{ { "RETENTION_WORKFLOW_DAYS" }, NULL, NULL, K_DAYS, F(workflow_retention_us), 0, 36500, "0", NULL,
	  "delete workflow runs (with their steps and signals) ended this many days ago; 0 keeps them forever" },
	{ { "RETENTION_WORKFLOW_AFTER_SECS" }, NULL, NULL, K_SECS, F(workflow_retention_us), 0, 3153600000, NULL,
	  "unset", "the same in seconds (overrides RETENTION_WORKFLOW_DAYS)" },
	{ { "AUDIT_RETENTION_DAYS" }, NULL, NULL, K_DAYS, F(audit_retention_us), 0, 36500, "90", NULL,
	  "delete audit log entries recorded this many days ago; 0 keeps them forever" },
	{ { "AUDIT_RETENTION_AFTER_SECS" }, NULL, NULL, K_SECS, F(audit_retention_us), 0, 3153600000, NULL,
	  "unset", "the same in seconds (overrides AUDIT_RETENTION_DAYS)" },
	{ { "EVENT_RETENTION_DAYS" }, NULL, NULL, K_DAYS, F(event_retention_us), 0, 36500, "0", NULL,
	  "delete events (with their deliveries) published this many days ago; 0 keeps them forever" },
	{ { "EVENT_RETENTION_AFTER_SECS" }, NULL, NULL, K_SECS, F(event_retention_us), 0, 3153600000, NULL,
	  "unset", "the same in seconds (overrides EVENT_RETENTION_DAYS)" },
	{ { "RETENTION_CLEANUP_INTERVAL_SECS" }, NULL, NULL, K_SECS, F(retention_interval_us), 0, 604800,
	  "3600", NULL, "how often the archiving pass runs (seconds)" },
	{ { "RETENTION_BATCH_SIZE" }, NULL, NULL, K_INT, F(retention_batch), 1, 1000000, "1000", NULL,
	  "most tasks archived by one transaction" },
	{ { "IDEMPOTENCY_TTL_SECS" }, NULL, NULL, K_SECS, F(idempotency_ttl_us), 1, 31536000, "86400", NULL,
	  "how long an Idempotency-Key is remembered: a request repeating it within that time gets the "
	  "first one's answer (seconds)" },
	{ { "ENGINE_QUEUE_MAX" }, NULL, NULL, K_INT, F(engine_queue_max), 1, 10000000, "10000", NULL,
	  "most commands waiting for the engine; past it requests are answered 503 at once" },
	{ { "SLOW_QUERY_THRESHOLD_MS" }, NULL, NULL, K_I64, F(slow_query_ms), 1, 3600000, "100", NULL,
	  "statements slower than this count in slow_queries_total (ms)" },
	{ { "WEFT_ALLOW_EXEC" }, "--allow-exec", "", K_BOOL, F(allow_exec), 0, 0, "0", NULL,
	  "run tasks with \"executor\": \"exec\" as local child processes (refused at submit otherwise)" },
	{ { "EXEC_ALLOW" }, NULL, NULL, K_SECRET, F(exec_allow), 0, 0, NULL, "any",
	  "programs exec tasks may run: absolute paths or names, ':'-separated" },
	{ { "EXEC_CONCURRENCY" }, NULL, NULL, K_INT, F(exec_concurrency), 1, 4096, "8", NULL,
	  "exec tasks running at once on this node" },
	{ { "EXEC_KILL_GRACE_MS" }, NULL, NULL, K_I64, F(exec_kill_grace_ms), 1, 3600000, "5000", NULL,
	  "after a timeout or cancel, how long an exec task's processes get between SIGTERM and SIGKILL (ms)" },
	{ { "WEFT_NODE_ID" }, NULL, NULL, K_SECRET, F(node_id), 0, 0, NULL, "HOSTNAME:PORT",
	  "this node's name, kept stable across restarts (the exec tasks it was running are recovered)" },
	{ { "LOG_BUFFER_LINES" }, NULL, NULL, K_INT, F(log_buffer_lines), 1, 10000000, "10000", NULL,
	  "log lines of one execution waiting to be written; past it the oldest are dropped (and the "
	  "drop recorded)" },
	{ { "LOG_BUFFER_BYTES" }, NULL, NULL, K_I64, F(log_buffer_bytes), 65536, 1073741824, "8388608", NULL,
	  "bytes of log lines of one execution waiting to be written" },
	{ { "LOG_RETENTION_DAYS" }, NULL, NULL, K_DAYS, F(log_retention_us), 0, 36500, "0", NULL,
	  "delete log lines older than this many days; 0 keeps them (until their task is archived)" },
	{ { "LOG_RETENTION_AFTER_SECS" }, NULL, NULL, K_SECS, F(log_retention_us), 0, 3153600000, NULL,
	  "unset", "the same in seconds (overrides LOG_RETENTION_DAYS)" },
	{ { "LOG_STREAMS_MAX" }, NULL, NULL, K_INT, F(log_streams_max), 1, 100000, "64", NULL,
	  "live log streams (GET /v1/tasks/{id}/logs?follow=true) open at once" },
	{ { "METRICS_HISTORY_DAYS" }, NULL, NULL, K_DAYS, F(metrics_history_us), 0, 36500, "7", NULL,
	  "keep the metrics history (GET /v1/metrics/history) this many days; 0 keeps it" },
	{ { "METRICS_HISTORY_AFTER_SECS" }, NULL, NULL, K_SECS, F(metrics_history_us), 0, 3153600000, NULL,
	  "unset", "the same in seconds (overrides METRICS_HISTORY_DAYS)" },
	{ { "UI_STREAMS_MAX" }, NULL, NULL, K_INT, F(ui_streams_max), 1, 100000, "256", NULL,
	  "change feed streams (GET /v1/changes, the web UI's live updates) open at once" },
	{ { "DB_READERS" }, NULL, NULL, K_INT, F(db_readers), 1, 1024, "8", NULL,
	  "read-only database connections" },
	{ { "DB_CACHE_MB" }, NULL, NULL, K_INT, F(db_cache_mb), 1, 1048576, "32", NULL,
	  "database page cache of the whole process (MiB; SQLite: half the writer's, half the readers')" },
	{ { "WEFT_UI_DIR" }, "--ui-dir", "DIR", K_DIR, F(ui_dir), 0, 0, NULL, "built in",
	  "serve the web UI (/ui) from this directory, as `vite build` writes it, instead of the copy "
	  "built into the binary" },
};

static void *field(weft_config *cfg, const struct setting *s)
{
	return (char *)cfg + s->off;
}

static void replace_str(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

static int invalid(const char *name, const char *v, const char *expected)
{
	fprintf(stderr, "weft: invalid value for %s: '%s' (expected %s)\n", name, v, expected);
	return -1;
}

/* A plain decimal number in [min, max]; no sign, spaces or suffixes. */
static int parse_number(const char *name, const char *v, int64_t min, int64_t max, int64_t *out)
{
	char expected[80];
	snprintf(expected, sizeof expected, "an integer %" PRId64 "..%" PRId64, min, max);
	int64_t n = 0;
	size_t len = strlen(v);
	if (len == 0 || len > 18)
		return invalid(name, v, expected);
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return invalid(name, v, expected);
		n = n * 10 + (v[i] - '0');
	}
	if (n < min || n > max)
		return invalid(name, v, expected);
	*out = n;
	return 0;
}

/* Decimal seconds with up to 6 fraction digits ("2", "0.25"), in
 * [min, max] whole seconds, as µs. */
static int parse_seconds(const char *name, const char *v, int64_t min, int64_t max, int64_t *out)
{
	char expected[96];
	snprintf(expected, sizeof expected, "seconds %" PRId64 "..%" PRId64 ", e.g. 2 or 0.25", min, max);
	int64_t whole = 0, frac = 0, scale = 1000000;
	const char *p = v;
	if (*p < '0' || *p > '9')
		return invalid(name, v, expected);
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > max)
			return invalid(name, v, expected);
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return invalid(name, v, expected);
		for (; *p >= '0' && *p <= '9'; p++) {
			if (scale == 1)
				return invalid(name, v, expected);
			scale /= 10;
			frac += (*p - '0') * scale;
		}
	}
	int64_t us = whole * 1000000 + frac;
	if (*p != '\0' || us < min * 1000000 || us > max * 1000000)
		return invalid(name, v, expected);
	*out = us;
	return 0;
}

static int parse_bool(const char *name, const char *v, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes" }, *const no[] = { "0", "false", "no" };
	for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return invalid(name, v, "1/0, true/false or yes/no");
}

/* RUST_LOG may hold a filter such as "info,hyper=warn": take the global
 * directive, else the first target's level. Never fatal (ArcRun's own
 * deployments set it freely). */
static void parse_rust_log(weft_config *cfg, const char *v)
{
	char *copy = xstrdup(v), *save = NULL;
	const char *found = NULL, *fallback = NULL;
	log_level lvl;
	for (char *d = strtok_r(copy, ",", &save); d && !found; d = strtok_r(NULL, ",", &save)) {
		char *eq = strrchr(d, '=');
		if (!eq && log_parse_level(d, &lvl) == 0)
			found = d;
		else if (eq && !fallback && log_parse_level(eq + 1, &lvl) == 0)
			fallback = eq + 1;
	}
	if (!found)
		found = fallback;
	if (found && log_parse_level(found, &lvl) == 0)
		replace_str(&cfg->log_level, level_names[lvl]);
	else
		fprintf(stderr, "weft: ignoring RUST_LOG '%s' (no error, warn, info or debug level in it)\n",
		        v);
	free(copy);
}

static int set_value(weft_config *cfg, const struct setting *s, const char *name, const char *v)
{
	int64_t n = 0;
	switch (s->kind) {
	case K_INT:
	case K_I64:
	case K_SIZE:
		if (parse_number(name, v, s->min, s->max, &n) < 0)
			return -1;
		if (s->kind == K_INT)
			*(int *)field(cfg, s) = (int)n;
		else if (s->kind == K_I64)
			*(int64_t *)field(cfg, s) = n;
		else
			*(size_t *)field(cfg, s) = (size_t)n;
		return 0;
	case K_BOOL:
		return parse_bool(name, v, (bool *)field(cfg, s));
	case K_DB:
		if (!*v)
			return invalid(name, v, "a file path or a postgres:// URL");
		replace_str(&cfg->db_url, v);
		return 0;
	case K_HOST: {
		size_t len = strlen(v);
		size_t scheme = strncasecmp(v, "http://", 7) == 0 ? 7 : strncasecmp(v, "https://", 8) == 0 ? 8 : 0;
		while (len > scheme && v[len - 1] == '/')
			len--;
		if (!scheme || len == scheme)
			return invalid(name, v, "an http:// or https:// URL");
		free(cfg->host_url);
		cfg->host_url = xstrndup(v, len);
		return 0;
	}
	case K_DURABILITY:
		if (strcasecmp(v, "full") == 0)
			cfg->sync_full = true;
		else if (strcasecmp(v, "normal") == 0)
			cfg->sync_full = false;
		else
			return invalid(name, v, "full or normal");
		return 0;
	case K_LOG: {
		log_level lvl;
		if (strcmp(name, "RUST_LOG") == 0) {
			parse_rust_log(cfg, v);
			return 0;
		}
		if (log_parse_level(v, &lvl) < 0)
			return invalid(name, v, "error, warn, info or debug");
		replace_str(&cfg->log_level, level_names[lvl]);
		return 0;
	}
	case K_SSRF_HOSTS:
		ssrf_policy_add_hosts(&cfg->ssrf, v);
		return 0;
	case K_SSRF_SUFFIXES:
		ssrf_policy_add_suffixes(&cfg->ssrf, v);
		return 0;
	case K_SECS:
		return parse_seconds(name, v, s->min, s->max, (int64_t *)field(cfg, s));
	case K_DAYS:
		if (parse_number(name, v, s->min, s->max, &n) < 0)
			return -1;
		*(int64_t *)field(cfg, s) = n * 86400 * 1000000;
		return 0;
	case K_SECRET:
		if (!*v)
			return invalid(name, "", "a non-empty token");
		replace_str((char **)field(cfg, s), v);
		return 0;
	case K_DIR: {
		struct stat st;
		if (stat(v, &st) != 0 || !S_ISDIR(st.st_mode))
			return invalid(name, v, "an existing directory");
		replace_str((char **)field(cfg, s), v);
		return 0;
	}
	}
	return -1;
}

static const struct setting *find_flag(const char *arg, size_t len)
{
	for (size_t i = 0; i < ARRAY_LEN(settings); i++) {
		const char *f = settings[i].flag;
		if (f && strlen(f) == len && strncmp(f, arg, len) == 0)
			return &settings[i];
	}
	return NULL;
}

static int load(weft_config *cfg, int argc, char **argv)
{
	const char *cmd = argc > 0 && argv[0] ? argv[0] : "serve";

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			config_print_help(stdout);
			return 1;
		}
	}

	for (size_t i = 0; i < ARRAY_LEN(settings); i++)
		if (settings[i].def && set_value(cfg, &settings[i], settings[i].env[0], settings[i].def) < 0)
			return -1;   /* a broken default table; cannot happen */

	for (size_t i = 0; i < ARRAY_LEN(settings); i++) {
		for (size_t j = 0; j < ARRAY_LEN(settings[i].env) && settings[i].env[j]; j++) {
			const char *v = getenv(settings[i].env[j]);
			if (!v || !*v)   /* an empty variable counts as unset */
				continue;
			if (set_value(cfg, &settings[i], settings[i].env[j], v) < 0)
				return -1;
			break;
		}
	}

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			if (i + 1 < argc) {
				fprintf(stderr, "weft: unexpected argument '%s' for 'weft %s'\n", argv[i + 1], cmd);
				return -1;
			}
			break;
		}
		if (strncmp(arg, "--", 2) != 0) {
			fprintf(stderr, "weft: unexpected argument '%s' for 'weft %s' (try --help)\n", arg, cmd);
			return -1;
		}
		const char *eq = strchr(arg, '=');
		size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
		const struct setting *s = find_flag(arg, nlen);
		if (!s) {
			fprintf(stderr, "weft: unknown option '%.*s' for 'weft %s' (try --help)\n", (int)nlen,
			        arg, cmd);
			return -1;
		}
		const char *v = eq ? eq + 1 : NULL;
		if (!v && s->kind == K_BOOL)
			v = "1";     /* a switch: --allow-exec */
		if (!v) {
			if (i + 1 >= argc) {
				fprintf(stderr, "weft: option %s needs a value (%s)\n", s->flag, s->metavar);
				return -1;
			}
			v = argv[++i];
		}
		if (set_value(cfg, s, s->flag, v) < 0)
			return -1;
	}

	if (!cfg->host_url)
		cfg->host_url = xasprintf("http://localhost:%d", cfg->port);
	if (!cfg->node_id) {
		char host[256] = "localhost";
		if (gethostname(host, sizeof host) != 0)
			snprintf(host, sizeof host, "localhost");
		host[sizeof host - 1] = '\0';
		cfg->node_id = xasprintf("%s:%d", host, cfg->port);
	}
	if (cfg->pagination_default > cfg->pagination_max) {
		fprintf(stderr, "weft: PAGINATION_DEFAULT (%" PRId64 ") must not exceed PAGINATION_MAX (%" PRId64 ")\n",
		        cfg->pagination_default, cfg->pagination_max);
		return -1;
	}
	return 0;
}

int config_load(weft_config *cfg, int argc, char **argv)
{
	memset(cfg, 0, sizeof *cfg);
	ssrf_policy_init(&cfg->ssrf);
	int rc = load(cfg, argc, argv);
	if (rc != 0)
		config_release(cfg);
	return rc;
}

void config_release(weft_config *cfg)
{
	free(cfg->host_url);
	free(cfg->db_url);
	free(cfg->log_level);
	free(cfg->auth_token);
	free(cfg->tokens_file);
	free(cfg->tokens);
	free(cfg->signing_secret);
	free(cfg->exec_allow);
	free(cfg->node_id);
	free(cfg->ui_dir);
	ssrf_policy_release(&cfg->ssrf);
	memset(cfg, 0, sizeof *cfg);
}

void config_print_help(FILE *out)
{
	char flag[64], env[64];
	int wf = (int)strlen("-h, --help"), we = 0, wd = 0;
	for (size_t i = 0; i < ARRAY_LEN(settings); i++) {
		const struct setting *s = &settings[i];
		int n = s->flag ? snprintf(flag, sizeof flag, "%s %s", s->flag, s->metavar) : 0;
		int m = snprintf(env, sizeof env, "%s%s%s", s->env[0], s->env[1] ? ", " : "",
		                 s->env[1] ? s->env[1] : "");
		int d = (int)strlen(s->def ? s->def : s->shown);
		wf = MAX(wf, n);
		we = MAX(we, m);
		wd = MAX(wd, d);
	}

	fprintf(out,
	        "Usage: weft serve [options]\n"
	        "\n"
	        "Runs the weft server. Each setting comes from its flag, else from its\n"
	        "environment variable, else from its default.\n"
	        "\n");
	fprintf(out, "  %-*s  %-*s  %-*s  %s\n", wf, "FLAG", we, "ENVIRONMENT", wd, "DEFAULT",
	        "MEANING");
	for (size_t i = 0; i < ARRAY_LEN(settings); i++) {
		const struct setting *s = &settings[i];
		flag[0] = '\0';
		if (s->flag)
			snprintf(flag, sizeof flag, "%s %s", s->flag, s->metavar);
		snprintf(env, sizeof env, "%s%s%s", s->env[0], s->env[1] ? ", " : "",
		         s->env[1] ? s->env[1] : "");
		fprintf(out, "  %-*s  %-*s  %-*s  %s\n", wf, flag, we, env, wd,
		        s->def ? s->def : s->shown, s->help);
	}
	fprintf(out, "  %-*s  %-*s  %-*s  %s\n", wf, "-h, --help", we, "", wd, "", "show this help");
}

bool config_exec_allowed(const weft_config *cfg, const char *argv0)
{
	if (cfg->exec_allow == NULL)
		return true;
	size_t n = strlen(argv0);
	for (const char *p = cfg->exec_allow; *p;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && len > 0 && memcmp(p, argv0, n) == 0)
			return true;
		p += len + (end != NULL);
	}
	return false;
}
