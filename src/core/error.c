/*
 * error.c — names and descriptions of the error codes of error.h.
 */
#include "util/common.h"
#include "core/error.h"

static const struct {
	const char *name;
	const char *text;
} errors[] = {
	[0] = { "ok", "success" },
	[-WEFT_EINTERNAL] = { "internal", "internal error" },
	[-WEFT_ESTORE] = { "database_error", "database error" },
	[-WEFT_EUNAVAILABLE] = { "unavailable", "database connection unavailable" },
	[-WEFT_ERETRY] = { "conflict_retry", "conflict with a concurrent transaction" },
	[-WEFT_ENOTFOUND] = { "not_found", "not found" },
	[-WEFT_ECONFLICT] = { "conflict", "state does not allow the operation" },
	[-WEFT_EINVALID] = { "invalid", "invalid input" },
	[-WEFT_ETOOLARGE] = { "too_large", "input exceeds a limit" },
	[-WEFT_EOVERLOADED] = { "overloaded", "server overloaded, try again later" },
	[-WEFT_EUNAUTHORIZED] = { "unauthorized", "valid credentials required" },
	[-WEFT_EFORBIDDEN] = { "forbidden", "operation not allowed for these credentials" },
	[-WEFT_EREUSED] = { "idempotency_key_reused", "idempotency key already used for a different request" },
	[-WEFT_EINDOUBT] = { "commit_in_doubt", "database connection lost during commit: outcome unknown" },
	[-WEFT_EFULL] = { "buffer_full", "buffer full: the oldest entries were dropped" },
};
_Static_assert(ARRAY_LEN(errors) == -WEFT_E__LAST, "one entry per error code");

const char *weft_strerror(int code)
{
	return code <= 0 && code > WEFT_E__LAST ? errors[-code].text : "unknown error";
}

const char *weft_errname(int code)
{
	return code <= 0 && code > WEFT_E__LAST ? errors[-code].name : "unknown";
}

int weft_errcode(const char *name, int *code)
{
	for (int i = 0; name != NULL && i < -WEFT_E__LAST; i++) {
		if (strcmp(errors[i].name, name) == 0) {
			*code = -i;
			return 0;
		}
	}
	return WEFT_EINVALID;
}
