// Failure files (docs/failure_file.md): everything needed to re-run a failure
// without the generators — format version, build id, seed, the full scenario,
// the explicit workload and fault plan, the violated property and the trace
// hash — plus a checksum over the rest, so a damaged file is refused.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "properties/runner.h"

namespace ws {

constexpr int kFailureFileVersion = 1;

struct FailureFile {
  RunSpec spec;
  Property property = Property::kConservation;
  std::string message;
  uint64_t trace_hash = 0;
  std::string build;
};

std::string build_id();

nlohmann::json failure_to_json(const RunSpec& spec, const RunResult& result);

struct FailureLoad {
  std::optional<FailureFile> file;
  std::string error;  // names what is wrong: the key, the value, or the checksum
};
FailureLoad failure_from_json(const nlohmann::json& doc);
FailureLoad load_failure_file(const std::string& path);

// The spec parts on their own, also used by tests and shrinking.
nlohmann::json workload_to_json(const Workload& w);
nlohmann::json fault_plan_to_json(const FaultPlan& p);

}  // namespace ws
