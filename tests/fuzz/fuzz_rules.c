/*
 * fuzz_rules.c — the PATCH /batch/{id}/rules body decoder (concurrency and
 * capacity strategies with their matchers).
 */
#include "fuzz.h"
#include "http/arcrun/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rules_input in;
	http_error e;
	http_error_init(&e);
	if (arcrun_decode_rules((const char *)data, size, fuzz_config(), &in, &e) == 0)
		rules_input_release(&in);
	http_error_release(&e);
	return 0;
}
