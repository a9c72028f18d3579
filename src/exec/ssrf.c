/*
 * ssrf.c — the URL policy for outgoing webhooks (see ssrf.h).
 *
 * URLs are parsed by libcurl's URL API, the same parser the dispatcher uses
 * to build the request, so what is checked here is what is called. curl
 * normalises numeric IPv4 hosts (http://2130706433/, http://0x7f.1/) to
 * dotted quads and keeps IPv6 literals in brackets; both are checked as
 * addresses. Check order follows ArcRun: scheme, host present, blocked
 * hostname, internal IP literal, blocked suffix.
 *
 * ssrf_check_addr() applies the same address rules to the address a
 * connection is about to use, after name resolution, so a name that
 * resolves to a refused address (DNS rebinding) is refused too.
 */
#include "ssrf.h"
#include "../util/alloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>

/* Lenient like ArcRun's parser: spaces and non-ASCII bytes in the path or
 * query are percent-encoded instead of rejected. webhook.c parses with the
 * same flags. */
#define SSRF_URL_FLAGS (CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE)

static const char *const default_hosts[] = {
	"localhost", "127.0.0.1", "::1", "0.0.0.0", "local", "internal",
};
static const char *const default_suffixes[] = {
	".local", ".internal", ".localdomain", ".localhost",
};

static void list_push(char ***list, size_t *n, char *s)
{
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = s;
}

static void lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Splits csv on ',', trims blanks, lowercases, optionally forces a leading
 * '.', and appends each non-empty item. */
static void list_add_csv(char ***list, size_t *n, const char *csv, bool dot)
{
	if (csv == NULL)
		return;
	const char *p = csv;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *s = p;
		while (len > 0 && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)s[len - 1]))
			len--;
		if (len > 0) {
			char *item = (dot && s[0] != '.') ? xasprintf(".%.*s", (int)len, s)
			                                  : xstrndup(s, len);
			lowercase(item);
			list_push(list, n, item);
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
}

void ssrf_policy_init(ssrf_policy *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < ARRAY_LEN(default_hosts); i++)
		list_push(&p->blocked_hosts, &p->nblocked_hosts, xstrdup(default_hosts[i]));
	for (size_t i = 0; i < ARRAY_LEN(default_suffixes); i++)
		list_push(&p->blocked_suffixes, &p->nblocked_suffixes, xstrdup(default_suffixes[i]));
}

void ssrf_policy_release(ssrf_policy *p)
{
	for (size_t i = 0; i < p->nblocked_hosts; i++)
		free(p->blocked_hosts[i]);
	for (size_t i = 0; i < p->nblocked_suffixes; i++)
		free(p->blocked_suffixes[i]);
	free(p->blocked_hosts);
	free(p->blocked_suffixes);
	memset(p, 0, sizeof(*p));
}

void ssrf_policy_add_hosts(ssrf_policy *p, const char *csv)
{
	list_add_csv(&p->blocked_hosts, &p->nblocked_hosts, csv, false);
}

void ssrf_policy_add_suffixes(ssrf_policy *p, const char *csv)
{
	list_add_csv(&p->blocked_suffixes, &p->nblocked_suffixes, csv, true);
}

/* Readable reasons in the spirit of the WHATWG parser ArcRun used. */
static const char *urlcode_reason(CURLUcode rc)
{
	switch (rc) {
	case CURLUE_BAD_SCHEME:
	case CURLUE_NO_SCHEME:
		return "relative URL without a base";
	case CURLUE_NO_HOST:
		return "empty host";
	case CURLUE_BAD_HOSTNAME:
		return "invalid domain character";
	case CURLUE_BAD_IPV6:
		return "invalid IPv6 address";
	case CURLUE_BAD_PORT_NUMBER:
		return "invalid port number";
	case CURLUE_BAD_SLASHES:
		return "expected '//' after the scheme";
	case CURLUE_BAD_LOGIN:
	case CURLUE_BAD_USER:
	case CURLUE_BAD_PASSWORD:
		return "invalid credentials";
	case CURLUE_BAD_PATH:
		return "invalid character in path";
	case CURLUE_BAD_QUERY:
		return "invalid character in query";
	case CURLUE_BAD_FRAGMENT:
		return "invalid character in fragment";
	case CURLUE_BAD_FILE_URL:
		return "invalid file URL";
	case CURLUE_LACKS_IDN:
		return "international domain names are not supported";
	case CURLUE_MALFORMED_INPUT:
		return "malformed input";
	default:
		return curl_url_strerror(rc);
	}
}

static bool ends_with(const char *s, size_t slen, const char *suffix)
{
	size_t n = strlen(suffix);
	return n <= slen && memcmp(s + slen - n, suffix, n) == 0;
}

/* IPv4 ranges that are not globally reachable (IANA's special-purpose
 * registry), plus multicast and the reserved block with the broadcast
 * address: nothing a webhook has a reason to call. */
static const struct {
	uint32_t net;
	unsigned bits;
} v4_blocked[] = {
	{ 0x00000000, 8 },    /* 0.0.0.0/8       "this network" */
	{ 0x0a000000, 8 },    /* 10.0.0.0/8      private */
	{ 0x64400000, 10 },   /* 100.64.0.0/10   shared address space (carrier-grade NAT) */
	{ 0x7f000000, 8 },    /* 127.0.0.0/8     loopback */
	{ 0xa9fe0000, 16 },   /* 169.254.0.0/16  link-local (cloud metadata) */
	{ 0xac100000, 12 },   /* 172.16.0.0/12   private */
	{ 0xc0000000, 24 },   /* 192.0.0.0/24    IETF protocol assignments (DS-Lite, NAT64 discovery) */
	{ 0xc0000200, 24 },   /* 192.0.2.0/24    documentation */
	{ 0xc0586300, 24 },   /* 192.88.99.0/24  6to4 relay anycast */
	{ 0xc0a80000, 16 },   /* 192.168.0.0/16  private */
	{ 0xc6120000, 15 },   /* 198.18.0.0/15   benchmarking */
	{ 0xc6336400, 24 },   /* 198.51.100.0/24 documentation */
	{ 0xcb007100, 24 },   /* 203.0.113.0/24  documentation */
	{ 0xe0000000, 4 },    /* 224.0.0.0/4     multicast */
	{ 0xf0000000, 4 },    /* 240.0.0.0/4     reserved, and 255.255.255.255 broadcast */
};

/* a: an IPv4 address in network order. */
static bool ipv4_internal(const uint8_t a[4])
{
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	for (size_t i = 0; i < ARRAY_LEN(v4_blocked); i++) {
		uint32_t mask = ~UINT32_C(0) << (32 - v4_blocked[i].bits);
		if ((v & mask) == v4_blocked[i].net)
			return true;
	}
	return false;
}

static bool prefix_is(const uint8_t a[16], const uint8_t *p, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, p, whole) != 0)
		return false;
	return rest == 0 || ((a[whole] ^ p[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* IPv6 ranges refused outright. */
static const struct {
	uint8_t p[16];
	unsigned bits;
} v6_blocked[] = {
	{ { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48 },   /* 64:ff9b:1::/48 local-use NAT64 */
	{ { 0x01, 0x00 }, 64 },                           /* 100::/64       discard-only */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32 },               /* 2001:db8::/32  documentation */
	{ { 0x3f, 0xff, 0x00 }, 20 },                     /* 3fff::/20      documentation */
	{ { 0xfc }, 7 },                                  /* fc00::/7       unique local */
	{ { 0xfe, 0x80 }, 10 },                           /* fe80::/10      link-local */
	{ { 0xfe, 0xc0 }, 10 },                           /* fec0::/10      site-local (deprecated) */
	{ { 0xff }, 8 },                                  /* ff00::/8       multicast */
};

/* IPv6 forms that carry an IPv4 address, judged by that address: where in
 * the 16 bytes it sits, and whether it is stored inverted (Teredo). */
static const struct {
	uint8_t p[16];
	unsigned bits;
	unsigned at;
	bool inverted;
} v6_embedding[] = {
	{ { 0 }, 96, 12, false },                                                   /* ::a.b.c.d compatible; ::, ::1 */
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96, 12, false },             /* ::ffff:a.b.c.d mapped */
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0 }, 96, 12, false },             /* ::ffff:0:a.b.c.d translated */
	{ { 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 }, 96, 12, false },       /* 64:ff9b::/96 NAT64 */
	{ { 0x20, 0x02 }, 16, 2, false },                                           /* 2002::/16 6to4 */
	{ { 0x20, 0x01, 0x00, 0x00 }, 32, 12, true },                               /* 2001::/32 Teredo client */
};

static bool ipv6_internal(const uint8_t a[16])
{
	for (size_t i = 0; i < ARRAY_LEN(v6_blocked); i++)
		if (prefix_is(a, v6_blocked[i].p, v6_blocked[i].bits))
			return true;
	for (size_t i = 0; i < ARRAY_LEN(v6_embedding); i++) {
		if (!prefix_is(a, v6_embedding[i].p, v6_embedding[i].bits))
			continue;
		uint8_t v4[4];
		for (int k = 0; k < 4; k++)
			v4[k] = v6_embedding[i].inverted ? (uint8_t)~a[v6_embedding[i].at + k] : a[v6_embedding[i].at + k];
		return ipv4_internal(v4);
	}
	return false;
}

/* When host (lowercased, trailing dot removed) is an IP literal, sets
 * *internal and writes its canonical text into ip. Returns whether it is a
 * literal. IPv6 literals arrive bracketed, without zone id. inet_aton
 * accepts every IPv4 spelling the resolver does, should curl have left one
 * unnormalised. */
static bool ip_literal(const char *host, size_t len, bool *internal, char *ip, size_t iplen)
{
	char tmp[INET6_ADDRSTRLEN + 2];
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		struct in6_addr a6;
		if (len - 2 >= sizeof(tmp))
			return false;
		memcpy(tmp, host + 1, len - 2);
		tmp[len - 2] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			return false;
		*internal = ipv6_internal(a6.s6_addr);
		inet_ntop(AF_INET6, &a6, ip, (socklen_t)iplen);
		return true;
	}
	struct in_addr a4;
	if (len >= sizeof(tmp))
		return false;
	memcpy(tmp, host, len);
	tmp[len] = '\0';
	if (inet_aton(tmp, &a4) == 0)
		return false;
	*internal = ipv4_internal((const uint8_t *)&a4.s_addr);
	inet_ntop(AF_INET, &a4, ip, (socklen_t)iplen);
	return true;
}

int ssrf_check_url(const ssrf_policy *p, const char *url, char *err, size_t errlen)
{
	int ret = -1;
	char *scheme = NULL, *host = NULL;
	CURLU *u = curl_url();
	if (u == NULL) {
		snprintf(err, errlen, "Invalid URL format: out of memory");
		return -1;
	}

	CURLUcode rc = curl_url_set(u, CURLUPART_URL, url ? url : "", SSRF_URL_FLAGS);
	if (rc != CURLUE_OK) {
		snprintf(err, errlen, "Invalid URL format: %s", urlcode_reason(rc));
		goto out;
	}
	if (p->skip) {
		ret = 0;
		goto out;
	}

	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		snprintf(err, errlen, "Invalid URL format: %s", urlcode_reason(CURLUE_NO_SCHEME));
		goto out;
	}
	lowercase(scheme);
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		snprintf(err, errlen, "URL scheme '%s' not allowed, must be http or https", scheme);
		goto out;
	}

	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		snprintf(err, errlen, "URL must have a host");
		goto out;
	}
	lowercase(host);
	/* "localhost." resolves like "localhost": compare without the root dot. */
	size_t hlen = strlen(host);
	if (hlen > 1 && host[hlen - 1] == '.')
		hlen--;

	for (size_t i = 0; i < p->nblocked_hosts; i++) {
		const char *b = p->blocked_hosts[i];
		size_t blen = strlen(b);
		if ((hlen == blen && memcmp(host, b, blen) == 0) ||
		    (hlen > blen && host[hlen - blen - 1] == '.' && ends_with(host, hlen, b))) {
			snprintf(err, errlen, "URL host '%s' is not allowed (internal/reserved)", host);
			goto out;
		}
	}

	bool internal = false;
	char ip[INET6_ADDRSTRLEN];
	if (ip_literal(host, hlen, &internal, ip, sizeof(ip)) && internal) {
		snprintf(err, errlen, "URL points to internal IP address '%s' which is not allowed", ip);
		goto out;
	}

	for (size_t i = 0; i < p->nblocked_suffixes; i++) {
		if (ends_with(host, hlen, p->blocked_suffixes[i])) {
			snprintf(err, errlen, "URL host '%s' appears to be internal", host);
			goto out;
		}
	}
	ret = 0;

out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ret;
}

int ssrf_check_addr(const ssrf_policy *p, const struct sockaddr *addr, char *err, size_t errlen)
{
	char ip[INET6_ADDRSTRLEN] = "";
	bool internal;

	if (p == NULL || p->skip)
		return 0;
	if (addr == NULL) {
		snprintf(err, errlen, "URL resolves to no address");
		return -1;
	}
	switch (addr->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)(const void *)addr;
		internal = ipv4_internal((const uint8_t *)&a4->sin_addr.s_addr);
		inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)(const void *)addr;
		internal = ipv6_internal(a6->sin6_addr.s6_addr);
		inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
		break;
	}
	default:
		/* Only IP connections are made; anything else is refused. */
		snprintf(err, errlen, "URL resolves to an address of unsupported family %d",
		         (int)addr->sa_family);
		return -1;
	}
	if (internal) {
		snprintf(err, errlen, "URL resolves to internal IP address '%s' which is not allowed", ip);
		return -1;
	}
	return 0;
}
