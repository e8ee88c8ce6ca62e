#!/usr/bin/env bash
# The table "At a million customers and two million leads" of docs/performance.md in one
# command: seeds a scratch data dir through the domain (crmctl seed), then times crmd's
# first start (read models built from nothing) and its restarts (the decision model from
# its snapshot, the read models from their checkpoints), reads its memory, and drives
# lists, search, customer 360, commands and live subscribers on the big store, with
# commands on an empty store in the same run as the reference.
#
#   tools/bench_scale.sh           1,000,000 customers, 2,000,000 leads: about 10 minutes,
#                                  16 GB of memory and 8 GB of disk
#   tools/bench_scale.sh --smoke   2,000 and 4,000, each run 1 s: that it still works (CI)
#
# Environment: BUILD_DIR (default build), CUSTOMERS, LEADS, SECONDS_EACH (default 10, or
# 1 with --smoke), CONNECTIONS (default 64), SUBSCRIBERS (default 1000, or 50 with
# --smoke), WORK (scratch dir; default a fresh one under /tmp, removed).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
CUSTOMERS=${CUSTOMERS:-$([ $SMOKE = 1 ] && echo 2000 || echo 1000000)}
LEADS=${LEADS:-$([ $SMOKE = 1 ] && echo 4000 || echo 2000000)}
SECONDS_EACH=${SECONDS_EACH:-$([ $SMOKE = 1 ] && echo 1 || echo 10)}
CONNECTIONS=${CONNECTIONS:-64}
SUBSCRIBERS=${SUBSCRIBERS:-$([ $SMOKE = 1 ] && echo 50 || echo 1000)}

tools/dev.sh build >/dev/null
. tools/bench_lib.sh
bench_work evcrm-scale
rm -rf "$work/big" "$work/empty"  # a WORK of an earlier run: start from nothing
figures="$work/figures"
: > "$figures"
say() { echo "$1=$2" >> "$figures"; }

start() {  # label data-dir: starts crmd, says how long it took to serve and its memory
  local label=$1 dir=$2 t0
  t0=$(now)
  crmd_start "$work/crmd-$label.log" "$dir"
  say "$label.seconds" "$(since "$t0")"
  say "$label.rss_kb" "$(rss)"
  say "$label.model" "\"$(sed -n 's/.*decision model loaded \(.*\)/\1/p' "$work/crmd-$label.log")\""
}
stop() { crmd_stop; }
bench() {  # name data-dir scenario connections [options...]: one crmctl bench run -> name.json
  local name=$1 dir=$2 scenario=$3 connections=$4
  shift 4
  "$BUILD_DIR/crmctl" bench --quiet --listen "127.0.0.1:$port" --data-dir "$dir" \
    --scenario "$scenario" --connections "$connections" --seconds "$SECONDS_EACH" \
    --warmup 1 --json "$work/$name.json" "$@" >/dev/null
}

echo "bench_scale.sh: $CUSTOMERS customers, $LEADS leads; HTTP runs of ${SECONDS_EACH}s" >&2
big="$work/big"
start init "$big"; stop  # the admin, which seed needs
t0=$(now)
"$BUILD_DIR/crmctl" seed --data-dir "$big" --customers "$CUSTOMERS" --leads "$LEADS" \
  > "$work/seed.json" 2> "$work/seed.log"
say seed.seconds "$(since "$t0")"
say seed.events "$(python3 -c "import json; print(json.load(open('$work/seed.json'))['events'])")"
say log.bytes "$(du -sb "$big/log" | cut -f1)"
say snapshots.bytes "$(du -sb "$big/snapshots" | cut -f1)"

echo "bench_scale.sh: first start (every read model built from nothing)" >&2
start first "$big"; stop
for i in 1 2 3; do
  start "restart$i" "$big"
  [ $i = 3 ] || stop
done
echo "bench_scale.sh: reads and commands on the big store" >&2
bench lists64 "$big" lists "$CONNECTIONS"
bench lists4 "$big" lists 4
bench search64 "$big" search "$CONNECTIONS"
bench search4 "$big" search 4
bench reads "$big" reads "$CONNECTIONS"
bench live_reps "$big" commands "$CONNECTIONS" --rate 1000 --subscribers "$SUBSCRIBERS" \
  --subscribe-as-reps
bench live_admin "$big" commands "$CONNECTIONS" --rate 1000 --subscribers "$SUBSCRIBERS"
bench commands_big "$big" commands "$CONNECTIONS"
say serving.rss_kb "$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
stop
start empty "$work/empty"
bench commands_empty "$work/empty" commands "$CONNECTIONS"
stop

python3 - "$work" "$CUSTOMERS" "$LEADS" <<'PY'
import json, sys
work, customers, leads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
f = {}
for line in open(f"{work}/figures"):
    k, v = line.rstrip("\n").split("=", 1)
    f[k] = json.loads(v)
run = lambda name: json.load(open(f"{work}/{name}.json"))
t = lambda name: run(name)["total"]
gb = lambda kb: kb / 1024 / 1024
rows = []
def row(what, figure, goal="", met=None):
    rows.append((what, figure, goal, "yes" if met else ("no" if met is False else "-")))
row("seeding", f"{f['seed.events']:,} events in {f['seed.seconds']:.0f} s; log {f['log.bytes']/1e9:.1f} GB, "
    f"decision-model snapshot {f['snapshots.bytes']/1e6:,.0f} MB")
row("first start: read models built from nothing", f"{f['first.seconds']:.1f} s")
restarts = [f[f"restart{i}.seconds"] for i in (1, 2, 3)]
row("restart to serving (three)", ", ".join(f"{s:.1f}" for s in restarts) + " s", "<= 5 s", max(restarts) <= 5)
row("decision model at the last restart", f["restart3.model"])
rss = max(f["restart3.rss_kb"], f["serving.rss_kb"])
row("RSS, serving", f"{gb(f['restart3.rss_kb']):.1f} GB at start, {gb(f['serving.rss_kb']):.1f} GB after the runs",
    "<= 2 GiB", gb(rss) <= 2)
for name, what in (("lists", "lead list page"), ("search", "search as the admin")):
    a, b = t(name + "64"), t(name + "4")
    row(f"{what}, 64 / 4 connections", f"{a['per_second']:,.0f}/s p99 {a['p99_ms']:.1f} ms / {b['per_second']:,.0f}/s p99 {b['p99_ms']:.1f} ms",
        "p99 <= 5 ms", a["p99_ms"] <= 5)
x = t("reads")
row("customer 360, 64 connections", f"{x['per_second']:,.0f}/s, p99 {x['p99_ms']:.1f} ms", ">= 50,000/s, p99 <= 5 ms",
    x["per_second"] >= 50000 and x["p99_ms"] <= 5)
big, empty = t("commands_big"), t("commands_empty")
ratio = big["per_second"] / empty["per_second"]
row("durable commands, 64 connections", f"{big['per_second']:,.0f}/s (p99 {big['p99_ms']:.1f} ms) against "
    f"{empty['per_second']:,.0f}/s on an empty store: {ratio:.2f} x", "within 20 % of an empty store", ratio >= 0.8)
for name, who in (("live_reps", "the reps, each their own dashboard"), ("live_admin", "the admin, the company's dashboard")):
    v = run(name)["live"]
    row(f"lead creation -> dashboard view, {v['subscribers']:,} subscribers as {who}",
        f"p50 {v['p50_ms']:.1f} ms, p99 {v['p99_ms']:.1f} ms ({v['errors']} never shown)", "p99 <= 50 ms",
        v["p99_ms"] <= 50 and v["errors"] == 0)
print(f"{customers:,} customers, {leads:,} leads")
width = max(len(r[0]) for r in rows) + 2
print(f"{'measure':<{width}}figure / goal / met")
for what, figure, goal, met in rows:
    print(f"{what:<{width}}{figure}")
    if goal:
        print(f"{'':<{width}}  goal {goal}; met: {met}")
PY
