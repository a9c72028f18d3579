/*
 * template.c — {{metadata.KEY}} placeholders in webhook parameters (see
 * template.h).
 *
 * A placeholder is "{{metadata." then one or more dot-separated non-empty
 * segments without '.', '{' or '}', then "}}". Text is scanned left to
 * right once: substituted values are never scanned again, so a metadata
 * value that itself looks like a placeholder stays literal. Only the url,
 * the header values and the strings inside body are rendered; object keys
 * and every other field are kept.
 *
 * Substituted text is bounded: one large metadata value repeated in many
 * placeholders could otherwise turn a small task into gigabytes of request.
 * Once SUBST_BUDGET bytes of values have been put in, every further
 * placeholder renders as missing (empty, or null for a whole body string).
 */
#include "template.h"
#include "../util/alloc.h"
#include "../util/buf.h"
#include "../util/json.h"
#include "../util/log.h"

#define OPEN "{{metadata."
#define OPEN_LEN (sizeof(OPEN) - 1)

#define SUBST_BUDGET ((size_t)1024 * 1024)

typedef enum { MODE_URL, MODE_HEADER, MODE_BODY } render_mode;

typedef struct render_ctx {
	const json_t *meta;      /* may be NULL: no keys */
	size_t budget;           /* value bytes that may still be put in */
	bool exhausted;
} render_ctx;

/* Whether any string or key inside v contains OPEN. */
static bool tree_has_open(const json_t *v)
{
	if (json_is_string(v))
		return memmem(json_string_value(v), json_string_length(v), OPEN, OPEN_LEN) != NULL;
	if (json_is_object(v)) {
		json_t *obj = (json_t *)v;
		for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
			if (memmem(json_object_iter_key(it), json_object_iter_key_len(it), OPEN, OPEN_LEN) != NULL ||
			    tree_has_open(json_object_iter_value(it)))
				return true;
		}
		return false;
	}
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			if (tree_has_open(json_array_get(v, i)))
				return true;
	}
	return false;
}

/* The text itself is searched; only when it has \u escapes (which could
 * spell a placeholder) are the decoded strings searched as well. */
bool template_has_placeholders(const char *params_json)
{
	if (params_json == NULL)
		return false;
	if (strstr(params_json, OPEN) != NULL)
		return true;
	if (strstr(params_json, "\\u") == NULL)
		return false;
	json_t *v = json_parse_text(params_json);
	bool found = tree_has_open(v);
	json_decref(v);
	return found;
}

/* When s[0..] starts a placeholder, returns its total length and sets the
 * path (between OPEN and "}}"); otherwise 0. */
static size_t match_placeholder(const char *s, size_t len, const char **path, size_t *plen)
{
	if (len < OPEN_LEN + 3 || memcmp(s, OPEN, OPEN_LEN) != 0)
		return 0;
	size_t i = OPEN_LEN;
	size_t seg = 0;          /* length of the current segment */
	for (; i < len; i++) {
		char c = s[i];
		if (c == '}')
			break;
		if (c == '{' || c == '\0')
			return 0;
		if (c == '.') {
			if (seg == 0)
				return 0;
			seg = 0;
		} else {
			seg++;
		}
	}
	if (seg == 0 || i + 1 >= len || s[i + 1] != '}')
		return 0;
	*path = s + OPEN_LEN;
	*plen = i - OPEN_LEN;
	return i + 2;
}

/* The value at a dotted path (borrowed), or NULL when missing. */
static const json_t *lookup(const json_t *meta, const char *path, size_t plen)
{
	const json_t *v = meta;
	const char *end = path + plen;
	while (path < end) {
		const char *dot = memchr(path, '.', (size_t)(end - path));
		size_t n = dot ? (size_t)(dot - path) : (size_t)(end - path);
		if (!json_is_object(v))
			return NULL;
		char *key = xstrndup(path, n);
		v = json_object_get(v, key);
		free(key);
		if (v == NULL)
			return NULL;
		path += n + (dot ? 1 : 0);
	}
	return v;
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Takes n bytes from the budget; false (and nothing taken, from then on)
 * when they do not fit. */
static bool spend(render_ctx *ctx, size_t n)
{
	if (ctx->exhausted || n > ctx->budget) {
		if (!ctx->exhausted)
			log_warn("template", "metadata substitutions exceed %zu bytes; the rest render empty",
			         SUBST_BUDGET);
		ctx->exhausted = true;
		return false;
	}
	ctx->budget -= n;
	return true;
}

/* The value at a placeholder's path, or NULL when missing or over budget. */
static const json_t *resolve(render_ctx *ctx, const char *path, size_t plen)
{
	return ctx->exhausted ? NULL : lookup(ctx->meta, path, plen);
}

/* Appends a value's text (the string itself, compact JSON otherwise),
 * shaped for the mode. A missing value appends nothing. */
static void append_value(render_ctx *ctx, buf *out, const json_t *v, render_mode mode)
{
	static const char hex[] = "0123456789ABCDEF";
	char *owned = NULL;
	const char *text;
	size_t len;

	if (v == NULL)
		return;
	if (json_is_string(v)) {
		text = json_string_value(v);
		len = json_string_length(v);
	} else {
		owned = json_dump_compact(v);
		text = owned;
		len = strlen(owned);
	}
	/* A URL may grow threefold when encoded; count it at its worst. */
	if (!spend(ctx, mode == MODE_URL ? 3 * len : len)) {
		free(owned);
		return;
	}

	switch (mode) {
	case MODE_URL:
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)text[i];
			if (unreserved(c)) {
				buf_putc(out, (char)c);
			} else {
				char esc[3] = { '%', hex[c >> 4], hex[c & 0xf] };
				buf_append(out, esc, sizeof(esc));
			}
		}
		break;
	case MODE_HEADER:
		if (memchr(text, '\r', len) == NULL && memchr(text, '\n', len) == NULL)
			buf_append(out, text, len);
		break;
	case MODE_BODY:
		buf_append(out, text, len);
		break;
	}
	free(owned);
}

/* Renders one string value. Returns a new reference, or NULL when the
 * string has no placeholder (keep the original). */
static json_t *render_string(render_ctx *ctx, const json_t *str, render_mode mode)
{
	const char *s = json_string_value(str);
	size_t len = json_string_length(str);
	const char *path;
	size_t plen;

	if (memmem(s, len, OPEN, OPEN_LEN) == NULL)
		return NULL;

	/* A body string that is exactly one placeholder takes the value. */
	if (mode == MODE_BODY && match_placeholder(s, len, &path, &plen) == len) {
		const json_t *v = resolve(ctx, path, plen);
		if (v == NULL)
			return json_null();
		size_t size;
		if (json_is_string(v)) {
			size = json_string_length(v);
		} else {
			char *text = json_dump_compact(v);
			size = strlen(text);
			free(text);
		}
		return spend(ctx, size) ? json_deep_copy(v) : json_null();
	}

	buf out;
	buf_init(&out);
	size_t i = 0;
	while (i < len) {
		const char *next = memmem(s + i, len - i, OPEN, OPEN_LEN);
		if (next == NULL) {
			buf_append(&out, s + i, len - i);
			break;
		}
		size_t at = (size_t)(next - s);
		buf_append(&out, s + i, at - i);
		size_t n = match_placeholder(s + at, len - at, &path, &plen);
		if (n == 0) {
			/* Not a placeholder: keep its first byte and look further
			 * (another "{{metadata." may start inside it). */
			buf_putc(&out, s[at]);
			i = at + 1;
			continue;
		}
		append_value(ctx, &out, resolve(ctx, path, plen), mode);
		i = at + n;
	}
	/* Every piece is valid UTF-8 on its own, so this cannot fail; were it
	 * to, NULL keeps the original string. */
	json_t *r = json_stringn(out.data, out.len);
	buf_release(&out);
	return r;
}

/* Renders every string inside a body value, in place. */
static void render_body(render_ctx *ctx, json_t *v)
{
	if (json_is_object(v)) {
		for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
			json_t *child = json_object_iter_value(it);
			if (json_is_string(child)) {
				json_t *r = render_string(ctx, child, MODE_BODY);
				if (r != NULL)
					json_object_iter_set_new(v, it, r);
			} else {
				render_body(ctx, child);
			}
		}
	} else if (json_is_array(v)) {
		size_t n = json_array_size(v);
		for (size_t i = 0; i < n; i++) {
			json_t *child = json_array_get(v, i);
			if (json_is_string(child)) {
				json_t *r = render_string(ctx, child, MODE_BODY);
				if (r != NULL)
					json_array_set_new(v, i, r);
			} else {
				render_body(ctx, child);
			}
		}
	}
}

char *template_render_params(const char *params_json, const char *metadata_json)
{
	json_t *params = json_parse_text(params_json);
	if (params == NULL)
		return NULL;
	if (!template_has_placeholders(params_json) || !json_is_object(params)) {
		json_decref(params);
		return xstrdup(params_json);
	}

	/* Metadata that is absent, null or unreadable has no keys. */
	json_t *meta = json_parse_text(metadata_json);
	render_ctx ctx = { .meta = meta, .budget = SUBST_BUDGET };

	json_t *url = json_object_get(params, "url");
	if (json_is_string(url)) {
		json_t *r = render_string(&ctx, url, MODE_URL);
		if (r != NULL)
			json_object_set_new(params, "url", r);
	}

	json_t *headers = json_object_get(params, "headers");
	if (json_is_object(headers)) {
		for (void *it = json_object_iter(headers); it; it = json_object_iter_next(headers, it)) {
			json_t *v = json_object_iter_value(it);
			if (!json_is_string(v))
				continue;
			json_t *r = render_string(&ctx, v, MODE_HEADER);
			if (r != NULL)
				json_object_iter_set_new(headers, it, r);
		}
	}

	json_t *body = json_object_get(params, "body");
	if (json_is_string(body)) {
		json_t *r = render_string(&ctx, body, MODE_BODY);
		if (r != NULL)
			json_object_set_new(params, "body", r);
	} else if (body != NULL) {
		render_body(&ctx, body);
	}

	char *out = json_dump_compact(params);
	json_decref(meta);
	json_decref(params);
	return out;
}
