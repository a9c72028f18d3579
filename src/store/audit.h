/*
 * audit.h — the audit log in the store (schema 0018, table audit_log;
 * docs/internals/audit.md).
 *
 * Rows are written by the engine inside the transaction of the change
 * they record (engine/audit.h), read by any connection newest first along
 * (at, id), and deleted by the retention pass once older than
 * AUDIT_RETENTION_DAYS.
 */
#ifndef WEFT_STORE_AUDIT_H
#define WEFT_STORE_AUDIT_H

#include "store/store.h"

/* One entry. Strings owned by a read row (store_free_audit), borrowed by
 * one to insert. namespace "" = belongs to none (a token). detail: JSON
 * object text. */
typedef struct audit_row {
	weft_id id;                  /* UUIDv7 */
	int64_t at;                  /* µs */
	char *namespace;
	char *actor;
	char *action;
	char *object_kind;
	char *object_id;
	char *detail;
} audit_row;
void store_free_audit(audit_row *rows, size_t n);

/* Inserts one entry (every field set; strings borrowed). Writer, in the
 * caller's transaction. */
int store_audit_insert(store_conn *c, const audit_row *r);

/* What a listing keeps: every set filter must match. */
typedef struct audit_filter {
	const char *namespace;       /* exact; NULL = those in visible */
	const char *const *visible;  /* NULL with namespace NULL: every namespace */
	size_t nvisible;
	const char *actor;           /* exact; NULL = any */
	const char *action;          /* exact; NULL = any */
	const char *object_kind;     /* exact; NULL = any */
	const char *object_id;       /* exact; NULL = any */
	int64_t since;               /* inclusive µs; 0 = none */
	int64_t until;               /* exclusive µs; 0 = none */
	int64_t after_at;            /* keyset: rows strictly before (after_at, after_id); 0 = from the newest */
	weft_id after_id;
	size_t limit;
} audit_filter;
/* At most f->limit entries, newest first along (at, id). *out owned by
 * the caller (store_free_audit). */
int store_audit_list(store_conn *c, const audit_filter *f, audit_row **out, size_t *n);

/* Deletes at most limit entries recorded before `before` (µs), oldest
 * first; *deleted says how many. Writer. */
int store_audit_expire(store_conn *c, int64_t before, size_t limit, int64_t *deleted);

#endif
