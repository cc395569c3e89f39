#!/usr/bin/env bash
# A campaign on a real, one-node Slurm cluster on this machine: installs
# Debian's slurm-wlm and munge if missing, starts munged, slurmctld and slurmd
# with every file in a temporary directory (nothing under /etc is used),
# runs scripts/slurm-explore.sh over `smoke` seeds 0..4000 in 8 array tasks,
# and checks that the merged report equals one local `walletsim explore` over
# the same seeds: the same runs, the same failures, the same trace digest.
# Then the same with a Try order that fails, so failures are compared too.
# The daemons are stopped on exit. Needs root (apt-get, daemons as root).
#
#   bash tests/slurm_test.sh [path/to/walletsim]
set -euo pipefail
cd "$(dirname "$0")/.."
WS=${1:-build/walletsim}
WS=$(cd "$(dirname "$WS")" && pwd)/$(basename "$WS")
[ -x "$WS" ] || { echo "slurm_test: '$WS' is not an executable" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "slurm_test: needs root (installs packages, runs slurmd)" >&2; exit 2; }
t0=$(date +%s)

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null ||
  ! command -v munged >/dev/null; then
  echo "== installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get install -y -q slurm-wlm munge >/dev/null ||
    { timeout 300 apt-get update -q >/dev/null && timeout 600 apt-get install -y -q slurm-wlm munge >/dev/null; }
fi

# munged checks that every directory above its socket is searchable by all.
T=$(mktemp -d /tmp/walletsim_slurm.XXXXXX)
chmod 755 "$T"
mkdir -p "$T/key" "$T/run" "$T/state" "$T/spool" "$T/log" "$T/campaign"
chmod 700 "$T/key"
chmod 755 "$T/run"
pids=()
cleanup() {
  local rc=$?
  # Only the daemons this script started, by their process ids.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ]; then
    echo "--- slurmctld log (last 20 lines)" >&2
    tail -n 20 "$T/log/slurmctld.log" >&2 2>/dev/null || true
    echo "--- slurmd log (last 20 lines)" >&2
    tail -n 20 "$T/log/slurmd.log" >&2 2>/dev/null || true
  fi
  rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports of this test's cluster, away from Slurm's defaults (6817/6818) so a
# real installation on the machine is not disturbed.
ctld_port=${WS_SLURM_CTLD_PORT:-16817}
slurmd_port=${WS_SLURM_SLURMD_PORT:-16818}
cpus=$(nproc)
mem_mib=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)

mungekey --create --keyfile="$T/key/munge.key" 2>/dev/null || dd if=/dev/urandom of="$T/key/munge.key" bs=1 count=1024 2>/dev/null
chmod 400 "$T/key/munge.key"
munged -F --key-file="$T/key/munge.key" --socket="$T/run/munge.sock" --log-file="$T/log/munged.log" \
  --pid-file="$T/run/munged.pid" --seed-file="$T/key/munged.seed" >"$T/log/munged.out" 2>&1 &
pids+=($!)

cat >"$T/slurm.conf" <<EOF
ClusterName=walletsim-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/run/munge.sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/run/slurmctld.pid
SlurmdPidFile=$T/run/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mib State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$T/slurm.conf

for _ in $(seq 50); do [ -S "$T/run/munge.sock" ] && break; sleep 0.1; done
[ -S "$T/run/munge.sock" ] || { cat "$T/log/munged.out" >&2; echo "slurm_test: munged did not start" >&2; exit 1; }
slurmctld -D -f "$T/slurm.conf" >"$T/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$T/slurm.conf" >"$T/log/slurmd.out" 2>&1 &
pids+=($!)
up=0
for _ in $(seq 60); do
  if scontrol ping 2>/dev/null | grep -q 'is UP' && sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    up=1
    break
  fi
  sleep 0.5
done
[ "$up" -eq 1 ] || { echo "slurm_test: the one-node cluster did not come up" >&2; sinfo >&2 || true; exit 1; }
echo "== one-node Slurm cluster up: $cpus CPU(s), $mem_mib MiB ($(($(date +%s) - t0)) s)"

# compare_json SINGLE MERGED: the same runs, failures and trace digest.
compare_json() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
single, merged = (json.load(open(p)) for p in sys.argv[1:3])
def failures(d):
    return [(f["seed"], f["property"], f["message"], f["trace_hash"]) for f in d["failed_seeds"]]
for key in ("scenario", "scenario_digest", "build", "first_seed", "last_seed", "runs", "failures", "trace_digest"):
    if single[key] != merged[key]:
        sys.exit("%s differs: single explore %r, merged %r" % (key, single[key], merged[key]))
if failures(single) != failures(merged):
    sys.exit("the failed seeds differ")
if merged["missing"] or len(merged["shards"]) != 8:
    sys.exit("shards: %d, missing: %r" % (len(merged["shards"]), merged["missing"]))
print("  %-14s runs %d, failures %d, trace digest %s over %d seeds, %.0f seeds/s" % (
    "single explore", single["runs"], single["failures"], single["trace_digest"]["sum"],
    single["trace_digest"]["count"], single["seeds_per_second"]))
print("  %-14s runs %d, failures %d, trace digest %s over %d seeds, %.0f seeds/s over %.1f s (%d shards)" % (
    "merged", merged["runs"], merged["failures"], merged["trace_digest"]["sum"], merged["trace_digest"]["count"],
    merged["seeds_per_second"], merged["span_seconds"], len(merged["shards"])))
EOF
}

# campaign NAME EXPECTED_RC SET...: 8 tasks over smoke 0..4000 on Slurm, then
# one local explore over the same seeds, compared.
campaign() {
  local name=$1 want=$2
  shift 2
  local sets=()
  for s in "$@"; do sets+=(--set "$s"); done
  local rc=0
  timeout 240 scripts/slurm-explore.sh --walletsim "$WS" --scenario smoke --seeds 0..4000 --tasks 8 \
    --out "$T/campaign/$name" "${sets[@]}" >"$T/campaign/$name.out" 2>&1 || rc=$?
  if [ "$rc" -ne "$want" ]; then
    cat "$T/campaign/$name.out" >&2
    echo "slurm_test: campaign $name exited $rc, expected $want" >&2
    exit 1
  fi
  rc=0
  "$WS" explore --scenario smoke --seeds 0..4000 --jobs "$cpus" --out "$T/campaign/$name-local" "${sets[@]}" \
    --json >"$T/campaign/$name-local.json" || rc=$?
  [ "$rc" -eq "$want" ] || { echo "slurm_test: local explore exited $rc, expected $want" >&2; exit 1; }
  echo "== $name: smoke 0..4000 ${*:-(no --set)}"
  compare_json "$T/campaign/$name-local.json" "$T/campaign/$name/merged.json" ||
    { echo "slurm_test: campaign $name: the merged report differs from one explore" >&2; exit 1; }
}

campaign healthy 0
campaign credit-first 1 protocol.try_order=credit_first

# No controller: the script says so and exits 2.
rc=0
SLURM_CONF=$T/no-such.conf scripts/slurm-explore.sh --walletsim "$WS" --seeds 0..10 --tasks 2 --out "$T/campaign/none" \
  >"$T/campaign/none.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q "Slurm" "$T/campaign/none.out" ||
  { cat "$T/campaign/none.out" >&2; echo "slurm_test: without a controller: exit $rc, expected 2" >&2; exit 1; }
echo "== without a reachable controller: exit 2, '$(head -n 1 "$T/campaign/none.out")'"
echo "slurm_test: passed in $(($(date +%s) - t0)) s"
