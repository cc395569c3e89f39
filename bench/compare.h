// `walletsim compare`: the same workloads and fault plans (same seeds) under
// TC/C, 2PC and Saga, measured side by side.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "properties/runner.h"

namespace ws {

struct ProtocolSummary {
  ProtocolKind kind = ProtocolKind::kTcc;
  uint64_t runs = 0, violations = 0, committed = 0, aborted = 0, rejected = 0;
  Duration latency_p50 = 0, latency_p99 = 0, latency_max = 0;
  RunMetrics totals;          // summed over runs (maxima are maxima)
  std::string first_violation;  // "seed N: property: message"
};

// progress(done, violations): runs so far over all protocols, and the
// violations among them; called from the worker threads.
std::vector<ProtocolSummary> compare_protocols(const Scenario& base, uint64_t first, uint64_t last,
                                               unsigned jobs,
                                               const std::function<void(uint64_t, uint64_t)>& progress = {});
std::string format_compare_table(const std::vector<ProtocolSummary>& rows);
nlohmann::json compare_to_json(const std::vector<ProtocolSummary>& rows);

// Nearest-rank percentile of an unsorted sample (sorted in place); 0 if empty.
Duration percentile(std::vector<Duration>& v, double p);

}  // namespace ws
