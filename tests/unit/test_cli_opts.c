/*
 * test_cli_opts.c — what the client commands share (src/cli/client_opts.c):
 * option values in both spellings, durations with units, integers in
 * range, the defaults from the environment, and which failures a
 * long-running command retries.
 */
#include "util/common.h"
#include "cli/client_opts.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static void test_opt_value(void **state)
{
	UNUSED(state);
	char *argv[] = { "x", "--url", "http://a:1", "--token=t0k", "--namespace", "--urlish", "v", "--queue" };
	int argc = (int)ARRAY_LEN(argv);
	const char *v = NULL;
	int i = 1;
	assert_int_equal(cli_opt_value("p", argc, argv, &i, "--url", &v), 1);
	assert_string_equal(v, "http://a:1");
	assert_int_equal(i, 2);   /* moved past the value */
	i = 3;
	assert_int_equal(cli_opt_value("p", argc, argv, &i, "--token", &v), 1);
	assert_string_equal(v, "t0k");
	assert_int_equal(i, 3);
	i = 5;   /* a longer name is another option */
	assert_int_equal(cli_opt_value("p", argc, argv, &i, "--url", &v), 0);
	i = 7;   /* the last argument without its value */
	assert_int_equal(cli_opt_value("p", argc, argv, &i, "--queue", &v), -1);

	cli_client_opts o = { 0 };
	i = 1;
	assert_int_equal(cli_client_opt("p", argc, argv, &i, &o), 1);
	assert_string_equal(o.url, "http://a:1");
	i = 3;
	assert_int_equal(cli_client_opt("p", argc, argv, &i, &o), 1);
	assert_string_equal(o.token, "t0k");
	i = 5;
	assert_int_equal(cli_client_opt("p", argc, argv, &i, &o), 0);
}

static void test_defaults_from_environment(void **state)
{
	UNUSED(state);
	/* no config file: a home with none, and WEFT_CONFIG unset */
	unsetenv("WEFT_CONFIG");
	unsetenv("WEFT_PROFILE");
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/nonexistent-weft-home", 1);
	unsetenv("WEFT_URL");
	unsetenv("WEFT_TOKEN");
	unsetenv("WEFT_NAMESPACE");
	cli_client_opts o;
	cli_client_opts_init(&o);
	assert_null(o.url);          /* the default comes with the profile, at resolve */
	assert_int_equal(cli_client_opts_resolve("p", &o), 0);
	assert_string_equal(o.url, "http://localhost:8085");
	assert_null(o.token);
	assert_null(o.ns);
	setenv("WEFT_URL", "http://h:9", 1);
	setenv("WEFT_TOKEN", "tok", 1);
	setenv("WEFT_NAMESPACE", "", 1);   /* empty is unset */
	cli_client_opts_init(&o);
	assert_int_equal(cli_client_opts_resolve("p", &o), 0);
	assert_string_equal(o.url, "http://h:9");
	assert_string_equal(o.token, "tok");
	assert_null(o.ns);
	unsetenv("WEFT_URL");
	unsetenv("WEFT_TOKEN");
	unsetenv("WEFT_NAMESPACE");
}

static void test_durations(void **state)
{
	UNUSED(state);
	const int64_t s = 1000000, hour = 3600 * s;
	static const struct {
		const char *text;
		int64_t us;
	} good[] = { { "30s", 30000000 }, { "500ms", 500000 }, { "5m", 300000000 }, { "2h", 7200000000 },
		     { "1.5s", 1500000 }, { "10", 10000000 }, { "0", 0 } };
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		int64_t us = -1;
		assert_int_equal(cli_parse_duration("p", "--d", good[i].text, 0, 24 * hour, &us), 0);
		assert_int_equal(us, good[i].us);
	}
	static const char *const bad[] = { "", "s", "5x", "-1s", "1e400", "nan", "30 s", "25h" };
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int64_t us = 7;
		assert_int_equal(cli_parse_duration("p", "--d", bad[i], 0, 24 * hour, &us), -1);
		assert_int_equal(us, 7);   /* untouched */
	}
	int64_t us;
	assert_int_equal(cli_parse_duration("p", "--lease", "999ms", s, hour, &us), -1);   /* below the range */
}

static void test_integers(void **state)
{
	UNUSED(state);
	int64_t n = 0;
	assert_int_equal(cli_parse_i64("p", "--n", "-1", -1, 1000, &n), 0);
	assert_int_equal(n, -1);
	assert_int_equal(cli_parse_i64("p", "--n", "1000", -1, 1000, &n), 0);
	assert_int_equal(cli_parse_i64("p", "--n", "1001", -1, 1000, &n), -1);
	assert_int_equal(cli_parse_i64("p", "--n", "", -1, 1000, &n), -1);
	assert_int_equal(cli_parse_i64("p", "--n", "12abc", -1, 1000, &n), -1);
	assert_int_equal(cli_parse_i64("p", "--n", "99999999999999999999", INT64_MIN, INT64_MAX, &n), -1);
}

static void test_retryable(void **state)
{
	UNUSED(state);
	assert_true(cli_retryable(CLI_EXIT_UNREACHABLE, 0));
	assert_true(cli_retryable(CLI_EXIT_SERVER, 503));
	assert_true(cli_retryable(CLI_EXIT_SERVER, 429));
	assert_false(cli_retryable(CLI_EXIT_SERVER, 409));
	assert_false(cli_retryable(CLI_EXIT_AUTH, 401));
	assert_false(cli_retryable(CLI_EXIT_USAGE, 400));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opt_value),
		cmocka_unit_test(test_defaults_from_environment),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_retryable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
