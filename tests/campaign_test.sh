#!/usr/bin/env bash
# scripts/campaign.sh end to end: a clean matrix exits 0 with a row per
# cell; a planted bug exits 1 and leaves its failure files; bad input exits 2.
#
#   bash tests/campaign_test.sh path/to/walletsim
set -euo pipefail
cd "$(dirname "$0")/.."
WS=${1:?usage: campaign_test.sh path/to/walletsim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "campaign_test: $*" >&2
  exit 1
}

out=$(scripts/campaign.sh --walletsim "$WS" --seeds 0..3 --jobs 1 --scenario smoke --scenario replica-crash \
  --replicas 3 --out "$tmp/clean") || fail "a clean matrix exited $?"
[ "$(echo "$out" | grep -c '^| [a-z-]* | \(tcc\|2pc\|saga\) | 3 | 0 |')" = 6 ] || fail "expected 6 clean rows: $out"
echo "$out" | grep -q 'cluster.replicas=3' || fail "the table does not say cluster.replicas=3"

set +e
out=$(scripts/campaign.sh --walletsim "$WS" --seeds 0..10 --jobs 1 --scenario hot-accounts --protocol tcc \
  --set bugs.skip_funds_check=true --out "$tmp/bug")
rc=$?
set -e
[ $rc = 1 ] || fail "a planted bug exited $rc, expected 1"
echo "$out" | grep -Eq '^\| hot-accounts \| tcc \| 10 \| [1-9][0-9]* \|' || fail "no failing row: $out"
ls "$tmp/bug/hot-accounts-tcc"/*.json >/dev/null 2>&1 || fail "no failure files under $tmp/bug/hot-accounts-tcc"

for args in "--seeds 0-3" "--protocol xyz" "--replicas 2" "--jobs 0" "--bogus"; do
  set +e
  # shellcheck disable=SC2086
  err=$(scripts/campaign.sh --walletsim "$WS" $args --out "$tmp/bad" 2>&1 >/dev/null)
  rc=$?
  set -e
  [ $rc = 2 ] || fail "'$args' exited $rc, expected 2"
  [ -n "$err" ] || fail "'$args' exited 2 without saying why"
done
set +e
err=$(scripts/campaign.sh --walletsim "$WS" --seeds 0..2 --scenario no-such --out "$tmp/bad" 2>&1 >/dev/null)
rc=$?
set -e
[ $rc = 2 ] && echo "$err" | grep -q "unknown scenario 'no-such'" || fail "an unknown scenario: exit $rc, '$err'"
echo "campaign_test: ok"
