/*
 * queues_cmd.c — `weft queues [ls|show|pause|resume|set]`: a server's
 * queues, their depth and throughput, and their limits, on /v1/queues.
 */
#include "cli/families.h"
#include "util/alloc.h"

#include <errno.h>

#define LIMIT_MAX 1000000
#define PERIOD_MAX_US (INT64_C(86400) * 1000000)

static const cli_column QUEUE_COLUMNS[] = {
	{ "NAME", "name", COL_TEXT },
	{ "PAUSED", "paused", COL_TEXT },
	{ "READY", "depth.ready", COL_TEXT },
	{ "SCHEDULED", "depth.scheduled", COL_TEXT },
	{ "RUNNING", "depth.running", COL_TEXT },
	{ "RETRYING", "depth.retrying", COL_TEXT },
	{ "DEAD", "depth.dead", COL_TEXT },
	{ "DONE_1M", "throughput.completed.1m", COL_TEXT },
	{ "FAILED_1M", "throughput.failed.1m", COL_TEXT },
	{ "CONCURRENCY", "concurrency_limit", COL_TEXT },
	{ 0 },
};

static const cli_column QUEUE_FIELDS[] = {
	{ "Name", "name", COL_TEXT },
	{ "Namespace", "namespace", COL_TEXT },
	{ "Paused", "paused", COL_TEXT },
	{ "Concurrency", "concurrency_limit", COL_TEXT },
	{ "Key concurrency", "key_concurrency_limit", COL_TEXT },
	{ "Rate limit", "rate_limit", COL_JSON },
	{ "Ready", "depth.ready", COL_TEXT },
	{ "Scheduled", "depth.scheduled", COL_TEXT },
	{ "Running", "depth.running", COL_TEXT },
	{ "Retrying", "depth.retrying", COL_TEXT },
	{ "Held by pause", "depth.paused", COL_TEXT },
	{ "Dead", "depth.dead", COL_TEXT },
	{ "Oldest ready ms", "oldest_ready_age_ms", COL_TEXT },
	{ "Done in 1m", "throughput.completed.1m", COL_TEXT },
	{ "Done in 15m", "throughput.completed.15m", COL_TEXT },
	{ "Failed in 1m", "throughput.failed.1m", COL_TEXT },
	{ "Failed in 15m", "throughput.failed.15m", COL_TEXT },
	{ "Dead in 15m", "throughput.dead_lettered.15m", COL_TEXT },
	{ "Created", "created_at", COL_TIME },
	{ "Updated", "updated_at", COL_TIME },
	{ "Updated by", "updated_by", COL_TEXT },
	{ 0 },
};

static const cli_column CHANGE_COLUMNS[] = {
	{ "AT", "at", COL_TIME }, { "ACTOR", "actor", COL_TEXT }, { "ACTION", "action", COL_TEXT },
	{ "DETAIL", "detail", COL_JSON }, { 0 },
};

static const cli_opt PAGE_OPTS[] = { CLI_PAGE_OPTS, { 0 } };

static int list_queues(cli_ctx *c)
{
	return cli_list(c, "/v1/queues", true, "queues", QUEUE_COLUMNS);
}

static int show_queue(cli_ctx *c)
{
	json_t *q = NULL;
	int rc = cli_fetch(c, "/v1/queues/", true, &q);
	if (rc == CLI_EXIT_OK && c->json) {
		out_json(stdout, q);
	} else if (rc == CLI_EXIT_OK) {
		cli_print_fields(q, QUEUE_FIELDS);
		const json_t *changes = json_object_get(q, "recent_changes");
		if (json_array_size(changes)) {
			printf("\nRecent changes:\n");
			cli_print_table(changes, CHANGE_COLUMNS);
		}
	}
	json_decref(q);
	return rc;
}

/* A limit option's value: a count in [1, LIMIT_MAX], or "none" (JSON null,
 * which removes the limit). NULL after a message. */
static json_t *limit_value(cli_ctx *c, const char *opt, const char *s)
{
	if (strcmp(s, "none") == 0)
		return json_null();
	int64_t n;
	if (cli_parse_i64(c->prog, opt, s, 1, LIMIT_MAX, &n) != 0)
		return NULL;
	return json_integer(n);
}

/* --rate N/PERIOD ("100/1s", "5/1m"; "100" is per second) with --burst,
 * or "none". NULL after a message. */
static json_t *rate_value(cli_ctx *c, const char *s, const char *burst)
{
	if (strcmp(s, "none") == 0)
		return json_null();
	char *copy = xstrdup(s);
	char *slash = strchr(copy, '/');
	if (slash)
		*slash = '\0';
	int64_t limit, period_us = 1000000, b = 0;
	json_t *rate = NULL;
	/* "100/s" reads as "100/1s" */
	char *period = slash && slash[1] >= 'a' && slash[1] <= 'z' ? xasprintf("1%s", slash + 1)
	                                                          : xstrdup(slash ? slash + 1 : "1s");
	if (cli_parse_i64(c->prog, "--rate LIMIT", copy, 1, LIMIT_MAX, &limit) == 0 &&
	    cli_parse_duration(c->prog, "--rate PERIOD", period, 1000, PERIOD_MAX_US, &period_us) == 0 &&
	    (!burst || cli_parse_i64(c->prog, "--burst", burst, 1, LIMIT_MAX, &b) == 0)) {
		rate = json_pack("{sI sI}", "limit", (json_int_t)limit, "period_ms", (json_int_t)(period_us / 1000));
		if (burst)
			json_object_set_new(rate, "burst", json_integer(b));
	}
	free(period);
	free(copy);
	return rate;
}

static int set_queue(cli_ctx *c)
{
	static const struct {
		const char *opt, *member;
	} limits[] = { { "--concurrency", "concurrency_limit" }, { "--key-concurrency", "key_concurrency_limit" } };
	json_t *patch = json_object();
	int rc = CLI_EXIT_OK;
	for (size_t i = 0; i < ARRAY_LEN(limits) && rc == CLI_EXIT_OK; i++) {
		const char *v = cli_val(c, limits[i].opt);
		json_t *j = v ? limit_value(c, limits[i].opt, v) : NULL;
		if (v && !j)
			rc = CLI_EXIT_USAGE;
		else if (j)
			json_object_set_new(patch, limits[i].member, j);
	}
	const char *rate = cli_val(c, "--rate"), *burst = cli_val(c, "--burst");
	if (rc == CLI_EXIT_OK && burst && !rate) {
		cli_fail(c, "--burst goes with --rate");
		rc = CLI_EXIT_USAGE;
	} else if (rc == CLI_EXIT_OK && rate) {
		json_t *r = rate_value(c, rate, burst);
		if (r)
			json_object_set_new(patch, "rate_limit", r);
		else
			rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK && json_object_size(patch) == 0) {
		cli_fail(c, "nothing to set: give --concurrency, --key-concurrency or --rate");
		rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK)
		rc = cli_act(c, &(const cli_action){ "PATCH", "/v1/queues/", NULL, true, QUEUE_COLUMNS }, patch);
	json_decref(patch);
	return rc;
}

static const cli_opt SET_OPTS[] = {
	{ "--concurrency", "N|none", NULL, "jobs of the queue running at once, 1..1000000; none: no limit" },
	{ "--key-concurrency", "N|none", NULL, "jobs with the same concurrency key running at once" },
	{ "--rate", "N[/PERIOD]|none", NULL, "claims per PERIOD (default 1s) and rate key: 100, 100/s, 5/1m" },
	{ "--burst", "N", NULL, "with --rate: the token bucket's size (default N)" },
	{ 0 },
};

static const cli_action PAUSE = { "POST", "/v1/queues/", "/pause", true, QUEUE_COLUMNS };
static const cli_action RESUME = { "POST", "/v1/queues/", "/resume", true, QUEUE_COLUMNS };

const cli_family CLI_QUEUES = {
	"queues",
	"list queues, show depth and throughput, pause, resume, set limits",
	(const cli_cmd[]){
		{ "ls", NULL, 0, 0, "list the queues of the namespace", NULL, PAGE_OPTS, list_queues, NULL },
		{ "show", "NAME", 1, 1, "show a queue: limits, depth, throughput and recent changes", NULL, NULL,
		  show_queue, NULL },
		{ "pause", "NAME", 1, 1, "stop workers from claiming the queue's jobs", NULL, NULL, cli_run_action, &PAUSE },
		{ "resume", "NAME", 1, 1, "let workers claim the queue's jobs again", NULL, NULL, cli_run_action, &RESUME },
		{ "set", "NAME", 1, 1, "change a queue's limits (options left out are kept)", NULL, SET_OPTS, set_queue,
		  NULL },
		{ 0 },
	},
};
