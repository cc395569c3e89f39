// The simulator's own contract: determinism, durability on crash, torn tails,
// and the trace.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "bench/sizing.h"
#include "bench/tps.h"
#include "properties/runner.h"
#include "sim/trace.h"

namespace ws {
namespace {

Scenario smoke(const std::vector<std::string>& sets = {}) { return *load_scenario("smoke", sets).scenario; }

TEST(Simulator, SameSeedGivesSameTraceHash) {
  for (uint64_t seed : {0ull, 1ull, 42ull, 4242ull}) {
    RunSpec spec = make_spec(smoke(), seed);
    EXPECT_EQ(run_spec(spec).trace_hash, run_spec(spec).trace_hash) << "seed " << seed;
  }
}

TEST(Simulator, DifferentSeedsGiveDifferentRuns) {
  std::set<uint64_t> hashes;
  for (uint64_t seed = 0; seed < 50; ++seed) hashes.insert(run_spec(make_spec(smoke(), seed)).trace_hash);
  EXPECT_EQ(hashes.size(), 50u);
}

TEST(Simulator, GeneratedSpecIsAFunctionOfTheSeed) {
  RunSpec a = make_spec(smoke(), 9), b = make_spec(smoke(), 9);
  ASSERT_EQ(a.workload.requests.size(), b.workload.requests.size());
  for (size_t i = 0; i < a.workload.requests.size(); ++i) {
    EXPECT_EQ(a.workload.requests[i].txid, b.workload.requests[i].txid);
    EXPECT_EQ(a.workload.requests[i].at, b.workload.requests[i].at);
  }
  EXPECT_EQ(a.plan.crashes.size(), b.plan.crashes.size());
}

// The trace hash must see every field of every record, and their order: a
// fold that dropped a field would let two different runs share a hash.
TEST(Simulator, TraceFoldSeesEveryFieldAndTheOrderOfRecords) {
  TraceRecord base;
  base.t = 123456789;
  base.kind = TraceKind::kDeliver;
  base.node = 3;
  base.peer = 7;
  base.msg = MsgKind::kTryReply;
  base.leg = Leg::kCredit;
  base.yes = true;
  base.outcome = Outcome::kSuccess;
  base.tx = TxId{0x0123456789abcdefULL, 0x8877665544332211ULL};
  base.request = 42;
  base.aux = 99;
  const uint64_t h0 = 0x5555aaaa5555aaaaULL;
  const uint64_t want = trace_fold(h0, base);
  std::vector<std::pair<const char*, TraceRecord>> changed;
  auto with = [&](const char* what, auto edit) {
    TraceRecord r = base;
    edit(r);
    changed.emplace_back(what, r);
  };
  with("t", [](TraceRecord& r) { r.t += 1; });
  with("kind", [](TraceRecord& r) { r.kind = TraceKind::kDropped; });
  with("node", [](TraceRecord& r) { r.node ^= 1; });
  with("peer", [](TraceRecord& r) { r.peer ^= 1; });
  with("msg", [](TraceRecord& r) { r.msg = MsgKind::kTry; });
  with("leg", [](TraceRecord& r) { r.leg = Leg::kDebit; });
  with("yes", [](TraceRecord& r) { r.yes = false; });
  with("outcome", [](TraceRecord& r) { r.outcome = Outcome::kFailed; });
  with("tx.hi", [](TraceRecord& r) { r.tx.hi ^= uint64_t{1} << 63; });
  with("tx.lo", [](TraceRecord& r) { r.tx.lo ^= 1; });
  with("request", [](TraceRecord& r) { r.request += 1; });
  with("aux", [](TraceRecord& r) { r.aux ^= uint64_t{1} << 40; });
  std::set<uint64_t> seen{want};
  for (const auto& [what, r] : changed) {
    const uint64_t h = trace_fold(h0, r);
    EXPECT_NE(h, want) << "a change of " << what << " does not reach the trace hash";
    EXPECT_TRUE(seen.insert(h).second) << what;
  }
  EXPECT_NE(trace_fold(h0 ^ 1, base), want) << "the running hash is lost";
  const TraceRecord& other = changed.front().second;
  EXPECT_NE(trace_fold(trace_fold(h0, base), other), trace_fold(trace_fold(h0, other), base))
      << "two records fold the same in either order";
}

TEST(Simulator, TraceIsOneJsonObjectPerProcessedEvent) {
  std::ostringstream out;
  RunOptions opt;
  opt.trace = &out;
  RunResult r = run_spec(make_spec(smoke(), 3), opt);
  std::istringstream in(out.str());
  uint64_t lines = 0;
  for (std::string line; std::getline(in, line);) {
    ++lines;
    ASSERT_FALSE(nlohmann::json::parse(line, nullptr, false).is_discarded()) << line;
  }
  // Processed events plus network decisions (drops, duplicates) made while sending.
  EXPECT_GE(lines, r.stats.events);
}

TEST(Simulator, TracingDoesNotChangeTheRun) {
  std::ostringstream out;
  RunOptions opt;
  opt.trace = &out;
  RunSpec spec = make_spec(smoke(), 5);
  EXPECT_EQ(run_spec(spec, opt).trace_hash, run_spec(spec).trace_hash);
}

TEST(Simulator, FaultFreeRunCommitsEveryFundedTransfer) {
  RunSpec spec = make_spec(smoke({"faults.profile=none", "workload.invalid_probability=0",
                                  "workload.reuse_probability=0"}), 11);
  RunResult r = run_spec(spec);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.rejected, 0u);
  EXPECT_GT(r.committed, spec.workload.requests.size() * 8 / 10);
  EXPECT_TRUE(r.stats.quiescent);
  EXPECT_EQ(r.stats.crashes, 0u);
}

TEST(Simulator, CrashLosesUnsyncedRecordsAndTornTailIsTruncated) {
  // A partition crashes many times with torn writes; every run must still
  // satisfy every property, and the crashes must really happen.
  RunSpec spec = make_spec(smoke({"faults.profile=none"}), 3);
  for (int i = 0; i < 20; ++i)
    spec.plan.crashes.push_back({static_cast<NodeId>(i % 4), (10 + 15 * i) * kMillisecond, 3 * kMillisecond, true});
  RunOptions opt;
  std::ostringstream trace;
  opt.trace = &trace;
  RunResult r = run_spec(spec, opt);
  EXPECT_TRUE(r.ok) << (r.ok ? "" : r.violations.front().message);
  EXPECT_EQ(r.stats.crashes, 20u);
  EXPECT_NE(trace.str().find("\"torn_tail\""), std::string::npos);
}

TEST(Simulator, InvalidRequestsAreRejectedAndChangeNothing) {
  RunSpec spec = make_spec(smoke({"faults.profile=none", "workload.invalid_probability=1"}), 4);
  RunResult r = run_spec(spec);
  ASSERT_TRUE(r.ok) << r.violations.front().message;
  EXPECT_EQ(r.committed, 0u);
  EXPECT_EQ(r.rejected, spec.workload.requests.size());
}

TEST(Simulator, ZeroServiceTimeChangesNothing) {
  RunSpec a = make_spec(smoke(), 21);
  RunSpec b = make_spec(smoke({"node.partition_op_ns=0", "node.coordinator_op_ns=0"}), 21);
  EXPECT_EQ(run_spec(a).trace_hash, run_spec(b).trace_hash);
}

TEST(Simulator, ServiceTimeMakesQueuesFormAndBoundsThroughput) {
  // 2,000 transfers offered in 100 ms to 2 partitions that each handle one
  // message per 200 µs: far beyond capacity, so messages queue, latency grows,
  // every property still holds, and busy time never exceeds elapsed time.
  std::vector<std::string> sets = {"faults.profile=none", "workload.transfers=2000", "workload.duration_ms=100",
                                   "cluster.partitions=2", "node.partition_op_ns=200000",
                                   "workload.invalid_probability=0", "workload.reuse_probability=0"};
  RunSpec slow = make_spec(smoke(sets), 3);
  sets[4] = "node.partition_op_ns=0";
  RunSpec fast = make_spec(smoke(sets), 3);
  RunResult rs = run_spec(slow), rf = run_spec(fast);
  ASSERT_TRUE(rs.ok) << rs.violations.front().message;
  ASSERT_TRUE(rf.ok) << rf.violations.front().message;
  EXPECT_GT(rs.stats.queued, 0u);
  EXPECT_EQ(rf.stats.queued, 0u);
  std::vector<Duration> ls = rs.latencies, lf = rf.latencies;
  std::sort(ls.begin(), ls.end());
  std::sort(lf.begin(), lf.end());
  EXPECT_GT(ls[ls.size() / 2], 10 * lf[lf.size() / 2]);  // median latency grows under load
  Simulator sim(slow.scenario.sim, slow.seed, slow.workload, slow.plan);
  SimStats st = sim.run();
  for (uint32_t p = 0; p < 2; ++p) {
    EXPECT_LE(sim.busy_time(p), st.end_time);
    EXPECT_GT(sim.busy_time(p), st.end_time / 10);
  }
}

TEST(Tps, RateSweepParsesAndRejectsBadInput) {
  std::vector<double> r;
  ASSERT_TRUE(parse_rates("1000..8000x2", r));
  EXPECT_EQ(r, (std::vector<double>{1000, 2000, 4000, 8000}));
  ASSERT_TRUE(parse_rates("5000", r));
  EXPECT_EQ(r, std::vector<double>{5000});
  for (const char* bad : {"", "0", "-5", "10..5x2", "1..10x1", "1..10", "abc", "1e3"})
    EXPECT_FALSE(parse_rates(bad, r)) << bad;
}

TEST(Tps, UtilisationAndLatencyRiseWithLoadAndAdmissionControlPreventsCollapse) {
  // 2 partitions of 2,500 operations per second each (5,000 messages per
  // second): about 2,500 transfers per second at full utilisation. Below
  // capacity every offered transfer commits while utilisation and p99 rise.
  // Beyond it, without admission control queueing outlasts the Try timeout,
  // retries feed the queues and goodput collapses; with it (bounded inboxes,
  // a per-coordinator in-flight limit) goodput holds at a good part of it.
  // Every transfer costs two partition operations, as in the design's model
  // (on two partitions, half of them would otherwise be one local operation).
  Scenario s = smoke({"cluster.partitions=2", "protocol.same_partition=two_legs"});
  TpsOptions opt;
  opt.rates = {1000, 2000, 4000, 8000};
  opt.duration_s = 0.2;
  opt.capacity = 2500;
  std::vector<TpsPoint> with, without;
  ASSERT_EQ(run_tps(s, opt, with), "");
  opt.admission = false;
  ASSERT_EQ(run_tps(s, opt, without), "");
  ASSERT_EQ(with.size(), 4u);
  ASSERT_EQ(without.size(), 4u);
  for (const auto* pts : {&with, &without})
    for (const TpsPoint& p : *pts) {
      EXPECT_TRUE(p.ok);
      for (const auto& [node, u] : p.busiest) EXPECT_LE(u, 1.0001) << node;
    }
  EXPECT_GE(with[0].achieved_tps, 990);
  EXPECT_GE(with[1].achieved_tps, 1980);
  EXPECT_GT(with[1].busiest.front().second, with[0].busiest.front().second);
  EXPECT_GT(with[1].p99, with[0].p99);
  // Overloaded: collapse without admission control; with it, goodput holds
  // at more than half of capacity, several times what is left without.
  EXPECT_LT(without[2].achieved_tps, 1000);
  EXPECT_LT(without[3].achieved_tps, 1000);
  for (int i : {2, 3}) {
    EXPECT_GT(with[i].achieved_tps, 1250) << i;
    EXPECT_GT(with[i].achieved_tps, 3 * without[i].achieved_tps) << i;
  }
  EXPECT_EQ(without[3].shed, 0u);
  EXPECT_GT(with[3].shed, 0u);
}

TEST(Batching, CoordinatorBatchesKeepEveryPropertyAndAmortisePacketCost) {
  // Partitions pay 90 us per packet and 10 us per message in it. Unbatched,
  // a partition manages 10,000 messages per second; with the coordinator's
  // Try/Confirm/Cancel batched per partition the same nodes carry far more.
  Scenario s = smoke({"cluster.partitions=4", "node.partition_op_ns=10000", "node.partition_packet_ns=90000"});
  TpsOptions opt;
  opt.rates = {20000};
  opt.duration_s = 0.1;
  std::vector<TpsPoint> plain, batched;
  ASSERT_EQ(run_tps(s, opt, plain), "");
  Scenario b = smoke({"cluster.partitions=4", "node.partition_op_ns=10000", "node.partition_packet_ns=90000",
                      "protocol.batch_max=16", "protocol.batch_delay_ns=200000"});
  ASSERT_EQ(run_tps(b, opt, batched), "");
  EXPECT_TRUE(plain[0].ok);
  EXPECT_TRUE(batched[0].ok);
  EXPECT_LT(plain[0].achieved_tps, 0.75 * opt.rates[0]);
  EXPECT_GE(batched[0].achieved_tps, 0.97 * opt.rates[0]);  // the last ~2 ms of answers fall past the window
  // Under faults and crashes, with every protocol, batching breaks nothing.
  for (const char* kind : {"tcc", "2pc", "saga"})
    for (uint64_t seed = 0; seed < 30; ++seed) {
      Scenario c = *load_scenario("chaos", {std::string("protocol.kind=") + kind, "protocol.batch_max=8",
                                            "protocol.batch_delay_ns=300000"})
                        .scenario;
      RunSpec spec = make_spec(c, seed);
      Simulator probe(spec.scenario.sim, spec.seed, spec.workload, spec.plan);
      SimStats st = probe.run();
      EXPECT_GT(st.packets, 0u);
      RunResult r = run_spec(spec);
      EXPECT_TRUE(r.ok) << kind << " seed " << seed << ": " << (r.violations.empty() ? "" : r.violations[0].message);
    }
}

TEST(Sizing, FindsTheDesignsNodeCountsOnSmallSlices) {
  // The design's arithmetic, 2 operations per transfer / capacity, on a
  // small target so the test is quick: the simulated count for each capacity
  // lies just above it (queueing needs a little headroom), and the search is
  // not hard-wired: a bound that cannot be met finds nothing.
  SizingOptions opt;
  opt.target_tps = 20'000;
  opt.op_times = 300;
  opt.slice_partitions = 20;
  opt.extras = false;
  std::vector<SizingRow> rows;
  SizingProgress last;
  uint32_t least_planned = UINT32_MAX;
  ASSERT_EQ(run_sizing(smoke(), opt, rows,
                       [&](const SizingProgress& p) {
                         last = p;
                         least_planned = std::min(least_planned, p.planned);
                       }),
            "");
  ASSERT_EQ(rows.size(), 3u);
  // The progress plan bounds the probes all along (the time left shown is
  // an upper bound), and shrinks as searches end early.
  uint32_t probes = 0;
  for (const SizingRow& r : rows) probes += r.probes;
  EXPECT_EQ(last.probes, probes);
  EXPECT_GE(least_planned, probes);
  for (const SizingRow& r : rows) {
    EXPECT_EQ(r.design, static_cast<uint64_t>(2 * opt.target_tps / r.capacity));
    ASSERT_GT(r.found, 0u) << r.name;
    EXPECT_GE(static_cast<double>(r.found), 0.95 * r.design) << r.name;
    EXPECT_LE(static_cast<double>(r.found), 1.25 * r.design) << r.name;
    EXPECT_LE(r.p99, r.bound) << r.name;
  }
  opt.bound_op_times = 0;  // p99 under the bare network path: impossible
  opt.bound_base = kMicrosecond;
  rows.clear();
  ASSERT_EQ(run_sizing(smoke(), opt, rows, [](const SizingProgress&) {}), "");
  for (const SizingRow& r : rows) EXPECT_EQ(r.found, 0u) << r.name;
}

// A workload generated as the run consumes it gives exactly the run of the
// same workload written out: `walletsim run` (streamed) and a failure file
// or explore (explicit) agree on every seed.
TEST(Streaming, AGeneratedWorkloadRunsExactlyLikeTheSameWorkloadWrittenOut) {
  for (const char* name : {"smoke", "chaos", "forgetful", "hot-accounts"})
    for (uint64_t seed = 0; seed < 5; ++seed) {
      const Scenario s = *load_scenario(name, {}).scenario;
      RunOptions opt;
      opt.stop_at_first = false;
      RunResult a = run_spec(make_spec(s, seed), opt);
      RunResult b = run_spec(make_streamed_spec(s, seed), opt);
      EXPECT_EQ(a.trace_hash, b.trace_hash) << name << " " << seed;
      EXPECT_EQ(a.requests, b.requests);
      EXPECT_EQ(a.committed, b.committed);
      EXPECT_EQ(a.aborted, b.aborted);
      EXPECT_EQ(a.rejected, b.rejected);
      EXPECT_EQ(a.violations.size(), b.violations.size());
    }
}

// A long run holds only what is in flight: requests leave the simulator's
// window a retention window after they are done, and the checker retires a
// settled transaction's history a retention window after its last event.
// Also with one partition, where every transfer is a same-partition one:
// one event per transfer at the partition, two at the coordinator.
class Streaming : public ::testing::TestWithParam<const char*> {};

TEST_P(Streaming, ALongRunHoldsOnlyWhatIsInFlight) {
  const Scenario s = *load_scenario("smoke", {"workload.transfers=20000", "workload.duration_ms=20000",
                                              "phases.fault_ms=20000", "protocol.retention_ms=200",
                                              "client.horizon_ms=100", "phases.max_events=10000000",
                                              GetParam()})
                          .scenario;
  RunResult r = run_spec(make_streamed_spec(s, 1));
  ASSERT_TRUE(r.ok) << r.violations.front().message;
  EXPECT_GT(r.requests, 20000u);
  EXPECT_GT(r.committed, 10000u);
  // 1,000 requests a second, each held for its own life plus 200 ms.
  EXPECT_LT(r.peak_requests_held, 1000u);
  EXPECT_LT(r.peak_histories_held, 2000u);
  // Each log is cut behind its snapshots: no log ever holds more than a few
  // snapshots' worth, while the run writes many megabytes.
  EXPECT_GT(r.truncated_log_bytes, 4u << 20);
  EXPECT_LT(r.peak_log_bytes, 256u << 10);
}
INSTANTIATE_TEST_SUITE_P(Partitions, Streaming, ::testing::Values("cluster.partitions=4", "cluster.partitions=1"));

}  // namespace
}  // namespace ws
