/*
 * schedules_cmd.c — `weft schedules [ls|show|create|delete|pause|resume|
 * trigger|next]`: a server's cron schedules, on /v1/schedules. A schedule
 * is named within its namespace (--namespace, or the token's default).
 */
#include "cli/families.h"
#include "util/alloc.h"

#define CATCHUP_MAX 1000     /* --catchup-max: the API's range */
#define NEXT_MAX 100         /* `next NAME N`: the API's most */

static const cli_column SCHEDULE_COLUMNS[] = {
	{ "NAME", "name", COL_ID },
	{ "CRON", "cron", COL_TEXT },
	{ "ZONE", "timezone", COL_TEXT },
	{ "TARGET", "target.kind", COL_TEXT },
	{ "OVERLAP", "overlap", COL_TEXT },
	{ "PAUSED", "paused", COL_TEXT },
	{ "NEXT", "next_fire_at", COL_TIME },
	{ "LAST", "last_fire_at", COL_TIME },
	{ "FIRES", "fires", COL_TEXT },
	{ "SKIPPED", "skipped_fires", COL_TEXT },
	{ 0 },
};

static const cli_column SCHEDULE_FIELDS[] = {
	{ "Name", "name", COL_ID },
	{ "Namespace", "namespace", COL_TEXT },
	{ "Cron", "cron", COL_TEXT },
	{ "Zone", "timezone", COL_TEXT },
	{ "Target", "target.kind", COL_TEXT },
	{ "Catch-up", "catchup", COL_TEXT },
	{ "Catch-up max", "catchup_max", COL_TEXT },
	{ "Overlap", "overlap", COL_TEXT },
	{ "Paused", "paused", COL_TEXT },
	{ "Next", "next_fire_at", COL_TIME },
	{ "Last fired", "last_fire_at", COL_TIME },
	{ "Last run", "last_run_id", COL_ID },
	{ "Last job", "last_job_id", COL_ID },
	{ "Run active", "last_run_active", COL_TEXT },
	{ "Fires", "fires", COL_TEXT },
	{ "Skipped", "skipped_fires", COL_TEXT },
	{ "Last skipped", "last_skipped_at", COL_TIME },
	{ "Created", "created_at", COL_TIME },
	{ "Updated", "updated_at", COL_TIME },
	{ 0 },
};

static int list_schedules(cli_ctx *c)
{
	return cli_list(c, "/v1/schedules", true, "schedules", SCHEDULE_COLUMNS);
}

/* The fire times of a schedule's "next" array, one per line after indent. */
static void print_times(const json_t *next, const char *indent)
{
	size_t i;
	const json_t *t;
	json_array_foreach(next, i, t)
		printf("%s%s\n", indent, json_string_value(t));
}

static int show_schedule(cli_ctx *c)
{
	json_t *s = NULL;
	int rc = cli_fetch(c, "/v1/schedules/", true, &s);
	if (rc == CLI_EXIT_OK && c->json) {
		out_json(stdout, s);
	} else if (rc == CLI_EXIT_OK) {
		cli_print_fields(s, SCHEDULE_FIELDS);
		cli_print_json_block("Target", json_object_get(s, "target"));
		const json_t *next = json_object_get(s, "next");
		if (json_array_size(next) > 0) {
			printf("Next fire times:\n");
			print_times(next, "  ");
		}
	}
	json_decref(s);
	return rc;
}

/* `next NAME [N]`: the next N fire times (default 5), one per line. */
static int next_times(cli_ctx *c)
{
	int64_t n = 5;
	if (c->nargs > 1 && cli_parse_i64(c->prog, "N", c->args[1], 1, NEXT_MAX, &n) != 0)
		return CLI_EXIT_USAGE;
	buf path;
	buf_init(&path);
	buf_puts(&path, "/v1/schedules/");
	cli_escape(&path, c->args[0]);
	buf_printf(&path, "?next=%" PRId64, n);
	if (c->client.ns) {
		buf_puts(&path, "&namespace=");
		cli_escape(&path, c->client.ns);
	}
	json_t *s = NULL;
	int rc = cli_call(c, "GET", path.data, NULL, &s);
	buf_release(&path);
	const json_t *next = json_object_get(s, "next");
	if (rc == CLI_EXIT_OK && c->json) {
		out_json(stdout, next);
	} else if (rc == CLI_EXIT_OK) {
		print_times(next, "");
	}
	json_decref(s);
	return rc;
}

int cli_json_opt(cli_ctx *c, const char *name, json_t **out)
{
	*out = NULL;
	const char *text = cli_val(c, name);
	if (!text)
		return CLI_EXIT_OK;
	json_error_t err;
	*out = json_loads(text, JSON_DECODE_ANY, &err);
	if (*out)
		return CLI_EXIT_OK;
	cli_fail(c, "%s is not JSON: %s (at character %d)", name, err.text, err.position);
	return CLI_EXIT_USAGE;
}

int cli_target_of(cli_ctx *c, json_t **target)
{
	*target = NULL;
	const char *queue = cli_val(c, "--queue"), *wf = cli_val(c, "--workflow"), *tpl = cli_val(c, "--template"),
	           *job_name = cli_val(c, "--job-name");
	int kinds = (cli_val(c, "--target") != NULL) + (wf != NULL) + (tpl != NULL) + (!wf && queue != NULL);
	if (kinds != 1) {
		cli_fail(c, "give one target: --queue Q (a job), --workflow TYPE --queue Q, --template NAME@VERSION, "
		            "or --target JSON");
		return CLI_EXIT_USAGE;
	}
	if (cli_val(c, "--target"))
		return cli_json_opt(c, "--target", target);
	json_t *input = NULL, *context = NULL;
	int rc = cli_json_opt(c, "--input", &input);
	if (rc == CLI_EXIT_OK)
		rc = cli_json_opt(c, "--context", &context);
	if (rc == CLI_EXIT_OK && tpl && (input || queue || job_name)) {
		cli_fail(c, "a template target takes --context, not --queue, --input or --job-name");
		rc = CLI_EXIT_USAGE;
	} else if (rc == CLI_EXIT_OK && !tpl && context) {
		cli_fail(c, "--context goes with --template");
		rc = CLI_EXIT_USAGE;
	} else if (rc == CLI_EXIT_OK && wf && !queue) {
		cli_fail(c, "give --queue: the queue whose workers run workflow %s", wf);
		rc = CLI_EXIT_USAGE;
	} else if (rc == CLI_EXIT_OK && wf && job_name) {
		cli_fail(c, "--job-name goes with a job target: a workflow run is named by its type");
		rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK && tpl) {
		*target = json_pack("{ss ss}", "kind", "template", "template", tpl);
		if (context)
			json_object_set(*target, "context", context);
	} else if (rc == CLI_EXIT_OK) {
		*target = json_pack("{ss ss}", "kind", wf ? "workflow" : "job", "queue", queue);
		if (wf)
			json_object_set_new(*target, "type", json_string(wf));
		if (job_name)
			json_object_set_new(*target, "name", json_string(job_name));
		if (input)
			json_object_set(*target, "input", input);
	}
	json_decref(input);
	json_decref(context);
	return rc;
}

static int create_schedule(cli_ctx *c)
{
	const char *cron = cli_val(c, "--cron"), *zone = cli_val(c, "--tz"), *catchup = cli_val(c, "--catchup"),
	           *most = cli_val(c, "--catchup-max"), *overlap = cli_val(c, "--overlap");
	if (!cron) {
		cli_fail(c, "give --cron: five fields (minute hour day month weekday), six with a leading second, "
		            "or a macro such as @daily");
		return CLI_EXIT_USAGE;
	}
	json_t *target = NULL;
	int rc = cli_target_of(c, &target);
	if (rc != CLI_EXIT_OK)
		return rc;
	json_t *body = json_pack("{ss ss so}", "name", c->args[0], "cron", cron, "target", target);
	if (c->client.ns)
		json_object_set_new(body, "namespace", json_string(c->client.ns));
	if (zone)
		json_object_set_new(body, "timezone", json_string(zone));
	if (catchup)
		json_object_set_new(body, "catchup", json_string(catchup));
	if (overlap)
		json_object_set_new(body, "overlap", json_string(overlap));
	if (cli_val(c, "--paused"))
		json_object_set_new(body, "paused", json_true());
	if (most) {
		int64_t n = 1;
		if (cli_parse_i64(c->prog, "--catchup-max", most, 1, CATCHUP_MAX, &n) != 0)
			rc = CLI_EXIT_USAGE;
		else
			json_object_set_new(body, "catchup_max", json_integer(n));
	}
	json_t *answer = NULL;
	if (rc == CLI_EXIT_OK)
		rc = cli_call(c, "POST", "/v1/schedules", body, &answer);
	if (rc == CLI_EXIT_OK)
		rc = cli_print_one(c, answer, SCHEDULE_COLUMNS);
	json_decref(answer);
	json_decref(body);
	return rc;
}

static int delete_schedule(cli_ctx *c)
{
	buf path;
	buf_init(&path);
	buf_puts(&path, "/v1/schedules/");
	cli_escape(&path, c->args[0]);
	if (c->client.ns) {
		buf_puts(&path, "?namespace=");
		cli_escape(&path, c->client.ns);
	}
	json_t *answer = NULL;
	int rc = cli_call(c, "DELETE", path.data, NULL, &answer);
	json_decref(answer);
	buf_release(&path);
	if (rc == CLI_EXIT_OK && !c->json)
		printf("deleted schedule %s\n", c->args[0]);
	return rc;
}

static const cli_opt LIST_OPTS[] = {
	CLI_PAGE_OPTS,
	{ 0 },
};

static const cli_opt CREATE_OPTS[] = {
	{ "--cron", "CRON", NULL, "when: five fields, six with a leading second, or @hourly, @daily, ... (required)" },
	{ "--tz", "ZONE", NULL, "the IANA zone the cron is read in (default UTC), e.g. America/New_York" },
	{ "--queue", "QUEUE", NULL, "a job on QUEUE each time (with --workflow: the run's queue)" },
	{ "--job-name", "NAME", NULL, "the job's name (default: the queue)" },
	{ "--workflow", "TYPE", NULL, "a workflow run of TYPE each time (needs --queue)" },
	{ "--input", "JSON", NULL, "the job's or run's input, any JSON (at most 1 MiB)" },
	{ "--template", "NAME@VERSION", NULL, "a template run each time" },
	{ "--context", "JSON", NULL, "the template run's context" },
	{ "--target", "JSON", NULL, "the whole target object, as the API takes it" },
	{ "--catchup", "POLICY", NULL, "after downtime: none (default), one, or all (up to --catchup-max)" },
	{ "--catchup-max", "N", NULL, "with --catchup all: most missed times fired, 1..1000 (default 1)" },
	{ "--overlap", "POLICY", NULL,
	  "while the previous run has not ended: queue (default), skip, or cancel_previous" },
	{ "--paused", NULL, NULL, "create it paused" },
	{ 0 },
};

static const cli_action PAUSE = { "POST", "/v1/schedules/", "/pause", true, SCHEDULE_COLUMNS };
static const cli_action RESUME = { "POST", "/v1/schedules/", "/resume", true, SCHEDULE_COLUMNS };
static const cli_action TRIGGER = { "POST", "/v1/schedules/", "/trigger", true, SCHEDULE_COLUMNS };

const cli_family CLI_SCHEDULES = {
	"schedules",
	"list, show, create, delete, pause, resume and trigger cron schedules",
	(const cli_cmd[]){
		{ "ls", NULL, 0, 0, "list the schedules of the namespace, by name", NULL, LIST_OPTS, list_schedules,
		  NULL },
		{ "show", "NAME", 1, 1, "show a schedule: its target, state and next fire times", NULL, NULL,
		  show_schedule, NULL },
		{ "create", "NAME", 1, 1, "create a schedule that starts a job, a workflow run or a template run",
		  "Examples:\n"
		  "  weft schedules create nightly --cron '30 2 * * *' --tz Europe/Berlin --queue reports\n"
		  "  weft schedules create sync --cron '*/15 * * * *' --workflow sync --queue wf --overlap skip\n",
		  CREATE_OPTS, create_schedule, NULL },
		{ "delete", "NAME", 1, 1, "delete a schedule (what it started stays)", NULL, NULL, delete_schedule,
		  NULL },
		{ "pause", "NAME", 1, 1, "stop a schedule firing", NULL, NULL, cli_run_action, &PAUSE },
		{ "resume", "NAME", 1, 1, "fire again from the next time on (what was missed is not fired)", NULL, NULL,
		  cli_run_action, &RESUME },
		{ "trigger", "NAME", 1, 1, "fire now, once, under the overlap policy; the next time stays", NULL, NULL,
		  cli_run_action, &TRIGGER },
		{ "next", "NAME [N]", 1, 2, "print the next N fire times (default 5, at most 100)", NULL, NULL,
		  next_times, NULL },
		{ 0 },
	},
};
