#!/usr/bin/env bash
# bench/gpu.sh: the GPU run of issue 17 in one command, sized for one device call (< 8 minutes on
# an H100/H200-class machine): builds convscope in Release (headless: engine, CLI, bench, the
# engine's test suites), runs the op and network test suites on the Vulkan device with the
# validation layer, then bench/ops.sh vulkan, bench/train.sh for lenet5 (batch 64) and resnet20
# (batch 128) and bench/landscape.sh, each against PyTorch CUDA eager, and writes ONE markdown
# table (every stage's result, the Vulkan tile profile it ran with, its wall time) to
# $OUT/gpu-results.md when $OUT is set, else bench/gpu-results.md; the stages' full output goes
# to gpu-log.txt beside it. Each stage's elapsed time is printed as it ends.
#
# On the device machine (no network): run bench/gpu-prepare.sh here first, then carry .gl,
# .gpu-debs and .gpu-data; this script unpacks .gl/*.deb into / (the Vulkan loader, as the
# device README says), the build dependencies into .gpu-root/ (never /), points the loader at
# the NVIDIA ICD if it finds none, and uses the device's own python3 (CUDA PyTorch).
#
# Usage: bench/gpu.sh [--lavapipe] [--quick] [--tuning auto|cpu|gpu] [--budget SECONDS]
#   --lavapipe  no CUDA half: PyTorch CPU (/usr/bin/python3) and the Vulkan device llvmpipe, so
#               the whole logic runs on a machine without a GPU (slow: use --quick with it)
#   --quick     small sizes everywhere (a subset of the suites, 1 repeat, few steps, tiny grids)
#   --tuning    the tile profile for every Vulkan run (CONVSCOPE_TUNING; default auto: "gpu" on
#               a GPU, "cpu" on lavapipe)
#   --budget    stages that would start after this many seconds are skipped [450]
# Environment: CONVSCOPE_BUILD (the build folder [build-gpu]; an existing one is reused as
# configured), PYTHON (the PyTorch interpreter), CONVSCOPE_DEVICE (the Vulkan device).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
t_start=$(date +%s)
lavapipe=0 quick=0 budget=450 tuning=${CONVSCOPE_TUNING:-auto}
while [ $# -gt 0 ]; do
  case "$1" in
    --lavapipe|--no-cuda) lavapipe=1; shift ;;
    --quick) quick=1; shift ;;
    --tuning) tuning=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "bench/gpu.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
  esac
done
dest=${OUT:-$root/bench}
results="$dest/gpu-results.md"
log="$dest/gpu-log.txt"
mkdir -p "$dest"
: >"$log"
rows=()
elapsed() { echo $(($(date +%s) - t_start)); }
say() { echo "[gpu.sh $(elapsed) s] $*" | tee -a "$log"; }
# row STAGE CONVSCOPE PYTORCH RATIO GOAL TILES SECONDS STATUS
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 |"); }
over_budget() { [ "$(elapsed)" -ge "$budget" ]; }

# --- The environment: loader, build dependencies, driver, PyTorch, data -----------------------
if [ "$lavapipe" = 0 ]; then
  if ! ldconfig -p | grep -q 'libvulkan\.so\.1' && ls .gl/*.deb >/dev/null 2>&1; then
    say "unpacking the loaders (.gl/*.deb) into /"
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  nv_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nv_icd" ] &&
    ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=$nv_icd
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  fi
  export PYTHON=${PYTHON:-python3}
  export CONVSCOPE_DEVICE=${CONVSCOPE_DEVICE:-nvidia}
  tdev=cuda
else
  export PYTHON=${PYTHON:-/usr/bin/python3}
  export CONVSCOPE_DEVICE=${CONVSCOPE_DEVICE:-llvmpipe}
  tdev=cpu
fi
[ "$tuning" != auto ] && export CONVSCOPE_TUNING=$tuning
# The build dependencies, where the system has none (Qt 6's CMake package is the test): unpacked
# into .gpu-root; of the runtime libraries only those the system lacks are kept, so nothing of
# the system's is shadowed.
if ! dpkg-query -W -f='${Status}' qt6-base-dev 2>/dev/null | grep -q "install ok installed" &&
  ls .gpu-debs/*.deb >/dev/null 2>&1; then
  groot="$root/.gpu-root"
  if [ ! -f "$groot/.done" ]; then
    say "unpacking the build dependencies (.gpu-debs) into .gpu-root"
    rm -rf "$groot" && mkdir -p "$groot"
    for f in .gpu-debs/*.deb; do dpkg -x "$f" "$groot"; done
    libdir="$groot/usr/lib/x86_64-linux-gnu"
    have() { ldconfig -p | awk '{print $1}' | grep -qx "$1"; }
    drop=()
    for f in "$libdir"/lib*.so.* "$groot"/lib/x86_64-linux-gnu/lib*.so.*; do
      [ -e "$f" ] || continue
      soname=$(readelf -d "$f" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
      [ -n "$soname" ] && have "$soname" && drop+=("$f")
    done
    rm -f "${drop[@]}"
    # A development symlink (libfoo.so -> libfoo.so.N.M) whose target was dropped: the system's.
    for l in "$libdir"/lib*.so; do
      [ -L "$l" ] && [ ! -e "$l" ] || continue
      soname=$(basename "$l").$(readlink "$l" | sed -E 's/.*\.so\.([0-9]+).*/\1/')
      sys=$(ldconfig -p | awk -v s="$soname" '$1 == s {print $NF; exit}')
      [ -n "$sys" ] && ln -sf "$sys" "$l"
    done
    touch "$groot/.done"
  fi
  export CMAKE_PREFIX_PATH="$groot/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export PATH="$groot/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$groot/usr/lib/x86_64-linux-gnu:$groot/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export CPLUS_INCLUDE_PATH="$groot/usr/include${CPLUS_INCLUDE_PATH:+:$CPLUS_INCLUDE_PATH}"
  export VK_LAYER_PATH="$groot/usr/share/vulkan/explicit_layer.d"
fi
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] &&
  [ -f .gpu-data/train-images-idx3-ubyte.gz ]; then
  export CONVSCOPE_FASHION_MNIST="$root/.gpu-data"
fi

# --- Build ------------------------------------------------------------------------------------
export CONVSCOPE_BUILD=${CONVSCOPE_BUILD:-$root/build-gpu}
build=$CONVSCOPE_BUILD
op_tests=$(cd tests/ops && ls tst_*.cpp | sed 's/\.cpp$//' | tr '\n' ' ')
if [ "$quick" = 1 ]; then
  suites="tst_conv2d tst_linear tst_pool2d tst_network tst_vulkan_context"
else
  suites="$op_tests tst_network tst_vulkan_context"
fi
t0=$(elapsed)
say "build (Release) in $build"
{
  [ -f "$build/CMakeCache.txt" ] ||
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONVSCOPE_HEADLESS=ON
  # shellcheck disable=SC2086
  nice -n 5 cmake --build "$build" --parallel "$(nproc)" --target convscope-cli \
    convscope-bench-ops convscope-bench-peak $suites
} >>"$log" 2>&1
rc=$?
say "build: rc $rc, $(($(elapsed) - t0)) s"
row "build" "Release, $(grep -q 'CONVSCOPE_HEADLESS:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null && echo headless || echo full)" \
  "-" "-" "-" "-" "$(($(elapsed) - t0))" "$([ $rc = 0 ] && echo ok || echo FAILED)"
cli="$build/bin/convscope-cli"

write_results() {
  {
    echo "bench/gpu.sh $([ $lavapipe = 1 ] && echo '--lavapipe ')$([ $quick = 1 ] && echo '--quick ')— $(date -u '+%F %H:%M UTC'); $(nproc) cores; Vulkan: $device; PyTorch $tdev: $torch_desc; load average at the end $(cut -d' ' -f1-3 /proc/loadavg); wall $(elapsed) s"
    echo
    echo "| stage | convscope (Vulkan) | PyTorch $tdev | vs PyTorch | goal | tiles | wall s | status |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
  } >"$results"
}
device=$("$cli" devices 2>>"$log" | grep -i -m1 "${CONVSCOPE_DEVICE}" || echo "none matching '$CONVSCOPE_DEVICE'")
torch_desc=$("$PYTHON" -c "import torch; print(torch.__version__ + (', ' + torch.cuda.get_device_name(0) if '$tdev' == 'cuda' else ''))" 2>>"$log" || echo "no torch")
say "Vulkan devices: $("$cli" devices 2>&1 | tr '\n' ';')"
say "using: $device; PyTorch $tdev: $torch_desc"
if [ $rc != 0 ]; then
  write_results
  say "build failed: see $log"
  exit 1
fi

# The profile the Vulkan backend picks here (its description names it).
tiles_of() { sed -n 's/.*, \([a-z]*\) tiles.*/\1/p' "$@" 2>/dev/null | head -1; }

# --- Tests on the device, validation on --------------------------------------------------------
t0=$(elapsed)
regex="^($(echo $suites | tr ' ' '|'))\$"
say "tests: $suites"
(cd "$build" && ctest --output-on-failure --parallel 4 --timeout 300 -R "$regex") >"$log.tests" 2>&1
rc=$?
cat "$log.tests" >>"$log"
summary=$(grep -E 'tests passed' "$log.tests" | tail -1)
tiles=$("$build/bin/convscope-bench-ops" --backend vulkan --describe 2>&1 | tiles_of /dev/stdin)
say "tests: $summary (rc $rc), $(($(elapsed) - t0)) s"
row "op + network suites, validation on ($(echo $suites | wc -w) suites; also the gpu tiles)" \
  "${summary:-no summary}" "-" "-" "all pass" "${tiles:-?} + gpu" "$(($(elapsed) - t0))" \
  "$([ $rc = 0 ] && echo ok || echo FAILED)"
rm -f "$log.tests"
write_results

# --- Ops ----------------------------------------------------------------------------------------
if over_budget; then
  row "ops (bench/ops.sh vulkan)" "-" "-" "-" "-" "-" "0" "skipped: over budget"
else
  t0=$(elapsed)
  reps=$([ $quick = 1 ] && echo 1 || echo 3)
  say "ops: bench/ops.sh vulkan $reps (PyTorch $tdev)"
  TORCH_DEVICE=$tdev bench/ops.sh vulkan "$reps" >"$log.ops" 2>&1
  rc=$?
  cat "$log.ops" >>"$log"
  tiles=$(grep -m1 '^vulkan:' "$log.ops" | tiles_of /dev/stdin)
  nconv=$(awk -F'|' '$3 ~ /conv/ && $4 ~ /fwd/' "$log.ops" | wc -l)
  for pass in fwd bwd; do
    # the convolutions: Vulkan GFLOP/s and the ratio to PyTorch, each median (range)
    conv=$(awk -F'|' -v p="$pass" '$3 ~ /conv/ && $4 ~ p { print $8, $9, $7 }' "$log.ops" | tr -d x)
    med() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%s (%s-%s)", v[int((NR + 1) / 2)], v[1], v[NR]; else printf "-" }'; }
    g=$(awk '{ print $1 }' <<<"$conv" | med)
    r=$(awk '{ print $2 }' <<<"$conv" | med)
    tg=$(awk '{ print $3 }' <<<"$conv" | med)
    row "ops: the $nconv convolutions, $pass, GFLOP/s median (range) ($reps run$([ $reps = 1 ] || echo s); each case in gpu-log.txt)" \
      "$g" "$tg" "${r}x" "-" "${tiles:-?}" "$(($(elapsed) - t0))" \
      "$([ $rc = 0 ] && echo ok || echo FAILED)"
  done
  rm -f "$log.ops"
fi
write_results

# --- Training steps -----------------------------------------------------------------------------
if [ $quick = 1 ]; then specs=("lenet5 64 20 1" "resnet20 128 3 1"); else specs=("lenet5 64 300 3" "resnet20 128 40 3"); fi
for spec in "${specs[@]}"; do
  read -r preset batch steps reps <<<"$spec"
  goal=$([ $preset = lenet5 ] && echo "≥ 3x (GPU)" || echo "≥ 1x (GPU)")
  if over_budget; then
    row "train $preset, batch $batch" "-" "-" "-" "$goal" "-" "0" "skipped: over budget"
    continue
  fi
  t0=$(elapsed)
  say "train: $preset batch $batch, $steps steps x $reps"
  bench/train.sh --engines vulkan --torch-device "$tdev" --batch "$batch" "$preset" "$steps" \
    "$reps" >"$log.train" 2>&1
  rc=$?
  cat "$log.train" >>"$log"
  # "PyTorch ...   median  (range)  ratio" and "convscope --backend vulkan (...) median (range) ratio"
  t=$(awk '/^PyTorch/ { print $(NF-2), $(NF-1) }' "$log.train")
  v=$(awk '/^convscope --backend vulkan/ { print $(NF-2), $(NF-1), $NF }' "$log.train")
  tiles=$(sed -n 's/^convscope --backend vulkan .*, \([a-z]*\) tiles).*/\1/p' "$log.train")
  read -r vm vr vx <<<"$v"
  read -r tm tr <<<"$t"
  row "train $preset, batch $batch, $steps steps x $reps (img/s)" "${vm:--} ${vr:-}" \
    "${tm:--} ${tr:-}" "${vx:--}" "$goal" "${tiles:-?}" "$(($(elapsed) - t0))" \
    "$([ $rc = 0 ] && [ -n "${vm:-}" ] && echo ok || echo FAILED)"
  say "train $preset: vulkan ${vm:-?} img/s, PyTorch ${tm:-?} img/s (${vx:-?}), $(($(elapsed) - t0)) s"
  rm -f "$log.train"
  write_results
done

# --- Landscape ----------------------------------------------------------------------------------
if [ $quick = 1 ]; then grids="lenet5 11 200 20,resnet20 5 100 5"; pts=5
else grids="lenet5 41 1000 200,resnet20 51 10000 30"; pts=10; fi
if over_budget; then
  row "landscape" "-" "-" "-" "-" "-" "0" "skipped: over budget"
else
  t0=$(elapsed)
  say "landscape: $grids ($pts PyTorch points each)"
  bench/landscape.sh --backend vulkan --torch-device "$tdev" --grids "$grids" "$pts" \
    >"$log.land" 2>&1
  rc=$?
  cat "$log.land" >>"$log"
  tiles=$(sed -n 's/.*(Vulkan on .*, \([a-z]*\) tiles.*/\1/p' "$log.land" | head -1)
  # preset grid images convscope_s torch_ms (range) torch_s ratio centre
  while read -r preset grid images secs tms trange ts ratio _; do
    goal=$([ "$preset" = resnet20 ] && [ "$grid" = 51x51 ] && [ "$images" = 10000 ] && echo "< 60 s" || echo "-")
    row "landscape $preset $grid on $images images (s)" "$secs" "$ts ($tms ms/point $trange)" \
      "$ratio" "$goal" "${tiles:-?}" "$(($(elapsed) - t0))" "$([ $rc = 0 ] && echo ok || echo FAILED)"
  done < <(awk '$1 == "lenet5" || $1 == "resnet20"' "$log.land")
  [ $rc = 0 ] || row "landscape" "-" "-" "-" "-" "-" "$(($(elapsed) - t0))" "FAILED (rc $rc)"
  say "landscape: rc $rc, $(($(elapsed) - t0)) s"
  rm -f "$log.land"
fi
write_results
say "done in $(elapsed) s: $results"
cat "$results"
