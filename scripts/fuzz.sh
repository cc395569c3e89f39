#!/usr/bin/env bash
# Runs the libFuzzer targets of fuzz/ (README, "Fuzzing").
# Usage: scripts/fuzz.sh TARGET|all SECONDS
#   TARGET: http_body, frame, event_log, failure_file or scenario.
# Builds build-fuzz (clang, -DWS_FUZZ=ON), runs the saved crash inputs of
# fuzz/regressions/TARGET first, then fuzzes for SECONDS from a copy of
# fuzz/corpus/TARGET in build-fuzz/corpus/TARGET (the checked-in corpus is
# never changed). Prints one summary line per target. Exit 0: nothing found;
# 1: a crash, hang or failed check (the input is saved, its path printed);
# 2: bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(http_body frame event_log failure_file scenario manifest)

usage() {
  echo "usage: scripts/fuzz.sh TARGET|all SECONDS   (targets: ${targets[*]})" >&2
  exit 2
}
[ $# -eq 2 ] || usage
which="$1"
seconds="$2"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: SECONDS must be a positive whole number, not '$seconds'" >&2
  exit 2
fi
if [ "$which" = all ]; then
  run=("${targets[@]}")
else
  run=()
  for t in "${targets[@]}"; do [ "$t" = "$which" ] && run=("$t"); done
  if [ ${#run[@]} -eq 0 ]; then
    echo "fuzz.sh: unknown target '$which'; valid targets: ${targets[*]} (or all)" >&2
    exit 2
  fi
fi

scripts/install-deps.sh
build=build-fuzz
gen=()
if command -v ninja >/dev/null; then gen=(-G Ninja); fi
# -O1, as libFuzzer's own documentation builds its targets: quicker to
# compile than -O3, and fast enough to run.
CC=clang CXX=clang++ cmake -S . -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 \
  -DWS_FUZZ=ON -DWS_TESTS=OFF -DWS_BENCH=OFF >/dev/null
build_targets=()
for t in "${run[@]}"; do build_targets+=(--target "fuzz_$t"); done
cmake --build "$build" -j "$(nproc)" "${build_targets[@]}"

# UBSan reports are findings too: stop at the first, with a stack.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

found=0
for t in "${run[@]}"; do
  bin="$build/fuzz/fuzz_$t"
  corpus="$build/corpus/$t"
  artifacts="$build/artifacts/$t"
  log="$build/logs/$t.log"
  rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  cp fuzz/corpus/"$t"/* "$corpus"/
  seeds=$(find "$corpus" -type f | wc -l)

  # Every input that once crashed must stay fixed.
  regressions=()
  if [ -d "fuzz/regressions/$t" ]; then
    mapfile -t regressions < <(find "fuzz/regressions/$t" -type f | sort)
  fi
  if [ ${#regressions[@]} -gt 0 ]; then
    if ! "$bin" "${regressions[@]}" >"$build/logs/$t.regressions.log" 2>&1; then
      echo "fuzz $t: a saved regression input fails again; see $build/logs/$t.regressions.log"
      grep -E "^Running: |ERROR|FUZZ_CHECK|runtime error" "$build/logs/$t.regressions.log" | tail -5
      found=1
      continue
    fi
  fi

  opts=(-max_total_time="$seconds" -print_final_stats=1 -timeout=25 -rss_limit_mb=2048
        -artifact_prefix="$artifacts/")
  [ -f "fuzz/dict/$t.dict" ] && opts+=(-dict="fuzz/dict/$t.dict")
  status=0
  "$bin" "${opts[@]}" "$corpus" >"$log" 2>&1 || status=$?

  execs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log" | tail -1)
  rate=$(awk '/^stat::average_exec_per_sec:/ {print $2}' "$log" | tail -1)
  corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1 | cut -d' ' -f2)  # units/bytes
  files=$(find "$corpus" -type f | wc -l)
  crashes=0
  artifact=""
  if [ "$status" -ne 0 ]; then
    crashes=1
    artifact=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1 | cut -d' ' -f5)
    found=1
  fi
  echo "fuzz $t: ${seconds} s, ${execs:-?} executions, ${rate:-?} exec/s, corpus ${corp%%/*} units" \
       "(${corp#*/}, ${files} files from ${seeds} seeds), crashes ${crashes}${artifact:+, input saved as $artifact}"
  if [ "$status" -ne 0 ]; then
    grep -E "ERROR: |FUZZ_CHECK|runtime error|SUMMARY" "$log" | head -5
    echo "fuzz $t: full output in $log; reproduce with $bin ${artifact:-INPUT}"
  fi
done
exit "$found"
