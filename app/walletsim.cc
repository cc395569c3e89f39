// walletsim: the command line. Argument parsing and output only; every piece
// of logic lives in the libraries so tests can call it.
// Exit codes: 0 all properties hold, 1 a property was violated, 2 bad input.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "bench/availability.h"
#include "bench/compare.h"
#include "bench/orders.h"
#include "bench/sizing.h"
#include "bench/tps.h"
#include "properties/explore.h"
#include "properties/explore_report.h"
#include "properties/failure_file.h"
#include "properties/merge.h"
#include "properties/perfetto.h"
#include "properties/progress.h"
#include "properties/runner.h"
#include "properties/shrink.h"
#include "properties/timeline.h"
#include "scenarios/scenario.h"

namespace {

using namespace ws;
using nlohmann::json;

constexpr int kExitOk = 0;
constexpr int kExitViolation = 1;
constexpr int kExitBadInput = 2;

int bad_input(const std::string& msg) {
  std::cerr << "walletsim: error: " << msg << "\n";
  return kExitBadInput;
}

json violations_json(const RunResult& r) {
  json a = json::array();
  for (const Violation& v : r.violations) {
    json txs = json::array();
    for (const TxId& t : v.txs) txs.push_back(format_txid(t));
    a.push_back({{"property", to_string(v.property)}, {"time_ns", v.time}, {"transactions", txs},
                 {"message", v.message}});
  }
  return a;
}

json properties_json(const RunResult& r) {
  json p = json::object();
  bool stopped = r.stopped_early;
  for (int i = 0; i < kPropertyCount; ++i) {
    Property prop = static_cast<Property>(i);
    bool bad = std::any_of(r.violations.begin(), r.violations.end(),
                           [&](const Violation& v) { return v.property == prop; });
    p[to_string(prop)] = bad ? "violated" : stopped ? "not_checked" : "ok";
  }
  return p;
}

std::string group_name(uint32_t g, uint32_t partitions) {
  return g < partitions ? "partition " + std::to_string(g) : "coordinator " + std::to_string(g - partitions);
}

// Replica groups: how long each could not commit (no live leader, or no
// majority up and not repairing), e.g. beyond f where a group must stop.
void print_group_outages(const RunResult& r, uint32_t partitions) {
  const auto& down = r.stats.group_unavailable;
  if (down.empty()) return;
  // Every group when there are few; otherwise the eight longest, and how
  // the rest add up (a cluster of thousands of groups stays one line).
  std::vector<uint32_t> order(down.size());
  for (uint32_t g = 0; g < order.size(); ++g) order[g] = g;
  constexpr size_t kShown = 8;
  if (order.size() > kShown)
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return down[a] > down[b]; });
  std::string line, stopped;
  for (size_t i = 0; i < order.size() && i < kShown; ++i) {
    char b[96];
    std::snprintf(b, sizeof b, "%s%s %.1f ms", i ? ", " : "", group_name(order[i], partitions).c_str(),
                  static_cast<double>(down[order[i]]) / 1e6);
    line += b;
  }
  if (order.size() > kShown) {
    Duration total = 0;
    for (Duration d : down) total += d;
    char b[128];
    std::snprintf(b, sizeof b, " (the longest %zu of %zu groups; mean %.1f ms)", kShown, order.size(),
                  static_cast<double>(total) / 1e6 / static_cast<double>(order.size()));
    line += b;
  }
  for (uint32_t g = 0; g < down.size(); ++g)
    if (r.stats.group_down_at_end[g]) stopped += (stopped.empty() ? "" : ", ") + group_name(g, partitions);
  std::printf("  groups unable to commit (no leader, or no majority up and not repairing): %s\n", line.c_str());
  if (!stopped.empty()) std::printf("  still unable to commit when the run ended: %s\n", stopped.c_str());
}

void print_run_text(const std::string& scenario, uint64_t seed, const RunResult& r, uint32_t partitions) {
  std::printf("walletsim run: scenario %s, seed %llu\n", scenario.c_str(),
              static_cast<unsigned long long>(seed));
  std::printf("  requests %llu: committed %llu, aborted %llu, rejected %llu\n",
              (unsigned long long)r.requests, (unsigned long long)r.committed,
              (unsigned long long)r.aborted, (unsigned long long)r.rejected);
  if (r.reads_checked > 0)
    std::printf("  balance reads: %llu answers, each checked against the balances between its send and its answer\n",
                (unsigned long long)r.reads_checked);
  std::printf("  events %llu, simulated time %.3f ms, messages %llu (dropped %llu, duplicated %llu), crashes %llu\n",
              (unsigned long long)r.stats.events, static_cast<double>(r.stats.end_time) / 1e6,
              (unsigned long long)r.stats.messages_sent, (unsigned long long)r.stats.messages_dropped,
              (unsigned long long)r.stats.messages_duplicated, (unsigned long long)r.stats.crashes);
  print_group_outages(r, partitions);
  if (r.stats.messages_shed > 0 || r.stats.packets > 0)
    std::printf("  service time: %llu messages shed at full inboxes, %llu batched packets\n",
                (unsigned long long)r.stats.messages_shed, (unsigned long long)r.stats.packets);
  std::printf("  properties:\n");
  json props = properties_json(r);
  for (int i = 0; i < kPropertyCount; ++i) {
    const char* name = to_string(static_cast<Property>(i));
    std::string verdict = props[name];
    std::printf("    %-22s %s\n", name, verdict == "ok" ? "ok" : verdict == "violated" ? "VIOLATED" : "not checked (run stopped at the first violation)");
  }
  for (const Violation& v : r.violations) {
    std::printf("  VIOLATION %s at %.6f ms: %s\n", to_string(v.property), static_cast<double>(v.time) / 1e6,
                v.message.c_str());
    if (!v.recent.empty()) {
      std::printf("  last events before it:\n");
      for (const auto& line : v.recent) std::printf("    %s\n", line.c_str());
    }
  }
  std::printf("  trace hash %s\n", hex64(r.trace_hash).c_str());
  std::printf("  wall time %.3f s for one run: %.0f simulated transfers/s, %.2fM events/s\n", r.wall_seconds,
              static_cast<double>(r.committed) / std::max(r.wall_seconds, 1e-9),
              static_cast<double>(r.stats.events) / std::max(r.wall_seconds, 1e-9) / 1e6);
  std::printf("  held at most %llu requests and %llu transaction histories at once (the rest were retired)\n",
              (unsigned long long)r.peak_requests_held, (unsigned long long)r.peak_histories_held);
  std::printf("  longest log %.1f KiB (%.1f MiB cut behind snapshots)\n", static_cast<double>(r.peak_log_bytes) / 1024,
              static_cast<double>(r.truncated_log_bytes) / (1 << 20));
}

std::optional<Scenario> load_or_report(const std::string& name, const std::vector<std::string>& sets, int& rc) {
  ScenarioLoad sl = load_scenario(name, sets);
  if (!sl.scenario) {
    rc = bad_input(sl.error);
    return std::nullopt;
  }
  // A planted bug is on purpose, but it must never be a surprise.
  std::string planted;
  for (const EngineBugName& b : engine_bug_names())
    if (sl.scenario->sim.cluster.bugs.*b.flag) planted += std::string(planted.empty() ? "" : ", ") + b.name;
  if (!planted.empty()) std::fprintf(stderr, "walletsim: planted engine bugs on: %s (scenario keys bugs.*)\n", planted.c_str());
  return sl.scenario;
}

// The shared start of the many-seed commands: a seed range, a scenario,
// and a job count (0 = every core). Reports bad input itself.
struct SeedJob {
  SeedRange seeds;
  unsigned jobs = 1;
  Scenario scenario;
};

std::optional<SeedJob> prepare_seed_job(const std::string& seeds, unsigned jobs, const std::string& scenario,
                                        const std::vector<std::string>& sets, int& rc) {
  SeedJob job;
  if (!parse_seed_range(seeds, job.seeds)) {
    rc = bad_input("--seeds '" + seeds + "' must be A..B with integers A < B (B excluded)");
    return std::nullopt;
  }
  auto s = load_or_report(scenario, sets, rc);
  if (!s) return std::nullopt;
  job.scenario = std::move(*s);
  job.jobs = jobs != 0 ? jobs : std::max(1u, std::thread::hardware_concurrency());
  return job;
}

int cmd_scenarios() {
  for (const auto& [name, desc] : builtin_scenarios()) std::printf("%-18s %s\n", name.c_str(), desc.c_str());
  return kExitOk;
}

// Writes the run's records as a Chrome trace-event file (ui.perfetto.dev).
bool write_perfetto_file(const std::string& path, const ClusterConfig& cluster,
                         const std::vector<TraceRecord>& records, const std::vector<Violation>& violations) {
  std::ofstream out(path);
  if (!out) return false;
  write_perfetto(out, cluster, records, violations);
  return static_cast<bool>(out);
}

int cmd_run(uint64_t seed, const std::string& scenario, const std::vector<std::string>& sets,
            const std::string& trace_path, bool as_json, const std::string& perfetto_path, bool all_violations,
            double progress_every) {
  int rc = 0;
  auto s = load_or_report(scenario, sets, rc);
  if (!s) return rc;
  std::ofstream trace;
  RunOptions opt;
  opt.check_determinism = true;
  opt.stop_at_first = !all_violations;
  if (!trace_path.empty()) {
    trace.open(trace_path);
    if (!trace) return bad_input("cannot write trace file '" + trace_path + "'");
    opt.trace = &trace;
  }
  std::vector<TraceRecord> records;
  if (!perfetto_path.empty()) opt.records = &records;
  // The workload is generated as the run consumes it, so a run's memory is
  // what it has in flight, whatever its length.
  RunSpec spec = make_streamed_spec(*s, seed);
  RunResult r;
  {
    // A long run shows its requests answered (and, with --progress-every,
    // logs a line with the process's memory); violations are counted only at the end.
    const size_t requests = s->workload.transfers;
    const bool show = progress_wanted(as_json) || progress_every > 0;
    ProgressLine line("requests", (opt.check_determinism ? 2 : 1) * requests, progress_wanted(as_json), false,
                      progress_every, /*rss=*/true);
    if (show) opt.on_record = answered_requests_tap(line);
    r = run_spec(spec, opt);
  }
  if (!perfetto_path.empty() && !write_perfetto_file(perfetto_path, spec.scenario.sim.cluster, records, r.violations))
    return bad_input("cannot write '" + perfetto_path + "'");
  if (as_json) {
    json j = {{"seed", seed}, {"scenario", s->name}, {"ok", r.ok}, {"violations", violations_json(r)},
              {"properties", properties_json(r)}, {"trace_hash", hex64(r.trace_hash)},
              {"requests", r.requests}, {"reads_checked", r.reads_checked}, {"committed", r.committed}, {"aborted", r.aborted},
              {"rejected", r.rejected}, {"events", r.stats.events}, {"sim_time_ns", r.stats.end_time},
              {"messages_shed", r.stats.messages_shed}, {"packets", r.stats.packets}};
    if (!r.stats.group_unavailable.empty()) {
      json groups = json::array();
      for (size_t g = 0; g < r.stats.group_unavailable.size(); ++g)
        groups.push_back(json{{"group", group_name(static_cast<uint32_t>(g), s->sim.cluster.partitions)},
                              {"unavailable_ns", r.stats.group_unavailable[g]},
                              {"longest_outage_ns", r.stats.group_longest_outage[g]},
                              {"down_at_end", r.stats.group_down_at_end[g] != 0}});
      j["groups"] = groups;
    }
    std::cout << j.dump() << "\n";
  } else {
    print_run_text(s->name, seed, r, s->sim.cluster.partitions);
  }
  return r.ok ? kExitOk : kExitViolation;
}

// Shrinks spec to a smaller one violating the same property and writes it.
ShrinkResult shrink_and_write(const RunSpec& spec, Property property, const std::string& out, bool verbose) {
  ShrinkOptions so;
  if (verbose) so.progress = [](const std::string& line) { std::fprintf(stderr, "  shrink: %s\n", line.c_str()); };
  ShrinkResult sr = shrink(spec, property, so);
  if (sr.reproduced && !out.empty()) std::ofstream(out) << failure_to_json(sr.spec, sr.result).dump(1) << "\n";
  return sr;
}

std::string default_min_path(const std::string& path) {
  const std::string ext = ".json";
  if (path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0)
    return path.substr(0, path.size() - ext.size()) + ".min.json";
  return path + ".min.json";
}

// "all" or a comma-separated list of coverage point names; an unknown name
// is an error naming it.
std::optional<std::vector<std::string>> parse_required(const std::string& text, std::string& err) {
  const std::vector<std::string> all = coverage_point_names();
  if (text == "all") return all;
  std::vector<std::string> want;
  std::stringstream ss(text);
  for (std::string name; std::getline(ss, name, ',');) {
    if (std::find(all.begin(), all.end(), name) == all.end()) {
      err = "--require-coverage: unknown coverage point '" + name + "' (walletsim explore --help lists them)";
      return std::nullopt;
    }
    want.push_back(name);
  }
  return want;
}

void print_coverage(const ExploreResult& r, bool table) {
  const std::vector<std::string> all = coverage_point_names();
  const std::vector<std::string> never = never_reached(r.coverage, all);
  if (r.runs_with_group_stopped > 0 || r.longest_outage > 0)  // runs with replica groups
    std::printf("  groups: %llu runs ended with a group unable to commit (beyond f a group must stop); the longest "
                "outage that ended: %.1f ms (seed %llu)\n",
                (unsigned long long)r.runs_with_group_stopped, static_cast<double>(r.longest_outage) / 1e6,
                (unsigned long long)r.longest_outage_seed);
  std::printf("  coverage: %zu of %zu points reached", all.size() - never.size(), all.size());
  std::string list;
  for (const std::string& p : never) list += (list.empty() ? "" : ", ") + p;
  std::printf("%s%s\n", never.empty() ? "" : "; never: ", list.c_str());
  if (!table) return;
  for (const std::string& p : all)
    std::printf("    %-26s %10llu runs\n", p.c_str(), (unsigned long long)r.coverage.at(p));
}

int cmd_explore(const std::string& seeds, unsigned jobs, const std::string& scenario,
                const std::vector<std::string>& sets, const ExploreOptions& opt, bool as_json,
                const std::string& hashes_path, bool coverage_table, const std::string& require) {
  std::string err;
  std::optional<std::vector<std::string>> required = parse_required(require.empty() ? "" : require, err);
  if (!require.empty() && !required) return bad_input(err);
  int rc = 0;
  auto job = prepare_seed_job(seeds, jobs, scenario, sets, rc);
  if (!job) return rc;
  ExploreResult r;
  {
    ProgressLine line("seeds", job->seeds.size(), progress_wanted(as_json));
    r = explore(job->scenario, job->seeds, job->jobs, opt,
                [&](const ExploreProgress& p) { line.set(p.done, p.failed); });
  }
  if (!r.error.empty()) return bad_input(r.error);
  if (!hashes_path.empty()) {
    std::ofstream h(hashes_path);
    for (const auto& [seed, hash] : r.seed_hashes) h << seed << ' ' << hex64(hash) << '\n';
    if (!h) return bad_input("cannot write '" + hashes_path + "'");
  }
  if (as_json) {
    std::cout << explore_report_to_json(r).dump() << "\n";
  } else {
    std::printf("walletsim explore: scenario %s, seeds %llu..%llu, %u job(s)\n", r.scenario.c_str(),
                (unsigned long long)r.seeds.first, (unsigned long long)r.seeds.last, r.jobs);
    std::printf("  runs %llu, failures %zu, %.1f s, %.0f seeds/s, %.2fM events/s\n", (unsigned long long)r.runs,
                r.failures.size(), r.wall_seconds, r.seeds_per_second,
                static_cast<double>(r.events) / std::max(r.wall_seconds, 1e-9) / 1e6);
    size_t shown = 0;
    for (const auto& f : r.failures) {
      if (shown++ == 10) {
        std::printf("  ... and %zu more\n", r.failures.size() - 10);
        break;
      }
      std::printf("  seed %llu: %s: %s%s%s\n", (unsigned long long)f.seed, f.property.c_str(), f.message.c_str(),
                  f.file.empty() ? "" : "\n      -> ", f.file.c_str());
    }
    for (const auto& f : r.failures)
      if (!f.shrunk_file.empty())
        std::printf("  shrunk seed %llu: %s\n      -> %s\n      -> %s\n", (unsigned long long)f.seed,
                    f.shrunk_from.c_str(), f.shrunk_to.c_str(), f.shrunk_file.c_str());
    print_coverage(r, coverage_table);
  }
  if (!require.empty()) {
    std::string missing;
    for (const std::string& p : never_reached(r.coverage, *required)) missing += (missing.empty() ? "" : ", ") + p;
    if (!missing.empty()) {
      std::fprintf(stderr, "walletsim: coverage: required point(s) never reached in %llu runs: %s\n",
                   (unsigned long long)r.runs, missing.c_str());
      return kExitViolation;
    }
  }
  return r.failures.empty() ? kExitOk : kExitViolation;
}

int cmd_merge(const std::vector<std::string>& files, const std::string& expected_seeds, bool allow_gaps,
              bool as_json) {
  std::optional<SeedRange> expected;
  if (!expected_seeds.empty()) {
    SeedRange e;
    if (!parse_seed_range(expected_seeds, e))
      return bad_input("--seeds '" + expected_seeds + "' must be A..B with integers A < B (B excluded)");
    expected = e;
  }
  std::vector<NamedReport> reports;
  for (const std::string& f : files) {
    ExploreReportLoad l = load_explore_report(f);
    if (!l.report) return bad_input(l.error);
    reports.push_back(NamedReport{f, std::move(*l.report)});
  }
  MergeResult m = merge_reports(std::move(reports), expected);
  if (!m.error.empty()) return bad_input(m.error);
  if (as_json) std::cout << merge_to_json(m).dump() << "\n";
  else std::fputs(format_merge(m).c_str(), stdout);
  if (!m.missing.empty() && !allow_gaps) {
    std::string gaps;
    for (const SeedRange& g : m.missing) gaps += (gaps.empty() ? "" : ", ") + to_string(g);
    return bad_input("missing seeds " + gaps + " (a shard is missing; --allow-gaps to merge anyway)");
  }
  return m.merged.failures.empty() ? kExitOk : kExitViolation;
}

struct ReplayView {
  bool timeline = false;
  bool raft = false;
  bool internal = false;
  size_t rows = 60;
  std::string focus;
  std::string perfetto;
};

int cmd_replay(const std::string& path, const std::vector<std::string>& sets,
               const std::string& trace_path, bool as_json, const ReplayView& view) {
  FailureLoad fl = load_failure_file(path);
  if (!fl.file) return bad_input(fl.error);
  FailureFile& f = *fl.file;
  if (!sets.empty()) {
    // Same workload and faults under a changed scenario: "is it fixed by X?"
    ScenarioLoad sl = scenario_from_json(f.spec.scenario.doc, sets);
    if (!sl.scenario) return bad_input(sl.error);
    f.spec.scenario = *sl.scenario;
  }
  std::ofstream trace;
  RunOptions opt;
  if (!trace_path.empty()) {
    trace.open(trace_path);
    if (!trace) return bad_input("cannot write trace file '" + trace_path + "'");
    opt.trace = &trace;
  }
  TimelineOptions topt;
  topt.max_rows = view.rows;
  topt.show_raft = view.raft;
  topt.show_internal = view.internal;
  if (!view.focus.empty()) {
    TxIdParse id = parse_txid(view.focus);
    if (!id.id) return bad_input("--focus: " + id.error);
    topt.focus = *id.id;
  }
  std::vector<TraceRecord> records;
  if (view.timeline || !view.perfetto.empty()) opt.records = &records;
  RunResult r = run_spec(f.spec, opt);
  if (!view.perfetto.empty() &&
      !write_perfetto_file(view.perfetto, f.spec.scenario.sim.cluster, records, r.violations))
    return bad_input("cannot write '" + view.perfetto + "'");
  bool same_property = !r.violations.empty() && r.violations.front().property == f.property;
  bool same_hash = r.trace_hash == f.trace_hash;
  if (as_json) {
    json j = {{"seed", f.spec.seed}, {"scenario", f.spec.scenario.name}, {"ok", r.ok},
              {"violations", violations_json(r)}, {"expected_property", to_string(f.property)},
              {"expected_trace_hash", hex64(f.trace_hash)}, {"trace_hash", hex64(r.trace_hash)},
              {"reproduced", same_property && same_hash}};
    std::cout << j.dump() << "\n";
  } else {
    std::printf("walletsim replay: %s (scenario %s, seed %llu, written by %s)\n", path.c_str(),
                f.spec.scenario.name.c_str(), (unsigned long long)f.spec.seed, f.build.c_str());
    std::printf("  expected: %s, trace hash %s\n", to_string(f.property), hex64(f.trace_hash).c_str());
    if (r.violations.empty()) {
      std::printf("  NOT REPRODUCED: every property holds now (trace hash %s)\n", hex64(r.trace_hash).c_str());
    } else {
      const Violation& v = r.violations.front();
      std::printf("  got:      %s, trace hash %s\n", to_string(v.property), hex64(r.trace_hash).c_str());
      std::printf("  %s\n", same_property && same_hash ? "REPRODUCED: same property, same trace hash"
                                                       : "DIFFERENT from the file (changed build or engine?)");
      std::printf("\n  violation at %.6f ms: %s\n", static_cast<double>(v.time) / 1e6, v.message.c_str());
      if (view.timeline) {
        std::printf("\n%s", render_timeline(f.spec.scenario.sim.cluster, records, &v, topt).c_str());
      } else {
        std::printf("  the events before it (time, sender -> receiver, message, tx, leg; --timeline for a diagram):\n");
        for (const auto& line : v.recent) std::printf("    %s\n", line.c_str());
      }
    }
    if (view.timeline && r.violations.empty())
      std::printf("\n%s", render_timeline(f.spec.scenario.sim.cluster, records, nullptr, topt).c_str());
    if (!view.perfetto.empty()) std::printf("  Perfetto trace written to %s (open it in ui.perfetto.dev)\n", view.perfetto.c_str());
  }
  return r.ok ? kExitOk : kExitViolation;
}

int cmd_shrink(const std::string& path, std::string out, bool as_json) {
  FailureLoad fl = load_failure_file(path);
  if (!fl.file) return bad_input(fl.error);
  if (out.empty()) out = default_min_path(path);
  ShrinkResult sr = shrink_and_write(fl.file->spec, fl.file->property, out, !as_json);
  if (as_json) {
    std::cout << json{{"input", path}, {"output", sr.reproduced ? out : ""}, {"property", to_string(fl.file->property)},
                      {"reproduced", sr.reproduced}, {"runs", sr.runs}, {"before", sr.before.to_string()},
                      {"after", sr.after.to_string()}, {"requests_before", sr.before.requests},
                      {"requests_after", sr.after.requests}}.dump()
              << "\n";
  } else if (!sr.reproduced) {
    std::printf("walletsim shrink: %s does not violate %s any more; nothing to shrink\n", path.c_str(),
                to_string(fl.file->property));
  } else {
    std::printf("walletsim shrink: %s (%s)\n  before: %s\n  after:  %s\n  %zu runs; written to %s\n", path.c_str(),
                to_string(fl.file->property), sr.before.to_string().c_str(), sr.after.to_string().c_str(), sr.runs,
                out.c_str());
    std::printf("  violation: %s\n", sr.result.violations.front().message.c_str());
  }
  return sr.reproduced ? kExitViolation : kExitOk;
}

int cmd_orders(const std::string& seeds, unsigned jobs, const std::string& scenario,
               const std::vector<std::string>& sets, bool as_json) {
  int rc = 0;
  auto job = prepare_seed_job(seeds, jobs, scenario, sets, rc);
  if (!job) return rc;
  const uint64_t first = job->seeds.first, last = job->seeds.last;
  std::vector<OrderRow> rows;
  {
    ProgressLine line("runs", 3 * job->seeds.size(), progress_wanted(as_json));
    rows = try_orders(job->scenario, job->seeds, job->jobs, [&](uint64_t done, uint64_t bad) { line.set(done, bad); });
  }
  if (as_json) {
    json a = json::array();
    for (const OrderRow& r : rows)
      a.push_back({{"try_order", to_string(r.order)}, {"seeds", r.seeds}, {"violations", r.violations},
                   {"first_failing_seed", r.violations ? json(r.first_bad) : json(nullptr)},
                   {"property", r.property}, {"minimal_requests", r.minimal_requests},
                   {"verdict", r.violations == 0 ? "valid" : "INVALID"}});
    std::cout << json{{"scenario", job->scenario.name}, {"orders", a}}.dump() << "\n";
    return kExitOk;
  }
  std::printf("walletsim orders: scenario %s, seeds %llu..%llu; transfer of 1 from A to C\n\n%-13s %-9s %-11s %6s %10s %10s  %-22s %s\n",
              job->scenario.name.c_str(), (unsigned long long)first, (unsigned long long)last, "try_order", "Try on A",
              "Try on C", "seeds", "violations", "first bad", "property", "minimal counterexample");
  for (const OrderRow& r : rows) {
    const char* on_a = r.order == TryOrder::kCreditFirst ? "nothing" : "-amount";
    const char* on_c = r.order == TryOrder::kDebitFirst ? "nothing" : "+amount";
    std::printf("%-13s %-9s %-11s %6llu %10llu %10s  %-22s %s  => %s\n", to_string(r.order), on_a, on_c,
                (unsigned long long)r.seeds, (unsigned long long)r.violations,
                r.violations ? std::to_string(r.first_bad).c_str() : "-", r.violations ? r.property.c_str() : "-",
                r.minimal.c_str(), r.violations == 0 ? "valid" : "INVALID");
  }
  return kExitOk;
}

// A --set of a replication key keeps the scenario's Raft timers in tps and
// sizing (otherwise they run with walletd's).
bool sets_replication(const std::vector<std::string>& sets) {
  return std::any_of(sets.begin(), sets.end(), [](const std::string& kv) { return kv.rfind("replication.", 0) == 0; });
}

int cmd_tps(const std::string& rates_text, double duration_s, uint32_t partitions, uint32_t coordinators,
            double capacity, uint32_t accounts, bool no_admission, const std::string& svg_path,
            const std::string& scenario, std::vector<std::string> sets, bool as_json, bool as_csv) {
  TpsOptions opt;
  if (!parse_rates(rates_text, opt.rates))
    return bad_input("--rate '" + rates_text + "' must be a positive integer or a sweep A..BxF (e.g. 1000..2000000x2)");
  if (!(duration_s > 0 && duration_s <= 3600)) return bad_input("--duration must be between 0 and 3600 simulated seconds");
  if (!(capacity >= 0 && capacity <= 1e9)) return bad_input("--capacity must be between 0 and 1e9 operations per second");
  opt.duration_s = duration_s;
  opt.partitions = partitions;
  opt.coordinators = coordinators;
  opt.capacity = capacity;
  opt.accounts = accounts;
  opt.admission = !no_admission;
  opt.progress = true;
  opt.scenario_timers = sets_replication(sets);
  int rc = 0;
  auto s = load_or_report(scenario, sets, rc);
  if (!s) return rc;
  // Every rate's scenario is checked, and the picture's file opened, before
  // anything runs: bad input is reported at once and leaves nothing behind.
  for (double rate : opt.rates)
    if (ScenarioLoad check = scenario_from_json(s->doc, tps_sets(*s, opt, rate)); !check.scenario)
      return bad_input(check.error);
  std::ofstream svg;
  if (!svg_path.empty()) {
    svg.open(svg_path);
    if (!svg) return bad_input("cannot write --svg file '" + svg_path + "'");
  }
  std::vector<TpsPoint> pts;
  std::string err = run_tps(*s, opt, pts);
  if (!err.empty()) return bad_input(err);
  if (!svg_path.empty()) {
    char title[256];
    std::snprintf(title, sizeof title, "walletsim tps: %u partitions of %.0f operations/s, %u coordinators, %g simulated s per rate",
                  partitions ? partitions : s->sim.cluster.partitions, capacity,
                  coordinators ? coordinators : s->sim.cluster.coordinators, duration_s);
    // Partitions x operations/s / 2 operations per transfer.
    const double nominal = capacity > 0 ? (partitions ? partitions : s->sim.cluster.partitions) * capacity / 2 : 0;
    svg << tps_svg(pts, title, nominal);
    svg.close();
    if (!svg) return bad_input("cannot write --svg file '" + svg_path + "'");
    std::fprintf(stderr, "walletsim tps: wrote %s\n", svg_path.c_str());
  }
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  if (as_json) {
    std::cout << json{{"scenario", s->name}, {"points", tps_to_json(pts)}, {"peak_rss_kib", ru.ru_maxrss}}.dump() << "\n";
  } else if (as_csv) {
    std::fputs(format_tps_csv(pts).c_str(), stdout);
  } else {
    std::fputs(format_tps_table(*s, opt, pts).c_str(), stdout);
    std::printf("\npeak memory %.1f MiB (every rate is one run: same seed, fault-free, open-loop load)\n",
                static_cast<double>(ru.ru_maxrss) / 1024);
  }
  bool bad = std::any_of(pts.begin(), pts.end(), [](const TpsPoint& p) { return !p.ok; });
  return bad ? kExitViolation : kExitOk;
}

int cmd_sizing(SizingOptions opt, const std::string& scenario, const std::vector<std::string>& sets,
               bool as_json) {
  opt.scenario_timers = sets_replication(sets);
  if (!(opt.op_times >= 10 && opt.op_times <= 1e6)) return bad_input("--op-times must be between 10 and 1000000");
  if (!(opt.target_tps >= 1000 && opt.target_tps <= 1e8)) return bad_input("--target must be between 1000 and 1e8");
  // The largest probe is the lowest capacity's: memory grows with the
  // transfers simulated (about 1.5 KB each), so refuse what will not fit.
  const double slice = opt.slice_partitions ? std::max(1.0, std::floor(2 * opt.target_tps / 100 / opt.slice_partitions)) : 1;
  const double per_probe = opt.target_tps / slice * opt.op_times / 100;
  if (per_probe > 4e6) {
    char b[256];
    std::snprintf(b, sizeof b,
                  "each probe would simulate %.0f transfers (about %.1f GB); use fewer --op-times or a --slice",
                  per_probe, per_probe * 1.5e3 / 1e9);
    return bad_input(b);
  }
  int rc = 0;
  auto s = load_or_report(scenario, sets, rc);
  if (!s) return rc;
  std::string path_note;
  if (s->sim.cluster.replicas() > 1) {
    Duration path = 0;
    if (std::string e = measure_path_p99(*s, opt, path); !e.empty()) {
      std::fprintf(stderr, "walletsim sizing: %s\n", e.c_str());
      return kExitViolation;
    }
    char b[256];
    std::snprintf(b, sizeof b,
                  "  the bound's fixed part is the replicated fault-free path: its p99 with no service time, %.3f ms "
                  "(measured; at least %.0f ms)\n",
                  static_cast<double>(path) / 1e6, static_cast<double>(opt.bound_base) / 1e6);
    path_note = b;
    opt.bound_base = std::max(opt.bound_base, (path + kMicrosecond - 1) / kMicrosecond * kMicrosecond);
  }
  std::vector<SizingRow> rows;
  std::string err;
  {
    ProgressLine line("probes", 0, progress_wanted(as_json));
    err = run_sizing(*s, opt, rows, [&](const SizingProgress& p) {
      line.set_total(p.planned);
      line.set(p.probes, p.violations);
      line.log(p.line);
    });
  }
  if (!err.empty()) return bad_input(err);
  if (as_json) {
    std::cout << sizing_to_json(opt, rows).dump() << "\n";
  } else {
    std::fputs(format_sizing(opt, rows).c_str(), stdout);
    std::fputs(groups_line(*s, opt.scenario_timers).c_str(), stdout);
    std::fputs(path_note.c_str(), stdout);
  }
  return kExitOk;
}

int cmd_availability(const std::vector<std::string>& replica_list, const std::vector<double>& sweep_mttr,
                     const std::vector<std::string>& sets, const std::string& svg_path, bool as_json) {
  AvailabilityKnobs k;
  std::string err = apply_availability_sets(k, sets);
  if (!err.empty()) return bad_input(err);
  std::vector<uint32_t> rs;
  for (const std::string& s : replica_list) {
    if (s != "1" && s != "3" && s != "5") return bad_input("--replicas takes 1, 3 and 5, not '" + s + "'");
    const uint32_t r = static_cast<uint32_t>(std::stoul(s));
    if (std::find(rs.begin(), rs.end(), r) == rs.end()) rs.push_back(r);
  }
  for (double m : sweep_mttr)
    if (!(m >= 0.001 && m <= 1e6)) return bad_input("--sweep-mttr values must be minutes between 0.001 and 1000000");
  std::vector<Failover> fos;
  std::vector<AvailabilityRow> rows, sweep;
  const uint64_t steps = rs.size() * 2 + (svg_path.empty() ? 0 : rs.size() * sweep_mttr.size());
  {
    ProgressLine line("steps", steps, progress_wanted(as_json), false);
    uint64_t done = 0;
    for (uint32_t r : rs) {
      fos.push_back(measure_failover(k, r));
      line.set(++done, 0);
    }
    for (size_t i = 0; i < rs.size(); ++i) {
      rows.push_back(simulate_availability(k, rs[i], fos[i]));
      line.set(++done, 0);
    }
    if (!svg_path.empty()) {
      for (size_t i = 0; i < rs.size(); ++i)
        for (double m : sweep_mttr) {
          AvailabilityKnobs km = k;
          km.node_mttr_minutes = m;
          sweep.push_back(simulate_availability(km, rs[i], fos[i]));
          line.set(++done, 0);
        }
    }
  }
  if (!svg_path.empty()) {
    std::ofstream svg(svg_path);
    svg << availability_svg(k, sweep);
    svg.close();
    if (!svg) return bad_input("cannot write --svg file '" + svg_path + "'");
    std::fprintf(stderr, "walletsim availability: wrote %s\n", svg_path.c_str());
  }
  if (as_json) std::cout << availability_to_json(k, fos, rows, sweep).dump() << "\n";
  else std::fputs(format_availability(k, fos, rows).c_str(), stdout);
  // A property broken during the engine's failover runs is a finding.
  bool bad = std::any_of(fos.begin(), fos.end(), [](const Failover& f) { return f.violations > 0; });
  return bad ? kExitViolation : kExitOk;
}

int cmd_compare(const std::string& seeds, unsigned jobs, const std::string& scenario,
                const std::vector<std::string>& sets, bool as_json) {
  int rc = 0;
  auto job = prepare_seed_job(seeds, jobs, scenario, sets, rc);
  if (!job) return rc;
  const uint64_t first = job->seeds.first, last = job->seeds.last;
  const Scenario* s = &job->scenario;
  std::vector<ProtocolSummary> rows;
  {
    ProgressLine line("runs", 3 * job->seeds.size(), progress_wanted(as_json));
    rows = compare_protocols(*s, first, last, job->jobs, [&](uint64_t done, uint64_t bad) { line.set(done, bad); });
  }
  if (as_json) {
    std::cout << json{{"scenario", s->name}, {"seeds", last - first}, {"protocols", compare_to_json(rows)}}.dump()
              << "\n";
  } else {
    std::printf("walletsim compare: scenario %s, seeds %llu..%llu, the same workloads and faults per protocol\n\n",
                s->name.c_str(), (unsigned long long)first, (unsigned long long)last);
    std::fputs(format_compare_table(rows).c_str(), stdout);
  }
  bool bad = std::any_of(rows.begin(), rows.end(), [](const ProtocolSummary& r) { return r.violations > 0; });
  return bad ? kExitViolation : kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"walletsim: deterministic simulation and verification of a sharded wallet (TC/C)"};
  app.require_subcommand(1);
  std::vector<std::string> sets;
  std::string scenario = "smoke";
  const char* set_help = "override one scenario value, e.g. --set protocol.try_order=credit_first (repeatable)";

  auto* scen = app.add_subcommand("scenarios", "list the built-in scenarios");

  auto* run = app.add_subcommand("run", "run one seed and check every property");
  uint64_t seed = 0;
  std::string trace_path;
  bool as_json = false;
  run->add_option("--seed", seed, "the seed")->required();
  run->add_option("--scenario", scenario, "built-in scenario name or JSON file")->capture_default_str();
  run->add_option("--trace", trace_path, "write every processed event as JSON lines to FILE");
  run->add_flag("--json", as_json, "print one JSON object");
  run->add_option("--set", sets, set_help);
  std::string perfetto_path;
  run->add_option("--perfetto", perfetto_path, "write a Chrome trace-event JSON file (ui.perfetto.dev)");
  bool all_violations = false;
  run->add_flag("--all-violations", all_violations, "record every violation instead of stopping at the first");
  double progress_every = 0;
  run->add_option("--progress-every", progress_every,
                  "print a progress line (requests answered, rate, resident memory) every SECONDS, terminal or not")
      ->check(CLI::PositiveNumber);

  auto* explore = app.add_subcommand("explore", "run many seeds; write a failure file per failing seed");
  std::string seeds;
  unsigned jobs = 0;
  ExploreOptions explore_opt;
  std::string hashes_path;
  explore->add_option("--seeds", seeds, "seed range A..B (B excluded)")->required();
  explore->add_option("--jobs", jobs, "parallel runs (default: all cores)");
  explore->add_option("--scenario", scenario, "built-in scenario name or JSON file")->capture_default_str();
  explore->add_option("--out", explore_opt.out_dir, "directory for failure files")->capture_default_str();
  explore->add_option("--determinism-every", explore_opt.determinism_every,
                      "run every Nth seed twice and compare trace hashes (0 = never)")->capture_default_str();
  explore->add_option("--max-files", explore_opt.max_files, "write at most this many failure files")->capture_default_str();
  bool explore_shrink = false;
  size_t shrink_max = 3;
  explore->add_flag("--shrink", explore_shrink, "shrink the lowest failing seeds (see --shrink-max) to FILE.min.json");
  explore->add_option("--shrink-max", shrink_max, "how many failures --shrink reduces")->capture_default_str();
  explore->add_option("--stop-after", explore_opt.stop_after, "stop after this many failures (0 = run every seed)")
      ->capture_default_str();
  explore->add_option("--hashes", hashes_path, "write 'seed trace_hash' lines, sorted by seed, to FILE");
  explore->add_flag("--json", as_json, "print one JSON object");
  bool coverage_table = false;
  std::string require_coverage;
  explore->add_flag("--coverage", coverage_table, "print how many runs reached each coverage point");
  std::string points_help = "exit 1 if any of these coverage points is never reached: 'all' or a comma list of";
  for (const std::string& p : coverage_point_names()) points_help += " " + p;
  explore->add_option("--require-coverage", require_coverage, points_help);
  explore->add_option("--set", sets, set_help);

  auto* merge = app.add_subcommand("merge", "merge the explore --json reports of the shards of one seed range");
  std::vector<std::string> merge_files;
  std::string merge_seeds;
  bool allow_gaps = false;
  merge->add_option("FILE", merge_files, "reports written by walletsim explore --json, in any order")->required();
  merge->add_option("--seeds", merge_seeds, "the range the shards should cover, A..B: missing shards at its ends are named too");
  merge->add_flag("--allow-gaps", allow_gaps, "merge even if seeds are missing between (or around) the shards");
  merge->add_flag("--json", as_json, "print one JSON object");

  auto* replay = app.add_subcommand("replay", "re-run a failure file and show the events before the violation");
  std::string file;
  replay->add_option("FILE", file, "failure file written by explore")->required();
  replay->add_option("--trace", trace_path, "write every processed event as JSON lines to FILE");
  replay->add_flag("--json", as_json, "print one JSON object");
  ReplayView view;
  auto* timeline_flag =
      replay->add_flag("--timeline", view.timeline, "print a sequence diagram of the events before the violation");
  replay->add_option("--rows", view.rows, "rows of the diagram (0 = all)")->capture_default_str();
  auto* focus_opt = replay->add_option("--focus", view.focus, "only the messages of this transaction id");
  replay->add_flag("--raft", view.raft, "with --timeline: also Raft's messages between replicas (type and term; lost ones end in x)")
      ->needs(timeline_flag)
      ->excludes(focus_opt);
  replay->add_flag("--internal", view.internal, "with --timeline: also timers, log syncs and Raft's messages")
      ->needs(timeline_flag)
      ->excludes(focus_opt);
  replay->add_option("--perfetto", view.perfetto, "write a Chrome trace-event JSON file (ui.perfetto.dev)");
  replay->add_option("--set", sets, "override a value of the file's scenario (the hash will then differ)");

  auto* shrink_cmd = app.add_subcommand("shrink", "reduce a failure file to a smaller one that fails the same way");
  std::string shrink_out;
  shrink_cmd->add_option("FILE", file, "failure file")->required();
  shrink_cmd->add_option("--out", shrink_out, "where to write the shrunk file (default FILE.min.json)");
  shrink_cmd->add_flag("--json", as_json, "print one JSON object");

  // The options every many-seed command shares.
  auto add_seed_job_options = [&](CLI::App* sub, std::string& seed_range) {
    sub->add_option("--seeds", seed_range, "seed range A..B (B excluded)")->capture_default_str();
    sub->add_option("--jobs", jobs, "parallel runs (default: all cores)");
    sub->add_option("--scenario", scenario, "built-in scenario name or JSON file")->capture_default_str();
    sub->add_flag("--json", as_json, "print one JSON object");
    sub->add_option("--set", sets, set_help);
  };

  auto* orders = app.add_subcommand("orders", "which TC/C Try orders are valid: explore and shrink each");
  std::string orders_seeds = "0..2000";
  add_seed_job_options(orders, orders_seeds);

  auto* compare = app.add_subcommand("compare", "run the same seeds under TC/C, 2PC and Saga and compare them");
  std::string compare_seeds = "0..200";
  add_seed_job_options(compare, compare_seeds);

  auto* tps = app.add_subcommand("tps", "simulated throughput and latency of a cluster shape under open-loop load");
  // The default shape is the design's: 2,000 partitions of 1,000 operations
  // per second, 1,000,000 transfers per second at full utilisation.
  std::string rates = "1000..2000000x2", svg_path;
  double duration_s = 0.2, capacity = 1000;
  uint32_t tps_partitions = 2000, tps_coordinators = 20, tps_accounts = 0;
  bool as_csv = false, no_admission = false;
  tps->add_option("--rate", rates, "offered transfers per simulated second, or a sweep A..BxF")->capture_default_str();
  tps->add_option("--duration", duration_s, "simulated seconds of load per rate")->capture_default_str();
  tps->add_option("--partitions", tps_partitions, "partition count (0: the scenario's)")->capture_default_str();
  tps->add_option("--coordinators", tps_coordinators, "coordinator count (0: the scenario's)")->capture_default_str();
  tps->add_option("--accounts", tps_accounts, "account count (0: 100 per partition)")->capture_default_str();
  tps->add_option("--capacity", capacity,
                  "balance operations per second one partition node sustains; one operation is a leg's Try and "
                  "its Confirm, so a message costs 1/(2*capacity) s (0: the scenario's node.partition_op_ns)")
      ->capture_default_str();
  tps->add_flag("--no-admission", no_admission, "no in-flight limit and unbounded inboxes: see overload collapse");
  tps->add_option("--svg", svg_path, "draw throughput and latency against offered load into this SVG file");
  tps->add_option("--scenario", scenario, "built-in scenario name or JSON file")->capture_default_str();
  tps->add_flag("--json", as_json, "print one JSON object");
  tps->add_flag("--csv", as_csv, "print CSV");
  tps->add_option("--set", sets, set_help);

  auto* sizing = app.add_subcommand(
      "sizing", "the design's node-count table by simulation: partitions needed for 1,000,000 transfers/s");
  SizingOptions sizing_opt;
  bool sizing_full = false, sizing_quick = false;
  sizing->add_option("--target", sizing_opt.target_tps, "transfers per simulated second to sustain")->capture_default_str();
  sizing->add_option("--op-times", sizing_opt.op_times, "length of each probe's load, in operation times")
      ->capture_default_str();
  sizing->add_option("--slice", sizing_opt.slice_partitions,
                     "simulate a slice of about this many partitions carrying its share of the load (0: the whole cluster)")
      ->capture_default_str();
  sizing->add_option("--bound", sizing_opt.bound_op_times, "p99 bound in operation times (plus 2 ms of network)")
      ->capture_default_str();
  sizing->add_flag("--full", sizing_full, "simulate the whole cluster in every probe (slow: same as --slice 0)");
  sizing->add_flag("--quick", sizing_quick, "short probes on small slices, for a first look (noisier)");
  sizing->add_flag("--no-extras", [&](int64_t) { sizing_opt.extras = false; }, "only the three capacity rows");
  sizing->add_option("--scenario", scenario, "built-in scenario name or JSON file")->capture_default_str();
  sizing->add_flag("--json", as_json, "print one JSON object");
  sizing->add_option("--set", sets, set_help);

  auto* avail = app.add_subcommand(
      "availability", "the design's 99.99% by simulation: a year of crashes, disk losses and cuts for R = 1, 3, 5");
  std::vector<std::string> avail_replicas = {"1", "3", "5"};
  std::vector<double> avail_sweep = {1, 3, 10, 30, 100};
  std::vector<std::string> avail_sets;
  avail->add_option("--replicas", avail_replicas, "replica counts to compare")->delimiter(',')->capture_default_str();
  avail->add_option("--set", avail_sets,
                    "override one rate or setting, e.g. --set availability.node_mttr_minutes=30 (repeatable; every "
                    "key is in the header)");
  avail->add_option("--svg", svg_path, "draw availability against R and node MTTR into this SVG file");
  avail->add_option("--sweep-mttr", avail_sweep, "the MTTRs (minutes) the --svg picture sweeps")
      ->delimiter(',')
      ->capture_default_str();
  avail->add_flag("--json", as_json, "print one JSON object");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitBadInput;
  }
  if (*scen) return cmd_scenarios();
  if (*run) return cmd_run(seed, scenario, sets, trace_path, as_json, perfetto_path, all_violations, progress_every);
  if (*explore) {
    explore_opt.shrink_max = explore_shrink ? shrink_max : 0;
    explore_opt.keep_hashes = !hashes_path.empty();
    return cmd_explore(seeds, jobs, scenario, sets, explore_opt, as_json, hashes_path, coverage_table, require_coverage);
  }
  if (*merge) return cmd_merge(merge_files, merge_seeds, allow_gaps, as_json);
  if (*shrink_cmd) return cmd_shrink(file, shrink_out, as_json);
  if (*orders) return cmd_orders(orders_seeds, jobs, scenario, sets, as_json);
  if (*tps)
    return cmd_tps(rates, duration_s, tps_partitions, tps_coordinators, capacity, tps_accounts, no_admission, svg_path,
                   scenario, sets, as_json, as_csv);
  if (*sizing) {
    if (sizing_full) sizing_opt.slice_partitions = 0;
    if (sizing_quick) {
      sizing_opt.op_times = 200;
      sizing_opt.slice_partitions = 50;
    }
    return cmd_sizing(sizing_opt, scenario, sets, as_json);
  }
  if (*avail) return cmd_availability(avail_replicas, avail_sweep, avail_sets, svg_path, as_json);
  if (*compare) return cmd_compare(compare_seeds, jobs, scenario, sets, as_json);
  if (*replay) return cmd_replay(file, sets, trace_path, as_json, view);
  return kExitBadInput;
}
