/*
 * report.c — the figures of `weft bench`: each one a human-readable line
 * (stdout, or stderr with --json) and a key of the JSON report.
 */
#include "cli/bench/bench_impl.h"
#include "util/log.h"

#include <stdarg.h>

void bench_detail(bench *b, const char *label, double v, int decimals, const char *unit)
{
	char val[64];
	snprintf(val, sizeof(val), "%.*f", decimals, v);
	fprintf(b->human, "  %-36s %14s%s%s\n", label, val, *unit ? " " : "", unit);
	fflush(b->human);
}

void bench_figure(bench *b, const char *key, const char *label, double v, int decimals, const char *unit)
{
	bench_detail(b, label, v, decimals, unit);
	if (decimals == 0)
		json_object_set_new(b->report, key, json_integer((json_int_t)v));
	else
		json_object_set_new(b->report, key, json_real(v));
}

void bench_note(bench *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(b->human, fmt, ap);
	va_end(ap);
	fputc('\n', b->human);
	fflush(b->human);
}

double bench_secs(int64_t us)
{
	return (double)us / 1e6;
}

double bench_rate(double count, int64_t us)
{
	return us > 0 ? count * 1e6 / (double)us : 0.0;
}

const char *bench_node_name(const bench *b, const node *n, char *out, size_t len)
{
	if (b->nnodes == 1)
		snprintf(out, len, "the server");
	else
		snprintf(out, len, "node %d", n->num);
	return out;
}

void bench_report_bad(const char *what, const http_response *r, long want)
{
	if (r->status == 0) {
		log_error("bench", "%s: no answer (%s)", what, r->error[0] ? r->error : "transport error");
		return;
	}
	int show = (int)MIN(r->body.len, (size_t)400);
	log_error("bench", "%s: HTTP %ld, expected %ld%s%.*s", what, r->status, want, show ? ": " : "", show,
	          r->body.data);
}

/* Node 1's start-up is the figure (it created the schema); the others
 * joined an existing database. */
void bench_report_startup(bench *b)
{
	long sum = 0;
	for (size_t k = 0; k < b->nnodes; k++) {
		const node *n = &b->nodes[k];
		sum += MAX(n->idle_rss_kib, 0);
		if (k > 0) {
			char label[64];
			snprintf(label, sizeof(label), "  node %d start-up (joining)", n->num);
			bench_detail(b, label, (double)n->startup_us / 1000.0, 1, "ms");
		}
	}
	if (b->nnodes == 1) {
		bench_figure(b, "idle_rss_kib", "idle RSS", (double)b->nodes[0].idle_rss_kib, 0, "KiB");
		json_object_set_new(b->report, "idle_rss_sum_kib", json_integer(sum));
		return;
	}
	bench_figure(b, "idle_rss_kib", "idle RSS, node 1", (double)b->nodes[0].idle_rss_kib, 0, "KiB");
	for (size_t k = 1; k < b->nnodes; k++) {
		char label[64];
		snprintf(label, sizeof(label), "idle RSS, node %d", b->nodes[k].num);
		bench_detail(b, label, (double)b->nodes[k].idle_rss_kib, 0, "KiB");
	}
	char label[64];
	snprintf(label, sizeof(label), "idle RSS, all %zu nodes", b->nnodes);
	bench_figure(b, "idle_rss_sum_kib", label, (double)sum, 0, "KiB");
}

/* Read before the nodes are stopped. */
void bench_report_peak(bench *b)
{
	long sum = 0;
	bool any = false;
	for (size_t k = 0; k < b->nnodes; k++) {
		node *n = &b->nodes[k];
		if (n->pid > 0)
			n->peak_rss_kib = bench_proc_kib(n->pid, "VmHWM");
		if (n->peak_rss_kib >= 0) {
			sum += n->peak_rss_kib;
			any = true;
		}
	}
	if (!any)
		return;
	if (b->nnodes == 1) {
		bench_figure(b, "peak_rss_kib", "peak RSS", (double)b->nodes[0].peak_rss_kib, 0, "KiB");
		json_object_set_new(b->report, "peak_rss_sum_kib", json_integer(sum));
		return;
	}
	for (size_t k = 0; k < b->nnodes; k++) {
		const node *n = &b->nodes[k];
		if (n->peak_rss_kib < 0)
			continue;
		char label[64];
		snprintf(label, sizeof(label), "peak RSS, node %d", n->num);
		if (k == 0)
			bench_figure(b, "peak_rss_kib", label, (double)n->peak_rss_kib, 0, "KiB");
		else
			bench_detail(b, label, (double)n->peak_rss_kib, 0, "KiB");
	}
	char label[64];
	snprintf(label, sizeof(label), "peak RSS, all %zu nodes", b->nnodes);
	bench_figure(b, "peak_rss_sum_kib", label, (double)sum, 0, "KiB");
}

json_t *bench_end_json(const node *n)
{
	char what[32];
	switch (n->end) {
	case END_EXITED:
		return json_integer(n->end_code);
	case END_SIGNALED:
		snprintf(what, sizeof(what), "signal %d", n->end_code);
		return json_string(what);
	case END_KILLED:
		return json_string("killed after timeout");
	case END_LOST:
		return json_string("lost (waitpid failed)");
	case END_NONE:
		break;
	}
	return json_string("not started");
}

json_t *bench_per_node_json(const bench *b)
{
	json_t *arr = json_array();
	for (size_t k = 0; k < b->nnodes; k++) {
		const node *n = &b->nodes[k];
		json_t *o = json_object();
		json_object_set_new(o, "node", json_integer(n->num));
		json_object_set_new(o, "port", json_integer(n->port));
		if (n->startup_us >= 0)
			json_object_set_new(o, "startup_ms", json_real((double)n->startup_us / 1000.0));
		if (n->idle_rss_kib >= 0)
			json_object_set_new(o, "idle_rss_kib", json_integer(n->idle_rss_kib));
		if (n->batch_len > 0)
			json_object_set_new(o, "starts", json_integer(n->batch_len));
		if (n->peak_rss_kib >= 0)
			json_object_set_new(o, "peak_rss_kib", json_integer(n->peak_rss_kib));
		if (n->shutdown_us >= 0)
			json_object_set_new(o, "shutdown_ms", json_real((double)n->shutdown_us / 1000.0));
		json_object_set_new(o, "exit_status", bench_end_json(n));
		json_array_append_new(arr, o);
	}
	return arr;
}
