/*
 * health.c — /health, /ready and /metrics, with the gauges /metrics sets
 * from the database before rendering: tasks_by_status{status} (label
 * values are weft's own, "RetryPending" included) and
 * running_tasks_by_kind{kind}.
 */
#include "util/common.h"
#include "http/arcrun/handlers.h"

#include <pthread.h>

#include "util/alloc.h"
#include "util/metrics.h"

static bool database_ok(http_request *r)
{
	store *st = http_store(r);
	store_conn *c = store_reader_acquire(st);
	if (c == NULL)
		return false;
	bool ok = store_ping(c) == 0;
	store_reader_release(st, c);
	return ok;
}

/* Always 200, with "degraded" when the database does not answer. */
void arcrun_health(http_request *r)
{
	bool ok = database_ok(r);
	int size = 0, idle = 0;
	store_pool_stats(http_store(r), &size, &idle);
	buf b;
	buf_init(&b);
	buf_printf(&b, "{\"status\":\"%s\",\"database\":\"%s\",\"pool_size\":%d,\"pool_idle\":%d}",
	           ok ? "ok" : "degraded", ok ? "healthy" : "unhealthy", size, idle);
	http_respond_json(r, 200, &b);
	buf_release(&b);
}

void arcrun_ready(http_request *r)
{
	buf b;
	buf_init(&b);
	if (database_ok(r)) {
		buf_puts(&b, "{\"status\":\"ready\"}");
		http_respond_json(r, 200, &b);
	} else {
		buf_puts(&b, "{\"status\":\"not_ready\",\"reason\":\"cannot acquire database connection\"}");
		http_respond_json(r, 503, &b);
	}
	buf_release(&b);
}

/* ---- gauges ---------------------------------------------------------------- */

/* Kinds given a non-zero running_tasks_by_kind at the last refresh,
 * sorted; under gauge_lock. */
static pthread_mutex_t gauge_lock = PTHREAD_MUTEX_INITIALIZER;
static char **gauge_kinds;
static size_t gauge_nkinds;

void arcrun_define_metrics(void)
{
	metrics_define_labeled("tasks_by_status", METRIC_GAUGE, "Live tasks by status");
	metrics_define_labeled("running_tasks_by_kind", METRIC_GAUGE, "Running tasks by kind");
}

/* Appends a Prometheus label value with \\, \" and \n escaped. */
static void label_escape(buf *b, const char *s)
{
	const char *run = s;
	for (; *s; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
		if (esc == NULL)
			continue;
		buf_append(b, run, (size_t)(s - run));
		buf_puts(b, esc);
		run = s + 1;
	}
	buf_append(b, run, (size_t)(s - run));
}

static void gauge_set(const char *family, const char *label, const char *value, int64_t n)
{
	buf b;
	buf_init(&b);
	buf_puts(&b, label);
	buf_puts(&b, "=\"");
	label_escape(&b, value);
	buf_putc(&b, '"');
	metrics_gauge_set(family, b.data, n);
	buf_release(&b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* running_tasks_by_kind from this refresh's counts; kinds no longer
 * running go back to 0. Under gauge_lock. */
static void set_kind_gauges(const kind_count *kinds, size_t nkinds)
{
	char **now = xcalloc(nkinds ? nkinds : 1, sizeof(char *));
	size_t nnow = 0;
	for (size_t i = 0; i < nkinds; i++) {
		if (kinds[i].kind == NULL)
			continue;
		gauge_set("running_tasks_by_kind", "kind", kinds[i].kind, kinds[i].count);
		if (kinds[i].count != 0)
			now[nnow++] = xstrdup(kinds[i].kind);
	}
	qsort(now, nnow, sizeof(char *), cmp_str);
	for (size_t i = 0; i < gauge_nkinds; i++) {
		if (nnow == 0 || bsearch(&gauge_kinds[i], now, nnow, sizeof(char *), cmp_str) == NULL)
			gauge_set("running_tasks_by_kind", "kind", gauge_kinds[i], 0);
		free(gauge_kinds[i]);
	}
	free(gauge_kinds);
	gauge_kinds = now;
	gauge_nkinds = nnow;
}

/* Sets the gauges from a store reader; does nothing when none can be had. */
static void refresh_gauges(store *st)
{
	store_conn *c = store_reader_acquire(st);
	if (c == NULL)
		return;
	int64_t counts[TS__COUNT];
	memset(counts, 0, sizeof(counts));
	kind_count *kinds = NULL;
	size_t nkinds = 0;
	int rc_status = store_status_counts(c, counts);
	int rc_kinds = store_running_by_kind(c, &kinds, &nkinds);
	store_reader_release(st, c);

	pthread_mutex_lock(&gauge_lock);
	for (int s = 0; rc_status == 0 && s < TS__COUNT; s++)
		gauge_set("tasks_by_status", "status", task_status_label((task_status)s), counts[s]);
	if (rc_kinds == 0)
		set_kind_gauges(kinds, nkinds);
	pthread_mutex_unlock(&gauge_lock);
	store_free_kind_counts(kinds, nkinds);
}

void arcrun_metrics(http_request *r)
{
	refresh_gauges(http_store(r));
	buf b;
	buf_init(&b);
	metrics_render(&b);
	size_t len;
	char *data = buf_detach(&b, &len);
	http_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", data, len);
	buf_release(&b);
}
