#!/usr/bin/env bash
# Development entry point.
#   tools/dev.sh run    install what is missing, build, start crmd on 127.0.0.1:8080 with
#                       the data dir ./data, and print the admin token
#   tools/dev.sh test   install what is missing, build, run every test
#   tools/dev.sh build  install what is missing and build
# Environment: BUILD_DIR (default build), DATA_DIR (default data), LISTEN, BUILD_TYPE,
# EVCRM_SANITIZE=ON for an AddressSanitizer + UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
DATA_DIR=${DATA_DIR:-data}
LISTEN=${LISTEN:-127.0.0.1:8080}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
PACKAGES=(g++ cmake ninja-build librocksdb-dev libflatbuffers-dev flatbuffers-compiler
          libboost1.81-dev nlohmann-json3-dev libgtest-dev libssl-dev libicu-dev libcli11-dev)

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
  install_missing
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
        -DEVCRM_SANITIZE="${EVCRM_SANITIZE:-OFF}" >/dev/null
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
  if [ -n "${CRMD_ADMIN_TOKEN:-}" ]; then
    echo "admin token: $CRMD_ADMIN_TOKEN (from CRMD_ADMIN_TOKEN)"
  elif [ -f "$DATA_DIR/admin.token" ]; then
    echo "admin token: $(cat "$DATA_DIR/admin.token")   (kept in $DATA_DIR/admin.token)"
  fi
  echo "crmd is serving http://$LISTEN  (Ctrl-C stops it)"
  wait $pid
}

unit_tests() {
  build
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 600
}

case "${1:-}" in
  run) run ;;
  test) unit_tests ;;
  build) build ;;
  *) echo "usage: tools/dev.sh run|test|build" >&2; exit 2 ;;
esac
