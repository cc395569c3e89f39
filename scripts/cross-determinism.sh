#!/usr/bin/env bash
# Shows that the trace hash depends only on seed and scenario, not on the
# compiler or the optimisation level: builds walletsim with g++ -O2 (or takes
# a g++ build given by GCC_BUILD) and with clang++ -O0, runs the same seeds of
# every built-in scenario with both, and compares the per-seed trace hashes.
# Usage: scripts/cross-determinism.sh [SEEDS_PER_SCENARIO]   (default 300)
#   GCC_BUILD=DIR: use the g++ build already in DIR (say, the Release build
#   at -O3) instead of building build-gcc-O2.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-300}"
gcc_dir="${GCC_BUILD:-build-gcc-O2}"
if [ -z "${GCC_BUILD:-}" ]; then
  CXX=g++ scripts/build.sh build-gcc-O2 -DCMAKE_CXX_FLAGS_RELEASE=-O2 -DWS_TESTS=OFF -DWS_BENCH=OFF
elif ! cat "$gcc_dir"/CMakeFiles/*/CMakeCXXCompiler.cmake 2>/dev/null | grep -q 'CMAKE_CXX_COMPILER_ID "GNU"' ||
     [ ! -x "$gcc_dir/walletsim" ]; then
  echo "cross-determinism: GCC_BUILD=$gcc_dir is not a built g++ tree (no walletsim, or not g++)" >&2
  exit 2
fi
CXX=clang++ scripts/build.sh build-clang-O0 -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DWS_TESTS=OFF -DWS_BENCH=OFF
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
total=0
for s in $("$gcc_dir/walletsim" scenarios | awk '{print $1}'); do
  for b in gcc clang-O0; do
    bin="build-$b/walletsim"
    [ "$b" = gcc ] && bin="$gcc_dir/walletsim"
    # Exit status 1 (a violation) is fine here; only the hashes matter.
    "$bin" explore --scenario "$s" --seeds "0..$n" --jobs 2 --determinism-every 1 \
      --out "$out/failures-$b" --hashes "$out/$s-$b.txt" >/dev/null || [ $? -eq 1 ]
  done
  if ! diff -q "$out/$s-gcc.txt" "$out/$s-clang-O0.txt" >/dev/null; then
    echo "cross-determinism: MISMATCH in scenario $s (first differences, seed hash):"
    diff "$out/$s-gcc.txt" "$out/$s-clang-O0.txt" | head -6
    exit 1
  fi
  total=$((total + n))
  echo "cross-determinism: $s: $n seeds, identical trace hashes (g++ $gcc_dir vs clang++ -O0)"
done
echo "cross-determinism: $total runs, 0 mismatches"
