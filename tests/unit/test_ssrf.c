/*
 * test_ssrf.c — the webhook URL policy: ArcRun's SSRF unit cases, numeric
 * IPv4 spellings, IPv6 literals, the reserved ranges beyond ArcRun's, the
 * policy lists, and resolved addresses.
 */
#include "exec/ssrf.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static ssrf_policy policy;
static char err[512];

static int setup(void **state)
{
	UNUSED(state);
	ssrf_policy_init(&policy);
	err[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	UNUSED(state);
	ssrf_policy_release(&policy);
	return 0;
}

static void assert_allowed(const char *url)
{
	err[0] = '\0';
	int rc = ssrf_check_url(&policy, url, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s: expected allowed, got \"%s\"", url, err);
}

static void assert_blocked(const char *url, const char *want)
{
	err[0] = '\0';
	int rc = ssrf_check_url(&policy, url, err, sizeof(err));
	if (rc != -1)
		fail_msg("%s: expected \"%s\", was allowed", url, want);
	if (strcmp(err, want) != 0)
		fail_msg("%s: expected \"%s\", got \"%s\"", url, want, err);
}

#define NOT_ALLOWED(h) "URL host '" h "' is not allowed (internal/reserved)"
#define INTERNAL_IP(ip) "URL points to internal IP address '" ip "' which is not allowed"
#define APPEARS(h) "URL host '" h "' appears to be internal"

static void test_localhost_blocked(void **state)
{
	UNUSED(state);
	assert_blocked("http://localhost/", NOT_ALLOWED("localhost"));
	assert_blocked("http://localhost:8080/api", NOT_ALLOWED("localhost"));
	assert_blocked("https://localhost/webhook", NOT_ALLOWED("localhost"));
	assert_blocked("http://LocalHost/", NOT_ALLOWED("localhost"));
	/* the root dot does not make it another host */
	assert_blocked("http://localhost./", NOT_ALLOWED("localhost."));
	assert_blocked("http://api.localhost/", NOT_ALLOWED("api.localhost"));
}

static void test_loopback_ip_blocked(void **state)
{
	UNUSED(state);
	assert_blocked("http://127.0.0.1/", NOT_ALLOWED("127.0.0.1"));
	assert_blocked("http://127.0.0.1:9090/task", NOT_ALLOWED("127.0.0.1"));
	assert_blocked("http://127.0.0.2/", INTERNAL_IP("127.0.0.2"));
	assert_blocked("http://127.255.255.254/", INTERNAL_IP("127.255.255.254"));
	assert_blocked("http://0.0.0.0/", NOT_ALLOWED("0.0.0.0"));
	assert_blocked("http://0.1.2.3/", INTERNAL_IP("0.1.2.3"));
}

static void test_private_ip_10_blocked(void **state)
{
	UNUSED(state);
	assert_blocked("http://10.0.0.1/", INTERNAL_IP("10.0.0.1"));
	assert_blocked("http://10.255.255.255:8080/x", INTERNAL_IP("10.255.255.255"));
	assert_allowed("http://11.0.0.1/");
}

static void test_private_ip_172_blocked(void **state)
{
	UNUSED(state);
	assert_blocked("http://172.16.0.1/", INTERNAL_IP("172.16.0.1"));
	assert_blocked("http://172.20.10.5/", INTERNAL_IP("172.20.10.5"));
	assert_blocked("http://172.31.255.255/", INTERNAL_IP("172.31.255.255"));
	assert_allowed("http://172.15.0.1/");
	assert_allowed("http://172.32.0.1/");
}

static void test_private_ip_192_168_blocked(void **state)
{
	UNUSED(state);
	assert_blocked("http://192.168.0.1/", INTERNAL_IP("192.168.0.1"));
	assert_blocked("http://192.168.255.255/hook", INTERNAL_IP("192.168.255.255"));
	assert_allowed("http://192.169.0.1/");
	assert_allowed("http://192.167.0.1/");
}

static void test_cloud_metadata_blocked(void **state)
{
	UNUSED(state);
	assert_blocked("http://169.254.169.254/latest/meta-data/", INTERNAL_IP("169.254.169.254"));
	assert_blocked("http://169.254.0.1/", INTERNAL_IP("169.254.0.1"));
	assert_blocked("http://metadata.google.internal/computeMetadata/v1/",
	               NOT_ALLOWED("metadata.google.internal"));
}

static void test_file_scheme_blocked(void **state)
{
	UNUSED(state);
	assert_blocked("file:///etc/passwd", "URL scheme 'file' not allowed, must be http or https");
	assert_blocked("ftp://example.com/x", "URL scheme 'ftp' not allowed, must be http or https");
	assert_blocked("gopher://example.com/", "URL scheme 'gopher' not allowed, must be http or https");
	assert_blocked("FTP://example.com/", "URL scheme 'ftp' not allowed, must be http or https");
}

static void test_internal_domains_blocked(void **state)
{
	UNUSED(state);
	/* "local" and "internal" are blocked hosts, so their subdomains are too */
	assert_blocked("http://myservice.local/", NOT_ALLOWED("myservice.local"));
	assert_blocked("http://db.internal/", NOT_ALLOWED("db.internal"));
	assert_blocked("http://printer.localdomain/", APPEARS("printer.localdomain"));
	assert_blocked("http://Printer.LocalDomain./", APPEARS("printer.localdomain."));
	assert_blocked("http://local/", NOT_ALLOWED("local"));
	/* a suffix is matched at a label boundary only */
	assert_allowed("http://notlocal.com/");
	assert_allowed("http://mylocaldomain.com/");
}

static void test_valid_external_urls(void **state)
{
	UNUSED(state);
	assert_allowed("https://example.com/webhook");
	assert_allowed("https://api.github.com/repos/x/y/dispatches");
	assert_allowed("http://httpbin.org/post");
	assert_allowed("http://8.8.8.8/");
	assert_allowed("https://example.com:8443/a/b?c=d&e=f#frag");
	assert_allowed("HTTPS://Example.COM/");
	assert_allowed("http://user:secret@example.com/");
	assert_allowed("http://example.com/a b");    /* encoded, as ArcRun's parser does */
}

static void test_skip_ssrf_validation_allows_localhost(void **state)
{
	UNUSED(state);
	policy.skip = true;
	assert_allowed("http://localhost:9090/task");
	assert_allowed("http://127.0.0.1/");
	assert_allowed("http://10.0.0.1/");
	assert_allowed("http://[::1]:8080/");
	assert_allowed("file:///etc/passwd");
	assert_allowed("ftp://example.com/");
	assert_blocked("not a valid url", "Invalid URL format: relative URL without a base");
	assert_blocked("", "Invalid URL format: relative URL without a base");
	assert_blocked("/just/a/path", "Invalid URL format: relative URL without a base");
	assert_blocked("http://", "Invalid URL format: empty host");
}

static void test_custom_blocked_hostnames(void **state)
{
	UNUSED(state);
	ssrf_policy_add_hosts(&policy, " Evil.example ,, internal.corp,");
	assert_blocked("http://evil.example/", NOT_ALLOWED("evil.example"));
	assert_blocked("http://api.EVIL.example/", NOT_ALLOWED("api.evil.example"));
	assert_blocked("http://internal.corp/", NOT_ALLOWED("internal.corp"));
	assert_allowed("http://notevil.example/");
	assert_allowed("http://example.com/");
	/* the defaults stay, and the IP check is always on */
	assert_blocked("http://localhost/", NOT_ALLOWED("localhost"));
	assert_blocked("http://10.1.2.3/", INTERNAL_IP("10.1.2.3"));

	ssrf_policy_add_suffixes(&policy, "corp, .LAN");
	assert_blocked("http://build.corp/", APPEARS("build.corp"));
	assert_blocked("http://nas.lan/", APPEARS("nas.lan"));
	assert_allowed("http://corp/");
}

static void test_invalid_url_format(void **state)
{
	UNUSED(state);
	assert_blocked("not a url", "Invalid URL format: relative URL without a base");
	assert_blocked("example.com/hook", "Invalid URL format: relative URL without a base");
	assert_blocked("http://", "Invalid URL format: empty host");
	assert_blocked("http://exa mple.com/", "Invalid URL format: invalid domain character");
	assert_blocked("http://[zz]/", "Invalid URL format: invalid IPv6 address");
	assert_blocked("http://example.com:99999/", "Invalid URL format: invalid port number");
	assert_blocked(NULL, "Invalid URL format: relative URL without a base");
}

/* curl (and the resolver) read these as IPv4 addresses. */
static void test_numeric_ipv4_forms(void **state)
{
	UNUSED(state);
	assert_blocked("http://2130706433/", NOT_ALLOWED("127.0.0.1"));
	assert_blocked("http://0x7f000001/", NOT_ALLOWED("127.0.0.1"));
	assert_blocked("http://0177.0.0.1/", NOT_ALLOWED("127.0.0.1"));
	assert_blocked("http://127.1/", NOT_ALLOWED("127.0.0.1"));
	assert_blocked("http://0/", NOT_ALLOWED("0.0.0.0"));
	assert_blocked("http://0x0a.0.0.1/", INTERNAL_IP("10.0.0.1"));
	assert_blocked("http://167772161/", INTERNAL_IP("10.0.0.1"));
	assert_blocked("http://0xa9fea9fe/", INTERNAL_IP("169.254.169.254"));
	assert_blocked("http://%31%30.0.0.1/", INTERNAL_IP("10.0.0.1"));
	assert_blocked("http://10.0.0.1./", INTERNAL_IP("10.0.0.1"));
	assert_allowed("http://134744072/");    /* 8.8.8.8 */
	/* userinfo is not the host */
	assert_allowed("http://127.0.0.1:80@example.com/");
}

static void test_ipv6_literals(void **state)
{
	UNUSED(state);
	assert_blocked("http://[::1]/", INTERNAL_IP("::1"));
	assert_blocked("http://[0:0:0:0:0:0:0:1]:8080/", INTERNAL_IP("::1"));
	assert_blocked("http://[::]/", INTERNAL_IP("::"));
	assert_blocked("http://[fe80::1]/", INTERNAL_IP("fe80::1"));
	assert_blocked("http://[fe80::1%25eth0]/", INTERNAL_IP("fe80::1"));
	assert_blocked("http://[febf:ffff::1]/", INTERNAL_IP("febf:ffff::1"));
	assert_blocked("http://[fc00::1]/", INTERNAL_IP("fc00::1"));
	assert_blocked("http://[FD12:3456::7]/", INTERNAL_IP("fd12:3456::7"));
	assert_blocked("http://[::ffff:127.0.0.1]/", INTERNAL_IP("::ffff:127.0.0.1"));
	assert_blocked("http://[::ffff:10.0.0.1]/", INTERNAL_IP("::ffff:10.0.0.1"));
	assert_blocked("http://[::ffff:a9fe:a9fe]/", INTERNAL_IP("::ffff:169.254.169.254"));
	assert_allowed("http://[2001:4860:4860::8888]/");
	assert_allowed("http://[::ffff:8.8.8.8]/");
	assert_allowed("https://[2606:4700::1111]:443/hook");
}

static void test_policy_lists(void **state)
{
	UNUSED(state);
	assert_int_equal(policy.nblocked_hosts, 6);
	assert_string_equal(policy.blocked_hosts[0], "localhost");
	assert_string_equal(policy.blocked_hosts[5], "internal");
	assert_int_equal(policy.nblocked_suffixes, 4);
	assert_string_equal(policy.blocked_suffixes[3], ".localhost");
	assert_false(policy.skip);

	ssrf_policy_add_hosts(&policy, "");
	ssrf_policy_add_hosts(&policy, NULL);
	ssrf_policy_add_hosts(&policy, " , ,");
	assert_int_equal(policy.nblocked_hosts, 6);
	ssrf_policy_add_hosts(&policy, "A.B,c");
	assert_int_equal(policy.nblocked_hosts, 8);
	assert_string_equal(policy.blocked_hosts[6], "a.b");
	assert_string_equal(policy.blocked_hosts[7], "c");

	ssrf_policy_add_suffixes(&policy, "Corp,.x.y , ");
	assert_int_equal(policy.nblocked_suffixes, 6);
	assert_string_equal(policy.blocked_suffixes[4], ".corp");
	assert_string_equal(policy.blocked_suffixes[5], ".x.y");

	ssrf_policy_release(&policy);
	assert_null(policy.blocked_hosts);
	assert_int_equal(policy.nblocked_hosts, 0);
	ssrf_policy_init(&policy);    /* teardown releases it again */
}

/* ssrf_check_addr on a textual address (IPv4 or IPv6). */
static int check_addr_text(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(443);
		assert_int_equal(inet_pton(AF_INET6, text, &a6->sin6_addr), 1);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
		a4->sin_family = AF_INET;
		a4->sin_port = htons(80);
		assert_int_equal(inet_pton(AF_INET, text, &a4->sin_addr), 1);
	}
	err[0] = '\0';
	return ssrf_check_addr(&policy, (const struct sockaddr *)&ss, err, sizeof(err));
}

static void assert_addr_allowed(const char *text)
{
	if (check_addr_text(text) != 0)
		fail_msg("%s: expected allowed, got \"%s\"", text, err);
}

/* want is the address as the message shows it. */
static void assert_addr_blocked(const char *text, const char *want_ip)
{
	char want[256];
	snprintf(want, sizeof(want), "URL resolves to internal IP address '%s' which is not allowed", want_ip);
	if (check_addr_text(text) != -1)
		fail_msg("%s: expected \"%s\", was allowed", text, want);
	if (strcmp(err, want) != 0)
		fail_msg("%s: expected \"%s\", got \"%s\"", text, want, err);
}

static void test_resolved_addresses(void **state)
{
	UNUSED(state);
	/* the literal rules, address by address */
	assert_addr_blocked("127.0.0.1", "127.0.0.1");
	assert_addr_blocked("127.255.255.254", "127.255.255.254");
	assert_addr_blocked("10.0.0.1", "10.0.0.1");
	assert_addr_blocked("172.16.0.1", "172.16.0.1");
	assert_addr_blocked("172.31.255.255", "172.31.255.255");
	assert_addr_blocked("192.168.1.1", "192.168.1.1");
	assert_addr_blocked("169.254.169.254", "169.254.169.254");
	assert_addr_blocked("0.0.0.0", "0.0.0.0");
	assert_addr_blocked("0.1.2.3", "0.1.2.3");
	assert_addr_allowed("8.8.8.8");
	assert_addr_allowed("172.15.0.1");
	assert_addr_allowed("172.32.0.1");
	assert_addr_allowed("192.169.0.1");
	assert_addr_allowed("11.0.0.1");

	assert_addr_blocked("::1", "::1");
	assert_addr_blocked("::", "::");
	assert_addr_blocked("fe80::1", "fe80::1");
	assert_addr_blocked("febf:ffff::1", "febf:ffff::1");
	assert_addr_blocked("fc00::1", "fc00::1");
	assert_addr_blocked("fd12:3456::7", "fd12:3456::7");
	assert_addr_blocked("::ffff:127.0.0.1", "::ffff:127.0.0.1");
	assert_addr_blocked("::ffff:10.1.2.3", "::ffff:10.1.2.3");
	assert_addr_blocked("::ffff:169.254.169.254", "::ffff:169.254.169.254");
	assert_addr_allowed("::ffff:8.8.8.8");
	assert_addr_allowed("2001:4860:4860::8888");
}

static void test_resolved_addresses_policy(void **state)
{
	UNUSED(state);
	/* blocked hostnames play no part once a name is resolved */
	ssrf_policy_release(&policy);
	memset(&policy, 0, sizeof(policy));
	assert_addr_blocked("127.0.0.1", "127.0.0.1");
	assert_addr_allowed("93.184.216.34");

	/* skip lets everything through, NULL policy too */
	policy.skip = true;
	assert_addr_allowed("127.0.0.1");
	assert_addr_allowed("::1");
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(ssrf_check_addr(NULL, (const struct sockaddr *)&a4, err, sizeof(err)), 0);
	ssrf_policy_init(&policy);

	/* what is not an IP address is refused */
	struct sockaddr un = { .sa_family = AF_UNIX };
	assert_int_equal(ssrf_check_addr(&policy, &un, err, sizeof(err)), -1);
	assert_string_equal(err, "URL resolves to an address of unsupported family 1");

	/* a short buffer truncates, it does not overflow */
	char small[16];
	assert_int_equal(ssrf_check_addr(&policy, (const struct sockaddr *)&a4, small, sizeof(small)), -1);
	assert_string_equal(small, "URL resolves to");
}

/* Special-purpose IPv4 ranges that are not globally reachable, beyond
 * ArcRun's private and loopback ones: each edge, and the first address
 * outside. */
static void test_reserved_ipv4_literals(void **state)
{
	UNUSED(state);
	assert_blocked("http://100.64.0.1/", INTERNAL_IP("100.64.0.1"));           /* carrier-grade NAT */
	assert_blocked("http://100.127.255.255/", INTERNAL_IP("100.127.255.255"));
	assert_allowed("http://100.63.255.255/");
	assert_allowed("http://100.128.0.0/");
	assert_blocked("http://224.0.0.1/", INTERNAL_IP("224.0.0.1"));             /* multicast */
	assert_blocked("http://239.255.255.250:1900/", INTERNAL_IP("239.255.255.250"));
	assert_allowed("http://223.255.255.255/");
	assert_blocked("http://240.0.0.1/", INTERNAL_IP("240.0.0.1"));             /* reserved */
	assert_blocked("http://255.255.255.255/", INTERNAL_IP("255.255.255.255")); /* broadcast */
	assert_blocked("http://192.0.0.8/", INTERNAL_IP("192.0.0.8"));             /* IETF assignments */
	assert_blocked("http://192.0.0.170/", INTERNAL_IP("192.0.0.170"));
	assert_allowed("http://192.0.1.1/");
	assert_blocked("http://192.0.2.1/", INTERNAL_IP("192.0.2.1"));             /* documentation */
	assert_blocked("http://198.51.100.7/", INTERNAL_IP("198.51.100.7"));
	assert_blocked("http://203.0.113.9/", INTERNAL_IP("203.0.113.9"));
	assert_blocked("http://192.88.99.1/", INTERNAL_IP("192.88.99.1"));         /* 6to4 relay anycast */
	assert_blocked("http://198.18.0.1/", INTERNAL_IP("198.18.0.1"));           /* benchmarking */
	assert_blocked("http://198.19.255.255/", INTERNAL_IP("198.19.255.255"));
	assert_allowed("http://198.17.255.255/");
	assert_allowed("http://198.20.0.0/");
	/* the numeric spellings curl normalises */
	assert_blocked("http://4294967295/", INTERNAL_IP("255.255.255.255"));
	assert_blocked("http://0xe0000001/", INTERNAL_IP("224.0.0.1"));
	assert_blocked("http://100.64.1/", INTERNAL_IP("100.64.0.1"));
}

/* IPv6: multicast and the other non-global ranges, and every form that
 * embeds an IPv4 address (mapped, compatible, translated, NAT64, 6to4,
 * Teredo), judged by the IPv4 address inside. */
static void test_reserved_ipv6_literals(void **state)
{
	UNUSED(state);
	assert_blocked("http://[ff02::1]/", INTERNAL_IP("ff02::1"));               /* multicast */
	assert_blocked("http://[ff0e::1:3]/", INTERNAL_IP("ff0e::1:3"));
	assert_blocked("http://[fec0::1]/", INTERNAL_IP("fec0::1"));               /* site-local */
	assert_blocked("http://[2001:db8::1]/", INTERNAL_IP("2001:db8::1"));       /* documentation */
	assert_blocked("http://[3fff::1]/", INTERNAL_IP("3fff::1"));
	assert_blocked("http://[100::1]/", INTERNAL_IP("100::1"));                 /* discard-only */
	assert_blocked("http://[64:ff9b:1::1]/", INTERNAL_IP("64:ff9b:1::1"));     /* local-use NAT64 */
	assert_allowed("http://[2001:db9::1]/");
	assert_allowed("http://[fe00::1]/");

	assert_blocked("http://[::ffff:100.64.0.1]/", INTERNAL_IP("::ffff:100.64.0.1"));
	assert_blocked("http://[::ffff:224.0.0.1]/", INTERNAL_IP("::ffff:224.0.0.1"));
	assert_blocked("http://[::ffff:255.255.255.255]/", INTERNAL_IP("::ffff:255.255.255.255"));
	assert_blocked("http://[::ffff:198.18.0.1]/", INTERNAL_IP("::ffff:198.18.0.1"));
	assert_blocked("http://[::10.0.0.1]/", INTERNAL_IP("::10.0.0.1"));          /* IPv4-compatible */
	assert_blocked("http://[::127.0.0.1]/", INTERNAL_IP("::127.0.0.1"));
	assert_blocked("http://[::100.64.0.1]/", INTERNAL_IP("::100.64.0.1"));
	assert_blocked("http://[::2]/", INTERNAL_IP("::2"));                        /* 0.0.0.2 */
	assert_blocked("http://[::ffff:0:10.0.0.1]/", INTERNAL_IP("::ffff:0:a00:1")); /* IPv4-translated */
	assert_blocked("http://[64:ff9b::10.0.0.1]/", INTERNAL_IP("64:ff9b::a00:1"));  /* NAT64 */
	assert_blocked("http://[64:ff9b::169.254.169.254]/", INTERNAL_IP("64:ff9b::a9fe:a9fe"));
	assert_blocked("http://[64:ff9b::224.0.0.1]/", INTERNAL_IP("64:ff9b::e000:1"));
	assert_blocked("http://[2002:a00:1::1]/", INTERNAL_IP("2002:a00:1::1"));    /* 6to4 of 10.0.0.1 */
	assert_blocked("http://[2002:7f00:1::]/", INTERNAL_IP("2002:7f00:1::"));
	/* Teredo: the client's address is stored inverted in the last 32 bits */
	assert_blocked("http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/",
	               INTERNAL_IP("2001:0:4136:e378:8000:63bf:f5ff:fffe"));
	assert_allowed("http://[::8.8.8.8]/");
	assert_allowed("http://[64:ff9b::8.8.8.8]/");
	assert_allowed("http://[2002:808:808::1]/");
	assert_allowed("http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/");   /* client 8.8.8.8 */
}

/* The same ranges when a name resolves to them (checked at connect time). */
static void test_resolved_reserved_addresses(void **state)
{
	UNUSED(state);
	assert_addr_blocked("100.64.0.1", "100.64.0.1");
	assert_addr_blocked("100.127.255.255", "100.127.255.255");
	assert_addr_allowed("100.128.0.1");
	assert_addr_blocked("224.0.0.251", "224.0.0.251");
	assert_addr_blocked("239.1.2.3", "239.1.2.3");
	assert_addr_blocked("255.255.255.255", "255.255.255.255");
	assert_addr_blocked("240.1.2.3", "240.1.2.3");
	assert_addr_blocked("192.0.0.1", "192.0.0.1");
	assert_addr_blocked("198.18.5.5", "198.18.5.5");
	assert_addr_blocked("192.0.2.44", "192.0.2.44");
	assert_addr_allowed("223.255.255.254");

	assert_addr_blocked("ff02::fb", "ff02::fb");
	assert_addr_blocked("::ffff:100.64.0.1", "::ffff:100.64.0.1");
	assert_addr_blocked("::ffff:224.0.0.1", "::ffff:224.0.0.1");
	assert_addr_blocked("::10.0.0.1", "::10.0.0.1");
	assert_addr_blocked("::2", "::2");
	assert_addr_blocked("fec0::1", "fec0::1");
	assert_addr_blocked("64:ff9b::a00:1", "64:ff9b::a00:1");
	assert_addr_blocked("64:ff9b::6440:1", "64:ff9b::6440:1");
	assert_addr_blocked("64:ff9b:1::a", "64:ff9b:1::a");
	assert_addr_blocked("2002:c0a8:101::1", "2002:c0a8:101::1");
	assert_addr_blocked("2001:db8::5", "2001:db8::5");
	assert_addr_allowed("64:ff9b::808:808");
	assert_addr_allowed("2002:808:808::1");
	assert_addr_allowed("2606:4700::1111");
}

static int group_setup(void **state)
{
	UNUSED(state);
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
	UNUSED(state);
	curl_global_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_localhost_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback_ip_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_ip_10_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_ip_172_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_ip_192_168_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cloud_metadata_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_scheme_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_internal_domains_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valid_external_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_ssrf_validation_allows_localhost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_custom_blocked_hostnames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_url_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_numeric_ipv4_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_literals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolved_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolved_addresses_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserved_ipv4_literals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserved_ipv6_literals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolved_reserved_addresses, setup, teardown),
	};
	return cmocka_run_group_tests_name("ssrf", tests, group_setup, group_teardown);
}
