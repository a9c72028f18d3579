/*
 * actions.c — the operator's actions on one task: `weft cancel|pause|
 * resume|retry|reset|resolve ID`, on POST /v1/tasks/{id}/<action>. cancel,
 * pause and resume also take a run's id.
 */
#include "cli/families.h"
#include "util/alloc.h"
#include "util/json.h"

#define RESULT_MAX_BYTES (1u << 20)   /* the API's limit on a result */

typedef struct task_action {
	const char *suffix;            /* "/cancel" */
	const cli_action *for_runs;    /* the same action on a run, or NULL */
} task_action;

static const cli_column TASK_ROW[] = {
	{ "ID", "id", COL_ID }, { "NAME", "name", COL_TEXT }, { "STATUS", "status", COL_STATUS },
	{ "ATTEMPT", "attempt", COL_TEXT }, { 0 },
};

/* The body: {"reason"} and, for resolve, {"result"}; NULL after a message. */
static json_t *action_body(cli_ctx *c)
{
	json_t *body = json_object();
	const char *reason = cli_val(c, "--reason");
	if (reason)
		json_object_set_new(body, "reason", json_string(reason));
	const char *result = cli_val(c, "--result");
	if (result) {
		char err[160];
		json_t *v = strlen(result) > RESULT_MAX_BYTES
		                    ? NULL
		                    : json_parse_body(result, strlen(result), JSON_DEFAULT_MAX_DEPTH, err, sizeof(err));
		if (!v) {
			cli_fail(c, "--result must be JSON of at most 1 MiB (a string needs double quotes): %s",
			         strlen(result) > RESULT_MAX_BYTES ? "too long" : err);
			json_decref(body);
			return NULL;
		}
		json_object_set_new(body, "result", v);
	}
	return body;
}

static int act_on_task(cli_ctx *c)
{
	const task_action *ta = c->cmd->data;
	json_t *body = action_body(c);
	if (!body)
		return CLI_EXIT_USAGE;
	buf path;
	buf_init(&path);
	cli_path(&path, "/v1/tasks/", c->args[0], ta->suffix);
	char *text = json_dump_compact(body);
	json_t *answer = NULL;
	char err[1024];
	const char *key = cli_val(c, "--idempotency-key");
	char *header = key ? xasprintf("Idempotency-Key: %s", key) : NULL;
	const char *const headers[] = { header, NULL };
	cli_call_extra extra = { .headers = headers };
	int rc = cli_request_ex(c->http, &c->client, "POST", path.data, text, strlen(text), &extra, &answer, NULL, err,
	                        sizeof(err));
	free(header);
	if (rc == CLI_EXIT_OK && extra.replayed)
		fprintf(stderr, "%s: the answer of an earlier request with this idempotency key\n", c->prog);
	if (rc == CLI_EXIT_OK)
		rc = cli_print_one(c, answer, TASK_ROW);
	else if (rc == CLI_EXIT_NOT_FOUND && ta->for_runs)
		rc = cli_act(c, ta->for_runs, NULL);   /* not a task: a run? */
	else
		cli_fail(c, "%s", err);
	json_decref(answer);
	free(text);
	json_decref(body);
	buf_release(&path);
	return rc;
}

#define REASON_OPT { "--reason", "TEXT", NULL, "why, kept in the task's audit trail" }
#define KEY_OPT { "--idempotency-key", "KEY", NULL, "a repeat with the same KEY gets the first answer" }
static const cli_opt REASON_OPTS[] = { REASON_OPT, KEY_OPT, { 0 } };
static const cli_opt RESOLVE_OPTS[] = {
	REASON_OPT,
	{ "--result", "JSON", NULL, "the task's result (default null)" },
	KEY_OPT,
	{ 0 },
};

#define ACTION(var, name, summary, details, suffix, for_runs, opts)                                                                   \
	const cli_family var = { name, summary,                                                                   \
		                 (const cli_cmd[]){ { NULL, "ID", 1, 1, summary, details, opts, act_on_task,          \
		                                      &(const task_action){ suffix, for_runs } },                                  \
		                                    { 0 } } }

ACTION(CLI_CANCEL, "cancel", "cancel a task, or every unfinished task of a run",
       "A running job loses its lease; its worker learns it at its next heartbeat.\n", "/cancel", &CLI_RUN_CANCEL,
       REASON_OPTS);
ACTION(CLI_PAUSE, "pause", "pause a task that has not started, or every such task of a run", NULL, "/pause",
       &CLI_RUN_PAUSE, REASON_OPTS);
ACTION(CLI_RESUME, "resume", "resume a paused task, or a run's paused tasks", NULL, "/resume", &CLI_RUN_RESUME,
       REASON_OPTS);
ACTION(CLI_RETRY, "retry", "start a retrying or delayed task now, or reopen a failed one",
       "A retrying task, or a pending one waiting for a later start, becomes startable now.\n"
       "A failed or canceled task without children is reopened: pending, attempt + 1, its\n"
       "retry budget kept.\n",
       "/retry", NULL, REASON_OPTS);
ACTION(CLI_RESET, "reset", "reopen a failed or canceled task with a fresh retry budget",
       "The task becomes pending, attempt + 1, and is no longer a dead letter. A task with\n"
       "children cannot be reset.\n",
       "/reset", NULL, REASON_OPTS);
ACTION(CLI_RESOLVE, "resolve", "mark a task succeeded with a result; its children are released",
       "A non-terminal task, or a failed one without children, becomes success with the\n"
       "given --result (default null). A running job loses its lease.\n",
       "/resolve", NULL, RESOLVE_OPTS);
