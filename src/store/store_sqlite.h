/*
 * store_sqlite.h — the SQLite backend of store.h (see store_impl.h).
 */
#ifndef WEFT_STORE_SQLITE_H
#define WEFT_STORE_SQLITE_H

#include "store.h"

/* Opens (creating if needed) and migrates the SQLite database file at path
 * (borrowed). NULL with a message in err on failure. */
store *store_sqlite_open(const char *path, const store_options *opt, char *err, size_t errlen);

#endif
