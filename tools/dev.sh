#!/usr/bin/env bash
# Development entry point.
#   tools/dev.sh run    install what is missing, build, start crmd on 127.0.0.1:8080 with
#                       the data dir ./data, and print the console's address, the admin's
#                       sign-in and the admin token
#   tools/dev.sh test   install what is missing, build, run every test, validate the
#                       OpenAPI document (src/api/openapi.json) and run the browser tests
#                       of the console (tests/web, Debian's chromium)
#   tools/dev.sh build  install what is missing and build
#   tools/dev.sh fuzz [SECONDS]
#                       build the libFuzzer targets with clang (in FUZZ_DIR, default
#                       build-fuzz) and run each for SECONDS (default 60) on a copy of its
#                       seeds in tests/fuzz/corpus
# Environment: BUILD_DIR (default build), DATA_DIR (default data), LISTEN, BUILD_TYPE,
# EVCRM_SANITIZE=ON for an AddressSanitizer + UBSan build, EVCRM_FUZZ=ON to build with
# clang and the libFuzzer targets too (a FUZZ_DIR for `fuzz`), EVCRM_BROWSER_TESTS=OFF to
# leave out the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
DATA_DIR=${DATA_DIR:-data}
LISTEN=${LISTEN:-127.0.0.1:8080}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
PACKAGES=(g++ cmake ninja-build librocksdb-dev libflatbuffers-dev flatbuffers-compiler
          libboost1.81-dev nlohmann-json3-dev libgtest-dev libssl-dev libicu-dev libcli11-dev
          libsodium-dev pkg-config libbenchmark-dev libxlsxwriter-dev libnats-dev)

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "dev.sh: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
  local clang=()
  if [ "${EVCRM_FUZZ:-OFF}" = ON ]; then
    install_missing clang libclang-rt-14-dev
    clang=(-DCMAKE_CXX_COMPILER=clang++)
  else
    install_missing
  fi
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "${clang[@]}" \
        -DEVCRM_SANITIZE="${EVCRM_SANITIZE:-OFF}" -DEVCRM_FUZZ="${EVCRM_FUZZ:-OFF}" >/dev/null
  cmake --build "$BUILD_DIR"
}

run() {
  build
  mkdir -p "$DATA_DIR"
  "$BUILD_DIR/crmd" --data-dir "$DATA_DIR" --listen "$LISTEN" &
  local pid=$!
  trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
  local host=${LISTEN%:*} port=${LISTEN##*:}
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && break
    kill -0 $pid 2>/dev/null || { wait $pid; exit $?; }
    sleep 0.1
  done
  echo "console:  http://$LISTEN/"
  if [ -n "${CRMD_ADMIN_PASSWORD:-}" ]; then
    echo "sign in:  admin@localhost with the password from CRMD_ADMIN_PASSWORD"
  elif [ -f "$DATA_DIR/admin.password" ]; then
    echo "sign in:  admin@localhost / $(cat "$DATA_DIR/admin.password")   (kept in $DATA_DIR/admin.password)"
  else
    echo "sign in:  admin@localhost; this data dir predates sign-in: set a password with"
    echo "          curl -XPUT -H \"Authorization: Bearer \$(cat $DATA_DIR/admin.token)\" \\"
    echo "               -d '{\"password\":\"<12 or more characters>\"}' http://$LISTEN/api/v1/staff/<admin id>/password"
  fi
  if [ -n "${CRMD_ADMIN_TOKEN:-}" ]; then
    echo "admin token: $CRMD_ADMIN_TOKEN (from CRMD_ADMIN_TOKEN)"
  elif [ -f "$DATA_DIR/admin.token" ]; then
    echo "admin token: $(cat "$DATA_DIR/admin.token")   (kept in $DATA_DIR/admin.token)"
  fi
  echo "crmd is serving http://$LISTEN  (Ctrl-C stops it)"
  wait $pid
}

fuzz() {
  local seconds=${1:-60}
  local dir=${FUZZ_DIR:-build-fuzz}
  install_missing clang libclang-rt-14-dev
  # A build made with EVCRM_FUZZ=ON (the sanitized test build of .ci/run) has them already.
  if ! grep -q '^EVCRM_FUZZ:BOOL=ON$' "$dir/CMakeCache.txt" 2>/dev/null; then
    cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
          -DEVCRM_FUZZ=ON -DEVCRM_BUILD_TESTS=OFF >/dev/null
  fi
  cmake --build "$dir" --target http_reader_fuzzer api_request_fuzzer
  local fuzzers
  fuzzers=$(cd "$dir/tests/fuzz" && pwd)
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  for target in http_reader api_request; do
    mkdir -p "$work/$target"
    cp tests/fuzz/corpus/$target/* "$work/$target/"
    echo "dev.sh: fuzzing $target for ${seconds}s"
    # Crashes are written to $work/crash-*; the log's last lines say which input.
    if ! (cd "$work" && "$fuzzers/${target}_fuzzer" -max_total_time="$seconds" \
            -print_final_stats=1 -artifact_prefix="$work/$target-" "$target" >"$target.log" 2>&1); then
      # The sanitizer's report (its first stack), then how the run ended.
      sed -n '/==ERROR/,/^$/p' "$work/$target.log" | head -60
      tail -15 "$work/$target.log"
      ls "$work"/"$target"-* 2>/dev/null && cp "$work"/"$target"-* . 2>/dev/null
      echo "dev.sh: $target fuzzer FAILED (the input is in ./$target-crash-*)" >&2
      return 1
    fi
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$work/$target.log" |
      sed "s/^/dev.sh: $target: /"
  done
}

unit_tests() {
  # promtool (Debian's prometheus) checks /metrics in ResourceTest; openpyxl reads the
  # .xlsx exports (DayToDayTest, tests/web/export.test.js); nats-server runs the JetStream
  # log's tests.
  install_missing prometheus python3-openpyxl nats-server
  build
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 600
  validate_openapi
  if [ "${EVCRM_BROWSER_TESTS:-ON}" != OFF ]; then browser_tests; fi
}

# The console in a real browser: Debian's chromium driven by puppeteer-core (pinned by
# tests/web/package-lock.json) against a crmd of this build; screenshots of every page go
# to $BUILD_DIR/screenshots.
browser_tests() {
  install_missing chromium fonts-noto-cjk
  command -v npm >/dev/null 2>&1 || install_missing nodejs npm
  CRMD="$PWD/$BUILD_DIR/crmd" SCREENSHOT_DIR="$PWD/$BUILD_DIR/screenshots" tests/web/run.sh
}

# src/api/openapi.json against the OpenAPI 3.1 schema, with the validator pinned by
# tests/openapi/package-lock.json. NodeSource's nodejs brings its own npm (and conflicts
# with Debian's), so apt is asked only when there is no npm at all.
validate_openapi() {
  command -v npm >/dev/null 2>&1 || install_missing nodejs npm
  (cd tests/openapi && npm ci --no-audit --no-fund >/dev/null &&
     node validate.mjs ../../src/api/openapi.json)
}

case "${1:-}" in
  run) run ;;
  test) unit_tests ;;
  build) build ;;
  fuzz) shift; fuzz "$@" ;;
  *) echo "usage: tools/dev.sh run|test|build|fuzz [SECONDS]" >&2; exit 2 ;;
esac
