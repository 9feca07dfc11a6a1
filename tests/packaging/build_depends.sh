#!/usr/bin/env bash
# debian/control's Build-Depends and scripts/install-deps' BUILD_PKGS name the
# same packages (debhelper-compat counts as debhelper, build-essential is
# implied by Debian), so a clean machine that ran install-deps can build the
# .deb, and the .deb asks for nothing install-deps does not install.
# Env: STOPGAP_SRC (the source tree).
set -euo pipefail
SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
control=$(awk '/^Build-Depends:/ {on=1; sub(/^Build-Depends:/, "")} on && /^[A-Z]/ && !/^Build-Depends:/ {on=0} on' "$SRC/debian/control" |
  tr ',' '\n' | sed 's/([^)]*)//; s/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$' |
  sed 's/^debhelper-compat$/debhelper/' | sort -u)
deps=$("$SRC/scripts/install-deps" --print-build | grep -vx build-essential | sort -u)
if [[ $control != "$deps" ]]; then
  echo "FAIL: Build-Depends and install-deps' BUILD_PKGS differ (< control, > install-deps):" >&2
  diff <(echo "$control") <(echo "$deps") >&2 || true
  exit 1
fi
echo "PASS: $(echo "$control" | wc -l) build dependencies, the same in both"
