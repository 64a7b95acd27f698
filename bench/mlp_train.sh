#!/usr/bin/env bash
# bench/mlp_train.sh: one epoch of the mlp preset on Fashion-MNIST with convscope's CPU backend,
# its Vulkan backend (lavapipe here) and PyTorch CPU (2 threads, OpenBLAS), in one run, printed
# as a table of images/s and ratios to PyTorch. Needs a build (scripts/test or scripts/run) and
# Debian's python3-torch + libopenblas0-pthread (without OpenBLAS torch's GEMMs are ~20x slower).
# Usage: bench/mlp_train.sh [repeats]   (median of `repeats` runs per engine, default 5; the
# range is printed too: on a shared 2-core VM single runs vary by up to 2x)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli="$root/build/bin/convscope-cli"
repeats=${1:-5}
[ -x "$cli" ] || { echo "build first: scripts/test" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null ||
  { echo "needs python3-torch: sudo apt-get install python3-torch libopenblas0-pthread" >&2; exit 1; }

source "$root/bench/common.sh"
ours() { # backend -> best img/s
  for _ in $(seq "$repeats"); do
    "$cli" train --preset mlp --epochs 1 --backend "$1" --threads 2 |
      sed -n 's/^test accuracy: [0-9.]* (\([0-9,]*\) img\/s.*/\1/p' | tr -d ,
  done | stats
}
torch_ips=$(for _ in $(seq "$repeats"); do
  /usr/bin/python3 "$root/bench/mlp_train_torch.py" /usr/share/datasets/fashion-mnist 2 |
    sed -n 's/.*: \([0-9]*\) img\/s.*/\1/p'
done | stats)
cpu_ips=$(ours cpu)
vk_ips=$(ours vulkan)
summarise "$cli" "mlp 784-256-10, batch 64, one epoch of Fashion-MNIST; median (range) of $repeats runs"
