#include "properties/merge.h"

#include <algorithm>
#include <cstdio>

#include "properties/explore_report.h"
#include "properties/runner.h"

namespace ws {

using nlohmann::json;

namespace {

// The first report sets the scenario and build; every other must agree.
std::string check_same_campaign(const NamedReport& first, const NamedReport& r) {
  if (r.report.scenario != first.report.scenario ||
      r.report.scenario_digest != first.report.scenario_digest)
    return "'" + r.name + "' explored scenario " + r.report.scenario + " (digest " +
           r.report.scenario_digest + ") but '" + first.name + "' explored " +
           first.report.scenario + " (digest " + first.report.scenario_digest +
           "): shards of different scenarios or --set overrides do not merge";
  if (r.report.build != first.report.build)
    return "'" + r.name + "' was written by build '" + r.report.build + "' but '" + first.name +
           "' by '" + first.report.build + "': trace hashes of different builds do not compare";
  return "";
}

std::string check_overlap(const NamedReport& a, const NamedReport& b) {
  if (b.report.seeds.first >= a.report.seeds.last) return "";
  if (a.report.seeds == b.report.seeds)
    return "duplicate shard: '" + a.name + "' and '" + b.name + "' both cover seeds " +
           to_string(a.report.seeds);
  SeedRange both{b.report.seeds.first, std::min(a.report.seeds.last, b.report.seeds.last)};
  return "'" + b.name + "' (seeds " + to_string(b.report.seeds) + ") overlaps '" + a.name +
         "' (seeds " + to_string(a.report.seeds) + "): seeds " + to_string(both) + " are in both";
}

void add_missing(MergeResult& m, uint64_t from, uint64_t to) {
  if (from < to) m.missing.push_back(SeedRange{from, to});
}

}  // namespace

MergeResult merge_reports(std::vector<NamedReport> reports, std::optional<SeedRange> expected) {
  MergeResult m;
  if (reports.empty()) {
    m.error = "no reports to merge";
    return m;
  }
  for (const NamedReport& r : reports) {
    if (std::string e = check_same_campaign(reports.front(), r); !e.empty()) {
      m.error = e;
      return m;
    }
  }
  // By range, then by name: the result does not depend on the order given.
  std::sort(reports.begin(), reports.end(), [](const NamedReport& a, const NamedReport& b) {
    if (a.report.seeds.first != b.report.seeds.first)
      return a.report.seeds.first < b.report.seeds.first;
    if (a.report.seeds.last != b.report.seeds.last)
      return a.report.seeds.last < b.report.seeds.last;
    return a.name < b.name;
  });
  for (size_t i = 1; i < reports.size(); ++i) {
    if (std::string e = check_overlap(reports[i - 1], reports[i]); !e.empty()) {
      m.error = e;
      return m;
    }
  }
  ExploreResult& out = m.merged;
  out.scenario = reports.front().report.scenario;
  out.scenario_digest = reports.front().report.scenario_digest;
  out.build = reports.front().report.build;
  out.seeds = SeedRange{reports.front().report.seeds.first, reports.back().report.seeds.last};
  out.jobs = 0;
  out.started_unix_ms = reports.front().report.started_unix_ms;
  out.finished_unix_ms = reports.front().report.finished_unix_ms;
  if (expected) {
    add_missing(m, expected->first, std::min(expected->last, out.seeds.first));
    if (out.seeds.first < expected->first || out.seeds.last > expected->last)
      m.notes.push_back("the shards cover seeds " + to_string(out.seeds) +
                        ", beyond the expected " + to_string(*expected));
  }
  for (size_t i = 0; i < reports.size(); ++i) {
    const ExploreResult& r = reports[i].report;
    if (i > 0) add_missing(m, reports[i - 1].report.seeds.last, r.seeds.first);
    m.shards.push_back(
        MergedShard{reports[i].name, r.seeds, r.runs, r.failures.size(), r.wall_seconds});
    if (r.runs < r.seeds.size())
      m.notes.push_back("'" + reports[i].name + "' ran " + std::to_string(r.runs) + " of its " +
                        std::to_string(r.seeds.size()) + " seeds (stopped early, --stop-after)");
    out.runs += r.runs;
    out.events += r.events;
    out.jobs += r.jobs;
    out.failures.insert(out.failures.end(), r.failures.begin(), r.failures.end());
    out.digest.add(r.digest);
    add_coverage(out.coverage, r.coverage);
    out.runs_with_group_stopped += r.runs_with_group_stopped;
    if (r.longest_outage > out.longest_outage ||
        (r.longest_outage == out.longest_outage && r.longest_outage > 0 && r.longest_outage_seed < out.longest_outage_seed)) {
      out.longest_outage = r.longest_outage;
      out.longest_outage_seed = r.longest_outage_seed;
    }
    out.started_unix_ms = std::min(out.started_unix_ms, r.started_unix_ms);
    out.finished_unix_ms = std::max(out.finished_unix_ms, r.finished_unix_ms);
    m.shard_seconds += r.wall_seconds;
    m.longest_shard_seconds = std::max(m.longest_shard_seconds, r.wall_seconds);
  }
  if (expected) add_missing(m, std::max(expected->first, out.seeds.last), expected->last);
  // Ranges do not overlap, so sorting by seed alone is a total order.
  std::sort(out.failures.begin(), out.failures.end(),
            [](const ExploreFailure& a, const ExploreFailure& b) { return a.seed < b.seed; });
  // Clocks of different machines may disagree: the span is at least the
  // longest shard.
  m.span_seconds =
      std::max(static_cast<double>(out.finished_unix_ms - out.started_unix_ms) / 1000.0,
               m.longest_shard_seconds);
  out.wall_seconds = m.span_seconds;
  out.seeds_per_second = static_cast<double>(out.runs) / std::max(m.span_seconds, 1e-9);
  m.seeds_per_shard_second = static_cast<double>(out.runs) / std::max(m.shard_seconds, 1e-9);
  return m;
}

json merge_to_json(const MergeResult& m) {
  const ExploreResult& r = m.merged;
  const json failed = failed_seeds_json(r.failures);
  json shards = json::array();
  for (const MergedShard& s : m.shards)
    shards.push_back({{"file", s.name},
                      {"first_seed", s.seeds.first},
                      {"last_seed", s.seeds.last},
                      {"runs", s.runs},
                      {"failures", s.failures},
                      {"wall_seconds", s.wall_seconds}});
  json missing = json::array();
  for (const SeedRange& g : m.missing)
    missing.push_back({{"first_seed", g.first}, {"last_seed", g.last}});
  const json coverage = r.coverage;  // a std::map: keys in a fixed order
  json j = {{"format", "walletsim-merge"},
          {"version", 1},
          {"build", r.build},
          {"scenario", r.scenario},
          {"scenario_digest", r.scenario_digest},
          {"first_seed", r.seeds.first},
          {"last_seed", r.seeds.last},
          {"shards", shards},
          {"missing", missing},
          {"notes", m.notes},
          {"runs", r.runs},
          {"failures", r.failures.size()},
          {"failed_seeds", failed},
          {"events", r.events},
          {"span_seconds", m.span_seconds},
          {"shard_seconds", m.shard_seconds},
          {"longest_shard_seconds", m.longest_shard_seconds},
          {"seeds_per_second", r.seeds_per_second},
          {"seeds_per_shard_second", m.seeds_per_shard_second},
          {"trace_digest", {{"sum", hex64(r.digest.sum)}, {"count", r.digest.count}}},
          {"coverage", coverage}};
  if (r.runs_with_group_stopped > 0 || r.longest_outage > 0)
    j["groups"] = {{"runs_with_group_stopped", r.runs_with_group_stopped},
                   {"longest_outage_ns", r.longest_outage},
                   {"longest_outage_seed", r.longest_outage_seed}};
  return j;
}

std::string format_merge(const MergeResult& m) {
  const ExploreResult& r = m.merged;
  std::string out;
  char b[512];
  std::snprintf(b, sizeof b, "walletsim merge: scenario %s (digest %s), seeds %s, %zu shard(s)\n",
                r.scenario.c_str(), r.scenario_digest.c_str(), to_string(r.seeds).c_str(),
                m.shards.size());
  out += b;
  std::snprintf(b, sizeof b,
                "  runs %llu, failures %zu, %.1f s from first start to last end, %.0f seeds/s "
                "(%.0f per shard-second, "
                "%.1f s in shards, longest %.1f s)\n",
                (unsigned long long)r.runs, r.failures.size(), m.span_seconds, r.seeds_per_second,
                m.seeds_per_shard_second, m.shard_seconds, m.longest_shard_seconds);
  out += b;
  std::snprintf(b, sizeof b, "  trace digest %s over %llu seeds\n", hex64(r.digest.sum).c_str(),
                (unsigned long long)r.digest.count);
  out += b;
  if (r.runs_with_group_stopped > 0 || r.longest_outage > 0) {
    std::snprintf(b, sizeof b,
                  "  groups: %llu runs ended with a group unable to commit; the longest outage that ended: %.1f ms "
                  "(seed %llu)\n",
                  (unsigned long long)r.runs_with_group_stopped, static_cast<double>(r.longest_outage) / 1e6,
                  (unsigned long long)r.longest_outage_seed);
    out += b;
  }
  for (const SeedRange& g : m.missing) out += "  missing seeds " + to_string(g) + "\n";
  for (const std::string& n : m.notes) out += "  note: " + n + "\n";
  if (!r.coverage.empty()) {
    out += "  coverage:\n";
    for (const auto& [point, n] : r.coverage) {
      std::snprintf(b, sizeof b, "    %-40s %llu\n", point.c_str(), (unsigned long long)n);
      out += b;
    }
  }
  size_t shown = 0;
  for (const ExploreFailure& f : r.failures) {
    if (shown++ == 10) {
      std::snprintf(b, sizeof b, "  ... and %zu more\n", r.failures.size() - 10);
      out += b;
      break;
    }
    out += "  seed " + std::to_string(f.seed) + ": " + f.property + ": " + f.message +
           (f.file.empty() ? "" : "\n      -> " + f.file) + "\n";
  }
  return out;
}

}  // namespace ws
