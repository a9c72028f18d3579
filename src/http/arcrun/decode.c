/*
 * decode.c — the ArcRun API's PATCH and PUT /task/{id} bodies, the
 * PATCH /batch/{id}/rules body, its query strings, and the parts the body
 * decoders share: statuses, matchers, rules, metadata, counters (see
 * decode.h). POST /task is in decode_batch.c.
 *
 * Field paths in messages: bare names ("status", "rules[0].max_capacity")
 * for the bodies here, "tasks[3].rules[0].matcher.kind" for POST /task.
 */
#include "util/common.h"
#include "http/arcrun/decode.h"

#include "core/error.h"
#include "http/arcrun/names.h"
#include "util/alloc.h"

/* ---- shared parts ------------------------------------------------------- */

int arcrun_decode_status(http_error *e, const json_t *obj, const char *at, const char *key, unsigned flags,
                         task_status *out, bool *present)
{
	const char *s = NULL;
	if (present != NULL)
		*present = false;
	int rc = decode_str(e, obj, at, key, flags, &s);
	if (rc != 0 || s == NULL)
		return rc;
	if (arcrun_status_parse(s, out) != 0)
		return decode_problem(e, at, key, "unknown status '%s'", s);
	if (present != NULL)
		*present = true;
	return 0;
}

static void matcher_release(new_matcher *m)
{
	free(m->kind);
	for (size_t i = 0; i < m->nfields; i++)
		free(m->fields[i]);
	free(m->fields);
	memset(m, 0, sizeof(*m));
}

int arcrun_decode_matcher(http_error *e, const json_t *m, const char *path, new_matcher *out)
{
	size_t before = e->details.len;
	memset(out, 0, sizeof(*out));
	if (!json_is_object(m))
		return decode_type_error(e, path, "an object", m);
	task_status st = TS_PENDING;
	const char *kind = NULL;
	json_t *fields = NULL;
	char fpath[DECODE_PATH_MAX];
	arcrun_decode_status(e, m, path, "status", DECODE_REQUIRED, &st, NULL);
	decode_str(e, m, path, "kind", DECODE_REQUIRED, &kind);
	if (decode_array(e, m, path, "fields", DECODE_REQUIRED, &fields, fpath) == 0) {
		size_t i;
		json_t *f;
		json_array_foreach(fields, i, f) {
			if (!json_is_string(f)) {
				char ipath[DECODE_PATH_MAX];
				decode_path_index(ipath, fpath, i);
				decode_type_error(e, ipath, "a string", f);
			}
		}
	}
	if (e->details.len != before)
		return WEFT_EINVALID;

	out->status = st;
	out->kind = xstrdup(kind);
	out->nfields = json_array_size(fields);
	if (out->nfields > 0) {
		out->fields = xcalloc(out->nfields, sizeof(char *));
		for (size_t i = 0; i < out->nfields; i++)
			out->fields[i] = xstrdup(json_string_value(json_array_get(fields, i)));
	}
	return 0;
}

/* One Strategy of a rules array: "Concurency" (sic, ArcRun's spelling) or
 * "Capacity", its maximum and its matcher. */
static void check_rule(http_error *e, const json_t *r, const char *rpath, bool *has_capacity)
{
	const char *type = NULL;
	bool capacity = false, known = false;
	if (decode_str(e, r, rpath, "type", DECODE_REQUIRED, &type) == 0) {
		if (strcmp(type, "Concurency") == 0)
			known = true;
		else if (strcmp(type, "Capacity") == 0)
			known = capacity = true;
		else
			decode_problem(e, rpath, "type", "unknown variant '%s', expected 'Concurency' or 'Capacity'", type);
	}
	if (known) {
		const char *key = capacity ? "max_capacity" : "max_concurency";
		int64_t max = 0;
		if (decode_int(e, r, rpath, key, DECODE_REQUIRED | DECODE_INT32, &max, NULL) == 0 && max <= 0)
			decode_problem(e, rpath, key, "%s must be a positive integer", key);
	}
	if (capacity)
		*has_capacity = true;

	char mpath[DECODE_PATH_MAX];
	json_t *m = decode_member(e, r, rpath, "matcher", DECODE_REQUIRED, mpath);
	new_matcher nm;
	if (m != NULL && arcrun_decode_matcher(e, m, mpath, &nm) == 0) {
		if (decode_blank(nm.kind))
			decode_problem(e, mpath, "kind", "Matcher kind cannot be empty");
		if (capacity && nm.status != TS_RUNNING)
			decode_problem(e, mpath, "status", "Capacity rules only support matcher.status = Running");
		matcher_release(&nm);
	}
}

int arcrun_check_rules(http_error *e, const json_t *rules, const char *path, bool *has_capacity)
{
	size_t before = e->details.len;
	size_t j;
	json_t *r;
	*has_capacity = false;
	json_array_foreach(rules, j, r) {
		char rpath[DECODE_PATH_MAX];
		decode_path_index(rpath, path, j);
		if (!json_is_object(r))
			decode_type_error(e, rpath, "an object", r);
		else
			check_rule(e, r, rpath, has_capacity);
	}
	return e->details.len == before ? 0 : WEFT_EINVALID;
}

int arcrun_decode_metadata(http_error *e, const json_t *obj, const char *at, char **out)
{
	char path[DECODE_PATH_MAX];
	json_t *m = NULL;
	*out = NULL;
	int rc = decode_object(e, obj, at, "metadata", 0, &m, path);
	if (rc != 0 || m == NULL)
		return rc;
	char *text = json_dump_compact(m);
	if (strlen(text) > TASK_METADATA_MAX) {
		free(text);
		return http_error_detail(e, "%s: Metadata cannot exceed 64KB", path);
	}
	*out = text;
	return 0;
}

int arcrun_decode_count(http_error *e, const json_t *obj, const char *at, const char *key, int64_t *out,
                        bool *present)
{
	bool has = false;
	int rc = decode_int(e, obj, at, key, 0, out, &has);
	if (present != NULL)
		*present = has;
	if (rc != 0 || !has)
		return rc;
	if (*out < 0)
		return decode_problem(e, at, key, "%s cannot be negative", key);
	if (*out > TASK_COUNTER_MAX)
		return decode_problem(e, at, key, "%s cannot exceed %" PRId64, key, TASK_COUNTER_MAX);
	return 0;
}

/* ---- PATCH / PUT /task/{id} ------------------------------------------ */

void update_input_release(update_input *u)
{
	free(u->metadata);
	free(u->failure_reason);
	memset(u, 0, sizeof(*u));
}

static int decode_update(const char *body, size_t len, const weft_config *cfg, bool patch, update_input *out,
                         http_error *e)
{
	size_t before = e->details.len;
	json_t *root = NULL;
	memset(out, 0, sizeof(*out));
	int rc = decode_body_object(body, len, cfg->json_max_depth, e, &root);
	if (rc != 0)
		return rc;

	arcrun_decode_status(e, root, "", "status", 0, &out->status, &out->has_status);
	if (patch && out->has_status && out->status != TS_SUCCESS && out->status != TS_FAILURE)
		http_error_detail(e, "status: Status can only be updated to Success or Failure");
	const char *s = NULL;
	if (decode_str(e, root, "", "failure_reason", 0, &s) == 0 && s != NULL)
		out->failure_reason = xstrdup(s);
	if (patch && out->has_status && out->status == TS_FAILURE && out->failure_reason == NULL)
		http_error_detail(e, "failure_reason: failure_reason is required when status is Failure");

	arcrun_decode_count(e, root, "", "new_success", &out->new_success, NULL);
	arcrun_decode_count(e, root, "", "new_failures", &out->new_failures, NULL);
	if (patch)
		arcrun_decode_count(e, root, "", "expected_count", &out->expected_count, &out->has_expected_count);
	else
		decode_int(e, root, "", "expected_count", 0, &out->expected_count, &out->has_expected_count);
	int64_t x;
	if (decode_int(e, root, "", "priority", DECODE_INT32, &x, &out->has_priority) == 0 && out->has_priority) {
		out->priority = (int32_t)x;
		if (patch && (x < TASK_PRIORITY_MIN || x > TASK_PRIORITY_MAX))
			http_error_detail(e, "priority: priority must be between %d and %d", TASK_PRIORITY_MIN,
			                  TASK_PRIORITY_MAX);
	}
	if (patch)
		arcrun_decode_metadata(e, root, "", &out->metadata);
	json_decref(root);

	if (e->details.len != before) {
		rc = WEFT_EINVALID;
	} else if (!patch && out->new_success == 0 && out->new_failures == 0) {
		rc = http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, NULL,
		                    "At least one of new_success or new_failures must be non-zero");
	}
	if (rc != 0)
		update_input_release(out);
	return rc;
}

int arcrun_decode_patch(const char *body, size_t len, const weft_config *cfg, update_input *out, http_error *e)
{
	return decode_update(body, len, cfg, true, out, e);
}

int arcrun_decode_put(const char *body, size_t len, const weft_config *cfg, update_input *out, http_error *e)
{
	return decode_update(body, len, cfg, false, out, e);
}

/* ---- PATCH /batch/{id}/rules ----------------------------------------- */

void rules_input_release(rules_input *r)
{
	free(r->kind);
	free(r->rules);
	memset(r, 0, sizeof(*r));
}

int arcrun_decode_rules(const char *body, size_t len, const weft_config *cfg, rules_input *out, http_error *e)
{
	json_t *root = NULL;
	memset(out, 0, sizeof(*out));
	int rc = decode_body_object(body, len, cfg->json_max_depth, e, &root);
	if (rc != 0)
		return rc;
	size_t before = e->details.len;
	const char *kind = NULL;
	if (decode_str(e, root, "", "kind", DECODE_REQUIRED, &kind) == 0) {
		if (decode_blank(kind))
			http_error_detail(e, "kind: Task kind cannot be empty");
		else if (strlen(kind) > TASK_KIND_MAX)
			http_error_detail(e, "kind: Task kind cannot exceed %d characters", TASK_KIND_MAX);
	}
	json_t *rules = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_array(e, root, "", "rules", DECODE_REQUIRED, &rules, path) == 0) {
		bool has_capacity;
		if (json_array_size(rules) > RULES_CHANGE_MAX)
			http_error_detail(e, "rules: at most %d rules", RULES_CHANGE_MAX);
		else
			arcrun_check_rules(e, rules, "rules", &has_capacity);
	}
	if (e->details.len == before) {
		out->kind = xstrdup(kind);
		out->rules = json_dump_compact(rules);
	} else {
		rc = WEFT_EINVALID;
	}
	json_decref(root);
	return rc;
}

/* ---- query strings --------------------------------------------------- */

static int query_page(const http_query_src *q, const weft_config *cfg, http_error *e, int64_t *offset,
                      int64_t *limit)
{
	return decode_query_page(q, "page", "page_size", cfg->pagination_default, cfg->pagination_max, e, offset,
	                         limit);
}

/* ?status=: the mask of statuses it selects (0 when absent). */
static int query_status(const http_query_src *q, http_error *e, unsigned *mask)
{
	const char *s = q->get(q->ctx, "status");
	*mask = 0;
	if (s != NULL && arcrun_status_filter(s, mask) != 0)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_SYNTAX, "status",
		                      "unknown variant `%s`, expected one of `Waiting`, `Pending`, `Claimed`, "
		                      "`Running`, `Paused`, `RetryPending`, `Success`, `Failure`, `Canceled`, `Skipped`",
		                      s);
	return 0;
}

/* What GET /task and GET /batches share: paging, name, kind, status. */
static int query_common(const http_query_src *q, const weft_config *cfg, http_error *e, int64_t *offset,
                        int64_t *limit, const char **name, const char **kind, unsigned *status_mask)
{
	int rc = query_page(q, cfg, e, offset, limit);
	if (rc != 0)
		return rc;
	*name = decode_query_text(q, "name");
	*kind = decode_query_text(q, "kind");
	return query_status(q, e, status_mask);
}

void task_query_release(task_query *q)
{
	free(q->metadata);
	memset(q, 0, sizeof(*q));
}

/* ?metadata=: a JSON containment pattern, kept as compact JSON. */
static int query_metadata(const http_query_src *q, const weft_config *cfg, http_error *e, char **out)
{
	const char *s = q->get(q->ctx, "metadata");
	if (s == NULL || s[0] == '\0')
		return 0;
	char err[HTTP_ERROR_MSG_MAX];
	err[0] = '\0';
	json_t *m = json_parse_body(s, strlen(s), cfg->json_max_depth, err, sizeof(err));
	if (m == NULL)
		return http_error_set(e, WEFT_EINVALID, HTTP_ERR_RULE, "metadata", "invalid metadata filter: %s",
		                      err[0] ? err : "invalid JSON");
	*out = json_dump_compact(m);
	json_decref(m);
	return 0;
}

int arcrun_decode_task_query(const http_query_src *q, const weft_config *cfg, task_query *out, http_error *e)
{
	memset(out, 0, sizeof(*out));
	task_filter *f = &out->filter;
	int64_t timeout = 0;
	bool has_batch = false;
	int rc = query_common(q, cfg, e, &out->offset, &out->limit, &f->name, &f->kind, &f->status_mask);
	if (rc == 0)
		rc = decode_query_int(q, "timeout", INT32_MIN, INT32_MAX, e, &timeout, &f->has_timeout);
	f->timeout = (int32_t)timeout;
	if (rc == 0)
		rc = decode_query_id(q, "batch_id", e, &out->batch_id, &has_batch);
	if (has_batch)
		f->batch_id = &out->batch_id;
	if (rc == 0)
		rc = query_metadata(q, cfg, e, &out->metadata);
	f->metadata = out->metadata;
	if (rc != 0)
		task_query_release(out);
	return rc;
}

int arcrun_decode_batches_query(const http_query_src *q, const weft_config *cfg, batches_query *out,
                                http_error *e)
{
	memset(out, 0, sizeof(*out));
	batch_filter *f = &out->filter;
	int rc = query_common(q, cfg, e, &out->offset, &out->limit, &f->name, &f->kind, &f->status_mask);
	if (rc == 0)
		rc = decode_query_time(q, "created_after", e, &f->created_after);
	if (rc == 0)
		rc = decode_query_time(q, "created_before", e, &f->created_before);
	return rc;
}

int arcrun_decode_deliveries_query(const http_query_src *q, const weft_config *cfg, deliveries_query *out,
                                   http_error *e)
{
	memset(out, 0, sizeof(*out));
	int rc = query_page(q, cfg, e, &out->offset, &out->limit);
	const char *s = q->get(q->ctx, "status");
	if (rc != 0 || s == NULL || arcrun_delivery_filter(s, &out->status_mask) == 0)
		return rc;
	return http_error_set(e, WEFT_EINVALID, HTTP_ERR_SYNTAX, "status",
	                      "unknown variant `%s`, expected one of `pending`, `failure`, `success`, `exhausted`", s);
}
