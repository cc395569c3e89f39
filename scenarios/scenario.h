// Scenarios: JSON files that fix the cluster, the workload, the fault
// profile, the phases and the protocol options (DESIGN.md section 7). Every
// key has a default (scenarios/defaults.json); a scenario file or a
// --set key.path=value override may only name keys that exist there, with a
// value of the right type and range, or loading fails with a message that
// names the key.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "faults/fault_plan.h"
#include "sim/model.h"
#include "sim/workload.h"

namespace ws {

struct Scenario {
  std::string name;
  std::string description;
  nlohmann::json doc;  // complete, after defaults and overrides; stored in failure files
  SimConfig sim;
  WorkloadParams workload;
  FaultProfile profile = FaultProfile::kNone;
  FaultKnobs knobs;
};

struct ScenarioLoad {
  std::optional<Scenario> scenario;
  std::string error;
};

// name_or_file: a built-in name ("smoke") or a path to a JSON file.
// sets: "key.path=value" overrides, applied in order.
ScenarioLoad load_scenario(std::string_view name_or_file, const std::vector<std::string>& sets);
// Validates a complete or partial scenario document against the defaults.
ScenarioLoad scenario_from_json(const nlohmann::json& doc, const std::vector<std::string>& sets = {});

// Built-in scenarios: (name, description), sorted by name.
std::vector<std::pair<std::string, std::string>> builtin_scenarios();

// Generated from scenarios/*.json at build time.
const std::vector<std::pair<std::string_view, std::string_view>>& builtin_scenario_texts();

}  // namespace ws
