#!/usr/bin/env bash
# bench/landscape.sh: loss-landscape grids (issue 13's speed goals) — lenet5 41×41 on 1,000
# Fashion-MNIST training images and resnet20 21×21 on 500 — with convscope-cli landscape (CPU
# backend, the whole grid timed) beside the anchor's method in PyTorch CPU on the same machine
# (bench/landscape_torch.py: per point, load θ* + αδ + βη into the model and evaluate the subset
# in eval() mode, 2 threads; P points timed, median (range) per point, times the grid). Both use
# the same checkpoint and directions, and the centre's loss is printed by both to check.
# Needs a build, Debian's dataset-fashion-mnist and python3-torch.
# Usage: bench/landscape.sh [--backend cpu|vulkan] [--torch-device cpu|cuda]
#                           [--grids "PRESET N IMAGES STEPS,..."] [torch points per grid]
#   (defaults: cpu, cpu, "lenet5 41 1000 200,resnet20 21 500 30", 20; STEPS: training steps of
#   the checkpoint the grid stands on, always on the CPU backend)
# Environment: CONVSCOPE_BUILD (the build folder [build]), PYTHON (the PyTorch interpreter
# [/usr/bin/python3]), CONVSCOPE_FASHION_MNIST (the dataset's folder
# [/usr/share/datasets/fashion-mnist]); CONVSCOPE_DEVICE / CONVSCOPE_TUNING for Vulkan.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli="${CONVSCOPE_BUILD:-$root/build}/bin/convscope-cli"
py=${PYTHON:-/usr/bin/python3}
backend=cpu
tdev=cpu
grids="lenet5 41 1000 200,resnet20 21 500 30"
points=20
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --torch-device) tdev=$2; shift 2 ;;
    --grids) grids=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) points=$1; shift ;;
  esac
done
fm=${CONVSCOPE_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
export CONVSCOPE_FASHION_MNIST=$fm
[ -x "$cli" ] || { echo "build first: scripts/test" >&2; exit 1; }
[ -f "$fm/train-images-idx3-ubyte.gz" ] || { echo "needs dataset-fashion-mnist" >&2; exit 1; }
"$py" -c 'import torch' 2>/dev/null ||
  { echo "needs python3-torch: sudo apt-get install python3-torch" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows=()
IFS=, read -r -a specs <<<"$grids"
for spec in "${specs[@]}"; do
  read -r preset n images steps <<<"$spec"
  # A checkpoint to stand on (the time per point does not depend on the weights).
  "$cli" train --preset "$preset" --max-steps "$steps" --backend cpu --out "$work/$preset" \
    >/dev/null
  line=$("$cli" landscape "$work/$preset" --grid "-1:1:$n" --images "$images" --backend "$backend" \
    --out "$work/$preset-land" 2>"$work/land.err" | tee "$work/land.out" | tail -1)
  sed -n 's/.*; \(Vulkan on .* tiles\).*/\1/p' "$work/land.err" | head -1 >"$work/tiles"
  secs=$(sed -E 's/.*; grid ([0-9.]+) s.*/\1/' <<<"$line")
  centre=$(awk -F, '$1 == 0 && $2 == 0 { print $3 }' "$work/$preset-land/landscape.csv")
  ckpt=$(ls "$work/$preset/checkpoints"/step-*.safetensors | head -1)
  torch=$("$py" "$root/bench/landscape_torch.py" --checkpoint "$ckpt" --device "$tdev" \
    --directions "$work/$preset-land/directions.safetensors" \
    --images "$fm/train-images-idx3-ubyte.gz" --labels "$fm/train-labels-idx1-ubyte.gz" \
    --count "$images" --points "$points" 2>"$work/torch.err")
  tcentre=$(sed -E 's/centre loss ([0-9.]+).*/\1/' "$work/torch.err")
  rows+=("$preset $n $images $secs $torch centre $centre $tcentre")
done
printf '\nloss-landscape grids, %s, %s cores; convscope --backend %s%s: the whole grid, one run; PyTorch %s: %s points\n' \
  "$(date -u +%F)" "$(nproc)" "$backend" "$([ -s "$work/tiles" ] && echo " ($(cat "$work/tiles"))")" "$tdev" "$points"
printf '%-9s %-8s %7s %14s %26s %14s %8s  %s\n' preset grid images "convscope s" \
  "PyTorch ms/point (range)" "PyTorch s" ratio "centre loss (convscope / PyTorch)"
for r in "${rows[@]}"; do
  read -r preset n images secs _ _ _ med lo hi _ centre tcentre <<<"$r"
  awk -v p="$preset" -v n="$n" -v im="$images" -v s="$secs" -v med="$med" -v lo="$lo" \
    -v hi="$hi" -v c="$centre" -v tc="$tcentre" 'BEGIN {
      pts = n * n; ts = med * pts / 1000;
      printf "%-9s %-8s %7d %14.1f %11.1f (%.1f-%.1f) %14.0f %7.1fx  %s / %s\n",
        p, n "x" n, im, s, med, lo, hi, ts, ts / s, c, tc }'
done
