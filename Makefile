# weft — build, test and run (GNU make). See README.md.
#
#   make            build/weft
#   make run        install missing packages, build, serve on :8085 with ./weft.db
#   make check      install missing packages, build everything, run every test
#   make unit       cmocka unit tests, normal and ASan+UBSan builds (the store's
#                   on SQLite and on a throwaway PostgreSQL server)
#   make clients    pytest tests of the CLI, libweft and the SDKs against build/asan/weft
#   make api        pytest black-box tests against build/weft and build/asan/weft,
#                   on SQLite and then on a throwaway PostgreSQL server
#   make asan       build/asan/weft and the ASan+UBSan unit test binaries
#   make browser    the web UI in Chromium (tests/browser) against build/weft
#   make web-unit   node tests of the web UI's plain modules (web/src/**/*.test.js)
#   make fuzz       libFuzzer runs of the decoders (clang); FUZZ_SECONDS=600 each
#   make compile_commands   compile_commands.json for clangd/clang-tidy
#   make install    PREFIX=/usr/local: weft, its man page and completions, libweft
#   make clean
#
# Knobs: V=1 shows commands; OPT=-O0 changes the normal build's optimisation;
# ARGS='--port 9000' is passed to `weft serve` by `make run`;
# PYTEST_ARGS='-k name' narrows the api tests;
# BROWSER_TESTS=tests/browser/shell.test.mjs narrows the browser tests.

.DEFAULT_GOAL := all
SHELL := /bin/sh
.SUFFIXES:
.DELETE_ON_ERROR:

PKG_CONFIG ?= pkg-config
PYTHON := /usr/bin/python3
NPROC := $(shell nproc 2>/dev/null || echo 2)

PKGS := libmicrohttpd jansson libcurl sqlite3 libpq libcrypto yaml-0.1 zlib
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null || echo -lmicrohttpd -ljansson -lcurl -lsqlite3 -lpq -lcrypto -lyaml -lz)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)
LIBS := $(PKG_LIBS) -lm

OPT ?= -O2
PREFIX ?= /usr/local
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
COMMON_CFLAGS := -std=c17 -g -fno-omit-frame-pointer $(WARNINGS) -fno-common -pthread \
	-Isrc $(PKG_CFLAGS)
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=undefined
NORMAL_CFLAGS := $(COMMON_CFLAGS) $(OPT) $(CFLAGS)
ASAN_CFLAGS := $(COMMON_CFLAGS) $(SANITIZE) -O1 $(CFLAGS)
NORMAL_LDFLAGS := -pthread $(LDFLAGS)
ASAN_LDFLAGS := -pthread $(SANITIZE) $(LDFLAGS)

ifeq ($(V),1)
Q :=
say = @true
else ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
Q := @
say = @true
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2)
endif

# ---- sources ------------------------------------------------------------

SRCS := $(shell find src -name '*.c' 2>/dev/null | LC_ALL=C sort)
# Files embedded into the binary (path relative to src/ -> embed_<path as C identifier>).
ASSETS := $(shell find src -type f \( -name '*.sql' -o -name '*.json' \) 2>/dev/null | LC_ALL=C sort)
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
API_TESTS := $(wildcard tests/api/test_*.py tests/api/*_test.py)

ASSET_SYMS := $(if $(ASSETS),$(shell printf '%s\n' $(ASSETS) | sed 's|^src/||; s/[^A-Za-z0-9]/_/g'))
# build/gen/web_embed.c: the web UI (mk/web.mk).
GEN_SRCS := $(ASSET_SYMS:%=build/gen/%.c) build/gen/embed_index.c build/gen/web_embed.c

OBJS := $(SRCS:src/%.c=build/obj/%.o)
GEN_OBJS := $(GEN_SRCS:build/gen/%.c=build/obj/_gen/%.o)
MAIN_OBJ := build/obj/main.o
CORE_OBJS := $(filter-out $(MAIN_OBJ),$(OBJS)) $(GEN_OBJS)
ASAN_OBJS := $(OBJS:build/%=build/asan/%)
ASAN_GEN_OBJS := $(GEN_OBJS:build/%=build/asan/%)
ASAN_MAIN_OBJ := build/asan/obj/main.o
ASAN_CORE_OBJS := $(filter-out $(ASAN_MAIN_OBJ),$(ASAN_OBJS)) $(ASAN_GEN_OBJS)

UNIT_NAMES := $(TEST_SRCS:tests/unit/%.c=%)
UNIT_BINS := $(UNIT_NAMES:%=build/tests/%)
ASAN_UNIT_BINS := $(UNIT_NAMES:%=build/asan/tests/%)
UNIT_OBJS := $(UNIT_NAMES:%=build/tests/obj/%.o)
ASAN_UNIT_OBJS := $(UNIT_NAMES:%=build/asan/tests/obj/%.o)

# A result file per test suite: "pass" or "fail", written after each run.
UNIT_RESULTS := $(UNIT_BINS:build/%=build/results/%.result) \
	$(ASAN_UNIT_BINS:build/%=build/results/%.result)
API_RESULTS := build/results/api.result build/results/api-asan.result \
	build/results/api-pg.result build/results/api-pg-asan.result
# The clients layer (tests/clients): the CLI, libweft and the SDKs against a
# real server, once, on SQLite, with the sanitizer build of weft (its client
# commands are in the same binary). Each client's mk/*.mk file adds what
# the layer needs built first to CLIENT_TEST_DEPS.
CLIENT_TESTS := $(wildcard tests/clients/test_*.py)
CLIENT_RESULTS := build/results/clients.result
CLIENT_TEST_DEPS :=

# Fuzz harnesses (tests/fuzz/fuzz_<name>.c): `make check` replays each one's
# corpus with gcc under ASan+UBSan; `make fuzz` runs them under libFuzzer.
FUZZ_NAMES ?= $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(filter-out tests/fuzz/fuzz_common.c,$(wildcard tests/fuzz/fuzz_*.c))))
FUZZ_REPLAY_BINS := $(FUZZ_NAMES:%=build/asan/fuzz/replay_%)
FUZZ_RESULTS := $(FUZZ_NAMES:%=build/results/fuzz/%.result)

# The browser layer (tests/browser): the web UI that build/weft embeds, in
# Debian's Chromium driven by playwright-core (its own npm package).
BROWSER_TESTS := $(wildcard tests/browser/*.test.mjs)
BROWSER_RESULTS := build/results/browser.result
# Node tests of the page's modules that need no browser (web/src/**/*.test.js).
WEB_UNIT_TESTS := $(shell find web/src -name '*.test.js' 2>/dev/null | LC_ALL=C sort)
WEB_UNIT_RESULTS := build/results/web-unit.result

# ---- build --------------------------------------------------------------

.PHONY: all asan unit unit-results api clients browser web-unit check run deps clean compile_commands unit-bins fuzz fuzz-bins FORCE
FORCE:

all: build/weft

asan: build/asan/weft $(ASAN_UNIT_BINS)

unit-bins: $(UNIT_BINS) $(ASAN_UNIT_BINS)

build/obj/%.o: src/%.c
	$(call say,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(NORMAL_CFLAGS) -MMD -MP -c $< -o $@

build/asan/obj/%.o: src/%.c
	$(call say,CC-ASAN,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ASAN_CFLAGS) -MMD -MP -c $< -o $@

build/obj/_gen/%.o: build/gen/%.c
	$(call say,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(NORMAL_CFLAGS) -c $< -o $@

build/asan/obj/_gen/%.o: build/gen/%.c
	$(call say,CC-ASAN,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ASAN_CFLAGS) -c $< -o $@

# One generated C file per asset.
define EMBED_RULE
build/gen/$(2).c: $(1) scripts/embed.sh
	$$(call say,EMBED,$(1))
	@mkdir -p $$(@D)
	$$(Q)scripts/embed.sh src $(1) $$@
endef
$(foreach p,$(join $(ASSETS),$(ASSET_SYMS:%=|%)),\
	$(eval $(call EMBED_RULE,$(word 1,$(subst |, ,$(p))),$(word 2,$(subst |, ,$(p))))))

# The list of assets, rewritten only when it changes, so that adding or
# removing an asset regenerates the index.
build/gen/assets.list: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' $(ASSETS) >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

build/gen/embed_index.c: build/gen/assets.list $(ASSETS) scripts/embed.sh
	$(call say,EMBED,index)
	$(Q)scripts/embed.sh --index src $@ $(ASSETS)

# Everything but main(), as an archive: a test binary pulls in only the
# modules it uses.
build/weft-core.a: $(CORE_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

build/asan/weft-core.a: $(ASAN_CORE_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

build/weft: $(MAIN_OBJ) $(CORE_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) $(NORMAL_LDFLAGS) $^ $(LIBS) -o $@

build/asan/weft: $(ASAN_MAIN_OBJ) $(ASAN_CORE_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) $(ASAN_LDFLAGS) $^ $(LIBS) -o $@

build/tests/obj/%.o: tests/unit/%.c
	$(call say,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(NORMAL_CFLAGS) $(CMOCKA_CFLAGS) -MMD -MP -c $< -o $@

build/asan/tests/obj/%.o: tests/unit/%.c
	$(call say,CC-ASAN,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ASAN_CFLAGS) $(CMOCKA_CFLAGS) -MMD -MP -c $< -o $@

$(UNIT_BINS): build/tests/%: build/tests/obj/%.o build/weft-core.a
	$(call say,LD,$@)
	$(Q)$(CC) $(NORMAL_LDFLAGS) $^ $(CMOCKA_LIBS) $(LIBS) -o $@

$(ASAN_UNIT_BINS): build/asan/tests/%: build/asan/tests/obj/%.o build/asan/weft-core.a
	$(call say,LD,$@)
	$(Q)$(CC) $(ASAN_LDFLAGS) $^ $(CMOCKA_LIBS) $(LIBS) -o $@

# Fuzz harnesses linked with replay.c (gcc, ASan+UBSan).
build/asan/fuzz/obj/%.o: tests/fuzz/%.c
	$(call say,CC-ASAN,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ASAN_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_REPLAY_BINS): build/asan/fuzz/replay_%: build/asan/fuzz/obj/fuzz_%.o build/asan/fuzz/obj/fuzz_common.o \
		build/asan/fuzz/obj/replay.o build/asan/weft-core.a
	$(call say,LD,$@)
	$(Q)$(CC) $(ASAN_LDFLAGS) $^ $(LIBS) -o $@

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(ASAN_UNIT_OBJS:.o=.d) \
	$(wildcard build/asan/fuzz/obj/*.d build/fuzz/obj/*.d build/fuzz/obj/*/*.d)

# The client libraries and SDKs (libweft, sdk/python, sdk/typescript): one
# file each, included here so that each keeps its own rules.
include $(sort $(wildcard mk/*.mk))

# ---- tests --------------------------------------------------------------

TEST_TIMEOUT ?= 300
export ASAN_OPTIONS ?= detect_leaks=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

# Runs one unit test binary and records the outcome. The recipe itself
# succeeds either way so that every suite runs; the summary targets fail.
$(UNIT_RESULTS): build/results/%.result: build/% FORCE
	@mkdir -p $(@D)
	@if timeout $(TEST_TIMEOUT) ./$< >$@.log 2>&1; then \
		echo pass >$@; \
		printf 'PASS  %s (%s tests)\n' $< "$$(awk '/^\[  PASSED  \]/ { n += $$4 } END { print n + 0 }' $@.log)"; \
	else \
		echo fail >$@; cat $@.log; printf 'FAIL  %s\n' $<; \
	fi

# Replays one harness's corpus: every input once under the sanitizers.
$(FUZZ_RESULTS): build/results/fuzz/%.result: build/asan/fuzz/replay_% FORCE
	@mkdir -p $(@D)
	@if timeout $(TEST_TIMEOUT) ./$< tests/fuzz/corpus/$* >$@.log 2>&1; then \
		echo pass >$@; printf 'PASS  fuzz replay %s (%s)\n' $* "$$(tail -n 1 $@.log)"; \
	else \
		echo fail >$@; cat $@.log; printf 'FAIL  fuzz replay %s\n' $*; \
	fi

# The four api runs (SQLite, then PostgreSQL: WEFT_TEST_BACKEND; normal and
# sanitizer binaries), one after the other: each already runs two workers.
# The PostgreSQL runs start their own throwaway server (tests/api/pgcluster.py).
API_BACKEND = sqlite
API_RUN = \
	if [ -z "$(API_TESTS)" ]; then \
		echo "api: no tests in tests/api; nothing to run"; echo pass >$@; exit 0; \
	fi; \
	xdist=; $(PYTHON) -c 'import xdist' 2>/dev/null && xdist='-n 2'; \
	label=api; [ "$(API_BACKEND)" = sqlite ] || label="api $(API_BACKEND)"; \
	if WEFT_BIN=$(abspath $<) WEFT_TEST_BACKEND=$(API_BACKEND) \
		timeout 3600 $(PYTHON) -m pytest $$xdist -q tests/api $(PYTEST_ARGS); then \
		echo pass >$@; printf 'PASS  %s (%s)\n' "$$label" $<; \
	else \
		echo fail >$@; printf 'FAIL  %s (%s)\n' "$$label" $<; \
	fi

build/results/api-pg.result build/results/api-pg-asan.result: API_BACKEND = postgres

build/results/api.result: build/weft FORCE
	@mkdir -p $(@D)
	@$(API_RUN)

build/results/api-asan.result: build/asan/weft FORCE | build/results/api.result
	@mkdir -p $(@D)
	@$(API_RUN)

build/results/api-pg.result: build/weft FORCE | build/results/api-asan.result
	@mkdir -p $(@D)
	@$(API_RUN)

build/results/api-pg-asan.result: build/asan/weft FORCE | build/results/api-pg.result
	@mkdir -p $(@D)
	@$(API_RUN)

# Runs beside the api runs.
build/results/clients.result: build/asan/weft build/weft $(CLIENT_TEST_DEPS) FORCE
	@mkdir -p $(@D)
	@if [ -z "$(CLIENT_TESTS)" ]; then \
		echo "clients: no tests in tests/clients; nothing to run"; echo pass >$@; exit 0; \
	fi; \
	xdist=; $(PYTHON) -c 'import xdist' 2>/dev/null && xdist='-n 2'; \
	if WEFT_BIN=$(abspath build/asan/weft) WEFT_TEST_BACKEND=sqlite \
		timeout 1800 $(PYTHON) -m pytest $$xdist -q tests/clients $(PYTEST_ARGS); then \
		echo pass >$@; printf 'PASS  clients (%s)\n' build/asan/weft; \
	else \
		echo fail >$@; printf 'FAIL  clients (%s)\n' build/asan/weft; \
	fi

clients: $(CLIENT_RESULTS)
	@$(call report,$(CLIENT_RESULTS),clients)

# The test package's modules, installed again when its lock file changes;
# after web/'s, whose rule fetches the Node.js both use when the system's
# is too old (scripts/node.sh, mk/web.mk), so that it is fetched once.
tests/browser/node_modules/.installed: tests/browser/package.json tests/browser/package-lock.json \
		| web/node_modules/.package-lock.json
	$(call say,NPM,tests/browser)
	$(Q)$(WITH_NODE) && cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

# Runs beside the other layers, against the build/weft they share (one
# server per test file, files one after the other: Chromium is heavy).
build/results/browser.result: build/weft tests/browser/node_modules/.installed FORCE
	@mkdir -p $(@D)
	@if [ -z "$(BROWSER_TESTS)" ]; then \
		echo "browser: no tests in tests/browser; nothing to run"; echo pass >$@; exit 0; \
	fi; \
	if $(WITH_NODE) && WEFT_BIN=$(abspath build/weft) timeout 1200 node --test --test-concurrency=1 \
		--test-timeout=300000 --test-reporter=spec $(BROWSER_TESTS) >$@.log 2>&1; then \
		echo pass >$@; printf 'PASS  browser (%s tests, screenshots in tests/browser/out)\n' \
			"$$(sed -n 's/^[^ ]* pass \([0-9]*\)$$/\1/p' $@.log)"; \
	else \
		echo fail >$@; cat $@.log; printf 'FAIL  browser\n'; \
	fi

build/results/web-unit.result: $(WEB_UNIT_TESTS) web/node_modules/.package-lock.json FORCE
	@mkdir -p $(@D)
	@if [ -z "$(WEB_UNIT_TESTS)" ]; then \
		echo "web-unit: no tests in web/src; nothing to run"; echo pass >$@; exit 0; \
	fi; \
	if $(WITH_NODE) && timeout 300 node --test --test-reporter=spec $(WEB_UNIT_TESTS) >$@.log 2>&1; then \
		echo pass >$@; printf 'PASS  web-unit (%s tests)\n' "$$(sed -n 's/^[^ ]* pass \([0-9]*\)$$/\1/p' $@.log)"; \
	else \
		echo fail >$@; cat $@.log; printf 'FAIL  web-unit\n'; \
	fi

web-unit:
	@rm -f $(WEB_UNIT_RESULTS)
	@$(MAKE) --no-print-directory $(WEB_UNIT_RESULTS)
	@$(call report,$(WEB_UNIT_RESULTS),web-unit)

browser:
	@scripts/deps.sh browser
	@rm -f $(BROWSER_RESULTS)
	@$(MAKE) --no-print-directory $(PAR_JOBS) $(BROWSER_RESULTS)
	@$(call report,$(BROWSER_RESULTS),browser)

# Prints "<label>: N passed, M failed" over result files ($(1)); a missing
# file (the suite did not build) counts as failed. False if any failed.
report = ( pass=0; fail=0; failed=; \
	for f in $(1); do \
		if [ "$$(cat $$f 2>/dev/null)" = pass ]; then pass=$$((pass + 1)); \
		else fail=$$((fail + 1)); f=$${f%.result}; failed="$$failed $${f\#build/results/}"; fi; \
	done; \
	echo "$(2): $$pass passed, $$fail failed$${failed:+ (failed:$$failed)}"; \
	[ $$fail -eq 0 ] )

# The unit suites get a throwaway PostgreSQL server for the store's cases
# (WEFT_TEST_PG_URL, stopped afterwards however they end); a server named
# by WEFT_TEST_PG_URL already is used instead.
PG_SERVER = $(PYTHON) tests/api/pgcluster.py run --

unit:
	@$(PG_SERVER) $(MAKE) --no-print-directory unit-results

unit-results: $(UNIT_RESULTS)
	@$(call report,$(UNIT_RESULTS),unit)

api: $(API_RESULTS)
	@$(call report,$(API_RESULTS),api)

# Everything, in parallel where independent (unit suites run while the api
# suites do); -k keeps going past a failure so the summary is complete.
PAR_JOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(NPROC))

.PHONY: check-all
check-all: build/weft build/asan/weft $(UNIT_RESULTS) $(FUZZ_RESULTS) $(API_RESULTS) $(CLIENT_RESULTS) \
	$(BROWSER_RESULTS) $(WEB_UNIT_RESULTS)

check:
	@scripts/deps.sh browser
	@rm -rf build/results
	@rc=0; \
	$(PG_SERVER) $(MAKE) --no-print-directory $(PAR_JOBS) -k --output-sync=target check-all || rc=1; \
	$(call report,$(UNIT_RESULTS) $(FUZZ_RESULTS) $(API_RESULTS) $(CLIENT_RESULTS) $(BROWSER_RESULTS) $(WEB_UNIT_RESULTS),check) || rc=1; \
	exit $$rc

# ---- fuzzing under libFuzzer (clang) --------------------------------------
# `make fuzz` builds every harness with clang's libFuzzer, ASan and UBSan
# and runs each for FUZZ_SECONDS (one after the other), starting from its
# committed corpus; what it finds goes to build/fuzz/corpus/<name>, crashes
# to build/fuzz/crashes/<name>/. Copy a crash input into
# tests/fuzz/corpus/<name>/ with the fix so that `make check` replays it.
FUZZ_SECONDS ?= 600
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=c17 -g -O1 -fno-omit-frame-pointer $(WARNINGS) -pthread -Isrc $(PKG_CFLAGS) \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CORE_OBJS := $(filter-out build/fuzz/obj/main.o,$(SRCS:src/%.c=build/fuzz/obj/%.o)) \
	$(GEN_SRCS:build/gen/%.c=build/fuzz/obj/_gen/%.o)
FUZZ_BINS := $(FUZZ_NAMES:%=build/fuzz/fuzz_%)

build/fuzz/obj/%.o: src/%.c
	$(call say,CC-FUZZ,$<)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

build/fuzz/obj/_gen/%.o: build/gen/%.c
	$(call say,CC-FUZZ,$<)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -c $< -o $@

build/fuzz/obj/tests/%.o: tests/fuzz/%.c
	$(call say,CC-FUZZ,$<)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_BINS): build/fuzz/fuzz_%: build/fuzz/obj/tests/fuzz_%.o build/fuzz/obj/tests/fuzz_common.o $(FUZZ_CORE_OBJS)
	$(call say,LD-FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $^ $(LIBS) -o $@

fuzz-bins:
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory $(PAR_JOBS) $(FUZZ_BINS)

fuzz: fuzz-bins
	@for n in $(FUZZ_NAMES); do \
		mkdir -p build/fuzz/corpus/$$n build/fuzz/crashes/$$n; \
		echo "fuzz $$n: $(FUZZ_SECONDS) s"; \
		./build/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=build/fuzz/crashes/$$n/ build/fuzz/corpus/$$n tests/fuzz/corpus/$$n \
			>build/fuzz/$$n.log 2>&1; rc=$$?; \
		grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE' build/fuzz/$$n.log; \
		[ $$rc -eq 0 ] || { tail -n 40 build/fuzz/$$n.log; echo "fuzz $$n: FAILED (exit $$rc), see build/fuzz/$$n.log"; }; \
	done

# ---- install ------------------------------------------------------------
# `make install PREFIX=/opt/weft` (default /usr/local; DESTDIR honoured):
# the binary, its man page and shell completions (mk/cli.mk), and libweft
# with its header and pkg-config file (mk/libweft.mk).
.PHONY: install
install: install-cli install-lib

# ---- run, deps, tooling -------------------------------------------------

deps:
	@scripts/deps.sh

run:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory $(PAR_JOBS) all
	exec ./build/weft serve $(ARGS)

compile_commands: $(GEN_SRCS)
	@{ echo '['; sep=' '; \
	for f in $(SRCS) $(GEN_SRCS) $(TEST_SRCS); do \
		case $$f in tests/*) extra='$(CMOCKA_CFLAGS)' ;; *) extra= ;; esac; \
		printf '%s {"directory": "%s", "file": "%s", "command": "%s %s %s -c %s"}\n' \
			"$$sep" "$(CURDIR)" "$$f" "$(CC)" "$(NORMAL_CFLAGS)" "$$extra" "$$f"; sep=','; \
	done; echo ']'; } >compile_commands.json
	@echo "wrote compile_commands.json"

clean:
	rm -rf build compile_commands.json sdk/typescript/dist

# ---- benchmarks (never part of `make check`) ------------------------------
# `make bench`: weft's queue beside graphile-worker and pg-boss on one
# throwaway PostgreSQL 15, and weft on SQLite (bench/peers/README.md).
# BENCH_ARGS='--quick' for N = 5,000 once; '--n 20000 --reps 3' and so on.
.PHONY: bench
bench: build/weft
	@bench/peers/run.sh $(BENCH_ARGS)

# `make bench-workflows`: a 10-step no-op workflow on weft (SQLite and
# PostgreSQL) beside DBOS Transact's TypeScript SDK on the same PostgreSQL.
.PHONY: bench-workflows
bench-workflows: build/weft
	@bench/peers/run.sh --workload workflows $(BENCH_ARGS)

# `make bench-clients`: jobs/s of one worker process of each client (weft
# worker, libweft, Python, TypeScript) on no-op jobs (bench/clients/run.py).
.PHONY: bench-clients
bench-clients: build/weft $(CLIENT_TEST_DEPS)
	@bench/clients/run.py $(BENCH_ARGS)

# `make bench-ui`: load time of each web UI view with 10,000 tasks and a
# 10,000-node DAG in the database, and the bundle's size (bench/ui/README.md).
.PHONY: bench-ui
bench-ui: build/weft tests/browser/node_modules/.installed
	@$(WITH_NODE) && WEFT_BIN=$(abspath build/weft) node bench/ui/load.mjs $(BENCH_ARGS)
