/*
 * submit.c — `weft submit [options] FILE|-` (see submit.h).
 *
 * The whole file is read and converted before anything is sent, so that a
 * mistake on line 9,000 is reported with its line and column rather than
 * as a server error about tasks[4123]. JSON is sent as it was parsed
 * (with --namespace added); YAML through submit_yaml.c. Bodies larger
 * than UPLOAD_BAR_MIN_BYTES show a progress bar on stderr when it is a
 * terminal. --wait polls GET /v1/runs/{id} (the API has no long poll for
 * runs) with a backoff from POLL_FIRST_MS to POLL_MAX_MS, drawing the
 * run's progress on stderr when it is a terminal.
 */
#include "cli/submit.h"
#include "cli/client_opts.h"
#include "cli/input_file.h"
#include "cli/submit_yaml.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"

#include <curl/curl.h>
#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG "weft submit"
#define UPLOAD_BAR_MIN_BYTES (1u << 20)
#define UPLOAD_BAR_WIDTH 30
#define POLL_FIRST_MS 100
#define POLL_MAX_MS 2000
#define IDEMPOTENCY_KEY_MAX 255   /* the server's limit (HTTP_IDEMPOTENCY_KEY_MAX) */

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: weft submit [options] FILE|-\n"
	        "\n"
	        "Submits a run: a DAG of queue and webhook tasks, written in JSON or YAML\n"
	        "(the body of POST /v1/runs: {\"name\", \"metadata\", \"tasks\": [...]}; a bare list\n"
	        "is taken as the tasks). FILE - reads stdin. The format comes from the\n"
	        "extension (.json, .yaml, .yml), else from the content. At most 16 MiB.\n"
	        "\n"
	        "options:\n"
	        "  --format json|yaml       the input's format, whatever its name\n"
	        "  --json                   print the server's answer (with --wait: the run\n"
	        "                           as it ended, as GET /v1/runs/ID answers it)\n"
	        "  --wait                   follow the run until it ends (its progress on stderr);\n"
	        "                           the exit code says how\n"
	        "  --wait-timeout DURATION  with --wait: give up after DURATION (30s, 5m, 2h)\n"
	        "  --idempotency-key KEY    a retried submit with the same KEY creates nothing\n"
	        "                           new and answers the first run (1-255 visible ASCII)\n"
	        "%s"
	        "  -h, --help               show this text\n"
	        "\n"
	        "Exit codes: 0 submitted (with --wait: the run succeeded), 1 server error,\n"
	        "2 bad usage or input, 3 auth, 4 unreachable; with --wait: 7 the run failed,\n"
	        "8 it was canceled, 9 --wait-timeout passed first.\n",
	        CLI_CLIENT_OPTS_HELP);
}

typedef enum { FORMAT_GUESS, FORMAT_JSON, FORMAT_YAML } input_format;

typedef struct submit_opts {
	cli_client_opts client;
	const char *file;
	input_format format;
	bool json_out, wait;
	int64_t wait_timeout_us;      /* 0: none */
	const char *idempotency_key;
} submit_opts;

/* ---- reading and converting ----------------------------------------------- */

static int too_large(const char *name, uint64_t bytes, const char *what)
{
	fprintf(stderr,
	        PROG ": %s %s %.1f MiB; a run request may have at most %u MiB (the server's V1_PAYLOAD_MAX_BYTES "
	        "default): split the DAG into several runs\n",
	        name, what, (double)bytes / (1 << 20), SUBMIT_MAX_BYTES >> 20);
	return CLI_EXIT_USAGE;
}

/* The input's bytes (owned) in *out; refuses more than SUBMIT_MAX_BYTES
 * before reading them when the size is known. */
static int read_input(const char *file, char **out, size_t *len)
{
	bool std_in = strcmp(file, "-") == 0;
	FILE *f = std_in ? stdin : fopen(file, "rb");
	if (!f) {
		fprintf(stderr, PROG ": cannot open %s: %s\n", file, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > SUBMIT_MAX_BYTES) {
		if (!std_in)
			fclose(f);
		return too_large(std_in ? "stdin" : file, (uint64_t)st.st_size, "is");
	}
	if (std_in && isatty(fileno(f)))
		fprintf(stderr, PROG ": reading the DAG from the terminal; end with Ctrl-D\n");
	size_t seen;
	int rc = CLI_EXIT_OK;
	switch (cli_read_bounded(f, SUBMIT_MAX_BYTES, out, len, &seen)) {
	case INPUT_READ_OK: break;
	case INPUT_READ_TOO_LARGE: rc = too_large(std_in ? "stdin" : file, seen, "has more than"); break;
	case INPUT_READ_ERROR:
		fprintf(stderr, PROG ": cannot read %s: %s\n", std_in ? "stdin" : file, strerror(errno));
		rc = CLI_EXIT_USAGE;
		break;
	}
	if (!std_in)
		fclose(f);
	return rc;
}

/* The extension's format, else by the first character (cli_input_is_json;
 * --format yaml says otherwise). */
static input_format guess_format(const char *file, const char *text, size_t len)
{
	return cli_input_is_json(file, text, len) ? FORMAT_JSON : FORMAT_YAML;
}

/* The request body as a tree (a new reference), or NULL after a message.
 * For YAML, lines gets the line of each task. */
static json_t *parse_dag(const submit_opts *o, const char *text, size_t len, submit_yaml_lines *lines)
{
	const char *name = strcmp(o->file, "-") == 0 ? "stdin" : o->file;
	input_format fmt = o->format != FORMAT_GUESS ? o->format : guess_format(o->file, text, len);
	char err[512];
	json_t *doc;
	if (fmt == FORMAT_YAML) {
		doc = submit_yaml_to_json(text, len, name, lines, err, sizeof(err));
		if (!doc)
			fprintf(stderr, PROG ": %s\n", err);
	} else {
		doc = json_parse_body(text, len, JSON_DEFAULT_MAX_DEPTH, err, sizeof(err));
		if (!doc) {
			/* "... at line 3 column 7" to the file:line:column form */
			unsigned long line = 0, col = 0;
			char *at = strstr(err, " at line ");
			if (at && sscanf(at, " at line %lu column %lu", &line, &col) == 2) {
				*at = '\0';
				bool hint = o->format == FORMAT_GUESS && !cli_file_has_suffix(o->file, ".json");
				fprintf(stderr, PROG ": %s:%lu:%lu: %s (not JSON%s)\n", name, line, col, err,
				        hint ? "; --format yaml if it is YAML" : "");
			} else {
				fprintf(stderr, PROG ": %s: %s\n", name, err);
			}
		}
	}
	if (!doc)
		return NULL;
	if (json_is_array(doc))   /* a bare list: the tasks */
		doc = json_pack("{s:o}", "tasks", doc);
	if (!json_is_object(doc)) {
		fprintf(stderr, PROG ": %s: the DAG must be %s with a tasks list (found: %s)\n", name,
		        fmt == FORMAT_YAML ? "a mapping" : "an object", json_type_name(doc));
		json_decref(doc);
		return NULL;
	}
	const char *ns = json_string_value(json_object_get(doc, "namespace"));
	if (o->client.ns && ns && strcmp(ns, o->client.ns) != 0) {
		fprintf(stderr, PROG ": %s names namespace '%s' but --namespace (or WEFT_NAMESPACE) says '%s': "
		                "remove one of them\n", name, ns, o->client.ns);
		json_decref(doc);
		return NULL;
	}
	if (o->client.ns && !ns)
		json_object_set_new(doc, "namespace", json_string(o->client.ns));
	return doc;
}

/* ---- calling the API ----------------------------------------------------- */

/* Shows where the tasks the server's message names (tasks[N]) are in the
 * file, for the first few of them. */
static void name_task_lines(const char *msg, const char *file, const submit_yaml_lines *lines)
{
	size_t shown[3];
	size_t nshown = 0;
	for (const char *p = msg; (p = strstr(p, "tasks[")) != NULL && nshown < ARRAY_LEN(shown); p++) {
		char *end = NULL;
		unsigned long k = strtoul(p + 6, &end, 10);
		if (end == p + 6 || *end != ']' || k >= lines->n)
			continue;
		bool seen = false;
		for (size_t i = 0; i < nshown; i++)
			seen = seen || shown[i] == k;
		if (seen)
			continue;
		shown[nshown++] = k;
		fprintf(stderr, PROG ": tasks[%lu] is the task at %s:%zu\n", k, file, lines->line[k]);
	}
}

/* ---- the upload's progress bar -------------------------------------------- */

typedef struct upload_bar {
	int64_t last_us;
	bool shown, full;
} upload_bar;

static int draw_upload(void *ud, int64_t up_now, int64_t up_total, int64_t down_now, int64_t down_total)
{
	UNUSED(down_now);
	UNUSED(down_total);
	upload_bar *bar = ud;
	if (up_total <= 0 || bar->full)
		return 0;
	int64_t now = clock_mono_us();
	bool full = up_now >= up_total;
	if (bar->shown && !full && now - bar->last_us < 100000)
		return 0;   /* ten redraws a second are plenty */
	bar->last_us = now;
	bar->shown = true;
	bar->full = full;
	char cells[UPLOAD_BAR_WIDTH + 1];
	int filled = (int)(up_now * UPLOAD_BAR_WIDTH / up_total);
	memset(cells, '#', (size_t)filled);
	memset(cells + filled, ' ', (size_t)(UPLOAD_BAR_WIDTH - filled));
	cells[UPLOAD_BAR_WIDTH] = '\0';
	fprintf(stderr, "\rupload [%s] %3d%% %.1f/%.1f MiB%s", cells, (int)(up_now * 100 / up_total),
	        (double)up_now / (1 << 20), (double)up_total / (1 << 20), full ? "\n" : "");
	fflush(stderr);
	return 0;
}

/* ---- output and waiting ----------------------------------------------------- */

static void print_json(const json_t *v)
{
	char *text = json_dump_compact(v);
	puts(text);
	free(text);
	fflush(stdout);
}

static void print_created(const json_t *run, bool replayed)
{
	const char *id = json_string_value(json_object_get(run, "id"));
	const char *name = json_string_value(json_object_get(run, "name"));
	const char *ns = json_string_value(json_object_get(run, "namespace"));
	json_t *tasks = json_object_get(run, "tasks");
	size_t queue = 0, webhook = 0, i;
	json_t *t;
	json_array_foreach(tasks, i, t) {
		if (json_string_value(json_object_get(t, "executor")) && strcmp(json_string_value(json_object_get(t, "executor")), "webhook") == 0)
			webhook++;
		else
			queue++;
	}
	printf("run %s%s%s%s %s in namespace %s: %zu task%s (%zu queue, %zu webhook)\n", id ? id : "?",
	       name ? " \"" : "", name ? name : "", name ? "\"" : "",
	       replayed ? "was already submitted with this --idempotency-key; nothing new was created" : "created",
	       ns ? ns : "?", json_array_size(tasks), json_array_size(tasks) == 1 ? "" : "s", queue, webhook);
	printf("follow it with: weft runs show %s\n", id ? id : "?");
	fflush(stdout);
}

/* "3 success, 1 failure" from a run's counts. */
static void counts_text(const json_t *counts, buf *out)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)counts, k, v) {
		if (strcmp(k, "total") == 0 || json_integer_value(v) == 0)
			continue;
		buf_printf(out, "%s%" JSON_INTEGER_FORMAT " %s", out->len ? ", " : "", json_integer_value(v), k);
	}
}

/* The run's progress on stderr (a terminal), redrawn in place:
 * "[######          ] 3/8 tasks ended (2 success, 1 failure, 5 running)". */
static void draw_run_progress(const json_t *counts, bool final)
{
	json_int_t total = json_integer_value(json_object_get(counts, "total"));
	json_int_t ended = json_integer_value(json_object_get(counts, "success")) +
	                   json_integer_value(json_object_get(counts, "failure")) +
	                   json_integer_value(json_object_get(counts, "canceled")) +
	                   json_integer_value(json_object_get(counts, "skipped"));
	if (total <= 0)
		return;
	char cells[UPLOAD_BAR_WIDTH + 1];
	int filled = (int)(ended * UPLOAD_BAR_WIDTH / total);
	memset(cells, '#', (size_t)filled);
	memset(cells + filled, ' ', (size_t)(UPLOAD_BAR_WIDTH - filled));
	cells[UPLOAD_BAR_WIDTH] = '\0';
	buf what;
	buf_init(&what);
	counts_text(counts, &what);
	/* \033[K clears what a longer line drawn before left */
	fprintf(stderr, "\r[%s] %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " tasks ended (%s)\033[K%s", cells, ended,
	        total, what.len ? what.data : "", final ? "\n" : "");
	fflush(stderr);
	buf_release(&what);
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* Polls the run until it is no longer active; its exit code. */
static int wait_for_run(http_client *c, const submit_opts *o, const char *id)
{
	char path[128];
	snprintf(path, sizeof(path), "/v1/runs/%s", id);
	int64_t start = clock_mono_us(), delay = POLL_FIRST_MS;
	bool told_retrying = false;
	bool progress = !o->json_out && isatty(STDERR_FILENO), drawn = false;
	if (!o->json_out)
		fprintf(stderr, PROG ": waiting for run %s to end (Ctrl-C stops waiting, not the run)\n", id);
	for (;;) {
		json_t *run = NULL;
		long status;
		char err[1024];
		int rc = cli_request(c, &o->client, "GET", path, NULL, 0, &run, &status, err, sizeof(err));
		if (rc != CLI_EXIT_OK && !cli_retryable(rc, status)) {
			fprintf(stderr, PROG ": while waiting for run %s: %s\n", id, err);
			return rc;
		}
		if (rc != CLI_EXIT_OK && !told_retrying) {
			fprintf(stderr, "%s" PROG ": %s; still trying\n", drawn ? "\n" : "", err);
			told_retrying = true;
			drawn = false;
		}
		const char *st = json_string_value(json_object_get(run, "status"));
		bool ended = st && strcmp(st, "active") != 0;
		if (progress && run) {
			draw_run_progress(json_object_get(run, "counts"), ended);
			drawn = !ended;
		}
		if (ended) {
			int code = strcmp(st, "success") == 0    ? CLI_EXIT_OK
			           : strcmp(st, "canceled") == 0 ? SUBMIT_EXIT_RUN_CANCELED
			                                         : SUBMIT_EXIT_RUN_FAILED;
			if (o->json_out) {
				print_json(run);
			} else {
				buf counts;
				buf_init(&counts);
				counts_text(json_object_get(run, "counts"), &counts);
				printf("run %s ended: %s (%s)\n", id, st, counts.len ? counts.data : "no tasks");
				buf_release(&counts);
				if (code != CLI_EXIT_OK)
					printf("see its tasks with: weft runs tasks %s\n", id);
			}
			json_decref(run);
			return code;
		}
		json_decref(run);
		if (o->wait_timeout_us > 0 && clock_mono_us() - start + delay * 1000 > o->wait_timeout_us) {
			fprintf(stderr, "%s" PROG ": run %s is still active after --wait-timeout; it goes on: weft runs show %s\n",
			        drawn ? "\n" : "", id, id);
			return SUBMIT_EXIT_WAIT_TIMEOUT;
		}
		sleep_ms(delay);
		delay = MIN(delay * 3 / 2, POLL_MAX_MS);
	}
}

static int send_run(http_client *c, const submit_opts *o, const char *body, size_t len,
                    const submit_yaml_lines *lines)
{
	/* a large upload over a slow link takes its time: a minute per 8 MiB */
	http_client_set_timeout(c, 60000 + (long)(len >> 23) * 60000);
	upload_bar bar = { 0 };
	if (len > UPLOAD_BAR_MIN_BYTES && isatty(STDERR_FILENO))
		http_client_set_progress(c, draw_upload, &bar);
	char key_header[IDEMPOTENCY_KEY_MAX + 32];
	const char *headers[2] = { NULL, NULL };
	if (o->idempotency_key) {
		snprintf(key_header, sizeof(key_header), "Idempotency-Key: %s", o->idempotency_key);
		headers[0] = key_header;
	}
	json_t *answer = NULL;
	long status;
	bool replayed = false;
	char err[2048];
	cli_call_extra extra = { .headers = headers };
	int rc = cli_request_ex(c, &o->client, "POST", "/v1/runs", body, len, &extra, &answer, &status, err,
	                        sizeof(err));
	replayed = extra.replayed;
	if (bar.shown && !bar.full)
		fputc('\n', stderr);
	http_client_set_progress(c, NULL, NULL);
	http_client_set_timeout(c, 30000);
	const char *id = json_string_value(json_object_get(answer, "id"));
	if (rc != CLI_EXIT_OK) {
		fprintf(stderr, PROG ": %s\n", err);
		if (rc == CLI_EXIT_USAGE)
			name_task_lines(err, strcmp(o->file, "-") == 0 ? "stdin" : o->file, lines);
	} else if (!id) {
		fprintf(stderr, PROG ": the server's answer has no run id\n");
		rc = CLI_EXIT_SERVER;
	} else {
		if (o->json_out && !o->wait)
			print_json(answer);
		else if (!o->json_out)
			print_created(answer, replayed);
		if (o->wait)
			rc = wait_for_run(c, o, id);
	}
	json_decref(answer);
	return rc;
}

/* ---- options ----------------------------------------------------------------- */

static bool key_ok(const char *k)
{
	size_t n = strlen(k);
	if (n < 1 || n > IDEMPOTENCY_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
			return false;
	return true;
}

/* 1 when argv[*i] was an option of submit's own, 0 when not, -1 bad. */
static int submit_opt(int argc, char **argv, int *i, submit_opts *o)
{
	const char *a = argv[*i], *v;
	int r;
	if (strcmp(a, "--json") == 0) {
		o->json_out = true;
		return 1;
	}
	if (strcmp(a, "--wait") == 0) {
		o->wait = true;
		return 1;
	}
	if ((r = cli_opt_value(PROG, argc, argv, i, "--format", &v)) != 0) {
		if (r > 0 && strcmp(v, "json") == 0)
			o->format = FORMAT_JSON;
		else if (r > 0 && strcmp(v, "yaml") == 0)
			o->format = FORMAT_YAML;
		else if (r > 0)
			fprintf(stderr, PROG ": --format is json or yaml, got '%s'\n", v);
		return r > 0 && o->format != FORMAT_GUESS ? 1 : -1;
	}
	if ((r = cli_opt_value(PROG, argc, argv, i, "--wait-timeout", &v)) != 0) {
		if (r < 0 || cli_parse_duration(PROG, "--wait-timeout", v, 1000, INT64_C(366) * 86400 * 1000000,
		                                &o->wait_timeout_us))
			return -1;
		return 1;
	}
	if ((r = cli_opt_value(PROG, argc, argv, i, "--idempotency-key", &v)) != 0) {
		if (r > 0 && !key_ok(v)) {
			fprintf(stderr, PROG ": --idempotency-key needs 1 to %d visible ASCII characters (no spaces)\n",
			        IDEMPOTENCY_KEY_MAX);
			return -1;
		}
		o->idempotency_key = v;
		return r;
	}
	return 0;
}

int submit_main(int argc, char **argv)
{
	submit_opts o = { 0 };
	cli_client_opts_init(&o.client);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return CLI_EXIT_OK;
		}
		if (strcmp(a, "-") == 0 || strncmp(a, "-", 1) != 0) {
			if (o.file) {
				fprintf(stderr, PROG ": one FILE at a time (got '%s' and '%s')\n", o.file, a);
				return CLI_EXIT_USAGE;
			}
			o.file = a;
			continue;
		}
		int r = cli_client_opt(PROG, argc, argv, &i, &o.client);
		if (r == 0)
			r = submit_opt(argc, argv, &i, &o);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r == 0) {
			fprintf(stderr, PROG ": unknown option '%s' (see weft submit --help)\n", a);
			return CLI_EXIT_USAGE;
		}
	}
	if (!o.file) {
		fprintf(stderr, PROG ": which file? usage: weft submit [options] FILE|- (see weft submit --help)\n");
		return CLI_EXIT_USAGE;
	}
	if (o.wait_timeout_us && !o.wait) {
		fprintf(stderr, PROG ": --wait-timeout goes with --wait\n");
		return CLI_EXIT_USAGE;
	}
	char *text = NULL;
	size_t len = 0;
	int rc = read_input(o.file, &text, &len);
	if (rc != CLI_EXIT_OK)
		return rc;
	/* the client first: making it settles --namespace (no request yet) */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	http_client *c = cli_client_new(PROG, &o.client, 0);
	submit_yaml_lines lines = { 0 };
	json_t *doc = c ? parse_dag(&o, text, len, &lines) : NULL;
	free(text);
	char *body = doc ? json_dump_compact(doc) : NULL;
	json_decref(doc);
	size_t body_len = body ? strlen(body) : 0;
	if (!body)
		rc = CLI_EXIT_USAGE;
	else if (body_len > SUBMIT_MAX_BYTES)
		rc = too_large(strcmp(o.file, "-") == 0 ? "stdin" : o.file, body_len, "as JSON is");
	else
		rc = send_run(c, &o, body, body_len, &lines);
	http_client_free(c);
	curl_global_cleanup();
	submit_yaml_lines_release(&lines);
	free(body);
	return rc;
}
