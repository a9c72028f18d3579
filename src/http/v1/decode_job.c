/*
 * decode_job.c — the bodies of the /v1 job routes (see decode_job.h).
 */
#include "util/common.h"
#include "http/v1/decode_job.h"

#include "core/error.h"
#include "core/limits.h"
#include "http/decode.h"
#include "util/alloc.h"
#include "util/clock.h"

/* One decoding: the error object, and whether a size limit was passed. */
typedef struct dctx {
	http_error *e;
	bool too_large;
	v1_texts *texts;             /* where compact JSON texts go */
} dctx;

static void texts_release(v1_texts *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->items[i]);
	free(t->items);
	memset(t, 0, sizeof(*t));
}

static const char *texts_keep(v1_texts *t, char *s)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->items = xrealloc(t->items, t->cap * sizeof(char *));
	}
	t->items[t->n++] = s;
	return s;
}

/* What the decoding ended with: 413 when a size was the problem. */
static int outcome(const dctx *d)
{
	if (d->e->details.len == 0)
		return 0;
	return d->too_large ? WEFT_ETOOLARGE : WEFT_EINVALID;
}

static void unknown_members(dctx *d, const json_t *obj, const char *at, const char *const *known)
{
	decode_unknown_members(d->e, obj, at, known);
}

static const char *str_bounded(dctx *d, const json_t *obj, const char *at, const char *key, unsigned flags,
                               size_t max)
{
	return decode_str_bounded(d->e, obj, at, key, flags, max, &d->too_large);
}

/* An integer member in [min, max]; *present says whether it was given. */
static void int_bounded(dctx *d, const json_t *obj, const char *at, const char *key, int64_t min, int64_t max,
                        int64_t *out, bool *present)
{
	int64_t v;
	bool has = false;
	if (decode_int(d->e, obj, at, key, 0, &v, &has) != 0 || !has) {
		if (present != NULL)
			*present = false;
		return;
	}
	if (v < min || v > max) {
		decode_problem(d->e, at, key, "must be from %" PRId64 " to %" PRId64, min, max);
		if (present != NULL)
			*present = false;
		return;
	}
	*out = v;
	if (present != NULL)
		*present = true;
}

/* Any JSON member as compact text of at most max bytes (kept in the
 * texts); NULL when absent or null (or too large, recorded). */
static const char *json_text(dctx *d, const json_t *obj, const char *at, const char *key, size_t max)
{
	json_t *m = decode_member(d->e, obj, at, key, 0, NULL);
	if (m == NULL)
		return NULL;
	char *text = json_dump_compact(m);
	size_t n = strlen(text);
	if (n > max) {
		free(text);
		decode_problem(d->e, at, key, "is %zu bytes of JSON; the limit is %zu", n, max);
		d->too_large = true;
		return NULL;
	}
	return texts_keep(d->texts, text);
}

/* A namespace member. */
static const char *namespace_of(dctx *d, const json_t *obj, const char *at)
{
	const char *s = NULL;
	if (decode_str(d->e, obj, at, "namespace", 0, &s) != 0 || s == NULL)
		return NULL;
	if (!namespace_valid(s)) {
		decode_problem(d->e, at, "namespace", "must match [a-z0-9][a-z0-9_-]{0,62}");
		return NULL;
	}
	return s;
}

/* An array member of 1..max elements: its size, or 0 after recording
 * why (too many is a size problem). */
static size_t array_bounded(dctx *d, const json_t *obj, const char *at, const char *key, unsigned flags,
                            size_t max, json_t **out)
{
	char path[DECODE_PATH_MAX];
	*out = NULL;
	if (decode_array(d->e, obj, at, key, flags, out, path) != 0 || *out == NULL)
		return 0;
	size_t n = json_array_size(*out);
	if (n == 0 || n > max) {
		decode_problem(d->e, at, key, "must have 1 to %zu elements, has %zu", max, n);
		if (n > max)
			d->too_large = true;
		*out = NULL;
		return 0;
	}
	return n;
}

/* Element i of array arr (at "<at>.<key>") as an object, with its path in
 * path; NULL after recording a type error. */
static json_t *element_object(dctx *d, json_t *arr, const char *at, const char *key, size_t i,
                              char path[DECODE_PATH_MAX])
{
	char base[DECODE_PATH_MAX];
	decode_path(base, at, key);
	decode_path_index(path, base, i);
	json_t *el = json_array_get(arr, i);
	if (!json_is_object(el)) {
		decode_type_error(d->e, path, "an object", el);
		return NULL;
	}
	return el;
}

/* The body as an object, or a failure. */
static int body_object(const char *body, size_t len, int max_depth, http_error *e, json_t **doc)
{
	*doc = NULL;
	return decode_body_object(body, len, max_depth, e, doc);
}

/* ---- jobs ---------------------------------------------------------------------------- */

static const char *const job_fields[] = {
	"queue", "name", "input", "priority", "run_at", "delay_ms", "max_attempts", "backoff", "non_retryable_codes",
	"timeout_secs", "dedup", "concurrency_key", "rate_key", "metadata", NULL,
};

static void decode_backoff(dctx *d, const json_t *job, const char *at, job_spec *s)
{
	json_t *b = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_object(d->e, job, at, "backoff", 0, &b, path) != 0 || b == NULL)
		return;
	static const char *const known[] = { "initial_ms", "coefficient", "max_ms", "jitter", NULL };
	unknown_members(d, b, path, known);
	int64_t initial = s->backoff_initial_us / 1000, max = s->backoff_max_us / 1000;
	bool has_max = false;
	int_bounded(d, b, path, "initial_ms", 1, V1_BACKOFF_MAX_MS, &initial, NULL);
	int_bounded(d, b, path, "max_ms", 1, V1_BACKOFF_MAX_MS, &max, &has_max);
	decode_number(d->e, b, path, "coefficient", 1.0, V1_BACKOFF_COEFFICIENT_MAX, &s->backoff_coefficient);
	decode_number(d->e, b, path, "jitter", 0.0, 1.0, &s->backoff_jitter);
	if (max < initial) {
		if (has_max)
			decode_problem(d->e, path, "max_ms", "must not be less than initial_ms (%" PRId64 ")", initial);
		else
			max = initial;   /* the default cap does not undercut a longer first delay */
	}
	s->backoff_initial_us = initial * 1000;
	s->backoff_max_us = max * 1000;
}

static void decode_dedup(dctx *d, const json_t *job, const char *at, job_spec *s)
{
	json_t *o = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_object(d->e, job, at, "dedup", 0, &o, path) != 0 || o == NULL)
		return;
	static const char *const known[] = { "key", "scope", "window_secs", NULL };
	unknown_members(d, o, path, known);
	s->dedup_key = str_bounded(d, o, path, "key", DECODE_REQUIRED, JOB_KEY_MAX);
	const char *scope = "active";
	decode_str(d->e, o, path, "scope", 0, &scope);
	int64_t window = 0;
	bool has_window = false;
	int_bounded(d, o, path, "window_secs", 1, JOB_DEDUP_WINDOW_MAX_SECS, &window, &has_window);
	if (scope != NULL && strcmp(scope, "active") == 0) {
		s->dedup_scope = JOB_DEDUP_ACTIVE;
		if (json_object_get(o, "window_secs") != NULL && !json_is_null(json_object_get(o, "window_secs")))
			decode_problem(d->e, path, "window_secs", "only with scope \"window\"");
	} else if (scope != NULL && strcmp(scope, "window") == 0) {
		s->dedup_scope = JOB_DEDUP_WINDOW;
		s->dedup_window_us = window * 1000000;
		if (!has_window && json_object_get(o, "window_secs") == NULL)
			decode_problem(d->e, path, "window_secs", "missing field (required with scope \"window\")");
	} else if (scope != NULL) {
		decode_problem(d->e, path, "scope", "must be \"active\" or \"window\"");
	}
}

/* non_retryable_codes into codes (the input's one array) at *ncodes. */
static void decode_codes(dctx *d, const json_t *job, const char *at, job_spec *s, const char **codes,
                         size_t *ncodes)
{
	json_t *arr = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_array(d->e, job, at, "non_retryable_codes", 0, &arr, path) != 0 || arr == NULL)
		return;
	size_t n = json_array_size(arr);
	if (n > JOB_NON_RETRYABLE_MAX) {
		decode_problem(d->e, at, "non_retryable_codes", "must have at most %d codes, has %zu",
		               JOB_NON_RETRYABLE_MAX, n);
		d->too_large = true;
		return;
	}
	s->non_retryable = codes + *ncodes;
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_array_get(arr, i);
		char el[DECODE_PATH_MAX];
		decode_path_index(el, path, i);
		if (!json_is_string(c))
			decode_type_error(d->e, el, "a string", c);
		else if (!job_error_code_valid(json_string_value(c)))
			decode_problem(d->e, el, NULL, "must match [a-z0-9_.:-]{1,64}");
		else
			codes[(*ncodes)++] = json_string_value(c);
	}
	s->nnon_retryable = (size_t)(codes + *ncodes - s->non_retryable);
}

/* The API's defaults, set here rather than left to
 * the engine, so that what the OpenAPI document says is what applies. */
static void spec_defaults(job_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->max_attempts = JOB_MAX_ATTEMPTS_DEFAULT;
	s->backoff_initial_us = 1000 * 1000;
	s->backoff_coefficient = 2.0;
	s->backoff_max_us = 60000 * 1000;
	s->backoff_jitter = 0.1;
	s->timeout_secs = JOB_TIMEOUT_DEFAULT;
}

static void decode_job(dctx *d, const json_t *job, const char *at, job_spec *s, const char **codes,
                       size_t *ncodes)
{
	spec_defaults(s);
	unknown_members(d, job, at, job_fields);
	const char *q = NULL;
	if (decode_str(d->e, job, at, "queue", DECODE_REQUIRED, &q) == 0 && q != NULL) {
		if (queue_name_valid(q))
			s->queue = q;
		else
			decode_problem(d->e, at, "queue", "must match [A-Za-z0-9][A-Za-z0-9._:-]{0,99}");
	}
	s->name = str_bounded(d, job, at, "name", 0, TASK_NAME_MAX);
	s->input = json_text(d, job, at, "input", JOB_PAYLOAD_MAX_BYTES);
	int64_t v = 0;
	bool has = false;
	int_bounded(d, job, at, "priority", TASK_PRIORITY_MIN, TASK_PRIORITY_MAX, &v, &has);
	if (has)
		s->priority = (int32_t)v;

	const char *run_at = NULL;
	if (decode_str(d->e, job, at, "run_at", 0, &run_at) == 0 && run_at != NULL &&
	    (time_parse_rfc3339(run_at, &s->run_at_us) != 0 || s->run_at_us <= 0)) {
		decode_problem(d->e, at, "run_at", "expected an RFC 3339 time");
		s->run_at_us = 0;
	}
	int_bounded(d, job, at, "delay_ms", 0, V1_DELAY_MAX_MS, &v, &has);
	if (has)
		s->delay_us = v * 1000;
	if (run_at != NULL && has)
		decode_problem(d->e, at, "delay_ms", "give run_at or delay_ms, not both");

	int_bounded(d, job, at, "max_attempts", -1, JOB_MAX_ATTEMPTS_MAX, &v, &has);
	if (has && v == 0)
		decode_problem(d->e, at, "max_attempts", "must be from 1 to %d, or -1 (forever)", JOB_MAX_ATTEMPTS_MAX);
	else if (has)
		s->max_attempts = (int32_t)v;
	decode_backoff(d, job, at, s);
	decode_codes(d, job, at, s, codes, ncodes);
	int_bounded(d, job, at, "timeout_secs", TASK_TIMEOUT_MIN, TASK_TIMEOUT_MAX, &v, &has);
	if (has)
		s->timeout_secs = (int32_t)v;
	decode_dedup(d, job, at, s);
	s->concurrency_key = str_bounded(d, job, at, "concurrency_key", 0, JOB_KEY_MAX);
	s->rate_key = str_bounded(d, job, at, "rate_key", 0, JOB_KEY_MAX);

	json_t *meta = decode_member(d->e, job, at, "metadata", 0, NULL);
	if (meta != NULL && !json_is_object(meta)) {
		char path[DECODE_PATH_MAX];
		decode_path(path, at, "metadata");
		decode_type_error(d->e, path, "an object", meta);
	} else if (meta != NULL) {
		s->metadata = json_text(d, job, at, "metadata", TASK_METADATA_MAX);
	}
}

int v1_decode_enqueue(const char *body, size_t len, int max_depth, v1_enqueue_input *out, http_error *e)
{
	memset(out, 0, sizeof(*out));
	int rc = body_object(body, len, max_depth, e, &out->doc);
	if (rc != 0)
		return rc;
	dctx d = { e, false, &out->texts };
	static const char *const known[] = { "namespace", "jobs", NULL };
	unknown_members(&d, out->doc, "", known);
	out->namespace = namespace_of(&d, out->doc, "");
	json_t *arr;
	size_t n = array_bounded(&d, out->doc, "", "jobs", DECODE_REQUIRED, JOBS_PER_REQUEST_MAX, &arr);
	if (n > 0) {
		out->jobs = xcalloc(n, sizeof(*out->jobs));
		size_t ncodes_max = 0;
		for (size_t i = 0; i < n; i++) {
			json_t *c = json_object_get(json_array_get(arr, i), "non_retryable_codes");
			if (json_is_array(c))
				ncodes_max += MIN(json_array_size(c), (size_t)JOB_NON_RETRYABLE_MAX);
		}
		out->codes = xcalloc(ncodes_max + 1, sizeof(char *));
		size_t ncodes = 0;
		for (size_t i = 0; i < n; i++) {
			char path[DECODE_PATH_MAX];
			json_t *job = element_object(&d, arr, "", "jobs", i, path);
			if (job != NULL)
				decode_job(&d, job, path, &out->jobs[i], out->codes, &ncodes);
		}
		out->njobs = n;
	}
	rc = outcome(&d);
	if (rc != 0)
		v1_enqueue_input_release(out);
	return rc;
}

void v1_enqueue_input_release(v1_enqueue_input *in)
{
	json_decref(in->doc);
	free(in->jobs);
	free(in->codes);
	texts_release(&in->texts);
	memset(in, 0, sizeof(*in));
}

/* ---- claim ---------------------------------------------------------------------------- */

int v1_decode_claim(const char *body, size_t len, int max_depth, v1_claim_input *out, http_error *e)
{
	memset(out, 0, sizeof(*out));
	out->max_jobs = 1;
	out->lease_ms = JOB_LEASE_DEFAULT_MS;
	int rc = body_object(body, len, max_depth, e, &out->doc);
	if (rc != 0)
		return rc;
	dctx d = { e, false, NULL };
	static const char *const known[] = { "namespace", "queues", "worker_id", "hostname", "max_jobs", "wait_ms",
		                             "lease_ms", NULL };
	unknown_members(&d, out->doc, "", known);
	out->namespace = namespace_of(&d, out->doc, "");
	json_t *arr;
	size_t n = array_bounded(&d, out->doc, "", "queues", DECODE_REQUIRED, CLAIM_QUEUES_MAX, &arr);
	if (n > 0) {
		out->queues = xcalloc(n, sizeof(char *));
		for (size_t i = 0; i < n; i++) {
			json_t *q = json_array_get(arr, i);
			char path[DECODE_PATH_MAX];
			decode_path_index(path, "queues", i);
			if (!json_is_string(q)) {
				decode_type_error(e, path, "a string", q);
				continue;
			}
			const char *name = json_string_value(q);
			if (!queue_name_valid(name)) {
				decode_problem(e, path, NULL, "must match [A-Za-z0-9][A-Za-z0-9._:-]{0,99}");
				continue;
			}
			for (size_t k = 0; k < out->nqueues; k++) {
				if (strcmp(out->queues[k], name) == 0) {
					decode_problem(e, path, NULL, "'%s' is listed twice", name);
					name = NULL;
					break;
				}
			}
			if (name != NULL)
				out->queues[out->nqueues++] = name;
		}
	}
	out->worker_id = str_bounded(&d, out->doc, "", "worker_id", DECODE_REQUIRED, WORKER_ID_MAX);
	out->hostname = str_bounded(&d, out->doc, "", "hostname", 0, WORKER_HOSTNAME_MAX);
	int64_t v = out->max_jobs;
	int_bounded(&d, out->doc, "", "max_jobs", 1, CLAIM_JOBS_MAX, &v, NULL);
	out->max_jobs = (int32_t)v;
	int_bounded(&d, out->doc, "", "wait_ms", 0, CLAIM_WAIT_MAX_MS, &out->wait_ms, NULL);
	int_bounded(&d, out->doc, "", "lease_ms", JOB_LEASE_MIN_MS, JOB_LEASE_MAX_MS, &out->lease_ms, NULL);
	rc = outcome(&d);
	if (rc != 0)
		v1_claim_input_release(out);
	return rc;
}

void v1_claim_input_release(v1_claim_input *in)
{
	json_decref(in->doc);
	free(in->queues);
	memset(in, 0, sizeof(*in));
}

/* ---- reports --------------------------------------------------------------------------- */

int v1_parse_lease_token(const char *s, int64_t *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 19)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* The "id" and "lease_token" of an item; id_given: the path's id (single
 * routes), which an "id" in the body must repeat. */
static void item_identity(dctx *d, const json_t *item, const char *at, const weft_id *id_given, weft_id *id,
                          int64_t *token)
{
	const char *s = NULL;
	if (decode_str(d->e, item, at, "id", id_given != NULL ? 0 : DECODE_REQUIRED, &s) == 0 && s != NULL) {
		if (id_parse(s, id) != 0)
			decode_problem(d->e, at, "id", "expected a UUID");
		else if (id_given != NULL && !id_eq(id, id_given))
			decode_problem(d->e, at, "id", "differs from the id in the path");
	}
	if (id_given != NULL)
		*id = *id_given;
	s = NULL;
	json_t *t = json_object_get(item, "lease_token");
	if (json_is_integer(t)) {
		decode_problem(d->e, at, "lease_token", "expected a string (the lease_token the claim gave, as given)");
		return;
	}
	if (decode_str(d->e, item, at, "lease_token", DECODE_REQUIRED, &s) == 0 && s != NULL &&
	    v1_parse_lease_token(s, token) != 0)
		decode_problem(d->e, at, "lease_token", "expected the lease_token the claim gave (a decimal string)");
}

static void decode_fail_error(dctx *d, const json_t *item, const char *at, job_fail_item *f)
{
	json_t *err = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_object(d->e, item, at, "error", DECODE_REQUIRED, &err, path) != 0 || err == NULL)
		return;
	static const char *const known[] = { "code", "message", "retryable", "details", NULL };
	unknown_members(d, err, path, known);
	const char *code = NULL;
	if (decode_str(d->e, err, path, "code", DECODE_REQUIRED, &code) == 0 && code != NULL) {
		if (job_error_code_valid(code))
			f->code = code;
		else
			decode_problem(d->e, path, "code", "must match [a-z0-9_.:-]{1,64}");
	}
	const char *msg = NULL;
	if (decode_str(d->e, err, path, "message", 0, &msg) == 0 && msg != NULL) {
		if (strlen(msg) > JOB_ERROR_MESSAGE_MAX) {
			decode_problem(d->e, path, "message", "must be at most %d bytes", JOB_ERROR_MESSAGE_MAX);
			d->too_large = true;
		} else {
			f->message = msg;
		}
	}
	f->retryable = true;
	decode_bool(d->e, err, path, "retryable", 0, &f->retryable, NULL);
	f->details = json_text(d, err, path, "details", JOB_ERROR_DETAILS_MAX);
}

/* One item of a report into index i of its kind's array. */
static void decode_item(dctx *d, v1_report_input *in, const json_t *item, const char *at, size_t i,
                        const weft_id *id_given)
{
	static const char *const complete_fields[] = { "id", "lease_token", "result", NULL };
	static const char *const fail_fields[] = { "id", "lease_token", "error", "retry_after_ms", NULL };
	static const char *const release_fields[] = { "id", "lease_token", NULL };
	switch (in->kind) {
	case V1_REPORT_COMPLETE: {
		job_complete_item *c = &in->completes[i];
		unknown_members(d, item, at, complete_fields);
		item_identity(d, item, at, id_given, &c->id, &c->lease_token);
		c->result = json_text(d, item, at, "result", JOB_PAYLOAD_MAX_BYTES);
		break;
	}
	case V1_REPORT_FAIL: {
		job_fail_item *f = &in->fails[i];
		unknown_members(d, item, at, fail_fields);
		item_identity(d, item, at, id_given, &f->id, &f->lease_token);
		decode_fail_error(d, item, at, f);
		bool has = false;
		f->retry_after_us = -1;
		int64_t ms = 0;
		int_bounded(d, item, at, "retry_after_ms", 0, V1_RETRY_AFTER_MAX_MS, &ms, &has);
		if (has)
			f->retry_after_us = ms * 1000;
		break;
	}
	case V1_REPORT_RELEASE: {
		job_release_item *r = &in->releases[i];
		unknown_members(d, item, at, release_fields);
		item_identity(d, item, at, id_given, &r->id, &r->lease_token);
		break;
	}
	}
}

static void report_alloc(v1_report_input *in, size_t n)
{
	switch (in->kind) {
	case V1_REPORT_COMPLETE: in->completes = xcalloc(n, sizeof(*in->completes)); break;
	case V1_REPORT_FAIL: in->fails = xcalloc(n, sizeof(*in->fails)); break;
	case V1_REPORT_RELEASE: in->releases = xcalloc(n, sizeof(*in->releases)); break;
	}
	in->nitems = n;
}

int v1_decode_report(v1_report_kind kind, const char *body, size_t len, int max_depth, v1_report_input *out,
                     http_error *e)
{
	memset(out, 0, sizeof(*out));
	out->kind = kind;
	int rc = body_object(body, len, max_depth, e, &out->doc);
	if (rc != 0)
		return rc;
	dctx d = { e, false, &out->texts };
	static const char *const known[] = { "items", NULL };
	unknown_members(&d, out->doc, "", known);
	json_t *arr;
	size_t n = array_bounded(&d, out->doc, "", "items", DECODE_REQUIRED, JOBS_PER_REQUEST_MAX, &arr);
	if (n > 0) {
		report_alloc(out, n);
		for (size_t i = 0; i < n; i++) {
			char path[DECODE_PATH_MAX];
			json_t *item = element_object(&d, arr, "", "items", i, path);
			if (item != NULL)
				decode_item(&d, out, item, path, i, NULL);
		}
	}
	rc = outcome(&d);
	if (rc != 0)
		v1_report_input_release(out);
	return rc;
}

int v1_decode_report_one(v1_report_kind kind, const weft_id *id, const char *body, size_t len, int max_depth,
                         v1_report_input *out, http_error *e)
{
	memset(out, 0, sizeof(*out));
	out->kind = kind;
	int rc = body_object(body, len, max_depth, e, &out->doc);
	if (rc != 0)
		return rc;
	dctx d = { e, false, &out->texts };
	report_alloc(out, 1);
	decode_item(&d, out, out->doc, "", 0, id);
	rc = outcome(&d);
	if (rc != 0)
		v1_report_input_release(out);
	return rc;
}

void v1_report_input_release(v1_report_input *in)
{
	json_decref(in->doc);
	free(in->completes);
	free(in->fails);
	free(in->releases);
	texts_release(&in->texts);
	memset(in, 0, sizeof(*in));
}

/* ---- heartbeat -------------------------------------------------------------------------- */

int v1_decode_heartbeat(const char *body, size_t len, int max_depth, v1_heartbeat_input *out, http_error *e)
{
	memset(out, 0, sizeof(*out));
	out->lease_ms = JOB_LEASE_DEFAULT_MS;
	int rc = body_object(body, len, max_depth, e, &out->doc);
	if (rc != 0)
		return rc;
	dctx d = { e, false, &out->texts };
	static const char *const known[] = { "worker_id", "lease_ms", "leases", NULL };
	static const char *const lease_fields[] = { "id", "lease_token", "progress", NULL };
	unknown_members(&d, out->doc, "", known);
	out->worker_id = str_bounded(&d, out->doc, "", "worker_id", DECODE_REQUIRED, WORKER_ID_MAX);
	int_bounded(&d, out->doc, "", "lease_ms", JOB_LEASE_MIN_MS, JOB_LEASE_MAX_MS, &out->lease_ms, NULL);
	json_t *arr;
	size_t n = array_bounded(&d, out->doc, "", "leases", DECODE_REQUIRED, JOBS_PER_REQUEST_MAX, &arr);
	if (n > 0) {
		out->items = xcalloc(n, sizeof(*out->items));
		out->nitems = n;
		for (size_t i = 0; i < n; i++) {
			char path[DECODE_PATH_MAX];
			json_t *item = element_object(&d, arr, "", "leases", i, path);
			if (item == NULL)
				continue;
			unknown_members(&d, item, path, lease_fields);
			item_identity(&d, item, path, NULL, &out->items[i].id, &out->items[i].lease_token);
			out->items[i].progress = json_text(&d, item, path, "progress", JOB_PROGRESS_MAX);
		}
	}
	rc = outcome(&d);
	if (rc != 0)
		v1_heartbeat_input_release(out);
	return rc;
}

void v1_heartbeat_input_release(v1_heartbeat_input *in)
{
	json_decref(in->doc);
	free(in->items);
	texts_release(&in->texts);
	memset(in, 0, sizeof(*in));
}

/* ---- a job inside another body (a run's queue tasks: decode_run.c) ------------------------ */

int v1_decode_job_in(const json_t *job, const char *at, const char *const *also_known, job_spec *s,
                     const char **codes, size_t *ncodes, v1_texts *texts, http_error *e, bool *too_large)
{
	/* A shallow copy without the caller's members: its values are the
	 * body's own, so what the spec borrows lives as long as the body. */
	json_t *own = json_copy((json_t *)job);
	for (const char *const *k = also_known; k != NULL && *k != NULL; k++)
		json_object_del(own, *k);
	dctx d = { e, false, texts };
	size_t before = e->details.len;
	decode_job(&d, own, at, s, codes, ncodes);
	json_decref(own);
	*too_large |= d.too_large;
	return e->details.len != before ? WEFT_EINVALID : 0;
}

void v1_texts_release(v1_texts *t)
{
	texts_release(t);
}
