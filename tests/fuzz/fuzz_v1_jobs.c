/*
 * fuzz_v1_jobs.c — the /v1 job body decoders: the first byte picks one
 * (enqueue, claim, heartbeat, complete, fail, release, or one job's
 * complete or fail), the rest is its body.
 */
#include "fuzz.h"
#include "http/v1/decode_job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	int depth = fuzz_config()->json_max_depth;
	http_error e;
	http_error_init(&e);
	weft_id id;
	id_parse("0a8e6f0c-5c6b-4b8e-9e32-6f7a2d7e1c11", &id);
	switch (data[0] % 8) {
	case 0: {
		v1_enqueue_input in;
		if (v1_decode_enqueue(body, len, depth, &in, &e) == 0)
			v1_enqueue_input_release(&in);
		break;
	}
	case 1: {
		v1_claim_input in;
		if (v1_decode_claim(body, len, depth, &in, &e) == 0)
			v1_claim_input_release(&in);
		break;
	}
	case 2: {
		v1_heartbeat_input in;
		if (v1_decode_heartbeat(body, len, depth, &in, &e) == 0)
			v1_heartbeat_input_release(&in);
		break;
	}
	case 3:
	case 4:
	case 5: {
		v1_report_input in;
		if (v1_decode_report((v1_report_kind)(data[0] % 8 - 3), body, len, depth, &in, &e) == 0)
			v1_report_input_release(&in);
		break;
	}
	default: {
		v1_report_input in;
		v1_report_kind kind = data[0] % 8 == 6 ? V1_REPORT_COMPLETE : V1_REPORT_FAIL;
		if (v1_decode_report_one(kind, &id, body, len, depth, &in, &e) == 0)
			v1_report_input_release(&in);
		break;
	}
	}
	http_error_release(&e);
	return 0;
}
