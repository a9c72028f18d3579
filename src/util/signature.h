/*
 * signature.h — the HMAC-SHA256 signatures of webhooks: the
 * X-Weft-Signature weft signs its outgoing webhooks with
 * ("t=<unix seconds>,v1=<hex HMAC of "<t>.<body>">") and checks on its
 * incoming hooks, and GitHub's X-Hub-Signature-256 ("sha256=<hex HMAC of
 * the body>").
 */
#ifndef WEFT_UTIL_SIGNATURE_H
#define WEFT_UTIL_SIGNATURE_H

#include "util/common.h"

#define SIGNATURE_HEX_LEN 64

/* out = lowercase hex HMAC-SHA256(secret, prefix || body[0..len)); prefix
 * may be NULL. -1 when libcrypto fails. */
int signature_hmac_hex(const char *secret, const char *prefix, const char *body, size_t len,
                       char out[SIGNATURE_HEX_LEN + 1]);

/* Whether a equals b, in a time that does not depend on where they differ. */
bool signature_equal(const char *a, const char *b);

#endif
