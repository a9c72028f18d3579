/*
 * profile.h — the client commands' config file: server settings kept in
 * profiles, so that `weft --profile prod ls` needs no flags.
 *
 * The file is $WEFT_CONFIG, else $XDG_CONFIG_HOME/weft/config, else
 * ~/.config/weft/config:
 *
 *     # comments start with # or ;
 *     [default]
 *     url = http://localhost:8085
 *
 *     [profile prod]
 *     url = https://weft.example.com
 *     token = wft_...
 *     namespace = billing
 *
 * Keys are url, token and namespace. A file others may read that holds a
 * token gets a warning (chmod 600). A bad line is an error naming file:line.
 */
#ifndef WEFT_CLI_PROFILE_H
#define WEFT_CLI_PROFILE_H

#include "util/common.h"

typedef struct cli_profile {
	char *url, *token, *ns;   /* NULL when the profile does not set them */
} cli_profile;

/* Reads the profile name (NULL: "default") into *out (owned, free with
 * cli_profile_free), or *out = NULL when there is no config file and no
 * profile was asked for. -1 with a message prefixed by prog: a bad line,
 * an unreadable file, $WEFT_CONFIG naming a missing file, or a profile
 * asked for that the file lacks. */
int cli_profile_load(const char *prog, const char *name, cli_profile **out);
void cli_profile_free(cli_profile *p);

#endif
