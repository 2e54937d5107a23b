#!/usr/bin/env bash
# learned_cli.sh - `picseek train` and `picseek eval model` as a user runs
# them: help, usage errors, a (short) training run written twice with the
# same bytes, --check on good, damaged and foreign files, and a (short)
# evaluation whose JSON has every key with values in range.  Training and
# evaluation need the dataset, WordNet, the word vectors and the cached
# photo features; without them those parts are skipped.
set -u
bin=${PICSEEK_BIN:?PICSEEK_BIN must point to the picseek binary}
tmp=${PICSEEK_TEST_TMP:-$(mktemp -d)}
shared=${PICSEEK_SHARED:-}
pass=0 fail=0 skip=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
run() {
  local code=$1 what=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" = "$code" ]; then ok; else bad "$what: exit $rc, expected $code: $(head -c 400 "$tmp/err")"; fi
}
has() { if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in: $(head -c 600 "$1")"; fi; }

# --- help and usage (no assets needed) -------------------------------------------
run 0 "train --help" -- "$bin" train --help
has "$tmp/out" "SYNOPSIS" "train help synopsis"
has "$tmp/out" "EXIT STATUS" "train help exit status"
run 0 "eval --help" -- "$bin" eval --help
has "$tmp/out" "eval model" "eval help lists model"
run 0 "eval model --help" -- "$bin" eval model --help
has "$tmp/out" "kendall_tau_c_expert" "eval model help names the metrics"
run 2 "eval without subcommand" -- "$bin" eval
run 2 "eval unknown subcommand" -- "$bin" eval nonsense
run 2 "unknown model" -- "$bin" eval model --model ridge,forest
has "$tmp/err" "--model" "unknown model message"
run 2 "bad folds" -- "$bin" eval model --folds 1
run 2 "bad setting" -- "$bin" eval model --set bilinear.rank=0
has "$tmp/err" "bilinear.rank" "bad setting message"
run 2 "unknown setting" -- "$bin" eval model --set nothing=1
run 2 "bad feature block" -- "$bin" eval model --photo-features mnv2,pixels
has "$tmp/err" "pixels" "bad block message"
run 2 "train bad seed" -- "$bin" train --seed x
run 2 "train --set without =" -- "$bin" train --set rank
run 2 "check with more" -- "$bin" train --check a.psm extra

# --check on files that are not models: a clear error, exit 1.
printf 'not a model' >"$tmp/junk.psm"
run 1 "check junk" -- "$bin" train --check "$tmp/junk.psm"
has "$tmp/err" "not a picseek model file" "junk message"
run 1 "check missing" -- "$bin" train --check "$tmp/nope.psm"
has "$tmp/err" "nope.psm" "missing file named"

# --- training and evaluation on the dataset --------------------------------------
data=${shared:+$shared/dataset}
if [ -z "$shared" ] || [ ! -d "$data" ] || [ ! -d "$shared/models" ] ||
   [ ! -d "${WNSEARCHDIR:-/usr/share/wordnet}" ] || ! "$bin" glove info >/dev/null 2>&1; then
  echo "skipped: training needs the dataset, the models, WordNet and the word vectors"
  skip=$((skip + 1))
else
  export PICSEEK_SHARED=$shared
  quick=(--set bilinear.epochs=2 --set photo_pca=16 --set bilinear.rank=4 --set bilinear.ensemble=2
         --cached-features -q)
  "$bin" train --data "$data" -o "$tmp/a.psm" "${quick[@]}" --json >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ $rc -ne 0 ] && grep -q "not in the feature cache" "$tmp/err"; then
    echo "skipped: photo features not cached (run 'picseek train' once in a release build)"
    skip=$((skip + 1))
  else
    [ $rc -eq 0 ] && ok || bad "train: exit $rc: $(head -c 400 "$tmp/err")"
    has "$tmp/out" '"content_classifier"' "train summary"
    has "$tmp/out" '"rank": 4' "train setting applied"
    [ -s "$tmp/a.psm" ] && ok || bad "model file written"
    run 0 "train again" -- "$bin" train "$data" -o "$tmp/b.psm" "${quick[@]}"
    cmp -s "$tmp/a.psm" "$tmp/b.psm" && ok || bad "same data and seed, different model bytes"

    run 0 "check good" -- "$bin" train --check "$tmp/a.psm" --json
    has "$tmp/out" '"ok": true' "check ok"
    has "$tmp/out" '"scorer": "learned-v1-' "scorer name"
    # Damage one byte in the middle: the checksum catches it.
    cp "$tmp/a.psm" "$tmp/d.psm"
    size=$(stat -c %s "$tmp/d.psm")
    printf '\x55' | dd of="$tmp/d.psm" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
    run 1 "check damaged" -- "$bin" train --check "$tmp/d.psm"
    has "$tmp/err" "checksum mismatch" "damaged message"
    head -c $((size - 100)) "$tmp/a.psm" >"$tmp/t.psm"
    run 1 "check truncated" -- "$bin" train --check "$tmp/t.psm"
    has "$tmp/err" "truncated" "truncated message"

    run 0 "eval model" -- "$bin" eval model "$data" --model constant,bilinear --folds 2 \
      --no-content --json "${quick[@]}"
    for key in mse mae r2 kendall_tau_c_expert kendall_tau_b_crowd recall_at_1 recall_at_5 \
               recall_at_10; do
      for model in constant bilinear zeroshot; do
        if command -v jq >/dev/null; then
          v=$(jq -r ".$model.$key" "$tmp/out")
          if [ "$v" = null ] && [ "$model" = constant ] && [ "${key#kendall}" != "$key" ]; then
            ok # the constant has no rank correlation
          elif [ -n "$v" ] && [ "$v" != null ]; then ok; else bad "$model.$key missing"; fi
        else
          has "$tmp/out" "\"$key\"" "key $key"
        fi
      done
    done
    if command -v jq >/dev/null; then
      jq -e '.bilinear.recall_at_10 >= .bilinear.recall_at_5 and .bilinear.recall_at_10 <= 1
             and .constant.recall_at_10 > 0.099 and .constant.recall_at_10 < 0.101
             and .bilinear.cv.folds == 2 and .protocol.folds == 2
             and .bilinear.cv.heldout_retrieval.recall_at_10 > 0.1' "$tmp/out" >/dev/null \
        && ok || bad "eval values out of range: $(head -c 600 "$tmp/out")"
    fi
  fi
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
