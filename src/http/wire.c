/*
 * wire.c — JSON value writers and common answers shared by the route
 * handlers (see wire.h).
 */
#include "util/common.h"
#include "http/arcrun_names.h"
#include "http/wire.h"

#include "util/clock.h"
#include "util/log.h"

/* ---- values ---------------------------------------------------------- */

/* Integers and timestamps are written without printf: a 100,000-task
 * batch answer has over a million of them. */
void wire_i64(buf *b, int64_t v)
{
	char digits[24], *d = digits + sizeof(digits);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--d = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--d = '-';
	buf_append(b, d, (size_t)(digits + sizeof(digits) - d));
}

void wire_i64_or_null(buf *b, int64_t v)
{
	if (v == 0)
		buf_puts(b, "null");
	else
		wire_i64(b, v);
}

void wire_ts(buf *b, int64_t us)
{
	/* Tasks of one batch share their timestamps: format each once. */
	static _Thread_local int64_t last_us;
	static _Thread_local char last[TIME_RFC3339_MAX + 2];
	static _Thread_local size_t last_len;
	if (us == 0) {
		buf_puts(b, "null");
		return;
	}
	if (us != last_us || last_len == 0) {
		char t[TIME_RFC3339_MAX];
		time_format_rfc3339(us, t);
		last_len = (size_t)snprintf(last, sizeof(last), "\"%s\"", t);
		last_us = us;
	}
	buf_append(b, last, last_len);
}

void wire_raw(buf *b, const char *json, const char *fallback)
{
	buf_puts(b, json != NULL && json[0] != '\0' ? json : fallback);
}

void wire_id(buf *b, const weft_id *id)
{
	if (id == NULL || !id_is_set(id)) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '"');
	buf_append(b, id->str, WEFT_ID_LEN);
	buf_putc(b, '"');
}

void wire_secs(buf *b, int64_t us)
{
	if (us < 0) {
		buf_putc(b, '-');
		us = us == INT64_MIN ? INT64_MAX : -us;
	}
	wire_i64(b, us / 1000000);
	int64_t frac = us % 1000000;
	if (frac == 0)
		return;
	char digits[8];
	int n = 6;
	while (frac % 10 == 0) {
		frac /= 10;
		n--;
	}
	snprintf(digits, sizeof(digits), ".%0*" PRId64, n, frac);
	buf_puts(b, digits);
}

/* ---- answers --------------------------------------------------------- */

void wire_respond_invalid(http_request *r, validate_result res, const errlist *errs, const char *msg,
                          const weft_id *batch)
{
	switch (res) {
	case VALIDATE_FAILED: {
		buf b;
		buf_init(&b);
		buf_puts(&b, "{\"error\":\"Validation failed\",");
		if (batch != NULL) {
			buf_puts(&b, "\"batch_id\":");
			wire_id(&b, batch);
			buf_putc(&b, ',');
		}
		buf_puts(&b, "\"details\":[");
		for (size_t i = 0; errs != NULL && i < errs->len; i++) {
			if (i > 0)
				buf_putc(&b, ',');
			http_json_str(&b, errs->items[i]);
		}
		buf_puts(&b, "]}");
		http_respond_json(r, 400, &b);
		buf_release(&b);
		break;
	}
	case VALIDATE_TOO_LARGE:
		http_respond_error(r, 413, msg);
		break;
	case VALIDATE_BAD_REQUEST:
		http_respond_error(r, 400, msg);
		break;
	default:
		http_respond_text(r, 400, msg);
		break;
	}
}

void wire_respond_unavailable(http_request *r)
{
	http_respond_text(r, 503, "Database connection unavailable");
}

void wire_respond_db_error(http_request *r)
{
	http_respond_error(r, 500, "Internal server error: Database error");
}

void wire_respond_store_error(http_request *r, int rc)
{
	if (rc == WEFT_EUNAVAILABLE)
		wire_respond_unavailable(r);
	else
		wire_respond_db_error(r);
}

void wire_respond_state(http_request *r, unsigned status, const char *message, task_status current)
{
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"error\":");
	http_json_str(&b, message);
	buf_printf(&b, ",\"status\":%u,\"current_status\":\"%s\"}", status, arcrun_status_name(current));
	http_respond_json(r, status, &b);
	buf_release(&b);
}

void wire_respond_task_not_found(http_request *r, const weft_id *id)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "Not found: Task %s not found", id->str);
	http_respond_error(r, 404, msg);
}

void wire_respond_batch_not_found(http_request *r, const weft_id *id)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "Not found: No tasks found for batch %s", id->str);
	http_respond_error(r, 404, msg);
}

bool wire_respond_engine_failure(http_request *r, const engine_cmd *cmd)
{
	switch (cmd->result) {
	case 0:
	case WEFT_ENOTFOUND:
	case WEFT_ECONFLICT:
		return false;
	case WEFT_EUNAVAILABLE:
		wire_respond_unavailable(r);
		return true;
	default:
		wire_respond_db_error(r);
		return true;
	}
}

void wire_respond_unexpected(http_request *r, const engine_cmd *cmd)
{
	log_error("http", "unexpected engine outcome %d for command %s", cmd->result, engine_cmd_name(cmd));
	wire_respond_db_error(r);
}

store_conn *wire_reader(http_request *r)
{
	store_conn *c = store_reader_acquire(http_store(r));
	if (c == NULL)
		wire_respond_unavailable(r);
	return c;
}
