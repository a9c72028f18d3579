/*
 * decode_run.c — the bodies of POST /v1/runs and of a webhook task's
 * reports (see decode_run.h).
 */
#include "util/common.h"
#include "http/v1/decode_run.h"

#include "core/error.h"
#include "core/limits.h"
#include "engine/retry.h"
#include "exec/webhook.h"
#include "http/v1/decode_exec.h"
#include "http/decode.h"
#include "util/alloc.h"

/* One decoding: the error object, and whether a size limit was passed. */
typedef struct rctx {
	http_error *e;
	const weft_config *cfg;
	bool too_large;
} rctx;

static int outcome(const rctx *d, size_t before)
{
	if (d->e->details.len == before)
		return 0;
	return d->too_large ? WEFT_ETOOLARGE : WEFT_EINVALID;
}

static void unknown_members(rctx *d, const json_t *obj, const char *at, const char *const *known)
{
	decode_unknown_members(d->e, obj, at, known);
}

static const char *str_bounded(rctx *d, const json_t *obj, const char *at, const char *key, unsigned flags,
                               size_t max)
{
	return decode_str_bounded(d->e, obj, at, key, flags, max, &d->too_large);
}

/* A metadata object as compact JSON (owned), NULL when absent. */
static char *metadata_of(rctx *d, const json_t *obj, const char *at)
{
	json_t *m = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_object(d->e, obj, at, "metadata", 0, &m, path) != 0 || m == NULL)
		return NULL;
	char *text = json_dump_compact(m);
	if (strlen(text) > TASK_METADATA_MAX) {
		decode_problem(d->e, at, "metadata", "is %zu bytes of JSON; the limit is %d", strlen(text),
		               TASK_METADATA_MAX);
		d->too_large = true;
		free(text);
		return NULL;
	}
	return text;
}

/* A WebhookParams object {url, verb, body?, headers?}, SSRF-checked: its
 * compact JSON (owned), or NULL after recording why. */
static char *webhook_params(rctx *d, const json_t *p, const char *path)
{
	if (!json_is_object(p)) {
		decode_type_error(d->e, path, "a WebhookParams object", p);
		return NULL;
	}
	char err[HTTP_ERROR_MSG_MAX];
	err[0] = '\0';
	if (webhook_params_check(p, &d->cfg->ssrf, err, sizeof(err)) != 0) {
		decode_problem(d->e, path, NULL, "%s", err[0] ? err : "Invalid webhook params");
		return NULL;
	}
	return json_dump_compact(p);
}

/* An optional array of WebhookParams at obj.key. */
static char **webhook_list(rctx *d, const json_t *obj, const char *at, const char *key, size_t *n)
{
	json_t *arr = NULL;
	char path[DECODE_PATH_MAX];
	*n = 0;
	if (decode_array(d->e, obj, at, key, 0, &arr, path) != 0 || arr == NULL || json_array_size(arr) == 0)
		return NULL;
	size_t count = json_array_size(arr);
	if (count > d->cfg->max_actions_per_task) {
		decode_problem(d->e, at, key, "must have at most %zu webhooks (MAX_ACTIONS_PER_TASK), has %zu",
		               d->cfg->max_actions_per_task, count);
		d->too_large = true;
		return NULL;
	}
	char **out = xcalloc(count, sizeof(char *));
	for (size_t i = 0; i < count; i++) {
		char ipath[DECODE_PATH_MAX];
		decode_path_index(ipath, path, i);
		out[i] = webhook_params(d, json_array_get(arr, i), ipath);
	}
	*n = count;
	return out;
}

/* Refs to their task's index: an open-addressing table, so that a run of
 * 100,000 tasks resolves its refs in linear time. */
typedef struct ref_map {
	const char **keys;
	size_t *index;
	size_t mask;
} ref_map;

static void ref_map_init(ref_map *m, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap <<= 1;
	m->keys = xcalloc(cap, sizeof(char *));
	m->index = xcalloc(cap, sizeof(size_t));
	m->mask = cap - 1;
}

static void ref_map_release(ref_map *m)
{
	free(m->keys);
	free(m->index);
}

/* The slot holding ref, or the empty one where it would go. */
static size_t ref_map_slot(const ref_map *m, const char *ref)
{
	uint64_t h = 1469598103934665603ULL;        /* FNV-1a */
	for (const char *p = ref; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	size_t i = (size_t)h & m->mask;
	while (m->keys[i] != NULL && strcmp(m->keys[i], ref) != 0)
		i = (i + 1) & m->mask;
	return i;
}

/* The index of the task with this ref, or SIZE_MAX. */
static size_t ref_map_find(const ref_map *m, const char *ref)
{
	size_t slot = ref_map_slot(m, ref);
	return m->keys[slot] != NULL ? m->index[slot] : SIZE_MAX;
}

static const char *const webhook_fields[] = {
	"ref", "executor", "parents", "decision", "name", "kind", "timeout_secs", "priority", "metadata",
	"on_start", "on_success", "on_failure", "emit", NULL,
};
/* A queue task's members beyond a job's (dedup: a run's tasks are
 * created together or not at all, so a key could not answer for one). */
static const char *const run_fields[] = { "ref", "executor", "parents", "decision", "dedup", "emit", NULL };

#define EMIT_TOPIC_MAX 128

/* emit: {topic, on?}: the event the task publishes when it ends
 * (engine/commands/triggers.h), on "success", "failure" or "end"
 * (default). */
static void decode_emit(rctx *d, const json_t *t, const char *at, new_task *out)
{
	json_t *emit = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_object(d->e, t, at, "emit", 0, &emit, path) != 0 || emit == NULL)
		return;
	static const char *const known[] = { "topic", "on", NULL };
	decode_unknown_members(d->e, emit, path, known);
	const char *topic = NULL, *on = NULL;
	if (decode_str(d->e, emit, path, "topic", DECODE_REQUIRED, &topic) == 0) {
		size_t n = strlen(topic);
		bool ok = n > 0 && n <= EMIT_TOPIC_MAX;
		for (size_t i = 0; ok && i < n; i++)
			ok = (topic[i] >= 'a' && topic[i] <= 'z') || (topic[i] >= 'A' && topic[i] <= 'Z') ||
			     (topic[i] >= '0' && topic[i] <= '9') || topic[i] == '_' || topic[i] == '.' || topic[i] == ':' ||
			     topic[i] == '-';
		if (!ok)
			decode_problem(d->e, path, "topic", "expected 1 to 128 characters from [A-Za-z0-9_.:-]");
		else
			out->emit_topic = xstrdup(topic);
	}
	out->emit_on = "end";
	if (decode_str(d->e, emit, path, "on", 0, &on) == 0 && on != NULL) {
		if (strcmp(on, "success") == 0)
			out->emit_on = "success";
		else if (strcmp(on, "failure") == 0)
			out->emit_on = "failure";
		else if (strcmp(on, "end") != 0)
			decode_problem(d->e, path, "on", "expected success, failure or end");
	}
}

static void decode_webhook_task(rctx *d, const json_t *t, const char *at, const char *ref, new_task *out)
{
	unknown_members(d, t, at, webhook_fields);
	const char *name = str_bounded(d, t, at, "name", 0, TASK_NAME_MAX);
	const char *kind = str_bounded(d, t, at, "kind", 0, TASK_KIND_MAX);
	out->name = xstrdup(name != NULL ? name : ref != NULL ? ref : "");
	out->kind = xstrdup(kind != NULL ? kind : "webhook");
	int64_t v = RUN_WEBHOOK_TIMEOUT_DEFAULT;
	bool has = false;
	if (decode_int(d->e, t, at, "timeout_secs", 0, &v, &has) == 0 && has &&
	    (v < TASK_TIMEOUT_MIN || v > TASK_TIMEOUT_MAX))
		decode_problem(d->e, at, "timeout_secs", "must be from %d to %d", TASK_TIMEOUT_MIN, TASK_TIMEOUT_MAX);
	out->timeout_secs = (int32_t)v;
	v = 0;
	if (decode_int(d->e, t, at, "priority", 0, &v, &has) == 0 && has &&
	    (v < TASK_PRIORITY_MIN || v > TASK_PRIORITY_MAX))
		decode_problem(d->e, at, "priority", "must be from %d to %d", TASK_PRIORITY_MIN, TASK_PRIORITY_MAX);
	out->priority = (int32_t)v;
	out->metadata = metadata_of(d, t, at);
	char path[DECODE_PATH_MAX];
	json_t *start = decode_member(d->e, t, at, "on_start", DECODE_REQUIRED, path);
	if (start != NULL)
		out->on_start = webhook_params(d, start, path);
	out->on_success = webhook_list(d, t, at, "on_success", &out->non_success);
	out->on_failure = webhook_list(d, t, at, "on_failure", &out->non_failure);
}

static const char *const exec_fields[] = {
	"ref", "executor", "parents", "decision", "name", "kind", "timeout_secs", "priority", "metadata",
	"exec", "input", "retry", "on_success", "on_failure", NULL,
};

/* An exec task's "retry": {"max_retries" (0..100), "initial_delay_secs"?
 * (default 5)}, as the canonical policy of engine/retry.h (NULL: none);
 * a non-zero exit, a signal and a timeout are retried alike. */
static char *exec_retry(rctx *d, const json_t *t, const char *at)
{
	json_t *m = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_object(d->e, t, at, "retry", 0, &m, path) != 0 || m == NULL)
		return NULL;
	static const char *const known[] = { "max_retries", "initial_delay_secs", NULL };
	unknown_members(d, m, path, known);
	int64_t max = 0;
	if (decode_int(d->e, m, path, "max_retries", DECODE_REQUIRED, &max, NULL) != 0)
		return NULL;
	if (max < 0 || max > RETRY_MAX_RETRIES_LIMIT) {
		decode_problem(d->e, path, "max_retries", "must be from 0 to %d", RETRY_MAX_RETRIES_LIMIT);
		return NULL;
	}
	double initial = 5;
	if (decode_number(d->e, m, path, "initial_delay_secs", 0, RETRY_MAX_DELAY_LIMIT_SECS, &initial) != 0)
		return NULL;
	return xasprintf("{\"max_retries\":%" PRId64 ",\"initial_delay_secs\":%.17g,\"backoff_multiplier\":2,"
	                 "\"max_delay_secs\":300,\"retry_on\":[\"timeout\",\"webhook_failure\",\"explicit\"]}",
	                 max, initial);
}

/* A task the server runs as a local child process: a webhook task's
 * fields but on_start, with its exec spec (decode_exec.h) stored where a
 * webhook task keeps its start call. */
static void decode_exec_task(rctx *d, const json_t *t, const char *at, const char *ref, new_task *out)
{
	unknown_members(d, t, at, exec_fields);
	const char *name = str_bounded(d, t, at, "name", 0, TASK_NAME_MAX);
	const char *kind = str_bounded(d, t, at, "kind", 0, TASK_KIND_MAX);
	out->name = xstrdup(name != NULL ? name : ref != NULL ? ref : "");
	out->kind = xstrdup(kind != NULL ? kind : "exec");
	out->executor = xstrdup("exec");
	int64_t v = 0;
	bool has = false;
	if (decode_int(d->e, t, at, "priority", 0, &v, &has) == 0 && has &&
	    (v < TASK_PRIORITY_MIN || v > TASK_PRIORITY_MAX))
		decode_problem(d->e, at, "priority", "must be from %d to %d", TASK_PRIORITY_MIN, TASK_PRIORITY_MAX);
	out->priority = (int32_t)v;
	out->metadata = metadata_of(d, t, at);
	/* The process's timeout: exec.timeout_secs, else the task's
	 * timeout_secs, else an hour; the executor enforces it. */
	v = EXEC_TIMEOUT_DEFAULT;
	if (decode_int(d->e, t, at, "timeout_secs", 0, &v, &has) == 0 && has &&
	    (v < TASK_TIMEOUT_MIN || v > TASK_TIMEOUT_MAX))
		decode_problem(d->e, at, "timeout_secs", "must be from %d to %d", TASK_TIMEOUT_MIN, TASK_TIMEOUT_MAX);
	int64_t process_timeout = MIN(MAX(v, TASK_TIMEOUT_MIN), TASK_TIMEOUT_MAX);
	out->on_start = v1_decode_exec_spec(d->e, d->cfg, t, at, process_timeout, &d->too_large);
	/* The task's own (inactivity) timeout is the engine's backstop for a
	 * child that outlives its timeout: that, the kill grace and a minute. */
	int64_t spec_timeout = 0;
	if (out->on_start != NULL) {
		json_t *spec = json_parse_text(out->on_start);
		spec_timeout = json_integer_value(json_object_get(spec, "timeout_secs"));
		json_decref(spec);
	}
	out->timeout_secs = (int32_t)MIN(spec_timeout + d->cfg->exec_kill_grace_ms / 1000 + 61, TASK_TIMEOUT_MAX);
	out->retry_policy = exec_retry(d, t, at);
	out->on_success = webhook_list(d, t, at, "on_success", &out->non_success);
	out->on_failure = webhook_list(d, t, at, "on_failure", &out->non_failure);
}

/* The parents of task i, by ref: each must be a task listed before it
 * (ArcRun's rule, which leaves no room for a cycle). */
static void decode_parents(rctx *d, const json_t *t, const char *at, size_t i, const ref_map *refs, new_task *out)
{
	json_t *arr = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_array(d->e, t, at, "parents", 0, &arr, path) != 0 || arr == NULL)
		return;
	size_t n = json_array_size(arr);
	if (n > d->cfg->max_deps_per_task) {
		decode_problem(d->e, at, "parents", "must have at most %zu parents (MAX_DEPS_PER_TASK), has %zu",
		               d->cfg->max_deps_per_task, n);
		d->too_large = true;
		return;
	}
	if (n == 0)
		return;
	out->deps = xcalloc(n, sizeof(*out->deps));
	static const char *const known[] = { "ref", "requires_success", NULL };
	for (size_t j = 0; j < n; j++) {
		char ppath[DECODE_PATH_MAX];
		decode_path_index(ppath, path, j);
		json_t *p = json_array_get(arr, j);
		if (!json_is_object(p)) {
			decode_type_error(d->e, ppath, "an object", p);
			continue;
		}
		unknown_members(d, p, ppath, known);
		bool rs = true;
		decode_bool(d->e, p, ppath, "requires_success", 0, &rs, NULL);
		const char *ref = str_bounded(d, p, ppath, "ref", DECODE_REQUIRED, RUN_REF_MAX);
		if (ref == NULL)
			continue;
		size_t k = ref_map_find(refs, ref);
		if (k == i) {
			decode_problem(d->e, ppath, "ref", "a task cannot be its own parent");
			continue;
		}
		if (k == SIZE_MAX) {
			decode_problem(d->e, ppath, "ref", "unknown parent '%s': no task of the run has this ref", ref);
			continue;
		}
		if (k > i) {
			decode_problem(d->e, ppath, "ref", "parent '%s' must appear before its child in tasks", ref);
			continue;
		}
		bool dup = false;
		for (size_t m = 0; m < out->ndeps && !dup; m++)
			dup = out->deps[m].parent_index == k;
		if (dup) {
			decode_problem(d->e, ppath, "ref", "parent '%s' is listed twice", ref);
			continue;
		}
		out->deps[out->ndeps++] = (new_dependency){ .parent_index = k, .requires_success = rs };
	}
}

static void decode_task(rctx *d, v1_run_input *in, const ref_map *refs, const json_t *t, const char *at, size_t i,
                        size_t *ncodes)
{
	new_task *out = &in->tasks[i];
	const char *exec = "queue";
	if (decode_str(d->e, t, at, "executor", 0, &exec) == 0 && exec != NULL && strcmp(exec, "queue") != 0 &&
	    strcmp(exec, "webhook") != 0 && strcmp(exec, "exec") != 0) {
		decode_problem(d->e, at, "executor", "must be \"queue\", \"webhook\" or \"exec\"");
		exec = NULL;
	}
	decode_parents(d, t, at, i, refs, out);
	out->ref = in->refs[i];
	decode_bool(d->e, t, at, "decision", 0, &out->decision, NULL);
	decode_emit(d, t, at, out);
	if (exec != NULL && strcmp(exec, "webhook") == 0) {
		decode_webhook_task(d, t, at, in->refs[i], out);
		return;
	}
	if (exec != NULL && strcmp(exec, "exec") == 0) {
		decode_exec_task(d, t, at, in->refs[i], out);
		return;
	}
	job_spec *s = &in->jobs[i];
	v1_decode_job_in(t, at, run_fields, s, in->codes, ncodes, &in->texts, d->e, &d->too_large);
	if (json_object_get(t, "dedup") != NULL)
		decode_problem(d->e, at, "dedup", "not supported in a run: enqueue the job with POST /v1/jobs");
	if (s->name == NULL)
		s->name = in->refs[i];     /* what its children see of it (a claim's parents) */
	if (exec != NULL) {
		out->job = s;
		out->executor = xstrdup("queue");
	}
}

/* A decision chooses among its children: one without any is refused (its
 * result could name nothing). Parents come before their children, so a
 * task's children are the later tasks that list it. */
static void check_decisions(rctx *d, const v1_run_input *in)
{
	bool *has_child = xcalloc(in->ntasks, sizeof *has_child);
	for (size_t i = 0; i < in->ntasks; i++)
		for (size_t k = 0; k < in->tasks[i].ndeps; k++)
			has_child[in->tasks[i].deps[k].parent_index] = true;
	for (size_t i = 0; i < in->ntasks; i++) {
		if (!in->tasks[i].decision || has_child[i])
			continue;
		char at[DECODE_PATH_MAX];
		decode_path_index(at, "tasks", i);
		decode_problem(d->e, at, "decision",
		               "a decision task must have at least one child (a task listing '%s' in its parents)",
		               in->refs[i] != NULL ? in->refs[i] : "");
	}
	free(has_child);
}

int v1_decode_run(const char *body, size_t len, const weft_config *cfg, v1_run_input *out, http_error *e)
{
	memset(out, 0, sizeof(*out));
	int rc = decode_body_object(body, len, cfg->json_max_depth, e, &out->doc);
	if (rc != 0)
		return rc;
	rctx d = { e, cfg, false };
	size_t before = e->details.len;
	static const char *const known[] = { "namespace", "name", "metadata", "tasks", NULL };
	unknown_members(&d, out->doc, "", known);
	const char *ns = NULL;
	if (decode_str(e, out->doc, "", "namespace", 0, &ns) == 0 && ns != NULL) {
		if (namespace_valid(ns))
			out->namespace = ns;
		else
			decode_problem(e, "", "namespace", "must match [a-z0-9][a-z0-9_-]{0,62}");
	}
	out->name = str_bounded(&d, out->doc, "", "name", 0, RUN_NAME_MAX);
	out->metadata = metadata_of(&d, out->doc, "");

	json_t *arr = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_array(e, out->doc, "", "tasks", DECODE_REQUIRED, &arr, path) == 0 && arr != NULL) {
		size_t n = json_array_size(arr);
		if (n == 0 || n > cfg->max_tasks_per_batch) {
			decode_problem(e, "", "tasks", "must have 1 to %zu tasks (MAX_TASKS_PER_BATCH), has %zu",
			               cfg->max_tasks_per_batch, n);
			d.too_large |= n > cfg->max_tasks_per_batch;
			n = 0;
		}
		if (n > 0) {
			out->tasks = xcalloc(n, sizeof(*out->tasks));
			out->ntasks = n;
			out->jobs = xcalloc(n, sizeof(*out->jobs));
			out->refs = xcalloc(n, sizeof(char *));
			size_t ncodes_max = 0;
			for (size_t i = 0; i < n; i++) {
				json_t *c = json_object_get(json_array_get(arr, i), "non_retryable_codes");
				if (json_is_array(c))
					ncodes_max += MIN(json_array_size(c), (size_t)JOB_NON_RETRYABLE_MAX);
			}
			out->codes = xcalloc(ncodes_max + 1, sizeof(char *));
			/* Every ref first: a parent is looked up among them all, so that
			 * one listed after its child is told apart from an unknown one. */
			ref_map refs;
			ref_map_init(&refs, n);
			for (size_t i = 0; i < n; i++) {
				char at[DECODE_PATH_MAX];
				decode_path_index(at, "tasks", i);
				json_t *t = json_array_get(arr, i);
				if (!json_is_object(t)) {
					decode_type_error(e, at, "an object", t);
					continue;
				}
				const char *ref = str_bounded(&d, t, at, "ref", DECODE_REQUIRED, RUN_REF_MAX);
				if (ref == NULL)
					continue;
				size_t slot = ref_map_slot(&refs, ref);
				if (refs.keys[slot] != NULL) {
					decode_problem(e, at, "ref", "duplicate ref '%s' (first at tasks[%zu])", ref,
					               refs.index[slot]);
					continue;
				}
				refs.keys[slot] = ref;
				refs.index[slot] = i;
				out->refs[i] = ref;
			}
			size_t ncodes = 0;
			for (size_t i = 0; i < n; i++) {
				char at[DECODE_PATH_MAX];
				decode_path_index(at, "tasks", i);
				json_t *t = json_array_get(arr, i);
				if (json_is_object(t))
					decode_task(&d, out, &refs, t, at, i, &ncodes);
			}
			ref_map_release(&refs);
			check_decisions(&d, out);
		}
	}
	rc = outcome(&d, before);
	if (rc != 0)
		v1_run_input_release(out);
	return rc;
}

void v1_run_input_release(v1_run_input *in)
{
	for (size_t i = 0; i < in->ntasks; i++)
		new_task_release(&in->tasks[i]);
	free(in->tasks);
	free(in->jobs);
	free(in->refs);
	free(in->codes);
	free(in->metadata);
	v1_texts_release(&in->texts);
	json_decref(in->doc);
	memset(in, 0, sizeof(*in));
}

/* ---- a webhook task's report ------------------------------------------------------------ */

int v1_decode_task_report(bool fail, const char *body, size_t len, int max_depth, v1_task_report_input *out,
                          http_error *e)
{
	memset(out, 0, sizeof(*out));
	int rc = decode_body_object(body, len, max_depth, e, &out->doc);
	if (rc != 0)
		return rc;
	rctx d = { e, NULL, false };
	size_t before = e->details.len;
	static const char *const complete_fields[] = { "result", NULL };
	static const char *const fail_fields[] = { "error", NULL };
	unknown_members(&d, out->doc, "", fail ? fail_fields : complete_fields);
	if (!fail) {
		json_t *r = json_object_get(out->doc, "result");
		out->result = json_dump_compact(r != NULL ? r : json_null());
		if (strlen(out->result) > JOB_PAYLOAD_MAX_BYTES) {
			decode_problem(e, "", "result", "is %zu bytes of JSON; the limit is %d", strlen(out->result),
			               JOB_PAYLOAD_MAX_BYTES);
			d.too_large = true;
		}
	} else {
		json_t *err = NULL;
		char path[DECODE_PATH_MAX];
		if (decode_object(e, out->doc, "", "error", DECODE_REQUIRED, &err, path) == 0 && err != NULL) {
			static const char *const known[] = { "code", "message", NULL };
			unknown_members(&d, err, path, known);
			const char *code = NULL;
			if (decode_str(e, err, path, "code", DECODE_REQUIRED, &code) == 0 && code != NULL) {
				if (job_error_code_valid(code))
					out->code = code;
				else
					decode_problem(e, path, "code", "must match [a-z0-9_.:-]{1,64}");
			}
			out->message = str_bounded(&d, err, path, "message", 0, JOB_ERROR_MESSAGE_MAX);
		}
	}
	rc = outcome(&d, before);
	if (rc != 0)
		v1_task_report_input_release(out);
	return rc;
}

void v1_task_report_input_release(v1_task_report_input *in)
{
	free(in->result);
	json_decref(in->doc);
	memset(in, 0, sizeof(*in));
}
