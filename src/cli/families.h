/*
 * families.h — the client commands built on cli/command.h, one file per
 * family: tasks_cmd.c (ls, get, tasks), runs_cmd.c, actions.c (cancel,
 * pause, resume, retry, reset, resolve), queues_cmd.c, workers_cmd.c,
 * dead_letters_cmd.c, tokens_cmd.c, workflows_cmd.c, schedules_cmd.c,
 * template_cmd.c, audit_cmd.c, triggers_cmd.c (hooks, events, subscriptions).
 */
#ifndef WEFT_CLI_FAMILIES_H
#define WEFT_CLI_FAMILIES_H

#include "cli/command.h"

extern const cli_family CLI_LS, CLI_GET, CLI_TASKS;
extern const cli_family CLI_RUNS;
extern const cli_family CLI_CANCEL, CLI_PAUSE, CLI_RESUME, CLI_RETRY, CLI_RESET, CLI_RESOLVE;
extern const cli_family CLI_QUEUES;
extern const cli_family CLI_WORKERS;
extern const cli_family CLI_DEAD_LETTERS;
extern const cli_family CLI_TOKENS;
extern const cli_family CLI_WHOAMI;
extern const cli_family CLI_WORKFLOWS;
extern const cli_family CLI_SCHEDULES;
extern const cli_family CLI_TEMPLATE;
extern const cli_family CLI_AUDIT;
extern const cli_family CLI_HOOKS, CLI_EVENTS, CLI_SUBSCRIPTIONS;

/* A JSON option parsed into *out (NULL when not given), or a message
 * naming it (schedules_cmd.c). */
int cli_json_opt(cli_ctx *c, const char *name, json_t **out);
/* The target of a schedule, hook or subscription from the options:
 * --target JSON as it is, or one of --queue (a job), --workflow TYPE
 * --queue (a workflow run), --template NAME@VERSION (a template run), with
 * --input, --job-name, --context. *target NULL after a message. */
int cli_target_of(cli_ctx *c, json_t **target);
#define CLI_TARGET_OPTS                                                                                      \
	{ "--queue", "QUEUE", NULL, "a job on QUEUE (with --workflow: the run's queue)" },                          \
	{ "--job-name", "NAME", NULL, "the job's name (default: the queue)" },                                      \
	{ "--workflow", "TYPE", NULL, "a workflow run of TYPE (needs --queue)" },                                   \
	{ "--input", "JSON", NULL, "the job's or run's input, any JSON (at most 1 MiB)" },                          \
	{ "--template", "NAME@VERSION", NULL, "a template run" },                                                    \
	{ "--context", "JSON", NULL, "the template run's context" },                                                 \
	{ "--target", "JSON", NULL, "the whole target object, as the API takes it" }
/* logs_cmd.c: `weft logs ID` and `weft logs search` (its own dispatch). */
extern const cli_family CLI_LOGS, CLI_LOGS_SEARCH;
int logs_main(int argc, char **argv);

/* A run's cancel, pause and resume (`weft cancel ID` falls back to them
 * when ID is not a task). */
extern const cli_action CLI_RUN_CANCEL, CLI_RUN_PAUSE, CLI_RUN_RESUME;

/* The columns of a task list. */
extern const cli_column CLI_TASK_COLUMNS[];
/* A task's details view (or its JSON with --json). */
int cli_show_task(const cli_ctx *c, const json_t *task);
/* A command showing the task at cmd->data + args[0] ("/v1/tasks/",
 * "/v1/dead-letters/"). */
int cli_show_task_cmd(cli_ctx *c);
/* A run's details view (or its JSON with --json). */
int cli_show_run(const cli_ctx *c, const json_t *run);

#endif
