/*
 * tz.h — time zones read from the system's TZif files, for schedules that
 * fire on a zone's wall clock.
 *
 * Zones come from /usr/share/zoneinfo (Debian package tzdata) and are
 * parsed here (TZif versions 1 to 3, 64-bit transitions, and the POSIX TZ
 * string of the footer for instants past the last transition). Nothing
 * touches the process's TZ variable or libc's zone state, so every
 * function is thread-safe. A loaded zone is cached for the life of the
 * process: tz_load hands out a borrowed pointer that stays valid forever.
 * "UTC" is built in and needs no file; fixed offsets are files too
 * ("Etc/GMT+5" is UTC-5, with POSIX's inverted sign).
 *
 * Times are whole seconds: `utc` counts seconds since the Unix epoch;
 * `wall` is the zone's local civil time counted the same way, as if that
 * civil time were UTC (wall = utc + offset). Leap seconds do not exist
 * here, as in POSIX time; "right/" zones with leap-second tables are
 * refused.
 *
 * Wall clock to UTC is not a function at DST changes, so tz_wall_to_utc
 * says which case applies:
 *   TZ_WALL_UNIQUE   the wall time happens once;
 *   TZ_WALL_OVERLAP  it happens twice (a fall-back change): `first` is the
 *                    earlier instant (still in the old offset), `second`
 *                    the later one;
 *   TZ_WALL_GAP      it never happens (a spring-forward change skipped
 *                    it): `first` and `second` are both the instant the
 *                    gap ends, the first instant whose wall time is after
 *                    it.
 */
#ifndef WEFT_CORE_TZ_H
#define WEFT_CORE_TZ_H

#include "util/common.h"

#define TZ_NAME_MAX 64          /* longest zone name accepted */
#define TZ_ERR_LEN 128          /* a big enough error buffer */

typedef struct tz_zone tz_zone;

typedef enum tz_wall_kind {
	TZ_WALL_UNIQUE = 0,
	TZ_WALL_OVERLAP = 1,
	TZ_WALL_GAP = 2,
} tz_wall_kind;

typedef struct tz_wall_mapping {
	tz_wall_kind kind;
	int64_t first;          /* UTC seconds; see the kinds above */
	int64_t second;
} tz_wall_mapping;

/* Whether `name` is an acceptable zone name: 1 to TZ_NAME_MAX bytes of
 * [A-Za-z0-9_+-/], not starting or ending with '/', no empty component,
 * no "..". Says nothing about whether the zone exists. */
bool tz_name_valid(const char *name);

/* The zone `name` (borrowed, valid for the life of the process), loaded on
 * first use and cached. 0, or WEFT_EINVALID for a bad name or a file that
 * is not a usable TZif file, WEFT_ENOTFOUND for a zone with no file; err
 * (errlen bytes, may be NULL) then says why, naming the zone. */
int tz_load(const char *name, const tz_zone **out, char *err, size_t errlen);

/* Parses the TZif file data[0..len) as zone `name` into a new zone *out
 * (owned: tz_free it), outside the cache: for tests and fuzzing, and for
 * zone files that do not come from the system. 0, or WEFT_EINVALID with
 * the reason in err. */
int tz_parse(const char *name, const uint8_t *data, size_t len, tz_zone **out, char *err, size_t errlen);

/* Frees a zone from tz_parse; NULL is fine. Never a tz_load zone. */
void tz_free(tz_zone *z);

/* The built-in UTC zone. */
const tz_zone *tz_utc(void);

/* The zone's name as loaded ("Europe/Berlin"). */
const char *tz_name(const tz_zone *z);

/* The zone's offset from UTC in seconds at instant `utc` (east positive),
 * and whether it is daylight saving time there (is_dst may be NULL). */
int32_t tz_offset_at(const tz_zone *z, int64_t utc, bool *is_dst);

/* The wall time at instant `utc`. */
int64_t tz_utc_to_wall(const tz_zone *z, int64_t utc);

/* The instants whose wall time is `wall`; see the kinds above. */
void tz_wall_to_utc(const tz_zone *z, int64_t wall, tz_wall_mapping *out);

/* The first offset change strictly after `utc` and at most `limit`: true
 * and its instant and the offsets before and after it, or false if there
 * is none in (utc, limit]. Changes of name or DST flag alone, which leave
 * the offset as it was, are skipped. */
bool tz_next_change(const tz_zone *z, int64_t utc, int64_t limit, int64_t *at, int32_t *before,
                    int32_t *after);

/* Civil time helpers, proleptic Gregorian, for any int64 day count in
 * range. */
int64_t tz_days_from_civil(int64_t y, int m, int d);
void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

#endif
