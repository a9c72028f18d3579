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
	CLI_EXIT_NOT_FOUND = 5,     /* 404: no such task, run, queue, worker or token */
	CLI_EXIT_CONFLICT = 6,      /* 409: the object's state does not allow the request */
	/* `weft step` and `weft sleep`: the workflow run is suspended (a sleep,
	 * a step's retry backoff) and this attempt is over; `weft worker`
	 * reports nothing for a job whose command exits with it. */
	CLI_EXIT_SUSPENDED = 75,
};

/* The exit codes as help text (one line each). */
extern const char CLI_EXIT_CODES_HELP[];

#define CLI_DEFAULT_URL "http://localhost:8085"

/* Each field is taken from its flag, else its environment variable, else
 * the config file's profile (cli/profile.h), else the built-in default. */
typedef struct cli_client_opts {
	const char *url;         /* --url, WEFT_URL, profile url, or CLI_DEFAULT_URL */
	const char *token;       /* --token, WEFT_TOKEN, profile token, or NULL */
	const char *ns;          /* --namespace, WEFT_NAMESPACE, profile namespace, or NULL (the server's default) */
	const char *profile;     /* --profile, WEFT_PROFILE, or NULL ("default") */
	bool resolved;           /* the profile has been applied */
} cli_client_opts;

/* The help lines of the four options. */
extern const char CLI_CLIENT_OPTS_HELP[];

/* Values from the environment; the rest is filled from the config file
 * by cli_client_opts_resolve (cli_client_new calls it). */
void cli_client_opts_init(cli_client_opts *o);
/* Fills what neither a flag nor the environment set from the config
 * file's profile, then the defaults: 0, or CLI_EXIT_USAGE with a message
 * (a bad config line, an unknown profile). Runs once per o; the profile's
 * strings are kept for the life of the process (one command, one
 * profile), so o needs no release. Not thread-safe: resolve before
 * starting threads that make clients. */
int cli_client_opts_resolve(const char *prog, cli_client_opts *o);

/* Whether argv[*i] is option name, as "--name VALUE" or "--name=VALUE": 1
 * with its value in *val (*i moved past it), 0 when it is not, -1 when the
 * value is missing (message printed, prefixed by prog). */
int cli_opt_value(const char *prog, int argc, char **argv, int *i, const char *name, const char **val);

/* Takes argv[*i] when it is --url, --token, --namespace or --profile: 1 taken, 0 not
 * one of them, -1 bad (message printed). */
int cli_client_opt(const char *prog, int argc, char **argv, int *i, cli_client_opts *o);

/* A client for o's server (o resolved first); NULL with a message when the
 * configuration or the URL is unusable. */
http_client *cli_client_new(const char *prog, cli_client_opts *o, long timeout_ms);

/* Parses a decimal integer in [lo, hi]; -1 with a message naming the option. */
int cli_parse_i64(const char *prog, const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out);
/* Parses a duration: a number with a unit, "500ms", "30s", "5m", "2h", "3d"; a
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
/* cli_post with any method (GET and DELETE send no body: NULL, 0). A 404
 * gives CLI_EXIT_NOT_FOUND naming the path; a 409 gives CLI_EXIT_CONFLICT
 * with the object's current_status when the server names it. */
int cli_request(http_client *c, const cli_client_opts *o, const char *method, const char *path, const char *body,
                size_t body_len, json_t **answer, long *status, char *err, size_t errlen);
/* What some calls add to cli_request: request headers (an
 * Idempotency-Key), and whether the answer was a replay. */
typedef struct cli_call_extra {
	const char *const *headers;   /* "Name: value" lines, NULL-terminated, or NULL */
	bool replayed;                /* out: a 2xx answer with Idempotent-Replayed: true */
} cli_call_extra;
/* cli_request with extra (may be NULL). */
int cli_request_ex(http_client *c, const cli_client_opts *o, const char *method, const char *path, const char *body,
                   size_t body_len, cli_call_extra *extra, json_t **answer, long *status, char *err, size_t errlen);
int cli_get(http_client *c, const cli_client_opts *o, const char *path, json_t **answer, char *err, size_t errlen);
int cli_delete(http_client *c, const cli_client_opts *o, const char *path, json_t **answer, char *err, size_t errlen);

/* Whether a cli_post failure may pass by itself (unreachable, 5xx, 429),
 * so that a long-running command should retry rather than stop. */
bool cli_retryable(int code, long status);

#endif
