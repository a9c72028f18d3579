/*
 * cli.h — the client commands of `weft`: they talk to a weft server over
 * its /v1 API (see client_opts.h for what they share).
 */
#ifndef WEFT_CLI_H
#define WEFT_CLI_H

#include "util/common.h"

/* `weft enqueue [options] QUEUE [JSON…]`. argv[0] is "enqueue". Returns
 * the exit code. */
int enqueue_main(int argc, char **argv);

/* `weft worker --queue Q [options] -- CMD ARGS…`. argv[0] is "worker".
 * Returns the exit code. */
int worker_main(int argc, char **argv);
int step_main(int argc, char **argv);
int sleep_main(int argc, char **argv);
int wait_signal_main(int argc, char **argv);

/* Runs the client command argv[0] when there is one (*handled), with
 * argv[0] its name. Returns the exit code. */
int cli_main(int argc, char **argv, bool *handled);
/* `weft help CMD [SUB]`: prints the help of a client command (*handled). */
int cli_help(const char *cmd, const char *sub, bool *handled);
/* One line per client command, for `weft --help`. */
void cli_print_commands(FILE *f);

#endif
