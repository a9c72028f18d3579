/*
 * cron.c — the cron expression parser and the fire-time search. See cron.h.
 *
 * The search runs on wall time (the zone's civil time counted in seconds
 * as if it were UTC): it finds the next wall time the bitsets match,
 * jumping whole months, days, hours and minutes when a field rules them
 * out, then maps that wall time to instants with tz_wall_to_utc and
 * applies the DST rules of cron.h.
 */
#include "core/cron.h"
#include "core/error.h"

#include <stdarg.h>

#define SECS_PER_DAY 86400
#define US_PER_SEC 1000000
/* Instants cron_next accepts: years 1 to 9999. */
#define MIN_UTC (-62135596800LL)
#define MAX_UTC 253402300799LL

typedef struct field_spec {
	const char *name;
	int min, max;
	const char *const *names;   /* 3-letter names for min.., or NULL */
} field_spec;

static const char *const month_names[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
	                                    "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL };
static const char *const weekday_names[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL };

enum { F_SECOND, F_MINUTE, F_HOUR, F_DOM, F_MONTH, F_DOW, F_COUNT };

static const field_spec fields[F_COUNT] = {
	[F_SECOND] = { "second", 0, 59, NULL },
	[F_MINUTE] = { "minute", 0, 59, NULL },
	[F_HOUR] = { "hour", 0, 23, NULL },
	[F_DOM] = { "day of month", 1, 31, NULL },
	[F_MONTH] = { "month", 1, 12, month_names },
	[F_DOW] = { "day of week", 0, 7, weekday_names },   /* 7 is Sunday again */
};

static const struct {
	const char *name, *fields;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

typedef struct parse_ctx {
	char *err;
	size_t errlen;
	int field_no;           /* 1-based, as the user wrote it */
	const field_spec *spec;
} parse_ctx;

WEFT_PRINTF(2, 3)
static int fail(parse_ctx *c, const char *fmt, ...)
{
	int n = snprintf(c->err, c->errlen, "field %d (%s): ", c->field_no, c->spec->name);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return WEFT_EINVALID;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_alpha(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static char upper(char ch)
{
	return ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
}

/* A number or a name at *p (advanced past it), range-checked. */
static int parse_value(parse_ctx *c, const char **p, const char *end, int *out)
{
	const char *s = *p;
	if (s < end && is_digit(*s)) {
		long v = 0;
		const char *q = s;
		while (q < end && is_digit(*q)) {
			if (q - s >= 6)
				return fail(c, "number \"%.*s...\" is too long", 6, s);
			v = v * 10 + (*q++ - '0');
		}
		if (v < c->spec->min || v > c->spec->max)
			return fail(c, "%ld is out of %d-%d", v, c->spec->min, c->spec->max);
		*out = (int)v;
		*p = q;
		return 0;
	}
	if (s < end && is_alpha(*s)) {
		const char *q = s;
		while (q < end && is_alpha(*q) && q - s < 16)
			q++;
		if (c->spec->names == NULL)
			return fail(c, "names are not allowed here (\"%.*s\")", (int)(q - s), s);
		for (int i = 0; c->spec->names[i] != NULL; i++) {
			const char *nm = c->spec->names[i];
			if (q - s == 3 && upper(s[0]) == nm[0] && upper(s[1]) == nm[1] && upper(s[2]) == nm[2]) {
				*out = c->spec->min + i;
				*p = q;
				return 0;
			}
		}
		return fail(c, "unknown name \"%.*s\"", (int)(q - s), s);
	}
	if (s < end)
		return fail(c, "expected a number%s, found \"%c\"", c->spec->names ? " or a name" : "", *s);
	return fail(c, "expected a number%s", c->spec->names ? " or a name" : "");
}

/* One list item: `*`, `N` or `N-M`, then an optional `/STEP`. */
static int parse_item(parse_ctx *c, const char *s, const char *end, uint64_t *bits)
{
	int lo, hi, step = 1, rc;
	const char *p = s;
	if (p == end)
		return fail(c, "empty list item");
	if (*p == '*') {
		p++;
		lo = c->spec->min;
		hi = c->spec->max;
		if (c->spec == &fields[F_DOW])
			hi = 6;     /* Sunday once, as 0 */
	} else {
		if ((rc = parse_value(c, &p, end, &lo)) != 0)
			return rc;
		hi = lo;
		if (p < end && *p == '-') {
			p++;
			if ((rc = parse_value(c, &p, end, &hi)) != 0)
				return rc;
			if (hi < lo)
				return fail(c, "range %d-%d goes backwards", lo, hi);
		} else if (p < end && *p == '/') {
			hi = c->spec == &fields[F_DOW] ? 6 : c->spec->max;   /* N/STEP means N-max/STEP */
		}
	}
	if (p < end && *p == '/') {
		p++;
		int span = c->spec->max - c->spec->min + 1;
		if (p == end || !is_digit(*p))
			return fail(c, "expected a step after \"/\"");
		const char *digits = p;
		long v = 0;
		while (p < end && is_digit(*p) && p - digits < 6)
			v = v * 10 + (*p++ - '0');
		if (v < 1 || v > span || (p < end && is_digit(*p)))
			return fail(c, "step %.*s is out of 1-%d", (int)(p - digits), digits, span);
		step = (int)v;
	}
	if (p != end)
		return fail(c, "unexpected \"%c\" in \"%.*s\"", *p, (int)(end - s), s);
	for (int v = lo; v <= hi; v += step)
		*bits |= UINT64_C(1) << v;
	return 0;
}

static int parse_field(parse_ctx *c, const char *s, const char *end, uint64_t *bits)
{
	*bits = 0;
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *item_end = comma ? comma : end;
		int rc = parse_item(c, s, item_end, bits);
		if (rc != 0)
			return rc;
		if (comma == NULL)
			return 0;
		s = comma + 1;
	}
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Splits s[0..len) into at most 7 fields; returns the count. */
static int split_fields(const char *s, size_t len, const char *start[7], const char *end[7])
{
	int n = 0;
	size_t i = 0;
	while (i < len) {
		while (i < len && is_space(s[i]))
			i++;
		if (i == len)
			break;
		if (n == 7)
			return 8;
		start[n] = s + i;
		while (i < len && !is_space(s[i]))
			i++;
		end[n++] = s + i;
	}
	return n;
}

int cron_parse(const char *text, size_t len, cron_expr *out, char *err, size_t errlen)
{
	char scratch[CRON_ERR_LEN];
	if (err == NULL || errlen == 0)
		err = scratch, errlen = sizeof(scratch);
	memset(out, 0, sizeof(*out));
	if (len > CRON_TEXT_MAX) {
		snprintf(err, errlen, "expression is longer than %d bytes", CRON_TEXT_MAX);
		return WEFT_ETOOLARGE;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if ((ch < 0x20 && ch != '\t') || ch >= 0x7f) {
			snprintf(err, errlen, "unexpected byte 0x%02x at offset %zu", ch, i);
			return WEFT_EINVALID;
		}
	}
	const char *start[7], *end[7];
	int n = split_fields(text, len, start, end);
	if (n == 1 && *start[0] == '@') {
		size_t mlen = (size_t)(end[0] - start[0]);
		for (size_t i = 0; i < ARRAY_LEN(macros); i++)
			if (strlen(macros[i].name) == mlen && strncasecmp(macros[i].name, start[0], mlen) == 0)
				return cron_parse(macros[i].fields, strlen(macros[i].fields), out, err, errlen);
		snprintf(err, errlen, "unknown macro \"%.*s\"", (int)MIN(mlen, 32), start[0]);
		return WEFT_EINVALID;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty expression");
		return WEFT_EINVALID;
	}
	if (n != 5 && n != 6) {
		snprintf(err, errlen, "expected 5 or 6 fields, got %s%d", n > 7 ? "more than " : "", MIN(n, 7));
		return WEFT_EINVALID;
	}
	uint64_t bits[F_COUNT];
	int first = n == 6 ? F_SECOND : F_MINUTE;
	bits[F_SECOND] = 1;     /* five fields: on second 0 */
	for (int f = first; f < F_COUNT; f++) {
		parse_ctx c = { err, errlen, f - first + 1, &fields[f] };
		int rc = parse_field(&c, start[f - first], end[f - first], &bits[f]);
		if (rc != 0)
			return rc;
		if (f <= F_HOUR && memchr(start[f - first], '*', (size_t)(end[f - first] - start[f - first])) != NULL)
			out->flags |= CRON_INTERVAL;
		if (f <= F_HOUR && memchr(start[f - first], '/', (size_t)(end[f - first] - start[f - first])) != NULL)
			out->flags |= CRON_INTERVAL;
	}
	if (*start[F_DOM - first] == '*')
		out->flags |= CRON_DOM_STAR;
	if (*start[F_DOW - first] == '*')
		out->flags |= CRON_DOW_STAR;
	if (n == 6)
		out->flags |= CRON_SECONDS;
	if (bits[F_DOW] & (1u << 7))
		bits[F_DOW] = (bits[F_DOW] | 1u) & 0x7f;
	out->seconds = bits[F_SECOND];
	out->minutes = bits[F_MINUTE];
	out->hours = (uint32_t)bits[F_HOUR];
	out->days = (uint32_t)bits[F_DOM];
	out->months = (uint16_t)bits[F_MONTH];
	out->weekdays = (uint8_t)bits[F_DOW];
	return 0;
}

/* ---- the search --------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The first set bit of mask at or above `from`, or -1. */
static int next_bit(uint64_t mask, int from)
{
	if (from >= 64)
		return -1;
	uint64_t m = mask >> from;
	return m == 0 ? -1 : from + __builtin_ctzll(m);
}

static bool day_matches(const cron_expr *e, int64_t days, int d)
{
	int wd = (int)((days % 7 + 11) % 7);    /* 1970-01-01 was a Thursday */
	bool dom = (e->days >> d) & 1, dow = (e->weekdays >> wd) & 1;
	if (e->flags & (CRON_DOM_STAR | CRON_DOW_STAR))
		return dom && dow;
	return dom || dow;
}

/* The first wall time >= from and <= limit that e matches. */
static bool next_wall_match(const cron_expr *e, int64_t from, int64_t limit, int64_t *out)
{
	int64_t w = from;
	while (w <= limit) {
		int64_t days = floor_div(w, SECS_PER_DAY), y;
		int sod = (int)(w - days * SECS_PER_DAY), m, d;
		tz_civil_from_days(days, &y, &m, &d);
		if (!((e->months >> m) & 1)) {
			int nm = next_bit(e->months, m + 1);
			w = (nm < 0 ? tz_days_from_civil(y + 1, next_bit(e->months, 1), 1)
			            : tz_days_from_civil(y, nm, 1)) * SECS_PER_DAY;
			continue;
		}
		if (!day_matches(e, days, d)) {
			w = (days + 1) * SECS_PER_DAY;
			continue;
		}
		int h = sod / 3600, mi = sod / 60 % 60, s = sod % 60;
		int nh = next_bit(e->hours, h);
		if (nh != h) {
			w = nh < 0 ? (days + 1) * SECS_PER_DAY : days * SECS_PER_DAY + nh * 3600;
			continue;
		}
		int nmi = next_bit(e->minutes, mi);
		if (nmi != mi) {
			w = days * SECS_PER_DAY + h * 3600 + (nmi < 0 ? 3600 : nmi * 60);
			continue;
		}
		int ns = next_bit(e->seconds, s);
		if (ns < 0) {
			w = days * SECS_PER_DAY + h * 3600 + (mi + 1) * 60;
			continue;
		}
		*out = days * SECS_PER_DAY + h * 3600 + mi * 60 + ns;
		return *out <= limit;
	}
	return false;
}

bool cron_matches(const cron_expr *e, int64_t wall)
{
	int64_t days = floor_div(wall, SECS_PER_DAY), y;
	int sod = (int)(wall - days * SECS_PER_DAY), m, d;
	tz_civil_from_days(days, &y, &m, &d);
	return ((e->months >> m) & 1) && day_matches(e, days, d) && ((e->hours >> (sod / 3600)) & 1) &&
	       ((e->minutes >> (sod / 60 % 60)) & 1) && ((e->seconds >> (sod % 60)) & 1);
}

int cron_next(const cron_expr *e, const tz_zone *z, int64_t after_utc_us, int64_t *next_utc_us)
{
	if (e->months == 0 || e->weekdays == 0 || e->days == 0 || e->hours == 0 || e->minutes == 0 ||
	    e->seconds == 0)
		return WEFT_EINVALID;   /* not from cron_parse */
	int64_t t_min = floor_div(after_utc_us, US_PER_SEC) + 1;
	if (t_min < MIN_UTC || t_min > MAX_UTC)
		return WEFT_EINVALID;
	/* Start from the smallest wall time any instant >= t_min can have: a
	 * fall-back change soon after t_min turns the clock back below
	 * wall(t_min), and the repeated times may still be due. */
	int32_t min_off = tz_offset_at(z, t_min, NULL);
	int64_t at = t_min, window = t_min + 2 * SECS_PER_DAY;
	int32_t before, after;
	while (tz_next_change(z, at, window, &at, &before, &after))
		min_off = MIN(min_off, after);
	int64_t wall = t_min + min_off;
	int64_t limit = wall + (int64_t)CRON_SEARCH_YEARS * 366 * SECS_PER_DAY;
	int64_t best = 0, w;
	bool found = false;
	while (next_wall_match(e, wall, limit, &w)) {
		tz_wall_mapping map;
		tz_wall_to_utc(z, w, &map);
		if (found && map.first >= best)
			break;      /* later wall times only map later */
		if (map.first >= t_min && (!found || map.first < best))
			best = map.first, found = true;
		if (map.kind == TZ_WALL_OVERLAP && (e->flags & CRON_INTERVAL) && map.second >= t_min &&
		    (!found || map.second < best))
			best = map.second, found = true;
		wall = w + 1;
	}
	if (!found || best > MAX_UTC)
		return WEFT_ENOTFOUND;
	*next_utc_us = best * US_PER_SEC;
	return 0;
}

int cron_next_n(const cron_expr *e, const tz_zone *z, int64_t after_utc_us, size_t n, int64_t *out)
{
	if (n > CRON_NEXT_N_MAX)
		return WEFT_ETOOLARGE;
	int64_t after = after_utc_us;
	for (size_t i = 0; i < n; i++) {
		int rc = cron_next(e, z, after, &out[i]);
		if (rc == WEFT_ENOTFOUND || (rc == WEFT_EINVALID && i > 0))
			return (int)i;
		if (rc != 0)
			return rc;
		after = out[i];
	}
	return (int)n;
}
