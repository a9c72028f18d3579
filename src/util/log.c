/*
 * log.c — leveled, one-line-per-event logging to stderr (see log.h).
 */
#include "util/log.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <strings.h>

static _Atomic int current_level = LOG_INFO;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(log_level lvl)
{
	atomic_store(&current_level, (int)lvl);
}

int log_parse_level(const char *s, log_level *out)
{
	static const struct { const char *name; log_level lvl; } names[] = {
		{ "error", LOG_ERROR }, { "warn", LOG_WARN }, { "warning", LOG_WARN },
		{ "info", LOG_INFO },   { "debug", LOG_DEBUG }, { "trace", LOG_DEBUG },
	};
	if (!s)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].lvl;
			return 0;
		}
	}
	return -1;
}

bool log_enabled(log_level lvl)
{
	return (int)lvl <= atomic_load_explicit(&current_level, memory_order_relaxed);
}

void log_write(log_level lvl, const char *subsys, const char *fmt, ...)
{
	if (!log_enabled(lvl))
		return;

	char stack[512];
	char *msg = stack;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(stack, sizeof stack, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof stack) {
		va_start(ap, fmt);
		msg = xvasprintf(fmt, ap);
		va_end(ap);
	}
	/* One event, one line: control characters (client text, SQL errors) become spaces. */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			*c = ' ';

	/* Fixed millisecond precision keeps the columns aligned. */
	int64_t now = clock_now_us();
	now -= ((now % 1000) + 1000) % 1000;
	char ts[TIME_RFC3339_MAX];
	time_format_rfc3339(now, ts);
	size_t tl = strlen(ts);
	if (tl == 20) /* "…:SSZ": whole second, add the ".000" */
		snprintf(ts + 19, sizeof ts - 19, ".000Z");

	int lv = (unsigned)lvl <= LOG_DEBUG ? (int)lvl : LOG_ERROR;
	pthread_mutex_lock(&write_lock);
	fprintf(stderr, "%s %s %s: %s\n", ts, level_names[lv], subsys ? subsys : "weft", msg);
	pthread_mutex_unlock(&write_lock);

	if (msg != stack)
		free(msg);
}
