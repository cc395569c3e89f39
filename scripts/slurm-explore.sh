#!/usr/bin/env bash
# Explores a seed range on a Slurm cluster: one array task per shard of the
# range, each running `walletsim explore --json`; waits for the array to end,
# then merges the shards' reports with `walletsim merge`.
#
#   scripts/slurm-explore.sh --seeds 0..1000000 --tasks 100 --out campaign \
#       [--scenario chaos] [--set key=value]... [--cpus-per-task 1] \
#       [--walletsim build/walletsim] [--sbatch-arg ARG]... [--allow-gaps]
#
# --out must be on a filesystem every node sees (as must the walletsim
# binary): OUT/shards/task-N.json are the reports, OUT/failures the failure
# files, OUT/logs the tasks' stderr, OUT/merged.json and OUT/merged.txt the
# merged report. Exit codes are merge's: 0 no failure, 1 failures found,
# 2 bad input, a missing shard, or no reachable Slurm controller.
set -euo pipefail

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "slurm-explore: $*" >&2
  exit 2
}

scenario=smoke
seeds=
tasks=
out=
cpus=1
walletsim="$(cd "$(dirname "$0")/.." && pwd)/build/walletsim"
sets=()
sbatch_args=()
allow_gaps=()
while [ $# -gt 0 ]; do
  case "$1" in
    --scenario) scenario=${2:?}; shift 2 ;;
    --seeds) seeds=${2:?}; shift 2 ;;
    --tasks) tasks=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --set) sets+=(--set "${2:?}"); shift 2 ;;
    --cpus-per-task) cpus=${2:?}; shift 2 ;;
    --walletsim) walletsim=${2:?}; shift 2 ;;
    --sbatch-arg) sbatch_args+=("${2:?}"); shift 2 ;;
    --allow-gaps) allow_gaps=(--allow-gaps); shift ;;
    -h | --help) usage ;;
    *) die "unknown option '$1' (--help lists them)" ;;
  esac
done
[ -n "$seeds" ] && [ -n "$tasks" ] && [ -n "$out" ] || die "--seeds A..B, --tasks N and --out DIR are required"
[[ "$seeds" =~ ^([0-9]+)\.\.([0-9]+)$ ]] || die "--seeds '$seeds' must be A..B"
first=${BASH_REMATCH[1]}
last=${BASH_REMATCH[2]}
[ "$first" -lt "$last" ] || die "--seeds '$seeds' must have A < B (B excluded)"
[[ "$tasks" =~ ^[1-9][0-9]*$ ]] || die "--tasks '$tasks' must be a positive integer"
[ "$tasks" -le $((last - first)) ] || die "--tasks $tasks is more than the $((last - first)) seeds"
[[ "$cpus" =~ ^[1-9][0-9]*$ ]] || die "--cpus-per-task '$cpus' must be a positive integer"
[ -x "$walletsim" ] || die "'$walletsim' is not an executable (build first, or pass --walletsim)"
walletsim=$(cd "$(dirname "$walletsim")" && pwd)/$(basename "$walletsim")

command -v sbatch >/dev/null && command -v squeue >/dev/null && command -v scontrol >/dev/null ||
  die "sbatch, squeue or scontrol not found: this machine is not a Slurm client"
scontrol ping 2>&1 | grep -q 'is UP' || die "no reachable Slurm controller ('scontrol ping' does not answer UP)"

# Bad scenario names and --set values fail here, before anything is queued.
rc=0
err=$("$walletsim" run --seed "$first" --scenario "$scenario" "${sets[@]}" --json 2>&1 >/dev/null) || rc=$?
[ "$rc" -le 1 ] || die "walletsim refused the scenario: $err"

mkdir -p "$out"
out=$(cd "$out" && pwd)
[ ! -e "$out/shards" ] || die "'$out/shards' exists: use a new --out directory for each campaign"
mkdir -p "$out/shards" "$out/failures" "$out/logs"

# Task i covers [first + i*n/tasks, first + (i+1)*n/tasks): contiguous, no overlap.
n=$((last - first))
: >"$out/ranges"
for ((i = 0; i < tasks; i++)); do
  echo "$((first + i * n / tasks))..$((first + (i + 1) * n / tasks))" >>"$out/ranges"
done

# The task's script; sbatch copies it, so it sees its arguments baked in.
{
  echo '#!/bin/bash'
  echo 'set -u'
  printf 'range=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" %q)\n' "$out/ranges"
  printf 'shard=%q/task-$SLURM_ARRAY_TASK_ID.json\n' "$out/shards"
  printf '%q explore --seeds "$range" --jobs %q --scenario %q' "$walletsim" "$cpus" "$scenario"
  for s in "${sets[@]}"; do printf ' %q' "$s"; done
  printf ' --out %q --json >"$shard.part"\n' "$out/failures"
  # 0: no failure, 1: failures found (both are results); anything else is not.
  echo 'rc=$?'
  echo 'if [ "$rc" -le 1 ]; then mv "$shard.part" "$shard"; exit 0; fi'
  echo 'exit "$rc"'
} >"$out/task.sh"

start=$(date +%s)
job=$(sbatch --parsable --job-name=walletsim-explore --array="0-$((tasks - 1))" --cpus-per-task="$cpus" \
  --output="$out/logs/task-%a.log" "${sbatch_args[@]}" "$out/task.sh") ||
  die "sbatch refused the job array"
job=${job%%;*}
echo "slurm-explore: job $job, $tasks task(s) over seeds $seeds of $scenario; reports in $out/shards" >&2

# Wait until no task of the array is pending or running any more (a job
# that ended long ago is no longer known: "Invalid job id").
failed_polls=0
while :; do
  if q=$(squeue -h -j "$job" -o %i 2>&1); then
    [ -n "$q" ] || break
    failed_polls=0
  elif [[ "$q" == *"Invalid job id"* ]]; then
    break
  else
    failed_polls=$((failed_polls + 1))
    [ "$failed_polls" -lt 60 ] || die "squeue has failed for 2 minutes: $q"
  fi
  sleep 2
done
echo "slurm-explore: job $job ended after $(($(date +%s) - start)) s" >&2

shards=()
for ((i = 0; i < tasks; i++)); do
  if [ -s "$out/shards/task-$i.json" ]; then
    shards+=("$out/shards/task-$i.json")
  else
    echo "slurm-explore: task $i (seeds $(sed -n "$((i + 1))p" "$out/ranges")) wrote no report; see $out/logs/task-$i.log" >&2
  fi
done
[ ${#shards[@]} -gt 0 ] || die "no task wrote a report"
"$walletsim" merge --seeds "$seeds" "${allow_gaps[@]}" --json "${shards[@]}" >"$out/merged.json" 2>/dev/null || true
rc=0
"$walletsim" merge --seeds "$seeds" "${allow_gaps[@]}" "${shards[@]}" >"$out/merged.txt" || rc=$?
cat "$out/merged.txt"
exit "$rc"
