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

/* How a version's steps and a context become a run's batch.submit, for
 * the runs the engine starts itself (a schedule's firing). The decoder
 * of POST /v1/runs builds them; it belongs to the API above the engine
 * and reports into the API's error type, so the engine does not call it:
 * the API hands its builder to the engine at start-up
 * (engine_config.template_runs, set in main.c), as the dispatcher is
 * handed over, and a firing builds its run exactly as
 * POST /v1/templates/{name}/{version}/runs does. */
struct template_expander {
	/* Fills submit (initialized by the caller) with the run of version t
	 * for context (JSON text), in t's namespace, its actor actor. What
	 * submit borrows is kept in *held until release(*held). 0, or the
	 * failure (WEFT_EINVALID, WEFT_ETOOLARGE: a version whose steps no
	 * longer make a run) with why (one line) in why[whylen]. */
	int (*expand)(const void *arg, const template_row *t, const char *context, const char *actor,
	              cmd_submit *submit, void **held, char *why, size_t whylen);
	void (*release)(void *held);
	const void *arg;   /* the builder's own (the server's configuration) */
};

#endif
