#!/usr/bin/env bash
# The same transfer workload, on the same machine in the same run, against:
#   (a) walletd --local, one partition and one coordinator, fsync on
#       (group commit), driven by walletload over HTTP/JSON;
#   (b) Redis 7 doing the transfer as a Lua script (EVALSHA), appendonly yes
#       with appendfsync always, driven by walletload's Redis mode (the same
#       client, workload and audit as walletd) and also by redis-benchmark;
#   (c) PostgreSQL doing it as a plpgsql function in one transaction
#       (synchronous_commit on, fsync on), driven by pgbench.
# Each transfer in all of them: dedup by a fresh transaction id (recorded),
# funds check, debit one account, credit another, durable before the answer.
# All closed loop with the same number of connections. The systems take
# turns for ROUNDS rounds so that background load on the machine hits all of
# them alike; the medians are compared.
# Installs redis-server and postgresql (apt-get, as root) if missing.
# Usage: scripts/side-by-side.sh [BUILD_DIR] [SECONDS] [CONNECTIONS] [ROUNDS]   (build, 10, 256, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
secs="${2:-10}"
conns="${3:-256}"
rounds="${4:-3}"
accounts=10000
walletd="$build/net/walletd"
walletload="$build/net/walletload"
for b in "$walletd" "$walletload"; do
  [ -x "$b" ] || { echo "side-by-side: $b not found; build first (scripts/build.sh $build)" >&2; exit 2; }
done
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null || ! command -v pgbench >/dev/null; then
  [ "$(id -u)" -eq 0 ] || { echo "side-by-side: run as root to install redis-server and postgresql" >&2; exit 2; }
  echo "side-by-side: installing redis-server and postgresql"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server postgresql >/dev/null
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

dir=$(mktemp -d /tmp/side-by-side-XXXXXX)
chmod 755 "$dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -f "$dir/pg/postmaster.pid" ]; then su postgres -c "$pgbin/pg_ctl -D $dir/pg -m immediate stop" >/dev/null 2>&1 || true; fi
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
port() { echo $((20000 + RANDOM % 12000)); }  # below the ephemeral port range
# CPU seconds (user + system) a process has used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "side-by-side: $accounts accounts, $conns connections, closed loop, ${secs}s per turn, $rounds rounds, $(nproc) cores"

# --- setup: walletd
hp=$(port)
"$walletd" --local --partitions 1 --coordinators 1 --accounts "$accounts" --data "$dir/walletd" \
  --http-port "$hp" >"$dir/walletd.out" 2>"$dir/walletd.err" &
wpid=$!
pids+=($wpid)
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$hp/healthz" >/dev/null 2>&1 && break; sleep 0.05; done

# --- setup: Redis; redis-benchmark writes __rand_int__ as 12 zero-padded digits.
rp=$(port)
mkdir -p "$dir/redis"
redis-server --port "$rp" --bind 127.0.0.1 --dir "$dir/redis" --appendonly yes --appendfsync always \
  --save "" --daemonize no >"$dir/redis.out" 2>&1 &
rpid=$!
pids+=($rpid)
for _ in $(seq 1 200); do redis-cli -p "$rp" ping >/dev/null 2>&1 && break; sleep 0.05; done
awk -v n="$accounts" 'BEGIN { for (i = 0; i < n; i++) printf "SET acct:%012d 100000\n", i }' |
  redis-cli -p "$rp" --pipe >/dev/null
cat >"$dir/transfer.lua" <<'LUA'
-- KEYS: from, to, transaction id. ARGV[1]: amount in minor units.
local done = redis.call('GET', KEYS[3])
if done then return done end
if KEYS[1] == KEYS[2] then return 'same_account' end
local amount = tonumber(ARGV[1])
local balance = tonumber(redis.call('GET', KEYS[1]) or '0')
if balance < amount then
  redis.call('SET', KEYS[3], 'failed')
  return 'failed'
end
redis.call('DECRBY', KEYS[1], amount)
redis.call('INCRBY', KEYS[2], amount)
redis.call('SET', KEYS[3], 'success')
return 'success'
LUA
sha=$(redis-cli -p "$rp" SCRIPT LOAD "$(cat "$dir/transfer.lua")")
# redis-benchmark has no duration: size -n from a short probe.
probe=$(redis-benchmark -p "$rp" -c "$conns" -n 20000 -r "$accounts" -q \
  EVALSHA "$sha" 3 acct:__rand_int__ acct:__rand_int__ tx:__rand_int__:__rand_int__:__rand_int__ 37 |
  tr '\r' '\n' | awk '/requests per second/ { for (i = 1; i <= NF; i++) if ($i == "requests") print $(i-1) }' | tail -1)
bench_n=$(awk -v t="$probe" -v s="$secs" 'BEGIN { printf "%d", t * s }')

# --- setup: PostgreSQL in a private cluster, unix socket only
pp=$(port)
mkdir -p "$dir/pg" && chown postgres "$dir/pg"
su postgres -c "$pgbin/initdb -D $dir/pg -A trust -U postgres" >"$dir/initdb.out" 2>&1
su postgres -c "$pgbin/pg_ctl -D $dir/pg -l $dir/pg/server.log -w -o \"-p $pp -k $dir/pg -c listen_addresses='' -c synchronous_commit=on -c fsync=on -c max_connections=$((conns + 20))\" start" >/dev/null
psql() { command psql -q -h "$dir/pg" -p "$pp" -U postgres -v ON_ERROR_STOP=1 "$@"; }
psql -c "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
         INSERT INTO accounts SELECT i, 100000 FROM generate_series(0, $accounts - 1) i;
         CREATE TABLE transfers (txid uuid PRIMARY KEY, status text NOT NULL);" >/dev/null
psql >/dev/null <<'SQL'
CREATE FUNCTION transfer(t uuid, f int, d int, amount bigint) RETURNS text AS $$
DECLARE
  s text;
  b bigint;
BEGIN
  SELECT status INTO s FROM transfers WHERE txid = t;
  IF FOUND THEN RETURN s; END IF;
  IF f = d THEN RETURN 'same_account'; END IF;
  -- Both rows locked in id order: no deadlocks between opposite transfers.
  PERFORM 1 FROM accounts WHERE id IN (f, d) ORDER BY id FOR UPDATE;
  SELECT balance INTO b FROM accounts WHERE id = f;
  IF b < amount THEN
    INSERT INTO transfers VALUES (t, 'failed');
    RETURN 'failed';
  END IF;
  UPDATE accounts SET balance = balance - amount WHERE id = f;
  UPDATE accounts SET balance = balance + amount WHERE id = d;
  INSERT INTO transfers VALUES (t, 'success');
  RETURN 'success';
END $$ LANGUAGE plpgsql;
SQL
cat >"$dir/transfer.sql" <<SQL
\set f random(0, $accounts - 1)
\set d random(0, $accounts - 1)
\set amount random(1, 500)
SELECT transfer(gen_random_uuid(), :f, :d, :amount);
SQL

# --- rounds: each system in turn
W=() RW=() RB=() PG=() WCPU=() RCPU=()
for r in $(seq 1 "$rounds"); do
  c0=$(cpu_s "$wpid")
  "$walletload" --url "http://127.0.0.1:$hp" --rate 0 --duration "$secs" --accounts "$accounts" \
    --connections "$conns" --quiet >"$dir/w$r.out" 2>&1 || { cat "$dir/w$r.out"; exit 1; }
  c1=$(cpu_s "$wpid")
  w=$(awk '/achieved/ { print $3 }' "$dir/w$r.out")
  wn=$(awk '/transfers in/ { print $2 }' "$dir/w$r.out")
  W+=("$w"); WCPU+=("$(awk -v a="$c0" -v b="$c1" -v n="$wn" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')")

  c0=$(cpu_s "$rpid")
  "$walletload" --redis "127.0.0.1:$rp" --redis-sha "$sha" --rate 0 --duration "$secs" --accounts "$accounts" \
    --connections "$conns" --quiet >"$dir/r$r.out" 2>&1 || { cat "$dir/r$r.out"; exit 1; }
  c1=$(cpu_s "$rpid")
  rw=$(awk '/achieved/ { print $3 }' "$dir/r$r.out")
  rn=$(awk '/transfers in/ { print $2 }' "$dir/r$r.out")
  RW+=("$rw"); RCPU+=("$(awk -v a="$c0" -v b="$c1" -v n="$rn" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')")

  rb=$(redis-benchmark -p "$rp" -c "$conns" -n "$bench_n" -r "$accounts" -q \
    EVALSHA "$sha" 3 acct:__rand_int__ acct:__rand_int__ tx:__rand_int__:__rand_int__:__rand_int__ 37 |
    tr '\r' '\n' | awk '/requests per second/ { for (i = 1; i <= NF; i++) if ($i == "requests") print $(i-1) }' | tail -1)
  RB+=("$rb")

  pgbench -n -h "$dir/pg" -p "$pp" -U postgres -c "$conns" -j 2 -T "$secs" -f "$dir/transfer.sql" postgres \
    >"$dir/p$r.out" 2>&1 || { cat "$dir/p$r.out"; exit 1; }
  PG+=("$(awk '/^tps = / { printf "%.0f", $3 }' "$dir/p$r.out" | tail -1)")
  echo "side-by-side: round $r: walletd $w/s (audit $(grep -q 'audit OK' "$dir/w$r.out" && echo ok || echo FAILED)," \
       "${WCPU[-1]} us server CPU each); redis $rw/s with walletload (audit $(grep -q 'audit OK' "$dir/r$r.out" && echo ok || echo FAILED)," \
       "${RCPU[-1]} us), $rb/s with redis-benchmark; postgresql ${PG[-1]}/s"
done

syncs=$(curl -s "http://127.0.0.1:$hp/metrics" | awk '/^walletd_log_syncs_total/ { s += $2 } END { print s }')
total=$((accounts * 100000))
r_total=$(redis-cli -p "$rp" --scan --pattern 'acct:*' | sed 's/^/GET /' | redis-cli -p "$rp" | awk '{ s += $1 } END { print s }')
p_total=$(psql -At -c "SELECT sum(balance) FROM accounts")
echo "side-by-side: totals after all rounds: redis $r_total, postgresql $p_total, expected $total; walletd made $syncs fdatasyncs"
w=$(echo "${W[@]}" | median); rw=$(echo "${RW[@]}" | median); rb=$(echo "${RB[@]}" | median); pg=$(echo "${PG[@]}" | median)
awk -v w="$w" -v rw="$rw" -v rb="$rb" -v p="$pg" 'BEGIN {
  printf "side-by-side: RESULT (medians) walletd %.0f/s, redis %.0f/s (same client: walletload) or %.0f/s (redis-benchmark), postgresql %.0f/s (pgbench)\n", w, rw, rb, p
  printf "side-by-side: RATIOS walletd/redis %.2f (same client), %.2f (redis-benchmark); walletd/postgresql %.2f\n", w / rw, w / rb, w / p
}'
