/*
 * parts/batches.c — batch completion: batches with a task that ended are
 * checked at the end of the cycle, and the first time one has no
 * unfinished task its on_batch_complete deliveries are written to the
 * outbox (outbox.c).
 *
 * Batch rows are locked here, last in the cycle and in id order, after
 * every task row: two nodes' cycles then never wait for each other in a
 * circle over a batch. A batch stays in the set until a check of it has
 * committed, so neither a failed check nor a failed commit loses an
 * on_batch_complete.
 */
#include "util/common.h"
#include "util/log.h"
#include "engine/cycle.h"

/* A failed check is tried again by the next cycle, or after this. */
#define RETRY_US (1000 * 1000LL)

void engine_touch_batch(engine *e, const weft_id *batch)
{
	id_set_add(&e->batches.touched, batch);
}

static int cmp_batch_id(const void *a, const void *b)
{
	return strcmp(((const weft_id *)a)->str, ((const weft_id *)b)->str);
}

/* Every touched batch checked by one statement, the on_batch_complete
 * deliveries of those that completed written by one more. */
static int check_step(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	id_set *set = &e->batches.touched;
	/* The same order on every node. */
	qsort(set->items, set->len, sizeof(weft_id), cmp_batch_id);
	batch_completion *done = NULL;
	size_t n = 0;
	int rc = store_batch_complete_many(e->w, set->items, set->len, now, &done, &n);
	if (rc == 0) {
		engine_count(e, "batches_completed_total", NULL, n);
		rc = outbox_add_batch_webhooks(e, done, n, now);
	}
	store_free_completions(done, n);
	return rc;
}

static void batches_init(engine *e)
{
	e->batches.retry_at = INT64_MIN;
}

static void batches_run(engine *e, int64_t now)
{
	if (e->batches.touched.len == 0)
		return;
	int rc = engine_step(e, check_step, NULL, now);
	/* After a failure, any cycle checks again; one of its own comes a
	 * little later, so a lasting failure does not spin. */
	e->batches.retry_at = rc == 0 || rc == WEFT_ERETRY ? INT64_MIN : now + RETRY_US;
	if (rc == 0) {
		/* Checked: forgotten once the cycle commits. */
		for (size_t i = 0; i < e->batches.touched.len; i++)
			id_set_add(&e->batches.checking, &e->batches.touched.items[i]);
		e->batches.touched.len = 0;
	} else if (rc != WEFT_ERETRY) {
		log_error("engine", "batch completion check failed; checked again in the next cycle");
	}
}

static int64_t batches_next_wake(const engine *e)
{
	return e->batches.touched.len ? e->batches.retry_at : INT64_MAX;
}

static void batches_finish(engine *e, bool committed)
{
	if (!committed)
		for (size_t i = 0; i < e->batches.checking.len; i++)
			id_set_add(&e->batches.touched, &e->batches.checking.items[i]);
	e->batches.checking.len = 0;
}

static void batches_release(engine *e)
{
	id_set_release(&e->batches.touched);
	id_set_release(&e->batches.checking);
}

const cycle_part part_batches = {
	.name = "batches",
	.init = batches_init,
	.run = batches_run,
	.next_wake = batches_next_wake,
	.finish = batches_finish,
	.release = batches_release,
};
