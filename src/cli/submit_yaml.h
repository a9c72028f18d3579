/*
 * submit_yaml.h — a DAG document written in YAML, turned into the JSON that
 * POST /v1/runs takes (`weft submit FILE.yaml`).
 *
 * One document of plain YAML data: mappings, sequences and scalars.
 * Scalars are typed the way a reader of the file expects (the YAML 1.2
 * core schema, which YAML 1.1 files also read correctly in practice):
 * - quoted ('x', "x"), block (|, >) and !!str scalars are strings;
 * - plain ~, null, Null, NULL and an empty value are null;
 * - plain true/True/TRUE and false/False/FALSE are booleans, while yes,
 *   no, on and off stay strings (a country code NO stays "NO");
 * - plain integers (decimal, 0x hex, 0o octal) are integers, kept exact:
 *   one that does not fit in 64 bits is refused, as the server would,
 *   rather than rounded; digits with a leading zero (a zip code 01234)
 *   stay a string;
 * - plain decimals and exponents are numbers; .inf and .nan are refused,
 *   JSON has no such numbers;
 * - everything else is a string.
 * Anchors (&name), aliases (*name) and merge keys (<<: *defaults, or a
 * list of them: the mapping's own keys win, then the earlier merges) are
 * taken, expanded as the JSON will hold them, and limited as such: more
 * than SUBMIT_YAML_MAX_NODES values or SUBMIT_YAML_MAX_BYTES of them, once
 * aliases are expanded, are refused (a billion-laughs file costs nothing).
 * Refused, each with the file, line and column: other tags, duplicate keys
 * in a mapping, keys that are not scalars, nesting deeper than
 * SUBMIT_YAML_MAX_DEPTH, the limits, an alias before its anchor, and a
 * second document.
 */
#ifndef WEFT_CLI_SUBMIT_YAML_H
#define WEFT_CLI_SUBMIT_YAML_H

#include "util/common.h"
#include <jansson.h>

#define SUBMIT_YAML_MAX_DEPTH 64
/* A run of 100,000 tasks of a dozen values each, with room to spare. */
#define SUBMIT_YAML_MAX_NODES 4000000
/* About the bytes of the JSON text: over the 16 MiB a request may have,
 * which `weft submit` checks on the real text. */
#define SUBMIT_YAML_MAX_BYTES (64 << 20)

/* Where each task of the DAG starts in the file, so that the server's
 * "tasks[12]: ..." can be shown with its line. */
typedef struct submit_yaml_lines {
	size_t *line;   /* owned: line[i] is the 1-based line of tasks[i] */
	size_t n, cap;
} submit_yaml_lines;

void submit_yaml_lines_release(submit_yaml_lines *l);

/* Converts the YAML document text[0..len) (need not be NUL-terminated).
 * name names the input in messages ("dag.yaml", "stdin"). Returns a new
 * reference, or NULL with err set to "name:LINE:COLUMN: problem". lines
 * (zeroed by the caller, or NULL) gets the line of each item of the
 * document's top-level "tasks" sequence (or of the document itself when it
 * is a bare sequence). */
json_t *submit_yaml_to_json(const char *text, size_t len, const char *name, submit_yaml_lines *lines, char *err,
                            size_t errlen);

#endif
