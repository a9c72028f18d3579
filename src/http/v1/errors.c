/*
 * errors.c — the /v1 error body (see errors.h).
 */
#include "util/common.h"
#include "http/v1/errors.h"

#include <stdarg.h>

#include "core/error.h"
#include "core/limits.h"
#include "http/decode.h"
#include "http/wire.h"

const char *v1_error_code(int code, const http_error *err)
{
	if (err != NULL && err->code != NULL)
		return err->code;
	switch (code) {
	case WEFT_EINVALID: return "invalid_request";
	case WEFT_ENOTFOUND: return "not_found";
	case WEFT_EUNAUTHORIZED: return "unauthorized";
	case WEFT_EFORBIDDEN: return "forbidden";
	case WEFT_ECONFLICT: return "conflict";
	/* An Idempotency-Key used before with another request (422): the
	 * request conflicts with the one the key was first used for. */
	case WEFT_EREUSED: return "conflict";
	case WEFT_ETOOLARGE: return "payload_too_large";
	case WEFT_EOVERLOADED: return "overloaded";
	case WEFT_EUNAVAILABLE:
	case WEFT_EINDOUBT:
	case WEFT_ERETRY: return "unavailable";
	default: return "internal";
	}
}

/* The message when the handler gave none. */
static const char *default_message(int code)
{
	switch (code) {
	case WEFT_EINVALID: return "The request is invalid.";
	case WEFT_ENOTFOUND: return "No such route or object.";
	case WEFT_EUNAUTHORIZED: return "A valid bearer token is required.";
	case WEFT_EFORBIDDEN: return "The token does not allow this.";
	case WEFT_ECONFLICT: return "The object's state does not allow this.";
	case WEFT_ETOOLARGE: return "The request is too large.";
	case WEFT_EOVERLOADED: return "The server is overloaded: retry after a pause.";
	case WEFT_ERETRY: return "A conflict with another transaction: retry.";
	case WEFT_EUNAVAILABLE: return "The database is unavailable.";
	case WEFT_EINDOUBT: return "The database connection was lost during the commit: it may have happened.";
	default: return "Internal server error.";
	}
}

void v1_fail(http_request *r, unsigned status, int code, const http_error *err)
{
	buf b, msg;
	buf_init(&b);
	buf_init(&msg);
	bool fields = err->kind == HTTP_ERR_FIELDS && err->details.len > 0;
	if (err->param != NULL)
		buf_printf(&msg, "Query parameter %s: %s", err->param, err->message);
	else if (err->kind == HTTP_ERR_SYNTAX)
		buf_printf(&msg, "The body is not valid JSON: %s", err->message);
	else if (err->message[0] != '\0')
		buf_puts(&msg, err->message);
	else if (fields)
		buf_printf(&msg, "%zu field%s of the request %s invalid.", err->details.len,
		           err->details.len == 1 ? "" : "s", err->details.len == 1 ? "is" : "are");
	else
		buf_puts(&msg, default_message(code));

	buf_puts(&b, "{\"error\":{\"code\":");
	wire_str(&b, v1_error_code(code, err));
	buf_puts(&b, ",\"message\":");
	wire_str(&b, msg.data);
	buf_puts(&b, ",\"details\":[");
	if (fields) {
		for (size_t i = 0; i < err->details.len; i++) {
			if (i > 0)
				buf_putc(&b, ',');
			wire_str(&b, err->details.items[i]);
		}
	} else if (err->param != NULL) {
		buf_release(&msg);
		buf_init(&msg);
		buf_printf(&msg, "%s: %s", err->param, err->message);
		wire_str(&b, msg.data);
	}
	buf_putc(&b, ']');
	/* A conflict with the object's state names that state. */
	if (code == WEFT_ECONFLICT && (err->has_state || err->state_name[0] != '\0')) {
		buf_puts(&b, ",\"current_status\":");
		wire_str(&b, err->has_state ? task_status_name(err->state) : err->state_name);
	}
	buf_puts(&b, "}}");
	http_respond_json(r, status, &b);
	buf_release(&b);
	buf_release(&msg);
}

void v1_fail_msg(http_request *r, int code, const char *reason, const char *fmt, ...)
{
	http_error *err = http_err(r);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	err->kind = HTTP_ERR_RULE;
	err->param = NULL;
	http_fail(r, http_error_code(err, code, reason));
}

void v1_fail_not_found(http_request *r, const char *what, const weft_id *id)
{
	v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No %s %s.", what, id->str);
}

void v1_fail_namespace(http_request *r, const char *ns)
{
	v1_fail_msg(r, WEFT_EFORBIDDEN, V1_FORBIDDEN_NAMESPACE, "The token may not act in namespace '%s'.", ns);
}

const char *v1_route_namespace(http_request *r)
{
	const char *ns = http_query(r, "namespace");
	if (ns == NULL)
		ns = http_default_ns(r);
	if (!namespace_valid(ns)) {
		v1_fail_msg(r, WEFT_EINVALID, NULL, "namespace: must match [a-z0-9][a-z0-9_-]{0,62}.");
		return NULL;
	}
	if (!http_ns_visible(r, ns)) {
		v1_fail_namespace(r, ns);
		return NULL;
	}
	return ns;
}

int v1_body_object(http_request *r, json_t **doc)
{
	size_t len;
	const char *body = http_body(r, &len);
	return decode_body_object(body, len, http_config(r)->json_max_depth, http_err(r), doc);
}
