/*
 * audit.h — recording operator actions and configuration changes in the
 * audit log (store/audit.h; docs/internals/audit.md).
 *
 * The command that makes a change records it, in the same transaction
 * (the cycle's, inside the command's savepoint): a change rolled back
 * leaves no entry, and an entry never names a change that did not happen.
 * Commands record only what they applied: a refusal (cmd->result not 0,
 * e.g. 404 or 409) records nothing.
 *
 * The actor is the acting token's name: a command's base.actor is
 * "token:<name>" (http/tokens.c) and is recorded as "<name>"; the
 * server's own actions keep their names ("system", "schedule"), and a
 * request made with authentication off is "api".
 *
 * detail is a JSON object of at most AUDIT_DETAIL_MAX bytes, never a
 * secret; a longer one is recorded as {"truncated":true} rather than cut
 * into invalid JSON.
 */
#ifndef WEFT_ENGINE_AUDIT_H
#define WEFT_ENGINE_AUDIT_H

#include "engine/engine.h"
#include "util/json.h"

#define AUDIT_DETAIL_MAX 4096
/* Longest object_id kept (a template's name@version, a queue's name…). */
#define AUDIT_OBJECT_ID_MAX 300

/* Records one change in no namespace (tokens, server-wide settings) at
 * the cycle's time. detail_json: a JSON object's text, or NULL for {}.
 * 0, or the store's error (the command then fails and is rolled back). */
int audit_record(engine *e, const char *actor, const char *action, const char *object_kind, const char *object_id,
                 const char *detail_json);

/* The same for an object of `namespace`. */
int audit_record_in(engine *e, const char *namespace, const char *actor, const char *action,
                    const char *object_kind, const char *object_id, const char *detail_json);

/* The same with detail as a JSON object, which it takes (decrefs); NULL
 * for {}. */
int audit_record_obj(engine *e, const char *namespace, const char *actor, const char *action,
                     const char *object_kind, const char *object_id, json_t *detail);

/* The same for a run (batch) `run`, in the run's namespace (read here). */
int audit_record_run(engine *e, const char *actor, const char *action, const weft_id *run, json_t *detail);

/* The name recorded for a command's actor: "token:ops" -> "ops", NULL ->
 * "api", anything else as it is. Borrowed from actor. */
const char *audit_actor_name(const char *actor);

#endif
