/*
 * parts/results.c — applies what launched jobs reported (start results,
 * finished deliveries …), each in a savepoint of its own through the job's
 * ops. A job that lost a lock conflict with another node is applied again
 * in the next cycle; one whose cycle fails is dropped (a start's task stays
 * claimed until its claim deadline, a delivery's lease expires).
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/log.h"
#include "engine/cycle.h"

static int apply_step(engine *e, void *arg, int64_t now)
{
	engine_job *j = arg;
	e->actor = j->ops->actor ? j->ops->actor : "system";
	return j->ops->apply(e, j, now);
}

static void put_back(engine *e, engine_job *j)
{
	if (e->nretry_jobs == e->retry_jobs_cap) {
		e->retry_jobs_cap = e->retry_jobs_cap ? e->retry_jobs_cap * 2 : 16;
		e->retry_jobs = xrealloc(e->retry_jobs, e->retry_jobs_cap * sizeof(*e->retry_jobs));
	}
	e->retry_jobs[e->nretry_jobs++] = j;
}

static void apply_all(engine *e, engine_job **jobs, size_t n, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		engine_job *j = jobs[i];
		int rc = engine_step(e, apply_step, j, now);
		if (rc == WEFT_ERETRY && ++j->conflicts < ENGINE_MAX_CONFLICTS) {
			put_back(e, j);
			continue;
		}
		if (rc != 0)
			log_error("engine", "result of %s for %s not applied", j->ops->name, j->task_id.str);
		j->ops->free(j);
	}
}

static void results_run(engine *e, int64_t now)
{
	/* Those put back by the last cycle first, in their order. */
	engine_job **again = e->retry_jobs;
	size_t nagain = e->nretry_jobs;
	e->retry_jobs = NULL;
	e->nretry_jobs = e->retry_jobs_cap = 0;
	apply_all(e, again, nagain, now);
	free(again);
	apply_all(e, e->cycle.jobs, e->cycle.njobs, now);
	e->cycle.njobs = 0;
}

static int64_t results_next_wake(const engine *e)
{
	return e->nretry_jobs ? INT64_MIN : INT64_MAX;
}

static void drop_all(engine *e)
{
	for (size_t i = 0; i < e->nretry_jobs; i++)
		e->retry_jobs[i]->ops->free(e->retry_jobs[i]);
	e->nretry_jobs = 0;
}

static void results_finish(engine *e, bool committed)
{
	/* A cycle that could not begin never ran this part. */
	for (size_t i = 0; i < e->cycle.njobs; i++)
		e->cycle.jobs[i]->ops->free(e->cycle.jobs[i]);
	e->cycle.njobs = 0;
	if (!committed)
		drop_all(e);
}

static void results_release(engine *e)
{
	drop_all(e);
	free(e->retry_jobs);
}

const cycle_part part_results = {
	.name = "results",
	.run = results_run,
	.next_wake = results_next_wake,
	.finish = results_finish,
	.release = results_release,
};
