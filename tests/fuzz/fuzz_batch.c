/*
 * fuzz_batch.c — the POST /task body decoder: a task array or the object
 * form, every task's fields, dependencies, rules, dedup matchers, actions
 * and retry policy.
 */
#include "fuzz.h"
#include "http/arcrun/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	batch_input in;
	http_error e;
	http_error_init(&e);
	if (arcrun_decode_batch((const char *)data, size, fuzz_config(), &in, &e) == 0)
		batch_input_release(&in);
	http_error_release(&e);
	return 0;
}
