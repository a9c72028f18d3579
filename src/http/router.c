/*
 * router.c — matching requests to the routes of the APIs served (see
 * router.h), and the list of those routes (http.h).
 */
#include "util/common.h"
#include "http/router.h"
#include "util/url.h"

const char *http_method_label(http_method m)
{
	switch (m) {
	case HTTP_GET: return "GET";
	case HTTP_POST: return "POST";
	case HTTP_PUT: return "PUT";
	case HTTP_PATCH: return "PATCH";
	case HTTP_DELETE: return "DELETE";
	case HTTP_HEAD: return "HEAD";
	default: return "OTHER";
	}
}

http_method http_method_parse(const char *m)
{
	static const http_method all[] = { HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE, HTTP_HEAD };
	for (size_t i = 0; i < ARRAY_LEN(all); i++) {
		if (strcmp(m, http_method_label(all[i])) == 0)
			return all[i];
	}
	return HTTP_OTHER;
}

/* Percent-decodes one raw path segment (len bytes) into out (cap bytes,
 * NUL-terminated). A '%' not followed by two hex digits stays as it is,
 * as libmicrohttpd does. Returns the decoded length, or SIZE_MAX when it
 * does not fit or contains a NUL. */
static size_t segment_decode(const char *seg, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = seg[i];
		int hi, lo;
		if (c == '%' && i + 2 < len && (hi = url_hex_value(seg[i + 1])) >= 0 &&
		    (lo = url_hex_value(seg[i + 2])) >= 0) {
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0' || n + 1 >= cap)
			return SIZE_MAX;
		out[n++] = c;
	}
	out[n] = '\0';
	return n;
}

/* Matches a raw path against a route's pattern. Each segment is decoded
 * on its own; "{...}" segments are UUIDs (into params) or, when the
 * route says so, text (into text). */
static bool route_match(const http_route *rt, const char *path, weft_id *params,
                        char text[][HTTP_TEXT_PARAM_MAX + 1])
{
	const char *p = rt->pattern, *u = path;
	size_t np = 0;
	while (*p != '\0' && *u != '\0') {
		if (*p != '/' || *u != '/')
			return false;
		p++;
		u++;
		size_t pl = strcspn(p, "/"), ul = strcspn(u, "/");
		char seg[HTTP_TEXT_PARAM_MAX + 1];
		size_t sl = segment_decode(u, ul, seg, sizeof(seg));
		if (*p == '{') {
			if (np >= HTTP_MAX_PARAMS || sl == SIZE_MAX || sl == 0)
				return false;
			if (rt->text_params & (1u << np))
				memcpy(text[np], seg, sl + 1);
			else if (sl != WEFT_ID_LEN || id_parse(seg, &params[np]) != 0)
				return false;
			np++;
		} else if (sl != pl || memcmp(p, seg, pl) != 0) {
			return false;
		}
		p += pl;
		u += ul;
	}
	return *p == '\0' && *u == '\0';
}

const http_route *router_find(http_method m, const char *raw_path, const http_api **api, weft_id *params,
                              char text[][HTTP_TEXT_PARAM_MAX + 1])
{
	for (size_t a = 0; a < http_napis; a++) {
		for (size_t i = 0; i < http_apis[a]->nroutes; i++) {
			const http_route *rt = &http_apis[a]->routes[i];
			bool method_ok = rt->method == m || (m == HTTP_HEAD && rt->method == HTTP_GET && http_apis[a]->head);
			if (method_ok && route_match(rt, raw_path, params, text)) {
				if (api != NULL)
					*api = http_apis[a];
				return rt;
			}
		}
	}
	return NULL;
}

const http_api *router_api_for(const char *raw_path)
{
	const http_api *best = NULL;
	size_t best_len = 0;
	for (size_t a = 0; a < http_napis; a++) {
		size_t n = strlen(http_apis[a]->prefix);
		if (strncmp(raw_path, http_apis[a]->prefix, n) == 0 && (best == NULL || n > best_len)) {
			best = http_apis[a];
			best_len = n;
		}
	}
	return best;
}

/* ---- the list of routes --------------------------------------------------- */

static const http_route *route_at(size_t i)
{
	for (size_t a = 0; a < http_napis; a++) {
		if (i < http_apis[a]->nroutes)
			return &http_apis[a]->routes[i];
		i -= http_apis[a]->nroutes;
	}
	return NULL;
}

size_t http_route_count(void)
{
	size_t n = 0;
	for (size_t a = 0; a < http_napis; a++)
		n += http_apis[a]->nroutes;
	return n;
}

const char *http_route_method(size_t i)
{
	const http_route *rt = route_at(i);
	return rt != NULL ? http_method_label(rt->method) : NULL;
}

const char *http_route_pattern(size_t i)
{
	const http_route *rt = route_at(i);
	return rt != NULL ? rt->pattern : NULL;
}

bool http_route_resolve(const char *method, const char *raw_path, size_t *index,
                        char param0[HTTP_TEXT_PARAM_MAX + 1])
{
	weft_id params[HTTP_MAX_PARAMS];
	char text[HTTP_MAX_PARAMS][HTTP_TEXT_PARAM_MAX + 1];
	const http_route *rt = router_find(http_method_parse(method), raw_path, NULL, params, text);
	if (rt == NULL)
		return false;
	for (size_t i = 0, n = http_route_count(); i < n; i++) {
		if (route_at(i) == rt && index != NULL)
			*index = i;
	}
	if (param0 != NULL) {
		param0[0] = '\0';
		if (strchr(rt->pattern, '{') != NULL)
			snprintf(param0, HTTP_TEXT_PARAM_MAX + 1, "%s", (rt->text_params & 1u) ? text[0] : params[0].str);
	}
	return true;
}
