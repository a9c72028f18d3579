/*
 * retry.c — task retry policies: reading the canonical JSON that the HTTP
 * layer stores (see retry.h) and the backoff delay of each retry, which
 * follows core/backoff.h with ±10% jitter.
 */
#include "util/common.h"
#include "engine/retry.h"

#include <math.h>

#include "core/backoff.h"
#include "util/json.h"

#define JITTER_FRACTION 0.1

/* A cause's name in retry_on, and its bit. */
static const struct {
	const char *name;
	retry_cause bit;
} causes[] = {
	{ "timeout", RETRY_ON_TIMEOUT },
	{ "webhook_failure", RETRY_ON_WEBHOOK_FAILURE },
	{ "explicit", RETRY_ON_EXPLICIT },
};

static int cause_bit(const char *name, unsigned *bit)
{
	for (size_t i = 0; i < ARRAY_LEN(causes); i++) {
		if (strcmp(causes[i].name, name) == 0) {
			*bit = (unsigned)causes[i].bit;
			return 0;
		}
	}
	return -1;
}

/* A number member in [min, max]; absent keeps *out (the default). */
static int get_number(const json_t *obj, const char *key, double min, double max, double *out)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_number(v))
		return -1;
	double d = json_number_value(v);
	if (!(d >= min && d <= max))
		return -1;
	*out = d;
	return 0;
}

int retry_policy_parse(const char *json_text, retry_policy *out)
{
	if (json_text == NULL || out == NULL)
		return -1;
	json_t *root = json_parse_text(json_text);
	if (root == NULL)
		return -1;
	retry_policy p = {
		.max_retries = 0,
		.initial_delay_secs = 5,
		.backoff_multiplier = 2,
		.max_delay_secs = 300,
		.retry_on = RETRY_ON_TIMEOUT | RETRY_ON_WEBHOOK_FAILURE | RETRY_ON_EXPLICIT,
	};
	int rc = -1;
	if (!json_is_object(root))
		goto out;

	/* A job's policy (it has a jitter) may retry up to
	 * RETRY_JOB_MAX_RETRIES times or forever (-1); a task's, as ArcRun
	 * bounds it. */
	bool job = json_object_get(root, "jitter") != NULL;
	json_t *v = json_object_get(root, "max_retries");
	if (!json_is_integer(v) || json_integer_value(v) < (job ? -1 : 0) ||
	    json_integer_value(v) > (job ? RETRY_JOB_MAX_RETRIES : RETRY_MAX_RETRIES_LIMIT))
		goto out;
	p.max_retries = (int32_t)json_integer_value(v);
	p.jitter = JITTER_FRACTION;

	if (get_number(root, "jitter", 0, 1, &p.jitter) != 0 ||
	    get_number(root, "initial_delay_secs", 0, RETRY_MAX_DELAY_LIMIT_SECS, &p.initial_delay_secs) != 0 ||
	    get_number(root, "backoff_multiplier", 1, 100, &p.backoff_multiplier) != 0 ||
	    get_number(root, "max_delay_secs", 0, RETRY_MAX_DELAY_LIMIT_SECS, &p.max_delay_secs) != 0)
		goto out;

	v = json_object_get(root, "retry_on");
	if (v != NULL) {
		if (!json_is_array(v))
			goto out;
		p.retry_on = 0;
		size_t i;
		json_t *c;
		json_array_foreach(v, i, c) {
			unsigned bit;
			if (!json_is_string(c) || cause_bit(json_string_value(c), &bit) != 0)
				goto out;
			p.retry_on |= bit;
		}
	}
	*out = p;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int64_t retry_delay_us_at(const retry_policy *p, int32_t attempt, double u)
{
	backoff_policy b = {
		.base_us = (int64_t)fmin(p->initial_delay_secs * 1e6, 9.0e18),
		.multiplier = p->backoff_multiplier,
		.cap_us = (int64_t)fmin(p->max_delay_secs * 1e6, 9.0e18),
		.jitter = p->jitter,
	};
	return backoff_delay_us(&b, attempt < INT32_MAX ? attempt + 1 : INT32_MAX, u);
}

int64_t retry_delay_us(const retry_policy *p, int32_t attempt)
{
	return retry_delay_us_at(p, attempt, backoff_random());
}

char *retry_policy_job_json(int32_t max_attempts, int64_t initial_us, double coefficient, int64_t max_us,
                            double jitter, const char *const *non_retryable, size_t ncodes)
{
	json_t *o = json_object();
	json_object_set_new(o, "max_retries", json_integer(max_attempts < 0 ? -1 : MAX(max_attempts, 1) - 1));
	json_object_set_new(o, "initial_delay_secs", json_real((double)initial_us / 1e6));
	json_object_set_new(o, "backoff_multiplier", json_real(coefficient < 1 ? 1 : coefficient));
	json_object_set_new(o, "max_delay_secs", json_real((double)max_us / 1e6));
	json_t *on = json_array();
	for (size_t i = 0; i < ARRAY_LEN(causes); i++)
		json_array_append_new(on, json_string(causes[i].name));
	json_object_set_new(o, "retry_on", on);
	json_object_set_new(o, "jitter", json_real(jitter));
	json_t *codes = json_array();
	for (size_t i = 0; i < ncodes; i++)
		json_array_append_new(codes, json_string(non_retryable[i]));
	json_object_set_new(o, "non_retryable", codes);
	char *s = json_dump_compact(o);
	json_decref(o);
	return s;
}

bool retry_code_non_retryable(const char *policy_json, const char *code)
{
	if (policy_json == NULL || code == NULL)
		return false;
	json_t *root = json_parse_text(policy_json);
	json_t *codes = root ? json_object_get(root, "non_retryable") : NULL;
	bool found = false;
	size_t i;
	json_t *c;
	if (json_is_array(codes))
		json_array_foreach(codes, i, c) {
			if (json_is_string(c) && strcmp(json_string_value(c), code) == 0)
				found = true;
		}
	json_decref(root);
	return found;
}

int32_t retry_max_attempts(const char *policy_json)
{
	retry_policy p;
	if (policy_json == NULL || retry_policy_parse(policy_json, &p) != 0)
		return 1;
	return p.max_retries < 0 ? -1 : p.max_retries + 1;
}
