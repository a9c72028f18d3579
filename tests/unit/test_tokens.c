/*
 * test_tokens.c — the tokens file (http/tokens.h): lines and their
 * fields, plain and sha256: secrets, namespaces, roles, the problems
 * named with their line, matching a presented token against every entry,
 * and reading the file again as the server does on SIGHUP.
 */
#include "util/common.h"
#include "http/tokens.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>

#define BILLING_SECRET "billing-secret-0123456789"

static const char *parse_err(const char *text, bool semicolons)
{
	static char err[512];
	token_table t;
	token_table_init(&t);
	err[0] = '\0';
	int rc = token_table_parse(&t, text, semicolons, "tokens", err, sizeof err);
	assert_int_equal(rc, -1);
	assert_int_equal(t.n, 0);
	token_table_release(&t);
	return err;
}

static const http_token *match(const token_table *t, const char *s)
{
	return token_table_match(t, s, strlen(s));
}

static void test_parse_lines(void **state)
{
	UNUSED(state);
	token_table t;
	token_table_init(&t);
	char err[256];
	const char *text = "# name secret namespaces role\n"
	                   "\n"
	                   "ci   s3cr3t-at-least-16-chars   build,default admin   # trailing comment\n"
	                   "\tbilling\t" BILLING_SECRET "\tbilling\tclient\r\n"
	                   "ops  another-secret-of-16+  *  client\n";
	assert_int_equal(token_table_parse(&t, text, false, "f", err, sizeof err), 0);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.tokens[0].name, "ci");
	assert_string_equal(t.tokens[0].actor, "token:ci");
	assert_true(t.tokens[0].admin);
	assert_false(t.tokens[0].all_namespaces);
	assert_int_equal(t.tokens[0].nnamespaces, 2);
	assert_true(token_sees(&t.tokens[0], "build"));
	assert_true(token_sees(&t.tokens[0], "default"));
	assert_false(token_sees(&t.tokens[0], "billing"));
	assert_false(t.tokens[1].admin);
	assert_true(token_sees(&t.tokens[1], "billing"));
	assert_false(token_sees(&t.tokens[1], "default"));
	assert_true(t.tokens[2].all_namespaces);
	assert_true(token_sees(&t.tokens[2], "anything"));

	assert_ptr_equal(match(&t, "s3cr3t-at-least-16-chars"), &t.tokens[0]);
	assert_ptr_equal(match(&t, BILLING_SECRET), &t.tokens[1]);
	assert_ptr_equal(match(&t, "another-secret-of-16+"), &t.tokens[2]);
	assert_null(match(&t, "s3cr3t-at-least-16-char"));
	assert_null(match(&t, "s3cr3t-at-least-16-charsX"));
	assert_null(match(&t, ""));
	assert_null(token_table_match(&t, "s3cr3t-at-least-16-chars", 5));
	token_table_release(&t);

	/* A '#' inside a secret is part of it; after white space it starts a
	 * comment. */
	token_table_init(&t);
	assert_int_equal(token_table_parse(&t, "h has#hash-in-it-0123 * admin #note", false, "f", err, sizeof err), 0);
	assert_non_null(match(&t, "has#hash-in-it-0123"));
	assert_null(match(&t, "has"));
	token_table_release(&t);
}

static void test_sha256_secret(void **state)
{
	UNUSED(state);
	token_table t;
	token_table_init(&t);
	char err[256];
	/* sha256("test") */
	const char *text = "hashed sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08 a client";
	assert_int_equal(token_table_parse(&t, text, false, "f", err, sizeof err), 0);
	/* The hash stands for the secret, whatever its length. */
	assert_ptr_equal(match(&t, "test"), &t.tokens[0]);
	assert_null(match(&t, "sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"));
	token_table_release(&t);
}

static void test_inline_semicolons(void **state)
{
	UNUSED(state);
	token_table t;
	token_table_init(&t);
	char err[256];
	assert_int_equal(token_table_parse(&t, "a aaaaaaaaaaaaaaaa x client; b bbbbbbbbbbbbbbbb y admin;", true,
	                                   "WEFT_TOKENS", err, sizeof err), 0);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.tokens[1].name, "b");
	/* AUTH_TOKEN joins as an admin over every namespace, of any length. */
	assert_int_equal(token_table_add_admin(&t, "short", err, sizeof err), 0);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.tokens[2].name, "auth_token");
	assert_true(t.tokens[2].admin && t.tokens[2].all_namespaces);
	assert_ptr_equal(match(&t, "short"), &t.tokens[2]);
	assert_int_equal(token_table_add_admin(&t, "aaaaaaaaaaaaaaaa", err, sizeof err), -1);
	assert_non_null(strstr(err, "secret is used by another token"));
	token_table_release(&t);
}

static void test_problems_named(void **state)
{
	UNUSED(state);
	const char *e;
	e = parse_err("ok aaaaaaaaaaaaaaaa x client\nbad aaaaaaaaaaaaaaab x\n", false);
	assert_string_equal(e, "tokens, line 2: expected 4 fields: name secret namespaces role");
	e = parse_err("a aaaaaaaaaaaaaaaa x client;b short x client", true);
	assert_string_equal(e, "tokens, entry 2: a plain secret needs at least 16 bytes");
	e = parse_err("Upper aaaaaaaaaaaaaaaa x client", false);
	assert_non_null(strstr(e, "line 1: a token name is"));
	e = parse_err("a sha256:abcd x client", false);
	assert_non_null(strstr(e, "64 hex digits"));
	e = parse_err("a sha256:zz86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 x client", false);
	assert_non_null(strstr(e, "64 hex digits"));
	e = parse_err("a aaaaaaaaaaaaaaaa Billing client", false);
	assert_non_null(strstr(e, "namespaces are"));
	e = parse_err("a aaaaaaaaaaaaaaaa x,,y client", false);
	assert_non_null(strstr(e, "namespaces are"));
	e = parse_err("a aaaaaaaaaaaaaaaa x,x client", false);
	assert_non_null(strstr(e, "listed twice"));
	e = parse_err("a aaaaaaaaaaaaaaaa x root", false);
	assert_non_null(strstr(e, "admin or client"));
	e = parse_err("a aaaaaaaaaaaaaaaa x client\na bbbbbbbbbbbbbbbb x client", false);
	assert_string_equal(e, "tokens, line 2: this name is used by another token");
	e = parse_err("a aaaaaaaaaaaaaaaa x client\nb aaaaaaaaaaaaaaaa y client", false);
	assert_string_equal(e, "tokens, line 2: this secret is used by another token");
	e = parse_err("a aaaaaaaaaaaaaaaa x client extra", false);
	assert_non_null(strstr(e, "expected 4 fields"));
}

/* A failed parse leaves the table as it was. */
static void test_failed_parse_keeps_table(void **state)
{
	UNUSED(state);
	token_table t;
	token_table_init(&t);
	char err[256];
	assert_int_equal(token_table_parse(&t, "a aaaaaaaaaaaaaaaa x client", false, "f", err, sizeof err), 0);
	assert_int_equal(token_table_parse(&t, "b bbbbbbbbbbbbbbbb y client\nc cc y client", false, "f", err, sizeof err),
	                 -1);
	assert_int_equal(t.n, 1);
	assert_non_null(match(&t, "aaaaaaaaaaaaaaaa"));
	assert_null(match(&t, "bbbbbbbbbbbbbbbb"));
	token_table_release(&t);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The server's tables: nothing configured authenticates nothing; a reload
 * takes the new file, and a broken one keeps the tokens in use, whose
 * entries stay valid either way. */
static void test_server_tables(void **state)
{
	UNUSED(state);
	weft_config cfg;
	memset(&cfg, 0, sizeof cfg);
	char err[512];
	assert_int_equal(http_tokens_init(&cfg, err, sizeof err), 0);
	assert_null(http_tokens_current());

	char path[] = "/tmp/weft-tokens-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "a aaaaaaaaaaaaaaaa x client\n");
	cfg.tokens_file = path;
	cfg.tokens = "b bbbbbbbbbbbbbbbb y admin";
	cfg.auth_token = "admin-token";
	assert_int_equal(http_tokens_init(&cfg, err, sizeof err), 0);
	const token_table *t1 = http_tokens_current();
	assert_non_null(t1);
	assert_int_equal(t1->n, 3);
	const http_token *a = match(t1, "aaaaaaaaaaaaaaaa");
	assert_non_null(a);
	assert_non_null(match(t1, "admin-token"));

	write_file(path, "c cccccccccccccccc z client\n");
	assert_int_equal(http_tokens_reload(), 0);
	const token_table *t2 = http_tokens_current();
	assert_ptr_not_equal(t1, t2);
	assert_null(match(t2, "aaaaaaaaaaaaaaaa"));
	assert_non_null(match(t2, "cccccccccccccccc"));
	assert_non_null(match(t2, "bbbbbbbbbbbbbbbb"));     /* WEFT_TOKENS stays */
	assert_string_equal(a->actor, "token:a");           /* the old entry is still valid */

	write_file(path, "broken\n");
	assert_int_equal(http_tokens_reload(), -1);
	assert_ptr_equal(http_tokens_current(), t2);

	unlink(path);
	assert_int_equal(http_tokens_reload(), -1);
	assert_ptr_equal(http_tokens_current(), t2);

	cfg.tokens_file = "/nonexistent/weft-tokens";
	assert_int_equal(http_tokens_init(&cfg, err, sizeof err), -1);
	assert_non_null(strstr(err, "WEFT_TOKENS_FILE /nonexistent/weft-tokens"));
}

/* A secret made for the API: "wft_" and 43 base64url characters, hashed
 * to the digest given, and new every time. */
static void test_api_secrets(void **state)
{
	UNUSED(state);
	char a[API_TOKEN_SECRET_LEN + 1], b[API_TOKEN_SECRET_LEN + 1];
	char da[2 * TOKEN_DIGEST_LEN + 1], db[2 * TOKEN_DIGEST_LEN + 1];
	assert_int_equal(api_token_secret_new(a, da), 0);
	assert_int_equal(api_token_secret_new(b, db), 0);
	assert_int_equal(strlen(a), API_TOKEN_SECRET_LEN);
	assert_memory_equal(a, "wft_", 4);
	for (size_t i = 4; i < API_TOKEN_SECRET_LEN; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
	assert_string_not_equal(a, b);
	assert_string_not_equal(da, db);
	/* The digest is the secret's: a tokens file line "sha256:<digest>" matches it. */
	char line[256];
	snprintf(line, sizeof line, "api sha256:%s * client", da);
	token_table t;
	token_table_init(&t);
	char err[256];
	assert_int_equal(token_table_parse(&t, line, false, "tokens", err, sizeof err), 0);
	assert_non_null(match(&t, a));
	assert_null(match(&t, b));
	token_table_release(&t);
	assert_null(http_api_token_match(NULL, NULL, a, strlen(a)));
	assert_string_equal(token_source_name(TOKEN_FROM_FILE), "file");
	assert_string_equal(token_source_name(TOKEN_FROM_API), "api");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_lines),
		cmocka_unit_test(test_sha256_secret),
		cmocka_unit_test(test_inline_semicolons),
		cmocka_unit_test(test_problems_named),
		cmocka_unit_test(test_failed_parse_keeps_table),
		cmocka_unit_test(test_server_tables),
		cmocka_unit_test(test_api_secrets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
