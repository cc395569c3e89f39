#!/usr/bin/env bash
# Configures and builds walletsim. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
#   BUILD_DIR defaults to build (Release). Examples:
#   scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DWS_SANITIZE=ON
#   CXX=clang++ scripts/build.sh build-clang -DCMAKE_BUILD_TYPE=Debug
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
shift || true
gen=()
if command -v ninja >/dev/null; then gen=(-G Ninja); fi
cmake -S . -B "$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
