#!/usr/bin/env bash
# bench/ops.sh: every op forward and backward on LeNet-5, VGG-style and ResNet-20 shapes at
# batch 64, on convscope's Vulkan backend (lavapipe here), its CPU backend and PyTorch (CPU:
# 2 threads, OpenBLAS; or CUDA eager), in one run; prints a markdown table of times, GFLOP/s and
# ratios to PyTorch (> 1 means faster than PyTorch), medians of `repeats` runs with PyTorch's
# range. With the CPU backend it first measures the machine's fp32 peak (convscope-bench-peak,
# all cores, the widest vector unit) and shows every convolution's GFLOP/s, ours and PyTorch's,
# as a % of it. Needs a build and python3-torch + libopenblas0-pthread.
# Usage: bench/ops.sh [vulkan|cpu|both] [repeats]   (defaults: both 5)
# Environment: CONVSCOPE_BUILD (the build folder [build]), TORCH_DEVICE (cpu | cuda [cpu]),
# PYTHON (the PyTorch interpreter [/usr/bin/python3]); CONVSCOPE_DEVICE / CONVSCOPE_TUNING pick
# the Vulkan device and tile profile.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CONVSCOPE_BUILD:-$root/build}
bin="$build/bin/convscope-bench-ops"
peak_bin="$build/bin/convscope-bench-peak"
py=${PYTHON:-/usr/bin/python3}
tdev=${TORCH_DEVICE:-cpu}
[ -x "$bin" ] || { echo "build first: scripts/test" >&2; exit 1; }
"$py" -c 'import torch' 2>/dev/null ||
  { echo "needs python3-torch: sudo apt-get install python3-torch libopenblas0-pthread" >&2; exit 1; }
which=${1:-both}
repeats=${2:-5}
case "$which" in vulkan|cpu|both) ;; *) echo "usage: bench/ops.sh [vulkan|cpu|both] [repeats]" >&2; exit 2 ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load0=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$which" != vulkan ] && [ -x "$peak_bin" ]; then
  "$peak_bin" --best --runs 5 > "$tmp/peak"
fi
"$bin" --list > "$tmp/cases.json"
# The engines take turns, run by run, so a change in the machine's load falls on all of them.
for r in $(seq "$repeats"); do
  "$py" "$root/bench/ops_torch.py" "$tmp/cases.json" 2 "$tdev" > "$tmp/torch.$r.tsv"
  [ "$which" != vulkan ] && "$bin" --backend cpu > "$tmp/cpu.$r.tsv" 2> "$tmp/cpu.desc"
  [ "$which" != cpu ] && "$bin" --backend vulkan > "$tmp/vulkan.$r.tsv" 2> "$tmp/vulkan.desc"
done
cpu_name=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
printf 'ops, batch 64, median of %s runs (PyTorch %s: median and range); %s; %s, %s cores; load average %s at the start, %s at the end\n' \
  "$repeats" "$tdev" "$(date -u '+%F %H:%M UTC')" "$cpu_name" "$(nproc)" "$load0" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
[ -s "$tmp/peak" ] && read -r isa lanes peak1 peakn < "$tmp/peak" &&
  printf 'fp32 peak (convscope-bench-peak, %s, %s lanes): %s GFLOP/s on 1 thread, %s GFLOP/s on %s cores (the %% columns)\n' \
    "$isa" "$lanes" "$peak1" "$peakn" "$(nproc)"
for e in cpu vulkan; do [ -s "$tmp/$e.desc" ] && echo "$e: $(head -1 "$tmp/$e.desc")"; done
echo
"$py" - "$tmp" "$repeats" <<'PY'
import json, os, statistics, sys
d, repeats = sys.argv[1], int(sys.argv[2])
cases = json.load(open(f"{d}/cases.json"))
def load(name):
    runs = []
    for r in range(1, repeats + 1):
        p = f"{d}/{name}.{r}.tsv"
        if os.path.exists(p):
            runs.append({l.split("\t")[0]: tuple(map(float, l.split("\t")[1:]))
                         for l in open(p) if l.strip()})
    return runs
torch_runs, cpu_runs, vk_runs = load("torch"), load("cpu"), load("vulkan")
def med(runs, name, i):
    return statistics.median(r[name][i] for r in runs)
peak = None
if os.path.exists(f"{d}/peak") and os.path.getsize(f"{d}/peak"):
    peak = float(open(f"{d}/peak").read().split()[3])
def gf(flops, ms):
    return f"{flops / ms / 1e6:.1f}" if flops and ms else "-"
def pct(flops, ms):
    return f"{100 * flops / ms / 1e6 / peak:.0f} %" if flops and ms and peak else "-"
cols = [("torch", torch_runs)] + [(n, t) for n, t in (("cpu", cpu_runs), ("vulkan", vk_runs)) if t]
extra = ["torch ms range"] + (["torch % peak", "cpu % peak"] if peak and cpu_runs else [])
print("| model | op | pass | " + " | ".join(f"{n} ms" for n, _ in cols) + " | " +
      " | ".join(f"{n} GFLOP/s" for n, _ in cols) + " | " +
      " | ".join(f"{n} vs torch" for n, _ in cols[1:]) + " | " + " | ".join(extra) + " |")
print("|" + "---|" * (3 + 3 * len(cols) - 1 + len(extra)))
for c in cases:
    for i, pas in enumerate(("fwd", "bwd")):
        flops = c["flops"] * (1 if i == 0 else 2)
        ms = [med(t, c["name"], i) for _, t in cols]
        ratios = [f"{ms[0] / m:.2f}x" for m in ms[1:]]
        tr = [r[c["name"]][i] for r in torch_runs]
        ex = [f"{min(tr):.3f}-{max(tr):.3f}"]
        if peak and cpu_runs:
            conv = c["kind"] == "conv"
            ex += [pct(flops, ms[0]) if conv else "-", pct(flops, ms[1]) if conv else "-"]
        print(f"| {c['model']} | {c['name']} | {pas} | " + " | ".join(f"{m:.3f}" for m in ms) +
              " | " + " | ".join(gf(flops, m) for m in ms) + " | " + " | ".join(ratios) + " | " +
              " | ".join(ex) + " |")
PY
