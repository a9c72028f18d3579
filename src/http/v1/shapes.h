/*
 * shapes.h — the JSON shapes of /v1 answers (described in openapi.json):
 * tasks and jobs, their attempts and audit trail, and claimed jobs. Names
 * are the canonical lowercase ones of core/status.h; times RFC 3339 UTC
 * with milliseconds.
 */
#ifndef WEFT_HTTP_V1_SHAPES_H
#define WEFT_HTTP_V1_SHAPES_H

#include "util/common.h"
#include "util/buf.h"
#include "engine/commands/jobs.h"
#include "store/model.h"

/* A task or job as GET /v1/tasks/{id} shows it (detail), or as a list
 * item (summary: without input, result and attempts). */
typedef struct v1_task_view {
	const task_row *task;
	bool detail;
	const char *input;               /* JSON text; NULL = null */
	const char *result;              /* JSON text; NULL = null */
	int32_t max_attempts;            /* -1 = forever */
	const job_attempt_row *attempts; /* the error history, oldest first */
	size_t nattempts;
	bool with_result;                /* a summary with its result (a run's tasks) */
} v1_task_view;

/* The task's namespace ("default" when the row has none). */
const char *v1_task_namespace(const task_row *t);
/* Whether it is a job (executor "queue"). */
bool v1_task_is_job(const task_row *t);
/* The attempts it may make: 1 + the retries of its policy, -1 forever. */
int32_t v1_task_max_attempts(const task_row *t);

void v1_put_task(buf *b, const v1_task_view *v);
/* One audit trail entry: {"at","from","to","reason","actor"}. */
void v1_put_event(buf *b, const task_event *e);
/* One claimed job (ClaimedJob). */
void v1_put_claimed(buf *b, const claimed_job *j, int64_t lease_us);
/* A lease token on the wire: a decimal string. */
void v1_put_token(buf *b, int64_t token);

#endif
