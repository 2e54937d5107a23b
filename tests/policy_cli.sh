#!/usr/bin/env bash
# policy_cli.sh - `picseek policy check` as a user runs it: output, JSON,
# exit codes, stdin, custom lexicons, usage errors.
set -u
bin=${PICSEEK_BIN:?PICSEEK_BIN must point to the picseek binary}
tmp=${PICSEEK_TEST_TMP:-$(mktemp -d)}
pass=0 fail=0

ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect NAME WANT_RC WANT_STDOUT -- ARGS...   (stdout compared exactly)
expect() {
  local name=$1 want_rc=$2 want_out=$3
  shift 4
  local out rc
  out=$("$bin" "$@" 2>"$tmp/stderr")
  rc=$?
  if [ "$rc" != "$want_rc" ]; then bad "$name: exit $rc, expected $want_rc ($(cat "$tmp/stderr"))"; return; fi
  if [ "$out" != "$want_out" ]; then bad "$name: stdout '$out', expected '$want_out'"; return; fi
  ok
}

# stderr_has NAME TEXT: the last command's stderr contains TEXT
stderr_has() {
  if grep -qF -- "$2" "$tmp/stderr"; then ok; else bad "$1: stderr lacks '$2': $(cat "$tmp/stderr")"; fi
}

if [ ! -d "${WNSEARCHDIR:-/usr/share/wordnet}" ]; then
  echo "skipped: WordNet database not installed (Debian wordnet-base)"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
fi

# --- verdicts, readable and JSON -------------------------------------------------
expect kids 0 "blocked: kid" -- policy check "Two kids play in the sand"
expect cowboy 0 "allowed" -- policy check "A cowboy rides a horse"
expect json_blocked 0 '{"text":"The children are running","blocked":true,"matched":["child"]}' \
  -- policy check --json "The children are running"
expect json_allowed 0 '{"text":"a bowl of kidney beans","blocked":false,"matched":[]}' \
  -- policy check "a bowl of kidney beans" --json
expect json_two 0 '{"text":"Boys and girls, \"kids\"","blocked":true,"matched":["boy","girl","kid"]}' \
  -- policy check --json 'Boys and girls, "kids"'
expect empty 0 "allowed" -- policy check ""
expect dash_text 0 "blocked: kid" -- policy check -- "-kids-"

# --- standard input ------------------------------------------------------------
out=$(printf 'A baby\nsleeps' | "$bin" policy check --json - 2>"$tmp/stderr"); rc=$?
[ $rc = 0 ] && [ "$out" = '{"text":"A baby\nsleeps","blocked":true,"matched":["baby"]}' ] \
  && ok || bad "stdin: rc=$rc out=$out"
# 1 MB on stdin, child word last
yes "dogs run through the snow" | head -c 1048576 > "$tmp/big.txt"
printf ' toddlers' >> "$tmp/big.txt"
out=$("$bin" policy check - < "$tmp/big.txt" 2>"$tmp/stderr"); rc=$?
[ $rc = 0 ] && [ "$out" = "blocked: toddler" ] && ok || bad "big stdin: rc=$rc out=$out"

# --- failures: exit 1 with a message -------------------------------------------
expect invalid_utf8 1 "" -- policy check "$(printf 'ki\xffds')"
stderr_has invalid_utf8 "picseek policy: error: text: byte offset 2: invalid UTF-8"
printf 'kid\n!a b c d e\n' > "$tmp/lex_bad.txt"
expect bad_lexicon 1 "" -- policy check --lexicon "$tmp/lex_bad.txt" "kids"
stderr_has bad_lexicon "$tmp/lex_bad.txt:2: an entry has at most 4 words"
expect missing_lexicon 1 "" -- policy check --lexicon "$tmp/nope.txt" "kids"
stderr_has missing_lexicon "cannot read the lexicon: $tmp/nope.txt: cannot open"
PICSEEK_LEXICON="$tmp/nope.txt" "$bin" policy check kids >/dev/null 2>"$tmp/stderr"
[ $? = 1 ] && ok || bad "PICSEEK_LEXICON not used"
WNSEARCHDIR="$tmp/no_wordnet" "$bin" policy check kids >/dev/null 2>"$tmp/stderr"
[ $? = 1 ] && ok || bad "WNSEARCHDIR not used"
stderr_has wordnet_missing "$tmp/no_wordnet: WordNet database folder not found"

# --- a custom lexicon -------------------------------------------------------------
printf '# animals\ndog\n!hot dog\n' > "$tmp/lex.txt"
expect custom 0 "blocked: dog" -- policy check --lexicon "$tmp/lex.txt" "A dog runs through the snow"
expect custom_exempt 0 "allowed" -- policy check --lexicon "$tmp/lex.txt" "hot dogs and kids"
PICSEEK_LEXICON="$tmp/lex.txt" "$bin" policy check "Two dogs" > "$tmp/out" 2>&1
[ "$(cat "$tmp/out")" = "blocked: dog" ] && ok || bad "PICSEEK_LEXICON: $(cat "$tmp/out")"

# --- usage errors: exit 2 -----------------------------------------------------------
expect no_sub 2 "" -- policy
expect bad_sub 2 "" -- policy frobnicate
stderr_has bad_sub "unknown subcommand 'frobnicate'"
expect no_text 2 "" -- policy check
expect two_texts 2 "" -- policy check a b
expect bad_opt 2 "" -- policy check --jsn kids
stderr_has bad_opt "unknown option"
expect lexicon_no_value 2 "" -- policy check kids --lexicon

# --- help ------------------------------------------------------------------------
"$bin" policy --help > "$tmp/help" 2>&1; rc=$?
[ $rc = 0 ] && grep -q "usage: picseek policy check" "$tmp/help" && grep -q "Exit status" "$tmp/help" \
  && ok || bad "policy --help"
"$bin" policy check --help > "$tmp/help2" 2>&1; rc=$?
[ $rc = 0 ] && cmp -s "$tmp/help" "$tmp/help2" && ok || bad "policy check --help"
"$bin" help policy > "$tmp/help3" 2>&1; rc=$?
[ $rc = 0 ] && cmp -s "$tmp/help" "$tmp/help3" && ok || bad "picseek help policy"
"$bin" --help | grep -q "policy .*Apply the content rule to a text" && ok || bad "listed in picseek --help"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
