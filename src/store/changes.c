/*
 * changes.c — the tasks whose status a transaction changed, noted where
 * the change is written (the guarded updates, the cascades, the releases,
 * the claims, the job reports, the inserts) and kept with the connection
 * until the next transaction begins, so that the one who committed can
 * tell others (the change feed) which tasks to look at.
 *
 * Each change is noted with the status it gave, so that a reader after
 * several commits still sees each step. A savepoint's rollback forgets
 * what was noted after it. A change that touches a whole run by one
 * statement (a run's cancel, pause or resume) notes the run. Past STORE_CHANGES_MAX ids the journal stops noting and
 * says it overflowed: whoever reads it treats everything as changed.
 */
#include "util/common.h"

#include "store/db.h"
#include "util/alloc.h"

void task_changed_note(store_conn *c, const weft_id *id, task_status to)
{
	db_changes *j = &c->changes;
	if (j->n + j->nruns >= STORE_CHANGES_MAX) {
		j->overflow = true;
		return;
	}
	j->items = db_grow(j->items, j->n, &j->cap, sizeof *j->items);
	j->items[j->n++] = (store_change){ *id, to };
}

void task_changed_note_run(store_conn *c, const weft_id *run)
{
	db_changes *j = &c->changes;
	for (size_t i = j->sp_nruns; i < j->nruns; i++)
		if (id_eq(&j->runs[i], run))
			return;
	if (j->n + j->nruns >= STORE_CHANGES_MAX)
		j->overflow = true;
	else {
		j->runs = db_grow(j->runs, j->nruns, &j->runs_cap, sizeof *j->runs);
		j->runs[j->nruns++] = *run;
	}
}

void task_changes_reset(store_conn *c)
{
	db_changes *j = &c->changes;
	j->n = j->nruns = j->sp_n = j->sp_nruns = 0;
	j->overflow = j->sp_overflow = false;
}

void task_changes_savepoint(store_conn *c)
{
	db_changes *j = &c->changes;
	j->sp_n = j->n;
	j->sp_nruns = j->nruns;
	j->sp_overflow = j->overflow;
}

void task_changes_rollback(store_conn *c)
{
	db_changes *j = &c->changes;
	j->n = j->sp_n;
	j->nruns = j->sp_nruns;
	j->overflow = j->sp_overflow;
}

void task_changes_release(store_conn *c)
{
	free(c->changes.items);
	free(c->changes.runs);
	c->changes = (db_changes){ 0 };
}

store_changes store_changes_of(const store_conn *c)
{
	const db_changes *j = &c->changes;
	return (store_changes){ .items = j->items, .n = j->n, .runs = j->runs, .nruns = j->nruns, .overflow = j->overflow };
}
