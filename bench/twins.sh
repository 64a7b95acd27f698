#!/usr/bin/env bash
# bench/twins.sh: the lecture's claim (Li et al. 2018, Fig. 5): a plain network's loss surface is
# rougher than its residual twin's. Trains plainN and resnetN on Fashion-MNIST the same way (same
# seed: the same initial weights where the tensors agree and the same data order), then for each
# computes the 41×41 filter-normalised surface over [−1, 1]² on the first IMAGES training images
# with the Hessian's extreme eigenvalues at θ*, and prints the roughness numbers (local minima and
# mean |discrete Laplacian| within |α|, |β| ≤ 0.5, λ_max, λ_min). Pictures and numbers go to
# docs/landscape/twins-N/. Long: about 15 min (20 layers) and 2 h (56 layers) on two cores.
# Usage: bench/twins.sh [depth 20|56] [epochs] [images] [grid]   (defaults: 20 3 256 -1:1:41)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli="$root/build/bin/convscope-cli"
depth=${1:-20}
epochs=${2:-3}
images=${3:-256}
grid=${4:--1:1:41}
[ -x "$cli" ] || { echo "build first: scripts/test" >&2; exit 1; }
out="$root/docs/landscape/twins-$depth"
work=${CONVSCOPE_TWINS_WORK:-$(mktemp -d)}
mkdir -p "$out"
summary="$out/summary.txt"
{
  echo "twins $depth: plain$depth and resnet$depth, $epochs epochs each on Fashion-MNIST (seed 1, momentum 0.9, lr 0.02, batch 64, cosine), $(date -u +%F), $(nproc) cores"
  echo "surface: $grid per axis, filter-normalised random directions (seed 1), $images training images, evaluation mode"
} >"$summary"
for net in "plain$depth" "resnet$depth"; do
  run="$work/$net"
  if [ ! -d "$run/checkpoints" ]; then
    "$cli" train --preset "$net" --epochs "$epochs" --seed 1 --backend cpu --out "$run" \
      --log-every 200 | grep -E "^epoch [0-9]+:|test accuracy" | tee -a "$summary"
  fi
  "$cli" landscape "$run" --out "$out/$net" --grid "$grid" --images "$images" --hessian \
    --backend cpu | tee -a "$summary"
done
echo "wrote $out" >&2
