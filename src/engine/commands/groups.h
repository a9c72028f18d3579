/*
 * groups.h — the commands on a group of tasks (the tasks submitted with
 * the same `group`): cancel, pause or resume all of them that the action
 * applies to.
 */
#ifndef WEFT_ENGINE_COMMANDS_GROUPS_H
#define WEFT_ENGINE_COMMANDS_GROUPS_H

#include "engine/engine.h"

typedef enum group_action { GROUP_CANCEL, GROUP_PAUSE, GROUP_RESUME } group_action;

/* WEFT_ENOTFOUND when the group has no task at all. */
typedef struct cmd_group {
	engine_cmd base;
	const char *name;           /* borrowed */
	int64_t count;              /* result: tasks canceled / paused / resumed */
} cmd_group;
void cmd_group_init(cmd_group *c, group_action what);

#endif
