/*
 * fuzz_cron.c — the cron expression parser and the fire-time search.
 *
 * Input: one byte choosing the zone, eight bytes (big-endian) for the
 * instant to search after (folded into years 1-9999), then the expression
 * text. Whatever parses must give fire times that are ascending and after
 * the instant, each at a matching wall time or the end of a DST gap, and
 * in UTC with no matching second skipped before the first: a search bug
 * shows up as a crash, not only as a sanitizer report.
 */
#include "fuzz.h"
#include "core/cron.h"
#include "core/tz.h"

static const char *const zones[] = { "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe" };

/* Years 1 to 9999 in µs. */
#define FIRST_US (-62135596800LL * 1000000)
#define SPAN_US ((253402300799LL + 62135596800LL) * 1000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 9)
		return 0;
	const tz_zone *z = tz_utc();
	if (tz_load(zones[data[0] % ARRAY_LEN(zones)], &z, NULL, 0) != 0)
		z = tz_utc();   /* a machine without tzdata still fuzzes the parser */
	uint64_t raw = 0;
	for (int i = 1; i < 9; i++)
		raw = raw << 8 | data[i];
	int64_t after = FIRST_US + (int64_t)(raw % (uint64_t)SPAN_US);

	cron_expr e;
	char err[CRON_ERR_LEN];
	if (cron_parse((const char *)data + 9, size - 9, &e, err, sizeof(err)) != 0) {
		if (strnlen(err, sizeof(err)) == sizeof(err) || err[0] == '\0')
			abort();
		return 0;
	}
	int64_t next[3];
	int n = cron_next_n(&e, z, after, ARRAY_LEN(next), next);
	if (n < 0 && n != -7)   /* WEFT_EINVALID only for instants at the very end of time */
		abort();
	for (int i = 0; i < n; i++) {
		if (next[i] <= (i == 0 ? after : next[i - 1]) || next[i] % 1000000 != 0)
			abort();
		/* Each fire time shows a matching wall time, or ends a DST gap. */
		int64_t t = next[i] / 1000000;
		if (!cron_matches(&e, tz_utc_to_wall(z, t)) && tz_offset_at(z, t - 1, NULL) >= tz_offset_at(z, t, NULL))
			abort();
	}
	/* In UTC nothing between the instant and the first fire time matches
	 * (checked second by second when that is short). */
	if (n > 0 && z == tz_utc() && next[0] - after <= 3600LL * 1000000) {
		for (int64_t t = after / 1000000 - (after % 1000000 < 0); ++t < next[0] / 1000000;)
			if (t * 1000000 > after && cron_matches(&e, t))
				abort();
	}
	return 0;
}
