/*
 * Engine tests that move time: deadlines driven by the injected clock, and
 * what a cycle keeps or drops when a step or its commit fails, and a
 * cycle whose commit is in doubt.
 *
 * The clock is frozen for the whole file: the engine sees time move only
 * when a test calls clock_advance(), and engine_sync() then returns once a
 * cycle has run at the new time. Nothing on a timed path sleeps; the only
 * waits are for a start webhook's HTTP answer, which is real I/O.
 *
 * Start webhooks go to a "hold" listener that never answers (tasks stay
 * claimed), to an "ok" responder thread that answers 200 at once (tasks
 * become running), or to a closed port.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/metrics.h"
#include "engine/engine.h"
#include "engine/rules.h"
#include "engine/commands/batches.h"
#include "engine/commands/tasks.h"
#include "exec/webhook.h"
#include "store/store.h"
#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine_test.h"

#define SEC 1000000LL
#define QUEUE_MAX 4

typedef struct fixture {
	char dir[64];
	store *st;
	dispatcher *disp;
	engine *eng;
	ssrf_policy ssrf;
	int hold_fd, ok_fd;
	pthread_t ok_thread;
	char hold_url[64], ok_url[64], dead_url[64];
} fixture;

static fixture F;

/* Answers every request 200 with an empty body, one connection at a time. */
static void *ok_responder(void *arg)
{
	UNUSED(arg);
	for (;;) {
		int c = accept(F.ok_fd, NULL, NULL);
		if (c < 0)
			return NULL;
		char req[8192];
		size_t len = 0;
		while (len < sizeof(req) - 1) {
			ssize_t n = read(c, req + len, sizeof(req) - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			req[len] = '\0';
			char *end = strstr(req, "\r\n\r\n");
			if (!end)
				continue;
			const char *cl = strstr(req, "Content-Length:");
			size_t body = cl ? (size_t)atol(cl + 15) : 0;
			if (len >= (size_t)(end + 4 - req) + body)
				break;
		}
		static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
		ssize_t w = write(c, resp, sizeof(resp) - 1);
		UNUSED(w);
		close(c);
	}
}

static int setup(void **state)
{
	UNUSED(state);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	clock_freeze(true);
	snprintf(F.dir, sizeof(F.dir), "/tmp/weft-engine-time-XXXXXX");
	assert_non_null(mkdtemp(F.dir));
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/t.db", F.dir);
	store_options so = { .sync_full = false, .readers = 2 };
	F.st = store_open(path, &so, err, sizeof(err));
	assert_non_null(F.st);

	int port;
	F.hold_fd = test_listener(&port);
	assert_true(F.hold_fd >= 0);
	snprintf(F.hold_url, sizeof(F.hold_url), "http://127.0.0.1:%d/hold", port);
	F.ok_fd = test_listener(&port);
	assert_true(F.ok_fd >= 0);
	snprintf(F.ok_url, sizeof(F.ok_url), "http://127.0.0.1:%d/ok", port);
	assert_int_equal(pthread_create(&F.ok_thread, NULL, ok_responder, NULL), 0);
	int dead_fd = test_listener(&port);
	close(dead_fd);
	snprintf(F.dead_url, sizeof(F.dead_url), "http://127.0.0.1:%d/dead", port);

	ssrf_policy_init(&F.ssrf);
	F.ssrf.skip = true;
	dispatcher_config dc = { .host_url = "http://127.0.0.1:8085", .concurrency = 64,
	                         .timeout_ms = 60000, .connect_timeout_ms = 2000,
	                         .max_response_bytes = 65536 };
	F.disp = dispatcher_new(&dc);
	engine_config ec = { .claim_timeout_us = 3600 * SEC, .sweep_interval_us = 0,
	                     .start_window = 1000, .dead_end_cancel = true, .ssrf = &F.ssrf,
	                     .delivery_window = 16, .max_attempts = 3, .backoff_base_us = 100000,
	                     .backoff_cap_us = 1000000, .lease_us = 60 * SEC, .queue_max = QUEUE_MAX };
	F.eng = engine_new(&ec, F.st, F.disp);
	assert_int_equal(engine_start(F.eng), 0);
	return 0;
}

static int teardown(void **state)
{
	UNUSED(state);
	/* The dispatcher bounds its shutdown by the clock: let time run. */
	clock_freeze(false);
	engine_stop(F.eng);
	dispatcher_free(F.disp);
	engine_free(F.eng);
	store_close(F.st);
	ssrf_policy_release(&F.ssrf);
	shutdown(F.ok_fd, SHUT_RDWR);
	close(F.ok_fd);
	pthread_join(F.ok_thread, NULL);
	close(F.hold_fd);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.dir);
	assert_int_equal(system(cmd), 0);
	curl_global_cleanup();
	return 0;
}

/* ---- helpers ----------------------------------------------------------------- */

typedef struct spec {
	const char *url;
	int32_t timeout_secs;
	const char *metadata;       /* NULL = "null" */
	const char *rules;          /* NULL = "[]" */
	const char *retry;          /* NULL = none */
} spec;

static new_task *tasks_new(const spec *s, size_t n)
{
	new_task *tasks = xcalloc(n, sizeof(new_task));
	for (size_t i = 0; i < n; i++) {
		new_task *t = &tasks[i];
		t->name = xstrdup("t");
		t->kind = xstrdup("test");
		t->timeout_secs = s[i].timeout_secs ? s[i].timeout_secs : 3600;
		t->metadata = xstrdup(s[i].metadata ? s[i].metadata : "null");
		t->rules = xstrdup(s[i].rules ? s[i].rules : "[]");
		t->on_start = xasprintf("{\"url\":\"%s\",\"verb\":\"Post\"}", s[i].url ? s[i].url : F.hold_url);
		t->deps = xcalloc(1, sizeof(new_dependency));
		t->retry_policy = s[i].retry ? xstrdup(s[i].retry) : NULL;
	}
	return tasks;
}

/* Submits one batch of n tasks; ids out; the batch id in *batch. */
static void submit(const spec *s, size_t n, weft_id *ids, weft_id *batch, const char *on_complete)
{
	new_task *tasks = tasks_new(s, n);
	cmd_submit cmd;
	cmd_submit_init(&cmd);
	id_new_v4(&cmd.batch_id);
	cmd.tasks = tasks;
	cmd.ntasks = n;
	cmd.on_complete = on_complete;
	engine_call(F.eng, &cmd.base);
	assert_int_equal(cmd.base.result, 0);
	for (size_t i = 0; i < n; i++) {
		ids[i] = tasks[i].id;
		assert_int_equal(tasks[i].attempt, 1);
		new_task_release(&tasks[i]);
	}
	if (batch)
		*batch = cmd.batch_id;
	free(tasks);
}

static task_row get(const weft_id *id) { return test_task_get(F.st, id); }
static task_status status_of(const weft_id *id) { return test_task_status(F.st, id); }
static task_status wait_not(const weft_id *id, task_status from)
{
	return test_wait_status_not(F.st, id, from, 2000, 1000);
}

static int patch(const weft_id *id, task_status to)
{
	cmd_patch cmd;
	cmd_patch_init(&cmd);
	cmd.id = *id;
	cmd.has_status = true;
	cmd.status = to;
	cmd.failure_reason = to == TS_FAILURE ? "boom" : NULL;
	engine_call(F.eng, &cmd.base);
	return cmd.base.result;
}

static int cancel(const weft_id *id)
{
	cmd_task cmd;
	cmd_task_init(&cmd, TASK_CANCEL);
	cmd.id = *id;
	engine_call(F.eng, &cmd.base);
	return cmd.base.result;
}

/* Moves the clock forward and returns once the engine has run at the new time. */
static void advance(int64_t us)
{
	clock_advance(us);
	assert_int_equal(engine_sync(F.eng), 0);
}

/* ---- deadlines driven by the clock ----------------------------------------------- */

static void test_retry_backoff_with_injected_clock(void **state)
{
	UNUSED(state);
	spec s = { .retry = "{\"max_retries\":1,\"initial_delay_secs\":60,\"backoff_multiplier\":2,"
	                    "\"max_delay_secs\":300,\"retry_on\":[\"explicit\"]}" };
	weft_id id;
	submit(&s, 1, &id, NULL, NULL);
	task_row r = get(&id);
	assert_int_equal(r.status, TS_CLAIMED);    /* claimed in the submit's own cycle */
	assert_int_equal(r.attempt, 1);
	task_row_release(&r);

	assert_int_equal(patch(&id, TS_FAILURE), 0);
	r = get(&id);
	assert_int_equal(r.status, TS_RETRYING);
	assert_int_equal(r.attempt, 2);
	int64_t wait = r.next_retry_at - clock_now_us();
	assert_true(wait >= 54 * SEC && wait <= 66 * SEC);   /* 60 s ± 10 % */
	task_row_release(&r);

	advance(50 * SEC);
	assert_int_equal(status_of(&id), TS_RETRYING);
	advance(20 * SEC);
	/* The backoff fired, the task became pending and the same cycle's start
	 * pass claimed it again for its second attempt. */
	r = get(&id);
	assert_int_equal(r.status, TS_CLAIMED);
	assert_int_equal(r.attempt, 2);
	task_row_release(&r);

	/* max_retries 1: the second failure is final. */
	assert_int_equal(patch(&id, TS_FAILURE), 0);
	assert_int_equal(status_of(&id), TS_FAILURE);
}

static void test_inactivity_timeout_with_injected_clock(void **state)
{
	UNUSED(state);
	spec s = { .url = F.ok_url, .timeout_secs = 30 };
	weft_id id;
	submit(&s, 1, &id, NULL, NULL);
	assert_int_equal(wait_not(&id, TS_CLAIMED), TS_RUNNING);

	advance(20 * SEC);
	assert_int_equal(status_of(&id), TS_RUNNING);
	advance(15 * SEC);
	task_row r = get(&id);
	assert_int_equal(r.status, TS_FAILURE);
	assert_string_equal(r.failure_reason, "Timeout");
	task_row_release(&r);
}

static void test_timeout_heartbeat_moves_deadline(void **state)
{
	UNUSED(state);
	spec s = { .url = F.ok_url, .timeout_secs = 30 };
	weft_id id;
	submit(&s, 1, &id, NULL, NULL);
	assert_int_equal(wait_not(&id, TS_CLAIMED), TS_RUNNING);
	advance(20 * SEC);
	cmd_counters c;
	cmd_counters_init(&c);
	c.id = id;
	c.success = 1;
	engine_call(F.eng, &c.base);          /* a heartbeat */
	assert_int_equal(c.base.result, 0);
	advance(15 * SEC);                     /* 35 s after start, 15 s after the heartbeat */
	assert_int_equal(status_of(&id), TS_RUNNING);
	advance(20 * SEC);
	assert_int_equal(status_of(&id), TS_FAILURE);
}

/* ---- the heap holds the live tasks' deadlines only ------------------------------- */

static size_t heap_len(void)
{
	engine_stats st;
	assert_int_equal(engine_sync(F.eng), 0);
	engine_get_stats(F.eng, &st);
	return st.deadlines;
}

/* Starts n tasks with a one-day timeout and waits until all run. */
static void start_running(weft_id *ids, size_t n)
{
	spec *s = xcalloc(n, sizeof *s);
	for (size_t i = 0; i < n; i++)
		s[i] = (spec){ .url = F.ok_url, .timeout_secs = 86400 };
	submit(s, n, ids, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(wait_not(&ids[i], TS_CLAIMED), TS_RUNNING);
	free(s);
}

static void test_heap_bounded_by_live_tasks(void **state)
{
	UNUSED(state);
	enum { N = 100, ROUNDS = 3 };
	size_t base = heap_len();
	weft_id ids[N];
	for (int round = 0; round < ROUNDS; round++) {
		start_running(ids, N);
		/* Each running task: its claim entry (due in an hour) and its timeout. */
		assert_int_equal(heap_len(), base + 2 * N);
		for (size_t i = 0; i < N; i++)
			assert_int_equal(round % 2 ? cancel(&ids[i]) : patch(&ids[i], i % 3 ? TS_SUCCESS : TS_FAILURE), 0);
		assert_int_equal(heap_len(), base);
	}

	/* A retrying task's backoff entry leaves with its cancel. */
	spec r = { .url = F.ok_url, .timeout_secs = 86400,
	           .retry = "{\"max_retries\":1,\"initial_delay_secs\":600,\"retry_on\":[\"explicit\"]}" };
	weft_id id;
	submit(&r, 1, &id, NULL, NULL);
	assert_int_equal(wait_not(&id, TS_CLAIMED), TS_RUNNING);
	assert_int_equal(patch(&id, TS_FAILURE), 0);
	assert_int_equal(status_of(&id), TS_RETRYING);
	assert_int_equal(heap_len(), base + 3);    /* claim, timeout, backoff */
	assert_int_equal(cancel(&id), 0);
	assert_int_equal(heap_len(), base);

	/* Timeouts still fire among the entries that came and went. */
	spec t = { .url = F.ok_url, .timeout_secs = 30 };
	submit(&t, 1, &id, NULL, NULL);
	assert_int_equal(wait_not(&id, TS_CLAIMED), TS_RUNNING);
	advance(31 * SEC);
	assert_int_equal(status_of(&id), TS_FAILURE);
	assert_true(heap_len() <= base + 1);       /* the claim's entry, due later */
}

/* A task's end that did not commit keeps its deadlines. */
static void test_deadlines_kept_when_end_rolls_back(void **state)
{
	UNUSED(state);
	spec s = { .url = F.ok_url, .timeout_secs = 30 };
	weft_id id;
	submit(&s, 1, &id, NULL, NULL);
	assert_int_equal(wait_not(&id, TS_CLAIMED), TS_RUNNING);
	size_t before = heap_len();

	engine_test_faults(F.eng, 1, NULL);
	assert_int_equal(patch(&id, TS_SUCCESS), WEFT_ESTORE);
	assert_int_equal(status_of(&id), TS_RUNNING);
	engine_test_faults(F.eng, 0, "commands");
	assert_int_equal(patch(&id, TS_SUCCESS), WEFT_ESTORE);     /* the step rolls back */
	assert_int_equal(status_of(&id), TS_RUNNING);
	assert_int_equal(heap_len(), before);

	advance(31 * SEC);
	task_row r = get(&id);
	assert_int_equal(r.status, TS_FAILURE);
	assert_string_equal(r.failure_reason, "Timeout");
	task_row_release(&r);
}

/* ---- what a failed step or commit keeps ----------------------------------------- */

static void test_deadline_kept_when_commit_fails(void **state)
{
	UNUSED(state);
	spec s = { .url = F.ok_url, .timeout_secs = 30 };
	weft_id id;
	submit(&s, 1, &id, NULL, NULL);
	assert_int_equal(wait_not(&id, TS_CLAIMED), TS_RUNNING);
	int64_t failures = metrics_get("engine_commit_failures_total", NULL);

	engine_test_faults(F.eng, 1, NULL);
	clock_advance(40 * SEC);
	engine_sync(F.eng);          /* may share the failed cycle */
	assert_int_equal(engine_sync(F.eng), 0);
	assert_int_equal(metrics_get("engine_commit_failures_total", NULL), failures + 1);
	task_row r = get(&id);
	assert_int_equal(r.status, TS_FAILURE);
	assert_string_equal(r.failure_reason, "Timeout");
	task_row_release(&r);
}

static void test_metrics_count_only_what_committed(void **state)
{
	UNUSED(state);
	spec s = { 0 };
	weft_id id;
	submit(&s, 1, &id, NULL, NULL);
	int64_t canceled = metrics_get("tasks_cancelled_total", NULL);
	int64_t moved = metrics_get("task_status_transitions_total", "from_status=\"Claimed\",to_status=\"Canceled\"");

	engine_test_faults(F.eng, 0, "commands");
	assert_int_equal(cancel(&id), WEFT_ESTORE);     /* applied, then rolled back */
	assert_int_equal(status_of(&id), TS_CLAIMED);
	assert_int_equal(metrics_get("tasks_cancelled_total", NULL), canceled);

	assert_int_equal(cancel(&id), 0);
	assert_int_equal(status_of(&id), TS_CANCELED);
	assert_int_equal(metrics_get("tasks_cancelled_total", NULL), canceled + 1);
	assert_int_equal(metrics_get("task_status_transitions_total", "from_status=\"Claimed\",to_status=\"Canceled\""),
	                 moved + 1);
}

static bool has_delivery(const char *key)
{
	store_conn *c = store_reader_acquire(F.st);
	outbox_row *rows = NULL;
	size_t n = 0;
	assert_int_equal(store_outbox_list(c, 0, 0, 1000, &rows, &n), 0);
	store_reader_release(F.st, c);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found |= strcmp(rows[i].key, key) == 0;
	store_free_outbox(rows, n);
	return found;
}

static void test_batch_completion_kept_when_check_fails(void **state)
{
	UNUSED(state);
	char *on_complete = xasprintf("[{\"kind\":\"Webhook\",\"params\":{\"url\":\"%s\",\"verb\":\"Post\"}}]", F.dead_url);
	spec s = { 0 };
	weft_id id, batch;
	submit(&s, 1, &id, &batch, on_complete);
	int64_t completed = metrics_get("batches_completed_total", NULL);
	char key[160];
	snprintf(key, sizeof(key), "batch:%s:complete", batch.str);

	engine_test_faults(F.eng, 0, "batches");
	assert_int_equal(cancel(&id), 0);      /* the task ends; its batch's check fails */
	assert_int_equal(engine_sync(F.eng), 0);
	assert_true(has_delivery(key));
	assert_int_equal(metrics_get("batches_completed_total", NULL), completed + 1);
	free(on_complete);
}

/* ---- a commit in doubt ---------------------------------------------------------------- */

/* A submission of one task answered through a callback. */
typedef struct async_submit {
	cmd_submit cmd;
	new_task *tasks;
	atomic_bool answered;
} async_submit;

static void async_done(engine_cmd *cmd, void *arg)
{
	UNUSED(cmd);
	atomic_store((atomic_bool *)arg, true);
}

static void async_submit_start(async_submit *a, const spec *s)
{
	a->tasks = tasks_new(s, 1);
	atomic_init(&a->answered, false);
	cmd_submit_init(&a->cmd);
	id_new_v4(&a->cmd.batch_id);
	a->cmd.tasks = a->tasks;
	a->cmd.ntasks = 1;
	a->cmd.base.done = async_done;
	a->cmd.base.arg = &a->answered;
	engine_submit(F.eng, &a->cmd.base);
}

static void async_submit_release(async_submit *a)
{
	new_task_release(&a->tasks[0]);
	free(a->tasks);
}

/* Waits until the engine has parked a cycle whose commit is in doubt. */
static void wait_parked(void)
{
	engine_stats st = { 0 };
	for (int i = 0; i < 2000 && !st.commit_in_doubt; i++) {
		engine_get_stats(F.eng, &st);
		if (!st.commit_in_doubt)
			usleep(1000);
	}
	assert_true(st.commit_in_doubt);
}

static bool task_exists(const weft_id *id)
{
	task_row r;
	store_conn *c = store_reader_acquire(F.st);
	int rc = store_task_get(c, id, &r);
	store_reader_release(F.st, c);
	if (rc == 0)
		task_row_release(&r);
	return rc == 0;
}

/* Syncs until a cycle runs again: while the parked cycle's outcome is
 * unknown each sync is refused at once (WEFT_EUNAVAILABLE), without the
 * clock moving. Returns how many were refused. */
static int sync_until_resumed(const async_submit *parked)
{
	int refused = 0;
	for (;;) {
		int rc = engine_sync(F.eng);
		if (rc == 0)
			return refused;
		assert_int_equal(rc, WEFT_EUNAVAILABLE);
		assert_false(atomic_load(&parked->answered));
		assert_true(++refused < 100);
	}
}

static void test_commit_in_doubt_resolved_committed(void **state)
{
	UNUSED(state);
	int64_t created = metrics_get("tasks_created_total", NULL);
	int64_t failures = metrics_get("engine_commit_failures_total", NULL);
	engine_test_doubt(F.eng, true, 3);
	spec s = { .url = F.ok_url };
	async_submit a;
	async_submit_start(&a, &s);      /* its cycle commits, and is told it is in doubt */
	wait_parked();
	const weft_id *id = &a.tasks[0].id;
	assert_true(task_exists(id));

	/* Parked: the submission waits; a command that comes meanwhile is
	 * answered 503 at once and changes nothing; the start was not
	 * launched, nor the creation counted. */
	assert_int_equal(cancel(id), WEFT_EUNAVAILABLE);
	usleep(50 * 1000);
	assert_false(atomic_load(&a.answered));
	assert_int_equal(status_of(id), TS_CLAIMED);
	assert_int_equal(metrics_get("tasks_created_total", NULL), created);

	/* Learned: committed. The submission gets its real answer, its start
	 * goes out, its metrics count. */
	assert_true(sync_until_resumed(&a) >= 1);
	assert_true(atomic_load(&a.answered));
	assert_int_equal(a.cmd.base.result, 0);
	assert_int_equal(a.cmd.created, 1);
	assert_int_equal(wait_not(id, TS_CLAIMED), TS_RUNNING);
	assert_int_equal(metrics_get("tasks_created_total", NULL), created + 1);
	assert_int_equal(metrics_get("engine_commit_failures_total", NULL), failures);
	async_submit_release(&a);
}

static void test_commit_in_doubt_resolved_aborted(void **state)
{
	UNUSED(state);
	spec held = { 0 };
	weft_id other;
	submit(&held, 1, &other, NULL, NULL);    /* claimed: its start never answers */
	int64_t created = metrics_get("tasks_created_total", NULL);
	int64_t failures = metrics_get("engine_commit_failures_total", NULL);

	engine_test_doubt(F.eng, false, 2);
	spec s = { .url = F.ok_url };
	async_submit a;
	async_submit_start(&a, &s);
	wait_parked();
	assert_int_equal(cancel(&other), WEFT_EUNAVAILABLE);
	assert_int_equal(status_of(&other), TS_CLAIMED);

	/* Learned: not committed. The submission is answered 503, nothing of
	 * it was stored, launched or counted. */
	sync_until_resumed(&a);
	assert_true(atomic_load(&a.answered));
	assert_int_equal(a.cmd.base.result, WEFT_EUNAVAILABLE);
	assert_false(task_exists(&a.tasks[0].id));
	assert_int_equal(metrics_get("tasks_created_total", NULL), created);
	assert_int_equal(metrics_get("engine_commit_failures_total", NULL), failures + 1);
	/* And the engine goes on. */
	assert_int_equal(cancel(&other), 0);
	assert_int_equal(status_of(&other), TS_CANCELED);
	async_submit_release(&a);
}

static void test_commit_in_doubt_bounded(void **state)
{
	UNUSED(state);
	engine_test_doubt(F.eng, true, 1000000);
	spec s = { 0 };
	async_submit a;
	async_submit_start(&a, &s);
	wait_parked();
	assert_int_equal(engine_sync(F.eng), WEFT_EUNAVAILABLE);
	assert_false(atomic_load(&a.answered));

	/* The database stays out of reach past the bound: the outcome is
	 * unknown, answered 503 (though it did commit here). */
	clock_advance(31 * SEC);
	for (int i = 0; i < 2000 && !atomic_load(&a.answered); i++)
		usleep(1000);
	assert_true(atomic_load(&a.answered));
	assert_int_equal(a.cmd.base.result, WEFT_EUNAVAILABLE);
	assert_true(task_exists(&a.tasks[0].id));
	assert_int_equal(engine_sync(F.eng), 0);
	async_submit_release(&a);
}

/* ---- why a task waits ------------------------------------------------------------- */

static void test_rules_explain(void **state)
{
	UNUSED(state);
	const char *rules = "[{\"type\":\"Concurency\",\"max_concurency\":1,"
	                   "\"matcher\":{\"kind\":\"test\",\"status\":\"Running\",\"fields\":[\"tenant\"]}}]";
	spec s[] = { { .metadata = "{\"other\":1}", .rules = rules },
	             { .metadata = "{\"tenant\":\"a\"}", .rules = rules },
	             { .metadata = "{\"tenant\":\"a\"}", .rules = rules } };
	weft_id id[3];
	submit(s, 3, id, NULL, NULL);
	assert_int_equal(status_of(&id[0]), TS_PENDING);
	assert_int_equal(status_of(&id[1]), TS_CLAIMED);
	assert_int_equal(status_of(&id[2]), TS_PENDING);

	store_conn *c = store_reader_acquire(F.st);
	task_row r = get(&id[0]);
	char *why = rules_explain(c, &r);
	assert_non_null(why);
	assert_non_null(strstr(why, "'tenant'"));
	assert_non_null(strstr(why, "lacks"));
	free(why);
	task_row_release(&r);

	r = get(&id[2]);
	why = rules_explain(c, &r);
	assert_non_null(why);
	assert_non_null(strstr(why, "allows 1 running"));
	assert_non_null(strstr(why, "and 1 are"));
	free(why);
	task_row_release(&r);

	r = get(&id[1]);
	assert_null(rules_explain(c, &r));     /* not pending */
	task_row_release(&r);
	store_reader_release(F.st, c);
}

/* ---- the bounded queue ------------------------------------------------------------ */

typedef struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool entered, open;
	int answered;
} gate;

/* Runs on the engine thread: holds it until the gate opens. */
static void hold_engine(engine_cmd *cmd, void *arg)
{
	UNUSED(cmd);
	gate *g = arg;
	pthread_mutex_lock(&g->mu);
	g->entered = true;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

static void count_answer(engine_cmd *cmd, void *arg)
{
	gate *g = arg;
	pthread_mutex_lock(&g->mu);
	if (cmd->result == 0 || cmd->result == WEFT_ENOTFOUND)
		g->answered++;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void test_queue_bound_answers_overloaded(void **state)
{
	UNUSED(state);
	gate g = { .entered = false };
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);

	cmd_counters blocker;
	cmd_counters_init(&blocker);
	id_new_v4(&blocker.id);
	blocker.base.done = hold_engine;
	blocker.base.arg = &g;
	engine_submit(F.eng, &blocker.base);
	pthread_mutex_lock(&g.mu);
	while (!g.entered)
		pthread_cond_wait(&g.cv, &g.mu);
	pthread_mutex_unlock(&g.mu);

	/* The engine thread is held: QUEUE_MAX commands wait, the next is refused. */
	cmd_counters queued[QUEUE_MAX];
	for (int i = 0; i < QUEUE_MAX; i++) {
		cmd_counters_init(&queued[i]);
		id_new_v4(&queued[i].id);
		queued[i].base.done = count_answer;
		queued[i].base.arg = &g;
		engine_submit(F.eng, &queued[i].base);
	}
	int64_t rejected = metrics_get("engine_commands_rejected_total", NULL);
	assert_int_equal(metrics_get("engine_queue_depth", NULL), QUEUE_MAX);
	cmd_counters extra;
	cmd_counters_init(&extra);
	id_new_v4(&extra.id);
	engine_call(F.eng, &extra.base);        /* answered at once, on this thread */
	assert_int_equal(extra.base.result, WEFT_EOVERLOADED);
	assert_int_equal(metrics_get("engine_commands_rejected_total", NULL), rejected + 1);

	pthread_mutex_lock(&g.mu);
	g.open = true;
	pthread_cond_broadcast(&g.cv);
	while (g.answered < QUEUE_MAX)
		pthread_cond_wait(&g.cv, &g.mu);     /* nothing accepted was dropped */
	pthread_mutex_unlock(&g.mu);
	assert_int_equal(engine_sync(F.eng), 0);
	pthread_mutex_destroy(&g.mu);
	pthread_cond_destroy(&g.cv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_backoff_with_injected_clock),
		cmocka_unit_test(test_inactivity_timeout_with_injected_clock),
		cmocka_unit_test(test_timeout_heartbeat_moves_deadline),
		cmocka_unit_test(test_heap_bounded_by_live_tasks),
		cmocka_unit_test(test_deadlines_kept_when_end_rolls_back),
		cmocka_unit_test(test_deadline_kept_when_commit_fails),
		cmocka_unit_test(test_metrics_count_only_what_committed),
		cmocka_unit_test(test_batch_completion_kept_when_check_fails),
		cmocka_unit_test(test_commit_in_doubt_resolved_committed),
		cmocka_unit_test(test_commit_in_doubt_resolved_aborted),
		cmocka_unit_test(test_commit_in_doubt_bounded),
		cmocka_unit_test(test_rules_explain),
		cmocka_unit_test(test_queue_bound_answers_overloaded),
	};
	return cmocka_run_group_tests_name("engine_time", tests, setup, teardown);
}
