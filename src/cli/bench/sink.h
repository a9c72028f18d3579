/*
 * sink.h — the webhook sink of `weft bench`: a libmicrohttpd server on
 * 127.0.0.1 inside the bench process that answers every request 200 with an
 * empty body and counts the requests, so that webhooks cost the server
 * under test a loopback round trip and nothing more.
 *
 * For the soak it also keeps the tasks that were started (the X-Task-Id of
 * each request to /start, with the time it arrived) until the soak takes
 * them to complete them: a FIFO inside the sink, so that it lives exactly
 * as long as the threads that fill it.
 */
#ifndef WEFT_BENCH_SINK_H
#define WEFT_BENCH_SINK_H

#include "util/common.h"

#include <stdatomic.h>

struct MHD_Daemon;
struct MHD_Response;
struct bench_sink_starts;

#define BENCH_SINK_ID_MAX 64   /* a task id as the sink keeps it, NUL included */

/* Embedded: zero it, bench_sink_start, bench_sink_stop. */
typedef struct bench_sink {
	struct MHD_Daemon *d;
	struct MHD_Response *ok;
	int port;                  /* once started */
	atomic_ullong hits;        /* every request */
	atomic_ullong end_hits;    /* requests whose path starts with /end (on_success deliveries) */
	bool record_starts;        /* set before bench_sink_start: keep the started tasks */
	struct bench_sink_starts *starts;   /* private, owned */
} bench_sink;

/* Listens on a free port of 127.0.0.1 (epoll, a pool of 2 threads). 0 or
 * -1; a failed start leaves s stopped. */
int bench_sink_start(bench_sink *s);
/* Stops it; a stopped or never started sink is fine. */
void bench_sink_stop(bench_sink *s);
uint64_t bench_sink_hits(bench_sink *s);
uint64_t bench_sink_end_hits(bench_sink *s);

/* With record_starts, the started tasks, oldest first; a start delivered
 * twice (at least once is the contract) is kept twice. All are
 * thread-safe.
 *
 * Takes the oldest one if it arrived at or before mono_us (clock_mono_us
 * time): true with its id copied into id. */
bool bench_sink_take_started(bench_sink *s, int64_t mono_us, char id[BENCH_SINK_ID_MAX]);
/* Copies the id of one of the started tasks still kept, chosen by r (any
 * number: the one at r modulo their count): false when none is kept. */
bool bench_sink_peek_started(bench_sink *s, uint64_t r, char id[BENCH_SINK_ID_MAX]);
/* How many are kept, and how many were dropped because the FIFO was full
 * (tasks started faster than they are taken). */
void bench_sink_started_counts(bench_sink *s, size_t *kept, uint64_t *dropped);

#endif
