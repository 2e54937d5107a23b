#!/usr/bin/env bash
# zeroshot_cli.sh - `picseek score` and `picseek eval retrieval` on the real
# photos: the acceptance examples (a dog photo scores higher for "a dog
# runs" than for "a plate of food", and its contributors name dog classes),
# the content rule, bad input, and the retrieval metrics' keys and ranges.
# Photo features go to the feature cache ($PICSEEK_FEATURES), so only the
# first run computes them.
set -u
bin=${PICSEEK_BIN:?PICSEEK_BIN must point to the picseek binary}
tmp=${PICSEEK_TEST_TMP:-$(mktemp -d)}
shared=${PICSEEK_SHARED:-}
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
run() {
  local code=$1 what=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" = "$code" ]; then ok; else bad "$what: exit $rc, expected $code: $(head -c 400 "$tmp/err")"; fi
}
has() { if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in: $(head -c 800 "$1")"; fi; }
skip_all() { echo "skipped: $1"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }

[ -n "$shared" ] && [ -d "$shared/dataset/test_images" ] && [ -d "$shared/models" ] \
  || skip_all "no dataset or models (PICSEEK_SHARED)"
[ -d "${WNSEARCHDIR:-/usr/share/wordnet}" ] || skip_all "WordNet database not installed"
"$bin" glove info >/dev/null 2>&1 || skip_all "no GloVe word vectors (run scripts/setup)"
command -v jq >/dev/null || skip_all "jq not installed"
export PICSEEK_SHARED=$shared

photo=$shared/dataset/test_images/1429546659_44cb09cbe2.jpg

# --- score: the acceptance example ---------------------------------------------
run 0 "score dog" -- "$bin" score "$photo" "a dog runs" --json
cp "$tmp/out" "$tmp/dog.json"
run 0 "score food" -- "$bin" score "$photo" "a plate of food" --json
cp "$tmp/out" "$tmp/food.json"
dog=$(jq -r .score "$tmp/dog.json") food=$(jq -r .score "$tmp/food.json")
awk -v a="$dog" -v b="$food" 'BEGIN { exit !(a > b) }' && ok \
  || bad "'a dog runs' ($dog) does not score above 'a plate of food' ($food)"
# The contributors name dog classes: the dog concept with its breeds, VOC dog.
jq -e '.contributors[0:3] | map(.label) | index("dog") != null' "$tmp/dog.json" >/dev/null && ok \
  || bad "no 'dog' among the first contributors: $(jq -c '.contributors | map(.label)' "$tmp/dog.json")"
jq -e '[.contributors[] | select(.source == "imagenet" and .label == "dog") | .classes[].label] | length > 0' \
  "$tmp/dog.json" >/dev/null && ok || bad "the dog concept lists no breed"
jq -e '.contributors | all(.word != null and .weight > 0 and .contribution > 0)' "$tmp/dog.json" \
  >/dev/null && ok || bad "contributor fields"
jq -e '(.score >= 0) and (.score < 1) and (.raw > 0)' "$tmp/dog.json" >/dev/null && ok || bad "score range"
# A second run reads the features from the cache.
run 0 "score cached" -- "$bin" score "$photo" "a dog runs" --json
jq -e '.features_cached == true' "$tmp/out" >/dev/null && ok || bad "features not cached"
[ "$(jq .score "$tmp/out")" = "$(jq .score "$tmp/dog.json")" ] && ok || bad "cached score differs"

run 0 "score text" -- "$bin" score "$photo" "a dog runs" -k 3
has "$tmp/out" "contributors:" "readable output"

# --- score: colour words ---------------------------------------------------------
# The dog in this photo is black (and white) in front of green grass: "black"
# contributes through the foreground's colours, and a black dog scores above
# a pink one.
run 0 "score black" -- "$bin" score "$photo" "a black dog" --json
cp "$tmp/out" "$tmp/black.json"
jq -e '[.contributors[] | select(.source == "color")] | (length == 1) and (.[0].label == "black")
       and (.[0].word == "black") and (.[0].region == "foreground") and (.[0].share > 0)'   "$tmp/black.json" >/dev/null && ok || bad "no black colour contributor: $(jq -c .contributors "$tmp/black.json")"
jq -e '(.colors_part > 0) and ((.classes_part + .colors_part + .vector_part - .raw) | fabs < 1e-4)'   "$tmp/black.json" >/dev/null && ok || bad "score parts do not add up"
run 0 "score pink" -- "$bin" score "$photo" "a pink dog" --json
black=$(jq -r .score "$tmp/black.json") pink=$(jq -r .score "$tmp/out")
awk -v a="$black" -v b="$pink" 'BEGIN { exit !(a > b) }' && ok \
  || bad "'a black dog' ($black) does not score above 'a pink dog' ($pink)"

# --- score: the content rule and bad input -------------------------------------------
run 0 "blocked" -- "$bin" score "$photo" "two kids play" --json
jq -e '.blocked == true and (.score == null)' "$tmp/out" >/dev/null && ok || bad "blocked query scored"
run 1 "no word" -- "$bin" score "$photo" "the of a"
has "$tmp/err" "no word" "no-word message"
run 1 "invalid UTF-8" -- "$bin" score "$photo" "$(printf 'do\xffg')"
has "$tmp/err" "invalid UTF-8" "UTF-8 message"
printf 'not an image' > "$tmp/bad.jpg"
run 1 "not an image" -- "$bin" score "$tmp/bad.jpg" "a dog"
run 1 "missing photo" -- "$bin" score "$tmp/none.jpg" "a dog"
run 2 "usage" -- "$bin" score "$photo"

# --- eval retrieval ---------------------------------------------------------------
run 0 "eval" -- "$bin" eval retrieval "$shared/dataset" --json
cp "$tmp/out" "$tmp/eval.json"
for k in queries_evaluated queries_blocked recall_at_1 recall_at_5 recall_at_10 mrr median_rank; do
  jq -e "has(\"$k\")" "$tmp/eval.json" >/dev/null && ok || bad "eval lacks $k"
done
jq -e '.queries_evaluated + .queries_blocked == 500 and .queries_evaluated > 200 and .queries_blocked > 0' \
  "$tmp/eval.json" >/dev/null && ok || bad "query counts: $(jq -c . "$tmp/eval.json")"
jq -e '0 <= .recall_at_1 and .recall_at_1 <= .recall_at_5 and .recall_at_5 <= .recall_at_10
       and .recall_at_10 <= 1 and .mrr > 0 and .mrr <= 1 and .median_rank >= 1 and .median_rank <= 100' \
  "$tmp/eval.json" >/dev/null && ok || bad "metric ranges: $(jq -c . "$tmp/eval.json")"
# Far better than chance (recall@10 of a random order is 0.10).
jq -e '.recall_at_10 > 0.3' "$tmp/eval.json" >/dev/null && ok || bad "recall@10 near chance"
# Whether the first results change between queries: 10 photos in each of the
# queries' first 10 among .photos means some photo is in at least 10/.photos of
# them (pigeonhole), and no share exceeds 1.
jq -e '.top10_max_share >= 10 / .photos and .top10_max_share <= 1
       and .top10_photos_seen > 0 and .top10_photos_seen <= 1' "$tmp/eval.json" >/dev/null && ok \
  || bad "top-10 stability: $(jq -c '{top10_max_share, top10_photos_seen}' "$tmp/eval.json")"
# An ablation runs and changes the scorer.
run 0 "eval ablate" -- "$bin" eval retrieval --data "$shared/dataset" --json --ablate glove,voc
jq -e '.ablated == ["glove","voc"]' "$tmp/out" >/dev/null && ok || bad "ablated list"
[ "$(jq -r .scorer "$tmp/out")" != "$(jq -r .scorer "$tmp/eval.json")" ] && ok || bad "same scorer name"
run 2 "eval bad ablate" -- "$bin" eval retrieval --ablate nothing
run 2 "eval bad set" -- "$bin" eval retrieval --set nothing=1
run 2 "eval no subcommand" -- "$bin" eval
run 1 "eval missing data" -- "$bin" eval retrieval --data "$tmp/none"

echo "$pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]
