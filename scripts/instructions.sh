#!/usr/bin/env bash
# Instructions per item of the engine benchmarks, counted by callgrind: a
# figure that does not move with the machine's load or its neighbours, for
# comparing two builds of the engine on a noisy machine (the benchmarks'
# timings are still what the targets are stated in).
#
# Each benchmark has two fixed-count registrations in ws_bench (20,000 and
# 40,000 iterations); both are run under valgrind --tool=callgrind and the
# difference in instructions is divided by the 20,000 items between them,
# so setup and the benchmark library's own work cancel out.
#
# Usage: scripts/instructions.sh [BUILD_DIR] [BENCHMARK ...]
#   BUILD_DIR defaults to build; BENCHMARK defaults to the four engine
#   benchmarks: BM_PartitionTryConfirm BM_PartitionTryConfirmForgetting
#   BM_CoordinatorTransfer BM_CoordinatorTransferForgetting.
# Installs valgrind (apt-get, as root) if it is missing.
# Exit codes: 0 ok, 2 bad input (unknown benchmark, no ws_bench).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift || true
bench="$build/bench/ws_bench"
[ -x "$bench" ] || { echo "instructions: $bench not found; build first (scripts/build.sh $build)" >&2; exit 2; }
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=(BM_PartitionTryConfirm BM_PartitionTryConfirmForgetting BM_CoordinatorTransfer BM_CoordinatorTransferForgetting)
fi
listed=$("$bench" --benchmark_list_tests=true)
for n in "${names[@]}"; do
  if ! grep -qx "$n/iterations:20000" <<<"$listed"; then
    echo "instructions: no fixed-count registration of '$n' in $bench (one of: $(grep -o '^[A-Za-z_]*/iterations:20000' <<<"$listed" | cut -d/ -f1 | paste -sd' ' -))" >&2
    exit 2
  fi
done
if ! command -v valgrind >/dev/null; then
  [ "$(id -u)" -eq 0 ] || { echo "instructions: valgrind is missing; run as root to install it" >&2; exit 2; }
  echo "instructions: installing valgrind" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
fi
count() {  # total instructions of one fixed-count run
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" --benchmark_filter="^$1\$" 2>&1 >/dev/null |
    sed -n 's/.*refs: *//p' | tr -d ,
}
for n in "${names[@]}"; do
  a=$(count "$n/iterations:20000")
  b=$(count "$n/iterations:40000")
  [ -n "$a" ] && [ -n "$b" ] || { echo "instructions: callgrind printed no count for $n" >&2; exit 1; }
  echo "$n $(( (b - a) / 20000 )) instructions per item"
done
