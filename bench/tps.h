// `walletsim tps`: simulated throughput of a cluster shape under an open-loop
// load. Each offered rate is one fault-free run whose requests start at
// uniformly random instants over the duration; with the service-time model
// on (node.*_op_ns), queues form and throughput saturates.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "properties/runner.h"

namespace ws {

struct TpsPoint {
  double offered_tps = 0;
  double achieved_tps = 0;   // transfers answered success per simulated second (window, or until the last one)
  uint64_t committed = 0, aborted = 0;
  Duration p50 = 0, p99 = 0, p999 = 0;
  std::vector<std::pair<NodeId, double>> busiest;  // (node, utilisation 0..1), highest first
  bool ok = true;            // every property held
  double wall_seconds = 0;
  uint64_t events = 0;
  uint64_t shed = 0;         // messages dropped at a full inbox (admission control)
};

struct TpsOptions {
  std::vector<double> rates;  // offered transfers per simulated second
  double duration_s = 1.0;
  uint32_t partitions = 0;    // 0: keep the scenario's
  uint32_t coordinators = 0;
  uint32_t accounts = 0;      // 0: the scenario's, or 100 per partition when partitions is set
  // Balance operations per second one partition node sustains; an operation
  // is one leg's two steps (Try and Confirm), so each message costs
  // 1 / (2 * capacity) seconds. 0: keep the scenario's node.partition_op_ns.
  double capacity = 0;
  // With a service time, bound each coordinator's transfers in flight and
  // each node's inbox (unless the scenario sets them), so that overload sheds
  // load instead of collapsing into timeouts and retries.
  bool admission = true;
  // Replica groups run with walletd's Raft timers (a deployment's), unless
  // this is set: then with the scenario's (short ones, made for exploration).
  bool scenario_timers = false;
  bool progress = false;  // a line on stderr after each rate
  uint64_t seed = 1;
};

// Simulated CPU time of one partition message at `capacity` balance
// operations per second (an operation is a leg's Try and its Confirm).
Duration message_cost(double capacity);

// walletd's Raft timers (net/cluster_file.cc): what a measured load with
// replica groups runs with, as a deployment would.
inline constexpr int64_t kDeploymentElectionMinMs = 600;
inline constexpr int64_t kDeploymentElectionMaxMs = 1200;
inline constexpr int64_t kDeploymentHeartbeatMs = 100;

// With replica groups, the quiet time before the first request: three of
// the longest election timeouts, so the load meets groups that have
// elected their leaders (0 for groups of one).
int64_t warmup_ms(const Scenario& base, bool scenario_timers);

// The scenario values of an open-loop, fault-free load: `transfers` valid
// requests starting uniformly over `duration_ms`, none invalid, duplicated
// or reused, and amounts small enough that funds never run out. With
// replica groups: walletd's Raft timers (unless scenario_timers) and the
// warm-up before the load.
std::vector<std::string> open_loop_sets(const Scenario& base, uint64_t transfers, int64_t duration_ms,
                                        bool scenario_timers);

// A header line on replica groups (empty for groups of one).
std::string groups_line(const Scenario& base, bool scenario_timers);

// The scenario values one rate's run sets on top of the base scenario.
std::vector<std::string> tps_sets(const Scenario& base, const TpsOptions& opt, double rate);

// Parses "5000" or a sweep "1000..2000000x2" (from A, multiplying by F, up to B).
bool parse_rates(const std::string& text, std::vector<double>& out);

// Returns the error (empty on success) of building the scenario for a rate.
std::string run_tps(const Scenario& base, const TpsOptions& opt, std::vector<TpsPoint>& out);

std::string format_tps_table(const Scenario& base, const TpsOptions& opt, const std::vector<TpsPoint>& pts);
std::string format_tps_csv(const std::vector<TpsPoint>& pts);
nlohmann::json tps_to_json(const std::vector<TpsPoint>& pts);
// Two log-log panels: achieved against offered throughput, and p50/p99
// latency against offered throughput.
// nominal > 0 draws the cluster's arithmetic capacity as a horizontal line.
std::string tps_svg(const std::vector<TpsPoint>& pts, const std::string& title, double nominal = 0);

}  // namespace ws
