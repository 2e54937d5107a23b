#!/usr/bin/env bash
# bench/load.sh - load test of `picseek serve` /api/search with wrk, on
# loopback only, bounded in time: 1, 16 and 256 connections, DURATION
# seconds each; prints a Markdown table for docs/PERFORMANCE.md.
#
# usage: bench/load.sh [--bin PICSEEK] [--db FILE] [--url URL] [--duration S]
#                      [--levels "1 16 256"] [--server-threads N] [--out FILE]
#                      [--path P]
#
#   --bin      the picseek binary that serves (default build/picseek)
#   --db       the index to serve (default: $PICSEEK_DB, else ./picseek.db)
#   --url      bench a server already running at URL instead of starting one
#              (must be http://127.0.0.1:PORT/ or http://localhost:PORT/)
#   --duration seconds per level (default 10)
#   --out      also write the table to FILE
#   --path P   request the fixed path P (e.g. /healthz) instead of the
#              queries: the HTTP layer's own cost, without the engine's
#
# The queries are the dataset's test captions (../shared/dataset/
# test_queries.csv) minus those about children, which the content rule
# answers without searching (they would flatter the numbers); each request
# takes the next one, with k=48 as the web page asks.
# wrk and the server share this machine's cores: the table says how many.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/picseek
db=${PICSEEK_DB:-picseek.db}
url=""
duration=10
levels="1 16 256"
server_threads=""
out=""
fixed_path=""
K=48
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --db) db=$2; shift 2 ;;
    --url) url=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --levels) levels=$2; shift 2 ;;
    --server-threads) server_threads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --path) fixed_path=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "load.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "load.sh: wrk not found (Debian package wrk)" >&2; exit 1; }
case $duration in ''|*[!0-9]*) echo "load.sh: --duration takes whole seconds" >&2; exit 2 ;; esac
[ "$duration" -ge 1 ] && [ "$duration" -le 60 ] || { echo "load.sh: --duration must be 1..60" >&2; exit 2; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# ---- the server --------------------------------------------------------------
if [ -z "$url" ]; then
  [ -x "$bin" ] || { echo "load.sh: $bin not found: build first (make build)" >&2; exit 1; }
  [ -f "$db" ] || { echo "load.sh: no index at $db: run 'picseek index DIR --db $db' first" >&2; exit 1; }
  args=(serve --db "$db" --host 127.0.0.1 --port 0 --quiet)
  [ -n "$server_threads" ] && args+=(--threads "$server_threads")
  "$bin" "${args[@]}" >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  for _ in $(seq 1 600); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/server.out" 2>/dev/null | head -n 1 || true)
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$url" ] || { echo "load.sh: the server did not start" >&2; cat "$work/server.err" >&2; exit 1; }
fi
case $url in
  http://127.0.0.1:*|http://localhost:*|http://\[::1\]:*) ;;
  *) echo "load.sh: refusing to load-test a non-loopback URL: $url" >&2; exit 2 ;;
esac
url=${url%/}

# ---- the queries ---------------------------------------------------------------
queries=${PICSEEK_SHARED:-$here/../shared}/dataset/test_queries.csv
[ -f "$queries" ] || { echo "load.sh: $queries not found (PICSEEK_SHARED)" >&2; exit 1; }
{
  echo 'local queries = {'
  tail -n +2 "$queries" | cut -d'|' -f3 \
    | grep -viwE 'boys?|girls?|child(ren)?|kids?|bab(y|ies)|toddlers?|infants?|youngsters?|teen(ager)?s?|son|daughter|schoolboy|schoolgirl|young|little|small' \
    | sed -E 's/ +[.]$//; s/\\/\\\\/g; s/"/\\"/g; s/^/  "/; s/$/",/' | sed -n '1,200p'
  echo '}'
  cat <<'EOF'
local function enc(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local paths = {}
for i, q in ipairs(queries) do paths[i] = "/api/search?k=__K__&q=" .. enc(q) end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
EOF
} | sed "s/__K__/$K/" >"$work/queries.lua"
if [ -n "$fixed_path" ]; then
  case $fixed_path in /*) ;; *) echo "load.sh: --path must start with /" >&2; exit 2 ;; esac
  printf 'request = function() return wrk.format("GET", "%s") end\n' "$fixed_path" >"$work/queries.lua"
fi
nq=$(grep -c '^  "' "$work/queries.lua" || true)
first=$(sed -n '2p' "$work/queries.lua" | sed -E 's/^  "(.*)",$/\1/')

# One request by hand: the server answers, with results.
if [ -n "$fixed_path" ]; then
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url$fixed_path")
  [ "$code" = 200 ] || { echo "load.sh: $url$fixed_path answers $code" >&2; exit 1; }
else
  probe=$(curl -s -G --data-urlencode "q=$first" --data-urlencode "k=$K" "$url/api/search")
  case $probe in *'"results":['*) ;; *) echo "load.sh: $url/api/search does not answer: $probe" >&2; exit 1 ;; esac
fi
health=$(curl -s "$url/healthz")
photos=$(sed -nE 's/.*"photos":([0-9]+).*/\1/p' <<<"$health")
sthreads=$(sed -nE 's/.*"threads":([0-9]+).*/\1/p' <<<"$health")

# ---- the levels ------------------------------------------------------------------
ms() { # wrk's "1.23ms" / "456.78us" / "1.02s" -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//' || echo unknown)
table="| connections | requests/s | p50 latency | p99 latency | non-2xx / socket errors |
|---:|---:|---:|---:|---:|"
for c in $levels; do
  t=2; [ "$c" -lt 2 ] && t=1
  echo "load.sh: $c connection(s), ${duration}s ..." >&2
  wrk -t "$t" -c "$c" -d "${duration}s" --timeout 5s --latency -s "$work/queries.lua" "$url" >"$work/wrk.$c" 2>&1 || true
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$work/wrk.$c")
  p50=$(awk '$1 == "50%" { print $2 }' "$work/wrk.$c")
  p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk.$c")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$work/wrk.$c")
  sockerr=$(awk -F'[ ,]+' '/Socket errors:/ { print $4 + $6 + $8 + $10 }' "$work/wrk.$c")
  if [ -z "$rps" ] || [ -z "$p99" ]; then
    echo "load.sh: wrk failed at $c connections:" >&2; cat "$work/wrk.$c" >&2; exit 1
  fi
  table="$table
| $c | $rps | $(ms "$p50") ms | $(ms "$p99") ms | ${non2xx:-0} / ${sockerr:-0} |"
done

what="\`GET /api/search\`"
load="k=$K, $nq distinct caption queries in turn"
if [ -n "$fixed_path" ]; then what="\`GET $fixed_path\`"; load="the same request each time"; fi
report="Load test of $what ($(date -u +%Y-%m-%d), picseek $("$bin" version 2>/dev/null | awk '{print $2}' || echo '?')):
${photos:-?} indexed photos, $load, ${duration} s per level,
server with ${sthreads:-?} worker threads, wrk 4.1 (1 thread at 1 connection, else 2) on the same
machine: $(nproc) CPUs ($cpu), loopback.

$table

Command: \`bench/load.sh --db $db --duration $duration${fixed_path:+ --path $fixed_path}\`"
echo "$report"
[ -n "$out" ] && printf '%s\n' "$report" >"$out"
exit 0
