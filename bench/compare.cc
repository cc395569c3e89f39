#include "bench/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>

#include "properties/parallel.h"

namespace ws {

Duration percentile(std::vector<Duration>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

namespace {

void add(RunMetrics& into, const RunMetrics& m) {
  into.partial_count += m.partial_count;
  into.partial_total += m.partial_total;
  into.partial_max = std::max(into.partial_max, m.partial_max);
  into.locked_legs += m.locked_legs;
  into.lock_total += m.lock_total;
  into.lock_max = std::max(into.lock_max, m.lock_max);
  into.lock_conflicts += m.lock_conflicts;
  into.stalled += m.stalled;
  into.in_doubt += m.in_doubt;
  into.in_doubt_lock_total += m.in_doubt_lock_total;
}

double ms(double ns) { return ns / 1e6; }

}  // namespace

std::vector<ProtocolSummary> compare_protocols(const Scenario& base, uint64_t first, uint64_t last,
                                               unsigned jobs,
                                               const std::function<void(uint64_t, uint64_t)>& progress) {
  std::vector<ProtocolSummary> rows;
  uint64_t done = 0, violations = 0;  // over every protocol, for progress
  for (ProtocolKind kind : {ProtocolKind::kTcc, ProtocolKind::k2pc, ProtocolKind::kSaga}) {
    ScenarioLoad sl = scenario_from_json(base.doc, {std::string("protocol.kind=") + to_string(kind)});
    const Scenario s = *sl.scenario;
    ProtocolSummary row;
    row.kind = kind;
    std::mutex mu;
    std::vector<Duration> latencies;
    uint64_t first_bad = UINT64_MAX;
    // Seeds finish in any order; every total below is order-independent,
    // and the reported violation is the one of the lowest seed.
    for_each_seed(first, last, jobs, [&](uint64_t seed) {
      RunResult r = run_spec(make_streamed_spec(s, seed));
      std::lock_guard<std::mutex> lock(mu);
      ++row.runs;
      row.committed += r.committed;
      row.aborted += r.aborted;
      row.rejected += r.rejected;
      add(row.totals, r.metrics);
      latencies.insert(latencies.end(), r.latencies.begin(), r.latencies.end());
      ++done;
      if (!r.ok) {
        ++violations;
        ++row.violations;
        if (seed < first_bad) {
          first_bad = seed;
          row.first_violation = "seed " + std::to_string(seed) + ": " +
                                to_string(r.violations.front().property) + ": " + r.violations.front().message;
        }
      }
      if (progress) progress(done, violations);
    });
    row.latency_p50 = percentile(latencies, 50);
    row.latency_p99 = percentile(latencies, 99);
    row.latency_max = latencies.empty() ? 0 : latencies.back();
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string format_compare_table(const std::vector<ProtocolSummary>& rows) {
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-8s %6s %5s %9s %8s %8s | %8s %8s %8s | %10s %9s | %9s %9s %8s | %8s %8s\n",
                "protocol", "runs", "viol", "committed", "aborted", "rejected", "p50 ms", "p99 ms",
                "max ms", "flight ms", "fl max ms", "lock ms", "lk max ms", "lock-no", "stalled", "in-doubt");
  out += buf;
  out += std::string(strlen(buf) - 1, '-') + "\n";
  for (const ProtocolSummary& r : rows) {
    const RunMetrics& m = r.totals;
    double flight_mean = m.partial_count ? static_cast<double>(m.partial_total) / static_cast<double>(m.partial_count) : 0;
    double lock_mean = m.locked_legs ? static_cast<double>(m.lock_total) / static_cast<double>(m.locked_legs) : 0;
    std::snprintf(buf, sizeof buf,
                  "%-8s %6llu %5llu %9llu %8llu %8llu | %8.3f %8.3f %8.3f | %10.3f %9.3f | %9.3f %9.3f %8llu | %8llu %8llu\n",
                  to_string(r.kind), (unsigned long long)r.runs, (unsigned long long)r.violations,
                  (unsigned long long)r.committed, (unsigned long long)r.aborted, (unsigned long long)r.rejected,
                  ms(static_cast<double>(r.latency_p50)), ms(static_cast<double>(r.latency_p99)),
                  ms(static_cast<double>(r.latency_max)), ms(flight_mean), ms(static_cast<double>(m.partial_max)),
                  ms(lock_mean), ms(static_cast<double>(m.lock_max)), (unsigned long long)m.lock_conflicts,
                  (unsigned long long)m.stalled, (unsigned long long)m.in_doubt);
    out += buf;
  }
  out +=
      "\n  latency: client's first send to its final answer (valid transfers); flight: time money was in\n"
      "  flight (partial state visible) per transfer; lock: time a 2PC prepare held a balance row;\n"
      "  lock-no: 2PC votes refused because a row was locked; stalled: undecided transfers of a\n"
      "  coordinator when it crashed; in-doubt: 2PC legs prepared and locked when their coordinator crashed.\n";
  for (const ProtocolSummary& r : rows)
    if (!r.first_violation.empty()) out += std::string("  ") + to_string(r.kind) + " first violation: " + r.first_violation + "\n";
  return out;
}

nlohmann::json compare_to_json(const std::vector<ProtocolSummary>& rows) {
  nlohmann::json a = nlohmann::json::array();
  for (const ProtocolSummary& r : rows) {
    const RunMetrics& m = r.totals;
    a.push_back({{"protocol", to_string(r.kind)}, {"runs", r.runs}, {"violations", r.violations},
                 {"committed", r.committed}, {"aborted", r.aborted}, {"rejected", r.rejected},
                 {"latency_p50_ns", r.latency_p50}, {"latency_p99_ns", r.latency_p99},
                 {"latency_max_ns", r.latency_max},
                 {"in_flight_mean_ns", m.partial_count ? m.partial_total / static_cast<int64_t>(m.partial_count) : 0},
                 {"in_flight_max_ns", m.partial_max},
                 {"lock_mean_ns", m.locked_legs ? m.lock_total / static_cast<int64_t>(m.locked_legs) : 0},
                 {"lock_max_ns", m.lock_max}, {"lock_conflicts", m.lock_conflicts}, {"stalled", m.stalled},
                 {"in_doubt", m.in_doubt}, {"in_doubt_lock_ns", m.in_doubt_lock_total},
                 {"first_violation", r.first_violation}});
  }
  return a;
}

}  // namespace ws
