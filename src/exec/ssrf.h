/*
 * ssrf.h — which URLs weft may call (ArcRun reference §12.2).
 *
 * Checked when a webhook is submitted (validation messages below are
 * ArcRun's, verbatim) and again for cancel actions returned by on_start.
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
 * IPv4 literals in 10/8, 172.16/12, 192.168/16, 127/8, 169.254/16, 0/8 and
 * IPv6 literals (bracketed) ::1, ::, fe80::/10, fc00::/7 and IPv4-mapped
 * private addresses are internal. */
int ssrf_check_url(const ssrf_policy *p, const char *url, char *err, size_t errlen);

/* Whether a resolved address (AF_INET or AF_INET6 sockaddr) is internal by
 * the same rules as literals. 0 = allowed; -1 with err = "URL resolves to
 * internal IP address '<ip>' which is not allowed". */
struct sockaddr;
int ssrf_check_addr(const ssrf_policy *p, const struct sockaddr *addr, char *err, size_t errlen);

#endif
