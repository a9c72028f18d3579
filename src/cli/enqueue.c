/*
 * enqueue.c — `weft enqueue [options] QUEUE [JSON…]`: adds jobs to a queue
 * through POST /v1/jobs.
 *
 * One job per JSON argument, or, without one (or with "-"), one per
 * non-blank line of stdin. Every value is checked before anything is sent,
 * so a typo on line 90,000 does not leave 89,999 jobs behind. The jobs go
 * in requests of at most JOBS_PER_REQUEST jobs and REQUEST_BYTES_MAX
 * bytes; the ids are printed as each request is answered.
 */
#include "cli/cli.h"
#include "cli/client_opts.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <unistd.h>

#define PROG "weft enqueue"
#define JOBS_PER_REQUEST 1000
/* Under the server's 16 MiB body limit, with room for the job fields. */
#define REQUEST_BYTES_MAX (15u << 20)
#define INPUT_MAX_BYTES (1u << 20)   /* the API's limit on one input */

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: weft enqueue [options] QUEUE [JSON...]\n"
	        "\n"
	        "Adds one job to QUEUE per JSON argument (the job's input), or, with none or\n"
	        "with -, one job per non-blank line of stdin. Every value must be JSON; a bad\n"
	        "one stops the command before anything is sent. Prints each job's id, one per\n"
	        "line, with \" duplicate\" after an id when a dedup key matched an existing job.\n"
	        "\n"
	        "options (each applies to every job):\n"
	        "  --name NAME              the jobs' name (default: the queue)\n"
	        "  --priority N             higher runs first (default 0)\n"
	        "  --run-at TIME            not before TIME (RFC 3339, e.g. 2026-12-05T10:00:00Z)\n"
	        "  --delay DURATION         not before now + DURATION (500ms, 30s, 5m, 2h)\n"
	        "  --max-attempts N         attempts before the job is dead-lettered, 1..1000 or -1\n"
	        "                           for no limit (default 5)\n"
	        "  --backoff INITIAL,COEF,MAX\n"
	        "                           retry delays: INITIAL, times COEF per attempt, at most\n"
	        "                           MAX (default 1s,2,60s)\n"
	        "  --jitter F               randomize retry delays by +-F, 0..1 (default 0.1)\n"
	        "  --timeout DURATION       per attempt, whole seconds, 1s..24h (default 300s)\n"
	        "  --dedup-key KEY          one job per KEY while it is not finished...\n"
	        "  --dedup-window DURATION  ...or, with this, per KEY for DURATION (whole seconds)\n"
	        "  --concurrency-key KEY    the queue's per-key concurrency limit applies per KEY\n"
	        "  --rate-key KEY           the queue's rate limit applies per KEY\n"
	        "  --metadata JSON          a JSON object kept with each job\n"
	        "  --json                   print the API's answer (one object) instead of ids\n"
	        "%s"
	        "  -h, --help               show this text\n"
	        "\n"
	        "Exit codes: 0 enqueued, 1 server error, 2 bad usage or input, 3 auth, 4 unreachable\n"
	        "(`weft --help` lists them all).\n",
	        CLI_CLIENT_OPTS_HELP);
}

/* One value to enqueue, and where it came from, for messages. */
typedef struct item {
	json_t *input;
	char origin[32];   /* "argument 2" or "line 17" */
} item;

typedef struct items {
	item *v;
	size_t n, cap;
} items;

static void items_push(items *it, json_t *input, const char *origin)
{
	if (it->n == it->cap) {
		it->cap = it->cap ? it->cap * 2 : 64;
		it->v = xrealloc(it->v, it->cap * sizeof(*it->v));
	}
	item *x = &it->v[it->n++];
	x->input = input;
	snprintf(x->origin, sizeof(x->origin), "%s", origin);
}

static void items_free(items *it)
{
	for (size_t i = 0; i < it->n; i++)
		json_decref(it->v[i].input);
	free(it->v);
}

/* Parses one value; -1 with a message naming it. */
static int take_value(items *it, const char *text, size_t len, const char *origin)
{
	if (len > INPUT_MAX_BYTES) {
		fprintf(stderr, PROG ": %s: the value is %zu bytes, more than the %u a job's input may have\n", origin, len,
		        INPUT_MAX_BYTES);
		return -1;
	}
	char err[160];
	json_t *v = json_parse_body(text, len, JSON_DEFAULT_MAX_DEPTH, err, sizeof(err));
	if (!v) {
		/* one line of text: its column is what helps */
		char *pos = strstr(err, " at line 1 column ");
		if (pos)
			memmove(pos + 4, pos + 11, strlen(pos + 11) + 1);
		fprintf(stderr, PROG ": %s is not JSON: %s%s\n", origin, err,
		        len && text[0] != '"' && text[0] != '{' && text[0] != '[' ? " (a string needs double quotes)" : "");
		return -1;
	}
	items_push(it, v, origin);
	return 0;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

static int read_stdin(items *it)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int rc = 0;
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		lineno++;
		size_t len = (size_t)n;
		if (blank(line, len))
			continue;
		char origin[32];
		snprintf(origin, sizeof(origin), "line %zu", lineno);
		if (take_value(it, line, len, origin) != 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(stdin)) {
		fprintf(stderr, PROG ": cannot read stdin: %s\n", strerror(errno));
		rc = -1;
	}
	free(line);
	return rc;
}

/* ---- the job's fields ----------------------------------------------------- */

typedef struct enqueue_opts {
	cli_client_opts client;
	const char *queue;
	bool json_out;
	json_t *job;   /* every field but input, shared by all jobs */
} enqueue_opts;

static int parse_backoff(const char *s, json_t *job)
{
	char *copy = xstrdup(s);
	char *parts[3] = { 0 };
	char *save = NULL, *p = copy;
	size_t n = 0;
	for (char *t; n < 3 && (t = strtok_r(p, ",", &save)); p = NULL)
		parts[n++] = t;
	int rc = -1;
	int64_t initial, max;
	char *end = NULL;
	double coef = parts[1] ? strtod(parts[1], &end) : 0;
	if (n != 3 || strtok_r(NULL, ",", &save)) {
		fprintf(stderr, PROG ": --backoff needs INITIAL,COEF,MAX such as 1s,2,60s; got '%s'\n", s);
	} else if (cli_parse_duration(PROG, "--backoff INITIAL", parts[0], 1000, INT64_C(86400) * 1000000, &initial) ||
	           cli_parse_duration(PROG, "--backoff MAX", parts[2], 1000, INT64_C(86400) * 1000000, &max)) {
		/* message printed */
	} else if (!end || *end || !isfinite(coef) || coef < 1) {
		fprintf(stderr, PROG ": --backoff COEF must be a number of at least 1, got '%s'\n", parts[1]);
	} else {
		json_t *b = json_object_get(job, "backoff");
		if (!b)
			json_object_set_new(job, "backoff", b = json_object());
		json_object_set_new(b, "initial_ms", json_integer(initial / 1000));
		json_object_set_new(b, "coefficient", json_real(coef));
		json_object_set_new(b, "max_ms", json_integer(max / 1000));
		rc = 0;
	}
	free(copy);
	return rc;
}

static int whole_seconds(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *secs)
{
	int64_t us;
	if (cli_parse_duration(PROG, opt, s, lo * 1000000, hi * 1000000, &us))
		return -1;
	if (us % 1000000) {
		fprintf(stderr, PROG ": %s is whole seconds, got '%s'\n", opt, s);
		return -1;
	}
	*secs = us / 1000000;
	return 0;
}

/* Takes one job option; 1 taken, 0 not a job option, -1 bad. */
static int job_opt(int argc, char **argv, int *i, enqueue_opts *o)
{
	static const char *const strings[][2] = {
		{ "--name", "name" },
		{ "--concurrency-key", "concurrency_key" },
		{ "--rate-key", "rate_key" },
	};
	json_t *job = o->job;
	const char *v;
	int r;
	for (size_t k = 0; k < ARRAY_LEN(strings); k++) {
		if ((r = cli_opt_value(PROG, argc, argv, i, strings[k][0], &v)) != 0) {
			if (r > 0)
				json_object_set_new(job, strings[k][1], json_string(v));
			return r;
		}
	}
	int64_t n;
	if ((r = cli_opt_value(PROG, argc, argv, i, "--priority", &v)) != 0) {
		if (r < 0 || cli_parse_i64(PROG, "--priority", v, INT32_MIN, INT32_MAX, &n))
			return -1;
		json_object_set_new(job, "priority", json_integer(n));
		return 1;
	}
	if ((r = cli_opt_value(PROG, argc, argv, i, "--run-at", &v)) != 0) {
		int64_t us;
		if (r > 0 && time_parse_rfc3339(v, &us) != 0) {
			fprintf(stderr, PROG ": --run-at needs an RFC 3339 time such as 2026-12-05T10:00:00Z, got '%s'\n", v);
			return -1;
		}
		if (r > 0)
			json_object_set_new(job, "run_at", json_string(v));
		return r;
	}
	if ((r = cli_opt_value(PROG, argc, argv, i, "--delay", &v)) != 0) {
		if (r < 0 || cli_parse_duration(PROG, "--delay", v, 0, INT64_C(366) * 86400 * 1000000, &n))
			return -1;
		json_object_set_new(job, "delay_ms", json_integer(n / 1000));
		return 1;
	}
	if ((r = cli_opt_value(PROG, argc, argv, i, "--max-attempts", &v)) != 0) {
		if (r < 0 || cli_parse_i64(PROG, "--max-attempts", v, -1, 1000, &n))
			return -1;
		if (n == 0) {
			fprintf(stderr, PROG ": --max-attempts is 1..1000, or -1 for no limit; got 0\n");
			return -1;
		}
		json_object_set_new(job, "max_attempts", json_integer(n));
		return 1;
	}
	if ((r = cli_opt_value(PROG, argc, argv, i, "--backoff", &v)) != 0)
		return r < 0 || parse_backoff(v, job) ? -1 : 1;
	if ((r = cli_opt_value(PROG, argc, argv, i, "--jitter", &v)) != 0) {
		char *end = NULL;
		double j = r > 0 ? strtod(v, &end) : -1;
		if (r < 0 || !end || *end || !*v || !(j >= 0 && j <= 1)) {
			if (r > 0)
				fprintf(stderr, PROG ": --jitter needs a number from 0 to 1, got '%s'\n", v);
			return -1;
		}
		json_t *b = json_object_get(job, "backoff");
		if (!b)
			json_object_set_new(job, "backoff", b = json_object());
		json_object_set_new(b, "jitter", json_real(j));
		return 1;
	}
	if ((r = cli_opt_value(PROG, argc, argv, i, "--timeout", &v)) != 0) {
		if (r < 0 || whole_seconds("--timeout", v, 1, 86400, &n))
			return -1;
		json_object_set_new(job, "timeout_secs", json_integer(n));
		return 1;
	}
	if ((r = cli_opt_value(PROG, argc, argv, i, "--dedup-key", &v)) != 0) {
		if (r < 0)
			return -1;
		json_t *d = json_object_get(job, "dedup");
		if (!d)
			json_object_set_new(job, "dedup", d = json_pack("{s:s}", "scope", "active"));
		json_object_set_new(d, "key", json_string(v));
		return 1;
	}
	if ((r = cli_opt_value(PROG, argc, argv, i, "--dedup-window", &v)) != 0) {
		if (r < 0 || whole_seconds("--dedup-window", v, 1, INT64_C(366) * 86400, &n))
			return -1;
		json_t *d = json_object_get(job, "dedup");
		if (!d)
			json_object_set_new(job, "dedup", d = json_object());
		json_object_set_new(d, "scope", json_string("window"));
		json_object_set_new(d, "window_secs", json_integer(n));
		return 1;
	}
	if ((r = cli_opt_value(PROG, argc, argv, i, "--metadata", &v)) != 0) {
		char err[160];
		json_t *m = r > 0 ? json_parse_body(v, strlen(v), JSON_DEFAULT_MAX_DEPTH, err, sizeof(err)) : NULL;
		if (r > 0 && !json_is_object(m))
			fprintf(stderr, PROG ": --metadata needs a JSON object: %s\n", m ? "got another value" : err);
		if (!json_is_object(m)) {
			json_decref(m);
			return -1;
		}
		json_object_set_new(job, "metadata", m);
		return 1;
	}
	return 0;
}

/* ---- sending ------------------------------------------------------------ */

/* Sends it->v[from, to) as one request; prints or collects the answer. */
static int send_batch(http_client *c, enqueue_opts *o, const items *it, size_t from, size_t to, json_t *all,
                      size_t *done)
{
	json_t *jobs = json_array();
	for (size_t i = from; i < to; i++) {
		json_t *job = json_copy(o->job);
		json_object_set(job, "input", it->v[i].input);
		json_array_append_new(jobs, job);
	}
	json_t *body = json_pack("{s:o}", "jobs", jobs);
	if (o->client.ns)
		json_object_set_new(body, "namespace", json_string(o->client.ns));
	char *text = json_dump_compact(body);
	json_decref(body);
	json_t *answer = NULL;
	char err[1024];
	int rc = cli_post(c, &o->client, "/v1/jobs", text, strlen(text), &answer, NULL, err, sizeof(err));
	free(text);
	if (rc != CLI_EXIT_OK) {
		fprintf(stderr, PROG ": %s\n", err);
		/* the server names a job by its index in the request */
		const char *at = strstr(err, "jobs[");
		unsigned long k = at ? strtoul(at + 5, NULL, 10) : 0;
		if (rc == CLI_EXIT_USAGE && at && k < to - from)
			fprintf(stderr, PROG ": jobs[%lu] there is the value of %s\n", k, it->v[from + k].origin);
		return rc;
	}
	json_t *got = json_object_get(answer, "jobs");
	if (json_array_size(got) != to - from) {
		fprintf(stderr, PROG ": the server answered %zu jobs for %zu sent\n", json_array_size(got), to - from);
		json_decref(answer);
		return CLI_EXIT_SERVER;
	}
	size_t i;
	json_t *j;
	json_array_foreach(got, i, j) {
		if (all) {
			json_array_append(all, j);
			continue;
		}
		const char *id = json_string_value(json_object_get(j, "id"));
		printf("%s%s\n", id ? id : "?", json_is_true(json_object_get(j, "duplicate")) ? " duplicate" : "");
	}
	fflush(stdout);
	*done += to - from;
	json_decref(answer);
	return CLI_EXIT_OK;
}

static int send_all(enqueue_opts *o, const items *it)
{
	http_client *c = cli_client_new(PROG, &o->client, 60000);
	if (!c)
		return CLI_EXIT_USAGE;
	json_t *all = o->json_out ? json_array() : NULL;
	char *tmpl = json_dump_compact(o->job);
	size_t job_overhead = strlen(tmpl) + 32;
	free(tmpl);
	size_t from = 0, done = 0;
	int rc = CLI_EXIT_OK;
	while (from < it->n && rc == CLI_EXIT_OK) {
		/* up to JOBS_PER_REQUEST jobs, and a body under the server's limit */
		size_t to = from, bytes = 64;
		while (to < it->n && to - from < JOBS_PER_REQUEST) {
			char *in = json_dump_compact(it->v[to].input);
			size_t b = strlen(in) + job_overhead;
			free(in);
			if (to > from && bytes + b > REQUEST_BYTES_MAX)
				break;
			bytes += b;
			to++;
		}
		rc = send_batch(c, o, it, from, to, all, &done);
		from = to;
	}
	if (rc != CLI_EXIT_OK && done > 0)
		fprintf(stderr, PROG ": %zu of the %zu jobs were enqueued before the error (their ids are on stdout)\n",
		        done, it->n);
	/* after an error, what was enqueued before it is still printed */
	if (all && (rc == CLI_EXIT_OK || json_array_size(all) > 0)) {
		json_t *out = json_pack("{s:o}", "jobs", all);
		char *text = json_dump_compact(out);
		puts(text);
		free(text);
		json_decref(out);
	} else {
		json_decref(all);
	}
	http_client_free(c);
	return rc;
}

int enqueue_main(int argc, char **argv)
{
	enqueue_opts o = { .job = json_object() };
	cli_client_opts_init(&o.client);
	items it = { 0 };
	int rc = CLI_EXIT_USAGE;
	const char **values = NULL;
	/* Options may come before or after QUEUE: a JSON value never starts
	 * with "--" (a negative number has one dash); after "--" every
	 * argument is a value. */
	values = xcalloc((size_t)argc, sizeof(*values));
	int nvalues = 0;
	bool only_values = false, from_stdin = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!only_values && strcmp(a, "--") == 0) {
			only_values = true;
			continue;
		}
		if (only_values || (strncmp(a, "--", 2) != 0 && strcmp(a, "-h") != 0)) {
			if (!o.queue)
				o.queue = a;
			else
				values[nvalues++] = a;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			rc = CLI_EXIT_OK;
			goto out;
		}
		if (strcmp(a, "--json") == 0) {
			o.json_out = true;
			continue;
		}
		int r = cli_client_opt(PROG, argc, argv, &i, &o.client);
		if (r == 0)
			r = job_opt(argc, argv, &i, &o);
		if (r < 0)
			goto out;
		if (r == 0) {
			fprintf(stderr, PROG ": unknown option '%s' (see weft enqueue --help)\n", a);
			goto out;
		}
	}
	if (!o.queue) {
		fprintf(stderr, PROG ": which queue? usage: weft enqueue [options] QUEUE [JSON...]\n");
		goto out;
	}
	json_t *dedup = json_object_get(o.job, "dedup");
	if (dedup && !json_object_get(dedup, "key")) {
		fprintf(stderr, PROG ": --dedup-window needs --dedup-key: the window is per key\n");
		goto out;
	}
	json_object_set_new(o.job, "queue", json_string(o.queue));
	if (nvalues == 0 || (nvalues == 1 && strcmp(values[0], "-") == 0)) {
		from_stdin = true;
		if (isatty(STDIN_FILENO))
			fprintf(stderr, PROG ": reading one JSON value per line from the terminal; end with Ctrl-D\n");
		if (read_stdin(&it) != 0)
			goto out;
	} else {
		for (int k = 0; k < nvalues; k++) {
			char origin[32];
			snprintf(origin, sizeof(origin), "argument %d", k + 1);
			if (take_value(&it, values[k], strlen(values[k]), origin) != 0)
				goto out;
		}
	}
	if (it.n == 0) {
		fprintf(stderr, PROG ": nothing to enqueue: %s\n",
		        from_stdin ? "stdin had no non-blank line" : "no JSON value given");
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = send_all(&o, &it);
	curl_global_cleanup();
out:
	free(values);
	items_free(&it);
	json_decref(o.job);
	return rc;
}
