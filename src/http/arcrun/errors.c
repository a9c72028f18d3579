/*
 * errors.c — the ArcRun API's error bodies (see shapes.h): ApiError
 * {"error":"<Prefix>: <message>","status":N}, the Validation failed body,
 * and the plain-text answers of its framework.
 */
#include "util/common.h"
#include "http/arcrun/shapes.h"

#include <stdarg.h>

#include "core/error.h"
#include "http/arcrun/names.h"
#include "http/wire.h"

/* ApiError's prefix for each status. */
static const char *prefix_of(unsigned status)
{
	switch (status) {
	case 400: return "Bad request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not found";
	case 409: return "Conflict";
	case 413: return "Payload too large";
	case 422: return "Unprocessable entity";
	case 503: return "Service unavailable";
	default: return "Internal server error";
	}
}

/* {"error":"<Prefix>: <message>","status":N[,"current_status":"<S>",
 * "current_state":"<s>"]} */
static void respond_api_error(http_request *r, unsigned status, const char *message, const http_error *err)
{
	buf b, text;
	buf_init(&b);
	buf_init(&text);
	buf_printf(&text, "%s: %s", prefix_of(status), message);
	buf_puts(&b, "{\"error\":");
	wire_str(&b, text.data);
	buf_release(&text);
	buf_puts(&b, ",\"status\":");
	wire_i64(&b, status);
	if (err != NULL && err->has_state) {
		buf_puts(&b, ",\"current_status\":\"");
		buf_puts(&b, arcrun_status_name(err->state));
		buf_puts(&b, "\",\"current_state\":\"");
		buf_puts(&b, task_status_name(err->state));
		buf_putc(&b, '"');
	}
	buf_putc(&b, '}');
	http_respond_json(r, status, &b);
	buf_release(&b);
}

static void respond_validation(http_request *r, const http_error *err, const weft_id *batch)
{
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"error\":\"Validation failed\",");
	if (batch != NULL) {
		buf_puts(&b, "\"batch_id\":");
		wire_id(&b, batch);
		buf_putc(&b, ',');
	}
	buf_puts(&b, "\"details\":[");
	for (size_t i = 0; i < err->details.len; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		wire_str(&b, err->details.items[i]);
	}
	buf_puts(&b, "]}");
	http_respond_json(r, 400, &b);
	buf_release(&b);
}

static void respond_plain(http_request *r, unsigned status, const char *prefix, const char *message)
{
	buf b;
	buf_init(&b);
	buf_puts(&b, prefix);
	buf_puts(&b, message);
	http_respond_text(r, status, b.data);
	buf_release(&b);
}

/* A request ArcRun's framework or handlers refuse as malformed. */
static void fail_invalid(http_request *r, unsigned status, const http_error *err, const weft_id *batch)
{
	if (err->kind == HTTP_ERR_FIELDS && err->details.len > 0)
		respond_validation(r, err, batch);
	else if (err->kind == HTTP_ERR_SYNTAX)
		respond_plain(r, status, err->param != NULL ? "Query deserialize error: " : "Json deserialize error: ",
		              err->message);
	else if (err->param != NULL || status != 400)
		respond_api_error(r, status, err->message, err);
	else
		http_respond_text(r, status, err->message);
}

static void fail_with(http_request *r, unsigned status, int code, const http_error *err, const weft_id *batch)
{
	const char *msg = err->message;
	if (err->has_state) {
		respond_api_error(r, status, msg, err);
		return;
	}
	switch (code) {
	case WEFT_EINVALID:
	case WEFT_ETOOLARGE:
		fail_invalid(r, status, err, batch);
		break;
	case WEFT_ENOTFOUND:
		if (msg[0] == '\0')
			http_respond_text(r, status, "Not Found");       /* no route */
		else
			respond_api_error(r, status, msg, err);
		break;
	case WEFT_EUNAVAILABLE:
		http_respond_text(r, status, msg[0] != '\0' ? msg : "Database connection unavailable");
		break;
	case WEFT_EOVERLOADED:
	case WEFT_ERETRY:
		http_respond_text(r, status, "Service temporarily unavailable: try again later");
		break;
	default:
		respond_api_error(r, status, msg[0] != '\0' ? msg : "Database error", err);
		break;
	}
}

void arcrun_fail(http_request *r, unsigned status, int code, const http_error *err)
{
	fail_with(r, status, code, err, NULL);
}

void arcrun_fail_batch(http_request *r, int code, const weft_id *batch)
{
	http_error *err = http_err(r);
	if (code == WEFT_EINVALID && err->kind == HTTP_ERR_FIELDS && err->details.len > 0)
		respond_validation(r, err, batch);
	else
		http_fail(r, code);
}

static void WEFT_PRINTF(4, 0) fail_v(http_request *r, int code, const task_status *current, const char *fmt,
                                      va_list ap)
{
	http_error *err = http_err(r);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	if (current != NULL)
		http_error_state(err, *current);
	http_fail(r, code);
}

void arcrun_fail_msg(http_request *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail_v(r, code, NULL, fmt, ap);
	va_end(ap);
}

void arcrun_fail_state(http_request *r, int code, task_status current, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail_v(r, code, &current, fmt, ap);
	va_end(ap);
}

void arcrun_fail_task_not_found(http_request *r, const weft_id *id)
{
	arcrun_fail_msg(r, WEFT_ENOTFOUND, "Task %s not found", id->str);
}

void arcrun_fail_batch_not_found(http_request *r, const weft_id *id)
{
	arcrun_fail_msg(r, WEFT_ENOTFOUND, "No tasks found for batch %s", id->str);
}
