#!/usr/bin/env bash
# picseek index / picseek search as a user runs them: help, usage errors,
# bad databases, incremental runs on files that need no models.
set -u
BIN=${PICSEEK_BIN:?PICSEEK_BIN not set}
T=${PICSEEK_TEST_TMP:-$(mktemp -d)}/index_cli
rm -rf "$T" && mkdir -p "$T" && cd "$T" || exit 1
unset PICSEEK_DB
pass=0 fail=0

# run EXPECTED_RC NEEDLE CMD...: the exit status and a substring of stdout+stderr.
run() {
  local want=$1 needle=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" = "$want" ] && [[ "$out" == *"$needle"* ]]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAILED: $* -> rc $rc (want $want), output:"; echo "$out" | head -20
    echo "  (wanted to see: $needle)"
  fi
}

# --- help and usage --------------------------------------------------------
run 0 "usage: picseek index DIR" "$BIN" index --help
run 0 "Exit status" "$BIN" help index
run 0 "usage: picseek search QUERY" "$BIN" search --help
run 2 "which folder?" "$BIN" index
run 2 "one folder at a time" "$BIN" index a b
run 2 "unknown option '--bogus'" "$BIN" index --bogus x
run 2 "--workers: 'many' is not a whole number" "$BIN" index --workers many x
run 2 "what are you looking for?" "$BIN" search
run 2 "-k: 'ten' is not a whole number from 1 to 1000" "$BIN" search -k ten dog
run 2 "-k needs a number" "$BIN" search dog -k

# --- bad queries (checked before anything is opened) ----------------------
run 2 "the query is empty" "$BIN" search ""
run 2 "the query is empty" "$BIN" search "   "
big=$(head -c 102400 /dev/zero | tr '\0' 'a')
run 2 "the query is 102400 bytes long; the limit is 1000 bytes" "$BIN" search "$big"
run 2 "not valid UTF-8 (byte offset 4)" "$BIN" search $'dog \xc3('

# --- bad databases ----------------------------------------------------------
run 1 "missing.db: no index database here; build one with 'picseek index DIR --db missing.db'" \
  "$BIN" search dog --db missing.db
run 1 "picseek.db: no index database here" "$BIN" search dog
head -c 8192 /dev/urandom > junk.db
run 1 "junk.db: not a picseek database" "$BIN" search dog --db junk.db
run 1 "junk.db: not a picseek database" "$BIN" index . --db junk.db
mkdir -p adir.db
run 1 "adir.db: not a database file (it is a folder)" "$BIN" search dog --db adir.db
: > empty.db
run 1 "empty.db: the database is empty" "$BIN" search dog --db empty.db

# --- indexing what needs no models ------------------------------------------
mkdir -p photos/sub
printf '\0\0\0\1Bud1' > photos/.DS_Store
echo "shopping list" > photos/sub/notes.txt
out=$("$BIN" index photos --db lib.db --json 2>&1)
if [[ "$out" == *'"skipped": 2'* && "$out" == *'"path": ".DS_Store",'* && "$out" == *'"reason": "not an image"'* ]]; then
  pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: first run:"; echo "$out"; fi
out=$("$BIN" index photos --db lib.db --json 2>&1)
if [[ "$out" == *'"processed": 0'* && "$out" == *'"unchanged": 2'* && "$out" == *'"skips": []'* ]]; then
  pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: second run not a no-op:"; echo "$out"; fi
rm photos/sub/notes.txt
run 0 '"removed": 1' "$BIN" index photos --db lib.db --json
run 0 "The index holds 0 photos from this folder (1 files skipped)." "$BIN" index photos --db lib.db
PICSEEK_DB=env.db run 0 "into env.db" "$BIN" index photos
run 1 "nowhere: cannot open folder" "$BIN" index nowhere --db lib.db
run 1 "not a folder" "$BIN" index photos/.DS_Store --db lib.db

# A database written by a newer picseek (user_version, big-endian at offset 60).
cp lib.db newer.db
printf '\x00\x00\x00\x63' | dd of=newer.db bs=1 seek=60 conv=notrunc status=none
run 1 "newer.db: this index was created by a newer picseek (format 99" "$BIN" search dog --db newer.db
run 1 "created by a newer picseek" "$BIN" index photos --db newer.db

# A query the content rule blocks: only the disclaimer, exit 0, before any model is loaded.
run 0 "cannot be shown without a guardian's consent" "$BIN" search two kids playing in the sand --db lib.db
out=$("$BIN" search "a child on a swing" --db lib.db --json 2>&1)
if [[ "$out" == *'"blocked": true'* && "$out" == *'"results": []'* && "$out" == *'"query": "a child on a swing"'* ]]; then
  pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: blocked query JSON:"; echo "$out"; fi

# Captions: both layouts, without a folder; a malformed file is an error naming the line.
printf 'image,query_id,query_text\nb.jpg,a.jpg#0,A child on a swing\na.jpg,a.jpg#0,A child on a swing\nb.jpg,b.jpg#1,"A dog, running"\n' > train.csv
run 0 "Imported 2 captions from train.csv (train_dataset.csv layout, 3 rows): 1 blocked by the content rule" \
  "$BIN" index --captions train.csv --db cap.db
printf '|query_id|query_text|image\n0|c.jpg#0|A red car|c.jpg\n' > test.csv
out=$("$BIN" index --captions test.csv --captions train.csv --db cap.db --json 2>&1)
if [[ "$out" == *'"layout": "test_queries.csv"'* && "$out" == *'"photos_restricted_by_captions": 0'* ]]; then
  pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: captions JSON:"; echo "$out"; fi
printf 'image,query_id,query_text\nb.jpg,nohash,A dog\n' > bad.csv
run 1 "bad.csv:2: column 2: 'nohash' is not a caption id" "$BIN" index --captions bad.csv --db cap.db
run 1 "nope.csv: cannot open" "$BIN" index photos --captions nope.csv --db cap.db
if [ -r "${PICSEEK_SHARED:-}/dataset/test_queries.csv" ]; then
  run 0 "Imported 500 captions" "$BIN" index --captions "$PICSEEK_SHARED/dataset/test_queries.csv" --db cap.db
fi

# The database inside the indexed folder is not indexed itself.
run 0 '"files": 1' "$BIN" index photos --db photos/inside.db --json
run 0 '"processed": 0' "$BIN" index photos --db photos/inside.db --json

# --- real photos through the real models (when the dataset and models are here) ---
D=${PICSEEK_SHARED:-}/dataset/test_images
if [ -d "$D" ] && [ -r "${PICSEEK_SHARED:-}/models/mobilenet_v2_1.0_224_quant.tflite" ]; then
  mkdir -p real
  for f in $(ls "$D" | grep '\.jpg$' | head -3); do cp "$D/$f" real/; done
  first=$(ls real | head -1)
  head -c 3000 "real/$first" > real/truncated.jpg
  echo "not really a photo" > real/fake.jpg
  out=$("$BIN" index real --db real.db --json 2>&1)
  if [[ "$out" == *'"added": 3'* && "$out" == *'"skipped": 2'* && "$out" == *'"reason": "JPEG file is truncated'* ]]; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: real photos:"; echo "$out"; fi
  touch real/"$first"                       # new mtime, same bytes: not decoded again
  run 0 '"processed": 0' "$BIN" index real --db real.db --json
  printf 'trailing bytes' >> real/"$first"  # changed content: read again
  run 0 '"updated": 1' "$BIN" index real --db real.db --json
  rm real/"$first"
  run 0 '"removed": 1' "$BIN" index real --db real.db --json
else
  echo "skipped: real photos (dataset or models not found)"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
