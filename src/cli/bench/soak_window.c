/*
 * soak_window.c — the windows of a soak (see soak.h): at the end of each
 * one, what the server holds and what its requests and statements cost
 * during it; at the end of the soak, how that changed from the first window
 * to the last.
 *
 * A window records:
 *   - the server's VmRSS, VmHWM, RssAnon and RssFile (/proc/<pid>/status):
 *     SQLite's page caches and everything malloc'd are anonymous memory,
 *     the binary and its libraries file-backed;
 *   - the database's size: the SQLite file and its WAL, or
 *     pg_database_size on PostgreSQL;
 *   - the tasks the server holds (the sum of its tasks_by_status gauges);
 *   - CPU time: the server's, the bench's own, and the whole machine's
 *     (/proc/stat), so that a window slowed down by other work on a shared
 *     machine can be told from one slowed down by the server itself;
 *   - per kind of request: count, failures, p50, p99 and max latency;
 *   - per statement (db_query_duration_seconds{query}): calls and time
 *     spent, the growth of the _count and _sum series over the window, so
 *     that a statement whose mean time grows with the table shows.
 * GET /metrics is read once at every window's end (the scrape a Prometheus
 * server would make), and its latency is the window's "metrics" figure.
 */
#include "cli/bench/soak.h"
#include "cli/bench/pg_admin.h"
#include "client/prom_text.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATEMENTS_SHOWN 15
#define MIB (1024.0 * 1024.0)

/* Column heads of the per-kind table. */
static const char *const kind_head[SOAK_NKINDS] = {
	[SOAK_POST] = "POST",       [SOAK_PATCH] = "PATCH",      [SOAK_PUT] = "PUT",
	[SOAK_GET_TASK] = "task",   [SOAK_GET_BATCH] = "batch",  [SOAK_LIST_TASKS] = "list",
	[SOAK_LIST_BATCHES] = "batches", [SOAK_METRICS] = "metrics",
};

typedef struct kind_stats {
	uint64_t n, errors;
	double p50_ms, p99_ms, max_ms;
} kind_stats;

typedef struct soak_win {
	double t_s, span_s;          /* end since the start, and length */
	long rss_kib, hwm_kib, anon_kib, file_kib;   /* -1: unread */
	int64_t db_bytes, wal_bytes; /* -1: unknown (no WAL on PostgreSQL) */
	double tasks;                /* -1: unknown */
	kind_stats kind[SOAK_NKINDS];
	kind_stats mix;              /* every kind but the /metrics read */
	double lag_max_ms;
	double cpu_server, cpu_bench, cpu_host;   /* % of one CPU over the window; -1: unread */
	bench_stmts stmts;           /* run during the window */
	soak_counts counts;
} soak_win;

/* CPU time so far, in clock ticks; -1 when unread. */
typedef struct cpu_ticks {
	int64_t server, bench, host;
} cpu_ticks;

struct soak_series {
	bench *b;
	int64_t t0, t_prev;
	cpu_ticks cpu_prev;
	http_response r;
	bench_stmts prev;            /* cumulative, at the previous window's end */
	soak_win *w;                 /* owned, n of them */
	size_t n, cap;
	json_t *windows;             /* the report's "windows", owned until finish */
};

/* ---- readings --------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static kind_stats stats_of(soak_lat *l)
{
	kind_stats k = { .n = l->n, .errors = l->errors };
	if (l->n == 0)
		return k;
	qsort(l->us, l->n, sizeof(int64_t), cmp_i64);
	k.p50_ms = (double)l->us[l->n / 2] / 1000.0;
	k.p99_ms = (double)l->us[MIN(l->n - 1, l->n * 99 / 100)] / 1000.0;
	k.max_ms = (double)l->us[l->n - 1] / 1000.0;
	return k;
}

static int64_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* utime + stime of /proc/<pid>/stat ("self" when pid is 0), or -1. */
static int64_t proc_ticks(pid_t pid)
{
	char path[64], line[1024];
	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/stat");
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	bool got = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	/* The command name may hold blanks: the fields after it are counted
	 * from its closing parenthesis (state is field 3, utime 14). */
	const char *p = got ? strrchr(line, ')') : NULL;
	unsigned long long ut, st;
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (int64_t)(ut + st);
}

/* Busy ticks of the whole machine, all CPUs: every field of the "cpu" line
 * of /proc/stat but idle and iowait. -1 when unread. */
static int64_t host_ticks(void)
{
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return -1;
	unsigned long long v[8] = { 0 };
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
	               &v[6], &v[7]);
	fclose(f);
	if (n < 5)
		return -1;
	return (int64_t)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
}

static cpu_ticks read_cpu(pid_t server)
{
	return (cpu_ticks){ .server = server > 0 ? proc_ticks(server) : -1, .bench = proc_ticks(0),
		                .host = host_ticks() };
}

/* The share of one CPU the ticks from a to b are over span_s seconds. */
static double cpu_pct(int64_t a, int64_t b, double span_s)
{
	if (a < 0 || b < a || span_s <= 0)
		return -1;
	return (double)(b - a) / (double)sysconf(_SC_CLK_TCK) / span_s * 100.0;
}

static int on_gauge(const prom_sample *ps, void *ud)
{
	double *tasks = ud;
	if (strcmp(ps->name, "tasks_by_status") == 0)
		*tasks = (*tasks < 0 ? 0 : *tasks) + ps->value;
	return 0;
}

/* GET /metrics: the cumulative statements into cum (zeroed here), the task
 * count into *tasks; the request's latency and failure into lat. */
static void read_metrics(soak_series *s, bench_stmts *cum, double *tasks, soak_lat *lat)
{
	node *n = &s->b->nodes[0];
	memset(cum, 0, sizeof(*cum));
	*tasks = -1;
	http_client_set_timeout(n->ctl, 10000);
	int64_t t = clock_mono_us();
	int rc = http_client_request(n->ctl, "GET", "/metrics", NULL, 0, NULL, &s->r);
	if (lat)
		soak_lat_add(lat, clock_mono_us() - t);
	if (rc != 0 || s->r.status != 200) {
		snprintf(cum->why, sizeof(cum->why), "GET /metrics: %s",
		         rc != 0 ? s->r.error : "an answer other than 200");
		if (lat)
			lat->errors++;
		return;
	}
	bench_stmts_add_text(cum, s->r.body.data, s->r.body.len, "the server");
	char err[96];
	prom_text_parse(s->r.body.data, s->r.body.len, on_gauge, tasks, err, sizeof(err));
}

/* What ran between two cumulative readings; a statement that ran in neither
 * is left out. */
static void stmts_delta(const bench_stmts *before, const bench_stmts *after, bench_stmts *d)
{
	memset(d, 0, sizeof(*d));
	d->ok = before->ok && after->ok;
	if (!d->ok)
		return;
	d->names = xcalloc(after->n + 1, sizeof(char *));
	d->counts = xcalloc(after->n + 1, sizeof(double));
	d->sums = xcalloc(after->n + 1, sizeof(double));
	for (size_t i = 0; i < after->n; i++) {
		double c = after->counts[i], sum = after->sums[i];
		for (size_t j = 0; j < before->n; j++) {
			if (strcmp(before->names[j], after->names[i]) == 0) {
				c -= before->counts[j];
				sum -= before->sums[j];
				break;
			}
		}
		if (c <= 0)
			continue;
		d->names[d->n] = xstrdup(after->names[i]);
		d->counts[d->n] = c;
		d->sums[d->n] = sum;
		d->n++;
	}
}

/* ---- one window -------------------------------------------------------------- */

static double mib(int64_t bytes)
{
	return bytes < 0 ? -1 : (double)bytes / MIB;
}

/* "%*.*f", or "-" for an unknown (negative) value. */
static const char *num(char *out, size_t len, double v, int width, int decimals)
{
	if (v < 0 || isnan(v))
		snprintf(out, len, "%*s", width, "-");
	else
		snprintf(out, len, "%*.*f", width, decimals, v);
	return out;
}

static void print_header(soak_series *s)
{
	bench *b = s->b;
	bench_note(b, "%6s %7s %7s %7s %7s %7s %7s %6s %5s %7s %7s %8s %6s %5s %5s", "t", "RSS", "HWM", "anon", "db",
	           b->opt.db ? "" : "WAL", "tasks", "req/s", "err", "p50", "p99", "max", "lag", "srv", "other");
	bench_note(b, "%6s %7s %7s %7s %7s %7s %7s %6s %5s %7s %7s %8s %6s %5s %5s", "s", "MiB", "MiB", "MiB", "MiB",
	           b->opt.db ? "" : "MiB", "", "", "", "ms", "ms", "ms", "ms", "cpu%", "cpu%");
}

static void print_window(soak_series *s, const soak_win *w)
{
	char a[11][24];
	const kind_stats *m = &w->mix;
	uint64_t errors = 0;
	for (size_t k = 0; k < SOAK_NKINDS; k++)
		errors += w->kind[k].errors;
	/* Whatever ran besides the server and the bench: other programs, and
	 * PostgreSQL's own processes when it is local. */
	double other = w->cpu_host < 0 || w->cpu_server < 0 || w->cpu_bench < 0
	                   ? -1
	                   : MAX(0.0, w->cpu_host - w->cpu_server - w->cpu_bench);
	bench_note(s->b, "%6.0f %s %s %s %s %s %s %6.1f %5" PRIu64 " %s %s %s %6.1f %s %s", w->t_s,
	           num(a[0], sizeof(a[0]), w->rss_kib < 0 ? -1 : (double)w->rss_kib / 1024.0, 7, 1),
	           num(a[1], sizeof(a[1]), w->hwm_kib < 0 ? -1 : (double)w->hwm_kib / 1024.0, 7, 1),
	           num(a[2], sizeof(a[2]), w->anon_kib < 0 ? -1 : (double)w->anon_kib / 1024.0, 7, 1),
	           num(a[3], sizeof(a[3]), mib(w->db_bytes), 7, 1), num(a[4], sizeof(a[4]), mib(w->wal_bytes), 7, 1),
	           num(a[5], sizeof(a[5]), w->tasks, 7, 0),
	           w->span_s > 0 ? (double)m->n / w->span_s : 0.0, errors,
	           num(a[6], sizeof(a[6]), m->n ? m->p50_ms : -1, 7, 2),
	           num(a[7], sizeof(a[7]), m->n ? m->p99_ms : -1, 7, 2),
	           num(a[8], sizeof(a[8]), m->n ? m->max_ms : -1, 8, 1), w->lag_max_ms,
	           num(a[9], sizeof(a[9]), w->cpu_server, 5, 0), num(a[10], sizeof(a[10]), other, 5, 0));
}

static json_t *kind_json(const kind_stats *k)
{
	json_t *o = json_object();
	json_object_set_new(o, "count", json_integer((json_int_t)k->n));
	json_object_set_new(o, "errors", json_integer((json_int_t)k->errors));
	if (k->n) {
		json_object_set_new(o, "p50_ms", json_real(k->p50_ms));
		json_object_set_new(o, "p99_ms", json_real(k->p99_ms));
		json_object_set_new(o, "max_ms", json_real(k->max_ms));
	}
	return o;
}

static void set_known(json_t *o, const char *key, double v)
{
	if (v >= 0)
		json_object_set_new(o, key, json_integer((json_int_t)v));
}

static json_t *window_json(const soak_win *w)
{
	json_t *o = json_object();
	json_object_set_new(o, "t_s", json_real(w->t_s));
	json_object_set_new(o, "span_s", json_real(w->span_s));
	set_known(o, "rss_kib", (double)w->rss_kib);
	set_known(o, "hwm_kib", (double)w->hwm_kib);
	set_known(o, "rss_anon_kib", (double)w->anon_kib);
	set_known(o, "rss_file_kib", (double)w->file_kib);
	set_known(o, "db_bytes", (double)w->db_bytes);
	set_known(o, "wal_bytes", (double)w->wal_bytes);
	set_known(o, "tasks", w->tasks);
	json_object_set_new(o, "tasks_posted", json_integer((json_int_t)w->counts.tasks_posted));
	json_object_set_new(o, "batches_posted", json_integer((json_int_t)w->counts.batches_posted));
	json_object_set_new(o, "started_backlog", json_integer((json_int_t)w->counts.started_backlog));
	json_object_set_new(o, "started_dropped", json_integer((json_int_t)w->counts.started_dropped));
	json_object_set_new(o, "patch_fallbacks", json_integer((json_int_t)w->counts.patch_fallbacks));
	json_object_set_new(o, "requests_per_s", json_real(w->span_s > 0 ? (double)w->mix.n / w->span_s : 0));
	json_object_set_new(o, "send_lag_max_ms", json_real(w->lag_max_ms));
	static const char *const cpu_keys[] = { "cpu_server_pct", "cpu_bench_pct", "cpu_host_pct" };
	const double cpu[] = { w->cpu_server, w->cpu_bench, w->cpu_host };
	for (size_t i = 0; i < ARRAY_LEN(cpu); i++)
		if (cpu[i] >= 0)
			json_object_set_new(o, cpu_keys[i], json_real(cpu[i]));
	json_object_set_new(o, "all", kind_json(&w->mix));
	json_t *kinds = json_object();
	for (size_t k = 0; k < SOAK_NKINDS; k++)
		json_object_set_new(kinds, soak_kind_key[k], kind_json(&w->kind[k]));
	json_object_set_new(o, "latency", kinds);
	if (w->stmts.ok) {
		json_t *st = json_object();
		for (size_t i = 0; i < w->stmts.n; i++) {
			json_t *e = json_object();
			json_object_set_new(e, "count", json_integer((json_int_t)w->stmts.counts[i]));
			json_object_set_new(e, "sum_ms", json_real(w->stmts.sums[i] * 1000.0));
			json_object_set_new(st, w->stmts.names[i], e);
		}
		json_object_set_new(o, "statements", st);
	}
	return o;
}

soak_series *soak_series_new(bench *b)
{
	soak_series *s = xcalloc(1, sizeof(*s));
	s->b = b;
	s->windows = json_array();
	http_response_init(&s->r);
	double tasks;
	read_metrics(s, &s->prev, &tasks, NULL);
	if (!s->prev.ok)
		bench_note(b, "statements per window: not available (%s)", s->prev.why);
	return s;
}

void soak_series_begin(soak_series *s, int64_t t0)
{
	s->t0 = t0;
	s->t_prev = t0;
	s->cpu_prev = read_cpu(s->b->nodes[0].pid);
	print_header(s);
}

void soak_series_close(soak_series *s, soak_window_lat *lat, const soak_counts *c)
{
	bench *b = s->b;
	pid_t pid = b->nodes[0].pid;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->w = xrealloc(s->w, s->cap * sizeof(*s->w));
	}
	soak_win *w = &s->w[s->n++];
	memset(w, 0, sizeof(*w));
	bench_stmts cum;
	read_metrics(s, &cum, &w->tasks, &lat->kind[SOAK_METRICS]);
	stmts_delta(&s->prev, &cum, &w->stmts);
	bench_stmts_release(&s->prev);
	s->prev = cum;

	int64_t now = clock_mono_us();
	w->t_s = bench_secs(now - s->t0);
	w->span_s = bench_secs(now - s->t_prev);
	s->t_prev = now;
	cpu_ticks cpu = read_cpu(pid);
	w->cpu_server = cpu_pct(s->cpu_prev.server, cpu.server, w->span_s);
	w->cpu_bench = cpu_pct(s->cpu_prev.bench, cpu.bench, w->span_s);
	w->cpu_host = cpu_pct(s->cpu_prev.host, cpu.host, w->span_s);
	s->cpu_prev = cpu;
	w->counts = *c;
	w->rss_kib = pid > 0 ? bench_proc_kib(pid, "VmRSS") : -1;
	w->hwm_kib = pid > 0 ? bench_proc_kib(pid, "VmHWM") : -1;
	w->anon_kib = pid > 0 ? bench_proc_kib(pid, "RssAnon") : -1;
	w->file_kib = pid > 0 ? bench_proc_kib(pid, "RssFile") : -1;
	if (b->opt.db) {
		w->db_bytes = pg_admin_db_size(b->db);
		w->wal_bytes = -1;
	} else {
		char *wal = xasprintf("%s-wal", b->db);
		w->db_bytes = file_size(b->db);
		w->wal_bytes = file_size(wal);
		free(wal);
	}
	soak_lat all = { 0 };
	for (size_t k = 0; k < SOAK_NKINDS; k++) {
		w->kind[k] = stats_of(&lat->kind[k]);
		if (k == SOAK_METRICS)
			continue;
		for (size_t i = 0; i < lat->kind[k].n; i++)
			soak_lat_add(&all, lat->kind[k].us[i]);
		all.errors += lat->kind[k].errors;
	}
	w->mix = stats_of(&all);
	free(all.us);
	w->lag_max_ms = (double)lat->send_lag_max_us / 1000.0;
	soak_window_lat_release(lat);
	print_window(s, w);
	json_array_append_new(s->windows, window_json(w));
}

/* ---- the summary ------------------------------------------------------------- */

/* Least-squares slope of RSS (MiB) over time (minutes), over the windows
 * that end in the second half of the soak (all of them when fewer than two
 * do); NAN when there are not two readings. */
static double rss_slope(const soak_series *s, double total_s)
{
	for (int pass = 0; pass < 2; pass++) {
		double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
		for (size_t i = 0; i < s->n; i++) {
			const soak_win *w = &s->w[i];
			if (w->rss_kib < 0 || (pass == 0 && w->t_s < total_s / 2))
				continue;
			double x = w->t_s / 60.0, y = (double)w->rss_kib / 1024.0;
			n++;
			sx += x;
			sy += y;
			sxx += x * x;
			sxy += x * y;
		}
		double den = n * sxx - sx * sx;
		if (n >= 2 && den > 0)
			return (n * sxy - sx * sy) / den;
	}
	return NAN;
}

static void print_kind_tables(soak_series *s)
{
	bench *b = s->b;
	buf line;
	buf_init(&line);
	bench_note(b, "p99 latency per request, ms (from the scheduled time):");
	buf_printf(&line, "%6s", "t");
	for (size_t k = 0; k < SOAK_NKINDS; k++)
		buf_printf(&line, " %8s", kind_head[k]);
	bench_note(b, "%s", line.data);
	for (size_t i = 0; i < s->n; i++) {
		buf_reset(&line);
		buf_printf(&line, "%6.0f", s->w[i].t_s);
		for (size_t k = 0; k < SOAK_NKINDS; k++) {
			char v[24];
			const kind_stats *ks = &s->w[i].kind[k];
			buf_printf(&line, " %s", num(v, sizeof(v), ks->n ? ks->p99_ms : -1, 8, 2));
		}
		bench_note(b, "%s", line.data);
	}
	buf_release(&line);
	const soak_win *f = &s->w[0], *l = &s->w[s->n - 1];
	bench_note(b, "first window -> last window, ms:");
	bench_note(b, "  %-22s %8s %17s %17s %19s", "request", "n (last)", "p50", "p99", "max");
	for (size_t k = 0; k < SOAK_NKINDS; k++) {
		const kind_stats *a = &f->kind[k], *z = &l->kind[k];
		char v[6][24];
		bench_note(b, "  %-22s %8" PRIu64 " %s -> %s %s -> %s %s -> %s", soak_kind_request[k], z->n,
		           num(v[0], 24, a->n ? a->p50_ms : -1, 6, 2), num(v[1], 24, z->n ? z->p50_ms : -1, 6, 2),
		           num(v[2], 24, a->n ? a->p99_ms : -1, 6, 2), num(v[3], 24, z->n ? z->p99_ms : -1, 6, 2),
		           num(v[4], 24, a->n ? a->max_ms : -1, 7, 1), num(v[5], 24, z->n ? z->max_ms : -1, 7, 1));
	}
}

typedef struct stmt_row {
	const char *name;
	double first_mean_ms;   /* -1 when it did not run in the first window */
	double last_mean_ms;
	double last_per_s;
	double last_ms;         /* time spent in the last window */
} stmt_row;

static int by_last_time(const void *a, const void *b)
{
	const stmt_row *x = a, *y = b;
	if (x->last_ms != y->last_ms)
		return x->last_ms < y->last_ms ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Each statement of the last window, its mean time there and in the first
 * window; the report's statements_first_last. */
static void print_statements(soak_series *s)
{
	bench *b = s->b;
	const soak_win *f = &s->w[0], *l = &s->w[s->n - 1];
	if (!f->stmts.ok || !l->stmts.ok)
		return;
	stmt_row *rows = xcalloc(l->stmts.n + 1, sizeof(*rows));
	double total_ms = 0;
	for (size_t i = 0; i < l->stmts.n; i++) {
		stmt_row *r = &rows[i];
		r->name = l->stmts.names[i];
		r->last_ms = l->stmts.sums[i] * 1000.0;
		r->last_mean_ms = r->last_ms / l->stmts.counts[i];
		r->last_per_s = l->span_s > 0 ? l->stmts.counts[i] / l->span_s : 0;
		r->first_mean_ms = -1;
		for (size_t j = 0; j < f->stmts.n; j++)
			if (strcmp(f->stmts.names[j], r->name) == 0)
				r->first_mean_ms = f->stmts.sums[j] * 1000.0 / f->stmts.counts[j];
		total_ms += r->last_ms;
	}
	qsort(rows, l->stmts.n, sizeof(*rows), by_last_time);
	bench_note(b, "database statements, by time spent in the last window (mean ms per call, first window -> last):");
	bench_note(b, "  %-34s %8s %9s %9s %7s %7s", "statement", "calls/s", "first", "last", "growth", "share");
	json_t *arr = json_array();
	for (size_t i = 0; i < l->stmts.n; i++) {
		const stmt_row *r = &rows[i];
		double growth = r->first_mean_ms > 0 ? r->last_mean_ms / r->first_mean_ms : -1;
		double share = total_ms > 0 ? r->last_ms / total_ms : 0;
		if (i < STATEMENTS_SHOWN) {
			char v[3][24];
			bench_note(b, "  %-34s %8.1f %s %9.3f %s %6.1f%%", r->name, r->last_per_s,
			           num(v[0], 24, r->first_mean_ms, 9, 3), r->last_mean_ms, num(v[1], 24, growth, 6, 1),
			           share * 100.0);
		}
		json_t *o = json_object();
		json_object_set_new(o, "statement", json_string(r->name));
		if (r->first_mean_ms >= 0)
			json_object_set_new(o, "first_mean_ms", json_real(r->first_mean_ms));
		json_object_set_new(o, "last_mean_ms", json_real(r->last_mean_ms));
		if (growth >= 0)
			json_object_set_new(o, "growth", json_real(growth));
		json_object_set_new(o, "last_calls_per_s", json_real(r->last_per_s));
		json_object_set_new(o, "last_share", json_real(share));
		json_array_append_new(arr, o);
	}
	if (l->stmts.n > STATEMENTS_SHOWN)
		bench_note(b, "  (%zu more in the JSON report)", l->stmts.n - STATEMENTS_SHOWN);
	json_object_set_new(b->report, "statements_first_last", arr);
	free(rows);
}

uint64_t soak_series_finish(soak_series *s)
{
	bench *b = s->b;
	json_object_set_new(b->report, "soak_s", json_integer(b->opt.soak));
	json_object_set_new(b->report, "rate", json_integer(b->opt.rate));
	json_object_set_new(b->report, "window_s", json_integer(b->opt.window));
	json_object_set_new(b->report, "windows", s->windows);
	s->windows = NULL;
	uint64_t errors = 0, requests = 0;
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; k < SOAK_NKINDS; k++) {
			errors += s->w[i].kind[k].errors;
			requests += s->w[i].kind[k].n;
		}
	json_object_set_new(b->report, "requests", json_integer((json_int_t)requests));
	json_object_set_new(b->report, "errors", json_integer((json_int_t)errors));
	if (s->n == 0)
		return errors;
	print_kind_tables(s);
	print_statements(s);

	const soak_win *f = &s->w[0], *l = &s->w[s->n - 1];
	double slope = rss_slope(s, (double)b->opt.soak);
	if (!isnan(slope))
		json_object_set_new(b->report, "rss_slope_mib_per_min", json_real(slope));
	set_known(b->report, "rss_first_kib", (double)f->rss_kib);
	set_known(b->report, "rss_last_kib", (double)l->rss_kib);
	set_known(b->report, "hwm_last_kib", (double)l->hwm_kib);
	set_known(b->report, "db_last_bytes", (double)l->db_bytes);
	set_known(b->report, "tasks_last", l->tasks);
	double p99a = f->mix.n ? f->mix.p99_ms : -1, p99z = l->mix.n ? l->mix.p99_ms : -1;
	if (p99a >= 0)
		json_object_set_new(b->report, "p99_first_ms", json_real(p99a));
	if (p99z >= 0)
		json_object_set_new(b->report, "p99_last_ms", json_real(p99z));
	char slope_s[24], rss0[24], rss1[24], p0[24], p1[24], growth[24], db[24], tasks[24];
	if (isnan(slope))
		snprintf(slope_s, sizeof(slope_s), "?");
	else
		snprintf(slope_s, sizeof(slope_s), "%+.2f", slope);
	num(rss0, sizeof(rss0), f->rss_kib < 0 ? -1 : (double)f->rss_kib / 1024.0, 0, 1);
	num(rss1, sizeof(rss1), l->rss_kib < 0 ? -1 : (double)l->rss_kib / 1024.0, 0, 1);
	num(p0, sizeof(p0), p99a, 0, 2);
	num(p1, sizeof(p1), p99z, 0, 2);
	num(growth, sizeof(growth), p99a > 0 && p99z >= 0 ? p99z / p99a : -1, 0, 1);
	num(db, sizeof(db), mib(l->db_bytes), 0, 1);
	num(tasks, sizeof(tasks), l->tasks, 0, 0);
	bench_note(b, "verdict: RSS %s MiB/min over the last half (%s -> %s MiB over the soak); p99 %s ms in the "
	              "first window, %s ms in the last (x%s); database %s MiB, %s tasks; %" PRIu64 " of %" PRIu64
	              " requests failed",
	           slope_s, rss0, rss1, p0, p1, growth, db, tasks, errors, requests);
	return errors;
}

void soak_series_free(soak_series *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		bench_stmts_release(&s->w[i].stmts);
	free(s->w);
	bench_stmts_release(&s->prev);
	http_response_release(&s->r);
	json_decref(s->windows);
	free(s);
}
