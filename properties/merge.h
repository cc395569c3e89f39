// Merging the explore reports of the shards of a campaign into one report:
// runs, failures and events added up, failures in seed order, trace digests
// and coverage counts summed — the same, whatever order the shards come in,
// as one explore over the whole range. Shards of different scenarios or
// builds, or with overlapping seed ranges, are refused; seeds that no shard
// covered are named.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "properties/explore.h"

namespace ws {

struct NamedReport {
  std::string name;  // the file it came from, for messages
  ExploreResult report;
};

struct MergedShard {
  std::string name;
  SeedRange seeds;
  uint64_t runs = 0;
  uint64_t failures = 0;
  double wall_seconds = 0;
};

struct MergeResult {
  // Non-empty: the shards cannot be merged (different scenarios or builds,
  // overlapping ranges); names the file(s).
  std::string error;
  ExploreResult merged;             // seeds: from the lowest to the highest seed covered
  std::vector<MergedShard> shards;  // by first seed
  std::vector<SeedRange> missing;   // seeds no shard covered, within `expected` if given
  std::vector<std::string> notes;   // e.g. a shard that stopped early (--stop-after)
  double shard_seconds = 0;         // the shards' wall times added up
  double longest_shard_seconds = 0;
  double span_seconds = 0;            // first shard's start to last shard's end (wall clock)
  double seeds_per_shard_second = 0;  // runs / shard_seconds
};

// expected: the range the campaign meant to cover, so that missing shards at
// either end are named too.
MergeResult merge_reports(std::vector<NamedReport> reports,
                          std::optional<SeedRange> expected = std::nullopt);

nlohmann::json merge_to_json(const MergeResult& m);
std::string format_merge(const MergeResult& m);

}  // namespace ws
