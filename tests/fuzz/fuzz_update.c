/*
 * fuzz_update.c — the PATCH /task/{id} and PUT /task/{id} body decoders.
 * The first byte chooses which (even: PATCH, odd: PUT); the rest is the
 * body.
 */
#include "fuzz.h"
#include "http/arcrun/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	bool put = data[0] & 1;
	update_input in;
	http_error e;
	http_error_init(&e);
	const char *body = (const char *)data + 1;
	int rc = put ? arcrun_decode_put(body, size - 1, fuzz_config(), &in, &e)
	             : arcrun_decode_patch(body, size - 1, fuzz_config(), &in, &e);
	if (rc == 0)
		update_input_release(&in);
	http_error_release(&e);
	return 0;
}
