#!/usr/bin/env bash
# A 3-node NATS cluster with JetStream on this machine, for trying crmd's replicated log
# (docs/scale-out.md): clients on 127.0.0.1:4222-4224, routes on 6222-6224, stores and
# logs under DIR.
#   tools/nats_cluster.sh start DIR    writes DIR/n{0,1,2}.conf and starts the servers
#   tools/nats_cluster.sh stop DIR     stops them (SIGTERM)
#   tools/nats_cluster.sh kill DIR N   SIGKILLs server N (0-2), to see a failure
#   tools/nats_cluster.sh restart DIR N
# Environment: HOST (default 127.0.0.1), CLIENT_PORT (4222), ROUTE_PORT (6222).
set -euo pipefail
verb=${1:-}; dir=${2:-}
[ -n "$verb" ] && [ -n "$dir" ] || { sed -n '2,10p' "$0" >&2; exit 2; }
HOST=${HOST:-127.0.0.1}; CLIENT_PORT=${CLIENT_PORT:-4222}; ROUTE_PORT=${ROUTE_PORT:-6222}
command -v nats-server >/dev/null || { echo "nats_cluster.sh: apt-get install nats-server" >&2; exit 1; }

start_one() {
  local i=$1
  nats-server -c "$dir/n$i.conf" >>"$dir/n$i.log" 2>&1 &
  echo $! >"$dir/n$i.pid"
}

case "$verb" in
  start)
    mkdir -p "$dir"
    dir=$(realpath "$dir")
    for i in 0 1 2; do
      cat >"$dir/n$i.conf" <<CONF
server_name: n$i
listen: $HOST:$((CLIENT_PORT + i))
# A commit of crmd is one message: a large batch (a handover) needs room.
max_payload: 8MB
jetstream {
  store_dir: "$dir/n$i"
}
cluster {
  name: evcrm
  listen: $HOST:$((ROUTE_PORT + i))
  routes: [
    nats-route://$HOST:$ROUTE_PORT
    nats-route://$HOST:$((ROUTE_PORT + 1))
    nats-route://$HOST:$((ROUTE_PORT + 2))
  ]
}
CONF
      start_one "$i"
    done
    echo "nats://$HOST:$CLIENT_PORT,nats://$HOST:$((CLIENT_PORT + 1)),nats://$HOST:$((CLIENT_PORT + 2))"
    ;;
  stop)
    for i in 0 1 2; do
      [ -f "$dir/n$i.pid" ] && kill -TERM "$(cat "$dir/n$i.pid")" 2>/dev/null || true
      rm -f "$dir/n$i.pid"
    done
    ;;
  kill) kill -KILL "$(cat "$dir/n$3.pid")"; rm -f "$dir/n$3.pid" ;;
  restart) dir=$(realpath "$dir"); start_one "$3" ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
