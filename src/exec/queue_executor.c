/*
 * queue_executor.c — the executor of job queues. Nothing is pushed: pull
 * workers claim a queue's jobs with the job commands
 * (engine/commands/jobs.h), and report their outcomes the same way. So it
 * has no start (the start pass leaves its tasks alone: they are not even
 * in its indexes), no room, no results, and no cancel: a canceled job's
 * worker learns it at its next heartbeat.
 */
#include "util/common.h"
#include "exec/executor.h"

const executor executor_queue = { .name = "queue" };
