/*
 * decode_batch.c — the POST /task body: NewTaskDto elements, in the array
 * form or the object form with batch-level fields (see decode.h).
 *
 * Each task is walked once, every field type-checked as serde would
 * (required fields, JSON types, integer ranges, enum spellings) and
 * ArcRun's validation rules applied; then the batch-level pass checks
 * local ids and dependencies. Decoding goes on past a bad field so that
 * one answer lists every problem.
 */
#include "util/common.h"
#include "http/arcrun/decode.h"

#include <math.h>

#include "core/error.h"
#include "engine/retry.h"
#include "exec/webhook.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"

#define GROUP_NAME_MAX 255

typedef struct vctx {
	http_error *e;
	const weft_config *cfg;
} vctx;

/* A NewActionDto {kind: "Webhook", params: WebhookParams}. Returns the
 * compact JSON of params (owned), or NULL after reporting. */
static char *decode_action(vctx *v, const json_t *a, const char *path)
{
	size_t before = v->e->details.len;
	if (!json_is_object(a)) {
		decode_type_error(v->e, path, "an object", a);
		return NULL;
	}
	const char *kind = NULL;
	char ppath[DECODE_PATH_MAX];
	if (decode_str(v->e, a, path, "kind", DECODE_REQUIRED, &kind) == 0 && strcmp(kind, "Webhook") != 0)
		decode_problem(v->e, path, "kind", "unknown variant '%s', expected 'Webhook'", kind);
	json_t *params = decode_member(v->e, a, path, "params", DECODE_REQUIRED, ppath);
	if (params != NULL) {
		char err[HTTP_ERROR_MSG_MAX];
		err[0] = '\0';
		if (webhook_params_check(params, &v->cfg->ssrf, err, sizeof(err)) != 0)
			http_error_detail(v->e, "%s: %s", ppath, err[0] ? err : "Invalid webhook params");
	}
	if (v->e->details.len != before)
		return NULL;
	return json_dump_compact(params);
}

/* An optional array of NewActionDto at obj.key; returns the params texts
 * (owned) and their count. */
static char **decode_action_list(vctx *v, const json_t *obj, const char *at, const char *key, size_t *n)
{
	json_t *arr = NULL;
	char path[DECODE_PATH_MAX];
	*n = 0;
	if (decode_array(v->e, obj, at, key, 0, &arr, path) != 0 || arr == NULL || json_array_size(arr) == 0)
		return NULL;
	size_t count = json_array_size(arr);
	char **out = xcalloc(count, sizeof(char *));
	size_t i;
	json_t *a;
	json_array_foreach(arr, i, a) {
		char ipath[DECODE_PATH_MAX];
		decode_path_index(ipath, path, i);
		out[i] = decode_action(v, a, ipath);
	}
	*n = count;
	return out;
}

/* What the batch-level pass needs beyond new_task: local ids (borrowed
 * from the parsed document). */
typedef struct task_refs {
	const char *id;            /* NULL when missing or blank */
	const char **dep_ids;      /* ndeps entries; NULL for blank ones */
} task_refs;

static void decode_dependency(vctx *v, const json_t *d, const char *dpath, const char *path, size_t j,
                              new_task *out, task_refs *refs, bool *self_reported)
{
	if (!json_is_object(d)) {
		decode_type_error(v->e, dpath, "an object", d);
		return;
	}
	const char *id = NULL;
	bool rs = false;
	int rid = decode_str(v->e, d, dpath, "id", DECODE_REQUIRED, &id);
	decode_bool(v->e, d, dpath, "requires_success", DECODE_REQUIRED, &rs, NULL);
	out->deps[j].requires_success = rs;
	if (rid != 0)
		return;
	if (decode_blank(id)) {
		decode_problem(v->e, dpath, "id", "Dependency ID cannot be empty");
		return;
	}
	refs->dep_ids[j] = id;
	if (refs->id != NULL && strcmp(id, refs->id) == 0 && !*self_reported) {
		http_error_detail(v->e, "%s: Task cannot depend on itself", path);
		*self_reported = true;
	}
	for (size_t k = 0; k < j; k++) {
		if (refs->dep_ids[k] != NULL && strcmp(refs->dep_ids[k], id) == 0) {
			http_error_detail(v->e, "%s: Duplicate dependency: %s", path, id);
			break;
		}
	}
}

static void decode_dependencies(vctx *v, const json_t *t, const char *at, new_task *out, task_refs *refs)
{
	json_t *deps = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_array(v->e, t, at, "dependencies", 0, &deps, path) != 0 || deps == NULL)
		return;
	size_t n = json_array_size(deps);
	if (n == 0)
		return;
	if (n > v->cfg->max_deps_per_task) {
		http_error_detail(v->e, "%s: Too many dependencies: %zu (limit is %zu)", path, n,
		                  v->cfg->max_deps_per_task);
		return;
	}
	out->deps = xcalloc(n, sizeof(new_dependency));
	out->ndeps = n;
	refs->dep_ids = xcalloc(n, sizeof(char *));
	bool self_reported = false;
	for (size_t j = 0; j < n; j++) {
		char dpath[DECODE_PATH_MAX];
		decode_path_index(dpath, path, j);
		decode_dependency(v, json_array_get(deps, j), dpath, path, j, out, refs, &self_reported);
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

/* The "retry_on" array of a retry policy, as bits. */
static unsigned decode_retry_on(vctx *v, const json_t *m, const char *path)
{
	unsigned on = RETRY_ON_TIMEOUT | RETRY_ON_WEBHOOK_FAILURE | RETRY_ON_EXPLICIT;
	json_t *arr = NULL;
	char apath[DECODE_PATH_MAX];
	if (decode_array(v->e, m, path, "retry_on", 0, &arr, apath) != 0 || arr == NULL)
		return on;
	on = 0;
	size_t i;
	json_t *c;
	json_array_foreach(arr, i, c) {
		char ipath[DECODE_PATH_MAX];
		decode_path_index(ipath, apath, i);
		if (!json_is_string(c)) {
			decode_type_error(v->e, ipath, "a string", c);
			continue;
		}
		size_t k = 0;
		while (k < ARRAY_LEN(retry_causes) && strcmp(retry_causes[k].name, json_string_value(c)) != 0)
			k++;
		if (k == ARRAY_LEN(retry_causes)) {
			http_error_detail(v->e, "%s: unknown retry cause '%s' (expected timeout, webhook_failure or explicit)",
			                  ipath, json_string_value(c));
			continue;
		}
		on |= retry_causes[k].bit;
	}
	return on;
}

/* The task's "retry" object; returns its canonical JSON (owned, see
 * engine/retry.h) or NULL when absent, null or invalid. */
static char *decode_retry(vctx *v, const json_t *t, const char *at)
{
	char path[DECODE_PATH_MAX];
	json_t *m = NULL;
	if (decode_object(v->e, t, at, "retry", 0, &m, path) != 0 || m == NULL)
		return NULL;
	size_t before = v->e->details.len;
	int64_t max_retries = 0;
	if (decode_int(v->e, m, path, "max_retries", DECODE_REQUIRED, &max_retries, NULL) == 0 &&
	    (max_retries < 0 || max_retries > RETRY_MAX_RETRIES_LIMIT))
		decode_problem(v->e, path, "max_retries", "max_retries must be between 0 and %d", RETRY_MAX_RETRIES_LIMIT);
	double initial = 5, multiplier = 2, max_delay = 300;
	decode_number(v->e, m, path, "initial_delay_secs", 0, RETRY_MAX_DELAY_LIMIT_SECS, &initial);
	decode_number(v->e, m, path, "backoff_multiplier", 1, 100, &multiplier);
	decode_number(v->e, m, path, "max_delay_secs", 0, RETRY_MAX_DELAY_LIMIT_SECS, &max_delay);
	unsigned on = decode_retry_on(v, m, path);
	if (v->e->details.len != before)
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
static void decode_task_extras(vctx *v, const json_t *t, const char *at, new_task *out)
{
	out->retry_policy = decode_retry(v, t, at);

	const char *s = NULL;
	if (decode_str(v->e, t, at, "start_after", 0, &s) == 0 && s != NULL) {
		int64_t us;
		if (time_parse_rfc3339(s, &us) != 0)
			decode_problem(v->e, at, "start_after", "start_after must be an RFC 3339 timestamp");
		else
			out->start_after = us > 0 ? us : 0;
	}

	s = NULL;
	if (decode_str(v->e, t, at, "group", 0, &s) == 0 && s != NULL) {
		size_t n;
		const char *name = decode_trim(s, &n);
		if (n == 0)
			decode_problem(v->e, at, "group", "Group name cannot be empty");
		else if (n > GROUP_NAME_MAX)
			decode_problem(v->e, at, "group", "Group name cannot exceed %d characters", GROUP_NAME_MAX);
		else
			out->group = xstrndup(name, n);
	}
}

/* name or kind: required, not blank, at most max bytes. */
static char *decode_label(vctx *v, const json_t *t, const char *at, const char *key, const char *what, int max)
{
	const char *s = NULL;
	if (decode_str(v->e, t, at, key, DECODE_REQUIRED, &s) != 0)
		return NULL;
	if (decode_blank(s))
		decode_problem(v->e, at, key, "Task %s cannot be empty", what);
	else if (strlen(s) > (size_t)max)
		decode_problem(v->e, at, key, "Task %s cannot exceed %d characters", what, max);
	return xstrdup(s);
}

/* An int32 member; *present says whether it was given and valid. */
static int64_t task_int32(vctx *v, const json_t *t, const char *at, const char *key, bool *present)
{
	int64_t x = 0;
	if (decode_int(v->e, t, at, key, DECODE_INT32, &x, present) != 0)
		*present = false;
	return x;
}

static void decode_timeout(vctx *v, const json_t *t, const char *at, new_task *out)
{
	bool has;
	int64_t x = task_int32(v, t, at, "timeout", &has);
	out->timeout_secs = TASK_TIMEOUT_DEFAULT;
	if (!has)
		return;
	if (x < TASK_TIMEOUT_MIN)
		decode_problem(v->e, at, "timeout", "Timeout must be a positive integer");
	else if (x > TASK_TIMEOUT_MAX)
		decode_problem(v->e, at, "timeout", "Timeout cannot exceed %d seconds (24 hours)", TASK_TIMEOUT_MAX);
	out->timeout_secs = (int32_t)x;
}

static void decode_priority(vctx *v, const json_t *t, const char *at, new_task *out)
{
	bool has;
	int64_t x = task_int32(v, t, at, "priority", &has);
	if (!has)
		return;
	if (x < TASK_PRIORITY_MIN || x > TASK_PRIORITY_MAX)
		decode_problem(v->e, at, "priority", "priority must be between %d and %d", TASK_PRIORITY_MIN,
		               TASK_PRIORITY_MAX);
	out->priority = (int32_t)x;
}

/* rules and dedupe_strategy. */
static void decode_task_matchers(vctx *v, const json_t *t, const char *at, bool *has_capacity, new_task *out)
{
	char path[DECODE_PATH_MAX];
	json_t *arr = NULL;
	if (decode_array(v->e, t, at, "dedupe_strategy", 0, &arr, path) == 0 && arr != NULL &&
	    json_array_size(arr) > 0) {
		size_t n = json_array_size(arr);
		out->dedupe = xcalloc(n, sizeof(new_matcher));
		for (size_t j = 0; j < n; j++) {
			char mpath[DECODE_PATH_MAX];
			decode_path_index(mpath, path, j);
			if (arcrun_decode_matcher(v->e, json_array_get(arr, j), mpath, &out->dedupe[out->ndedupe]) == 0)
				out->ndedupe++;
		}
	}
	*has_capacity = false;
	arr = NULL;
	if (decode_array(v->e, t, at, "rules", 0, &arr, path) == 0 && arr != NULL) {
		arcrun_check_rules(v->e, arr, path, has_capacity);
		out->rules = json_dump_compact(arr);
	} else {
		out->rules = xstrdup("[]");
	}
}

/* One NewTaskDto at index i. Fills *out (owned parts) and *refs. */
static void decode_task(vctx *v, const json_t *t, size_t i, new_task *out, task_refs *refs)
{
	char at[DECODE_PATH_MAX], path[DECODE_PATH_MAX];
	decode_path_index(at, "tasks", i);
	if (!json_is_object(t)) {
		decode_type_error(v->e, at, "an object", t);
		return;
	}

	const char *s = NULL;
	if (decode_str(v->e, t, at, "id", DECODE_REQUIRED, &s) == 0) {
		if (decode_blank(s))
			decode_problem(v->e, at, "id", "Task local ID cannot be empty");
		else
			refs->id = s;
	}
	out->name = decode_label(v, t, at, "name", "name", TASK_NAME_MAX);
	out->kind = decode_label(v, t, at, "kind", "kind", TASK_KIND_MAX);

	json_t *m = decode_member(v->e, t, at, "on_start", DECODE_REQUIRED, path);
	if (m != NULL)
		out->on_start = decode_action(v, m, path);
	decode_timeout(v, t, at, out);

	char *metadata = NULL;
	arcrun_decode_metadata(v->e, t, at, &metadata);
	out->metadata = metadata != NULL ? metadata : xstrdup("null");

	bool has_capacity;
	decode_task_matchers(v, t, at, &has_capacity, out);
	decode_dependencies(v, t, at, out, refs);
	arcrun_decode_count(v->e, t, at, "expected_count", &out->expected_count, &out->has_expected_count);
	if (has_capacity && !out->has_expected_count)
		decode_problem(v->e, at, "expected_count", "expected_count is required when a Capacity rule is used");

	out->on_failure = decode_action_list(v, t, at, "on_failure", &out->non_failure);
	out->on_success = decode_action_list(v, t, at, "on_success", &out->non_success);
	size_t nactions = 1 + out->non_failure + out->non_success;
	if (nactions > v->cfg->max_actions_per_task)
		decode_problem(v->e, at, "actions", "Too many actions: %zu (limit is %zu)", nactions,
		               v->cfg->max_actions_per_task);

	decode_bool(v->e, t, at, "dead_end_barrier", 0, &out->dead_end_barrier, NULL);
	decode_priority(v, t, at, out);
	decode_task_extras(v, t, at, out);
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

/* The batch-level checks: duplicate ids, unknown dependencies and
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
			http_error_detail(v->e, "tasks[%zu].id: duplicate task id: '%s' (first defined at index %zu)", i,
			                  refs[i].id, map.idx[slot]);
		} else {
			map.keys[slot] = refs[i].id;
			map.idx[slot] = i;
		}
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; refs[i].dep_ids != NULL && j < tasks[i].ndeps; j++) {
			const char *dep = refs[i].dep_ids[j];
			if (dep == NULL)
				continue;
			size_t slot = id_map_slot(&map, dep);
			if (map.keys[slot] == NULL)
				http_error_detail(v->e, "tasks[%zu].dependencies: unknown dependency: '%s'", i, dep);
			else if (map.idx[slot] >= i)
				http_error_detail(v->e,
				                  "tasks[%zu].dependencies: dependency '%s' must appear before task '%s' in the batch",
				                  i, dep, refs[i].id != NULL ? refs[i].id : "");
			else
				tasks[i].deps[j].parent_index = map.idx[slot];
		}
	}
	id_map_release(&map);
}

/* The object form's batch-level fields. */
static void decode_batch_fields(vctx *v, const json_t *root, batch_input *out)
{
	char path[DECODE_PATH_MAX];
	const char *scope = NULL;
	if (decode_str(v->e, root, "", "scope", 0, &scope) == 0 && scope != NULL) {
		if (strlen(scope) > TASK_NAME_MAX)
			http_error_detail(v->e, "scope: Scope cannot exceed %d characters", TASK_NAME_MAX);
		else
			out->scope = xstrdup(scope);
	}
	arcrun_decode_metadata(v->e, root, "", &out->metadata);

	json_t *arr = NULL;
	if (decode_array(v->e, root, "", "on_batch_complete", 0, &arr, path) != 0 || arr == NULL ||
	    json_array_size(arr) == 0)
		return;
	size_t n = json_array_size(arr);
	if (n > v->cfg->max_actions_per_task) {
		http_error_detail(v->e, "%s: Too many actions: %zu (limit is %zu)", path, n, v->cfg->max_actions_per_task);
		return;
	}
	size_t before = v->e->details.len;
	for (size_t i = 0; i < n; i++) {
		char ipath[DECODE_PATH_MAX];
		decode_path_index(ipath, path, i);
		free(decode_action(v, json_array_get(arr, i), ipath));
	}
	if (v->e->details.len == before)
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

/* The tasks array of either form; NULL after recording why not. */
static json_t *batch_tasks(vctx *v, json_t *root, batch_input *out, int *rc)
{
	json_t *tasks = NULL;
	char path[DECODE_PATH_MAX];
	*rc = 0;
	if (json_is_array(root))
		return root;
	if (!json_is_object(root)) {
		*rc = http_error_set(v->e, WEFT_EINVALID, HTTP_ERR_SYNTAX, NULL,
		                     "expected an array of tasks or an object with \"tasks\"");
		return NULL;
	}
	decode_array(v->e, root, "", "tasks", DECODE_REQUIRED, &tasks, path);
	decode_batch_fields(v, root, out);
	return tasks;
}

int arcrun_decode_batch(const char *body, size_t len, const weft_config *cfg, batch_input *out, http_error *e)
{
	vctx v = { e, cfg };
	size_t before = e->details.len, n = 0;
	task_refs *refs = NULL;
	json_t *root = NULL;
	memset(out, 0, sizeof(*out));

	int rc = decode_body(body, len, cfg->json_max_depth, e, &root);
	if (rc != 0)
		return rc;
	json_t *tasks = batch_tasks(&v, root, out, &rc);
	if (rc != 0)
		goto out;
	n = tasks != NULL ? json_array_size(tasks) : 0;
	if (n > cfg->max_tasks_per_batch) {
		rc = http_error_set(e, WEFT_ETOOLARGE, HTTP_ERR_RULE, NULL,
		                    "a batch cannot have more than %zu tasks (got %zu)", cfg->max_tasks_per_batch, n);
		n = 0;
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
	if (e->details.len != before)
		rc = WEFT_EINVALID;

out:
	for (size_t i = 0; refs != NULL && i < n; i++)
		free(refs[i].dep_ids);
	free(refs);
	if (rc == 0) {
		out->doc = root;
	} else {
		batch_input_release(out);
		json_decref(root);
	}
	return rc;
}
