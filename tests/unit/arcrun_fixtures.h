/*
 * arcrun_fixtures.h — what the tests of the ArcRun API's body decoders
 * share: request fragments (a valid webhook, task, dependency, rule), a
 * configuration with the limits they assume, and lookups in an error's
 * details.
 */
#ifndef WEFT_TESTS_ARCRUN_FIXTURES_H
#define WEFT_TESTS_ARCRUN_FIXTURES_H

#include "util/common.h"
#include "config.h"
#include "util/errlist.h"

/* A valid on_start action and task, as JSON fragments. */
#define HOOK "{\"kind\":\"Webhook\",\"params\":{\"url\":\"https://example.com/hook\",\"verb\":\"Post\"}}"
#define TASK_WITH(id, extra) \
	"{\"id\":\"" id "\",\"name\":\"build\",\"kind\":\"ci\",\"on_start\":" HOOK extra "}"
#define TASK(id) TASK_WITH(id, "")
#define DEP(id, rs) "{\"id\":\"" id "\",\"requires_success\":" rs "}"

/* A Strategy (rules element) with a matcher on the projectId field. */
#define RULE(type, maxkey, max, status, kind) \
	"{\"type\":\"" type "\",\"" maxkey "\":" max ",\"matcher\":{\"status\":\"" status "\",\"kind\":\"" kind \
	"\",\"fields\":[\"projectId\"]}}"

/* The configuration the decoders get, with the limits the tests assume:
 * set up and released by the group fixtures below. */
static weft_config cfg;

static inline int fixture_setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	ssrf_policy_init(&cfg.ssrf);
	cfg.json_max_depth = 64;
	cfg.max_tasks_per_batch = 1000;
	cfg.max_deps_per_task = 100;
	cfg.max_actions_per_task = 20;
	cfg.pagination_default = 50;
	cfg.pagination_max = 100;
	return 0;
}

static inline int fixture_teardown(void **state)
{
	(void)state;
	ssrf_policy_release(&cfg.ssrf);
	return 0;
}

static inline bool has(const errlist *e, const char *detail)
{
	for (size_t i = 0; i < e->len; i++) {
		if (strcmp(e->items[i], detail) == 0)
			return true;
	}
	return false;
}

static inline bool has_prefix(const errlist *e, const char *prefix)
{
	for (size_t i = 0; i < e->len; i++) {
		if (strncmp(e->items[i], prefix, strlen(prefix)) == 0)
			return true;
	}
	return false;
}

static inline void dump(const errlist *e)
{
	for (size_t i = 0; i < e->len; i++)
		print_message("  detail: %s\n", e->items[i]);
}

#endif
