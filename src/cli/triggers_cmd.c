/*
 * triggers_cmd.c — `weft hooks [ls|show|create|delete|rotate]`,
 * `weft events [publish|ls|show]` and `weft subscriptions
 * [ls|show|create|delete]`: incoming webhooks, events and the
 * subscriptions they start targets of, on /v1/hooks, /v1/events and
 * /v1/subscriptions. Objects are named within their namespace
 * (--namespace, or the token's default).
 */
#include "cli/families.h"
#include "util/alloc.h"

#define REPLAY_WINDOW_MAX 86400

static const cli_column HOOK_COLUMNS[] = {
	{ "NAME", "name", COL_ID },
	{ "SCHEME", "scheme", COL_TEXT },
	{ "TARGET", "target.kind", COL_TEXT },
	{ "WINDOW_S", "replay_window_secs", COL_TEXT },
	{ "DELIVERIES", "deliveries", COL_TEXT },
	{ "LAST", "last_delivery_at", COL_TIME },
	{ "CREATED", "created_at", COL_TIME },
	{ 0 },
};

static const cli_column HOOK_FIELDS[] = {
	{ "Name", "name", COL_ID },
	{ "Namespace", "namespace", COL_TEXT },
	{ "Scheme", "scheme", COL_TEXT },
	{ "Target", "target.kind", COL_TEXT },
	{ "Replay window (s)", "replay_window_secs", COL_TEXT },
	{ "Deliveries", "deliveries", COL_TEXT },
	{ "Last delivery", "last_delivery_at", COL_TIME },
	{ "Created", "created_at", COL_TIME },
	{ "Updated", "updated_at", COL_TIME },
	{ 0 },
};

static const cli_column EVENT_COLUMNS[] = {
	{ "ID", "id", COL_ID },
	{ "TOPIC", "topic", COL_TEXT },
	{ "SOURCE", "source", COL_TEXT },
	{ "CREATED", "created_at", COL_TIME },
	{ 0 },
};

static const cli_column EVENT_FIELDS[] = {
	{ "Id", "id", COL_ID },
	{ "Namespace", "namespace", COL_TEXT },
	{ "Topic", "topic", COL_TEXT },
	{ "Source", "source", COL_TEXT },
	{ "Created", "created_at", COL_TIME },
	{ 0 },
};

static const cli_column DELIVERY_COLUMNS[] = {
	{ "SUBSCRIPTION", "subscription", COL_TEXT },
	{ "TARGET", "target_kind", COL_TEXT },
	{ "RUN", "run_id", COL_ID },
	{ "OUTCOME", "outcome", COL_TEXT },
	{ "AT", "created_at", COL_TIME },
	{ 0 },
};

static const cli_column SUBSCRIPTION_COLUMNS[] = {
	{ "NAME", "name", COL_ID },
	{ "TOPIC", "topic", COL_TEXT },
	{ "MATCH", "match", COL_TEXT },
	{ "TARGET", "target.kind", COL_TEXT },
	{ "CREATED", "created_at", COL_TIME },
	{ 0 },
};

static const cli_column SUBSCRIPTION_FIELDS[] = {
	{ "Name", "name", COL_ID },
	{ "Namespace", "namespace", COL_TEXT },
	{ "Topic", "topic", COL_TEXT },
	{ "Match", "match", COL_TEXT },
	{ "Created", "created_at", COL_TIME },
	{ 0 },
};

/* prefix + NAME (+ suffix) + ?namespace= into path. */
static void named_path(const cli_ctx *c, buf *path, const char *prefix, const char *suffix)
{
	buf_init(path);
	buf_puts(path, prefix);
	cli_escape(path, c->args[0]);
	if (suffix)
		buf_puts(path, suffix);
	if (c->client.ns) {
		buf_puts(path, "?namespace=");
		cli_escape(path, c->client.ns);
	}
}

/* A show view: the fields, then the target (or the JSON with --json). */
static int show_with_target(cli_ctx *c, const char *prefix, const cli_column *fields)
{
	json_t *o = NULL;
	int rc = cli_fetch(c, prefix, true, &o);
	if (rc == CLI_EXIT_OK && c->json) {
		out_json(stdout, o);
	} else if (rc == CLI_EXIT_OK) {
		cli_print_fields(o, fields);
		cli_print_json_block("Target", json_object_get(o, "target"));
	}
	json_decref(o);
	return rc;
}

static int delete_named(cli_ctx *c, const char *prefix, const char *what)
{
	buf path;
	named_path(c, &path, prefix, NULL);
	json_t *answer = NULL;
	int rc = cli_call(c, "DELETE", path.data, NULL, &answer);
	json_decref(answer);
	buf_release(&path);
	if (rc == CLI_EXIT_OK && !c->json)
		printf("deleted %s %s\n", what, c->args[0]);
	return rc;
}

/* A hook's answer with its secret: the row, the secret once, a warning. */
static void print_secret(const cli_ctx *c, const json_t *answer)
{
	cli_print_one(c, answer, HOOK_COLUMNS);
	if (!c->json)
		printf("\nsecret: %s\n", json_string_value(json_object_get(answer, "secret")));
	fprintf(stderr, "%s: store the secret now: it is not shown again\n", c->prog);
}

/* ---- hooks ------------------------------------------------------------- */

static int list_hooks(cli_ctx *c) { return cli_list(c, "/v1/hooks", true, "hooks", HOOK_COLUMNS); }
static int show_hook(cli_ctx *c) { return show_with_target(c, "/v1/hooks/", HOOK_FIELDS); }
static int delete_hook(cli_ctx *c) { return delete_named(c, "/v1/hooks/", "hook"); }

static int create_hook(cli_ctx *c)
{
	const char *scheme = cli_val(c, "--scheme"), *secret = cli_val(c, "--secret"),
	           *window = cli_val(c, "--replay-window");
	json_t *target = NULL;
	int rc = cli_target_of(c, &target);
	if (rc != CLI_EXIT_OK)
		return rc;
	json_t *body = json_pack("{ss so}", "name", c->args[0], "target", target);
	if (c->client.ns)
		json_object_set_new(body, "namespace", json_string(c->client.ns));
	if (scheme)
		json_object_set_new(body, "scheme", json_string(scheme));
	if (secret)
		json_object_set_new(body, "secret", json_string(secret));
	if (window) {
		int64_t n = 0;
		if (cli_parse_i64(c->prog, "--replay-window", window, 1, REPLAY_WINDOW_MAX, &n) != 0)
			rc = CLI_EXIT_USAGE;
		else
			json_object_set_new(body, "replay_window_secs", json_integer(n));
	}
	json_t *answer = NULL;
	if (rc == CLI_EXIT_OK)
		rc = cli_call(c, "POST", "/v1/hooks", body, &answer);
	if (rc == CLI_EXIT_OK)
		print_secret(c, answer);
	json_decref(answer);
	json_decref(body);
	return rc;
}

static int rotate_hook(cli_ctx *c)
{
	const char *secret = cli_val(c, "--secret");
	json_t *body = secret ? json_pack("{ss}", "secret", secret) : json_object();
	buf path;
	named_path(c, &path, "/v1/hooks/", "/rotate");
	json_t *answer = NULL;
	int rc = cli_call(c, "POST", path.data, body, &answer);
	buf_release(&path);
	if (rc == CLI_EXIT_OK)
		print_secret(c, answer);
	json_decref(answer);
	json_decref(body);
	return rc;
}

static const cli_opt PAGE_OPTS[] = {
	CLI_PAGE_OPTS,
	{ 0 },
};

static const cli_opt HOOK_CREATE_OPTS[] = {
	CLI_TARGET_OPTS,
	{ "--scheme", "weft|github", NULL, "the signature checked: X-Weft-Signature (default) or X-Hub-Signature-256" },
	{ "--secret", "SECRET", NULL, "16 to 256 visible characters (default: made by the server)" },
	{ "--replay-window", "SECONDS", NULL, "how old a signature may be, and how long a delivery id is kept (300)" },
	{ 0 },
};

static const cli_opt ROTATE_OPTS[] = {
	{ "--secret", "SECRET", NULL, "the new secret (default: made by the server)" },
	{ 0 },
};

const cli_family CLI_HOOKS = {
	"hooks",
	"list, show, create, delete incoming webhooks and rotate their secrets",
	(const cli_cmd[]){
		{ "ls", NULL, 0, 0, "list the hooks of the namespace, by name", NULL, PAGE_OPTS, list_hooks, NULL },
		{ "show", "NAME", 1, 1, "show a hook and its target (never its secret)", NULL, NULL, show_hook, NULL },
		{ "create", "NAME", 1, 1, "create a hook that starts a job, a workflow run or a template run",
		  "A signed POST /v1/hooks/NAME?namespace=NS starts the target with the body as input.\n"
		  "Examples:\n"
		  "  weft hooks create deploy --queue deploys\n"
		  "  weft hooks create gh-push --scheme github --secret \"$GH_SECRET\" --workflow ci --queue wf\n",
		  HOOK_CREATE_OPTS, create_hook, NULL },
		{ "delete", "NAME", 1, 1, "delete a hook (what it started stays)", NULL, NULL, delete_hook, NULL },
		{ "rotate", "NAME", 1, 1, "replace a hook's secret and print the new one, once", NULL, ROTATE_OPTS,
		  rotate_hook, NULL },
		{ 0 },
	},
};

/* ---- events ------------------------------------------------------------ */

static int list_events(cli_ctx *c)
{
	const char *topic = cli_val(c, "--topic");
	if (!topic)
		return cli_list(c, "/v1/events", true, "events", EVENT_COLUMNS);
	buf path;
	buf_init(&path);
	buf_puts(&path, "/v1/events?topic=");
	cli_escape(&path, topic);
	int rc = cli_list(c, path.data, true, "events", EVENT_COLUMNS);
	buf_release(&path);
	return rc;
}

static int print_event(cli_ctx *c, const json_t *ev)
{
	if (c->json) {
		out_json(stdout, ev);
		return CLI_EXIT_OK;
	}
	cli_print_fields(ev, EVENT_FIELDS);
	cli_print_json_block("Payload", json_object_get(ev, "payload"));
	const json_t *d = json_object_get(ev, "deliveries");
	printf("Deliveries: %zu\n", json_array_size(d));
	size_t i;
	const json_t *one;
	json_array_foreach(d, i, one)
		cli_print_one(c, one, DELIVERY_COLUMNS);
	return CLI_EXIT_OK;
}

static int show_event(cli_ctx *c)
{
	json_t *ev = NULL;
	int rc = cli_fetch(c, "/v1/events/", true, &ev);
	if (rc == CLI_EXIT_OK)
		rc = print_event(c, ev);
	json_decref(ev);
	return rc;
}

static int publish_event(cli_ctx *c)
{
	json_t *payload = NULL;
	int rc = cli_json_opt(c, "--payload", &payload);
	if (rc != CLI_EXIT_OK)
		return rc;
	json_t *body = json_pack("{ss}", "topic", c->args[0]);
	if (c->client.ns)
		json_object_set_new(body, "namespace", json_string(c->client.ns));
	if (payload)
		json_object_set_new(body, "payload", payload);
	if (cli_val(c, "--id"))
		json_object_set_new(body, "id", json_string(cli_val(c, "--id")));
	json_t *answer = NULL;
	rc = cli_call(c, "POST", "/v1/events", body, &answer);
	if (rc == CLI_EXIT_OK)
		rc = print_event(c, answer);
	json_decref(answer);
	json_decref(body);
	return rc;
}

static const cli_opt EVENT_LIST_OPTS[] = {
	CLI_PAGE_OPTS,
	{ "--topic", "TOPIC", NULL, "only events of this topic" },
	{ 0 },
};

static const cli_opt PUBLISH_OPTS[] = {
	{ "--payload", "JSON", NULL, "the event's payload, any JSON (at most 1 MiB; default null)" },
	{ "--id", "ID", NULL, "the event's id: published again, nothing more is done (default: a UUID)" },
	{ 0 },
};

const cli_family CLI_EVENTS = {
	"events",
	"publish events, list them and show their deliveries",
	(const cli_cmd[]){
		{ "publish", "TOPIC", 1, 1, "publish an event: each matching subscription's target starts once",
		  "Example:\n  weft events publish orders.paid --payload '{\"order\": 42}' --id order-42-paid\n",
		  PUBLISH_OPTS, publish_event, NULL },
		{ "ls", NULL, 0, 0, "list the events of the namespace, newest first", NULL, EVENT_LIST_OPTS, list_events,
		  NULL },
		{ "show", "ID", 1, 1, "show an event and its deliveries with their runs' outcomes", NULL, NULL, show_event,
		  NULL },
		{ 0 },
	},
};

/* ---- subscriptions ------------------------------------------------------- */

static int list_subscriptions(cli_ctx *c)
{
	return cli_list(c, "/v1/subscriptions", true, "subscriptions", SUBSCRIPTION_COLUMNS);
}

static int show_subscription(cli_ctx *c) { return show_with_target(c, "/v1/subscriptions/", SUBSCRIPTION_FIELDS); }
static int delete_subscription(cli_ctx *c) { return delete_named(c, "/v1/subscriptions/", "subscription"); }

static int create_subscription(cli_ctx *c)
{
	const char *topic = cli_val(c, "--topic");
	if (!topic) {
		cli_fail(c, "give --topic: an exact topic, PREFIX.* for the topics under PREFIX., or *");
		return CLI_EXIT_USAGE;
	}
	json_t *target = NULL;
	int rc = cli_target_of(c, &target);
	if (rc != CLI_EXIT_OK)
		return rc;
	json_t *body = json_pack("{ss ss so}", "name", c->args[0], "topic", topic, "target", target);
	if (c->client.ns)
		json_object_set_new(body, "namespace", json_string(c->client.ns));
	json_t *answer = NULL;
	rc = cli_call(c, "POST", "/v1/subscriptions", body, &answer);
	if (rc == CLI_EXIT_OK)
		rc = cli_print_one(c, answer, SUBSCRIPTION_COLUMNS);
	json_decref(answer);
	json_decref(body);
	return rc;
}

static const cli_opt SUBSCRIPTION_CREATE_OPTS[] = {
	{ "--topic", "PATTERN", NULL, "an exact topic, PREFIX.* (the topics under PREFIX.), or * (required)" },
	CLI_TARGET_OPTS,
	{ 0 },
};

const cli_family CLI_SUBSCRIPTIONS = {
	"subscriptions",
	"list, show, create and delete the subscriptions events start targets of",
	(const cli_cmd[]){
		{ "ls", NULL, 0, 0, "list the subscriptions of the namespace, by name", NULL, PAGE_OPTS,
		  list_subscriptions, NULL },
		{ "show", "NAME", 1, 1, "show a subscription and its target", NULL, NULL, show_subscription, NULL },
		{ "create", "NAME", 1, 1, "subscribe a job, a workflow run or a template run to a topic",
		  "Example:\n  weft subscriptions create bill --topic 'orders.*' --queue billing\n",
		  SUBSCRIPTION_CREATE_OPTS, create_subscription, NULL },
		{ "delete", "NAME", 1, 1, "delete a subscription (what it started stays)", NULL, NULL,
		  delete_subscription, NULL },
		{ 0 },
	},
};
