/*
 * prom_text.h — a reader of the Prometheus text exposition format (0.0.4),
 * what GET /metrics of a weft server answers: a client reads counters and
 * histograms from it (the bench, statements per operation).
 *
 * Sample lines only: comment, HELP and TYPE lines and blank lines are
 * skipped. Label values are unescaped (\\, \", \n); labels may come in any
 * order and number, so a reader looks one up by name rather than by
 * position.
 */
#ifndef WEFT_PROM_TEXT_H
#define WEFT_PROM_TEXT_H

#include "util/common.h"

/* One sample; every pointer is borrowed and valid during the callback only. */
typedef struct prom_sample {
	const char *name;                 /* e.g. db_query_duration_seconds_count */
	size_t nlabels;
	const char *const *label_names;
	const char *const *label_values;  /* unescaped */
	double value;                     /* +Inf, -Inf and NaN included */
	bool has_timestamp;
	int64_t timestamp_ms;
} prom_sample;

/* Called once per sample line, in order: returns 0 to go on, or a positive
 * value that stops the parse and is its result. */
typedef int (*prom_sample_fn)(const prom_sample *s, void *ud);

/* Reads len bytes of exposition text (borrowed; need not end with a NUL).
 * Returns 0 after the last line, the callback's positive value, or -1 with
 * err holding "line N: why" at the first line that is not a sample. */
int prom_text_parse(const char *text, size_t len, prom_sample_fn fn, void *ud, char *err, size_t errlen);

/* The value of label name of s (borrowed), or NULL. */
const char *prom_sample_label(const prom_sample *s, const char *name);

#endif
