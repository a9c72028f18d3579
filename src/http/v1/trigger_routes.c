/*
 * trigger_routes.c — shared by the routes of hooks, events, subscriptions
 * and schedules (trigger_routes.h).
 */
#include "util/common.h"
#include "http/v1/trigger_routes.h"

#include "core/limits.h"
#include "http/decode.h"
#include "http/v1/errors.h"
#include "http/v1/task_list.h"

const char trigger_name_rule[] = "expected [a-z0-9][a-z0-9_.-]{0,63}";

bool trigger_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TRIGGER_NAME_MAX || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

const char *trigger_route_name(http_request *r)
{
	const char *name = http_param_text(r, 0);
	if (name == NULL || !trigger_name_valid(name)) {
		v1_fail_msg(r, WEFT_EINVALID, NULL, "name: %s.", trigger_name_rule);
		return NULL;
	}
	return name;
}

bool trigger_list_page(http_request *r, int64_t *limit, const char **after)
{
	http_query_src q = http_query_src_of(r);
	http_error *e = http_err(r);
	*limit = V1_LIST_LIMIT_DEFAULT;
	if (decode_query_int(&q, "limit", 1, V1_LIST_LIMIT_MAX, e, limit, NULL) != 0) {
		http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "limit", "expected an integer from 1 to %d",
		               V1_LIST_LIMIT_MAX);
		http_fail(r, WEFT_EINVALID);
		return false;
	}
	*after = http_query(r, "cursor");
	if (*after != NULL && !trigger_name_valid(*after)) {
		http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "cursor", "not a cursor of this list");
		http_fail(r, WEFT_EINVALID);
		return false;
	}
	return true;
}

void trigger_decode_owner(http_request *r, const json_t *doc, const char **ns, const char **name)
{
	http_error *e = http_err(r);
	*ns = NULL;
	*name = NULL;
	if (decode_str(e, doc, "", "namespace", 0, ns) == 0 && *ns != NULL && !namespace_valid(*ns))
		decode_problem(e, "", "namespace", "must match [a-z0-9][a-z0-9_-]{0,62}");
	if (decode_str(e, doc, "", "name", DECODE_REQUIRED, name) == 0 && !trigger_name_valid(*name))
		decode_problem(e, "", "name", "%s", trigger_name_rule);
}
