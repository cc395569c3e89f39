#!/usr/bin/env bash
# scripts/instructions.sh end to end: one engine benchmark counted under
# callgrind gives a plausible figure; bad input exits 2 and says why.
#
#   bash tests/instructions_test.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: instructions_test.sh BUILD_DIR}
fail() {
  echo "instructions_test: $*" >&2
  exit 1
}

out=$(scripts/instructions.sh "$build" BM_PartitionTryConfirmForgetting) || fail "a count exited $?"
n=$(sed -n 's/^BM_PartitionTryConfirmForgetting \([0-9]*\) instructions per item$/\1/p' <<<"$out")
[ -n "$n" ] || fail "no figure in: $out"
# A Try and a Confirm of two legs: four handler calls, four checksummed
# records. Far fewer instructions than this cannot be the whole transfer,
# far more means the count is of something else.
[ "$n" -gt 500 ] && [ "$n" -lt 50000 ] || fail "implausible figure $n"

for args in "$build BM_NoSuchBenchmark" "/nonexistent-build"; do
  set +e
  # shellcheck disable=SC2086
  err=$(scripts/instructions.sh $args 2>&1 >/dev/null)
  rc=$?
  set -e
  [ $rc = 2 ] || fail "'$args' exited $rc, expected 2"
  [ -n "$err" ] || fail "'$args' exited 2 without saying why"
done
echo "instructions_test: ok ($n instructions per transfer)"
