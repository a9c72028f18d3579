/*
 * fuzz_query.c — the query-string decoders of GET /task, GET /batches and
 * GET /webhook-deliveries. The first byte chooses the decoder; the rest is
 * a raw query string ("page=2&status=Running&metadata=%7B%7D"), split and
 * percent-decoded as the server does.
 */
#include "fuzz.h"
#include "http/arcrun/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	fuzz_query *fq = fuzz_query_parse(data + 1, size - 1);
	http_query_src q = { .get = fuzz_query_get, .ctx = fq };
	http_error e;
	http_error_init(&e);
	switch (data[0] % 3) {
	case 0: {
		task_query tq;
		if (arcrun_decode_task_query(&q, fuzz_config(), &tq, &e) == 0)
			task_query_release(&tq);
		break;
	}
	case 1: {
		batches_query bq;
		arcrun_decode_batches_query(&q, fuzz_config(), &bq, &e);
		break;
	}
	default: {
		deliveries_query dq;
		arcrun_decode_deliveries_query(&q, fuzz_config(), &dq, &e);
		break;
	}
	}
	http_error_release(&e);
	fuzz_query_free(fq);
	return 0;
}
