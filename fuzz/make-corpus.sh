#!/usr/bin/env bash
# Rewrites the seed corpora that the programs themselves produce:
#   frame, event_log   fuzz_make_seeds (the real encoders, a small simulated cluster)
#   scenario           the built-in scenario files, and one with --set overrides
#   failure_file       failure files written by `walletsim explore`, and shrunk
# The HTTP bodies in fuzz/corpus/http_body and the manifests in
# fuzz/corpus/manifest are written by hand.
# Usage: fuzz/make-corpus.sh   (needs build/walletsim: scripts/build.sh, and
# build-fuzz: scripts/fuzz.sh configures it)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build-fuzz -j "$(nproc)" --target fuzz_make_seeds
rm -rf fuzz/corpus/frame fuzz/corpus/event_log
build-fuzz/fuzz/fuzz_make_seeds fuzz/corpus

rm -rf fuzz/corpus/scenario
mkdir -p fuzz/corpus/scenario
cp scenarios/*.json fuzz/corpus/scenario/
# fuzz_scenario reads --set overrides after NUL bytes.
printf '{"name":"with-sets","cluster":{"partitions":3}}\0protocol.kind=2pc\0faults.drop_probability=0.2' \
  >fuzz/corpus/scenario/with-sets

rm -rf fuzz/corpus/failure_file
mkdir -p fuzz/corpus/failure_file
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Small workloads keep the seeds small; a wrong Try order makes every run fail.
explore() {
  local name="$1"
  shift
  build/walletsim explore --seeds 0..30 --set workload.transfers=12 --set protocol.try_order=credit_first \
    --out "$tmp/$name" "$@" >/dev/null || [ $? -eq 1 ]
  local first
  first=$(find "$tmp/$name" -name '*.json' | sort | head -1)
  [ -n "$first" ] || { echo "make-corpus: no failure from $name" >&2; exit 1; }
  cp "$first" "fuzz/corpus/failure_file/$name.json"
  build/walletsim shrink "$first" >/dev/null || [ $? -eq 1 ]  # 1: the shrunk file still fails, as it should
  cp "${first%.json}.min.json" "fuzz/corpus/failure_file/$name.min.json"
}
explore smoke --scenario smoke
explore chaos --scenario chaos
explore swarm --scenario swarm
for d in fuzz/corpus/*/; do echo "make-corpus: $d $(find "$d" -type f | wc -l) files"; done
