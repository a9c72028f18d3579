# The web UI (included by the Makefile): web/ is built with vite into
# build/web, and scripts/embed-web.sh turns that directory into
# build/gen/web_embed.c (every file gzip'd, and the table src/http/ui.c
# serves from), one of GEN_SRCS.
#
# npm ci runs only when web/node_modules is missing or older than the lock
# file; vite only when a source of the page changed, so `make` stays quick
# when nothing did.

WEB_SRCS := web/index.html web/vite.config.js web/package.json web/package-lock.json \
	$(shell find web/src web/public -type f 2>/dev/null | LC_ALL=C sort)

# Vite 8 and playwright-core need Node.js 20.19+ or 22.12+; Debian 12's is
# 18. scripts/node.sh names a new enough one (fetching it once when the
# system's is older), put first on PATH for npm and vite.
WITH_NODE = PATH="$$(scripts/node.sh)":"$$PATH"

# npm ci writes node_modules/.package-lock.json; touched so that its time
# says when the install ran.
web/node_modules/.package-lock.json: web/package-lock.json
	$(call say,NPM,web)
	$(Q)$(WITH_NODE) && cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

# vite empties build/web first, hence the stamp beside it.
build/web.stamp: $(WEB_SRCS) web/node_modules/.package-lock.json
	$(call say,VITE,build/web)
	@mkdir -p build
	$(Q)$(WITH_NODE) && cd web && npx --no-install vite build --logLevel warn
	@touch $@

build/gen/web_embed.c: build/web.stamp scripts/embed-web.sh scripts/embed.sh
	$(call say,EMBED,build/web)
	@mkdir -p $(@D)
	$(Q)scripts/embed-web.sh build/web build/gen/web $@
