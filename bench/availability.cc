#include "bench/availability.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <limits>

#include "properties/runner.h"
#include "scenarios/scenario.h"
#include "sim/rng.h"

namespace ws {

namespace {

using nlohmann::json;

struct KnobField {
  const char* name;
  double AvailabilityKnobs::*d = nullptr;
  uint32_t AvailabilityKnobs::*u = nullptr;
  double lo, hi;
};

const std::vector<KnobField>& knob_fields() {
  static const std::vector<KnobField> f = {
      {"partitions", nullptr, &AvailabilityKnobs::partitions, 1, 100000},
      {"coordinators", nullptr, &AvailabilityKnobs::coordinators, 1, 10000},
      {"years", &AvailabilityKnobs::years, nullptr, 0.001, 100},
      {"node_mtbf_hours", &AvailabilityKnobs::node_mtbf_hours, nullptr, 0.01, 1e6},
      {"node_mttr_minutes", &AvailabilityKnobs::node_mttr_minutes, nullptr, 0.001, 1e6},
      {"disk_afr", &AvailabilityKnobs::disk_afr, nullptr, 0, 0.99},
      {"disk_replace_hours", &AvailabilityKnobs::disk_replace_hours, nullptr, 0.001, 1e5},
      {"rebuild_minutes", &AvailabilityKnobs::rebuild_minutes, nullptr, 0, 1e6},
      {"partition_mtbf_hours", &AvailabilityKnobs::partition_mtbf_hours, nullptr, 0.01, 1e6},
      {"partition_minutes", &AvailabilityKnobs::partition_minutes, nullptr, 0.001, 1e6},
      {"slo_ms", &AvailabilityKnobs::slo_ms, nullptr, 1, 3.6e6},
      {"samples_per_second", &AvailabilityKnobs::samples_per_second, nullptr, 0.0001, 100},
      {"accounts_per_partition", &AvailabilityKnobs::accounts_per_partition, nullptr, 1, 1e9},
      {"balance", &AvailabilityKnobs::balance, nullptr, 0, 1e12},
      {"election_timeout_min_ms", &AvailabilityKnobs::election_timeout_min_ms, nullptr, 1, 60000},
      {"election_timeout_max_ms", &AvailabilityKnobs::election_timeout_max_ms, nullptr, 2, 120000},
      {"heartbeat_ms", &AvailabilityKnobs::heartbeat_ms, nullptr, 1, 60000},
      {"calibration_runs", &AvailabilityKnobs::calibration_runs, nullptr, 1, 10000},
      {"seed", &AvailabilityKnobs::seed, nullptr, 0, 1e15},
  };
  return f;
}

bool whole(const KnobField& f) {
  return f.u || f.d == &AvailabilityKnobs::calibration_runs || f.d == &AvailabilityKnobs::seed;
}

constexpr Time kNever = std::numeric_limits<Time>::max();

Duration from_minutes(double m) { return static_cast<Duration>(m * 60e9); }
Duration from_hours(double h) { return static_cast<Duration>(h * 3600e9); }
constexpr double kYearNs = 365.25 * 86400e9;

// Exponential with this mean, from the stream. A draw is clamped below
// what the clock can hold (rare disk losses have means of decades): past
// any stretch simulated either way.
Duration exponential(Xoshiro& rng, Duration mean) {
  const double u = (static_cast<double>(rng.next_u64() >> 11) + 0.5) * 0x1p-53;  // (0, 1)
  const double t = std::min(-std::log(u) * static_cast<double>(mean), 4e18);
  return std::max<Duration>(1, static_cast<Duration>(t));
}

// a + b, saturating at kNever.
Time after(Time a, Duration b) { return a > kNever - b ? kNever : a + b; }

struct Interval {
  Time from, to;
};

// A replica's faults over the stretch, as intervals during which it cannot
// serve (crashed, cut off, or without a disk until rebuilt), and the
// intervals its data is gone (a lost disk until rebuilt).
struct ReplicaLife {
  std::vector<Interval> faulty;
  std::vector<Interval> no_data;
  uint64_t crashes = 0, disks = 0, cuts = 0;
};

// A process that alternates: up for an exponential time of mean `up`, then
// down for one of mean `down` plus `extra`; each down stretch is added to
// every list in `into`. Returns how many there were.
uint64_t alternate(Xoshiro& rng, Time end, Duration up, Duration down, Duration extra,
                   std::initializer_list<std::vector<Interval>*> into) {
  uint64_t n = 0;
  for (Time t = exponential(rng, up); t < end; ++n) {
    const Time back = after(after(t, exponential(rng, down)), extra);
    for (std::vector<Interval>* v : into) v->push_back({t, back});
    t = after(back, exponential(rng, up));
  }
  return n;
}

ReplicaLife live(const AvailabilityKnobs& k, Time end, Xoshiro& rng, uint32_t replicas) {
  ReplicaLife l;
  // Crashes, then restarts.
  l.crashes = alternate(rng, end, from_hours(k.node_mtbf_hours), from_minutes(k.node_mttr_minutes), 0, {&l.faulty});
  // Disk losses: the annual failure rate as a Poisson rate; out until the
  // disk is replaced and, with peers to copy from, rebuilt (a group of one
  // comes back empty once replaced).
  if (k.disk_afr > 0) {
    const Duration mean = static_cast<Duration>(kYearNs / -std::log(1 - k.disk_afr));
    const Duration rebuild = replicas > 1 ? from_minutes(k.rebuild_minutes) : 0;
    l.disks = alternate(rng, end, mean, from_hours(k.disk_replace_hours), rebuild, {&l.faulty, &l.no_data});
  }
  // Network cuts that isolate this node.
  l.cuts = alternate(rng, end, from_hours(k.partition_mtbf_hours), from_minutes(k.partition_minutes), 0, {&l.faulty});
  return l;
}

struct GroupYear {
  std::vector<Interval> down;     // unavailable: no leader, or no healthy majority
  std::vector<Interval> beyond_f; // more than f replicas faulty
  uint64_t crashes = 0, disks = 0, cuts = 0, elections = 0;
  bool lost = false;
};

// One group's stretch, event by event: replica faults begin and end at
// their drawn times; a leader that becomes faulty leaves the group without
// one until a healthy majority has elected another (a failover drawn from
// the engine's measured ones).
GroupYear live_group(const AvailabilityKnobs& k, uint32_t R, const Failover& fo, Time end, Xoshiro& rng) {
  GroupYear g;
  struct Ev {
    Time t;
    uint32_t r;
    int delta;  // +1 a fault begins, -1 it ends
    bool data;  // a no_data interval
  };
  std::vector<Ev> evs;
  for (uint32_t r = 0; r < R; ++r) {
    ReplicaLife l = live(k, end, rng, R);
    g.crashes += l.crashes;
    g.disks += l.disks;
    g.cuts += l.cuts;
    for (const Interval& i : l.faulty) {
      evs.push_back({i.from, r, +1, false});
      evs.push_back({std::min(i.to, end), r, -1, false});
    }
    for (const Interval& i : l.no_data) {
      evs.push_back({i.from, r, +1, true});
      evs.push_back({std::min(i.to, end), r, -1, true});
    }
  }
  // Ends before begins at one instant: a replica back and another down at
  // once never overlap.
  std::sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) {
    if (a.t != b.t) return a.t < b.t;
    return a.delta < b.delta;
  });
  const uint32_t majority = R / 2 + 1, f = (R - 1) / 2;
  std::vector<int> faults(R, 0), gone(R, 0);
  uint32_t faulty = 0, without_data = 0;
  int64_t leader = 0;  // every group starts with replica 0 leading
  Time elect_at = kNever;
  Time down_from = kNever, beyond_from = kNever;
  auto draw_failover = [&]() -> Duration {
    if (R == 1 || fo.samples.empty()) return 0;  // a group of one leads as soon as it is back
    return fo.samples[static_cast<size_t>(rng.below(fo.samples.size()))];
  };
  auto settle = [&](Time now) {
    const bool available = leader >= 0 && R - faulty >= majority;
    if (!available && down_from == kNever) down_from = now;
    if (available && down_from != kNever) {
      if (now > down_from) g.down.push_back({down_from, now});
      down_from = kNever;
    }
    if (leader < 0 && elect_at == kNever && R - faulty >= majority) elect_at = now + draw_failover();
    if (R - faulty < majority) elect_at = kNever;  // the election cannot finish
    const bool beyond = faulty > f;
    if (beyond && beyond_from == kNever) beyond_from = now;
    if (!beyond && beyond_from != kNever) {
      g.beyond_f.push_back({beyond_from, now});
      beyond_from = kNever;
    }
  };
  size_t i = 0;
  while (i < evs.size() || elect_at != kNever) {
    const Time next = i < evs.size() ? evs[i].t : kNever;
    if (elect_at != kNever && elect_at <= next) {
      const Time now = elect_at;
      elect_at = kNever;
      if (now >= end) break;
      // A healthy replica wins (the election needs a majority of them).
      std::vector<uint32_t> healthy;
      for (uint32_t r = 0; r < R; ++r)
        if (faults[r] == 0) healthy.push_back(r);
      leader = healthy[static_cast<size_t>(rng.below(healthy.size()))];
      ++g.elections;
      settle(now);
      continue;
    }
    const Ev e = evs[i++];
    if (e.data) {
      gone[e.r] += e.delta;
      without_data = 0;
      for (uint32_t r = 0; r < R; ++r) without_data += gone[r] > 0;
      // Committed entries are on a majority: once a majority has lost its
      // disks at once, some of them may be held by no one.
      if (without_data >= majority) g.lost = true;
      continue;
    }
    faults[e.r] += e.delta;
    faulty = 0;
    for (uint32_t r = 0; r < R; ++r) faulty += faults[r] > 0;
    if (leader == static_cast<int64_t>(e.r) && faults[e.r] > 0) leader = -1;
    settle(e.t);
  }
  if (down_from != kNever) g.down.push_back({down_from, end});
  if (beyond_from != kNever) g.beyond_f.push_back({beyond_from, end});
  return g;
}

double union_minutes(std::vector<Interval> v) {
  std::sort(v.begin(), v.end(), [](const Interval& a, const Interval& b) { return a.from < b.from; });
  double total = 0;
  Time from = 0, to = -1;
  for (const Interval& i : v) {
    if (i.from > to) {
      if (to > from) total += static_cast<double>(to - from);
      from = i.from;
      to = i.to;
    } else {
      to = std::max(to, i.to);
    }
  }
  if (to > from) total += static_cast<double>(to - from);
  return total / 60e9;
}

// When the group is next available at or after t (t itself if it is).
Time available_at(const std::vector<Interval>& down, Time t) {
  auto it = std::upper_bound(down.begin(), down.end(), t, [](Time x, const Interval& i) { return x < i.from; });
  if (it == down.begin()) return t;
  --it;
  return t < it->to ? it->to : t;
}

}  // namespace

std::string apply_availability_sets(AvailabilityKnobs& k, const std::vector<std::string>& sets) {
  AvailabilityKnobs out = k;
  for (const std::string& s : sets) {
    const size_t eq = s.find('=');
    const std::string key = s.substr(0, eq);
    const std::string prefix = "availability.";
    if (eq == std::string::npos || key.rfind(prefix, 0) != 0)
      return "--set '" + s + "' must be availability.NAME=VALUE";
    const std::string name = key.substr(prefix.size());
    const std::string value = s.substr(eq + 1);
    const KnobField* f = nullptr;
    for (const KnobField& kf : knob_fields())
      if (name == kf.name) f = &kf;
    if (!f) return "unknown key '" + key + "' (the keys are in the header `walletsim availability` prints)";
    char* endp = nullptr;
    const double v = std::strtod(value.c_str(), &endp);
    if (value.empty() || *endp != '\0' || !std::isfinite(v))
      return "key '" + key + "' must be a number, not '" + value + "'";
    if (v < f->lo || v > f->hi) {
      char b[160];
      std::snprintf(b, sizeof b, "key '%s' must be between %g and %g, not %s", key.c_str(), f->lo, f->hi,
                    value.c_str());
      return b;
    }
    if (whole(*f) && v != std::floor(v)) return "key '" + key + "' must be a whole number, not '" + value + "'";
    if (f->u) out.*(f->u) = static_cast<uint32_t>(v);
    else out.*(f->d) = v;
  }
  if (out.election_timeout_max_ms <= out.election_timeout_min_ms)
    return "key 'availability.election_timeout_max_ms' must be greater than 'availability.election_timeout_min_ms'";
  if (out.heartbeat_ms * 2 > out.election_timeout_min_ms)
    return "key 'availability.heartbeat_ms' must be at most half of 'availability.election_timeout_min_ms'";
  if (out.partitions < 2) return "key 'availability.partitions' must be at least 2 (a transfer touches two)";
  k = out;
  return "";
}

json availability_knobs_json(const AvailabilityKnobs& k) {
  json j = json::object();
  for (const KnobField& f : knob_fields()) {
    if (f.u) j[f.name] = k.*(f.u);
    else if (whole(f)) j[f.name] = static_cast<uint64_t>(k.*(f.d));
    else j[f.name] = k.*(f.d);
  }
  return j;
}

Duration Failover::median() const { return samples.empty() ? 0 : samples[samples.size() / 2]; }
Duration Failover::p99() const { return samples.empty() ? 0 : samples[(samples.size() * 99) / 100]; }

// Real engine, simulated network and disks: replica groups with the
// deployment's Raft timers, crashes of any replica (leaders among them)
// under a light load. Every crash of a group's leader gives one sample: the
// time until the group has a new leader.
Failover measure_failover(const AvailabilityKnobs& k, uint32_t R) {
  Failover fo;
  fo.replicas = R;
  if (R == 1) return fo;
  char b[64];
  auto set = [&](const char* key, double v) {
    std::snprintf(b, sizeof b, "%s=%.0f", key, v);
    return std::string(b);
  };
  const std::vector<std::string> sets = {
      set("cluster.replicas", R),
      set("replication.election_timeout_min_ms", k.election_timeout_min_ms),
      set("replication.election_timeout_max_ms", k.election_timeout_max_ms),
      set("replication.heartbeat_ms", k.heartbeat_ms),
      "faults.crashes=6",
      "faults.crash_at_vote_probability=0",
      set("faults.crash_down_max_ms", 3 * k.election_timeout_max_ms),
      set("phases.fault_ms", 30 * k.election_timeout_max_ms),
      set("workload.duration_ms", 30 * k.election_timeout_max_ms),
      "workload.transfers=200",
      set("client.request_timeout_ms", 2 * k.election_timeout_max_ms),
      set("client.horizon_ms", 20 * k.election_timeout_max_ms),
      set("protocol.retention_ms", 60 * k.election_timeout_max_ms),
  };
  ScenarioLoad sl = load_scenario("replica-crash", sets);
  if (!sl.scenario) {
    fo.first_violation = "calibration scenario: " + sl.error;
    ++fo.violations;
    return fo;
  }
  const ClusterConfig& c = sl.scenario->sim.cluster;
  const uint64_t first = static_cast<uint64_t>(k.seed) * 1'000'003;
  for (uint32_t run = 0; run < static_cast<uint32_t>(k.calibration_runs); ++run) {
    RunSpec spec = make_spec(*sl.scenario, first + run);
    std::vector<int64_t> leader(c.groups(), -1);
    std::vector<Time> lost_at(c.groups(), kNever);
    RunOptions opt;
    opt.on_record = [&](const TraceRecord& r) {
      if (r.kind != TraceKind::kCrash && r.kind != TraceKind::kLeader) return;
      const uint32_t g = c.group_of(r.node);
      if (g == ClusterConfig::kNoGroup) return;
      if (r.kind == TraceKind::kCrash) {
        if (leader[g] == static_cast<int64_t>(r.node) && lost_at[g] == kNever) lost_at[g] = r.t;
        return;
      }
      if (lost_at[g] != kNever) fo.samples.push_back(r.t - lost_at[g]);
      lost_at[g] = kNever;
      leader[g] = r.node;
    };
    RunResult rr = run_spec(spec, opt);
    ++fo.runs;
    if (!rr.ok) {
      if (fo.violations++ == 0 && !rr.violations.empty())
        fo.first_violation = "seed " + std::to_string(first + run) + ": " + rr.violations.front().message;
    }
  }
  std::sort(fo.samples.begin(), fo.samples.end());
  return fo;
}

AvailabilityRow simulate_availability(const AvailabilityKnobs& k, uint32_t R, const Failover& fo) {
  const auto wall0 = std::chrono::steady_clock::now();
  AvailabilityRow row;
  row.replicas = R;
  row.mttr_minutes = k.node_mttr_minutes;
  const Time end = static_cast<Time>(k.years * kYearNs);
  const uint32_t groups = k.partitions + k.coordinators;
  const uint64_t seed = static_cast<uint64_t>(k.seed);
  std::vector<GroupYear> life;
  life.reserve(groups);
  for (uint32_t g = 0; g < groups; ++g) {
    // One stream per group and replica count: a group's life does not
    // depend on how many groups there are.
    Xoshiro rng(seed * 1009 + g, "availability/R" + std::to_string(R));
    life.push_back(live_group(k, R, fo, end, rng));
  }
  std::vector<Interval> all, beyond;
  double group_minutes = 0;
  for (uint32_t g = 0; g < groups; ++g) {
    const GroupYear& y = life[g];
    row.crashes += y.crashes;
    row.disk_losses += y.disks;
    row.cuts += y.cuts;
    row.elections += y.elections;
    all.insert(all.end(), y.down.begin(), y.down.end());
    beyond.insert(beyond.end(), y.beyond_f.begin(), y.beyond_f.end());
    for (const Interval& i : y.down) group_minutes += static_cast<double>(i.to - i.from) / 60e9;
    if (y.lost) {
      ++row.groups_lost;
      if (g < k.partitions) {
        ++row.partition_groups_lost;
        row.money_lost += k.accounts_per_partition * k.balance;
      }
    }
  }
  row.any_down_minutes = union_minutes(all) / k.years;
  row.beyond_f_minutes = union_minutes(beyond) / k.years;
  row.group_down_minutes = group_minutes / groups / k.years;
  // Transfers, sampled at Poisson instants: two partitions and the
  // coordinator that owns it, each available by the SLO (less the fault-free
  // path of a few milliseconds, which the SLO leaves room for).
  Xoshiro rng(seed, "availability/transfers");
  const Duration mean_gap = static_cast<Duration>(1e9 / k.samples_per_second);
  const Duration slo = static_cast<Duration>(k.slo_ms * 1e6);
  for (Time t = exponential(rng, mean_gap); t < end; t = after(t, exponential(rng, mean_gap))) {
    const uint32_t a = static_cast<uint32_t>(rng.below(k.partitions));
    uint32_t b = static_cast<uint32_t>(rng.below(k.partitions - 1));
    if (b >= a) ++b;
    const uint32_t co = k.partitions + static_cast<uint32_t>(rng.below(k.coordinators));
    ++row.sampled;
    const Time by = t + slo;
    if (available_at(life[a].down, t) < by && available_at(life[b].down, t) < by &&
        available_at(life[co].down, t) < by)
      ++row.succeeded;
  }
  row.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return row;
}

std::string format_availability(const AvailabilityKnobs& k, const std::vector<Failover>& failovers,
                                const std::vector<AvailabilityRow>& rows) {
  std::string o;
  char b[512];
  std::snprintf(b, sizeof b,
                "walletsim availability: %g simulated year(s) per replica count; %u partition groups + %u "
                "coordinator groups\n",
                k.years, k.partitions, k.coordinators);
  o += b;
  std::snprintf(b, sizeof b,
                "  rates (each a --set availability.NAME key): node_mtbf_hours=%g node_mttr_minutes=%g disk_afr=%g "
                "disk_replace_hours=%g rebuild_minutes=%g partition_mtbf_hours=%g partition_minutes=%g\n",
                k.node_mtbf_hours, k.node_mttr_minutes, k.disk_afr, k.disk_replace_hours, k.rebuild_minutes,
                k.partition_mtbf_hours, k.partition_minutes);
  o += b;
  std::snprintf(b, sizeof b,
                "  a transfer counts if answered success within slo_ms=%g; samples_per_second=%g; money per "
                "partition group %g (accounts_per_partition=%g x balance=%g); seed=%.0f\n",
                k.slo_ms, k.samples_per_second, k.accounts_per_partition * k.balance, k.accounts_per_partition,
                k.balance, k.seed);
  o += b;
  for (const Failover& fo : failovers) {
    if (fo.replicas == 1) continue;
    std::snprintf(b, sizeof b,
                  "  failover measured by the engine, R=%u: %zu leader crashes in %u runs, median %.0f ms, p99 "
                  "%.0f ms (elections %g-%g ms, heartbeat %g ms); runs violating a property: %u%s%s\n",
                  fo.replicas, fo.samples.size(), fo.runs, fo.median() / 1e6, fo.p99() / 1e6,
                  k.election_timeout_min_ms, k.election_timeout_max_ms, k.heartbeat_ms, fo.violations,
                  fo.violations ? " - " : "", fo.first_violation.c_str());
    o += b;
  }
  o += "\n";
  std::snprintf(b, sizeof b, "%3s  %12s  %14s  %10s  %12s  %11s  %9s  %9s  %11s  %12s  %7s\n", "R", "transfers",
                "within SLO", "nines", "min/yr: any", "per group", "beyond f", "elections", "groups lost",
                "money lost", "99.99%");
  o += b;
  for (const AvailabilityRow& r : rows) {
    const double miss = 1 - r.share();
    const double nines = miss > 0 ? -std::log10(miss) : std::log10(static_cast<double>(std::max<uint64_t>(r.sampled, 1)));
    std::snprintf(b, sizeof b, "%3u  %12llu  %13.5f%%  %s%9.2f  %12.1f  %11.2f  %9.1f  %9llu  %11u  %12.0f  %7s\n",
                  r.replicas, (unsigned long long)r.sampled, 100 * r.share(), miss > 0 ? " " : ">", nines,
                  r.any_down_minutes, r.group_down_minutes, r.beyond_f_minutes, (unsigned long long)r.elections,
                  r.groups_lost, r.money_lost, r.meets() ? "holds" : "MISSED");
    o += b;
  }
  o += "\n";
  for (const AvailabilityRow& r : rows) {
    std::snprintf(b, sizeof b,
                  "  R=%u: %llu crashes, %llu disk losses, %llu network cuts over the cluster; %.2f s of wall "
                  "time\n",
                  r.replicas, (unsigned long long)r.crashes, (unsigned long long)r.disk_losses,
                  (unsigned long long)r.cuts, r.wall_seconds);
    o += b;
  }
  std::string holds, misses;
  for (const AvailabilityRow& r : rows) (r.meets() ? holds : misses) += (" R=" + std::to_string(r.replicas));
  o += "\n99.99% of transfers answered success within the SLO:";
  o += holds.empty() ? " holds for no R" : " holds for" + holds;
  if (!misses.empty()) o += "; missed for" + misses;
  o += " (under these rates).\n";
  o += "min/yr: any = minutes per year when some group was unavailable (some accounts could not transfer); per "
       "group = the mean group's; beyond f = minutes with some group more than f replicas faulty.\n";
  return o;
}

json availability_to_json(const AvailabilityKnobs& k, const std::vector<Failover>& failovers,
                          const std::vector<AvailabilityRow>& rows, const std::vector<AvailabilityRow>& sweep) {
  auto row_json = [](const AvailabilityRow& r) {
    return json{{"replicas", r.replicas},
                {"node_mttr_minutes", r.mttr_minutes},
                {"transfers_sampled", r.sampled},
                {"transfers_within_slo", r.succeeded},
                {"share_within_slo", r.share()},
                {"meets_99_99", r.meets()},
                {"minutes_per_year_some_group_down", r.any_down_minutes},
                {"minutes_per_year_per_group_down", r.group_down_minutes},
                {"minutes_per_year_beyond_f", r.beyond_f_minutes},
                {"crashes", r.crashes},
                {"disk_losses", r.disk_losses},
                {"network_cuts", r.cuts},
                {"elections", r.elections},
                {"groups_lost", r.groups_lost},
                {"partition_groups_lost", r.partition_groups_lost},
                {"money_lost", r.money_lost},
                {"wall_seconds", r.wall_seconds}};
  };
  json fo = json::array();
  for (const Failover& f : failovers) {
    json s = json::array();
    for (Duration d : f.samples) s.push_back(d);
    fo.push_back(json{{"replicas", f.replicas},
                      {"runs", f.runs},
                      {"violations", f.violations},
                      {"first_violation", f.first_violation},
                      {"median_ns", f.median()},
                      {"p99_ns", f.p99()},
                      {"samples_ns", s}});
  }
  json r = json::array(), sw = json::array();
  for (const AvailabilityRow& x : rows) r.push_back(row_json(x));
  for (const AvailabilityRow& x : sweep) sw.push_back(row_json(x));
  return json{{"knobs", availability_knobs_json(k)}, {"failover", fo}, {"rows", r}, {"mttr_sweep", sw}};
}

std::string availability_svg(const AvailabilityKnobs& k, const std::vector<AvailabilityRow>& sweep) {
  const double W = 860, H = 460, left = 120, right = 600, top = 60, bottom = 390;
  double xmin = 1e300, xmax = 0, ymax = 4;
  auto nines = [](const AvailabilityRow& r) {
    const double miss = 1 - r.share();
    return miss > 0 ? -std::log10(miss) : std::log10(static_cast<double>(std::max<uint64_t>(r.sampled, 1)));
  };
  for (const AvailabilityRow& r : sweep) {
    xmin = std::min(xmin, r.mttr_minutes);
    xmax = std::max(xmax, r.mttr_minutes);
    ymax = std::max(ymax, nines(r));
  }
  if (sweep.empty()) xmin = 1, xmax = 10;
  const double xlo = std::floor(std::log10(xmin)), xhi = std::max(xlo + 1, std::ceil(std::log10(xmax) - 1e-9));
  const double yhi = std::ceil(ymax + 0.5);
  auto X = [&](double v) { return left + (std::log10(v) - xlo) / (xhi - xlo) * (right - left); };
  auto Y = [&](double v) { return bottom - v / yhi * (bottom - top); };
  std::string o;
  char b[640];
  std::snprintf(b, sizeof b,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
                "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                "<text x=\"%.0f\" y=\"24\" font-size=\"15\" text-anchor=\"middle\">Transfers answered within %g ms, "
                "by replica count and time to restart a node</text>\n"
                "<text x=\"%.0f\" y=\"42\" text-anchor=\"middle\" fill=\"#555\">%g simulated year(s) per point; %u+%u "
                "groups; node MTBF %g h, disk AFR %g, cuts every %g h for %g min</text>\n"
                "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#444\"/>\n",
                W, H, W / 2, k.slo_ms, W / 2, k.years, k.partitions, k.coordinators, k.node_mtbf_hours, k.disk_afr,
                k.partition_mtbf_hours, k.partition_minutes, left, top, right - left, bottom - top);
  o += b;
  for (double d = xlo; d <= xhi + 1e-9; d += 1) {
    const double px = X(std::pow(10.0, d));
    std::snprintf(b, sizeof b,
                  "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#ddd\"/><text x=\"%.1f\" "
                  "y=\"%.0f\" text-anchor=\"middle\">%g</text>\n",
                  px, top, px, bottom, px, bottom + 16, std::pow(10.0, d));
    o += b;
  }
  for (double n = 0; n <= yhi + 1e-9; n += 1) {
    const double py = Y(n);
    std::string label = n == 0 ? "0%" : n == 1 ? "90%" : "99." + std::string(static_cast<size_t>(n) - 2, '9') + "%";
    if (n == 2) label = "99%";
    std::snprintf(b, sizeof b,
                  "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%.0f\" "
                  "y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                  left, py, right, py, left - 6, py + 4, label.c_str());
    o += b;
  }
  std::snprintf(b, sizeof b,
                "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#c00\" stroke-dasharray=\"6 4\"/>"
                "<text x=\"%.0f\" y=\"%.1f\" fill=\"#c00\">99.99%% target</text>\n"
                "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">mean time to restart a crashed node (minutes, "
                "log scale)</text>\n"
                "<text x=\"22\" y=\"%.0f\" text-anchor=\"middle\" transform=\"rotate(-90 22 %.0f)\">transfers "
                "within SLO (nines)</text>\n",
                left, Y(4), right, Y(4), right + 8, Y(4) + 4, (left + right) / 2, bottom + 36, (top + bottom) / 2,
                (top + bottom) / 2);
  o += b;
  const char* colours[] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd"};
  std::vector<uint32_t> rs;
  for (const AvailabilityRow& r : sweep)
    if (std::find(rs.begin(), rs.end(), r.replicas) == rs.end()) rs.push_back(r.replicas);
  for (size_t ci = 0; ci < rs.size(); ++ci) {
    std::string pts;
    for (const AvailabilityRow& r : sweep) {
      if (r.replicas != rs[ci]) continue;
      std::snprintf(b, sizeof b, "%.1f,%.1f ", X(r.mttr_minutes), Y(nines(r)));
      pts += b;
      const bool floor = r.share() >= 1;  // no sampled transfer missed: at least this many nines
      std::snprintf(b, sizeof b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"%s/>\n", X(r.mttr_minutes),
                    Y(nines(r)), floor ? "white" : colours[ci % 4],
                    floor ? (std::string(" stroke=\"") + colours[ci % 4] + "\"").c_str() : "");
      o += b;
    }
    std::snprintf(b, sizeof b, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n",
                  pts.c_str(), colours[ci % 4]);
    o += b;
    std::snprintf(b, sizeof b,
                  "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"2\"/><text "
                  "x=\"%.0f\" y=\"%.0f\">R = %u</text>\n",
                  right + 20, top + 20 + 20.0 * ci, right + 44, top + 20 + 20.0 * ci, colours[ci % 4], right + 50,
                  top + 24 + 20.0 * ci, rs[ci]);
    o += b;
  }
  std::snprintf(b, sizeof b,
                "<text x=\"%.0f\" y=\"%.0f\" fill=\"#555\">open circle: no sampled</text><text x=\"%.0f\" "
                "y=\"%.0f\" fill=\"#555\">transfer missed (a floor)</text>\n</svg>\n",
                right + 20, top + 40 + 20.0 * rs.size(), right + 20, top + 56 + 20.0 * rs.size());
  o += b;
  return o;
}

}  // namespace ws
