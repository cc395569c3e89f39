#include "bench/tps.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "bench/compare.h"

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
  if (out.back() < b * (1 - 1e-9) && out.size() < 64) out.push_back(b);  // the sweep ends where asked
  return true;
}

Duration message_cost(double capacity) { return std::max<Duration>(1, std::llround(1e9 / (2 * capacity))); }

int64_t warmup_ms(const Scenario& base, bool scenario_timers) {
  if (base.sim.cluster.replicas() == 1) return 0;
  const Duration longest =
      scenario_timers ? base.sim.cluster.replication.election_timeout_max : kDeploymentElectionMaxMs * kMillisecond;
  return 3 * ((longest + kMillisecond - 1) / kMillisecond);
}

std::vector<std::string> open_loop_sets(const Scenario& base, uint64_t transfers, int64_t duration_ms,
                                        bool scenario_timers) {
  const int64_t start_ms = warmup_ms(base, scenario_timers);
  std::vector<std::string> sets = {
      "faults.profile=none", "workload.invalid_probability=0", "workload.duplicate_probability=0",
      "workload.reuse_probability=0", "workload.edge_probability=0", "workload.max_amount_pct=1",
      "workload.transfers=" + std::to_string(transfers), "workload.duration_ms=" + std::to_string(duration_ms),
      "workload.start_ms=" + std::to_string(start_ms), "phases.fault_ms=" + std::to_string(start_ms + duration_ms)};
  uint64_t budget = std::max<uint64_t>(2'000'000, transfers * 200);
  if (start_ms > 0) {
    const ClusterConfig& c = base.sim.cluster;
    const Duration beat = scenario_timers ? c.replication.heartbeat_interval : kDeploymentHeartbeatMs * kMillisecond;
    // The warm-up's heartbeats: each a timer, an append to every follower
    // and its answer, for every group.
    const uint64_t beats = static_cast<uint64_t>(start_ms * kMillisecond / beat + 1);
    budget += beats * uint64_t{c.groups()} * (1 + 2 * (c.replicas() - 1)) * 2;
    if (!scenario_timers)
      sets.insert(sets.end(), {"replication.election_timeout_min_ms=" + std::to_string(kDeploymentElectionMinMs),
                               "replication.election_timeout_max_ms=" + std::to_string(kDeploymentElectionMaxMs),
                               "replication.heartbeat_ms=" + std::to_string(kDeploymentHeartbeatMs)});
  }
  sets.push_back("phases.max_events=" + std::to_string(budget));
  return sets;
}

std::vector<std::string> tps_sets(const Scenario& base, const TpsOptions& opt, double rate) {
  const int64_t duration_ms = std::max<int64_t>(1, std::llround(opt.duration_s * 1000));
  const uint64_t transfers = static_cast<uint64_t>(std::llround(rate * opt.duration_s));
  std::vector<std::string> sets = open_loop_sets(base, transfers, duration_ms, opt.scenario_timers);
  const ClusterConfig& c = base.sim.cluster;
  const uint32_t partitions = opt.partitions ? opt.partitions : c.partitions;
  const uint32_t coordinators = opt.coordinators ? opt.coordinators : c.coordinators;
  if (opt.partitions) sets.push_back("cluster.partitions=" + std::to_string(partitions));
  if (opt.coordinators) sets.push_back("cluster.coordinators=" + std::to_string(coordinators));
  if (opt.accounts) {
    sets.push_back("cluster.accounts=" + std::to_string(opt.accounts));
  } else if (opt.partitions) {
    sets.push_back("cluster.accounts=" + std::to_string(std::min<uint64_t>(10'000'000, 100ull * partitions)));
  }
  Duration op = base.sim.costs.partition_op;
  if (opt.capacity > 0) {
    op = message_cost(opt.capacity);
    sets.push_back("node.partition_op_ns=" + std::to_string(op));
  }
  if (opt.admission && op > 0 && base.sim.costs.max_queue == 0 && c.protocol.max_inflight == 0) {
    // A full inbox holds at most a quarter of the Try timeout's worth of work,
    // and the coordinators together keep no more legs in flight than the
    // partitions' inboxes hold.
    // A message's worst cost includes a whole packet's overhead (no batching).
    const Duration worst = op + base.sim.costs.partition_packet;
    const uint64_t queue = std::max<uint64_t>(16, static_cast<uint64_t>(c.protocol.try_timeout / (4 * worst)));
    const uint64_t inflight = std::max<uint64_t>(8, queue * partitions / (2 * coordinators));
    sets.push_back("node.max_queue=" + std::to_string(queue));
    sets.push_back("protocol.max_inflight=" + std::to_string(inflight));
  }
  return sets;
}

std::string run_tps(const Scenario& base, const TpsOptions& opt, std::vector<TpsPoint>& out) {
  for (double rate : opt.rates) {
    ScenarioLoad sl = scenario_from_json(base.doc, tps_sets(base, opt, rate));
    if (!sl.scenario) return sl.error;
    RunResult r = run_spec(make_streamed_spec(*sl.scenario, opt.seed));
    TpsPoint p;
    p.offered_tps = rate;
    p.committed = r.committed;
    p.aborted = r.aborted;
    // Goodput: transfers answered success per simulated second, over the load
    // window or, when answers go on after it (queues draining, retries of
    // overloaded requests), until the last success.
    const double start_s = static_cast<double>(warmup_ms(base, opt.scenario_timers)) / 1e3;
    const double span_s = std::max(opt.duration_s, static_cast<double>(r.last_success_at) / 1e9 - start_s);
    p.achieved_tps = static_cast<double>(r.succeeded) / span_s;
    p.p50 = percentile(r.latencies, 50);
    p.p99 = percentile(r.latencies, 99);
    p.p999 = percentile(r.latencies, 99.9);
    // Utilisation over the load window: the CPU time a node spent per
    // simulated second while requests were offered.
    const double window = static_cast<double>(r.stats.end_time) - start_s * 1e9;  // busy counts from the load's start
    for (NodeId n = 0; n < r.busy.size(); ++n)
      if (r.busy[n] > 0) p.busiest.emplace_back(n, static_cast<double>(r.busy[n]) / std::max(window, 1.0));
    std::stable_sort(p.busiest.begin(), p.busiest.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    if (p.busiest.size() > 3) p.busiest.resize(3);
    p.ok = r.ok;
    p.wall_seconds = r.wall_seconds;
    p.events = r.stats.events;
    p.shed = r.stats.messages_shed;
    out.push_back(p);
    if (opt.progress) std::fprintf(stderr, "  tps: %.0f offered/s done (%.1f s)\n", rate, r.wall_seconds);
  }
  return "";
}

std::string groups_line(const Scenario& base, bool scenario_timers) {
  const ClusterConfig& c = base.sim.cluster;
  if (c.replicas() == 1) return "";
  const auto ms = [](Duration d) { return std::to_string(d / kMillisecond); };
  const std::string timers =
      scenario_timers ? ms(c.replication.election_timeout_min) + "-" + ms(c.replication.election_timeout_max) +
                            " ms, heartbeat " + ms(c.replication.heartbeat_interval) + " ms (the scenario's)"
                      : std::to_string(kDeploymentElectionMinMs) + "-" + std::to_string(kDeploymentElectionMaxMs) +
                            " ms, heartbeat " + std::to_string(kDeploymentHeartbeatMs) + " ms (walletd's)";
  return "  replica groups of " + std::to_string(c.replicas()) + ": every message a replica handles costs the same, "
         "Raft's included; elections " + timers + "; the load starts after a warm-up of " +
         std::to_string(warmup_ms(base, scenario_timers)) + " ms\n";
}

std::string format_tps_table(const Scenario& base, const TpsOptions& opt, const std::vector<TpsPoint>& pts) {
  const ClusterConfig& c = base.sim.cluster;
  Duration op = opt.capacity > 0 ? message_cost(opt.capacity) : base.sim.costs.partition_op;
  std::string admission = "off";
  for (const std::string& kv : tps_sets(base, opt, 1))
    if (kv.rfind("node.max_queue=", 0) == 0 || kv.rfind("protocol.max_inflight=", 0) == 0)
      admission = (admission == "off" ? "" : admission + ", ") + kv;
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "walletsim tps: scenario %s, %u partitions, %u coordinators, %g simulated s per rate\n"
                "  partition message %lld ns (%s operations/s per node), coordinator message %lld ns, sync %lld ns\n"
                "  admission control: %s\n\n",
                base.name.c_str(), opt.partitions ? opt.partitions : c.partitions,
                opt.coordinators ? opt.coordinators : c.coordinators, opt.duration_s,
                static_cast<long long>(op), op > 0 ? std::to_string(std::llround(1e9 / (2.0 * op))).c_str() : "unlimited",
                static_cast<long long>(base.sim.costs.coordinator_op),
                static_cast<long long>(base.sim.disk.sync_latency), admission.c_str());
  out += buf;
  out.insert(out.size() - 1, groups_line(base, opt.scenario_timers));  // before the blank line
  std::snprintf(buf, sizeof buf, "%12s %12s %9s %9s %9s %9s %9s %9s  %-30s %8s %12s %10s %s\n", "offered/s", "achieved/s",
                "committed", "aborted", "shed msgs", "p50 ms", "p99 ms", "p999 ms", "busiest nodes (utilisation)", "wall s",
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
    std::snprintf(buf, sizeof buf, "%12.0f %12.0f %9llu %9llu %9llu %9.3f %9.3f %9.3f  %-30s %8.3f %12.0f %10.0f %s\n",
                  p.offered_tps, p.achieved_tps, (unsigned long long)p.committed, (unsigned long long)p.aborted,
                  (unsigned long long)p.shed, static_cast<double>(p.p50) / 1e6, static_cast<double>(p.p99) / 1e6, static_cast<double>(p.p999) / 1e6,
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
                 {"aborted", p.aborted}, {"shed_messages", p.shed}, {"latency_p50_ns", p.p50}, {"latency_p99_ns", p.p99},
                 {"latency_p999_ns", p.p999}, {"busiest", busy}, {"ok", p.ok}, {"wall_seconds", p.wall_seconds},
                 {"events", p.events}});
  }
  return a;
}

}  // namespace ws

namespace ws {
namespace {

struct Axis {
  double lo, hi;  // decades, log10
  double x0, x1;  // pixels
  double at(double v) const {
    double l = std::log10(std::max(v, std::pow(10.0, lo)));
    return x0 + (l - lo) / (hi - lo) * (x1 - x0);
  }
};

std::string fmt_count(double v) {
  char b[32];
  if (v >= 1e6) std::snprintf(b, sizeof b, "%gM", v / 1e6);
  else if (v >= 1e3) std::snprintf(b, sizeof b, "%gk", v / 1e3);
  else std::snprintf(b, sizeof b, "%g", v);
  return b;
}

}  // namespace

std::string tps_svg(const std::vector<TpsPoint>& pts, const std::string& title, double nominal) {
  const double W = 1010, H = 440, top = 60, bottom = 380, pw = 400;
  double xmin = 1e300, xmax = 0, ymax = 0, lmin = 1e300, lmax = 0;
  for (const TpsPoint& p : pts) {
    xmin = std::min(xmin, p.offered_tps);
    xmax = std::max({xmax, p.offered_tps, p.achieved_tps});
    ymax = std::max(ymax, p.achieved_tps);
    for (Duration d : {p.p50, p.p99})
      if (d > 0) {
        lmin = std::min(lmin, d / 1e6);
        lmax = std::max(lmax, d / 1e6);
      }
  }
  if (pts.empty()) xmin = 1, xmax = 10, lmin = 1, lmax = 10;
  if (lmin > lmax) lmin = 1, lmax = 10;
  const double dlo = std::floor(std::log10(std::max(xmin, 1.0))), dhi = std::ceil(std::log10(std::max(xmax, 10.0)) + 1e-9);
  const double llo = std::floor(std::log10(lmin)), lhi = std::max(llo + 1, std::ceil(std::log10(lmax) + 1e-9));
  std::string o;
  char b[512];
  std::snprintf(b, sizeof b,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
                "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                "<text x=\"%.0f\" y=\"24\" font-size=\"15\" text-anchor=\"middle\">%s</text>\n",
                W, H, W / 2, title.c_str());
  o += b;
  auto panel = [&](double left, const Axis& x, const Axis& y, const std::string& ylabel, const std::string& name,
                   auto&& label_y) {
    std::snprintf(b, sizeof b,
                  "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n"
                  "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#444\"/>\n",
                  left + pw / 2, top - 10, name.c_str(), left, top, pw, bottom - top);
    o += b;
    for (double d = x.lo; d <= x.hi + 1e-9; d += 1) {
      double px = x.at(std::pow(10.0, d));
      std::snprintf(b, sizeof b,
                    "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#ddd\"/>"
                    "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n",
                    px, top, px, bottom, px, bottom + 16, fmt_count(std::pow(10.0, d)).c_str());
      o += b;
    }
    for (double d = y.lo; d <= y.hi + 1e-9; d += 1) {
      double py = y.at(std::pow(10.0, d));
      std::snprintf(b, sizeof b,
                    "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                    left, py, left + pw, py, left - 6, py + 4, label_y(std::pow(10.0, d)).c_str());
      o += b;
    }
    std::snprintf(b, sizeof b,
                  "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">offered transfers per simulated second</text>\n"
                  "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" transform=\"rotate(-90 %.0f %.0f)\">%s</text>\n",
                  left + pw / 2, bottom + 36, left - 52, (top + bottom) / 2, left - 52, (top + bottom) / 2,
                  ylabel.c_str());
    o += b;
  };
  auto series = [&](const Axis& x, const Axis& y, auto&& value, const char* colour, const char* dash) {
    std::string line;
    for (const TpsPoint& p : pts) {
      double v = value(p);
      if (v <= 0) continue;
      std::snprintf(b, sizeof b, "%.1f,%.1f ", x.at(p.offered_tps), y.at(v));
      line += b;
    }
    std::snprintf(b, sizeof b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"%s\" points=\"%s\"/>\n",
                  colour, dash, line.c_str());
    o += b;
    for (const TpsPoint& p : pts) {
      double v = value(p);
      if (v <= 0) continue;
      std::snprintf(b, sizeof b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>%.0f offered: %g</title></circle>\n",
                    x.at(p.offered_tps), y.at(v), colour, p.offered_tps, v);
      o += b;
    }
  };
  // Left: throughput.
  Axis x1{dlo, dhi, 90, 90 + pw}, y1{dlo, dhi, bottom, top};
  panel(90, x1, y1, "achieved transfers per simulated second", "throughput", fmt_count);
  std::snprintf(b, sizeof b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n",
                x1.at(std::pow(10.0, dlo)), y1.at(std::pow(10.0, dlo)), x1.at(std::pow(10.0, dhi)), y1.at(std::pow(10.0, dhi)));
  o += b;
  if (nominal > 0 && std::log10(nominal) >= dlo && std::log10(nominal) <= dhi) {
    std::snprintf(b, sizeof b,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#2a9d4b\" stroke-dasharray=\"6 3\"/>"
                  "<text x=\"%.1f\" y=\"%.1f\" fill=\"#2a9d4b\">capacity by arithmetic: %s/s</text>\n",
                  x1.at(std::pow(10.0, dlo)), y1.at(nominal), x1.at(std::pow(10.0, dhi)), y1.at(nominal),
                  x1.at(std::pow(10.0, dlo)) + 6, y1.at(nominal) - 5, fmt_count(nominal).c_str());
    o += b;
  }
  series(x1, y1, [](const TpsPoint& p) { return p.achieved_tps; }, "#1f6fb4", "none");
  // Right: latency.
  const double l2 = 90 + pw + 110;
  Axis x2{dlo, dhi, l2, l2 + pw}, y2{llo, lhi, bottom, top};
  panel(l2, x2, y2, "latency, simulated ms", "latency", [](double v) {
    char t[32];
    std::snprintf(t, sizeof t, "%g", v);
    return std::string(t);
  });
  series(x2, y2, [](const TpsPoint& p) { return p.p99 / 1e6; }, "#c0392b", "none");
  series(x2, y2, [](const TpsPoint& p) { return p.p50 / 1e6; }, "#e67e22", "5 3");
  std::snprintf(b, sizeof b,
                "<text x=\"%.0f\" y=\"%.0f\" fill=\"#1f6fb4\">achieved (dashed grey: achieved = offered)</text>\n"
                "<text x=\"%.0f\" y=\"%.0f\" fill=\"#c0392b\">p99</text><text x=\"%.0f\" y=\"%.0f\" fill=\"#e67e22\">p50 (dashed)</text>\n",
                90.0, H - 14, l2, H - 14, l2 + 40, H - 14);
  o += b;
  o += "</svg>\n";
  return o;
}

}  // namespace ws
