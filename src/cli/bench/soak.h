/*
 * soak.h — what the two halves of `weft bench --soak` share: soak.c sends a
 * paced mix of API requests and files each answer's latency under its kind
 * into the current window; soak_window.c closes each window (the server's
 * memory, the database's size, the statements the server ran, the
 * latencies), prints it, and sums the series up at the end.
 *
 * Latencies are measured from the moment a request was scheduled, not from
 * when it was sent: the requests follow a fixed timetable (open loop), so a
 * server stall makes every request due during it late, and each one counts
 * its wait instead of the stall delaying the schedule and hiding itself
 * (coordinated omission).
 */
#ifndef WEFT_BENCH_SOAK_H
#define WEFT_BENCH_SOAK_H

#include "cli/bench/bench_impl.h"

#include <pthread.h>

/* The kinds of request of the mix, and the /metrics read that closes each
 * window (the scrape a Prometheus server would make). */
typedef enum soak_kind {
	SOAK_POST,           /* POST /task, a batch of 1 to 5 tasks */
	SOAK_PATCH,          /* PATCH /task/{id}: a started task to Success or Failure */
	SOAK_PUT,            /* PUT /task/{id}: new_success 1 */
	SOAK_GET_TASK,       /* GET /task/{id} */
	SOAK_GET_BATCH,      /* GET /batch/{id} */
	SOAK_LIST_TASKS,     /* GET /task?batch_id={id} */
	SOAK_LIST_BATCHES,   /* GET /batches */
	SOAK_METRICS,        /* GET /metrics, once per window */
	SOAK_NKINDS
} soak_kind;

/* Short names (JSON keys, column heads) and the requests they stand for. */
extern const char *const soak_kind_key[SOAK_NKINDS];
extern const char *const soak_kind_request[SOAK_NKINDS];

/* The latencies of one kind in one window, in µs from the scheduled time. */
typedef struct soak_lat {
	int64_t *us;          /* owned */
	size_t n, cap;
	uint64_t errors;      /* answers with another status, or none */
} soak_lat;

/* What the requests of one window left: filled under soak_run.mu by the
 * senders, handed over whole when the window closes. */
typedef struct soak_window_lat {
	soak_lat kind[SOAK_NKINDS];
	int64_t send_lag_max_us;   /* the latest a request left after its time */
} soak_window_lat;

void soak_lat_add(soak_lat *l, int64_t us);
void soak_window_lat_release(soak_window_lat *w);

/* What the windows need to know of the load. */
typedef struct soak_counts {
	uint64_t tasks_posted;     /* tasks in the 201 answers so far */
	uint64_t batches_posted;
	uint64_t patch_fallbacks;  /* PATCH slots sent as GET /task: nothing had run long enough */
	uint64_t started_backlog;  /* started tasks not yet completed */
	uint64_t started_dropped;  /* started tasks the bench could not keep track of */
} soak_counts;

/* The series of windows; soak_window.c owns what is inside. */
typedef struct soak_series soak_series;

/* A series for b's soak (one node: b->nodes[0]), owned by the caller: reads
 * the statements run so far, so that the first window counts only its own. */
soak_series *soak_series_new(bench *b);
/* The schedule starts now, at monotonic time t0: prints the table's head. */
void soak_series_begin(soak_series *s, int64_t t0);
/* Closes the window ending now: takes lat (whose contents it now owns; lat
 * is zeroed), reads the server's memory, the database's size and /metrics,
 * prints the window's line. */
void soak_series_close(soak_series *s, soak_window_lat *lat, const soak_counts *c);
/* The tables after the last window, the summary keys of the report and the
 * verdict line. Returns the number of failed requests over the soak. */
uint64_t soak_series_finish(soak_series *s);
void soak_series_free(soak_series *s);

/* The whole soak: the load, the windows, the summary; b's server running.
 * 0 when every request got its expected answer and the server lived, -1
 * otherwise (logged). */
int bench_soak(bench *b);

#endif
