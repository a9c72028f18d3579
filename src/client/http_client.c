/*
 * http_client.c — the HTTP client (see http_client.h) on one libcurl easy
 * handle per client, which keeps its connection between requests.
 *
 * The header lists a request needs are built once per client (with and
 * without a body); only a request with extra headers builds its own list.
 * Response header fields are read back through libcurl's header API
 * (curl_easy_nextheader), which already knows which answer was the final
 * one.
 */
#include "client/http_client.h"
#include "util/alloc.h"

#include <curl/curl.h>
#include <strings.h>

#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_CONNECT_TIMEOUT_MS 5000L

struct http_client {
	CURL *h;
	char *base;                  /* owned */
	buf url;                     /* base + path of the current request */
	struct curl_slist *hdr_get;  /* sent without a body: Expect:, Authorization */
	struct curl_slist *hdr_body; /* the same plus Content-Type: application/json */
	long timeout_ms;
	long default_timeout_ms;
	size_t max_body;
	const atomic_bool *cancel;   /* borrowed, or NULL */
	http_progress_fn progress;   /* or NULL */
	void *progress_ud;           /* borrowed */
	char errbuf[CURL_ERROR_SIZE];
};

const char *http_client_strerror(int code)
{
	switch (code) {
	case HTTP_CLIENT_OK:
		return "ok";
	case HTTP_CLIENT_EINVAL:
		return "invalid request";
	case HTTP_CLIENT_ECONNECT:
		return "cannot connect";
	case HTTP_CLIENT_ETIMEOUT:
		return "timed out";
	case HTTP_CLIENT_ETRANSPORT:
		return "connection failed";
	case HTTP_CLIENT_ECANCELED:
		return "canceled";
	default:
		return "unknown error";
	}
}

/* ---- responses ---------------------------------------------------------- */

void http_response_init(http_response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body);
	buf_init(&r->headers_);
}

void http_response_release(http_response *r)
{
	buf_release(&r->body);
	buf_release(&r->headers_);
}

static void response_reset(http_response *r)
{
	r->status = 0;
	r->body_bytes = 0;
	r->error[0] = '\0';
	buf_reset(&r->body);
	buf_reset(&r->headers_);
}

const char *http_response_header(const http_response *r, const char *name)
{
	const char *p = r->headers_.data, *end = p + r->headers_.len;
	while (p < end) {
		const char *value = p + strlen(p) + 1;
		if (strcasecmp(p, name) == 0)
			return value;
		p = value + strlen(value) + 1;
	}
	return NULL;
}

/* Keeps the final answer's fields; libcurl has them parsed, without the
 * line ends, the value without leading blanks. */
static void keep_headers(CURL *h, http_response *r)
{
	struct curl_header *prev = NULL, *hd;
	while ((hd = curl_easy_nextheader(h, CURLH_HEADER, -1, prev)) != NULL) {
		size_t vl = strlen(hd->value);
		while (vl > 0 && (hd->value[vl - 1] == ' ' || hd->value[vl - 1] == '\t'))
			vl--;
		buf_append(&r->headers_, hd->name, strlen(hd->name) + 1);
		buf_append(&r->headers_, hd->value, vl);
		buf_putc(&r->headers_, '\0');
		prev = hd;
	}
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	http_response *r = ud;
	size_t len = size * n;
	if (len > r->max_body_ - r->body_bytes)
		return 0;   /* curl stops the transfer: CURLE_WRITE_ERROR */
	r->body_bytes += len;
	if (!r->discard_body)
		buf_append(&r->body, p, len);
	return len;
}

/* ---- clients ------------------------------------------------------------ */

static bool http_scheme(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

http_client *http_client_new(const http_client_options *opt)
{
	if (!opt || !opt->base_url || !http_scheme(opt->base_url))
		return NULL;
	CURL *h = curl_easy_init();
	if (!h)
		return NULL;
	http_client *c = xcalloc(1, sizeof(*c));
	c->h = h;
	c->base = xstrdup(opt->base_url);
	size_t bl = strlen(c->base);
	while (bl > 0 && c->base[bl - 1] == '/')   /* paths start with '/' */
		c->base[--bl] = '\0';
	buf_init(&c->url);
	c->default_timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->timeout_ms = c->default_timeout_ms;
	c->max_body = opt->max_body > 0 ? opt->max_body : HTTP_CLIENT_BODY_MAX;

	/* "Expect:" drops the 100-continue round trip curl adds before large
	 * bodies: weft reads every body it accepts. */
	c->hdr_get = curl_slist_append(NULL, "Expect:");
	if (opt->token && opt->token[0]) {
		char *auth = xasprintf("Authorization: Bearer %s", opt->token);
		c->hdr_get = curl_slist_append(c->hdr_get, auth);
		free(auth);
	}
	for (struct curl_slist *l = c->hdr_get; l; l = l->next)
		c->hdr_body = curl_slist_append(c->hdr_body, l->data);
	c->hdr_body = curl_slist_append(c->hdr_body, "Content-Type: application/json");
	if (!c->hdr_get || !c->hdr_body) {
		http_client_free(c);
		return NULL;
	}

	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	                 opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	return c;
}

void http_client_free(http_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->h);
	curl_slist_free_all(c->hdr_get);
	curl_slist_free_all(c->hdr_body);
	buf_release(&c->url);
	free(c->base);
	free(c);
}

const char *http_client_base_url(const http_client *c)
{
	return c->base;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	const http_client *c = ud;
	if (c->cancel && atomic_load(c->cancel))
		return 1;   /* non-zero aborts the transfer */
	if (c->progress)
		return c->progress(c->progress_ud, (int64_t)ulnow, (int64_t)ultotal, (int64_t)dlnow, (int64_t)dltotal) ? 1 : 0;
	return 0;
}

/* libcurl calls on_progress only while one of its two users wants it. */
static void update_progress_callback(http_client *c)
{
	bool on = c->cancel || c->progress;
	curl_easy_setopt(c->h, CURLOPT_XFERINFOFUNCTION, on ? on_progress : NULL);
	curl_easy_setopt(c->h, CURLOPT_XFERINFODATA, on ? (void *)c : NULL);
	curl_easy_setopt(c->h, CURLOPT_NOPROGRESS, on ? 0L : 1L);
}

bool http_client_canceled(const http_client *c)
{
	return c->cancel != NULL && atomic_load(c->cancel);
}

void http_client_set_cancel(http_client *c, const atomic_bool *flag)
{
	c->cancel = flag;
	update_progress_callback(c);
}

void http_client_set_progress(http_client *c, http_progress_fn fn, void *ud)
{
	c->progress = fn;
	c->progress_ud = fn ? ud : NULL;
	update_progress_callback(c);
}

void http_client_set_timeout(http_client *c, long timeout_ms)
{
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : c->default_timeout_ms;
}

/* The length of the name of a "Name: value" line. */
static size_t header_name_len(const char *line)
{
	const char *colon = strchr(line, ':');
	return colon ? (size_t)(colon - line) : strlen(line);
}

/* A request's own header list: its extra lines, then the client's lines
 * whose names they do not give (a header named twice would be sent twice).
 * NULL when curl runs out of memory. */
static struct curl_slist *merge_headers(const struct curl_slist *base, const char *const *extra)
{
	struct curl_slist *out = NULL, *t;
	for (size_t i = 0; extra[i]; i++) {
		if (!(t = curl_slist_append(out, extra[i])))
			goto oom;
		out = t;
	}
	for (const struct curl_slist *l = base; l; l = l->next) {
		size_t n = header_name_len(l->data);
		bool given = false;
		for (size_t i = 0; extra[i] && !given; i++)
			given = header_name_len(extra[i]) == n && strncasecmp(extra[i], l->data, n) == 0;
		if (given)
			continue;
		if (!(t = curl_slist_append(out, l->data)))
			goto oom;
		out = t;
	}
	return out;
oom:
	curl_slist_free_all(out);
	return NULL;
}

static int fail(http_response *r, int code, const char *method, const char *url, const char *detail)
{
	snprintf(r->error, sizeof(r->error), "%s %s: %s%s%.200s", method, url, http_client_strerror(code),
	         detail && *detail ? ": " : "", detail ? detail : "");
	return code;
}

static int code_of(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return HTTP_CLIENT_ECONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_CLIENT_ETIMEOUT;
	case CURLE_ABORTED_BY_CALLBACK:
		return HTTP_CLIENT_ECANCELED;
	case CURLE_URL_MALFORMAT:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return HTTP_CLIENT_EINVAL;
	default:
		return HTTP_CLIENT_ETRANSPORT;
	}
}

int http_client_request(http_client *c, const char *method, const char *path, const char *body, size_t body_len,
                        const char *const *headers, http_response *resp)
{
	response_reset(resp);
	if (!method || !*method || strpbrk(method, " \r\n"))
		return fail(resp, HTTP_CLIENT_EINVAL, method ? method : "(no method)", c->base, "bad method");
	buf_reset(&c->url);
	buf_puts(&c->url, c->base);
	if (path)
		buf_puts(&c->url, path);
	if (c->cancel && atomic_load(c->cancel))
		return fail(resp, HTTP_CLIENT_ECANCELED, method, c->url.data, NULL);

	struct curl_slist *own = NULL;
	if (headers && headers[0]) {
		own = merge_headers(body ? c->hdr_body : c->hdr_get, headers);
		if (!own)
			return fail(resp, HTTP_CLIENT_EINVAL, method, c->url.data, "out of memory");
	}
	resp->max_body_ = c->max_body;
	CURL *h = c->h;
	curl_easy_setopt(h, CURLOPT_URL, c->url.data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, own ? own : body ? c->hdr_body : c->hdr_get);
	bool head = strcmp(method, "HEAD") == 0;
	if (body) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 0L);   /* before POSTFIELDS: it resets the method */
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") == 0 ? NULL : method);
	} else {
		/* HTTPGET also undoes the POST state an earlier request left. */
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(h, CURLOPT_NOBODY, head ? 1L : 0L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") == 0 || head ? NULL : method);
	}
	c->errbuf[0] = '\0';
	CURLcode rc = curl_easy_perform(h);
	int ret = HTTP_CLIENT_OK;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
		keep_headers(h, resp);
	} else {
		/* "Connection refused" says more than curl's "Couldn't connect". */
		long os_errno = 0;
		char ebuf[128];
		const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
		ret = code_of(rc);
		char too_large[96];
		if (rc == CURLE_WRITE_ERROR) {   /* on_body's refusal: nothing else writes */
			snprintf(too_large, sizeof(too_large), "answer too large (more than %zu bytes)", c->max_body);
			detail = too_large;
		}
		if (ret == HTTP_CLIENT_ECONNECT && curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
		    os_errno != 0)
			detail = strerror_r((int)os_errno, ebuf, sizeof(ebuf));
		fail(resp, ret, method, c->url.data, detail);
	}
	/* The lists must outlive the transfer only: the handle keeps a pointer. */
	if (own) {
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->hdr_get);
		curl_slist_free_all(own);
	}
	return ret;
}
