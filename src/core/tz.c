/*
 * tz.c — TZif reading, the POSIX TZ footer rule, and the wall/UTC mapping.
 * See tz.h.
 *
 * A zone is a sorted table of transitions, each selecting a local time
 * type (offset, DST flag), plus an optional rule (the footer) for instants
 * past the last transition. Everything else is built on two primitives:
 * the offset at an instant, and the next offset change after an instant.
 */
#include "core/tz.h"
#include "core/error.h"
#include "util/alloc.h"

#include <errno.h>
#include <pthread.h>

#define TZ_DIR "/usr/share/zoneinfo"
#define TZ_FILE_MAX (512 * 1024)      /* real files are under 10 KiB */
#define TZ_TRANSITIONS_MAX 4096
#define TZ_OFFSET_MAX (26 * 3600)     /* |offset| beyond this is corrupt data */
#define TZ_CACHE_MAX 1024             /* more zones than tzdata has */
#define SECS_PER_DAY 86400

typedef struct tz_type {
	int32_t offset;
	bool is_dst;
} tz_type;

/* A POSIX rule date: Jn (1-365, no leap day), n (0-365) or Mm.w.d. */
typedef struct tz_rule_date {
	char kind;              /* 'J', 'N' or 'M' */
	int day, month, week;   /* day: Jn/n day, or d (0 = Sunday) for M */
	int32_t time;           /* seconds after local midnight (-167h..167h) */
} tz_rule_date;

typedef struct tz_footer {
	bool present;
	bool has_dst;
	int32_t std_offset, dst_offset;
	tz_rule_date start, end;
} tz_footer;

struct tz_zone {
	char name[TZ_NAME_MAX + 1];
	size_t n_trans;
	int64_t *trans;         /* owned; ascending */
	uint8_t *trans_type;    /* owned; index into types */
	size_t n_types;
	tz_type types[256];
	tz_footer footer;
};

/* ---- civil dates -------------------------------------------------------- */

/* Days since 1970-01-01 of y-m-d (the era-based algorithm: 400-year eras of
 * 146097 days, years starting in March so the leap day comes last). */
int64_t tz_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	int64_t doe = days - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ---- the footer rule ---------------------------------------------------- */

/* The UTC instant at which rule date r falls in year y, its local time
 * read in `offset` (the offset in force before the change). */
static int64_t rule_instant(const tz_rule_date *r, int64_t y, int32_t offset)
{
	int64_t day;
	if (r->kind == 'J') {
		int n = r->day;
		day = tz_days_from_civil(y, 1, 1) + n - 1;
		if (is_leap(y) && n >= 60)
			day++;      /* Jn never counts February 29 */
	} else if (r->kind == 'N') {
		day = tz_days_from_civil(y, 1, 1) + r->day;
	} else {
		int64_t first = tz_days_from_civil(y, r->month, 1);
		int wd_first = (int)((first % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
		int delta = (r->day - wd_first + 7) % 7;
		day = first + delta + 7 * (r->week - 1);
		static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
		int last = mdays[r->month - 1] + (r->month == 2 && is_leap(y));
		while (day >= first + last)
			day -= 7;   /* week 5 means the last such weekday */
	}
	return day * SECS_PER_DAY + r->time - offset;
}

static int32_t footer_offset(const tz_footer *f, int64_t utc, bool *is_dst)
{
	*is_dst = false;
	if (!f->has_dst)
		return f->std_offset;
	int64_t y;
	int m, d;
	tz_civil_from_days(floor_div(utc + f->std_offset, SECS_PER_DAY), &y, &m, &d);
	int64_t s = rule_instant(&f->start, y, f->std_offset);
	int64_t e = rule_instant(&f->end, y, f->dst_offset);
	bool dst = s < e ? (utc >= s && utc < e) : !(utc >= e && utc < s);
	*is_dst = dst;
	return dst ? f->dst_offset : f->std_offset;
}

/* The footer's first change strictly after utc. */
static bool footer_next(const tz_footer *f, int64_t utc, int64_t *at, int32_t *before, int32_t *after)
{
	if (!f->has_dst || f->std_offset == f->dst_offset)
		return false;
	int64_t y;
	int m, d;
	tz_civil_from_days(floor_div(utc + f->std_offset, SECS_PER_DAY), &y, &m, &d);
	bool found = false;
	for (int64_t yy = y - 1; yy <= y + 1; yy++) {
		int64_t s = rule_instant(&f->start, yy, f->std_offset);
		int64_t e = rule_instant(&f->end, yy, f->dst_offset);
		if (s > utc && (!found || s < *at)) {
			*at = s, *before = f->std_offset, *after = f->dst_offset;
			found = true;
		}
		if (e > utc && (!found || e < *at)) {
			*at = e, *before = f->dst_offset, *after = f->std_offset;
			found = true;
		}
	}
	return found;
}

/* ---- offsets and changes ------------------------------------------------ */

/* Index of the last transition <= utc, or -1. */
static ptrdiff_t transition_index(const tz_zone *z, int64_t utc)
{
	size_t lo = 0, hi = z->n_trans;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= utc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ptrdiff_t)lo - 1;
}

int32_t tz_offset_at(const tz_zone *z, int64_t utc, bool *is_dst)
{
	bool dst_dummy;
	if (is_dst == NULL)
		is_dst = &dst_dummy;
	ptrdiff_t i = transition_index(z, utc);
	if (i == (ptrdiff_t)z->n_trans - 1 && z->footer.present && (z->n_trans == 0 || i >= 0))
		return footer_offset(&z->footer, utc, is_dst);
	const tz_type *t = &z->types[i < 0 ? 0 : z->trans_type[i]];
	*is_dst = t->is_dst;
	return t->offset;
}

int64_t tz_utc_to_wall(const tz_zone *z, int64_t utc)
{
	return utc + tz_offset_at(z, utc, NULL);
}

bool tz_next_change(const tz_zone *z, int64_t utc, int64_t limit, int64_t *at, int32_t *before,
                    int32_t *after)
{
	int64_t cur = utc;
	while (cur < limit) {
		ptrdiff_t i = transition_index(z, cur);
		int64_t t = 0;
		int32_t b = 0, a = 0;
		if ((size_t)(i + 1) < z->n_trans) {
			t = z->trans[i + 1];
			b = tz_offset_at(z, t - 1, NULL);
			a = tz_offset_at(z, t, NULL);   /* the footer's, at the last one */
		} else if (z->footer.present) {
			if (!footer_next(&z->footer, cur, &t, &b, &a))
				return false;
		} else {
			return false;
		}
		if (t > limit)
			return false;
		if (a != b) {
			*at = t, *before = b, *after = a;
			return true;
		}
		cur = t;
	}
	return false;
}

void tz_wall_to_utc(const tz_zone *z, int64_t wall, tz_wall_mapping *out)
{
	/* Walk the constant-offset segments of a window wide enough for any
	 * offset: an instant u is a solution when u + offset(segment) == wall. */
	int64_t seg_start = wall - 2 * SECS_PER_DAY, limit = wall + 2 * SECS_PER_DAY;
	int32_t off = tz_offset_at(z, seg_start, NULL);
	int n = 0;
	int64_t sols[2] = { 0, 0 }, gap_end = 0;
	bool gap = false;
	for (;;) {
		int64_t at;
		int32_t before, after;
		bool more = tz_next_change(z, seg_start, limit, &at, &before, &after);
		int64_t seg_end = more ? at : INT64_MAX;
		int64_t u = wall - off;
		if (u >= seg_start && u < seg_end) {
			if (n < 2)
				sols[n++] = u;
			else
				sols[1] = u;
		}
		if (!more)
			break;
		if (at + before <= wall && wall < at + after) {
			gap = true;
			gap_end = at;
		}
		seg_start = at;
		off = after;
	}
	if (n == 0) {
		out->kind = TZ_WALL_GAP;
		out->first = out->second = gap ? gap_end : wall - off;
	} else {
		out->kind = n == 2 ? TZ_WALL_OVERLAP : TZ_WALL_UNIQUE;
		out->first = sols[0];
		out->second = sols[n - 1];
	}
}

/* ---- parsing ------------------------------------------------------------ */

typedef struct reader {
	const uint8_t *p;
	size_t left;
} reader;

static bool take(reader *r, size_t n, const uint8_t **out)
{
	if (r->left < n)
		return false;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return true;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* POSIX TZ string pieces. Each returns false on a syntax error. */
static bool posix_name(const char **s)
{
	const char *p = *s;
	if (*p == '<') {
		while (*p != '\0' && *p != '>')
			p++;
		if (*p != '>' || p - *s < 2)
			return false;
		*s = p + 1;
		return true;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	if (p - *s < 3)
		return false;
	*s = p;
	return true;
}

/* [+-]hh[:mm[:ss]] with hours up to max_hours, in seconds. */
static bool posix_hms(const char **s, int max_hours, int32_t *out)
{
	const char *p = *s;
	int sign = 1;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	int parts[3] = { 0, 0, 0 };
	for (int i = 0; i < 3; i++) {
		if (i > 0) {
			if (*p != ':')
				break;
			p++;
		}
		if (*p < '0' || *p > '9')
			return false;
		int v = 0;
		for (int digits = 0; *p >= '0' && *p <= '9'; digits++, p++) {
			if (digits >= 3)
				return false;
			v = v * 10 + (*p - '0');
		}
		parts[i] = v;
	}
	if (parts[0] > max_hours || parts[1] > 59 || parts[2] > 59)
		return false;
	*out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
	*s = p;
	return true;
}

static bool posix_int(const char **s, int lo, int hi, int *out)
{
	const char *p = *s;
	int v = 0, digits = 0;
	while (*p >= '0' && *p <= '9' && digits < 4)
		v = v * 10 + (*p++ - '0'), digits++;
	if (digits == 0 || v < lo || v > hi)
		return false;
	*out = v;
	*s = p;
	return true;
}

static bool posix_date(const char **s, tz_rule_date *r)
{
	const char *p = *s;
	if (*p == 'J') {
		p++;
		r->kind = 'J';
		if (!posix_int(&p, 1, 365, &r->day))
			return false;
	} else if (*p == 'M') {
		p++;
		r->kind = 'M';
		if (!posix_int(&p, 1, 12, &r->month) || *p++ != '.' || !posix_int(&p, 1, 5, &r->week) ||
		    *p++ != '.' || !posix_int(&p, 0, 6, &r->day))
			return false;
	} else {
		r->kind = 'N';
		if (!posix_int(&p, 0, 365, &r->day))
			return false;
	}
	r->time = 2 * 3600;
	if (*p == '/') {
		p++;
		if (!posix_hms(&p, 167, &r->time))
			return false;
	}
	*s = p;
	return true;
}

/* Parses a footer such as "CET-1CEST,M3.5.0,M10.5.0/3". POSIX offsets
 * count west as positive, so they are negated here. */
static bool parse_footer(const char *s, tz_footer *f)
{
	memset(f, 0, sizeof(*f));
	if (*s == '\0')
		return true;    /* an empty footer: no rule past the table */
	int32_t off;
	if (!posix_name(&s) || !posix_hms(&s, 24, &off))
		return false;
	f->present = true;
	f->std_offset = -off;
	if (*s == '\0')
		return true;
	if (!posix_name(&s))
		return false;
	f->has_dst = true;
	f->dst_offset = f->std_offset + 3600;
	if (*s != ',' && *s != '\0') {
		if (!posix_hms(&s, 24, &off))
			return false;
		f->dst_offset = -off;
	}
	if (*s != ',')
		return false;   /* no default rule: tzdata footers always spell it */
	s++;
	if (!posix_date(&s, &f->start) || *s++ != ',' || !posix_date(&s, &f->end))
		return false;
	return *s == '\0';
}

void tz_free(tz_zone *z)
{
	if (z == NULL)
		return;
	free(z->trans);
	free(z->trans_type);
	free(z);
}

/* Parses a TZif file. 0, or WEFT_EINVALID with err filled in. */
static int parse_tzif(const uint8_t *data, size_t len, tz_zone *z, char *err, size_t errlen)
{
	reader r = { data, len };
	const uint8_t *h;
	if (!take(&r, 44, &h) || memcmp(h, "TZif", 4) != 0)
		goto bad_format;
	char version = (char)h[4];
	for (int pass = 0; pass < 2; pass++) {
		uint32_t isutcnt = be32(h + 20), isstdcnt = be32(h + 24), leapcnt = be32(h + 28);
		uint32_t timecnt = be32(h + 32), typecnt = be32(h + 36), charcnt = be32(h + 40);
		size_t tsize = pass == 0 ? 4 : 8;
		if (leapcnt != 0) {
			snprintf(err, errlen, "zone \"%s\" has leap seconds, which are not supported", z->name);
			return WEFT_EINVALID;
		}
		if (timecnt > TZ_TRANSITIONS_MAX || typecnt == 0 || typecnt > 256 || charcnt > 4096 ||
		    isutcnt > typecnt || isstdcnt > typecnt)
			goto bad_format;
		const uint8_t *times, *idx, *types, *rest;
		if (!take(&r, timecnt * tsize, &times) || !take(&r, timecnt, &idx) ||
		    !take(&r, typecnt * 6, &types) || !take(&r, charcnt + isstdcnt + isutcnt, &rest))
			goto bad_format;
		if (pass == 0 && version >= '2') {
			if (!take(&r, 44, &h) || memcmp(h, "TZif", 4) != 0)
				goto bad_format;
			continue;   /* the 64-bit block follows: use it instead */
		}
		z->n_trans = timecnt;
		z->trans = xmalloc(MAX(timecnt, 1) * sizeof(*z->trans));
		z->trans_type = xmalloc(MAX(timecnt, 1));
		for (uint32_t i = 0; i < timecnt; i++) {
			z->trans[i] = tsize == 4 ? (int32_t)be32(times + 4 * i) : be64(times + 8 * i);
			z->trans_type[i] = idx[i];
			if (idx[i] >= typecnt || (i > 0 && z->trans[i] <= z->trans[i - 1]))
				goto bad_format;
		}
		z->n_types = typecnt;
		for (uint32_t i = 0; i < typecnt; i++) {
			int32_t off = (int32_t)be32(types + 6 * i);
			if (off > TZ_OFFSET_MAX || off < -TZ_OFFSET_MAX || types[6 * i + 4] > 1)
				goto bad_format;
			z->types[i].offset = off;
			z->types[i].is_dst = types[6 * i + 4] == 1;
		}
		if (pass == 1) {
			/* The footer: "\n" TZ string "\n". */
			char tzstr[128];
			const uint8_t *nl;
			if (r.left < 2 || r.p[0] != '\n' ||
			    (nl = memchr(r.p + 1, '\n', r.left - 1)) == NULL ||
			    (size_t)(nl - r.p - 1) >= sizeof(tzstr))
				goto bad_format;
			size_t n = (size_t)(nl - r.p - 1);
			if (memchr(r.p + 1, '\0', n) != NULL)
				goto bad_format;
			memcpy(tzstr, r.p + 1, n);
			tzstr[n] = '\0';
			if (!parse_footer(tzstr, &z->footer))
				goto bad_format;
			if (z->footer.present && (z->footer.std_offset > TZ_OFFSET_MAX ||
			                          z->footer.std_offset < -TZ_OFFSET_MAX ||
			                          z->footer.dst_offset > TZ_OFFSET_MAX ||
			                          z->footer.dst_offset < -TZ_OFFSET_MAX))
				goto bad_format;
		}
		return 0;
	}
bad_format:
	snprintf(err, errlen, "zone \"%s\" is not a valid TZif file", z->name);
	return WEFT_EINVALID;
}

int tz_parse(const char *name, const uint8_t *data, size_t len, tz_zone **out, char *err, size_t errlen)
{
	char scratch[TZ_ERR_LEN];
	if (err == NULL || errlen == 0)
		err = scratch, errlen = sizeof(scratch);
	tz_zone *z = xcalloc(1, sizeof(*z));
	snprintf(z->name, sizeof(z->name), "%s", name);
	int rc = parse_tzif(data, len, z, err, errlen);
	if (rc != 0) {
		tz_free(z);
		return rc;
	}
	*out = z;
	return 0;
}

/* ---- names, loading and the cache -------------------------------------- */

bool tz_name_valid(const char *name)
{
	size_t n = strnlen(name, TZ_NAME_MAX + 1);
	if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || name[n - 1] == '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		          c == '_' || c == '+' || c == '-' || c == '/';
		if (!ok || (c == '/' && name[i + 1] == '/'))
			return false;
	}
	return strstr(name, "..") == NULL;   /* '.' is refused above; kept for clarity */
}

static tz_zone utc_zone = { .name = "UTC", .n_types = 1, .footer = { .present = true } };

const tz_zone *tz_utc(void)
{
	return &utc_zone;
}

const char *tz_name(const tz_zone *z)
{
	return z->name;
}

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static tz_zone *cache[TZ_CACHE_MAX];
static size_t cache_len;

static const tz_zone *cache_find(const char *name)
{
	for (size_t i = 0; i < cache_len; i++)
		if (strcmp(cache[i]->name, name) == 0)
			return cache[i];
	return NULL;
}

/* Reads and parses the zone file; the caller holds cache_lock. */
static int load_file(const char *name, tz_zone **out, char *err, size_t errlen)
{
	char path[sizeof(TZ_DIR) + TZ_NAME_MAX + 2];
	snprintf(path, sizeof(path), "%s/%s", TZ_DIR, name);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		int e = errno;
		snprintf(err, errlen, "unknown time zone \"%s\"", name);
		return e == ENOENT || e == ENOTDIR || e == EISDIR ? WEFT_ENOTFOUND : WEFT_EINVALID;
	}
	uint8_t *data = xmalloc(TZ_FILE_MAX);
	size_t len = fread(data, 1, TZ_FILE_MAX, f);
	bool read_error = ferror(f) != 0;
	fclose(f);
	int rc;
	if (read_error || len == TZ_FILE_MAX) {
		/* A directory opens but does not read; nothing real is this big. */
		snprintf(err, errlen, "unknown time zone \"%s\"", name);
		rc = WEFT_ENOTFOUND;
	} else {
		rc = tz_parse(name, data, len, out, err, errlen);
	}
	free(data);
	return rc;
}

int tz_load(const char *name, const tz_zone **out, char *err, size_t errlen)
{
	char scratch[TZ_ERR_LEN];
	if (err == NULL || errlen == 0)
		err = scratch, errlen = sizeof(scratch);
	if (!tz_name_valid(name)) {
		snprintf(err, errlen, "invalid time zone name \"%.*s\"", TZ_NAME_MAX, name);
		return WEFT_EINVALID;
	}
	if (strcmp(name, "UTC") == 0) {
		*out = &utc_zone;
		return 0;
	}
	pthread_mutex_lock(&cache_lock);
	const tz_zone *found = cache_find(name);
	int rc = 0;
	if (found == NULL) {
		tz_zone *z = NULL;
		if (cache_len == TZ_CACHE_MAX) {
			snprintf(err, errlen, "too many time zones loaded");
			rc = WEFT_EOVERLOADED;
		} else if ((rc = load_file(name, &z, err, errlen)) == 0) {
			cache[cache_len++] = z;
			found = z;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	if (rc == 0)
		*out = found;
	return rc;
}
