#!/usr/bin/env bash
# docs/scale-out.md's figures in one command: durable commands/s over HTTP with the log on
# RocksDB and on a JetStream stream replicated on a 3-node NATS cluster (all on this
# machine, loopback), in the same run; then the failover time: two crmd nodes on the
# cluster, the writer SIGKILLed FAILOVERS times, each time measured from the kill to the
# first command the other node answers 201.
#
#   tools/bench_jetstream.sh            each run 10 s, 5 failovers
#   tools/bench_jetstream.sh --smoke    each run 1 s, 1 failover (CI)
#
# Environment: BUILD_DIR (default build), SECONDS_EACH, CONNECTIONS (default 64),
# FAILOVERS, LEASE_MS (the writer's lease, default crmd's 5000), WORK (scratch dir).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
SECONDS_EACH=${SECONDS_EACH:-$([ $SMOKE = 1 ] && echo 1 || echo 10)}
CONNECTIONS=${CONNECTIONS:-64}
FAILOVERS=${FAILOVERS:-$([ $SMOKE = 1 ] && echo 1 || echo 5)}
LEASE_MS=${LEASE_MS:-5000}

tools/dev.sh build >/dev/null
command -v nats-server >/dev/null || { echo "bench_jetstream.sh: apt-get install nats-server" >&2; exit 1; }
source tools/bench_lib.sh
bench_work evcrm-bench-js
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- the NATS cluster ------------------------------------------------------------------
export CLIENT_PORT ROUTE_PORT
CLIENT_PORT=$(free_port); ROUTE_PORT=$(free_port)
while [ $((CLIENT_PORT + 3)) -gt 65535 ] || [ $((ROUTE_PORT + 3)) -gt 65535 ]; do
  CLIENT_PORT=$(free_port); ROUTE_PORT=$(free_port)
done
nats=$(tools/nats_cluster.sh start "$work/nats")
trap 'tools/nats_cluster.sh stop "$work/nats"; bench_cleanup' EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$((CLIENT_PORT + 2))") 2>/dev/null && break
  sleep 0.1
done

commands_per_second() {  # data dir → commands/s of `crmctl bench --scenario commands`
  "$BUILD_DIR/crmctl" bench --quiet --listen "127.0.0.1:$port" --data-dir "$1" \
    --scenario commands --connections "$CONNECTIONS" --seconds "$SECONDS_EACH" --warmup 1 \
    --json "$1.json" >/dev/null
  python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["total"]; print("%.0f %.1f" % (t["per_second"], t["p99_ms"]))' "$1.json"
}

echo "bench_jetstream.sh: HTTP runs of ${SECONDS_EACH}s, $CONNECTIONS connections" >&2
crmd_start "$work/rocks.log" "$work/rocks"
read -r rocks rocks_p99 < <(commands_per_second "$work/rocks")
crmd_stop
crmd_start "$work/js.log" "$work/js" --store jetstream --nats "$nats" --stream bench --replicas 3
read -r js js_p99 < <(commands_per_second "$work/js")
crmd_stop

# ---- failover: two nodes, the writer killed -------------------------------------------
token=$(openssl rand -hex 16)
declare -A node_pid node_port
start_node() {  # name
  local p=${node_port[$1]:-$(free_port)}
  node_port[$1]=$p
  CRMD_ADMIN_TOKEN=$token "$BUILD_DIR/crmd" --data-dir "$work/fo-$1" --listen "127.0.0.1:$p" \
    --store jetstream --nats "$nats" --stream failover --replicas 3 --node "$1" \
    --writer-lease-ms "$LEASE_MS" 2>>"$work/fo-$1.log" &
  node_pid[$1]=$!
  for _ in $(seq 1 600); do
    curl -sf "127.0.0.1:$p/health" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  cat "$work/fo-$1.log" >&2; exit 1
}
role() { curl -s --max-time 1 "127.0.0.1:${node_port[$1]}/health" | python3 -c 'import json,sys
try: print(json.load(sys.stdin).get("role", ""))
except Exception: print("")'; }
post() {  # name → HTTP status of a new lead
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"name\":\"F $RANDOM$RANDOM\",\"company\":\"Fail $RANDOM$RANDOM\"}" \
    "127.0.0.1:${node_port[$1]}/api/v1/leads" || true
}
start_node a; start_node b
times=()
for i in $(seq 1 "$FAILOVERS"); do
  writer=""
  for _ in $(seq 1 400); do
    for n in a b; do [ "$(role $n)" = writer ] && writer=$n; done
    [ -n "$writer" ] && break
    sleep 0.05
  done
  [ -n "$writer" ] || { echo "bench_jetstream.sh: no writer" >&2; exit 1; }
  other=$([ "$writer" = a ] && echo b || echo a)
  [ "$(post "$writer")" = 201 ] || { echo "bench_jetstream.sh: the writer refused a command" >&2; exit 1; }
  t0=$(now)
  kill -KILL "${node_pid[$writer]}"; wait "${node_pid[$writer]}" 2>/dev/null || true
  until [ "$(post "$other")" = 201 ]; do
    [ "$(awk -v t="$(since "$t0")" 'BEGIN { print (t > 60) }')" = 1 ] && { echo "bench_jetstream.sh: no failover within 60 s" >&2; exit 1; }
    sleep 0.02
  done
  times+=("$(since "$t0")")
  start_node "$writer"
done
for n in a b; do kill -TERM "${node_pid[$n]}" 2>/dev/null; wait "${node_pid[$n]}" 2>/dev/null || true; done

echo
echo "| log | durable commands/s over HTTP ($CONNECTIONS connections) | p99 |"
echo "| --- | --- | --- |"
echo "| RocksDB (embedded, fsync) | $rocks | $rocks_p99 ms |"
echo "| JetStream, 3 replicas on 3 NATS servers | $js | $js_p99 ms |"
echo
echo "failover with a ${LEASE_MS} ms lease, from SIGKILL of the writer to the first 201 on the other node: ${times[*]} s"
