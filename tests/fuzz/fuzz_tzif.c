/*
 * fuzz_tzif.c — the TZif reader (a zone file, as tz_parse reads it) and,
 * for a file that parses, offsets, changes and wall-to-UTC mapping around
 * a few instants, which must agree with each other.
 */
#include "fuzz.h"
#include "core/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tz_zone *z = NULL;
	char err[TZ_ERR_LEN];
	if (tz_parse("Fuzz/Zone", data, size, &z, err, sizeof(err)) != 0)
		return 0;
	static const int64_t instants[] = { -62135596800LL, -2208988800LL, 0, 1774746000, 4102444800LL,
		                            253402300799LL };
	for (size_t i = 0; i < ARRAY_LEN(instants); i++) {
		int64_t t = instants[i];
		tz_wall_mapping m;
		tz_wall_to_utc(z, tz_utc_to_wall(z, t), &m);
		/* The wall time of an instant maps back to it. */
		if (m.kind == TZ_WALL_GAP || m.first > t || m.second < t)
			abort();
		int64_t at;
		int32_t before, after;
		if (tz_next_change(z, t, t + 400LL * 86400, &at, &before, &after) &&
		    (at <= t || before == after || tz_offset_at(z, at, NULL) != after))
			abort();
	}
	tz_free(z);
	return 0;
}
