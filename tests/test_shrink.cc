// Unit tests for properties/shrink: a failing run shrinks to a small spec that
// still fails with the same property, deterministically; the shrunk spec makes
// a valid failure file that replays to the same trace hash; a broken engine's
// failure shrinks too; a passing spec is returned unchanged.
#include <gtest/gtest.h>

#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "properties/failure_file.h"
#include "properties/runner.h"
#include "properties/shrink.h"
#include "scenarios/scenario.h"

namespace ws {
namespace {

using nlohmann::json;

Scenario LoadScenario(const std::string& name, const std::vector<std::string>& sets = {}) {
  ScenarioLoad l = load_scenario(name, sets);
  EXPECT_TRUE(l.scenario.has_value()) << name << ": " << l.error;
  return l.scenario.value_or(Scenario{});
}

struct Failing {
  RunSpec spec;
  Property property = Property::kConservation;
};

// The first seed in [0, 50] whose run fails; with `want`, only with that property.
std::optional<Failing> FindFailing(const Scenario& s, const RunOptions& opt,
                                   std::optional<Property> want = std::nullopt) {
  for (uint64_t seed = 0; seed <= 50; ++seed) {
    RunSpec spec = make_spec(s, seed);
    RunResult r = run_spec(spec, opt);
    if (r.violations.empty()) continue;
    if (want && r.violations.front().property != *want) continue;
    return Failing{spec, r.violations.front().property};
  }
  return std::nullopt;
}

// What the failure file loader and the clients rely on.
void ExpectConsistent(const RunSpec& spec) {
  const auto& reqs = spec.workload.requests;
  const ClusterConfig& c = spec.scenario.sim.cluster;
  EXPECT_GE(c.accounts, 2u);
  EXPECT_EQ(c.account_partition.size(), c.accounts);
  EXPECT_EQ(spec.scenario.doc["cluster"]["accounts"].get<uint64_t>(), c.accounts);
  EXPECT_EQ(spec.scenario.doc["phases"]["fault_ms"].get<int64_t>() * kMillisecond, spec.scenario.sim.fault_phase);
  EXPECT_LE(spec.scenario.doc["workload"]["duration_ms"].get<int64_t>(),
            spec.scenario.doc["phases"]["fault_ms"].get<int64_t>());
  for (size_t i = 0; i < reqs.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    if (i > 0) {
      EXPECT_LE(reqs[i - 1].at, reqs[i].at);
    }
    EXPECT_LT(reqs[i].at, spec.scenario.sim.fault_phase);
    if (reqs[i].kind == RequestKind::kReuse) {
      ASSERT_GE(reqs[i].reuse_of, 0);
      ASSERT_LT(static_cast<size_t>(reqs[i].reuse_of), i);
      EXPECT_EQ(reqs[reqs[i].reuse_of].kind, RequestKind::kValid);
      EXPECT_EQ(reqs[reqs[i].reuse_of].txid, reqs[i].txid);
    } else {
      EXPECT_EQ(reqs[i].reuse_of, -1);
    }
    if (reqs[i].kind == RequestKind::kUnknownAccount) {
      EXPECT_TRUE(reqs[i].from >= c.accounts || reqs[i].to >= c.accounts);
    } else {
      EXPECT_LT(reqs[i].from, c.accounts);
      EXPECT_LT(reqs[i].to, c.accounts);
    }
  }
  for (const CrashFault& f : spec.plan.crashes) EXPECT_LT(f.at, spec.scenario.sim.fault_phase);
  for (const PartitionFault& f : spec.plan.partitions) EXPECT_LT(f.start, spec.scenario.sim.fault_phase);
}

void Report(const char* what, const ShrinkResult& r) {
  std::cout << "[ shrink   ] " << what << ": " << r.before.to_string() << "\n"
            << "[ shrink   ]   -> " << r.after.to_string() << " in " << r.runs << " runs\n";
}

TEST(Shrink, CreditFirstFailureShrinksToAFewRequests) {
  Scenario s = LoadScenario("smoke", {"protocol.try_order=credit_first"});
  std::optional<Failing> f = FindFailing(s, {});
  ASSERT_TRUE(f.has_value()) << "no seed in 0..50 fails with credit_first";

  std::vector<std::string> lines;
  ShrinkOptions so;
  so.progress = [&](const std::string& line) { lines.push_back(line); };
  ShrinkResult r = shrink(f->spec, f->property, so);
  Report(to_string(f->property), r);
  ASSERT_TRUE(r.reproduced);
  EXPECT_FALSE(lines.empty());
  EXPECT_LE(r.after.requests, 3u);
  EXPECT_GE(r.after.requests, 1u);
  EXPECT_LT(r.after.requests, r.before.requests);
  EXPECT_LE(r.after.accounts, r.before.accounts);
  EXPECT_LE(r.after.crashes, r.before.crashes);
  EXPECT_LE(r.after.partitions, r.before.partitions);
  EXPECT_LE(r.after.clocks, r.before.clocks);
  EXPECT_LE(r.after.network_faults, r.before.network_faults);
  EXPECT_LE(r.after.fault_phase_ns, r.before.fault_phase_ns);
  EXPECT_LE(r.runs, ShrinkOptions{}.max_runs + 1);
  ASSERT_FALSE(r.result.violations.empty());
  EXPECT_EQ(r.result.violations.front().property, f->property);
  ExpectConsistent(r.spec);

  // It still fails when run on its own.
  RunResult again = run_spec(r.spec);
  ASSERT_FALSE(again.violations.empty());
  EXPECT_EQ(again.violations.front().property, f->property);
  EXPECT_EQ(again.trace_hash, r.result.trace_hash);

  // Deterministic: a second shrink gives the identical spec.
  ShrinkResult r2 = shrink(f->spec, f->property);
  EXPECT_EQ(workload_to_json(r2.spec.workload), workload_to_json(r.spec.workload));
  EXPECT_EQ(fault_plan_to_json(r2.spec.plan), fault_plan_to_json(r.spec.plan));
  EXPECT_EQ(r2.spec.scenario.doc, r.spec.scenario.doc);
  EXPECT_EQ(r2.spec.seed, r.spec.seed);
  EXPECT_EQ(r2.runs, r.runs);
  EXPECT_EQ(r2.result.trace_hash, r.result.trace_hash);

  // A failure file written from it loads back and replays to the same trace hash.
  json doc = failure_to_json(r.spec, r.result);
  FailureLoad load = failure_from_json(json::parse(doc.dump()));
  ASSERT_TRUE(load.file.has_value()) << load.error;
  EXPECT_EQ(load.file->property, f->property);
  EXPECT_EQ(load.file->trace_hash, r.result.trace_hash);
  EXPECT_EQ(workload_to_json(load.file->spec.workload), workload_to_json(r.spec.workload));
  EXPECT_EQ(fault_plan_to_json(load.file->spec.plan), fault_plan_to_json(r.spec.plan));
  EXPECT_EQ(load.file->spec.scenario.sim.cluster.accounts, r.spec.scenario.sim.cluster.accounts);
  EXPECT_EQ(load.file->spec.scenario.sim.fault_phase, r.spec.scenario.sim.fault_phase);
  RunResult replay = run_spec(load.file->spec);
  ASSERT_FALSE(replay.violations.empty());
  EXPECT_EQ(replay.violations.front().property, f->property);
  EXPECT_EQ(replay.trace_hash, r.result.trace_hash);
}

TEST(Shrink, BrokenEngineIdempotencyFailureShrinks) {
  Scenario s = LoadScenario("lossy-network");
  RunOptions base;
  base.bugs.confirm_twice = true;
  std::optional<Failing> f = FindFailing(s, base, Property::kIdempotency);
  ASSERT_TRUE(f.has_value()) << "no seed in 0..50 fails with idempotency when Confirm credits twice";

  ShrinkResult r = shrink(f->spec, Property::kIdempotency, {}, base);
  Report("idempotency (confirm_twice)", r);
  ASSERT_TRUE(r.reproduced);
  EXPECT_LT(r.after.requests, r.before.requests);
  ASSERT_FALSE(r.result.violations.empty());
  EXPECT_EQ(r.result.violations.front().property, Property::kIdempotency);
  ExpectConsistent(r.spec);

  RunResult again = run_spec(r.spec, base);
  ASSERT_FALSE(again.violations.empty());
  EXPECT_EQ(again.violations.front().property, Property::kIdempotency);
  // The bug is in the engine, not in the spec: the correct engine passes it.
  EXPECT_TRUE(run_spec(r.spec).ok);
}

// A lost dedup table fails on a reused transaction_id: the shrunk workload
// keeps the reuse together with its original, renumbered.
TEST(Shrink, ReuseRequestsKeepTheirOriginal) {
  Scenario s = LoadScenario("smoke");
  RunOptions base;
  base.bugs.lose_dedup = true;
  std::optional<Failing> f = FindFailing(s, base, Property::kIdempotency);
  ASSERT_TRUE(f.has_value()) << "no seed in 0..50 fails with idempotency when dedup is lost";

  ShrinkResult r = shrink(f->spec, Property::kIdempotency, {}, base);
  Report("idempotency (lose_dedup)", r);
  ASSERT_TRUE(r.reproduced);
  EXPECT_LT(r.after.requests, r.before.requests);
  ExpectConsistent(r.spec);
  json doc = failure_to_json(r.spec, r.result);
  FailureLoad load = failure_from_json(json::parse(doc.dump()));
  ASSERT_TRUE(load.file.has_value()) << load.error;
  RunResult replay = run_spec(load.file->spec, base);
  EXPECT_EQ(replay.trace_hash, r.result.trace_hash);
}

TEST(Shrink, PassingSpecIsNotReproducedAndStaysUnchanged) {
  Scenario s = LoadScenario("smoke");
  std::optional<RunSpec> passing;
  for (uint64_t seed = 0; seed <= 50 && !passing; ++seed) {
    RunSpec spec = make_spec(s, seed);
    if (run_spec(spec).ok) passing = spec;
  }
  ASSERT_TRUE(passing.has_value());
  ShrinkResult r = shrink(*passing, Property::kConservation);
  EXPECT_FALSE(r.reproduced);
  EXPECT_EQ(r.runs, 1u);
  EXPECT_TRUE(r.result.ok);
  EXPECT_EQ(workload_to_json(r.spec.workload), workload_to_json(passing->workload));
  EXPECT_EQ(fault_plan_to_json(r.spec.plan), fault_plan_to_json(passing->plan));
  EXPECT_EQ(r.spec.scenario.doc, passing->scenario.doc);
  EXPECT_EQ(r.spec.seed, passing->seed);
  EXPECT_EQ(r.before.to_string(), r.after.to_string());
  EXPECT_EQ(r.after.to_string(), size_of(*passing).to_string());
}

TEST(Shrink, BudgetIsRespected) {
  Scenario s = LoadScenario("smoke", {"protocol.try_order=credit_first"});
  std::optional<Failing> f = FindFailing(s, {});
  ASSERT_TRUE(f.has_value());
  ShrinkOptions so;
  so.max_runs = 5;
  ShrinkResult r = shrink(f->spec, f->property, so);
  ASSERT_TRUE(r.reproduced);
  EXPECT_LE(r.runs, 6u);  // the budget plus the final check
  ASSERT_FALSE(r.result.violations.empty());
  EXPECT_EQ(r.result.violations.front().property, f->property);
  EXPECT_LE(r.after.requests, r.before.requests);
}

TEST(Shrink, SizeToString) {
  ShrinkSize z;
  z.requests = 3;
  z.accounts = 2;
  z.fault_phase_ns = 7 * kMillisecond;
  EXPECT_EQ(z.to_string(), "requests=3 accounts=2 crashes=0 partitions=0 clocks=0 network_faults=0 fault_phase=7ms");
}

}  // namespace
}  // namespace ws
