/*
 * shapes.c — the JSON shapes of /v1 answers (see shapes.h).
 */
#include "util/common.h"
#include "http/v1/shapes.h"

#include "core/limits.h"
#include "engine/retry.h"
#include "http/wire.h"

const char *v1_task_namespace(const task_row *t)
{
	return t->namespace != NULL && t->namespace[0] != '\0' ? t->namespace : NAMESPACE_DEFAULT;
}

bool v1_task_is_job(const task_row *t)
{
	return t->executor != NULL && strcmp(t->executor, "queue") == 0;
}

int32_t v1_task_max_attempts(const task_row *t)
{
	retry_policy p;
	if (t->retry_policy == NULL || retry_policy_parse(t->retry_policy, &p) != 0)
		return 1;
	return p.max_retries < 0 ? -1 : p.max_retries + 1;
}

void v1_put_token(buf *b, int64_t token)
{
	buf_putc(b, '"');
	wire_i64(b, token);
	buf_putc(b, '"');
}

static void put_attempt(buf *b, const job_attempt_row *a)
{
	buf_puts(b, "{\"attempt\":");
	wire_i64(b, a->attempt);
	buf_puts(b, ",\"outcome\":");
	wire_str(b, job_attempt_outcome_name(a->outcome));
	buf_puts(b, ",\"worker_id\":");
	wire_str(b, a->worker_id);
	buf_puts(b, ",\"started_at\":");
	wire_ts_ms(b, a->started_at);
	buf_puts(b, ",\"ended_at\":");
	wire_ts_ms(b, a->ended_at);
	buf_puts(b, ",\"error\":");
	if (a->error_code == NULL && a->error_message == NULL) {
		buf_puts(b, "null");
	} else {
		buf_puts(b, "{\"code\":");
		wire_str(b, a->error_code);
		buf_puts(b, ",\"message\":");
		wire_str(b, a->error_message);
		buf_puts(b, ",\"details\":");
		wire_raw(b, a->error_details, "null");
		buf_putc(b, '}');
	}
	buf_puts(b, ",\"retryable\":");
	wire_bool(b, a->retryable);
	buf_putc(b, '}');
}

void v1_put_task(buf *b, const v1_task_view *v)
{
	const task_row *t = v->task;
	bool job = v1_task_is_job(t);
	buf_puts(b, "{\"id\":");
	wire_id(b, &t->id);
	buf_puts(b, ",\"run_id\":");
	wire_id(b, id_is_set(&t->batch_id) ? &t->batch_id : &t->id);
	buf_puts(b, ",\"namespace\":");
	wire_str(b, v1_task_namespace(t));
	buf_puts(b, ",\"executor\":");
	wire_str(b, t->executor != NULL ? t->executor : "webhook");
	buf_puts(b, ",\"queue\":");
	wire_str(b, job ? t->kind : NULL);
	buf_puts(b, ",\"name\":");
	wire_str(b, t->name);
	buf_puts(b, ",\"status\":");
	wire_str(b, task_status_name(t->status));
	buf_puts(b, ",\"attempt\":");
	wire_i64(b, t->attempt);
	buf_puts(b, ",\"max_attempts\":");
	wire_i64(b, v->max_attempts);
	buf_puts(b, ",\"priority\":");
	wire_i64(b, t->priority);
	if (v->detail) {
		buf_puts(b, ",\"input\":");
		wire_raw(b, v->input, "null");
	}
	if (v->detail || v->with_result) {
		buf_puts(b, ",\"result\":");
		wire_raw(b, v->result, "null");
	}
	if (t->error_code != NULL || t->failure_reason != NULL) {
		buf_puts(b, ",\"error\":{\"code\":");
		wire_str(b, t->error_code != NULL ? t->error_code : "failed");
		buf_puts(b, ",\"message\":");
		wire_str(b, t->failure_reason != NULL ? t->failure_reason : "");
		buf_putc(b, '}');
	}
	buf_puts(b, ",\"metadata\":");
	wire_raw(b, t->metadata, "null");
	buf_puts(b, ",\"created_at\":");
	wire_ts_ms(b, t->created_at);
	buf_puts(b, ",\"started_at\":");
	wire_ts_ms(b, t->started_at);
	buf_puts(b, ",\"ended_at\":");
	wire_ts_ms(b, t->ended_at);
	if (job && t->status == TS_RUNNING && t->lease_until != 0) {
		buf_puts(b, ",\"lease\":{\"worker_id\":");
		wire_str(b, t->worker_id);
		buf_puts(b, ",\"lease_until\":");
		wire_ts_ms(b, t->lease_until);
		buf_putc(b, '}');
	}
	buf_puts(b, ",\"dead_letter\":");
	wire_bool(b, t->dead_at != 0);
	if (v->detail) {
		buf_puts(b, ",\"attempts\":[");
		for (size_t i = 0; i < v->nattempts; i++) {
			if (i > 0)
				buf_putc(b, ',');
			put_attempt(b, &v->attempts[i]);
		}
		buf_putc(b, ']');
	}
	buf_putc(b, '}');
}

void v1_put_event(buf *b, const task_event *e)
{
	buf_puts(b, "{\"at\":");
	wire_ts_ms(b, e->at);
	buf_puts(b, ",\"from\":");
	wire_str(b, e->has_from ? task_status_name(e->from) : NULL);
	buf_puts(b, ",\"to\":");
	wire_str(b, task_status_name(e->to));
	buf_puts(b, ",\"reason\":");
	wire_str(b, e->reason);
	buf_puts(b, ",\"actor\":");
	wire_str(b, e->actor);
	buf_putc(b, '}');
}

void v1_put_claimed(buf *b, const claimed_job *j, int64_t lease_us)
{
	buf_puts(b, "{\"id\":");
	wire_id(b, &j->id);
	buf_puts(b, ",\"run_id\":");
	wire_id(b, id_is_set(&j->run_id) ? &j->run_id : &j->id);
	buf_puts(b, ",\"queue\":");
	wire_str(b, j->queue);
	buf_puts(b, ",\"name\":");
	wire_str(b, j->name);
	buf_puts(b, ",\"attempt\":");
	wire_i64(b, j->attempt);
	buf_puts(b, ",\"max_attempts\":");
	wire_i64(b, j->max_attempts);
	buf_puts(b, ",\"lease_token\":");
	v1_put_token(b, j->lease_token);
	buf_puts(b, ",\"lease_until\":");
	wire_ts_ms(b, j->lease_until);
	buf_puts(b, ",\"timeout_at\":");
	wire_ts_ms(b, j->timeout_at);
	buf_puts(b, ",\"heartbeat_ms\":");
	wire_i64(b, lease_us / 1000 / 3);
	buf_puts(b, ",\"input\":");
	wire_raw(b, j->input, "null");
	buf_puts(b, ",\"metadata\":");
	wire_raw(b, j->metadata, "null");
	buf_puts(b, ",\"parents\":[");
	for (size_t i = 0; i < j->nparents; i++) {
		const job_parent *p = &j->parents[i];
		if (i > 0)
			buf_putc(b, ',');
		buf_puts(b, "{\"id\":");
		wire_id(b, &p->id);
		buf_puts(b, ",\"name\":");
		wire_str(b, p->name);
		buf_puts(b, ",\"status\":");
		wire_str(b, task_status_name(p->status));
		buf_puts(b, ",\"result\":");
		wire_raw(b, p->result, "null");
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
}
