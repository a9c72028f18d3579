/*
 * test_url.c — url_mask_password: PostgreSQL URLs (userinfo and query),
 * URLs without scheme, percent-encoding, libpq keyword/value strings, and
 * strings without a password, which come back unchanged.
 */
#include "util/common.h"
#include "util/url.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static void check(const char *in, const char *want)
{
	char *got = url_mask_password(in);
	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("%s: expected \"%s\", got \"%s\"", in, want, got);
	free(got);
}

static void test_userinfo(void **state)
{
	UNUSED(state);
	check("postgres://user:secret@host:5432/db", "postgres://user:***@host:5432/db");
	check("postgresql://user:secret@host/db", "postgresql://user:***@host/db");
	check("POSTGRES://weft:s3cret-pw@127.0.0.1:5432/weft", "POSTGRES://weft:***@127.0.0.1:5432/weft");
	check("postgres://user:secret@host", "postgres://user:***@host");
	check("postgres://user:@host/db", "postgres://user:***@host/db");
	check("postgres://:secret@host/db", "postgres://:***@host/db");
	check("postgres://u:p@h1:5432,h2:5433/db", "postgres://u:***@h1:5432,h2:5433/db");
	check("postgres://u:p@[::1]:5432/db", "postgres://u:***@[::1]:5432/db");
	/* any scheme */
	check("http://user:pass@example.com/x", "http://user:***@example.com/x");
}

/* libpq reads up to the first '@'; masking to the last one leaves no piece
 * of a password that holds a raw '@'. A '?' before the '@' is userinfo to
 * libpq too. */
static void test_userinfo_edges(void **state)
{
	UNUSED(state);
	check("postgres://u:p@ss@host/db", "postgres://u:***@host/db");
	check("postgres://u:pa?ss@host/db", "postgres://u:***@host/db");
	check("postgres://u:pa#ss@host/db", "postgres://u:***@host/db");
	/* a '@' after the first '/' is not userinfo */
	check("postgres://host:5432/db?application_name=a@b", "postgres://host:5432/db?application_name=a@b");
}

static void test_percent_encoding(void **state)
{
	UNUSED(state);
	check("postgres://us%40er:p%40ss%2Fw%3Ard@host/db", "postgres://us%40er:***@host/db");
	check("postgres://u%3Ax@host/db", "postgres://u%3Ax@host/db");
	check("postgres://host/db?pass%77ord=secret", "postgres://host/db?pass%77ord=***");
	check("postgres://host/db?password=p%26w&x=1", "postgres://host/db?password=***&x=1");
}

static void test_query(void **state)
{
	UNUSED(state);
	check("postgres://host/db?password=secret&sslmode=disable", "postgres://host/db?password=***&sslmode=disable");
	check("postgres://host/db?sslmode=require&password=secret", "postgres://host/db?sslmode=require&password=***");
	check("postgres://host/db?sslpassword=k&password=", "postgres://host/db?sslpassword=***&password=***");
	check("postgres://host/db?PASSWORD=x", "postgres://host/db?PASSWORD=***");
	check("postgres://u:a@h/db?password=b", "postgres://u:***@h/db?password=***");
	check("postgres://h?password=b", "postgres://h?password=***");
	check("postgres://h?password=se@cret", "postgres://h?password=***");
	check("postgres://u@h?password=se@cret", "postgres://u@h?password=***");
	/* other parameters and look-alikes stay */
	check("postgres://host/db?xpassword=x&password_hint=y&app=password=z",
	      "postgres://host/db?xpassword=x&password_hint=y&app=password=z");
	check("postgres://host/db?password", "postgres://host/db?password");
	/* what looks like a parameter outside the query is masked too */
	check("postgres://host/db&password=x&y=1", "postgres://host/db&password=***&y=1");
}

static void test_without_scheme(void **state)
{
	UNUSED(state);
	check("user:secret@host:5432/db", "user:***@host:5432/db");
	check("user:secret@host/db?password=x", "user:***@host/db?password=***");
	check("user@host/db", "user@host/db");
	check("host:5432/db", "host:5432/db");
}

static void test_keyword_value(void **state)
{
	UNUSED(state);
	check("host=localhost port=5432 password=secret dbname=weft",
	      "host=localhost port=5432 password=*** dbname=weft");
	check("password='se cr\\'et' user=u", "password=*** user=u");
	check("  host = h  password = secret ", "  host = h  password = *** ");
	check("password=a\\ b host=h", "password=*** host=h");
	check("sslpassword=k\tpassword=''", "sslpassword=***\tpassword=***");
	check("host=h dbname='my db'", "host=h dbname='my db'");
	check("dbname=password", "dbname=password");
	/* a malformed rest is copied */
	check("host=h junk", "host=h junk");
}

static void test_nothing_to_mask(void **state)
{
	UNUSED(state);
	check("postgres://user@host/db", "postgres://user@host/db");
	check("postgres://host:5432/db", "postgres://host:5432/db");
	check("postgresql:///db?host=/var/run/postgresql", "postgresql:///db?host=/var/run/postgresql");
	check("./weft.db", "./weft.db");
	check("/var/lib/weft/weft.db", "/var/lib/weft/weft.db");
	check("sqlite:/tmp/x.db", "sqlite:/tmp/x.db");
	check("", "");
	assert_null(url_mask_password(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_userinfo),
		cmocka_unit_test(test_userinfo_edges),
		cmocka_unit_test(test_percent_encoding),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_without_scheme),
		cmocka_unit_test(test_keyword_value),
		cmocka_unit_test(test_nothing_to_mask),
	};
	return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
