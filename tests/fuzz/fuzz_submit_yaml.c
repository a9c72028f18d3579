/*
 * fuzz_submit_yaml.c — `weft submit`'s YAML to JSON (src/cli/submit_yaml.c)
 * on any bytes. What it makes, aliases expanded, must be JSON that parses
 * back within the depth limit, and it must know a line for each of the
 * DAG's tasks (unless they came whole from an alias).
 */
#include "fuzz.h"
#include "cli/submit_yaml.h"
#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	submit_yaml_lines lines = { 0 };
	json_t *v = submit_yaml_to_json((const char *)data, size, "f.yaml", &lines, err, sizeof(err));
	if (v == NULL) {
		if (strncmp(err, "f.yaml:", 7) != 0)   /* every refusal names the input */
			abort();
		submit_yaml_lines_release(&lines);
		return 0;
	}
	char *text = json_dump_compact(v);
	char perr[160];
	json_t *back = json_parse_body(text, strlen(text), SUBMIT_YAML_MAX_DEPTH, perr, sizeof(perr));
	if (back == NULL || !json_equal(back, v))
		abort();
	const json_t *tasks = json_is_array(v) ? v : json_object_get(v, "tasks");
	/* each task's line, unless the tasks came whole from an alias or a merge */
	if (json_is_array(tasks) && lines.n != json_array_size(tasks) && lines.n != 0)
		abort();
	json_decref(back);
	free(text);
	json_decref(v);
	submit_yaml_lines_release(&lines);
	return 0;
}
