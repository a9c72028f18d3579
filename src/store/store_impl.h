/*
 * store_impl.h — the backend interface behind store.h.
 *
 * A backend (store_sqlite.c, store_pg.c) fills one store_ops table and
 * embeds `struct store` as the first member of its store object and
 * `struct store_conn` as the first member of its connection object, both
 * pointing at that table. store.c dispatches every public store_* call
 * through it, so callers never see which backend runs. Each operation has
 * exactly the contract of the store.h function of the same name, except
 * that the "next due" lookups and batch_complete answer WEFT_ENOTFOUND for
 * "none" (store.c turns that into the public out-parameters).
 */
#ifndef WEFT_STORE_IMPL_H
#define WEFT_STORE_IMPL_H

#include "store.h"

typedef struct store_ops {
	const char *name;

	/* store object and connections */
	void (*close)(store *s);
	store_conn *(*writer)(store *s);
	store_conn *(*reader_acquire)(store *s);
	void (*reader_release)(store *s, store_conn *c);
	void (*pool_stats)(store *s, int *size, int *idle);
	int (*ping)(store_conn *c);

	/* transactions */
	int (*begin)(store_conn *c);
	int (*commit)(store_conn *c);
	int (*rollback)(store_conn *c);
	int (*savepoint)(store_conn *c);
	int (*savepoint_release)(store_conn *c);
	int (*savepoint_rollback)(store_conn *c);

	/* inserts */
	int (*batch_insert)(store_conn *c, const batch_row *b);
	int (*task_insert)(store_conn *c, const task_row *t);
	int (*link_insert)(store_conn *c, const link_row *l);
	int (*action_insert)(store_conn *c, const weft_id *task_id, const action_row *a);

	/* single task */
	int (*task_get)(store_conn *c, const weft_id *id, task_row *out);
	int (*task_actions)(store_conn *c, const weft_id *id, action_row **out, size_t *n);
	int (*task_actions_for)(store_conn *c, const weft_id *id, action_trigger trig,
	                        action_condition cond, action_row **out, size_t *n);
	int (*task_update)(store_conn *c, const weft_id *id, unsigned from_mask,
	                   const task_update *u, task_update_result *res);

	/* DAG propagation */
	int (*fail_required_children)(store_conn *c, const weft_id *parent, const char *reason,
	                              int64_t now, weft_id **changed, size_t *n);
	int (*release_children)(store_conn *c, const weft_id *parent, bool parent_succeeded,
	                        weft_id **became_pending, size_t *n);
	int (*dead_end_parents)(store_conn *c, const weft_id *tasks, size_t ntasks,
	                        weft_id **parents, size_t *n);

	/* starting tasks */
	int (*pending_scan)(store_conn *c, const pending_cursor *after, size_t limit, int64_t now,
	                    task_row **out, size_t *n);
	int (*pending_next_start)(store_conn *c, int64_t now, int64_t *due);
	int (*count_matching)(store_conn *c, const char *kind, unsigned status_mask,
	                      const char *pattern, int64_t limit, int64_t *count);
	int (*capacity_sum)(store_conn *c, const char *kind, const char *pattern, int64_t *sum);
	int (*ledger_claim)(store_conn *c, const char *key, const weft_id *task, action_trigger trig,
	                    action_condition cond, int64_t now, int64_t stale_before,
	                    ledger_claim_result *result);
	int (*ledger_finish)(store_conn *c, const char *key, bool ok, int32_t http_status, const char *error,
	                     int64_t now);
	int (*deadlines)(store_conn *c, task_status status, deadline_row **out, size_t *n);

	/* batches */
	int (*batch_task_count)(store_conn *c, const weft_id *batch, int64_t *count);
	int (*batch_add_remaining)(store_conn *c, const weft_id *batch, int64_t delta);
	int (*batch_complete)(store_conn *c, const weft_id *batch, int64_t now, char **on_complete,
	                      batch_outcome *counts);
	int (*batch_cancel)(store_conn *c, const weft_id *batch, const char *reason, int64_t now,
	                    batch_cancel_counts *counts, weft_id **was_running, size_t *nrunning);
	int (*batch_set_rules)(store_conn *c, const weft_id *batch, const char *kind,
	                       const char *rules_json, int64_t now, int64_t *updated);

	/* groups */
	int (*group_tasks)(store_conn *c, const char *name, unsigned status_mask, weft_id **ids,
	                   size_t *n);

	/* outbox */
	int (*outbox_insert)(store_conn *c, outbox_row *o);
	int (*outbox_lease)(store_conn *c, int64_t now, int64_t lease_until, size_t limit,
	                    const weft_id *skip, size_t nskip, outbox_row **out, size_t *n);
	int (*outbox_finish)(store_conn *c, int64_t id, bool ok, int32_t http_status,
	                     const char *error, int64_t now, int64_t retry_at);
	int (*outbox_next_due)(store_conn *c, int64_t *due);
	int (*outbox_recover)(store_conn *c, int64_t now);

	/* retention */
	int (*archive_terminal)(store_conn *c, int64_t ended_before, size_t limit, int64_t *archived);

	/* reads */
	int (*task_list)(store_conn *c, const task_filter *f, int64_t offset, int64_t limit,
	                 task_row **out, size_t *n);
	int (*batch_stats)(store_conn *c, const weft_id *batch, batch_stats *out);
	int (*batch_list)(store_conn *c, const batch_filter *f, int64_t offset, int64_t limit,
	                  batch_summary **out, size_t *n);
	int (*dag)(store_conn *c, const weft_id *batch, task_row **tasks, size_t *ntasks,
	           link_row **links, size_t *nlinks);
	int (*task_events)(store_conn *c, const weft_id *id, task_event **out, size_t *n);
	int (*outbox_list)(store_conn *c, unsigned status_mask, int64_t offset, int64_t limit,
	                   outbox_row **out, size_t *n);
	int (*status_counts)(store_conn *c, int64_t counts[TS__COUNT]);
	int (*running_by_kind)(store_conn *c, kind_count **out, size_t *n);

	/* many nodes: NULL in a single-node backend (store.c then answers as
	 * store.h says for SQLite) */
	void (*set_wakeup)(store *s, void (*wake)(void *arg, unsigned what), void *arg);
	bool (*is_leader)(store *s);
	int (*notify)(store_conn *c);
	int (*rules_lock)(store_conn *c, const char *kind, bool wait, bool *got);
	int (*timers_due)(store_conn *c, int64_t now, int64_t claim_timeout_us, size_t limit,
	                  timer_due_row **out, size_t *n);
	int (*timers_next)(store_conn *c, int64_t claim_timeout_us, int64_t *due);
} store_ops;

struct store {
	const store_ops *ops;
};

/* ---- helpers shared by the backends (store.c) ----------------------------- */

/* The columns a task_update may set, one shape bit each in this order: a
 * backend builds one UPDATE per shape (the set of fields present). */
enum {
	TU_STATUS, TU_SUCCESS, TU_FAILURES, TU_METADATA, TU_REASON, TU_RULES, TU_EXPECTED,
	TU_PRIORITY, TU_STARTED, TU_ENDED, TU_UPDATED, TU_ATTEMPT, TU_NEXT_RETRY, TU__COUNT
};
typedef struct task_update_column {
	const char *name;
	bool add;                /* the value is added to the column (counters) */
} task_update_column;
extern const task_update_column task_update_columns[TU__COUNT];
unsigned task_update_shape(const task_update *u);

/* The filters a task or batch listing has, one shape bit each in this
 * order: a backend builds one query per shape. */
enum { TL_NAME, TL_KIND, TL_STATUS, TL_TIMEOUT, TL_BATCH, TL_METADATA, TL__COUNT };
unsigned task_list_shape(const task_filter *f);
enum { BL_KIND, BL_NAME, BL_STATUS, BL_AFTER, BL_BEFORE, BL__COUNT };
unsigned batch_list_shape(const batch_filter *f);

/* Fills bs->kinds from a JSON array of strings (NULL or not an array: none). */
void batch_summary_set_kinds(batch_summary *bs, const char *json_array);

struct store_conn {
	const store_ops *ops;
};

#endif
