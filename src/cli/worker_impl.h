/*
 * worker_impl.h — the parts of `weft worker` (see worker.c for the whole).
 *
 * Threads, each with its own HTTP client:
 *   main       runs the children (exec/proc.h) in a poll loop, with a
 *              signalfd for SIGTERM/SIGINT and an eventfd that the others
 *              write to when they have news for it;
 *   claim      long-polls POST /v1/jobs/claim for as many jobs as there
 *              are free slots, and hands them to main; in a drain it lets
 *              the claim in flight end by itself and releases what it
 *              brings (a claim abandoned on the server would still take
 *              jobs, which would come back only when their leases expire);
 *   heartbeat  one POST /v1/jobs/heartbeat for every lease held, every
 *              lease/3; a lease answered canceled, lost or not_found is
 *              marked, and main stops its child without reporting it;
 *   reporter   sends finished jobs' outcomes in batches (complete and
 *              fail), resending a batch whose answer was lost (the server
 *              answers a resend already_completed or already_failed).
 *
 * Every job is in one list from its claim until its report is answered,
 * under the worker's mutex; a job's fields other than state, lease_lost
 * and outcome are written once, before it is listed. Only main touches
 * job->run (the child).
 */
#ifndef WEFT_CLI_WORKER_IMPL_H
#define WEFT_CLI_WORKER_IMPL_H

#include "util/common.h"
#include "cli/client_opts.h"
#include "exec/proc.h"
#include <pthread.h>
#include <stdatomic.h>

#define WORKER_QUEUES_MAX 16
#define WORKER_CONCURRENCY_MAX 1000
#define CLAIM_WAIT_DEFAULT_US (30 * 1000000LL)
#define CLAIM_WAIT_MAX_US (60 * 1000000LL)   /* the API's limit on wait_ms */
#define REPORT_BATCH_MAX 100
/* A report request stays well under the server's 16 MiB body limit, even
 * with results of up to 1 MiB each. */
#define REPORT_BATCH_BYTES_MAX (8u << 20)
#define REPORT_LINGER_US 10000    /* how long a report waits for others to share its request */

typedef enum {
	JOB_CLAIMED,     /* handed to main, not started yet */
	JOB_RUNNING,     /* its child runs */
	JOB_REPORTING,   /* finished; its outcome waits for the reporter */
} job_state;

typedef struct job {
	struct job *prev, *next;      /* the worker's list */
	char *id, *lease_token, *run_id, *queue;
	int64_t attempt;
	char *input;                  /* compact JSON */
	char *parents;                /* compact JSON array */
	int64_t timeout_at_us;        /* wall clock; 0: none given */
	job_state state;
	bool lease_lost;              /* the heartbeat said canceled, lost or not_found */
	proc *run;                    /* main only */
	proc_outcome outcome;         /* set by main before JOB_REPORTING */
	size_t report_bytes;          /* about what its report adds to a request */
	bool reported;                /* taken by the reporter */
	/* Its child's output as log lines (worker_logs.c). */
	struct worker *owner;
	buf log_part[2];              /* main only: stdout's, stderr's line so far */
	int64_t log_unsent;           /* under mu: lines queued or being sent */
	bool report_held;             /* under mu: reported once its lines are sent */
} job;

typedef struct worker_opts {
	cli_client_opts client;
	const char *queues[WORKER_QUEUES_MAX];
	size_t nqueues;
	int concurrency;
	int64_t lease_us;
	int64_t kill_grace_us;
	int64_t claim_wait_us;        /* how long a claim may wait on the server for a job */
	int permanent_exit;
	const char *outcome_log;      /* or NULL */
	bool json_out;                /* --json: each answered report as a line of JSON on stdout */
	char **cmd;                   /* CMD ARGS..., NULL-terminated (borrowed from argv) */
	char *cmd_path;               /* resolved once at start (owned) */
} worker_opts;

typedef struct worker {
	worker_opts o;
	char id[160];                 /* <hostname>-<pid>-<6 hex> */
	char hostname[96];
	pthread_mutex_t mu;
	pthread_cond_t claim_cv;      /* a slot was freed, or draining/stopping */
	pthread_cond_t report_cv;     /* an outcome to report, or stopping */
	pthread_cond_t heartbeat_cv;  /* stopping */
	pthread_cond_t backoff_cv;    /* ends a pause before a retry: draining or stopping */
	job *head, *tail;             /* every job whose lease is held */
	int busy;                     /* jobs CLAIMED or RUNNING */
	int to_report;                /* jobs REPORTING and not yet taken */
	bool draining;                /* no new claims */
	bool claims_done;             /* the claim thread has ended (its last claim answered) */
	bool stopping;                /* the threads end */
	atomic_bool cancel_requests;  /* aborts the threads' requests in flight */
	atomic_bool cancel_claim;     /* aborts the claim waiting on the server (the drain) */
	int fatal;                    /* a CLI_EXIT_* that ends the worker, or 0 */
	int notify_fd;                /* eventfd: news for main */
	FILE *outcome_log;            /* or NULL; written by the reporter only */
	/* Log lines of the jobs' children waiting to be sent, under mu. */
	struct log_line *log_head, *log_tail;
	size_t log_n;
	int64_t log_dropped;          /* not queued: the queue was full */
	pthread_cond_t log_cv;        /* lines to send, or stopping */
} worker;

/* Wakes main (any thread). */
void worker_notify(worker *w);
/* Unlinks j from the list (mu held) and frees it. */
void worker_job_remove(worker *w, job *j);
void job_free(job *j);

void *worker_claim_thread(void *arg);
void *worker_heartbeat_thread(void *arg);
void *worker_report_thread(void *arg);

/* worker_logs.c: the child's output callback (proc_spec.on_output; arg is
 * the job): complete lines are queued for the log thread. */
void worker_log_output(void *arg, bool is_stdout, const char *data, size_t n);
/* main, when j's child ended: its last partial lines are queued; true when
 * lines of j are still to be sent (hold its report: mu held). */
void worker_log_flush(job *j);
/* mu held: drops j's queued lines (j leaves the list). */
void worker_log_forget(worker *w, job *j);
/* Sends the queued lines, up to 1,000 of one job a request, to POST
 * /v1/jobs/{id}/logs; releases held reports once a job's lines are sent. */
void *worker_log_thread(void *arg);
/* After the threads ended: frees what is still queued. */
void worker_log_release(worker *w);

/* Releases the leases of the given jobs (best effort, one request). */
void worker_release(worker *w, http_client *c, job **jobs, size_t n);

/* Waits on cv (mu held) for at most wait_us, or until it is signalled. */
void worker_wait(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t wait_us);

#endif
