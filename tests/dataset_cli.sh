#!/usr/bin/env bash
# `picseek dataset stats|export` driven as a user would: exit codes, JSON
# keys, export files.  Uses a small dataset written here, and the real one
# in $PICSEEK_SHARED/dataset when present.
set -u
bin=${PICSEEK_BIN:?PICSEEK_BIN not set}
tmp=${PICSEEK_TEST_TMP:-$(mktemp -d)}
mkdir -p "$tmp"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect CODE DESCRIPTION -- command...   (stdout/stderr kept in $tmp/out, $tmp/err)
expect() {
  local want=$1 what=$2; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" = "$want" ]; then ok; else bad "$what: exit $got, expected $want"; sed 's/^/  /' "$tmp/err" | head -5; fi
}
contains() { # FILE STRING DESCRIPTION
  if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in $1"; head -5 "$1" | sed 's/^/  /'; fi
}

# ---- a small dataset -------------------------------------------------------
ds=$tmp/small
rm -rf "$ds"; mkdir -p "$ds/train_images" "$ds/test_images"
printf 'image,query_id,query_text\na.jpg,b.jpg#0,"A dog, running ."\nb.jpg,b.jpg#0,"A dog, running ."\n' >"$ds/train_dataset.csv"
printf 'a.jpg\tb.jpg#0\t1\t1\t2\nb.jpg\tb.jpg#0\t4\t4\t4\nc.jpg\tb.jpg#0\t1\t2\t3\n' >"$ds/ExpertAnnotations.tsv"
printf 'b.jpg\tb.jpg#0\t1\t3\t0\n' >"$ds/CrowdAnnotations.tsv"
printf '|query_id|query_text|image\n0|t.jpg#0|A cat .|t.jpg\n' >"$ds/test_queries.csv"
printf 'image\nt.jpg\n' >"$ds/test_images.csv"
printf '\377\330\377\340' >"$ds/train_images/a.jpg"
printf '\377\330\377\340' >"$ds/train_images/b.jpg"
printf '\377\330\377\340' >"$ds/test_images/t.jpg"
printf 'junk' >"$ds/test_images/.DS_Store"

# ---- usage errors: exit 2 ------------------------------------------------------
expect 0 "help" -- "$bin" dataset --help
contains "$tmp/out" "SYNOPSIS" "help text"
contains "$tmp/out" "EXIT STATUS" "help text"
expect 0 "subcommand help" -- "$bin" dataset stats --help
contains "$tmp/out" "picseek dataset export [DIR] -o FILE" "help synopsis"
expect 0 "picseek help dataset" -- "$bin" help dataset
expect 2 "no subcommand" -- "$bin" dataset
expect 2 "unknown subcommand" -- "$bin" dataset frobnicate
contains "$tmp/err" "unknown subcommand 'frobnicate'" "unknown subcommand message"
expect 2 "unknown option" -- "$bin" dataset stats --nope "$ds"
expect 2 "export without -o" -- "$bin" dataset export "$ds"
expect 2 "bad format" -- "$bin" dataset export "$ds" -o "$tmp/x" --format xml
expect 2 "bad weight" -- "$bin" dataset stats "$ds" --w-expert 2
expect 2 "bad mode" -- "$bin" dataset stats "$ds" --expert-mode best
expect 2 "two folders" -- "$bin" dataset stats "$ds" "$ds"
expect 2 "missing option value" -- "$bin" dataset export "$ds" -o

# ---- the small dataset ---------------------------------------------------------
expect 0 "stats small" -- "$bin" dataset stats "$ds" --json --no-policy
for kv in '"expert_rows": 3' '"expert_no_majority": 1' '"expert_kept": 2' '"crowd_rows": 1' \
          '"expert_with_crowd": 1' '"train_rows": 2' '"train_captions": 1' \
          '"train_captions_blocked": null' '"train_pairs_allowed": null' '"test_queries": 1' \
          '"test_images": 1' '"train_photos": 2' '"test_photos": 1' '"skipped_files": 1'; do
  contains "$tmp/out" "$kv" "stats --json (small)"
done
expect 0 "stats small via --data" -- "$bin" dataset stats --data "$ds" --no-policy
contains "$tmp/out" "dropped, no majority" "stats text"
contains "$tmp/out" "test_images/.DS_Store: not a JPEG, PNG or WebP image" "skipped file reported"

expect 0 "export csv" -- "$bin" dataset export "$ds" -o "$tmp/small.csv" --no-policy
if [ "$(head -1 "$tmp/small.csv")" = "image,caption_id,query_text,expert_1,expert_2,expert_3,expert_score,crowd_ratio,target,blocked" ]; then ok; else bad "csv header: $(head -1 "$tmp/small.csv")"; fi
[ "$(wc -l <"$tmp/small.csv")" = 3 ] && ok || bad "csv rows: $(wc -l <"$tmp/small.csv")"
contains "$tmp/small.csv" 'b.jpg,b.jpg#0,"A dog, running .",4,4,4,1,1,1,' "csv quoting and values"
expect 0 "export tsv to stdout" -- "$bin" dataset export "$ds" -o - --format tsv --no-policy
[ "$(wc -l <"$tmp/out")" = 3 ] && ok || bad "tsv rows"
contains "$tmp/out" $'a.jpg\tb.jpg#0\tA dog, running .\t1\t1\t2\t0\t0\t0\t' "tsv row"
expect 0 "export jsonl" -- "$bin" dataset export "$ds" -o "$tmp/small.jsonl" --format jsonl --no-policy
[ "$(wc -l <"$tmp/small.jsonl")" = 2 ] && ok || bad "jsonl rows"
contains "$tmp/small.jsonl" '"query_text":"A dog, running ."' "jsonl text"
contains "$tmp/small.jsonl" '"blocked":null' "jsonl blocked without policy"

# ---- failures: exit 1 ----------------------------------------------------------
expect 1 "missing folder" -- "$bin" dataset stats "$tmp/nowhere" --no-policy
contains "$tmp/err" "$tmp/nowhere: no such folder" "missing folder message"
rm -rf "$tmp/broken"; cp -r "$ds" "$tmp/broken"
printf 'a.jpg\tb.jpg#0\t1\t1\t2\nb.jpg\tb.jpg#0\t4\tfour\t4\n' >"$tmp/broken/ExpertAnnotations.tsv"
expect 1 "bad row" -- "$bin" dataset stats "$tmp/broken" --no-policy
contains "$tmp/err" "$tmp/broken/ExpertAnnotations.tsv:2: column 4: expert score 'four' is not a whole number" "bad row message"
expect 0 "bad row, lenient" -- "$bin" dataset stats "$tmp/broken" --json --lenient --no-policy
contains "$tmp/out" '"rows_skipped": 1' "lenient count"
contains "$tmp/out" '"expert_rows": 1' "lenient kept rows"
contains "$tmp/err" "warning: skipped: $tmp/broken/ExpertAnnotations.tsv:2: column 4" "lenient warning"
: >"$tmp/broken/CrowdAnnotations.tsv"
expect 1 "empty file" -- "$bin" dataset stats "$tmp/broken" --lenient --no-policy
contains "$tmp/err" "$tmp/broken/CrowdAnnotations.tsv: file is empty" "empty file message"
expect 1 "unwritable output" -- "$bin" dataset export "$ds" -o "$tmp/nowhere/x.csv" --no-policy

# ---- the real dataset (with the content rule) ------------------------------------
real=${PICSEEK_SHARED:-}/dataset
if [ -n "${PICSEEK_SHARED:-}" ] && [ -f "$real/ExpertAnnotations.tsv" ]; then
  expect 0 "stats real" -- "$bin" dataset stats "$real" --json
  for kv in '"expert_rows": 5822' '"expert_no_majority": 126' '"expert_kept": 5696' \
            '"crowd_rows": 47830' '"expert_with_crowd": 2258' '"train_rows": 5822' \
            '"train_captions": 977' '"test_queries": 500' '"test_images": 100' \
            '"train_photos": 1000' '"test_photos": 100'; do
    contains "$tmp/out" "$kv" "stats --json (real)"
  done
  for k in train_captions_blocked train_pairs_allowed target_mean target_std skipped_files; do
    grep -qE "\"$k\": [0-9]" "$tmp/out" && ok || bad "real stats: key $k missing or null"
  done
  expect 0 "export real" -- "$bin" dataset export "$real" -o "$tmp/real.csv"
  [ "$(wc -l <"$tmp/real.csv")" = 5697 ] && ok || bad "real export rows: $(wc -l <"$tmp/real.csv")"
  expect 0 "export real jsonl" -- "$bin" dataset export "$real" -o "$tmp/real.jsonl" --format jsonl
  [ "$(wc -l <"$tmp/real.jsonl")" = 5696 ] && ok || bad "real jsonl rows"
else
  echo "skipped: the real dataset is not in PICSEEK_SHARED"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
