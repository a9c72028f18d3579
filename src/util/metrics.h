/*
 * metrics.h — Prometheus metrics: counters, gauges, fixed-bucket histograms,
 * rendered in the text exposition format (version 0.0.4).
 *
 * A metric family is declared once (metrics_define*), then updated by name
 * with an optional label string in exposition syntax, e.g.
 *   metrics_inc("task_status_transitions_total", "from_status=\"Pending\",to_status=\"Claimed\"", 1);
 * Updating an undeclared family is a programming error (logged once, ignored).
 * All functions are thread-safe. Values are 64-bit; counters never wrap.
 *
 * As in Prometheus client libraries, a family without labels has exactly one
 * series, exported from its definition on (counters and gauges at 0, a
 * histogram with empty buckets), so a scrape never lacks it; a family whose
 * series carry labels is defined with the _labeled variants and exports a
 * series from the first update of each label set on. A family defined
 * without labels that is nevertheless updated with labels shows its zero
 * series only until its first series exists.
 */
#ifndef WEFT_METRICS_H
#define WEFT_METRICS_H

#include "common.h"
#include "buf.h"

typedef enum { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM } metric_type;

/* Defining a family again keeps the first definition (a different type is
 * logged). name and help are copied. */
void metrics_define(const char *name, metric_type type, const char *help);
/* buckets: ascending upper bounds, +Inf is implicit; copied. */
void metrics_define_histogram(const char *name, const char *help, const double *buckets, size_t n);
void metrics_define_labeled(const char *name, metric_type type, const char *help);
void metrics_define_histogram_labeled(const char *name, const char *help, const double *buckets, size_t n);

void metrics_inc(const char *name, const char *labels, uint64_t by);   /* counter */
void metrics_gauge_set(const char *name, const char *labels, int64_t value);
void metrics_gauge_add(const char *name, const char *labels, int64_t delta);
void metrics_observe(const char *name, const char *labels, double value);  /* histogram */

/* Current value of a counter or gauge series (tests, /health). 0 if absent. */
int64_t metrics_get(const char *name, const char *labels);

/* Appends every family with its HELP and TYPE lines, series sorted. */
void metrics_render(buf *out);

/* Forgets every family (unit tests). */
void metrics_reset(void);

#endif
