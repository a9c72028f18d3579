/*
 * log.h — leveled logging to stderr, one line per event, thread-safe.
 *
 * Format: "2026-11-24T10:00:00.123Z level subsystem: message".
 * The level comes from log_set_level() (main reads WEFT_LOG / RUST_LOG:
 * error|warn|info|debug).
 */
#ifndef WEFT_LOG_H
#define WEFT_LOG_H

#include "common.h"

typedef enum { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 } log_level;

void log_set_level(log_level lvl);
int log_parse_level(const char *s, log_level *out);   /* 0 ok, -1 unknown */
bool log_enabled(log_level lvl);
void log_write(log_level lvl, const char *subsys, const char *fmt, ...) WEFT_PRINTF(3, 4);

#define log_error(sub, ...) log_write(LOG_ERROR, sub, __VA_ARGS__)
#define log_warn(sub, ...) log_write(LOG_WARN, sub, __VA_ARGS__)
#define log_info(sub, ...) log_write(LOG_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...) \
	do { if (log_enabled(LOG_DEBUG)) log_write(LOG_DEBUG, sub, __VA_ARGS__); } while (0)

#endif
