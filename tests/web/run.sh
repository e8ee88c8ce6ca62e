#!/usr/bin/env bash
# Browser end-to-end tests of the evcrm web console.
#   tests/web/run.sh [test files...]
# Env: CRMD (default ../../build/crmd), CHROMIUM (default /usr/bin/chromium),
#      SCREENSHOT_DIR (default ../../build/screenshots), CONSOLE_DIR (optional: serve
#      the console from this directory with --console-dir instead of the built-in copy).
# Relative paths are taken relative to tests/web.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

export CRMD="${CRMD:-../../build/crmd}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export SCREENSHOT_DIR="${SCREENSHOT_DIR:-../../build/screenshots}"
if [[ -n "${CONSOLE_DIR:-}" ]]; then export CONSOLE_DIR; fi

crmd_path="$CRMD"
[[ "$crmd_path" = /* ]] || crmd_path="$PWD/$crmd_path"
if [[ ! -x "$crmd_path" ]]; then echo "run.sh: no crmd at $crmd_path (set CRMD)" >&2; exit 2; fi
if [[ ! -x "$CHROMIUM" ]]; then echo "run.sh: no Chromium at $CHROMIUM (set CHROMIUM)" >&2; exit 2; fi

npm ci --no-audit --no-fund --loglevel=error

if [[ $# -gt 0 ]]; then files=("$@"); else files=(*.test.js); fi
# One file at a time (each starts its own crmd and Chromium); every test is bounded by
# its own timeout, the runner by --test-timeout, the whole run by `timeout`.
exec timeout --kill-after=10 600 node --test --test-concurrency=1 --test-timeout=180000 --test-reporter=spec "${files[@]}"
