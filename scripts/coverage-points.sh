#!/usr/bin/env bash
# Coverage of behaviour: explores SEEDS seeds (default 2000) of every
# built-in scenario under tcc, 2pc and saga, and prints how many runs reached
# each named coverage point (core/coverage.h), per scenario and in all. Exits
# 1 if any run violates a property or if any point is reached by no run at
# all: every point names an interleaving the properties depend on.
# Scenarios with replica groups (cluster.replicas 3 or 5 in their file) run
# SEEDS/4 seeds: each of their runs costs about eight of a single-copy run.
# Usage: scripts/coverage-points.sh [SEEDS] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${1:-2000}"
build="${2:-build}"
case "$seeds" in ''|*[!0-9]*) echo "coverage-points.sh: SEEDS must be a whole number, not '$seeds'" >&2; exit 2;; esac
ws="$build/walletsim"
[ -x "$ws" ] || { echo "coverage-points.sh: no $ws (build first: scripts/build.sh $build)" >&2; exit 2; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
failed=0
for s in $("$ws" scenarios | awk '{print $1}'); do
  n="$seeds"
  if grep -Eq '"replicas": *[35]' "scenarios/$s.json" 2>/dev/null; then n=$((seeds / 4)); fi
  for k in tcc 2pc saga; do
    rc=0
    "$ws" explore --scenario "$s" --set protocol.kind="$k" --seeds "0..$n" --jobs "$(nproc)" \
      --out "coverage-points-failures" --max-files 3 --json > "$out/$s.$k.json" || rc=$?
    [ "$rc" -eq 0 ] || failed=1
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("  %-18s %-5s runs %d, failures %d, %.0f seeds/s" % (sys.argv[2], sys.argv[3], r["runs"], r["failures"], r["seeds_per_second"]))' \
      "$out/$s.$k.json" "$s" "$k"
  done
done
python3 - "$out" <<'PY'
import glob, json, os, sys
runs = {}
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    scenario = os.path.basename(f).split(".")[0]
    r = json.load(open(f))
    for point, n in r["coverage"].items():
        runs.setdefault(point, {}).setdefault(scenario, 0)
        runs[point][scenario] += n
scenarios = sorted({s for per in runs.values() for s in per})
points = list(runs)  # in the order the report lists them
print()
print("runs that reached each coverage point (tcc + 2pc + saga):")
print(f"  {'point':<26}" + "".join(f"{s[:12]:>13}" for s in scenarios) + f"{'all':>13}")
never = []
for p in points:
    total = sum(runs[p].values())
    if total == 0:
        never.append(p)
    print(f"  {p:<26}" + "".join(f"{runs[p].get(s, 0):>13}" for s in scenarios) + f"{total:>13}")
if never:
    print("never reached by any run: " + ", ".join(never))
    sys.exit(1)
print(f"every one of the {len(points)} points was reached")
PY
rc=$?
if [ "$failed" -ne 0 ]; then echo "coverage-points.sh: some runs violated a property (files in coverage-points-failures/)"; exit 1; fi
exit "$rc"
