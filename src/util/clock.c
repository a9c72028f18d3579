/*
 * clock.c — wall and monotonic time in µs, shiftable and freezable by tests,
 * the waits that an advance of the clock wakes (see clock.h),
 * and RFC 3339 formatting/parsing done with integer calendar arithmetic
 * (no time_t, no TZ database, valid for years 0000..9999).
 */
#include "util/clock.h"

#include <stdatomic.h>
#include <time.h>

static _Atomic int64_t offset_us;
/* While frozen: the real readings at the moment of freezing (0 = running). */
static _Atomic int64_t frozen_real, frozen_mono;

static pthread_mutex_t waiters_mu = PTHREAD_MUTEX_INITIALIZER;
static clock_waiter *waiters;       /* under waiters_mu */

static int64_t raw_clock(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t read_clock(clockid_t id)
{
	int64_t frozen = atomic_load_explicit(id == CLOCK_REALTIME ? &frozen_real : &frozen_mono,
	                                      memory_order_relaxed);
	return (frozen ? frozen : raw_clock(id)) + atomic_load_explicit(&offset_us, memory_order_relaxed);
}

int64_t clock_now_us(void)
{
	return read_clock(CLOCK_REALTIME);
}

int64_t clock_mono_us(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

/* Wakes every registered waiter. Each waiter's mutex is taken around the
 * signal, so a waiter that computed its timeout from the old time is either
 * already waiting (and woken) or has not yet read the time (and sees the
 * new one). */
static void wake_all(void)
{
	pthread_mutex_lock(&waiters_mu);
	for (clock_waiter *w = waiters; w; w = w->next) {
		pthread_mutex_lock(w->mu);
		pthread_cond_broadcast(w->cv);
		pthread_mutex_unlock(w->mu);
	}
	pthread_mutex_unlock(&waiters_mu);
}

void clock_advance(int64_t delta_us)
{
	atomic_fetch_add(&offset_us, delta_us);
	wake_all();
}

void clock_freeze(bool frozen)
{
	if (frozen) {
		atomic_store(&frozen_real, raw_clock(CLOCK_REALTIME));
		atomic_store(&frozen_mono, raw_clock(CLOCK_MONOTONIC));
	} else {
		/* Real time goes on from where the frozen clock stood. */
		int64_t stood = atomic_load(&frozen_real);
		if (stood)
			atomic_fetch_add(&offset_us, stood - raw_clock(CLOCK_REALTIME));
		atomic_store(&frozen_real, 0);
		atomic_store(&frozen_mono, 0);
	}
	wake_all();
}

void clock_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

void clock_waiter_register(clock_waiter *w, pthread_mutex_t *mu, pthread_cond_t *cv)
{
	w->mu = mu;
	w->cv = cv;
	pthread_mutex_lock(&waiters_mu);
	w->next = waiters;
	waiters = w;
	pthread_mutex_unlock(&waiters_mu);
}

void clock_waiter_unregister(clock_waiter *w)
{
	pthread_mutex_lock(&waiters_mu);
	for (clock_waiter **p = &waiters; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&waiters_mu);
	w->next = NULL;
}

void clock_wait_until(clock_waiter *w, int64_t due_us, int64_t max_wait_us)
{
	int64_t wait_us = max_wait_us;
	/* A frozen clock does not reach a deadline by itself: only an advance
	 * (which wakes us) does. */
	if (due_us != INT64_MAX && !atomic_load_explicit(&frozen_real, memory_order_relaxed))
		wait_us = MIN(MAX(due_us - clock_now_us(), 0), max_wait_us);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t ns = ts.tv_nsec + (wait_us % 1000000) * 1000;
	ts.tv_sec += (time_t)(wait_us / 1000000 + ns / 1000000000);
	ts.tv_nsec = ns % 1000000000;
	pthread_cond_timedwait(w->cv, w->mu, &ts);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void time_format_rfc3339(int64_t us, char out[TIME_RFC3339_MAX])
{
	int64_t secs = us / 1000000, frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	int64_t days = secs / 86400, sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	int64_t y;
	int m, d;
	civil_from_days(days, &y, &m, &d);
	int n = snprintf(out, TIME_RFC3339_MAX, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d",
	                 y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
	if (n < 0 || n >= TIME_RFC3339_MAX - 9)
		n = TIME_RFC3339_MAX - 9;   /* absurd years only; keep room for the tail */
	if (frac == 0)
		snprintf(out + n, (size_t)(TIME_RFC3339_MAX - n), "Z");
	else if (frac % 1000 == 0)
		snprintf(out + n, (size_t)(TIME_RFC3339_MAX - n), ".%03dZ", (int)(frac / 1000));
	else
		snprintf(out + n, (size_t)(TIME_RFC3339_MAX - n), ".%06dZ", (int)frac);
}

/* Reads exactly n decimal digits. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int time_parse_rfc3339(const char *s, int64_t *us)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	int y, mo, d, h, mi, sec, frac = 0;

	if (!s)
		return -1;
	if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) || !expect(&p, '-') ||
	    !digits(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (!digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi) || !expect(&p, ':') ||
	    !digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		p++;
		int n = 0;
		while (*p >= '0' && *p <= '9') {
			if (n < 6)
				frac = frac * 10 + (*p - '0');
			n++;
			p++;
		}
		if (n < 1 || n > 9)
			return -1;
		for (; n < 6; n++)
			frac *= 10;
	}
	int off_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;
		p++;
		if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om))
			return -1;
		if (oh > 23 || om > 59)
			return -1;
		off_min = sign * (oh * 60 + om);
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;

	if (mo < 1 || mo > 12 || d < 1)
		return -1;
	if (d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
		return -1;
	/* Second 60 is a leap second (RFC 3339 allows it); it lands on the next minute. */
	if (h > 23 || mi > 59 || sec > 60)
		return -1;

	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
	               - (int64_t)off_min * 60;
	*us = secs * 1000000 + frac;
	return 0;
}
