#!/usr/bin/env bash
# walletd's HTTP API end to end: every kind of bad request gets its 4xx and a
# JSON error naming the problem, changes no balance, and the server keeps
# serving on the same keep-alive connection.
# Usage: walletd_http_test.sh path/to/walletd
set -euo pipefail
walletd="$1"
dir=$(mktemp -d /tmp/walletd-http-test-XXXXXX)
"$walletd" --local --partitions 2 --coordinators 2 --accounts 100 --data "$dir/data" --http-port 0 \
  >"$dir/out" 2>"$dir/err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 200); do grep -q "HTTP on" "$dir/out" 2>/dev/null && break; sleep 0.05; done
url=$(awk '/HTTP on/ { print $4 }' "$dir/out")
[ -n "$url" ] || { echo "walletd did not start:"; cat "$dir/err"; exit 1; }

fails=0
check() {  # name, expected status, expected error code, curl args...
  local name="$1" want="$2" code="$3"
  shift 3
  local got
  got=$(curl -s -o "$dir/body" -w '%{http_code}' "$@")
  if [ "$got" != "$want" ] || ! grep -q "\"error\":\"$code\"" "$dir/body"; then
    echo "FAIL $name: want $want $code, got $got $(cat "$dir/body")"
    fails=$((fails + 1))
  else
    echo "ok   $name: $got $(cat "$dir/body")"
  fi
}
T="$url/v1/wallet/balance_transfer"
id='"transaction_id":"6f1c2a4e-8d3b-4c7a-9e2f-1b2c3d4e5f60"'
good="{$id,\"from_account\":\"acct-1\",\"to_account\":\"acct-2\",\"amount\":\"1.00\",\"currency\":\"USD\"}"
before=$(curl -s "$url/v1/wallet/balance?account=acct-1&currency=USD")

check "malformed json" 400 malformed_json -X POST "$T" -d '{"transaction_id":'
check "missing field" 400 missing_field -X POST "$T" -d "{$id,\"from_account\":\"acct-1\",\"to_account\":\"acct-2\",\"currency\":\"USD\"}"
check "extra field" 400 unknown_field -X POST "$T" -d "{$id,\"from_account\":\"acct-1\",\"to_account\":\"acct-2\",\"amount\":\"1\",\"currency\":\"USD\",\"memo\":\"x\"}"
check "wrong type" 400 wrong_type -X POST "$T" -d "{$id,\"from_account\":\"acct-1\",\"to_account\":\"acct-2\",\"amount\":1,\"currency\":\"USD\"}"
check "bad amount" 400 bad_amount -X POST "$T" -d "{$id,\"from_account\":\"acct-1\",\"to_account\":\"acct-2\",\"amount\":\"1.001\",\"currency\":\"USD\"}"
check "unknown currency" 400 unknown_currency -X POST "$T" -d "{$id,\"from_account\":\"acct-1\",\"to_account\":\"acct-2\",\"amount\":\"1\",\"currency\":\"XXY\"}"
check "bad uuid" 400 bad_transaction_id -X POST "$T" -d '{"transaction_id":"01589980-2434-33dx-1532-1423gb420530","from_account":"acct-1","to_account":"acct-2","amount":"1","currency":"USD"}'
check "same account" 400 same_account -X POST "$T" -d "{$id,\"from_account\":\"acct-1\",\"to_account\":\"acct-1\",\"amount\":\"1\",\"currency\":\"USD\"}"
check "unknown account" 404 unknown_account -X POST "$T" -d "{$id,\"from_account\":\"acct-1\",\"to_account\":\"acct-100\",\"amount\":\"1\",\"currency\":\"USD\"}"
head -c 5000 /dev/zero | tr '\0' ' ' >"$dir/big"
check "body too large" 413 body_too_large -X POST "$T" --data-binary "@$dir/big"
check "wrong method" 405 method_not_allowed "$T"
check "wrong path" 404 not_found "$url/v1/wallet/nothing"
check "balance bad parameter" 400 unknown_parameter "$url/v1/wallet/balance?account=acct-1&currency=USD&x=1"
check "status bad id" 400 bad_transaction_id "$url/v1/wallet/transaction/123"

after=$(curl -s "$url/v1/wallet/balance?account=acct-1&currency=USD")
[ "$before" = "$after" ] || { echo "FAIL: a bad request changed a balance: $before -> $after"; fails=$((fails + 1)); }
# Still serving, keep-alive: a good transfer twice on one connection, same answer.
out=$(curl -s -X POST "$T" -d "$good" --next -s -X POST "$T" -d "$good")
[ "$out" = '{"status":"success","transaction_id":"6f1c2a4e-8d3b-4c7a-9e2f-1b2c3d4e5f60"}{"status":"success","transaction_id":"6f1c2a4e-8d3b-4c7a-9e2f-1b2c3d4e5f60"}' ] ||
  { echo "FAIL: good transfer after bad ones: $out"; fails=$((fails + 1)); }
grep -q 'walletd_transfers_total{outcome="success"} 2' <(curl -s "$url/metrics") ||
  { echo "FAIL: metrics do not count the two answers"; fails=$((fails + 1)); }
# The request reader and answer writer: a chunked body, HTTP/1.0 (answered
# in kind, connection closed), a status query, and bytes that are not HTTP
# (400 naming it, connection closed).
id2=7a1c2a4e-8d3b-4c7a-9e2f-1b2c3d4e5f61
good2="{\"transaction_id\":\"$id2\",\"from_account\":\"acct-3\",\"to_account\":\"acct-4\",\"amount\":\"1.00\",\"currency\":\"USD\"}"
out=$(curl -s -X POST "$T" -H "Transfer-Encoding: chunked" -d "$good2")
[ "$out" = "{\"status\":\"success\",\"transaction_id\":\"$id2\"}" ] ||
  { echo "FAIL: chunked transfer: $out"; fails=$((fails + 1)); }
out=$(curl -s "$url/v1/wallet/transaction/$id2")
[ "$out" = "{\"status\":\"success\",\"transaction_id\":\"$id2\"}" ] ||
  { echo "FAIL: status query: $out"; fails=$((fails + 1)); }
head=$(curl -s -i --http1.0 "$url/healthz" | head -1 | tr -d '\r')
[ "$head" = "HTTP/1.0 200 OK" ] || { echo "FAIL: HTTP/1.0 answered with: $head"; fails=$((fails + 1)); }
hostport=${url#http://}
exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}"
printf 'NOT HTTP AT ALL\r\n\r\n' >&3
out=$(timeout 10 cat <&3 || true)
exec 3<&-
if ! grep -q "^HTTP/1.1 400 Bad Request" <<<"$out" || ! grep -q '"error":"malformed_http"' <<<"$out"; then
  echo "FAIL: bytes that are not HTTP: $out"
  fails=$((fails + 1))
fi
[ "$fails" -eq 0 ] && echo "walletd HTTP: all checks passed" || exit 1
