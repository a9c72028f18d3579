/*
 * completion.c — `weft completion bash|zsh` (see completion.h).
 *
 * The scripts are ordinary files under contrib/completion/, where a
 * packager finds them too (`make install-cli` installs them); mk/cli.mk
 * turns each into a C array with scripts/embed.sh under build/gen/completion/,
 * included here, so that the binary always prints the script of its own
 * version.
 */
#include "cli/completion.h"
#include "cli/client_opts.h"

#include "../../build/gen/completion/weft_bash.c"
#include "../../build/gen/completion/_weft.c"

static void usage(FILE *out)
{
	fputs("usage: weft completion bash|zsh\n"
	      "\n"
	      "Prints the shell completion script of weft. To use it now:\n"
	      "  bash:  source <(weft completion bash)\n"
	      "  zsh:   source <(weft completion zsh)   (after compinit)\n"
	      "For every new shell: `make install-cli` installs both, or write the script to\n"
	      "  bash:  ~/.local/share/bash-completion/completions/weft\n"
	      "  zsh:   a directory of your $fpath, as _weft\n",
	      out);
}

int completion_main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc != 2) {
		fprintf(stderr, "weft completion: which shell? ");
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *script;
	size_t len;
	if (strcmp(argv[1], "bash") == 0) {
		script = embed_weft_bash;
		len = embed_weft_bash_len;
	} else if (strcmp(argv[1], "zsh") == 0) {
		script = embed__weft;
		len = embed__weft_len;
	} else {
		fprintf(stderr, "weft completion: no script for '%s': bash or zsh\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	return fwrite(script, 1, len, stdout) == len && fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_SERVER;
}
