/*
 * id.c — UUID v7 (RFC 9562 §5.7) and v4 ids (see id.h).
 *
 * v7 layout: 48-bit Unix ms | ver(4)=7 | rand_a(12) | var(2)=10 | rand_b(62).
 * Monotonicity (RFC 9562 §6.2): rand_a:rand_b is one 74-bit counter. A new
 * millisecond reseeds it with random bits (top bit clear, leaving room to
 * count); within the same millisecond, or if the clock went back, the
 * previous value is incremented. On overflow the timestamp moves one ms
 * forward. Randomness comes from getrandom(), buffered.
 */
#include "core/id.h"
#include "util/clock.h"

#include <errno.h>
#include <pthread.h>
#include <sys/random.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t pool[256];
static size_t pool_pos = sizeof pool;   /* empty */
static uint64_t last_ms;
static uint16_t last_a;                 /* 12 bits */
static uint64_t last_b;                 /* 62 bits */

#define B_MASK ((UINT64_C(1) << 62) - 1)

static void fill_random(void *p, size_t n)
{
	uint8_t *d = p;
	while (n > 0) {
		ssize_t r = getrandom(d, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "weft: getrandom failed: %s\n", strerror(errno));
			abort();
		}
		d += r;
		n -= (size_t)r;
	}
}

/* Caller holds lock. */
static void random_bytes(void *out, size_t n)
{
	uint8_t *o = out;
	while (n > 0) {
		if (pool_pos == sizeof pool) {
			fill_random(pool, sizeof pool);
			pool_pos = 0;
		}
		size_t k = MIN(n, sizeof pool - pool_pos);
		memcpy(o, pool + pool_pos, k);
		/* Never hand out the same bytes twice. */
		memset(pool + pool_pos, 0, k);
		pool_pos += k;
		o += k;
		n -= k;
	}
}

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void format(const uint8_t b[16], weft_id *out)
{
	static const char hex[] = "0123456789abcdef";
	char *s = out->str;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*s++ = '-';
		*s++ = hex[b[i] >> 4];
		*s++ = hex[b[i] & 15];
	}
	*s = '\0';
}

/* Caller holds lock. Starts a new millisecond with a random counter whose
 * top bit is clear, so it can count up 2^73 times before overflowing. */
static void reseed(uint64_t ms)
{
	uint8_t rnd[10];
	random_bytes(rnd, sizeof rnd);
	last_ms = ms;
	last_a = (uint16_t)(((rnd[0] << 8) | rnd[1]) & 0x7ff);
	last_b = load_be64(rnd + 2) & B_MASK;
}

void id_new_v7(weft_id *out)
{
	int64_t now = clock_now_us() / 1000;
	uint64_t ms = now > 0 ? (uint64_t)now : 0;
	uint64_t ts;
	uint16_t a;
	uint64_t b;

	pthread_mutex_lock(&lock);
	if (ms > last_ms) {
		reseed(ms);
	} else if (++last_b > B_MASK) {
		last_b = 0;
		if (++last_a > 0xfff)
			reseed(last_ms + 1);   /* the counter is spent: borrow the next ms */
	}
	ts = last_ms;
	a = last_a;
	b = last_b;
	pthread_mutex_unlock(&lock);

	uint8_t u[16];
	for (int i = 0; i < 6; i++)
		u[i] = (uint8_t)(ts >> (40 - 8 * i));
	u[6] = (uint8_t)(0x70 | (a >> 8));
	u[7] = (uint8_t)a;
	u[8] = (uint8_t)(0x80 | (b >> 56));
	for (int i = 9; i < 16; i++)
		u[i] = (uint8_t)(b >> (8 * (15 - i)));
	format(u, out);
}

void id_new_v4(weft_id *out)
{
	uint8_t u[16];
	pthread_mutex_lock(&lock);
	random_bytes(u, sizeof u);
	pthread_mutex_unlock(&lock);
	u[6] = (uint8_t)(0x40 | (u[6] & 0x0f));
	u[8] = (uint8_t)(0x80 | (u[8] & 0x3f));
	format(u, out);
}

int id_parse(const char *s, weft_id *out)
{
	char tmp[WEFT_ID_LEN + 1];
	if (!s)
		return -1;
	for (int i = 0; i < WEFT_ID_LEN; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return -1;
		} else {
			if (c >= 'A' && c <= 'F')
				c = (char)(c - 'A' + 'a');
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return -1;   /* also stops at a NUL before position 36 */
		}
		tmp[i] = c;
	}
	if (s[WEFT_ID_LEN] != '\0')
		return -1;
	tmp[WEFT_ID_LEN] = '\0';
	memcpy(out->str, tmp, sizeof tmp);
	return 0;
}
