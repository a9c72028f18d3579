/*
 * fuzz_batch.c — the POST /task body decoder: a task array or the object
 * form, every task's fields, dependencies, rules, dedup matchers, actions
 * and retry policy.
 */
#include "fuzz.h"
#include "http/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	batch_input in;
	errlist errs;
	char msg[VALIDATE_MSG_MAX];
	errlist_init(&errs);
	if (validate_batch((const char *)data, size, fuzz_config(), &in, &errs, msg, sizeof(msg)) == VALIDATE_OK)
		batch_input_release(&in);
	errlist_release(&errs);
	return 0;
}
