/*
 * audit.c — GET /v1/audit: the audit log (docs/internals/audit.md),
 * newest first, filtered by time, actor, action, object and namespace,
 * paged by a keyset cursor along (at, id).
 *
 * Admin tokens only (403 otherwise). An admin token limited to some
 * namespaces sees the entries of those namespaces only: the entries of
 * no namespace (tokens) and of other namespaces are left out, and a
 * namespace it does not see is 403 forbidden_namespace, as elsewhere.
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/error.h"
#include "core/limits.h"
#include "engine/audit.h"
#include "http/decode.h"
#include "http/tokens.h"
#include "http/v1/cursor.h"
#include "http/v1/errors.h"
#include "http/v1/task_list.h"
#include "http/wire.h"
#include "store/audit.h"
#include "util/buf.h"

/* Longest action and object kind filters ("dead_letter.requeue"). */
#define AUDIT_ACTION_MAX 64
#define AUDIT_KIND_MAX 64

typedef struct audit_query {
	audit_filter f;
	int64_t limit;
	uint64_t fingerprint;
} audit_query;

/* A text filter of at most max bytes: 0, or WEFT_EINVALID naming it. */
static int text_filter(const http_query_src *src, const char *key, size_t max, http_error *e, const char **out)
{
	*out = decode_query_text(src, key);
	if (*out != NULL && strlen(*out) > max)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, key, "at most %zu bytes", max);
	return 0;
}

static int decode(http_request *r, audit_query *q)
{
	http_query_src src = http_query_src_of(r);
	http_error *e = http_err(r);
	audit_filter *f = &q->f;
	memset(q, 0, sizeof *q);
	q->limit = V1_LIST_LIMIT_DEFAULT;
	f->namespace = decode_query_text(&src, "namespace");
	if (f->namespace != NULL && !namespace_valid(f->namespace))
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "namespace", "must match [a-z0-9][a-z0-9_-]{0,62}");
	if (text_filter(&src, "actor", TOKEN_NAME_MAX + 16, e, &f->actor) != 0 ||
	    text_filter(&src, "action", AUDIT_ACTION_MAX, e, &f->action) != 0 ||
	    text_filter(&src, "object_kind", AUDIT_KIND_MAX, e, &f->object_kind) != 0 ||
	    text_filter(&src, "object_id", AUDIT_OBJECT_ID_MAX, e, &f->object_id) != 0)
		return WEFT_EINVALID;
	if (decode_query_time(&src, "since", e, &f->since) != 0)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "since", "expected an RFC 3339 time");
	if (decode_query_time(&src, "until", e, &f->until) != 0)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "until", "expected an RFC 3339 time");
	if (f->since > 0 && f->until > 0 && f->until <= f->since)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "until", "must be later than since");
	if (decode_query_int(&src, "limit", 1, V1_LIST_LIMIT_MAX, e, &q->limit, NULL) != 0)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "limit", "expected an integer from 1 to %d",
		                      V1_LIST_LIMIT_MAX);
	/* The filters in a canonical form: a cursor only pages the list it
	 * was made for. */
	buf b;
	buf_init(&b);
	buf_printf(&b, "audit|%s|%s|%s|%s|%s|%" PRId64 "|%" PRId64, f->namespace ? f->namespace : "",
	           f->actor ? f->actor : "", f->action ? f->action : "", f->object_kind ? f->object_kind : "",
	           f->object_id ? f->object_id : "", f->since, f->until);
	q->fingerprint = v1_fingerprint(b.data);
	buf_release(&b);
	const char *cur = src.get(src.ctx, "cursor");
	if (cur != NULL) {
		v1_cursor after;
		if (v1_cursor_take(cur, q->fingerprint, e, &after) != 0)
			return WEFT_EINVALID;
		f->after_at = after.at;
		f->after_id = after.id;
	}
	f->limit = (size_t)q->limit + 1;     /* one more tells whether another page follows */
	return 0;
}

static void put_entry(buf *b, const audit_row *a)
{
	buf_puts(b, "{\"id\":");
	wire_id(b, &a->id);
	buf_puts(b, ",\"at\":");
	wire_ts(b, a->at);
	buf_puts(b, ",\"namespace\":");
	if (a->namespace[0] != '\0')
		wire_str(b, a->namespace);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"actor\":");
	wire_str(b, a->actor);
	buf_puts(b, ",\"action\":");
	wire_str(b, a->action);
	buf_puts(b, ",\"object_kind\":");
	wire_str(b, a->object_kind);
	buf_puts(b, ",\"object_id\":");
	wire_str(b, a->object_id);
	buf_puts(b, ",\"detail\":");
	wire_raw(b, a->detail, "{}");
	buf_putc(b, '}');
}

void v1_list_audit(http_request *r)
{
	if (!http_admin(r)) {
		v1_fail_msg(r, WEFT_EFORBIDDEN, NULL, "Only an admin token may read the audit log.");
		return;
	}
	audit_query q;
	int rc = decode(r, &q);
	if (rc == 0 && q.f.namespace != NULL && !http_ns_visible(r, q.f.namespace)) {
		v1_fail_namespace(r, q.f.namespace);
		return;
	}
	static const char *const none[] = { "" };
	const http_token *t = http_token_of(r);
	if (rc == 0 && q.f.namespace == NULL && t != NULL && !t->all_namespaces) {
		q.f.visible = t->nnamespaces > 0 ? (const char *const *)t->namespaces : none;
		q.f.nvisible = t->nnamespaces > 0 ? t->nnamespaces : 1;
	}
	store_conn *c = http_reader_after(r, rc);
	if (c == NULL)
		return;
	audit_row *rows = NULL;
	size_t n = 0;
	rc = store_audit_list(c, &q.f, &rows, &n);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		http_fail_server(r, rc, "audit log");
		return;
	}
	bool more = n > (size_t)q.limit;
	size_t shown = more ? (size_t)q.limit : n;
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"entries\":[");
	for (size_t i = 0; i < shown; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		put_entry(&b, &rows[i]);
	}
	buf_puts(&b, "],\"next_cursor\":");
	if (more) {
		v1_cursor next = { .at = rows[shown - 1].at, .id = rows[shown - 1].id, .filters = q.fingerprint };
		char text[V1_CURSOR_MAX];
		v1_cursor_encode(&next, text);
		wire_str(&b, text);
	} else {
		buf_puts(&b, "null");
	}
	buf_putc(&b, '}');
	store_free_audit(rows, n);
	http_respond_json(r, 200, &b);
	buf_release(&b);
}
