/*
 * sqlite.h — the SQLite driver of the store (db.h): one file, one node.
 *
 * What is its own: the WAL journal and a checkpointer thread with its own
 * connection (no commit pays for copying the log back), busy_timeout, the
 * writer's BEGIN IMMEDIATE, the weft_json_contains() SQL function (jsonb's
 * @> for JSON text), the page caches sized from the store's budget, and its
 * dialect: ?NNN parameters, INDEXED BY hints and +column to keep an index
 * out of a plan (without statistics SQLite may prefer an index on status
 * over a far more selective id or batch lookup), json_each() for sets.
 *
 * Overrides: none. With one writer per file, every operation written once
 * is also the right strategy here: row locks, SKIP LOCKED and advisory
 * locks have nothing to do, and statements cost no round trip.
 */
#ifndef WEFT_STORE_SQLITE_H
#define WEFT_STORE_SQLITE_H

#include "store/store.h"

/* Opens (creating if needed) and migrates the SQLite database file at path
 * (borrowed). NULL with a message in err on failure. */
store *sqlite_store_open(const char *path, const store_options *opt, char *err, size_t errlen);

#endif
