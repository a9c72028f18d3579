/*
 * test_store_outbox.c — the webhook outbox and the start ledger in the store:
 * inserts, leases, outcomes, recovery, listing, and each action's delivery
 * record.
 * Each case runs on SQLite and on PostgreSQL unless its list says
 * otherwise (store_test.h).
 */
#include "util/common.h"

#include "store_test.h"

static int64_t list_count(store_conn *c, unsigned status_mask, int64_t *first_id)
{
	outbox_row *rows;
	size_t n;
	assert_int_equal(store_outbox_list(c, status_mask, 0, 100, &rows, &n), 0);
	if (first_id != NULL)
		*first_id = n > 0 ? rows[0].id : 0;
	for (size_t i = 1; i < n; i++)
		assert_true(rows[i - 1].id > rows[i].id);   /* newest first */
	store_free_outbox(rows, n);
	return (int64_t)n;
}

static void test_outbox(void **state)
{
	fixture *f = *state;
	task_row a = new_task("a", "k", TS_SUCCESS, T0);
	task_row b = new_task("b", "k", TS_CANCELED, T0);
	id_new_v4(&a.batch_id);
	int64_t due;
	assert_int_equal(due_found(store_outbox_next_due(f->w, &due), &due), WEFT_ENOTFOUND);

	outbox_row o1 = delivery("a:end:success", DELIVERY_END_SUCCESS, &a, 11, T0 + 10);
	outbox_row o2 = delivery("b:cancel", DELIVERY_CANCEL, &b, 12, T0 + 5);
	outbox_row o3 = delivery("batch:x:complete", DELIVERY_BATCH_COMPLETE, NULL, 0, T0 + 20);
	outbox_row o4 = delivery("a:cancel", DELIVERY_CANCEL, &a, 13, T0 + 1000);
	outbox_row *all[] = { &o1, &o2, &o3, &o4 };
	for (size_t i = 0; i < ARRAY_LEN(all); i++) {
		assert_int_equal(store_outbox_insert(f->w, all[i]), 0);
		assert_true(all[i]->id > 0);
		if (i > 0)
			assert_true(all[i]->id > all[i - 1]->id);
	}
	/* The same key again: kept as it was. */
	outbox_row dup = delivery("a:end:success", DELIVERY_END_FAILURE, &b, 99, T0);
	dup.params = (char *)"{\"other\":1}";
	dup.id = 77;
	assert_int_equal(store_outbox_insert(f->w, &dup), 0);
	assert_int_equal(dup.id, 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox"), 4);
	assert_int_equal(due_found(store_outbox_next_due(f->w, &due), &due), 0);
	assert_int_equal(due, T0 + 5);

	/* Due rows, oldest due first; the rest wait. */
	lease(f, T0 + 15, T0 + 115, 10, NULL, 0, (int64_t[]){ o2.id, o1.id }, 2);
	outbox_row *rows;
	size_t n;
	assert_int_equal(store_outbox_list(f->w, 0, 0, 10, &rows, &n), 0);
	assert_int_equal(n, 4);
	outbox_row *r1 = &rows[3];   /* o1: newest first */
	assert_int_equal(r1->id, o1.id);
	assert_string_equal(r1->key, "a:end:success");
	assert_int_equal(r1->event, DELIVERY_END_SUCCESS);
	assert_string_equal(r1->task_id.str, a.id.str);
	assert_string_equal(r1->batch_id.str, a.batch_id.str);
	assert_int_equal(r1->action_id, 11);
	assert_string_equal(r1->params, "{\"url\":\"http://hook\"}");
	assert_true(r1->add_handle);
	assert_int_equal(r1->attempts, 1);
	assert_int_equal(r1->max_attempts, 3);
	assert_int_equal(r1->created_at, T0);
	assert_int_equal(r1->last_http_status, 0);
	assert_null(r1->last_error);
	outbox_row *r3 = &rows[1];
	assert_int_equal(r3->event, DELIVERY_BATCH_COMPLETE);
	assert_false(id_is_set(&r3->task_id));
	assert_false(id_is_set(&r3->batch_id));
	assert_int_equal(r3->action_id, 0);
	assert_false(r3->add_handle);
	assert_int_equal(r3->status, DS_PENDING);
	assert_int_equal(r3->attempts, 0);
	store_free_outbox(rows, n);

	/* Leased rows are not due again before their lease ends. */
	lease(f, T0 + 20, T0 + 120, 10, NULL, 0, (int64_t[]){ o3.id }, 1);
	lease(f, T0 + 100, T0 + 200, 10, NULL, 0, NULL, 0);
	/* Expired leases come back; a skipped task's rows stay, a batch row never is skipped. */
	lease(f, T0 + 1000, T0 + 1100, 10, &a.id, 1, (int64_t[]){ o2.id, o3.id }, 2);
	lease(f, T0 + 2000, T0 + 2100, 1, &b.id, 1, (int64_t[]){ o1.id }, 1);
	lease(f, T0 + 2000, T0 + 2100, 10, (weft_id[]){ b.id, a.id }, 2, (int64_t[]){ o3.id }, 1);
	assert_int_equal(sql_intf(f, "SELECT attempts FROM outbox WHERE id = %" PRId64, o2.id), 2);
	assert_int_equal(sql_intf(f, "SELECT attempts FROM outbox WHERE id = %" PRId64, o1.id), 2);

	/* Outcomes. */
	assert_int_equal(store_outbox_finish(f->w, o1.id, true, 200, NULL, T0 + 2001, T0 + 9999), 0);
	assert_int_equal(store_outbox_finish(f->w, o2.id, false, 503, "HTTP 503", T0 + 2002, T0 + 3000), 0);
	assert_int_equal(store_outbox_finish(f->w, o3.id, false, 0, "timeout", T0 + 2003, 0), 0);
	assert_int_equal(store_outbox_finish(f->w, 424242, true, 200, NULL, T0, 0), 0);   /* unknown: no-op */
	assert_int_equal(store_outbox_list(f->w, 0, 0, 10, &rows, &n), 0);
	assert_int_equal(rows[3].status, DS_SUCCESS);
	assert_int_equal(rows[3].last_http_status, 200);
	assert_int_equal(rows[3].updated_at, T0 + 2001);
	assert_int_equal(rows[2].status, DS_RETRYING);
	assert_int_equal(rows[2].next_attempt_at, T0 + 3000);
	assert_int_equal(rows[2].last_http_status, 503);
	assert_string_equal(rows[2].last_error, "HTTP 503");
	assert_int_equal(rows[1].status, DS_EXHAUSTED);
	assert_int_equal(rows[1].last_http_status, 0);
	assert_string_equal(rows[1].last_error, "timeout");
	assert_int_equal(rows[0].status, DS_PENDING);
	store_free_outbox(rows, n);
	assert_int_equal(due_found(store_outbox_next_due(f->w, &due), &due), 0);
	assert_int_equal(due, T0 + 1000);   /* o4 */

	/* A retrying row is due at its retry time. */
	lease(f, T0 + 2999, T0 + 4000, 10, &a.id, 1, NULL, 0);
	lease(f, T0 + 3000, T0 + 4000, 10, &a.id, 1, (int64_t[]){ o2.id }, 1);

	/* Listing by delivery status, on a reader too. */
	store_conn *r = store_reader_acquire(f->st);
	int64_t first;
	assert_int_equal(list_count(r, 0, &first), 4);
	assert_int_equal(first, o4.id);
	assert_int_equal(list_count(r, 1u << DS_PENDING | 1u << DS_DELIVERING, &first), 2);   /* o4 pending, o2 delivering */
	assert_int_equal(first, o4.id);
	assert_int_equal(list_count(r, 1u << DS_SUCCESS, &first), 1);
	assert_int_equal(first, o1.id);
	assert_int_equal(list_count(r, 1u << DS_EXHAUSTED, &first), 1);
	assert_int_equal(first, o3.id);
	assert_int_equal(list_count(r, 1u << DS_RETRYING, NULL), 0);
	assert_int_equal(store_outbox_list(r, 0, 1, 2, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].id, o3.id);
	assert_int_equal(rows[1].id, o2.id);
	store_free_outbox(rows, n);
	assert_int_equal(store_outbox_list(r, 0, 10, 2, &rows, &n), 0);
	assert_int_equal(n, 0);
	store_reader_release(f->st, r);
	assert_int_equal(store_outbox_finish(f->w, o2.id, false, 500, "HTTP 500", T0 + 3001, T0 + 5000), 0);
	assert_int_equal(list_count(f->w, 1u << DS_RETRYING, &first), 1);
	assert_int_equal(first, o2.id);

	/* Start-up: a row left delivering becomes due at once. */
	lease(f, T0 + 4000, T0 + 9000, 10, &b.id, 1, (int64_t[]){ o4.id }, 1);
	lease(f, T0 + 4100, T0 + 9000, 10, &b.id, 1, NULL, 0);
	assert_int_equal(store_outbox_recover(f->w, T0 + 4100), 0);
	assert_int_equal(sql_intf(f, "SELECT next_attempt_at FROM outbox WHERE id = %" PRId64, o4.id), T0 + 4100);
	assert_int_equal(sql_intf(f, "SELECT next_attempt_at FROM outbox WHERE id = %" PRId64, o2.id), T0 + 5000);
	lease(f, T0 + 4100, T0 + 9000, 10, &b.id, 1, (int64_t[]){ o4.id }, 1);
	assert_int_equal(sql_intf(f, "SELECT attempts FROM outbox WHERE id = %" PRId64, o4.id), 2);

	/* Nothing undelivered left. */
	assert_int_equal(store_outbox_finish(f->w, o4.id, true, 204, NULL, T0 + 4200, 0), 0);
	assert_int_equal(store_outbox_finish(f->w, o2.id, true, 200, NULL, T0 + 4200, 0), 0);
	assert_int_equal(due_found(store_outbox_next_due(f->w, &due), &due), WEFT_ENOTFOUND);
	lease(f, INT64_MAX, INT64_MAX, 10, NULL, 0, NULL, 0);
	lease(f, T0 + 9999999, T0, 0, NULL, 0, NULL, 0);
}

static void test_action_delivery(void **state)
{
	fixture *f = *state;
	task_row t = new_task("t", "k", TS_RUNNING, T0);
	insert(f, &t);
	action_row acts[] = {
		{ .trigger = TRIGGER_START, .condition = COND_SUCCESS, .params = (char *)"{\"url\":\"s\"}" },
		{ .trigger = TRIGGER_END, .condition = COND_SUCCESS, .params = (char *)"{\"url\":\"e1\"}" },
		{ .trigger = TRIGGER_END, .condition = COND_FAILURE, .params = (char *)"{\"url\":\"e2\"}" },
		{ .trigger = TRIGGER_CANCEL, .condition = COND_SUCCESS, .params = (char *)"{\"url\":\"c\"}" },
	};
	for (size_t i = 0; i < ARRAY_LEN(acts); i++)
		assert_int_equal(store_action_insert(f->w, &t.id, &acts[i]), 0);
	action_row *out;
	size_t n;
	assert_int_equal(store_task_actions(f->w, &t.id, &out, &n), 0);
	assert_int_equal(n, 4);
	int64_t ids[4];
	for (size_t i = 0; i < n; i++) {
		ids[i] = out[i].id;
		assert_true(i == 0 || ids[i] > ids[i - 1]);
		assert_false(out[i].has_delivery);
		assert_null(out[i].last_error);
	}
	store_free_actions(out, n);
	assert_int_equal(store_task_actions_for(f->w, &t.id, TRIGGER_END, COND_SUCCESS, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].id, ids[1]);
	assert_false(out[0].has_delivery);
	store_free_actions(out, n);

	/* Start: from the ledger. */
	char key[64];
	snprintf(key, sizeof key, "%s:start", t.id.str);
	ledger_claim_result lr;
	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 100, 0, &lr), 0);
	/* End (success): the newest of its outbox rows. Cancel: a failed attempt. */
	outbox_row first = delivery("e1:1", DELIVERY_END_SUCCESS, &t, ids[1], T0);
	outbox_row second = delivery("e1:2", DELIVERY_END_SUCCESS, &t, ids[1], T0 + 500);
	outbox_row cancel = delivery("c", DELIVERY_CANCEL, &t, ids[3], T0);
	assert_int_equal(store_outbox_insert(f->w, &first), 0);
	assert_int_equal(store_outbox_insert(f->w, &cancel), 0);
	lease(f, T0 + 200, T0 + 300, 10, NULL, 0, (int64_t[]){ first.id, cancel.id }, 2);
	assert_int_equal(store_outbox_finish(f->w, first.id, true, 200, NULL, T0 + 201, 0), 0);
	assert_int_equal(store_outbox_finish(f->w, cancel.id, false, 500, "HTTP 500", T0 + 202, T0 + 900), 0);
	assert_int_equal(store_outbox_insert(f->w, &second), 0);

	assert_int_equal(store_task_actions(f->w, &t.id, &out, &n), 0);
	assert_int_equal(n, 4);
	assert_true(out[0].has_delivery);
	assert_int_equal(out[0].delivery, DS_DELIVERING);
	assert_int_equal(out[0].attempts, 1);
	assert_int_equal(out[0].last_attempt_at, T0 + 100);
	assert_int_equal(out[0].last_http_status, 0);
	assert_true(out[1].has_delivery);
	assert_int_equal(out[1].delivery, DS_PENDING);
	assert_int_equal(out[1].attempts, 0);
	assert_false(out[2].has_delivery);
	assert_true(out[3].has_delivery);
	assert_int_equal(out[3].delivery, DS_RETRYING);
	assert_int_equal(out[3].attempts, 1);
	assert_int_equal(out[3].last_http_status, 500);
	assert_string_equal(out[3].last_error, "HTTP 500");
	assert_int_equal(out[3].last_attempt_at, T0 + 200);
	store_free_actions(out, n);

	assert_int_equal(store_ledger_finish(f->w, key, false, 500, "HTTP 500", T0 + 150), 0);
	/* The ledger's record of the last answer, when there is one. */
	sql_exec(f, "UPDATE webhook_execution SET last_http_status = 502, last_error = 'HTTP 502'");
	store_conn *r = store_reader_acquire(f->st);
	assert_int_equal(store_task_actions(r, &t.id, &out, &n), 0);
	assert_int_equal(out[0].delivery, DS_RETRYING);
	assert_int_equal(out[0].last_attempt_at, T0 + 150);
	assert_int_equal(out[0].last_http_status, 502);
	assert_string_equal(out[0].last_error, "HTTP 502");
	store_free_actions(out, n);
	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 160, 0, &lr), 0);
	assert_int_equal(store_ledger_finish(f->w, key, true, 200, NULL, T0 + 170), 0);
	assert_int_equal(store_task_actions(r, &t.id, &out, &n), 0);
	assert_int_equal(out[0].delivery, DS_SUCCESS);
	assert_int_equal(out[0].attempts, 2);
	store_free_actions(out, n);
	store_reader_release(f->st, r);
}

static void test_ledger(void **state)
{
	fixture *f = *state;
	task_row t = new_task("t", "k", TS_RUNNING, T0);
	insert(f, &t);
	const char *key = "task:start";
	ledger_claim_result r;

	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 100, T0 + 70, &r), 0);
	assert_int_equal(r, LEDGER_CLAIMED);
	/* Pending and fresh: busy. */
	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 110, T0 + 80, &r), 0);
	assert_int_equal(r, LEDGER_BUSY);
	/* Pending but older than stale_before: re-claimed. */
	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 200, T0 + 150, &r), 0);
	assert_int_equal(r, LEDGER_CLAIMED);
	assert_int_equal(sql_int(f, "SELECT attempts FROM webhook_execution"), 2);
	/* Failed: re-claimed at once. */
	assert_int_equal(store_ledger_finish(f->w, key, false, 500, "HTTP 500", T0 + 210), 0);
	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 220, 0, &r), 0);
	assert_int_equal(r, LEDGER_CLAIMED);
	/* Succeeded: done forever, even when stale. */
	assert_int_equal(store_ledger_finish(f->w, key, true, 200, NULL, T0 + 230), 0);
	assert_int_equal(store_ledger_claim(f->w, key, &t.id, TRIGGER_START, COND_SUCCESS, T0 + 999999, INT64_MAX, &r), 0);
	assert_int_equal(r, LEDGER_DONE);
	assert_int_equal(sql_int(f, "SELECT attempts FROM webhook_execution"), 3);
	/* Another key is independent. */
	assert_int_equal(store_ledger_claim(f->w, "task:end:success", &t.id, TRIGGER_END, COND_SUCCESS, T0, 0, &r), 0);
	assert_int_equal(r, LEDGER_CLAIMED);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TEST_SQLITE(test_outbox),
		STORE_TEST_SQLITE(test_action_delivery),
		STORE_TEST_SQLITE(test_ledger),
	};
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_outbox),
		STORE_TEST_PG(test_action_delivery),
		STORE_TEST_PG(test_ledger),
	};
	return run_store_tests("store_outbox", sqlite_tests, ARRAY_LEN(sqlite_tests), pg_tests, ARRAY_LEN(pg_tests));
}
