/*
 * decode_exec.h — the "exec" member of a run's task with "executor":
 * "exec" (a local child process, exec/process_executor.c):
 *
 *   "exec": {"argv": ["/usr/bin/prog", "arg", ...],   1..256 strings
 *            "env": {"NAME": "value", ...},            additions, at most 64
 *            "cwd": "/abs/dir",                        optional
 *            "timeout_secs": 30}                       optional, 1..86400; default:
                                                      the task's timeout_secs, else 3600
 *
 * and the task's "input" (any JSON, the child's stdin). argv is never
 * given to a shell. The server must run with --allow-exec, and argv[0]
 * must be on its allow-list (EXEC_ALLOW) when it has one: both are
 * checked here, at submit.
 */
#ifndef WEFT_HTTP_V1_DECODE_EXEC_H
#define WEFT_HTTP_V1_DECODE_EXEC_H

#include "util/common.h"
#include "util/json.h"
#include "config.h"
#include "http/http.h"

#define EXEC_ARGV_MAX 256
#define EXEC_ARG_MAX 4096
#define EXEC_ENV_MAX 64
#define EXEC_ENV_NAME_MAX 128
#define EXEC_ENV_VALUE_MAX 4096
#define EXEC_CWD_MAX 4096
#define EXEC_TIMEOUT_DEFAULT 3600    /* seconds, without exec.timeout_secs or the task's timeout_secs */

/* The task t's exec spec as the compact JSON the executor reads
 * ({"argv", "env", "cwd", "timeout_secs", "input"}; owned), or NULL after
 * recording every problem under at (a size past its limit sets
 * *too_large). */
char *v1_decode_exec_spec(http_error *e, const weft_config *cfg, const json_t *t, const char *at,
                          int64_t default_timeout_secs, bool *too_large);

#endif
