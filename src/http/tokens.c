/*
 * tokens.c — parsing and matching bearer tokens, and the server's tables
 * (see tokens.h).
 */
#include "util/common.h"
#include "http/tokens.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "engine/commands/tokens.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "store/tokens.h"

#define SHA256_PREFIX "sha256:"

void token_table_init(token_table *t)
{
	memset(t, 0, sizeof(*t));
}

static void token_release(http_token *tok)
{
	for (size_t i = 0; i < tok->nnamespaces; i++)
		free(tok->namespaces[i]);
	free(tok->namespaces);
}

void token_table_release(token_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		token_release(&t->tokens[i]);
	free(t->tokens);
	token_table_init(t);
}

static bool sha256(const void *data, size_t len, unsigned char out[TOKEN_DIGEST_LEN])
{
	unsigned int n = 0;
	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == TOKEN_DIGEST_LEN;
}

const char *token_source_name(token_source s)
{
	switch (s) {
	case TOKEN_FROM_ENV: return "env";
	case TOKEN_FROM_FILE: return "file";
	case TOKEN_FROM_API: return "api";
	}
	return "env";
}

bool token_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TOKEN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

bool token_sees(const http_token *tok, const char *ns)
{
	if (tok->all_namespaces)
		return true;
	for (size_t i = 0; i < tok->nnamespaces; i++) {
		if (strcmp(tok->namespaces[i], ns) == 0)
			return true;
	}
	return false;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The digest a secret field stands for: "sha256:<hex>", or a plain
 * secret. NULL, or the problem. */
static const char *secret_digest(const char *secret, unsigned char out[TOKEN_DIGEST_LEN])
{
	size_t plen = strlen(SHA256_PREFIX);
	if (strncmp(secret, SHA256_PREFIX, plen) == 0) {
		const char *hex = secret + plen;
		if (strlen(hex) != 2 * TOKEN_DIGEST_LEN)
			return "a sha256: secret needs exactly 64 hex digits";
		for (size_t i = 0; i < TOKEN_DIGEST_LEN; i++) {
			int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return "a sha256: secret needs exactly 64 hex digits";
			out[i] = (unsigned char)(hi * 16 + lo);
		}
		return NULL;
	}
	size_t n = strlen(secret);
	if (n < TOKEN_SECRET_MIN)
		return "a plain secret needs at least 16 bytes";
	if (n > TOKEN_SECRET_MAX)
		return "a secret may have at most 512 bytes";
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)secret[i] < 0x21 || (unsigned char)secret[i] > 0x7e)
			return "a secret is printable ASCII without spaces";
	}
	return sha256(secret, n, out) ? NULL : "cannot hash the secret";
}

/* Fills tok->namespaces from "a,b,c" or "*". NULL, or the problem. */
static const char *namespaces_parse(http_token *tok, const char *list)
{
	if (strcmp(list, "*") == 0) {
		tok->all_namespaces = true;
		return NULL;
	}
	const char *p = list;
	for (;;) {
		size_t n = strcspn(p, ",");
		char *ns = xstrndup(p, n);
		if (!namespace_valid(ns)) {
			free(ns);
			return "namespaces are \"*\" or a comma-separated list of names [a-z0-9][a-z0-9_-]{0,62}";
		}
		if (token_sees(tok, ns)) {
			free(ns);
			return "a namespace is listed twice";
		}
		if (tok->nnamespaces == TOKEN_NAMESPACES_MAX) {
			free(ns);
			return "a token may list at most 256 namespaces";
		}
		tok->namespaces = xrealloc(tok->namespaces, (tok->nnamespaces + 1) * sizeof(char *));
		tok->namespaces[tok->nnamespaces++] = ns;
		if (p[n] == '\0')
			return NULL;
		p += n + 1;
	}
}

const http_token *token_table_find(const token_table *t, const char *name)
{
	for (size_t i = 0; t != NULL && i < t->n; i++)
		if (strcmp(t->tokens[i].name, name) == 0)
			return &t->tokens[i];
	return NULL;
}

/* The problem with adding tok to t (a taken name or secret), or NULL. */
static const char *clash(const token_table *t, const http_token *tok)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->tokens[i].name, tok->name) == 0)
			return "this name is used by another token";
		if (memcmp(t->tokens[i].digest, tok->digest, TOKEN_DIGEST_LEN) == 0)
			return "this secret is used by another token";
	}
	return NULL;
}

static void table_push(token_table *t, const http_token *tok)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 8;
		t->tokens = xrealloc(t->tokens, t->cap * sizeof(*t->tokens));
	}
	t->tokens[t->n++] = *tok;
}

static void token_name_set(http_token *tok, const char *name)
{
	snprintf(tok->name, sizeof tok->name, "%s", name);
	snprintf(tok->actor, sizeof tok->actor, "token:%s", name);
}

/* One line's four fields into tok; NULL, or the problem. */
static const char *line_parse(char *line, http_token *tok)
{
	char *fields[5];
	size_t n = 0;
	for (char *save = NULL, *f = strtok_r(line, " \t\r", &save); f != NULL; f = strtok_r(NULL, " \t\r", &save)) {
		if (n == ARRAY_LEN(fields))
			break;
		fields[n++] = f;
	}
	if (n != 4)
		return "expected 4 fields: name secret namespaces role";
	if (!token_name_valid(fields[0]))
		return "a token name is 1 to 64 of [a-z0-9_.-]";
	token_name_set(tok, fields[0]);
	const char *why = secret_digest(fields[1], tok->digest);
	if (why == NULL)
		why = namespaces_parse(tok, fields[2]);
	if (why == NULL) {
		if (strcmp(fields[3], "admin") == 0)
			tok->admin = true;
		else if (strcmp(fields[3], "client") != 0)
			why = "the role is admin or client";
	}
	return why;
}

int token_table_parse(token_table *t, const char *text, bool semicolons, const char *source, char *err,
                      size_t errlen)
{
	size_t before = t->n;
	const char *seps = semicolons ? "\n;" : "\n";
	const char *p = text;
	for (size_t lineno = 1; *p != '\0' || p == text; lineno++) {
		size_t len = strcspn(p, seps);
		char *line = xstrndup(p, len);
		/* A comment starts with '#' at the start of the line or after
		 * white space, so that a secret may hold a '#'. */
		for (char *hash = strchr(line, '#'); hash != NULL; hash = strchr(hash + 1, '#')) {
			if (hash == line || hash[-1] == ' ' || hash[-1] == '\t') {
				*hash = '\0';
				break;
			}
		}
		http_token tok;
		memset(&tok, 0, sizeof(tok));
		const char *why = NULL;
		if (strspn(line, " \t\r") != strlen(line)) {
			why = line_parse(line, &tok);
			if (why == NULL)
				why = clash(t, &tok);
			if (why == NULL && t->n == TOKENS_MAX)
				why = "too many tokens (at most 10000)";
			if (why == NULL)
				table_push(t, &tok);
			else
				token_release(&tok);
		}
		free(line);
		if (why != NULL) {
			snprintf(err, errlen, "%s, %s %zu: %s", source, semicolons ? "entry" : "line", lineno, why);
			while (t->n > before)
				token_release(&t->tokens[--t->n]);
			return -1;
		}
		p += len;
		if (*p == '\0')
			break;
		p++;
	}
	return 0;
}

int token_table_add_admin(token_table *t, const char *secret, char *err, size_t errlen)
{
	http_token tok;
	memset(&tok, 0, sizeof(tok));
	token_name_set(&tok, "auth_token");
	tok.all_namespaces = true;
	tok.admin = true;
	const char *why = sha256(secret, strlen(secret), tok.digest) ? clash(t, &tok) : "cannot hash the secret";
	if (why != NULL) {
		snprintf(err, errlen, "AUTH_TOKEN: %s", why);
		return -1;
	}
	table_push(t, &tok);
	return 0;
}

const http_token *token_table_match(const token_table *t, const char *presented, size_t len)
{
	unsigned char d[TOKEN_DIGEST_LEN];
	if (t == NULL || !sha256(presented, len, d))
		return NULL;
	/* Every entry is compared in full, and the match is selected by masks
	 * rather than a branch. */
	uintptr_t found = 0;
	for (size_t i = 0; i < t->n; i++) {
		unsigned diff = 0;
		for (size_t j = 0; j < TOKEN_DIGEST_LEN; j++)
			diff |= (unsigned)(t->tokens[i].digest[j] ^ d[j]);
		uintptr_t equal = (uintptr_t)0 - (uintptr_t)((diff - 1u) >> (sizeof(unsigned) * 8 - 1));
		found |= equal & (uintptr_t)&t->tokens[i];
	}
	return (const http_token *)found;
}

/* ---- the server's tables ------------------------------------------------------------ */

/* Tables are retired, never freed: requests and engine commands borrow
 * from them without counting references. They stay reachable from this
 * list for the life of the process. */
typedef struct retired {
	token_table table;
	struct retired *next;
} retired;

static pthread_mutex_t g_tokens_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(const token_table *) g_current;
static retired *g_tables;                 /* every table made; g_tokens_lock */
static char *g_file;                      /* WEFT_TOKENS_FILE; g_tokens_lock */
static char *g_inline;                    /* WEFT_TOKENS */
static char *g_admin;                     /* AUTH_TOKEN */

/* Reads a tokens file of at most TOKENS_FILE_MAX bytes; NULL with err. */
static char *file_read(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "WEFT_TOKENS_FILE %s: %s", path, strerror(errno));
		return NULL;
	}
	buf b;
	buf_init(&b);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len <= TOKENS_FILE_MAX)
		buf_append(&b, chunk, n);
	bool failed = ferror(f) != 0;
	fclose(f);
	if (failed || b.len > TOKENS_FILE_MAX || memchr(b.data ? b.data : "", '\0', b.len) != NULL) {
		snprintf(err, errlen, "WEFT_TOKENS_FILE %s: %s", path,
		         failed ? "read error" : b.len > TOKENS_FILE_MAX ? "larger than 1 MiB" : "contains a NUL byte");
		buf_release(&b);
		return NULL;
	}
	size_t len;
	char *text = buf_detach(&b, &len);
	return text != NULL ? text : xstrdup("");
}

/* Builds a table from the settings kept; NULL with err. Lock held. */
static token_table *table_build(char *err, size_t errlen)
{
	token_table t;
	token_table_init(&t);
	int rc = 0;
	if (g_admin != NULL)
		rc = token_table_add_admin(&t, g_admin, err, errlen);
	if (rc == 0 && g_inline != NULL)
		rc = token_table_parse(&t, g_inline, true, "WEFT_TOKENS", err, errlen);
	size_t from_env = t.n;      /* AUTH_TOKEN's and WEFT_TOKENS' */
	if (rc == 0 && g_file != NULL) {
		char *text = file_read(g_file, err, errlen);
		char source[600];
		snprintf(source, sizeof source, "WEFT_TOKENS_FILE %s", g_file);
		rc = text != NULL ? token_table_parse(&t, text, false, source, err, errlen) : -1;
		free(text);
	}
	if (rc != 0) {
		token_table_release(&t);
		return NULL;
	}
	for (size_t i = 0; i < t.n; i++)
		t.tokens[i].source = i < from_env ? TOKEN_FROM_ENV : TOKEN_FROM_FILE;
	retired *r = xcalloc(1, sizeof(*r));
	r->table = t;
	r->next = g_tables;
	g_tables = r;
	return &r->table;
}

int http_tokens_init(const weft_config *cfg, char *err, size_t errlen)
{
	pthread_mutex_lock(&g_tokens_lock);
	free(g_file);
	free(g_inline);
	free(g_admin);
	g_file = cfg->tokens_file != NULL && cfg->tokens_file[0] != '\0' ? xstrdup(cfg->tokens_file) : NULL;
	g_inline = cfg->tokens != NULL && cfg->tokens[0] != '\0' ? xstrdup(cfg->tokens) : NULL;
	g_admin = cfg->auth_token != NULL ? xstrdup(cfg->auth_token) : NULL;
	int rc = 0;
	if (g_file == NULL && g_inline == NULL && g_admin == NULL) {
		atomic_store(&g_current, NULL);
	} else {
		const token_table *t = table_build(err, errlen);
		if (t != NULL)
			atomic_store(&g_current, t);
		else
			rc = -1;
	}
	pthread_mutex_unlock(&g_tokens_lock);
	return rc;
}

int http_tokens_reload(void)
{
	char err[512] = "";
	pthread_mutex_lock(&g_tokens_lock);
	int rc = 0;
	if (g_file == NULL) {
		log_info("http", "SIGHUP: no WEFT_TOKENS_FILE to read again");
	} else {
		const token_table *t = table_build(err, sizeof err);
		if (t != NULL) {
			atomic_store(&g_current, t);
			log_info("http", "tokens read again from %s: %zu tokens", g_file, t->n);
		} else {
			log_error("http", "tokens not reloaded, the previous ones stay in use: %s", err);
			rc = -1;
		}
	}
	pthread_mutex_unlock(&g_tokens_lock);
	return rc;
}

const token_table *http_tokens_current(void)
{
	return atomic_load(&g_current);
}

/* ---- tokens made over the API ------------------------------------------------------- */

static const char base64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void hex_of(const unsigned char d[TOKEN_DIGEST_LEN], char out[2 * TOKEN_DIGEST_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < TOKEN_DIGEST_LEN; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * TOKEN_DIGEST_LEN] = '\0';
}

int api_token_secret_new(char secret[API_TOKEN_SECRET_LEN + 1], char digest_hex[2 * TOKEN_DIGEST_LEN + 1])
{
	/* 32 bytes are 43 base64url characters without padding (256 bits). */
	unsigned char raw[33] = { 0 };
	if (RAND_bytes(raw, 32) != 1)
		return -1;
	size_t plen = strlen(API_TOKEN_PREFIX), n = plen;
	memcpy(secret, API_TOKEN_PREFIX, plen);
	for (size_t i = 0; i < 33; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
		for (int k = 3; k >= 0 && n < API_TOKEN_SECRET_LEN; k--)
			secret[n++] = base64url[(v >> (6 * k)) & 63];
	}
	secret[API_TOKEN_SECRET_LEN] = '\0';
	unsigned char d[TOKEN_DIGEST_LEN];
	if (!sha256(secret, API_TOKEN_SECRET_LEN, d))
		return -1;
	hex_of(d, digest_hex);
	OPENSSL_cleanse(raw, sizeof raw);
	return 0;
}

/* Whether s has the shape of an API token's secret. */
static bool api_shaped(const char *s, size_t len)
{
	size_t plen = strlen(API_TOKEN_PREFIX);
	if (len != API_TOKEN_SECRET_LEN || memcmp(s, API_TOKEN_PREFIX, plen) != 0)
		return false;
	for (size_t i = plen; i < len; i++)
		if (strchr(base64url, s[i]) == NULL || s[i] == '\0')
			return false;
	return true;
}

/* What a look-up learned of one API token. Entries are never freed: a
 * request borrows tok, an engine command its actor, without counting
 * references. There is one per token seen (a token's digest never
 * changes), so they are as many as the tokens made. */
typedef struct cached_token {
	http_token tok;
	unsigned char digest[TOKEN_DIGEST_LEN];
	int64_t expires_at;         /* 0 = never */
	bool revoked;
	int64_t checked_at;         /* clock_mono_us() of the look-up */
	int64_t used_sent;          /* clock_mono_us() when a use was last sent to the engine */
	struct cached_token *next;  /* the bucket's chain */
} cached_token;

#define CACHE_BUCKETS 1024
static pthread_mutex_t g_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cached_token *g_cache[CACHE_BUCKETS];

/* Secrets the store did not know, for as long as an answer is trusted:
 * a client retrying with a mistyped or deleted secret costs one look-up
 * per API_TOKEN_CACHE_TTL_US, not one per request. A fixed table (a new
 * miss replaces the one in its slot), so it never grows. */
#define MISSES 1024
static struct {
	unsigned char digest[TOKEN_DIGEST_LEN];
	int64_t at;                 /* clock_mono_us(); 0 = empty */
} g_misses[MISSES];

/* Lock held. */
static bool missed_lately(const unsigned char d[TOKEN_DIGEST_LEN], int64_t mono)
{
	size_t i = ((unsigned)d[2] << 8 | d[3]) % MISSES;
	return g_misses[i].at != 0 && mono - g_misses[i].at < API_TOKEN_CACHE_TTL_US &&
	       memcmp(g_misses[i].digest, d, TOKEN_DIGEST_LEN) == 0;
}

static void miss_note(const unsigned char d[TOKEN_DIGEST_LEN], int64_t mono)
{
	size_t i = ((unsigned)d[2] << 8 | d[3]) % MISSES;
	memcpy(g_misses[i].digest, d, TOKEN_DIGEST_LEN);
	g_misses[i].at = mono;
}

static cached_token **bucket_of(const unsigned char d[TOKEN_DIGEST_LEN])
{
	return &g_cache[((unsigned)d[0] << 8 | d[1]) % CACHE_BUCKETS];
}

/* Lock held. */
static cached_token *cache_find(const unsigned char d[TOKEN_DIGEST_LEN])
{
	for (cached_token *c = *bucket_of(d); c != NULL; c = c->next)
		if (memcmp(c->digest, d, TOKEN_DIGEST_LEN) == 0)
			return c;
	return NULL;
}

static const http_token *verdict(const cached_token *c, int64_t now)
{
	if (c == NULL || c->revoked || (c->expires_at != 0 && now >= c->expires_at))
		return NULL;
	return &c->tok;
}

/* Records what the store said of digest d (row NULL: no such token). Lock
 * held. A row whose namespaces cannot be read is refused (and logged). */
static cached_token *cache_note(const unsigned char d[TOKEN_DIGEST_LEN], const api_token_row *row, int64_t mono)
{
	cached_token *c = cache_find(d);
	if (c == NULL && row == NULL) {
		miss_note(d, mono);     /* not an entry: unknown secrets would grow the cache */
		return NULL;
	}
	if (c == NULL) {
		c = xcalloc(1, sizeof *c);
		memcpy(c->digest, d, TOKEN_DIGEST_LEN);
		memcpy(c->tok.digest, d, TOKEN_DIGEST_LEN);
		token_name_set(&c->tok, row->name);
		c->tok.admin = row->admin;
		c->tok.source = TOKEN_FROM_API;
		const char *why = row->namespaces[0] != '\0' ? namespaces_parse(&c->tok, row->namespaces)
		                                               : "no namespaces";
		if (why != NULL) {
			log_error("http", "token %s in the database: %s; refused", row->name, why);
			c->revoked = true;
		}
		cached_token **b = bucket_of(d);
		c->next = *b;
		*b = c;
	}
	if (row == NULL) {
		c->revoked = true;      /* its row is gone */
	} else {
		c->revoked = c->revoked || row->revoked_at != 0;
		c->expires_at = row->expires_at;
	}
	c->checked_at = mono;
	return c;
}

static void used_done(engine_cmd *cmd, void *arg)
{
	UNUSED(arg);
	free(cmd);
}

/* A use of c at now (mono: the same on the monotonic clock) to record
 * (lock held): a command to submit after the lock is released, or NULL. */
static cmd_token_used *use_of(cached_token *c, const http_token *tok, engine *eng, int64_t now, int64_t mono)
{
	if (tok == NULL || eng == NULL || (c->used_sent != 0 && mono - c->used_sent < API_TOKEN_USED_EVERY_US))
		return NULL;
	c->used_sent = mono;
	cmd_token_used *u = xmalloc(sizeof *u);
	cmd_token_used_init(u);
	snprintf(u->name, sizeof u->name, "%s", c->tok.name);
	u->at = now;
	u->base.done = used_done;
	return u;
}

const http_token *http_api_token_match(store *st, engine *eng, const char *presented, size_t len)
{
	unsigned char d[TOKEN_DIGEST_LEN];
	if (st == NULL || !api_shaped(presented, len) || !sha256(presented, len, d))
		return NULL;
	/* Expiry is a time of the wall clock; the cache's age is measured on
	 * the monotonic one, which a step of the wall clock does not move. */
	int64_t now = clock_now_us(), mono = clock_mono_us();
	pthread_mutex_lock(&g_cache_lock);
	cached_token *c = cache_find(d);
	if (c != NULL && (c->revoked || mono - c->checked_at < API_TOKEN_CACHE_TTL_US)) {
		const http_token *tok = verdict(c, now);
		cmd_token_used *u = use_of(c, tok, eng, now, mono);
		pthread_mutex_unlock(&g_cache_lock);
		if (u != NULL)
			engine_submit(eng, &u->base);
		return tok;
	}
	bool missed = c == NULL && missed_lately(d, mono);
	pthread_mutex_unlock(&g_cache_lock);
	if (missed)
		return NULL;

	char hex[2 * TOKEN_DIGEST_LEN + 1];
	hex_of(d, hex);
	api_token_row row;
	store_conn *conn = store_reader_acquire(st);
	int rc = conn != NULL ? store_api_token_by_digest(conn, hex, &row) : WEFT_EUNAVAILABLE;
	if (conn != NULL)
		store_reader_release(st, conn);
	if (rc != 0 && rc != WEFT_ENOTFOUND) {
		/* Refused while the database does not answer: a token revoked
		 * elsewhere must not pass on a stale answer. */
		log_warn("http", "an API token could not be looked up: %s", weft_strerror(rc));
		return NULL;
	}
	pthread_mutex_lock(&g_cache_lock);
	c = cache_note(d, rc == 0 ? &row : NULL, mono);
	const http_token *tok = verdict(c, now);
	cmd_token_used *u = tok != NULL ? use_of(c, tok, eng, now, mono) : NULL;
	pthread_mutex_unlock(&g_cache_lock);
	if (rc == 0)
		api_token_row_release(&row);
	if (u != NULL)
		engine_submit(eng, &u->base);
	return tok;
}

void http_api_token_forget(const char *name)
{
	pthread_mutex_lock(&g_cache_lock);
	for (size_t i = 0; i < CACHE_BUCKETS; i++)
		for (cached_token *c = g_cache[i]; c != NULL; c = c->next)
			if (strcmp(c->tok.name, name) == 0)
				c->revoked = true;
	pthread_mutex_unlock(&g_cache_lock);
}
