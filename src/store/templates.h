/*
 * templates.h — templates and the runs started from them in the store
 * (schema 0011, tables template and template_run).
 *
 * A template version is keyed by (namespace, name, version) and never
 * changes once stored; its body is canonical JSON with its SHA-256
 * (body_hash), compared to tell a repeated registration from a
 * conflicting one. A template run links a run (batch) to the version and
 * context it was started with; its identity (NULL: none) is unique per
 * version and namespace. Writes come from the engine; reads from any
 * connection.
 */
#ifndef WEFT_STORE_TEMPLATES_H
#define WEFT_STORE_TEMPLATES_H

#include "store/store.h"

typedef struct template_row {
	weft_id id;
	char *namespace, *name, *version;
	char *description;          /* NULL: none */
	char *body;                 /* canonical JSON {name, version, description?, steps} */
	char *body_hash;            /* 64 hex digits */
	int64_t steps;
	char *created_by;           /* NULL: unknown */
	int64_t created_at;         /* µs */
} template_row;
void template_row_release(template_row *t);
void store_free_templates(template_row *rows, size_t n);

/* Inserts t. *created is false when the version exists in its namespace
 * (the row there stays). */
int store_template_insert(store_conn *c, const template_row *t, bool *created);

/* The version, or WEFT_ENOTFOUND. */
int store_template_get(store_conn *c, const char *namespace, const char *name, const char *version,
                       template_row *out);

/* At most limit versions of namespace, newest first (created_at, id),
 * those of one name when name is not NULL, after the key (after_at,
 * after_id) when after_id is not NULL. */
int store_template_list(store_conn *c, const char *namespace, const char *name, int64_t after_at,
                        const weft_id *after_id, size_t limit, template_row **out, size_t *n);

typedef struct template_run_row {
	weft_id run_id;
	char *namespace, *template_name, *template_version;
	char *identity;             /* NULL: none */
	char *context;              /* canonical JSON */
	int64_t created_at;
} template_run_row;
void template_run_row_release(template_run_row *r);

/* Inserts r. *created is false when another run holds its identity. */
int store_template_run_insert(store_conn *c, const template_run_row *r, bool *created);

/* The run of the version holding identity, or WEFT_ENOTFOUND. */
int store_template_run_by_identity(store_conn *c, const char *namespace, const char *name, const char *version,
                                   const char *identity, template_run_row *out);

/* The template run of a run (batch) id, or WEFT_ENOTFOUND (a run not
 * started from a template). */
int store_template_run_get(store_conn *c, const weft_id *run_id, template_run_row *out);

#endif
