#!/usr/bin/env bash
# Makes Prometheus's promtool available to the tests (they check /metrics output, alert rules and
# rule unit tests with it) without installing or starting a Prometheus server: the Debian package
# is downloaded (no root needed) and only its promtool binary is unpacked into .tools/bin.
# Prints the path of the promtool to use. A promtool already on PATH wins.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if command -v promtool >/dev/null 2>&1; then command -v promtool; exit 0; fi
dest=.tools/bin/promtool
if [ -x "$dest" ]; then echo "$PWD/$dest"; exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
( cd "$work" && apt-get download -qq prometheus >/dev/null 2>&1 ) || {
  echo "ensure-promtool: could not download the Debian package prometheus (apt-get download prometheus); install promtool on PATH" >&2
  exit 1
}
dpkg-deb -x "$work"/prometheus_*.deb "$work/x"
mkdir -p .tools/bin
install -m 0755 "$work/x/usr/bin/promtool" "$dest"
echo "$PWD/$dest"
