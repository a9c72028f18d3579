/*
 * completion.h — `weft completion bash|zsh`: prints the shell completion
 * script kept in contrib/completion/ (weft.bash, _weft), which the build
 * embeds into the binary (mk/cli.mk).
 */
#ifndef WEFT_CLI_COMPLETION_H
#define WEFT_CLI_COMPLETION_H

/* argv[0] is "completion". Returns the exit code. */
int completion_main(int argc, char **argv);

#endif
