#!/usr/bin/env bash
# classify_cli.sh - `picseek classify` as a user runs it: top-k classes from
# input tensors, deeplab area shares, JSON, thread counts, errors and usage.
# The expected classes come from the golden files in shared/golden (another
# implementation's outputs), never from picseek itself.
set -u
bin=${PICSEEK_BIN:?PICSEEK_BIN must point to the picseek binary}
tmp=${PICSEEK_TEST_TMP:-$(mktemp -d)}
shared=${PICSEEK_SHARED:-}
pass=0 fail=0

ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# run ARGS...: stdout in $tmp/out, stderr in $tmp/err, exit code in $rc
run() { "$bin" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
want_rc() { if [ "$rc" = "$2" ]; then ok; else bad "$1: exit $rc, expected $2: $(cat "$tmp/err")"; fi; }
has() { if grep -qF -- "$3" "$tmp/$2"; then ok; else bad "$1: $2 lacks '$3': $(head -c 300 "$tmp/$2")"; fi; }

# --- usage, always available --------------------------------------------------------
run classify --help
want_rc help 0
has help out "usage: picseek classify"
has help out "Exit status"
run classify
want_rc no_inputs 2
has no_inputs err "give at least one PHOTO"
run classify --model resnet x.jpg
want_rc bad_model 2
run classify -k 0 --tensor x.in
want_rc bad_k 2
run classify --threads many --tensor x.in
want_rc bad_threads 2
run classify --bogus
want_rc bad_option 2
run classify --arithmetic fast --tensor x.in
want_rc bad_arithmetic 2
has bad_arithmetic err "--arithmetic must be tflite, xnnpack or armnn"
run classify --models /nonexistent/models --tensor x.in
want_rc no_models 1
has no_models err "/nonexistent/models"

v2=$shared/golden/mobilenet_v2_1.0_224_quant
dl=$shared/golden/deeplabv3_mnv2_pascal_quant
if [ -z "$shared" ] || [ ! -d "$v2" ] || [ ! -d "$dl" ] || [ ! -d "$shared/models" ]; then
  echo "skipped: shared golden files or models missing"
  echo "$pass passed, $fail failed, 1 skipped"
  [ "$fail" = 0 ]; exit
fi

# Index of the largest byte of a golden softmax (.out0), lowest index on ties.
golden_top1() { od -An -v -tu1 -w1 "$1" | awk '{ if ($1 > best || NR == 1) { best = $1; idx = NR - 1 } } END { print idx }'; }

first_in=$(ls "$v2"/*.in | head -1)

# --- classifier on every golden input: our top class is golden's top class ----------
for f in "$v2"/*.in; do
  name=$(basename "$f" .in)
  top=$(golden_top1 "$v2/$name.out0")
  run classify -k 1 --json --tensor "$f"
  want_rc "v2_$name" 0
  got=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["classes"][0]["index"])' <"$tmp/out" 2>/dev/null)
  # A tie within one quantum (1/256) may swap the top two; accept golden's
  # runner-up only when it is that close.
  if [ "$got" = "$top" ]; then ok; else
    gv=$(od -An -v -tu1 -j "$got" -N1 "$v2/$name.out0" | tr -d ' ')
    tv=$(od -An -v -tu1 -j "$top" -N1 "$v2/$name.out0" | tr -d ' ')
    if [ $((tv - gv)) -le 1 ]; then ok; else bad "v2_$name: top class $got, golden $top"; fi
  fi
done

# --- --arithmetic armnn: all 1001 probabilities are golden's bytes / 256 --------------
run classify --arithmetic armnn -k 1001 --json --tensor "$first_in"
want_rc armnn 0
python3 - "$tmp/out" "${first_in%.in}.out0" <<'EOF' && ok || bad "armnn: probabilities differ from golden"
import json, sys
cl = json.load(open(sys.argv[1]))[0]["classes"]
want = open(sys.argv[2], "rb").read()
assert len(cl) == 1001 and len(want) == 1001
assert all(round(c["score"] * 256) == want[c["index"]] for c in cl)
EOF

# --- text output, several inputs in order, JSON shape ----------------------------------
first=$(ls "$v2"/*.in | head -1); second=$(ls "$v2"/*.in | sed -n 2p)
run classify -k 3 --tensor "$first" --tensor "$second"
want_rc text 0
has text out "$first (mobilenet_v2)"
has text out "$second (mobilenet_v2)"
[ "$(grep -c '^   [123]\. ' "$tmp/out")" = 6 ] && ok || bad "text: expected 6 ranked lines: $(cat "$tmp/out")"
run classify -k 4 --json --tensor "$first" --tensor "$second"
want_rc json 0
python3 - "$tmp/out" "$first" <<'EOF' && ok || bad "json: unexpected structure: $(head -c 400 "$tmp/out")"
import json, sys
doc = json.load(open(sys.argv[1]))
assert isinstance(doc, list) and len(doc) == 2
assert doc[0]["input"] == sys.argv[2] and doc[0]["model"] == "mobilenet_v2"
for d in doc:
    cl = d["classes"]
    assert len(cl) == 4
    scores = [c["score"] for c in cl]
    assert scores == sorted(scores, reverse=True) and 0 <= scores[-1] <= scores[0] <= 1
    assert all(isinstance(c["index"], int) and c["label"] for c in cl)
EOF

# Same answer with one thread and with two.
run classify -k 10 --threads 1 --tensor "$first"; cp "$tmp/out" "$tmp/t1"
run classify -k 10 --threads 2 --tensor "$first"
cmp -s "$tmp/out" "$tmp/t1" && ok || bad "threads: 1 and 2 threads disagree"

# --- deeplab: classes covering >= 2% of golden's pixels, shares within 1% ------------
f=$(ls "$dl"/*.in | head -1); name=$(basename "$f" .in)
run classify --model deeplab -k 21 --json --tensor "$f"
want_rc deeplab 0
python3 - "$tmp/out" "$dl/$name.fractions" <<'EOF' && ok || bad "deeplab: shares differ from golden: $(cat "$tmp/out")"
import json, sys
doc = json.load(open(sys.argv[1]))[0]
assert doc["model"] == "deeplab"
got = {c["index"]: c["score"] for c in doc["classes"]}
want = {int(a): float(b) for a, b in (l.split() for l in open(sys.argv[2]) if l.strip())}
for cls, share in want.items():
    if share >= 0.02:
        assert abs(got.get(cls, 0.0) - share) <= 0.01, (cls, share, got.get(cls))
assert abs(sum(got.values()) - 1.0) < 1e-3
EOF
run classify --model deeplab --tensor "$f"
want_rc deeplab_text 0
has deeplab_text out "background"

# --- photos: decoded, cropped and resized by the image layer -------------------------
name=$(basename "$first" .in)
photo=$(ls "$shared"/dataset/*/"$name".jpg 2>/dev/null | head -1)
if [ -n "$photo" ]; then
  top=$(golden_top1 "$v2/$name.out0")
  run classify -k 1 --json "$photo"
  want_rc photo 0
  got=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["classes"][0]["index"])' <"$tmp/out" 2>/dev/null)
  [ "$got" = "$top" ] && ok || bad "photo: top class $got, golden $top"
  run classify --model deeplab -k 2 "$photo"
  want_rc photo_deeplab 0
  has photo_deeplab out "$photo (deeplab)"
fi
printf 'not a picture\n' >"$tmp/notes.jpg"
run classify "$tmp/notes.jpg"
want_rc not_image 1
has not_image err "not a JPEG, PNG or WebP image"

# --- errors: wrong tensor size, missing file, photo without the image layer -----------
head -c 1000 "$first" >"$tmp/short.in"
run classify --tensor "$tmp/short.in"
want_rc short 1
has short err "must hold exactly 150528 bytes"
run classify --tensor "$tmp/missing.in" --tensor "$first"
want_rc partial 1
has partial err "missing.in"
has partial out "$first (mobilenet_v2)"
run classify --model deeplab --tensor "$first"
want_rc wrong_model_size 1
has wrong_model_size err "789507"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
