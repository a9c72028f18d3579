/*
 * profile.c — the client commands' config file (see profile.h).
 */
#include "cli/profile.h"
#include "util/alloc.h"

#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>

#define LINE_MAX_BYTES 4096

void cli_profile_free(cli_profile *p)
{
	if (!p)
		return;
	free(p->url);
	free(p->token);
	free(p->ns);
	free(p);
}

/* The file to read (owned), and whether the user named it ($WEFT_CONFIG). */
static char *config_path(bool *named)
{
	const char *v = getenv("WEFT_CONFIG");
	*named = v && *v;
	if (*named)
		return xstrdup(v);
	v = getenv("XDG_CONFIG_HOME");
	if (v && *v)
		return xasprintf("%s/weft/config", v);
	v = getenv("HOME");
	return v && *v ? xasprintf("%s/.config/weft/config", v) : NULL;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* The section a "[...]" line opens: "default", or the NAME of
 * "[profile NAME]"; NULL when malformed. Points into line. */
static char *section_name(char *line)
{
	size_t n = strlen(line);
	if (n < 2 || line[n - 1] != ']')
		return NULL;
	line[n - 1] = '\0';
	char *s = trim(line + 1);
	if (strcmp(s, "default") == 0)
		return s;
	if (strncmp(s, "profile", 7) != 0 || !isspace((unsigned char)s[7]))
		return NULL;
	s = trim(s + 7);
	for (char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return NULL;
	return *s ? s : NULL;
}

/* Sets key of p from one "key = value" line: 0, or -1 with the reason. */
static int set_key(cli_profile *p, const char *key, const char *value, const char **why)
{
	char **field = strcmp(key, "url") == 0         ? &p->url
	               : strcmp(key, "token") == 0     ? &p->token
	               : strcmp(key, "namespace") == 0 ? &p->ns
	                                               : NULL;
	if (!field) {
		*why = "unknown key (url, token and namespace are known)";
		return -1;
	}
	if (!*value) {
		*why = "empty value";
		return -1;
	}
	free(*field);
	*field = xstrdup(value);
	return 0;
}

static void warn_if_readable(const char *prog, const char *path, FILE *f)
{
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH)))
		fprintf(stderr, "%s: warning: %s holds a token and others may read it: chmod 600 %s\n", prog, path, path);
}

/* Reads the whole file (every line is checked, not only the wanted
 * profile's): 0, or -1 with a message. *found says whether the section
 * name was there. */
static int parse(const char *prog, const char *path, FILE *f, const char *want, cli_profile *p, bool *found)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	bool in_wanted = false, any_token = false, in_section = false;
	int rc = 0;
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		const char *why = NULL;
		char *s = trim(line);
		if ((size_t)n > LINE_MAX_BYTES) {
			why = "line too long";
		} else if (!*s || *s == '#' || *s == ';') {
			continue;
		} else if (*s == '[') {
			char *name = section_name(s);
			if (!name)
				why = "bad section: write [default] or [profile NAME]";
			else {
				in_section = true;
				in_wanted = strcmp(name, want) == 0;
				*found = *found || in_wanted;
			}
		} else {
			char *eq = strchr(s, '=');
			if (!eq) {
				why = "expected key = value";
			} else if (!in_section) {
				why = "key = value before any [default] or [profile NAME] section";
			} else {
				*eq = '\0';
				char *key = trim(s), *value = trim(eq + 1);
				cli_profile scratch = { 0 };
				/* every section's keys are checked; only the wanted one is kept */
				if (set_key(in_wanted ? p : &scratch, key, value, &why) == 0 && strcmp(key, "token") == 0)
					any_token = true;
				free(scratch.url);
				free(scratch.token);
				free(scratch.ns);
			}
		}
		if (why) {
			fprintf(stderr, "%s: %s:%zu: %s\n", prog, path, lineno, why);
			rc = -1;
		}
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "%s: cannot read %s: %s\n", prog, path, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && any_token)
		warn_if_readable(prog, path, f);
	free(line);
	return rc;
}

int cli_profile_load(const char *prog, const char *name, cli_profile **out)
{
	*out = NULL;
	bool named;
	char *path = config_path(&named);
	FILE *f = path ? fopen(path, "r") : NULL;
	if (!f) {
		int rc = 0;
		if (path && (named || errno != ENOENT)) {
			fprintf(stderr, "%s: cannot read the config file %s: %s\n", prog, path, strerror(errno));
			rc = -1;
		} else if (name) {
			fprintf(stderr, "%s: profile '%s' asked for, but there is no config file (%s)\n", prog, name,
			        path ? path : "$HOME is not set");
			rc = -1;
		}
		free(path);
		return rc;
	}
	cli_profile *p = xcalloc(1, sizeof(*p));
	bool found = false;
	int rc = parse(prog, path, f, name ? name : "default", p, &found);
	if (rc == 0 && name && !found) {
		fprintf(stderr, "%s: %s has no [profile %s] section\n", prog, path, name);
		rc = -1;
	}
	fclose(f);
	free(path);
	if (rc != 0)
		cli_profile_free(p);
	else
		*out = p;
	return rc;
}
