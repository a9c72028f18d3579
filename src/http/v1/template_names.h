/*
 * template_names.h — the name and the version of a template, as the
 * template routes take them in a path and a schedule's target takes them
 * in "name@version".
 */
#ifndef WEFT_HTTP_V1_TEMPLATE_NAMES_H
#define WEFT_HTTP_V1_TEMPLATE_NAMES_H

#include "util/common.h"

#include <string.h>

#define TEMPLATE_NAME_MAX 64
#define TEMPLATE_VERSION_MAX 32

/* The n bytes at s are a name [a-z][a-z0-9_.-]{0,63}: safe in a path and
 * in name@version. */
static inline bool template_name_valid(const char *s, size_t n)
{
	if (n == 0 || n > TEMPLATE_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* s is a version: 1 to 32 characters of [A-Za-z0-9._-]. */
static inline bool template_version_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TEMPLATE_VERSION_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.' || c == '-'))
			return false;
	}
	return true;
}

#endif
