/*
 * tokens.h — bearer tokens, each with a name, the namespaces it may see
 * and a role.
 *
 * Tokens come from WEFT_TOKENS_FILE (one token a line) and WEFT_TOKENS
 * (the same lines joined by ';'):
 *
 *     # name     secret                         namespaces     role
 *     ci         sha256:9f86d081884c7d65…       build,default  admin
 *     billing    s3cr3t-at-least-16-chars       billing        client
 *
 * Names are [a-z0-9_.-]{1,64}. A secret is plain (16 to 512 printable
 * bytes, no spaces) or "sha256:" and the 64 hex digits of the secret's
 * SHA-256, so that the file need not hold the secret itself. Namespaces
 * are a comma-separated list of namespace names (namespace_valid(),
 * core/limits.h), or "*" for all of them.
 * The role is "admin" or "client". AUTH_TOKEN, when set, is one more
 * token named "auth_token" with "*" and admin, so clients written for it
 * are unchanged; with no token at all, requests are not authenticated.
 *
 * A presented token is hashed and compared with every entry, all of them
 * in constant time, so that neither a secret nor which entry matched
 * shows in the time an answer takes.
 *
 * The server's tables: loaded once at start, the file read again on
 * SIGHUP (http_tokens_reload). A table is never freed while the process
 * runs, so a token borrowed by a request, or an actor string borrowed by
 * an engine command, stays valid across reloads. A reload that fails
 * keeps the table in use and logs why.
 *
 * Tokens made over the API (POST /v1/tokens) live in the database (table
 * api_token: the SHA-256 of the secret only). Their secrets have one
 * shape, "wft_" and 43 base64url characters (32 random bytes), so only a
 * presented token of that shape that matches no configured entry is looked
 * up, by its digest (a unique index), through a store reader. What the
 * look-up learns (also that a secret is unknown) is cached in the process
 * for API_TOKEN_CACHE_TTL_US: a token revoked on this node is refused at
 * once (the cache is told), on another node sharing the PostgreSQL
 * database within that time. Expiry (expires_at, cached with the token) is
 * checked on every request against the clock. API tokens count only while
 * authentication is on (a configured token). last_used_at is written
 * through the engine at most once a minute per token and node.
 */
#ifndef WEFT_HTTP_TOKENS_H
#define WEFT_HTTP_TOKENS_H

#include "util/common.h"
#include "config.h"
#include "core/limits.h"
#include "engine/engine.h"
#include "store/store.h"

#define TOKEN_NAME_MAX 64
#define TOKEN_SECRET_MIN 16
#define TOKEN_SECRET_MAX 512
/* A token may list at most this many namespaces; a table holds at most
 * TOKENS_MAX tokens, and a tokens file at most TOKENS_FILE_MAX bytes. */
#define TOKEN_NAMESPACES_MAX 256
#define TOKENS_MAX 10000
#define TOKENS_FILE_MAX (1u << 20)
#define TOKEN_DIGEST_LEN 32

typedef struct http_token http_token;   /* also in http.h */

/* Where a token comes from: AUTH_TOKEN or WEFT_TOKENS, WEFT_TOKENS_FILE,
 * or the API (the database). */
typedef enum token_source { TOKEN_FROM_ENV, TOKEN_FROM_FILE, TOKEN_FROM_API } token_source;
/* "env", "file", "api". */
const char *token_source_name(token_source s);

struct http_token {
	char name[TOKEN_NAME_MAX + 1];
	char actor[TOKEN_NAME_MAX + 7];          /* "token:<name>", for audit trails */
	unsigned char digest[TOKEN_DIGEST_LEN];  /* SHA-256 of the secret */
	bool all_namespaces;                     /* "*" */
	char **namespaces;                       /* otherwise these, owned */
	size_t nnamespaces;
	bool admin;
	token_source source;
};

typedef struct token_table {
	http_token *tokens;
	size_t n, cap;
} token_table;

void token_table_init(token_table *t);
void token_table_release(token_table *t);

/* Adds the tokens of text (lines separated by '\n', or also by ';' when
 * semicolons is true; blank lines skipped, and comments: from a '#' at the
 * start of a line or after white space) to t. Returns
 * 0, or -1 with err naming source, the line and the problem; t is
 * unchanged then. */
int token_table_parse(token_table *t, const char *text, bool semicolons, const char *source, char *err,
                      size_t errlen);
/* Adds AUTH_TOKEN's secret as token "auth_token" (any length, "*",
 * admin). -1 with err when the name or secret is taken already. */
int token_table_add_admin(token_table *t, const char *secret, char *err, size_t errlen);
/* The entry whose secret is `presented`, or NULL; takes the same time
 * whichever entry matches, or none. */
const http_token *token_table_match(const token_table *t, const char *presented, size_t len);

/* Whether tok may see namespace ns. */
bool token_sees(const http_token *tok, const char *ns);
/* Whether s is a token name ([a-z0-9_.-]{1,64}). */
bool token_name_valid(const char *s);
/* The entry of t named name, or NULL. */
const http_token *token_table_find(const token_table *t, const char *name);

/* ---- the server's tables ------------------------------------------------------------ */

/* Loads the tokens the configuration names (AUTH_TOKEN, WEFT_TOKENS,
 * WEFT_TOKENS_FILE). Returns 0, or -1 with err. Called once, before
 * requests are served. */
int http_tokens_init(const weft_config *cfg, char *err, size_t errlen);
/* Reads WEFT_TOKENS_FILE again (SIGHUP): on success the new table serves
 * every later request; on failure the one in use stays and the problem is
 * logged. Returns 0 or -1. Safe from any thread. */
int http_tokens_reload(void);
/* The table in use; NULL when no token is configured (nothing is
 * authenticated then). */
const token_table *http_tokens_current(void);

/* ---- tokens made over the API ------------------------------------------------------- */

#define API_TOKEN_PREFIX "wft_"
#define API_TOKEN_SECRET_LEN 47                 /* the prefix and 43 base64url characters */
#define API_TOKEN_CACHE_TTL_US (2 * 1000000LL)  /* how long a look-up's answer is trusted */
#define API_TOKEN_USED_EVERY_US (60 * 1000000LL) /* last_used_at is written at most this often */

/* A new secret from the CSPRNG (OpenSSL RAND_bytes) into secret, and the
 * hex of its SHA-256 (what is stored) into digest_hex. 0, or -1 when no
 * random bytes could be had. */
int api_token_secret_new(char secret[API_TOKEN_SECRET_LEN + 1], char digest_hex[2 * TOKEN_DIGEST_LEN + 1]);

/* The API token whose secret is `presented`, when it is one, neither
 * revoked nor expired at clock_now_us(); else NULL. Reads the store (a
 * reader of st) only when the cache holds no answer younger than
 * API_TOKEN_CACHE_TTL_US. A token used is sent to eng (when not NULL) as
 * a token.used command at most once per API_TOKEN_USED_EVERY_US (its
 * last_used_at). The token lives as long as the process. */
const http_token *http_api_token_match(store *st, engine *eng, const char *presented, size_t len);
/* The token `name` was revoked here: refused from now on, without waiting
 * for the cache's answer to age. */
void http_api_token_forget(const char *name);

#endif
