// The properties of DESIGN.md section 6, checked from the recorded history:
// every event record as it becomes durable (during the run), each partition
// as it comes back from a crash, and the nodes' final state and the clients'
// answers (at the end). A violation names the property, the simulated time,
// the transactions and the last events. What the clients asked for is read
// by the checker's own parsers (properties/reading.h), never the engine's.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/flat_map.h"
#include "core/partition_node.h"
#include "sim/simulator.h"

namespace ws {

enum class Property : uint8_t {
  kConservation,
  kNoNegative,
  kAtomicity,
  kIdempotency,
  kClientTruth,
  kLiveness,
  kReplay,
  kDeterminism,
  kModelAgreement,  // each account's real balance equals the checker's model of it
  kBalanceLimit,    // no balance goes past max_balance
  // Replica groups (cluster.replicas > 1):
  kElectionSafety,  // at most one leader per term in a group
  kStateMachineSafety,  // no two replicas apply different entries at one index, or hold different states at one
  kLinearizableReads,   // a balance read returns the balance at some instant between its send and its answer
};
constexpr int kPropertyCount = 13;
const char* to_string(Property p);
std::optional<Property> parse_property(std::string_view s);

struct Violation {
  Property property = Property::kConservation;
  Time time = 0;
  std::vector<TxId> txs;
  std::string message;
  std::vector<std::string> recent;  // the last events before it, as timeline lines
};

// What a run measured, for `walletsim compare` (simulated time throughout).
struct RunMetrics {
  uint64_t partial_count = 0;       // transfers whose money was ever in flight
  Duration partial_total = 0;       // time partial state was visible (money in flight)
  Duration partial_max = 0;
  uint64_t locked_legs = 0;         // 2PC: rows locked by a prepare and later released
  Duration lock_total = 0;
  Duration lock_max = 0;
  uint64_t lock_conflicts = 0;      // 2PC: votes "no" because the row was locked
  uint64_t stalled = 0;             // undecided transfers owned by a coordinator when it crashed
  uint64_t in_doubt = 0;            // 2PC: prepared (locked) legs whose coordinator crashed
  Duration in_doubt_lock_total = 0; // lock time of those legs
};

struct TxHistory {
  // from partition events (durable)
  uint32_t debits = 0, credits = 0, refunds = 0, reversals = 0;
  int64_t in_flight = 0;  // debited - credited - refunded + reversed, minor units
  AccountId debit_account = 0, credit_account = 0;
  bool has_debit_account = false, has_credit_account = false;
  Amount amount;
  CurrencyIdx currency = 0;
  // from coordinator events (durable)
  bool begun = false;
  AccountId from = 0, to = 0;
  Amount begun_amount;
  CurrencyIdx begun_currency = 0;
  int decision = -1;  // -1 none, 0 cancel, 1 confirm
  bool absent = false;  // queried before it arrived: it can never start
  // What decides whether its coordinator still sends a second phase: a
  // same-partition transfer has none; a Saga's credit never gets one, nor
  // its debit once confirmed or refused; otherwise a Cancel is resent to each
  // leg until that leg's acknowledgement is recorded.
  bool local = false, saga = false;
  int8_t try_answer[2] = {-1, -1};  // the coordinator's record of each leg's Try answer
  bool acked[2] = {false, false};   // the coordinator recorded the leg's second-phase acknowledgement
  Time partial_since = -1;  // money in flight since (simulated time), -1 if none
  // retirement (streaming): requests about it whose answers are not yet judged,
  // and when anything last happened to it
  uint32_t open_requests = 0;
  Time last_touch = 0;
  // Nothing more should happen to it: the decision is applied to both legs
  // (or it never started and moved nothing).
  // A Cancel still being resent (to a partition that is down, say) can land
  // long after the money settled, leaving an out-of-order marker: until each
  // leg's acknowledgement is recorded, the history is kept.
  bool settled() const {
    if (in_flight != 0) return false;
    if (decision == 1) return net_debit() == 1 && net_credit() == 1;
    if (decision == 0) return net_debit() == 0 && net_credit() == 0 && cancel_delivered(0) && cancel_delivered(1);
    return !begun && debits == 0 && credits == 0;
  }
  bool cancel_delivered(int leg) const {
    if (local || acked[leg]) return true;
    if (saga) return leg == 1 || try_answer[0] == 0;
    return false;
  }
  int net_debit() const { return static_cast<int>(debits) - static_cast<int>(refunds); }
  int net_credit() const { return static_cast<int>(credits) - static_cast<int>(reversals); }
};

// A request as the checker reads it (not as the engine does).
struct ReadRequest {
  bool valid = false;  // the engine must take it up (a reuse is valid and then refused)
  std::optional<TxId> id;
  AccountId from = 0, to = 0;
  Amount amount;
  CurrencyIdx currency = 0;
  bool same_transfer(AccountId f, AccountId t, Amount a, CurrencyIdx c) const {
    return from == f && to == t && amount == a && currency == c;
  }
};
ReadRequest read_request(const ClusterConfig& c, const PlannedRequest& p);

// What a run did, counted as requests and transactions are retired.
struct RunCounts {
  uint64_t committed = 0;   // transfers applied (debited and credited)
  uint64_t aborted = 0;     // transfers begun and cancelled
  uint64_t rejected = 0;    // requests answered "rejected"
  uint64_t requests = 0;
  uint64_t succeeded = 0;   // valid requests answered success
  Time last_success_at = 0;
  std::vector<Duration> latencies;  // valid requests: first send to final answer (a sample past kMaxLatencies)
  uint64_t latency_count = 0;
  static constexpr size_t kMaxLatencies = 1'000'000;
};

// The checker holds a transaction's history only while it can still change
// (DESIGN.md section 6; docs/forgetting.md): a request is judged once its
// transaction has settled and it has been done for a retention window, and
// a settled transaction is retired a retention window after anything last
// happened to it. A run's memory is then bounded by what is in flight, not
// by its length.
class Checker final : public SimObserver {
 public:
  Checker(const SimConfig& cfg, bool stop_at_first);
  void attach(const Simulator* sim) { sim_ = sim; }

  void on_durable_event(NodeId node, const Event& e, Time t) override;
  void on_client_answer(const TxId& tx, Outcome o, Reason why, Time t) override;
  void on_node_state(NodeId node, bool up, Time t) override;
  void on_request_arrived(uint32_t r, const PlannedRequest& p) override;
  void on_request_retired(uint32_t r, const PlannedRequest& p, const RequestRecord& rec, Time now) override;
  void on_log_cut(NodeId node, std::span<const uint8_t> bytes) override;
  void on_replica_apply(uint32_t group, uint32_t replica, const raft::Entry& e, Time t) override;
  void on_replica_install(uint32_t group, uint32_t replica, const raft::SnapshotMeta& meta, Time t) override;
  void on_replica_role(uint32_t group, uint32_t replica, const raft::RoleChange& rc, Time t) override;
  void on_replica_stopped(uint32_t group, uint32_t replica, const std::string& why, Time t) override;
  void on_stale_leader(uint32_t group, uint32_t replica, uint64_t term, Duration cut_for, Duration silent_for,
                       Time t) override;
  void on_read_answer(uint32_t r, AccountId a, CurrencyIdx cur, int64_t value, Time sent, Time t) override;
  uint64_t reads_checked() const { return reads_checked_; }
  const RunCounts& counts() const { return counts_; }
  size_t remembered() const { return txs_.size(); }
  size_t peak_remembered() const { return peak_txs_; }  // most transaction histories held at once
  const RunMetrics& metrics() const { return metrics_; }
  bool should_stop() const override { return stop_at_first_ && !violations_.empty(); }

  // End-of-run checks; sim must have run and been flushed.
  void finish(const Simulator& sim, const SimStats& stats);
  void report(Property p, Time t, std::vector<TxId> txs, std::string message);

  const std::vector<Violation>& violations() const { return violations_; }

 private:
  // A retired request, kept until its transaction has settled.
  struct DoneRequest {
    uint32_t r;
    RequestKind kind;
    std::string txid;
    ReadRequest want;
    RequestRecord rec;
    Time retired_at;
  };
  void check_liveness(const Simulator& sim, const SimStats& stats);
  void check_atomicity(const TxId& id, const TxHistory& h);
  void check_request(const DoneRequest& d, Time now);
  void count_request(const DoneRequest& d);
  void judge_done(Time now, bool all);
  void retire_txs(Time now);
  void touch(const TxId& tx, TxHistory& h, Time t);
  void check_replay(const Simulator& sim);
  void check_replicas(const Simulator& sim);
  std::string group_name(uint32_t group) const;
  void check_final_balances(const Simulator& sim);
  void check_model(const Simulator& sim, uint32_t partition, const char* when);
  void check_begin(const Event& e, Time t);
  void check_leg(NodeId node, const Event& e, const TxHistory& h, Time t);
  void on_local_transfer(NodeId node, const Event& e, TxHistory& h, Time t);
  void move_money(const Event& e, TxHistory& h, Time t);
  void note_balance(size_t slot, int64_t before, int64_t after, Time t);
  void track_partial(TxHistory& h, Time t);
  void check_money(const Event& e, const TxHistory& h, int64_t bal, Time t);
  std::string transfer_text(AccountId from, AccountId to, Amount a, CurrencyIdx cur) const;
  std::vector<TxId> sorted_tx_ids() const;

  const SimConfig& cfg_;
  bool stop_at_first_;
  const Simulator* sim_ = nullptr;
  Duration settle_;  // how long after its last event a transaction is kept
  StableMap<TxId, TxHistory, TxIdHash> txs_;  // open addressing: looked up on every durable event
  std::deque<ReadRequest> read_;       // per request in the simulator's window
  uint32_t read_base_ = 0;
  struct FirstRequest {
    uint32_t r;
    ReadRequest want;
    std::string amount;  // as written
  };
  StableMap<TxId, FirstRequest, TxIdHash> first_request_;  // the first valid request of each id
  std::unordered_map<TxId, std::vector<FirstRequest>, TxIdHash> reuses_;  // requests that reuse an id
  std::deque<DoneRequest> done_;       // retired requests waiting for their transaction to settle
  std::deque<std::pair<Time, TxId>> retire_queue_;  // (last touch, tx): candidates for retirement
  RunCounts counts_;
  size_t peak_txs_ = 0;
  // The archive: each partition's log as it is cut, replayed from the start;
  // at each snapshot in it, the balances must be what the model had when
  // that snapshot became durable.
  std::vector<std::vector<AccountId>> accounts_of_;  // per partition, in slot order
  std::vector<std::unique_ptr<PartitionNode>> archive_;
  std::vector<std::deque<std::vector<int64_t>>> model_at_snapshot_;
  std::vector<bool> archive_failed_;
  std::vector<int64_t> balance_;       // durable view, [account * currencies + currency]
  // Balance reads: once the workload has any, each balance's changes (time,
  // value after), from the value in force before the oldest kept change,
  // kept for twice the client's horizon: a read is judged against every
  // value between its send and its answer.
  bool reads_ = false;
  std::vector<std::deque<std::pair<Time, int64_t>>> balance_history_;
  uint64_t reads_checked_ = 0;
  std::vector<int64_t> in_flight_;     // per currency
  std::vector<bool> over_by_refund_;   // past max_balance only because a refund took it there
  std::vector<Violation> violations_;
  RunMetrics metrics_;
  struct Lock {
    Time since;
    bool in_doubt;
  };
  std::unordered_map<LegKey, Lock, LegKeyHash> locks_;  // 2PC legs prepared and not yet released
  // What some replica applied at an index: its term and a fingerprint of
  // its kind and bytes, and the bytes themselves, held while the entry is
  // tracked, so that a copy of the same buffer is known equal without
  // hashing it again.
  struct Applied {
    uint64_t term = 0;  // 0: not seen first-hand
    uint64_t hash = 0;
    raft::EntryKind kind = raft::EntryKind::kNoop;
    SharedBytes bytes;
  };
  // Replica groups: per group, what some replica applied at each index,
  // from the lowest index any replica may still apply first-hand, and how
  // far each replica has applied; the leader of each (group, term).
  struct GroupLog {
    uint64_t base = 1;
    std::deque<Applied> entries;
    std::vector<uint64_t> applied;
  };
  std::vector<GroupLog> group_logs_;
  std::unordered_map<uint64_t, uint32_t> leaders_;
};

}  // namespace ws
