#include "bench/sizing.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "bench/compare.h"
#include "bench/tps.h"
#include "properties/runner.h"

namespace ws {
namespace {

struct Shape {
  double capacity = 0;      // partition operations per second
  uint32_t partitions = 0;  // in the simulated slice
  uint32_t coordinators = 0;
  double tps = 0;           // offered to the slice
  std::vector<std::string> extra;
};

struct Probe {
  bool pass = false;
  bool ok = true;  // every property held
  Duration p99 = 0;
  double busiest = 0;
  uint64_t aborted = 0;
  double wall = 0;
};

int64_t ceil_ms(Duration d) { return std::max<int64_t>(1, (d + kMillisecond - 1) / kMillisecond); }

std::string run_probe(const Scenario& base, const SizingOptions& opt, const Shape& sh, Duration bound, Probe& out) {
  const Duration op = message_cost(sh.capacity);
  const double duration_s = opt.op_times / sh.capacity;
  const int64_t duration_ms = std::max<int64_t>(1, std::llround(duration_s * 1000));
  const uint64_t transfers = static_cast<uint64_t>(std::llround(sh.tps * duration_ms / 1000.0));
  std::vector<std::string> sets = open_loop_sets(base, transfers, duration_ms, opt.scenario_timers);
  sets.insert(sets.end(), {
      "workload.pick=partitions",
      "cluster.partitions=" + std::to_string(sh.partitions),
      "cluster.coordinators=" + std::to_string(sh.coordinators),
      "cluster.accounts=" + std::to_string(100ull * sh.partitions), "cluster.clients=8",
      "node.partition_op_ns=" + std::to_string(op), "node.max_queue=0", "protocol.max_inflight=0",
      // Timeouts well past the bound, so that a probe measures queueing, not
      // retries piling onto the queues.
      "protocol.try_timeout_ms=" + std::to_string(ceil_ms(4 * bound)),
      "protocol.retry_interval_ms=" + std::to_string(ceil_ms(bound)),
      "protocol.max_backoff_ms=" + std::to_string(ceil_ms(4 * bound)),
      "client.request_timeout_ms=" + std::to_string(ceil_ms(10 * bound)),
      "client.query_interval_ms=" + std::to_string(ceil_ms(5 * bound)),
      // A probe far past capacity is decided long before a 30 s drain: stop
      // it early rather than simulate (and hold in memory) a collapse.
      "phases.heal_limit_ms=" + std::to_string(std::max<int64_t>(1000, ceil_ms(40 * bound))),
      // The design counts two operations per transfer, and in its cluster
      // one transfer in 2,000 has both accounts on one partition; a slice
      // of a few partitions would see far more, and run them as one local
      // operation. So a probe runs every transfer in two legs (a --set may
      // say otherwise; it comes after).
      "protocol.same_partition=two_legs"});
  sets.insert(sets.end(), sh.extra.begin(), sh.extra.end());
  ScenarioLoad sl = scenario_from_json(base.doc, sets);
  if (!sl.scenario) return sl.error;
  RunResult r = run_spec(make_streamed_spec(*sl.scenario, opt.seed));
  out.p99 = percentile(r.latencies, 99);
  out.ok = r.ok;
  out.aborted = r.aborted;
  out.wall = r.wall_seconds;
  const double window = static_cast<double>(duration_ms) * kMillisecond;
  out.busiest = 0;
  for (Duration b : r.busy) out.busiest = std::max(out.busiest, static_cast<double>(b) / window);
  // Sustained: every transfer commits, p99 is within the bound, and no node
  // is left with more than the bound's worth of backlog when the load stops
  // (its busy time fits in the load window plus the bound).
  const double backlog_ok = (window + static_cast<double>(bound)) / window;
  out.pass = r.ok && r.aborted == 0 && r.committed >= transfers && out.p99 <= bound && out.busiest <= backlog_ok;
  return "";
}

// The most probes search() takes over [lo, hi]: both ends, then bisection.
uint32_t search_budget(uint32_t lo, uint32_t hi) {
  uint32_t steps = 0;
  while (hi > lo && (1ull << steps) < hi - lo) ++steps;
  return 2 + steps;
}

// The search ranges, shared by the searches and the progress plan. With
// replica groups of R, a leader handles up to R messages per operation (its
// own and R - 1 acknowledgements), so the upper end is R times as far.
std::pair<uint32_t, uint32_t> partitions_range(uint32_t center, uint32_t replicas) {
  return {static_cast<uint32_t>(center * 0.95), static_cast<uint32_t>(std::ceil(center * 1.5 * replicas))};
}
std::pair<uint32_t, uint32_t> coordinators_range(double guess, uint32_t replicas) {
  // At most the 1,000 coordinators a scenario allows.
  const auto hi = static_cast<uint32_t>(std::min(1000.0, std::ceil(guess * 2 * replicas)));
  return {std::min(hi, std::max<uint32_t>(1, static_cast<uint32_t>(guess * 0.9))), hi};
}

// Smallest value in [lo, hi] for which set(value) makes the probe pass,
// assuming more of it never hurts. found = 0 if even hi fails.
std::string search(const Scenario& base, const SizingOptions& opt, SizingRow& row, uint32_t lo, uint32_t hi,
                   const std::function<void(Shape&, uint32_t)>& set, Shape sh, SizingProgress& tally,
                   const std::function<void(const SizingProgress&)>& progress) {
  auto at = [&](uint32_t v, Probe& p) -> std::string {
    set(sh, v);
    std::string err = run_probe(base, opt, sh, row.bound, p);
    ++row.probes;
    row.wall_seconds += p.wall;
    char b[256];
    std::snprintf(b, sizeof b, "  sizing: %-44s %s=%-6llu p99 %8.3f ms  busiest %3.0f%%  %s", row.name.c_str(),
                  row.varies.c_str(), static_cast<unsigned long long>(uint64_t{v} * row.slice), p.p99 / 1e6,
                  p.busiest * 100, p.pass ? "sustained" : "not sustained");
    tally.line = b;
    ++tally.probes;
    tally.violations += !p.ok;
    progress(tally);
    return err;
  };
  Probe p;
  row.searched_to = uint64_t{hi} * row.slice;
  if (auto e = at(hi, p); !e.empty()) return e;
  if (!p.pass) {
    row.found = 0;
    row.p99 = p.p99;
    row.busiest = p.busiest;
    row.aborted = p.aborted;
    return "";
  }
  Probe best = p;
  uint32_t good = hi;
  if (auto e = at(lo, p); !e.empty()) return e;
  if (p.pass) {
    good = lo;
    best = p;
    row.note = "the search's lower end already sustains it";
  } else {
    while (good - lo > 1) {
      uint32_t mid = lo + (good - lo) / 2;
      if (auto e = at(mid, p); !e.empty()) return e;
      if (p.pass) {
        good = mid;
        best = p;
      } else {
        lo = mid;
      }
    }
  }
  row.found = uint64_t{good} * row.slice;
  row.p99 = best.p99;
  row.busiest = best.busiest;
  row.aborted = best.aborted;
  return "";
}

}  // namespace

std::string measure_path_p99(const Scenario& base, const SizingOptions& opt, Duration& out) {
  const uint32_t partitions = 200;
  std::vector<std::string> sets = open_loop_sets(base, 2000, 1000, opt.scenario_timers);
  sets.insert(sets.end(), {"workload.pick=partitions", "cluster.partitions=" + std::to_string(partitions),
                           "cluster.coordinators=10", "cluster.accounts=" + std::to_string(100 * partitions),
                           "cluster.clients=8", "node.partition_op_ns=0", "node.coordinator_op_ns=0",
                           "node.max_queue=0", "protocol.max_inflight=0", "protocol.same_partition=two_legs"});
  ScenarioLoad sl = scenario_from_json(base.doc, sets);
  if (!sl.scenario) return sl.error;
  RunResult r = run_spec(make_streamed_spec(*sl.scenario, opt.seed));
  if (!r.ok) return std::string("the fault-free path's run violated a property: ") + to_string(r.violations.front().property);
  out = percentile(r.latencies, 99);
  return "";
}

std::string run_sizing(const Scenario& base, const SizingOptions& opt, std::vector<SizingRow>& rows,
                       const std::function<void(const SizingProgress&)>& progress) {
  // The slice of a cluster of `design` partitions: 1/slice of its partitions
  // and of its load, so each partition's arrival rate is the whole cluster's.
  auto slice_of = [&](uint64_t design) -> uint32_t {
    if (opt.slice_partitions == 0) return 1;
    return static_cast<uint32_t>(std::max<uint64_t>(1, design / opt.slice_partitions));
  };
  auto design_of = [&](double capacity) { return static_cast<uint64_t>(std::llround(2 * opt.target_tps / capacity)); };
  // The plan: the most probes every search can take; each search gives back
  // what it did not use when it ends.
  SizingProgress tally;
  const uint32_t R = base.sim.cluster.replicas();
  auto partitions_budget = [&](double capacity) {
    const uint64_t design = design_of(capacity);
    const auto [lo, hi] = partitions_range(static_cast<uint32_t>(design / slice_of(design)), R);
    return search_budget(lo, hi);
  };
  for (double capacity : {100.0, 1000.0, 10000.0}) tally.planned += partitions_budget(capacity);
  if (opt.extras) {
    const uint32_t slice = slice_of(design_of(1000));
    const auto [lo, hi] = coordinators_range(opt.target_tps / slice * 5 * static_cast<double>(message_cost(1000)) / 1e9, R);
    tally.planned += 3 * partitions_budget(1000) + search_budget(lo, hi);
  }
  auto partitions_row = [&](const std::string& name, double capacity, uint64_t design, std::vector<std::string> extra,
                            const std::string& note) -> std::string {
    SizingRow row;
    row.name = name;
    row.capacity = capacity;
    row.design = design;
    row.slice = slice_of(design);
    row.bound = opt.bound_base + static_cast<Duration>(std::llround(opt.bound_op_times * 1e9 / capacity));
    row.note = note;
    const uint32_t center = static_cast<uint32_t>(design / row.slice);
    Shape sh;
    sh.capacity = capacity;
    sh.tps = opt.target_tps / row.slice;
    sh.coordinators = std::max<uint32_t>(2, center / 20);
    sh.extra = std::move(extra);
    const auto [lo, hi] = partitions_range(center, R);
    std::string e = search(base, opt, row, lo, hi, [](Shape& s, uint32_t v) { s.partitions = v; }, sh, tally,
                           progress);
    tally.planned -= search_budget(lo, hi) - std::min(search_budget(lo, hi), row.probes);
    rows.push_back(row);
    return e;
  };
  for (double capacity : {100.0, 1000.0, 10000.0}) {
    const uint64_t design = design_of(capacity);
    char name[64];
    std::snprintf(name, sizeof name, "uniform, %.0f operations/s per node", capacity);
    if (auto e = partitions_row(name, capacity, design, {}, ""); !e.empty()) return e;
  }
  if (!opt.extras) return "";

  // Where the arithmetic stops holding, at 1,000 operations/s per node.
  const double c = 1000;
  const uint64_t design = design_of(c);
  const uint32_t slice = slice_of(design);
  if (auto e = partitions_row("accounts hashed to partitions", c, design, {"workload.pick=accounts"},
                              "100 accounts per partition by hash: the fullest partition sets the count");
      !e.empty())
    return e;
  {
    // One endpoint in 1,000 is one of 10 hot accounts: 200 operations/s each
    // in the whole cluster. In a slice the hot share is scaled up so that
    // each hot account carries the same absolute load.
    char hot[64];
    std::snprintf(hot, sizeof hot, "workload.hot_probability=%g", std::min(1.0, 0.001 * slice));
    if (auto e = partitions_row("hot accounts", c, design, {"workload.hot_accounts=10", hot},
                                "1 endpoint in 1,000 is one of 10 hot accounts (200 operations/s each)");
        !e.empty())
      return e;
  }
  if (auto e = partitions_row("1% message loss", c, design,
                              {"faults.profile=lossy", "faults.drop_probability=0.01", "faults.duplicate_probability=0",
                               "faults.tail_probability=0"},
                              "a lost message waits for a resend: p99 is set by the retry interval");
      !e.empty())
    return e;
  {
    // Coordinators as fast per message as partitions: the design counts two
    // operations per transfer, but the coordinator handles about five
    // messages per transfer (request, two Try answers, two acknowledgements).
    const uint64_t p_found = rows[1].found ? rows[1].found : design;
    SizingRow row;
    row.name = "coordinator capacity";
    row.varies = "coordinators";
    row.capacity = c;
    row.design = 0;
    row.slice = slice;
    row.bound = opt.bound_base + static_cast<Duration>(std::llround(opt.bound_op_times * 1e9 / c));
    row.note = "coordinators cost 1/(2*1000) s per message, like partitions; " + std::to_string(p_found) +
               " partitions";
    Shape sh;
    sh.capacity = c;
    sh.tps = opt.target_tps / slice;
    sh.partitions = static_cast<uint32_t>(p_found / slice);
    const Duration op = message_cost(c);
    sh.extra = {"node.coordinator_op_ns=" + std::to_string(op)};
    // The arithmetic's guess: five messages per transfer at 1/op each.
    const double guess = sh.tps * 5 * static_cast<double>(op) / 1e9;
    row.note += "; five messages per transfer would need " +
                std::to_string(static_cast<uint64_t>(std::llround(guess * slice)));
    const auto [lo, hi] = coordinators_range(guess, R);
    std::string e = search(base, opt, row, lo, hi, [](Shape& s, uint32_t v) { s.coordinators = v; }, sh, tally,
                           progress);
    tally.planned -= search_budget(lo, hi) - std::min(search_budget(lo, hi), row.probes);
    rows.push_back(row);
    if (!e.empty()) return e;
  }
  return "";
}

std::string format_sizing(const SizingOptions& opt, const std::vector<SizingRow>& rows) {
  std::string out;
  char b[512];
  std::snprintf(b, sizeof b,
                "walletsim sizing: the smallest count that sustains %.0f transfers per simulated second\n"
                "  sustained: every transfer commits, p99 latency <= %.0f operation times + %g ms, and no node\n"
                "  needs longer than that bound past the end of the load to finish its work (busiest <= 100%% + bound)\n"
                "  each probe: %.0f operation times of open-loop load on a slice of about %u partitions\n"
                "  (1/slice of the cluster and of its load: every partition sees the whole cluster's rate)\n\n",
                opt.target_tps, opt.bound_op_times, opt.bound_base / 1e6, opt.op_times, opt.slice_partitions);
  out += b;
  std::snprintf(b, sizeof b, "%-34s %-12s %10s %10s %7s %10s %10s %8s %6s %6s %7s\n", "case", "counting", "design",
                "simulated", "ratio", "p99 ms", "bound ms", "busiest", "slice", "probes", "wall s");
  out += b;
  for (const SizingRow& r : rows) {
    std::string design = r.design ? std::to_string(r.design) : "-";
    std::string found = r.found ? std::to_string(r.found) : "> " + std::to_string(r.searched_to);
    std::string ratio = r.found && r.design ? [&] {
      char t[16];
      std::snprintf(t, sizeof t, "%.3f", static_cast<double>(r.found) / r.design);
      return std::string(t);
    }() : "-";
    std::snprintf(b, sizeof b, "%-34s %-12s %10s %10s %7s %10.3f %10.3f %7.0f%% %6s %6u %7.1f\n", r.name.c_str(),
                  r.varies.c_str(), design.c_str(), found.c_str(), ratio.c_str(), r.p99 / 1e6, r.bound / 1e6,
                  r.busiest * 100, ("1/" + std::to_string(r.slice)).c_str(), r.probes, r.wall_seconds);
    out += b;
    if (!r.note.empty()) out += "    " + r.note + "\n";
  }
  return out;
}

nlohmann::json sizing_to_json(const SizingOptions& opt, const std::vector<SizingRow>& rows) {
  nlohmann::json a = nlohmann::json::array();
  for (const SizingRow& r : rows)
    a.push_back({{"case", r.name}, {"counting", r.varies}, {"capacity_ops_per_s", r.capacity},
                 {"design", r.design ? nlohmann::json(r.design) : nlohmann::json(nullptr)},
                 {"simulated", r.found ? nlohmann::json(r.found) : nlohmann::json(nullptr)},
                 {"searched_to", r.searched_to},
                 {"ratio", r.found && r.design ? nlohmann::json(static_cast<double>(r.found) / r.design)
                                               : nlohmann::json(nullptr)},
                 {"p99_ns", r.p99}, {"bound_ns", r.bound}, {"busiest_utilisation", r.busiest}, {"slice", r.slice},
                 {"probes", r.probes}, {"wall_seconds", r.wall_seconds}, {"note", r.note}});
  return {{"target_tps", opt.target_tps}, {"op_times", opt.op_times}, {"bound_op_times", opt.bound_op_times},
          {"bound_base_ns", opt.bound_base}, {"rows", a}};
}

}  // namespace ws
