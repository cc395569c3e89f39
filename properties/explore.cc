#include "properties/explore.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/hash.h"
#include "properties/failure_file.h"
#include "properties/parallel.h"
#include "properties/runner.h"
#include "properties/shrink.h"

namespace ws {

bool parse_seed_range(const std::string& s, SeedRange& out) {
  size_t dots = s.find("..");
  if (dots == std::string::npos || dots == 0 || dots + 2 >= s.size()) return false;
  std::string x = s.substr(0, dots), y = s.substr(dots + 2);
  if (x.find_first_not_of("0123456789") != std::string::npos ||
      y.find_first_not_of("0123456789") != std::string::npos)
    return false;
  if (x.size() > 19 || y.size() > 19) return false;
  out.first = std::stoull(x);
  out.last = std::stoull(y);
  return out.first < out.last;
}

std::string to_string(const SeedRange& r) {
  return std::to_string(r.first) + ".." + std::to_string(r.last);
}

void TraceDigest::add(uint64_t seed, uint64_t trace_hash) {
  sum += hash_combine(mix64(seed), trace_hash);
  ++count;
}

void TraceDigest::add(const TraceDigest& other) {
  sum += other.sum;
  count += other.count;
}

std::vector<std::string> coverage_point_names() {
  std::vector<std::string> v;
  for (int p = 0; p < kCoverCount; ++p) v.push_back(to_string(static_cast<Cover>(p)));
  return v;
}

std::vector<std::string> never_reached(const CoverageCounts& c, const std::vector<std::string>& points) {
  std::vector<std::string> v;
  for (const std::string& p : points)
    if (auto it = c.find(p); it == c.end() || it->second == 0) v.push_back(p);
  return v;
}

void add_coverage(CoverageCounts& into, const CoverageCounts& from) {
  for (const auto& [point, n] : from) into[point] += n;
}

std::string scenario_digest(const Scenario& s) { return hex64(fnv1a64(s.doc.dump())); }

namespace {

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string min_path(const std::string& path) {
  const std::string ext = ".json";
  if (path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0)
    return path.substr(0, path.size() - ext.size()) + ".min.json";
  return path + ".min.json";
}

// Shrinks the lowest failing seeds that have a file, one after another.
void shrink_failures(const Scenario& s, size_t shrink_max, std::vector<ExploreFailure>& failures) {
  for (size_t i = 0; i < failures.size() && i < shrink_max; ++i) {
    ExploreFailure& f = failures[i];
    if (f.file.empty()) continue;
    ShrinkResult sr = shrink(make_spec(s, f.seed), *parse_property(f.property));
    if (!sr.reproduced) continue;
    f.shrunk_file = min_path(f.file);
    std::ofstream(f.shrunk_file) << failure_to_json(sr.spec, sr.result).dump(1) << "\n";
    f.shrunk_from = sr.before.to_string();
    f.shrunk_to = sr.after.to_string();
  }
}

}  // namespace

ExploreResult explore(const Scenario& s, SeedRange seeds, unsigned jobs, const ExploreOptions& opt,
                      const ExploreProgressFn& progress) {
  ExploreResult res;
  res.scenario = s.name;
  res.scenario_digest = scenario_digest(s);
  res.build = build_id();
  res.seeds = seeds;
  res.jobs = jobs != 0 ? jobs : std::max(1u, std::thread::hardware_concurrency());
  std::error_code ec;
  std::filesystem::create_directories(opt.out_dir, ec);
  if (ec) {
    res.error = "cannot create output directory '" + opt.out_dir + "': " + ec.message();
    return res;
  }

  std::mutex mu;
  CoverCounts reached{};  // per coverage point: runs that reached it
  ExploreProgress shown{0, seeds.size(), 0};
  res.started_unix_ms = unix_ms_now();
  const auto start = std::chrono::steady_clock::now();
  auto one_seed = [&](uint64_t seed) {
    bool skip;
    {
      std::lock_guard<std::mutex> lock(mu);
      skip = opt.stop_after != 0 && res.failures.size() >= opt.stop_after;  // enough found
    }
    if (!skip) {
      RunSpec spec = make_streamed_spec(s, seed);  // written out only if it fails
      RunOptions ro;
      ro.check_determinism =
          opt.determinism_every != 0 && (seed - seeds.first) % opt.determinism_every == 0;
      RunResult r = run_spec(spec, ro);
      std::lock_guard<std::mutex> lock(mu);
      ++res.runs;
      res.events += r.stats.events;
      res.digest.add(seed, r.trace_hash);
      if (opt.keep_hashes) res.seed_hashes.emplace_back(seed, r.trace_hash);
      for (int p = 0; p < kCoverCount; ++p) reached[p] += r.coverage[p] > 0 ? 1 : 0;
      bool stopped = false;
      for (size_t g = 0; g < r.stats.group_down_at_end.size(); ++g) {
        if (r.stats.group_down_at_end[g]) {
          stopped = true;
          continue;
        }
        const Duration d = r.stats.group_longest_outage[g];
        if (d > res.longest_outage || (d == res.longest_outage && d > 0 && seed < res.longest_outage_seed)) {
          res.longest_outage = d;
          res.longest_outage_seed = seed;
        }
      }
      res.runs_with_group_stopped += stopped ? 1 : 0;
      if (!r.ok) {
        const Violation& v = r.violations.front();
        ExploreFailure f{seed, to_string(v.property), v.message, r.trace_hash, "", "", "", ""};
        // Which seeds get the files depends on timing when more than
        // max_files fail; the failures themselves do not.
        if (res.failures.size() < opt.max_files) {
          f.file = opt.out_dir + "/" + s.name + "-seed-" + std::to_string(seed) + ".json";
          std::ofstream(f.file) << failure_to_json(make_spec(s, seed), r).dump(1) << "\n";
        }
        res.failures.push_back(std::move(f));
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    ++shown.done;
    shown.failed = res.failures.size();
    if (progress) progress(shown);
  };
  for_each_seed(seeds.first, seeds.last, res.jobs, one_seed);
  res.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  res.finished_unix_ms = unix_ms_now();
  res.seeds_per_second = static_cast<double>(res.runs) / std::max(res.wall_seconds, 1e-9);
  for (int p = 0; p < kCoverCount; ++p) res.coverage[to_string(static_cast<Cover>(p))] = reached[p];
  std::sort(res.failures.begin(), res.failures.end(),
            [](const ExploreFailure& a, const ExploreFailure& b) { return a.seed < b.seed; });
  std::sort(res.seed_hashes.begin(), res.seed_hashes.end());
  // After the timing: shrinking is not part of the seeds' rate.
  shrink_failures(s, opt.shrink_max, res.failures);
  return res;
}

}  // namespace ws
