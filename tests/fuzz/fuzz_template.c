/*
 * fuzz_template.c — the webhook template renderer: WebhookParams JSON
 * rendered against a task's metadata. The input is the params text, a NUL
 * byte, then the metadata text. Stored metadata is always valid JSON, so
 * metadata that does not parse is replaced by null; params of any shape
 * are fed as they are (the renderer answers NULL for non-JSON).
 */
#include "fuzz.h"
#include "exec/template.h"
#include "util/alloc.h"
#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t plen = nul ? (size_t)(nul - data) : size;
	char *params = xmalloc(plen + 1);
	memcpy(params, data, plen);
	params[plen] = '\0';
	char *metadata = NULL;
	if (nul) {
		char err[128];
		json_t *m = json_parse_body((const char *)nul + 1, size - plen - 1, JSON_DEFAULT_MAX_DEPTH, err,
		                            sizeof(err));
		if (m != NULL) {
			metadata = json_dump_compact(m);
			json_decref(m);
		}
	}
	bool has = template_has_placeholders(params);
	char *out = template_render_params(params, metadata ? metadata : "null");
	/* Without a placeholder the output is an identical copy. */
	if (!has && out != NULL && strcmp(out, params) != 0)
		abort();
	free(out);
	free(params);
	free(metadata);
	return 0;
}
