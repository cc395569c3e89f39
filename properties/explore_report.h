// Explore reports (docs/explore_report.md): the JSON that `walletsim explore
// --json` prints, which is also a shard of a campaign for `walletsim merge`.
// It carries a format version, the build id, the scenario's name and digest,
// the seed range, the runs, the failures with their files, the timings, the
// order-independent trace digest and the coverage counts, plus a checksum
// over the rest, so a damaged shard is refused.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "properties/explore.h"

namespace ws {

constexpr int kExploreReportVersion = 1;

nlohmann::json explore_report_to_json(const ExploreResult& r);
// The failed seeds as report entries, shared by explore and merge reports.
nlohmann::json failed_seeds_json(const std::vector<ExploreFailure>& failures);

struct ExploreReportLoad {
  std::optional<ExploreResult> report;
  std::string error;  // names what is wrong: the key, the value, or the checksum
};
ExploreReportLoad explore_report_from_json(const nlohmann::json& doc);
ExploreReportLoad load_explore_report(const std::string& path);

}  // namespace ws
