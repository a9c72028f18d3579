/*
 * cron.h — cron expressions and their fire times on a zone's wall clock.
 *
 * Syntax. Five fields "minute hour day-of-month month day-of-week", or six
 * with a leading "second". Each field is a comma-separated list of items:
 * `*`, `N`, `N-M`, each optionally followed by `/STEP` (`*\/5`, `1-30/2`;
 * `N/STEP` means N-max/STEP). Months and weekdays also take names (JAN-DEC,
 * SUN-SAT, any case); weekday 0 and 7 are both Sunday. The macros
 * @yearly (= @annually), @monthly, @weekly, @daily (= @midnight) and
 * @hourly stand for the usual five fields. Text is at most CRON_TEXT_MAX
 * bytes. An error names the field and the problem:
 *     field 3 (day of month): 32 is out of 1-31
 *
 * Day matching follows Vixie cron: when both day of month and day of week
 * are restricted (neither field starts with `*`), a day matches if EITHER
 * matches ("0 0 13 * FRI" fires on every 13th and every Friday);
 * otherwise both must match.
 *
 * Daylight saving time. Fire times are wall-clock times in the zone:
 *   - A wall time skipped by a spring-forward change (02:30 in Berlin on
 *     the last Sunday of March) fires once, at the first instant after the
 *     gap (03:00 CEST), as Vixie cron and cronie do: a daily job is late
 *     that day rather than missing it. Several skipped times collapse into
 *     that one firing.
 *   - A wall time repeated by a fall-back change fires once, at its first
 *     occurrence, for a fixed-time expression ("30 2 * * *"). An
 *     interval-like expression, one whose second, minute or hour field
 *     contains `*` or a step (`*\/15 * * * *`, `0 * * * *`), fires in both
 *     passes, so that its interval holds across the change.
 * The search looks at most CRON_SEARCH_YEARS ahead: an expression that
 * never matches (30 February) gives WEFT_ENOTFOUND instead of a loop.
 *
 * A compiled expression is a small value of bitsets; matching allocates
 * nothing and is thread-safe.
 */
#ifndef WEFT_CORE_CRON_H
#define WEFT_CORE_CRON_H

#include "util/common.h"
#include "core/tz.h"

#define CRON_TEXT_MAX 256       /* longest expression accepted, in bytes */
#define CRON_ERR_LEN 128        /* a big enough error buffer */
#define CRON_SEARCH_YEARS 9     /* how far cron_next looks: 29 Feb can be 8 years apart */
#define CRON_NEXT_N_MAX 1000    /* most fire times cron_next_n gives */

enum {
	CRON_DOM_STAR = 1 << 0,      /* the day-of-month field starts with '*' */
	CRON_DOW_STAR = 1 << 1,      /* the day-of-week field starts with '*' */
	CRON_INTERVAL = 1 << 2,      /* interval-like: fires in both fall-back passes */
	CRON_SECONDS = 1 << 3,       /* written with six fields */
};

typedef struct cron_expr {
	uint64_t seconds;       /* bit n: second n (0-59) */
	uint64_t minutes;       /* bit n: minute n (0-59) */
	uint32_t hours;         /* bit n: hour n (0-23) */
	uint32_t days;          /* bit n: day of month n (1-31) */
	uint16_t months;        /* bit n: month n (1-12) */
	uint8_t weekdays;       /* bit n: weekday n (0 = Sunday - 6) */
	uint8_t flags;          /* CRON_* above */
} cron_expr;

/* Compiles the `len` bytes of `text` into *out. 0, or WEFT_EINVALID
 * (WEFT_ETOOLARGE beyond CRON_TEXT_MAX bytes) with the reason in err
 * (errlen bytes; may be NULL). */
int cron_parse(const char *text, size_t len, cron_expr *out, char *err, size_t errlen);

/* Whether e matches wall time `wall` (seconds, the zone's civil time
 * counted as if it were UTC; see tz.h), ignoring DST. */
bool cron_matches(const cron_expr *e, int64_t wall);

/* The first fire time strictly after `after_utc_us` (µs since the epoch,
 * UTC) on zone z's wall clock (z borrowed; tz_utc() for UTC), in
 * *next_utc_us. 0, or WEFT_ENOTFOUND if there is none within
 * CRON_SEARCH_YEARS, WEFT_EINVALID for an instant outside years 1-9999. */
int cron_next(const cron_expr *e, const tz_zone *z, int64_t after_utc_us, int64_t *next_utc_us);

/* The next n fire times after `after_utc_us` into out[0..n), ascending.
 * n is at most CRON_NEXT_N_MAX (else WEFT_ETOOLARGE). Returns how many
 * were found (fewer than n if the expression stops firing within the
 * search bound of the last one), or a negative code. */
int cron_next_n(const cron_expr *e, const tz_zone *z, int64_t after_utc_us, size_t n,
                int64_t *out);

#endif
