/*
 * clock.h — the single source of time, and the one way to wait for it.
 *
 * Every timestamp and deadline in weft comes from here so that tests can move
 * time forward instead of sleeping: clock_advance() shifts the wall clock
 * (and the monotonic clock by the same amount) for the whole process and
 * wakes every thread waiting through clock_wait_until(), which then sees the
 * new time and re-evaluates its deadlines. clock_freeze() stops the clock
 * altogether, so that only clock_advance() moves it.
 * Times are int64 microseconds. 0 means "unset" wherever a timestamp is optional.
 */
#ifndef WEFT_CLOCK_H
#define WEFT_CLOCK_H

#include "common.h"
#include <pthread.h>

int64_t clock_now_us(void);        /* wall clock, µs since the Unix epoch, + offset */
int64_t clock_mono_us(void);       /* monotonic µs, + offset */
/* Moves both clocks forward and wakes every registered waiter.
 * Thread-safe; for tests (and the test-only clock route). */
void clock_advance(int64_t delta_us);
/* Stops (true) or restarts (false) the passing of real time: while frozen
 * the clocks move only through clock_advance(). Tests only. */
void clock_freeze(bool frozen);

/* A thread that waits for a deadline: its mutex and condition variable
 * (both borrowed, and outliving the registration). Registered waiters are
 * woken by clock_advance(). */
typedef struct clock_waiter {
	pthread_mutex_t *mu;
	pthread_cond_t *cv;
	struct clock_waiter *next;      /* the clock's list */
} clock_waiter;

/* Initialises cv on the clock that clock_wait_until() waits on. */
void clock_cond_init(pthread_cond_t *cv);
void clock_waiter_register(clock_waiter *w, pthread_mutex_t *mu, pthread_cond_t *cv);
void clock_waiter_unregister(clock_waiter *w);
/* With w->mu held: sleeps until w->cv is signalled, the clock is advanced,
 * or clock_now_us() reaches due_us (INT64_MAX: no deadline), for at most
 * max_wait_us of real time. Returns with w->mu held; callers re-check
 * their condition, as after any condition wait. */
void clock_wait_until(clock_waiter *w, int64_t due_us, int64_t max_wait_us);

/* RFC 3339 UTC with "Z". Fraction precision is automatic: none when the
 * microseconds are 0, 3 digits when they are a whole number of ms, else 6.
 * out must hold TIME_RFC3339_MAX bytes. */
#define TIME_RFC3339_MAX 40
void time_format_rfc3339(int64_t us, char out[TIME_RFC3339_MAX]);

/* Parses RFC 3339 (date 'T' or ' ' time, optional fraction of 1..9 digits,
 * 'Z' or ±hh:mm offset). Returns 0 and sets *us, or -1. */
int time_parse_rfc3339(const char *s, int64_t *us);

#endif
