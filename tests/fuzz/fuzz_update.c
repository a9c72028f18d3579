/*
 * fuzz_update.c — the PATCH /task/{id} and PUT /task/{id} body decoders.
 * The first byte chooses which (even: PATCH, odd: PUT); the rest is the
 * body.
 */
#include "fuzz.h"
#include "http/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	bool put = data[0] & 1;
	update_input in;
	errlist errs;
	char msg[VALIDATE_MSG_MAX];
	errlist_init(&errs);
	const char *body = (const char *)data + 1;
	validate_result r = put ? validate_put(body, size - 1, fuzz_config(), &in, &errs, msg, sizeof(msg))
	                        : validate_patch(body, size - 1, fuzz_config(), &in, &errs, msg, sizeof(msg));
	if (r == VALIDATE_OK)
		update_input_release(&in);
	errlist_release(&errs);
	return 0;
}
