# tests/lib/serve.sh - sourced by the shell tests that need a running
# `picseek serve` on a real index: a handful of dataset photos (dogs, people,
# two photos whose captions are about children, hence restricted), indexed
# into $tmp/index.db, served on a free loopback port.
#
#   serve_index              build (or bring up to date) the index
#   serve_start [ARGS...]    start the server; sets SERVE_URL and SERVE_PID
#   serve_stop [SIGNAL]      stop it (default TERM); returns its exit status
#
# Needs: bin, tmp, and PICSEEK_SHARED (the dataset).

SERVE_PHOTOS=(1319634306_816f21677f.jpg 1429546659_44cb09cbe2.jpg 2505465055_f1e6cf9b76.jpg
              2986716822_e220754d32.jpg 1177994172_10d143cb8d.jpg 1232148178_4f45cc3284.jpg
              1991806812_065f747689.jpg 269650644_059a84ece5.jpg)
SERVE_DB=$tmp/index.db
SERVE_URL=""
SERVE_PID=""

serve_index() {
  local data=${PICSEEK_SHARED:?PICSEEK_SHARED must name the folder holding dataset/}/dataset
  local dir=$tmp/photos
  # Incremental: a re-run reads only what changed (cp -p keeps the times).
  rm -rf "$dir"
  mkdir -p "$dir"
  local p
  for p in "${SERVE_PHOTOS[@]}"; do
    cp -p "$data/test_images/$p" "$dir/" || return 1
  done
  # their captions only: two of the photos get restricted by the content rule
  { head -n 1 "$data/test_queries.csv"
    grep -F -f <(printf '|%s\n' "${SERVE_PHOTOS[@]}") "$data/test_queries.csv"; } >"$tmp/captions.csv"
  "$bin" index "$dir" --db "$SERVE_DB" --captions "$tmp/captions.csv" --quiet >"$tmp/index.out" 2>&1 \
    || { echo "serve_index: picseek index failed:"; cat "$tmp/index.out"; return 1; }
}

serve_start() {
  SERVE_URL=""
  "$bin" serve --db "$SERVE_DB" --port 0 "$@" >"$tmp/server.out" 2>"$tmp/server.err" &
  SERVE_PID=$!
  local i
  for i in $(seq 1 600); do
    SERVE_URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$tmp/server.out" 2>/dev/null | head -n 1)
    [ -n "$SERVE_URL" ] && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "serve_start: the server did not start:"; cat "$tmp/server.err"
  kill "$SERVE_PID" 2>/dev/null
  return 1
}

serve_stop() {
  [ -n "$SERVE_PID" ] || return 0
  kill -"${1:-TERM}" "$SERVE_PID" 2>/dev/null
  wait "$SERVE_PID"
  local rc=$?
  SERVE_PID=""
  return $rc
}
