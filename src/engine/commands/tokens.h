/*
 * tokens.h — the commands on bearer tokens made over the API: creating
 * one and revoking one (table api_token, store.h). The front door checks
 * the name, namespaces and role, makes the secret and hashes it: the
 * engine only ever sees the digest. A third command records a token's
 * use (last_used_at).
 *
 * Each change is recorded with its actor: the row keeps created_by and
 * revoked_by, and token_event the trail. Revocation keeps the row, so a
 * revoked token's name stays taken.
 */
#ifndef WEFT_ENGINE_COMMANDS_TOKENS_H
#define WEFT_ENGINE_COMMANDS_TOKENS_H

#include "engine/engine.h"
#include "store/store.h"
#include "store/tokens.h"

/* A token name's bytes with its NUL ([a-z0-9_.-]{1,64}). */
#define TOKEN_NAME_CHARS 65

/* base.result: 0, or WEFT_ECONFLICT when the name (or the digest) is
 * taken. row: name, digest, namespaces, admin and expires_at given
 * (borrowed); created_at (the commit's time: out) and created_by
 * (base.actor) are set by the engine. */
typedef struct cmd_token_create {
	engine_cmd base;
	api_token_new row;
} cmd_token_create;
void cmd_token_create_init(cmd_token_create *c);

/* base.result: 0 (revoked now, or before), or WEFT_ENOTFOUND. */
typedef struct cmd_token_revoke {
	engine_cmd base;
	const char *name;           /* borrowed */
} cmd_token_revoke;
void cmd_token_revoke_init(cmd_token_revoke *c);

/* The token `name` was used at `at` (its last_used_at, moved forward
 * only). The HTTP layer sends it at most once a minute per token. */
typedef struct cmd_token_used {
	engine_cmd base;
	char name[TOKEN_NAME_CHARS];
	int64_t at;
} cmd_token_used;
void cmd_token_used_init(cmd_token_used *c);

#endif
