#!/usr/bin/env bash
# bench/analysis.sh: the analysis layer's interactive work — all five saliency methods for one
# image (SmoothGrad n = 25, IG m = 32, Grad-CAM) for lenet5 and resnet20, and FGSM accuracy vs ε
# (13 values × 1,000 Fashion-MNIST test images) for lenet5 — with convscope's CPU backend and
# PyTorch CPU (autograd, 2 threads) in one run; ms, median (range) of N runs, and the ratio
# (> 1: convscope is faster). Needs a build and Debian's python3-torch.
# Usage: bench/analysis.sh [repeats] [backend]   (defaults: 5 cpu)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bench="$root/build/bin/convscope-bench-analysis"
repeats=${1:-5}
backend=${2:-cpu}
[ -x "$bench" ] || { echo "build first: scripts/test" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null ||
  { echo "needs python3-torch: sudo apt-get install python3-torch libopenblas0-pthread" >&2; exit 1; }
fm=/usr/share/datasets/fashion-mnist
idx=()
[ -f "$fm/t10k-images-idx3-ubyte.gz" ] &&
  idx=(--images "$fm/t10k-images-idx3-ubyte.gz" --labels "$fm/t10k-labels-idx1-ubyte.gz")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for preset in lenet5 resnet20; do
  "$bench" --preset "$preset" --backend "$backend" --repeats "$repeats" >>"$out"
  /usr/bin/python3 "$root/bench/analysis_torch.py" --preset "$preset" --repeats "$repeats" \
    "${idx[@]}" >>"$out" 2>/dev/null
done
printf '\nanalysis work, ms, median (range) of %s runs; %s, %s cores\n' "$repeats" "$(date -u +%F)" "$(nproc)"
printf '%-10s %-20s %22s %22s %9s\n' preset work "convscope $backend" "PyTorch CPU" "ratio"
awk -v be="convscope-$backend" '
  $1 == be    { ours[$2 " " $3] = $4; orange[$2 " " $3] = $5 "-" $6; order[++n] = $2 " " $3 }
  $1 == "torch" { th[$2 " " $3] = $4; trange[$2 " " $3] = $5 "-" $6 }
  END {
    for (i = 1; i <= n; ++i) {
      k = order[i]; split(k, p, " ")
      printf "%-10s %-20s %9.1f (%-10s) %9.1f (%-10s) %8.2fx\n", p[1], p[2], ours[k], orange[k],
             th[k], trange[k], (k in th && ours[k] > 0) ? th[k] / ours[k] : 0
    }
  }' "$out" | sed 's/(\([0-9.]*\)-\([0-9.]*\) *)/(\1-\2)/g'
