# Sourced by the tools/bench_*.sh scripts: a scratch directory, timing, and one crmd at a
# time on a free loopback port.
#
#   bench_work PREFIX      sets work: $WORK, or a fresh /tmp/PREFIX.XXXXXX removed at exit
#                          (with the crmd still running, if any)
#   now, since T0          seconds since the epoch; seconds since T0, to the millisecond
#   crmd_start LOG DIR [ARGS...]
#                          starts $BUILD_DIR/crmd on DIR (with ARGS) with its stderr in LOG
#                          and waits until it serves (exits with the log if it dies first);
#                          sets pid and port
#   crmd_stop              stops it (SIGTERM) and waits
#   rss                    its resident memory, in KB

pid=""
bench_cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ -z "${WORK:-}" ] && rm -rf "$work"
  return 0
}
bench_work() {
  work=${WORK:-$(mktemp -d "/tmp/$1.XXXXXX")}
  mkdir -p "$work"
  trap bench_cleanup EXIT
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
crmd_start() {
  local log=$1 dir=$2
  shift 2
  "$BUILD_DIR/crmd" --data-dir "$dir" --listen 127.0.0.1:0 "$@" 2>"$log" &
  pid=$!
  for _ in $(seq 1 6000); do
    grep -q "listening on" "$log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$log")
  [ -n "$port" ] || { echo "$0: crmd did not start" >&2; exit 1; }
}
crmd_stop() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
