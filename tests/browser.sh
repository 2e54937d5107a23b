#!/usr/bin/env bash
# browser.sh - the search page end to end in headless Chromium: starts a
# picseek server on a free loopback port, drives the page with
# tests/browser.cjs (playwright-core + Debian's chromium), saves screenshots
# in $PICSEEK_TEST_TMP/screenshots, then stops the server with SIGTERM and
# checks it shut down cleanly.
#
# Needs /usr/bin/chromium (Debian package chromium) and playwright-core
# (scripts/setup.d/20-playwright).  Missing either is a FAILURE, not a skip,
# unless PICSEEK_BROWSER_TEST=skip is set explicitly.
set -u
bin=${PICSEEK_BIN:?PICSEEK_BIN must point to the picseek binary}
src=${PICSEEK_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=${PICSEEK_TEST_TMP:-$(mktemp -d)}
shots=$tmp/screenshots
chromium=${PICSEEK_CHROMIUM:-/usr/bin/chromium}
mkdir -p "$shots"
rm -f "$shots"/*.png

missing() {
  echo "browser test: $1"
  if [ "${PICSEEK_BROWSER_TEST:-}" = skip ]; then
    echo "browser test: skipped because PICSEEK_BROWSER_TEST=skip"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
  fi
  echo "browser test: FAILED: fix it with 'bash scripts/setup' (or set PICSEEK_BROWSER_TEST=skip to skip on purpose)"
  echo "0 passed, 1 failed"
  exit 1
}

[ -x "$chromium" ] || missing "$chromium not found (Debian package chromium)"
command -v node >/dev/null 2>&1 || missing "node not found (Debian package nodejs)"
if [ -n "${PICSEEK_NPM:-}" ]; then
  npm_dir=$PICSEEK_NPM
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
  npm_dir=$XDG_CACHE_HOME/picseek/npm
else
  npm_dir=${HOME:-.}/.cache/picseek/npm
fi
if [ ! -f "$npm_dir/node_modules/playwright-core/package.json" ]; then
  PICSEEK_NPM=$npm_dir bash "$src/scripts/setup.d/20-playwright" >&2
fi
[ -f "$npm_dir/node_modules/playwright-core/package.json" ] \
  || missing "playwright-core not installed in $npm_dir (scripts/setup.d/20-playwright)"

# ---- the server ---------------------------------------------------------------
# `picseek serve` on a real index of a few dataset photos (tests/lib/serve.sh).
# shellcheck source=tests/lib/serve.sh
. "$src/tests/lib/serve.sh"
[ -d "${PICSEEK_SHARED:-/nonexistent}/dataset/test_images" ] || missing "no dataset at PICSEEK_SHARED=${PICSEEK_SHARED:-}"
serve_index || { echo "0 passed, 1 failed"; exit 1; }
if ! serve_start; then
  echo "0 passed, 1 failed"; exit 1
fi
url=$SERVE_URL
server_pid=$SERVE_PID
cleanup() { kill "$server_pid" 2>/dev/null; }
trap cleanup EXIT
echo "browser test: server at $url"

# ---- the browser --------------------------------------------------------------
node "$src/tests/browser.cjs" "$url" "$shots" "$npm_dir" | tee "$tmp/browser.out"
rc=${PIPESTATUS[0]}
counts=$(tail -n 1 "$tmp/browser.out")
b_pass=$(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1/p' <<<"$counts")
b_fail=$(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\2/p' <<<"$counts")
[ -n "$b_pass" ] || { b_pass=0; b_fail=1; }
echo "browser test: screenshots in $shots: $(cd "$shots" && ls *.png 2>/dev/null | tr '\n' ' ')"

# ---- graceful shutdown ----------------------------------------------------------
pass=0 fail=0
kill -TERM "$server_pid"
wait "$server_pid"; src_rc=$?
trap - EXIT
if [ "$src_rc" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: server exit status $src_rc after SIGTERM"; fi
if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$tmp/server.err"; then
  fail=$((fail + 1)); echo "FAIL: sanitizer report in the server's stderr:"; grep -A20 -E "Sanitizer|runtime error" "$tmp/server.err" | head -40
else
  pass=$((pass + 1))
fi
grep -q '"GET /api/search?q=' "$tmp/server.err" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: no access log lines"; }
[ $rc = 0 ] || [ "$b_fail" != 0 ] || b_fail=1
echo "$((pass + b_pass)) passed, $((fail + b_fail)) failed"
[ $rc = 0 ] && [ $fail = 0 ]
