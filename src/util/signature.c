/*
 * signature.c — webhook signatures (signature.h).
 */
#include "util/common.h"
#include "util/signature.h"
#include "util/buf.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int signature_hmac_hex(const char *secret, const char *prefix, const char *body, size_t len,
                       char out[SIGNATURE_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	buf msg;
	buf_init(&msg);
	if (prefix != NULL)
		buf_puts(&msg, prefix);
	if (len > 0)
		buf_append(&msg, body, len);
	const unsigned char *ok = HMAC(EVP_sha256(), secret, (int)strlen(secret),
	                               (const unsigned char *)(msg.data != NULL ? msg.data : ""), msg.len, md, &mdlen);
	buf_release(&msg);
	if (ok == NULL || mdlen * 2 > SIGNATURE_HEX_LEN)
		return -1;
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[2 * mdlen] = '\0';
	OPENSSL_cleanse(md, sizeof md);
	return 0;
}

bool signature_equal(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}
