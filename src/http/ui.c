/*
 * ui.c — the web UI's static files (see ui.h).
 *
 * Routes, all open (served without the bearer token: the files hold no
 * data, and every /v1 call the page makes carries the token):
 *   GET /ui, /ui/, /view             index.html (/view replaces ArcRun's page;
 *                                    the app reads ?batch= itself)
 *   GET /ui/assets/{file}            a built asset (hashed name)
 *   GET /assets/{file}               the same: the page links its assets
 *                                    relatively ("./assets/x.js"), which
 *                                    from /view or /ui (no slash) is /assets/x.js
 *   GET /ui/{file}                   a top-level file (icon.png, favicon.ico)
 *   GET /icon.png, /favicon.ico      the icon, where browsers look for it
 * HEAD is answered like GET, without the body.
 *
 * The files come from the binary (ui_files.h: gzip'd at build time, sent as
 * they are to clients that accept gzip, inflated for the others) or, with
 * --ui-dir, from a directory on disk read on every request, sent as they
 * are, so that a rebuilt web/ shows without relinking.
 *
 * Caching: assets are named after their content, so they are immutable;
 * index.html and the icons keep their names across builds: no-cache, with a
 * strong ETag (SHA-256 of the file) answered 304 on If-None-Match.
 */
#include "util/common.h"
#include "http/ui.h"

#include <errno.h>
#include <openssl/evp.h>
#include <strings.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/error.h"
#include "http/ui_files.h"
#include "util/alloc.h"
#include "util/log.h"

/* Longest file name served, and largest file read from --ui-dir. */
#define UI_NAME_MAX 128
#define UI_DIR_FILE_MAX (64u << 20)

/* Only this origin: scripts and styles from files (styles also inline:
 * Preact, Cytoscape and uPlot set style attributes), images also as data:
 * URLs, and no framing of the page by others. */
static const char ui_csp[] =
	"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
	"base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/* One file to send: its bytes as stored (gzip'd when gz) and its ETag. */
typedef struct ui_body {
	char *data;            /* owned */
	size_t len;
	bool gz;
	size_t plain_len;      /* its size once inflated */
	char etag[70];
} ui_body;

static const char *content_type_of(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".map", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".woff2", "font/woff2" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot != NULL && i < ARRAY_LEN(types); i++) {
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

/* Whether an Accept-Encoding header admits gzip: named with a q above 0,
 * or not named and "*" admitted. */
static bool accepts_gzip(const char *h)
{
	bool named = false, gzip_ok = false, star_ok = false;
	while (h != NULL && *h != '\0') {
		h += strspn(h, " \t,");
		size_t tok = strcspn(h, " \t;,");
		size_t item = strcspn(h, ",");
		if (tok == 0)
			break;
		bool ok = true;
		const char *q = memchr(h, ';', item);
		if (q != NULL) {
			q += 1 + strspn(q + 1, " \t");
			if ((*q == 'q' || *q == 'Q') && q[1] == '=')
				ok = strtod(q + 2, NULL) > 0;
		}
		if ((tok == 4 && strncasecmp(h, "gzip", 4) == 0) || (tok == 6 && strncasecmp(h, "x-gzip", 6) == 0)) {
			named = true;
			gzip_ok = ok;
		} else if (tok == 1 && *h == '*') {
			star_ok = ok;
		}
		h += item;
	}
	return named ? gzip_ok : star_ok;
}

/* Whether If-None-Match (a list of tags, or "*") names etag. The
 * comparison is the weak one, as the header asks. */
static bool etag_matches(const char *h, const char *etag)
{
	size_t elen = strlen(etag);
	while (h != NULL && *h != '\0') {
		h += strspn(h, " \t,");
		if (*h == '*')
			return true;
		if (strncmp(h, "W/", 2) == 0)
			h += 2;
		size_t n = strcspn(h, ",");
		while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
			n--;
		if (n == elen && memcmp(h, etag, n) == 0)
			return true;
		h += strcspn(h, ",");
	}
	return false;
}

/* A file name from a URL segment: letters, digits, '.', '-' and '_', not
 * starting with '.' (no "..", no hidden files, no '/'). */
static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n <= UI_NAME_MAX && name[0] != '.' &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static bool load_embedded(const char *path, ui_body *out)
{
	for (size_t i = 0; i < ui_files_count; i++) {
		if (strcmp(ui_files[i].path, path) == 0) {
			out->data = xmalloc(ui_files[i].gz_len);
			memcpy(out->data, ui_files[i].gz, ui_files[i].gz_len);
			out->len = ui_files[i].gz_len;
			out->gz = true;
			out->plain_len = ui_files[i].len;
			snprintf(out->etag, sizeof out->etag, "%s", ui_files[i].etag);
			return true;
		}
	}
	return false;
}

/* path is relative to dir and made of checked names only. */
static bool load_from_dir(const char *dir, const char *path, ui_body *out)
{
	char *full = xasprintf("%s/%s", dir, path);
	FILE *f = fopen(full, "rb");
	struct stat st;
	bool ok = f != NULL && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
	          (uint64_t)st.st_size <= UI_DIR_FILE_MAX;
	if (ok) {
		out->len = (size_t)st.st_size;
		out->data = xmalloc(out->len + 1);
		ok = fread(out->data, 1, out->len, f) == out->len;
	}
	if (f == NULL && errno != ENOENT && errno != ENOTDIR)
		log_warn("http", "ui: cannot open %s: %s", full, strerror(errno));
	if (f != NULL)
		fclose(f);
	free(full);
	if (!ok) {
		free(out->data);
		out->data = NULL;
		return false;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (EVP_Digest(out->data, out->len, md, &mdlen, EVP_sha256(), NULL) != 1)
		mdlen = 0;
	char *e = out->etag;
	*e++ = '"';
	for (unsigned i = 0; i < 16 && i < mdlen; i++, e += 2)
		snprintf(e, 3, "%02x", md[i]);
	snprintf(e, 2, "\"");
	out->gz = false;
	out->plain_len = out->len;
	return true;
}

/* Inflates a gzip'd body in place; false when it is not what the table
 * says (a broken build). */
static bool inflate_body(ui_body *b)
{
	char *plain = xmalloc(b->plain_len + 1);
	z_stream z;
	memset(&z, 0, sizeof z);
	bool ok = inflateInit2(&z, 16 + MAX_WBITS) == Z_OK;
	if (ok) {
		z.next_in = (unsigned char *)b->data;
		z.avail_in = (uInt)b->len;
		z.next_out = (unsigned char *)plain;
		z.avail_out = (uInt)b->plain_len + 1;
		ok = inflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out == b->plain_len;
		inflateEnd(&z);
	}
	free(b->data);
	b->data = plain;
	b->len = b->plain_len;
	b->gz = false;
	if (!ok) {
		free(plain);
		b->data = NULL;
	}
	return ok;
}

static void add_page_headers(http_request *r)
{
	http_add_header(r, "X-Content-Type-Options", "nosniff");
	http_add_header(r, "X-Frame-Options", "DENY");
	http_add_header(r, "Content-Security-Policy", ui_csp);
	http_add_header(r, "Referrer-Policy", "no-referrer");
}

/* Sends the file at path (relative to the UI's root). */
static void serve(http_request *r, const char *path)
{
	const weft_config *cfg = http_config(r);
	ui_body b = { 0 };
	bool found = cfg->ui_dir != NULL ? load_from_dir(cfg->ui_dir, path, &b) : load_embedded(path, &b);
	if (!found) {
		http_error_set(http_err(r), WEFT_ENOTFOUND, HTTP_ERR_RULE, NULL, "no such file");
		http_fail(r, WEFT_ENOTFOUND);
		return;
	}
	bool send_gz = b.gz && accepts_gzip(http_header_in(r, "Accept-Encoding"));
	/* A strong ETag names bytes: the gzip'd and the plain file get their own. */
	char etag[sizeof b.etag + 4];
	size_t elen = strlen(b.etag);
	snprintf(etag, sizeof etag, "%.*s%s\"", (int)(elen - 1), b.etag, send_gz ? "-gz" : "");
	add_page_headers(r);
	http_add_header(r, "Cache-Control", strncmp(path, "assets/", 7) == 0 ? "public, max-age=31536000, immutable"
	                                                                      : "no-cache");
	http_add_header(r, "ETag", etag);
	if (b.gz)
		http_add_header(r, "Vary", "Accept-Encoding");
	if (etag_matches(http_header_in(r, "If-None-Match"), etag)) {
		free(b.data);
		http_respond_empty(r, 304);
		return;
	}
	if (send_gz) {
		http_add_header(r, "Content-Encoding", "gzip");
	} else if (b.gz && !inflate_body(&b)) {
		log_error("http", "ui: %s does not inflate; the embedded copy is broken", path);
		http_fail(r, WEFT_EINTERNAL);
		return;
	}
	http_respond(r, 200, content_type_of(path), b.data, b.len);
}

static void ui_index(http_request *r)
{
	serve(r, "index.html");
}

static void ui_asset(http_request *r)
{
	const char *name = http_param_text(r, 0);
	if (!name_ok(name)) {
		http_error_set(http_err(r), WEFT_ENOTFOUND, HTTP_ERR_RULE, NULL, "no such file");
		http_fail(r, WEFT_ENOTFOUND);
		return;
	}
	char path[UI_NAME_MAX + 16];
	snprintf(path, sizeof path, "assets/%s", name);
	serve(r, path);
}

static void ui_top_file(http_request *r)
{
	const char *name = http_param_text(r, 0);
	if (!name_ok(name)) {
		http_error_set(http_err(r), WEFT_ENOTFOUND, HTTP_ERR_RULE, NULL, "no such file");
		http_fail(r, WEFT_ENOTFOUND);
		return;
	}
	serve(r, name);
}

static void ui_icon(http_request *r)
{
	serve(r, "icon.png");
}

static void ui_favicon(http_request *r)
{
	serve(r, "favicon.ico");
}

/* Plain text: these are pages, not an API with an error shape. */
static void ui_fail(http_request *r, unsigned status, int code, const http_error *err)
{
	add_page_headers(r);
	char text[HTTP_ERROR_MSG_MAX + 64];
	snprintf(text, sizeof text, "%s\n", err->message[0] != '\0' ? err->message : weft_strerror(code));
	http_respond_text(r, status, text);
}

static const http_route routes[] = {
	{ HTTP_GET, "/ui", ui_index, true, 0 },
	{ HTTP_GET, "/ui/", ui_index, true, 0 },
	{ HTTP_GET, "/ui/assets/{file}", ui_asset, true, 1u },
	{ HTTP_GET, "/ui/{file}", ui_top_file, true, 1u },
	{ HTTP_GET, "/assets/{file}", ui_asset, true, 1u },
	{ HTTP_GET, "/view", ui_index, true, 0 },
	{ HTTP_GET, "/icon.png", ui_icon, true, 0 },
	{ HTTP_GET, "/favicon.ico", ui_favicon, true, 0 },
};

const http_api ui_api = {
	.name = "ui",
	.prefix = "/ui/",
	.routes = routes,
	.nroutes = ARRAY_LEN(routes),
	.fail = ui_fail,
	.head = true,
};
