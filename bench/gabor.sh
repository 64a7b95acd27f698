#!/usr/bin/env bash
# bench/gabor.sh: do Gabor filters emerge? (issue 14) Trains the gabor preset (with its own
# defaults: weight decay 0.02) and lenet5 (no weight decay) for 5 epochs on Fashion-MNIST with the
# CPU backend, one checkpoint an epoch, and fits the first layer's filters of the checkpoints
# after epochs 1, 3 and 5 (convscope-cli gabor): the fraction of Gabor-like filters (R² ≥ 0.7
# and ≥ 0.3 above the same fit on shuffled pixels) and the median R² against its null.
# Also the time to fit a layer (speed goal: 32 filters of 7×7 in under 100 ms on one core).
# Needs a build and Debian's dataset-fashion-mnist.
# Usage: bench/gabor.sh [seed]   (default 1)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli="$root/build/bin/convscope-cli"
seed=${1:-1}
[ -x "$cli" ] || { echo "build first: scripts/test" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '| preset | epoch | test accuracy | Gabor-like | median R² | median null R² |\n'
printf '|---|---|---|---|---|---|\n'
for preset in gabor lenet5; do
  "$cli" train --preset "$preset" --epochs 5 --seed "$seed" --backend cpu --out "$work/$preset" \
    >"$work/$preset.log"
  mapfile -t steps < <(ls "$work/$preset/checkpoints" | sed -nE 's/^step-([0-9]+)\.safetensors$/\1/p' |
    sort -n)
  mapfile -t accs < <(sed -nE 's/.*test loss [0-9.]+ acc ([0-9.]+).*/\1/p' "$work/$preset.log")
  for e in 1 3 5; do
    ckpt="$work/$preset/checkpoints/step-${steps[$((e - 1))]}.safetensors"
    line=$("$cli" gabor "$ckpt" | tail -1)
    # "Gabor-like: 9 of 16 (56 %); median R² 0.719 against a null of 0.293"
    frac=$(sed -E 's/Gabor-like: ([0-9]+ of [0-9]+ \([0-9]+ %\)).*/\1/' <<<"$line")
    med=$(sed -E 's/.*median R² ([0-9.]+) .*/\1/' <<<"$line")
    null=$(sed -E 's/.*null of ([0-9.]+).*/\1/' <<<"$line")
    acc=${accs[$((e - 1))]:-?}
    printf '| %s | %d | %s | %s | %s | %s |\n' "$preset" "$e" "$acc" "$frac" "$med" "$null"
  done
done
