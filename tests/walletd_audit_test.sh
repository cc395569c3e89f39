#!/usr/bin/env bash
# walletd's compaction and `walletd audit` end to end: a cluster whose logs
# are cut into small segments runs a load; the segments behind snapshots
# land in DATA/archive; the offline audit verifies them and the live logs,
# agrees with the balances the running cluster served, prints statements,
# stops at an event count or a time, and reports damage (exit 1) and bad
# input (exit 2). A compacted log whose leading snapshot is damaged makes
# walletd refuse to start (exit 1, naming file and offset), and a data
# directory is refused to a cluster with another shape (exit 2).
# Usage: walletd_audit_test.sh path/to/walletd path/to/walletload
set -euo pipefail
walletd="$1"
walletload="$2"
dir=$(mktemp -d /tmp/walletd-audit-test-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null || true; [ "${KEEP:-}" ] || rm -rf "$dir"' EXIT
port=${WALLETD_TEST_PORT:-$((20000 + RANDOM % 12000))}  # below the ephemeral range
cat >"$dir/cluster.json" <<JSON
{
  "partitions": 2,
  "accounts": 20,
  "protocol": {"kind": "tcc", "snapshot_every": 16, "retention_ms": 5000},
  "storage": {"archive": "keep", "segment_bytes": 4096},
  "initial_balances": {"USD": "100.00", "EUR": "50.00"},
  "nodes": [
    {"name": "p0", "kind": "partition", "address": "127.0.0.1:1"},
    {"name": "p1", "kind": "partition", "address": "127.0.0.1:2"},
    {"name": "c0", "kind": "coordinator", "address": "127.0.0.1:3", "http_port": $port}
  ]
}
JSON
fails=0
mode=setup
fail() { echo "FAIL [$mode] $*"; fails=$((fails + 1)); }
# Any command that stops the script says where, with walletd's last words.
trap 'echo "FAIL [$mode] line $LINENO: $BASH_COMMAND exited $?"; tail -5 "$dir/err" 2>/dev/null' ERR
start() {
  # A port another program took makes walletd exit at once: take another.
  for _ in 1 2 3 4 5; do
    "$walletd" --local --config "$dir/cluster.json" --data "$dir/data" $flags >"$dir/out" 2>"$dir/err" &
    pid=$!
    for _ in $(seq 1 200); do
      grep -q "HTTP on" "$dir/out" 2>/dev/null && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null && break  # running, but never said it listens
    wait "$pid" || true
    grep -q "HTTP on" "$dir/out" && { pid=; return 0; }
    new=$((20000 + RANDOM % 12000))
    sed -i "s/\"http_port\": $port/\"http_port\": $new/" "$dir/cluster.json" "$dir/keep.json" "$dir/delete.json" 2>/dev/null || true
    port=$new
    url="http://127.0.0.1:$port"
  done
  echo "walletd did not start:"; cat "$dir/err"; exit 1
}
stop() {
  kill -TERM "$pid" 2>/dev/null || fail "walletd had already exited: $(tail -3 "$dir/err")"
  wait "$pid" || true
  pid=
}
url="http://127.0.0.1:$port"
# Both layouts: one log shared by every node of the process (the default
# for --local), and one log per node (what one process per node writes).
sed 's/"archive": "keep"/"archive": "delete"/' "$dir/cluster.json" >"$dir/delete.json"
cp "$dir/cluster.json" "$dir/keep.json"
for mode in shared per-node shared-delete; do
rm -rf "$dir/data"
cp "$dir/keep.json" "$dir/cluster.json"
case $mode in
  shared) flags=""; logs="local"; damaged=local ;;
  per-node) flags="--log-per-node"; logs="p0 p1 c0"; damaged=p1 ;;
  shared-delete) flags=""; cp "$dir/delete.json" "$dir/cluster.json" ;;
esac

start
t0=$(date +%s.%N)
"$walletload" --url "$url" --rate 300 --duration 3 --accounts 20 --connections 4 --currencies USD,EUR \
  --max-amount 500 --quiet >"$dir/load.out" 2>&1 || { cat "$dir/load.out"; fail "walletload's own audit"; }
for a in acct-3 acct-11; do
  for c in USD EUR; do
    curl -s "$url/v1/wallet/balance?account=$a&currency=$c" >"$dir/live-$a-$c" || fail "balance read of $a $c: curl exit $?"
  done
done
stop
if [ "$mode" = shared-delete ]; then
  # Without the archive the audit starts each node at its first snapshot
  # left, and with nothing held it still checks the totals.
  [ ! -d "$dir/data/archive" ] || fail "archive delete left an archive"
  rc=0; "$walletd" audit --data "$dir/data" >"$dir/audit" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { grep PROBLEM "$dir/audit" | head -3; fail "audit without the archive exited $rc"; }
  grep -q "^conservation USD: initial 2000.00 = balances 2000.00" "$dir/audit" || fail "totals not checked without the archive"
  continue
fi

for n in $logs; do
  [ -f "$dir/data/archive/$n.000001.log" ] || fail "no archived segment of $n: $(ls "$dir/data" "$dir/data/archive" | head -5 | tr '\n' ' ')"
done
rc=0; "$walletd" audit --data "$dir/data" >"$dir/audit" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat "$dir/audit"; fail "audit of a clean directory exited $rc"; }
grep -q "^audit: OK" "$dir/audit" || fail "audit did not say OK"
grep -q "^transfers in flight: 0" "$dir/audit" || fail "a settled cluster has transfers in flight: $(grep flight "$dir/audit")"
grep -q "^conservation USD: initial 2000.00 = balances 2000.00 + in flight 0.00" "$dir/audit" || fail "USD not conserved"
# The offline audit agrees with what the running cluster served.
for a in acct-3 acct-11; do
  "$walletd" audit --data "$dir/data" --account $a --json >"$dir/st-$a.json" || fail "statement of $a"
  for c in USD EUR; do
    live=$(sed -E 's/.*"balance":"([^"]+)".*/\1/' "$dir/live-$a-$c")
    off=$(tr -d ' \n' <"$dir/st-$a.json" | sed -E "s/.*\"balances\":\{[^}]*\"$c\":\"([^\"]+)\".*/\1/")
    [ "$live" = "$off" ] || fail "$a $c: the cluster served $live, the audit says $off"
  done
done
"$walletd" audit --data "$dir/data" --account acct-3 >"$dir/st" || fail "text statement"
grep -q "^statement of acct-3" "$dir/st" || fail "no statement heading"
[ "$(grep -c ' confirmed ' "$dir/st")" -gt 0 ] || fail "the statement of acct-3 lists no confirmed leg"
# A point in history: before the load every balance is the initial one.
"$walletd" audit --data "$dir/data" --at "$t0" >"$dir/at" || fail "audit --at"
[ "$(grep -c ' 50.00 EUR 100.00 USD$' "$dir/at")" -eq 20 ] || fail "--at before the load: not every balance is initial"
"$walletd" audit --data "$dir/data" --upto 3 >/dev/null || fail "audit --upto"
# Bad input changes nothing and exits 2.
for args in "--account acct-20" "--account bob" "--at yesterday" "--at 2026-13-01T00:00:00Z"; do
  rc=0; "$walletd" audit --data "$dir/data" $args >/dev/null 2>"$dir/e" || rc=$?
  [ "$rc" -eq 2 ] || fail "audit $args exited $rc, want 2"
done
rc=0; "$walletd" audit --data "$dir/nowhere" 2>/dev/null || rc=$?; [ "$rc" -eq 2 ] || fail "missing directory: exit $rc"
# Damage in the archive is found, named, and fails the audit.
seg="$dir/data/archive/$damaged.000001.log"
cp "$seg" "$dir/saved"
printf '\xff\xff' | dd of="$seg" bs=1 seek=200 conv=notrunc 2>/dev/null
rc=0; "$walletd" audit --data "$dir/data" >"$dir/audit" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "audit of a damaged archive exited $rc, want 1"
grep -q "PROBLEM: $seg is damaged at offset" "$dir/audit" || fail "the damage is not named: $(grep PROBLEM "$dir/audit")"
cp "$dir/saved" "$seg"
# A compacted log whose first snapshot is damaged: walletd refuses to start.
live=$(ls "$dir"/data/$damaged.*.log | head -1)
cp "$live" "$dir/saved"
printf '\xff' | dd of="$live" bs=1 seek=30 conv=notrunc 2>/dev/null
rc=0; "$walletd" --local --config "$dir/cluster.json" --data "$dir/data" $flags >/dev/null 2>"$dir/err" || rc=$?
[ "$rc" -eq 1 ] || fail "walletd on a damaged snapshot exited $rc, want 1"
grep -q "log segment $live is damaged at offset 0" "$dir/err" || fail "refusal does not name the file: $(cat "$dir/err")"
cp "$dir/saved" "$live"
# The data directory belongs to its cluster.
sed 's/"accounts": 20/"accounts": 21/' "$dir/cluster.json" >"$dir/other.json"
rc=0; "$walletd" --local --config "$dir/other.json" --data "$dir/data" $flags >/dev/null 2>"$dir/err" || rc=$?
[ "$rc" -eq 2 ] || fail "another cluster's data directory: exit $rc, want 2"
grep -q "key 'accounts' is 20" "$dir/err" || fail "mismatch not named: $(cat "$dir/err")"
# And the untouched directory still starts and audits clean.
start; stop
"$walletd" audit --data "$dir/data" >/dev/null || fail "audit after restart"
done

# Replica groups of three: each replica's log holds Raft's records. The
# audit reads every replica's log, checks the replicas agree, rebuilds each
# group from its most up-to-date replica and must agree with what the
# running cluster served.
python3 - "$dir/keep.json" "$dir/cluster.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["replicas"] = 3
nodes = []
port = 1
for kind, groups in (("partition", 2), ("coordinator", 1)):
    for g in range(groups):
        for r in range(3):
            n = {"name": f"{kind[0]}{g}r{r}", "kind": kind, "group": g, "replica": r, "address": f"127.0.0.1:{port}"}
            port += 1
            if kind == "coordinator":
                n["http_port"] = next(x["http_port"] for x in c["nodes"] if x["kind"] == "coordinator") + 7 * r
            nodes.append(n)
c["nodes"] = nodes
json.dump(c, open(sys.argv[2], "w"), indent=2)
PY
cp "$dir/cluster.json" "$dir/keep.json"
for mode in groups-shared groups-per-node; do
rm -rf "$dir/data"
cp "$dir/keep.json" "$dir/cluster.json"
flags=""; [ "$mode" = groups-per-node ] && flags="--log-per-node"
start
t0=$(date +%s.%N)
"$walletload" --url "$url" --rate 200 --duration 3 --accounts 20 --connections 4 --currencies USD,EUR \
  --max-amount 500 --quiet >"$dir/load.out" 2>&1 || { cat "$dir/load.out"; fail "walletload's own audit"; }
for a in acct-3 acct-11; do
  curl -s "$url/v1/wallet/balance?account=$a&currency=USD" >"$dir/live-$a-USD" || fail "balance read of $a: curl exit $?"
done
stop
t1=$(date +%s.%N)
rc=0; "$walletd" audit --data "$dir/data" >"$dir/audit" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat "$dir/audit"; fail "audit of a clean directory exited $rc"; }
grep -q "^group p1 from p1r" "$dir/audit" || fail "no source named for group p1: $(grep ^group "$dir/audit")"
grep -q "^conservation USD: initial 2000.00 = balances 2000.00" "$dir/audit" || fail "USD not conserved: $(grep conservation "$dir/audit")"
for a in acct-3 acct-11; do
  live=$(sed -E 's/.*"balance":"([^"]+)".*/\1/' "$dir/live-$a-USD")
  off=$("$walletd" audit --data "$dir/data" --account $a --json | tr -d ' \n' |
        sed -E 's/.*"balances":\{[^}]*"USD":"([^"]+)".*/\1/')
  [ "$live" = "$off" ] || fail "$a USD: the cluster served $live, the audit says $off"
done
# A restart reads each replica's checkpoint back: no replica takes a log
# whose oldest segments were retired for a damaged one.
start
stop
! grep -q "repairing" "$dir/err" || fail "a clean restart repairs: $(grep repairing "$dir/err" | head -2)"
# Points in history, read from every replica's whole log (archives
# included): before the load every balance is the initial one; after the
# clean stop every entry is committed, so the last point is the end.
"$walletd" audit --data "$dir/data" --at "$t0" >"$dir/at" || fail "audit --at before the load with groups"
[ "$(grep -c ' 50.00 EUR 100.00 USD$' "$dir/at")" -eq 20 ] || fail "--at before the load with groups: not every balance is initial"
grep -q "^group p1: entries 1\.\." "$dir/at" || fail "--at: no point named for group p1: $(grep ^group "$dir/at")"
grep -E '^  acct-[0-9]+ ' "$dir/audit" >"$dir/end-balances"
[ "$(wc -l <"$dir/end-balances")" -eq 20 ] || fail "the end audit lists $(wc -l <"$dir/end-balances") balances, want 20"
for point in "--at $t1" "--upto 1000000000"; do
  rc=0; "$walletd" audit --data "$dir/data" $point >"$dir/at" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { grep PROBLEM "$dir/at"; fail "audit $point with groups exited $rc"; }
  grep -E '^  acct-[0-9]+ ' "$dir/at" | cmp -s - "$dir/end-balances" || fail "audit $point with groups: balances differ from the end's"
  grep -q "^group p0: entries 1\.\..* from the start" "$dir/at" || fail "audit $point: p0 not read from the start: $(grep ^group "$dir/at")"
done
"$walletd" audit --data "$dir/data" --upto 3 >"$dir/at" || fail "audit --upto 3 with groups"
grep -q "^as of: entry 3 of each group's Raft log" "$dir/at" || fail "--upto 3: $(grep '^as of' "$dir/at")"
a=acct-3
live=$(sed -E 's/.*"balance":"([^"]+)".*/\1/' "$dir/live-$a-USD")
off=$("$walletd" audit --data "$dir/data" --at "$t1" --account $a --json | tr -d ' \n' |
      sed -E 's/.*"balances":\{[^}]*"USD":"([^"]+)".*/\1/')
[ "$live" = "$off" ] || fail "$a USD --at the end: the cluster served $live, the audit says $off"
# Every replica's log is read: damage in one is named.
if [ "$mode" = groups-per-node ]; then
  seg=$(ls "$dir"/data/archive/p0r2.*.log | head -1)
  cp "$seg" "$dir/saved"
  printf '\xff\xff' | dd of="$seg" bs=1 seek=200 conv=notrunc 2>/dev/null
  rc=0; "$walletd" audit --data "$dir/data" >"$dir/audit" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] && grep -q "PROBLEM: $seg" "$dir/audit" || fail "damage in a replica's log: exit $rc, $(grep PROBLEM "$dir/audit")"
  cp "$dir/saved" "$seg"
  # A replica whose log holds another history (here p1r1's first segment in
  # place of p0r1's, checksums intact): the point-in-history audit finds
  # two committed entries at one index (state-machine safety).
  seg=$(ls "$dir"/data/archive/p0r1.*.log | head -1)
  cp "$seg" "$dir/saved"
  cp "$(ls "$dir"/data/archive/p1r1.*.log | head -1)" "$seg"
  rc=0; "$walletd" audit --data "$dir/data" --upto 1000000000 >"$dir/at" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] && grep -q "^PROBLEM: group p0: p0r0 and p0r1 committed different entries at index" "$dir/at" ||
    fail "another history in p0r1: exit $rc, $(grep PROBLEM "$dir/at" | head -3)"
  cp "$dir/saved" "$seg"
  # A replica whose live log starts with a damaged snapshot drops it and
  # repairs from its peers in a new segment that starts with its repair
  # mark: the missing numbers are a note, not a problem.
  live=$(ls "$dir"/data/p0r2.*.log | head -1)
  printf '\xff' | dd of="$live" bs=1 seek=30 conv=notrunc 2>/dev/null
  start
  for _ in $(seq 1 100); do grep -q "p0r2: repaired:" "$dir/err" && break; sleep 0.05; done
  stop
  grep -q "p0r2: repaired:" "$dir/err" || fail "p0r2 did not repair: $(grep p0r2 "$dir/err" | tail -3)"
  rc=0; "$walletd" audit --data "$dir/data" >"$dir/audit" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || fail "audit after a repair exited $rc: $(grep PROBLEM "$dir/audit")"
  grep -q "^note: p0r2: segments .* were dropped by a repair" "$dir/audit" || fail "the dropped segments are not noted"
  # p0r2's history has a gap; its peers' logs hold every committed entry.
  rc=0; "$walletd" audit --data "$dir/data" --upto 1000000000 >"$dir/at" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || fail "audit --upto after a repair exited $rc: $(grep PROBLEM "$dir/at")"
  grep -E '^  acct-[0-9]+ ' "$dir/at" | cmp -s - "$dir/end-balances" || fail "audit --upto after a repair: balances differ from the end's"
  # Without the archive a group's history starts at the oldest snapshot
  # its replicas keep: a point before it cannot be rebuilt, and says so.
  rm -rf "$dir/data/archive"
  rc=0; "$walletd" audit --data "$dir/data" --upto 3 >"$dir/at" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] && grep -q "^PROBLEM: group p0: entry [0-9]* is in no replica's log and no snapshot after it is left" "$dir/at" ||
    fail "--upto 3 without the archive: exit $rc, $(grep -E 'PROBLEM|^group' "$dir/at" | head -3)"
  rc=0; "$walletd" audit --data "$dir/data" --upto 1000000000 >"$dir/at" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] && grep -q "^group p0: entries [0-9]*\.\.[0-9]* after the snapshot at" "$dir/at" ||
    fail "--upto the end without the archive: exit $rc, $(grep -E 'PROBLEM|^group' "$dir/at" | head -3)"
  grep -E '^  acct-[0-9]+ ' "$dir/at" | cmp -s - "$dir/end-balances" || fail "--upto the end without the archive: balances differ"
  rc=0; "$walletd" audit --data "$dir/data" --at "$t0" >"$dir/at" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] && grep -q "^PROBLEM: group p0: the point is before the oldest state its logs keep" "$dir/at" ||
    fail "--at before the oldest snapshot without the archive: exit $rc, $(grep -E 'PROBLEM|^group' "$dir/at" | head -3)"
fi
if [ "$mode" = groups-shared ]; then
  # One log for every replica, its oldest segments deleted: each replica
  # starts at its first snapshot in what is left, as a restart does.
  rm -rf "$dir/data/archive"
  rc=0; "$walletd" audit --data "$dir/data" --upto 1000000000 >"$dir/at" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || fail "--upto the end of a shared log without the archive: exit $rc, $(grep PROBLEM "$dir/at" | head -3)"
  grep -E '^  acct-[0-9]+ ' "$dir/at" | cmp -s - "$dir/end-balances" || fail "--upto the end of a shared log without the archive: balances differ"
fi
done
[ "$fails" -eq 0 ] && echo "walletd audit: all checks passed" || exit 1
