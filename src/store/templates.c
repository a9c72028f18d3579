/*
 * templates.c — templates and template runs (templates.h, schema 0011).
 * The same SQL serves both dialects.
 */
#include "util/common.h"

#include "store/db.h"
#include "store/templates.h"

#define TEMPLATE_COLS "id, namespace, name, version, description, body, body_hash, steps, created_by, created_at"
#define RUN_COLS "run_id, namespace, template_name, template_version, identity, context, created_at"

void template_row_release(template_row *t)
{
	free(t->namespace);
	free(t->name);
	free(t->version);
	free(t->description);
	free(t->body);
	free(t->body_hash);
	free(t->created_by);
	memset(t, 0, sizeof *t);
}

void store_free_templates(template_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		template_row_release(&rows[i]);
	free(rows);
}

static int read_template(db_stmt *st, void *row)
{
	template_row *t = row;
	db_col_id(st, 0, &t->id);
	t->namespace = db_col_str_nn(st, 1, "");
	t->name = db_col_str_nn(st, 2, "");
	t->version = db_col_str_nn(st, 3, "");
	t->description = db_col_str(st, 4);
	t->body = db_col_str_nn(st, 5, "null");
	t->body_hash = db_col_str_nn(st, 6, "");
	t->steps = db_col_int(st, 7);
	t->created_by = db_col_str(st, 8);
	t->created_at = db_col_int(st, 9);
	return 0;
}

static void release_template(void *row) { template_row_release(row); }

static const db_row_kind template_kind = { sizeof(template_row), read_template, release_template };

void template_run_row_release(template_run_row *r)
{
	free(r->namespace);
	free(r->template_name);
	free(r->template_version);
	free(r->identity);
	free(r->context);
	memset(r, 0, sizeof *r);
}

static int read_run(db_stmt *st, void *row)
{
	template_run_row *r = row;
	db_col_id(st, 0, &r->run_id);
	r->namespace = db_col_str_nn(st, 1, "");
	r->template_name = db_col_str_nn(st, 2, "");
	r->template_version = db_col_str_nn(st, 3, "");
	r->identity = db_col_str(st, 4);
	r->context = db_col_str_nn(st, 5, "null");
	r->created_at = db_col_int(st, 6);
	return 0;
}

static void release_run(void *row) { template_run_row_release(row); }

static const db_row_kind run_kind = { sizeof(template_run_row), read_run, release_run };

/* The statement's first row into out, or WEFT_ENOTFOUND. */
static int first_row(db_stmt *st, const db_row_kind *k, void *out)
{
	void *rows = NULL;
	size_t n = 0;
	int err = db_collect(st, k, &rows, &n);
	if (err == 0 && n == 0)
		err = WEFT_ENOTFOUND;
	if (err == 0)
		memcpy(out, rows, k->size);
	for (size_t i = err == 0 ? 1 : 0; i < n; i++)
		k->release((char *)rows + i * k->size);
	free(rows);
	return err;
}

static const db_sql q_insert = {
	"template_insert",
	"INSERT INTO template (" TEMPLATE_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
	"ON CONFLICT DO NOTHING",
	NULL,
};
static const db_sql q_get = {
	"template_get",
	"SELECT " TEMPLATE_COLS " FROM template WHERE namespace = $1 AND name = $2 AND version = $3",
	NULL,
};
/* $2 '' lists every name; the key (created_at, id) runs downwards. */
static const db_sql q_list = {
	"template_list",
	"SELECT " TEMPLATE_COLS " FROM template WHERE namespace = $1 AND ($2 = '' OR name = $2) "
	"AND (created_at < $3 OR (created_at = $3 AND id < $4)) ORDER BY created_at DESC, id DESC LIMIT $5",
	NULL,
};

int store_template_insert(store_conn *c, const template_row *t, bool *created)
{
	*created = false;
	db_stmt *st;
	int err = db_prepare(c, &q_insert, &st);
	if (err)
		return err;
	db_bind_id(st, &t->id);
	db_bind_text(st, t->namespace);
	db_bind_text(st, t->name);
	db_bind_text(st, t->version);
	db_bind_text(st, t->description);
	db_bind_text(st, t->body);
	db_bind_text(st, t->body_hash);
	db_bind_int(st, t->steps);
	db_bind_text(st, t->created_by);
	db_bind_int(st, t->created_at);
	return db_run_changed(st, created);
}

int store_template_get(store_conn *c, const char *namespace, const char *name, const char *version,
                       template_row *out)
{
	memset(out, 0, sizeof *out);
	db_stmt *st;
	int err = db_prepare(c, &q_get, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, name);
	db_bind_text(st, version);
	return first_row(st, &template_kind, out);
}

int store_template_list(store_conn *c, const char *namespace, const char *name, int64_t after_at,
                        const weft_id *after_id, size_t limit, template_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	db_stmt *st;
	int err = db_prepare(c, &q_list, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, name != NULL ? name : "");
	/* From the first: a key after every row's. */
	db_bind_int(st, after_id != NULL ? after_at : INT64_MAX);
	db_bind_text(st, after_id != NULL ? after_id->str : "");
	db_bind_int(st, (int64_t)limit);
	void *rows = NULL;
	err = db_collect(st, &template_kind, &rows, n);
	*out = rows;
	return err;
}

static const db_sql q_run_insert = {
	"template_run_insert",
	"INSERT INTO template_run (" RUN_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
	NULL,
};
static const db_sql q_run_by_identity = {
	"template_run_by_identity",
	"SELECT " RUN_COLS " FROM template_run WHERE namespace = $1 AND template_name = $2 "
	"AND template_version = $3 AND identity = $4",
	NULL,
};
static const db_sql q_run_get = { "template_run_get", "SELECT " RUN_COLS " FROM template_run WHERE run_id = $1",
	                          NULL };

int store_template_run_insert(store_conn *c, const template_run_row *r, bool *created)
{
	*created = false;
	db_stmt *st;
	int err = db_prepare(c, &q_run_insert, &st);
	if (err)
		return err;
	db_bind_id(st, &r->run_id);
	db_bind_text(st, r->namespace);
	db_bind_text(st, r->template_name);
	db_bind_text(st, r->template_version);
	db_bind_text(st, r->identity);
	db_bind_text(st, r->context);
	db_bind_int(st, r->created_at);
	return db_run_changed(st, created);
}

int store_template_run_by_identity(store_conn *c, const char *namespace, const char *name, const char *version,
                                   const char *identity, template_run_row *out)
{
	memset(out, 0, sizeof *out);
	db_stmt *st;
	int err = db_prepare(c, &q_run_by_identity, &st);
	if (err)
		return err;
	db_bind_text(st, namespace);
	db_bind_text(st, name);
	db_bind_text(st, version);
	db_bind_text(st, identity);
	return first_row(st, &run_kind, out);
}

int store_template_run_get(store_conn *c, const weft_id *run_id, template_run_row *out)
{
	memset(out, 0, sizeof *out);
	db_stmt *st;
	int err = db_prepare(c, &q_run_get, &st);
	if (err)
		return err;
	db_bind_id(st, run_id);
	return first_row(st, &run_kind, out);
}
