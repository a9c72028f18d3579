/*
 * workers_cmd.c — `weft workers [ls|show|drain]`: the workers that claimed
 * jobs lately, on /v1/workers.
 */
#include "cli/families.h"

static const cli_column WORKER_COLUMNS[] = {
	{ "ID", "id", COL_ID },
	{ "HOSTNAME", "hostname", COL_TEXT },
	{ "STATE", "state", COL_STATUS },
	{ "QUEUES", "queues", COL_LIST },
	{ "IN_FLIGHT", "in_flight", COL_TEXT },
	{ "LAST_SEEN", "last_heartbeat_at", COL_TIME },
	{ 0 },
};

static const cli_column WORKER_FIELDS[] = {
	{ "ID", "id", COL_ID },
	{ "Namespace", "namespace", COL_TEXT },
	{ "Hostname", "hostname", COL_TEXT },
	{ "State", "state", COL_STATUS },
	{ "Queues", "queues", COL_LIST },
	{ "In flight", "in_flight", COL_TEXT },
	{ "First seen", "first_seen_at", COL_TIME },
	{ "Last seen", "last_heartbeat_at", COL_TIME },
	{ 0 },
};

static const cli_opt LIST_OPTS[] = {
	{ "--queue", "QUEUE", "queue", "workers whose last claim named this queue" },
	CLI_PAGE_OPTS,
	{ 0 },
};

static int list_workers(cli_ctx *c)
{
	return cli_list(c, "/v1/workers", true, "workers", WORKER_COLUMNS);
}

static int show_worker(cli_ctx *c)
{
	return cli_show(c, "/v1/workers/", true, WORKER_FIELDS);
}

static const cli_action DRAIN = { "POST", "/v1/workers/", "/drain", true, WORKER_COLUMNS };

const cli_family CLI_WORKERS = {
	"workers",
	"list workers, show one, drain one",
	(const cli_cmd[]){
		{ "ls", NULL, 0, 0, "list workers: active, draining, or stale (not seen for 120 s)", NULL, LIST_OPTS,
		  list_workers, NULL },
		{ "show", "ID", 1, 1, "show a worker", NULL, NULL, show_worker, NULL },
		{ "drain", "ID", 1, 1,
		  "tell a worker to stop claiming and exit once its jobs are done (at its next heartbeat)", NULL, NULL,
		  cli_run_action, &DRAIN },
		{ 0 },
	},
};
