/*
 * input_file.h — the document a command reads from a file ("-": stdin),
 * as `weft submit` and `weft template apply` do: its bytes, up to a
 * limit, and whether they are JSON or YAML.
 */
#ifndef WEFT_CLI_INPUT_FILE_H
#define WEFT_CLI_INPUT_FILE_H

#include "util/common.h"

#include <stdio.h>

typedef enum { INPUT_READ_OK, INPUT_READ_TOO_LARGE, INPUT_READ_ERROR } input_read;

/* The rest of f, at most max bytes: INPUT_READ_OK with the bytes (owned,
 * NUL-terminated) in *out and their count in *len. Stops as soon as more
 * than max bytes have come: INPUT_READ_TOO_LARGE with *seen the bytes
 * read by then (the file may hold more). INPUT_READ_ERROR with errno set
 * when reading fails. */
input_read cli_read_bounded(FILE *f, size_t max, char **out, size_t *len, size_t *seen);

/* Whether file ends with suffix, in any case (".JSON" is ".json"). */
bool cli_file_has_suffix(const char *file, const char *suffix);

/* Whether text, read from file, is JSON rather than YAML: by the
 * extension (.json; .yaml and .yml are YAML), else JSON when the first
 * non-blank character opens an object or an array (YAML's flow style
 * could too, but a file that starts so is JSON far more often). */
bool cli_input_is_json(const char *file, const char *text, size_t len);

#endif
