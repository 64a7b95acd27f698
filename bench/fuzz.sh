#!/usr/bin/env bash
# bench/fuzz.sh: libFuzzer on every untrusted input (tests/fuzz/<target>.cpp): IDX (gzip), CIFAR-10
# batches, safetensors, NetSpec JSON through shape inference, image-folder decoding, metrics.csv.
# Configures and builds build-fuzz with clang (CONVSCOPE_FUZZ: ASan + UBSan + libFuzzer), then runs
# each target for SECONDS, JOBS at a time (default 2), and prints the table, also written to
# bench/fuzz-results.md (the latest run of each target).
# Usage: bench/fuzz.sh [seconds] [target...]   (defaults: 600, every target)
#        bench/fuzz.sh --seeds                 rewrite the seed files of tests/fuzz/corpus
#        bench/fuzz.sh --table                 rewrite bench/fuzz-results.md from the latest rows
#        bench/fuzz.sh --peaks [target...]     the largest heap growth per input byte over each
#                                              target's corpus (build-fuzz/corpus and the seeds)
#
# Limits: inputs up to 1 MiB (-max_len); one allocation over 256 MiB (-malloc_limit_mb, 256 × the
# largest input) or 2 GiB resident (-rss_limit_mb) is a crash; an input running over 10 s is a
# timeout; leaks are reported (LeakSanitizer). Each target also aborts when the heap grows by more
# than a multiple of the input's size while it is loaded (fuzz_support.h; 4× for IDX and CIFAR,
# of the inflated size for gzip; 32× metrics.csv; 64× safetensors; 128× NetSpec; images 64× the
# larger of the file and 4 bytes a pixel of the canvas its header claims, padded to 32-pixel
# JPEG blocks).
# FUZZ_FLAGS adds libFuzzer flags, e.g. FUZZ_FLAGS=-len_control=0 to try inputs up to -max_len at
# once (libFuzzer otherwise grows lengths slowly: in 600 s its inputs stay in the kilobytes).
# New inputs go to build-fuzz/corpus/<target> (seeded from tests/fuzz/corpus/<target>); crashes to
# build-fuzz/artifacts/<target>/. A crash becomes a regression test by copying it into
# tests/fuzz/corpus/<target>/ (ctest fuzz_replay_<target> replays that folder in the normal build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
corpus_src="$root/tests/fuzz/corpus"
jobs=${FUZZ_JOBS:-2}
cxx=${FUZZ_CXX:-$(command -v clang++-14 || command -v clang++)}
all=$(sed -n 's/^set(CONVSCOPE_FUZZ_TARGETS \(.*\))$/\1/p' "$root/tests/fuzz/targets.cmake")

configure() {
  [ -f "$build/CMakeCache.txt" ] ||
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVSCOPE_FUZZ=ON >/dev/null
}

# write_table: bench/fuzz-results.md from each target's latest row (build-fuzz/results/), printed
write_table() {
  {
    printf '# Fuzzing results (bench/fuzz.sh)\n\n'
    printf 'The latest run of each target: clang %s, libFuzzer + ASan + UBSan, %s cores, %s jobs at a\n' \
      "$("$cxx" -dumpversion)" "$(nproc)" "$jobs"
    printf 'time; -max_len 1 MiB, -malloc_limit_mb 256, -rss_limit_mb 2048, -timeout 10 s, and the\n'
    printf 'per-target heap bound of tests/fuzz/fuzz_support.h. cov / ft: coverage edges and features\n'
    printf 'at the end; crashes: crash, leak, timeout or over-allocation artifacts of that run.\n\n'
    printf '| target | date | seconds | executions | cov / ft | exec/s | crashes | first report |\n'
    printf '|---|---|---|---|---|---|---|---|\n'
    for t in $all; do
      [ -f "$build/results/$t.row" ] && cat "$build/results/$t.row"
    done
  } >"$root/bench/fuzz-results.md"
  echo
  cat "$root/bench/fuzz-results.md"
}

if [ "${1:-}" = "--table" ]; then
  write_table
  exit 0
fi
if [ "${1:-}" = "--peaks" ]; then # the largest heap growth per input size over each corpus
  shift
  configure
  for t in ${@:-$all}; do
    ninja -C "$build" "fuzz_$t" >/dev/null
    mkdir -p "$build/corpus/$t" "$build/tmp"
    TMPDIR="$build/tmp" CONVSCOPE_FUZZ_PEAKS=1 "$build/fuzz/fuzz_$t" -runs=0 -max_len=1048576 \
      "$build/corpus/$t" "$corpus_src/$t" 2>&1 | grep -E "largest heap growth|INITED|ERROR"
  done
  exit 0
fi
if [ "${1:-}" = "--seeds" ]; then
  configure
  ninja -C "$build" fuzz_make_corpus
  "$build/fuzz/fuzz_make_corpus" "$corpus_src"
  exit 0
fi

seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || read -r -a targets <<<"$all"
for t in "${targets[@]}"; do
  [[ " $all " == *" $t "* ]] || { echo "unknown target $t (targets: $all)" >&2; exit 2; }
done

configure
ninja -C "$build" "${targets[@]/#/fuzz_}"

mkdir -p "$build/results" "$build/logs"
# The loaders that take a path write each input under $TMPDIR/convscope-fuzz-<pid>/.
export TMPDIR="$build/tmp"
mkdir -p "$TMPDIR"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:handle_abort=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run() { # run TARGET: one libFuzzer run, then its result row
  local t=$1 work="$build/corpus/$1" art="$build/artifacts/$1/" log="$build/logs/$1.log"
  mkdir -p "$work" "$art"
  local dict=()
  [ -f "$root/tests/fuzz/$t.dict" ] && dict=(-dict="$root/tests/fuzz/$t.dict")
  local before after start end status=0
  before=$(find "$art" -type f | wc -l)
  start=$(date +%s)
  "$build/fuzz/fuzz_$t" "${dict[@]}" -max_total_time="$seconds" -max_len=1048576 \
    -malloc_limit_mb=256 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$art" ${FUZZ_FLAGS:-} "$work" "$corpus_src/$t" >"$log" 2>&1 || status=$?
  end=$(date +%s)
  after=$(find "$art" -type f | wc -l)
  local execs rate cov ft
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  local found=$((after - before)) what="none"
  if [ "$status" -ne 0 ] || [ "$found" -gt 0 ]; then
    what=$(grep -m1 -oE 'ERROR: [A-Za-z]+: [^()]*|runtime error: .*|fuzz [a-z_]+: the loader.*' \
      "$log" | cut -c1-90 || true)
    [ -n "$what" ] || what="exit status $status"
    [ "$found" -gt 0 ] || found=1
  fi
  printf '| %s | %s | %s | %s | %s / %s | %s | %s | %s |\n' "$t" "$(date -u +%F)" \
    "$((end - start))" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${rate:-?}" "$found" "$what" \
    >"$build/results/$t.row"
  echo "fuzz_$t: $((end - start)) s, $found crash(es) ($what); log $log"
}

echo "fuzzing ${targets[*]} for $seconds s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run "$t" &
  running=$((running + 1))
done
wait || true
rm -rf "$TMPDIR"

write_table
