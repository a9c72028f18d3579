/*
 * submit.h — `weft submit FILE`: sends a DAG written in JSON or YAML to
 * POST /v1/runs, and with --wait follows the run to its end.
 */
#ifndef WEFT_CLI_SUBMIT_H
#define WEFT_CLI_SUBMIT_H

/* Exit codes of `weft submit --wait` beyond the shared ones (client_opts.h:
 * 0 ok, 1 server error, 2 usage, 3 auth, 4 unreachable; 5 and 6 are kept
 * for not found and conflict). */
enum {
	SUBMIT_EXIT_RUN_FAILED = 7,     /* the run ended in failure */
	SUBMIT_EXIT_RUN_CANCELED = 8,   /* the run was canceled */
	SUBMIT_EXIT_WAIT_TIMEOUT = 9,   /* --wait-timeout passed with the run still active */
};

/* Largest request `weft submit` sends: the server's default
 * V1_PAYLOAD_MAX_BYTES (16 MiB). A file, and the JSON made of it, must fit. */
#define SUBMIT_MAX_BYTES (16u << 20)

/* `weft submit [options] FILE|-`. argv[0] is "submit". Returns the exit code. */
int submit_main(int argc, char **argv);

#endif
