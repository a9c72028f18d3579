/*
 * bench_impl.h — what the parts of `weft bench` share: the options, the
 * run's state (its nodes, database, report), and each part's entry points.
 *
 * The parts, one file each:
 *   run.c         bench_main: the phases in order, and the clean-up
 *   options.c     the command line
 *   report.c      figures as human lines and as the JSON report
 *   nodes.c       spawning the servers, waiting for their health, stopping
 *                 them, reading their memory
 *   phases.c      the measured phases: submits, starts, PATCH, PUT
 *   load.c        concurrent keep-alive clients for the PATCH and PUT phases
 *   soak.c        --soak: a paced mix of requests instead of the phases
 *   soak_window.c the soak's windows and summary (soak.h)
 *   queue.c       --queue: the /v1 job queue's bulk enqueue and drain
 *   queue_latency.c --queue: enqueue -> claim latency at a fixed rate
 *   workflows.c   `bench workflows`: 10-step workflow runs, start to completion
 *   exec.c        `weft bench exec`: exec tasks started per second, and
 *                 `weft worker` running the same program for comparison
 *   logs.c        --logs: log lines captured per second
 *   statements.c  database statements per task, from each node's /metrics
 *   sink.c        the in-process webhook sink (sink.h)
 *   pg_admin.c    the PostgreSQL database of a run (pg_admin.h)
 * Nothing here is used by the server itself.
 */
#ifndef WEFT_BENCH_IMPL_H
#define WEFT_BENCH_IMPL_H

#include "util/common.h"
#include "client/http_client.h"
#include "cli/bench/sink.h"

#include <jansson.h>
#include <stdatomic.h>
#include <sys/types.h>

#define BENCH_DEADLINE_US (120 * 1000000LL)   /* any single wait */
#define BENCH_MAX_NODES 64

/* ---- options.c ----------------------------------------------------------- */

typedef struct bench_opts {
	long tasks;
	long starts;
	long clients;
	long concurrency;
	long nodes;
	long soak;            /* --soak: seconds of the soak; 0 runs the phases instead */
	long rate;            /* --rate: the soak's requests per second */
	long window;          /* --window: seconds per soak window; 0 until chosen */
	bool queue;           /* --queue: the job queue's phases instead of the ArcRun ones */
	bool exec;            /* `bench exec`: exec tasks of /bin/true instead of the phases */
	long jobs;            /* --jobs: jobs enqueued and drained by --queue */
	long latency_secs;    /* --latency-secs: length of the latency phase; 0 skips it */
	long latency_rate;    /* --latency-rate: jobs per second in the latency phase */
	bool workflows;       /* `bench workflows`: workflow runs instead of the phases */
	long runs;            /* --runs: workflow runs of `bench workflows` */
	long workers;         /* --workers: its worker threads */
	long in_flight;       /* --in-flight: its runs started and not yet completed, at most */
	long logs;            /* --logs: log lines appended and stored instead of the phases; 0: not run */
	const char *db;       /* --db: a postgres:// URL (argv, borrowed); NULL = SQLite */
	const char *server;   /* --server: the weft binary to run (argv, borrowed); NULL = this one */
	bool json;
	bool keep;
} bench_opts;

/* 0 ok, 1 help printed, -1 error (message printed). */
int bench_parse_opts(int argc, char **argv, bench_opts *o);

/* ---- the run's state ----------------------------------------------------- */

/* How a node's process ended. */
typedef enum { END_NONE, END_EXITED, END_SIGNALED, END_KILLED, END_LOST } node_end;

typedef struct node {
	int num;              /* 1-based, as printed */
	int port;
	char base[64];        /* http://127.0.0.1:<port> */
	char *logpath;        /* owned */
	pid_t pid;            /* 0 when not started or already reaped */
	http_client *ctl;     /* control client, owned: the main thread, or this node's poster */
	char batch_id[64];    /* its batch of the starts phase */
	long batch_len;       /* tasks in it */
	int64_t startup_us;   /* -1 until healthy */
	long idle_rss_kib;    /* -1 until read */
	long peak_rss_kib;
	int64_t shutdown_us;  /* SIGTERM to exit; -1 unless stopped by it */
	node_end end;
	int end_code;         /* exit status or signal */
} node;

typedef struct bench {
	bench_opts opt;
	FILE *human;          /* stdout, or stderr with --json */
	json_t *report;       /* every figure, for --json */
	char *tmpdir;         /* owned */
	char *db;             /* the nodes' --db: the SQLite file or the PostgreSQL URL, owned */
	char *server;         /* the binary the nodes run, absolute, owned */
	const char *token;    /* AUTH_TOKEN of the environment, which the nodes inherit, or NULL */
	char pg_name[64];     /* the database created for the run; "" on SQLite */
	bool pg_created;
	bool spawned;         /* some node was started: its log is worth keeping */
	bench_sink sink;
	node *nodes;          /* opt.nodes of them, owned */
	size_t nnodes;
	char **ids;           /* the started tasks' UUIDs, owned */
	size_t nids;
} bench;

/* ---- report.c ------------------------------------------------------------ */

/* A figure: printed as a human line, and recorded under key in the report
 * (an integer when decimals is 0). */
void bench_figure(bench *b, const char *key, const char *label, double v, int decimals, const char *unit);
/* A figure printed only (per-node details, which per_node holds). */
void bench_detail(bench *b, const char *label, double v, int decimals, const char *unit);
/* A line of text. */
void bench_note(bench *b, const char *fmt, ...) WEFT_PRINTF(2, 3);
double bench_secs(int64_t us);
double bench_rate(double count, int64_t us);
/* "the server" with one node, "node 2" with several: for messages. */
const char *bench_node_name(const bench *b, const node *n, char *out, size_t len);
/* Logs a failed request: what, the status or the transport error, the
 * start of the body. */
void bench_report_bad(const char *what, const http_response *r, long want);
/* Start-up and idle RSS of every node; peak RSS of every running node, read
 * when called (before they are stopped). */
void bench_report_startup(bench *b);
void bench_report_peak(bench *b);
/* The exit status of a node as JSON: the number, or how it ended instead. */
json_t *bench_end_json(const node *n);
/* The per_node array of the report. */
json_t *bench_per_node_json(const bench *b);

/* ---- nodes.c ------------------------------------------------------------- */

/* The binary the nodes run (b->server): --server, or this one. -1 with a
 * message. */
int bench_resolve_server(bench *b);
/* A free port on 127.0.0.1 given to no other node (nor the sink), or -1. */
int bench_node_port(const bench *b, size_t k);
/* Starts node n and waits for its GET /health; sets startup_us. -1 logged
 * (a node that was started is left for bench_stop_nodes). */
int bench_start_node(bench *b, node *n);
/* Every node still running? Each one that ended is reported. */
bool bench_nodes_alive(bench *b);
/* A "Vm...:" figure of /proc/<pid>/status in KiB, or -1. */
long bench_proc_kib(pid_t pid, const char *field);
/* SIGTERM to every node at once, then each one's exit: shutdown_ms and
 * exit_status. 0 when every node exited 0 in time. */
int bench_stop_nodes(bench *b);
/* SIGKILL to every node still running (a failed run's clean-up). */
void bench_kill_nodes(bench *b);
void bench_sleep_us(int64_t us);
void bench_remove_tree(const char *dir);

/* ---- phases.c ------------------------------------------------------------ */

/* POST an N-task chain, then an N-task fan-out, through node 1. */
int bench_phase_submits(bench *b);
/* POST M independent tasks (a batch per node) until all are Running. */
int bench_phase_starts(bench *b);
/* M x PATCH status=Success, then the on_success deliveries. */
int bench_phase_patch(bench *b);
/* M x PUT new_success=1, visible at once. */
int bench_phase_put(bench *b);

/* ---- queue.c, queue_latency.c ------------------------------------------ */

/* The queue phases: queue-enqueue, queue-drain, queue-latency. -1 logged
 * (the first failure is also the report's "error"). */
int bench_queue(bench *b);
/* One client per node, each connected (GET /health) before any clock
 * starts; NULL logged. Free with bench_queue_disconnect. */
http_client **bench_queue_connect(bench *b);
void bench_queue_disconnect(const bench *b, http_client **h);
/* POST body to path; 0 when the answer is want. Otherwise -1, logged once
 * per run through bench_queue_fail (a 404 says the server has no /v1 job
 * routes). */
int bench_queue_post(bench *b, http_client *h, const char *path, const char *body, size_t len, long want,
                     http_response *r);
/* The answer's body as a JSON object (owned), or NULL through
 * bench_queue_fail. */
json_t *bench_queue_answer(bench *b, const http_response *r, const char *what);
/* Logs a failure; the first of the run becomes the report's "error".
 * Thread-safe. */
void bench_queue_fail(bench *b, const char *fmt, ...) WEFT_PRINTF(2, 3);
/* Appends the completion item {"id","lease_token"} of a claimed job to
 * items (a comma first unless first) and returns its input (borrowed), or
 * NULL through bench_queue_fail when the job lacks either. */
const json_t *bench_queue_take(bench *b, const json_t *job, buf *items, bool first);
/* The integer "i" of a job's input when in [0, n), else -1. */
long bench_queue_input_i(const json_t *input, long n);
/* Checks a POST /v1/jobs/complete answer of count items: -1 (failed) when
 * it is not one result per item; outcomes other than "completed" are
 * counted in *not_completed. */
int bench_queue_completed(bench *b, const http_response *r, size_t count, atomic_long *not_completed);
/* queue_latency.c: jobs at opt.latency_rate for opt.latency_secs, claimed by
 * waiting long-polls; p50/p99 from each job's due time to its claim. */
int bench_queue_latency(bench *b);

/* ---- workflows.c -------------------------------------------------------- */

/* `bench workflows`: opt.runs runs of a 10-step no-op workflow, started and
 * worked through in process over HTTP. -1 logged (the first failure is also
 * the report's "error"). */
int bench_workflows(bench *b);

/* ---- exec.c ------------------------------------------------------------- */

/* --tasks exec tasks of /bin/true, then as many `weft worker` jobs. -1 logged. */
int bench_exec(bench *b);
/* ---- logs.c -------------------------------------------------------------- */

/* --logs: lines appended through POST /v1/jobs/{id}/logs by --clients
 * clients until stored: logs_lines_per_s. -1 logged. */
int bench_logs(bench *b);

/* ---- load.c -------------------------------------------------------------- */

/* opt.clients threads send count requests (request i: method with body to
 * /task/<ids[i % nids]> through node i % nnodes), each on its own
 * keep-alive connection to every node, all released at once; every answer
 * must be want. Reports <key>_s, _per_s and the latencies. -1 logged. */
int bench_run_load(bench *b, const char *method, const char *body, long want, size_t count, const char *key,
                   const char *label, const char *unit);

/* ---- statements.c -------------------------------------------------------- */

/* Statements executed so far, by statement name, summed over the nodes:
 * the db_query_duration_seconds_count and _sum series of their /metrics. */
typedef struct bench_stmts {
	char **names;         /* owned */
	double *counts;       /* owned */
	double *sums;         /* seconds, owned */
	size_t n;
	bool ok;              /* every node answered with the histogram */
	char why[400];        /* when not ok */
} bench_stmts;

/* Reads every node's /metrics into s (release it with bench_stmts_release
 * whatever happened). A failure is recorded in s and reported by
 * bench_stmts_report: these figures do not fail a run. */
void bench_stmts_read(bench *b, bench_stmts *s);
/* Adds the statements of one /metrics body (borrowed) of node who (for the
 * message) to s, zeroed or already holding other nodes' figures. 0, or -1
 * with s->ok false and s->why set. */
int bench_stmts_add_text(bench_stmts *s, const char *text, size_t len, const char *who);
void bench_stmts_release(bench_stmts *s);
/* Reports <key>_statements_per_task, the statements run between the two
 * readings over tasks; with top > 0 also <key>_statements_top, the top
 * statements by count (name: per task) and their lines. */
void bench_stmts_report(bench *b, const char *key, const char *label, const bench_stmts *before,
                        const bench_stmts *after, long tasks, size_t top);

#endif
