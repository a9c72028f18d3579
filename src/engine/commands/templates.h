/*
 * templates.h — the commands of templates (store/templates.h):
 * registering a version, and starting a run of one.
 *
 * The front door decodes and checks a template's body (its steps through
 * the decoder of POST /v1/runs) and builds a run's tasks from the
 * version's steps and the request's context; the engine settles what
 * depends on the database's state: whether the version exists and with
 * which body, and whether a run of the same identity exists.
 */
#ifndef WEFT_ENGINE_COMMANDS_TEMPLATES_H
#define WEFT_ENGINE_COMMANDS_TEMPLATES_H

#include "engine/engine.h"
#include "engine/commands/batches.h"
#include "store/templates.h"

/* Registers a version. base.result: 0 with created true (a new version)
 * or false (the version exists with the same body: nothing changes), or
 * WEFT_ECONFLICT when it exists with another body (existing_hash then
 * holds that body's hash). row: every field (borrowed), created_at set
 * by the engine. */
typedef struct cmd_template_put {
	engine_cmd base;
	template_row row;
	bool created;                      /* out */
	char existing_hash[65];            /* out, with WEFT_ECONFLICT */
} cmd_template_put;
void cmd_template_put_init(cmd_template_put *c);

/* Starts a run of a version through batch.submit (`submit`, filled as
 * POST /v1/runs fills it), and records it as the version's run with its
 * context and identity. When a run of the version holds the identity
 * already, nothing is created: run_id is that run's and created false.
 * base.result: 0, or the submission's failure. */
typedef struct cmd_template_run {
	engine_cmd base;
	cmd_submit submit;
	const char *namespace, *name, *version;   /* borrowed */
	const char *identity;                     /* borrowed; NULL: every request a new run */
	const char *context;                      /* borrowed canonical JSON */
	weft_id run_id;                           /* out */
	bool created;                             /* out */
} cmd_template_run;
void cmd_template_run_init(cmd_template_run *c);

#endif
