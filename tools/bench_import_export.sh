#!/usr/bin/env bash
# The import and export figures of docs/performance.md in one command: seeds a scratch
# data dir with LEADS leads through the domain (crmctl seed), starts crmd on it, then
#   - exports every lead as the admin, as CSV and as .xlsx (time, size, crmd's memory
#     while it runs against before, the file checked by a reader nobody here wrote:
#     line count for the CSV, openpyxl's read-only mode for the .xlsx);
#   - imports a 10,000-row CSV written in GB18030 as Excel writes it: a dry run, then the
#     import (time, memory; every row created).
#
#   tools/bench_import_export.sh           1,000,000 leads: about 10 minutes
#   tools/bench_import_export.sh --smoke   10,000 leads, 1,000 import rows: that it works
#
# Environment: BUILD_DIR (default build), LEADS, IMPORT_ROWS, WORK (scratch dir; default
# a fresh one under /tmp, removed).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
LEADS=${LEADS:-$([ $SMOKE = 1 ] && echo 10000 || echo 1000000)}
IMPORT_ROWS=${IMPORT_ROWS:-$([ $SMOKE = 1 ] && echo 1000 || echo 10000)}

tools/dev.sh build >/dev/null
. tools/bench_lib.sh
bench_work evcrm-io
rm -rf "$work/data"

token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export CRMD_ADMIN_TOKEN=$token
start() { crmd_start "$work/crmd.log" "$work/data"; }
stop() { crmd_stop; }

# Runs a command while sampling crmd's RSS every 50 ms; prints "seconds peak_rss_kb".
measured() {
  local t0 peak=0 r
  t0=$(now)
  "$@" &
  local job=$!
  while kill -0 "$job" 2>/dev/null; do
    r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.05
  done
  wait "$job"
  echo "$(since "$t0") $peak"
}

echo "bench_import_export.sh: seeding $LEADS leads" >&2
start; stop  # the admin, which seed needs
"$BUILD_DIR/crmctl" seed --data-dir "$work/data" --leads "$LEADS" > "$work/seed.json" \
  2> "$work/seed.log"
start
auth="Authorization: Bearer $token"
base=$(rss)

echo "bench_import_export.sh: exporting" >&2
for format in csv xlsx; do
  read -r secs peak < <(measured curl -sf -o "$work/leads.$format" -H "$auth" \
    "http://127.0.0.1:$port/api/v1/leads/export?format=$format")
  size=$(stat -c %s "$work/leads.$format")
  if [ $format = csv ]; then
    rows=$(($(wc -l < "$work/leads.$format") - 1))
  else
    rows=$(/usr/bin/python3 -c "import openpyxl,sys
wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
print(sum(ws.max_row for ws in wb.worksheets) - len(wb.worksheets))" "$work/leads.$format")
  fi
  echo "export.$format rows=$rows seconds=$secs bytes=$size rss_before_kb=$base peak_rss_kb=$peak"
  [ "$rows" -ge "$LEADS" ] || { echo "bench_import_export.sh: the $format export lacks rows" >&2; exit 1; }
done

echo "bench_import_export.sh: importing $IMPORT_ROWS rows" >&2
/usr/bin/python3 - "$work/import.csv" "$IMPORT_ROWS" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
rows = ["姓名,公司,电话,邮箱,来源,地区"]
for i in range(n):
    # Shanghai landlines: the seeded leads have mobiles only, so no row is a duplicate.
    rows.append(f'导入{i},"导入公司 {i}, 有限公司",021-{60000000 + i},i{i}@example.com,展会,华东')
open(path, "wb").write(("\r\n".join(rows) + "\r\n").encode("gb18030"))
PY
for dry in true false; do
  base=$(rss)
  read -r secs peak < <(measured curl -sf -o "$work/import-$dry.json" -H "$auth" \
    -H "Content-Type: text/csv" --data-binary "@$work/import.csv" \
    "http://127.0.0.1:$port/api/v1/leads/import?dry_run=$dry")
  created=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['created'])" \
    "$work/import-$dry.json")
  echo "import.dry_run=$dry rows=$IMPORT_ROWS created=$created seconds=$secs bytes=$(stat -c %s "$work/import.csv") rss_before_kb=$base peak_rss_kb=$peak"
  [ "$created" = "$IMPORT_ROWS" ] || { echo "bench_import_export.sh: not every row was created" >&2; exit 1; }
done
stop
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
