#!/usr/bin/env bash
# bench/peak.sh: this machine's fp32 peak (convscope-bench-peak): a register-resident loop of
# independent multiply-adds for every instruction set the processor has (AVX-512F, AVX2 + FMA,
# SSE2, scalar; chosen at run time), on one thread and on all cores; GFLOP/s, median (range).
# The widest set's all-core figure is the ceiling bench/ops.sh reports convolutions against.
# A loaded machine gives a lower number: the load average is printed beside it.
# Usage: bench/peak.sh [runs]   (default 7; CONVSCOPE_BUILD picks the build, default build/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${CONVSCOPE_BUILD:-$root/build}/bin/convscope-bench-peak"
[ -x "$bin" ] || { echo "build first: scripts/test (or cmake --build build --target convscope-bench-peak)" >&2; exit 1; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mhz=$(sed -n 's/^cpu MHz[[:space:]]*: //p' /proc/cpuinfo | head -1)
printf '%s; %s, %s cores at %.0f MHz; load average %s\n' "$(date -u '+%F %H:%M UTC')" "$cpu" \
  "$(nproc)" "${mhz:-0}" "$(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" --runs "${1:-7}"
