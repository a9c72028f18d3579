/*
 * main.c — the `weft` command: `weft serve` runs the server; `weft bench`
 * measures it; every other command is a client of a running server
 * (cli/cli.h, cli/commands.c). Start-up order: configuration, storage (opened and
 * migrated: a bad DATABASE_URL fails here, clearly), webhook dispatcher,
 * engine, HTTP. Shutdown on SIGTERM/SIGINT runs it backwards: stop
 * accepting requests, let the engine finish what is queued, stop the
 * dispatcher, close the database. SIGHUP reads the tokens file again.
 */
#include "util/common.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/url.h"
#include "config.h"
#include "cli/bench.h"
#include "cli/cli.h"
#include "cli/client_opts.h"
#include "engine/engine.h"
#include "engine/commands/templates.h"
#include "engine/test_clock.h"
#include "exec/webhook.h"
#include "http/server.h"
#include "http/tokens.h"
#include "http/v1/v1.h"
#include "store/store.h"
#include <curl/curl.h>
#include <signal.h>
#include <pthread.h>

static void usage(FILE *out)
{
	fputs("usage: weft <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  serve         run the weft server (see `weft serve --help`)\n"
	      "  bench         run the benchmarks against a fresh local server\n",
	      out);
	cli_print_commands(out);
	fputs("  help [CMD]    show this text, or a command's help (also: weft CMD --help)\n"
	      "\n"
	      "Every command but serve and bench is a client of a running server. It finds\n"
	      "the server through --url, $WEFT_URL, the config file's profile, or\n"
	      "http://localhost:8085; the token likewise (--token, $WEFT_TOKEN, profile).\n"
	      "The config file is $WEFT_CONFIG, else $XDG_CONFIG_HOME/weft/config, else\n"
	      "~/.config/weft/config; --profile or $WEFT_PROFILE picks its [profile NAME],\n"
	      "else [default] is read. Every client command takes --json for the server's\n"
	      "JSON answer.\n"
	      "\n"
	      "exit codes of the clients:\n",
	      out);
	fputs(CLI_EXIT_CODES_HELP, out);
	fputs("\nWithout configuration, `weft serve` listens on :8085 and keeps its state in ./weft.db.\n"
	      "`weft serve --help` lists the server's settings.\n",
	      out);
}

static int serve(int argc, char **argv)
{
	weft_config cfg;
	int rc = config_load(&cfg, argc, argv);
	if (rc != 0) {
		config_release(&cfg);
		return rc > 0 ? 0 : 2;
	}
	log_level lvl = LOG_INFO;
	if (cfg.log_level && log_parse_level(cfg.log_level, &lvl) != 0)
		log_warn("main", "unknown log level '%s', using info", cfg.log_level);
	log_set_level(lvl);

	/* Signals are taken synchronously by this thread; every thread
	 * started below inherits the mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);      /* reads the tokens file again */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	json_object_seed(0);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	int64_t t0 = clock_mono_us();
	int exit_code = 1;
	char err[512] = "";
	store_options sopt = { .sync_full = cfg.sync_full, .readers = cfg.db_readers,
	                       .slow_query_us = cfg.slow_query_ms * 1000, .cache_mb = cfg.db_cache_mb };
	store *st = store_open(cfg.db_url, &sopt, err, sizeof(err));
	dispatcher *disp = NULL;
	engine *eng = NULL;
	test_clock *tclock = NULL;
	http_server *http = NULL;
	if (!st) {
		/* err names the database (a PostgreSQL URL with its password masked). */
		log_error("main", "cannot open the database: %s", err);
		goto out;
	}
	/* Start calls and outbox deliveries each run in their own lane of the
	 * dispatcher, bounded by their setting. */
	dispatcher_config dcfg = {
		.host_url = cfg.host_url,
		.concurrency = cfg.webhook_concurrency + cfg.delivery_concurrency,
		.lane_limit = { [WEBHOOK_LANE_START] = cfg.webhook_concurrency,
		                [WEBHOOK_LANE_DELIVERY] = cfg.delivery_concurrency },
		.timeout_ms = (long)cfg.webhook_timeout_ms,
		.connect_timeout_ms = MIN(5000L, (long)cfg.webhook_timeout_ms),
		.max_response_bytes = 1 << 20,
		.ssrf = &cfg.ssrf,
		.signing_secret = cfg.signing_secret,
	};
	disp = dispatcher_new(&dcfg);
	if (!disp) {
		log_error("main", "cannot start the webhook dispatcher");
		goto out;
	}
	/* Template runs a schedule starts are built by the API's run decoder. */
	template_expander template_runs;
	v1_template_runs_init(&template_runs, &cfg);
	engine_config ecfg = {
		.claim_timeout_us = cfg.claim_timeout_secs * 1000000,
		.sweep_interval_us = cfg.worker_loop_interval_ms * 1000,
		.start_window = cfg.webhook_concurrency,
		.dead_end_cancel = cfg.dead_end_cancel,
		.ssrf = &cfg.ssrf,
		.delivery_window = cfg.delivery_concurrency,
		.max_attempts = cfg.webhook_max_attempts,
		.backoff_base_us = cfg.backoff_base_us,
		.backoff_cap_us = cfg.backoff_cap_us,
		.lease_us = cfg.delivery_lease_us,
		.archive_after_us = cfg.archive_after_us,
		.workflow_retention_us = cfg.workflow_retention_us,
		.audit_retention_us = cfg.audit_retention_us,
		.event_retention_us = cfg.event_retention_us,
		/* an interval of 0 would spin: run at most every 10 ms */
		.retention_interval_us = MAX(cfg.retention_interval_us, 10000),
		.retention_batch = cfg.retention_batch,
		.queue_max = cfg.engine_queue_max,
		.idempotency_ttl_us = cfg.idempotency_ttl_us,
		.log_buffer_lines = cfg.log_buffer_lines,
		.log_buffer_bytes = cfg.log_buffer_bytes,
		.log_retention_us = cfg.log_retention_us,
		.metrics_history_us = cfg.metrics_history_us,
		.template_runs = &template_runs,
		.allow_exec = cfg.allow_exec,
		.exec_concurrency = cfg.exec_concurrency,
		.exec_kill_grace_us = cfg.exec_kill_grace_ms * 1000,
		.node_id = cfg.node_id,
	};
	eng = engine_new(&ecfg, st, disp);
	test_clock_start_ahead();   /* test-only: a restart as if after downtime */
	if (engine_start(eng) != 0) {
		log_error("main", "cannot start the engine (database error while recovering deadlines)");
		goto out;
	}
	/* Test-only: black-box tests move the clock through this socket. */
	const char *clock_socket = getenv("WEFT_TEST_CLOCK_SOCKET");
	if (clock_socket && *clock_socket && !(tclock = test_clock_start(clock_socket, eng)))
		goto out;
	http = http_server_start(&cfg, eng, st, err, sizeof(err));
	if (!http) {
		log_error("main", "cannot start the HTTP server: %s", err);
		goto out;
	}
	char *db_shown = url_mask_password(cfg.db_url);
	log_info("main", "weft serving on port %d (database %s, %s backend) in %.1f ms", cfg.port, db_shown,
	         store_backend_name(st), (double)(clock_mono_us() - t0) / 1000.0);
	free(db_shown);

	int sig = 0;
	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
		http_tokens_reload();
	log_info("main", "%s received: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
	exit_code = 0;
out:
	if (http)
		http_server_stop(http);
	test_clock_stop(tclock);
	if (eng)
		engine_stop(eng);
	if (disp)
		dispatcher_free(disp);
	engine_free(eng);
	if (st)
		store_close(st);
	curl_global_cleanup();
	config_release(&cfg);
	if (exit_code == 0)
		log_info("main", "stopped");
	return exit_code;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "serve") == 0)
		return serve(argc - 1, argv + 1);
	if (strcmp(cmd, "bench") == 0)
		return bench_main(argc - 1, argv + 1);
	bool handled;
	int rc = cli_main(argc - 1, argv + 1, &handled);
	if (handled)
		return rc;
	if (strcmp(cmd, "help") == 0 && argc > 2) {
		rc = cli_help(argv[2], argc > 3 ? argv[3] : NULL, &handled);
		if (handled)
			return rc;
		if (strcmp(argv[2], "serve") == 0) {
			config_print_help(stdout);
			return 0;
		}
		fprintf(stderr, "weft: no command '%s' (see `weft --help`)\n", argv[2]);
		return 2;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "weft: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return 2;
}
