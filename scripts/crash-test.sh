#!/usr/bin/env bash
# Crash test of the real runtime: a 3-partition, 2-coordinator walletd
# cluster on 127.0.0.1 (one process per node, logs in a temporary
# directory) under walletload, while partition and coordinator processes are
# killed with SIGKILL at random moments and restarted.
#
# With REPLICAS 3 (or 5), every partition and coordinator is a Raft group of
# that many processes (docs/replication.md). Each round kills one replica of
# every group in turn (never more than one per group at a time: a minority;
# half the time the one that last logged that it leads), and a third of the
# time, just after that replica restarts, another of its group (so the group
# leans on a replica still catching up); each round, while
# it is down, one victim loses its disk (its log files deleted) and another
# has bytes flipped in a synced log segment: on restart each must repair
# from its peers (docs/storage-faults.md). Replicas are created with
# `walletd --format`. Before every kill it moves 1.00 USD between two quiet
# accounts walletload leaves alone; after the kill it reads the first one's
# balance through a surviving front end, which must answer with exactly the
# balance those transfers leave. At the end every coordinator replica's front end must serve
# the same balances, and walletload's audit must be exact. At the end walletload
# audits the money: every transfer answered "success" applied exactly once,
# nothing else applied, totals conserved. The logs are cut into small
# segments behind snapshots as they grow; once the cluster is stopped,
# `walletd audit` replays the archive and the live logs offline and must
# agree: every checksum good, money conserved, nothing in flight, and the
# same balances the running cluster served. Exit 0 if both audits pass, 1 if
# anything was lost or duplicated (the data directory is kept), 2 on setup
# errors. A node process that ends on its own (a crash, an assertion, a
# sanitizer report) fails the test even if its group carried on.
# Usage: scripts/crash-test.sh [BUILD_DIR] [ROUNDS] [REPLICAS]   (defaults: build, 4, 1)
#   RATE=N: offered transfers per second (default 400; a sanitized build
#   of 15 processes on two cores carries about 100).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
rounds="${2:-4}"
replicas="${3:-1}"
rate="${RATE:-400}"
[[ "$rate" =~ ^[1-9][0-9]*$ ]] || { echo "crash-test: RATE must be a positive whole number, not '$rate'" >&2; exit 2; }
case "$replicas" in 1|3|5) ;; *) echo "crash-test: REPLICAS must be 1, 3 or 5, not '$replicas'" >&2; exit 2;; esac
walletd="$build/net/walletd"
walletload="$build/net/walletload"
for b in "$walletd" "$walletload"; do
  [ -x "$b" ] || { echo "crash-test: $b not found; build first (scripts/build.sh $build)" >&2; exit 2; }
done

dir=$(mktemp -d /tmp/walletd-crash-XXXXXX)
# Ports below the kernel's ephemeral range (32768+), so no outgoing
# connection of another program can be holding one of them.
base=$((20000 + RANDOM % 12000))
declare -A pid

load=""
cleanup() {
  for n in "${!pid[@]}"; do kill -9 "${pid[$n]}" 2>/dev/null || true; done
  [ -z "$load" ] || kill "$load" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

# Nodes: p0 p1 p2 c0 c1, or with groups p0r0 p0r1 ... c1r2. Peer ports from
# base (partitions) and base+20 (coordinators), HTTP from base+40.
names=()
http_ports=()
nodes=""
node() {  # name kind group replica port [http_port]
  local place=""
  [ "$replicas" -gt 1 ] && place="\"group\": $3, \"replica\": $4, "
  nodes+="${nodes:+,
    }{\"name\": \"$1\", \"kind\": \"$2\", $place\"address\": \"127.0.0.1:$5\"${6:+, \"http_port\": $6}}"
  names+=("$1")
  [ -n "${6:-}" ] && http_ports+=("$6")
  return 0
}
for g in 0 1 2; do
  for r in $(seq 0 $((replicas - 1))); do
    n="p$g"; [ "$replicas" -gt 1 ] && n="p${g}r$r"
    node "$n" partition "$g" "$r" $((base + g * replicas + r))
  done
done
for g in 0 1; do
  for r in $(seq 0 $((replicas - 1))); do
    n="c$g"; [ "$replicas" -gt 1 ] && n="c${g}r$r"
    node "$n" coordinator "$g" "$r" $((base + 20 + g * replicas + r)) $((base + 40 + g * replicas + r))
  done
done
replication=""
[ "$replicas" -gt 1 ] && replication="\"replicas\": $replicas,"

cat > "$dir/cluster.json" <<JSON
{
  "partitions": 3,
  "accounts": 200,
  $replication
  "protocol": {"kind": "tcc", "try_timeout_ms": 2000, "retry_interval_ms": 50, "max_backoff_ms": 500,
               "snapshot_every": 500},
  "storage": {"archive": "keep", "segment_bytes": 262144},
  "initial_balances": {"USD": "1000.00", "EUR": "500.00"},
  "nodes": [
    $nodes
  ]
}
JSON

start() {
  "$walletd" --config "$dir/cluster.json" --node "$1" --data "$dir/data" >>"$dir/$1.out" 2>>"$dir/$1.err" &
  pid[$1]=$!
}

wait_http() {
  for _ in $(seq 1 400); do
    if curl -sf "http://127.0.0.1:$1/healthz" >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "crash-test: HTTP on port $1 did not come up" >&2
  for n in "${names[@]}"; do echo "--- $n" >&2; tail -3 "$dir/$n.err" >&2; done
  exit 2
}

# A new replica's log is created with --format; at a normal start, a
# replica whose log is missing has lost its disk and repairs from its peers.
if [ "$replicas" -gt 1 ]; then
  mkdir -p "$dir/data"
  for n in "${names[@]}"; do
    "$walletd" --config "$dir/cluster.json" --node "$n" --data "$dir/data" --format >>"$dir/$n.out" 2>>"$dir/$n.err" ||
      { echo "crash-test: walletd --format of $n failed:" >&2; tail -3 "$dir/$n.err" >&2; exit 2; }
  done
fi
for n in "${names[@]}"; do start "$n"; done
for port in "${http_ports[@]}"; do wait_http "$port"; done

# A peer port fed garbage closes that connection, logs why, and keeps serving.
printf 'GET / HTTP/1.1\r\n\r\n' >"/dev/tcp/127.0.0.1/$base" || true
for _ in $(seq 1 100); do grep -q "bad frame" "$dir/${names[0]}.err" && break; sleep 0.05; done
grep -q "bad frame (bad magic)" "$dir/${names[0]}.err" || { echo "crash-test: ${names[0]} did not reject a garbage frame" >&2; exit 1; }

# A process that ended on its own (a crash, an assertion, a sanitizer
# report) is a failure even if its group carried on: check them all before
# every kill and at the end.
died=""
check_alive() {
  local n
  for n in "${!pid[@]}"; do
    kill -0 "${pid[$n]}" 2>/dev/null && continue
    died+=" $n"
    echo "crash-test: $n ended on its own; its last lines:" >&2
    tail -5 "$dir/$n.err" >&2
    unset "pid[$n]"
  done
}

kill_node() {
  [ -n "${pid[$1]:-}" ] || return 0
  kill -9 "${pid[$1]}"
  wait "${pid[$1]}" 2>/dev/null || true
  unset "pid[$1]"
}

# Random delay in seconds between $1 and $2 tenths.
pause() { sleep "$(awk -v lo="$1" -v hi="$2" -v r="$RANDOM" 'BEGIN { printf "%.2f", (lo + (hi - lo) * r / 32767) / 10 }')"; }

urls=()
for port in "${http_ports[@]}"; do urls+=(--url "http://127.0.0.1:$port"); done
duration=$((4 * rounds + 4))
[ "$replicas" -gt 1 ] && duration=$((9 * rounds + 4))
"$walletload" "${urls[@]}" \
  --rate "$rate" --duration "$duration" --accounts 198 --connections 16 --currencies USD,EUR \
  --timeout-ms 1000 --max-attempts 2 --settle 60 --quiet >"$dir/walletload.out" 2>&1 &
load=$!

kills=0
reads=0
unanswered=0
# Accounts acct-198 and acct-199 are quiet: walletload leaves them alone
# (it uses 198 accounts), and before every kill the script moves 1.00 USD
# from the first to the second with a fresh id, retrying that id until the
# answer is final. So after every kill the balance of acct-198 is known
# exactly: 1000.00 less the transfers answered success.
quiet_moved=0
quiet_transfer() {
  local id body out port i
  id=$(cat /proc/sys/kernel/random/uuid)
  body="{\"transaction_id\":\"$id\",\"from_account\":\"acct-198\",\"to_account\":\"acct-199\",\"amount\":\"1.00\",\"currency\":\"USD\"}"
  for i in $(seq 1 50); do
    port="${http_ports[$((RANDOM % ${#http_ports[@]}))]}"
    out=$(curl -s -m 5 -X POST "http://127.0.0.1:$port/v1/wallet/balance_transfer" -d "$body" || true)
    case "$out" in
      *'"status":"success"'*) quiet_moved=$((quiet_moved + 1)); return 0 ;;
      *'"status":"failed"'*) return 0 ;;
    esac
    sleep 0.2
  done
  unanswered=$((unanswered + 1))
  echo "crash-test: a transfer between the quiet accounts got no final answer: $out" >&2
}
quiet_expected() { printf '%d.00' $((1000 - quiet_moved)); }
# A balance read of acct-198 through the front end of a coordinator replica
# that is up: it must answer, and with exactly the expected balance.
read_after_kill() {  # killed [also not asked: just restarted]
  local up=() n port i got
  for i in "${!http_ports[@]}"; do
    n="c$((i / replicas))r$((i % replicas))"
    [ "$n" = "$1" ] || [ "$n" = "${2:-}" ] || up+=("${http_ports[$i]}")
  done
  port="${up[$((RANDOM % ${#up[@]}))]}"
  reads=$((reads + 1))
  got=$(curl -s -m 10 -w ' %{http_code}' "http://127.0.0.1:$port/v1/wallet/balance?account=acct-198&currency=USD" || true)
  case "$got" in
    *' 200') ;;
    *) unanswered=$((unanswered + 1)); echo "crash-test: a balance read after killing $1 got: $got" >&2; return 0 ;;
  esac
  got=$(sed -E 's/.*"balance":"([^"]+)".*/\1/' <<<"$got")
  if [ "$got" != "$(quiet_expected)" ]; then
    wrong_reads=$((wrong_reads + 1))
    echo "crash-test: after killing $1, acct-198 read $got, expected $(quiet_expected) ($quiet_moved transfers of 1.00 answered success)" >&2
  fi
}
wrong_reads=0
# The replica of group $1 that most recently logged that it leads (by term).
leader_of() {
  { grep -H "leading term" "$dir/$1"r*.err 2>/dev/null || true; } |
    sed -E 's|.*/([a-z0-9]+)\.err:.*leading term ([0-9]+).*|\2 \1|' | sort -n | tail -1 | cut -d' ' -f2
}
leader_kills=0
behind_kills=0
disk_losses=0
corruptions=0
# While replica $1 is down, its disk fails: every file of its log, the
# archive included, is gone (it restarts empty and must rejoin).
lose_disk() {
  rm -f "$dir/data/$1".*.log "$dir/data/$1.lock" "$dir/data/archive/$1".*.log
  disk_losses=$((disk_losses + 1))
}
# While replica $1 is down, bits rot in one of its synced live segments:
# 1 to 3 bytes flipped within 64 bytes somewhere in the file (its restart
# must find the damage, cut the log there and repair from its peers).
corrupt_disk() {
  local segs=("$dir/data/$1".*.log)
  [ -e "${segs[0]}" ] || return 0
  python3 - "${segs[$((RANDOM % ${#segs[@]}))]}" "$RANDOM" >>"$dir/corruptions" <<'PY'
import random, sys
path, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
with open(path, "r+b") as f:
    data = bytearray(f.read())
    if not data:
        sys.exit(0)
    at = rng.randrange(len(data))
    # Distinct bytes, so two flips never cancel out.
    spots = sorted(rng.sample(range(at, min(len(data), at + 64)), min(rng.randint(1, 3), len(data) - at)))
    for i in spots:
        data[i] ^= 1 << rng.randrange(8)
    f.seek(0)
    f.write(data)
print(f"{path}: flipped a bit at offsets {spots} of {len(data)} bytes")
PY
  corruptions=$((corruptions + 1))
}
# kill -9 replica $2 of group $1 ($3: the replica that last said it leads),
# after a transfer between the quiet accounts. The failover, from killing a
# leader to the next "leading term" line of its group, is measured at the
# end from the logs' UTC timestamps.
kill_replica() {
  [ "$2" = "$3" ] && leader_kills=$((leader_kills + 1))
  check_alive
  quiet_transfer
  kill_node "$2"
  [ "$2" = "$3" ] && echo "$1 $(date -u +%s.%N)" >>"$dir/leader-kills"
  kills=$((kills + 1))
}
if [ "$replicas" -gt 1 ]; then
  for r in $(seq 1 "$rounds"); do
    gi=0
    for g in p0 p1 p2 c0 c1; do
      pause 2 8
      # Half the time the group's leader, otherwise any replica.
      victim="${g}r$((RANDOM % replicas))"
      leader=$(leader_of "$g")
      [ $((RANDOM % 2)) -eq 0 ] && [ -n "$leader" ] && victim="$leader"
      kill_replica "$g" "$victim" "$leader"
      read_after_kill "$victim"
      # Each round, one group's victim loses its disk and another's rots.
      [ "$gi" -eq $((r % 5)) ] && lose_disk "$victim"
      [ "$gi" -eq $(((r + 2) % 5)) ] && corrupt_disk "$victim"
      gi=$((gi + 1))
      pause 3 10
      start "$victim"
      # A third of the time another replica of the group goes down while
      # the one just restarted is likely still catching up (replaying, or
      # repairing a lost or damaged log): still one process down at a time,
      # but the group now leans on a replica that is behind. Half the time
      # it is the group's leader. A replica repairing its log may not vote
      # until a majority has answered it, so the group can stall until the
      # second one is back: the balance read waits for its restart.
      if [ $((RANDOM % 3)) -eq 0 ]; then
        pause 1 4
        k=${victim##*r}
        second="${g}r$(((k + 1 + RANDOM % (replicas - 1)) % replicas))"
        leader=$(leader_of "$g")
        [ $((RANDOM % 2)) -eq 0 ] && [ -n "$leader" ] && [ "$leader" != "$victim" ] && second="$leader"
        kill_replica "$g" "$second" "$leader"
        behind_kills=$((behind_kills + 1))
        pause 3 10
        start "$second"
        read_after_kill "$second" "$victim"
      fi
    done
  done
else
  for r in $(seq 1 "$rounds"); do
    pause 5 20
    p="p$((RANDOM % 3))"
    check_alive
    kill_node "$p"
    kills=$((kills + 1))
    pause 1 10
    start "$p"
    pause 5 15
    c="c$((RANDOM % 2))"
    check_alive
    kill_node "$c"
    kills=$((kills + 1))
    if [ $((RANDOM % 2)) -eq 0 ]; then
      # Sometimes a partition goes down while the coordinator is down too.
      q="p$((RANDOM % 3))"
      check_alive
      kill_node "$q"
      kills=$((kills + 1))
      pause 1 5
      start "$q"
    fi
    pause 1 10
    start "$c"
  done
fi

rc=0
wait "$load" || rc=$?
check_alive
torn=$(cat "$dir"/*.err | grep -c "torn tail" || true)
repaired=$(cat "$dir"/*.err | grep -c "DAMAGE:" || true)
# Every replica whose disk was lost or damaged must have finished repairing
# by the end: its newest repair line says "repaired".
# The kill loop can outlast the load: a replica restarted last may still
# be repairing, so each gets up to 30 s to finish.
unrepaired=""
for _ in $(seq 1 300); do
  unrepaired=""
  for n in "${names[@]}"; do
    last=$({ grep -E ": repair(ing|ed):" "$dir/$n.err" || true; } | tail -1)
    case "$last" in *": repairing:"*) unrepaired+=" $n" ;; esac
  done
  [ -z "$unrepaired" ] && break
  sleep 0.1
done
repairs_done=$(cat "$dir"/*.err | grep -c ": repaired:" || true)
summary=$(grep -E "transfers in|achieved|retries|audit" "$dir/walletload.out" | tr '\n' ' ')
failover=""
if [ -s "$dir/leader-kills" ]; then
  failover=$(python3 - "$dir" <<'PY'
import glob, re, sys, datetime
d = sys.argv[1]
kills = [(g, float(t)) for g, t in (l.split() for l in open(f"{d}/leader-kills"))]
def day_start(t):
    u = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return t - (u.hour * 3600 + u.minute * 60 + u.second + u.microsecond / 1e6)
samples = []
for g, t in kills:
    base = day_start(t)
    best = None
    for path in glob.glob(f"{d}/{g}r*.err"):
        for line in open(path, errors="replace"):
            m = re.match(r"(\d\d):(\d\d):(\d\d\.\d+) .*leading term", line)
            if not m:
                continue
            at = base + int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
            if at < t - 12 * 3600:
                at += 86400  # past midnight
            if at >= t and (best is None or at < best):
                best = at
    if best is not None:
        samples.append((best - t) * 1000)
samples.sort()
if samples:
    print(f"failover after {len(samples)} leader kills: median {samples[len(samples) // 2]:.0f} ms, "
          f"max {samples[-1]:.0f} ms (kill -9 to the new leader's first line)")
PY
) || failover="(failover not measured: the logs did not parse)"
fi
# The offline audit of every node's archive and live log, after a clean stop.
accts=(acct-$((RANDOM % 198)) acct-$((RANDOM % 198)) acct-198)
for a in "${accts[@]}"; do
  curl -s "http://127.0.0.1:${http_ports[0]}/v1/wallet/balance?account=$a&currency=USD" >"$dir/live-$a" || true
done
arc=0
if [ "$replicas" -gt 1 ]; then
  # Every front end serves the same balances: reads go to each group's leader.
  for a in "${accts[@]}"; do
    for port in "${http_ports[@]}"; do
      other=$(curl -s "http://127.0.0.1:$port/v1/wallet/balance?account=$a&currency=USD" || true)
      [ "$other" = "$(cat "$dir/live-$a")" ] ||
        { echo "crash-test: $a: port ${http_ports[0]} served $(cat "$dir/live-$a"), port $port served $other" >&2; arc=1; }
    done
  done
  [ "$unanswered" -eq 0 ] || arc=1
  [ "$wrong_reads" -eq 0 ] || arc=1
  live=$(sed -E 's/.*"balance":"([^"]+)".*/\1/' "$dir/live-acct-198")
  [ "$live" = "$(quiet_expected)" ] ||
    { echo "crash-test: at the end acct-198 holds $live, expected $(quiet_expected)" >&2; arc=1; }
  [ -z "$unrepaired" ] || { echo "crash-test: still repairing at the end:$unrepaired" >&2; arc=1; }
  [ "$repairs_done" -ge $((disk_losses + corruptions)) ] ||
    { echo "crash-test: $disk_losses disks lost and $corruptions corrupted, but only $repairs_done repairs finished" >&2; arc=1; }
  [ "$repaired" -eq "$corruptions" ] ||
    { echo "crash-test: $corruptions logs corrupted, but $repaired restarts found the damage; corrupted:" >&2
      cat "$dir/corruptions" >&2; arc=1; }
fi
for n in "${!pid[@]}"; do kill -TERM "${pid[$n]}" 2>/dev/null || true; done
wait 2>/dev/null || true
pid=()
"$build/net/walletd" audit --data "$dir/data" >"$dir/audit.out" 2>&1 || arc=$?
if [ "$replicas" -eq 1 ]; then
  grep -q "^transfers in flight: 0$" "$dir/audit.out" || arc=1
else
  # Each group's state comes from its most up-to-date replica, starting at
  # that replica's snapshot: conservation is judged when no leg is held.
  grep -q "^conservation USD: initial" "$dir/audit.out" || arc=1
  # The whole history, from every replica's archive and live log: each
  # group's committed entries from its first, so every transfer's legs are
  # summed, and the end it reaches is the end audit's.
  "$build/net/walletd" audit --data "$dir/data" --upto 1000000000 >"$dir/history.out" 2>&1 || arc=$?
  # (unless every replica of a group lost its disk in some round: then the
  # group's first entries are in no log, and its history starts at a snapshot)
  grep -q "^history: starts at a snapshot" "$dir/history.out" || grep -q "^transfers in flight: 0$" "$dir/history.out" || arc=1
  grep -E '^  acct-[0-9]+ ' "$dir/history.out" | cmp -s - <(grep -E '^  acct-[0-9]+ ' "$dir/audit.out") ||
    { echo "crash-test: the audit of the whole history ends at other balances than the audit of the logs' ends" >&2; arc=1; }
fi
for a in "${accts[@]}"; do
  live=$(sed -E 's/.*"balance":"([^"]+)".*/\1/' "$dir/live-$a")
  # (an audit with problems exits 1; the balance is still compared)
  off=$({ "$build/net/walletd" audit --data "$dir/data" --account "$a" --json || true; } | tr -d ' \n' |
        sed -E 's/.*"balances":\{[^}]*"USD":"([^"]+)".*/\1/')
  [ "$live" = "$off" ] || { echo "crash-test: $a USD: the cluster served $live, walletd audit says $off" >&2; arc=1; }
done
archived=$(ls "$dir/data/archive" 2>/dev/null | wc -l)
if [ "$rc" -eq 0 ] && [ "$arc" -eq 0 ] && [ -z "$died" ]; then
  if [ "$replicas" -gt 1 ]; then
    echo "crash-test: PASS (groups of $replicas, $kills kill -9s of one replica at a time ($leader_kills of a leader, $behind_kills just after another" \
      "replica of the group restarted), $reads balance reads" \
      "after kills all answered with the exact balance ($quiet_moved transfers between the quiet accounts), $disk_losses disks lost and $corruptions corrupted ($repaired damaged logs cut and" \
      "repaired; $repairs_done repairs finished), $torn torn tails truncated, garbage frame rejected, $archived segments archived," \
      "every front end serves the same balances, offline audit of every replica's log OK, at the end and over the whole history) $failover $summary"
  else
    echo "crash-test: PASS ($kills kill -9s, $torn torn tails truncated, garbage frame rejected," \
      "$archived segments archived, offline audit OK) $summary"
  fi
  rm -rf "$dir"
  exit 0
fi
[ "$arc" -eq 0 ] ||
  { echo "crash-test: walletd audit failed:" >&2; grep -hE "PROBLEM|flight|conservation|audit" "$dir/audit.out" "$dir/history.out" 2>/dev/null >&2; }
echo "crash-test: FAIL (walletload exit $rc, walletd audit exit $arc, after $kills kill -9s${died:+; ended on their own:$died}); data kept in $dir" >&2
cat "$dir/walletload.out" >&2
for n in "${names[@]}"; do echo "--- $n (last lines)" >&2; tail -5 "$dir/$n.err" >&2; done
exit 1
