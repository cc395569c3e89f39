#!/usr/bin/env bash
# End-to-end checks of the walletsim command line (DESIGN.md section 8):
# exit codes (0 ok, 1 property violated, 2 bad input), error messages that
# name the problem, JSON output, failure files and their replay, traces.
#
#   bash tests/cli_test.sh /path/to/walletsim
#
# Prints each check; stops with a non-zero status at the first failure.
set -u

if [ $# -ne 1 ]; then
  echo "usage: bash $0 /path/to/walletsim" >&2
  exit 2
fi
WS=$1
if [ ! -x "$WS" ]; then
  echo "cli_test: '$WS' is not an executable" >&2
  exit 2
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "cli_test: python3 is needed to parse JSON output" >&2
  exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/walletsim_cli.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT

CHECKS=0
OUT="$WORK/stdout"
ERR="$WORK/stderr"
RC=0

fail() {
  echo "FAIL: $*" >&2
  if [ -s "$OUT" ]; then
    echo "--- stdout (first 20 lines) ---" >&2
    head -n 20 "$OUT" >&2
  fi
  if [ -s "$ERR" ]; then
    echo "--- stderr (first 20 lines) ---" >&2
    head -n 20 "$ERR" >&2
  fi
  exit 1
}

ok() {
  CHECKS=$((CHECKS + 1))
  echo "ok   $*"
}

# run_ws ARGS...: runs walletsim, stdout -> $OUT, stderr -> $ERR, status -> $RC.
run_ws() {
  "$WS" "$@" >"$OUT" 2>"$ERR"
  RC=$?
}

# expect_rc WANT DESCRIPTION ARGS...
expect_rc() {
  local want=$1 what=$2
  shift 2
  run_ws "$@"
  [ "$RC" -eq "$want" ] || fail "$what: 'walletsim $*' exited $RC, expected $want"
}

# expect_bad DESCRIPTION NEEDLE ARGS...: exit 2 and stderr contains NEEDLE.
expect_bad() {
  local what=$1 needle=$2
  shift 2
  expect_rc 2 "$what" "$@"
  grep -qF -- "$needle" "$ERR" || fail "$what: 'walletsim $*' exited 2 but stderr does not mention '$needle'"
  ok "$what (exit 2, message names '$needle')"
}

# json_get FILE KEY: prints a top-level value of the JSON object in FILE.
json_get() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = d[sys.argv[2]]
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1" "$2"
}

# --- scenarios -------------------------------------------------------------------
expect_rc 0 "scenarios" scenarios
n=$(grep -c . "$OUT")
[ "$n" -eq 17 ] || fail "scenarios: listed $n lines, expected 17"
for name in chaos classic-raft coordinator-crash hot-accounts leader-churn leader-partition lossy-network overload partition replica-crash shard-crash smoke swarm; do
  grep -q "^${name}[[:space:]]" "$OUT" || fail "scenarios: '$name' is not listed"
done
ok "scenarios lists 17 built-ins, smoke among them"

# --- run --json: deterministic, complete ------------------------------------------
expect_rc 0 "run --seed 42 --json" run --seed 42 --json
cp "$OUT" "$WORK/run1.json"
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$WORK/run1.json" ||
  fail "run --json: output is not one JSON object"
for key in seed scenario ok violations trace_hash committed aborted events sim_time_ns; do
  python3 -c 'import json, sys; sys.exit(0 if sys.argv[2] in json.load(open(sys.argv[1])) else 1)' \
    "$WORK/run1.json" "$key" || fail "run --json: output has no key '$key'"
done
[ "$(json_get "$WORK/run1.json" seed)" = 42 ] || fail "run --json: seed is not 42"
[ "$(json_get "$WORK/run1.json" scenario)" = smoke ] || fail "run --json: scenario is not smoke"
[ "$(json_get "$WORK/run1.json" ok)" = true ] || fail "run --json: ok is not true"
[ "$(json_get "$WORK/run1.json" violations)" = "[]" ] || fail "run --json: violations is not empty"
hash1=$(json_get "$WORK/run1.json" trace_hash)
echo "$hash1" | grep -qE '^[0-9a-f]{16}$' || fail "run --json: trace_hash '$hash1' is not 16 hex digits"
ok "run --seed 42 --json exits 0 with every key"

expect_rc 0 "run --seed 42 --json (again)" run --seed 42 --json
hash2=$(json_get "$OUT" trace_hash)
[ "$hash1" = "$hash2" ] || fail "run --seed 42 twice gave trace hashes $hash1 and $hash2"
ok "run --seed 42 twice gives the same trace hash ($hash1)"

expect_rc 0 "run --seed 43 --json" run --seed 43 --json
[ "$(json_get "$OUT" trace_hash)" != "$hash1" ] || fail "seeds 42 and 43 gave the same trace hash"
ok "another seed gives another trace hash"

expect_rc 0 "run --seed 42 (text)" run --seed 42
grep -qF "$hash1" "$OUT" || fail "run text output does not show the trace hash $hash1"
ok "run text output shows the same trace hash"

# --- a violated property ------------------------------------------------------------
expect_rc 1 "run with credit_first" run --seed 7 --set protocol.try_order=credit_first --json
[ "$(json_get "$OUT" ok)" = false ] || fail "credit_first run: ok is not false"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if d["violations"] and d["violations"][0]["property"] else 1)' "$OUT" ||
  fail "credit_first run: no violation listed"
ok "run --set protocol.try_order=credit_first exits 1 and lists the violation"

# --- bad input: exit 2 and a message naming the problem ------------------------------
expect_bad "run --set nope.x=1" "nope.x" run --seed 1 --set nope.x=1
expect_bad "run --set cluster.partitions=-1" "cluster.partitions" run --seed 1 --set cluster.partitions=-1
expect_bad "run --set cluster.partitions=abc" "cluster.partitions" run --seed 1 --set cluster.partitions=abc
expect_bad "run --set protocol.try_order=sideways" "protocol.try_order" run --seed 1 --set protocol.try_order=sideways
expect_bad "run --set protocol.same_partition=nearby" "protocol.same_partition" run --seed 1 --set protocol.same_partition=nearby
expect_bad "run --set without '='" "key.path=value" run --seed 1 --set cluster.partitions
expect_bad "run --scenario no-such" "no-such" run --seed 1 --scenario no-such
grep -qF "smoke" "$ERR" || fail "run --scenario no-such: the message does not list the built-ins"
echo '{"name": "x", "cluster": {"partitionz": 3}}' >"$WORK/bad_scenario.json"
expect_bad "run --scenario FILE with an unknown key" "cluster.partitionz" run --seed 1 --scenario "$WORK/bad_scenario.json"
expect_bad "run without --seed" "seed" run
expect_bad "explore --seeds 5..1" "5..1" explore --seeds 5..1 --out "$WORK/unused"
expect_bad "explore --seeds abc" "abc" explore --seeds abc --out "$WORK/unused"
expect_bad "explore --seeds 3..3" "3..3" explore --seeds 3..3 --out "$WORK/unused"
expect_bad "explore --set cluster.nope=1" "cluster.nope" explore --seeds 0..2 --set cluster.nope=1 --out "$WORK/unused"
expect_bad "replay of a missing file" "$WORK/missing.json" replay "$WORK/missing.json"

# --- explore writes failure files; replay reproduces them ------------------------------
FDIR="$WORK/failures"
expect_rc 1 "explore credit_first" explore --seeds 0..40 --set protocol.try_order=credit_first --out "$FDIR"
nfiles=$(find "$FDIR" -name '*.json' | wc -l)
[ "$nfiles" -gt 0 ] || fail "explore credit_first exited 1 but wrote no failure file to $FDIR"
ok "explore --seeds 0..40 with credit_first exits 1 and writes $nfiles failure file(s)"

FF=$(find "$FDIR" -name '*.json' | sort | head -n 1)
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k in ("format", "version", "build", "seed", "scenario", "workload", "fault_plan", "violation", "trace_hash", "checksum"):
    assert k in d, k' "$FF" || fail "failure file $FF lacks a key"
ok "failure file has every part"

expect_rc 1 "replay of a failure file" replay "$FF"
grep -q "REPRODUCED" "$OUT" || fail "replay $FF: output does not say REPRODUCED"
grep -q "NOT REPRODUCED\|DIFFERENT" "$OUT" && fail "replay $FF: the failure was not reproduced"
ok "replay of a failure file exits 1 and prints REPRODUCED"

expect_rc 1 "replay --json" replay "$FF" --json
[ "$(json_get "$OUT" reproduced)" = true ] || fail "replay --json: reproduced is not true"
[ "$(json_get "$OUT" trace_hash)" = "$(json_get "$FF" trace_hash)" ] ||
  fail "replay --json: trace hash differs from the file's"
ok "replay --json reports the same trace hash as the file"

# A truncated failure file.
head -c 200 "$FF" >"$WORK/truncated.json"
expect_bad "replay of a truncated failure file" "not valid JSON" replay "$WORK/truncated.json"

# One value edited, checksum left as it was.
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["seed"] = d["seed"] + 1
json.dump(d, open(sys.argv[2], "w"), indent=1)' "$FF" "$WORK/edited.json" || fail "could not write edited.json"
expect_bad "replay of an edited failure file" "checksum" replay "$WORK/edited.json"

# --- explore on the healthy protocol --------------------------------------------------
expect_rc 0 "explore --seeds 0..50 on smoke" explore --seeds 0..50 --out "$WORK/none"
if [ -d "$WORK/none" ] && [ -n "$(find "$WORK/none" -name '*.json')" ]; then
  fail "explore on smoke exited 0 but wrote failure files"
fi
ok "explore --seeds 0..50 on smoke exits 0 and writes no failure file"

# --- traces ------------------------------------------------------------------------
expect_rc 0 "run --trace" run --seed 5 --trace "$WORK/trace.jsonl"
[ -s "$WORK/trace.jsonl" ] || fail "run --trace wrote nothing"
python3 -c 'import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no lines"
for i, line in enumerate(lines):
    try:
        json.loads(line)
    except ValueError as e:
        sys.exit("line %d is not JSON: %s" % (i + 1, e))
first = json.loads(lines[0])
if not isinstance(first, dict) or "t" not in first:
    sys.exit("the first line has no \"t\"")' "$WORK/trace.jsonl" || fail "run --trace: not JSON lines"
ok "run --trace writes JSON lines, the first with \"t\" ($(wc -l <"$WORK/trace.jsonl") lines)"

expect_rc 1 "replay --trace" replay "$FF" --trace "$WORK/replay_trace.jsonl"
python3 -c 'import json, sys
for line in open(sys.argv[1]):
    json.loads(line)' "$WORK/replay_trace.jsonl" || fail "replay --trace: not JSON lines"
[ -s "$WORK/replay_trace.jsonl" ] || fail "replay --trace wrote nothing"
ok "replay --trace writes JSON lines"

# --- coverage points ----------------------------------------------------------------
expect_rc 0 "explore --require-coverage of points smoke reaches" explore --seeds 0..20 --jobs 2 --out "$WORK/cov" \
  --require-coverage try_repeated,duplicate_sent,client_resent --coverage
grep -q "coverage: .* points reached" "$OUT" || fail "explore does not print its coverage line"
grep -q "    try_repeated  *20 runs" "$OUT" || fail "explore --coverage does not list try_repeated in all 20 runs"
ok "explore prints coverage and its table"
expect_rc 1 "explore --require-coverage overload_refused (smoke has no admission control)" explore --seeds 0..20 \
  --jobs 2 --out "$WORK/cov" --require-coverage overload_refused
grep -q "never reached in 20 runs: overload_refused" "$ERR" || fail "--require-coverage does not name the point missed"
ok "a required coverage point never reached fails explore and is named"
expect_bad "explore --require-coverage nope" "unknown coverage point 'nope'" explore --seeds 0..2 --require-coverage nope

# --- merge: explore --json reports of shards ------------------------------------------
MD="$WORK/merge"
mkdir -p "$MD"
CF="--set protocol.try_order=credit_first"
# shellcheck disable=SC2086  # $CF splits on purpose
expect_rc 1 "explore 0..60 --json" explore --seeds 0..60 $CF --jobs 2 --out "$MD/f" --json
cp "$OUT" "$MD/whole.json"
for r in 0..25 25..40 40..60; do
  # shellcheck disable=SC2086
  run_ws explore --seeds "$r" $CF --jobs 2 --out "$MD/f" --json
  [ "$RC" -le 1 ] || fail "explore --seeds $r --json exited $RC"
  cp "$OUT" "$MD/shard-$r.json"
done
expect_rc 1 "merge of three shards out of order" merge --json "$MD/shard-40..60.json" "$MD/shard-0..25.json" "$MD/shard-25..40.json"
python3 -c 'import json, sys
whole, merged = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for k in ("runs", "failures", "trace_digest", "scenario_digest", "first_seed", "last_seed", "coverage"):
    assert whole[k] == merged[k], (k, whole[k], merged[k])
key = lambda f: (f["seed"], f["property"], f["trace_hash"])
assert [key(f) for f in whole["failed_seeds"]] == [key(f) for f in merged["failed_seeds"]]
assert all(f["file"] for f in merged["failed_seeds"])
assert [s["first_seed"] for s in merged["shards"]] == [0, 25, 40] and merged["missing"] == []' "$MD/whole.json" "$OUT" ||
  fail "merge of shards out of order differs from one explore over 0..60"
ok "merge of shards 40..60, 0..25, 25..40 equals one explore over 0..60 (runs, failures, trace digest, coverage)"
expect_rc 1 "merge (text)" merge "$MD/shard-0..25.json" "$MD/shard-25..40.json" "$MD/shard-40..60.json"
grep -q "runs 60, failures" "$OUT" || fail "merge text output does not show 'runs 60'"
ok "merge text output shows the runs and failures"

# shellcheck disable=SC2086
run_ws explore --seeds 20..30 $CF --out "$MD/f" --json
cp "$OUT" "$MD/shard-20..30.json"
expect_bad "merge of overlapping ranges" "$MD/shard-20..30.json" merge "$MD/shard-0..25.json" "$MD/shard-20..30.json"
grep -qF "20..25" "$ERR" || fail "merge of overlapping ranges does not name the seeds in both"
expect_bad "merge of the same shard twice" "duplicate shard" merge "$MD/shard-0..25.json" "$MD/shard-0..25.json"
run_ws explore --seeds 25..40 --out "$MD/f" --json
cp "$OUT" "$MD/other-scenario.json"
expect_bad "merge of shards of different scenarios" "$MD/other-scenario.json" merge "$MD/shard-0..25.json" "$MD/other-scenario.json"
head -c 300 "$MD/shard-0..25.json" >"$MD/truncated.json"
expect_bad "merge of a truncated report" "$MD/truncated.json" merge "$MD/truncated.json" "$MD/shard-25..40.json"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["runs"] += 1
json.dump(d, open(sys.argv[2], "w"))' "$MD/shard-0..25.json" "$MD/edited.json" || fail "could not write edited.json"
expect_bad "merge of an edited report" "checksum" merge "$MD/edited.json" "$MD/shard-25..40.json"
grep -qF "$MD/edited.json" "$ERR" || fail "merge of an edited report does not name the file"
expect_bad "merge of a failure file" "format" merge "$FF"
expect_bad "merge with a shard missing" "missing seeds 25..40" merge "$MD/shard-0..25.json" "$MD/shard-40..60.json"
grep -qF "missing seeds 25..40" "$OUT" || fail "merge with a shard missing does not report it on stdout"
expect_rc 1 "merge --allow-gaps" merge --allow-gaps "$MD/shard-0..25.json" "$MD/shard-40..60.json"
ok "merge --allow-gaps merges around the missing seeds (exit 1: failures)"
expect_bad "merge --seeds beyond the shards" "missing seeds 60..100" merge --seeds 0..100 "$MD/shard-0..25.json" \
  "$MD/shard-25..40.json" "$MD/shard-40..60.json"
expect_bad "merge of no file" "FILE" merge

# --- help ----------------------------------------------------------------------------
for args in "--help" "run --help" "explore --help" "replay --help" "scenarios --help" "merge --help"; do
  # shellcheck disable=SC2086  # split on purpose
  expect_rc 0 "$args" $args
  grep -qi "usage" "$OUT" || fail "'walletsim $args' printed no usage"
  ok "walletsim $args exits 0"
done

expect_bad "no subcommand" "subcommand"
# CLI11 reports an unknown subcommand as a missing one ("A subcommand is required").
expect_bad "unknown subcommand" "subcommand" frobnicate
expect_bad "run --seed abc" "seed" run --seed abc

# --- tps and sizing ----------------------------------------------------------------
expect_bad "tps --rate abc" "--rate" tps --rate abc
expect_bad "tps --duration 0" "--duration" tps --rate 1000 --duration 0
expect_bad "tps with a bad scenario key" "cluster.partitionz" tps --rate 1000 --set cluster.partitionz=3
expect_bad "tps --accounts 1" "cluster.accounts" tps --rate 1000 --accounts 1 --duration 0.01 --svg "$WORK/never.svg"
[ ! -e "$WORK/never.svg" ] || fail "tps with bad input still created its --svg file"
ok "tps with bad input leaves no --svg file behind"
expect_bad "tps --svg into a missing directory" "--svg" tps --rate 1000 --duration 0.01 --svg "$WORK/no/such/dir/t.svg"
expect_rc 0 "tps small sweep" tps --rate 1000..4000x2 --duration 0.1 --partitions 4 --coordinators 2 --capacity 100000 --svg "$WORK/t.svg" --json
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
pts = d["points"]
assert [p["offered_tps"] for p in pts] == [1000, 2000, 4000], pts
assert all(p["ok"] and p["achieved_tps"] > 0.95 * p["offered_tps"] for p in pts), pts' "$OUT" || fail "tps --json: unexpected points"
grep -q "<svg" "$WORK/t.svg" && grep -q "polyline" "$WORK/t.svg" || fail "tps --svg wrote no chart"
ok "tps sweep: three points, JSON and an SVG chart"
# With replica groups: walletd's Raft timers and a warm-up before the load,
# said in the header; every transfer still commits at a light load.
expect_rc 0 "tps with groups of three" tps --rate 2000 --duration 0.1 --partitions 6 --coordinators 2 --capacity 10000 \
  --set cluster.replicas=3
grep -q "replica groups of 3: .*600-1200 ms, heartbeat 100 ms (walletd's); the load starts after a warm-up of 3600 ms" "$OUT" ||
  fail "tps with groups: no replica line in the header"
awk '$1 == 2000 { exit !($3 == 200 && $NF == "yes") }' "$OUT" || fail "tps with groups: not every transfer committed"
expect_rc 0 "tps with groups and the scenario's timers" tps --rate 2000 --duration 0.1 --partitions 6 --coordinators 2 \
  --capacity 10000 --set cluster.replicas=3 --set replication.heartbeat_ms=5
grep -q "elections 15-30 ms, heartbeat 5 ms (the scenario's); the load starts after a warm-up of 90 ms" "$OUT" ||
  fail "tps with groups: --set replication.* did not keep the scenario's timers"
ok "tps with replica groups: walletd's timers by default, the scenario's on request"
expect_bad "sizing --op-times 1" "--op-times" sizing --op-times 1
expect_bad "sizing with a bad scenario key" "nope" sizing --set nope.key=1

# --- availability --------------------------------------------------------------------
expect_bad "availability with an unknown key" "availability.nope" availability --set availability.nope=1
expect_bad "availability with a bad rate" "availability.disk_afr" availability --set availability.disk_afr=2
expect_bad "availability --replicas 2" "--replicas" availability --replicas 2
expect_rc 0 "availability, a short stretch" availability --json --set availability.years=0.05 \
  --set availability.calibration_runs=4 --set availability.samples_per_second=0.1 --svg "$WORK/a.svg"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
rows = {r["replicas"]: r for r in d["rows"]}
assert sorted(rows) == [1, 3, 5], rows.keys()
assert all(r["transfers_sampled"] > 0 for r in rows.values()), rows
assert rows[3]["money_lost"] == 0 and rows[5]["money_lost"] == 0, rows
assert len(d["mttr_sweep"]) == 15, len(d["mttr_sweep"])
assert all(f["violations"] == 0 for f in d["failover"]), d["failover"]' "$OUT" || fail "availability --json: unexpected rows"
grep -q "99.99% target" "$WORK/a.svg" && grep -q "polyline" "$WORK/a.svg" || fail "availability --svg wrote no chart"
ok "availability: rows for R = 1, 3, 5, a sweep, JSON and an SVG chart"

echo "all $CHECKS checks passed"
exit 0
