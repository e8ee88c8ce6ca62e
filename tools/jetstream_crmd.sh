#!/usr/bin/env bash
# crmd with its log on a JetStream stream of $EVCRM_NATS (tools/with_nats.sh sets it), one
# stream per data dir, so that a restart on the same data dir finds its stream again. Takes
# crmd's arguments: for running the contract suite against the JetStream backend.
set -euo pipefail
: "${EVCRM_NATS:?set EVCRM_NATS, or run this under tools/with_nats.sh}"
crmd=${EVCRM_CRMD_BIN:-"$(dirname "$0")/../build/crmd"}
dir=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--data-dir" ] && dir=${args[$((i + 1))]}
done
stream="evcrm_$(printf '%s' "$(realpath -m "${dir:-.}")" | sha256sum | cut -c1-16)"
exec "$crmd" "$@" --store jetstream --nats "$EVCRM_NATS" --stream "$stream"
