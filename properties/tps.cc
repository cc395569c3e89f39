#include "properties/tps.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "properties/compare.h"

namespace ws {

bool parse_rates(const std::string& text, std::vector<double>& out) {
  out.clear();
  auto number = [](const std::string& s, double& v) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 12) return false;
    v = std::stod(s);
    return v > 0;
  };
  size_t dots = text.find("..");
  if (dots == std::string::npos) {
    double v = 0;
    if (!number(text, v)) return false;
    out.push_back(v);
    return true;
  }
  size_t x = text.find('x', dots);
  double a = 0, b = 0, f = 0;
  if (x == std::string::npos || !number(text.substr(0, dots), a) ||
      !number(text.substr(dots + 2, x - dots - 2), b) || !number(text.substr(x + 1), f) || f <= 1 || a > b)
    return false;
  for (double r = a; r <= b * (1 + 1e-9) && out.size() < 64; r *= f) out.push_back(r);
  return true;
}

std::string run_tps(const Scenario& base, const TpsOptions& opt, std::vector<TpsPoint>& out) {
  for (double rate : opt.rates) {
    const int64_t duration_ms = std::max<int64_t>(1, std::llround(opt.duration_s * 1000));
    const uint64_t transfers = static_cast<uint64_t>(std::llround(rate * opt.duration_s));
    std::vector<std::string> sets = {
        "faults.profile=none", "workload.invalid_probability=0", "workload.duplicate_probability=0",
        "workload.reuse_probability=0", "workload.max_amount_pct=1",  // funds never run out
        "workload.transfers=" + std::to_string(transfers),
        "workload.duration_ms=" + std::to_string(duration_ms), "phases.fault_ms=" + std::to_string(duration_ms),
        "phases.max_events=" + std::to_string(std::max<uint64_t>(2'000'000, transfers * 200))};
    if (opt.partitions) sets.push_back("cluster.partitions=" + std::to_string(opt.partitions));
    if (opt.coordinators) sets.push_back("cluster.coordinators=" + std::to_string(opt.coordinators));
    ScenarioLoad sl = scenario_from_json(base.doc, sets);
    if (!sl.scenario) return sl.error;
    RunResult r = run_spec(make_spec(*sl.scenario, opt.seed));
    TpsPoint p;
    p.offered_tps = rate;
    p.committed = r.committed;
    p.aborted = r.aborted;
    p.achieved_tps = static_cast<double>(r.committed) / opt.duration_s;
    p.p50 = percentile(r.latencies, 50);
    p.p99 = percentile(r.latencies, 99);
    p.p999 = percentile(r.latencies, 99.9);
    // Utilisation over the load window: the CPU time a node spent per
    // simulated second while requests were offered.
    const double window = static_cast<double>(r.stats.end_time);
    for (NodeId n = 0; n < r.busy.size(); ++n)
      if (r.busy[n] > 0) p.busiest.emplace_back(n, static_cast<double>(r.busy[n]) / std::max(window, 1.0));
    std::stable_sort(p.busiest.begin(), p.busiest.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    if (p.busiest.size() > 3) p.busiest.resize(3);
    p.ok = r.ok;
    p.wall_seconds = r.wall_seconds;
    p.events = r.stats.events;
    out.push_back(p);
  }
  return "";
}

std::string format_tps_table(const Scenario& base, const TpsOptions& opt, const std::vector<TpsPoint>& pts) {
  const ClusterConfig& c = base.sim.cluster;
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "walletsim tps: scenario %s, %u partitions, %u coordinators, %.1f simulated s per rate, "
                "partition op %lld ns, coordinator op %lld ns, sync %lld ns\n\n",
                base.name.c_str(), opt.partitions ? opt.partitions : c.partitions,
                opt.coordinators ? opt.coordinators : c.coordinators, opt.duration_s,
                static_cast<long long>(base.sim.costs.partition_op), static_cast<long long>(base.sim.costs.coordinator_op),
                static_cast<long long>(base.sim.disk.sync_latency));
  out += buf;
  std::snprintf(buf, sizeof buf, "%12s %12s %9s %9s %9s %9s %9s  %-30s %8s %12s %10s %s\n", "offered/s", "achieved/s",
                "committed", "aborted", "p50 ms", "p99 ms", "p999 ms", "busiest nodes (utilisation)", "wall s",
                "transfers/s", "events/s", "ok");
  out += buf;
  for (const TpsPoint& p : pts) {
    std::string busy;
    for (const auto& [n, u] : p.busiest) {
      char b[48];
      std::snprintf(b, sizeof b, "%s%u:%.0f%%", busy.empty() ? "" : " ", n, u * 100);
      busy += b;
    }
    if (busy.empty()) busy = "-";
    std::snprintf(buf, sizeof buf, "%12.0f %12.0f %9llu %9llu %9.3f %9.3f %9.3f  %-30s %8.3f %12.0f %10.0f %s\n",
                  p.offered_tps, p.achieved_tps, (unsigned long long)p.committed, (unsigned long long)p.aborted,
                  static_cast<double>(p.p50) / 1e6, static_cast<double>(p.p99) / 1e6, static_cast<double>(p.p999) / 1e6,
                  busy.c_str(), p.wall_seconds, static_cast<double>(p.committed) / std::max(p.wall_seconds, 1e-9),
                  static_cast<double>(p.events) / std::max(p.wall_seconds, 1e-9), p.ok ? "yes" : "NO");
    out += buf;
  }
  return out;
}

std::string format_tps_csv(const std::vector<TpsPoint>& pts) {
  std::string out = "offered_tps,achieved_tps,committed,aborted,p50_ns,p99_ns,p999_ns,busiest_utilisation,wall_seconds,events,ok\n";
  char buf[256];
  for (const TpsPoint& p : pts) {
    std::snprintf(buf, sizeof buf, "%.0f,%.0f,%llu,%llu,%lld,%lld,%lld,%.4f,%.4f,%llu,%d\n", p.offered_tps,
                  p.achieved_tps, (unsigned long long)p.committed, (unsigned long long)p.aborted,
                  static_cast<long long>(p.p50), static_cast<long long>(p.p99), static_cast<long long>(p.p999),
                  p.busiest.empty() ? 0.0 : p.busiest.front().second, p.wall_seconds,
                  (unsigned long long)p.events, p.ok ? 1 : 0);
    out += buf;
  }
  return out;
}

nlohmann::json tps_to_json(const std::vector<TpsPoint>& pts) {
  nlohmann::json a = nlohmann::json::array();
  for (const TpsPoint& p : pts) {
    nlohmann::json busy = nlohmann::json::array();
    for (const auto& [n, u] : p.busiest) busy.push_back({{"node", n}, {"utilisation", u}});
    a.push_back({{"offered_tps", p.offered_tps}, {"achieved_tps", p.achieved_tps}, {"committed", p.committed},
                 {"aborted", p.aborted}, {"latency_p50_ns", p.p50}, {"latency_p99_ns", p.p99},
                 {"latency_p999_ns", p.p999}, {"busiest", busy}, {"ok", p.ok}, {"wall_seconds", p.wall_seconds},
                 {"events", p.events}});
  }
  return a;
}

}  // namespace ws
