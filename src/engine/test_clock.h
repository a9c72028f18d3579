/*
 * test_clock.h — moving a running server's clock, for black-box tests.
 *
 * With WEFT_TEST_CLOCK_SOCKET=<path> set, `weft serve` listens on a Unix
 * socket at that path (mode 0600, replacing whatever file was there) and
 * reads lines "advance <µs>": each moves the process's clock forward
 * (clock_advance) and answers "ok" once an engine cycle has run at the new
 * time (engine_sync), or "error <code>". The API tests use it to make
 * timeouts, retries and backoffs due without waiting for them.
 *
 * Nothing of it exists unless that variable names a path: it is not an
 * HTTP route, it cannot be reached over the network, and the server logs a
 * warning when it is on. Production configurations never set it.
 */
#ifndef WEFT_ENGINE_TEST_CLOCK_H
#define WEFT_ENGINE_TEST_CLOCK_H

#include "engine/engine.h"

typedef struct test_clock test_clock;

/* With WEFT_TEST_CLOCK_SOCKET set, WEFT_TEST_CLOCK_AHEAD_US=<µs> moves the
 * process's clock forward that much at start-up, before the engine
 * recovers its deadlines: a test restarts a server as if it had been down
 * that long (a process's clock does not outlive it). Call before
 * engine_start; nothing happens without both variables. */
void test_clock_start_ahead(void);

/* Starts listening at `path` (borrowed) for engine `e` (borrowed, outlives
 * it). NULL, with a log line, when the socket cannot be made. */
test_clock *test_clock_start(const char *path, engine *e);
/* Stops listening, removes the socket and frees tc (NULL is allowed). */
void test_clock_stop(test_clock *tc);

#endif
