/*
 * engine_metrics.c — the engine's metrics: their definitions (the engine's
 * own, then each command family's through its registration hook), and the
 * journal that makes a cycle count only what it committed.
 *
 * A step's counters and observations go into the journal; engine_step()
 * truncates the journal back to where the step began when it rolls back,
 * and engine.c applies the journal after a successful commit or drops it
 * with a failed one. A conflict retry therefore counts once.
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/metrics.h"
#include "engine/engine_internal.h"
#include "engine/history.h"
#include "engine/commands/command.h"

typedef struct metric_entry {
	const char *name;       /* a string literal */
	size_t labels;          /* offset into journal.labels, SIZE_MAX = none */
	size_t lend;            /* journal.labels' length after this entry */
	bool observe;
	uint64_t count;
	double value;
} metric_entry;

static void journal_add(metric_journal *j, const char *name, const char *labels, bool observe, uint64_t count,
                        double value)
{
	if (j->len == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 64;
		j->items = xrealloc(j->items, j->cap * sizeof(*j->items));
	}
	size_t off = SIZE_MAX;
	if (labels) {
		size_t n = strlen(labels) + 1;
		if (j->llen + n > j->lcap) {
			j->lcap = MAX(j->lcap * 2, j->llen + n + 256);
			j->labels = xrealloc(j->labels, j->lcap);
		}
		off = j->llen;
		memcpy(j->labels + off, labels, n);
		j->llen += n;
	}
	j->items[j->len++] = (metric_entry){ .name = name, .labels = off, .observe = observe, .count = count,
	                                     .value = value, .lend = j->llen };
}

void engine_count(engine *e, const char *name, const char *labels, uint64_t v)
{
	if (v)
		journal_add(&e->metrics, name, labels, false, v, 0);
}

void engine_observe(engine *e, const char *name, const char *labels, double v)
{
	journal_add(&e->metrics, name, labels, true, 0, v);
}

void metric_journal_truncate(metric_journal *j, size_t mark)
{
	if (mark >= j->len)
		return;
	j->len = mark;
	j->llen = mark ? j->items[mark - 1].lend : 0;
}

void metric_journal_apply(metric_journal *j)
{
	for (size_t i = 0; i < j->len; i++) {
		const metric_entry *m = &j->items[i];
		const char *labels = m->labels == SIZE_MAX ? NULL : j->labels + m->labels;
		if (m->observe) {
			metrics_observe(m->name, labels, m->value);
			history_note_observe(m->name, m->value);
		} else {
			metrics_inc(m->name, labels, m->count);
			history_note_count(m->name, labels, m->count);
		}
	}
	j->len = 0;
	j->llen = 0;
}

void metric_journal_release(metric_journal *j)
{
	free(j->items);
	free(j->labels);
	*j = (metric_journal){ 0 };
}

void engine_metric_transition(engine *e, task_status from, task_status to)
{
	char labels[96];
	snprintf(labels, sizeof(labels), "from_status=\"%s\",to_status=\"%s\"", task_status_label(from),
	         task_status_label(to));
	engine_count(e, "task_status_transitions_total", labels, 1);
}

void engine_metric_terminal(engine *e, const task_row *t)
{
	char *labels = xasprintf("outcome=\"%s\",kind=\"%s\"", task_status_name(t->status), t->kind ? t->kind : "");
	engine_count(e, "tasks_completed_total", labels, 1);
	deadline_forget(e, &t->id);
	if (t->started_at && t->ended_at >= t->started_at)
		engine_observe(e, "task_duration_seconds", labels, (double)(t->ended_at - t->started_at) / 1e6);
	free(labels);
}

void engine_metrics_define(void)
{
	static const double loop_buckets[] = { .001, .005, .01, .05, .1, .25, .5, 1 };
	static const double per_loop_buckets[] = { 0, 1, 5, 10, 25, 50, 100 };
	static const double group_buckets[] = { 1, 2, 5, 10, 25, 50, 100, 250, 1000 };
	static const double duration_buckets[] = { 1, 5, 10, 30, 60, 300, 600, 1800, 3600 };
	static const double wait_buckets[] = { .1, .5, 1, 2, 5, 10, 30, 60, 300 };
	static const double retention_buckets[] = { .1, .5, 1, 5, 10, 30, 60 };
	metrics_define_labeled("task_status_transitions_total", METRIC_COUNTER, "Task status transitions");
	metrics_define("tasks_timed_out_total", METRIC_COUNTER, "Running tasks failed by their inactivity timeout");
	metrics_define_labeled("dependency_propagations_total", METRIC_COUNTER, "Parent outcomes propagated to children");
	metrics_define("tasks_unblocked_total", METRIC_COUNTER, "Waiting tasks that became pending");
	metrics_define("tasks_failed_by_dependency_total", METRIC_COUNTER, "Tasks failed because a required parent failed");
	metrics_define("tasks_canceled_dead_end_total", METRIC_COUNTER, "Ancestors canceled because all their children ended");
	metrics_define("decisions_total", METRIC_COUNTER, "Decision tasks that succeeded with a valid choice of children");
	metrics_define("decisions_invalid_total", METRIC_COUNTER, "Decision tasks failed because their result was no valid decision");
	metrics_define("tasks_skipped_total", METRIC_COUNTER, "Tasks skipped: not chosen by a decision, or every parent skipped");
	metrics_define("tasks_blocked_by_concurrency_total", METRIC_COUNTER, "Start attempts blocked by a concurrency rule");
	metrics_define_labeled("webhook_idempotent_skips_total", METRIC_COUNTER, "Webhooks skipped because their idempotency key was already used");
	metrics_define("webhook_idempotent_conflicts_total", METRIC_COUNTER, "Start calls held back because the same attempt's call is still in flight");
	metrics_define("worker_loop_iterations_total", METRIC_COUNTER, "Engine cycles (one transaction each)");
	metrics_define_histogram("worker_loop_duration_seconds", "Duration of one engine cycle", loop_buckets, ARRAY_LEN(loop_buckets));
	metrics_define_histogram("tasks_processed_per_loop", "Tasks started per engine cycle", per_loop_buckets, ARRAY_LEN(per_loop_buckets));
	metrics_define_histogram("engine_commands_per_commit", "Commands applied in one group commit", group_buckets, ARRAY_LEN(group_buckets));
	metrics_define("engine_commit_failures_total", METRIC_COUNTER, "Engine transactions that failed to commit");
	metrics_define("engine_conflict_retries_total", METRIC_COUNTER,
	               "Engine steps re-run after a conflict with another node's transaction");
	metrics_define("engine_queue_depth", METRIC_GAUGE, "Commands waiting in the engine's queue");
	metrics_define("engine_commands_rejected_total", METRIC_COUNTER,
	               "Commands answered at once with 'overloaded' because the engine's queue was full");
	metrics_define("weft_leader", METRIC_GAUGE,
	               "1 when this node runs the singleton duties (timers, retention), else 0");
	metrics_define_labeled("tasks_completed_total", METRIC_COUNTER,
	               "Tasks that reached a terminal status by PATCH, cancel, start failure, timeout or dead end");
	metrics_define_histogram_labeled("task_duration_seconds", "Run time of tasks that ended (started_at to ended_at)",
	                         duration_buckets, ARRAY_LEN(duration_buckets));
	metrics_define_histogram_labeled("task_wait_seconds", "Time from creation to running", wait_buckets,
	                         ARRAY_LEN(wait_buckets));
	metrics_define_histogram("job_claim_wait_seconds", "Time from when a job could be claimed to its claim",
	                         wait_buckets, ARRAY_LEN(wait_buckets));
	metrics_define("tasks_retried_total", METRIC_COUNTER, "Failed attempts that were retried (status RetryPending)");
	metrics_define_labeled("webhook_deliveries_total", METRIC_COUNTER, "Outbox delivery attempts by outcome (success, retry, exhausted)");
	metrics_define("batches_completed_total", METRIC_COUNTER, "Batches whose tasks all reached a terminal status");
	metrics_define("retention_tasks_cleaned_total", METRIC_COUNTER, "Terminal tasks moved to the archive");
	metrics_define("retention_audit_entries_deleted_total", METRIC_COUNTER, "Audit log entries deleted after AUDIT_RETENTION_DAYS");
	metrics_define("retention_events_deleted_total", METRIC_COUNTER, "Events deleted after EVENT_RETENTION_DAYS");
	metrics_define("retention_event_deliveries_deleted_total", METRIC_COUNTER,
	               "Deliveries of events deleted after EVENT_RETENTION_DAYS");
	metrics_define("retention_hook_deliveries_deleted_total", METRIC_COUNTER,
	               "Hook delivery ids forgotten once their replay window passed");
	metrics_define("retention_workflow_runs_deleted_total", METRIC_COUNTER, "Ended workflow runs deleted after RETENTION_WORKFLOW_DAYS");
	metrics_define("idempotency_keys_expired_total", METRIC_COUNTER, "Idempotency-Keys forgotten after IDEMPOTENCY_TTL_SECS");
	metrics_define_labeled("retention_cleanup_runs_total", METRIC_COUNTER, "Archiving passes by outcome");
	metrics_define_histogram("retention_cleanup_duration_seconds", "Duration of one archiving pass",
	                         retention_buckets, ARRAY_LEN(retention_buckets));
	for (size_t i = 0; i < command_nfamilies; i++)
		if (command_families[i]->define_metrics)
			command_families[i]->define_metrics();
}
