/*
 * test_acceptor.c — what the HTTP acceptor (src/http/acceptor.c) makes of
 * the first bytes of a connection: a request header still arriving, a
 * complete one, or something that cannot be HTTP.
 */
#include "util/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "http/acceptor.h"

static acceptor_head head(const char *s)
{
	return acceptor_check_head(s, strlen(s));
}

static void test_complete(void **state)
{
	UNUSED(state);
	assert_int_equal(head("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"), HEAD_COMPLETE);
	assert_int_equal(head("GET / HTTP/1.0\r\n\r\n"), HEAD_COMPLETE);
	assert_int_equal(head("GET / HTTP/1.0\n\n"), HEAD_COMPLETE);
	assert_int_equal(head("\r\n\r\nPOST /task HTTP/1.1\r\nContent-Length: 2\r\n\r\n[]"), HEAD_COMPLETE);
	assert_int_equal(head("PATCH /task/pause/x?y=%20 HTTP/1.1\r\nA: b\r\nC: d\r\n\r\n"), HEAD_COMPLETE);
	assert_int_equal(head("M-SEARCH * HTTP/1.1\r\n\r\n"), HEAD_COMPLETE);
	/* Versions other than 1.x are libmicrohttpd's to refuse (505). */
	assert_int_equal(head("GET / HTTP/9.9\r\n\r\n"), HEAD_COMPLETE);
}

static void test_incomplete(void **state)
{
	UNUSED(state);
	static const char *const partial[] = {
		"", "\r\n", "G", "GET", "GET ", "GET /he", "GET /health ", "GET /health HTTP/1",
		"GET /health HTTP/1.1", "GET /health HTTP/1.1\r", "GET /health HTTP/1.1\r\n",
		"GET /health HTTP/1.1\r\nHost: x", "GET /health HTTP/1.1\r\nHost: x\r\n",
		"GET /health HTTP/1.1\r\nHost: x\r\n\r",
	};
	for (size_t i = 0; i < ARRAY_LEN(partial); i++) {
		if (head(partial[i]) != HEAD_INCOMPLETE)
			print_message("not incomplete: '%s'\n", partial[i]);
		assert_int_equal(head(partial[i]), HEAD_INCOMPLETE);
	}
}

static void test_malformed(void **state)
{
	UNUSED(state);
	static const char *const bad[] = {
		"GARBAGE\r\n\r\n",                  /* no target, no version */
		"\x16\x03\x01\x00\xa5\x01",         /* a TLS client hello */
		"\x01\x02 / HTTP/1.1\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",           /* not a token */
		" / HTTP/1.1\r\n\r\n",              /* no method */
		"GET  / HTTP/1.1\r\n\r\n",          /* no target */
		"GET /health\r\n\r\n",              /* no version */
		"GET / HTTP/1.1 x\r\n\r\n",
		"GET / FTP/1.1\r\n\r\n",
		"GET / HTTP/x.1\r\n\r\n",
		"GET /a\x01 HTTP/1.1\r\n\r\n",      /* a control character in the target */
		"GET / HTTP/1.1\r\r\n\r\n",
		"AVERYLONGMETHODNAMETHATNOBODYUSESATALL / HTTP/1.1\r\n\r\n",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		if (head(bad[i]) != HEAD_MALFORMED)
			print_message("not malformed: case %zu\n", i);
		assert_int_equal(head(bad[i]), HEAD_MALFORMED);
	}
	/* Decided from the first bytes, without waiting for a line end. */
	assert_int_equal(acceptor_check_head("\x16\x03", 2), HEAD_MALFORMED);
	assert_int_equal(acceptor_check_head("GET\t", 4), HEAD_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
