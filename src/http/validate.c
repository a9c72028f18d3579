/*
 * validate.c — ArcRun request decoding and validation (see validate.h).
 *
 * Decoders walk the parsed JSON once, type-check each field as serde would
 * (required fields, JSON types, integer ranges, enum spellings), apply
 * ArcRun's validation rules (reference/arcrun.md §12) and build the engine's
 * structs. Every problem is collected; decoding goes on past a bad field so
 * that one answer lists them all.
 *
 * Field paths in messages: "tasks[3].rules[0].matcher.kind" for POST /task,
 * bare names ("status", "rules[0].max_capacity") for the other bodies.
 */
#include "validate.h"
#include "arcrun_names.h"

#include <math.h>

#include "../engine/retry.h"
#include "../exec/webhook.h"
#include "../util/alloc.h"
#include "../util/buf.h"
#include "../util/clock.h"
#include "../util/json.h"

#define PATH_MAX_LEN 256
#define GROUP_NAME_MAX 255

/* Result of reading one field. */
enum { F_BAD = -1, F_ABSENT = 0, F_OK = 1 };

typedef struct vctx {
	errlist *errs;
	const weft_config *cfg;
} vctx;

/* Field paths are built for every field looked up, so without printf:
 * this is on the path of every task of a 100,000-task batch. */
static size_t path_put(char out[PATH_MAX_LEN], size_t at, const char *s)
{
	size_t n = strlen(s);
	if (at + n >= PATH_MAX_LEN)
		n = PATH_MAX_LEN - 1 - at;
	memcpy(out + at, s, n);
	out[at + n] = '\0';
	return at + n;
}

static void path_key(char out[PATH_MAX_LEN], const char *prefix, const char *key)
{
	size_t at = 0;
	out[0] = '\0';
	if (prefix != NULL && prefix[0] != '\0') {
		at = path_put(out, 0, prefix);
		at = path_put(out, at, ".");
	}
	path_put(out, at, key);
}

static void path_index(char out[PATH_MAX_LEN], const char *prefix, size_t i)
{
	char digits[24], *d = digits + sizeof(digits) - 1;
	*d = '\0';
	do {
		*--d = (char)('0' + i % 10);
		i /= 10;
	} while (i > 0);
	*--d = '[';
	size_t at = path_put(out, 0, prefix);
	at = path_put(out, at, d);
	path_put(out, at, "]");
}

static void type_error(vctx *v, const char *path, const char *expected, const json_t *got)
{
	errlist_add(v->errs, "%s: expected %s, got %s", path, expected, json_type_name(got));
}

static bool is_blank(const char *s)
{
	for (; *s; s++) {
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '\f' && *s != '\v')
			return false;
	}
	return true;
}

/* Looks a member up. Optional fields treat null like absence (serde's
 * Option); required ones report absence as "missing field". The field's
 * path is written into `path` when the caller wants it (non-NULL) and the
 * member is there; scalar getters pass NULL and build it only for an
 * error, which keeps large batches cheap. */
static json_t *member(vctx *v, const json_t *obj, const char *prefix, const char *key, bool required,
                      char *path)
{
	json_t *m = json_object_get(obj, key);
	if (m == NULL) {
		if (required) {
			char p[PATH_MAX_LEN];
			path_key(p, prefix, key);
			errlist_add(v->errs, "%s: missing field", p);
		}
		return NULL;
	}
	if (json_is_null(m) && !required)
		return NULL;
	if (path != NULL)
		path_key(path, prefix, key);
	return m;
}

static void field_type_error(vctx *v, const char *prefix, const char *key, const char *expected,
                             const json_t *got)
{
	char path[PATH_MAX_LEN];
	path_key(path, prefix, key);
	type_error(v, path, expected, got);
}

static int get_str(vctx *v, const json_t *obj, const char *prefix, const char *key, bool required,
                   const char **out)
{
	json_t *m = member(v, obj, prefix, key, required, NULL);
	if (m == NULL)
		return required ? F_BAD : F_ABSENT;
	if (!json_is_string(m)) {
		field_type_error(v, prefix, key, "a string", m);
		return F_BAD;
	}
	*out = json_string_value(m);
	return F_OK;
}

static int get_int(vctx *v, const json_t *obj, const char *prefix, const char *key, bool required,
                   bool is32, int64_t *out)
{
	json_t *m = member(v, obj, prefix, key, required, NULL);
	if (m == NULL)
		return required ? F_BAD : F_ABSENT;
	if (!json_is_integer(m)) {
		field_type_error(v, prefix, key, "an integer", m);
		return F_BAD;
	}
	json_int_t x = json_integer_value(m);
	if (is32 && (x < INT32_MIN || x > INT32_MAX)) {
		char path[PATH_MAX_LEN];
		path_key(path, prefix, key);
		errlist_add(v->errs, "%s: expected a 32-bit integer, got %lld", path, (long long)x);
		return F_BAD;
	}
	*out = (int64_t)x;
	return F_OK;
}

static int get_bool(vctx *v, const json_t *obj, const char *prefix, const char *key, bool required,
                    bool *out)
{
	json_t *m = member(v, obj, prefix, key, required, NULL);
	if (m == NULL)
		return required ? F_BAD : F_ABSENT;
	if (!json_is_boolean(m)) {
		field_type_error(v, prefix, key, "a boolean", m);
		return F_BAD;
	}
	*out = json_is_true(m);
	return F_OK;
}

/* A JSON number (integer or not) in [min, max]; out of range reports
 * "<key> must be between <min> and <max>". */
static int get_number(vctx *v, const json_t *obj, const char *prefix, const char *key, double min,
                      double max, double *out)
{
	json_t *m = member(v, obj, prefix, key, false, NULL);
	if (m == NULL)
		return F_ABSENT;
	if (!json_is_number(m)) {
		field_type_error(v, prefix, key, "a number", m);
		return F_BAD;
	}
	double d = json_number_value(m);
	if (!(d >= min && d <= max)) {
		char path[PATH_MAX_LEN];
		path_key(path, prefix, key);
		errlist_add(v->errs, "%s: %s must be between %g and %g", path, key, min, max);
		return F_BAD;
	}
	*out = d == 0 ? 0 : d;     /* no "-0" in the stored form */
	return F_OK;
}

static int get_array(vctx *v, const json_t *obj, const char *prefix, const char *key, bool required,
                     json_t **out, char path[PATH_MAX_LEN])
{
	json_t *m = member(v, obj, prefix, key, required, path);
	if (m == NULL)
		return required ? F_BAD : F_ABSENT;
	if (!json_is_array(m)) {
		type_error(v, path, "an array", m);
		return F_BAD;
	}
	*out = m;
	return F_OK;
}

static int get_status(vctx *v, const json_t *obj, const char *prefix, const char *key, bool required,
                      task_status *out)
{
	const char *s;
	int r = get_str(v, obj, prefix, key, required, &s);
	if (r != F_OK)
		return r;
	if (arcrun_status_parse(s, out) != 0) {
		char path[PATH_MAX_LEN];
		path_key(path, prefix, key);
		errlist_add(v->errs, "%s: unknown status '%s'", path, s);
		return F_BAD;
	}
	return F_OK;
}

/* Compact JSON of any metadata value, bounded by TASK_METADATA_MAX. NULL
 * (with a message) when too large. */
static char *metadata_text(vctx *v, const json_t *m, const char *path)
{
	char *text = json_dump_compact(m);
	if (strlen(text) > TASK_METADATA_MAX) {
		errlist_add(v->errs, "%s: Metadata cannot exceed 64KB", path);
		free(text);
		return NULL;
	}
	return text;
}

static void matcher_release(new_matcher *m)
{
	free(m->kind);
	for (size_t i = 0; i < m->nfields; i++)
		free(m->fields[i]);
	free(m->fields);
	memset(m, 0, sizeof(*m));
}

/* Matcher {status, kind, fields}, all required. On success *out owns its
 * strings. */
static bool decode_matcher(vctx *v, const json_t *m, const char *path, new_matcher *out)
{
	size_t before = v->errs->len;
	memset(out, 0, sizeof(*out));
	if (!json_is_object(m)) {
		type_error(v, path, "an object", m);
		return false;
	}
	task_status st = TS_PENDING;
	const char *kind = NULL;
	json_t *fields = NULL;
	char fpath[PATH_MAX_LEN];
	get_status(v, m, path, "status", true, &st);
	get_str(v, m, path, "kind", true, &kind);
	if (get_array(v, m, path, "fields", true, &fields, fpath) == F_OK) {
		size_t i;
		json_t *f;
		json_array_foreach(fields, i, f) {
			if (!json_is_string(f)) {
				char ipath[PATH_MAX_LEN];
				path_index(ipath, fpath, i);
				type_error(v, ipath, "a string", f);
			}
		}
	}
	if (v->errs->len != before)
		return false;

	out->status = st;
	out->kind = xstrdup(kind);
	out->nfields = json_array_size(fields);
	if (out->nfields > 0) {
		out->fields = xcalloc(out->nfields, sizeof(char *));
		for (size_t i = 0; i < out->nfields; i++)
			out->fields[i] = xstrdup(json_string_value(json_array_get(fields, i)));
	}
	return true;
}

/* One rules array (§9, §12.1): strategies tagged by "type". Sets
 * *has_capacity when any Capacity rule is present. Items are reported as
 * "<path>[j]". */
static void check_rules(vctx *v, const json_t *rules, const char *path, bool *has_capacity)
{
	size_t j;
	json_t *r;
	*has_capacity = false;
	json_array_foreach(rules, j, r) {
		char rpath[PATH_MAX_LEN], fpath[PATH_MAX_LEN];
		path_index(rpath, path, j);
		if (!json_is_object(r)) {
			type_error(v, rpath, "an object", r);
			continue;
		}
		const char *type = NULL;
		bool capacity = false, known = false;
		if (get_str(v, r, rpath, "type", true, &type) == F_OK) {
			if (strcmp(type, "Concurency") == 0) {
				known = true;
			} else if (strcmp(type, "Capacity") == 0) {
				known = capacity = true;
			} else {
				path_key(fpath, rpath, "type");
				errlist_add(v->errs, "%s: unknown variant '%s', expected 'Concurency' or 'Capacity'",
				            fpath, type);
			}
		}
		if (known) {
			const char *key = capacity ? "max_capacity" : "max_concurency";
			int64_t max = 0;
			if (get_int(v, r, rpath, key, true, true, &max) == F_OK && max <= 0) {
				path_key(fpath, rpath, key);
				errlist_add(v->errs, "%s: %s must be a positive integer", fpath, key);
			}
		}
		if (capacity)
			*has_capacity = true;

		json_t *m = member(v, r, rpath, "matcher", true, fpath);
		new_matcher nm;
		if (m != NULL && decode_matcher(v, m, fpath, &nm)) {
			char kpath[PATH_MAX_LEN];
			if (is_blank(nm.kind)) {
				path_key(kpath, fpath, "kind");
				errlist_add(v->errs, "%s: Matcher kind cannot be empty", kpath);
			}
			if (capacity && nm.status != TS_RUNNING) {
				path_key(kpath, fpath, "status");
				errlist_add(v->errs, "%s: Capacity rules only support matcher.status = Running", kpath);
			}
			matcher_release(&nm);
		}
	}
}

/* A NewActionDto {kind: "Webhook", params: WebhookParams}. Returns the
 * compact JSON of params (owned), or NULL after reporting. */
static char *decode_action(vctx *v, const json_t *a, const char *path)
{
	size_t before = v->errs->len;
	if (!json_is_object(a)) {
		type_error(v, path, "an object", a);
		return NULL;
	}
	const char *kind;
	char fpath[PATH_MAX_LEN];
	if (get_str(v, a, path, "kind", true, &kind) == F_OK && strcmp(kind, "Webhook") != 0) {
		path_key(fpath, path, "kind");
		errlist_add(v->errs, "%s: unknown variant '%s', expected 'Webhook'", fpath, kind);
	}
	json_t *params = member(v, a, path, "params", true, fpath);
	if (params != NULL) {
		char err[VALIDATE_MSG_MAX];
		err[0] = '\0';
		if (webhook_params_check(params, &v->cfg->ssrf, err, sizeof(err)) != 0)
			errlist_add(v->errs, "%s: %s", fpath, err[0] ? err : "Invalid webhook params");
	}
	if (v->errs->len != before)
		return NULL;
	return json_dump_compact(params);
}

/* An optional array of NewActionDto at obj.key; returns the params texts
 * (owned) and their count. */
static char **decode_action_list(vctx *v, const json_t *obj, const char *prefix, const char *key,
                                 size_t *n)
{
	json_t *arr = NULL;
	char path[PATH_MAX_LEN];
	*n = 0;
	if (get_array(v, obj, prefix, key, false, &arr, path) != F_OK || json_array_size(arr) == 0)
		return NULL;
	size_t count = json_array_size(arr);
	char **out = xcalloc(count, sizeof(char *));
	size_t i;
	json_t *a;
	json_array_foreach(arr, i, a) {
		char ipath[PATH_MAX_LEN];
		path_index(ipath, path, i);
		out[i] = decode_action(v, a, ipath);
	}
	*n = count;
	return out;
}

/* ---- POST /task ------------------------------------------------------ */

/* What the batch-level pass needs beyond new_task: local ids (borrowed
 * from the parsed document). */
typedef struct task_refs {
	const char *id;            /* NULL when missing or blank */
	const char **dep_ids;      /* ndeps entries; NULL for blank ones */
} task_refs;

static void decode_dependencies(vctx *v, const json_t *t, const char *prefix, new_task *out,
                                task_refs *refs)
{
	json_t *deps = NULL;
	char path[PATH_MAX_LEN];
	if (get_array(v, t, prefix, "dependencies", false, &deps, path) != F_OK)
		return;
	size_t n = json_array_size(deps);
	if (n == 0)
		return;
	if (n > v->cfg->max_deps_per_task) {
		errlist_add(v->errs, "%s: Too many dependencies: %zu (limit is %zu)", path, n,
		            v->cfg->max_deps_per_task);
		return;
	}
	out->deps = xcalloc(n, sizeof(new_dependency));
	out->ndeps = n;
	refs->dep_ids = xcalloc(n, sizeof(char *));
	bool self_reported = false;
	for (size_t j = 0; j < n; j++) {
		json_t *d = json_array_get(deps, j);
		char dpath[PATH_MAX_LEN];
		path_index(dpath, path, j);
		if (!json_is_object(d)) {
			type_error(v, dpath, "an object", d);
			continue;
		}
		const char *id = NULL;
		bool rs = false;
		int rid = get_str(v, d, dpath, "id", true, &id);
		get_bool(v, d, dpath, "requires_success", true, &rs);
		out->deps[j].requires_success = rs;
		if (rid != F_OK)
			continue;
		if (is_blank(id)) {
			char ipath[PATH_MAX_LEN];
			path_key(ipath, dpath, "id");
			errlist_add(v->errs, "%s: Dependency ID cannot be empty", ipath);
			continue;
		}
		refs->dep_ids[j] = id;
		if (refs->id != NULL && strcmp(id, refs->id) == 0 && !self_reported) {
			errlist_add(v->errs, "%s: Task cannot depend on itself", path);
			self_reported = true;
		}
		for (size_t k = 0; k < j; k++) {
			if (refs->dep_ids[k] != NULL && strcmp(refs->dep_ids[k], id) == 0) {
				errlist_add(v->errs, "%s: Duplicate dependency: %s", path, id);
				break;
			}
		}
	}
}

/* A number in its shortest form that reads back exactly ("2", "0.5"). */
static void put_number(buf *b, double d)
{
	if (d == floor(d) && fabs(d) < 1e15) {
		buf_printf(b, "%.0f", d);
		return;
	}
	char t[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(t, sizeof(t), "%.*g", prec, d);
		if (strtod(t, NULL) == d)
			break;
	}
	buf_puts(b, t);
}

/* retry_on names in their canonical order, with their bits. */
static const struct {
	const char *name;
	unsigned bit;
} retry_causes[] = {
	{ "timeout", RETRY_ON_TIMEOUT },
	{ "webhook_failure", RETRY_ON_WEBHOOK_FAILURE },
	{ "explicit", RETRY_ON_EXPLICIT },
};

/* The task's "retry" object; returns its canonical JSON (owned, see
 * engine/retry.h) or NULL when absent, null or invalid. */
static char *decode_retry(vctx *v, const json_t *t, const char *prefix)
{
	char path[PATH_MAX_LEN], fpath[PATH_MAX_LEN];
	json_t *m = member(v, t, prefix, "retry", false, path);
	if (m == NULL)
		return NULL;
	if (!json_is_object(m)) {
		type_error(v, path, "an object", m);
		return NULL;
	}
	size_t before = v->errs->len;
	int64_t max_retries = 0;
	if (get_int(v, m, path, "max_retries", true, false, &max_retries) == F_OK &&
	    (max_retries < 0 || max_retries > RETRY_MAX_RETRIES_LIMIT)) {
		path_key(fpath, path, "max_retries");
		errlist_add(v->errs, "%s: max_retries must be between 0 and %d", fpath, RETRY_MAX_RETRIES_LIMIT);
	}
	double initial = 5, multiplier = 2, max_delay = 300;
	get_number(v, m, path, "initial_delay_secs", 0, RETRY_MAX_DELAY_LIMIT_SECS, &initial);
	get_number(v, m, path, "backoff_multiplier", 1, 100, &multiplier);
	get_number(v, m, path, "max_delay_secs", 0, RETRY_MAX_DELAY_LIMIT_SECS, &max_delay);

	unsigned on = RETRY_ON_TIMEOUT | RETRY_ON_WEBHOOK_FAILURE | RETRY_ON_EXPLICIT;
	json_t *arr = NULL;
	if (get_array(v, m, path, "retry_on", false, &arr, fpath) == F_OK) {
		on = 0;
		size_t i;
		json_t *c;
		json_array_foreach(arr, i, c) {
			char ipath[PATH_MAX_LEN];
			if (!json_is_string(c)) {
				path_index(ipath, fpath, i);
				type_error(v, ipath, "a string", c);
				continue;
			}
			size_t k = 0;
			while (k < ARRAY_LEN(retry_causes) && strcmp(retry_causes[k].name, json_string_value(c)) != 0)
				k++;
			if (k == ARRAY_LEN(retry_causes)) {
				path_index(ipath, fpath, i);
				errlist_add(v->errs,
				            "%s: unknown retry cause '%s' (expected timeout, webhook_failure or explicit)",
				            ipath, json_string_value(c));
				continue;
			}
			on |= retry_causes[k].bit;
		}
	}
	if (v->errs->len != before)
		return NULL;

	buf b;
	buf_init(&b);
	buf_printf(&b, "{\"max_retries\":%" PRId64 ",\"initial_delay_secs\":", max_retries);
	put_number(&b, initial);
	buf_puts(&b, ",\"backoff_multiplier\":");
	put_number(&b, multiplier);
	buf_puts(&b, ",\"max_delay_secs\":");
	put_number(&b, max_delay);
	buf_puts(&b, ",\"retry_on\":[");
	bool first = true;
	for (size_t k = 0; k < ARRAY_LEN(retry_causes); k++) {
		if (!(on & retry_causes[k].bit))
			continue;
		buf_printf(&b, "%s\"%s\"", first ? "" : ",", retry_causes[k].name);
		first = false;
	}
	buf_puts(&b, "]}");
	return buf_detach(&b, NULL);
}

/* weft's additions to NewTaskDto: retry, start_after, group. */
static void decode_task_extras(vctx *v, const json_t *t, const char *prefix, new_task *out)
{
	char path[PATH_MAX_LEN];
	out->retry_policy = decode_retry(v, t, prefix);

	const char *s;
	if (get_str(v, t, prefix, "start_after", false, &s) == F_OK) {
		int64_t us;
		if (time_parse_rfc3339(s, &us) != 0) {
			path_key(path, prefix, "start_after");
			errlist_add(v->errs, "%s: start_after must be an RFC 3339 timestamp", path);
		} else {
			out->start_after = us > 0 ? us : 0;
		}
	}

	if (get_str(v, t, prefix, "group", false, &s) == F_OK) {
		const char *end = s + strlen(s);
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v')
			s++;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r' ||
		                   end[-1] == '\f' || end[-1] == '\v'))
			end--;
		size_t n = (size_t)(end - s);
		if (n == 0 || n > GROUP_NAME_MAX) {
			path_key(path, prefix, "group");
			if (n == 0)
				errlist_add(v->errs, "%s: Group name cannot be empty", path);
			else
				errlist_add(v->errs, "%s: Group name cannot exceed %d characters", path, GROUP_NAME_MAX);
		} else {
			out->group = xstrndup(s, n);
		}
	}
}

/* One NewTaskDto at index i. Fills *out (owned parts) and *refs. */
static void decode_task(vctx *v, const json_t *t, size_t i, new_task *out, task_refs *refs)
{
	char prefix[PATH_MAX_LEN], path[PATH_MAX_LEN];
	path_index(prefix, "tasks", i);
	if (!json_is_object(t)) {
		type_error(v, prefix, "an object", t);
		return;
	}

	const char *s;
	if (get_str(v, t, prefix, "id", true, &s) == F_OK) {
		if (is_blank(s)) {
			path_key(path, prefix, "id");
			errlist_add(v->errs, "%s: Task local ID cannot be empty", path);
		} else {
			refs->id = s;
		}
	}
	if (get_str(v, t, prefix, "name", true, &s) == F_OK) {
		if (is_blank(s) || strlen(s) > TASK_NAME_MAX) {
			path_key(path, prefix, "name");
			if (is_blank(s))
				errlist_add(v->errs, "%s: Task name cannot be empty", path);
			else
				errlist_add(v->errs, "%s: Task name cannot exceed %d characters", path, TASK_NAME_MAX);
		}
		out->name = xstrdup(s);
	}
	if (get_str(v, t, prefix, "kind", true, &s) == F_OK) {
		if (is_blank(s) || strlen(s) > TASK_KIND_MAX) {
			path_key(path, prefix, "kind");
			if (is_blank(s))
				errlist_add(v->errs, "%s: Task kind cannot be empty", path);
			else
				errlist_add(v->errs, "%s: Task kind cannot exceed %d characters", path, TASK_KIND_MAX);
		}
		out->kind = xstrdup(s);
	}

	json_t *m = member(v, t, prefix, "on_start", true, path);
	if (m != NULL)
		out->on_start = decode_action(v, m, path);

	int64_t x;
	out->timeout_secs = TASK_TIMEOUT_DEFAULT;
	if (get_int(v, t, prefix, "timeout", false, true, &x) == F_OK) {
		if (x < TASK_TIMEOUT_MIN || x > TASK_TIMEOUT_MAX) {
			path_key(path, prefix, "timeout");
			if (x < TASK_TIMEOUT_MIN)
				errlist_add(v->errs, "%s: Timeout must be a positive integer", path);
			else
				errlist_add(v->errs, "%s: Timeout cannot exceed %d seconds (24 hours)", path,
				            TASK_TIMEOUT_MAX);
		}
		out->timeout_secs = (int32_t)x;
	}

	m = member(v, t, prefix, "metadata", false, path);
	out->metadata = m != NULL ? metadata_text(v, m, path) : xstrdup("null");

	json_t *arr = NULL;
	if (get_array(v, t, prefix, "dedupe_strategy", false, &arr, path) == F_OK &&
	    json_array_size(arr) > 0) {
		size_t n = json_array_size(arr);
		out->dedupe = xcalloc(n, sizeof(new_matcher));
		for (size_t j = 0; j < n; j++) {
			char mpath[PATH_MAX_LEN];
			path_index(mpath, path, j);
			if (decode_matcher(v, json_array_get(arr, j), mpath, &out->dedupe[out->ndedupe]))
				out->ndedupe++;
		}
	}

	bool has_capacity = false;
	arr = NULL;
	if (get_array(v, t, prefix, "rules", false, &arr, path) == F_OK) {
		check_rules(v, arr, path, &has_capacity);
		out->rules = json_dump_compact(arr);
	} else {
		out->rules = xstrdup("[]");
	}

	decode_dependencies(v, t, prefix, out, refs);

	if (get_int(v, t, prefix, "expected_count", false, false, &x) == F_OK) {
		out->has_expected_count = true;
		out->expected_count = x;
		if (x < 0) {
			path_key(path, prefix, "expected_count");
			errlist_add(v->errs, "%s: expected_count cannot be negative", path);
		}
	}
	if (has_capacity && !out->has_expected_count) {
		path_key(path, prefix, "expected_count");
		errlist_add(v->errs, "%s: expected_count is required when a Capacity rule is used", path);
	}

	out->on_failure = decode_action_list(v, t, prefix, "on_failure", &out->non_failure);
	out->on_success = decode_action_list(v, t, prefix, "on_success", &out->non_success);
	size_t nactions = 1 + out->non_failure + out->non_success;
	if (nactions > v->cfg->max_actions_per_task) {
		path_key(path, prefix, "actions");
		errlist_add(v->errs, "%s: Too many actions: %zu (limit is %zu)", path, nactions,
		            v->cfg->max_actions_per_task);
	}

	bool b;
	if (get_bool(v, t, prefix, "dead_end_barrier", false, &b) == F_OK)
		out->dead_end_barrier = b;

	if (get_int(v, t, prefix, "priority", false, true, &x) == F_OK) {
		if (x < TASK_PRIORITY_MIN || x > TASK_PRIORITY_MAX) {
			path_key(path, prefix, "priority");
			errlist_add(v->errs, "%s: priority must be between %d and %d", path, TASK_PRIORITY_MIN,
			            TASK_PRIORITY_MAX);
		}
		out->priority = (int32_t)x;
	}

	decode_task_extras(v, t, prefix, out);
}

/* Open-addressing map from local id to its first index. */
typedef struct id_map {
	const char **keys;
	size_t *idx;
	size_t mask;
} id_map;

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static void id_map_init(id_map *m, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap <<= 1;
	m->keys = xcalloc(cap, sizeof(char *));
	m->idx = xcalloc(cap, sizeof(size_t));
	m->mask = cap - 1;
}

static void id_map_release(id_map *m)
{
	free(m->keys);
	free(m->idx);
}

/* Returns the slot of key: either holding it or the empty one to use. */
static size_t id_map_slot(const id_map *m, const char *key)
{
	size_t i = (size_t)hash_str(key) & m->mask;
	while (m->keys[i] != NULL && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & m->mask;
	return i;
}

/* §12.1 batch-level checks: duplicate ids, unknown dependencies and
 * dependencies that do not point strictly earlier. Resolves deps to
 * parent indices. */
static void check_batch_links(vctx *v, new_task *tasks, task_refs *refs, size_t n)
{
	id_map map;
	id_map_init(&map, n);
	for (size_t i = 0; i < n; i++) {
		if (refs[i].id == NULL)
			continue;
		size_t slot = id_map_slot(&map, refs[i].id);
		if (map.keys[slot] != NULL) {
			errlist_add(v->errs, "tasks[%zu].id: duplicate task id: '%s' (first defined at index %zu)",
			            i, refs[i].id, map.idx[slot]);
		} else {
			map.keys[slot] = refs[i].id;
			map.idx[slot] = i;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (refs[i].dep_ids == NULL)
			continue;
		for (size_t j = 0; j < tasks[i].ndeps; j++) {
			const char *dep = refs[i].dep_ids[j];
			if (dep == NULL)
				continue;
			size_t slot = id_map_slot(&map, dep);
			if (map.keys[slot] == NULL) {
				errlist_add(v->errs, "tasks[%zu].dependencies: unknown dependency: '%s'", i, dep);
			} else if (map.idx[slot] >= i) {
				errlist_add(v->errs,
				            "tasks[%zu].dependencies: dependency '%s' must appear before task '%s' in the batch",
				            i, dep, refs[i].id != NULL ? refs[i].id : "");
			} else {
				tasks[i].deps[j].parent_index = map.idx[slot];
			}
		}
	}
	id_map_release(&map);
}

/* The object form's batch-level fields. */
static void decode_batch_fields(vctx *v, const json_t *root, batch_input *out)
{
	char path[PATH_MAX_LEN];
	const char *scope;
	if (get_str(v, root, "", "scope", false, &scope) == F_OK) {
		if (strlen(scope) > TASK_NAME_MAX)
			errlist_add(v->errs, "scope: Scope cannot exceed %d characters", TASK_NAME_MAX);
		else
			out->scope = xstrdup(scope);
	}
	json_t *m = member(v, root, "", "metadata", false, path);
	if (m != NULL)
		out->metadata = metadata_text(v, m, path);

	json_t *arr = NULL;
	if (get_array(v, root, "", "on_batch_complete", false, &arr, path) != F_OK ||
	    json_array_size(arr) == 0)
		return;
	size_t n = json_array_size(arr);
	if (n > v->cfg->max_actions_per_task) {
		errlist_add(v->errs, "%s: Too many actions: %zu (limit is %zu)", path, n,
		            v->cfg->max_actions_per_task);
		return;
	}
	size_t before = v->errs->len;
	for (size_t i = 0; i < n; i++) {
		char ipath[PATH_MAX_LEN];
		path_index(ipath, path, i);
		free(decode_action(v, json_array_get(arr, i), ipath));
	}
	if (v->errs->len == before)
		out->on_complete = json_dump_compact(arr);
}

void batch_input_release(batch_input *b)
{
	for (size_t i = 0; i < b->ntasks; i++)
		new_task_release(&b->tasks[i]);
	free(b->tasks);
	free(b->scope);
	free(b->metadata);
	free(b->on_complete);
	json_decref(b->doc);
	memset(b, 0, sizeof(*b));
}

/* Parses a body; on failure writes ArcRun's framework message. */
static json_t *parse_body(const char *body, size_t len, const weft_config *cfg, char *msg, size_t msglen)
{
	char err[VALIDATE_MSG_MAX];
	err[0] = '\0';
	json_t *root = json_parse_body(body, len, cfg->json_max_depth, err, sizeof(err));
	if (root == NULL)
		snprintf(msg, msglen, "Json deserialize error: %s", err[0] ? err : "invalid JSON");
	return root;
}

validate_result validate_batch(const char *body, size_t len, const weft_config *cfg,
                               batch_input *out, errlist *errs, char *msg, size_t msglen)
{
	vctx v = { errs, cfg };
	size_t before = errs->len;
	validate_result res = VALIDATE_OK;
	task_refs *refs = NULL;
	memset(out, 0, sizeof(*out));

	json_t *root = parse_body(body, len, cfg, msg, msglen);
	if (root == NULL)
		return VALIDATE_MALFORMED;

	json_t *tasks = NULL;
	if (json_is_array(root)) {
		tasks = root;
	} else if (json_is_object(root)) {
		char path[PATH_MAX_LEN];
		get_array(&v, root, "", "tasks", true, &tasks, path);
		decode_batch_fields(&v, root, out);
	} else {
		snprintf(msg, msglen,
		         "Json deserialize error: expected an array of tasks or an object with \"tasks\"");
		res = VALIDATE_MALFORMED;
		goto out;
	}

	size_t n = tasks != NULL ? json_array_size(tasks) : 0;
	if (n > cfg->max_tasks_per_batch) {
		snprintf(msg, msglen, "Payload too large: a batch cannot have more than %zu tasks (got %zu)",
		         cfg->max_tasks_per_batch, n);
		res = VALIDATE_TOO_LARGE;
		goto out;
	}
	if (n > 0) {
		out->tasks = xcalloc(n, sizeof(new_task));
		out->ntasks = n;
		refs = xcalloc(n, sizeof(task_refs));
		for (size_t i = 0; i < n; i++)
			decode_task(&v, json_array_get(tasks, i), i, &out->tasks[i], &refs[i]);
		check_batch_links(&v, out->tasks, refs, n);
	}
	if (errs->len != before)
		res = VALIDATE_FAILED;

out:
	if (refs != NULL) {
		for (size_t i = 0; i < n; i++)
			free(refs[i].dep_ids);
		free(refs);
	}
	if (res == VALIDATE_OK) {
		out->doc = root;
	} else {
		batch_input_release(out);
		json_decref(root);
	}
	return res;
}

/* ---- PATCH / PUT /task/{id} ------------------------------------------ */

void update_input_release(update_input *u)
{
	free(u->metadata);
	free(u->failure_reason);
	memset(u, 0, sizeof(*u));
}

static validate_result decode_update(const char *body, size_t len, const weft_config *cfg, bool patch,
                                     update_input *out, errlist *errs, char *msg, size_t msglen)
{
	vctx v = { errs, cfg };
	size_t before = errs->len;
	memset(out, 0, sizeof(*out));

	json_t *root = parse_body(body, len, cfg, msg, msglen);
	if (root == NULL)
		return VALIDATE_MALFORMED;
	if (!json_is_object(root)) {
		snprintf(msg, msglen, "Json deserialize error: expected an object, got %s", json_type_name(root));
		json_decref(root);
		return VALIDATE_MALFORMED;
	}

	if (get_status(&v, root, "", "status", false, &out->status) == F_OK) {
		out->has_status = true;
		if (patch && out->status != TS_SUCCESS && out->status != TS_FAILURE)
			errlist_add(errs, "status: Status can only be updated to Success or Failure");
	}
	const char *s;
	if (get_str(&v, root, "", "failure_reason", false, &s) == F_OK)
		out->failure_reason = xstrdup(s);
	if (patch && out->has_status && out->status == TS_FAILURE && out->failure_reason == NULL)
		errlist_add(errs, "failure_reason: failure_reason is required when status is Failure");

	if (get_int(&v, root, "", "new_success", false, false, &out->new_success) == F_OK &&
	    out->new_success < 0)
		errlist_add(errs, "new_success: new_success cannot be negative");
	if (get_int(&v, root, "", "new_failures", false, false, &out->new_failures) == F_OK &&
	    out->new_failures < 0)
		errlist_add(errs, "new_failures: new_failures cannot be negative");

	if (get_int(&v, root, "", "expected_count", false, false, &out->expected_count) == F_OK) {
		out->has_expected_count = true;
		if (patch && out->expected_count < 0)
			errlist_add(errs, "expected_count: expected_count cannot be negative");
	}
	int64_t x;
	if (get_int(&v, root, "", "priority", false, true, &x) == F_OK) {
		out->has_priority = true;
		out->priority = (int32_t)x;
		if (patch && (x < TASK_PRIORITY_MIN || x > TASK_PRIORITY_MAX))
			errlist_add(errs, "priority: priority must be between %d and %d", TASK_PRIORITY_MIN,
			            TASK_PRIORITY_MAX);
	}
	if (patch) {
		char path[PATH_MAX_LEN];
		json_t *m = member(&v, root, "", "metadata", false, path);
		if (m != NULL)
			out->metadata = metadata_text(&v, m, path);
	}
	json_decref(root);

	if (errs->len != before) {
		update_input_release(out);
		return VALIDATE_FAILED;
	}
	if (!patch && out->new_success == 0 && out->new_failures == 0) {
		snprintf(msg, msglen, "At least one of new_success or new_failures must be non-zero");
		update_input_release(out);
		return VALIDATE_MALFORMED;
	}
	return VALIDATE_OK;
}

validate_result validate_patch(const char *body, size_t len, const weft_config *cfg,
                               update_input *out, errlist *errs, char *msg, size_t msglen)
{
	return decode_update(body, len, cfg, true, out, errs, msg, msglen);
}

validate_result validate_put(const char *body, size_t len, const weft_config *cfg,
                             update_input *out, errlist *errs, char *msg, size_t msglen)
{
	return decode_update(body, len, cfg, false, out, errs, msg, msglen);
}

/* ---- PATCH /batch/{id}/rules ----------------------------------------- */

void rules_input_release(rules_input *r)
{
	free(r->kind);
	free(r->rules);
	memset(r, 0, sizeof(*r));
}

validate_result validate_batch_rules(const char *body, size_t len, const weft_config *cfg,
                                     rules_input *out, errlist *errs, char *msg, size_t msglen)
{
	vctx v = { errs, cfg };
	size_t before = errs->len;
	memset(out, 0, sizeof(*out));

	json_t *root = parse_body(body, len, cfg, msg, msglen);
	if (root == NULL)
		return VALIDATE_MALFORMED;
	if (!json_is_object(root)) {
		snprintf(msg, msglen, "Json deserialize error: expected an object, got %s", json_type_name(root));
		json_decref(root);
		return VALIDATE_MALFORMED;
	}
	const char *kind;
	if (get_str(&v, root, "", "kind", true, &kind) == F_OK) {
		if (is_blank(kind))
			errlist_add(errs, "kind: Task kind cannot be empty");
		else if (strlen(kind) > TASK_KIND_MAX)
			errlist_add(errs, "kind: Task kind cannot exceed %d characters", TASK_KIND_MAX);
	}
	json_t *rules = NULL;
	char path[PATH_MAX_LEN];
	if (get_array(&v, root, "", "rules", true, &rules, path) == F_OK) {
		bool has_capacity;
		check_rules(&v, rules, "rules", &has_capacity);
	}
	if (errs->len == before) {
		out->kind = xstrdup(kind);
		out->rules = json_dump_compact(rules);
	}
	json_decref(root);
	return errs->len == before ? VALIDATE_OK : VALIDATE_FAILED;
}

/* ---- query strings --------------------------------------------------- */

/* Rust's str::parse::<i64> rules and messages, which ArcRun's clients see. */
static int parse_int(const char *s, int64_t min, int64_t max, int64_t *out, const char **why)
{
	const char *p = s;
	bool neg = false;
	if (*p == '\0') {
		*why = "cannot parse integer from empty string";
		return -1;
	}
	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
	}
	if (*p == '\0') {
		*why = "invalid digit found in string";
		return -1;
	}
	/* Accumulate negatively so INT64_MIN is representable. */
	int64_t acc = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9') {
			*why = "invalid digit found in string";
			return -1;
		}
		int d = *p - '0';
		if (acc < (INT64_MIN + d) / 10) {
			*why = neg ? "number too small to fit in target type" : "number too large to fit in target type";
			return -1;
		}
		acc = acc * 10 - d;
	}
	if (!neg) {
		if (acc == INT64_MIN) {
			*why = "number too large to fit in target type";
			return -1;
		}
		acc = -acc;
	}
	if (acc > max) {
		*why = "number too large to fit in target type";
		return -1;
	}
	if (acc < min) {
		*why = "number too small to fit in target type";
		return -1;
	}
	*out = acc;
	return 0;
}

static validate_result query_int(query_get_fn get, void *ctx, const char *key, int64_t min, int64_t max,
                                 bool *present, int64_t *out, char *msg, size_t msglen)
{
	const char *s = get(ctx, key);
	const char *why = NULL;
	*present = s != NULL;
	if (s == NULL)
		return VALIDATE_OK;
	if (parse_int(s, min, max, out, &why) != 0) {
		snprintf(msg, msglen, "Query deserialize error: %s", why);
		return VALIDATE_MALFORMED;
	}
	return VALIDATE_OK;
}

static validate_result query_status(query_get_fn get, void *ctx, bool *has, task_status *out,
                                    char *msg, size_t msglen)
{
	const char *s = get(ctx, "status");
	*has = false;
	if (s == NULL)
		return VALIDATE_OK;
	if (arcrun_status_parse(s, out) != 0) {
		snprintf(msg, msglen,
		         "Query deserialize error: unknown variant `%s`, expected one of `Waiting`, `Pending`, "
		         "`Claimed`, `Running`, `Paused`, `RetryPending`, `Success`, `Failure`, `Canceled`",
		         s);
		return VALIDATE_MALFORMED;
	}
	*has = true;
	return VALIDATE_OK;
}

/* An empty substring filter matches everything; pass none at all. */
static const char *query_substring(query_get_fn get, void *ctx, const char *key)
{
	const char *s = get(ctx, key);
	return s != NULL && s[0] != '\0' ? s : NULL;
}

static validate_result query_page(query_get_fn get, void *ctx, const weft_config *cfg, int64_t *offset,
                                  int64_t *limit, char *msg, size_t msglen)
{
	bool present;
	int64_t page = 0, size = 0;
	validate_result r = query_int(get, ctx, "page", INT64_MIN, INT64_MAX, &present, &page, msg, msglen);
	if (r != VALIDATE_OK)
		return r;
	if (page < 0)
		page = 0;
	r = query_int(get, ctx, "page_size", INT64_MIN, INT64_MAX, &present, &size, msg, msglen);
	if (r != VALIDATE_OK)
		return r;
	if (!present || size <= 0)
		size = cfg->pagination_default;
	if (size > cfg->pagination_max)
		size = cfg->pagination_max;
	if (size <= 0)
		size = 1;
	*limit = size;
	*offset = page > INT64_MAX / size ? INT64_MAX : page * size;
	return VALIDATE_OK;
}

void task_query_release(task_query *q)
{
	free(q->metadata);
	memset(q, 0, sizeof(*q));
}

validate_result validate_task_query(query_get_fn get, void *ctx, const weft_config *cfg,
                                    task_query *out, char *msg, size_t msglen)
{
	memset(out, 0, sizeof(*out));
	validate_result r = query_page(get, ctx, cfg, &out->offset, &out->limit, msg, msglen);
	if (r != VALIDATE_OK)
		return r;
	task_filter *f = &out->filter;
	f->name = query_substring(get, ctx, "name");
	f->kind = query_substring(get, ctx, "kind");
	r = query_status(get, ctx, &f->has_status, &f->status, msg, msglen);
	if (r != VALIDATE_OK)
		return r;
	int64_t timeout;
	r = query_int(get, ctx, "timeout", INT32_MIN, INT32_MAX, &f->has_timeout, &timeout, msg, msglen);
	if (r != VALIDATE_OK)
		return r;
	f->timeout = (int32_t)timeout;

	const char *s = get(ctx, "batch_id");
	if (s != NULL) {
		if (id_parse(s, &out->batch_id) != 0) {
			snprintf(msg, msglen, "Query deserialize error: batch_id: invalid UUID");
			return VALIDATE_MALFORMED;
		}
		f->batch_id = &out->batch_id;
	}

	s = get(ctx, "metadata");
	if (s != NULL && s[0] != '\0') {
		char err[VALIDATE_MSG_MAX];
		err[0] = '\0';
		json_t *m = json_parse_body(s, strlen(s), cfg->json_max_depth, err, sizeof(err));
		if (m == NULL) {
			snprintf(msg, msglen, "Bad request: invalid metadata filter: %s", err[0] ? err : "invalid JSON");
			return VALIDATE_BAD_REQUEST;
		}
		out->metadata = json_dump_compact(m);
		json_decref(m);
		f->metadata = out->metadata;
	}
	return VALIDATE_OK;
}

static validate_result query_time(query_get_fn get, void *ctx, const char *key, int64_t *out, char *msg,
                                  size_t msglen)
{
	const char *s = get(ctx, key);
	if (s == NULL)
		return VALIDATE_OK;
	if (time_parse_rfc3339(s, out) != 0) {
		snprintf(msg, msglen, "Query deserialize error: %s: invalid RFC 3339 timestamp", key);
		return VALIDATE_MALFORMED;
	}
	return VALIDATE_OK;
}

validate_result validate_batches_query(query_get_fn get, void *ctx, const weft_config *cfg,
                                       batches_query *out, char *msg, size_t msglen)
{
	memset(out, 0, sizeof(*out));
	validate_result r = query_page(get, ctx, cfg, &out->offset, &out->limit, msg, msglen);
	if (r != VALIDATE_OK)
		return r;
	batch_filter *f = &out->filter;
	f->kind = query_substring(get, ctx, "kind");
	f->name = query_substring(get, ctx, "name");
	r = query_status(get, ctx, &f->has_status, &f->status, msg, msglen);
	if (r != VALIDATE_OK)
		return r;
	r = query_time(get, ctx, "created_after", &f->created_after, msg, msglen);
	if (r != VALIDATE_OK)
		return r;
	return query_time(get, ctx, "created_before", &f->created_before, msg, msglen);
}

validate_result validate_deliveries_query(query_get_fn get, void *ctx, const weft_config *cfg,
                                          deliveries_query *out, char *msg, size_t msglen)
{
	memset(out, 0, sizeof(*out));
	validate_result r = query_page(get, ctx, cfg, &out->offset, &out->limit, msg, msglen);
	if (r != VALIDATE_OK)
		return r;
	const char *s = get(ctx, "status");
	if (s == NULL)
		return VALIDATE_OK;
	if (arcrun_delivery_filter(s, &out->status_mask) == 0)
		return VALIDATE_OK;
	snprintf(msg, msglen,
	         "Query deserialize error: unknown variant `%s`, expected one of `pending`, `failure`, "
	         "`success`, `exhausted`",
	         s);
	return VALIDATE_MALFORMED;
}
