#!/usr/bin/env bash
# playwright-core (npm, pinned) for the browser tests of the web UI; it drives
# Debian's /usr/bin/chromium (scripts/install-deps --services), never a browser
# of its own. Never committed: installed into a git-ignored cache dir.
#   playwright.sh install   -> prints the directory holding node_modules/playwright-core
# Cache dir: $STOPGAP_PLAYWRIGHT_DIR (default <repo>/.cache/playwright-core-<version>).
set -euo pipefail
version=1.65.1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${STOPGAP_PLAYWRIGHT_DIR:-$root/.cache/playwright-core-$version}"
case "${1:-}" in
  install)
    if [[ ! -f "$dir/node_modules/playwright-core/package.json" ]]; then
      mkdir -p "$dir"
      # --ignore-scripts: no install hook runs (playwright-core has none that
      # downloads a browser, and none is wanted).
      (cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --silent \
        "playwright-core@$version" >&2)
    fi
    echo "$dir"
    ;;
  *)
    echo "usage: $0 install" >&2
    exit 2
    ;;
esac
