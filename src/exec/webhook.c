/*
 * webhook.c — WebhookParams validation and the outgoing-call dispatcher.
 *
 * The dispatcher thread owns a libcurl multi handle and everything attached
 * to it; other threads only touch the submission queue (under `mu`) and
 * wake the thread with curl_multi_wakeup(). Between wake-ups the thread
 * sleeps in curl_multi_poll(), which also honours curl's own timers.
 *
 * A call moves through:
 *
 *   submitted --slot free--> active: action 0 .. nparams-1, one transfer at
 *   a time, each started when the previous one finished (failures do not
 *   stop the sequence) --last action done--> done() --> released
 *
 * At most `concurrency` calls are active, hence at most that many transfers,
 * and at most a lane's limit of that lane's calls; each lane is a FIFO and
 * lanes with room take turns.
 * On shutdown queued calls end at once with "shutting down"; active ones get
 * SHUTDOWN_GRACE_US to finish their current transfer (no further action is
 * started), then are aborted.
 *
 * With an SSRF policy in force, each URL is checked again by name before
 * its request is built (templated URLs are only known now), and every
 * address a connection is about to use is checked in the open-socket
 * callback: that is the address really connected to, whatever the resolver
 * said earlier, so a name re-pointed at an internal address is refused.
 *
 * With a signing secret, X-Weft-Signature carries t=<unix seconds> and
 * v1=<hex HMAC-SHA256(secret, "<t>.<body>")> over the exact body bytes sent.
 */
#include "webhook.h"
#include "../util/alloc.h"
#include "../util/buf.h"
#include "../util/clock.h"
#include "../util/log.h"
#include "../util/metrics.h"
#include "../util/signature.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>

/* Must match ssrf.c, so that the URL called is the URL checked. */
#define URL_FLAGS (CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE)
#define SHUTDOWN_GRACE_US (2 * 1000 * 1000)
#define USER_AGENT "weft/0.1"
#define SIGNATURE_HEADER "X-Weft-Signature"

#define ERR_PREFIX "Invalid webhook params: "

static const char *const verb_names[] = { "Get", "Post", "Put", "Patch", "Delete" };
static const char *const verb_methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };
enum { VERB_GET, VERB_POST, VERB_PUT, VERB_PATCH, VERB_DELETE };

static int verb_index(const char *s)
{
	for (size_t i = 0; i < ARRAY_LEN(verb_names); i++)
		if (strcmp(s, verb_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- params check ------------------------------------------------------ */

static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool has_line_break(const char *s, size_t n)
{
	return memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL;
}

static int check_headers(const json_t *headers, char *err, size_t errlen)
{
	const char *name;
	const json_t *v;

	if (!json_is_object(headers)) {
		snprintf(err, errlen, ERR_PREFIX "invalid type: %s, expected a map for `headers`",
		         json_type_name(headers));
		return -1;
	}
	json_object_foreach((json_t *)headers, name, v) {
		if (!json_is_string(v)) {
			snprintf(err, errlen, ERR_PREFIX "invalid type: %s, expected a string for header `%s`",
			         json_type_name(v), name);
			return -1;
		}
		const char *val = json_string_value(v);
		size_t vlen = json_string_length(v);
		if (has_line_break(name, strlen(name)) || has_line_break(val, vlen)) {
			snprintf(err, errlen, ERR_PREFIX "header `%s` contains a line break", name);
			return -1;
		}
		bool name_ok = name[0] != '\0';
		for (const char *c = name; *c && name_ok; c++)
			name_ok = is_tchar((unsigned char)*c);
		if (!name_ok) {
			snprintf(err, errlen, ERR_PREFIX "header `%s` has an invalid name", name);
			return -1;
		}
		for (size_t i = 0; i < vlen; i++) {
			unsigned char c = (unsigned char)val[i];
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				snprintf(err, errlen, ERR_PREFIX "header `%s` contains a control character", name);
				return -1;
			}
		}
	}
	return 0;
}

/* Field by field in document order, missing fields last, like a derived
 * serde Deserialize; unknown fields are ignored. */
int webhook_params_check(const json_t *params, const ssrf_policy *p, char *err, size_t errlen)
{
	const char *key;
	const json_t *v;
	const char *url = NULL;
	bool have_verb = false;

	if (!json_is_object(params)) {
		const char *t = json_is_array(params) ? "sequence" : json_type_name(params);
		snprintf(err, errlen, ERR_PREFIX "invalid type: %s, expected struct WebhookParams", t);
		return -1;
	}
	json_object_foreach((json_t *)params, key, v) {
		if (strcmp(key, "url") == 0) {
			if (!json_is_string(v)) {
				snprintf(err, errlen, ERR_PREFIX "invalid type: %s, expected a string for `url`",
				         json_type_name(v));
				return -1;
			}
			url = json_string_value(v);
		} else if (strcmp(key, "verb") == 0) {
			if (!json_is_string(v)) {
				snprintf(err, errlen, ERR_PREFIX "invalid type: %s, expected a string for `verb`",
				         json_type_name(v));
				return -1;
			}
			if (verb_index(json_string_value(v)) < 0) {
				snprintf(err, errlen,
				         ERR_PREFIX "unknown variant `%s`, expected one of `Get`, `Post`, `Put`, `Patch`, `Delete`",
				         json_string_value(v));
				return -1;
			}
			have_verb = true;
		} else if (strcmp(key, "headers") == 0 && !json_is_null(v)) {
			if (check_headers(v, err, errlen) != 0)
				return -1;
		}
	}
	if (url == NULL) {
		snprintf(err, errlen, ERR_PREFIX "missing field `url`");
		return -1;
	}
	if (!have_verb) {
		snprintf(err, errlen, ERR_PREFIX "missing field `verb`");
		return -1;
	}
	return ssrf_check_url(p, url, err, errlen);
}

/* ---- calls ------------------------------------------------------------- */

webhook_call *webhook_call_new(const weft_id *task, action_trigger trig, action_condition cond,
                               const char *key, const char *const *params, size_t nparams)
{
	webhook_call *c = xcalloc(1, sizeof(*c));
	c->task_id = *task;
	c->trigger = trig;
	c->condition = cond;
	snprintf(c->key, sizeof(c->key), "%s", key ? key : "");
	if (nparams > 0) {
		c->params = xcalloc(nparams, sizeof(*c->params));
		for (size_t i = 0; i < nparams; i++)
			c->params[i] = xstrdup(params[i]);
	}
	c->nparams = nparams;
	return c;
}

void webhook_call_free(webhook_call *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nparams; i++)
		free(c->params[i]);
	free(c->params);
	free(c->error);
	free(c->cancel_action);
	free(c);
}

/* ---- dispatcher -------------------------------------------------------- */

/* A call inside the dispatcher, with the state of its current transfer. */
typedef struct job {
	struct job *next;            /* submission queue link */
	webhook_call *call;
	size_t action;               /* index of the action in flight */
	CURL *easy;                  /* NULL between transfers */
	struct curl_slist *headers;
	char *body;                  /* request body, compact JSON */
	buf resp;                    /* 2xx body of an on_start response */
	size_t resp_seen;            /* body bytes received, any status */
	size_t resp_max;
	bool too_large;
	int64_t started_us;
	const ssrf_policy *ssrf;     /* checked on every address connected to, or NULL */
	char ssrf_err[160];          /* the first address refused, for the error */
	char curl_err[CURL_ERROR_SIZE];
} job;

struct dispatcher {
	/* configuration, read-only after dispatcher_new */
	char *host_url;
	size_t concurrency;
	size_t lane_limit[WEBHOOK_LANES];
	long timeout_ms;
	long connect_timeout_ms;
	size_t max_response;
	const ssrf_policy *ssrf;     /* NULL when not checked (none, or skip) */
	char *secret;                /* signing secret, NULL = unsigned */

	pthread_t thread;
	CURLM *multi;

	pthread_mutex_t mu;          /* guards the fields up to `active` */
	job *qhead[WEBHOOK_LANES], *qtail[WEBHOOK_LANES];
	size_t pending;              /* queued + active, until done() returned */
	bool stopping;

	/* dispatcher thread only */
	job **active;                /* `concurrency` slots */
	size_t nactive;
	size_t lane_active[WEBHOOK_LANES];
	unsigned next_lane;          /* the lane admit() looks at first */
	CURL **idle;                 /* reusable easy handles */
	size_t nidle;
};

static const double duration_buckets[] = { .01, .05, .1, .25, .5, 1, 2.5, 5, 10 };

static void define_metrics(void)
{
	metrics_define_labeled("webhook_executions_total", METRIC_COUNTER,
	               "Webhook actions executed, by trigger and outcome");
	metrics_define_labeled("webhook_attempts_total", METRIC_COUNTER,
	               "Webhook HTTP attempts, by trigger and outcome");
	metrics_define_histogram_labeled("webhook_duration_seconds", "Webhook request duration",
	                         duration_buckets, ARRAY_LEN(duration_buckets));
	metrics_define_labeled("webhooks_in_flight", METRIC_GAUGE, "Webhook calls in progress, by phase");
}

/* The name users know the action by, for failure messages. */
static const char *call_word(const webhook_call *c)
{
	switch (c->trigger) {
	case TRIGGER_START:
		return "on_start";
	case TRIGGER_END:
		return c->condition == COND_SUCCESS ? "on_success" : "on_failure";
	case TRIGGER_CANCEL:
		return "cancel";
	}
	return "webhook";
}

static void count_action(const job *j, bool ok, bool timed)
{
	const char *trig = action_trigger_name(j->call->trigger);
	char labels[96];
	snprintf(labels, sizeof(labels), "trigger=\"%s\",outcome=\"%s\"", trig, ok ? "success" : "failure");
	metrics_inc("webhook_executions_total", labels, 1);
	metrics_inc("webhook_attempts_total", labels, 1);
	if (timed) {
		snprintf(labels, sizeof(labels), "trigger=\"%s\"", trig);
		metrics_observe("webhook_duration_seconds", labels,
		                (double)(clock_mono_us() - j->started_us) / 1e6);
	}
}

static void in_flight_add(const webhook_call *c, int64_t delta)
{
	char labels[48];
	snprintf(labels, sizeof(labels), "phase=\"%s\"", action_trigger_name(c->trigger));
	metrics_gauge_add("webhooks_in_flight", labels, delta);
}

/* Records an action failure; the call keeps its first error. */
static void call_fail(webhook_call *c, const char *why)
{
	c->ok = false;
	if (c->error == NULL)
		c->error = xasprintf("%s webhook failed: %s", call_word(c), why);
}

static void add_header(job *j, char *line)
{
	struct curl_slist *l = curl_slist_append(j->headers, line);
	if (l == NULL) {
		fputs("weft: out of memory\n", stderr);
		abort();
	}
	j->headers = l;
	free(line);
}

/* Counts every body byte against the cap; keeps only what on_start needs. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	job *j = arg;
	size_t n = size * nmemb;
	long code = 0;

	j->resp_seen += n;
	if (j->resp_seen > j->resp_max) {
		j->too_large = true;
		return 0;    /* aborts the transfer */
	}
	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
	if (j->call->trigger == TRIGGER_START && code / 100 == 2)
		buf_append(&j->resp, data, n);
	return n;
}

/* Refuses connections to internal addresses. curl tries the next address
 * of the name, if any, when this returns CURL_SOCKET_BAD. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *address)
{
	job *j = arg;
	char err[sizeof(j->ssrf_err)];

	UNUSED(purpose);
	if (ssrf_check_addr(j->ssrf, &address->addr, err, sizeof(err)) != 0) {
		if (j->ssrf_err[0] == '\0')
			snprintf(j->ssrf_err, sizeof(j->ssrf_err), "%s", err);
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/* The X-Weft-Signature header line for body (NULL = no body), owned; NULL
 * when libcrypto fails (util/signature.h). */
static char *signature_header(const char *secret, const char *body)
{
	char mdhex[SIGNATURE_HEX_LEN + 1];
	long long t = (long long)(clock_now_us() / 1000000);
	char prefix[32];
	snprintf(prefix, sizeof prefix, "%lld.", t);
	if (signature_hmac_hex(secret, prefix, body, body != NULL ? strlen(body) : 0, mdhex) != 0)
		return NULL;
	return xasprintf(SIGNATURE_HEADER ": t=%lld,v1=%s", t, mdhex);
}

/* Builds the request of one action into j (easy handle not yet added).
 * Params were validated at submission; a failure here means they were
 * stored by something else and is reported as the action's failure. */
static int transfer_setup(dispatcher *d, job *j, const char *params_text, char *why, size_t whylen)
{
	int ret = -1;
	const webhook_call *c = j->call;
	json_t *params = json_parse_text(params_text);
	CURLU *u = NULL;
	char *url = NULL;

	const char *target = json_string_value(json_object_get(params, "url"));
	const char *verb_s = json_string_value(json_object_get(params, "verb"));
	int verb = verb_s ? verb_index(verb_s) : -1;
	if (target == NULL || verb < 0) {
		snprintf(why, whylen, "invalid webhook params");
		goto out;
	}

	/* The policy's name rules again: a templated URL was not known when the
	 * params were checked. Addresses are checked while connecting. */
	if (d->ssrf != NULL && ssrf_check_url(d->ssrf, target, why, whylen) != 0)
		goto out;

	u = curl_url();
	if (u == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	CURLUcode rc = curl_url_set(u, CURLUPART_URL, target, URL_FLAGS);
	if (rc == CURLUE_OK && !c->no_handle) {
		char *handle = xasprintf("handle=%s/task/%s", d->host_url, c->task_id.str);
		rc = curl_url_set(u, CURLUPART_QUERY, handle, CURLU_APPENDQUERY | CURLU_URLENCODE);
		free(handle);
	}
	if (rc == CURLUE_OK)
		rc = curl_url_get(u, CURLUPART_URL, &url, 0);
	if (rc != CURLUE_OK) {
		snprintf(why, whylen, "invalid URL: %s", curl_url_strerror(rc));
		goto out;
	}

	const char *name;
	json_t *v;
	json_object_foreach(json_object_get(params, "headers"), name, v) {
		if (!json_is_string(v))
			continue;
		/* Only weft may sign: a custom header of that name would shadow it. */
		if (d->secret != NULL && strcasecmp(name, SIGNATURE_HEADER) == 0)
			continue;
		const char *val = json_string_value(v);
		/* "Name;" is curl's way to send a header with an empty value. */
		add_header(j, val[0] ? xasprintf("%s: %s", name, val) : xasprintf("%s;", name));
	}
	add_header(j, xasprintf("Idempotency-Key: %s", c->key));
	add_header(j, xasprintf("X-Task-Id: %s", c->task_id.str));
	add_header(j, xasprintf("X-Task-Trigger: %s", action_trigger_name(c->trigger)));

	json_t *body = json_object_get(params, "body");
	if (body != NULL && !json_is_null(body)) {
		j->body = json_dump_compact(body);
		add_header(j, xstrdup("Content-Type: application/json"));
	} else if (verb == VERB_POST || verb == VERB_PUT || verb == VERB_PATCH) {
		/* An empty body (Content-Length: 0), without curl's form type. */
		j->body = xstrdup("");
		add_header(j, xstrdup("Content-Type:"));
	}
	add_header(j, xstrdup("Expect:"));
	if (d->secret != NULL) {
		char *sig = signature_header(d->secret, j->body);
		if (sig == NULL) {
			snprintf(why, whylen, "cannot sign the request");
			goto out;
		}
		add_header(j, sig);
	}

	j->easy = d->nidle > 0 ? d->idle[--d->nidle] : curl_easy_init();
	if (j->easy == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	CURL *e = j->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, d->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, d->timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(e, CURLOPT_PRIVATE, j);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->curl_err);
	j->curl_err[0] = '\0';
	if (d->ssrf != NULL) {
		j->ssrf = d->ssrf;
		curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
		curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, j);
		/* Through a proxy the address checked would be the proxy's, not
		 * the target's: with the guard on, connect directly. */
		if (!d->ssrf->skip)
			curl_easy_setopt(e, CURLOPT_PROXY, "");
	}
	if (j->body != NULL) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(j->body));
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
	}
	if (verb != VERB_POST && !(verb == VERB_GET && j->body == NULL))
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, verb_methods[verb]);
	ret = 0;

out:
	curl_free(url);
	curl_url_cleanup(u);
	json_decref(params);
	return ret;
}

/* Detaches the transfer state from j, keeping the easy handle for reuse. */
static void transfer_release(dispatcher *d, job *j)
{
	if (j->easy != NULL) {
		curl_multi_remove_handle(d->multi, j->easy);
		if (d->nidle < d->concurrency) {
			curl_easy_reset(j->easy);
			d->idle[d->nidle++] = j->easy;
		} else {
			curl_easy_cleanup(j->easy);
		}
		j->easy = NULL;
	}
	curl_slist_free_all(j->headers);
	j->headers = NULL;
	free(j->body);
	j->body = NULL;
	buf_reset(&j->resp);
	j->resp_seen = 0;
	j->too_large = false;
	j->ssrf = NULL;
	j->ssrf_err[0] = '\0';
}

/* An on_start 2xx body that is a NewActionDto becomes the cancel action. */
static void capture_cancel_action(job *j)
{
	char perr[128];
	const char *kind;
	webhook_call *c = j->call;
	json_t *v = json_parse_body(j->resp.data, j->resp.len, JSON_DEFAULT_MAX_DEPTH, perr, sizeof(perr));

	if (json_is_object(v) && json_get_str(v, "kind", &kind) == 0 &&
	    strcmp(kind, "Webhook") == 0 && json_is_object(json_object_get(v, "params"))) {
		free(c->cancel_action);
		c->cancel_action = json_dump_compact(v);
	}
	json_decref(v);
}

/* Judges a finished transfer and releases it. */
static void transfer_done(dispatcher *d, job *j, CURLcode res)
{
	webhook_call *c = j->call;
	long code = 0;
	char why[160] = "";

	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code > 0)
		c->http_status = (int32_t)code;
	/* Once a non-2xx status is in, it is the outcome even if the body
	 * then failed; a 2xx counts only when the whole body arrived. */
	if (code >= 100 && (res == CURLE_OK || code / 100 != 2)) {
		if (code / 100 == 3)
			snprintf(why, sizeof(why), "redirects are not followed (HTTP %ld)", code);
		else if (code / 100 != 2)
			snprintf(why, sizeof(why), "HTTP %ld", code);
	} else if (j->too_large) {
		snprintf(why, sizeof(why), "response too large");
	} else if (j->ssrf_err[0] != '\0' && res == CURLE_COULDNT_CONNECT) {
		snprintf(why, sizeof(why), "%s", j->ssrf_err);
	} else {
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(res));
	}

	bool ok = why[0] == '\0';
	if (ok && c->trigger == TRIGGER_START && j->resp.len > 0)
		capture_cancel_action(j);
	if (!ok) {
		call_fail(c, why);
		log_warn("webhook", "%s webhook %zu/%zu of task %s failed: %s%s%s%s", call_word(c),
		         j->action + 1, c->nparams, c->task_id.str, why,
		         j->curl_err[0] ? " (" : "", j->curl_err, j->curl_err[0] ? ")" : "");
	}
	count_action(j, ok, true);
	transfer_release(d, j);
	j->action++;
}

/* Starts the next action that can be started; false when none is left. */
static bool job_advance(dispatcher *d, job *j)
{
	char why[256];

	for (; j->action < j->call->nparams; j->action++) {
		j->started_us = clock_mono_us();
		if (transfer_setup(d, j, j->call->params[j->action], why, sizeof(why)) == 0) {
			CURLMcode mc = curl_multi_add_handle(d->multi, j->easy);
			if (mc == CURLM_OK)
				return true;
			snprintf(why, sizeof(why), "%s", curl_multi_strerror(mc));
		}
		transfer_release(d, j);
		call_fail(j->call, why);
		count_action(j, false, false);
	}
	return false;
}

/* Reports the call, then forgets it. `active` calls hold a slot; an
 * `interrupted` call did not run all its actions. */
static void job_finish(dispatcher *d, job *j, bool active, bool interrupted)
{
	webhook_call *c = j->call;

	if (active) {
		for (size_t i = 0; i < d->nactive; i++) {
			if (d->active[i] == j) {
				d->active[i] = d->active[--d->nactive];
				d->lane_active[c->lane]--;
				break;
			}
		}
		in_flight_add(c, -1);
	}
	if (interrupted) {
		c->ok = false;
		if (c->error == NULL)
			c->error = xstrdup("shutting down");
	}
	buf_release(&j->resp);
	free(j);

	if (c->done != NULL)
		c->done(c, c->arg);
	else
		webhook_call_free(c);

	pthread_mutex_lock(&d->mu);
	d->pending--;
	pthread_mutex_unlock(&d->mu);
}

/* Moves queued calls into free slots and starts them; once stopping, ends
 * every queued call instead. Returns whether the dispatcher is stopping. */
static bool admit(dispatcher *d)
{
	for (;;) {
		pthread_mutex_lock(&d->mu);
		bool stopping = d->stopping;
		job *j = NULL;
		for (unsigned k = 0; k < WEBHOOK_LANES && j == NULL; k++) {
			unsigned l = (d->next_lane + k) % WEBHOOK_LANES;
			if (d->qhead[l] == NULL ||
			    (!stopping && (d->nactive >= d->concurrency || d->lane_active[l] >= d->lane_limit[l])))
				continue;
			j = d->qhead[l];
			d->qhead[l] = j->next;
			if (d->qhead[l] == NULL)
				d->qtail[l] = NULL;
			d->next_lane = (l + 1) % WEBHOOK_LANES;
		}
		pthread_mutex_unlock(&d->mu);
		if (j == NULL)
			return stopping;
		if (stopping) {
			job_finish(d, j, false, true);
			continue;
		}
		j->call->ok = true;
		j->call->http_status = 0;
		d->active[d->nactive++] = j;
		d->lane_active[j->call->lane]++;
		in_flight_add(j->call, 1);
		if (!job_advance(d, j))
			job_finish(d, j, true, false);
	}
}

/* Handles finished transfers. Returns whether any finished. */
static bool collect(dispatcher *d, bool stopping)
{
	bool any = false;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(d->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURLcode res = m->data.result;    /* m dies with the handle's removal */
		char *priv = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		job *j = (job *)priv;
		transfer_done(d, j, res);
		if (stopping)
			job_finish(d, j, true, j->action < j->call->nparams);
		else if (!job_advance(d, j))
			job_finish(d, j, true, false);
		any = true;
	}
	return any;
}

static void abort_all(dispatcher *d)
{
	while (d->nactive > 0) {
		job *j = d->active[d->nactive - 1];
		count_action(j, false, true);
		transfer_release(d, j);
		job_finish(d, j, true, true);
	}
}

static void *dispatcher_main(void *arg)
{
	dispatcher *d = arg;
	int64_t deadline = 0;
	sigset_t all;

	/* Signals belong to the main thread; a SIGPIPE from a TLS write stays
	 * pending here instead of killing the process. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);

	for (;;) {
		bool stopping = admit(d);
		int wait_ms = 60 * 1000;
		if (stopping) {
			int64_t now = clock_mono_us();
			if (deadline == 0)
				deadline = now + SHUTDOWN_GRACE_US;
			if (d->nactive == 0)
				break;
			if (now >= deadline) {
				log_warn("webhook", "aborting %zu webhook call(s) at shutdown", d->nactive);
				abort_all(d);
				break;
			}
			wait_ms = (int)((deadline - now + 999) / 1000);
		}
		int running;
		curl_multi_perform(d->multi, &running);
		if (collect(d, stopping))
			continue;    /* slots or next actions to start first */
		curl_multi_poll(d->multi, NULL, 0, wait_ms, NULL);
	}
	return NULL;
}

static void free_secret(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

dispatcher *dispatcher_new(const dispatcher_config *cfg)
{
	define_metrics();

	dispatcher *d = xcalloc(1, sizeof(*d));
	d->host_url = xstrdup(cfg->host_url ? cfg->host_url : "");
	d->concurrency = cfg->concurrency > 0 ? (size_t)cfg->concurrency : 10;
	for (size_t l = 0; l < WEBHOOK_LANES; l++)
		d->lane_limit[l] = cfg->lane_limit[l] > 0 ? (size_t)cfg->lane_limit[l] : d->concurrency;
	d->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
	d->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000;
	d->max_response = cfg->max_response_bytes > 0 ? cfg->max_response_bytes : 1024 * 1024;
	d->ssrf = cfg->ssrf != NULL && !cfg->ssrf->skip ? cfg->ssrf : NULL;
	if (cfg->signing_secret != NULL && cfg->signing_secret[0] != '\0')
		d->secret = xstrdup(cfg->signing_secret);
	d->active = xcalloc(d->concurrency, sizeof(*d->active));
	d->idle = xcalloc(d->concurrency, sizeof(*d->idle));
	pthread_mutex_init(&d->mu, NULL);

	d->multi = curl_multi_init();
	if (d->multi == NULL) {
		log_error("webhook", "curl_multi_init failed");
		goto fail;
	}
	/* Keep a warm connection per transfer slot, and some spare. */
	curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS, (long)d->concurrency * 2);

	int rc = pthread_create(&d->thread, NULL, dispatcher_main, d);
	if (rc != 0) {
		log_error("webhook", "cannot start the dispatcher thread: %s", strerror(rc));
		goto fail;
	}
	pthread_setname_np(d->thread, "weft-webhook");
	return d;

fail:
	if (d->multi != NULL)
		curl_multi_cleanup(d->multi);
	pthread_mutex_destroy(&d->mu);
	free(d->active);
	free(d->idle);
	free(d->host_url);
	free_secret(d->secret);
	free(d);
	return NULL;
}

void dispatcher_submit(dispatcher *d, webhook_call *call)
{
	job *j = xcalloc(1, sizeof(*j));
	j->call = call;
	j->resp_max = d->max_response;
	buf_init(&j->resp);

	unsigned l = call->lane < WEBHOOK_LANES ? call->lane : WEBHOOK_LANE_START;
	call->lane = l;
	pthread_mutex_lock(&d->mu);
	if (d->qtail[l] != NULL)
		d->qtail[l]->next = j;
	else
		d->qhead[l] = j;
	d->qtail[l] = j;
	d->pending++;
	pthread_mutex_unlock(&d->mu);
	curl_multi_wakeup(d->multi);
}

size_t dispatcher_pending(dispatcher *d)
{
	pthread_mutex_lock(&d->mu);
	size_t n = d->pending;
	pthread_mutex_unlock(&d->mu);
	return n;
}

void dispatcher_free(dispatcher *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	d->stopping = true;
	pthread_mutex_unlock(&d->mu);
	curl_multi_wakeup(d->multi);
	pthread_join(d->thread, NULL);

	/* Calls submitted while the thread was exiting. */
	admit(d);

	for (size_t i = 0; i < d->nidle; i++)
		curl_easy_cleanup(d->idle[i]);
	curl_multi_cleanup(d->multi);
	pthread_mutex_destroy(&d->mu);
	free(d->active);
	free(d->idle);
	free(d->host_url);
	free_secret(d->secret);
	free(d);
}
