/*
 * tokens.h — bearer tokens made over the API, in the store (tokens.c).
 * Part of the store's interface (store.h states its conventions).
 */
#ifndef WEFT_STORE_TOKENS_H
#define WEFT_STORE_TOKENS_H

#include "store/store.h"

/* ---- bearer tokens made over the API (store/tokens.c) ------------------------------ */

/* A token of table api_token. The secret itself is never stored: digest
 * is the 64 hex digits of its SHA-256. namespaces: "*" or the names
 * joined by ','. Times in µs, 0 = none; last_used_at is written at most
 * once a minute per token and node. */
typedef struct api_token_row {
	char *name;
	char *digest;
	char *namespaces;
	bool admin;
	int64_t created_at;
	char *created_by;
	int64_t expires_at;
	int64_t revoked_at;
	char *revoked_by;
	int64_t last_used_at;
} api_token_row;
void api_token_row_release(api_token_row *t);
void store_free_api_tokens(api_token_row *rows, size_t n);

/* A token to insert (all borrowed). */
typedef struct api_token_new {
	const char *name, *digest, *namespaces;
	bool admin;
	int64_t created_at;
	const char *created_by;
	int64_t expires_at;         /* 0 = never */
} api_token_new;
/* Inserts t with a "create" event by created_by. *created false (nothing
 * written) when the name, or the digest, is taken already. Writer. */
int store_api_token_insert(store_conn *c, const api_token_new *t, bool *created);
/* Revokes the token `name` at now by actor (a "revoke" event); a token
 * revoked already stays as it is. *found false when there is no such
 * token. Writer. */
int store_api_token_revoke(store_conn *c, const char *name, int64_t now, const char *actor, bool *found);
/* The token `name` was used at `at`: last_used_at moves forward to it
 * (never back). Writer. */
int store_api_token_used(store_conn *c, const char *name, int64_t at);
/* One token by name, or by digest (hex; the unique index): 0 or
 * WEFT_ENOTFOUND. */
int store_api_token_get(store_conn *c, const char *name, api_token_row *out);
int store_api_token_by_digest(store_conn *c, const char *digest, api_token_row *out);
/* Every token, by name (bytewise), at most `limit`. */
int store_api_token_list(store_conn *c, size_t limit, api_token_row **out, size_t *n);

#endif
