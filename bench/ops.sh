#!/usr/bin/env bash
# bench/ops.sh: every op forward and backward on LeNet-5, VGG-style and ResNet-20 shapes at
# batch 64, on convscope's Vulkan backend (lavapipe here), its CPU backend and PyTorch CPU
# (2 threads, OpenBLAS), in one run; prints a markdown table of times, GFLOP/s and ratios to
# PyTorch (> 1 means faster than PyTorch). Needs a build and python3-torch + libopenblas0-pthread.
# Usage: bench/ops.sh [vulkan|cpu|both]   (default both)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/bin/convscope-bench-ops"
[ -x "$bin" ] || { echo "build first: scripts/test" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null ||
  { echo "needs python3-torch: sudo apt-get install python3-torch libopenblas0-pthread" >&2; exit 1; }
which=${1:-both}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" --list > "$tmp/cases.json"
/usr/bin/python3 "$root/bench/ops_torch.py" "$tmp/cases.json" 2 > "$tmp/torch.tsv"
[ "$which" != vulkan ] && "$bin" --backend cpu > "$tmp/cpu.tsv"
[ "$which" != cpu ] && "$bin" --backend vulkan > "$tmp/vulkan.tsv"
/usr/bin/python3 - "$tmp" <<'PY'
import json, os, sys
d = sys.argv[1]
cases = json.load(open(f"{d}/cases.json"))
def load(name):
    p = f"{d}/{name}.tsv"
    if not os.path.exists(p):
        return {}
    return {l.split("\t")[0]: tuple(map(float, l.split("\t")[1:])) for l in open(p) if l.strip()}
torch, cpu, vk = load("torch"), load("cpu"), load("vulkan")
def gf(flops, ms):
    return f"{flops / ms / 1e6:.1f}" if flops and ms else "-"
cols = [("torch", torch)] + [(n, t) for n, t in (("cpu", cpu), ("vulkan", vk)) if t]
print("| model | op | pass | " + " | ".join(f"{n} ms" for n, _ in cols) + " | " +
      " | ".join(f"{n} GFLOP/s" for n, _ in cols) + " | " +
      " | ".join(f"{n} vs torch" for n, _ in cols[1:]) + " |")
print("|" + "---|" * (3 + 3 * len(cols) - 1))
for c in cases:
    for i, pas in enumerate(("fwd", "bwd")):
        flops = c["flops"] * (1 if i == 0 else 2)
        ms = [t[c["name"]][i] for _, t in cols]
        ratios = [f"{ms[0] / m:.2f}x" for m in ms[1:]]
        print(f"| {c['model']} | {c['name']} | {pas} | " + " | ".join(f"{m:.3f}" for m in ms) +
              " | " + " | ".join(gf(flops, m) for m in ms) + " | " + " | ".join(ratios) + " |")
PY
