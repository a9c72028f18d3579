/*
 * ssrf.h — which URLs weft may call: ArcRun's webhook URL policy,
 * extended to every address range that is not globally reachable.
 *
 * Checked when a webhook is submitted (validation messages below are
 * ArcRun's, verbatim), for cancel actions returned by on_start, and by the
 * dispatcher before each call and on each address it connects to.
 * With `skip` set (SKIP_SSRF_VALIDATION=1), only the URL syntax is checked.
 */
#ifndef WEFT_SSRF_H
#define WEFT_SSRF_H

#include "../util/common.h"

typedef struct ssrf_policy {
	bool skip;
	char **blocked_hosts;       /* lowercase, owned */
	size_t nblocked_hosts;
	char **blocked_suffixes;    /* lowercase, with leading '.', owned */
	size_t nblocked_suffixes;
} ssrf_policy;

/* Defaults: hosts localhost, 127.0.0.1, ::1, 0.0.0.0, local, internal;
 * suffixes .local, .internal, .localdomain, .localhost. skip = false. */
void ssrf_policy_init(ssrf_policy *p);
void ssrf_policy_release(ssrf_policy *p);
/* Appends a comma-separated list (BLOCKED_HOSTNAMES / _SUFFIXES); blanks
 * are ignored, values lowercased, a missing leading '.' on suffixes added. */
void ssrf_policy_add_hosts(ssrf_policy *p, const char *csv);
void ssrf_policy_add_suffixes(ssrf_policy *p, const char *csv);

/* 0 when the URL may be called; otherwise -1 and err holds one of:
 *   "Invalid URL format: <why>"
 *   "URL scheme '<s>' not allowed, must be http or https"
 *   "URL must have a host"
 *   "URL host '<h>' is not allowed (internal/reserved)"
 *   "URL points to internal IP address '<ip>' which is not allowed"
 *   "URL host '<h>' appears to be internal"
 * "Internal" covers every address that is not globally reachable unicast:
 *   IPv4  0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10 (carrier-grade NAT),
 *         127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, 192.0.0.0/24,
 *         192.0.2.0/24, 192.88.99.0/24, 192.168.0.0/16, 198.18.0.0/15,
 *         198.51.100.0/24, 203.0.113.0/24, 224.0.0.0/4 (multicast),
 *         240.0.0.0/4 (reserved, and the broadcast 255.255.255.255);
 *   IPv6  64:ff9b:1::/48, 100::/64, 2001:db8::/32, 3fff::/20, fc00::/7,
 *         fe80::/10, fec0::/10, ff00::/8 (multicast); and the forms that
 *         carry an IPv4 address, refused when that address is: ::/96
 *         (compatible, so also :: and ::1), ::ffff:0:0/96 (mapped),
 *         ::ffff:0:0:0/96 (translated), 64:ff9b::/96 (NAT64), 2002::/16
 *         (6to4) and 2001::/32 (Teredo, the client address).
 * IPv6 literals are bracketed in URLs. ArcRun refuses 0/8, 10/8, 127/8,
 * 169.254/16, 172.16/12, 192.168/16, ::, ::1, fe80::/10 and fc00::/7 (with
 * the same messages); the other ranges are weft's. */
int ssrf_check_url(const ssrf_policy *p, const char *url, char *err, size_t errlen);

/* Whether a resolved address (AF_INET or AF_INET6 sockaddr) is internal by
 * the same rules as literals; the dispatcher calls it for every address it
 * is about to connect to. 0 = allowed; -1 with err = "URL resolves to
 * internal IP address '<ip>' which is not allowed". */
struct sockaddr;
int ssrf_check_addr(const ssrf_policy *p, const struct sockaddr *addr, char *err, size_t errlen);

#endif
