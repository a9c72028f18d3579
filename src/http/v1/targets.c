/*
 * targets.c — decoding a trigger's target (targets.h).
 */
#include "util/common.h"
#include "http/v1/targets.h"

#include "core/limits.h"
#include "http/decode.h"
#include "http/v1/decode_job.h"
#include "http/v1/errors.h"
#include "http/v1/template_names.h"
#include "store/templates.h"
#include "util/alloc.h"

/* A job's fields of POST /v1/jobs that a trigger carries over: they are
 * read back by the engine (engine/targets.c). */
static const char *const job_carried[] = { "kind", "queue", "name", "input", "priority", "max_attempts",
	                                   "backoff", "non_retryable_codes", "timeout_secs",
	                                   "concurrency_key", "rate_key", NULL };
/* POST /v1/workflows' own fields are type and namespace; its job has no name. */
static const char *const workflow_carried[] = { "kind", "namespace", "type", "queue", "input", "priority",
	                                        "max_attempts", "backoff", "non_retryable_codes",
	                                        "timeout_secs", "concurrency_key", "rate_key", NULL };
static const char *const workflow_own[] = { "kind", "namespace", "type", NULL };
static const char *const job_own[] = { "kind", NULL };
static const char *const template_fields[] = { "kind", "template", "context", NULL };

/* The job (or the workflow run's job) through the decoder of POST /v1/jobs,
 * after refusing what a firing would not carry over. */
static void decode_job_part(http_error *e, const json_t *target, const char *const *carried,
                            const char *const *own, bool *too_large)
{
	size_t before = e->details.len;
	decode_unknown_members(e, target, "target", carried);
	if (e->details.len > before)
		return;   /* the job decoder would name the same members again */
	job_spec spec;
	const char *codes[JOB_NON_RETRYABLE_MAX + 1];
	size_t ncodes = 0;
	v1_texts texts = { 0 };
	v1_decode_job_in(target, "target", own, &spec, codes, &ncodes, &texts, e, too_large);
	v1_texts_release(&texts);
}

static void decode_template(http_error *e, const json_t *target, v1_target *t, bool *too_large)
{
	decode_unknown_members(e, target, "target", template_fields);
	const char *ref = decode_str_bounded(e, target, "target", "template", DECODE_REQUIRED,
	                                     TEMPLATE_NAME_MAX + 1 + TEMPLATE_VERSION_MAX, too_large);
	if (ref != NULL) {
		const char *at = strchr(ref, '@');
		if (at == NULL || !template_name_valid(ref, (size_t)(at - ref)) || !template_version_valid(at + 1)) {
			decode_problem(e, "target", "template",
			               "expected name@version: a name [a-z][a-z0-9_.-]{0,63}, a version of 1 to 32 "
			               "characters from [A-Za-z0-9._-]");
		} else {
			t->template_name = xstrndup(ref, (size_t)(at - ref));
			t->template_version = xstrdup(at + 1);
		}
	}
	json_t *context = json_object_get(target, "context");
	if (context != NULL) {
		char *text = json_dump_compact(context);
		if (text != NULL && strlen(text) > JOB_PAYLOAD_MAX_BYTES) {
			decode_problem(e, "target", "context", "must be at most %d bytes as compact JSON",
			               JOB_PAYLOAD_MAX_BYTES);
			*too_large = true;
		}
		free(text);
	}
}

int v1_decode_target(const json_t *doc, v1_target *t, http_error *e, bool *too_large)
{
	memset(t, 0, sizeof *t);
	json_t *target = NULL;
	char path[DECODE_PATH_MAX];
	if (decode_object(e, doc, "", "target", DECODE_REQUIRED, &target, path) != 0 || target == NULL)
		return WEFT_EINVALID;
	const char *kind = NULL;
	if (decode_str(e, target, "target", "kind", DECODE_REQUIRED, &kind) != 0)
		return WEFT_EINVALID;
	size_t before = e->details.len;
	if (strcmp(kind, "job") == 0) {
		t->kind = "job";
		decode_job_part(e, target, job_carried, job_own, too_large);
	} else if (strcmp(kind, "workflow") == 0) {
		t->kind = "workflow";
		if (json_object_get(target, "retry") != NULL)
			/* a name the run's policy might be looked for under: say where it is */
			decode_problem(e, "target", "retry",
			               "unknown field: a run's retry policy is max_attempts, backoff and "
			               "non_retryable_codes, as in POST /v1/workflows");
		else
			decode_job_part(e, target, workflow_carried, workflow_own, too_large);
		decode_str_bounded(e, target, "target", "type", DECODE_REQUIRED, TASK_NAME_MAX, too_large);
		const char *ns = NULL;
		if (decode_str(e, target, "target", "namespace", 0, &ns) == 0 && ns != NULL && !namespace_valid(ns))
			decode_problem(e, "target", "namespace", "must match [a-z0-9][a-z0-9_-]{0,62}");
		t->namespace = ns;
	} else if (strcmp(kind, "template") == 0) {
		t->kind = "template";
		decode_template(e, target, t, too_large);
	} else {
		decode_problem(e, "target", "kind", "expected job, workflow or template");
	}
	if (e->details.len > before)
		return WEFT_EINVALID;
	t->compact = json_dump_compact(target);
	return 0;
}

void v1_target_release(v1_target *t)
{
	free(t->compact);
	free(t->template_name);
	free(t->template_version);
	memset(t, 0, sizeof *t);
}

bool v1_target_template_exists(http_request *r, const v1_target *t, const char *ns)
{
	if (strcmp(t->kind, "template") != 0)
		return true;
	store_conn *c = http_reader(r);
	if (c == NULL)
		return false;
	template_row row;
	int rc = store_template_get(c, ns, t->template_name, t->template_version, &row);
	store_reader_release(http_store(r), c);
	if (rc == 0) {
		template_row_release(&row);
		return true;
	}
	if (rc != WEFT_ENOTFOUND) {
		http_fail_server(r, rc, "template read");
		return false;
	}
	http_error *err = http_err(r);
	http_error_detail(err, "target.template: no template %s@%s in namespace %s (register it with POST "
	                       "/v1/templates first)", t->template_name, t->template_version, ns);
	err->kind = HTTP_ERR_FIELDS;
	v1_fail(r, 422, WEFT_EINVALID, err);
	return false;
}
