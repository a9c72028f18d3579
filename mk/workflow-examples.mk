# The workflow examples (examples/workflows), built against the staged
# install of libweft as a user builds them (mk/libweft.mk), and the C test
# program of libweft's workflow runtime (tests/clients/test_libweft_workflows.c,
# normal and ASan+UBSan). tests/clients/test_examples_workflows.py and
# test_libweft_workflows.py run them.

WF_EXAMPLES := $(patsubst examples/workflows/%.c,build/examples/workflows/%,$(wildcard examples/workflows/*.c))
WF_TEST_BIN := build/tests/libweft_workflows
WF_ASAN_TEST_BIN := build/asan/tests/libweft_workflows

all: $(WF_EXAMPLES)
CLIENT_TEST_DEPS += $(WF_EXAMPLES) $(WF_TEST_BIN) $(WF_ASAN_TEST_BIN)

build/examples/workflows/%: examples/workflows/%.c examples/workflows/example_util.h build/stage/.installed
	$(call say,CC-EX,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LIBWEFT_EXAMPLE_CFLAGS) $< $$($(LIBWEFT_STAGE_PC) --cflags --libs weft) \
		-Wl,-rpath,$(LIBWEFT_STAGE)/lib -o $@

$(WF_TEST_BIN): tests/clients/test_libweft_workflows.c $(LIBWEFT_A) include/weft.h
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -std=c17 -g -O1 $(WARNINGS) -pthread -Iinclude $< $(LIBWEFT_A) $(LIBWEFT_LIBS) -o $@

$(WF_ASAN_TEST_BIN): tests/clients/test_libweft_workflows.c build/asan/lib/libweft.a include/weft.h
	$(call say,CC-ASAN,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -std=c17 -g -O1 $(WARNINGS) $(SANITIZE) -pthread -Iinclude $< build/asan/lib/libweft.a \
		$(LIBWEFT_LIBS) -o $@
