/*
 * sink.h — the webhook sink of `weft bench`: a libmicrohttpd server on
 * 127.0.0.1 inside the bench process that answers every request 200 with an
 * empty body and counts the requests, so that webhooks cost the server
 * under test a loopback round trip and nothing more.
 */
#ifndef WEFT_BENCH_SINK_H
#define WEFT_BENCH_SINK_H

#include "util/common.h"

#include <stdatomic.h>

struct MHD_Daemon;
struct MHD_Response;

/* Embedded: zero it, bench_sink_start, bench_sink_stop. */
typedef struct bench_sink {
	struct MHD_Daemon *d;
	struct MHD_Response *ok;
	int port;                  /* once started */
	atomic_ullong hits;        /* every request */
	atomic_ullong end_hits;    /* requests whose path starts with /end (on_success deliveries) */
} bench_sink;

/* Listens on a free port of 127.0.0.1 (epoll, a pool of 2 threads). 0 or
 * -1; a failed start leaves s stopped. */
int bench_sink_start(bench_sink *s);
/* Stops it; a stopped or never started sink is fine. */
void bench_sink_stop(bench_sink *s);
uint64_t bench_sink_hits(bench_sink *s);
uint64_t bench_sink_end_hits(bench_sink *s);

#endif
