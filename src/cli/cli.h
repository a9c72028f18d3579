/*
 * cli.h — the client commands of `weft`: they talk to a weft server over
 * its /v1 API (see client_opts.h for what they share).
 */
#ifndef WEFT_CLI_H
#define WEFT_CLI_H

/* `weft enqueue [options] QUEUE [JSON…]`. argv[0] is "enqueue". Returns
 * the exit code. */
int enqueue_main(int argc, char **argv);

/* `weft worker --queue Q [options] -- CMD ARGS…`. argv[0] is "worker".
 * Returns the exit code. */
int worker_main(int argc, char **argv);

#endif
