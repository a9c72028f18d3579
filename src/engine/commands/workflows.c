/*
 * workflows.c — the commands of durable workflows (see workflows.h).
 */
#include "util/common.h"
#include "util/log.h"
#include "engine/engine_internal.h"
#include "engine/commands/command.h"
#include "engine/commands/workflows.h"
#include "engine/retry.h"
#include "store/workflows.h"

ENGINE_CMD_BASE_FIRST(cmd_workflow_start);

static bool status_active(const char *s)
{
	return strcmp(s, "pending") == 0 || strcmp(s, "running") == 0 || strcmp(s, "suspended") == 0;
}

/* The active run holding the start's key: true with c->id and c->status
 * set; *rc a failure to read. */
static bool existing_run(engine *e, cmd_workflow_start *c, int *rc)
{
	workflow_run_row r;
	*rc = store_workflow_run_by_key(e->w, c->namespace, c->idempotency_key, &r);
	bool found = *rc == 0 && status_active(r.status);
	if (found) {
		c->id = r.id;
		snprintf(c->status, sizeof c->status, "%s", r.status);
	}
	if (*rc == WEFT_ENOTFOUND)
		*rc = 0;
	workflow_run_row_release(&r);
	return found;
}

static int apply_start(engine *e, engine_cmd *cmd, int64_t now)
{
	cmd_workflow_start *c = engine_cmd_of(cmd, cmd_workflow_start);
	c->created = false;
	int rc = 0;
	if (c->idempotency_key != NULL && existing_run(e, c, &rc)) {
		cmd->result = 0;
		return 0;
	}
	if (rc != 0)
		return rc;

	job_spec *s = c->job;
	s->name = c->type;
	s->dedup_scope = JOB_DEDUP_NONE;
	cmd_job_enqueue enq;
	cmd_job_enqueue_init(&enq);
	enq.base.actor = cmd->actor;
	enq.namespace = c->namespace;
	enq.jobs = s;
	enq.njobs = 1;
	if ((rc = enq.base.op->apply(e, &enq.base, now)) != 0)
		return rc;
	if (enq.base.result != 0)
		return enq.base.result;

	char *policy = retry_policy_job_json(s->max_attempts, s->backoff_initial_us, s->backoff_coefficient,
	                                     s->backoff_max_us, s->backoff_jitter, s->non_retryable, s->nnon_retryable);
	workflow_run_new n = { .id = s->id, .namespace = c->namespace, .type = c->type, .queue = s->queue,
		               .idempotency_key = c->idempotency_key, .input = s->input, .step_retry = policy,
		               .now = now };
	bool created = false;
	rc = store_workflow_run_insert(e->w, &n, &created);
	free(policy);
	if (rc != 0)
		return rc;
	if (!created)
		return WEFT_ERETRY;   /* another node's run took the key: answered with it next cycle */
	c->id = s->id;
	c->created = true;
	snprintf(c->status, sizeof c->status, "pending");
	cmd->result = 0;
	return 0;
}

static const engine_op op_start = { .name = "workflow.start", .apply = apply_start,
	                            .failure_metric = "tasks_db_save_failures_total" };

void cmd_workflow_start_init(cmd_workflow_start *c) { *c = (cmd_workflow_start){ .base.op = &op_start }; }

const command_family family_workflows = { .name = "workflows", .define_metrics = NULL };
