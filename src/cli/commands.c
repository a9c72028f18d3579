/*
 * commands.c — the table of `weft`'s client commands: what `weft --help`
 * lists, what `weft help CMD` explains, and which function runs each.
 */
#include "cli/cli.h"
#include "cli/completion.h"
#include "cli/families.h"
#include "cli/submit.h"


typedef struct top_command {
	const char *name;
	const cli_family *family;          /* a command built on cli/command.h, or */
	int (*main)(int argc, char **argv);   /* one with its own parsing */
	const char *summary;               /* for the latter */
} top_command;

static const top_command COMMANDS[] = {
	{ "submit", NULL, submit_main, "submit a run: a DAG in JSON or YAML (see `weft submit --help`)" },
	{ "enqueue", NULL, enqueue_main, "add jobs to a queue (see `weft enqueue --help`)" },
	{ "worker", NULL, worker_main, "run a command for each job claimed from queues" },
	{ "step", NULL, step_main, "run a memoized step of a workflow job (see `weft step --help`)" },
	{ "sleep", NULL, sleep_main, "suspend a workflow job's run for a while (see `weft sleep --help`)" },
	{ "wait-signal", NULL, wait_signal_main,
	  "wait for a signal to a workflow job's run (see `weft wait-signal --help`)" },
	{ "ls", &CLI_LS, NULL, NULL },
	{ "get", &CLI_GET, NULL, NULL },
	{ "tasks", &CLI_TASKS, NULL, NULL },
	{ "runs", &CLI_RUNS, NULL, NULL },
	{ "cancel", &CLI_CANCEL, NULL, NULL },
	{ "pause", &CLI_PAUSE, NULL, NULL },
	{ "resume", &CLI_RESUME, NULL, NULL },
	{ "retry", &CLI_RETRY, NULL, NULL },
	{ "reset", &CLI_RESET, NULL, NULL },
	{ "resolve", &CLI_RESOLVE, NULL, NULL },
	{ "queues", &CLI_QUEUES, NULL, NULL },
	{ "workers", &CLI_WORKERS, NULL, NULL },
	{ "dead-letters", &CLI_DEAD_LETTERS, NULL, NULL },
	{ "tokens", &CLI_TOKENS, NULL, NULL },
	{ "whoami", &CLI_WHOAMI, NULL, NULL },
	{ "audit", &CLI_AUDIT, NULL, NULL },
	{ "workflows", &CLI_WORKFLOWS, NULL, NULL },
	{ "schedules", &CLI_SCHEDULES, NULL, NULL },
	{ "template", &CLI_TEMPLATE, NULL, NULL },
	{ "hooks", &CLI_HOOKS, NULL, NULL },
	{ "events", &CLI_EVENTS, NULL, NULL },
	{ "subscriptions", &CLI_SUBSCRIPTIONS, NULL, NULL },
	{ "logs", NULL, logs_main, "a task's log lines (-f follows them live); `weft logs search` across executions" },
	{ "completion", NULL, completion_main, "print a shell completion script (bash or zsh)" },
};

static const top_command *find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(COMMANDS); i++)
		if (strcmp(COMMANDS[i].name, name) == 0)
			return &COMMANDS[i];
	return NULL;
}

void cli_print_commands(FILE *f)
{
	for (size_t i = 0; i < ARRAY_LEN(COMMANDS); i++) {
		const top_command *t = &COMMANDS[i];
		const char *summary = t->family ? t->family->summary : t->summary;
		fprintf(f, "  %-13s %s\n", t->name, summary);
	}
}

int cli_main(int argc, char **argv, bool *handled)
{
	const top_command *t = find(argv[0]);
	*handled = t != NULL;
	if (!t)
		return 0;
	return t->family ? cli_family_main(t->family, argc, argv) : t->main(argc, argv);
}

int cli_help(const char *cmd, const char *sub, bool *handled)
{
	const top_command *t = find(cmd);
	*handled = t != NULL;
	if (!t)
		return 0;
	if (t->family)
		return cli_family_help(t->family, sub, stdout);
	char *args[] = { (char *)t->name, (char *)"--help", NULL };
	return t->main(2, args);
}
