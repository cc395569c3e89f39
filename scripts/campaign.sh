#!/usr/bin/env bash
# Explores every built-in scenario under every protocol, one `walletsim
# explore` per cell, and prints a line per cell as it ends, then a table.
#
#   scripts/campaign.sh [--seeds 0..20000] [--replicas 3] [--jobs N]
#       [--scenario S]... [--protocol tcc|2pc|saga]... [--out DIR]
#       [--walletsim PATH] [--set key=value]...
#
# --replicas sets cluster.replicas for every cell (scenarios that run groups
# of three already have it; the others are then run with groups too);
# without it each scenario keeps its own. Failure files go to DIR/S-P/
# (default campaign/). Exit 0 when every cell is clean, 1 when some seed
# failed, 2 on bad input.
set -euo pipefail

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "campaign: $*" >&2
  exit 2
}

root="$(cd "$(dirname "$0")/.." && pwd)"
walletsim="$root/build/walletsim"
seeds=0..20000
replicas=
jobs=$(nproc)
out=campaign
scenarios=()
protocols=()
sets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds=${2:?}; shift 2 ;;
    --replicas) replicas=${2:?}; shift 2 ;;
    --jobs) jobs=${2:?}; shift 2 ;;
    --scenario) scenarios+=("${2:?}"); shift 2 ;;
    --protocol) protocols+=("${2:?}"); shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --walletsim) walletsim=${2:?}; shift 2 ;;
    --set) sets+=(--set "${2:?}"); shift 2 ;;
    -h|--help) usage ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[ -x "$walletsim" ] || die "no walletsim at $walletsim (build it first: scripts/build.sh)"
[[ "$seeds" =~ ^[0-9]+\.\.[0-9]+$ ]] || die "--seeds '$seeds' is not A..B"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs '$jobs' is not a positive number"
if [ -n "$replicas" ]; then
  [[ "$replicas" =~ ^(1|3|5)$ ]] || die "--replicas '$replicas' is not 1, 3 or 5"
  sets+=(--set "cluster.replicas=$replicas")
fi
[ ${#scenarios[@]} -gt 0 ] || mapfile -t scenarios < <("$walletsim" scenarios | awk '{print $1}')
[ ${#protocols[@]} -gt 0 ] || protocols=(tcc 2pc saga)
for p in "${protocols[@]}"; do
  [[ "$p" =~ ^(tcc|2pc|saga)$ ]] || die "--protocol '$p' is not tcc, 2pc or saga"
done
mkdir -p "$out"

rows=()
failed=0
for s in "${scenarios[@]}"; do
  for p in "${protocols[@]}"; do
    set +e
    text=$("$walletsim" explore --scenario "$s" --seeds "$seeds" --jobs "$jobs" --set "protocol.kind=$p" \
      "${sets[@]}" --out "$out/$s-$p" 2>&1)
    rc=$?
    set -e
    [ $rc -le 1 ] || die "$s $p: walletsim explore exited $rc: $(echo "$text" | tail -1)"
    # "  runs N, failures F, T s, X seeds/s, Y events/s"
    line=$(echo "$text" | grep -E '^ *runs [0-9]+, failures [0-9]+' | tail -1)
    [ -n "$line" ] || die "$s $p: no summary line from walletsim explore"
    runs=$(echo "$line" | sed -E 's/^ *runs ([0-9]+),.*/\1/')
    fails=$(echo "$line" | sed -E 's/.*failures ([0-9]+),.*/\1/')
    rate=$(echo "$line" | sed -E 's/.* ([0-9]+) seeds\/s.*/\1/')
    [ "$fails" = 0 ] || failed=1
    echo "$(date +%T) $s $p: $runs runs, $fails failed, $rate seeds/s"
    rows+=("| $s | $p | $runs | $fails | $rate |")
  done
done

echo
echo "seeds $seeds${replicas:+, cluster.replicas=$replicas}"
echo "| scenario | protocol | runs | failures | seeds/s |"
echo "|---|---|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
exit $failed
