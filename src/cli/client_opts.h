/*
 * client_opts.h — what the client commands (`weft enqueue`, `weft worker`)
 * share: the server options, the exit codes, calling the /v1 API with
 * errors that say what to do, and option parsing helpers.
 */
#ifndef WEFT_CLI_CLIENT_OPTS_H
#define WEFT_CLI_CLIENT_OPTS_H

#include "util/common.h"
#include "client/http_client.h"
#include <jansson.h>

/* Exit codes of the client commands. */
enum {
	CLI_EXIT_OK = 0,            /* done, or drained */
	CLI_EXIT_SERVER = 1,        /* the server answered with an error */
	CLI_EXIT_USAGE = 2,         /* bad usage or bad input */
	CLI_EXIT_AUTH = 3,          /* 401 or 403 */
	CLI_EXIT_UNREACHABLE = 4,   /* no answer from the server */
};

#define CLI_DEFAULT_URL "http://localhost:8085"

typedef struct cli_client_opts {
	const char *url;         /* --url, WEFT_URL, or CLI_DEFAULT_URL */
	const char *token;       /* --token, WEFT_TOKEN, or NULL */
	const char *ns;          /* --namespace, WEFT_NAMESPACE, or NULL (the server's default) */
} cli_client_opts;

/* The help lines of the three options. */
extern const char CLI_CLIENT_OPTS_HELP[];

/* Defaults from the environment. */
void cli_client_opts_init(cli_client_opts *o);

/* Whether argv[*i] is option name, as "--name VALUE" or "--name=VALUE": 1
 * with its value in *val (*i moved past it), 0 when it is not, -1 when the
 * value is missing (message printed, prefixed by prog). */
int cli_opt_value(const char *prog, int argc, char **argv, int *i, const char *name, const char **val);

/* Takes argv[*i] when it is --url, --token or --namespace: 1 taken, 0 not
 * one of them, -1 bad (message printed). */
int cli_client_opt(const char *prog, int argc, char **argv, int *i, cli_client_opts *o);

/* A client for o's server; NULL with a message when the URL is unusable. */
http_client *cli_client_new(const char *prog, const cli_client_opts *o, long timeout_ms);

/* Parses a decimal integer in [lo, hi]; -1 with a message naming the option. */
int cli_parse_i64(const char *prog, const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out);
/* Parses a duration: a number with a unit, "500ms", "30s", "5m", "2h"; a
 * bare number is seconds. Fractions are allowed ("1.5s"). Microseconds in
 * [lo_us, hi_us], or -1 with a message naming the option. */
int cli_parse_duration(const char *prog, const char *opt, const char *s, int64_t lo_us, int64_t hi_us, int64_t *out);

/* POSTs body (JSON text) to path. On a 2xx answer with a JSON body: 0 and
 * *answer (a new reference). Otherwise a CLI_EXIT_* code with a message in
 * err that says what went wrong and what to do: the server cannot be
 * reached (naming the URL), a token is needed or refused, the server's
 * own error (code, message and details). *status gets the HTTP status (0
 * without an answer; may be NULL). */
int cli_post(http_client *c, const cli_client_opts *o, const char *path, const char *body, size_t body_len,
             json_t **answer, long *status, char *err, size_t errlen);

/* Whether a cli_post failure may pass by itself (unreachable, 5xx, 429),
 * so that a long-running command should retry rather than stop. */
bool cli_retryable(int code, long status);

#endif
