/*
 * copy.c — a transaction's inserts sent as COPY (pg.h): the rows of every
 * insert that has a COPY form are collected per table, in the order of
 * first use, and sent as one COPY per table when anything else runs (a
 * statement that waits, the pipeline's flush, the commit) or when they
 * reach COPY_MAX_BYTES. A failed COPY fails the step that is flushing, and
 * rows of a step undone are dropped with it.
 */
#include "util/common.h"

#include "store/pg/pg.h"
#include "util/alloc.h"
#include "util/log.h"

#define SUBSYS PG_SUBSYS
/* Rows collected for COPY before they are sent anyway. */
#define COPY_MAX_BYTES (8 * 1024 * 1024)

/* Empties b, freeing its memory when it grew large. */
void pg_trim(buf *b)
{
	if (b->cap > PG_KEEP_BYTES) {
		buf_release(b);
		buf_init(b);
	} else {
		buf_reset(b);
	}
}

void pg_copy_discard(pg_conn *c)
{
	for (size_t i = 0; i < c->ncopies; i++)
		pg_trim(&c->copies[i].rows);
	c->copy_bytes = 0;
}

/* Sends one table's rows; 0 or the error. */
static int copy_send(pg_conn *c, pg_copy *t)
{
	int64_t t0 = db_mono_ns();
	PGresult *r = PQexec(c->pq, t->def->copy);
	int err = 0;
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		err = pg_check(c, r, t->label);
		PQclear(r);
		return err ? err : WEFT_ESTORE;
	}
	PQclear(r);
	if (PQputCopyData(c->pq, t->rows.data, (int)t->rows.len) != 1 || PQputCopyEnd(c->pq, NULL) != 1) {
		pg_mark_broken(c, PQerrorMessage(c->pq));
		return WEFT_EUNAVAILABLE;
	}
	while ((r = PQgetResult(c->pq)) != NULL) {
		if (!err)
			err = pg_check(c, r, t->label);
		PQclear(r);
	}
	db_observe(&c->base, t->label, db_mono_ns() - t0);
	return c->broken ? WEFT_EUNAVAILABLE : err;
}

int pg_copy_flush(pg_conn *c)
{
	int err = 0;
	if (c->copy_bytes == 0)
		return 0;
	for (size_t i = 0; i < c->ncopies && !err; i++)
		if (c->copies[i].rows.len > 0)
			err = c->broken ? WEFT_EUNAVAILABLE : copy_send(c, &c->copies[i]);
	pg_copy_discard(c);
	return err;
}

/* Adds the statement's bound values as a row of its table's COPY, escaped
 * as COPY's text format wants (NULL is \N). */
int pg_copy_row(pg_conn *c, pg_stmt *s)
{
	pg_copy *t = NULL;
	for (size_t i = 0; i < c->ncopies && t == NULL; i++)
		if (c->copies[i].def == s->base.def)
			t = &c->copies[i];
	if (t == NULL) {
		c->copies = xrealloc(c->copies, (c->ncopies + 1) * sizeof *c->copies);
		t = &c->copies[c->ncopies++];
		t->def = s->base.def;
		t->label = s->base.label;
		buf_init(&t->rows);
	}
	size_t before = t->rows.len;
	for (int i = 0; i < s->base.nparams; i++) {
		if (i > 0)
			buf_putc(&t->rows, '\t');
		if (s->off[i] == SIZE_MAX) {
			buf_puts(&t->rows, "\\N");
			continue;
		}
		const char *v = s->args.data + s->off[i], *run = v;
		for (; *v; v++) {
			const char *esc = *v == '\\' ? "\\\\" : *v == '\n' ? "\\n" : *v == '\r' ? "\\r" : *v == '\t' ? "\\t" : NULL;
			if (esc == NULL)
				continue;
			buf_append(&t->rows, run, (size_t)(v - run));
			buf_puts(&t->rows, esc);
			run = v + 1;
		}
		buf_puts(&t->rows, run);
	}
	buf_putc(&t->rows, '\n');
	c->copy_bytes += t->rows.len - before;
	int err = c->copy_bytes >= COPY_MAX_BYTES ? pg_pipeline_flush(c) : 0;
	return err ? err : 1;
}

