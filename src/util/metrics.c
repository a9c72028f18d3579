/*
 * metrics.c — Prometheus counters, gauges and histograms (see metrics.h).
 *
 * Families live in a hash table keyed by name, and each family's series in
 * a hash table keyed by the label string. One read-write lock guards the
 * tables: an update of an existing series takes the read lock for the two
 * lookups and then changes the series with atomics, so concurrent updates
 * (and a render) never wait for each other. Only the first update of a new
 * series takes the write lock.
 *
 * Histogram buckets are stored per bucket (not cumulative) with a final
 * +Inf bucket; render sums them, so `le="+Inf"` and `_count` always agree.
 *
 * The zero series of a family without labels is not stored: render writes
 * it while the family has no series at all, so the first update (of any
 * label set) replaces it without a removal.
 */
#include "util/metrics.h"
#include "util/alloc.h"
#include "util/log.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

/* A family that keeps growing is almost surely a label carrying an id. */
#define MAX_SERIES_PER_FAMILY 10000

static const double default_buckets[] = { .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10 };

/* ---- a small string-keyed hash table ---------------------------------- */

struct entry {
	uint64_t hash;
	const char *key;   /* borrowed from val; NULL = empty slot */
	void *val;
};

struct table {
	struct entry *slots;
	size_t cap;   /* power of two, or 0 */
	size_t len;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static void *table_get(const struct table *t, const char *key, uint64_t h)
{
	if (!t->cap)
		return NULL;
	for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		const struct entry *e = &t->slots[i];
		if (!e->key)
			return NULL;
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e->val;
	}
}

static void table_insert(struct entry *slots, size_t cap, struct entry e)
{
	size_t i = e.hash & (cap - 1);
	while (slots[i].key)
		i = (i + 1) & (cap - 1);
	slots[i] = e;
}

/* key must not be present yet. */
static void table_put(struct table *t, const char *key, uint64_t h, void *val)
{
	if ((t->len + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct entry *slots = xcalloc(cap, sizeof *slots);
		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i].key)
				table_insert(slots, cap, t->slots[i]);
		free(t->slots);
		t->slots = slots;
		t->cap = cap;
	}
	table_insert(t->slots, t->cap, (struct entry){ h, key, val });
	t->len++;
}

/* Values in insertion-independent order: collects them into an owned array. */
static void **table_values(const struct table *t)
{
	void **v = xcalloc(t->len + 1, sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].key)
			v[n++] = t->slots[i].val;
	return v;
}

/* ---- registry --------------------------------------------------------- */

struct series {
	char *labels;                 /* "" when none */
	_Atomic uint64_t value;       /* counter; gauge as two's complement int64 */
	_Atomic uint64_t sum_bits;    /* histogram: sum as double bits */
	_Atomic uint64_t *buckets;    /* histogram: nbounds + 1 counts, last is +Inf */
};

struct family {
	char *name;
	char *help;
	metric_type type;
	double *bounds;
	size_t nbounds;
	struct table series;
	bool labeled;        /* every series carries labels: no zero series */
	bool full_warned;
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct table families;
static struct table warned;   /* names already reported as misused; val = key */

static const char *type_name(metric_type t)
{
	switch (t) {
	case METRIC_COUNTER: return "counter";
	case METRIC_GAUGE: return "gauge";
	case METRIC_HISTOGRAM: return "histogram";
	}
	return "untyped";
}

static void define(const char *name, metric_type type, const char *help, const double *bounds,
                   size_t n, bool labeled)
{
	uint64_t h = hash_str(name);
	const char *clash = NULL;

	pthread_rwlock_wrlock(&lock);
	struct family *f = table_get(&families, name, h);
	if (f) {
		if (f->type != type)
			clash = type_name(f->type);
	} else {
		f = xcalloc(1, sizeof *f);
		f->name = xstrdup(name);
		f->help = xstrdup(help ? help : "");
		f->type = type;
		f->labeled = labeled;
		if (type == METRIC_HISTOGRAM) {
			f->nbounds = n;
			f->bounds = xcalloc(n ? n : 1, sizeof *f->bounds);
			if (n)
				memcpy(f->bounds, bounds, n * sizeof *bounds);
		}
		table_put(&families, f->name, h, f);
	}
	pthread_rwlock_unlock(&lock);

	if (clash)
		log_error("metrics", "metric %s redefined as %s (already a %s); kept the first",
		          name, type_name(type), clash);
}

static void define_any(const char *name, metric_type type, const char *help, bool labeled)
{
	if (type == METRIC_HISTOGRAM)
		define(name, type, help, default_buckets, ARRAY_LEN(default_buckets), labeled);
	else
		define(name, type, help, NULL, 0, labeled);
}

void metrics_define(const char *name, metric_type type, const char *help)
{
	define_any(name, type, help, false);
}

void metrics_define_labeled(const char *name, metric_type type, const char *help)
{
	define_any(name, type, help, true);
}

void metrics_define_histogram(const char *name, const char *help, const double *buckets, size_t n)
{
	define(name, METRIC_HISTOGRAM, help, buckets, n, false);
}

void metrics_define_histogram_labeled(const char *name, const char *help, const double *buckets, size_t n)
{
	define(name, METRIC_HISTOGRAM, help, buckets, n, true);
}

/* True the first time a misuse of this metric name is seen. */
static bool first_misuse(const char *name)
{
	uint64_t h = hash_str(name);
	bool first = false;
	pthread_rwlock_wrlock(&lock);
	if (!table_get(&warned, name, h)) {
		char *k = xstrdup(name);
		table_put(&warned, k, h, k);
		first = true;
	}
	pthread_rwlock_unlock(&lock);
	return first;
}

enum op { OP_INC, OP_SET, OP_ADD, OP_OBSERVE };

static void apply(const struct family *f, struct series *s, enum op op, uint64_t u, double d)
{
	switch (op) {
	case OP_INC:
	case OP_ADD:
		atomic_fetch_add_explicit(&s->value, u, memory_order_relaxed);
		break;
	case OP_SET:
		atomic_store_explicit(&s->value, u, memory_order_relaxed);
		break;
	case OP_OBSERVE: {
		size_t i = 0;
		while (i < f->nbounds && !(d <= f->bounds[i]))
			i++;
		atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
		uint64_t old = atomic_load_explicit(&s->sum_bits, memory_order_relaxed), upd;
		do {
			double sum;
			memcpy(&sum, &old, sizeof sum);
			sum += d;
			memcpy(&upd, &sum, sizeof upd);
		} while (!atomic_compare_exchange_weak_explicit(&s->sum_bits, &old, upd,
		                                                memory_order_relaxed,
		                                                memory_order_relaxed));
		break;
	}
	}
}

static void update(const char *name, const char *labels, metric_type want, enum op op,
                   uint64_t u, double d)
{
	if (!labels)
		labels = "";
	uint64_t hn = hash_str(name), hl = hash_str(labels);
	bool defined, right_type, full = false;

	pthread_rwlock_rdlock(&lock);
	struct family *f = table_get(&families, name, hn);
	if (f && f->type == want) {
		struct series *s = table_get(&f->series, labels, hl);
		if (s) {
			apply(f, s, op, u, d);
			pthread_rwlock_unlock(&lock);
			return;
		}
	}
	pthread_rwlock_unlock(&lock);

	pthread_rwlock_wrlock(&lock);
	f = table_get(&families, name, hn);   /* again: the lock was released */
	defined = f != NULL;
	right_type = f && f->type == want;
	if (right_type) {
		struct series *s = table_get(&f->series, labels, hl);
		if (!s && f->series.len >= MAX_SERIES_PER_FAMILY) {
			full = !f->full_warned;
			f->full_warned = true;
		} else {
			if (!s) {
				s = xcalloc(1, sizeof *s);
				s->labels = xstrdup(labels);
				if (f->type == METRIC_HISTOGRAM)
					s->buckets = xcalloc(f->nbounds + 1, sizeof *s->buckets);
				table_put(&f->series, s->labels, hl, s);
			}
			apply(f, s, op, u, d);
		}
	}
	const char *have = right_type || !defined ? NULL : type_name(f->type);
	pthread_rwlock_unlock(&lock);

	if (!defined) {
		if (first_misuse(name))
			log_error("metrics", "metric %s is not defined; updates ignored", name);
	} else if (!right_type) {
		if (first_misuse(name))
			log_error("metrics", "metric %s is a %s, not a %s; updates ignored", name, have,
			          type_name(want));
	} else if (full)
		log_error("metrics", "metric %s has %d series; new label sets are dropped", name,
		          MAX_SERIES_PER_FAMILY);
}

void metrics_inc(const char *name, const char *labels, uint64_t by)
{
	update(name, labels, METRIC_COUNTER, OP_INC, by, 0);
}

void metrics_gauge_set(const char *name, const char *labels, int64_t value)
{
	update(name, labels, METRIC_GAUGE, OP_SET, (uint64_t)value, 0);
}

void metrics_gauge_add(const char *name, const char *labels, int64_t delta)
{
	update(name, labels, METRIC_GAUGE, OP_ADD, (uint64_t)delta, 0);
}

void metrics_observe(const char *name, const char *labels, double value)
{
	if (isnan(value))
		return;
	update(name, labels, METRIC_HISTOGRAM, OP_OBSERVE, 0, value);
}

int64_t metrics_get(const char *name, const char *labels)
{
	if (!labels)
		labels = "";
	int64_t v = 0;
	pthread_rwlock_rdlock(&lock);
	struct family *f = table_get(&families, name, hash_str(name));
	struct series *s = f ? table_get(&f->series, labels, hash_str(labels)) : NULL;
	if (s && f->type == METRIC_HISTOGRAM) {
		for (size_t i = 0; i <= f->nbounds; i++)
			v += (int64_t)atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
	} else if (s) {
		v = (int64_t)atomic_load_explicit(&s->value, memory_order_relaxed);
	}
	pthread_rwlock_unlock(&lock);
	return v;
}

/* ---- rendering -------------------------------------------------------- */

/* Shortest text that reads back as the same double; "+Inf" style for infinities. */
static void put_double(buf *out, double d)
{
	if (isinf(d)) {
		buf_puts(out, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (isnan(d)) {
		buf_puts(out, "NaN");
		return;
	}
	char tmp[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	buf_puts(out, tmp);
}

static int cmp_family(const void *a, const void *b)
{
	return strcmp((*(struct family *const *)a)->name, (*(struct family *const *)b)->name);
}

static int cmp_series(const void *a, const void *b)
{
	return strcmp((*(struct series *const *)a)->labels, (*(struct series *const *)b)->labels);
}

static void render_help(buf *out, const char *help)
{
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			buf_puts(out, "\\\\");
		else if (*p == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *p);
	}
}

/* s == NULL renders the zero series of a family without labels. */
static void render_histogram(buf *out, const struct family *f, const struct series *s)
{
	const char *l = s ? s->labels : "", *sep = *l ? "," : "";
	uint64_t cum = 0;
	for (size_t i = 0; i <= f->nbounds; i++) {
		if (s)
			cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
		buf_printf(out, "%s_bucket{%s%sle=\"", f->name, l, sep);
		put_double(out, i < f->nbounds ? f->bounds[i] : INFINITY);
		buf_printf(out, "\"} %" PRIu64 "\n", cum);
	}
	uint64_t bits = s ? atomic_load_explicit(&s->sum_bits, memory_order_relaxed) : 0;
	double sum;
	memcpy(&sum, &bits, sizeof sum);
	buf_printf(out, *l ? "%s_sum{%s} " : "%s_sum%s ", f->name, l);
	put_double(out, sum);
	buf_printf(out, *l ? "\n%s_count{%s} %" PRIu64 "\n" : "\n%s_count%s %" PRIu64 "\n",
	           f->name, l, cum);
}

void metrics_render(buf *out)
{
	pthread_rwlock_rdlock(&lock);
	struct family **fams = (struct family **)table_values(&families);
	qsort(fams, families.len, sizeof *fams, cmp_family);
	for (size_t i = 0; i < families.len; i++) {
		const struct family *f = fams[i];
		buf_printf(out, "# HELP %s ", f->name);
		render_help(out, f->help);
		buf_printf(out, "\n# TYPE %s %s\n", f->name, type_name(f->type));

		if (f->series.len == 0 && !f->labeled) {
			if (f->type == METRIC_HISTOGRAM)
				render_histogram(out, f, NULL);
			else
				buf_printf(out, "%s 0\n", f->name);
			continue;
		}
		struct series **ss = (struct series **)table_values(&f->series);
		qsort(ss, f->series.len, sizeof *ss, cmp_series);
		for (size_t j = 0; j < f->series.len; j++) {
			const struct series *s = ss[j];
			if (f->type == METRIC_HISTOGRAM) {
				render_histogram(out, f, s);
				continue;
			}
			uint64_t v = atomic_load_explicit(&s->value, memory_order_relaxed);
			buf_puts(out, f->name);
			if (*s->labels)
				buf_printf(out, "{%s}", s->labels);
			if (f->type == METRIC_GAUGE)
				buf_printf(out, " %" PRId64 "\n", (int64_t)v);
			else
				buf_printf(out, " %" PRIu64 "\n", v);
		}
		free(ss);
	}
	free(fams);
	pthread_rwlock_unlock(&lock);
}

void metrics_reset(void)
{
	pthread_rwlock_wrlock(&lock);
	for (size_t i = 0; i < families.cap; i++) {
		struct family *f = families.slots[i].key ? families.slots[i].val : NULL;
		if (!f)
			continue;
		for (size_t j = 0; j < f->series.cap; j++) {
			struct series *s = f->series.slots[j].key ? f->series.slots[j].val : NULL;
			if (!s)
				continue;
			free(s->labels);
			free(s->buckets);
			free(s);
		}
		free(f->series.slots);
		free(f->name);
		free(f->help);
		free(f->bounds);
		free(f);
	}
	free(families.slots);
	families = (struct table){ 0 };
	for (size_t i = 0; i < warned.cap; i++)
		free(warned.slots[i].val);
	free(warned.slots);
	warned = (struct table){ 0 };
	pthread_rwlock_unlock(&lock);
}
