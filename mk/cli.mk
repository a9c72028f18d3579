# The command line's extras (included by the Makefile): the shell completion
# scripts, embedded into the binary for `weft completion bash|zsh`, and
# `make install-cli`.
#
#   make install-cli [PREFIX=/usr/local] [DESTDIR=] [CLI_INSTALL_BIN=build/weft]
#       $(PREFIX)/bin/weft, share/man/man1/weft.1,
#       share/bash-completion/completions/weft, share/zsh/site-functions/_weft

PREFIX ?= /usr/local
INSTALL ?= install
# The binary installed (a test installs the one it tests instead).
CLI_INSTALL_BIN ?= build/weft

# contrib/completion/<script> -> build/gen/completion/<script, as a C name>.c,
# defining embed_<C name>[] and its _len, #included by src/cli/completion.c.
CLI_COMPLETION_SCRIPTS := contrib/completion/weft.bash contrib/completion/_weft
CLI_COMPLETION_GEN := build/gen/completion/weft_bash.c build/gen/completion/_weft.c

build/gen/completion/weft_bash.c: contrib/completion/weft.bash scripts/embed.sh
build/gen/completion/_weft.c: contrib/completion/_weft scripts/embed.sh
$(CLI_COMPLETION_GEN):
	$(call say,EMBED,$<)
	@mkdir -p $(@D)
	$(Q)scripts/embed.sh contrib/completion $< $@

# Every build of completion.c needs them before it compiles (afterwards its
# .d file has them too).
build/obj/cli/completion.o build/asan/obj/cli/completion.o build/fuzz/obj/cli/completion.o: $(CLI_COMPLETION_GEN)

.PHONY: install-cli
install-cli: $(CLI_INSTALL_BIN)
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	$(INSTALL) -m 755 $(CLI_INSTALL_BIN) $(DESTDIR)$(PREFIX)/bin/weft
	$(INSTALL) -m 644 docs/man/weft.1 $(DESTDIR)$(PREFIX)/share/man/man1/weft.1
	$(INSTALL) -m 644 contrib/completion/weft.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/weft
	$(INSTALL) -m 644 contrib/completion/_weft $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_weft
