// Google Benchmark suites for the hot paths: PRNG, partition-node apply, and
// whole simulated runs (event queue, network, disk, checkers together).
// Run: build/bench/ws_bench   (not part of ctest: timings are not tests)
#include <benchmark/benchmark.h>

#include "core/event_log.h"
#include "properties/runner.h"
#include "sim/rng.h"

namespace ws {
namespace {

void BM_Xoshiro(benchmark::State& state) {
  Xoshiro rng(1, "bench");
  for (auto _ : state) benchmark::DoNotOptimize(rng.next_u64());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Xoshiro);

// A Context whose log is kept in memory and whose messages go nowhere.
class NullContext final : public Context {
 public:
  class Log final : public Storage {
   public:
    void append(std::span<const uint8_t> p) override {
      if (bytes.size() > (64u << 20)) bytes.clear();
      append_record(bytes, p);
    }
    void read_all(const std::function<void(std::span<const uint8_t>)>& fn) override { scan_records(bytes, fn); }
    std::vector<uint8_t> bytes;
  };
  NodeId self() const override { return 0; }
  Time now() const override { return 0; }
  void send(NodeId, const Message&) override { ++sent; }
  void send_durable(NodeId, const Message&) override { ++sent; }
  void set_timer(Duration, TimerTag) override {}
  Storage& storage() override { return log; }
  Rng& rng() override { return r; }
  Log log;
  Xoshiro r{1, "bench"};
  uint64_t sent = 0;
};

// Try + Confirm of both legs of a transfer on one partition, in memory.
void BM_PartitionTryConfirm(benchmark::State& state) {
  ClusterConfig cfg;
  cfg.partitions = 1;
  cfg.accounts = 1000;
  cfg.currencies = {*find_currency("USD")};
  cfg.initial_balance = {Amount{1'000'000'000}};
  cfg.protocol.snapshot_every = 0;
  cfg.finalize();
  PartitionNode node(cfg, 0);
  NullContext ctx;
  node.on_start(ctx);
  uint64_t i = 0;
  for (auto _ : state) {
    Message m{};
    m.tx = TxId{++i, i * 7};
    m.amount = Amount{1};
    m.account = static_cast<AccountId>(i % 1000);
    for (Leg leg : {Leg::kDebit, Leg::kCredit}) {
      m.leg = leg;
      m.kind = MsgKind::kTry;
      node.on_message(ctx, 1, m);
      m.kind = MsgKind::kConfirm;
      node.on_message(ctx, 1, m);
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("transfers (4 handler calls each)");
}
BENCHMARK(BM_PartitionTryConfirm);

// One whole simulated run of a scenario; items = committed transfers.
void run_scenario(benchmark::State& state, const char* name, std::vector<std::string> sets) {
  Scenario s = *load_scenario(name, sets).scenario;
  uint64_t seed = 0, committed = 0, events = 0;
  for (auto _ : state) {
    RunResult r = run_spec(make_spec(s, seed++));
    committed += r.committed;
    events += r.stats.events;
  }
  state.SetItemsProcessed(static_cast<int64_t>(committed));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["seeds/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
void BM_RunSmoke(benchmark::State& s) { run_scenario(s, "smoke", {}); }
void BM_RunSmokeNoFaults(benchmark::State& s) { run_scenario(s, "smoke", {"faults.profile=none"}); }
void BM_RunChaos(benchmark::State& s) { run_scenario(s, "chaos", {}); }
BENCHMARK(BM_RunSmoke);
BENCHMARK(BM_RunSmokeNoFaults);
BENCHMARK(BM_RunChaos);

}  // namespace
}  // namespace ws

BENCHMARK_MAIN();
