/*
 * client_opts.c — the server options, exit codes and API calls the client
 * commands share (see client_opts.h).
 */
#include "cli/client_opts.h"
#include "cli/profile.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"

#include <errno.h>
#include <math.h>

const char CLI_CLIENT_OPTS_HELP[] =
	"  --url URL                the weft server (default $WEFT_URL, else the profile's url,\n"
	"                           else " CLI_DEFAULT_URL ")\n"
	"  --token TOKEN            bearer token (default $WEFT_TOKEN, else the profile's token)\n"
	"  --namespace NS           namespace (default $WEFT_NAMESPACE, else the profile's, else\n"
	"                           the token's only one, else default)\n"
	"  --profile NAME           the config file's [profile NAME] (default $WEFT_PROFILE,\n"
	"                           else [default]); flags beat the environment, which beats\n"
	"                           the profile\n";

const char CLI_EXIT_CODES_HELP[] =
	"  0  done\n"
	"  1  the server answered with an error (5xx, or one not listed here)\n"
	"  2  bad usage, bad input, or a request the server refused as invalid (400, 413, 422)\n"
	"  3  authentication: no token, a refused token (401), or one without access (403)\n"
	"  4  the server could not be reached\n"
	"  5  not found (404): no such task, run, queue, worker, dead letter or token\n"
	"  6  conflict (409): the object's state does not allow the request\n"
	"  7, 8, 9  weft submit --wait: the run failed, was canceled, or is still active at\n"
	"           --wait-timeout\n"
	"  75 weft step, weft sleep: the workflow run is suspended; the script should stop\n";

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

void cli_client_opts_init(cli_client_opts *o)
{
	*o = (cli_client_opts){ 0 };
	o->url = env_or("WEFT_URL", NULL);
	o->token = env_or("WEFT_TOKEN", NULL);
	o->ns = env_or("WEFT_NAMESPACE", NULL);
	o->profile = env_or("WEFT_PROFILE", NULL);
}

/* The profile read for this process, kept to its end (see resolve). */
static cli_profile *loaded_profile;
static const char *loaded_name;

int cli_client_opts_resolve(const char *prog, cli_client_opts *o)
{
	if (o->resolved)
		return 0;
	const char *name = o->profile ? o->profile : "";
	if (!loaded_name || strcmp(loaded_name, name) != 0) {
		cli_profile *p = NULL;
		if (cli_profile_load(prog, o->profile, &p) != 0)
			return CLI_EXIT_USAGE;
		cli_profile_free(loaded_profile);
		loaded_profile = p;
		loaded_name = name;
	}
	o->resolved = true;
	const cli_profile *p = loaded_profile;
	if (p) {
		if (!o->url)
			o->url = p->url;
		if (!o->token)
			o->token = p->token;
		if (!o->ns)
			o->ns = p->ns;
	}
	if (!o->url)
		o->url = CLI_DEFAULT_URL;
	return 0;
}

int cli_opt_value(const char *prog, int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t nl = strlen(name);
	if (strncmp(a, name, nl) != 0 || (a[nl] != '=' && a[nl] != '\0'))
		return 0;
	if (a[nl] == '=') {
		*val = a + nl + 1;
		return 1;
	}
	if (*i + 1 >= argc) {
		fprintf(stderr, "%s: %s needs a value\n", prog, name);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

int cli_client_opt(const char *prog, int argc, char **argv, int *i, cli_client_opts *o)
{
	static const char *const names[] = { "--url", "--token", "--namespace", "--profile" };
	const char **fields[] = { &o->url, &o->token, &o->ns, &o->profile };
	for (size_t k = 0; k < ARRAY_LEN(names); k++) {
		const char *v;
		int r = cli_opt_value(prog, argc, argv, i, names[k], &v);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		if (!*v) {
			fprintf(stderr, "%s: %s needs a value\n", prog, names[k]);
			return -1;
		}
		*fields[k] = v;
		return 1;
	}
	return 0;
}

http_client *cli_client_new(const char *prog, cli_client_opts *o, long timeout_ms)
{
	if (cli_client_opts_resolve(prog, o) != 0)
		return NULL;
	http_client_options hopt = { .base_url = o->url, .token = o->token, .timeout_ms = timeout_ms };
	http_client *c = http_client_new(&hopt);
	if (!c)
		fprintf(stderr, "%s: --url must start with http:// or https://, got '%s'\n", prog, o->url);
	return c;
}

int cli_parse_i64(const char *prog, const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || errno != 0 || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "%s: %s needs an integer in [%" PRId64 ", %" PRId64 "], got '%s'\n", prog, opt, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* "500ms", "30s", "5m", "2h" or "366d": the largest unit that divides it. */
static void format_duration(int64_t us, char *out, size_t n)
{
	static const struct {
		const char *unit;
		int64_t us;
	} units[] = { { "d", INT64_C(86400000000) }, { "h", INT64_C(3600000000) }, { "m", 60000000 }, { "s", 1000000 },
		      { "ms", 1000 } };
	for (size_t i = 0; i < ARRAY_LEN(units); i++) {
		if (us >= units[i].us && us % units[i].us == 0) {
			snprintf(out, n, "%" PRId64 "%s", us / units[i].us, units[i].unit);
			return;
		}
	}
	snprintf(out, n, us == 0 ? "0s" : "%" PRId64 "us", us);
}

int cli_parse_duration(const char *prog, const char *opt, const char *s, int64_t lo_us, int64_t hi_us, int64_t *out)
{
	static const struct {
		const char *unit;
		double us;
	} units[] = { { "ms", 1e3 }, { "s", 1e6 }, { "m", 60e6 }, { "h", 3600e6 }, { "d", 86400e6 }, { "", 1e6 } };
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	bool ok = *s && end != s && errno == 0 && isfinite(v) && v >= 0;
	double us = -1;
	for (size_t i = 0; ok && i < ARRAY_LEN(units); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			us = v * units[i].us;
			break;
		}
	}
	if (us < (double)lo_us || us > (double)hi_us) {
		char lo[32], hi[32];
		format_duration(lo_us, lo, sizeof(lo));
		format_duration(hi_us, hi, sizeof(hi));
		fprintf(stderr, "%s: %s needs a duration such as 500ms, 30s or 5m, from %s to %s; got '%s'\n", prog, opt, lo,
		        hi, s);
		return -1;
	}
	*out = (int64_t)llround(us);
	return 0;
}

/* "code: message (detail; detail)" from a /v1 error body, or the start of
 * the body when it is not one. */
static void server_error(const http_response *r, buf *out)
{
	json_t *body = json_loadb(r->body.data, r->body.len, 0, NULL);
	json_t *e = json_object_get(body, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (code || msg) {
		buf_printf(out, "%s%s%s", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
		json_t *details = json_object_get(e, "details");
		for (size_t i = 0; i < json_array_size(details) && i < 10; i++) {
			const char *d = json_string_value(json_array_get(details, i));
			if (d)
				buf_printf(out, "%s%s", i ? "; " : " (", d);
		}
		if (json_array_size(details))
			buf_putc(out, ')');
	} else {
		buf_printf(out, "%.200s", r->body.len ? r->body.data : "(no body)");
	}
	json_decref(body);
}

/* The current_status of a 409's error, or NULL; borrowed from body. */
static const char *current_status(json_t *body)
{
	return json_string_value(json_object_get(json_object_get(body, "error"), "current_status"));
}

int cli_post(http_client *c, const cli_client_opts *o, const char *path, const char *body, size_t body_len,
             json_t **answer, long *status, char *err, size_t errlen)
{
	return cli_request(c, o, "POST", path, body, body_len, answer, status, err, errlen);
}

int cli_get(http_client *c, const cli_client_opts *o, const char *path, json_t **answer, char *err, size_t errlen)
{
	return cli_request(c, o, "GET", path, NULL, 0, answer, NULL, err, errlen);
}

int cli_delete(http_client *c, const cli_client_opts *o, const char *path, json_t **answer, char *err, size_t errlen)
{
	return cli_request(c, o, "DELETE", path, NULL, 0, answer, NULL, err, errlen);
}

int cli_request(http_client *c, const cli_client_opts *o, const char *method, const char *path, const char *body,
                size_t body_len, json_t **answer, long *status, char *err, size_t errlen)
{
	return cli_request_ex(c, o, method, path, body, body_len, NULL, answer, status, err, errlen);
}

int cli_request_ex(http_client *c, const cli_client_opts *o, const char *method, const char *path, const char *body,
                   size_t body_len, cli_call_extra *extra, json_t **answer, long *status, char *err, size_t errlen)
{
	*answer = NULL;
	if (status)
		*status = 0;
	http_response r;
	http_response_init(&r);
	int rc = http_client_request(c, method, path, body, body_len, extra ? extra->headers : NULL, &r);
	int code = CLI_EXIT_OK;
	buf msg;
	buf_init(&msg);
	if (rc == HTTP_CLIENT_ECONNECT) {
		buf_printf(&msg, "cannot reach the weft server at %s (%s): is `weft serve` running there? "
		                 "Point --url or WEFT_URL at it",
		           o->url, r.error);
		code = CLI_EXIT_UNREACHABLE;
	} else if (rc != 0) {
		buf_printf(&msg, "no answer from the weft server at %s: %s", o->url, r.error);
		code = CLI_EXIT_UNREACHABLE;
	} else if (status) {
		*status = r.status;
	}
	if (rc == 0 && r.status >= 200 && r.status < 300) {
		const char *replayed = http_response_header(&r, "Idempotent-Replayed");
		if (extra)
			extra->replayed = replayed && strcmp(replayed, "true") == 0;
		char perr[160];
		/* 204 No Content (a delete): nothing to parse, the answer is null. */
		*answer = r.status == 204 ? json_null()
		                          : json_parse_body(r.body.data, r.body.len, JSON_DEFAULT_MAX_DEPTH * 2, perr,
		                                            sizeof(perr));
		if (!*answer) {
			buf_printf(&msg, "%s %s%s answered %ld with a body that is not JSON (%s): is %s a weft server?",
			           method, o->url, path, r.status, perr, o->url);
			code = CLI_EXIT_SERVER;
		}
	} else if (rc == 0) {
		if (r.status == 401) {
			buf_printf(&msg, o->token ? "the server at %s refused the token: check --token or WEFT_TOKEN"
			                          : "the server at %s needs a token: set --token or WEFT_TOKEN",
			           o->url);
			code = CLI_EXIT_AUTH;
		} else if (r.status == 403) {
			buf_puts(&msg, "forbidden: ");
			server_error(&r, &msg);
			if (strncmp(path, "/v1/tokens", 10) == 0)
				buf_puts(&msg, " (administering tokens needs a token with the admin role)");
			else
				buf_printf(&msg, " (the token does not give access to namespace %s)",
				           o->ns ? o->ns : "(default)");
			code = CLI_EXIT_AUTH;
		} else if (r.status == 404 && !strstr(r.body.data, "\"error\"")) {
			buf_printf(&msg, "%s %s%s: 404: the server has no such route (is it older than this command?)",
			           method, o->url, path);
			code = CLI_EXIT_SERVER;
		} else if (r.status == 404) {
			server_error(&r, &msg);
			buf_printf(&msg, " (%s %s): check the id or name%s", method, path,
			           o->ns ? " and the namespace" : "");
			code = CLI_EXIT_NOT_FOUND;
		} else if (r.status == 409) {
			server_error(&r, &msg);
			json_t *eb = json_loadb(r.body.data, r.body.len, 0, NULL);
			const char *cur = current_status(eb);
			if (cur)
				buf_printf(&msg, " (current status: %s)", cur);
			json_decref(eb);
			code = CLI_EXIT_CONFLICT;
		} else {
			buf_printf(&msg, "the server answered %ld: ", r.status);
			server_error(&r, &msg);
			code = r.status == 400 || r.status == 413 || r.status == 422 ? CLI_EXIT_USAGE : CLI_EXIT_SERVER;
		}
	}
	snprintf(err, errlen, "%s", msg.data);
	buf_release(&msg);
	http_response_release(&r);
	return code;
}

bool cli_retryable(int code, long status)
{
	return code == CLI_EXIT_UNREACHABLE || (code == CLI_EXIT_SERVER && (status >= 500 || status == 429));
}
