// Google Benchmark suites for the hot paths: PRNG, partition-node apply, and
// whole simulated runs (event queue, network, disk, checkers together).
// Run: build/bench/ws_bench   (not part of ctest: timings are not tests)
#include <benchmark/benchmark.h>

#include "core/event_log.h"
#include "properties/runner.h"
#include "core/coordinator.h"
#include "core/time_queue.h"
#include "sim/rng.h"

namespace ws {
namespace {

void BM_Xoshiro(benchmark::State& state) {
  Xoshiro rng(1, "bench");
  for (auto _ : state) benchmark::DoNotOptimize(rng.next_u64());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Xoshiro);

// The simulator's event queue at a steady depth: one pop and one push per
// item, as in a run (each handled event schedules about one more).
struct BenchEvent {
  Time t;
  uint64_t seq;
  uint64_t aux;
  uint32_t node, slot;
};
void BM_EventQueuePushPop(benchmark::State& state) {
  TimeQueue<BenchEvent> q;
  Xoshiro rng(1, "queue");
  uint64_t seq = 0;
  const auto depth = static_cast<size_t>(state.range(0));
  q.reserve(depth + 1);
  for (size_t i = 0; i < depth; ++i) q.push(BenchEvent{static_cast<Time>(rng.below(1'000'000)), seq++, 0, 0, 0});
  for (auto _ : state) {
    BenchEvent e = q.pop();
    e.t += 1 + static_cast<Time>(rng.below(1'000'000));
    e.seq = seq++;
    q.push(e);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventQueuePushPop)->Arg(64)->Arg(4096)->Arg(262144);

// A Context whose log is kept in memory and whose messages go nowhere. The
// log is framed into a buffer that is emptied at 1 MiB, so it stays in
// cache and costs what framing costs: a buffer that grew to 64 MiB spent
// over half of each partition benchmark in the kernel's page faults and in
// copying on growth, which is the benchmark's memory, not the engine's.
class NullContext final : public Context {
 public:
  class Log final : public Storage {
   public:
    Log() { bytes.reserve(kKeep + (1u << 16)); }
    void append(std::span<const uint8_t> p) override {
      if (bytes.size() + p.size() + kRecordHeader > bytes.capacity()) bytes.clear();
      append_record(bytes, p);
    }
    static constexpr size_t kKeep = 1u << 20;
    void read_all(const std::function<void(std::span<const uint8_t>)>& fn) override { scan_records(bytes, fn); }
    std::vector<uint8_t> bytes;
  };
  NodeId self() const override { return 0; }
  Time now() const override { return t; }
  void send(NodeId, const Message&) override { ++sent; }
  void send_durable(NodeId, const Message&) override { ++sent; }
  void set_timer(Duration, TimerTag) override {}
  Storage& storage() override { return log; }
  Rng& rng() override { return r; }
  Log log;
  Time t = 0;  // a benchmark may move the clock
  Xoshiro r{1, "bench"};
  uint64_t sent = 0;
};

// The engine benchmarks' cluster: one coordinator, 1,000 accounts with
// plenty of USD; the caller adds its settings and finalizes.
ClusterConfig bench_cluster(uint32_t partitions) {
  ClusterConfig cfg;
  cfg.partitions = partitions;
  cfg.coordinators = 1;
  cfg.accounts = 1000;
  cfg.currencies = {*find_currency("USD")};
  cfg.initial_balance = {Amount{1'000'000'000}};
  return cfg;
}

// Try + Confirm of both legs of a transfer on one partition, in memory.
// forgetting = false: no snapshots and no low watermark, so the leg table
// grows with the benchmark. forgetting = true, as in a long run: every
// message carries its transfer's seq and the coordinator's low watermark
// (here 64 transfers behind), and the node snapshots with the default
// spacing, forgetting final legs the watermark has passed; the table stays
// small, and snapshot writing is included.
void partition_transfers(benchmark::State& state, bool forgetting) {
  ClusterConfig cfg = bench_cluster(1);
  if (!forgetting) cfg.protocol.snapshot_every = 0;
  cfg.finalize();
  PartitionNode node(cfg, 0);
  NullContext ctx;
  node.on_start(ctx);
  uint64_t i = 0;
  for (auto _ : state) {
    Message m{};
    ++i;
    m.tx = TxId{i, i * 7};
    m.amount = Amount{1};
    m.account = static_cast<AccountId>(i % 1000);
    if (forgetting) {
      m.seq = i;
      m.low = i > 64 ? i - 64 : 0;
    }
    for (Leg leg : {Leg::kDebit, Leg::kCredit}) {
      m.leg = leg;
      m.kind = MsgKind::kTry;
      node.on_message(ctx, 1, m);
      m.kind = MsgKind::kConfirm;
      node.on_message(ctx, 1, m);
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["remembered"] = static_cast<double>(node.remembered_legs());
  state.SetLabel("transfers (4 handler calls each)");
}
// The same transfers with both accounts on the partition, as the
// same-partition path runs them (docs/same_partition.md): one handler call
// and one event each, with forgetting as above.
void BM_PartitionLocalTransferForgetting(benchmark::State& state) {
  ClusterConfig cfg = bench_cluster(1);
  cfg.finalize();
  PartitionNode node(cfg, 0);
  NullContext ctx;
  node.on_start(ctx);
  uint64_t i = 0;
  for (auto _ : state) {
    Message m{};
    ++i;
    m.kind = MsgKind::kLocalTransfer;
    m.tx = TxId{i, i * 7};
    m.amount = Amount{1};
    m.account = static_cast<AccountId>(i % 1000);
    m.account2 = static_cast<AccountId>((i + 1) % 1000);
    m.seq = i;
    m.low = i > 64 ? i - 64 : 0;
    node.on_message(ctx, 1, m);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["remembered"] = static_cast<double>(node.remembered_legs());
  state.SetLabel("transfers (1 handler call each)");
}
BENCHMARK(BM_PartitionLocalTransferForgetting);

void BM_PartitionTryConfirm(benchmark::State& state) { partition_transfers(state, false); }
BENCHMARK(BM_PartitionTryConfirm);
void BM_PartitionTryConfirmForgetting(benchmark::State& state) { partition_transfers(state, true); }
BENCHMARK(BM_PartitionTryConfirmForgetting);

// One transfer through a coordinator, in memory: the request, both Try
// answers (the decision), both acknowledgements. With tick > 0 the clock
// moves that much per handler call and finished rows are forgotten once
// `retention` has passed, as in a long run; with tick = 0 the clock stands
// still, nothing is ever forgotten and the table (and each snapshot) grows
// with the benchmark.
// local = false: every transfer takes two legs (some of these pairs share a
// partition; they are run in two legs all the same). local = true: one
// partition, so every transfer is one local transaction there: the request
// and its one answer.
void coordinator_transfers(benchmark::State& state, Duration tick, Duration retention, bool local = false) {
  ClusterConfig cfg = bench_cluster(local ? 1 : 4);
  cfg.protocol.retention = retention;
  cfg.protocol.local_same_partition = local;
  cfg.finalize();
  Coordinator coord(cfg, 0);
  NullContext ctx;
  coord.on_start(ctx);
  Xoshiro rng(3, "ids");
  uint64_t i = 0;
  for (auto _ : state) {
    uint64_t hi = rng.next_u64();
    uint64_t lo = rng.next_u64();
    TxId tx = make_v4_txid(hi, lo);
    Message req{};
    req.kind = MsgKind::kTransferRequest;
    set_text(req.text.txid, format_txid(tx));
    set_text(req.text.amount, "1.00");
    set_text(req.text.currency, "USD");
    req.text.from = static_cast<AccountId>(i % 1000);
    req.text.to = static_cast<AccountId>((i + 1) % 1000);
    ++i;
    coord.on_message(ctx, 10, req);
    ctx.t += tick;
    Message m{};
    m.tx = tx;
    if (local) {
      m.kind = MsgKind::kTryReply;
      m.yes = true;
      coord.on_message(ctx, 0, m);
      ctx.t += tick;
      continue;
    }
    for (Leg leg : {Leg::kDebit, Leg::kCredit}) {
      m.leg = leg;
      m.kind = MsgKind::kTryReply;
      m.yes = true;
      coord.on_message(ctx, 0, m);
      ctx.t += tick;
    }
    for (Leg leg : {Leg::kDebit, Leg::kCredit}) {
      m.leg = leg;
      m.kind = MsgKind::kPhase2Ack;
      coord.on_message(ctx, 0, m);
      ctx.t += tick;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["remembered"] = static_cast<double>(coord.remembered());
  state.SetLabel(local ? "transfers (2 handler calls each)" : "transfers (5 handler calls each)");
}
void BM_CoordinatorTransfer(benchmark::State& state) { coordinator_transfers(state, 0, 10 * kSecond); }
// 1 us per handler call (200,000 transfers per second) with a 100 ms window:
// about 20,000 rows remembered at any time.
void BM_CoordinatorTransferForgetting(benchmark::State& state) {
  coordinator_transfers(state, kMicrosecond, 100 * kMillisecond);
}
BENCHMARK(BM_CoordinatorTransferForgetting);
void BM_CoordinatorLocalTransferForgetting(benchmark::State& state) {
  coordinator_transfers(state, kMicrosecond, 100 * kMillisecond, true);
}
BENCHMARK(BM_CoordinatorLocalTransferForgetting);
BENCHMARK(BM_CoordinatorTransfer);

// The engine benchmarks again with fixed iteration counts, for counting
// instructions (scripts/instructions.sh runs them under callgrind, which has
// no clock to go by): the difference between the two runs is 20,000 items,
// with the setup and the benchmark library's own work cancelled out.
BENCHMARK(BM_PartitionTryConfirm)->Iterations(20000);
BENCHMARK(BM_PartitionTryConfirm)->Iterations(40000);
BENCHMARK(BM_PartitionTryConfirmForgetting)->Iterations(20000);
BENCHMARK(BM_PartitionTryConfirmForgetting)->Iterations(40000);
BENCHMARK(BM_CoordinatorTransfer)->Iterations(20000);
BENCHMARK(BM_CoordinatorTransfer)->Iterations(40000);
BENCHMARK(BM_CoordinatorTransferForgetting)->Iterations(20000);
BENCHMARK(BM_CoordinatorTransferForgetting)->Iterations(40000);

// One whole simulated run of a scenario; items = committed transfers.
void run_scenario(benchmark::State& state, const char* name, std::vector<std::string> sets) {
  Scenario s = *load_scenario(name, sets).scenario;
  uint64_t seed = 0, committed = 0, events = 0;
  for (auto _ : state) {
    RunResult r = run_spec(make_streamed_spec(s, seed++));
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
// Whole simulated transfers on the design's shape at full load: 2,000
// partitions, 1,000,000 transfers per simulated second, fault-free.
void BM_SimulatedTransfer(benchmark::State& s) {
  run_scenario(s, "smoke",
               {"faults.profile=none", "cluster.partitions=2000", "cluster.coordinators=20", "cluster.accounts=200000",
                "workload.transfers=20000", "workload.duration_ms=20", "phases.fault_ms=20",
                "workload.invalid_probability=0", "workload.duplicate_probability=0", "workload.reuse_probability=0",
                "workload.max_amount_pct=1", "protocol.snapshot_every=0"});
}
BENCHMARK(BM_SimulatedTransfer)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ws

BENCHMARK_MAIN();
