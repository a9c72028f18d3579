/*
 * parts/results.c — applies what launched jobs reported (start results,
 * finished deliveries …) through the jobs' ops: the jobs of one ops as a
 * set in one savepoint when the ops can (one at a time when that fails),
 * else each in a savepoint of its own. A job that lost a lock conflict
 * with another node is applied again in the next cycle; one whose cycle
 * fails is dropped (a start's task stays claimed until its claim deadline,
 * a delivery's lease expires).
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/log.h"
#include "engine/cycle.h"

static int apply_one(engine *e, void *item, int64_t now)
{
	engine_job *j = item;
	e->actor = j->ops->actor ? j->ops->actor : "system";
	return j->ops->apply(e, j, now);
}

static int apply_many(engine *e, void **items, size_t n, int64_t now)
{
	engine_job **jobs = (engine_job **)items;
	e->actor = jobs[0]->ops->actor ? jobs[0]->ops->actor : "system";
	return jobs[0]->ops->apply_many(e, jobs, n, now);
}

static void put_back(engine *e, engine_job *j)
{
	if (e->nretry_jobs == e->retry_jobs_cap) {
		e->retry_jobs_cap = e->retry_jobs_cap ? e->retry_jobs_cap * 2 : 16;
		e->retry_jobs = xrealloc(e->retry_jobs, e->retry_jobs_cap * sizeof(*e->retry_jobs));
	}
	e->retry_jobs[e->nretry_jobs++] = j;
}

static void job_done(engine *e, void *item, int rc)
{
	engine_job *j = item;
	if (rc == WEFT_ERETRY && ++j->conflicts < ENGINE_MAX_CONFLICTS) {
		put_back(e, j);
		return;
	}
	if (rc != 0)
		log_error("engine", "result of %s for %s not applied", j->ops->name, j->task_id.str);
	j->ops->free(j);
}

static const void *ops_of(const void *item)
{
	return ((const engine_job *)item)->ops;
}

static bool ops_have_many(const void *item)
{
	return ((const engine_job *)item)->ops->apply_many != NULL;
}

/* The jobs of one ops as a set, the sets in the order of their first job. */
static const engine_group_ops job_groups = {
	.key = ops_of, .has_many = ops_have_many, .many = apply_many, .one = apply_one, .done = job_done,
};

static void results_run(engine *e, int64_t now)
{
	/* Those put back by the last cycle first, in their order, then those
	 * that came back: all in the same sets. */
	engine_job **all = e->retry_jobs;
	size_t n = e->nretry_jobs;
	e->retry_jobs = NULL;
	e->nretry_jobs = e->retry_jobs_cap = 0;
	if (e->cycle.njobs > 0) {
		all = xrealloc(all, (n + e->cycle.njobs) * sizeof *all);
		memcpy(all + n, e->cycle.jobs, e->cycle.njobs * sizeof *all);
		n += e->cycle.njobs;
	}
	e->cycle.njobs = 0;
	engine_apply_groups(e, (void *const *)all, n, &job_groups, now);
	free(all);
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
