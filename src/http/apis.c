/*
 * apis.c — the APIs the server serves, in matching order (see http.h). An
 * API is added here with one line.
 */
#include "util/common.h"
#include "http/http.h"

#include "http/arcrun/arcrun.h"

const http_api *const http_apis[] = {
	&arcrun_api,
};

const size_t http_napis = ARRAY_LEN(http_apis);
