/*
 * events.c — events and their subscriptions:
 *
 *   POST   /v1/events               publish {namespace?, topic, payload?, id?}: 201, or 200
 *                                   when its id was published already (nothing more is done)
 *   GET    /v1/events               events of a namespace, newest first (topic, limit, cursor)
 *   GET    /v1/events/{id}          an event with its deliveries, each with its run's outcome
 *   POST   /v1/subscriptions        {namespace?, name, topic, target}: 201
 *   GET    /v1/subscriptions        subscriptions of a namespace, by name (limit, cursor)
 *   GET    /v1/subscriptions/{name}
 *   DELETE /v1/subscriptions/{name}
 *
 * A subscription's topic is exact ("orders.paid"), or a prefix when it
 * ends with ".*" ("orders.*" matches "orders.paid" and "orders.eu.paid",
 * not "orders"), or "*" for every topic. An event starts the target of
 * each matching subscription once, its payload the run's input; every
 * event is recorded, with a subscriber or not.
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include "core/limits.h"
#include "engine/commands/triggers.h"
#include "http/decode.h"
#include "http/v1/cursor.h"
#include "http/v1/errors.h"
#include "http/v1/targets.h"
#include "http/v1/task_list.h"
#include "http/v1/trigger_routes.h"
#include "http/wire.h"
#include "store/triggers.h"
#include "util/alloc.h"
#include "util/buf.h"

#define EVENT_TOPIC_MAX 128
#define EVENT_ID_MAX 128

static const char topic_rule[] = "expected 1 to 128 characters from [A-Za-z0-9_.:-]";
static const char id_rule[] = "expected 1 to 128 characters from [A-Za-z0-9_.:-]";

static bool word_valid(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

/* ---- shapes ------------------------------------------------------------------------------- */

static void put_event(buf *b, const trigger_event *ev, const event_delivery_row *d, size_t nd, bool with_deliveries)
{
	buf_puts(b, "{\"namespace\":");
	wire_str(b, ev->namespace);
	buf_puts(b, ",\"id\":");
	wire_str(b, ev->id);
	buf_puts(b, ",\"topic\":");
	wire_str(b, ev->topic);
	buf_puts(b, ",\"payload\":");
	wire_raw(b, ev->payload, "null");
	buf_puts(b, ",\"source\":");
	wire_str(b, ev->source);
	buf_puts(b, ",\"created_at\":");
	wire_ts(b, ev->created_at);
	if (with_deliveries) {
		buf_puts(b, ",\"deliveries\":[");
		for (size_t i = 0; i < nd; i++) {
			if (i > 0)
				buf_putc(b, ',');
			buf_puts(b, "{\"subscription\":");
			wire_str(b, d[i].subscription);
			buf_puts(b, ",\"target_kind\":");
			wire_str(b, d[i].target_kind);
			buf_puts(b, ",\"run_id\":");
			if (d[i].run_id != NULL)
				wire_str(b, d[i].run_id);
			else
				buf_puts(b, "null");
			buf_puts(b, ",\"outcome\":");
			wire_str(b, d[i].outcome);
			buf_puts(b, ",\"created_at\":");
			wire_ts(b, d[i].created_at);
			buf_putc(b, '}');
		}
		buf_putc(b, ']');
	}
	buf_putc(b, '}');
}

static void put_subscription(buf *b, const subscription_row *s)
{
	buf_puts(b, "{\"namespace\":");
	wire_str(b, s->namespace);
	buf_puts(b, ",\"name\":");
	wire_str(b, s->name);
	buf_puts(b, ",\"topic\":");
	wire_str(b, s->topic);
	buf_puts(b, ",\"match\":");
	wire_str(b, s->prefix != NULL ? "prefix" : "exact");
	buf_puts(b, ",\"target\":");
	wire_raw(b, s->target, "null");
	buf_puts(b, ",\"created_at\":");
	wire_ts(b, s->created_at);
	buf_putc(b, '}');
}

static void answer_event(http_request *r, int status, const char *ns, const char *id)
{
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	trigger_event ev;
	event_delivery_row *d = NULL;
	size_t nd = 0;
	int rc = store_event_get(c, ns, id, &ev);
	if (rc == 0)
		rc = store_event_deliveries(c, ns, id, &d, &nd);
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND) {
		v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No event %s in namespace %s.", id, ns);
		return;
	}
	if (rc != 0) {
		trigger_event_release(&ev);
		store_free_event_deliveries(d, nd);
		http_fail_server(r, rc, "event read");
		return;
	}
	buf b;
	buf_init(&b);
	put_event(&b, &ev, d, nd, true);
	trigger_event_release(&ev);
	store_free_event_deliveries(d, nd);
	http_respond_json(r, status, &b);
	buf_release(&b);
}

/* ---- POST /v1/events --------------------------------------------------------------------- */

typedef struct publish_state {
	cmd_event_publish cmd;
	json_t *doc;
	char *payload;
	char id[EVENT_ID_MAX + 1];
} publish_state;

static void publish_state_free(void *p)
{
	publish_state *s = p;
	json_decref(s->doc);
	free(s->payload);
	free(s);
}

static int decode_publish(http_request *r, publish_state *s)
{
	http_error *e = http_err(r);
	int rc = v1_body_object(r, &s->doc);
	if (rc != 0)
		return rc;
	static const char *const known[] = { "namespace", "topic", "payload", "id", NULL };
	decode_unknown_members(e, s->doc, "", known);
	const char *ns = NULL, *topic = NULL, *id = NULL;
	if (decode_str(e, s->doc, "", "namespace", 0, &ns) == 0 && ns != NULL && !namespace_valid(ns))
		decode_problem(e, "", "namespace", "must match [a-z0-9][a-z0-9_-]{0,62}");
	if (decode_str(e, s->doc, "", "topic", DECODE_REQUIRED, &topic) == 0 && !word_valid(topic, EVENT_TOPIC_MAX))
		decode_problem(e, "", "topic", "%s", topic_rule);
	if (decode_str(e, s->doc, "", "id", 0, &id) == 0 && id != NULL && !word_valid(id, EVENT_ID_MAX))
		decode_problem(e, "", "id", "%s", id_rule);
	bool too_large = false;
	json_t *payload = json_object_get(s->doc, "payload");
	s->payload = json_dumps(payload != NULL ? payload : json_null(),
	                        JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	if (s->payload != NULL && strlen(s->payload) > JOB_PAYLOAD_MAX_BYTES) {
		decode_problem(e, "", "payload", "must be at most %d bytes as compact JSON", JOB_PAYLOAD_MAX_BYTES);
		too_large = true;
	}
	if (e->details.len > 0)
		return too_large ? WEFT_ETOOLARGE : WEFT_EINVALID;
	if (id != NULL) {
		snprintf(s->id, sizeof s->id, "%s", id);
	} else {
		weft_id fresh;
		id_new_v7(&fresh);
		snprintf(s->id, sizeof s->id, "%s", fresh.str);
	}
	trigger_event *ev = &s->cmd.ev;
	ev->namespace = (char *)(ns != NULL ? ns : http_default_ns(r));
	ev->id = s->id;
	ev->topic = (char *)topic;
	ev->payload = s->payload;
	ev->source = (char *)"api";
	return 0;
}

static void finish_publish(http_request *r, engine_cmd *cmd, void *state)
{
	publish_state *s = state;
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	answer_event(r, s->cmd.created ? 201 : 200, s->cmd.ev.namespace, s->id);
}

void v1_publish_event(http_request *r)
{
	publish_state *s = xcalloc(1, sizeof *s);
	cmd_event_publish_init(&s->cmd);
	int rc = decode_publish(r, s);
	if (rc != 0) {
		http_fail(r, rc);
		publish_state_free(s);
		return;
	}
	if (!http_ns_visible(r, s->cmd.ev.namespace)) {
		v1_fail_namespace(r, s->cmd.ev.namespace);
		publish_state_free(s);
		return;
	}
	s->cmd.base.actor = http_actor(r);
	http_submit(r, &s->cmd.base, s, finish_publish, publish_state_free);
}

/* ---- GET /v1/events, GET /v1/events/{id} --------------------------------------------------- */

/* The cursor of the event list: base64url of "e1|<created_at µs>|<id>". */
static void event_cursor(const trigger_event *ev, buf *b)
{
	char *key = xasprintf("e1|%" PRId64 "|%s", ev->created_at, ev->id);
	size_t n = strlen(key);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	v1_base64url_encode((const unsigned char *)key, n, out);
	wire_str(b, out);
	free(out);
	free(key);
}

static bool event_cursor_read(const char *text, int64_t *at, char id[EVENT_ID_MAX + 1])
{
	if (strlen(text) > V1_CURSOR_MAX)
		return false;
	unsigned char raw[V1_CURSOR_MAX];
	long n = v1_base64url_decode(text, raw, sizeof raw - 1);
	if (n < 0)
		return false;
	raw[n] = '\0';
	long long t;
	int used = 0;
	if (sscanf((const char *)raw, "e1|%lld|%n", &t, &used) != 1 || used == 0)
		return false;
	const char *rest = (const char *)raw + used;
	if (!word_valid(rest, EVENT_ID_MAX))
		return false;
	*at = (int64_t)t;
	snprintf(id, EVENT_ID_MAX + 1, "%s", rest);
	return true;
}

void v1_list_events(http_request *r)
{
	http_query_src q = http_query_src_of(r);
	http_error *e = http_err(r);
	int64_t limit = V1_LIST_LIMIT_DEFAULT;
	if (decode_query_int(&q, "limit", 1, V1_LIST_LIMIT_MAX, e, &limit, NULL) != 0) {
		http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "limit", "expected an integer from 1 to %d",
		               V1_LIST_LIMIT_MAX);
		http_fail(r, WEFT_EINVALID);
		return;
	}
	const char *topic = http_query(r, "topic");
	if (topic != NULL && !word_valid(topic, EVENT_TOPIC_MAX)) {
		http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "topic", "%s", topic_rule);
		http_fail(r, WEFT_EINVALID);
		return;
	}
	const char *cursor = http_query(r, "cursor");
	int64_t before_at = 0;
	char before_id[EVENT_ID_MAX + 1] = "";
	if (cursor != NULL && !event_cursor_read(cursor, &before_at, before_id)) {
		http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "cursor", "not a cursor of this list");
		http_fail(r, WEFT_EINVALID);
		return;
	}
	const char *ns = v1_route_namespace(r);
	if (ns == NULL)
		return;
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	trigger_event *rows = NULL;
	size_t n = 0;
	int rc = store_event_list(c, ns, topic, before_at, cursor != NULL ? before_id : NULL, (size_t)limit + 1,
	                          &rows, &n);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		store_free_trigger_events(rows, n);
		http_fail_server(r, rc, "event list");
		return;
	}
	size_t shown = MIN(n, (size_t)limit);
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"events\":[");
	for (size_t i = 0; i < shown; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		put_event(&b, &rows[i], NULL, 0, false);
	}
	buf_puts(&b, "],\"next_cursor\":");
	if (n > shown)
		event_cursor(&rows[shown - 1], &b);
	else
		buf_puts(&b, "null");
	buf_putc(&b, '}');
	store_free_trigger_events(rows, n);
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

void v1_get_event(http_request *r)
{
	const char *id = http_param_text(r, 0);
	if (id == NULL || !word_valid(id, EVENT_ID_MAX)) {
		v1_fail_msg(r, WEFT_EINVALID, NULL, "id: %s.", id_rule);
		return;
	}
	const char *ns = v1_route_namespace(r);
	if (ns != NULL)
		answer_event(r, 200, ns, id);
}

/* ---- subscriptions ---------------------------------------------------------------------------- */

typedef struct sub_state {
	union {
		engine_cmd base;
		cmd_subscription_create create;
		cmd_subscription_delete del;
	} cmd;
	json_t *doc;
	v1_target target;
	char *prefix;
	char namespace[64], name[TRIGGER_NAME_MAX + 1];
} sub_state;

static void sub_state_free(void *p)
{
	sub_state *s = p;
	json_decref(s->doc);
	v1_target_release(&s->target);
	free(s->prefix);
	free(s);
}

/* An exact topic, "<prefix>.*" or "*"; *prefix (owned) the part before
 * the "*", NULL for an exact one. */
static bool pattern_valid(const char *topic, char **prefix)
{
	size_t n = strlen(topic);
	*prefix = NULL;
	if (strcmp(topic, "*") == 0) {
		*prefix = xstrdup("");
		return true;
	}
	if (n >= 3 && strcmp(topic + n - 2, ".*") == 0) {
		char *p = xstrndup(topic, n - 2);
		bool ok = word_valid(p, EVENT_TOPIC_MAX);
		free(p);
		if (ok)
			*prefix = xstrndup(topic, n - 1);
		return ok;
	}
	return word_valid(topic, EVENT_TOPIC_MAX);
}

static void finish_subscription(http_request *r, engine_cmd *cmd, void *state)
{
	sub_state *s = state;
	if (cmd->result == WEFT_ECONFLICT) {
		v1_fail_msg(r, WEFT_ECONFLICT, NULL, "A subscription named %s exists already in namespace %s.", s->name,
		            s->namespace);
		return;
	}
	if (cmd->result == WEFT_ENOTFOUND) {
		v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No subscription %s in namespace %s.", s->name, s->namespace);
		return;
	}
	if (cmd->result == WEFT_ETOOLARGE) {
		v1_fail_msg(r, WEFT_ETOOLARGE, NULL,
		            "Namespace %s has %d subscriptions, the most it may have: delete one first.", s->namespace,
		            SUBSCRIPTIONS_PER_NAMESPACE_MAX);
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	if (s->doc == NULL) {
		http_respond_empty(r, 204);
		return;
	}
	buf b;
	buf_init(&b);
	put_subscription(&b, &s->cmd.create.row);
	http_respond_json(r, 201, &b);
	buf_release(&b);
}

void v1_create_subscription(http_request *r)
{
	sub_state *s = xcalloc(1, sizeof *s);
	cmd_subscription_create_init(&s->cmd.create);
	http_error *e = http_err(r);
	int rc = v1_body_object(r, &s->doc);
	const char *ns = NULL, *name = NULL, *topic = NULL;
	bool too_large = false;
	if (rc == 0) {
		static const char *const known[] = { "namespace", "name", "topic", "target", NULL };
		decode_unknown_members(e, s->doc, "", known);
		trigger_decode_owner(r, s->doc, &ns, &name);
		if (decode_str(e, s->doc, "", "topic", DECODE_REQUIRED, &topic) == 0 && !pattern_valid(topic, &s->prefix))
			decode_problem(e, "", "topic",
			               "expected a topic (1 to 128 characters from [A-Za-z0-9_.:-]), a prefix "
			               "pattern <topic>.* or *");
		v1_decode_target(s->doc, &s->target, e, &too_large);
		if (e->details.len > 0)
			rc = too_large ? WEFT_ETOOLARGE : WEFT_EINVALID;
	}
	if (rc != 0) {
		http_fail(r, rc);
		sub_state_free(s);
		return;
	}
	snprintf(s->namespace, sizeof s->namespace, "%s", ns != NULL ? ns : http_default_ns(r));
	snprintf(s->name, sizeof s->name, "%s", name);
	const char *run_ns = s->target.namespace;
	if (!http_ns_visible(r, s->namespace) || (run_ns != NULL && !http_ns_visible(r, run_ns))) {
		v1_fail_namespace(r, http_ns_visible(r, s->namespace) ? run_ns : s->namespace);
		sub_state_free(s);
		return;
	}
	if (!v1_target_template_exists(r, &s->target, s->namespace)) {
		sub_state_free(s);
		return;
	}
	subscription_row *row = &s->cmd.create.row;
	row->namespace = s->namespace;
	row->name = s->name;
	row->topic = (char *)topic;
	row->prefix = s->prefix;
	row->target_kind = (char *)s->target.kind;
	row->target = s->target.compact;
	s->cmd.base.actor = http_actor(r);
	http_submit(r, &s->cmd.base, s, finish_subscription, sub_state_free);
}

void v1_delete_subscription(http_request *r)
{
	const char *name = trigger_route_name(r);
	const char *ns = name != NULL ? v1_route_namespace(r) : NULL;
	if (ns == NULL)
		return;
	sub_state *s = xcalloc(1, sizeof *s);
	cmd_subscription_delete_init(&s->cmd.del);
	snprintf(s->namespace, sizeof s->namespace, "%s", ns);
	snprintf(s->name, sizeof s->name, "%s", name);
	s->cmd.del.namespace = s->namespace;
	s->cmd.del.name = s->name;
	s->cmd.base.actor = http_actor(r);
	http_submit(r, &s->cmd.base, s, finish_subscription, sub_state_free);
}

static void put_subscription_item(buf *b, const void *item)
{
	put_subscription(b, item);
}

void v1_list_subscriptions(http_request *r)
{
	int64_t limit;
	const char *after;
	if (!trigger_list_page(r, &limit, &after))
		return;
	const char *ns = v1_route_namespace(r);
	if (ns == NULL)
		return;
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	subscription_row *rows = NULL;
	size_t n = 0;
	int rc = store_subscription_list(c, ns, after, (size_t)limit + 1, &rows, &n);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		store_free_subscriptions(rows, n);
		http_fail_server(r, rc, "subscription list");
		return;
	}
	size_t shown = MIN(n, (size_t)limit);
	v1_respond_name_page(r, "subscriptions", rows, shown, sizeof *rows, put_subscription_item,
	                     n > shown ? rows[shown - 1].name : NULL);
	store_free_subscriptions(rows, n);
}

void v1_get_subscription(http_request *r)
{
	const char *name = trigger_route_name(r);
	const char *ns = name != NULL ? v1_route_namespace(r) : NULL;
	if (ns == NULL)
		return;
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	subscription_row s;
	int rc = store_subscription_get(c, ns, name, &s);
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND) {
		v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No subscription %s in namespace %s.", name, ns);
		return;
	}
	if (rc != 0) {
		http_fail_server(r, rc, "subscription read");
		return;
	}
	buf b;
	buf_init(&b);
	put_subscription(&b, &s);
	subscription_row_release(&s);
	http_respond_json(r, 200, &b);
	buf_release(&b);
}
