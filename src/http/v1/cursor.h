/*
 * cursor.h — the opaque cursors of /v1 listings.
 *
 * A list is read newest first along (created_at, id), and a page ends
 * with a cursor naming the last row it gave: the next page starts right
 * after that key, so rows inserted or removed meanwhile never make a page
 * repeat or skip one (keyset paging). The cursor also carries a
 * fingerprint of the filters it was made with, so that it is refused with
 * other filters, and a position hint: where the scan was, so that the next
 * page need not search for its start from the beginning (a hint only;
 * the key decides).
 *
 * On the wire a cursor is base64url (no padding) of
 * "v1|<key µs>|<id>|<fingerprint, 16 hex digits>|<position>". Clients
 * treat it as opaque.
 */
#ifndef WEFT_HTTP_V1_CURSOR_H
#define WEFT_HTTP_V1_CURSOR_H

#include "util/common.h"
#include "core/id.h"
#include "http/http.h"

/* Longest cursor text, with its NUL. */
#define V1_CURSOR_MAX 160

typedef struct v1_cursor {
	int64_t at;            /* the last row's created_at (µs), or an ordinal */
	weft_id id;            /* the last row's id; "" when the list is keyed by ordinal */
	uint64_t filters;      /* fingerprint of the filters (v1_fingerprint) */
	int64_t position;      /* how many rows the scan had passed: a hint */
} v1_cursor;

/* The cursor's text: base64url, NUL-terminated. */
void v1_cursor_encode(const v1_cursor *c, char out[V1_CURSOR_MAX]);
/* Reads a cursor's text: 0, or -1 when it is not one. */
int v1_cursor_decode(const char *text, v1_cursor *out);

/* A list's `cursor` query parameter (text) for a list whose filters have
 * the fingerprint `filters`: 0 with *out, or WEFT_EINVALID recorded in e
 * against "cursor" (not a cursor, or one made with other filters). */
struct http_error;
int v1_cursor_take(const char *text, uint64_t filters, struct http_error *e, v1_cursor *out);
/* The same for a list keyed by an ordinal (a sequence number, an
 * offset: a cursor with no id and at >= 0): 0 with *at, or
 * WEFT_EINVALID recorded against "cursor", saying it is "not a cursor of
 * <what>" (e.g. "this task's events"). */
int v1_ordinal_cursor_take(const char *text, uint64_t filters, const char *what, struct http_error *e,
                           int64_t *at);

/* Answers 200 {"<key>":[the n items of `size` bytes at items, each
 * written by put],"next_cursor":<next's text, or null where next is NULL:
 * the list ends here>}. */
void v1_respond_page(http_request *r, const char *key, const void *items, size_t n, size_t size, http_put_fn put,
                     const v1_cursor *next);
/* The same page for a list whose cursor is the last name shown (names sort
 * and need no escaping): next_name NULL where the list ends here. */
void v1_respond_name_page(http_request *r, const char *key, const void *items, size_t n, size_t size,
                          http_put_fn put, const char *next_name);

/* A 64-bit fingerprint (FNV-1a) of text, e.g. the filters of a list in a
 * canonical form. Not a secret: it only tells filters apart. */
uint64_t v1_fingerprint(const char *text);

/* base64url without padding; exposed for the tests. out must hold
 * 4 * ((len + 2) / 3) + 1 bytes. decode returns the length, or -1 for
 * text that is not base64url (out holds 3 * strlen(text) / 4 bytes). */
void v1_base64url_encode(const unsigned char *in, size_t len, char *out);
long v1_base64url_decode(const char *text, unsigned char *out, size_t cap);

#endif
