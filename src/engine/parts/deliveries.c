/*
 * parts/deliveries.c — outbox deliveries: each cycle leases the rows that
 * are due, up to its window (engine_config.delivery_window), and launches them
 * after the commit with the webhook dispatcher as transport. A finished
 * delivery comes back as a job applied in a later cycle: success, or a
 * retry after min(cap, base * 2^(attempt - 1)) ± 10 %, or `exhausted`
 * after WEBHOOK_MAX_ATTEMPTS attempts. The engine sleeps until the
 * earliest next_attempt_at; nothing polls the table.
 *
 * The rows a cycle writes are leased as they are written when there is
 * room and no older row is waiting (outbox.c, insert_deliveries), and go
 * out after that cycle's commit. Rows of a task whose start is in flight
 * are not leased, so the service sees the start before the end. At start-up of a single node, rows left
 * delivering are due again at once (nobody else could be delivering them).
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/log.h"
#include "engine/cycle.h"
#include "exec/webhook.h"

typedef struct delivery_job {
	engine_job job;
	engine *e;
	webhook_call *call;
} delivery_job;

void engine_wake_deliveries(engine *e)
{
	e->outbox.dirty = true;
	e->cycle.notify |= STORE_WAKE_OUTBOX;
}

void engine_wake_held_deliveries(engine *e)
{
	e->outbox.dirty |= e->outbox.held;
}

void engine_delivery_due(engine *e, int64_t at)
{
	e->outbox.next_due = MIN(e->outbox.next_due, at);
	e->cycle.notify |= STORE_WAKE_OUTBOX;    /* another node delivers it if this one is gone */
}

/* ---- the job ------------------------------------------------------------------------ */

static void on_call_done(webhook_call *call, void *arg)
{
	UNUSED(call);
	delivery_job *j = arg;
	engine_job_done(j->e, &j->job);
}

static void job_launch(engine *e, engine_job *job)
{
	delivery_job *j = (delivery_job *)job;
	j->call->done = on_call_done;
	j->call->arg = j;
	dispatcher_submit(e->disp, j->call);
}

static void job_landed(engine *e, engine_job *job)
{
	UNUSED(job);
	engine_wake_held_deliveries(e);     /* a slot freed */
}

static void job_free(engine_job *job)
{
	delivery_job *j = (delivery_job *)job;
	webhook_call_free(j->call);
	free(j);
}

/* Records finished deliveries, in one statement: success, a retry with
 * backoff, or exhausted. */
static int jobs_apply(engine *e, engine_job **jobs, size_t n, int64_t now)
{
	outbox_outcome *o = xcalloc(n, sizeof *o);
	for (size_t i = 0; i < n; i++) {
		webhook_call *call = ((delivery_job *)jobs[i])->call;
		int64_t retry_at = 0;
		const char *outcome = "success";
		if (!call->ok) {
			if (call->delivery_attempt < e->cfg.max_attempts) {
				retry_at = now + outbox_backoff_us(e, call->delivery_attempt);
				outcome = "retry";
				engine_delivery_due(e, retry_at);
			} else {
				outcome = "exhausted";
				log_warn("outbox", "delivery %s exhausted after %d attempts: %s", call->key,
				         (int)call->delivery_attempt, call->error ? call->error : "failed");
			}
		}
		char labels[96];
		snprintf(labels, sizeof(labels), "trigger=\"%s\",outcome=\"%s\"", action_trigger_name(call->trigger),
		         outcome);
		engine_count(e, "webhook_deliveries_total", labels, 1);
		o[i] = (outbox_outcome){ .id = call->delivery_id, .key = call->key, .ok = call->ok,
		                         .http_status = call->http_status,
		                         .error = call->ok ? NULL : call->error, .retry_at = retry_at };
	}
	int rc = store_outbox_finish_many(e->w, o, n, now);
	free(o);
	return rc;
}

static int job_apply(engine *e, engine_job *job, int64_t now)
{
	return jobs_apply(e, &job, 1, now);
}

static const job_ops delivery_job_ops = {
	.name = "outbox.delivery",
	.actor = "webhook",
	.launch = job_launch,
	.landed = job_landed,
	.apply = job_apply,
	.apply_many = jobs_apply,
	.free = job_free,
};

/* ---- leasing ------------------------------------------------------------------------ */

static action_trigger trigger_of(delivery_event ev)
{
	return ev == DELIVERY_CANCEL ? TRIGGER_CANCEL : TRIGGER_END;
}

size_t engine_deliveries_room_now(const engine *e, int64_t now)
{
	if (e->outbox.dirty || e->outbox.held || e->outbox.next_due <= now)
		return 0;
	return engine_window_room(&e->outbox.window, clock_mono_us());
}

bool engine_delivery_held(const engine *e, const weft_id *task)
{
	return id_is_set(task) && id_set_has(&e->start_tasks, task);
}

void engine_delivery_launch(engine *e, const outbox_row *o)
{
	const char *params[1] = { o->params };
	delivery_job *j = xcalloc(1, sizeof(*j));
	j->job = (engine_job){ .ops = &delivery_job_ops, .window = &e->outbox.window, .task_id = o->task_id };
	j->e = e;
	j->call = webhook_call_new(&o->task_id, trigger_of(o->event),
	                           o->event == DELIVERY_END_FAILURE ? COND_FAILURE : COND_SUCCESS, o->key, params, 1);
	j->call->no_handle = !o->add_handle;
	j->call->lane = WEBHOOK_LANE_DELIVERY;
	j->call->delivery_id = o->id;
	j->call->delivery_attempt = o->attempts;
	engine_launch(e, &j->job);
}

static int lease_step(engine *e, void *arg, int64_t now)
{
	UNUSED(arg);
	size_t room = engine_window_room(&e->outbox.window, clock_mono_us());
	if (room == 0)
		return 0;     /* stays dirty: a finished delivery frees a slot */
	outbox_row *rows = NULL;
	size_t n = 0;
	int64_t due = INT64_MAX;
	int rc = store_outbox_lease(e->w, now, now + e->cfg.lease_us, room, e->start_tasks.items,
	                            e->start_tasks.len, &rows, &n, &due);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		engine_delivery_launch(e, &rows[i]);
	/* Rows already due but not leased are held back by a start in flight;
	 * its coming back marks the outbox dirty again, so no deadline is
	 * needed (waking for them now would spin). */
	e->outbox.held = n == room || due <= now;
	e->outbox.dirty = n == room;     /* there may be more due */
	e->outbox.next_due = due <= now ? INT64_MAX : due;
	store_free_outbox(rows, n);
	return 0;
}

/* ---- the part ------------------------------------------------------------------------ */

static void deliveries_init(engine *e)
{
	e->outbox.next_due = INT64_MAX;
	/* The dispatcher's delivery lane runs delivery_window calls at once. */
	engine_window_init(&e->outbox.window, (size_t)MAX(e->cfg.delivery_window, 1), (size_t)MAX(e->cfg.delivery_window, 1));
	e->outbox.dirty = true;
	e->outbox.held = true;
}

static int deliveries_start(engine *e, int64_t now)
{
	e->outbox.dirty = true;
	/* On a shared database other nodes' deliveries in flight are theirs:
	 * their leases expire by themselves if those nodes died. */
	if (e->shared)
		return 0;
	e->outbox.next_due = now;
	return store_outbox_recover(e->w, now);
}

static void deliveries_run(engine *e, int64_t now)
{
	if (e->cycle.remote & STORE_WAKE_OUTBOX)
		e->outbox.dirty = true;
	if ((e->outbox.dirty || now >= e->outbox.next_due) && engine_window_room(&e->outbox.window, clock_mono_us()) > 0 &&
	    engine_step(e, lease_step, NULL, now) != 0)
		log_error("engine", "leasing outbox deliveries failed; will retry");
}

static int64_t deliveries_next_wake(const engine *e)
{
	if (engine_window_room(&e->outbox.window, clock_mono_us()) == 0)
		return INT64_MAX;
	return e->outbox.dirty ? INT64_MIN : e->outbox.next_due;
}

static void deliveries_finish(engine *e, bool committed)
{
	if (!committed)
		e->outbox.dirty = e->outbox.held = true;
}

const cycle_part part_deliveries = {
	.name = "deliveries",
	.init = deliveries_init,
	.start = deliveries_start,
	.run = deliveries_run,
	.next_wake = deliveries_next_wake,
	.finish = deliveries_finish,
};
