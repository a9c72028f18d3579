/*
 * store_pg.h — the PostgreSQL backend of store.h (see store_impl.h).
 */
#ifndef WEFT_STORE_PG_H
#define WEFT_STORE_PG_H

#include "store.h"

/* Connects to the PostgreSQL database at url ("postgres://..." or
 * "postgresql://...", borrowed), migrates it, and starts the listener that
 * carries wake-ups between nodes and holds the leader lock. NULL with a
 * message in err on failure. */
store *store_pg_open(const char *url, const store_options *opt, char *err, size_t errlen);

#endif
