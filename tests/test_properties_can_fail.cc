// Every property checker must be able to fail. Each test runs a deliberately
// broken engine (EngineBugs, set here and never by the command line) over a
// few seeds of a built-in scenario and requires the checker to report the
// property that the bug breaks, while the unbroken engine passes the same
// seeds.
#include <gtest/gtest.h>

#include <algorithm>

#include "properties/runner.h"

namespace ws {
namespace {

struct Hunt {
  bool found = false;
  uint64_t seed = 0;
  std::string message;
};

Scenario scenario(const std::string& name, const std::vector<std::string>& sets = {}) {
  ScenarioLoad sl = load_scenario(name, sets);
  EXPECT_TRUE(sl.scenario) << sl.error;
  return *sl.scenario;
}

// Runs seeds 0..max_seeds-1 with the bug until `want` is reported (with
// `words` in its message, when given).
Hunt hunt(const Scenario& s, const EngineBugs& bugs, Property want, uint64_t max_seeds,
          bool determinism = false, const std::string& words = "") {
  Hunt h;
  for (uint64_t seed = 0; seed < max_seeds; ++seed) {
    RunOptions opt;
    opt.bugs = bugs;
    opt.stop_at_first = false;
    opt.check_determinism = determinism;
    RunResult r = run_spec(make_spec(s, seed), opt);
    for (const Violation& v : r.violations) {
      if (v.property == want && v.message.find(words) != std::string::npos) {
        h.found = true;
        h.seed = seed;
        h.message = v.message;
        return h;
      }
    }
  }
  return h;
}

void expect_clean(const Scenario& s, uint64_t seeds, bool determinism = false) {
  for (uint64_t seed = 0; seed < seeds; ++seed) {
    RunOptions opt;
    opt.check_determinism = determinism;
    RunResult r = run_spec(make_spec(s, seed), opt);
    ASSERT_TRUE(r.ok) << "seed " << seed << ": " << to_string(r.violations.front().property) << ": "
                      << r.violations.front().message;
  }
}

TEST(PropertiesCanFail, CreditFirstOrderBreaksConservation) {
  Hunt h = hunt(scenario("smoke", {"protocol.try_order=credit_first"}), {}, Property::kConservation, 5);
  ASSERT_TRUE(h.found);
  EXPECT_NE(h.message.find("money created"), std::string::npos) << h.message;
}

TEST(PropertiesCanFail, BothInTryOrderBreaksConservation) {
  EXPECT_TRUE(hunt(scenario("smoke", {"protocol.try_order=both_in_try"}), {}, Property::kConservation, 20).found);
}

TEST(PropertiesCanFail, SkippedFundsCheckBreaksNoNegativeBalance) {
  EngineBugs b;
  b.skip_funds_check = true;
  Scenario s = scenario("hot-accounts");
  EXPECT_TRUE(hunt(s, b, Property::kNoNegative, 20).found);
  expect_clean(s, 20);
}

TEST(PropertiesCanFail, CancelThatSkipsTheDebitLegBreaksAtomicity) {
  EngineBugs b;
  b.cancel_skips_debit = true;
  Scenario s = scenario("lossy-network");
  EXPECT_TRUE(hunt(s, b, Property::kAtomicity, 50).found);
}

TEST(PropertiesCanFail, ConfirmAppliedTwiceBreaksIdempotency) {
  EngineBugs b;
  b.confirm_twice = true;
  Scenario s = scenario("lossy-network");
  EXPECT_TRUE(hunt(s, b, Property::kIdempotency, 20).found);
  expect_clean(s, 20);
}

TEST(PropertiesCanFail, LostDedupAcceptsAReusedTransactionId) {
  EngineBugs b;
  b.lose_dedup = true;
  EXPECT_TRUE(hunt(scenario("smoke"), b, Property::kIdempotency, 40).found);
}

TEST(PropertiesCanFail, SuccessBeforeDecisionBreaksClientVisibleTruth) {
  EngineBugs b;
  b.reply_before_decision = true;
  EXPECT_TRUE(hunt(scenario("lossy-network"), b, Property::kClientTruth, 10).found);
}

TEST(PropertiesCanFail, NoSecondPhaseRetryBreaksLiveness) {
  EngineBugs b;
  b.no_phase2_retry = true;
  EXPECT_TRUE(hunt(scenario("lossy-network"), b, Property::kLiveness, 20).found);
}

TEST(PropertiesCanFail, MissingOutOfOrderMarkerIsCaught) {
  EngineBugs b;
  b.no_ooo_marker = true;
  Scenario s = scenario("lossy-network");
  Hunt atomic = hunt(s, b, Property::kAtomicity, 200);
  Hunt live = hunt(s, b, Property::kLiveness, 200);
  EXPECT_TRUE(atomic.found || live.found);
}

TEST(PropertiesCanFail, DecisionSentBeforeDurableIsCaughtUnderCoordinatorCrashes) {
  EngineBugs b;
  b.decision_before_durable = true;
  Scenario s = scenario("coordinator-crash");
  Hunt h = hunt(s, b, Property::kAtomicity, 200);
  ASSERT_TRUE(h.found);
  EXPECT_NE(h.message.find("no durable decision"), std::string::npos) << h.message;
  expect_clean(s, 50);
}

TEST(PropertiesCanFail, StateChangedOutsideTheLogBreaksReplay) {
  EngineBugs b;
  b.unlogged_change = true;
  Scenario s = scenario("smoke");
  EXPECT_TRUE(hunt(s, b, Property::kReplay, 5).found);
  expect_clean(s, 5);
}

TEST(PropertiesCanFail, HiddenProcessStateBreaksDeterminism) {
  EngineBugs b;
  b.nondeterministic = true;
  Scenario s = scenario("lossy-network");
  EXPECT_TRUE(hunt(s, b, Property::kDeterminism, 10, /*determinism=*/true).found);
  expect_clean(s, 10, /*determinism=*/true);
}

// The same checkers guard the other protocols.
TEST(PropertiesCanFail, TwoPhaseCommitWithoutRowLocksBreaksNoNegativeBalance) {
  EngineBugs b;
  b.twopc_no_lock = true;
  Scenario s = scenario("hot-accounts", {"protocol.kind=2pc"});
  EXPECT_TRUE(hunt(s, b, Property::kNoNegative, 40).found);
  expect_clean(s, 40);
}

TEST(PropertiesCanFail, SagaWithoutCompensationBreaksAtomicity) {
  EngineBugs b;
  b.saga_no_compensation = true;
  Scenario s = scenario("hot-accounts", {"protocol.kind=saga"});
  // Only a credit refused by the balance limit needs a compensation: a few
  // seeds in a hundred.
  EXPECT_TRUE(hunt(s, b, Property::kAtomicity, 200).found);
  expect_clean(s, 40);
}

TEST(PropertiesCanFail, TwoPhaseCommitDecisionBeforeDurableIsCaught) {
  EngineBugs b;
  b.decision_before_durable = true;
  Scenario s = scenario("coordinator-crash", {"protocol.kind=2pc"});
  EXPECT_TRUE(hunt(s, b, Property::kAtomicity, 200).found);
}

// The checkers' former blind spots. Each bug is set the way a user would set
// it (`--set bugs.NAME=true`), so explore, replay and shrink see it too.
TEST(PropertiesCanFail, DedupThatComparesOnlyTheAmountAcceptsAReuseWithAnotherCurrencyOrAccount) {
  Scenario s = scenario("smoke", {"bugs.dedup_amount_only=true"});
  Hunt h = hunt(s, {}, Property::kIdempotency, 50);
  ASSERT_TRUE(h.found);
  EXPECT_NE(h.message.find("reused with different content"), std::string::npos) << h.message;
}

TEST(PropertiesCanFail, CreditPastTheLimitBreaksBalanceLimit) {
  Scenario s = scenario("hot-accounts", {"bugs.skip_balance_limit=true"});
  Hunt h = hunt(s, {}, Property::kBalanceLimit, 50);
  ASSERT_TRUE(h.found);
  EXPECT_NE(h.message.find("past its limit"), std::string::npos) << h.message;
  expect_clean(scenario("hot-accounts"), 50);
}

TEST(PropertiesCanFail, EngineMisreadingAShortAmountIsCaughtByTheCheckersOwnReading) {
  Scenario s = scenario("smoke", {"bugs.misread_short_amount=true"});
  Hunt h = hunt(s, {}, Property::kClientTruth, 20);
  ASSERT_TRUE(h.found);
  EXPECT_NE(h.message.find("asked for"), std::string::npos) << h.message;
}

TEST(PropertiesCanFail, CreditOnTheWrongAccountBreaksModelAgreement) {
  Scenario s = scenario("smoke", {"bugs.credit_wrong_account=true"});
  Hunt h = hunt(s, {}, Property::kModelAgreement, 20);
  ASSERT_TRUE(h.found);
  EXPECT_NE(h.message.find("durable events add up to"), std::string::npos) << h.message;
  expect_clean(scenario("smoke"), 20);
}

// Model agreement is checked when a partition comes back from a crash, not
// only at the end: a fault-free run would find it only at the end.
TEST(PropertiesCanFail, ModelAgreementIsCheckedAfterEachPartitionRestart) {
  Scenario s = scenario("shard-crash", {"bugs.credit_wrong_account=true"});
  Hunt h = hunt(s, {}, Property::kModelAgreement, 50);
  ASSERT_TRUE(h.found);
  EXPECT_NE(h.message.find("after its restart"), std::string::npos) << h.message;
}

// Forgetting (docs/forgetting.md). A coordinator that forgets a finished
// row before its retention window ends starts a client's retry as a new
// transfer.
TEST(PropertiesCanFail, ForgettingARowEarlyBreaksIdempotency) {
  Scenario s = scenario("forgetful", {"bugs.forget_early=true"});
  Hunt h = hunt(s, {}, Property::kIdempotency, 20);
  ASSERT_TRUE(h.found);
  EXPECT_NE(h.message.find("begun twice"), std::string::npos) << h.message;
  expect_clean(scenario("forgetful"), 20);
}

// A partition that forgets finished legs its coordinator's low watermark has
// not passed takes a late duplicate for new work: a Confirm that crossed its
// own acknowledgement finds no leg and is refused, as if the coordinator had
// sent both outcomes.
TEST(PropertiesCanFail, ForgettingLegsAboveTheWatermarkIsCaught) {
  Scenario s = scenario("forgetful", {"bugs.ignore_watermark=true"});
  Hunt h = hunt(s, {}, Property::kAtomicity, 20);
  ASSERT_TRUE(h.found);
  EXPECT_NE(h.message.find("refused"), std::string::npos) << h.message;
}

// A same-partition transfer is one local transaction, idempotent per
// transaction id. A partition that applies a repeated one again (a resent
// or duplicated message) moves the money twice.
TEST(PropertiesCanFail, ALocalTransferAppliedTwiceIsCaught) {
  Scenario s = scenario("chaos", {"bugs.local_repeat_applies=true"});
  Hunt h = hunt(s, {}, Property::kIdempotency, 20, false, "applied twice");
  ASSERT_TRUE(h.found);
  expect_clean(scenario("chaos"), 20);
  // Run in two legs, the same transfers cannot meet the broken rule.
  expect_clean(scenario("chaos", {"bugs.local_repeat_applies=true", "protocol.same_partition=two_legs"}), 20);
}

// The archive (each partition's log as it is cut behind snapshots) is
// replayed as it is cut: it must replay, and at every snapshot in it the
// balances must be what the checker's model had when that snapshot became
// durable. Both checks can fail.
TEST(PropertiesCanFail, AnArchiveThatDoesNotReplayIsCaught) {
  EXPECT_TRUE(hunt(scenario("forgetful", {"bugs.unlogged_change=true"}), {}, Property::kReplay, 10, false,
                   "its archive (the log cut behind snapshots) does not replay")
                  .found);
}

TEST(PropertiesCanFail, AnArchiveThatReplaysToOtherBalancesThanTheModelIsCaught) {
  Scenario s = scenario("forgetful",
                        {"bugs.credit_wrong_account=true", "workload.max_amount_pct=1", "workload.edge_probability=0"});
  EXPECT_TRUE(hunt(s, {}, Property::kReplay, 10, false, "replaying its archive to a snapshot gives").found);
}

}  // namespace
}  // namespace ws
