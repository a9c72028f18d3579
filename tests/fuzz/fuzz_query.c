/*
 * fuzz_query.c — the query-string decoders of GET /task, GET /batches and
 * GET /webhook-deliveries. The first byte chooses the decoder; the rest is
 * a raw query string ("page=2&status=Running&metadata=%7B%7D"), split and
 * percent-decoded as the server does.
 */
#include "fuzz.h"
#include "http/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	fuzz_query *q = fuzz_query_parse(data + 1, size - 1);
	char msg[VALIDATE_MSG_MAX];
	switch (data[0] % 3) {
	case 0: {
		task_query tq;
		if (validate_task_query(fuzz_query_get, q, fuzz_config(), &tq, msg, sizeof(msg)) == VALIDATE_OK)
			task_query_release(&tq);
		break;
	}
	case 1: {
		batches_query bq;
		validate_batches_query(fuzz_query_get, q, fuzz_config(), &bq, msg, sizeof(msg));
		break;
	}
	default: {
		deliveries_query dq;
		validate_deliveries_query(fuzz_query_get, q, fuzz_config(), &dq, msg, sizeof(msg));
		break;
	}
	}
	fuzz_query_free(q);
	return 0;
}
