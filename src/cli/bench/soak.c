/*
 * soak.c — the load of `weft bench --soak` (see soak.h): requests at a
 * fixed rate for a fixed time, mixed the way ArcRun clients use the API.
 *
 * The timetable: slot i is due at t0 + i / rate. The senders (--clients
 * threads, each with its own keep-alive connection) take the next slot
 * from a shared counter, sleep until it is due, send it, and file its
 * latency, measured from when it was due. A sender is free again only once
 * its answer arrived, so while the server stalls every sender waits, the
 * slots that fall due meanwhile are sent late, and each of them counts the
 * delay.
 *
 * What slot i does is decided by a hash of i (so a run repeats itself
 * whatever the threads' timing), per mille:
 *
 *   POST /task             100   a batch of 1 to 5 tasks: independent, a
 *                                chain, a fan-out or a fan-in; every task
 *                                has on_start, on_success and on_failure
 *                                webhooks to the sink and a little metadata
 *   PATCH /task/{id}       330   the oldest started task that has run for
 *                                HOLD_US: Success, or Failure for 1 in 10
 *                                tasks; when none has run that long, a
 *                                GET /task/{id} of the oldest one instead
 *                                (a client polling its task)
 *   PUT /task/{id}         170   new_success 1 on a running task
 *   GET /task/{id}         180   a recently posted task
 *   GET /batch/{id}        100   a recently posted batch
 *   GET /task?batch_id=    100   the tasks of a recently posted batch
 *   GET /batches            20   the first page of batches
 *
 * A batch holds 3 tasks on average, so tasks arrive at 0.3 per slot and
 * PATCH slots (0.33) keep up with them: the number of running tasks stays
 * near rate × 0.3 × HOLD_US, and the tasks the soak leaves behind are its
 * last second's. The window's GET /metrics (soak_window.c) is the eighth
 * kind.
 */
#include "cli/bench/soak.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

#include <stdatomic.h>

#define RECENT_TASKS 1024     /* GET /task/{id} picks among the last tasks posted */
#define RECENT_BATCHES 256    /* the batch reads among the last batches */
#define HOLD_US 1000000       /* how long a started task runs before it is completed */
#define FAILURE_PER_10 1      /* tasks in 10 that fail */
#define ERRORS_SHOWN 10
#define UUID_LEN 36
#define ALIVE_CHECK_US 1000000

const char *const soak_kind_key[SOAK_NKINDS] = {
	[SOAK_POST] = "post",          [SOAK_PATCH] = "patch",
	[SOAK_PUT] = "put",            [SOAK_GET_TASK] = "get_task",
	[SOAK_GET_BATCH] = "get_batch", [SOAK_LIST_TASKS] = "list_tasks",
	[SOAK_LIST_BATCHES] = "list_batches", [SOAK_METRICS] = "metrics",
};

const char *const soak_kind_request[SOAK_NKINDS] = {
	[SOAK_POST] = "POST /task",
	[SOAK_PATCH] = "PATCH /task/{id}",
	[SOAK_PUT] = "PUT /task/{id}",
	[SOAK_GET_TASK] = "GET /task/{id}",
	[SOAK_GET_BATCH] = "GET /batch/{id}",
	[SOAK_LIST_TASKS] = "GET /task?batch_id=",
	[SOAK_LIST_BATCHES] = "GET /batches",
	[SOAK_METRICS] = "GET /metrics",
};

static const struct {
	soak_kind kind;
	unsigned permille;
} mix[] = {
	{ SOAK_POST, 100 },       { SOAK_PATCH, 330 },      { SOAK_PUT, 170 },         { SOAK_GET_TASK, 180 },
	{ SOAK_GET_BATCH, 100 },  { SOAK_LIST_TASKS, 100 }, { SOAK_LIST_BATCHES, 20 },
};

static const long expected_status[SOAK_NKINDS] = {
	[SOAK_POST] = 201,       [SOAK_PATCH] = 200,      [SOAK_PUT] = 202,          [SOAK_GET_TASK] = 200,
	[SOAK_GET_BATCH] = 200,  [SOAK_LIST_TASKS] = 200, [SOAK_LIST_BATCHES] = 200, [SOAK_METRICS] = 200,
};

static const char *const task_kinds[] = { "build", "test", "deploy", "notify" };

typedef char soak_id[UUID_LEN + 1];

typedef struct soak_run {
	bench *b;
	double rate;
	int64_t t0, t_end;            /* monotonic µs; t0 set between the barriers */
	atomic_uint_fast64_t next;    /* the next slot */
	atomic_int stop;              /* the server died: send nothing more */
	atomic_int errors_shown;
	pthread_barrier_t ready, go;
	pthread_mutex_t mu;           /* guards everything below */
	soak_id *tasks;               /* the last RECENT_TASKS posted (ring), owned */
	uint64_t ntasks;              /* posted so far */
	soak_id *batches;             /* the same for batches, owned */
	uint64_t nbatches;
	soak_counts counts;
	soak_window_lat lat;          /* the current window's */
} soak_run;

typedef struct sender {
	soak_run *s;
	http_client *c;
	http_response r;
	buf body;
	pthread_t tid;
} sender;

/* ---- latencies ------------------------------------------------------------ */

void soak_lat_add(soak_lat *l, int64_t us)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->us = xrealloc(l->us, l->cap * sizeof(*l->us));
	}
	l->us[l->n++] = us;
}

void soak_window_lat_release(soak_window_lat *w)
{
	for (size_t k = 0; k < SOAK_NKINDS; k++)
		free(w->kind[k].us);
	memset(w, 0, sizeof(*w));
}

/* ---- the plan of a slot ---------------------------------------------------- */

/* splitmix64: a slot's number to well-spread bits. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* FNV-1a: whether a task fails depends on its id alone, so a start the sink
 * received twice is completed twice the same way (a no-op). */
static uint64_t hash_str(const char *p)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return h;
}

static soak_kind kind_of(uint64_t h)
{
	unsigned r = (unsigned)(h % 1000);
	for (size_t i = 0; i < ARRAY_LEN(mix); i++) {
		if (r < mix[i].permille)
			return mix[i].kind;
		r -= mix[i].permille;
	}
	return SOAK_GET_TASK;
}

/* One of the last `cap` ids of ring (n posted so far), chosen by r; false
 * when none was posted yet. Under s->mu. */
static bool recent(const soak_id *ring, uint64_t n, size_t cap, uint64_t r, soak_id out)
{
	if (n == 0)
		return false;
	uint64_t back = r % MIN(n, (uint64_t)cap);
	memcpy(out, ring[(n - 1 - back) % cap], sizeof(soak_id));
	return true;
}

static bool copy_started(char from[BENCH_SINK_ID_MAX], soak_id out)
{
	if (strlen(from) != UUID_LEN)
		return false;
	memcpy(out, from, sizeof(soak_id));
	return true;
}

/* What slot h does, and to which task or batch (id). A kind that needs an
 * id when nothing was posted yet becomes a POST. */
static soak_kind plan(soak_run *s, uint64_t h, soak_id id)
{
	bench_sink *sink = &s->b->sink;
	soak_kind k = kind_of(h);
	uint64_t r = h >> 20;
	char got[BENCH_SINK_ID_MAX];
	bool have = false;
	if (k == SOAK_PATCH) {
		have = bench_sink_take_started(sink, clock_mono_us() - HOLD_US, got) && copy_started(got, id);
		if (!have) {
			k = SOAK_GET_TASK;
			have = bench_sink_peek_started(sink, 0, got) && copy_started(got, id);
			pthread_mutex_lock(&s->mu);
			s->counts.patch_fallbacks++;
			pthread_mutex_unlock(&s->mu);
		}
	} else if (k == SOAK_PUT) {
		have = bench_sink_peek_started(sink, r, got) && copy_started(got, id);
	}
	if (have || k == SOAK_POST || k == SOAK_LIST_BATCHES)
		return k;
	pthread_mutex_lock(&s->mu);
	if (k == SOAK_GET_BATCH || k == SOAK_LIST_TASKS)
		have = recent(s->batches, s->nbatches, RECENT_BATCHES, r, id);
	else
		have = recent(s->tasks, s->ntasks, RECENT_TASKS, r, id);
	pthread_mutex_unlock(&s->mu);
	return have ? k : SOAK_POST;
}

/* ---- requests ---------------------------------------------------------------- */

static void put_action(buf *out, const char *key, bool array, int sink_port, const char *path)
{
	buf_printf(out, ",\"%s\":%s{\"kind\":\"Webhook\",\"params\":{\"url\":\"http://127.0.0.1:%d%s\",\"verb\":\"Post\"}}%s",
	           key, array ? "[" : "", sink_port, path, array ? "]" : "");
}

/* A batch of 1 to 5 tasks whose shape, kinds and metadata come from h. */
static void build_batch(buf *out, uint64_t slot, uint64_t h, int sink_port)
{
	enum { INDEPENDENT, CHAIN, FAN_OUT, FAN_IN };
	unsigned n = 1 + (unsigned)((h >> 8) % 5);
	unsigned shape = n == 1 ? INDEPENDENT : (unsigned)((h >> 12) % 4);
	unsigned customer = (unsigned)((h >> 16) % 100);
	buf_reset(out);
	buf_putc(out, '[');
	for (unsigned j = 0; j < n; j++) {
		buf_printf(out,
		           "%s{\"id\":\"t%u\",\"name\":\"soak %" PRIu64 ".%u\",\"kind\":\"%s\",\"timeout\":600,"
		           "\"metadata\":{\"customer\":\"c%u\",\"slot\":%" PRIu64 "}",
		           j ? "," : "", j, slot, j, task_kinds[((h >> 24) + j) % ARRAY_LEN(task_kinds)], customer, slot);
		put_action(out, "on_start", false, sink_port, "/start");
		put_action(out, "on_success", true, sink_port, "/end");
		put_action(out, "on_failure", true, sink_port, "/failed");
		buf_puts(out, ",\"dependencies\":[");
		if (j > 0 && shape == CHAIN)
			buf_printf(out, "{\"id\":\"t%u\",\"requires_success\":true}", j - 1);
		else if (j > 0 && shape == FAN_OUT)
			buf_puts(out, "{\"id\":\"t0\",\"requires_success\":true}");
		else if (j == n - 1 && shape == FAN_IN)
			for (unsigned p = 0; p < j; p++)
				buf_printf(out, "%s{\"id\":\"t%u\",\"requires_success\":false}", p ? "," : "", p);
		buf_puts(out, "]}");
	}
	buf_putc(out, ']');
}

/* Records the tasks and the batch of a 201; false when the answer is not
 * what POST /task promises. */
static bool posted(soak_run *s, const http_response *r)
{
	const char *bid = http_response_header(r, "X-Batch-ID");
	char err[160];
	json_t *arr = json_parse_body(r->body.data, r->body.len, JSON_DEFAULT_MAX_DEPTH, err, sizeof(err));
	bool ok = bid && strlen(bid) == UUID_LEN && arr && json_is_array(arr) && json_array_size(arr) > 0;
	size_t i;
	json_t *t;
	json_array_foreach(ok ? arr : NULL, i, t) {
		const char *id = NULL;
		if (json_get_str(t, "id", &id) != 0 || strlen(id) != UUID_LEN)
			ok = false;
	}
	if (ok) {
		pthread_mutex_lock(&s->mu);
		json_array_foreach(arr, i, t) {
			const char *id = json_string_value(json_object_get(t, "id"));
			memcpy(s->tasks[s->ntasks++ % RECENT_TASKS], id, sizeof(soak_id));
		}
		memcpy(s->batches[s->nbatches++ % RECENT_BATCHES], bid, sizeof(soak_id));
		s->counts.tasks_posted += json_array_size(arr);
		s->counts.batches_posted++;
		pthread_mutex_unlock(&s->mu);
	} else {
		log_error("bench", "POST /task: 201 without an X-Batch-ID or the posted tasks' ids");
	}
	json_decref(arr);
	return ok;
}

/* Sends slot i (planned as k on id); true when the answer was the expected
 * one. */
static bool send_slot(sender *sd, uint64_t i, uint64_t h, soak_kind k, const soak_id id)
{
	soak_run *s = sd->s;
	char path[128];
	const char *method = "GET";
	const char *body = NULL;
	switch (k) {
	case SOAK_POST:
		method = "POST";
		snprintf(path, sizeof(path), "/task");
		build_batch(&sd->body, i, h, s->b->sink.port);
		body = sd->body.data;
		break;
	case SOAK_PATCH:
		method = "PATCH";
		snprintf(path, sizeof(path), "/task/%s", id);
		body = hash_str(id) % 10 < FAILURE_PER_10 ? "{\"status\":\"Failure\",\"failure_reason\":\"soak\"}"
		                                          : "{\"status\":\"Success\"}";
		break;
	case SOAK_PUT:
		method = "PUT";
		snprintf(path, sizeof(path), "/task/%s", id);
		body = "{\"new_success\":1}";
		break;
	case SOAK_GET_TASK:
		snprintf(path, sizeof(path), "/task/%s", id);
		break;
	case SOAK_GET_BATCH:
		snprintf(path, sizeof(path), "/batch/%s", id);
		break;
	case SOAK_LIST_TASKS:
		snprintf(path, sizeof(path), "/task?batch_id=%s", id);
		break;
	case SOAK_LIST_BATCHES:
		snprintf(path, sizeof(path), "/batches");
		break;
	case SOAK_METRICS:
	case SOAK_NKINDS:
		return false;
	}
	int rc = http_client_request(sd->c, method, path, body, body ? strlen(body) : 0, NULL, &sd->r);
	bool ok = rc == 0 && sd->r.status == expected_status[k];
	if (ok && k == SOAK_POST)
		ok = posted(s, &sd->r);
	else if (!ok && atomic_fetch_add(&s->errors_shown, 1) < ERRORS_SHOWN) {
		char what[160];
		snprintf(what, sizeof(what), "%s %s", method, path);
		bench_report_bad(what, &sd->r, expected_status[k]);
	}
	return ok;
}

static void *sender_run(void *arg)
{
	sender *sd = arg;
	soak_run *s = sd->s;
	if (http_client_request(sd->c, "GET", "/health", NULL, 0, NULL, &sd->r) != 0 || sd->r.status != 200)
		bench_report_bad("GET /health (sender warm-up)", &sd->r, 200);
	pthread_barrier_wait(&s->ready);
	pthread_barrier_wait(&s->go);
	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		uint64_t i = atomic_fetch_add(&s->next, 1);
		int64_t due = s->t0 + (int64_t)((double)i * 1e6 / s->rate);
		if (due >= s->t_end)
			break;
		int64_t wait = due - clock_mono_us();
		if (wait > 0)
			bench_sleep_us(wait);
		int64_t sent = clock_mono_us();
		uint64_t h = mix64(i);
		soak_id id = "";
		soak_kind k = plan(s, h, id);
		bool ok = send_slot(sd, i, h, k, id);
		int64_t done = clock_mono_us();
		pthread_mutex_lock(&s->mu);
		soak_lat_add(&s->lat.kind[k], done - due);
		if (!ok)
			s->lat.kind[k].errors++;
		s->lat.send_lag_max_us = MAX(s->lat.send_lag_max_us, sent - due);
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

/* ---- the soak ----------------------------------------------------------------- */

/* Hands the current window over to the series. */
static void close_window(soak_run *s, soak_series *ser)
{
	soak_window_lat lat;
	soak_counts c;
	pthread_mutex_lock(&s->mu);
	lat = s->lat;
	memset(&s->lat, 0, sizeof(s->lat));
	c = s->counts;
	pthread_mutex_unlock(&s->mu);
	size_t kept = 0;
	bench_sink_started_counts(&s->b->sink, &kept, &c.started_dropped);
	c.started_backlog = kept;
	soak_series_close(ser, &lat, &c);
}

/* Sleeps until the monotonic time until, watching the server; false when it
 * died. */
static bool wait_until(bench *b, int64_t until)
{
	for (;;) {
		int64_t left = until - clock_mono_us();
		if (left <= 0)
			return true;
		bench_sleep_us(MIN(left, ALIVE_CHECK_US));
		if (!bench_nodes_alive(b))
			return false;
	}
}

int bench_soak(bench *b)
{
	size_t nt = (size_t)b->opt.clients;
	soak_run *s = xcalloc(1, sizeof(*s));
	s->b = b;
	s->rate = (double)b->opt.rate;
	s->tasks = xcalloc(RECENT_TASKS, sizeof(soak_id));
	s->batches = xcalloc(RECENT_BATCHES, sizeof(soak_id));
	atomic_init(&s->next, 0);
	atomic_init(&s->stop, 0);
	atomic_init(&s->errors_shown, 0);
	pthread_mutex_init(&s->mu, NULL);
	pthread_barrier_init(&s->ready, NULL, (unsigned)nt + 1);
	pthread_barrier_init(&s->go, NULL, (unsigned)nt + 1);
	bench_note(b, "soak: %ld s at %ld requests/s, %ld s windows, %zu connections; latencies from each "
	              "request's scheduled time",
	           b->opt.soak, b->opt.rate, b->opt.window, nt);
	sender *sd = xcalloc(nt, sizeof(*sd));
	for (size_t i = 0; i < nt; i++) {
		http_client_options o = { .base_url = b->nodes[0].base, .token = b->token,
			                      .timeout_ms = BENCH_DEADLINE_US / 1000 };
		sd[i].s = s;
		sd[i].c = http_client_new(&o);
		http_response_init(&sd[i].r);
		buf_init(&sd[i].body);
		if (!sd[i].c || pthread_create(&sd[i].tid, NULL, sender_run, &sd[i]) != 0) {
			log_error("bench", "cannot start a sender");
			abort();   /* the barrier would never open */
		}
	}
	pthread_barrier_wait(&s->ready);
	soak_series *ser = soak_series_new(b);
	s->t0 = clock_mono_us();
	s->t_end = s->t0 + b->opt.soak * 1000000LL;
	soak_series_begin(ser, s->t0);
	pthread_barrier_wait(&s->go);

	bool alive = true;
	int64_t win = b->opt.window * 1000000LL;
	for (int64_t end = s->t0 + win;; end += win) {
		bool last = end >= s->t_end;
		alive = wait_until(b, last ? s->t_end : end);
		if (!alive || last)
			break;
		close_window(s, ser);
	}
	if (!alive)
		atomic_store(&s->stop, 1);
	/* The last window holds every request due before the end, however
	 * late its answer. */
	for (size_t i = 0; i < nt; i++) {
		pthread_join(sd[i].tid, NULL);
		http_client_free(sd[i].c);
		http_response_release(&sd[i].r);
		buf_release(&sd[i].body);
	}
	free(sd);
	if (alive)
		alive = bench_nodes_alive(b);
	close_window(s, ser);
	uint64_t errors = soak_series_finish(ser);
	soak_series_free(ser);
	pthread_barrier_destroy(&s->ready);
	pthread_barrier_destroy(&s->go);
	pthread_mutex_destroy(&s->mu);
	soak_window_lat_release(&s->lat);
	free(s->tasks);
	free(s->batches);
	free(s);
	if (!alive)
		log_error("bench", "the server died during the soak (see %s)", b->nodes[0].logpath);
	else if (errors)
		log_error("bench", "%" PRIu64 " requests of the soak failed", errors);
	return alive && errors == 0 ? 0 : -1;
}
