/*
 * options.c — the command line of `weft bench`.
 */
#include "cli/bench/bench_impl.h"
#include "cli/bench/pg_admin.h"
#include "util/url.h"

#include <errno.h>

#define DEFAULT_SOAK_S 600

static void usage(FILE *out)
{
	fputs("usage: weft bench [options]\n"
	      "       weft bench workflows [--runs N] [--workers N] [--in-flight N] [--db URL] [--json]\n"
	      "\n"
	      "Starts `weft serve` on a fresh database and a free port, plus a local\n"
	      "webhook sink, and measures it end to end over HTTP: by default a sequence\n"
	      "of phases (submits, starts, PATCH, PUT); with --soak, a steady mix of\n"
	      "requests at a fixed rate, with the server's memory, the database's size\n"
	      "and the latencies recorded window by window.\n"
	      "\n"
	      "options:\n"
	      "  --tasks N        tasks in the submitted chain and fan-out (default 100000)\n"
	      "  --starts N       independent tasks started, completed and counted (default 20000)\n"
	      "  --clients N      concurrent keep-alive HTTP clients for PATCH/PUT (default 32)\n"
	      "  --concurrency N  the server's WORKER_WEBHOOK_CONCURRENCY (default 64)\n"
	      "  --db URL         run on PostgreSQL: a postgres:// URL of an existing database,\n"
	      "                   as a role that may CREATE DATABASE; the run gets a fresh\n"
	      "                   database there, dropped at the end (default: a SQLite file)\n"
	      "  --nodes N        servers sharing that database (default 1; N > 1 needs --db)\n"
	      "  --soak [SECONDS] instead of the phases, a soak of that length (default 600):\n"
	      "                   a paced mix of POST, PATCH, PUT and GET requests (one node)\n"
	      "  --rate N         the soak's requests per second (default 100)\n"
	      "  --window SECONDS the soak's measuring window (default 30, or a tenth of a\n"
	      "                   soak shorter than 300 s)\n"
	      "  (with --soak, --clients is the number of connections the requests share)\n"
	      "  --queue          instead of the phases, the /v1 job queue's: bulk enqueue of\n"
	      "                   --jobs jobs (POST /v1/jobs of 1,000), a drain of them (claims\n"
	      "                   and completions of up to 1,000 per request, every job checked\n"
	      "                   to run exactly once), and enqueue -> claim latency\n"
	      "  --jobs N         jobs of --queue (default 100000)\n"
	      "  --latency-secs S length of the latency phase (default 10; 0 skips it)\n"
	      "  --latency-rate N jobs per second in the latency phase (default 1000)\n"
	      "  (with --queue, --clients is the number of enqueueing and draining clients,\n"
	      "  default 4)\n"
	      "  --logs N         instead of the phases, N log lines appended to --clients held\n"
	      "                   jobs (default 4) by POST /v1/jobs/{id}/logs, 1,000 a request,\n"
	      "                   timed until every line is stored: log lines per second\n"
	      "\n"
	      "weft bench workflows: instead of the phases, durable workflow runs of a\n"
	      "10-step workflow with no-op steps: each run is started (POST /v1/workflows),\n"
	      "claimed by an in-process worker (POST /v1/jobs/claim), its steps begun and\n"
	      "completed over HTTP, and completed; every run checked in the database to end\n"
	      "completed with 10 memo rows. Runs/s, steps/s, start -> completion latency.\n"
	      "  --runs N         workflow runs (default 2000)\n"
	      "  --workers N      worker threads, each on its own connection (default 32)\n"
	      "  --in-flight N    runs started and not yet completed, at most (default 64)\n"
	      "\n"
	      "weft bench exec: instead of the phases, exec tasks of /bin/true: --tasks\n"
	      "of them (default 2000) at EXEC_CONCURRENCY --concurrency (default 8), then as\n"
	      "many jobs run by `weft worker -- /bin/true` at the same concurrency, for\n"
	      "comparison.\n"
	      "\n"
	      "  --server PATH    run PATH (another weft binary, e.g. an older build) as the\n"
	      "                   server instead of this one; its command line is the same\n"
	      "  --json           print one JSON object with every figure on stdout\n"
	      "                   (the human-readable lines go to stderr)\n"
	      "  --keep           keep the temporary directory (database, server logs)\n"
	      "                   and the PostgreSQL database\n"
	      "  -h, --help       show this text\n"
	      "\n"
	      "WEFT_DURABILITY (full|normal) is passed to the server; the default is full.\n"
	      "AUTH_TOKEN, when set, reaches the server and the bench's requests carry it.\n",
	      out);
}

/* Parses a decimal in [lo, hi]; -1 with a message otherwise. */
static int parse_long_opt(const char *name, const char *s, long lo, long hi, long *out)
{
	char *end = NULL;
	errno = 0;
	long v = s ? strtol(s, &end, 10) : 0;
	if (!s || !*s || errno != 0 || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "weft bench: %s needs an integer in [%ld, %ld], got '%s'\n", name, lo, hi,
		        s ? s : "");
		return -1;
	}
	*out = v;
	return 0;
}

/* Checks what only makes sense together; -1 with a message. */
static int check_opts(const bench_opts *o)
{
	if (o->db && !pg_admin_url_rest(o->db)) {
		char *shown = url_mask_password(o->db);
		fprintf(stderr, "weft bench: --db needs a postgres:// or postgresql:// URL, got '%s' "
		                "(without --db the bench uses a fresh SQLite file)\n",
		        shown);
		free(shown);
		return -1;
	}
	if (o->nodes > 1 && !o->db) {
		fprintf(stderr, "weft bench: --nodes %ld needs --db postgres://...: several nodes share one "
		                "PostgreSQL database, a SQLite file belongs to one server\n",
		        o->nodes);
		return -1;
	}
	if (!o->soak && (o->rate || o->window)) {
		fprintf(stderr, "weft bench: --rate and --window belong to a soak: add --soak SECONDS\n");
		return -1;
	}
	if (o->exec && (o->queue || o->soak || o->logs)) {
		fprintf(stderr, "weft bench: exec, --logs, --queue and --soak are different runs: choose one\n");
		return -1;
	}
	if (o->logs && (o->queue || o->soak)) {
		fprintf(stderr, "weft bench: --logs is a run of its own: drop --queue and --soak\n");
		return -1;
	}
	if (o->queue && o->soak) {
		fprintf(stderr, "weft bench: --queue and --soak are two different runs: choose one\n");
		return -1;
	}
	if (!o->queue && (o->jobs || o->latency_secs >= 0 || o->latency_rate)) {
		fprintf(stderr, "weft bench: --jobs, --latency-secs and --latency-rate belong to --queue\n");
		return -1;
	}
	if (o->workflows && (o->queue || o->soak || o->logs)) {
		fprintf(stderr, "weft bench: workflows, --logs, --queue and --soak are different runs: choose one\n");
		return -1;
	}
	if (!o->workflows && (o->runs || o->workers || o->in_flight)) {
		fprintf(stderr, "weft bench: --runs, --workers and --in-flight belong to `weft bench workflows`\n");
		return -1;
	}
	if (o->soak && o->nodes > 1) {
		fprintf(stderr, "weft bench: --soak runs one node; drop --nodes %ld\n", o->nodes);
		return -1;
	}
	if (o->starts < o->nodes) {
		fprintf(stderr, "weft bench: --starts (%ld) must be at least --nodes (%ld): each node gets its own "
		                "batch of the started tasks\n",
		        o->starts, o->nodes);
		return -1;
	}
	return 0;
}

/* Whether argv[*i] is option name (--name VALUE or --name=VALUE): 1 with
 * its value in *val (*i advanced past it), 0 when it is another option, -1
 * when the value is missing (message printed). */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t nl = strlen(name);
	if (strncmp(a, name, nl) != 0 || (a[nl] != '=' && a[nl] != '\0'))
		return 0;
	if (a[nl] == '=') {
		*val = a + nl + 1;
		return 1;
	}
	if (*i + 1 >= argc) {
		fprintf(stderr, "weft bench: %s needs a value\n", name);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

int bench_parse_opts(int argc, char **argv, bench_opts *o)
{
	static const struct {
		const char *name;
		long lo, hi;
		size_t off;
	} nums[] = {
		{ "--tasks", 2, 1000000, offsetof(bench_opts, tasks) },
		{ "--starts", 1, 1000000, offsetof(bench_opts, starts) },
		{ "--clients", 1, 1024, offsetof(bench_opts, clients) },
		{ "--concurrency", 1, 4096, offsetof(bench_opts, concurrency) },
		{ "--nodes", 1, BENCH_MAX_NODES, offsetof(bench_opts, nodes) },
		{ "--soak", 1, 7 * 86400, offsetof(bench_opts, soak) },
		{ "--rate", 1, 100000, offsetof(bench_opts, rate) },
		{ "--window", 1, 86400, offsetof(bench_opts, window) },
		{ "--jobs", 1, 10000000, offsetof(bench_opts, jobs) },
		{ "--latency-secs", 0, 3600, offsetof(bench_opts, latency_secs) },
		{ "--latency-rate", 1, 100000, offsetof(bench_opts, latency_rate) },
		{ "--runs", 1, 1000000, offsetof(bench_opts, runs) },
		{ "--workers", 1, 512, offsetof(bench_opts, workers) },
		{ "--in-flight", 1, 100000, offsetof(bench_opts, in_flight) },
		{ "--logs", 1, 100000000, offsetof(bench_opts, logs) },
	};
	static const struct {
		const char *name;
		size_t off;
	} strs[] = {
		{ "--db", offsetof(bench_opts, db) },
		{ "--server", offsetof(bench_opts, server) },
	};
	/* clients and latency_secs stay unset (0, -1) until their default,
	 * which depends on the mode, is known. */
	*o = (bench_opts){ .tasks = 0, .starts = 20000, .concurrency = 0, .nodes = 1, .latency_secs = -1 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i == 1 && strcmp(a, "exec") == 0) {
			o->exec = true;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 1;
		}
		if (strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (i == 1 && strcmp(a, "workflows") == 0) {
			o->workflows = true;
			continue;
		}
		if (strcmp(a, "--queue") == 0) {
			o->queue = true;
			continue;
		}
		if (strcmp(a, "--keep") == 0) {
			o->keep = true;
			continue;
		}
		/* --soak alone: the ten minutes a soak needs to show a trend. */
		if (strcmp(a, "--soak") == 0 && (i + 1 >= argc || argv[i + 1][0] == '-')) {
			o->soak = DEFAULT_SOAK_S;
			continue;
		}
		const char *val = NULL;
		int r = 0;
		for (size_t k = 0; k < ARRAY_LEN(strs) && r == 0; k++) {
			r = opt_value(argc, argv, &i, strs[k].name, &val);
			if (r > 0)
				*(const char **)(void *)((char *)o + strs[k].off) = val;
		}
		for (size_t k = 0; k < ARRAY_LEN(nums) && r == 0; k++) {
			r = opt_value(argc, argv, &i, nums[k].name, &val);
			if (r > 0 && parse_long_opt(nums[k].name, val, nums[k].lo, nums[k].hi,
			                            (long *)(void *)((char *)o + nums[k].off)) != 0)
				return -1;
		}
		if (r < 0)
			return -1;
		if (r == 0) {
			fprintf(stderr, "weft bench: unknown option '%s'\n\n", a);
			usage(stderr);
			return -1;
		}
	}
	if (check_opts(o) != 0)
		return -1;
	if (!o->tasks)
		o->tasks = o->exec ? 2000 : 100000;
	if (!o->concurrency)
		o->concurrency = o->exec ? 8 : 64;
	if (!o->clients)
		o->clients = o->queue || o->logs ? 4 : 32;
	if (o->queue) {
		if (!o->jobs)
			o->jobs = 100000;
		if (o->latency_secs < 0)
			o->latency_secs = 10;
		if (!o->latency_rate)
			o->latency_rate = 1000;
	}
	if (o->workflows) {
		if (!o->runs)
			o->runs = 2000;
		if (!o->workers)
			o->workers = 32;
		if (!o->in_flight)
			o->in_flight = 64;
	}
	if (o->soak) {
		if (!o->rate)
			o->rate = 100;
		if (!o->window)
			o->window = o->soak >= 300 ? 30 : MAX(1, (o->soak + 9) / 10);
	}
	return 0;
}
