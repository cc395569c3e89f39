#!/usr/bin/env bash
# Line and branch coverage of core/ by explore alone: builds walletsim with
# gcov instrumentation (build-cov), explores SEEDS seeds (default 2000) of
# every built-in scenario under tcc, 2pc and saga, and prints per-file line
# and branch coverage of core/ with gcovr. Then every line of core/ that no
# run executed, each with the reason it is out of explore's reach, taken from
# scripts/coverage-explained.txt (file, a piece of the line's text, reason);
# a missed line with no reason is printed as UNEXPLAINED and makes the script
# exit 1.
# Usage: scripts/coverage.sh [SEEDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${1:-2000}"
case "$seeds" in ''|*[!0-9]*) echo "coverage.sh: SEEDS must be a whole number, not '$seeds'" >&2; exit 2;; esac

if ! command -v gcovr >/dev/null; then
  echo "coverage.sh: installing gcovr"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends gcovr >/dev/null
fi
scripts/install-deps.sh

dir=build-cov
gen=()
if command -v ninja >/dev/null; then gen=(-G Ninja); fi
cmake -S . -B "$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWS_TESTS=OFF -DWS_BENCH=OFF \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g --coverage" -DCMAKE_EXE_LINKER_FLAGS="--coverage" >/dev/null
cmake --build "$dir" -j "$(nproc)" --target walletsim
find "$dir" -name '*.gcda' -delete

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for s in $("$dir/walletsim" scenarios | awk '{print $1}'); do
  for k in tcc 2pc saga; do
    printf 'explore %-18s %-5s ' "$s" "$k"
    "$dir/walletsim" explore --scenario "$s" --set protocol.kind="$k" --seeds "0..$seeds" --out "$out/f" \
      --max-files 1 | grep "  runs "
  done
done

echo
echo "== line and branch coverage of core/ by explore alone ($seeds seeds of every scenario and protocol)"
gcovr -r . --object-directory "$dir" -f 'core/' --txt "$out/lines.txt" --json "$out/cov.json" >/dev/null
gcovr -r . --object-directory "$dir" -f 'core/' -b --txt "$out/branches.txt" >/dev/null
cat "$out/lines.txt"
cat "$out/branches.txt"

echo "== lines of core/ never executed by explore, and why"
python3 - "$out/cov.json" scripts/coverage-explained.txt <<'PY'
import json, sys
cov = json.load(open(sys.argv[1]))
reasons = []
for line in open(sys.argv[2]):
    line = line.rstrip("\n")
    if not line.strip() or line.startswith("#"):
        continue
    path, text, why = (part.strip() for part in line.split("|", 2))
    anchor, _, text = text.rpartition(">>")
    reasons.append((path, anchor.strip(), text.strip(), why))

def explained(path, src, n, text):
    for p, anchor, t, why in reasons:
        if p != path or t not in text:
            continue
        if not anchor or any(anchor in src[i] for i in range(max(0, n - 13), n - 1)):
            return why
    return None

unexplained = 0
missed = 0
for f in sorted(cov["files"], key=lambda f: f["file"]):
    src = open(f["file"]).read().split("\n")
    for l in f["lines"]:
        if l["count"] != 0 or l.get("gcovr/noncode"):
            continue
        missed += 1
        text = src[l["line_number"] - 1].strip()
        why = explained(f["file"], src, l["line_number"], text)
        if why is None:
            unexplained += 1
            why = "UNEXPLAINED"
        print(f"{f['file']}:{l['line_number']}: {text[:70]:70}  {why}")
print(f"{missed} line(s) of core/ not executed by explore; {unexplained} without a reason")
sys.exit(1 if unexplained else 0)
PY
