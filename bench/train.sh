#!/usr/bin/env bash
# bench/train.sh: images/s of a preset's training step (forward, loss, backward, SGD momentum;
# batch 64) with convscope's CPU backend, its Vulkan backend (lavapipe here) and PyTorch CPU
# (2 threads, OpenBLAS), in one run, as a table with ratios to PyTorch. Needs a build and
# Debian's python3-torch + libopenblas0-pthread.
# Usage: bench/train.sh [preset] [steps] [repeats]   (defaults: lenet5 300 3; medians printed)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli="$root/build/bin/convscope-cli"
preset=${1:-lenet5}
steps=${2:-300}
repeats=${3:-3}
[ -x "$cli" ] || { echo "build first: scripts/test" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null ||
  { echo "needs python3-torch: sudo apt-get install python3-torch libopenblas0-pthread" >&2; exit 1; }

source "$root/bench/common.sh"
ours() { # backend -> "median range" of img/s over the timed steps
  for _ in $(seq "$repeats"); do
    "$cli" train --preset "$preset" --dataset gratings --backend "$1" --threads 2 \
      --max-steps "$steps" --log-every 100000 --schedule constant |
      sed -n 's/^trained [0-9]* steps, last epoch at \([0-9,]*\) img\/s.*/\1/p' | tr -d ,
  done | stats
}
torch_ips=$(for _ in $(seq "$repeats"); do
  /usr/bin/python3 "$root/bench/train_torch.py" "$root/resources/presets/$preset.json" "$steps"
done | stats)
cpu_ips=$(ours cpu)
vk_ips=$(ours vulkan)
summarise "$cli" "$preset training steps, batch 64, $steps steps; median (range) of $repeats runs"
