#include "faults/fault_plan.h"

#include <algorithm>

#include "sim/rng.h"

namespace ws {

std::optional<FaultProfile> parse_fault_profile(std::string_view s) {
  if (s == "none") return FaultProfile::kNone;
  if (s == "lossy") return FaultProfile::kLossy;
  if (s == "partition") return FaultProfile::kPartition;
  if (s == "crash") return FaultProfile::kCrash;
  if (s == "chaos") return FaultProfile::kChaos;
  if (s == "swarm") return FaultProfile::kSwarm;
  if (s == "storage") return FaultProfile::kStorage;
  return std::nullopt;
}

const char* to_string(FaultProfile p) {
  switch (p) {
    case FaultProfile::kNone: return "none";
    case FaultProfile::kLossy: return "lossy";
    case FaultProfile::kPartition: return "partition";
    case FaultProfile::kCrash: return "crash";
    case FaultProfile::kChaos: return "chaos";
    case FaultProfile::kSwarm: return "swarm";
    case FaultProfile::kStorage: return "storage";
  }
  return "?";
}

namespace {

struct Kinds {
  bool loss = false, duplicate = false, tail = false, partition = false, crash = false,
       clock = false, storage = false;
};

// Scales a rate by a random factor in {1/4, 1/2, 1, 2} for swarm runs,
// never past certainty (a plan must load back from its failure file).
void add_storage_faults(FaultPlan& plan, const FaultKnobs& k, const ClusterConfig& c, Duration fault_phase,
                        uint64_t seed);

uint32_t scaled(Xoshiro& rng, uint32_t v) {
  switch (rng.below(4)) {
    case 0: return v / 4;
    case 1: return v / 2;
    case 2: return v;
    default: return std::min<uint32_t>(v * 2, 1'000'000);
  }
}

}  // namespace

FaultPlan generate_fault_plan(FaultProfile profile, const FaultKnobs& k0, const ClusterConfig& c,
                              Duration fault_phase, uint64_t seed) {
  Xoshiro rng(seed, "faults");
  FaultKnobs k = k0;
  Kinds on;
  switch (profile) {
    case FaultProfile::kNone: break;
    case FaultProfile::kLossy: on.loss = on.duplicate = on.tail = true; break;
    case FaultProfile::kPartition: on.partition = true; break;
    case FaultProfile::kCrash: on.crash = true; break;
    case FaultProfile::kChaos:
      on.loss = on.duplicate = on.tail = on.partition = on.crash = on.clock = on.storage = true;
      break;
    case FaultProfile::kStorage: on.storage = true; break;
    case FaultProfile::kSwarm:
      on.loss = rng.below(2);
      on.duplicate = rng.below(2);
      on.tail = rng.below(2);
      on.partition = rng.below(2);
      on.crash = rng.below(2);
      on.clock = rng.below(2);
      k.drop_ppm = scaled(rng, k.drop_ppm);
      k.duplicate_ppm = scaled(rng, k.duplicate_ppm);
      k.tail_ppm = scaled(rng, k.tail_ppm);
      k.crashes = 1 + static_cast<uint32_t>(rng.below(k.crashes * 2));
      k.partitions = 1 + static_cast<uint32_t>(rng.below(k.partitions * 2));
      break;
  }
  // Drawn apart, after everything else: a plan without groups is what it
  // was before storage faults existed.
  if (profile == FaultProfile::kSwarm && c.replicas() > 1) {
    Xoshiro srng(seed, "faults/storage");
    on.storage = srng.below(2);
    k.storage_faults = 1 + static_cast<uint32_t>(srng.below(k.storage_faults * 2));
  }
  FaultPlan plan;
  if (on.loss) plan.faulty.drop_ppm = k.drop_ppm;
  if (on.duplicate) plan.faulty.duplicate_ppm = k.duplicate_ppm;
  if (on.tail) {
    plan.faulty.tail_ppm = k.tail_ppm;
    plan.faulty.tail = k.tail;
  }
  // With replica groups every replica is a target of its own: a crash hits
  // one replica, a partition's sides and the clocks are drawn over replicas.
  const uint32_t R = c.replicas();
  std::vector<NodeId> server_nodes;
  for (uint32_t g = 0; g < c.groups(); ++g)
    for (uint32_t r = 0; r < R; ++r) server_nodes.push_back(c.replica_node(g, r));
  const uint32_t servers = static_cast<uint32_t>(server_nodes.size());
  const uint32_t all = c.node_count();
  if (on.crash) {
    for (uint32_t i = 0; i < k.crashes; ++i) {
      CrashFault f;
      switch (k.crash_targets) {
        case FaultKnobs::Targets::kAny: f.node = static_cast<NodeId>(rng.below(c.groups())); break;
        case FaultKnobs::Targets::kPartitions: f.node = static_cast<NodeId>(rng.below(c.partitions)); break;
        case FaultKnobs::Targets::kCoordinators:
          f.node = c.coordinator_node(static_cast<uint32_t>(rng.below(c.coordinators)));
          break;
      }
      if (R > 1) f.node = c.replica_node(f.node, static_cast<uint32_t>(rng.below(R)));
      f.at = static_cast<Time>(rng.below(static_cast<uint64_t>(fault_phase)));
      f.down_for = rng.between(kMillisecond, k.crash_down_max);
      f.torn_write = rng.chance_ppm(k.torn_write_ppm);
      if (R > 1 && k.crash_at_vote_ppm > 0) f.at_vote = rng.chance_ppm(k.crash_at_vote_ppm);
      if (R > 1 && k.crash_at_old_commit_ppm > 0 && !f.at_vote)
        f.at_old_commit = rng.chance_ppm(k.crash_at_old_commit_ppm);
      plan.crashes.push_back(f);
    }
    std::stable_sort(plan.crashes.begin(), plan.crashes.end(),
                     [](const CrashFault& a, const CrashFault& b) { return a.at < b.at; });
  }
  if (on.partition) {
    for (uint32_t i = 0; i < k.partitions; ++i) {
      PartitionFault p;
      // Side A: a random non-empty proper subset of the servers; side B: the rest, clients too.
      uint64_t pick = 0;
      while (pick == 0 || pick == (uint64_t{1} << std::min(servers, 63u)) - 1)
        pick = rng.next_u64() & ((uint64_t{1} << std::min(servers, 63u)) - 1);
      for (NodeId n = 0; n < all; ++n) {
        // Without groups the servers are nodes 0..servers-1, in order.
        const auto at = std::find(server_nodes.begin(), server_nodes.end(), n);
        const size_t i = static_cast<size_t>(at - server_nodes.begin());
        bool a = at != server_nodes.end() && i < 63 && ((pick >> i) & 1);
        (a ? p.side_a : p.side_b).push_back(n);
      }
      p.one_way = rng.below(3) == 0;
      p.start = static_cast<Time>(rng.below(static_cast<uint64_t>(fault_phase)));
      p.end = std::min<Time>(fault_phase, p.start + rng.between(kMillisecond, k.partition_max));
      plan.partitions.push_back(p);
    }
  }
  if (on.partition && R > 1) {
    for (uint32_t i = 0; i < k.leader_isolations; ++i) {
      PartitionFault p;
      p.isolate_leader_of = static_cast<uint32_t>(rng.below(c.groups()));
      p.from_clients = rng.below(2) == 1;
      p.start = static_cast<Time>(rng.below(static_cast<uint64_t>(fault_phase)));
      p.end = std::min<Time>(fault_phase, p.start + rng.between(kMillisecond, k.partition_max));
      if (k.isolate_new_leader_ppm > 0) p.at_election = rng.chance_ppm(k.isolate_new_leader_ppm);
      plan.partitions.push_back(p);
    }
  }
  if (on.clock) {
    for (NodeId n : server_nodes) {
      ClockFault f;
      f.node = n;
      f.offset = static_cast<Duration>(rng.below(static_cast<uint64_t>(k.offset_max) + 1));
      f.drift_ppm = static_cast<int32_t>(rng.between(-k.drift_ppm_max, k.drift_ppm_max));
      plan.clocks.push_back(f);
    }
  }
  if (on.storage && R > 1) add_storage_faults(plan, k, c, fault_phase, seed);
  return plan;
}

// Each storage fault crashes `storage_together` replicas of one group and
// damages their disks. Within f, it goes only where the group has room:
// every crash already planned, and every damaged replica until its repair
// allowance has passed, counts against f. A fault with no room after a few
// draws is left out.
namespace {

void add_storage_faults(FaultPlan& plan, const FaultKnobs& k, const ClusterConfig& c, Duration fault_phase,
                        uint64_t seed) {
  Xoshiro rng(seed, "faults/storage/plan");
  const uint32_t R = c.replicas();
  const uint32_t f = (R - 1) / 2;
  std::vector<DiskFault> kinds;
  for (uint8_t i = 0; i <= static_cast<uint8_t>(DiskFault::kDiskLost); ++i)
    if ((k.storage_kinds >> i) & 1u) kinds.push_back(static_cast<DiskFault>(i));
  if (kinds.empty()) return;
  struct Busy {
    NodeId node;
    Time from, to;
  };
  std::vector<Busy> busy;
  for (const CrashFault& cf : plan.crashes) {
    // A crash armed for a moment may strike any time after `at`.
    const Time to = cf.at_vote || cf.at_old_commit ? fault_phase + cf.down_for : cf.at + cf.down_for;
    busy.push_back(Busy{cf.node, cf.at, to + (cf.disk != DiskFault::kNone ? k.repair_allowance : 0)});
  }
  // A replica cut off from its group is faulty too, and a repair cannot
  // finish while a peer is out of reach: a repairing replica asks every
  // peer. A cut that splits a group counts its smaller side as busy; a
  // leader isolation, whose leader is known only when it strikes, the whole
  // group. Cuts from clients leave the group whole.
  std::vector<uint8_t> on_a;
  for (const PartitionFault& p : plan.partitions) {
    if (p.from_clients) continue;
    const Time to = (p.at_election ? fault_phase + (p.end - p.start) : p.end) + k.repair_allowance;
    if (p.isolate_leader_of != PartitionFault::kNoGroup) {
      for (uint32_t r = 0; r < R && p.isolate_leader_of < c.groups(); ++r)
        busy.push_back(Busy{c.replica_node(p.isolate_leader_of, r), p.start, to});
      continue;
    }
    on_a.assign(c.node_count(), 0);
    for (NodeId n : p.side_a)
      if (n < on_a.size()) on_a[n] = 1;
    for (uint32_t g = 0; g < c.groups(); ++g) {
      uint32_t na = 0;
      for (uint32_t r = 0; r < R; ++r) na += on_a[c.replica_node(g, r)];
      if (na == 0 || na == R) continue;
      const uint8_t minority = na * 2 <= R ? 1 : 0;
      for (uint32_t r = 0; r < R; ++r)
        if (on_a[c.replica_node(g, r)] == minority) busy.push_back(Busy{c.replica_node(g, r), p.start, to});
    }
  }
  const uint32_t together = std::min(k.storage_together, R);
  for (uint32_t i = 0; i < k.storage_faults; ++i) {
    for (int attempt = 0; attempt < 16; ++attempt) {
      const uint32_t g = static_cast<uint32_t>(rng.below(c.groups()));
      const Time at = static_cast<Time>(rng.below(static_cast<uint64_t>(fault_phase)));
      const Duration down = rng.between(kMillisecond, k.crash_down_max);
      // A lost fsync strikes at the next sync after `at`, within a few ms.
      const Time to = at + down + k.repair_allowance + 5 * kMillisecond;
      std::vector<uint32_t> replicas(R);
      for (uint32_t r = 0; r < R; ++r) replicas[r] = r;
      for (uint32_t r = 0; r < together; ++r)
        std::swap(replicas[r], replicas[r + static_cast<uint32_t>(rng.below(R - r))]);
      replicas.resize(together);
      if (k.within_f) {
        uint32_t others = 0;
        for (uint32_t r = 0; r < R; ++r) {
          if (std::find(replicas.begin(), replicas.end(), r) != replicas.end()) continue;
          const NodeId n = c.replica_node(g, r);
          for (const Busy& b : busy)
            if (b.node == n && b.from < to && at < b.to) {
              ++others;
              break;
            }
        }
        bool self_busy = false;
        for (uint32_t r : replicas)
          for (const Busy& b : busy)
            if (b.node == c.replica_node(g, r) && b.from < to && at < b.to) self_busy = true;
        if (self_busy || others + together > f) continue;
      }
      for (uint32_t r : replicas) {
        CrashFault cf;
        cf.node = c.replica_node(g, r);
        cf.at = at;
        cf.down_for = down;
        cf.torn_write = rng.chance_ppm(k.torn_write_ppm);
        cf.disk = kinds[static_cast<size_t>(rng.below(kinds.size()))];
        plan.crashes.push_back(cf);
        busy.push_back(Busy{cf.node, at, to});
      }
      break;
    }
  }
  std::stable_sort(plan.crashes.begin(), plan.crashes.end(),
                   [](const CrashFault& a, const CrashFault& b) { return a.at < b.at; });
}

}  // namespace

}  // namespace ws
