/*
 * statements.c — database statements per task, the cost of an operation in
 * round trips to the database, which timings on a loaded machine blur.
 *
 * Every backend counts each statement it executes in the histogram
 * db_query_duration_seconds{query="<statement name>"}; its _count series
 * (and its _sum, which the soak divides by the count for each statement's
 * mean time) is read from every node's GET /metrics right before and right
 * after a phase,
 * and the difference, summed over statements and nodes, divided by the
 * phase's tasks. The figure includes the bench's own reads during the
 * phase (its GET /batch polls, and the gauges each /metrics read refreshes
 * first): a few statements in all.
 */
#include "cli/bench/bench_impl.h"
#include "client/prom_text.h"
#include "util/alloc.h"

#define HISTOGRAM_COUNT "db_query_duration_seconds_count"
#define HISTOGRAM_SUM "db_query_duration_seconds_sum"

static size_t find(const bench_stmts *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return i;
	return s->n;
}

static size_t slot(bench_stmts *s, const char *name)
{
	size_t i = find(s, name);
	if (i == s->n) {
		s->names = xrealloc(s->names, (s->n + 1) * sizeof(*s->names));
		s->counts = xrealloc(s->counts, (s->n + 1) * sizeof(*s->counts));
		s->sums = xrealloc(s->sums, (s->n + 1) * sizeof(*s->sums));
		s->names[i] = xstrdup(name);
		s->counts[i] = 0;
		s->sums[i] = 0;
		s->n++;
	}
	return i;
}

typedef struct reading {
	bench_stmts *s;
	size_t samples;
} reading;

static int on_sample(const prom_sample *ps, void *ud)
{
	reading *r = ud;
	bool count = strcmp(ps->name, HISTOGRAM_COUNT) == 0;
	if (!count && strcmp(ps->name, HISTOGRAM_SUM) != 0)
		return 0;
	r->samples += count;
	/* Without a query label it is the family's zero series. */
	const char *q = prom_sample_label(ps, "query");
	if (!q)
		return 0;
	size_t i = slot(r->s, q);
	if (count)
		r->s->counts[i] += ps->value;
	else
		r->s->sums[i] += ps->value;
	return 0;
}

int bench_stmts_add_text(bench_stmts *s, const char *text, size_t len, const char *who)
{
	reading rd = { .s = s };
	char err[96] = "";
	if (prom_text_parse(text, len, on_sample, &rd, err, sizeof(err)) != 0)
		snprintf(s->why, sizeof(s->why), "GET /metrics of %s: %s", who, err);
	else if (rd.samples == 0)
		snprintf(s->why, sizeof(s->why), "GET /metrics of %s has no %s", who, HISTOGRAM_COUNT);
	s->ok = s->why[0] == '\0';
	return s->ok ? 0 : -1;
}

void bench_stmts_read(bench *b, bench_stmts *s)
{
	memset(s, 0, sizeof(*s));
	http_response r;
	http_response_init(&r);
	s->ok = true;
	for (size_t k = 0; k < b->nnodes && s->ok; k++) {
		node *n = &b->nodes[k];
		char nm[32];
		bench_node_name(b, n, nm, sizeof(nm));
		http_client_set_timeout(n->ctl, 10000);
		int rc = http_client_request(n->ctl, "GET", "/metrics", NULL, 0, NULL, &r);
		if (rc != 0)
			snprintf(s->why, sizeof(s->why), "%s", r.error);
		else if (r.status != 200)
			snprintf(s->why, sizeof(s->why), "GET /metrics of %s answered %ld", nm, r.status);
		if (s->why[0])
			s->ok = false;
		else
			bench_stmts_add_text(s, r.body.data, r.body.len, nm);
	}
	http_response_release(&r);
}

void bench_stmts_release(bench_stmts *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	free(s->counts);
	free(s->sums);
	memset(s, 0, sizeof(*s));
}

typedef struct delta {
	const char *name;
	double n;
} delta;

static int by_count_desc(const void *a, const void *b)
{
	const delta *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

void bench_stmts_report(bench *b, const char *key, const char *label, const bench_stmts *before,
                        const bench_stmts *after, long tasks, size_t top)
{
	if (!before->ok || !after->ok) {
		bench_note(b, "  %s: not available (%s)", label, !before->ok ? before->why : after->why);
		return;
	}
	delta *d = xcalloc(after->n + 1, sizeof(*d));
	size_t nd = 0;
	double total = 0;
	for (size_t i = 0; i < after->n; i++) {
		size_t j = find(before, after->names[i]);
		double n = after->counts[i] - (j < before->n ? before->counts[j] : 0);
		if (n <= 0)
			continue;
		d[nd++] = (delta){ after->names[i], n };
		total += n;
	}
	char k[64];
	snprintf(k, sizeof(k), "%s_statements_per_task", key);
	bench_figure(b, k, label, total / (double)tasks, 2, "statements");
	if (top > 0) {
		qsort(d, nd, sizeof(*d), by_count_desc);
		json_t *o = json_object();
		for (size_t i = 0; i < nd && i < top; i++) {
			char l[64];
			snprintf(l, sizeof(l), "  %s", d[i].name);
			bench_detail(b, l, d[i].n / (double)tasks, 2, "");
			json_object_set_new(o, d[i].name, json_real(d[i].n / (double)tasks));
		}
		snprintf(k, sizeof(k), "%s_statements_top", key);
		json_object_set_new(b->report, k, o);
	}
	free(d);
}
