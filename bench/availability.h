// `walletsim availability`: the design's 99.99% by simulation, as `sizing`
// is its 1,000,000 TPS. For each replica count it lives through a long
// stretch of a cluster's life (default one year) with node crashes, disk
// losses and network partitions drawn from stated rates, and samples
// transfers thinly against it.
//
// Two levels, so that a year takes seconds:
//  - the real engine, in the simulator, measures what one failure costs:
//    how long a group goes without a leader after its leader crashes
//    (election timeouts, votes, the new leader's first commit), with the
//    Raft timers a deployment would use (walletd's defaults);
//  - a year of failures and recoveries is then simulated event by event per
//    replica, each at its exact time: a group is unavailable while it has
//    no leader (a failover drawn from the measured ones) or no majority of
//    healthy replicas. Transfers are sampled at Poisson instants, each
//    touching two partition groups and a coordinator group; one succeeds
//    within the SLO if every group it touches is available by then.
// docs/availability.md has the model, its rates and what it leaves out.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/types.h"

namespace ws {

// Every field is a `--set availability.NAME=VALUE` key.
struct AvailabilityKnobs {
  uint32_t partitions = 40;           // partition groups (the design's shape, scaled down)
  uint32_t coordinators = 4;          // coordinator groups
  double years = 1;                   // simulated time per replica count
  double node_mtbf_hours = 720;       // a node crashes (and restarts) every 30 days on average
  double node_mttr_minutes = 10;      // mean time to restart a crashed node
  double disk_afr = 0.02;             // annual failure rate of a disk (lost with its data)
  double disk_replace_hours = 24;     // mean time until a lost disk is replaced
  double rebuild_minutes = 30;        // a replaced replica catching up from its peers (snapshot install, log)
  double partition_mtbf_hours = 2160; // a node is cut off from the network every 90 days on average
  double partition_minutes = 5;       // mean length of a cut
  double slo_ms = 1000;               // a transfer must be answered success within this
  double samples_per_second = 1;      // sampled transfers per simulated second
  double accounts_per_partition = 1000;
  double balance = 100;               // money per account (units), for "money lost"
  // The Raft timers of the failover measurement (walletd's defaults).
  double election_timeout_min_ms = 600;
  double election_timeout_max_ms = 1200;
  double heartbeat_ms = 100;
  double calibration_runs = 40;       // real-engine runs per replica count
  double seed = 1;
};

// Applies "availability.NAME=VALUE" overrides; returns the error naming the
// key, empty on success (knobs unchanged on error).
std::string apply_availability_sets(AvailabilityKnobs& k, const std::vector<std::string>& sets);
nlohmann::json availability_knobs_json(const AvailabilityKnobs& k);

// What the real engine measured for one replica count.
struct Failover {
  uint32_t replicas = 1;
  uint32_t runs = 0;
  uint32_t violations = 0;            // runs that broke a property (would be a finding)
  std::string first_violation;
  std::vector<Duration> samples;      // leader crash -> a new leader, sorted
  Duration median() const;
  Duration p99() const;
};

Failover measure_failover(const AvailabilityKnobs& k, uint32_t replicas);

struct AvailabilityRow {
  uint32_t replicas = 1;
  double mttr_minutes = 0;
  uint64_t sampled = 0;               // transfers sampled
  uint64_t succeeded = 0;             // answered success within the SLO
  double share() const { return sampled ? static_cast<double>(succeeded) / static_cast<double>(sampled) : 1; }
  double any_down_minutes = 0;        // per year: some group unavailable (some accounts could not transfer)
  double group_down_minutes = 0;      // per year, per group, mean
  double beyond_f_minutes = 0;        // per year: some group with more than f replicas faulty
  uint64_t crashes = 0, disk_losses = 0, cuts = 0, elections = 0;
  uint32_t groups_lost = 0;           // groups whose data was lost (R=1: any disk loss; else a majority at once)
  uint32_t partition_groups_lost = 0;
  double money_lost = 0;              // balances held by the partition groups lost
  bool meets() const { return share() >= 0.9999; }
  double wall_seconds = 0;
};

// One row: `years` of the cluster with this replica count.
AvailabilityRow simulate_availability(const AvailabilityKnobs& k, uint32_t replicas, const Failover& failover);

std::string format_availability(const AvailabilityKnobs& k, const std::vector<Failover>& failovers,
                                const std::vector<AvailabilityRow>& rows);
nlohmann::json availability_to_json(const AvailabilityKnobs& k, const std::vector<Failover>& failovers,
                                    const std::vector<AvailabilityRow>& rows,
                                    const std::vector<AvailabilityRow>& sweep);
// Availability (in nines of transfers answered within the SLO) against MTTR, one line per R.
std::string availability_svg(const AvailabilityKnobs& k, const std::vector<AvailabilityRow>& sweep);

}  // namespace ws
