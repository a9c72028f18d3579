/*
 * hooks.c — incoming webhooks:
 *
 *   POST   /v1/hooks                 create a hook {name, target, scheme?, secret?,
 *                                    replay_window_secs?}: 201, its secret answered once
 *   GET    /v1/hooks                 hooks of a namespace, by name (limit, cursor)
 *   GET    /v1/hooks/{name}          one hook (never its secret)
 *   DELETE /v1/hooks/{name}          delete a hook
 *   POST   /v1/hooks/{name}/rotate   replace its secret {secret?}: answered once
 *   POST   /v1/hooks/{name}          a delivery (open: no token; the signature
 *                                    authenticates it): starts the target
 *
 * A delivery is signed with the hook's secret in its scheme:
 *   weft    X-Weft-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">,
 *           the scheme weft signs its own outgoing webhooks with (exec/webhook.c);
 *           t must be within replay_window_secs of the server's clock;
 *   github  X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>.
 * A missing, malformed or wrong signature, a stale t or an unknown hook is
 * 401, and nothing starts (signatures are compared in constant time).
 * The delivery id (X-Weft-Delivery, X-GitHub-Delivery; the signature when
 * there is none) is kept for the replay window: a delivery sent again
 * within it answers the first one's run (200) instead of starting another.
 * The input of the run is the body: JSON when it parses, else the body as
 * a JSON string (empty: null), at most JOB_PAYLOAD_MAX_BYTES.
 */
#include "util/common.h"
#include "http/v1/handlers.h"

#include <openssl/rand.h>

#include "core/limits.h"
#include "engine/commands/triggers.h"
#include "http/decode.h"
#include "http/v1/cursor.h"
#include "http/v1/errors.h"
#include "http/v1/targets.h"
#include "http/v1/trigger_routes.h"
#include "http/wire.h"
#include "store/triggers.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/signature.h"

#define HOOK_SECRET_MIN 16
#define HOOK_SECRET_MAX 256
#define HOOK_WINDOW_DEFAULT 300
#define HOOK_WINDOW_MAX 86400
#define HOOK_DELIVERY_ID_MAX 128
#define HOOK_SIGNATURE_HEADER_MAX 1024

/* ---- the Hook shape ---------------------------------------------------------------------- */

static void put_hook(buf *b, const hook_row *h, const char *secret)
{
	buf_puts(b, "{\"namespace\":");
	wire_str(b, h->namespace);
	buf_puts(b, ",\"name\":");
	wire_str(b, h->name);
	buf_puts(b, ",\"target\":");
	wire_raw(b, h->target, "null");
	buf_puts(b, ",\"scheme\":");
	wire_str(b, h->scheme);
	buf_puts(b, ",\"replay_window_secs\":");
	wire_i64(b, h->replay_window_secs);
	buf_puts(b, ",\"deliveries\":");
	wire_i64(b, h->deliveries);
	buf_puts(b, ",\"last_delivery_at\":");
	wire_ts(b, h->last_delivery_at);
	buf_puts(b, ",\"created_at\":");
	wire_ts(b, h->created_at);
	buf_puts(b, ",\"updated_at\":");
	wire_ts(b, h->updated_at);
	if (secret != NULL) {
		buf_puts(b, ",\"secret\":");
		wire_str(b, secret);
	}
	buf_putc(b, '}');
}

static void answer_hook(http_request *r, int status, const char *ns, const char *name, const char *secret)
{
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	hook_row h;
	int rc = store_hook_get(c, ns, name, &h);
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND) {
		v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No hook %s in namespace %s.", name, ns);
		return;
	}
	if (rc != 0) {
		http_fail_server(r, rc, "hook read");
		return;
	}
	buf b;
	buf_init(&b);
	put_hook(&b, &h, secret);
	hook_row_release(&h);
	http_respond_json(r, status, &b);
	buf_release(&b);
}

/* A new secret: 32 random bytes as hex, prefixed so it is recognized. */
static char *new_secret(void)
{
	unsigned char raw[32];
	if (RAND_bytes(raw, sizeof raw) != 1)
		return NULL;
	buf b;
	buf_init(&b);
	buf_puts(&b, "whsec_");
	for (size_t i = 0; i < sizeof raw; i++)
		buf_printf(&b, "%02x", raw[i]);
	return buf_detach(&b, NULL);
}

/* The optional "secret" of doc into *secret (owned): given (checked) or
 * made. Problems are added to e. */
static void decode_secret(http_error *e, const json_t *doc, char **secret)
{
	const char *given = NULL;
	*secret = NULL;
	if (decode_str(e, doc, "", "secret", 0, &given) != 0)
		return;
	if (given == NULL) {
		*secret = new_secret();
		if (*secret == NULL)
			decode_problem(e, "", "secret", "no random bytes to make one; give one");
		return;
	}
	size_t n = strlen(given);
	bool visible = true;
	for (size_t i = 0; i < n; i++)
		visible = visible && given[i] > ' ' && given[i] < 0x7f;
	if (n < HOOK_SECRET_MIN || n > HOOK_SECRET_MAX || !visible)
		decode_problem(e, "", "secret", "must be %d to %d visible ASCII characters", HOOK_SECRET_MIN,
		               HOOK_SECRET_MAX);
	else
		*secret = xstrdup(given);
}

/* ---- POST /v1/hooks ---------------------------------------------------------------------- */

typedef struct create_state {
	cmd_hook_create cmd;
	json_t *doc;
	v1_target target;
	char *secret;
} create_state;

static void create_state_free(void *p)
{
	create_state *s = p;
	json_decref(s->doc);
	v1_target_release(&s->target);
	free(s->secret);
	free(s);
}

static int decode_create(http_request *r, create_state *s)
{
	http_error *e = http_err(r);
	int rc = v1_body_object(r, &s->doc);
	if (rc != 0)
		return rc;
	static const char *const known[] = { "namespace", "name", "target", "scheme", "secret",
		                             "replay_window_secs", NULL };
	decode_unknown_members(e, s->doc, "", known);
	const char *ns, *name, *scheme = "weft";
	trigger_decode_owner(r, s->doc, &ns, &name);
	bool too_large = false;
	v1_decode_target(s->doc, &s->target, e, &too_large);
	if (decode_str(e, s->doc, "", "scheme", 0, &scheme) == 0) {
		if (scheme == NULL)
			scheme = "weft";
		if (strcmp(scheme, "weft") != 0 && strcmp(scheme, "github") != 0)
			decode_problem(e, "", "scheme", "expected weft or github");
	}
	int64_t window = HOOK_WINDOW_DEFAULT;
	bool has_window = false;
	if (decode_int(e, s->doc, "", "replay_window_secs", 0, &window, &has_window) == 0 && has_window &&
	    (window < 1 || window > HOOK_WINDOW_MAX))
		decode_problem(e, "", "replay_window_secs", "must be from 1 to %d", HOOK_WINDOW_MAX);
	if (!has_window)
		window = HOOK_WINDOW_DEFAULT;
	decode_secret(e, s->doc, &s->secret);
	if (e->details.len > 0)
		return too_large ? WEFT_ETOOLARGE : WEFT_EINVALID;
	hook_row *row = &s->cmd.row;
	row->namespace = (char *)(ns != NULL ? ns : http_default_ns(r));
	row->name = (char *)name;
	row->target_kind = (char *)s->target.kind;
	row->target = s->target.compact;
	row->scheme = (char *)scheme;
	row->secret = s->secret;
	row->replay_window_secs = window;
	return 0;
}

static void finish_create(http_request *r, engine_cmd *cmd, void *state)
{
	create_state *s = state;
	if (cmd->result == WEFT_ECONFLICT) {
		v1_fail_msg(r, WEFT_ECONFLICT, NULL, "A hook named %s exists already in namespace %s.", s->cmd.row.name,
		            s->cmd.row.namespace);
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	answer_hook(r, 201, s->cmd.row.namespace, s->cmd.row.name, s->secret);
}

void v1_create_hook(http_request *r)
{
	create_state *s = xcalloc(1, sizeof *s);
	cmd_hook_create_init(&s->cmd);
	int rc = decode_create(r, s);
	if (rc != 0) {
		http_fail(r, rc);
		create_state_free(s);
		return;
	}
	const char *ns = s->cmd.row.namespace;
	const char *run_ns = s->target.namespace;
	if (!http_ns_visible(r, ns) || (run_ns != NULL && !http_ns_visible(r, run_ns))) {
		v1_fail_namespace(r, http_ns_visible(r, ns) ? run_ns : ns);
		create_state_free(s);
		return;
	}
	if (!v1_target_template_exists(r, &s->target, ns)) {
		create_state_free(s);
		return;
	}
	s->cmd.base.actor = http_actor(r);
	http_submit(r, &s->cmd.base, s, finish_create, create_state_free);
}

/* ---- GET /v1/hooks, GET /v1/hooks/{name} --------------------------------------------------- */

static void put_hook_item(buf *b, const void *item)
{
	put_hook(b, item, NULL);
}

void v1_list_hooks(http_request *r)
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
	hook_row *rows = NULL;
	size_t n = 0;
	int rc = store_hook_list(c, ns, after, (size_t)limit + 1, &rows, &n);
	store_reader_release(http_store(r), c);
	if (rc != 0) {
		store_free_hooks(rows, n);
		http_fail_server(r, rc, "hook list");
		return;
	}
	size_t shown = MIN(n, (size_t)limit);
	v1_respond_name_page(r, "hooks", rows, shown, sizeof *rows, put_hook_item,
	                     n > shown ? rows[shown - 1].name : NULL);
	store_free_hooks(rows, n);
}

void v1_get_hook(http_request *r)
{
	const char *name = trigger_route_name(r);
	const char *ns = name != NULL ? v1_route_namespace(r) : NULL;
	if (ns != NULL)
		answer_hook(r, 200, ns, name, NULL);
}

/* ---- DELETE /v1/hooks/{name}, POST /v1/hooks/{name}/rotate ----------------------------------- */

typedef struct change_state {
	cmd_hook_change cmd;
	char namespace[64], name[TRIGGER_NAME_MAX + 1];
	char *secret;
	json_t *doc;
} change_state;

static void change_state_free(void *p)
{
	change_state *s = p;
	free(s->secret);
	json_decref(s->doc);
	free(s);
}

static void finish_change(http_request *r, engine_cmd *cmd, void *state)
{
	change_state *s = state;
	if (cmd->result == WEFT_ENOTFOUND) {
		v1_fail_msg(r, WEFT_ENOTFOUND, NULL, "No hook %s in namespace %s.", s->name, s->namespace);
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	if (s->secret == NULL)
		http_respond_empty(r, 204);
	else
		answer_hook(r, 200, s->namespace, s->name, s->secret);
}

static void change(http_request *r, bool rotate)
{
	const char *name = trigger_route_name(r);
	const char *ns = name != NULL ? v1_route_namespace(r) : NULL;
	if (ns == NULL)
		return;
	change_state *s = xcalloc(1, sizeof *s);
	snprintf(s->namespace, sizeof s->namespace, "%s", ns);
	snprintf(s->name, sizeof s->name, "%s", name);
	if (rotate) {
		http_error *e = http_err(r);
		size_t len;
		const char *body = http_body(r, &len);
		/* An empty body asks for a new secret made here. */
		int rc = len == 0 ? 0 : decode_body_object(body, len, http_config(r)->json_max_depth, e, &s->doc);
		if (rc == 0 && s->doc != NULL) {
			static const char *const known[] = { "secret", NULL };
			decode_unknown_members(e, s->doc, "", known);
		}
		if (rc == 0) {
			json_t *none = s->doc == NULL ? json_object() : NULL;
			decode_secret(e, s->doc != NULL ? s->doc : none, &s->secret);
			json_decref(none);
			rc = e->details.len > 0 ? WEFT_EINVALID : 0;
		}
		if (rc != 0) {
			http_fail(r, rc);
			change_state_free(s);
			return;
		}
		cmd_hook_rotate_init(&s->cmd);
		s->cmd.secret = s->secret;
	} else {
		cmd_hook_delete_init(&s->cmd);
	}
	s->cmd.namespace = s->namespace;
	s->cmd.name = s->name;
	s->cmd.base.actor = http_actor(r);
	http_submit(r, &s->cmd.base, s, finish_change, change_state_free);
}

void v1_delete_hook(http_request *r) { change(r, false); }
void v1_rotate_hook(http_request *r) { change(r, true); }

/* ---- POST /v1/hooks/{name}: a delivery ------------------------------------------------------- */

static void refuse(http_request *r, const char *why)
{
	v1_fail_msg(r, WEFT_EUNAUTHORIZED, NULL, "%s", why);
}

/* Checks the weft scheme's header "t=<secs>,v1=<hex>[,v1=<hex>...]" over
 * body; *sig (into sig[]) the first signature given, the dedup key when
 * the delivery has no id. NULL when it verifies, else why not. */
static const char *verify_weft(const hook_row *h, const char *header, const char *body, size_t len, int64_t now,
                               char sig[SIGNATURE_HEX_LEN + 1])
{
	long long t = -1;
	bool matched = false, any = false;
	char *copy = xstrdup(header);
	char *save = NULL;
	for (char *part = strtok_r(copy, ",", &save); part != NULL; part = strtok_r(NULL, ",", &save)) {
		while (*part == ' ')
			part++;
		if (strncmp(part, "t=", 2) == 0) {
			char *end;
			t = strtoll(part + 2, &end, 10);
			if (end == part + 2 || *end != '\0')
				t = -1;
		} else if (strncmp(part, "v1=", 3) == 0 && t >= 0) {
			char want[SIGNATURE_HEX_LEN + 1], prefix[32];
			snprintf(prefix, sizeof prefix, "%lld.", t);
			if (!any)
				snprintf(sig, SIGNATURE_HEX_LEN + 1, "%s", part + 3);
			any = true;
			if (signature_hmac_hex(h->secret, prefix, body, len, want) == 0 && signature_equal(part + 3, want))
				matched = true;
		}
	}
	free(copy);
	if (t < 0 || !any)
		return "X-Weft-Signature: expected t=<unix seconds>,v1=<hex HMAC-SHA256>";
	if (!matched)
		return "X-Weft-Signature does not verify";
	int64_t age = now / 1000000 - (int64_t)t;
	if (age > h->replay_window_secs || -age > h->replay_window_secs)
		return "X-Weft-Signature: its time is outside the hook's replay window";
	return NULL;
}

static const char *verify_github(const hook_row *h, const char *header, const char *body, size_t len,
                                 char sig[SIGNATURE_HEX_LEN + 1])
{
	if (strncmp(header, "sha256=", 7) != 0)
		return "X-Hub-Signature-256: expected sha256=<hex HMAC-SHA256>";
	char want[SIGNATURE_HEX_LEN + 1];
	snprintf(sig, SIGNATURE_HEX_LEN + 1, "%s", header + 7);
	if (signature_hmac_hex(h->secret, NULL, body, len, want) != 0 || !signature_equal(header + 7, want))
		return "X-Hub-Signature-256 does not verify";
	return NULL;
}

/* The run's input from the body: JSON when it parses, else a string; NULL
 * (after answering) when it cannot be either. */
static char *delivery_input(http_request *r, const char *body, size_t len)
{
	if (len > JOB_PAYLOAD_MAX_BYTES) {
		v1_fail_msg(r, WEFT_ETOOLARGE, NULL, "The body must be at most %d bytes.", JOB_PAYLOAD_MAX_BYTES);
		return NULL;
	}
	if (len == 0)
		return xstrdup("null");
	json_error_t jerr;
	json_t *v = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL)
		v = json_stringn(body, len);
	if (v == NULL) {
		v1_fail_msg(r, WEFT_EINVALID, NULL, "The body is neither JSON nor UTF-8 text.");
		return NULL;
	}
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	json_decref(v);
	return text;
}

typedef struct deliver_state {
	cmd_hook_deliver cmd;
	char namespace[64], name[TRIGGER_NAME_MAX + 1];
	char delivery_id[HOOK_DELIVERY_ID_MAX + 8];
	char *input;
} deliver_state;

static void deliver_state_free(void *p)
{
	deliver_state *s = p;
	free(s->input);
	free(s);
}

static void finish_deliver(http_request *r, engine_cmd *cmd, void *state)
{
	deliver_state *s = state;
	if (cmd->result == WEFT_ENOTFOUND) {
		refuse(r, "No such hook, or a signature that does not verify.");
		return;
	}
	if (cmd->result == WEFT_EINVALID) {
		v1_fail_msg(r, WEFT_EINVALID, NULL, "The hook's target cannot be started (see the server's log).");
		return;
	}
	if (cmd->result != 0) {
		http_fail_server(r, cmd->result, engine_cmd_name(cmd));
		return;
	}
	buf b;
	buf_init(&b);
	buf_puts(&b, "{\"hook\":");
	wire_str(&b, s->name);
	buf_puts(&b, ",\"namespace\":");
	wire_str(&b, s->namespace);
	buf_puts(&b, ",\"delivery_id\":");
	wire_str(&b, s->delivery_id);
	buf_puts(&b, ",\"run_id\":");
	if (s->cmd.run_id[0] != '\0')
		wire_str(&b, s->cmd.run_id);
	else
		buf_puts(&b, "null");
	buf_puts(&b, ",\"duplicate\":");
	wire_bool(&b, s->cmd.duplicate);
	buf_putc(&b, '}');
	http_respond_json(r, s->cmd.duplicate ? 200 : 201, &b);
	buf_release(&b);
}

static bool delivery_id_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > HOOK_DELIVERY_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return false;
	return true;
}

void v1_deliver_hook(http_request *r)
{
	const char *name = http_param_text(r, 0);
	const char *ns = http_query(r, "namespace");
	if (ns == NULL)
		ns = NAMESPACE_DEFAULT;
	if (name == NULL || !trigger_name_valid(name) || !namespace_valid(ns)) {
		refuse(r, "No such hook, or a signature that does not verify.");
		return;
	}
	store_conn *c = http_reader(r);
	if (c == NULL)
		return;
	hook_row h;
	int rc = store_hook_get(c, ns, name, &h);
	store_reader_release(http_store(r), c);
	if (rc == WEFT_ENOTFOUND) {
		/* told apart from a bad signature by nothing: names are not probed */
		refuse(r, "No such hook, or a signature that does not verify.");
		return;
	}
	if (rc != 0) {
		http_fail_server(r, rc, "hook read");
		return;
	}
	size_t len;
	const char *body = http_body(r, &len);
	bool weft = strcmp(h.scheme, "weft") == 0;
	const char *header = http_header_in(r, weft ? "X-Weft-Signature" : "X-Hub-Signature-256");
	const char *id = http_header_in(r, weft ? "X-Weft-Delivery" : "X-GitHub-Delivery");
	char sig[SIGNATURE_HEX_LEN + 1] = "";
	const char *why = NULL;
	if (header == NULL)
		why = weft ? "Unsigned: X-Weft-Signature is required." : "Unsigned: X-Hub-Signature-256 is required.";
	else if (strlen(header) > HOOK_SIGNATURE_HEADER_MAX)
		why = "The signature header is too long.";
	else if (weft)
		why = verify_weft(&h, header, body, len, clock_now_us(), sig);
	else
		why = verify_github(&h, header, body, len, sig);
	if (why == NULL && id != NULL && !delivery_id_valid(id))
		why = "The delivery id must be 1 to 128 visible ASCII characters.";
	hook_row_release(&h);
	if (why != NULL) {
		refuse(r, why);
		return;
	}
	deliver_state *s = xcalloc(1, sizeof *s);
	s->input = delivery_input(r, body, len);
	if (s->input == NULL) {
		deliver_state_free(s);
		return;
	}
	snprintf(s->namespace, sizeof s->namespace, "%s", ns);
	snprintf(s->name, sizeof s->name, "%s", name);
	/* Without an id, the signature is the delivery's identity: the same
	 * signed request sent again is the same delivery. */
	if (id != NULL)
		snprintf(s->delivery_id, sizeof s->delivery_id, "%s", id);
	else
		snprintf(s->delivery_id, sizeof s->delivery_id, "sig:%.64s", sig);
	cmd_hook_deliver_init(&s->cmd);
	s->cmd.namespace = s->namespace;
	s->cmd.name = s->name;
	s->cmd.delivery_id = s->delivery_id;
	s->cmd.input = s->input;
	s->cmd.base.actor = "hook";
	http_submit(r, &s->cmd.base, s, finish_deliver, deliver_state_free);
}
