// Plain data that fully describes one simulation: the cluster, the network,
// disk and client parameters, the explicit workload and the explicit fault
// plan. A failure file stores exactly these, so a replay needs no generator.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/cluster.h"
#include "core/txid.h"
#include "core/types.h"

namespace ws {

struct NetworkParams {
  Duration latency = 200 * kMicrosecond;  // base one-way delay
  Duration jitter = 100 * kMicrosecond;   // uniform extra delay in [0, jitter]
  uint32_t tail_ppm = 0;                  // chance of a long-tail delay
  Duration tail = 0;                      // long-tail extra delay, uniform in [0, tail]
  uint32_t drop_ppm = 0;
  uint32_t duplicate_ppm = 0;
};

struct DiskParams {
  Duration sync_latency = 100 * kMicrosecond;  // one sync (covers every earlier append)
};

struct ClientParams {
  Duration request_timeout = 40 * kMillisecond;
  uint32_t max_attempts = 3;                   // then the client queries the status
  Duration query_interval = 25 * kMillisecond;
  // The client stops retrying and asking about a request this long after it
  // first sent it, and gives up without an answer. At most half the
  // retention window (docs/forgetting.md).
  Duration horizon = 5 * kSecond;
};

enum class RequestKind : uint8_t {
  kValid,
  kBadAmount,
  kUnknownCurrency,
  kBadTxId,
  kSameAccount,
  kUnknownAccount,
  kReuse,  // the txid of an earlier valid request with different content
  kRead,   // a balance read of account `from` in `currency` (no transaction)
};
const char* to_string(RequestKind k);

// One request of the workload, fully explicit.
struct PlannedRequest {
  Time at = 0;          // when the client first sends it (reuse: after its original ends)
  uint32_t client = 0;
  RequestKind kind = RequestKind::kValid;
  bool duplicate = false;  // sent twice on purpose
  std::string txid;
  std::string amount;
  std::string currency;
  AccountId from = 0;
  AccountId to = 0;
  int32_t reuse_of = -1;  // index of the original request for kReuse
};

struct Workload {
  std::vector<PlannedRequest> requests;  // in order of `at`
};

// What a crash does to a replica's disk besides losing its unsynced appends
// (docs/storage-faults.md). Each is found, if at all, when the replica
// restarts and reads its log back.
enum class DiskFault : uint8_t {
  kNone,
  kCorrupt,           // 1-3 bits flip in a synced record at rest
  kMisdirectedWrite,  // the last synced write landed at another offset; its own place reads back as zeros
  kMisdirectedRead,   // at restart, one read returns bytes from another offset
  kReadError,         // at restart, one read fails: a latent sector error
  kLostFsync,         // armed at `at`: the next fsync fails and its data never reaches the disk; then the crash
  kDiskLost,          // the whole disk is replaced, empty
};
const char* to_string(DiskFault f);
bool parse_disk_fault(std::string_view s, DiskFault& out);

struct CrashFault {
  NodeId node = 0;
  Time at = 0;
  Duration down_for = 0;
  bool torn_write = false;  // leave a torn partial record after the synced log
  // Replica groups: the crash is armed at `at` and happens the moment the
  // replica next grants a vote (its reply sent or waiting for its sync),
  // and lasts down_for from then: the window between a vote and its sync.
  bool at_vote = false;
  // Replica groups: armed at `at`, the crash happens the moment the replica,
  // leading, applies an entry of an earlier term than its own (it has just
  // committed an old leader's entry): right after an old-term commit.
  bool at_old_commit = false;
  DiskFault disk = DiskFault::kNone;  // replica groups only
};

// Links cut between two sets of nodes; one_way cuts only side_a -> side_b.
// With replica groups a fault may name a group instead (isolate_leader_of):
// when it starts, side_a becomes whichever replica leads that group then,
// and side_b the group's other replicas, or, with from_clients, every node
// outside the group (the leader keeps its followers and loses everyone
// else).
struct PartitionFault {
  std::vector<NodeId> side_a;
  std::vector<NodeId> side_b;
  bool one_way = false;
  Time start = 0;
  Time end = 0;
  static constexpr uint32_t kNoGroup = UINT32_MAX;
  uint32_t isolate_leader_of = kNoGroup;
  bool from_clients = false;
  // With isolate_leader_of: armed at `start`, the fault strikes when a
  // replica of the group next becomes leader, around that new leader, and
  // lasts end - start from then: its first entry reaches nobody.
  bool at_election = false;
};

struct ClockFault {
  NodeId node = 0;
  Duration offset = 0;
  int32_t drift_ppm = 0;  // local clock runs (1 + drift/1e6) times as fast
};

struct FaultPlan {
  NetworkParams faulty;  // network during the fault phase (drops, duplicates, tails)
  std::vector<CrashFault> crashes;
  std::vector<PartitionFault> partitions;
  std::vector<ClockFault> clocks;
};

// Service time (DESIGN.md section 5): a node handles one message or timer at
// a time, each costing simulated CPU time, so queues form and throughput
// saturates at 1/cost per node. Zero (the default) means infinitely fast.
struct NodeCosts {
  Duration partition_op = 0;
  Duration coordinator_op = 0;
  // A bounded inbox: a message that finds this many waiting is dropped, as a
  // server with a full queue sheds load (0 = unbounded). The protocol's
  // retries cover it like any lost message.
  uint32_t max_queue = 0;
  // Fixed cost of receiving one packet at a partition, on top of the cost
  // per message in it: what batching amortises (0 = none).
  Duration partition_packet = 0;
  // Busy time is counted from here: a warm-up before the load (elections)
  // does not count towards a node's utilisation.
  Time measure_from = 0;
};

struct SimConfig {
  ClusterConfig cluster;
  NetworkParams network;  // healthy network (heal phase, and the base during faults)
  DiskParams disk;
  NodeCosts costs;
  ClientParams client;
  Duration fault_phase = 500 * kMillisecond;  // faults stop here, crashed nodes restart
  Duration heal_limit = 30 * kSecond;         // after healing, everything must settle by then
  uint64_t max_events = 2'000'000;            // a run that needs more is stuck in a loop (livelock)
  // Cut each node's log behind its newest durable snapshot, so disk use is
  // bounded like memory (docs/forgetting.md).
  bool truncate_logs = true;
  // False: a run is judged on safety alone (beyond-f scenarios, where a
  // group must stop rather than answer wrongly): not settling is no finding.
  bool check_liveness = true;
};

}  // namespace ws
