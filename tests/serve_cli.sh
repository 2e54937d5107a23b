#!/usr/bin/env bash
# serve_cli.sh - `picseek serve` as a user runs it, on a real index of a few
# dataset photos: the startup line, the API against `picseek search --json`,
# photos and thumbnails, restricted photos, path tricks with curl, the Host
# guard, the access log, usage errors, a port in use, SIGINT and SIGTERM.
set -u
bin=${PICSEEK_BIN:?PICSEEK_BIN must point to the picseek binary}
src=${PICSEEK_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=${PICSEEK_TEST_TMP:-$(mktemp -d)}
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# shellcheck source=tests/lib/serve.sh
. "$src/tests/lib/serve.sh"

command -v curl >/dev/null || { echo "FAIL: curl not found"; echo "0 passed, 1 failed"; exit 1; }

# --- help and usage errors (no index needed) --------------------------------------
"$bin" serve --help >"$tmp/help" 2>&1 && grep -q "usage: picseek serve" "$tmp/help" \
  && grep -q "Exit status" "$tmp/help" && ok || bad "serve --help"
"$bin" help serve | cmp -s - "$tmp/help" && ok || bad "picseek help serve"
"$bin" --help | grep -q "serve .*HTTP" && ok || bad "serve listed in picseek --help"
for args in "--port 70000" "--port abc" "--port" "--threads 0" "--threads 65" "--host=" \
            "--timeout 0" "--thumb-size 10" "extra" "--bogus"; do
  # shellcheck disable=SC2086
  "$bin" serve $args >/dev/null 2>"$tmp/err"
  rc=$?
  [ $rc = 2 ] && ok || bad "serve $args: exit $rc, expected 2 ($(cat "$tmp/err"))"
done
"$bin" serve --db "$tmp/nope.db" --port 0 >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 1 ] && grep -q "$tmp/nope.db" "$tmp/err" && ok || bad "missing index: exit $rc: $(cat "$tmp/err")"

# --- a real index ------------------------------------------------------------------
if ! serve_index; then
  echo "$pass passed, $((fail + 1)) failed"; exit 1
fi
serve_start || { echo "$pass passed, $((fail + 1)) failed"; exit 1; }
url=$SERVE_URL
grep -q "picseek serve: 8 photos from $SERVE_DB; open http://127.0.0.1:[0-9]*/ (Ctrl-C stops)" "$tmp/server.out" \
  && ok || bad "startup line: $(cat "$tmp/server.out")"

curl -s "${url}healthz" >"$tmp/health"
grep -q '"status":"ok"' "$tmp/health" && grep -q '"photos":8' "$tmp/health" && ok || bad "healthz: $(cat "$tmp/health")"

# the API gives what `picseek search --json` gives: same photos, same order
q="a brown dog in the grass"
curl -s -G --data-urlencode "q=$q" --data-urlencode "k=5" "${url}api/search" >"$tmp/api.json"
"$bin" search --db "$SERVE_DB" --json -k 5 "$q" >"$tmp/cli.json" 2>/dev/null
api_ids=$(grep -o '"id": *[0-9]*' "$tmp/api.json" | tr -d ' ' | tr '\n' ,)
cli_ids=$(grep -o '"id": *[0-9]*' "$tmp/cli.json" | tr -d ' ' | tr '\n' ,)
[ -n "$api_ids" ] && [ "$api_ids" = "$cli_ids" ] && ok || bad "api ids '$api_ids' vs search --json '$cli_ids'"
[ "$(grep -o '"id":' "$tmp/api.json" | wc -l)" = 5 ] && ok || bad "k=5 gives 5 results: $(cat "$tmp/api.json")"
grep -q "\"query\":\"$q\"" "$tmp/api.json" && ok || bad "query echoed"

# a blocked query
curl -s "${url}api/search?q=kids+playing+in+the+water" >"$tmp/blocked.json"
grep -q '"blocked":true' "$tmp/blocked.json" && grep -q "guardian" "$tmp/blocked.json" \
  && grep -q '"results":\[\]' "$tmp/blocked.json" && ok || bad "blocked: $(cat "$tmp/blocked.json")"

# all 8 photos, ranked: the restricted ones come without a path and are never served
curl -s "${url}api/search?q=people+outside&k=8" >"$tmp/all.json"
restricted=$(grep -o '{"id":[0-9]*,"path":null' "$tmp/all.json" | grep -o '[0-9]*' | head -n 1)
served=$(grep -o '{"id":[0-9]*,"path":"[^"]*"' "$tmp/all.json" | head -n 1)
served_id=$(sed -E 's/\{"id":([0-9]+).*/\1/' <<<"$served")
served_path=$(sed -E 's/.*"path":"([^"]*)"/\1/' <<<"$served")
[ "$(grep -o '"restricted":true' "$tmp/all.json" | wc -l)" = 2 ] && ok || bad "2 restricted photos: $(cat "$tmp/all.json")"
[ -n "$restricted" ] && ok || bad "no restricted id"
for ep in photo thumb; do
  code=$(curl -s -o "$tmp/r.body" -w '%{http_code}' "${url}api/$ep/$restricted")
  [ "$code" = 451 ] && grep -q "unavailable in your country" "$tmp/r.body" && ok || bad "restricted $ep: $code"
done
code=$(curl -s -o "$tmp/photo" -w '%{http_code} %{content_type}' "${url}api/photo/$served_id")
[ "$code" = "200 image/jpeg" ] && cmp -s "$tmp/photo" "$served_path" && ok || bad "photo $served_id: $code"
code=$(curl -s -o "$tmp/thumb" -D "$tmp/thumb.h" -w '%{http_code} %{content_type}' "${url}api/thumb/$served_id")
[ "$code" = "200 image/jpeg" ] && [ "$(head -c 2 "$tmp/thumb" | od -An -tx1 | tr -d ' ')" = ffd8 ] \
  && [ "$(stat -c %s "$tmp/thumb")" -lt "$(stat -c %s "$served_path")" ] && ok || bad "thumb: $code"
grep -qi '^x-content-type-options: nosniff' "$tmp/thumb.h" && ok || bad "nosniff header"
code=$(curl -s -o /dev/null -w '%{http_code}' "${url}api/photo/999999")
[ "$code" = 404 ] && ok || bad "unknown id: $code"

# why a photo matches: the zero-shot contributors, as `picseek score` gives them
# (the photo's features come from the index); never for a restricted photo
code=$(curl -s -o "$tmp/why.json" -w '%{http_code}' -G --data-urlencode "q=$q" "${url}api/explain/$served_id")
[ "$code" = 200 ] && grep -q "\"id\":$served_id" "$tmp/why.json" && grep -q '"blocked":false' "$tmp/why.json" \
  && grep -q '"scorer":"zeroshot-' "$tmp/why.json" && grep -q '"contributors":\[' "$tmp/why.json" \
  && jq -e '.contributors[0].main == true' "$tmp/why.json" >/dev/null \
  && ok || bad "explain $served_id: $code $(cat "$tmp/why.json")"
"$bin" score "$served_path" "$q" --json -k 6 >"$tmp/score.json" 2>/dev/null
api_labels=$(grep -o '"label":"[^"]*","source"' "$tmp/why.json" | tr '\n' ,)
cli_labels=$(grep -o '"label": *"[^"]*",' "$tmp/score.json" | head -n 100 | sed 's/": *"/":"/' | tr -d '\n')
first_api=$(grep -o '"label":"[^"]*"' "$tmp/why.json" | head -n 1)
first_cli=$(grep -o '"label": *"[^"]*"' "$tmp/score.json" | head -n 1 | sed 's/": *"/":"/')
[ -n "$first_api" ] && [ "$first_api" = "$first_cli" ] && ok \
  || bad "explain's first reason '$first_api' differs from picseek score's '$first_cli' ($api_labels)"
code=$(curl -s -o "$tmp/why.r" -w '%{http_code}' "${url}api/explain/$restricted?q=a+dog")
[ "$code" = 451 ] && ! grep -q contributors "$tmp/why.r" && ok || bad "explain restricted: $code"
curl -s "${url}api/explain/$served_id?q=kids+playing" >"$tmp/why.b"
grep -q '"blocked":true' "$tmp/why.b" && ! grep -q contributors "$tmp/why.b" && ok || bad "explain blocked: $(cat "$tmp/why.b")"
# the same reasons from the command line: picseek search --why
"$bin" search --db "$SERVE_DB" --why -k 8 "$q" >"$tmp/why.txt" 2>"$tmp/why.err"; rc=$?
n_why=$(grep -c '^ *why: ' "$tmp/why.txt")
n_open=$(grep -c '^ *[0-9][0-9]* *[0-9.]* */' "$tmp/why.txt")
[ $rc = 0 ] && [ "$n_why" -gt 0 ] && [ "$n_why" = "$n_open" ] && ok \
  || bad "search --why: exit $rc, $n_why reasons for $n_open shown photos: $(cat "$tmp/why.txt" "$tmp/why.err")"
grep -A1 'restricted\]' "$tmp/why.txt" | grep -q 'why:' && bad "a restricted photo was explained"
"$bin" search --db "$SERVE_DB" --why --json -k 8 "$q" >"$tmp/why2.json" 2>/dev/null
jq -e '[.results[] | select(.restricted) | has("why")] | all(. == false)' "$tmp/why2.json" >/dev/null \
  && jq -e '[.results[] | select(.restricted | not) | .why.contributors | length > 0] | all' "$tmp/why2.json" >/dev/null \
  && ok || bad "search --why --json: $(jq -c '[.results[] | {id, restricted, why: (.why.contributors // [] | length)}]' "$tmp/why2.json")"
cli_first=$(jq -r --argjson id "$served_id" '.results[] | select(.id == $id) | .why.contributors[0].label' "$tmp/why2.json")
api_first=$(jq -r '.contributors[0].label' "$tmp/why.json")
[ -n "$cli_first" ] && [ "$cli_first" = "$api_first" ] && ok || bad "search --why '$cli_first' vs /api/explain '$api_first'"
"$bin" search --db "$SERVE_DB" --why "kids playing" >"$tmp/why3.txt" 2>&1; rc=$?
[ $rc = 0 ] && grep -q guardian "$tmp/why3.txt" && ! grep -q 'why:' "$tmp/why3.txt" && ok || bad "search --why blocked: $(cat "$tmp/why3.txt")"

for t in "api/explain/999999?q=dog" "api/explain/$served_id" "api/explain/$served_id?q=the+of"; do
  code=$(curl -s -o "$tmp/t.body" -w '%{http_code}' "${url}$t")
  case $t in *999999*) want=404 ;; *) want=400 ;; esac
  [ "$code" = $want ] && ok || bad "$t: $code, expected $want ($(cat "$tmp/t.body"))"
done

# path tricks, sent as they are (--path-as-is)
for t in "api/photo/../../etc/passwd" "api/photo/..%2f..%2fetc%2fpasswd" "api/photo/%2e%2e%2f%2e%2e%2fetc%2fpasswd" \
         "%2e%2e/%2e%2e/etc/passwd" "api/photo/..%252f..%252fetc%252fpasswd" "api/photo/1%00" \
         "api/thumb/..%5c..%5cetc%5cpasswd" "api/photo/$served_id/../../../etc/passwd"; do
  code=$(curl -s --path-as-is -o "$tmp/t.body" -w '%{http_code}' "${url}$t")
  case $code in 4??) ok ;; *) bad "$t: $code" ;; esac
  grep -q "root:" "$tmp/t.body" && bad "$t leaked /etc/passwd"
done
code=$(curl -s -o /dev/null -w '%{http_code}' "${url}api/search?q=%ZZ")
[ "$code" = 400 ] && ok || bad "invalid %-encoding: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "${url}api/search?q=%C3%28")
[ "$code" = 400 ] && ok || bad "invalid UTF-8: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: evil.example" "${url}api/search?q=dog")
[ "$code" = 403 ] && ok || bad "foreign Host header: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "${url}api/search?q=dog")
[ "$code" = 405 ] && ok || bad "POST: $code"

# the page itself
curl -s -D "$tmp/page.h" -o "$tmp/page" "$url"
grep -q "<title>picseek</title>" "$tmp/page" && grep -qi "^content-security-policy: default-src 'none'" "$tmp/page.h" \
  && ok || bad "the page and its CSP"

# a second server on the same port fails clearly
port=${url##*:}; port=${port%/}
"$bin" serve --db "$SERVE_DB" --port "$port" >/dev/null 2>"$tmp/err2"; rc=$?
[ $rc = 1 ] && grep -q "in use" "$tmp/err2" && ok || bad "port in use: exit $rc: $(cat "$tmp/err2")"

# SIGTERM: clean stop, exit 0, one access log line per request
serve_stop TERM; rc=$?
[ $rc = 0 ] && ok || bad "SIGTERM: exit $rc"
grep -q "SIGTERM: stopping" "$tmp/server.err" && ok || bad "stop message"
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z 127\.0\.0\.1 "GET /healthz" 200 [0-9]+ [0-9.]+ms$' "$tmp/server.err" \
  && ok || bad "access log format: $(head -n 3 "$tmp/server.err")"
grep -q '"GET /api/photo/../../etc/passwd" 400' "$tmp/server.err" && ok || bad "access log of a trick"
grep -qE "Sanitizer|runtime error" "$tmp/server.err" && bad "sanitizer report: $(grep -A5 -E 'Sanitizer|runtime error' "$tmp/server.err")"

# --quiet and --json; SIGINT
serve_start --quiet --json || bad "restart"
grep -qE '^\{"url":"http://127\.0\.0\.1:[0-9]+/","host":"127\.0\.0\.1","port":[0-9]+,"photos":8\}$' "$tmp/server.out" \
  && ok || bad "--json startup line: $(cat "$tmp/server.out")"
curl -s -o /dev/null "${SERVE_URL}healthz"
serve_stop INT; rc=$?
[ $rc = 0 ] && ok || bad "SIGINT: exit $rc"
grep -q '"GET /healthz"' "$tmp/server.err" && bad "--quiet still logs requests" || ok

echo "$pass passed, $fail failed"
[ $fail = 0 ]
