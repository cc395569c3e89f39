// The wallet service: the TC/C coordinator. It validates requests,
// deduplicates them by transaction_id, and drives each transfer through the
// durable phase status table of DESIGN.md section 1. Event-sourced like the
// partitions: after a crash the table is rebuilt from the log and recovery
// resumes every unfinished row.
#pragma once

#include <cstdint>
#include <span>
#include "core/flat_map.h"
#include <vector>

#include "core/cluster.h"
#include "core/context.h"
#include "core/events.h"
#include "core/state_machine.h"
#include "core/time_queue.h"

namespace ws {

enum class TryStatus : uint8_t { kNotSent, kSent, kYes, kNo };
enum class Decision : uint8_t { kNone, kConfirm, kCancel };
enum class Phase2Status : uint8_t { kNotSent, kSent, kAcked };

// One row of the phase status table. Durable fields come from events;
// the rest (waiter, retry timing) is volatile and rebuilt on recovery.
struct PhaseRow {
  // durable
  AccountId from = 0, to = 0;
  Amount amount;
  CurrencyIdx currency = 0;
  TryStatus try_status[2] = {TryStatus::kNotSent, TryStatus::kNotSent};
  Decision decision = Decision::kNone;
  Reason reason = Reason::kNone;
  Phase2Status phase2[2] = {Phase2Status::kNotSent, Phase2Status::kNotSent};
  bool absent = false;  // out-of-order note: queried before it arrived
  // volatile
  NodeId waiter = kNoNode;  // client to tell the outcome
  uint32_t waiter_request = 0;
  Time started = 0;
  Time next_retry = 0;
  uint32_t attempts = 0;
  uint64_t order = 0;  // begin order (1, 2, ...), durable: the seq its messages carry
  Time due = -1;       // the deadline this row's newest timer-heap entry is for
  Time finished_at = -1;  // local time it finished (recovery: the restart); retention counts from it
  uint32_t snapshot_gen = 0;  // the snapshot that last wrote this row
  bool finished() const {
    return absent || (decision != Decision::kNone && phase2[0] == Phase2Status::kAcked &&
                      phase2[1] == Phase2Status::kAcked);
  }
};

class Coordinator final : public StateMachine {
 public:
  Coordinator(const ClusterConfig& cfg, uint32_t index);

  void on_start(Context& ctx) override;
  void on_message(Context& ctx, NodeId from, const Message& m) override;
  void on_timer(Context& ctx, TimerTag tag) override;

  // Views for checkers and tests.
  size_t unfinished() const;
  std::vector<TxId> unfinished_ids(size_t max) const;
  const PhaseRow* row(const TxId& tx) const;
  uint64_t refusals_seen() const { return refusals_seen_; }
  uint64_t overload_rejections() const { return overload_rejections_; }
  size_t open_rows() const { return open_rows_; }
  size_t remembered() const { return rows_.size(); }  // rows in memory, finished or not
  uint64_t forgotten() const { return forgotten_; }   // rows forgotten since this process started
  // Every transfer this coordinator began below it is finished.
  uint64_t low_watermark();
  uint64_t state_digest() const override;

  // StateMachine (core/replica.h): a coordinator hosted by a replica group.
  void clear() override { rebuild(std::span<const std::span<const uint8_t>>{}); }
  bool load_snapshot_record(std::span<const uint8_t> record) override;
  bool apply_record(std::span<const uint8_t> record) override;
  bool is_snapshot_record(std::span<const uint8_t> record) const override;
  void resume(Context& ctx) override;
  bool rebuild(std::span<const std::span<const uint8_t>> records);
  bool rebuild(const std::vector<std::vector<uint8_t>>& records);

 private:
  void on_transfer(Context& ctx, NodeId from, const Message& m);
  void on_status_query(Context& ctx, NodeId from, const Message& m);
  void on_try_reply(Context& ctx, const Message& m);
  void on_phase2_ack(Context& ctx, const Message& m);
  void decide(Context& ctx, const TxId& tx, PhaseRow& row, Decision d, Reason why);
  void send_try(Context& ctx, const TxId& tx, const PhaseRow& row, Leg leg);
  void send_phase2(Context& ctx, const TxId& tx, const PhaseRow& row, Leg leg);
  void reply(Context& ctx, NodeId to, uint32_t request, const TxId& tx, Outcome o, Reason r,
             bool durable);
  void tick(Context& ctx);
  Time deadline(const PhaseRow& row) const;
  void schedule(const TxId& tx, PhaseRow& row);
  void reschedule(const TxId& tx);
  void arm_at(Context& ctx, Time at);
  Duration backoff(Context& ctx, uint32_t attempts);
  void emit(Context& ctx, const Event& e);
  void apply(const Event& e);
  void compact(Context& ctx);
  void maybe_snapshot(Context& ctx);
  // A snapshot is the next begin order, the row count, then per row seven
  // words: id (2), order, accounts, amount, statuses, finished_at.
  static constexpr size_t kSnapshotRowSize = 7 * 8;
  void encode_snapshot(std::vector<uint8_t>& out);
  bool load_snapshot(std::span<const uint8_t> blob);
  void drop_finished_from_active();
  NodeId leg_node(const PhaseRow& row, Leg leg) const;
  void send_local(Context& ctx, const TxId& tx, const PhaseRow& row);
  bool saga() const { return cfg_.protocol.kind == ProtocolKind::kSaga; }
  // Both accounts on one partition: one local transaction there, whose
  // answer is the decision (docs/same_partition.md).
  bool local(const PhaseRow& row) const {
    return !row.absent && cfg_.runs_locally(row.from, row.to);
  }
  // A row that only moves forward: it is resent until answered, never timed
  // out (a local transfer, whose partition decides; a Saga past its debit).
  bool forward_only(const PhaseRow& row) const {
    return local(row) || (saga() && row.try_status[0] == TryStatus::kYes);
  }
  // An id first sent longer ago than half the retention window: its row may
  // be gone, and answering as if the id were new could run it twice.
  bool expired(const Message& m) const { return m.age > cfg_.protocol.retention / 2; }

  const ClusterConfig& cfg_;
  uint32_t index_;
  StableMap<TxId, PhaseRow, TxIdHash> rows_;  // rows never move: the timer heap points at them
  std::vector<TxId> active_;  // unfinished rows in the order they began (finished ones dropped lazily)
  size_t active_head_ = 0;    // active_[0, head) are finished: the low watermark's cursor
  std::vector<TxId> finished_;  // finished rows in the order they finished: forgotten from the front
  size_t finished_head_ = 0;
  Time apply_time_ = 0;       // local time stamped on rows that finish while applying
  uint32_t since_snapshot_ = 0;
  size_t kept_at_snapshot_ = 0;  // rows remembered after the last snapshot (or rebuild)
  uint32_t snapshot_gen_ = 0;
  uint64_t forgotten_ = 0;
  Time armed_for_ = -1;    // local time of the earliest pending timer, -1 if none
  uint32_t timer_gen_ = 0;  // only the newest timer counts; older ones are stale
  uint64_t refusals_seen_ = 0;
  uint64_t overload_rejections_ = 0;
  size_t open_rows_ = 0;     // begun, not finished
  uint64_t next_order_ = 0;
  // Deadlines of unfinished rows, earliest first, so a timer costs what is
  // due rather than a walk over every open row. Entries go stale when a row
  // moves on; a popped entry counts only if it still matches the row.
  struct DueEntry {
    Time t;          // the deadline
    uint64_t seq;    // the row's begin order
    TxId tx;
    PhaseRow* row;  // map nodes do not move; compaction purges entries before it erases rows
  };
  TimeQueue<DueEntry> due_;
  std::vector<DueEntry> due_now_;
  std::vector<uint8_t> scratch_;
};

}  // namespace ws
