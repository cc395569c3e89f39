// `walletsim sizing`: the design's node-count table (DESIGN.md section 1)
// found by simulation. For each per-node capacity, the smallest partition
// count that sustains 1,000,000 transfers per simulated second with every
// transfer committed and p99 latency under a stated bound; then the cases
// where the simple arithmetic (2 operations per transfer / capacity) stops
// holding.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scenarios/scenario.h"

namespace ws {

struct SizingOptions {
  double target_tps = 1'000'000;
  // Load per probe, in operation times of one node (1 / capacity): long
  // enough for the queues near saturation to build up.
  double op_times = 1000;
  // Every probe simulates a slice of the cluster of about this many
  // partitions carrying its share of the load; each partition sees the same
  // arrival rate as in the whole cluster. 0: simulate the whole cluster.
  uint32_t slice_partitions = 200;
  double bound_op_times = 50;               // p99 bound: this many operation times ...
  Duration bound_base = 2 * kMillisecond;   // ... plus the fault-free network path
  bool extras = true;                       // the rows where the arithmetic stops holding
  bool scenario_timers = false;             // replica groups: the scenario's Raft timers, not walletd's
  uint64_t seed = 1;
};

struct SizingRow {
  std::string name;
  std::string varies = "partitions";  // or "coordinators"
  double capacity = 0;                // balance operations per second per partition node
  uint64_t design = 0;                // the design's count (0: the design has none)
  uint64_t found = 0;                 // 0: not sustained up to the search's upper end
  uint64_t searched_to = 0;
  uint32_t slice = 1;                 // the probes simulated 1/slice of the cluster
  Duration bound = 0;
  Duration p99 = 0;                   // at `found`, or at the upper end when none
  double busiest = 0;                 // utilisation of the busiest node there
  uint64_t aborted = 0;
  uint32_t probes = 0;
  double wall_seconds = 0;
  std::string note;
};

// Told after every probe.
struct SizingProgress {
  std::string line;         // the probe, readable
  uint32_t probes = 0;      // done so far
  uint32_t planned = 0;     // the most the whole search can take (exact once it ends)
  uint32_t violations = 0;  // probes whose run violated a property
};

// With replica groups the fault-free path holds replication round trips
// (a commit needs a follower's append and sync): its p99, measured in one
// light, fault-free run of a 200-partition slice with no service time. The
// app raises bound_base to it (never below the 2 ms default), so the bound
// leaves the same room for queueing as with single copies.
std::string measure_path_p99(const Scenario& base, const SizingOptions& opt, Duration& out);

// Returns the error, empty on success.
std::string run_sizing(const Scenario& base, const SizingOptions& opt, std::vector<SizingRow>& rows,
                       const std::function<void(const SizingProgress&)>& progress);
std::string format_sizing(const SizingOptions& opt, const std::vector<SizingRow>& rows);
nlohmann::json sizing_to_json(const SizingOptions& opt, const std::vector<SizingRow>& rows);

}  // namespace ws
