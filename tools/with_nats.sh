#!/usr/bin/env bash
# Runs a command beside a scratch NATS server with JetStream (Debian's nats-server) on a
# free loopback port, whose address it gets in EVCRM_NATS; the server and its store go
# when the command ends.
#   tools/with_nats.sh node ../shared/acceptance/run.mjs --crmd tools/jetstream_crmd.sh
set -euo pipefail
command -v nats-server >/dev/null || { echo "with_nats.sh: no nats-server (apt-get install nats-server)" >&2; exit 1; }
store=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# max_payload as docs/scale-out.md asks of a cluster for crmd.
printf 'listen: 127.0.0.1:%s\nmax_payload: 8MB\njetstream {\n  store_dir: "%s"\n}\n' "$port" "$store" >"$store.conf"
nats-server -c "$store.conf" >"$store.log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$store" "$store.log" "$store.conf"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 $pid 2>/dev/null || { cat "$store.log" >&2; exit 1; }
  sleep 0.1
done
echo "with_nats.sh: nats-server with JetStream on nats://127.0.0.1:$port" >&2
status=0
EVCRM_NATS="nats://127.0.0.1:$port" "$@" || status=$?
exit $status
