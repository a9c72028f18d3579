/*
 * families.h — the client commands built on cli/command.h, one file per
 * family: tasks_cmd.c (ls, get, tasks), runs_cmd.c, actions.c (cancel,
 * pause, resume, retry, reset, resolve), queues_cmd.c, workers_cmd.c,
 * dead_letters_cmd.c, tokens_cmd.c, workflows_cmd.c, schedules_cmd.c,
 * template_cmd.c.
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
extern const cli_family CLI_WORKFLOWS;
extern const cli_family CLI_SCHEDULES;
extern const cli_family CLI_TEMPLATE;
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
