/*
 * test_metrics.c — Prometheus registry: updates, exposition text, threads.
 */
#include "util/common.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/metrics.h"

#include <pthread.h>
#include <unistd.h>

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

static int reset(void **state)
{
	UNUSED(state);
	metrics_reset();
	return 0;
}

static void check_render(const char *want)
{
	buf b;
	buf_init(&b);
	metrics_render(&b);
	assert_string_equal(b.data, want);
	buf_release(&b);
}

static void test_counter_render(void **state)
{
	UNUSED(state);
	metrics_define("tasks_created_total", METRIC_COUNTER, "Tasks created");
	metrics_define("task_status_transitions_total", METRIC_COUNTER, "Status transitions");
	metrics_inc("tasks_created_total", NULL, 3);
	metrics_inc("tasks_created_total", "", 2);
	metrics_inc("task_status_transitions_total", "from_status=\"Pending\",to_status=\"Claimed\"", 1);
	metrics_inc("task_status_transitions_total", "from_status=\"Claimed\",to_status=\"Running\"", 4);
	metrics_inc("task_status_transitions_total", "from_status=\"Pending\",to_status=\"Claimed\"", 1);

	/* families by name, series by label text */
	check_render("# HELP task_status_transitions_total Status transitions\n"
	             "# TYPE task_status_transitions_total counter\n"
	             "task_status_transitions_total{from_status=\"Claimed\",to_status=\"Running\"} 4\n"
	             "task_status_transitions_total{from_status=\"Pending\",to_status=\"Claimed\"} 2\n"
	             "# HELP tasks_created_total Tasks created\n"
	             "# TYPE tasks_created_total counter\n"
	             "tasks_created_total 5\n");

	assert_int_equal(metrics_get("tasks_created_total", NULL), 5);
	assert_int_equal(metrics_get("tasks_created_total", ""), 5);
	assert_int_equal(metrics_get("task_status_transitions_total",
	                             "from_status=\"Pending\",to_status=\"Claimed\""), 2);
	assert_int_equal(metrics_get("task_status_transitions_total", "x=\"y\""), 0);
	assert_int_equal(metrics_get("nope", NULL), 0);
}

/* A family without labels has one series, exported at 0 from its
 * definition on, as Prometheus client libraries do. */
static void test_family_without_labels_starts_at_zero(void **state)
{
	UNUSED(state);
	static const double bounds[] = { 0.5, 2 };
	metrics_define("webhooks_in_flight", METRIC_GAUGE, "Webhook calls in flight");
	metrics_define("b_total", METRIC_COUNTER, "multi\nline \\ help");
	metrics_define_histogram("loop_seconds", "Loop duration", bounds, 2);
	check_render("# HELP b_total multi\\nline \\\\ help\n"
	             "# TYPE b_total counter\n"
	             "b_total 0\n"
	             "# HELP loop_seconds Loop duration\n"
	             "# TYPE loop_seconds histogram\n"
	             "loop_seconds_bucket{le=\"0.5\"} 0\n"
	             "loop_seconds_bucket{le=\"2\"} 0\n"
	             "loop_seconds_bucket{le=\"+Inf\"} 0\n"
	             "loop_seconds_sum 0\n"
	             "loop_seconds_count 0\n"
	             "# HELP webhooks_in_flight Webhook calls in flight\n"
	             "# TYPE webhooks_in_flight gauge\n"
	             "webhooks_in_flight 0\n");
	metrics_inc("b_total", NULL, 2);
	metrics_gauge_add("webhooks_in_flight", NULL, -1);
	metrics_observe("loop_seconds", NULL, 1);
	check_render("# HELP b_total multi\\nline \\\\ help\n"
	             "# TYPE b_total counter\n"
	             "b_total 2\n"
	             "# HELP loop_seconds Loop duration\n"
	             "# TYPE loop_seconds histogram\n"
	             "loop_seconds_bucket{le=\"0.5\"} 0\n"
	             "loop_seconds_bucket{le=\"2\"} 1\n"
	             "loop_seconds_bucket{le=\"+Inf\"} 1\n"
	             "loop_seconds_sum 1\n"
	             "loop_seconds_count 1\n"
	             "# HELP webhooks_in_flight Webhook calls in flight\n"
	             "# TYPE webhooks_in_flight gauge\n"
	             "webhooks_in_flight -1\n");
}

/* A family declared with labels has no series until a label set is used. */
static void test_labeled_family_appears_on_first_use(void **state)
{
	UNUSED(state);
	static const double bounds[] = { 1 };
	metrics_define_labeled("transitions_total", METRIC_COUNTER, "Transitions");
	metrics_define_labeled("by_status", METRIC_GAUGE, "By status");
	metrics_define_histogram_labeled("call_seconds", "Calls", bounds, 1);
	check_render("# HELP by_status By status\n"
	             "# TYPE by_status gauge\n"
	             "# HELP call_seconds Calls\n"
	             "# TYPE call_seconds histogram\n"
	             "# HELP transitions_total Transitions\n"
	             "# TYPE transitions_total counter\n");
	metrics_inc("transitions_total", "to=\"Running\"", 1);
	metrics_gauge_set("by_status", "status=\"pending\"", 3);
	metrics_observe("call_seconds", "trigger=\"start\"", 0.5);
	check_render("# HELP by_status By status\n"
	             "# TYPE by_status gauge\n"
	             "by_status{status=\"pending\"} 3\n"
	             "# HELP call_seconds Calls\n"
	             "# TYPE call_seconds histogram\n"
	             "call_seconds_bucket{trigger=\"start\",le=\"1\"} 1\n"
	             "call_seconds_bucket{trigger=\"start\",le=\"+Inf\"} 1\n"
	             "call_seconds_sum{trigger=\"start\"} 0.5\n"
	             "call_seconds_count{trigger=\"start\"} 1\n"
	             "# HELP transitions_total Transitions\n"
	             "# TYPE transitions_total counter\n"
	             "transitions_total{to=\"Running\"} 1\n");
}

/* A family defined without labels but updated with some shows only the
 * series it was given once the first one exists: no leftover zero. */
static void test_zero_series_gives_way_to_labels(void **state)
{
	UNUSED(state);
	metrics_define("runs_total", METRIC_COUNTER, "Runs");
	metrics_inc("runs_total", "outcome=\"success\"", 1);
	check_render("# HELP runs_total Runs\n"
	             "# TYPE runs_total counter\n"
	             "runs_total{outcome=\"success\"} 1\n");
}

static void test_gauge(void **state)
{
	UNUSED(state);
	metrics_define("tasks_by_status", METRIC_GAUGE, "Tasks by status");
	metrics_gauge_set("tasks_by_status", "status=\"pending\"", 10);
	metrics_gauge_add("tasks_by_status", "status=\"pending\"", -3);
	metrics_gauge_add("tasks_by_status", "status=\"running\"", -2);
	assert_int_equal(metrics_get("tasks_by_status", "status=\"pending\""), 7);
	assert_int_equal(metrics_get("tasks_by_status", "status=\"running\""), -2);
	metrics_gauge_set("tasks_by_status", "status=\"pending\"", INT64_MIN);
	check_render("# HELP tasks_by_status Tasks by status\n"
	             "# TYPE tasks_by_status gauge\n"
	             "tasks_by_status{status=\"pending\"} -9223372036854775808\n"
	             "tasks_by_status{status=\"running\"} -2\n");
}

static void test_histogram(void **state)
{
	UNUSED(state);
	static const double bounds[] = { 0.25, 1, 10 };
	metrics_define_histogram("webhook_duration_seconds", "Webhook call duration", bounds, 3);
	const char *l = "trigger=\"start\"";
	metrics_observe("webhook_duration_seconds", l, 0.125);
	metrics_observe("webhook_duration_seconds", l, 0.25);   /* le is inclusive */
	metrics_observe("webhook_duration_seconds", l, 0.5);
	metrics_observe("webhook_duration_seconds", l, 100);
	metrics_observe("webhook_duration_seconds", NULL, 2);
	check_render("# HELP webhook_duration_seconds Webhook call duration\n"
	             "# TYPE webhook_duration_seconds histogram\n"
	             "webhook_duration_seconds_bucket{le=\"0.25\"} 0\n"
	             "webhook_duration_seconds_bucket{le=\"1\"} 0\n"
	             "webhook_duration_seconds_bucket{le=\"10\"} 1\n"
	             "webhook_duration_seconds_bucket{le=\"+Inf\"} 1\n"
	             "webhook_duration_seconds_sum 2\n"
	             "webhook_duration_seconds_count 1\n"
	             "webhook_duration_seconds_bucket{trigger=\"start\",le=\"0.25\"} 2\n"
	             "webhook_duration_seconds_bucket{trigger=\"start\",le=\"1\"} 3\n"
	             "webhook_duration_seconds_bucket{trigger=\"start\",le=\"10\"} 3\n"
	             "webhook_duration_seconds_bucket{trigger=\"start\",le=\"+Inf\"} 4\n"
	             "webhook_duration_seconds_sum{trigger=\"start\"} 100.875\n"
	             "webhook_duration_seconds_count{trigger=\"start\"} 4\n");
	assert_int_equal(metrics_get("webhook_duration_seconds", l), 4);
}

static void test_histogram_default_buckets(void **state)
{
	UNUSED(state);
	metrics_define("d_seconds", METRIC_HISTOGRAM, "default buckets");
	metrics_observe("d_seconds", NULL, 0.003);
	buf b;
	buf_init(&b);
	metrics_render(&b);
	assert_non_null(strstr(b.data, "d_seconds_bucket{le=\"0.005\"} 1\n"));
	assert_non_null(strstr(b.data, "d_seconds_bucket{le=\"2.5\"} 1\n"));
	assert_non_null(strstr(b.data, "d_seconds_bucket{le=\"+Inf\"} 1\n"));
	assert_non_null(strstr(b.data, "d_seconds_sum 0.003\n"));
	buf_release(&b);
}

static void misuse(void)
{
	metrics_define("g", METRIC_GAUGE, "a gauge");
	metrics_define("g", METRIC_COUNTER, "redefined as a counter");   /* keeps the gauge */
	metrics_define("g", METRIC_GAUGE, "defined twice");              /* keeps the first help */
	metrics_inc("g", NULL, 5);            /* wrong type */
	metrics_observe("g", NULL, 1.0);      /* wrong type */
	for (int i = 0; i < 3; i++)
		metrics_inc("undefined_total", NULL, 1);
	metrics_gauge_set("g", NULL, 2);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_misuse_is_ignored(void **state)
{
	UNUSED(state);
	/* Capture stderr: each misused name is logged once. */
	fflush(stderr);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	int saved = dup(2);
	dup2(fileno(tmp), 2);
	misuse();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char log[4096] = "";
	rewind(tmp);
	size_t n = fread(log, 1, sizeof log - 1, tmp);
	log[n] = '\0';
	fclose(tmp);
	assert_int_equal(count(log, "metric undefined_total is not defined"), 1);
	assert_int_equal(count(log, "metric g is a gauge, not a counter"), 1);
	assert_int_equal(count(log, "metric g redefined as counter"), 1);

	assert_int_equal(metrics_get("g", NULL), 2);
	assert_int_equal(metrics_get("undefined_total", NULL), 0);
	check_render("# HELP g a gauge\n"
	             "# TYPE g gauge\n"
	             "g 2\n");
}

static void test_reset(void **state)
{
	UNUSED(state);
	metrics_define("r_total", METRIC_COUNTER, "r");
	metrics_inc("r_total", NULL, 1);
	metrics_reset();
	check_render("");
	assert_int_equal(metrics_get("r_total", NULL), 0);
	/* usable again after a reset */
	metrics_define("r_total", METRIC_COUNTER, "r");
	metrics_inc("r_total", NULL, 2);
	assert_int_equal(metrics_get("r_total", NULL), 2);
}

#define THREADS 4
#define PER_THREAD 100000

static void *hammer(void *arg)
{
	char labels[32];
	snprintf(labels, sizeof labels, "t=\"%d\"", (int)(intptr_t)arg % 2);
	for (int i = 0; i < PER_THREAD; i++) {
		metrics_inc("hits_total", labels, 1);
		metrics_inc("all_total", NULL, 1);
		metrics_gauge_add("level", NULL, i % 2 ? 1 : -1);
		metrics_observe("lat_seconds", labels, 0.5);
	}
	return NULL;
}

static void test_threads(void **state)
{
	UNUSED(state);
	static const double bounds[] = { 1 };
	metrics_define("hits_total", METRIC_COUNTER, "h");
	metrics_define("all_total", METRIC_COUNTER, "a");
	metrics_define("level", METRIC_GAUGE, "l");
	metrics_define_histogram("lat_seconds", "lat", bounds, 1);
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, hammer, (void *)(intptr_t)t), 0);
	/* rendering concurrently with updates is allowed */
	buf b;
	buf_init(&b);
	metrics_render(&b);
	buf_release(&b);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);

	assert_int_equal(metrics_get("all_total", NULL), THREADS * PER_THREAD);
	assert_int_equal(metrics_get("hits_total", "t=\"0\""), THREADS / 2 * PER_THREAD);
	assert_int_equal(metrics_get("hits_total", "t=\"1\""), THREADS / 2 * PER_THREAD);
	assert_int_equal(metrics_get("level", NULL), 0);
	assert_int_equal(metrics_get("lat_seconds", "t=\"0\""), THREADS / 2 * PER_THREAD);

	buf_init(&b);
	metrics_render(&b);
	char want[128];
	snprintf(want, sizeof want, "lat_seconds_sum{t=\"1\"} %d\n", THREADS / 2 * PER_THREAD / 2);
	assert_non_null(strstr(b.data, want));
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_counter_render, reset),
		cmocka_unit_test_setup(test_family_without_labels_starts_at_zero, reset),
		cmocka_unit_test_setup(test_labeled_family_appears_on_first_use, reset),
		cmocka_unit_test_setup(test_zero_series_gives_way_to_labels, reset),
		cmocka_unit_test_setup(test_gauge, reset),
		cmocka_unit_test_setup(test_histogram, reset),
		cmocka_unit_test_setup(test_histogram_default_buckets, reset),
		cmocka_unit_test_setup(test_misuse_is_ignored, reset),
		cmocka_unit_test_setup(test_reset, reset),
		cmocka_unit_test_setup(test_threads, reset),
	};
	int failed = cmocka_run_group_tests_name("metrics", tests, NULL, reset);
	return failed ? 1 : 0;
}
