#!/usr/bin/env bash
# Installs everything walletsim needs to build and test on Debian 12, as root.
# Idempotent: packages already present are not reinstalled, and nothing is
# printed but a one-line summary when there is nothing to do.
set -euo pipefail

# libclang-rt-dev: clang's runtime libraries (libFuzzer, the sanitizers) for
# scripts/fuzz.sh; clang only recommends it. valgrind: scripts/instructions.sh.
packages=(
  build-essential cmake ninja-build g++ clang libclang-rt-dev
  libboost-dev libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev python3 curl valgrind
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
