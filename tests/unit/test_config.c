/*
 * test_config.c — settings: defaults, environment, flags, precedence and
 * rejection of malformed values.
 */
#include "util/common.h"
#include "config.h"

#include <unistd.h>

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

static const char *const env_names[] = {
	"PORT", "HOST_URL", "DATABASE_URL", "WEFT_DB", "WEFT_DURABILITY", "WEFT_LOG", "RUST_LOG",
	"PAGINATION_DEFAULT", "PAGINATION_MAX", "WORKER_LOOP_INTERVAL_MS",
	"WORKER_CLAIM_TIMEOUT_SECS", "WORKER_WEBHOOK_CONCURRENCY", "WEBHOOK_TIMEOUT_MS",
	"DEAD_END_CANCEL_ENABLED", "SKIP_SSRF_VALIDATION", "BLOCKED_HOSTNAMES",
	"BLOCKED_HOSTNAME_SUFFIXES", "PAYLOAD_MAX_BYTES", "MAX_TASKS_PER_BATCH",
	"MAX_DEPS_PER_TASK", "MAX_ACTIONS_PER_TASK", "JSON_MAX_DEPTH", "MAX_CONNECTIONS",
	"HTTP_THREADS", "DB_READERS", "MAX_CONNECTIONS_PER_IP", "HTTP_HEADER_TIMEOUT_SECS",
	"HTTP_IDLE_TIMEOUT_SECS", "WEFT_ALLOW_EXEC", "EXEC_ALLOW", "EXEC_CONCURRENCY", "EXEC_KILL_GRACE_MS",
	"WEFT_NODE_ID", "WEFT_UI_DIR",
};

static int clean_env(void **state)
{
	UNUSED(state);
	for (size_t i = 0; i < ARRAY_LEN(env_names); i++)
		unsetenv(env_names[i]);
	return 0;
}

/* config_load with argv = {"serve", args..., NULL}. */
#define LOAD(cfg, ...) load_args(cfg, (const char *[]){ "serve", __VA_ARGS__, NULL })
#define LOAD0(cfg) load_args(cfg, (const char *[]){ "serve", NULL })

static int load_args(weft_config *cfg, const char **args)
{
	int argc = 0;
	while (args[argc])
		argc++;
	return config_load(cfg, argc, (char **)args);
}

/* Last stderr output of a failing load. */
static char errbuf[4096];

static int load_capturing(weft_config *cfg, const char **args)
{
	fflush(stderr);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	int saved = dup(2);
	dup2(fileno(tmp), 2);
	int rc = load_args(cfg, args);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	size_t n = fread(errbuf, 1, sizeof errbuf - 1, tmp);
	errbuf[n] = '\0';
	fclose(tmp);
	return rc;
}

#define LOAD_ERR(cfg, ...) load_capturing(cfg, (const char *[]){ "serve", __VA_ARGS__, NULL })
#define LOAD0_ERR(cfg) load_capturing(cfg, (const char *[]){ "serve", NULL })

static void test_defaults(void **state)
{
	UNUSED(state);
	weft_config c;
	assert_int_equal(LOAD0(&c), 0);
	assert_int_equal(c.port, 8085);
	assert_string_equal(c.host_url, "http://localhost:8085");
	assert_string_equal(c.db_url, "./weft.db");
	assert_true(c.sync_full);
	assert_int_equal(c.pagination_default, 50);
	assert_int_equal(c.pagination_max, 100);
	assert_int_equal(c.worker_loop_interval_ms, 60000);
	assert_int_equal(c.claim_timeout_secs, 30);
	assert_int_equal(c.webhook_concurrency, 10);
	assert_int_equal(c.webhook_timeout_ms, 10000);
	assert_true(c.dead_end_cancel);
	assert_false(c.ssrf.skip);
	assert_true(c.ssrf.nblocked_hosts > 0);   /* the built-in list */
	assert_int_equal(c.payload_max_bytes, 2097152);
	assert_int_equal(c.max_tasks_per_batch, 100000);
	assert_int_equal(c.max_deps_per_task, 100);
	assert_int_equal(c.max_actions_per_task, 20);
	assert_int_equal(c.json_max_depth, 64);
	assert_int_equal(c.max_connections, 1024);
	assert_int_equal(c.max_connections_per_ip, 256);
	assert_int_equal(c.header_timeout_us, 5000000);
	assert_int_equal(c.idle_timeout_secs, 60);
	assert_int_equal(c.http_threads, 4);
	assert_int_equal(c.db_readers, 8);
	assert_string_equal(c.log_level, "info");
	config_release(&c);
}

static void test_env(void **state)
{
	UNUSED(state);
	setenv("PORT", "9000", 1);
	setenv("DATABASE_URL", "/tmp/a.db", 1);
	setenv("WEFT_DURABILITY", "normal", 1);
	setenv("PAGINATION_DEFAULT", "20", 1);
	setenv("PAYLOAD_MAX_BYTES", "1048576", 1);
	setenv("DEAD_END_CANCEL_ENABLED", "no", 1);
	setenv("SKIP_SSRF_VALIDATION", "TRUE", 1);
	setenv("WEFT_LOG", "debug", 1);
	setenv("HTTP_THREADS", "", 1);   /* empty counts as unset */
	weft_config c;
	assert_int_equal(LOAD0(&c), 0);
	assert_int_equal(c.port, 9000);
	assert_string_equal(c.host_url, "http://localhost:9000");   /* follows the port */
	assert_string_equal(c.db_url, "/tmp/a.db");
	assert_false(c.sync_full);
	assert_int_equal(c.pagination_default, 20);
	assert_int_equal(c.payload_max_bytes, 1048576);
	assert_false(c.dead_end_cancel);
	assert_true(c.ssrf.skip);
	assert_string_equal(c.log_level, "debug");
	assert_int_equal(c.http_threads, 4);
	config_release(&c);
}

static void test_flags_override_env(void **state)
{
	UNUSED(state);
	setenv("PORT", "9000", 1);
	setenv("HOST_URL", "https://env.example.com", 1);
	setenv("DATABASE_URL", "/tmp/env.db", 1);
	setenv("WEFT_DURABILITY", "normal", 1);
	weft_config c;
	assert_int_equal(LOAD(&c, "--port", "9100", "--db=/tmp/flag.db", "--host",
	                      "http://flag.example.com:9100/", "--durability", "full"), 0);
	assert_int_equal(c.port, 9100);
	assert_string_equal(c.db_url, "/tmp/flag.db");
	assert_string_equal(c.host_url, "http://flag.example.com:9100");   /* trailing '/' dropped */
	assert_true(c.sync_full);
	config_release(&c);

	/* without the flags, the environment applies */
	assert_int_equal(LOAD0(&c), 0);
	assert_int_equal(c.port, 9000);
	assert_string_equal(c.host_url, "https://env.example.com");
	assert_string_equal(c.db_url, "/tmp/env.db");
	assert_false(c.sync_full);
	config_release(&c);
}

static void test_env_name_precedence(void **state)
{
	UNUSED(state);
	setenv("DATABASE_URL", "/tmp/database_url.db", 1);
	setenv("WEFT_DB", "/tmp/weft_db.db", 1);
	setenv("RUST_LOG", "warn", 1);
	setenv("WEFT_LOG", "error", 1);
	weft_config c;
	assert_int_equal(LOAD0(&c), 0);
	assert_string_equal(c.db_url, "/tmp/weft_db.db");
	assert_string_equal(c.log_level, "error");
	config_release(&c);
}

static void test_rust_log_filters(void **state)
{
	UNUSED(state);
	weft_config c;
	setenv("RUST_LOG", "info,hyper=warn", 1);
	assert_int_equal(LOAD0(&c), 0);
	assert_string_equal(c.log_level, "info");
	config_release(&c);
	setenv("RUST_LOG", "arcrun=debug", 1);
	assert_int_equal(LOAD0(&c), 0);
	assert_string_equal(c.log_level, "debug");
	config_release(&c);
	/* ArcRun deployments may carry filters weft cannot read: not fatal */
	setenv("RUST_LOG", "tower_http", 1);
	assert_int_equal(LOAD0_ERR(&c), 0);
	assert_string_equal(c.log_level, "info");
	assert_non_null(strstr(errbuf, "RUST_LOG"));
	config_release(&c);
	/* but WEFT_LOG is strict */
	setenv("WEFT_LOG", "loud", 1);
	assert_int_equal(LOAD0_ERR(&c), -1);
	assert_string_equal(errbuf, "weft: invalid value for WEFT_LOG: 'loud' (expected error, warn, info or debug)\n");
}

static void test_invalid_numbers(void **state)
{
	UNUSED(state);
	weft_config c;
	setenv("PORT", "abc", 1);
	assert_int_equal(LOAD0_ERR(&c), -1);
	assert_string_equal(errbuf, "weft: invalid value for PORT: 'abc' (expected an integer 1..65535)\n");

	static const char *const bad_ports[] = { "0", "65536", "80x", " 80", "-1", "+80", "1e3",
	                                         "99999999999999999999999" };
	for (size_t i = 0; i < ARRAY_LEN(bad_ports); i++) {
		setenv("PORT", bad_ports[i], 1);
		if (LOAD0_ERR(&c) != -1)
			fail_msg("PORT='%s' accepted", bad_ports[i]);
		assert_non_null(strstr(errbuf, "PORT"));
	}
	unsetenv("PORT");

	assert_int_equal(LOAD_ERR(&c, "--port", "http"), -1);
	assert_string_equal(errbuf, "weft: invalid value for --port: 'http' (expected an integer 1..65535)\n");

	setenv("MAX_TASKS_PER_BATCH", "0", 1);
	assert_int_equal(LOAD0_ERR(&c), -1);
	assert_non_null(strstr(errbuf, "MAX_TASKS_PER_BATCH: '0'"));
	unsetenv("MAX_TASKS_PER_BATCH");

	setenv("WORKER_CLAIM_TIMEOUT_SECS", "-5", 1);
	assert_int_equal(LOAD0_ERR(&c), -1);
	unsetenv("WORKER_CLAIM_TIMEOUT_SECS");

	/* PAGINATION_DEFAULT may not exceed PAGINATION_MAX */
	setenv("PAGINATION_DEFAULT", "200", 1);
	assert_int_equal(LOAD0_ERR(&c), -1);
	assert_non_null(strstr(errbuf, "PAGINATION_MAX"));
	setenv("PAGINATION_MAX", "500", 1);
	assert_int_equal(LOAD0(&c), 0);
	assert_int_equal(c.pagination_default, 200);
	config_release(&c);
}

static void test_invalid_other_values(void **state)
{
	UNUSED(state);
	weft_config c;
	setenv("DEAD_END_CANCEL_ENABLED", "maybe", 1);
	assert_int_equal(LOAD0_ERR(&c), -1);
	assert_string_equal(errbuf, "weft: invalid value for DEAD_END_CANCEL_ENABLED: 'maybe' "
	                            "(expected 1/0, true/false or yes/no)\n");
	unsetenv("DEAD_END_CANCEL_ENABLED");

	static const char *const bad_hosts[] = { "ftp://x.example.com", "localhost:8085", "http://",
	                                         "https:///" };
	for (size_t i = 0; i < ARRAY_LEN(bad_hosts); i++) {
		setenv("HOST_URL", bad_hosts[i], 1);
		if (LOAD0_ERR(&c) != -1)
			fail_msg("HOST_URL='%s' accepted", bad_hosts[i]);
		assert_non_null(strstr(errbuf, "HOST_URL"));
	}
	unsetenv("HOST_URL");

	assert_int_equal(LOAD_ERR(&c, "--durability", "fast"), -1);
	assert_non_null(strstr(errbuf, "--durability: 'fast'"));
	assert_int_equal(LOAD_ERR(&c, "--db", ""), -1);
	assert_non_null(strstr(errbuf, "--db"));
}

static void test_bad_command_lines(void **state)
{
	UNUSED(state);
	weft_config c;
	assert_int_equal(LOAD_ERR(&c, "--nope"), -1);
	assert_non_null(strstr(errbuf, "unknown option '--nope'"));
	assert_int_equal(LOAD_ERR(&c, "--nope=1"), -1);
	assert_non_null(strstr(errbuf, "unknown option '--nope'"));
	assert_int_equal(LOAD_ERR(&c, "--port"), -1);
	assert_non_null(strstr(errbuf, "--port needs a value"));
	assert_int_equal(LOAD_ERR(&c, "extra"), -1);
	assert_non_null(strstr(errbuf, "unexpected argument 'extra'"));
	assert_int_equal(LOAD_ERR(&c, "-p", "80"), -1);
	/* after a failed load the struct is already released; releasing again is harmless */
	config_release(&c);
}

static void test_ssrf_lists(void **state)
{
	UNUSED(state);
	weft_config c;
	assert_int_equal(LOAD0(&c), 0);
	size_t hosts = c.ssrf.nblocked_hosts, suffixes = c.ssrf.nblocked_suffixes;
	config_release(&c);

	setenv("BLOCKED_HOSTNAMES", "Foo.example.com, bar.example.com", 1);
	setenv("BLOCKED_HOSTNAME_SUFFIXES", ".corp", 1);
	assert_int_equal(LOAD0(&c), 0);
	assert_int_equal(c.ssrf.nblocked_hosts, hosts + 2);
	assert_int_equal(c.ssrf.nblocked_suffixes, suffixes + 1);
	bool found = false;
	for (size_t i = 0; i < c.ssrf.nblocked_hosts; i++)
		found = found || strcmp(c.ssrf.blocked_hosts[i], "foo.example.com") == 0;
	assert_true(found);
	config_release(&c);
}

/* Exec is off by default; --allow-exec is a switch (no value), and the
 * allow-list matches argv[0] exactly, entry by entry. */
static void test_exec_settings(void **state)
{
	UNUSED(state);
	weft_config c;
	assert_int_equal(LOAD0(&c), 0);
	assert_false(c.allow_exec);
	assert_null(c.exec_allow);
	assert_int_equal(c.exec_concurrency, 8);
	assert_int_equal(c.exec_kill_grace_ms, 5000);
	assert_string_equal(c.node_id + strlen(c.node_id) - 5, ":8085");
	assert_true(config_exec_allowed(&c, "/anything"));
	config_release(&c);

	assert_int_equal(LOAD(&c, "--allow-exec", "--port", "9000"), 0);
	assert_true(c.allow_exec);
	assert_int_equal(c.port, 9000);
	config_release(&c);

	setenv("WEFT_ALLOW_EXEC", "1", 1);
	setenv("EXEC_ALLOW", "/bin/echo:true", 1);
	setenv("WEFT_NODE_ID", "node-7", 1);
	assert_int_equal(LOAD0(&c), 0);
	assert_true(c.allow_exec);
	assert_string_equal(c.node_id, "node-7");
	assert_true(config_exec_allowed(&c, "/bin/echo"));
	assert_true(config_exec_allowed(&c, "true"));
	assert_false(config_exec_allowed(&c, "/bin/true"));
	assert_false(config_exec_allowed(&c, "/bin/ech"));
	assert_false(config_exec_allowed(&c, "echo"));
	assert_false(config_exec_allowed(&c, ""));
	config_release(&c);
	assert_int_equal(LOAD(&c, "--allow-exec=0"), 0);
	assert_false(c.allow_exec);
	config_release(&c);
	unsetenv("WEFT_ALLOW_EXEC");
	unsetenv("EXEC_ALLOW");
	unsetenv("WEFT_NODE_ID");
}

/* The web UI's directory: unset means the copy built in; a path that is
 * not a directory stops the start, naming the setting. */
static void test_ui_dir(void **state)
{
	UNUSED(state);
	weft_config c;
	assert_int_equal(LOAD0(&c), 0);
	assert_null(c.ui_dir);
	config_release(&c);

	char dir[] = "/tmp/weft-ui-XXXXXX";
	assert_non_null(mkdtemp(dir));
	assert_int_equal(LOAD(&c, "--ui-dir", dir), 0);
	assert_string_equal(c.ui_dir, dir);
	config_release(&c);
	setenv("WEFT_UI_DIR", dir, 1);
	assert_int_equal(LOAD0(&c), 0);
	assert_string_equal(c.ui_dir, dir);
	config_release(&c);
	assert_int_equal(LOAD(&c, "--ui-dir", "/"), 0);   /* the flag wins */
	assert_string_equal(c.ui_dir, "/");
	config_release(&c);
	unsetenv("WEFT_UI_DIR");

	char file[sizeof dir + 16];
	snprintf(file, sizeof file, "%s/index.html", dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(LOAD_ERR(&c, "--ui-dir", file), -1);
	assert_non_null(strstr(errbuf, "--ui-dir"));
	assert_non_null(strstr(errbuf, "an existing directory"));
	setenv("WEFT_UI_DIR", "/nonexistent/weft-ui", 1);
	assert_int_equal(LOAD0_ERR(&c), -1);
	assert_non_null(strstr(errbuf, "WEFT_UI_DIR"));
	unsetenv("WEFT_UI_DIR");
	unlink(file);
	rmdir(dir);
}

static void test_help(void **state)
{
	UNUSED(state);
	weft_config c;
	FILE *saved = stdout;
	char *text = NULL;
	size_t len = 0;
	stdout = open_memstream(&text, &len);
	int rc = LOAD(&c, "--port", "1", "-h");
	fclose(stdout);
	stdout = saved;
	assert_int_equal(rc, 1);

	/* every flag and variable, with its default */
	static const char *const must[] = { "--db URL", "--port N", "--host URL", "--durability MODE",
	                                    "--help", "./weft.db", "8085", "http://localhost:PORT",
	                                    "2097152", "100000" };
	for (size_t i = 0; i < ARRAY_LEN(must); i++)
		if (!strstr(text, must[i]))
			fail_msg("help lacks '%s'", must[i]);
	for (size_t i = 0; i < ARRAY_LEN(env_names); i++)
		if (!strstr(text, env_names[i]))
			fail_msg("help lacks '%s'", env_names[i]);

	/* aligned: the ENVIRONMENT column starts at the same offset on every row */
	const char *hdr = strstr(text, "FLAG");
	assert_non_null(hdr);
	const char *line_start = hdr - 2;
	long col = strstr(line_start, "ENVIRONMENT") - line_start;
	const char *pagination = strstr(text, "PAGINATION_MAX");
	const char *bol = pagination;
	while (bol > text && bol[-1] != '\n')
		bol--;
	assert_int_equal(pagination - bol, col);
	free(text);

	/* config_print_help itself */
	text = NULL;
	FILE *m = open_memstream(&text, &len);
	config_print_help(m);
	fclose(m);
	assert_non_null(strstr(text, "Usage: weft serve"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, clean_env),
		cmocka_unit_test_setup(test_env, clean_env),
		cmocka_unit_test_setup(test_flags_override_env, clean_env),
		cmocka_unit_test_setup(test_env_name_precedence, clean_env),
		cmocka_unit_test_setup(test_rust_log_filters, clean_env),
		cmocka_unit_test_setup(test_invalid_numbers, clean_env),
		cmocka_unit_test_setup(test_invalid_other_values, clean_env),
		cmocka_unit_test_setup(test_bad_command_lines, clean_env),
		cmocka_unit_test_setup(test_ssrf_lists, clean_env),
		cmocka_unit_test_setup(test_exec_settings, clean_env),
		cmocka_unit_test_setup(test_ui_dir, clean_env),
		cmocka_unit_test_setup(test_help, clean_env),
	};
	return cmocka_run_group_tests_name("config", tests, clean_env, NULL) ? 1 : 0;
}
