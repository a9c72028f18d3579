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

	json_t *v = json_object_get(root, "max_retries");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > RETRY_MAX_RETRIES_LIMIT)
		goto out;
	p.max_retries = (int32_t)json_integer_value(v);

	if (get_number(root, "initial_delay_secs", 0, RETRY_MAX_DELAY_LIMIT_SECS, &p.initial_delay_secs) != 0 ||
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

int64_t retry_delay_us(const retry_policy *p, int32_t attempt)
{
	backoff_policy b = {
		.base_us = (int64_t)fmin(p->initial_delay_secs * 1e6, 9.0e18),
		.multiplier = p->backoff_multiplier,
		.cap_us = (int64_t)fmin(p->max_delay_secs * 1e6, 9.0e18),
		.jitter = JITTER_FRACTION,
	};
	return backoff_delay_us(&b, attempt < INT32_MAX ? attempt + 1 : INT32_MAX, backoff_random());
}
