# libweft: include/weft.h, lib/ and the parts of src/ the client shares
# (the HTTP transport, buffers, allocation), built as build/lib/libweft.a
# and build/lib/libweft.so.0, with the examples (examples/c) built against
# a staged install the way a user builds them, and the C test program of
# tests/clients/test_libweft_client.c (normal and ASan+UBSan).
#
#   make install-lib PREFIX=/usr/local [DESTDIR=…]
#
# Only weft_* symbols leave the library: everything is compiled with
# -fvisibility=hidden (the API is marked WEFT_API), and the archive holds
# one object, linked with ld -r and its hidden symbols made local, so that
# a static link cannot clash with the program's own xmalloc or buf_init.

PREFIX ?= /usr/local
LIBWEFT_VERSION := 0.6.0
LIBWEFT_SONAME := libweft.so.0

LIBWEFT_SRCS := $(sort $(wildcard lib/*.c)) src/client/http_client.c src/util/buf.c src/util/alloc.c
LIBWEFT_PKGS := libcurl jansson
LIBWEFT_LIBS := $(shell $(PKG_CONFIG) --libs $(LIBWEFT_PKGS) 2>/dev/null || echo -lcurl -ljansson) -pthread
LIBWEFT_CFLAGS = $(COMMON_CFLAGS) -Iinclude -Ilib -fPIC -fvisibility=hidden

LIBWEFT_OBJS := $(patsubst %.c,build/lib/obj/%.o,$(LIBWEFT_SRCS))
LIBWEFT_ASAN_OBJS := $(patsubst %.c,build/asan/lib/obj/%.o,$(LIBWEFT_SRCS))

LIBWEFT_A := build/lib/libweft.a
LIBWEFT_SO := build/lib/libweft.so.$(LIBWEFT_VERSION)
LIBWEFT_LINKS := build/lib/$(LIBWEFT_SONAME) build/lib/libweft.so
LIBWEFT_PC := build/lib/weft.pc

LIBWEFT_STAGE := $(abspath build/stage)
LIBWEFT_EXAMPLES := build/examples/c/worker build/examples/c/worker-static \
	build/examples/c/enqueue build/examples/c/enqueue-static
LIBWEFT_TEST_BIN := build/tests/libweft_client
LIBWEFT_ASAN_TEST_BIN := build/asan/tests/libweft_client

.PHONY: libweft install-lib
libweft: $(LIBWEFT_A) $(LIBWEFT_SO) $(LIBWEFT_LINKS) $(LIBWEFT_PC)
all: libweft $(LIBWEFT_EXAMPLES)
CLIENT_TEST_DEPS += libweft $(LIBWEFT_EXAMPLES) $(LIBWEFT_TEST_BIN) $(LIBWEFT_ASAN_TEST_BIN)

build/lib/obj/%.o: %.c
	$(call say,CC-LIB,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LIBWEFT_CFLAGS) $(OPT) $(CFLAGS) -MMD -MP -c $< -o $@

build/asan/lib/obj/%.o: %.c
	$(call say,CC-ASAN,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LIBWEFT_CFLAGS) $(SANITIZE) -O1 $(CFLAGS) -MMD -MP -c $< -o $@

# One relocatable object with the hidden symbols made local, archived.
build/lib/weft-all.o: $(LIBWEFT_OBJS)
	$(call say,LD-R,$@)
	$(Q)$(LD) -r $^ -o $@ && objcopy --localize-hidden $@

build/asan/lib/weft-all.o: $(LIBWEFT_ASAN_OBJS)
	$(call say,LD-R,$@)
	$(Q)$(LD) -r $^ -o $@ && objcopy --localize-hidden $@

build/lib/libweft.a: build/lib/weft-all.o
build/asan/lib/libweft.a: build/asan/lib/weft-all.o
build/lib/libweft.a build/asan/lib/libweft.a:
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBWEFT_SO): $(LIBWEFT_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,$(LIBWEFT_SONAME) -Wl,--no-undefined $(LDFLAGS) $^ $(LIBWEFT_LIBS) -o $@

build/lib/$(LIBWEFT_SONAME): $(LIBWEFT_SO)
	$(Q)ln -sf $(notdir $<) $@

build/lib/libweft.so: build/lib/$(LIBWEFT_SONAME)
	$(Q)ln -sf $(notdir $<) $@

# weft.pc for a given prefix: $(call libweft_pc,PREFIX,OUT)
libweft_pc = sed -e 's|@PREFIX@|$(1)|' -e 's|@VERSION@|$(LIBWEFT_VERSION)|' lib/weft.pc.in >$(2)

$(LIBWEFT_PC): lib/weft.pc.in mk/libweft.mk
	$(Q)$(call libweft_pc,$(PREFIX),$@)

# Installs under $(1), for prefix $(2) (the caller prepends DESTDIR to $(1)).
libweft_install = install -d $(1)/include $(1)/lib/pkgconfig \
	&& install -m 644 include/weft.h $(1)/include/weft.h \
	&& install -m 644 $(LIBWEFT_A) $(1)/lib/libweft.a \
	&& install -m 755 $(LIBWEFT_SO) $(1)/lib/$(notdir $(LIBWEFT_SO)) \
	&& ln -sf $(notdir $(LIBWEFT_SO)) $(1)/lib/$(LIBWEFT_SONAME) \
	&& ln -sf $(LIBWEFT_SONAME) $(1)/lib/libweft.so \
	&& $(call libweft_pc,$(2),$(1)/lib/pkgconfig/weft.pc)

install-lib: $(LIBWEFT_A) $(LIBWEFT_SO)
	$(call libweft_install,$(DESTDIR)$(PREFIX),$(PREFIX))

# The staged install the examples are built against, as a user would.
build/stage/.installed: $(LIBWEFT_A) $(LIBWEFT_SO) include/weft.h lib/weft.pc.in
	$(call say,STAGE,build/stage)
	$(Q)rm -rf build/stage
	$(Q)$(call libweft_install,$(LIBWEFT_STAGE),$(LIBWEFT_STAGE))
	$(Q)touch $@

LIBWEFT_STAGE_PC := PKG_CONFIG_PATH=$(LIBWEFT_STAGE)/lib/pkgconfig $(PKG_CONFIG)
LIBWEFT_EXAMPLE_CFLAGS := -std=c17 -O2 -g -Wall -Wextra -Werror -pthread

build/examples/c/%: examples/c/%.c build/stage/.installed
	$(call say,CC-EX,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LIBWEFT_EXAMPLE_CFLAGS) $< $$($(LIBWEFT_STAGE_PC) --cflags --libs weft) \
		-Wl,-rpath,$(LIBWEFT_STAGE)/lib -o $@

# The same, linked with libweft.a (-l:libweft.a picks the archive over the
# shared library beside it) and the shared libcurl and jansson: a fully
# static `pkg-config --static` link would need every static library
# libcurl was built with.
build/examples/c/%-static: examples/c/%.c build/stage/.installed
	$(call say,CC-EX,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LIBWEFT_EXAMPLE_CFLAGS) $< $$($(LIBWEFT_STAGE_PC) --cflags weft) \
		$$($(LIBWEFT_STAGE_PC) --libs weft | sed 's/-lweft\b/-l:libweft.a/') \
		$$($(PKG_CONFIG) --libs $(LIBWEFT_PKGS)) -pthread -o $@

$(LIBWEFT_TEST_BIN): tests/clients/test_libweft_client.c $(LIBWEFT_A) include/weft.h
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -std=c17 -g -O1 $(WARNINGS) -pthread -Iinclude $< $(LIBWEFT_A) $(LIBWEFT_LIBS) -o $@

$(LIBWEFT_ASAN_TEST_BIN): tests/clients/test_libweft_client.c build/asan/lib/libweft.a include/weft.h
	$(call say,CC-ASAN,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -std=c17 -g -O1 $(WARNINGS) $(SANITIZE) -pthread -Iinclude $< build/asan/lib/libweft.a \
		$(LIBWEFT_LIBS) -o $@

-include $(LIBWEFT_OBJS:.o=.d) $(LIBWEFT_ASAN_OBJS:.o=.d)
