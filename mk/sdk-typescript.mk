# The TypeScript SDK (sdk/typescript): its devDependencies (npm ci, again
# only when package-lock.json changes), dist/ compiled by tsc, and an
# install of the package with no network into a scratch consumer project,
# build/sdk/ts-consumer, where the clients suite imports it from.

TS_SDK := sdk/typescript
TS_SDK_BUILD := build/sdk/ts
TS_SDK_CONSUMER := build/sdk/ts-consumer
TS_SDK_SRCS := $(sort $(wildcard $(TS_SDK)/src/*.ts))
TS_SDK_SHIPPED := $(TS_SDK)/package.json $(TS_SDK)/README.md $(sort $(wildcard $(TS_SDK)/examples/*))
NPM ?= npm

$(TS_SDK_BUILD)/npm-ci.stamp: $(TS_SDK)/package-lock.json $(TS_SDK)/package.json
	$(call say,NPM-CI,$(TS_SDK))
	$(Q)mkdir -p $(@D)
	$(Q)cd $(TS_SDK) && $(NPM) ci --no-audit --no-fund --loglevel=error
	$(Q)touch $@

$(TS_SDK_BUILD)/dist.stamp: $(TS_SDK_BUILD)/npm-ci.stamp $(TS_SDK_SRCS) $(TS_SDK)/tsconfig.json
	$(call say,TSC,$(TS_SDK)/dist)
	$(Q)rm -rf $(TS_SDK)/dist
	$(Q)cd $(TS_SDK) && node_modules/.bin/tsc -p tsconfig.json
	$(Q)touch $@

$(TS_SDK_BUILD)/consumer.stamp: $(TS_SDK_BUILD)/dist.stamp $(TS_SDK_SHIPPED)
	$(call say,NPM-I,$(TS_SDK_CONSUMER))
	$(Q)rm -rf $(TS_SDK_CONSUMER)
	$(Q)mkdir -p $(TS_SDK_CONSUMER)
	$(Q)printf '{"name": "weft-ts-consumer", "private": true, "type": "module"}\n' >$(TS_SDK_CONSUMER)/package.json
	$(Q)cd $(TS_SDK_CONSUMER) && $(NPM) install --offline --no-audit --no-fund --install-links --loglevel=error \
		$(abspath $(TS_SDK))
	$(Q)touch $@

CLIENT_TEST_DEPS += $(TS_SDK_BUILD)/consumer.stamp

# `make sdk-typescript`: sdk/typescript/dist, ready for `npm install ./sdk/typescript`.
.PHONY: sdk-typescript
sdk-typescript: $(TS_SDK_BUILD)/dist.stamp
