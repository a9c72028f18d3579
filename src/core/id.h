/*
 * id.h — ids. Every id weft exposes is a lowercase hyphenated UUID; new
 * objects get time-ordered v7 ids (good B-tree locality), random v4 remains
 * for ArcRun-style batch ids where order does not matter.
 */
#ifndef WEFT_CORE_ID_H
#define WEFT_CORE_ID_H

#include "util/common.h"

#define WEFT_ID_LEN 36

/* A UUID in its canonical text form: 36 chars + NUL, lowercase. Copyable. */
typedef struct weft_id {
	char str[WEFT_ID_LEN + 1];
} weft_id;

void id_new_v7(weft_id *out);      /* thread-safe, monotonic within a process */
void id_new_v4(weft_id *out);
/* Accepts the hyphenated form in either case; writes it lowercased.
 * Returns 0, or -1 when s is not a UUID (out untouched). */
int id_parse(const char *s, weft_id *out);
static inline bool id_eq(const weft_id *a, const weft_id *b) { return memcmp(a->str, b->str, WEFT_ID_LEN) == 0; }
static inline bool id_is_set(const weft_id *a) { return a->str[0] != '\0'; }

#endif
