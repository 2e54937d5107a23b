#!/usr/bin/env bash
# bench/models.sh - picseek's models end to end vs. the same architectures in
# PyTorch (Debian python3-torch with OpenBLAS), on the same photos and cores,
# in the same run.  Prints a Markdown table for docs/PERFORMANCE.md.
#
# usage: bench/models.sh [BUILD_DIR] [PHOTO_DIR] [LIMIT]
# Needs: python3-torch python3-torchvision libopenblas0-pthread (bench only;
#        install with: sudo apt-get install python3-torch python3-torchvision libopenblas0-pthread)
set -euo pipefail
build=${1:-build}
photos=${2:-../shared/dataset/test_images}
limit=${3:-100}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)" >&2
"$build/bench_e2e" --threads 2 --limit "$limit" "$photos" > "$out/picseek.jsonl"
if /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
  /usr/bin/python3 "$here/torch_peer.py" "$photos" --threads 2 --limit "$limit" \
    --models mobilenet_v2,mobilenet_v1,deeplab,all --batches 1,8 > "$out/torch.jsonl"
else
  echo "bench/models.sh: PyTorch not installed; peer skipped (see the header of this script)" >&2
  : > "$out/torch.jsonl"
fi
/usr/bin/python3 - "$out/picseek.jsonl" "$out/torch.jsonl" <<'PY'
import json, sys
ps = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
pt = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
alias = {"mobilenet_v1_embedding": "mobilenet_v1"}
print("| model | GMACs/photo | picseek photos/s (batch 1, 2 threads) | share of int16 peak | PyTorch b1 | PyTorch b8 | picseek / PyTorch b1 |")
print("|---|---|---|---|---|---|---|")
for r in ps:
    name = alias.get(r["model"], r["model"])
    b1 = next((p for p in pt if p["model"] == name and p["batch"] == 1), None)
    b8 = next((p for p in pt if p["model"] == name and p["batch"] == 8), None)
    f = lambda p: "%.2f" % p["photos_per_s"] if p else "n/a"
    ratio = "%.1fx" % (r["photos_per_s"] / b1["photos_per_s"]) if b1 else "n/a"
    print(f"| {r['model']} | {r['gmacs_per_photo']:.3f} | {r['photos_per_s']:.2f} | {100*r['fraction_of_int16_peak']:.1f}% | {f(b1)} | {f(b8)} | {ratio} |")
if pt:
    print(f"\nPyTorch peer: {pt[0]['peer']}, float32, {pt[0]['threads']} threads, BLAS {pt[0]['blas']}.")
print(f"CPU clock {ps[0]['cpu_mhz']:.0f} MHz; peak int16 multiply-add {ps[0]['peak_int16_gmacs']:.0f} GMAC/s, fp32 FMA {ps[0]['peak_fp32_gmacs']:.0f} GMAC/s over {ps[0]['threads']} cores.")
PY
