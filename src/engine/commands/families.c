/*
 * families.c — the table of command families.
 */
#include "util/common.h"
#include "engine/commands/command.h"

const command_family *const command_families[] = {
	&family_tasks,
	&family_batches,
	&family_groups,
	&family_jobs,
	&family_operator,
	&family_queues,
	&family_tokens,
	&family_workflows,
	&family_schedules,
	&family_templates,
	&family_triggers,
};
const size_t command_nfamilies = ARRAY_LEN(command_families);
