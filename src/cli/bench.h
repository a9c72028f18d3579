/*
 * bench.h — `weft bench`: measures a real weft server end to end.
 *
 * It starts `weft serve` as a child process on a fresh database and a free
 * port, plus a local webhook sink, drives the HTTP API with concurrent
 * keep-alive clients, and prints each figure (and a JSON summary with
 * --json). Nothing here is used by the server itself.
 */
#ifndef WEFT_BENCH_H
#define WEFT_BENCH_H

/* argv[0] is "bench". Returns the process exit code. */
int bench_main(int argc, char **argv);

#endif
