/*
 * decode_exec.c — an exec task's spec (see decode_exec.h).
 */
#include "util/common.h"
#include "http/v1/decode_exec.h"

#include "core/limits.h"
#include "http/decode.h"
#include "util/alloc.h"

/* A string of 1..max bytes without NUL (execve would cut it there). */
static bool plain_string(http_error *e, const json_t *s, const char *path, size_t max, bool *too_large)
{
	if (!json_is_string(s)) {
		decode_type_error(e, path, "a string", s);
		return false;
	}
	size_t len = json_string_length(s);
	if (len == 0 || len > max) {
		decode_problem(e, path, NULL, "must be 1 to %zu bytes, is %zu", max, len);
		*too_large |= len > max;
		return false;
	}
	if (strlen(json_string_value(s)) != len) {
		decode_problem(e, path, NULL, "must not contain a NUL character");
		return false;
	}
	return true;
}

static bool env_name_valid(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static void decode_argv(http_error *e, const weft_config *cfg, const json_t *spec, const char *at, bool *too_large)
{
	json_t *argv = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_array(e, spec, at, "argv", DECODE_REQUIRED, &argv, path) != 0 || argv == NULL)
		return;
	size_t n = json_array_size(argv);
	if (n == 0 || n > EXEC_ARGV_MAX) {
		decode_problem(e, at, "argv", "must have 1 to %d items (the program, then its arguments), has %zu",
		               EXEC_ARGV_MAX, n);
		*too_large |= n > EXEC_ARGV_MAX;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char ipath[DECODE_PATH_MAX];
		decode_path_index(ipath, path, i);
		plain_string(e, json_array_get(argv, i), ipath, EXEC_ARG_MAX, too_large);
	}
	const char *prog = json_string_value(json_array_get(argv, 0));
	if (prog != NULL && !config_exec_allowed(cfg, prog)) {
		char ipath[DECODE_PATH_MAX];
		decode_path_index(ipath, path, 0);
		decode_problem(e, ipath, NULL, "'%s' is not on this server's list of allowed programs (EXEC_ALLOW)",
		               prog);
	}
}

static void decode_env(http_error *e, const json_t *spec, const char *at, bool *too_large)
{
	json_t *env = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_object(e, spec, at, "env", 0, &env, path) != 0 || env == NULL)
		return;
	if (json_object_size(env) > EXEC_ENV_MAX) {
		decode_problem(e, at, "env", "must have at most %d variables, has %zu", EXEC_ENV_MAX,
		               json_object_size(env));
		*too_large = true;
		return;
	}
	const char *name;
	json_t *value;
	json_object_foreach(env, name, value) {
		char vpath[DECODE_PATH_MAX];
		decode_path(vpath, path, name);
		if (strlen(name) > EXEC_ENV_NAME_MAX || !env_name_valid(name))
			decode_problem(e, path, NULL, "variable name '%.64s' must match [A-Za-z_][A-Za-z0-9_]{0,%d}", name,
			               EXEC_ENV_NAME_MAX - 1);
		else if (!json_is_string(value))
			decode_type_error(e, vpath, "a string", value);
		else if (json_string_length(value) > EXEC_ENV_VALUE_MAX ||
		         strlen(json_string_value(value)) != json_string_length(value)) {
			decode_problem(e, vpath, NULL, "must be at most %d bytes without NUL", EXEC_ENV_VALUE_MAX);
			*too_large |= json_string_length(value) > EXEC_ENV_VALUE_MAX;
		}
	}
}

char *v1_decode_exec_spec(http_error *e, const weft_config *cfg, const json_t *t, const char *at,
                          int64_t default_timeout_secs, bool *too_large)
{
	size_t before = e->details.len;
	if (!cfg->allow_exec) {
		decode_problem(e, at, "executor",
		               "\"exec\" runs programs on the server, which was not started with --allow-exec "
		               "(WEFT_ALLOW_EXEC=1)");
		return NULL;
	}
	json_t *spec = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_object(e, t, at, "exec", DECODE_REQUIRED, &spec, path) != 0 || spec == NULL)
		return NULL;
	static const char *const known[] = { "argv", "env", "cwd", "timeout_secs", NULL };
	decode_unknown_members(e, spec, path, known);
	decode_argv(e, cfg, spec, path, too_large);
	decode_env(e, spec, path, too_large);
	json_t *cwd = json_object_get(spec, "cwd");
	if (cwd != NULL) {
		char cpath[DECODE_PATH_MAX];
		decode_path(cpath, path, "cwd");
		if (plain_string(e, cwd, cpath, EXEC_CWD_MAX, too_large) && json_string_value(cwd)[0] != '/')
			decode_problem(e, cpath, NULL, "must be an absolute path");
	}
	int64_t timeout = 0;
	bool has = false;
	if (decode_int(e, spec, path, "timeout_secs", 0, &timeout, &has) == 0 && has &&
	    (timeout < TASK_TIMEOUT_MIN || timeout > TASK_TIMEOUT_MAX))
		decode_problem(e, path, "timeout_secs", "must be from %d to %d", TASK_TIMEOUT_MIN, TASK_TIMEOUT_MAX);
	json_t *input = json_object_get(t, "input");
	char *input_text = json_dump_compact(input != NULL ? input : json_null());
	if (strlen(input_text) > JOB_PAYLOAD_MAX_BYTES) {
		decode_problem(e, at, "input", "is %zu bytes of JSON; the limit is %d", strlen(input_text),
		               JOB_PAYLOAD_MAX_BYTES);
		*too_large = true;
	}
	free(input_text);
	if (e->details.len != before)
		return NULL;
	json_t *out = json_deep_copy(spec);
	if (!has)
		json_object_set_new(out, "timeout_secs", json_integer(default_timeout_secs));
	json_object_set(out, "input", input != NULL ? input : json_null());
	char *text = json_dump_compact(out);
	json_decref(out);
	return text;
}
