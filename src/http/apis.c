/*
 * apis.c — the APIs the server serves, in matching order (see http.h). An
 * API is added here with one line.
 */
#include "util/common.h"
#include "http/http.h"

#include "http/arcrun/arcrun.h"
#include "http/ui.h"
#include "http/v1/v1.h"

const http_api *const http_apis[] = {
	&arcrun_api,
	&v1_api,
	&ui_api,
};

const size_t http_napis = ARRAY_LEN(http_apis);
