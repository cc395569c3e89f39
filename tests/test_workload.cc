// The simulated workload reaches what the checkers must see: reuses of a
// transaction_id that change each field, amounts at the edges of the funds
// and of the largest amount, and every valid short form of an amount.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "properties/reading.h"
#include "scenarios/scenario.h"
#include "sim/workload.h"

namespace ws {
namespace {

Scenario scenario(const std::vector<std::string>& sets) {
  ScenarioLoad sl = load_scenario("smoke", sets);
  EXPECT_TRUE(sl.scenario) << sl.error;
  return *sl.scenario;
}

int64_t minor_of(const ClusterConfig& c, const PlannedRequest& r) {
  for (const CurrencyInfo& cur : c.currencies)
    if (r.currency == cur.code) return reading::amount_minor(r.amount, cur.minor_digits).value_or(-1);
  return -1;
}

TEST(Workload, ReusesChangeEachFieldAloneAndSeveralTogether) {
  Scenario s = scenario({"workload.reuse_probability=0.3"});
  const ClusterConfig& c = s.sim.cluster;
  std::set<std::string> seen;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    Workload w = generate_workload(c, s.workload, seed);
    for (const PlannedRequest& q : w.requests) {
      if (q.kind != RequestKind::kReuse) continue;
      const PlannedRequest& r = w.requests[static_cast<size_t>(q.reuse_of)];
      ASSERT_EQ(q.txid, r.txid);
      std::string changed;
      if (q.from != r.from) changed += "from ";
      if (q.to != r.to) changed += "to ";
      if (minor_of(c, q) != minor_of(c, r)) changed += "amount ";
      if (q.currency != r.currency) changed += "currency ";
      ASSERT_FALSE(changed.empty()) << "a reuse identical to its original is a duplicate, not a reuse";
      ASSERT_NE(q.from, q.to);
      ASSERT_GT(minor_of(c, q), 0) << q.amount;
      seen.insert(changed);
    }
  }
  for (const char* alone : {"from ", "to ", "amount ", "currency "}) EXPECT_TRUE(seen.count(alone)) << alone;
  EXPECT_TRUE(seen.count("from to amount currency "));
  EXPECT_GE(seen.size(), 10u);
}

// Balance reads come from their own random stream: with them on, the
// transfers are exactly those of the same seed without reads, in order;
// about read_probability of the transfers are followed by one, at the same
// instant, of a real account and currency, half of them an account that
// transfer moves.
TEST(Workload, ReadsLeaveTheTransfersAsTheyWere) {
  Scenario plain = scenario({});
  Scenario with = scenario({"workload.read_probability=0.5"});
  const ClusterConfig& c = with.sim.cluster;
  size_t reads = 0, transfers = 0, of_its_transfer = 0;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    Workload a = generate_workload(c, plain.workload, seed);
    Workload b = generate_workload(c, with.workload, seed);
    std::vector<const PlannedRequest*> kept;
    const PlannedRequest* last = nullptr;
    for (const PlannedRequest& q : b.requests) {
      if (q.kind != RequestKind::kRead) {
        kept.push_back(&q);
        last = &q;
        ++transfers;
        continue;
      }
      ++reads;
      ASSERT_NE(last, nullptr);
      EXPECT_EQ(q.at, last->at);
      EXPECT_LT(q.from, c.accounts);
      EXPECT_LT(q.client, c.clients);
      EXPECT_TRUE(find_currency(q.currency)) << q.currency;
      of_its_transfer += q.from == last->from || q.from == last->to;
    }
    ASSERT_EQ(kept.size(), a.requests.size()) << "seed " << seed;
    for (size_t i = 0; i < kept.size(); ++i) {
      EXPECT_EQ(kept[i]->txid, a.requests[i].txid);
      EXPECT_EQ(kept[i]->at, a.requests[i].at);
      EXPECT_EQ(kept[i]->amount, a.requests[i].amount);
      EXPECT_EQ(kept[i]->reuse_of == -1, a.requests[i].reuse_of == -1);
    }
  }
  EXPECT_GT(reads, transfers * 4 / 10);
  EXPECT_LT(reads, transfers * 6 / 10);
  EXPECT_GT(of_its_transfer, reads * 4 / 10);
}

// The generator's edges follow its projection of balances (every earlier
// valid transfer committed, in order); this test keeps its own projection.
TEST(Workload, AmountsReachTheEdgesOfFundsLimitsAndTheLargestAmount) {
  Scenario s = scenario({"workload.edge_probability=0.5", "workload.invalid_probability=0", "cluster.max_balance=300"});
  const ClusterConfig& c = s.sim.cluster;
  const size_t ncur = c.currencies.size();
  int exact = 0, one_more = 0, largest = 0, fills = 0, past_limit = 0;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    Workload w = generate_workload(c, s.workload, seed);
    std::vector<int64_t> bal(size_t{c.accounts} * ncur);
    for (size_t i = 0; i < bal.size(); ++i) bal[i] = c.initial_balance[i % ncur].minor;
    for (const PlannedRequest& r : w.requests) {
      if (r.kind != RequestKind::kValid) continue;
      size_t k = 0;
      while (r.currency != c.currencies[k].code) ++k;
      const int64_t a = minor_of(c, r), limit = c.max_balance[k].minor;
      int64_t& from = bal[r.from * ncur + k];
      int64_t& to = bal[r.to * ncur + k];
      exact += a == from;
      one_more += a == from + 1;
      largest += a == kMaxAmountMinor;
      fills += a == limit - to;
      past_limit += a == limit - to + 1;
      if (a <= from && to + a <= limit) {
        from -= a;
        to += a;
      }
    }
  }
  EXPECT_GT(exact, 5);
  EXPECT_GT(one_more, 5);
  EXPECT_GT(largest, 5);
  EXPECT_GT(fills, 5);
  EXPECT_GT(past_limit, 5);
}

TEST(Workload, AmountsAreWrittenInEveryValidShortForm) {
  Scenario s = scenario({"workload.transfers=2000", "workload.max_amount_pct=1"});
  const ClusterConfig& c = s.sim.cluster;
  bool canonical = false, one_zero_dropped = false, whole_only = false, one_of_two_dropped = false;
  for (uint64_t seed = 0; seed < 10; ++seed)
  for (const PlannedRequest& r : generate_workload(c, s.workload, seed).requests) {
    if (r.kind != RequestKind::kValid || r.currency == "JPY") continue;
    const size_t dot = r.amount.find('.');
    const size_t frac = dot == std::string::npos ? 0 : r.amount.size() - dot - 1;
    canonical |= frac == 2;
    whole_only |= dot == std::string::npos;
    if (frac == 1) (minor_of(c, r) % 100 == 0 ? one_of_two_dropped : one_zero_dropped) = true;
  }
  EXPECT_TRUE(canonical);
  EXPECT_TRUE(one_zero_dropped) << "12.5 for 12.50";
  EXPECT_TRUE(one_of_two_dropped) << "3.0 for 3.00";
  EXPECT_TRUE(whole_only) << "3 for 3.00";
}

TEST(Workload, AWarmUpDelaysEveryRequestAndChangesNothingElse) {
  Scenario plain = scenario({"phases.fault_ms=1000"});
  Scenario later = scenario({"phases.fault_ms=1000", "workload.start_ms=300"});
  Workload a = generate_workload(plain.sim.cluster, plain.workload, 7);
  Workload b = generate_workload(later.sim.cluster, later.workload, 7);
  ASSERT_EQ(a.requests.size(), b.requests.size());
  for (size_t i = 0; i < a.requests.size(); ++i) {
    EXPECT_EQ(b.requests[i].at, a.requests[i].at + 300 * kMillisecond) << i;
    EXPECT_EQ(b.requests[i].txid, a.requests[i].txid) << i;
    EXPECT_EQ(b.requests[i].amount, a.requests[i].amount) << i;
  }
  // The load must start within the fault phase: the two keys together are named.
  ScenarioLoad bad = load_scenario("smoke", {"workload.start_ms=300"});
  ASSERT_FALSE(bad.scenario);
  EXPECT_NE(bad.error.find("workload.start_ms"), std::string::npos) << bad.error;
  EXPECT_NE(bad.error.find("phases.fault_ms"), std::string::npos) << bad.error;
}

}  // namespace
}  // namespace ws
