// Exploration: every seed of a range run under one scenario, in parallel
// across seeds, with failure files for the failing ones. `walletsim explore`
// prints the result; `walletsim merge` and scripts/slurm-explore.sh combine
// the results of shards of one range (properties/merge.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/scenario.h"

namespace ws {

// Seeds [first, last): last is excluded, as in "--seeds A..B".
struct SeedRange {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t size() const { return last - first; }
  bool operator==(const SeedRange&) const = default;
};

// Parses "A..B" with integers A < B.
bool parse_seed_range(const std::string& text, SeedRange& out);
std::string to_string(const SeedRange& r);  // "A..B"

// An order-independent digest of (seed, trace hash) pairs: the sum (mod 2^64)
// of hash_combine(mix64(seed), trace_hash) over the pairs, and their count.
// Shards of a range add up to the digest of the whole range, whatever order
// they are merged in; a duplicated pair does not cancel out (unlike xor).
struct TraceDigest {
  uint64_t sum = 0;
  uint64_t count = 0;
  void add(uint64_t seed, uint64_t trace_hash);
  void add(const TraceDigest& other);
  bool operator==(const TraceDigest&) const = default;
};

// Named coverage points and how often runs reached them. Counts are summed
// across seeds and shards; std::map keeps the order of output fixed.
using CoverageCounts = std::map<std::string, uint64_t>;
void add_coverage(CoverageCounts& into, const CoverageCounts& from);
// Every coverage point's name (core/coverage.h), in declaration order.
std::vector<std::string> coverage_point_names();
// The points of `points` that no run reached.
std::vector<std::string> never_reached(const CoverageCounts& c, const std::vector<std::string>& points);

struct ExploreFailure {
  uint64_t seed = 0;
  std::string property;
  std::string message;
  uint64_t trace_hash = 0;
  std::string file;         // the failure file; empty past ExploreOptions::max_files
  std::string shrunk_file;  // with ExploreOptions::shrink_max: the shrunk failure file
  std::string shrunk_from;  // the sizes before and after shrinking, readable
  std::string shrunk_to;
};

struct ExploreOptions {
  std::string out_dir = "failures";  // created if missing
  uint64_t determinism_every = 100;  // run every Nth seed twice (0: never)
  size_t max_files = 100;            // failure files written at most
  size_t shrink_max = 0;             // shrink this many of the lowest failing seeds
  uint64_t stop_after = 0;           // skip the remaining seeds after this many failures (0: never)
  bool keep_hashes = false;          // fill ExploreResult::seed_hashes
};

struct ExploreProgress {
  uint64_t done = 0;  // seeds finished or skipped
  uint64_t total = 0;
  uint64_t failed = 0;
};
using ExploreProgressFn = std::function<void(const ExploreProgress&)>;

struct ExploreResult {
  std::string error;  // non-empty: nothing ran (e.g. the output directory cannot be created)
  std::string scenario;
  std::string scenario_digest;  // scenario_digest() of the scenario explored
  std::string build;            // build_id() of the build that ran it
  SeedRange seeds;
  unsigned jobs = 1;
  uint64_t runs = 0;                     // seeds run (fewer than seeds.size() only with stop_after)
  std::vector<ExploreFailure> failures;  // by seed
  uint64_t events = 0;
  double wall_seconds = 0;
  double seeds_per_second = 0;
  int64_t started_unix_ms = 0;  // wall clock, for a campaign's span; output only
  int64_t finished_unix_ms = 0;
  TraceDigest digest;
  std::vector<std::pair<uint64_t, uint64_t>> seed_hashes;  // (seed, trace hash) by seed, with keep_hashes
  CoverageCounts coverage;  // per coverage point: how many runs reached it (every point listed)
  // Replica groups (SimStats::group_unavailable): runs that ended with some
  // group unable to commit, and the longest outage that ended, with its
  // seed. In the JSON report (key "groups", present when nonzero) and
  // added up by merge.
  uint64_t runs_with_group_stopped = 0;
  Duration longest_outage = 0;
  uint64_t longest_outage_seed = 0;
};

// A fixed hash (FNV-1a) of the complete scenario document, as 16 hex digits:
// two shards explored the same scenario, overrides included, iff equal.
std::string scenario_digest(const Scenario& s);

// Runs every seed of `seeds` on `jobs` threads (0: every core). progress, if
// set, is called after each seed from the worker threads. The result does
// not depend on jobs or timing, apart from the wall times and, with
// stop_after, which seeds ran.
ExploreResult explore(const Scenario& s, SeedRange seeds, unsigned jobs, const ExploreOptions& opt,
                      const ExploreProgressFn& progress = {});

}  // namespace ws
