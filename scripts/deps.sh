#!/bin/sh
# Installs (or names) the Debian 12 packages weft needs to build and test.
# Fast no-op when everything is present.
set -eu

PACKAGES="build-essential pkg-config tzdata libmicrohttpd-dev libjansson-dev
libcurl4-openssl-dev libsqlite3-dev libssl-dev libcmocka-dev python3-pytest
python3-pytest-xdist python3-requests python3-psycopg2 libpq-dev postgresql
libyaml-dev python3-venv python3-pip python3-setuptools python3-wheel mypy nodejs
zlib1g-dev"
# Extra layers, by argument (several may be given):
#   fuzz: clang and its libFuzzer runtime (make fuzz);
#   browser: Chromium, which the browser tests drive (make browser, make check).
for layer in "$@"; do
	case "$layer" in
	fuzz) PACKAGES="$PACKAGES clang libclang-rt-14-dev" ;;
	browser) PACKAGES="$PACKAGES chromium" ;;
	*) echo "scripts/deps.sh: unknown layer '$layer' (fuzz, browser)" >&2; exit 2 ;;
	esac
done

missing=""
# npm ships inside some nodejs builds (NodeSource's) and as its own package
# in Debian's: ask for the package only when there is no npm at all.
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0
missing=${missing# }

if [ "$(id -u)" -ne 0 ]; then
	echo "weft: missing packages: $missing" >&2
	echo "Install them with:" >&2
	echo "  sudo apt-get install -y $missing" >&2
	exit 1
fi

echo "weft: installing $missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists first only when apt knows no candidate for one
# of them; refresh and retry once if the install fails on stale lists.
updated=no
for p in $missing; do
	candidate=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')
	if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
		apt-get update
		updated=yes
		break
	fi
done
# shellcheck disable=SC2086
if ! apt-get install -y $missing; then
	[ "$updated" = yes ] && exit 1
	apt-get update
	apt-get install -y $missing
fi
