#!/usr/bin/env bash
# bench/landscape_ab.sh CLI_A CLI_B [runs] [grid points per side] [images]: two builds of
# convscope-cli (say, before and after a change: `git worktree add /tmp/old REV`, then a
# CONVSCOPE_HEADLESS Release build of convscope-cli there) time the same loss-landscape grid on
# the same resnet20 checkpoint, taking turns, and print each run's grid time and centre loss
# (which must agree). Defaults: 3 runs, 11x11, 500 Fashion-MNIST training images, CPU backend.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,6p' "$0"; exit 2; }
a=$1 b=$2 runs=${3:-3} n=${4:-11} images=${5:-500}
export CONVSCOPE_FASHION_MNIST=${CONVSCOPE_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
for cli in "$a" "$b"; do [ -x "$cli" ] || { echo "not an executable: $cli" >&2; exit 1; }; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$b" train --preset resnet20 --max-steps 30 --backend cpu --out "$work/run" >/dev/null
for ((i = 1; i <= runs; ++i)); do
  for which in A B; do
    cli=$([ $which = A ] && echo "$a" || echo "$b")
    line=$("$cli" landscape "$work/run" --grid "-1:1:$n" --images "$images" --backend cpu \
      --out "$work/$which$i" 2>/dev/null | tail -1)
    centre=$(awk -F, '$1 == 0 && $2 == 0 { print $3 }' "$work/$which$i/landscape.csv")
    echo "$which run $i: $(sed -E 's/.*; grid ([0-9.]+) s.*/\1/' <<<"$line") s, centre loss $centre"
  done
done
