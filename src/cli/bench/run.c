/*
 * run.c — `weft bench` from start to end (see cli/bench.h):
 *
 *   1. sink      the webhook sink starts inside this process (sink.c);
 *   2. database  a fresh SQLite file in a temporary directory or, with
 *                --db, a fresh PostgreSQL database created through that URL
 *                (CREATE DATABASE weft_bench_<pid>_<time>), which the nodes
 *                reach through the same URL with the database name replaced
 *                (pg_admin.c);
 *   3. spawn     `weft serve` (this binary, or --server) as a child on a
 *                free port, once per node (--nodes, PostgreSQL only), one
 *                after the other: node 1 creates the schema, so its
 *                start-up is the figure, and the others join an existing
 *                database; start-up time and idle RSS of each once its
 *                GET /health answers 200 (nodes.c);
 *   4. phases    submits, starts, PATCH, PUT (phases.c), each one only
 *                if the one before succeeded; or, with --soak, the soak
 *                (soak.c, soak_window.c) in their place; or, with --queue,
 *                the job queue's phases (queue.c, queue_latency.c); or,
 *                as `bench workflows`, workflow runs (workflows.c);
 *   5. stop      peak RSS (VmHWM) of each node, SIGTERM to all of them at
 *                once, the exit statuses (each must be 0); then the
 *                PostgreSQL database is dropped.
 *
 * Every wait has a deadline; any unexpected answer fails the run (exit 1)
 * after every child has been stopped. The temporary directory and the
 * PostgreSQL database are removed at the end unless --keep is given or the
 * run failed after a server had started (then they are named; the server
 * logs are in the directory).
 */
#include "cli/bench.h"
#include "cli/bench/bench_impl.h"
#include "cli/bench/pg_admin.h"
#include "cli/bench/soak.h"
#include "util/alloc.h"
#include "util/log.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Creates the run's database through --db and derives the nodes' URL,
 * which must reach it; the settings that decide durability are read from a
 * session there, as a node's own sessions start with them. */
static int pg_prepare(bench *b)
{
	static const struct {
		const char *setting, *key;
	} shown[] = {
		{ "server_version", "pg_version" },
		{ "fsync", "pg_fsync" },
		{ "synchronous_commit", "pg_synchronous_commit" },
		{ "max_connections", "pg_max_connections" },
	};
	snprintf(b->pg_name, sizeof(b->pg_name), "weft_bench_%d_%lld", (int)getpid(), (long long)time(NULL));
	b->db = pg_admin_url_with_db(b->opt.db, b->pg_name);
	if (!b->db)
		return -1;   /* the options accepted only postgres:// URLs */
	if (pg_admin_create_db(b->opt.db, b->pg_name) != 0)
		return -1;
	b->pg_created = true;
	const char *settings[ARRAY_LEN(shown)];
	char *values[ARRAY_LEN(shown)];
	for (size_t i = 0; i < ARRAY_LEN(shown); i++)
		settings[i] = shown[i].setting;
	if (pg_admin_check_db(b->db, b->pg_name, settings, values, ARRAY_LEN(shown)) != 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(shown); i++) {
		json_object_set_new(b->report, shown[i].key, json_string(values[i]));
		free(values[i]);
	}
	return 0;
}

/* The parameters of the run, first in the report. */
static void report_parameters(bench *b, const char *durability)
{
	json_object_set_new(b->report, "backend", json_string(b->opt.db ? "postgres" : "sqlite"));
	json_object_set_new(b->report, "mode", json_string(b->opt.soak        ? "soak"
	                                                   : b->opt.queue     ? "queue"
	                                                   : b->opt.workflows ? "workflows"
	                                                   : b->opt.exec      ? "exec"
	                                                   : b->opt.logs      ? "logs"
	                                                                      : "phases"));
	json_object_set_new(b->report, "nodes", json_integer(b->opt.nodes));
	if (b->opt.queue) {
		json_object_set_new(b->report, "jobs", json_integer(b->opt.jobs));
		json_object_set_new(b->report, "latency_secs", json_integer(b->opt.latency_secs));
		json_object_set_new(b->report, "latency_rate", json_integer(b->opt.latency_rate));
	} else if (b->opt.workflows) {
		json_object_set_new(b->report, "runs", json_integer(b->opt.runs));
		json_object_set_new(b->report, "workers", json_integer(b->opt.workers));
		json_object_set_new(b->report, "in_flight", json_integer(b->opt.in_flight));
	} else if (b->opt.logs) {
		json_object_set_new(b->report, "logs", json_integer(b->opt.logs));
	} else if (!b->opt.soak) {
		json_object_set_new(b->report, "tasks", json_integer(b->opt.tasks));
		json_object_set_new(b->report, "starts", json_integer(b->opt.starts));
	}
	json_object_set_new(b->report, "clients", json_integer(b->opt.clients));
	json_object_set_new(b->report, "concurrency", json_integer(b->opt.concurrency));
	json_object_set_new(b->report, "durability", json_string(durability));
	json_object_set_new(b->report, "cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_set_new(b->report, "server", json_string(b->server));
}

/* The lines that state what is measured. WEFT_DURABILITY selects SQLite's
 * mode; on PostgreSQL the cluster's settings decide, so those are what the
 * first line states. */
static void announce(bench *b, const char *durability)
{
	const json_t *rep = b->report;
	char dur[128];
	if (b->opt.db)
		snprintf(dur, sizeof(dur), "fsync %s, synchronous_commit %s",
		         json_string_value(json_object_get(rep, "pg_fsync")),
		         json_string_value(json_object_get(rep, "pg_synchronous_commit")));
	else
		snprintf(dur, sizeof(dur), "%s", durability);
	json_object_set_new(b->report, "durability", json_string(dur));
	if (b->opt.soak)
		bench_note(b, "weft bench: soak of %ld s at %ld requests/s, %ld connections, webhook concurrency %ld, "
		              "durability %s, %ld CPUs",
		           b->opt.soak, b->opt.rate, b->opt.clients, b->opt.concurrency, dur, sysconf(_SC_NPROCESSORS_ONLN));
	else if (b->opt.logs)
		bench_note(b, "weft bench --logs: %ld lines, %ld clients (a held job each), durability %s, %ld CPUs",
		           b->opt.logs, b->opt.clients, dur, sysconf(_SC_NPROCESSORS_ONLN));
	else if (b->opt.queue)
		bench_note(b, "weft bench --queue: %ld jobs, %ld clients, latency at %ld jobs/s for %ld s, durability %s, "
		              "%ld CPUs",
		           b->opt.jobs, b->opt.clients, b->opt.latency_rate, b->opt.latency_secs, dur,
		           sysconf(_SC_NPROCESSORS_ONLN));
	else if (b->opt.workflows)
		bench_note(b, "weft bench workflows: %ld runs of 10 no-op steps, %ld workers, %ld in flight, durability %s, "
		              "%ld CPUs",
		           b->opt.runs, b->opt.workers, b->opt.in_flight, dur, sysconf(_SC_NPROCESSORS_ONLN));
	else
		bench_note(b, "weft bench: %ld-task chain and fan-out, %ld starts, %ld clients, webhook concurrency %ld, "
		              "durability %s, %ld CPUs",
		           b->opt.tasks, b->opt.starts, b->opt.clients, b->opt.concurrency, dur,
		           sysconf(_SC_NPROCESSORS_ONLN));
	if (b->opt.server)
		bench_note(b, "server binary %s", b->server);
	if (b->opt.db) {
		bench_note(b, "backend postgres, %zu node%s: database %s (PostgreSQL %s)", b->nnodes,
		           b->nnodes == 1 ? "" : "s", b->pg_name, json_string_value(json_object_get(rep, "pg_version")));
		for (size_t k = 0; k < b->nnodes; k++)
			bench_note(b, "node %d: %s", b->nodes[k].num, b->nodes[k].base);
		bench_note(b, "webhook sink 127.0.0.1:%d", b->sink.port);
	} else {
		bench_note(b, "backend sqlite, 1 node");
		bench_note(b, "server %s (database %s), webhook sink 127.0.0.1:%d", b->nodes[0].base, b->db, b->sink.port);
	}
}

/* Ports and control clients of every node. */
static int prepare_nodes(bench *b)
{
	for (size_t k = 0; k < b->nnodes; k++) {
		node *n = &b->nodes[k];
		n->port = bench_node_port(b, k);
		if (n->port <= 0) {
			log_error("bench", "no free TCP port on 127.0.0.1");
			return -1;
		}
		snprintf(n->base, sizeof(n->base), "http://127.0.0.1:%d", n->port);
		http_client_options o = { .base_url = n->base, .token = b->token, .timeout_ms = BENCH_DEADLINE_US / 1000 };
		n->ctl = http_client_new(&o);
		if (!n->ctl) {
			log_error("bench", "cannot create an HTTP client for %s", n->base);
			return -1;
		}
	}
	return 0;
}

/* Starts the nodes one after the other (node 1 migrates the fresh database
 * alone), then runs the phases. */
static int run_phases(bench *b)
{
	for (size_t k = 0; k < b->nnodes; k++) {
		node *n = &b->nodes[k];
		if (bench_start_node(b, n) != 0)
			return -1;
		n->idle_rss_kib = bench_proc_kib(n->pid, "VmRSS");
		if (k == 0)
			bench_figure(b, "startup_ms", "start-up (spawn to healthy)", (double)n->startup_us / 1000.0, 1, "ms");
	}
	bench_report_startup(b);
	if (b->opt.soak)
		return bench_soak(b);
	if (b->opt.queue)
		return bench_queue(b);
	if (b->opt.workflows)
		return bench_workflows(b);
	if (b->opt.exec)
		return bench_exec(b);
	if (b->opt.logs)
		return bench_logs(b);
	if (bench_phase_submits(b) != 0 || bench_phase_starts(b) != 0 || bench_phase_patch(b) != 0 ||
	    bench_phase_put(b) != 0)
		return -1;
	return 0;
}

/* What is kept of a run, and what is removed. */
static bool clean_up(bench *b, bool failed)
{
	bool keep = b->opt.keep || (failed && b->spawned);
	if (b->pg_created) {
		if (keep) {
			bench_note(b, "kept database %s (drop it with: DROP DATABASE %s;)", b->pg_name, b->pg_name);
		} else if (pg_admin_drop_db(b->opt.db, b->pg_name) != 0) {
			bench_note(b, "could not drop database %s", b->pg_name);
			failed = true;
		}
	}
	json_object_set_new(b->report, "per_node", bench_per_node_json(b));
	json_object_set_new(b->report, "ok", json_boolean(!failed));
	if (b->tmpdir) {
		/* A failure before any server started leaves nothing to look at. */
		if (keep) {
			if (b->opt.db)
				bench_note(b, "kept %s (server log%s)", b->tmpdir, b->nnodes == 1 ? "" : "s");
			else
				bench_note(b, "kept %s (database and server.log)", b->tmpdir);
			json_object_set_new(b->report, "dir", json_string(b->tmpdir));
		} else {
			bench_remove_tree(b->tmpdir);
		}
	}
	return failed;
}

static void bench_release(bench *b)
{
	for (size_t i = 0; i < b->nids; i++)
		free(b->ids[i]);
	free(b->ids);
	for (size_t k = 0; k < b->nnodes; k++) {
		http_client_free(b->nodes[k].ctl);
		free(b->nodes[k].logpath);
	}
	free(b->nodes);
	free(b->tmpdir);
	free(b->db);
	free(b->server);
	json_decref(b->report);
}

int bench_main(int argc, char **argv)
{
	bench b;
	memset(&b, 0, sizeof(b));
	int pr = bench_parse_opts(argc, argv, &b.opt);
	if (pr != 0)
		return pr > 0 ? 0 : 2;
	if (bench_resolve_server(&b) != 0)
		return 2;
	b.human = b.opt.json ? stderr : stdout;
	b.report = json_object();
	b.token = getenv("AUTH_TOKEN");
	if (b.token && !*b.token)
		b.token = NULL;
	b.nnodes = (size_t)b.opt.nodes;
	b.nodes = xcalloc(b.nnodes, sizeof(node));
	for (size_t k = 0; k < b.nnodes; k++) {
		node *n = &b.nodes[k];
		n->num = (int)k + 1;
		n->startup_us = -1;
		n->idle_rss_kib = -1;
		n->peak_rss_kib = -1;
		n->shutdown_us = -1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("bench", "curl_global_init failed");
		bench_release(&b);
		return 1;
	}
	bool failed = true;
	const char *durability = getenv("WEFT_DURABILITY");
	if (!durability || !*durability)
		durability = "full";
	report_parameters(&b, durability);

	const char *tmp = getenv("TMPDIR");
	b.tmpdir = xasprintf("%s/weft-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(b.tmpdir)) {
		log_error("bench", "mkdtemp %s: %s", b.tmpdir, strerror(errno));
		free(b.tmpdir);
		b.tmpdir = NULL;
		goto out;
	}
	for (size_t k = 0; k < b.nnodes; k++)
		b.nodes[k].logpath = b.nnodes == 1 ? xasprintf("%s/server.log", b.tmpdir)
		                                   : xasprintf("%s/server-%zu.log", b.tmpdir, k + 1);
	if (b.opt.db) {
		if (pg_prepare(&b) != 0)
			goto out;
		json_object_set_new(b.report, "database", json_string(b.pg_name));
	} else {
		b.db = xasprintf("%s/bench.db", b.tmpdir);
		json_object_set_new(b.report, "database", json_string(b.db));
	}
	b.sink.record_starts = b.opt.soak > 0;   /* the soak completes the tasks the sink saw start */
	if (bench_sink_start(&b.sink) != 0) {
		log_error("bench", "cannot start the webhook sink on 127.0.0.1");
		goto out;
	}
	if (b.opt.exec) {
		/* The node inherits them: exec allowed, at the measured concurrency. */
		char conc[32];
		snprintf(conc, sizeof conc, "%ld", b.opt.concurrency);
		setenv("WEFT_ALLOW_EXEC", "1", 1);
		setenv("EXEC_CONCURRENCY", conc, 1);
	}
	if (prepare_nodes(&b) != 0)
		goto out;
	announce(&b, durability);

	failed = run_phases(&b) != 0;
	bench_report_peak(&b);
	if (bench_stop_nodes(&b) != 0)
		failed = true;
	bench_figure(&b, "sink_hits_total", "webhook sink hits (whole run)", (double)bench_sink_hits(&b.sink), 0,
	             "hits");
out:
	bench_sink_stop(&b.sink);
	bench_kill_nodes(&b);   /* an early exit: never leave a server running */
	failed = clean_up(&b, failed);
	if (b.opt.json) {
		char *text = json_dumps(b.report, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(9));
		if (text) {
			fputs(text, stdout);
			fputc('\n', stdout);
			free(text);
		}
	}
	bench_note(&b, "%s", failed ? "weft bench: FAILED" : "weft bench: ok");
	bench_release(&b);
	curl_global_cleanup();
	return failed ? 1 : 0;
}
