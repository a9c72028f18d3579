/*
 * input_file.c — reading a command's document (see input_file.h).
 */
#include "cli/input_file.h"
#include "util/buf.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

input_read cli_read_bounded(FILE *f, size_t max, char **out, size_t *len, size_t *seen)
{
	buf b;
	buf_init(&b);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (b.len + n > max) {
			*seen = b.len + n;
			buf_release(&b);
			return INPUT_READ_TOO_LARGE;
		}
		buf_append(&b, chunk, n);
	}
	if (ferror(f)) {
		int saved = errno;
		buf_release(&b);
		errno = saved;
		return INPUT_READ_ERROR;
	}
	*out = buf_detach(&b, len);
	return INPUT_READ_OK;
}

bool cli_file_has_suffix(const char *file, const char *suffix)
{
	size_t n = strlen(file), m = strlen(suffix);
	return n >= m && strcasecmp(file + n - m, suffix) == 0;
}

bool cli_input_is_json(const char *file, const char *text, size_t len)
{
	if (cli_file_has_suffix(file, ".json"))
		return true;
	if (cli_file_has_suffix(file, ".yaml") || cli_file_has_suffix(file, ".yml"))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')
			continue;
		return text[i] == '{' || text[i] == '[';
	}
	return false;
}
