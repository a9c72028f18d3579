/*
 * fuzz.h — what the fuzz harnesses share.
 *
 * Each harness (fuzz_<name>.c) defines LLVMFuzzerTestOneInput: it feeds
 * the bytes to one of weft's decoders of client input and frees whatever
 * came out, so that the sanitizers see every read and every leak. The same
 * harness links either with libFuzzer (`make fuzz`, clang) or with
 * replay.c (`make check`: every file of its corpus, once, under ASan and
 * UBSan with gcc).
 */
#ifndef WEFT_FUZZ_H
#define WEFT_FUZZ_H

#include "util/common.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The server's default settings, as `weft serve` has them without flags
 * or environment; built once. */
const weft_config *fuzz_config(void);

/* Splits a query string ("a=1&b=%20x") into percent-decoded pairs and
 * answers lookups like the HTTP server does (first value wins). */
typedef struct fuzz_query fuzz_query;
fuzz_query *fuzz_query_parse(const uint8_t *data, size_t size);
const char *fuzz_query_get(void *ctx, const char *key);
void fuzz_query_free(fuzz_query *q);

#endif
