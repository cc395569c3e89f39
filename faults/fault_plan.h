// Fault profiles: from a seed, an explicit plan of what goes wrong and when.
//   none      nothing
//   lossy     message loss, duplication, long-tail delays (reordering)
//   partition network partitions, one- and two-way
//   crash     process crashes and restarts, torn log tails
//   chaos     all of the above plus clock offset and drift
//   swarm     each seed switches every kind on or off and scales its rate,
//             so different seeds explore different mixes
//   storage   replica crashes that also damage the disk (corruption,
//             misdirected I/O, read errors, lost fsyncs, lost disks);
//             chaos and swarm add them too when there are replica groups
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/model.h"

namespace ws {

enum class FaultProfile : uint8_t { kNone, kLossy, kPartition, kCrash, kChaos, kSwarm, kStorage };
std::optional<FaultProfile> parse_fault_profile(std::string_view s);
const char* to_string(FaultProfile p);

// Rates and bounds used when a kind of fault is on.
struct FaultKnobs {
  uint32_t drop_ppm = 30'000;
  uint32_t duplicate_ppm = 30'000;
  uint32_t tail_ppm = 20'000;
  Duration tail = 80 * kMillisecond;
  uint32_t crashes = 3;
  enum class Targets : uint8_t { kAny, kCoordinators, kPartitions } crash_targets = Targets::kAny;
  Duration crash_down_max = 150 * kMillisecond;
  uint32_t torn_write_ppm = 500'000;
  uint32_t partitions = 2;
  Duration partition_max = 150 * kMillisecond;
  // With replica groups: partitions that cut off whichever replica leads a
  // group when they start, from its followers or from everyone else.
  uint32_t leader_isolations = 2;
  // With replica groups: the share of crashes that wait for the replica's
  // next vote granted instead of striking at a fixed time.
  uint32_t crash_at_vote_ppm = 0;
  // ... that wait for the replica, leading, to commit an earlier term's entry.
  uint32_t crash_at_old_commit_ppm = 0;
  // The share of leader isolations that wait for the group's next election.
  uint32_t isolate_new_leader_ppm = 0;
  // Storage faults (replica groups only, docs/storage-faults.md): crashes
  // whose restart finds the disk damaged as DiskFault says. storage_kinds
  // holds a bit per DiskFault (bit 0: a plain crash) to draw from.
  uint32_t storage_faults = 4;
  uint32_t storage_kinds = 0x7f;
  // Replicas of one group struck together by one storage fault (f + 1 to
  // go beyond what the group can survive).
  uint32_t storage_together = 1;
  // Within f: a storage fault is placed only where, with it, at most
  // f = (R-1)/2 replicas of its group are down or repairing at once; a
  // damaged replica counts until repair_allowance after its restart.
  bool within_f = true;
  Duration repair_allowance = 200 * kMillisecond;
  int32_t drift_ppm_max = 500;
  Duration offset_max = kSecond;
};

FaultPlan generate_fault_plan(FaultProfile profile, const FaultKnobs& knobs,
                              const ClusterConfig& cluster, Duration fault_phase, uint64_t seed);

}  // namespace ws
