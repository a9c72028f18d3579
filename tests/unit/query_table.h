/*
 * query_table.h — query parameters from a table, for the tests of query
 * decoders: { {"page", "2"}, ..., {NULL, NULL} }, read through an
 * http_query_src { kv_get, table }. A NULL value is an absent parameter.
 */
#ifndef WEFT_TESTS_QUERY_TABLE_H
#define WEFT_TESTS_QUERY_TABLE_H

#include "util/common.h"

typedef struct kv {
	const char *k, *v;
} kv;

static inline const char *kv_get(void *ctx, const char *key)
{
	for (const kv *p = ctx; p->k != NULL; p++) {
		if (strcmp(p->k, key) == 0)
			return p->v;
	}
	return NULL;
}

#endif
