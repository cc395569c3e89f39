// A partition node: the TC/C participant that owns the balances of the
// accounts placed on it. Event-sourced: handlers validate a command against
// the state, emit events to the log, and change state only by applying them.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/cluster.h"
#include "core/context.h"
#include "core/dense_map.h"
#include "core/events.h"
#include "core/state_machine.h"

namespace ws {

// kTriedYes: TC/C reserved / 2PC prepared (row locked); kApplied: a Saga
// step; kMoved: a same-partition transfer, both balances moved (kept under
// its debit leg's key; a refused one is kTriedNo there).
enum class LegStatus : uint8_t { kTriedYes, kTriedNo, kConfirmed, kCancelled, kCancelMarker, kApplied, kMoved };

struct LegState {
  LegStatus status = LegStatus::kTriedYes;
  Effect try_effect = Effect::kNone;  // what Try moved (depends on the Try order)
  CurrencyIdx currency = 0;
  AccountId account = 0;
  Amount amount;
  Reason reason = Reason::kNone;      // why a Try answered no, repeated to duplicates
  uint64_t seq = 0;                   // the transfer's begin order at its coordinator
  uint16_t origin = 0;                // that coordinator's index
};

struct LegKey {
  TxId tx;
  Leg leg;
  friend bool operator==(const LegKey&, const LegKey&) = default;
};
// One finalizer round, as TxIdHash, with the leg folded in first: a leg
// key is hashed on every message a partition handles.
struct LegKeyHash {
  size_t operator()(const LegKey& k) const {
    return static_cast<size_t>(mix64(k.tx.hi ^ (k.tx.lo * 0x9E3779B97F4A7C15ULL) ^
                                      (static_cast<uint64_t>(k.leg) + 1) * 0xC2B2AE3D27D4EB4FULL));
  }
};

class PartitionNode final : public StateMachine {
 public:
  PartitionNode(const ClusterConfig& cfg, uint32_t partition);

  void on_start(Context& ctx) override;
  void on_message(Context& ctx, NodeId from, const Message& m) override;
  void on_timer(Context&, TimerTag) override {}

  // Read-only views for checkers, the replay check and tests.
  int64_t balance(AccountId a, CurrencyIdx c) const;
  uint32_t partition() const { return partition_; }
  size_t open_holds() const { return open_holds_; }        // legs still in kTriedYes
  size_t locked_rows() const;                              // 2PC: rows locked right now
  uint64_t refusals() const { return refusals_; }          // protocol violations refused
  const LegState* leg(const TxId& tx, Leg l) const;
  size_t remembered_legs() const { return legs_.size(); }
  // The highest low watermark heard from coordinator c.
  uint64_t low_watermark(uint32_t c) const { return low_[c]; }
  uint64_t state_digest() const override;  // order-independent of hash-map layout

  // StateMachine (core/replica.h): a partition hosted by a replica group.
  void clear() override { reset(); }
  bool load_snapshot_record(std::span<const uint8_t> record) override;
  bool apply_record(std::span<const uint8_t> record) override { return replay_record(record); }
  bool is_snapshot_record(std::span<const uint8_t> record) const override;
  void resume(Context&) override {}  // a participant only answers; nothing of its own to resume

  // Rebuilds state from log payloads; with use_snapshots=false every
  // snapshot is checked against the replayed state instead of loaded.
  // Returns false if a record is malformed or a snapshot disagrees.
  bool rebuild(std::span<const std::span<const uint8_t>> records, bool use_snapshots);
  bool rebuild(const std::vector<std::vector<uint8_t>>& records, bool use_snapshots);
  // A full replay one record at a time (what rebuild(records, false) does):
  // for a log read in pieces, such as segments moved to an archive.
  void replay_start();
  bool replay_record(std::span<const uint8_t> record);
  // Whether the last rebuild loaded a snapshot and then applied events after it.
  bool extended_snapshot() const { return extended_snapshot_; }
  // Whether any record is a snapshot (then a full replay and snapshot +
  // suffix are two different rebuilds worth comparing).
  static bool has_snapshot(std::span<const std::span<const uint8_t>> records);

 private:
  void on_try(Context& ctx, NodeId from, const Message& m);
  void on_saga_step(Context& ctx, NodeId from, const Message& m);
  void on_balance_read(Context& ctx, NodeId from, const Message& m);
  void on_local_transfer(Context& ctx, NodeId from, const Message& m);
  Reason local_refuse_reason(const Message& m) const;
  static Event leg_event(EventType type, const Message& m);
  bool answered_before_step(Context& ctx, NodeId from, const Message& m, Event& e);
  Reason refuse_reason(const Message& m) const;
  void cover_edges(Context& ctx, const Message& m, Reason no) const;
  void on_confirm(Context& ctx, NodeId from, const Message& m);
  void on_cancel(Context& ctx, NodeId from, const Message& m);
  void reply_try(Context& ctx, NodeId to, const Message& m, bool yes, Reason why);
  void ack(Context& ctx, NodeId to, const Message& m, bool applied);
  void refuse(Context& ctx, NodeId to, const Message& m);
  void emit(Context& ctx, const Event& e);
  void maybe_snapshot(Context& ctx);
  void apply(const Event& e);
  void encode_snapshot(std::vector<uint8_t>& out) const;
  bool load_snapshot(std::span<const uint8_t> blob);
  bool snapshot_lows(std::span<const uint8_t> blob, std::vector<uint64_t>& lows) const;
  bool replayable(const Event& e) const;
  bool stale(const Message& m) const;
  void forget();
  void reset();
  void track_derived(const LegKey& key, const LegState& s, int sign);
  size_t row(AccountId a, CurrencyIdx c) const { return size_t{cfg_.account_slot[a]} * currencies_ + c; }

  const ClusterConfig& cfg_;
  uint32_t partition_;
  uint32_t currencies_;
  std::vector<int64_t> balances_;  // [slot * currencies + currency], minor units
  std::vector<TxId> locks_;        // 2PC: the prepared transaction holding each row, or nil
  std::vector<int64_t> incoming_;  // credits answered yes, not yet confirmed: limit headroom they hold
  std::vector<int64_t> held_;      // debits held by a Try, not yet confirmed: a Cancel gives them back
  // In the order they were opened: a transfer's second phase finds its
  // legs where its Try left them, and a new leg's lookup reads only the index.
  DenseMap<LegKey, LegState, LegKeyHash> legs_;
  // Per coordinator: every transfer it began below this is finished, so its
  // legs here are final and no message about them can matter any more.
  std::vector<uint64_t> low_;
  size_t open_holds_ = 0;
  uint64_t refusals_ = 0;
  uint32_t since_snapshot_ = 0;
  size_t kept_at_snapshot_ = 0;  // legs remembered after the last snapshot (or rebuild)
  bool extended_snapshot_ = false;
  std::vector<uint8_t> scratch_;
};

}  // namespace ws
