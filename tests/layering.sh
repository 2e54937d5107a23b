#!/usr/bin/env bash
# Architecture check: a layer may include only the layers below it.
# Order, highest first (docs/ARCHITECTURE.md): cli server index score learn
# data policy text nn image core.
set -u
src="${PICSEEK_SOURCE_DIR:-$(dirname "$0")/..}/src"
layers=(cli server index score learn data policy text nn image core)
bad=0
for i in "${!layers[@]}"; do
  layer=${layers[$i]}
  [ -d "$src/$layer" ] || continue
  allowed=("${layers[@]:$i}")
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(sed -E 's/.*#include "([a-z]+)\/.*/\1/' <<<"$line")
    ok=0
    for a in "${allowed[@]}"; do [ "$a" = "$inc" ] && ok=1; done
    if [ $ok = 0 ]; then echo "layering: $line (layer '$layer' must not include '$inc')"; bad=1; fi
  done < <(grep -Hn -E '#include "[a-z]+/' "$src/$layer"/*.[ch] 2>/dev/null)
done
[ $bad = 0 ] && echo "1 passed, 0 failed" && exit 0
echo "0 passed, 1 failed"; exit 1
