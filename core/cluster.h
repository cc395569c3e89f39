// The cluster's static configuration: the design's config store. Node ids are
// laid out as partitions [0, P), coordinators [P, P+C), clients after that.
// With replica groups (replicas R > 1) a partition's or coordinator's id is
// its group's id and the node of its replica 0; replicas 1..R-1 of every
// group follow the clients (docs/replication.md).
// Accounts are named "acct-<i>" and placed by partition_of(name, P).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/money.h"
#include "core/types.h"

namespace ws {

enum class TryOrder : uint8_t { kDebitFirst, kCreditFirst, kBothInTry };
const char* to_string(TryOrder o);

// The distributed transaction protocol the whole cluster runs.
//   tcc  Try (reserve) both legs in parallel, then Confirm or Cancel.
//   2pc  Prepare locks both balance rows and votes; Commit applies, Abort unlocks.
//   saga Debit, then credit, each a local transaction; on failure, compensate.
enum class ProtocolKind : uint8_t { kTcc, k2pc, kSaga };
const char* to_string(ProtocolKind k);

struct ProtocolOptions {
  ProtocolKind kind = ProtocolKind::kTcc;
  TryOrder try_order = TryOrder::kDebitFirst;  // TC/C only
  Duration try_timeout = 20 * kMillisecond;    // undecided this long -> Cancel
  Duration retry_interval = 4 * kMillisecond;  // first resend of an unanswered step
  Duration max_backoff = 50 * kMillisecond;    // resend interval never exceeds this
  uint32_t snapshot_every = 512;               // events between snapshots (0 = never); see kSnapshotSpacing
  uint32_t max_inflight = 0;                   // per coordinator; past it new transfers are refused (0 = no limit)
  // Batching: a coordinator's Try/Confirm/Cancel messages for one partition
  // travel together, up to batch_max per packet, each waiting at most
  // batch_delay for company (1 = no batching). The runtime does it, below
  // the state machines: one packet, one network fate, one receive.
  uint32_t batch_max = 1;
  Duration batch_delay = 0;
  // How long a coordinator remembers a finished transaction_id (for dedup
  // and status queries) after it finished; clients must not retry or ask
  // about an id later than half of it after first sending (docs/forgetting.md).
  Duration retention = 10 * kSecond;
  // A transfer whose two accounts live on one partition runs as one local
  // atomic transaction there (both balances move in one event, or neither
  // does) instead of two legs of the distributed protocol
  // (docs/same_partition.md). false: every transfer takes two legs.
  bool local_same_partition = true;
};

// A coordinator's snapshot costs the rows it remembers (a retention
// window's worth), so one is written only after at least this many events
// per row its last snapshot kept (and snapshot_every): compaction then costs
// O(1) per event, amortised, and the log behind the newest snapshot stays
// within this many events per row.
constexpr size_t kSnapshotSpacing = 4;

// Deliberately broken engine behaviours. They exist to show that each
// property checker is able to fail: tests set them, and so can a scenario's
// `bugs` section (`--set bugs.NAME=true`), so that explore, replay and shrink
// can be watched catching each one. Every default is false.
struct EngineBugs {
  bool lose_dedup = false;              // coordinator: duplicate request starts a new transfer
  bool decision_before_durable = false; // coordinator: phase 2 leaves before the decision is synced
  bool no_ooo_marker = false;           // partition: Cancel before Try leaves no marker
  bool confirm_twice = false;           // partition: a duplicate Confirm credits again
  bool skip_funds_check = false;        // partition: Try debit ignores the balance
  bool unlogged_change = false;         // partition: Confirm credit changes state without an event
  bool reply_before_decision = false;   // coordinator: tells the client success on the first yes
  bool no_phase2_retry = false;         // coordinator: phase 2 is sent once, never resent
  bool cancel_skips_debit = false;      // coordinator: Cancel is sent to the credit leg only
  bool nondeterministic = false;        // coordinator: backoff jitter from a process-wide counter
  bool twopc_no_lock = false;           // 2PC participant: Prepare does not lock the row
  bool saga_no_compensation = false;    // Saga orchestrator: a failed credit leaves the debit in place
  bool dedup_amount_only = false;       // coordinator: a known id "matches" when only the amount agrees
  bool skip_balance_limit = false;      // partition: a credit's Try ignores max_balance
  bool misread_short_amount = false;    // coordinator: "12.5" read as 12.05 (short fractions right-aligned)
  bool credit_wrong_account = false;    // partition: a Confirm's credit lands on the partition's next account
  bool forget_early = false;            // coordinator: a finished row is forgotten at the next snapshot, retention or not
  bool ignore_watermark = false;        // partition: finished legs are forgotten whatever the low watermark says
  bool local_repeat_applies = false;    // partition: a repeated same-partition transfer moves the money again
  // Replica groups (cluster.replicas > 1): consensus and replication rules.
  bool vote_before_durable = false;       // Raft: a vote reply leaves before the vote is durable
  bool commit_old_term_by_count = false;  // Raft: an earlier term's entry committed by counting replicas
  bool no_truncate_conflict = false;      // Raft: a follower overwrites a conflicting entry, keeps the stale suffix
  bool fixed_election_timeout = false;    // Raft: the election timeout is not randomised (liveness)
  bool answer_before_commit = false;      // replica host: a leader's answers leave before their entry commits
  bool read_without_check = false;        // Raft: a leader answers a read without confirming it still leads
  bool checkpoint_drops_tail = false;     // replica host: a snapshot is written without the entries after it, and the log cut there
  // Storage faults (docs/storage-faults.md): protocol-aware recovery.
  bool corrupt_as_torn = false;     // a damaged log is cut at the damage and the replica votes at once, as after a torn tail
  bool empty_votes = false;         // a replica that starts with an empty log (a lost disk) votes as if it had seen nothing
  bool skip_read_checksum = false;  // records are read back without verifying their checksums
  bool ignore_lost_fsync = false;   // a failed fsync is ignored and the writer carries on, as if it had succeeded
  bool ack_while_probing = false;   // a repairing replica acknowledges entries before its probes have restored its term
  // Pre-vote and check-quorum (docs/raft.md).
  bool prevote_elects = false;         // Raft: a won pre-vote takes the lead in the current term, without an election
  bool prevote_sticky_leader = false;  // Raft: a silent leader is remembered, and pre-votes refused, until a new term (liveness)
  bool quorum_contact_kept = false;    // Raft: check-quorum never forgets a follower it heard from once
  bool any() const;
};

// Every switch by name (the scenario's `bugs` keys), in declaration order.
struct EngineBugName {
  const char* name;
  bool EngineBugs::*flag;
};
std::span<const EngineBugName> engine_bug_names();

// Replica groups: every partition and coordinator is a Raft group of
// `replicas` (1: a single copy, today's engine; 3 or 5). Raft's timers are
// set for the simulated network's sub-millisecond latency.
struct ReplicationOptions {
  uint32_t replicas = 1;
  Duration election_timeout_min = 15 * kMillisecond;
  Duration election_timeout_max = 30 * kMillisecond;
  Duration heartbeat_interval = 3 * kMillisecond;
  // Entries per Append: 1 makes a leader catch a follower up one entry per
  // round trip, which leaves a follower holding an old term's entry without
  // the new term's after it (the ground of Raft's Figure 8).
  uint32_t max_append_entries = 64;
  // Pre-vote and check-quorum (docs/raft.md): an election starts only once
  // a majority says it could win; a leader cut off from a majority steps
  // down. Switched off only to measure what they change.
  bool pre_vote = true;
  bool check_quorum = true;
};

struct ClusterConfig {
  uint32_t partitions = 4;
  uint32_t coordinators = 2;
  uint32_t clients = 2;
  std::vector<CurrencyInfo> currencies;
  std::vector<Amount> initial_balance;  // per currency, for every account
  std::vector<Amount> max_balance;      // per currency; a credit past it is refused (0 = none)
  uint32_t accounts = 32;
  ProtocolOptions protocol;
  ReplicationOptions replication;
  EngineBugs bugs;

  // Derived by finalize(): owning partition and slot within it, per account.
  std::vector<uint32_t> account_partition;
  std::vector<uint32_t> account_slot;
  std::vector<uint32_t> partition_size;

  void finalize() {
    account_partition.assign(accounts, 0);
    account_slot.assign(accounts, 0);
    partition_size.assign(partitions, 0);
    for (AccountId a = 0; a < accounts; ++a) {
      uint32_t p = partition_of(account_name(a), partitions);
      account_partition[a] = p;
      account_slot[a] = partition_size[p]++;
    }
  }
  static std::string account_name(AccountId a) { return "acct-" + std::to_string(a); }
  // A transfer between these accounts runs as one local transaction on
  // their partition (docs/same_partition.md); the coordinator and the
  // checker both ask here.
  bool runs_locally(AccountId from, AccountId to) const {
    return protocol.local_same_partition && from < accounts && to < accounts &&
           account_partition[from] == account_partition[to];
  }
  NodeId partition_node(uint32_t p) const { return p; }
  NodeId coordinator_node(uint32_t c) const { return partitions + c; }
  NodeId client_node(uint32_t k) const { return partitions + coordinators + k; }
  uint32_t groups() const { return partitions + coordinators; }
  uint32_t replicas() const { return replication.replicas; }
  uint32_t node_count() const { return groups() * replicas() + clients; }
  // Group ids are partition and coordinator ids; a group's replica r.
  NodeId replica_node(uint32_t group, uint32_t r) const {
    return r == 0 ? group : groups() + clients + group * (replicas() - 1) + (r - 1);
  }
  static constexpr uint32_t kNoGroup = UINT32_MAX;
  // The group a server node belongs to; kNoGroup for a client.
  uint32_t group_of(NodeId n) const {
    if (n < groups()) return n;
    const uint32_t first = groups() + clients;
    if (n < first || n >= node_count()) return kNoGroup;
    return (n - first) / (replicas() - 1);
  }
  uint32_t replica_index(NodeId n) const {
    if (n < groups()) return 0;
    return (n - groups() - clients) % (replicas() - 1) + 1;
  }
  bool is_server(NodeId n) const { return group_of(n) != kNoGroup; }
  // The group ids (a replica's node is asked about its group).
  bool is_partition(NodeId n) const { return n < partitions; }
  bool is_coordinator(NodeId n) const { return n >= partitions && n < partitions + coordinators; }
  bool is_client(NodeId n) const { return n >= groups() && n < groups() + clients; }
  // The coordinator that owns a transaction: stable_hash(transaction_id) % C.
  uint32_t coordinator_of(uint64_t tx_hi, uint64_t tx_lo) const {
    uint64_t h = fnv1a64(&tx_hi, 8);
    h = fnv1a64(&tx_lo, 8, h);
    return static_cast<uint32_t>(h % coordinators);
  }
};

}  // namespace ws
