/*
 * clock.h — the single source of time.
 *
 * Every timestamp and deadline in weft comes from here so that tests can move
 * time forward instead of sleeping: clock_advance() shifts the wall clock
 * (and the monotonic clock by the same amount) for the whole process.
 * Times are int64 microseconds. 0 means "unset" wherever a timestamp is optional.
 */
#ifndef WEFT_CLOCK_H
#define WEFT_CLOCK_H

#include "common.h"

int64_t clock_now_us(void);        /* wall clock, µs since the Unix epoch, + offset */
int64_t clock_mono_us(void);       /* monotonic µs, + offset */
void clock_advance(int64_t delta_us);   /* thread-safe; tests only */

/* RFC 3339 UTC with "Z". Fraction precision is automatic: none when the
 * microseconds are 0, 3 digits when they are a whole number of ms, else 6.
 * out must hold TIME_RFC3339_MAX bytes. */
#define TIME_RFC3339_MAX 40
void time_format_rfc3339(int64_t us, char out[TIME_RFC3339_MAX]);

/* Parses RFC 3339 (date 'T' or ' ' time, optional fraction of 1..9 digits,
 * 'Z' or ±hh:mm offset). Returns 0 and sets *us, or -1. */
int time_parse_rfc3339(const char *s, int64_t *us);

#endif
