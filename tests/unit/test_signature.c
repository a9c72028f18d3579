/*
 * test_signature.c — webhook signatures (src/util/signature.c): the
 * HMAC-SHA256 of RFC 4231's second test case, the prefix weft's scheme
 * signs ("<t>." before the body) as the same bytes in one piece, an empty
 * body, and the comparison.
 */
#include "util/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "util/signature.h"

static void test_rfc4231_case_2(void **state)
{
	UNUSED(state);
	char hex[SIGNATURE_HEX_LEN + 1];
	const char *data = "what do ya want for nothing?";
	assert_int_equal(signature_hmac_hex("Jefe", NULL, data, strlen(data), hex), 0);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_prefix_is_signed_before_the_body(void **state)
{
	UNUSED(state);
	char split[SIGNATURE_HEX_LEN + 1], whole[SIGNATURE_HEX_LEN + 1];
	const char *body = "{\"a\":1}";
	assert_int_equal(signature_hmac_hex("s3cret", "1700000000.", body, strlen(body), split), 0);
	const char *joined = "1700000000.{\"a\":1}";
	assert_int_equal(signature_hmac_hex("s3cret", NULL, joined, strlen(joined), whole), 0);
	assert_string_equal(split, whole);
	/* Only the first len bytes are signed: a body need not end in NUL. */
	assert_int_equal(signature_hmac_hex("s3cret", "1700000000.", "{\"a\":1}trailing", strlen(body), split), 0);
	assert_string_equal(split, whole);
}

static void test_empty_body(void **state)
{
	UNUSED(state);
	char a[SIGNATURE_HEX_LEN + 1], b[SIGNATURE_HEX_LEN + 1];
	assert_int_equal(signature_hmac_hex("k", NULL, NULL, 0, a), 0);
	assert_int_equal(signature_hmac_hex("k", "", "", 0, b), 0);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), SIGNATURE_HEX_LEN);
}

static void test_equal(void **state)
{
	UNUSED(state);
	assert_true(signature_equal("abc", "abc"));
	assert_false(signature_equal("abc", "abd"));
	assert_false(signature_equal("abc", "abcd"));
	assert_false(signature_equal("", "a"));
	assert_true(signature_equal("", ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4231_case_2),
		cmocka_unit_test(test_prefix_is_signed_before_the_body),
		cmocka_unit_test(test_empty_body),
		cmocka_unit_test(test_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
