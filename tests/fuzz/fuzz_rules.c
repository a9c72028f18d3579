/*
 * fuzz_rules.c — the PATCH /batch/{id}/rules body decoder (concurrency and
 * capacity strategies with their matchers).
 */
#include "fuzz.h"
#include "http/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rules_input in;
	errlist errs;
	char msg[VALIDATE_MSG_MAX];
	errlist_init(&errs);
	if (validate_batch_rules((const char *)data, size, fuzz_config(), &in, &errs, msg, sizeof(msg)) == VALIDATE_OK)
		rules_input_release(&in);
	errlist_release(&errs);
	return 0;
}
