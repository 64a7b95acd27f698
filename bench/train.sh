#!/usr/bin/env bash
# bench/train.sh: images/s of a preset's training step (forward, loss, backward, SGD momentum)
# with convscope's CPU backend, its Vulkan backend (lavapipe here) and PyTorch (CPU: 2 threads,
# OpenBLAS; or CUDA eager), in one run, as a table with ratios to PyTorch. Needs a build and
# Debian's python3-torch + libopenblas0-pthread.
# Usage: bench/train.sh [--batch N] [--engines "cpu vulkan"] [--torch-device cpu|cuda]
#                       [preset] [steps] [repeats]
#   (defaults: batch 64, both engines, PyTorch CPU, lenet5 300 3; medians printed)
# Environment: CONVSCOPE_BUILD (the build folder [build]), PYTHON (the PyTorch interpreter
# [/usr/bin/python3]); CONVSCOPE_DEVICE / CONVSCOPE_TUNING pick the Vulkan device and tile profile.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli="${CONVSCOPE_BUILD:-$root/build}/bin/convscope-cli"
py=${PYTHON:-/usr/bin/python3}
batch=64
engines="cpu vulkan"
tdev=cpu
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --batch) batch=$2; shift 2 ;;
    --engines) engines=$2; shift 2 ;;
    --torch-device) tdev=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
preset=${args[0]:-lenet5}
steps=${args[1]:-300}
repeats=${args[2]:-3}
[ -x "$cli" ] || { echo "build first: scripts/test" >&2; exit 1; }
"$py" -c 'import torch' 2>/dev/null ||
  { echo "needs python3-torch: sudo apt-get install python3-torch libopenblas0-pthread" >&2; exit 1; }

source "$root/bench/common.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ours() { # backend -> "median range" of img/s over the timed steps; the backend line in $work/$1
  for _ in $(seq "$repeats"); do
    "$cli" train --preset "$preset" --dataset gratings --backend "$1" --threads 2 \
      --batch "$batch" --max-steps "$steps" --log-every 100000 --schedule constant |
      tee "$work/$1.log" |
      sed -n 's/^trained [0-9]* steps, last epoch at \([0-9,]*\) img\/s.*/\1/p' | tr -d ,
  done | stats
}
torch_ips=$(for _ in $(seq "$repeats"); do
  "$py" "$root/bench/train_torch.py" "$root/resources/presets/$preset.json" "$steps" "$batch" 2 "$tdev"
done | stats)
[ "$tdev" = cuda ] && torch_label="PyTorch CUDA eager ($("$py" -c 'import torch; print(torch.cuda.get_device_name(0))'))"
cpu_ips=""; vk_ips=""
case " $engines " in *" cpu "*) cpu_ips=$(ours cpu) ;; esac
case " $engines " in *" vulkan "*) vk_ips=$(ours vulkan)
  tiles=$(sed -n 's/^backend: .*, \([a-z]*\) tiles.*/\1/p' "$work/vulkan.log" | head -1) ;; esac
summarise "$cli" "$preset training steps, batch $batch, $steps steps; median (range) of $repeats runs"
