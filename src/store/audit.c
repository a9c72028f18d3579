/*
 * audit.c — the audit log's rows (audit.h): one insert per recorded
 * change, a keyset listing newest first with optional exact filters, and
 * the retention delete.
 */
#include "util/common.h"

#include "store/audit.h"
#include "store/db.h"

#define AUDIT_COLS "id, at, namespace, actor, action, object_kind, object_id, detail"

void store_free_audit(audit_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].namespace);
		free(rows[i].actor);
		free(rows[i].action);
		free(rows[i].object_kind);
		free(rows[i].object_id);
		free(rows[i].detail);
	}
	free(rows);
}

static const db_sql q_insert = {
	"audit_insert", "INSERT INTO audit_log (" AUDIT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", NULL,
};

int store_audit_insert(store_conn *c, const audit_row *r)
{
	db_stmt *st;
	int err = db_prepare(c, &q_insert, &st);
	if (err)
		return err;
	db_bind_id(st, &r->id);
	db_bind_int(st, r->at);
	db_bind_text(st, r->namespace);
	db_bind_text(st, r->actor);
	db_bind_text(st, r->action);
	db_bind_text(st, r->object_kind);
	db_bind_text(st, r->object_id);
	db_bind_text(st, r->detail);
	return db_run(st, NULL);
}

static int read_audit(db_stmt *st, void *row)
{
	audit_row *a = row;
	db_col_id(st, 0, &a->id);
	a->at = db_col_int(st, 1);
	a->namespace = db_col_str_nn(st, 2, "");
	a->actor = db_col_str_nn(st, 3, "");
	a->action = db_col_str_nn(st, 4, "");
	a->object_kind = db_col_str_nn(st, 5, "");
	a->object_id = db_col_str_nn(st, 6, "");
	a->detail = db_col_str_nn(st, 7, "{}");
	return 0;
}

static void release_audit(void *row)
{
	audit_row *a = row;
	free(a->namespace);
	free(a->actor);
	free(a->action);
	free(a->object_kind);
	free(a->object_id);
	free(a->detail);
}

static const db_row_kind audit_kind = { sizeof(audit_row), read_audit, release_audit };

/* Shape bits: 1 namespace exact, 2 namespace in a set, 4 actor, 8 action,
 * 16 object_kind, 32 object_id. An absent filter is a condition on its
 * parameter alone ("$n = ''"), so that the numbering stays fixed and each
 * shape's plan can use the index its present filters lead. */
static void build_list(buf *sql, unsigned shape)
{
	buf_puts(sql, "SELECT " AUDIT_COLS " FROM audit_log WHERE ");
	if (shape & 1)
		buf_puts(sql, "namespace = $1");
	else if (shape & 2)
		buf_puts(sql, "{in:namespace,$1}");
	else
		buf_puts(sql, "$1 = ''");
	buf_puts(sql, (shape & 4) ? " AND actor = $2" : " AND $2 = ''");
	buf_puts(sql, (shape & 8) ? " AND action = $3" : " AND $3 = ''");
	buf_puts(sql, (shape & 16) ? " AND object_kind = $4" : " AND $4 = ''");
	buf_puts(sql, (shape & 32) ? " AND object_id = $5" : " AND $5 = ''");
	buf_puts(sql, " AND at >= $6 AND at < $7 AND (at < $8 OR (at = $8 AND id < $9))"
	              " ORDER BY at DESC, id DESC LIMIT $10");
}

static const db_dyn dyn_list = { "audit_list", build_list };

int store_audit_list(store_conn *c, const audit_filter *f, audit_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	unsigned shape = db_ns_filter_shape(f->namespace, f->visible) | (f->actor ? 4u : 0u) |
	                 (f->action ? 8u : 0u) | (f->object_kind ? 16u : 0u) | (f->object_id ? 32u : 0u);
	db_stmt *st;
	int err = db_prepare_dyn(c, &dyn_list, shape, &st);
	if (err)
		return err;
	db_set ns;
	db_set_init(&ns);
	db_bind_ns_filter(st, &ns, f->namespace, f->visible, f->nvisible);
	db_bind_text(st, f->actor ? f->actor : "");
	db_bind_text(st, f->action ? f->action : "");
	db_bind_text(st, f->object_kind ? f->object_kind : "");
	db_bind_text(st, f->object_id ? f->object_id : "");
	db_bind_int(st, f->since);
	db_bind_int(st, f->until > 0 ? f->until : INT64_MAX);
	/* No cursor: (INT64_MAX, "") is after every row. */
	db_bind_int(st, f->after_at > 0 ? f->after_at : INT64_MAX);
	db_bind_text(st, f->after_at > 0 ? f->after_id.str : "");
	db_bind_int(st, db_clamp_limit(f->limit));
	void *rows = NULL;
	err = db_collect(st, &audit_kind, &rows, n);
	*out = rows;
	db_set_release(&ns);
	return err;
}

static const db_sql q_expire = {
	"audit_expire",
	"DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2)", NULL,
};

int store_audit_expire(store_conn *c, int64_t before, size_t limit, int64_t *deleted)
{
	return db_expire_before(c, &q_expire, before, limit, deleted);
}
