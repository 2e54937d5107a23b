#!/usr/bin/env bash
# text_cli.sh - `picseek embed-text` and `picseek idf` as a user runs them:
# words, lemmas, weights, unknown words, the vector, the relevant classes,
# exit codes for bad input; the IDF table rebuilt from the dataset matches
# the shipped one.
set -u
bin=${PICSEEK_BIN:?PICSEEK_BIN must point to the picseek binary}
src=${PICSEEK_SOURCE_DIR:?}
tmp=${PICSEEK_TEST_TMP:-$(mktemp -d)}
shared=${PICSEEK_SHARED:-}
pass=0 fail=0 skip=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# run CODE DESCRIPTION -- COMMAND...: stdout in $tmp/out, stderr in $tmp/err
run() {
  local code=$1 what=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" = "$code" ]; then ok; else bad "$what: exit $rc, expected $code: $(head -c 400 "$tmp/err")"; fi
}
has() { if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in: $(head -c 600 "$1")"; fi; }
hasnt() { if grep -qF -- "$2" "$1"; then bad "$3: '$2' unexpectedly in output"; else ok; fi; }

if [ ! -d "${WNSEARCHDIR:-/usr/share/wordnet}" ]; then
  echo "skipped: WordNet database not installed (Debian wordnet-base)"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
fi
if ! "$bin" glove info >/dev/null 2>&1; then
  echo "skipped: no GloVe word vectors (run scripts/setup)"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
fi
if [ -z "$shared" ] || [ ! -d "$shared/models" ]; then
  echo "skipped: no models folder (PICSEEK_SHARED/models)"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
fi
export PICSEEK_SHARED=$shared

# --- embed-text ---------------------------------------------------------------
run 0 "embed-text json" -- "$bin" embed-text --json "The Dogs are running on a beach with zzqxvw"
has "$tmp/out" '"tokens": [' "tokens listed"
has "$tmp/out" '"lemma": "dog"' "lemma of dogs"
has "$tmp/out" '"lemmas": [' "lemmas listed"
has "$tmp/out" '"weights": [' "weights listed"
has "$tmp/out" '"unknown": [
    "zzqxvw"
  ]' "unknown word reported"
has "$tmp/out" '"dim": 100' "vector dimension"
[ "$(jq '.vector | length' "$tmp/out" 2>/dev/null || echo 100)" = 100 ] && ok || bad "vector length"
# stop words are not content words
hasnt "$tmp/out" '"lemma": "the"' "stop word dropped"

run 0 "embed-text text" -- "$bin" embed-text "two men ride mountain bikes" --classes 5
has "$tmp/out" "mountain bikes" "collocation joined"
has "$tmp/out" "lemma mountain_bike" "collocation lemma"
has "$tmp/out" "most relevant concepts and classes:" "classes listed"
run 0 "embed-text men" -- "$bin" embed-text "men" --classes 3
has "$tmp/out" "person" "men -> person"

run 0 "embed-text classes json" -- "$bin" embed-text --json --classes 3 "a dog"
has "$tmp/out" '"label": "dog"' "dog concept"
has "$tmp/out" '"why": "is-a"' "is-a relation"

run 0 "stdin" -- sh -c "printf 'a dog' | '$bin' embed-text --json -"
has "$tmp/out" '"lemma": "dog"' "stdin text read"

run 0 "empty text" -- "$bin" embed-text --json ""
has "$tmp/out" '"words": []' "no words"
has "$tmp/out" '"vector": null' "no vector"

# A long text is capped, not slow or failing.
yes "dogs run through the snow" | head -c 200000 > "$tmp/long.txt"
run 0 "long text" -- sh -c "'$bin' embed-text --json - < '$tmp/long.txt'"
has "$tmp/out" '"capped": true' "long text capped"

run 1 "invalid UTF-8" -- "$bin" embed-text "$(printf 'do\xffg')"
has "$tmp/err" "byte offset 2: invalid UTF-8" "invalid UTF-8 message"
run 2 "no text" -- "$bin" embed-text
run 2 "bad option" -- "$bin" embed-text --classes 0 dog
run 0 "help" -- "$bin" embed-text --help
has "$tmp/out" "EXIT STATUS" "help text"

# --- idf ----------------------------------------------------------------------
if [ -f "$shared/dataset/train_dataset.csv" ]; then
  run 0 "idf rebuild" -- "$bin" idf --data "$shared/dataset" -o "$tmp/idf.tsv"
  has "$tmp/out" "captions of test photos skipped" "idf summary"
  # The shipped table is what the command makes from this dataset.
  cmp -s "$tmp/idf.tsv" "$src/data/caption_idf.tsv" && ok || bad "data/caption_idf.tsv differs from a rebuild"
  run 0 "idf json" -- "$bin" idf --data "$shared/dataset" -o "$tmp/idf2.tsv" --json
  has "$tmp/out" '"documents": ' "idf json"
  run 2 "idf json without -o" -- "$bin" idf --json
  run 1 "idf missing dataset" -- "$bin" idf --data "$tmp/nothing"
else
  skip=$((skip + 1))
  echo "skipped: idf rebuild (no dataset)"
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
