/*
 * phases.c — the measured phases of `weft bench`, in the order they run:
 *
 *   submits  through node 1: POST an N-task chain, then an N-task fan-out,
 *            each timed from the first byte sent to the last byte of the
 *            201 received (the bodies are built before the clock starts),
 *            then stopped (DELETE /batch/{id});
 *   starts   POST M independent tasks whose on_start hits the sink, and
 *            time from the 201 until GET /batch/{id} reports M Running;
 *   patch    the clients complete the M tasks with PATCH
 *            {"status":"Success"} (each must answer 200), and the sink
 *            receives every on_success delivery;
 *   put      the clients send M PUT {"new_success":1} (each must answer
 *            202); the counters must be visible at once.
 *
 * Around the starts, PATCH and PUT phases, every node's /metrics is read
 * for the database statements per task (statements.c); outside the
 * timings.
 *
 * With several nodes the starts phase splits the M tasks into one batch per
 * node (M/N tasks, one more for the first M mod N nodes), posted through
 * their own nodes at the same moment, rather than one batch through node 1.
 * The node that commits a batch is woken in process and claims at once,
 * while the others hear of it only from a NOTIFY after the commit, and that
 * node alone builds the answer listing every task: one batch through node 1
 * would mostly measure node 1. Spread the way a load balancer spreads
 * clients, every node inserts, claims and calls webhooks for its share, and
 * all of them still compete for every pending task (SKIP LOCKED), so the
 * figure is the cluster's. Its clock runs from the last of the N 201s
 * (start_s) and from the first byte of the first POST (start_e2e_s, the
 * honest figure when many tasks start before the last answer). PATCH and
 * PUT go round-robin (load.c), so most updates reach a node that did not
 * start their task; GET /batch reads each batch through its own node.
 */
#include "cli/bench/bench_impl.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

#include <pthread.h>

#define BATCH_POLL_US 5000
#define UUID_STR_LEN 36

/* ---- requests ------------------------------------------------------------ */

/* One request through node n's control client with its own timeout. */
static int request(node *n, long timeout_ms, const char *method, const char *path, const buf *body,
                   http_response *r)
{
	http_client_set_timeout(n->ctl, timeout_ms);
	return http_client_request(n->ctl, method, path, body ? body->data : NULL, body ? body->len : 0, NULL, r);
}

/* GET /batch/{id} through node n → the parsed object (owned) or NULL (logged). */
static json_t *get_batch(node *n, http_response *r, const char *batch_id)
{
	char path[96];
	snprintf(path, sizeof(path), "/batch/%s", batch_id);
	if (request(n, 10000, "GET", path, NULL, r) != 0 || r->status != 200) {
		bench_report_bad("GET /batch", r, 200);
		return NULL;
	}
	char err[200];
	json_t *v = json_parse_body(r->body.data, r->body.len, JSON_DEFAULT_MAX_DEPTH, err, sizeof(err));
	if (!v || !json_is_object(v)) {
		log_error("bench", "GET /batch: unparseable answer (%s)", v ? "not an object" : err);
		json_decref(v);
		return NULL;
	}
	return v;
}

static int64_t count_of(const json_t *batch, const char *status)
{
	const json_t *sc = json_object_get(batch, "status_counts");
	const json_t *v = sc ? json_object_get(sc, status) : NULL;
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

/* Sums, over the starts phase's batches (each read through its own node),
 * status_counts.<name> when in_counts, the top-level <name> otherwise.
 * -1 when a read failed (logged); *out is -1 when a batch lacks the field. */
static int batches_sum(bench *b, const char *name, bool in_counts, int64_t *out)
{
	http_response r;
	http_response_init(&r);
	int64_t sum = 0;
	int rc = 0;
	for (size_t k = 0; k < b->nnodes; k++) {
		node *n = &b->nodes[k];
		json_t *bj = get_batch(n, &r, n->batch_id);
		if (!bj) {
			rc = -1;
			break;
		}
		const json_t *v = json_object_get(bj, name);
		int64_t x = in_counts ? count_of(bj, name) : json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
		json_decref(bj);
		sum = x < 0 || sum < 0 ? -1 : sum + x;
	}
	http_response_release(&r);
	*out = sum;
	return rc;
}

static int stop_batch(node *n, http_response *r, const char *batch_id)
{
	char path[96];
	snprintf(path, sizeof(path), "/batch/%s", batch_id);
	if (request(n, BENCH_DEADLINE_US / 1000, "DELETE", path, NULL, r) != 0 || r->status != 200) {
		bench_report_bad("DELETE /batch", r, 200);
		return -1;
	}
	return 0;
}

typedef enum { SHAPE_CHAIN, SHAPE_FANOUT, SHAPE_INDEPENDENT } batch_shape;

static void build_batch(buf *out, batch_shape shape, long n, int sink_port)
{
	char action[320];
	int len = snprintf(action, sizeof(action),
	                   "\"on_start\":{\"kind\":\"Webhook\",\"params\":{\"url\":\"http://127.0.0.1:%d/start\","
	                   "\"verb\":\"Post\"}}",
	                   sink_port);
	/* Independent tasks also announce their success: the outbox phase
	 * measures how fast those deliveries reach the sink. */
	if (shape == SHAPE_INDEPENDENT)
		snprintf(action + len, sizeof(action) - (size_t)len,
		         ",\"on_success\":[{\"kind\":\"Webhook\",\"params\":{\"url\":\"http://127.0.0.1:%d/end\","
		         "\"verb\":\"Post\"}}]",
		         sink_port);
	buf_reset(out);
	buf_putc(out, '[');
	for (long i = 0; i < n; i++) {
		if (i)
			buf_putc(out, ',');
		buf_printf(out, "{\"id\":\"t%ld\",\"name\":\"task %ld\",\"kind\":\"bench\",\"timeout\":3600,", i, i);
		buf_puts(out, action);
		buf_puts(out, ",\"dependencies\":[");
		if (i > 0 && shape == SHAPE_CHAIN)
			buf_printf(out, "{\"id\":\"t%ld\",\"requires_success\":true}", i - 1);
		else if (i > 0 && shape == SHAPE_FANOUT)
			buf_puts(out, "{\"id\":\"t0\",\"requires_success\":true}");
		buf_puts(out, "]}");
	}
	buf_putc(out, ']');
}

/* POST /task through node n; 0 with the batch id in batch_id when 201. */
static int post_batch(node *n, http_response *r, const buf *body, const char *what, int64_t *elapsed,
                      char *batch_id, size_t idlen)
{
	int64_t t0 = clock_mono_us();
	int rc = request(n, BENCH_DEADLINE_US / 1000, "POST", "/task", body, r);
	*elapsed = clock_mono_us() - t0;
	if (rc != 0 || r->status != 201) {
		bench_report_bad(what, r, 201);
		return -1;
	}
	const char *id = http_response_header(r, "X-Batch-ID");
	if (!id || !*id) {
		log_error("bench", "%s: 201 without an X-Batch-ID header", what);
		return -1;
	}
	snprintf(batch_id, idlen, "%s", id);
	return 0;
}

/* ---- submits ------------------------------------------------------------- */

static int submit(bench *b, batch_shape shape)
{
	const char *name = shape == SHAPE_CHAIN ? "chain" : "fan-out";
	const char *key = shape == SHAPE_CHAIN ? "chain" : "fanout";
	node *n = &b->nodes[0];
	buf body;
	buf_init(&body);
	build_batch(&body, shape, b->opt.tasks, b->sink.port);
	http_response r;
	http_response_init(&r);
	r.discard_body = true;   /* the answer holds every task: count it, don't keep it */
	char what[64], label[64], k[64], bid[64];
	snprintf(what, sizeof(what), "POST %ld-task %s", b->opt.tasks, name);
	int64_t us = 0;
	int rc = post_batch(n, &r, &body, what, &us, bid, sizeof(bid));
	if (rc == 0) {
		snprintf(k, sizeof(k), "%s_post_s", key);
		bench_figure(b, k, what, bench_secs(us), 3, "s");
		snprintf(k, sizeof(k), "%s_tasks_per_s", key);
		snprintf(label, sizeof(label), "  %s submit rate", name);
		bench_figure(b, k, label, bench_rate((double)b->opt.tasks, us), 0, "tasks/s");
		snprintf(k, sizeof(k), "%s_request_mb", key);
		bench_figure(b, k, "  request body", (double)body.len / 1e6, 1, "MB");
		snprintf(k, sizeof(k), "%s_response_mb", key);
		bench_figure(b, k, "  response body", (double)r.body_bytes / 1e6, 1, "MB");
		r.discard_body = false;
		rc = stop_batch(n, &r, bid);
	}
	http_response_release(&r);
	buf_release(&body);
	return rc;
}

int bench_phase_submits(bench *b)
{
	if (submit(b, SHAPE_CHAIN) != 0)
		return -1;
	return submit(b, SHAPE_FANOUT);
}

/* ---- starts -------------------------------------------------------------- */

/* Appends the task UUIDs of a POST /task answer, in order, to b->ids
 * (allocated by the caller for every started task). */
static int collect_ids(bench *b, const http_response *r, long want)
{
	char err[200];
	json_t *arr = json_parse_body(r->body.data, r->body.len, JSON_DEFAULT_MAX_DEPTH, err, sizeof(err));
	if (!arr || !json_is_array(arr)) {
		log_error("bench", "POST /task: unparseable answer (%s)", arr ? "not an array" : err);
		json_decref(arr);
		return -1;
	}
	if ((long)json_array_size(arr) != want) {
		log_error("bench", "POST /task: %zu tasks in the answer, expected %ld", json_array_size(arr), want);
		json_decref(arr);
		return -1;
	}
	size_t i;
	json_t *t;
	json_array_foreach(arr, i, t) {
		const char *id = NULL;
		if (json_get_str(t, "id", &id) != 0 || strlen(id) != UUID_STR_LEN) {
			log_error("bench", "POST /task: task %zu has no UUID id", i);
			json_decref(arr);
			return -1;
		}
		b->ids[b->nids++] = xstrdup(id);
	}
	json_decref(arr);
	return 0;
}

/* One node's POST of the starts phase, on its own thread so that the
 * nodes' submits overlap. */
typedef struct poster {
	node *n;
	buf body;
	http_response r;
	char what[64];
	pthread_barrier_t *go;
	int64_t t_send;        /* first byte sent */
	int64_t t_201;         /* last byte of the answer received */
	int rc;
	pthread_t tid;
} poster;

static void *poster_run(void *arg)
{
	poster *p = arg;
	pthread_barrier_wait(p->go);
	int64_t us = 0;
	p->t_send = clock_mono_us();
	p->rc = post_batch(p->n, &p->r, &p->body, p->what, &us, p->n->batch_id, sizeof(p->n->batch_id));
	p->t_201 = clock_mono_us();
	return NULL;
}

/* Polls until every started task is Running. GET /batch counts the whole
 * batch, which costs the server real time on a large one, so while the sink
 * has not yet seen all M on_start calls the bench watches its own counter
 * and polls only once a second (to notice failures); the 5 ms polls begin
 * once all M webhooks have arrived. One poll reads every node's batch
 * through that node. */
typedef struct start_wait {
	int64_t running_at_201;
	int64_t t_done, t_sink;
	int64_t polls, poll_us;
} start_wait;

static int wait_running(bench *b, long m, int64_t t_201, uint64_t hits0, start_wait *w)
{
	http_response poll;
	http_response_init(&poll);
	int rc = -1;
	*w = (start_wait){ .running_at_201 = -1 };
	for (;;) {
		int64_t running = 0, failed = 0, canceled = 0;
		for (size_t k = 0; k < b->nnodes; k++) {
			node *n = &b->nodes[k];
			int64_t tp = clock_mono_us();
			json_t *bj = get_batch(n, &poll, n->batch_id);
			w->poll_us += clock_mono_us() - tp;
			w->polls++;
			if (!bj)
				goto out;
			int64_t run = count_of(bj, "running");
			running = run < 0 || running < 0 ? -1 : running + run;
			failed += MAX(count_of(bj, "failure"), 0);
			canceled += MAX(count_of(bj, "canceled"), 0);
			json_decref(bj);
		}
		if (w->running_at_201 < 0)
			w->running_at_201 = running;
		if (running == m) {
			w->t_done = clock_mono_us();
			rc = 0;
			goto out;
		}
		if (running < 0 || failed > 0 || canceled > 0) {
			log_error("bench", "starting %ld tasks: running %" PRId64 ", failure %" PRId64 ", canceled %" PRId64
			          " (on_start webhooks failing?)", m, running, failed, canceled);
			goto out;
		}
		if (clock_mono_us() - t_201 > BENCH_DEADLINE_US) {
			log_error("bench", "starting %ld tasks: only %" PRId64 " running after %lld s", m, running,
			          (long long)(BENCH_DEADLINE_US / 1000000));
			goto out;
		}
		if (!bench_nodes_alive(b))
			goto out;
		int64_t until = clock_mono_us() + 1000000;
		while (!w->t_sink && clock_mono_us() < until) {
			if (bench_sink_hits(&b->sink) - hits0 >= (uint64_t)m)
				w->t_sink = clock_mono_us();
			else
				bench_sleep_us(1000);
		}
		if (w->t_sink)
			bench_sleep_us(BATCH_POLL_US);
	}
out:
	http_response_release(&poll);
	return rc;
}

int bench_phase_starts(bench *b)
{
	long m = b->opt.starts;
	size_t nn = b->nnodes;
	char what[64];
	if (nn == 1)
		snprintf(what, sizeof(what), "POST %ld independent tasks", m);
	else
		snprintf(what, sizeof(what), "POST %ld tasks in %zu batches", m, nn);
	poster *ps = xcalloc(nn, sizeof(*ps));
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, (unsigned)nn + 1);
	for (size_t k = 0; k < nn; k++) {
		poster *p = &ps[k];
		p->n = &b->nodes[k];
		p->n->batch_len = m / (long)nn + ((long)k < m % (long)nn ? 1 : 0);
		p->go = &go;
		buf_init(&p->body);
		build_batch(&p->body, SHAPE_INDEPENDENT, p->n->batch_len, b->sink.port);
		http_response_init(&p->r);
		if (nn == 1)
			snprintf(p->what, sizeof(p->what), "%s", what);
		else
			snprintf(p->what, sizeof(p->what), "POST %ld independent tasks to node %d", p->n->batch_len,
			         p->n->num);
	}
	bench_stmts st0 = { 0 }, st1 = { 0 };
	bench_stmts_read(b, &st0);
	uint64_t hits0 = bench_sink_hits(&b->sink);
	for (size_t k = 0; k < nn; k++) {
		if (pthread_create(&ps[k].tid, NULL, poster_run, &ps[k]) != 0) {
			log_error("bench", "pthread_create failed");
			abort();   /* the barrier would never open */
		}
	}
	pthread_barrier_wait(&go);
	int rc = 0;
	int64_t t_send = 0, t_201 = 0;
	for (size_t k = 0; k < nn; k++) {
		poster *p = &ps[k];
		pthread_join(p->tid, NULL);
		buf_release(&p->body);
		if (p->rc != 0)
			rc = -1;
		if (k == 0 || p->t_send < t_send)
			t_send = p->t_send;
		if (p->t_201 > t_201)
			t_201 = p->t_201;
	}
	pthread_barrier_destroy(&go);
	if (rc != 0)
		goto out;

	/* Poll first, parse the ids after: the clock runs from the (last) 201. */
	start_wait w;
	rc = wait_running(b, m, t_201, hits0, &w);
	if (rc != 0)
		goto out;
	bench_stmts_read(b, &st1);
	uint64_t hits = bench_sink_hits(&b->sink) - hits0;
	bench_figure(b, "starts_post_s", what, bench_secs(t_201 - t_send), 3, "s");
	bench_figure(b, "start_s", "all Running (from the 201)", bench_secs(w.t_done - t_201), 3, "s");
	bench_figure(b, "starts_per_s", "  tasks started", bench_rate((double)m, w.t_done - t_201), 0, "tasks/s");
	if (w.t_sink)
		bench_figure(b, "start_sink_s", "  all on_start calls received", bench_secs(w.t_sink - t_201), 3, "s");
	bench_figure(b, "start_e2e_s", "all Running (from the POST)", bench_secs(w.t_done - t_send), 3, "s");
	bench_figure(b, "starts_e2e_per_s", "  tasks submitted and started", bench_rate((double)m, w.t_done - t_send),
	             0, "tasks/s");
	bench_figure(b, "running_at_201", "  already Running at the 201", (double)w.running_at_201, 0, "tasks");
	bench_figure(b, "sink_hits", "  webhook sink hits", (double)hits, 0, "hits");
	bench_figure(b, "start_polls", "  GET /batch polls", (double)w.polls, 0, "requests");
	bench_figure(b, "start_poll_ms", "  GET /batch mean latency", (double)w.poll_us / 1000.0 / (double)w.polls, 2,
	             "ms");
	bench_stmts_report(b, "start", "  database statements per task", &st0, &st1, m, 0);
	if (hits < (uint64_t)m) {
		log_error("bench", "%ld tasks Running but the sink saw only %" PRIu64 " on_start calls", m, hits);
		rc = -1;
		goto out;
	}
	b->ids = xcalloc((size_t)m, sizeof(char *));
	b->nids = 0;
	for (size_t k = 0; k < nn && rc == 0; k++)
		rc = collect_ids(b, &ps[k].r, ps[k].n->batch_len);
out:
	bench_stmts_release(&st0);
	bench_stmts_release(&st1);
	for (size_t k = 0; k < nn; k++)
		http_response_release(&ps[k].r);
	free(ps);
	return rc;
}

/* ---- PATCH and PUT ------------------------------------------------------- */

int bench_phase_patch(bench *b)
{
	size_t m = b->nids;
	bench_stmts st0, st1 = { 0 };
	bench_stmts_read(b, &st0);
	uint64_t end_before = bench_sink_end_hits(&b->sink);
	int64_t t0 = clock_mono_us();
	int rc = -1;
	if (bench_run_load(b, "PATCH", "{\"status\":\"Success\"}", 200, m, "patch", "PATCH status=Success",
	                   "completions/s") != 0)
		goto out;
	int64_t t_patched = clock_mono_us();
	/* Each completion wrote one on_success delivery to the outbox in its
	 * transaction; wait for the sink to have received all of them. */
	int64_t deadline = t_patched + BENCH_DEADLINE_US;
	while (bench_sink_end_hits(&b->sink) - end_before < m && clock_mono_us() < deadline)
		bench_sleep_us(1000);
	int64_t t_delivered = clock_mono_us();
	uint64_t got = bench_sink_end_hits(&b->sink) - end_before;
	if (got < m) {
		log_error("bench", "only %" PRIu64 " of %zu on_success deliveries arrived within %lld s", got, m,
		          (long long)(BENCH_DEADLINE_US / 1000000));
		goto out;
	}
	/* A completion's cost includes delivering its webhook. */
	bench_stmts_read(b, &st1);
	bench_figure(b, "outbox_deliveries_per_s", "on_success deliveries (first PATCH to last delivery)",
	             bench_rate((double)m, t_delivered - t0), 0, "webhooks/s");
	bench_figure(b, "outbox_drain_after_last_patch_s", "  delivered after the last PATCH answer",
	             bench_secs(t_delivered - t_patched), 3, "s");
	bench_stmts_report(b, "patch", "database statements per completion", &st0, &st1, (long)m, 5);
	int64_t ok = 0;
	if (batches_sum(b, "success", true, &ok) != 0)
		goto out;
	if (ok != (int64_t)m) {
		log_error("bench", "after %zu PATCHes answered 200, GET /batch shows success=%" PRId64, m, ok);
		goto out;
	}
	rc = 0;
out:
	bench_stmts_release(&st0);
	bench_stmts_release(&st1);
	return rc;
}

static int64_t total_success(bench *b)
{
	int64_t n = 0;
	return batches_sum(b, "total_success", false, &n) == 0 ? n : -1;
}

int bench_phase_put(bench *b)
{
	size_t m = b->nids;
	int64_t base = total_success(b);
	if (base < 0)
		return -1;
	bench_stmts st0, st1;
	bench_stmts_read(b, &st0);
	int rc = bench_run_load(b, "PUT", "{\"new_success\":1}", 202, m, "put", "PUT new_success=1", "updates/s");
	if (rc == 0) {
		bench_stmts_read(b, &st1);
		bench_stmts_report(b, "put", "  database statements per task", &st0, &st1, (long)m, 0);
		bench_stmts_release(&st1);
	}
	bench_stmts_release(&st0);
	if (rc != 0)
		return -1;
	/* A 202 follows a durable commit: the sum must be there at once, on
	 * whichever node it is read. */
	int64_t now = total_success(b);
	if (now == base + (int64_t)m)
		return 0;
	log_error("bench", "after %zu PUTs answered 202, total_success is %" PRId64 " (expected %" PRId64 ")", m,
	          now, base + (int64_t)m);
	int64_t t0 = clock_mono_us();
	while (now >= 0 && now != base + (int64_t)m && clock_mono_us() - t0 < 10 * 1000000LL) {
		bench_sleep_us(50000);
		now = total_success(b);
	}
	if (now == base + (int64_t)m)
		log_error("bench", "total_success reached %" PRId64 " %.2f s later: the 202s came before the commit",
		          now, bench_secs(clock_mono_us() - t0));
	return -1;
}
