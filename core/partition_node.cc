#include "core/partition_node.h"

#include <algorithm>
#include <array>
#include <cassert>

#include "core/le.h"

namespace ws {

PartitionNode::PartitionNode(const ClusterConfig& cfg, uint32_t partition)
    : cfg_(cfg), partition_(partition), currencies_(static_cast<uint32_t>(cfg.currencies.size())) {
  scratch_.reserve(256);
  reset();
}

void PartitionNode::reset() {
  balances_.assign(size_t{cfg_.partition_size[partition_]} * currencies_, 0);
  locks_.assign(balances_.size(), TxId{});
  incoming_.assign(balances_.size(), 0);
  held_.assign(balances_.size(), 0);
  // Every slot holds one of this partition's accounts, and every account
  // starts with the same balance per currency.
  for (size_t slot = 0; slot < cfg_.partition_size[partition_]; ++slot)
    for (CurrencyIdx c = 0; c < currencies_; ++c) balances_[slot * currencies_ + c] = cfg_.initial_balance[c].minor;
  legs_.clear();
  low_.assign(cfg_.coordinators, 0);
  open_holds_ = 0;
  refusals_ = 0;
  since_snapshot_ = 0;
  kept_at_snapshot_ = 0;
}

int64_t PartitionNode::balance(AccountId a, CurrencyIdx c) const {
  return balances_[size_t{cfg_.account_slot[a]} * currencies_ + c];
}

const LegState* PartitionNode::leg(const TxId& tx, Leg l) const {
  return legs_.find(LegKey{tx, l});
}

void PartitionNode::on_start(Context& ctx) {
  std::vector<std::vector<uint8_t>> records;
  ctx.storage().read_all([&](std::span<const uint8_t> r) { records.emplace_back(r.begin(), r.end()); });
  bool ok = rebuild(records, /*use_snapshots=*/true);
  assert(ok && "partition log holds a record this build cannot read");
  (void)ok;
  if (extended_snapshot_) ctx.cover(Cover::kSnapshotExtended);
}

size_t PartitionNode::locked_rows() const {
  size_t n = 0;
  for (const TxId& t : locks_) n += t.is_nil() ? 0 : 1;
  return n;
}

// A message about a leg this node no longer remembers, from a transfer its
// coordinator has finished: a late duplicate, or a resend that crossed the
// acknowledgement. It is ignored, never taken for a new leg.
bool PartitionNode::stale(const Message& m) const {
  return m.origin < low_.size() && m.seq < low_[m.origin] && !legs_.contains(LegKey{m.tx, m.leg});
}

void PartitionNode::on_message(Context& ctx, NodeId from, const Message& m) {
  if (m.kind == MsgKind::kTry || m.kind == MsgKind::kConfirm || m.kind == MsgKind::kCancel ||
      m.kind == MsgKind::kLocalTransfer) {
    if (m.origin < low_.size() && m.low > low_[m.origin]) low_[m.origin] = m.low;
    if (stale(m)) return ctx.cover(Cover::kStaleMessageIgnored);
  }
  switch (m.kind) {
    case MsgKind::kTry:
      if (cfg_.protocol.kind == ProtocolKind::kSaga) {
        on_saga_step(ctx, from, m);
      } else {
        on_try(ctx, from, m);
      }
      break;
    case MsgKind::kConfirm:
      on_confirm(ctx, from, m);
      break;
    case MsgKind::kCancel:
      on_cancel(ctx, from, m);
      break;
    case MsgKind::kLocalTransfer:
      on_local_transfer(ctx, from, m);
      break;
    case MsgKind::kBalanceRead:
      return on_balance_read(ctx, from, m);
    default:
      break;  // not addressed to a participant; ignore
  }
  maybe_snapshot(ctx);
}

// A balance read: the balance this node holds now, sent once everything it
// has written is durable (with replica groups: committed, and the leader
// confirmed as leader after the read arrived; core/replica.h), so the answer
// never shows a state that could still be lost. An account or currency that
// is not this partition's is rejected.
void PartitionNode::on_balance_read(Context& ctx, NodeId from, const Message& m) {
  Message r{};
  r.kind = MsgKind::kBalanceReply;
  r.request = m.request;
  r.account = m.account;
  r.currency = m.currency;
  const bool mine = m.account < cfg_.accounts && cfg_.account_partition[m.account] == partition_;
  if (!mine || m.currency >= currencies_) {
    r.outcome = Outcome::kRejected;
    r.reason = mine ? Reason::kUnknownCurrency : Reason::kUnknownAccount;
  } else {
    r.outcome = Outcome::kSuccess;
    r.amount = Amount{balance(m.account, m.currency)};
  }
  ctx.send_durable(from, r);
}

// Why a new Try (or Saga step) on this leg must answer no, or kNone.
Reason PartitionNode::refuse_reason(const Message& m) const {
  const size_t r = row(m.account, m.currency);
  if (cfg_.protocol.kind == ProtocolKind::k2pc && !locks_[r].is_nil() && !cfg_.bugs.twopc_no_lock)
    return Reason::kLocked;
  if (m.leg == Leg::kDebit) {
    if (balances_[r] < m.amount.minor && !cfg_.bugs.skip_funds_check) return Reason::kInsufficientFunds;
  } else {
    int64_t limit = cfg_.max_balance.empty() ? 0 : cfg_.max_balance[m.currency].minor;
    // Headroom counts credits already promised and held debits, which a
    // Cancel may still give back: either may land before this credit does.
    if (limit > 0 && !cfg_.bugs.skip_balance_limit &&
        balances_[r] + incoming_[r] + held_[r] + m.amount.minor > limit)
      return Reason::kBalanceLimit;
  }
  return Reason::kNone;
}

// The edges of a new Try: refused or allowed by exactly one minor unit.
void PartitionNode::cover_edges(Context& ctx, const Message& m, Reason no) const {
  const size_t r = row(m.account, m.currency);
  if (no == Reason::kLocked) return ctx.cover(Cover::kPrepareLocked);
  if (no == Reason::kInsufficientFunds) return ctx.cover(Cover::kTryNoFunds);
  if (no == Reason::kBalanceLimit) return ctx.cover(Cover::kTryNoLimit);
  if (m.leg == Leg::kDebit && balances_[r] == m.amount.minor) ctx.cover(Cover::kTryExactFunds);
  const int64_t limit = cfg_.max_balance.empty() ? 0 : cfg_.max_balance[m.currency].minor;
  if (m.leg == Leg::kCredit && limit > 0 && balances_[r] + incoming_[r] + held_[r] + m.amount.minor == limit)
    ctx.cover(Cover::kTryFillsLimit);
}

// The common start of a Try, Prepare or Saga step, all idempotent per
// (tx, leg): a repeat gets the first answer and changes nothing; a step after
// a Cancel (marker) is refused; a new step that cannot proceed is refused and
// recorded. Returns false, with e filled in, when the step may go ahead.
// The event that opens a leg, with what its message says of the leg: the
// transaction, leg, account, currency and amount, and the transfer's place
// in its coordinator's begin order (for forgetting).
Event PartitionNode::leg_event(EventType type, const Message& m) {
  Event e;
  e.type = type;
  e.tx = m.tx;
  e.leg = m.leg;
  e.account = m.account;
  e.currency = m.currency;
  e.amount = m.amount;
  e.seq = m.seq;
  e.origin = m.origin;
  return e;
}

bool PartitionNode::answered_before_step(Context& ctx, NodeId from, const Message& m, Event& e) {
  if (const LegState* s = leg(m.tx, m.leg)) {
    ctx.cover(s->status == LegStatus::kCancelMarker ? Cover::kTryAfterCancelMarker : Cover::kTryRepeated);
    bool yes = s->status == LegStatus::kTriedYes || s->status == LegStatus::kConfirmed ||
               s->status == LegStatus::kApplied || s->status == LegStatus::kMoved;
    reply_try(ctx, from, m, yes, yes ? Reason::kNone : s->reason);
    return true;
  }
  e = leg_event(EventType::kTryNo, m);
  Reason no = refuse_reason(m);
  cover_edges(ctx, m, no);
  if (no == Reason::kNone) return false;
  e.reason = no;
  emit(ctx, e);
  reply_try(ctx, from, m, false, no);
  return true;
}

// Try (TC/C) / Prepare (2PC). What it moves depends on the protocol: TC/C
// debit-first holds the debit; 2PC moves nothing and locks the row until
// Commit or Abort.
void PartitionNode::on_try(Context& ctx, NodeId from, const Message& m) {
  Event e;
  if (answered_before_step(ctx, from, m, e)) return;
  TryOrder order = cfg_.protocol.try_order;
  if (cfg_.protocol.kind == ProtocolKind::k2pc) {
    e.effect = Effect::kNone;
  } else if (m.leg == Leg::kDebit) {
    e.effect = order == TryOrder::kCreditFirst ? Effect::kNone : Effect::kDebit;
  } else {
    e.effect = order == TryOrder::kDebitFirst ? Effect::kNone : Effect::kCredit;
  }
  e.type = EventType::kTryYes;
  emit(ctx, e);
  reply_try(ctx, from, m, true, Reason::kNone);
}

// A Saga step applies its leg as one local transaction, final unless a
// compensation (Cancel) undoes it.
void PartitionNode::on_saga_step(Context& ctx, NodeId from, const Message& m) {
  Event e;
  if (answered_before_step(ctx, from, m, e)) return;
  e.type = EventType::kApplied;
  e.effect = m.leg == Leg::kDebit ? Effect::kDebit : Effect::kCredit;
  emit(ctx, e);
  reply_try(ctx, from, m, true, Reason::kNone);
}

// A transfer between two accounts of this partition, as one local
// transaction: both balances move in one event, or neither does, and the
// answer is final (there is no second phase). Idempotent per transaction:
// a repeat gets the first answer and changes nothing.
void PartitionNode::on_local_transfer(Context& ctx, NodeId from, const Message& m) {
  if (const LegState* s = leg(m.tx, Leg::kDebit)) {
    ctx.cover(Cover::kLocalTransferRepeated);
    const bool moved = s->status == LegStatus::kMoved;
    if (!(moved && cfg_.bugs.local_repeat_applies)) return reply_try(ctx, from, m, moved, s->reason);
  }
  Event e = leg_event(EventType::kLocalTransfer, m);
  e.leg = Leg::kDebit;  // the transfer's answer is kept under its debit leg
  e.account2 = m.account2;
  e.reason = local_refuse_reason(m);
  e.flag = e.reason == Reason::kNone ? 1 : 0;
  e.effect = e.flag ? Effect::kMove : Effect::kNone;
  if (e.flag) ctx.cover(Cover::kLocalTransferApplied);
  emit(ctx, e);
  reply_try(ctx, from, m, e.flag != 0, e.reason);
}

// The checks of both legs' Tries, on one partition's rows: 2PC locks on
// either row, the debit's funds, the credit's limit (counting the headroom
// promised to open credits and held debits, as a credit's Try does).
Reason PartitionNode::local_refuse_reason(const Message& m) const {
  const size_t debit = row(m.account, m.currency), credit = row(m.account2, m.currency);
  if (cfg_.protocol.kind == ProtocolKind::k2pc && !cfg_.bugs.twopc_no_lock &&
      (!locks_[debit].is_nil() || !locks_[credit].is_nil()))
    return Reason::kLocked;
  if (balances_[debit] < m.amount.minor && !cfg_.bugs.skip_funds_check) return Reason::kInsufficientFunds;
  const int64_t limit = cfg_.max_balance.empty() ? 0 : cfg_.max_balance[m.currency].minor;
  if (limit > 0 && !cfg_.bugs.skip_balance_limit &&
      balances_[credit] + incoming_[credit] + held_[credit] + m.amount.minor > limit)
    return Reason::kBalanceLimit;
  return Reason::kNone;
}

// Confirm is idempotent per (tx, leg); Confirm after Cancel is refused and
// reported, never applied.
void PartitionNode::on_confirm(Context& ctx, NodeId from, const Message& m) {
  const LegState* it = legs_.find(LegKey{m.tx, m.leg});
  if (!it || it->status == LegStatus::kTriedNo || it->status == LegStatus::kCancelled ||
      it->status == LegStatus::kCancelMarker || it->status == LegStatus::kApplied ||
      it->status == LegStatus::kMoved) {
    refuse(ctx, from, m);
    return;
  }
  const LegState s = *it;
  bool again = s.status == LegStatus::kConfirmed;
  if (again && !cfg_.bugs.confirm_twice) {
    ctx.cover(Cover::kConfirmRepeated);
    ack(ctx, from, m, true);
    return;
  }
  Event e;
  e.type = EventType::kConfirmed;
  e.tx = m.tx;
  e.leg = m.leg;
  e.account = s.account;
  e.currency = s.currency;
  e.amount = s.amount;
  // Confirm performs whatever the Try did not: the credit (debit-first), or
  // the debit (credit-first).
  if (s.try_effect == Effect::kNone) e.effect = m.leg == Leg::kDebit ? Effect::kDebit : Effect::kCredit;
  if (again) e.effect = m.leg == Leg::kDebit ? Effect::kDebit : Effect::kCredit;
  if (cfg_.bugs.unlogged_change && e.effect == Effect::kCredit) {
    balances_[row(s.account, s.currency)] += 1;  // state changed outside any event
  }
  emit(ctx, e);
  ack(ctx, from, m, true);
}

// Cancel is idempotent per (tx, leg). A Cancel before any Try leaves a marker
// so that a Try arriving later is refused; Cancel after Confirm is refused.
void PartitionNode::on_cancel(Context& ctx, NodeId from, const Message& m) {
  const LegState* it = legs_.find(LegKey{m.tx, m.leg});
  if (!it) {
    ctx.cover(Cover::kCancelBeforeTry);
    if (!cfg_.bugs.no_ooo_marker) {
      Event e = leg_event(EventType::kCancelMarker, m);
      e.amount = Amount{};  // a marker holds nothing
      emit(ctx, e);
    }
    ack(ctx, from, m, true);
    return;
  }
  const LegState s = *it;
  if (s.status == LegStatus::kConfirmed || s.status == LegStatus::kMoved) {
    refuse(ctx, from, m);
    return;
  }
  if (s.status != LegStatus::kTriedYes && s.status != LegStatus::kApplied) {
    ctx.cover(Cover::kCancelRepeated);
    ack(ctx, from, m, true);
    return;
  }
  Event e;
  e.type = EventType::kCancelled;
  e.tx = m.tx;
  e.leg = m.leg;
  e.account = s.account;
  e.currency = s.currency;
  e.amount = s.amount;
  // Undo whatever the Try or Saga step moved.
  if (s.try_effect == Effect::kDebit) e.effect = Effect::kRefund;
  if (s.try_effect == Effect::kCredit) e.effect = Effect::kReverse;
  emit(ctx, e);
  ack(ctx, from, m, true);
}

void PartitionNode::reply_try(Context& ctx, NodeId to, const Message& m, bool yes, Reason why) {
  Message r{};
  r.kind = MsgKind::kTryReply;
  r.tx = m.tx;
  r.leg = m.leg;
  r.yes = yes;
  r.reason = why;
  ctx.send_durable(to, r);  // the answer stands only once its record is durable
}

// A second phase that contradicts the leg's state (Confirm after Cancel, or
// the reverse) is a coordinator bug: it is recorded durably and refused.
void PartitionNode::refuse(Context& ctx, NodeId to, const Message& m) {
  Event e;
  e.type = EventType::kRefused;
  e.tx = m.tx;
  e.leg = m.leg;
  e.flag = m.kind == MsgKind::kConfirm ? 1 : 0;
  emit(ctx, e);
  ack(ctx, to, m, false);
}

void PartitionNode::ack(Context& ctx, NodeId to, const Message& m, bool applied) {
  Message r{};
  r.kind = MsgKind::kPhase2Ack;
  r.tx = m.tx;
  r.leg = m.leg;
  r.yes = applied;
  r.outcome = m.kind == MsgKind::kConfirm ? Outcome::kSuccess : Outcome::kFailed;
  ctx.send_durable(to, r);
}

void PartitionNode::emit(Context& ctx, const Event& e) {
  std::array<uint8_t, kEventSize> bytes;
  encode_event(e, bytes.data());
  ctx.storage().append(bytes);
  apply(e);
  ++since_snapshot_;
}

// At the end of a handler, when no reference to a leg is held: forgets what
// may be forgotten and writes a snapshot. A snapshot costs what it holds,
// every balance row and every leg remembered, so one is written only after
// as many events as the last one held: an event opens at most one leg, so a
// snapshot then costs at most twice the events since the last, and
// compaction stays O(1) per event, amortised. (Not "as many events as legs
// remembered now": a same-partition transfer opens a leg with each event, so
// that count would never catch up and nothing would ever be forgotten. A
// partition remembers little more than its legs in flight; a coordinator
// remembers a retention window's worth of rows and spaces its snapshots
// wider.)
void PartitionNode::maybe_snapshot(Context& ctx) {
  const uint32_t every = cfg_.protocol.snapshot_every;
  if (every == 0 || since_snapshot_ < std::max<size_t>(every, kept_at_snapshot_ + balances_.size())) return;
  const size_t before = legs_.size();
  forget();
  if (legs_.size() < before) ctx.cover(Cover::kLegsForgotten);
  append_snapshot(ctx.storage(), EventType::kSnapshot, scratch_, [&](std::vector<uint8_t>& out) { encode_snapshot(out); });
  since_snapshot_ = 0;
  kept_at_snapshot_ = legs_.size();
  ctx.cover(Cover::kSnapshotWritten);
}

// Locks (2PC), reserved credit headroom and held debits (TC/C) are derived
// from the open legs, so they are rebuilt by replay and by snapshot loading alike.
void PartitionNode::track_derived(const LegKey& key, const LegState& s, int sign) {
  if (s.status != LegStatus::kTriedYes) return;
  open_holds_ += sign > 0 ? 1 : -1;
  const size_t r = row(s.account, s.currency);
  if (cfg_.protocol.kind == ProtocolKind::k2pc) {
    if (sign > 0) {
      locks_[r] = key.tx;
    } else if (locks_[r] == key.tx) {
      locks_[r] = TxId{};
    }
  }
  if (key.leg == Leg::kCredit && s.try_effect == Effect::kNone) incoming_[r] += sign * s.amount.minor;
  if (key.leg == Leg::kDebit && s.try_effect == Effect::kDebit) held_[r] += sign * s.amount.minor;
}

void PartitionNode::apply(const Event& e) {
  if (e.effect != Effect::kNone) {
    size_t r = row(e.account, e.currency);
    if (cfg_.bugs.credit_wrong_account && e.type == EventType::kConfirmed && e.effect == Effect::kCredit)
      r = (r + currencies_) % balances_.size();  // the next slot's row, same currency
    assert(cfg_.account_partition[e.account] == partition_);
    balances_[r] += effect_delta(e.effect, e.amount);
    if (e.effect == Effect::kMove) {
      assert(cfg_.account_partition[e.account2] == partition_);
      balances_[row(e.account2, e.currency)] += e.amount.minor;
    }
  }
  LegKey key{e.tx, e.leg};
  switch (e.type) {
    case EventType::kTryYes:
    case EventType::kTryNo:
    case EventType::kCancelMarker:
    case EventType::kApplied:
    case EventType::kLocalTransfer: {
      LegStatus st = e.type == EventType::kTryYes          ? LegStatus::kTriedYes
                     : e.type == EventType::kTryNo         ? LegStatus::kTriedNo
                     : e.type == EventType::kApplied       ? LegStatus::kApplied
                     : e.type == EventType::kLocalTransfer ? (e.flag ? LegStatus::kMoved : LegStatus::kTriedNo)
                                                           : LegStatus::kCancelMarker;
      Amount amount = e.type == EventType::kCancelMarker ? Amount{} : e.amount;
      LegState s{st, e.effect, e.currency, e.account, amount, e.reason, e.seq, e.origin};
      legs_[key] = s;
      track_derived(key, s, +1);
      break;
    }
    case EventType::kConfirmed:
    case EventType::kCancelled: {
      LegState& s = legs_[key];
      track_derived(key, s, -1);
      s.status = e.type == EventType::kConfirmed ? LegStatus::kConfirmed : LegStatus::kCancelled;
      break;
    }
    case EventType::kRefused:
      ++refusals_;
      break;
    default:
      break;
  }
}

// Drops every final leg whose coordinator's low watermark has passed it:
// that coordinator has finished the transfer, and any message still
// travelling about it is recognised as stale by its seq. Only here, as a
// snapshot is written, so the snapshot records exactly what is remembered.
void PartitionNode::forget() {
  legs_.erase_if([&](const LegKey&, const LegState& s) {
    const bool passed = s.origin < low_.size() && s.seq < low_[s.origin];
    return s.status != LegStatus::kTriedYes && (passed || cfg_.bugs.ignore_watermark);
  });
}

namespace {
// Legs in the snapshot's order (transaction id, then leg): pointers into
// the table, so the sort moves 16 bytes per leg, not the legs themselves.
struct LegRef {
  const LegKey* key;
  const LegState* state;
};
std::vector<LegRef> sorted_legs(const DenseMap<LegKey, LegState, LegKeyHash>& legs) {
  std::vector<LegRef> v;
  v.reserve(legs.size());
  legs.for_each([&](const LegKey& k, const LegState& s) { v.push_back({&k, &s}); });
  std::sort(v.begin(), v.end(), [](const LegRef& a, const LegRef& b) {
    if (a.key->tx != b.key->tx) return a.key->tx < b.key->tx;
    return a.key->leg < b.key->leg;
  });
  return v;
}
}  // namespace

// Written in place: the size is known before the first byte.
void PartitionNode::encode_snapshot(std::vector<uint8_t>& out) const {
  const auto legs = sorted_legs(legs_);
  const size_t words = 1 + balances_.size() + 1 + 1 + low_.size() + 1 + 6 * legs.size();
  const size_t at = out.size();
  out.resize(at + 8 * words);
  uint8_t* p = out.data() + at;
  auto put = [&](uint64_t v) {
    store_le64(p, v);
    p += 8;
  };
  put(balances_.size());
  for (int64_t b : balances_) put(static_cast<uint64_t>(b));
  put(refusals_);
  put(low_.size());
  for (uint64_t low : low_) put(low);
  put(legs.size());
  for (const LegRef& l : legs) {
    const LegState& s = *l.state;
    put(l.key->tx.hi);
    put(l.key->tx.lo);
    put(static_cast<uint64_t>(l.key->leg) | static_cast<uint64_t>(s.status) << 8 |
        static_cast<uint64_t>(s.try_effect) << 16 | static_cast<uint64_t>(s.currency) << 24 |
        static_cast<uint64_t>(s.account) << 32);
    put(static_cast<uint64_t>(s.amount.minor));
    put(static_cast<uint64_t>(s.reason) | uint64_t{s.origin} << 8);
    put(s.seq);
  }
  assert(p == out.data() + out.size());
}

// The low watermarks a snapshot was pruned with (they follow the balances
// and the refusal count).
bool PartitionNode::snapshot_lows(std::span<const uint8_t> blob, std::vector<uint64_t>& lows) const {
  size_t pos = kEventSize + 8 * (1 + balances_.size() + 1);
  bool ok = true;
  const uint64_t n = get_u64(blob, pos, ok);
  if (!ok || n != low_.size()) return false;
  lows.resize(n);
  for (auto& low : lows) low = get_u64(blob, pos, ok);
  return ok;
}

bool PartitionNode::load_snapshot(std::span<const uint8_t> blob) {
  size_t pos = kEventSize;
  bool ok = true;
  uint64_t n = get_u64(blob, pos, ok);
  if (!ok || n != balances_.size()) return false;
  for (auto& b : balances_) b = static_cast<int64_t>(get_u64(blob, pos, ok));
  refusals_ = get_u64(blob, pos, ok);
  const uint64_t lows = get_u64(blob, pos, ok);
  if (!ok || lows != low_.size()) return false;
  for (auto& low : low_) low = get_u64(blob, pos, ok);
  uint64_t legs = get_u64(blob, pos, ok);
  if (!ok || legs > blob.size()) return false;
  legs_.clear();
  legs_.reserve(static_cast<size_t>(legs));
  open_holds_ = 0;
  locks_.assign(balances_.size(), TxId{});
  incoming_.assign(balances_.size(), 0);
  held_.assign(balances_.size(), 0);
  for (uint64_t i = 0; i < legs && ok; ++i) {
    LegKey k;
    k.tx.hi = get_u64(blob, pos, ok);
    k.tx.lo = get_u64(blob, pos, ok);
    uint64_t packed = get_u64(blob, pos, ok);
    LegState s;
    s.amount.minor = static_cast<int64_t>(get_u64(blob, pos, ok));
    const uint64_t why = get_u64(blob, pos, ok);
    s.reason = static_cast<Reason>(why & 0xff);
    s.origin = static_cast<uint16_t>(why >> 8);
    s.seq = get_u64(blob, pos, ok);
    k.leg = static_cast<Leg>(packed & 0xff);
    s.status = static_cast<LegStatus>((packed >> 8) & 0xff);
    s.try_effect = static_cast<Effect>((packed >> 16) & 0xff);
    s.currency = static_cast<CurrencyIdx>((packed >> 24) & 0xff);
    s.account = static_cast<AccountId>(packed >> 32);
    if (k.leg > Leg::kCredit || s.account >= cfg_.accounts || s.currency >= currencies_) return false;
    legs_[k] = s;
    track_derived(k, s, +1);
  }
  return ok;
}

namespace {
std::vector<std::span<const uint8_t>> views(const std::vector<std::vector<uint8_t>>& records) {
  return {records.begin(), records.end()};
}
}  // namespace

bool PartitionNode::rebuild(const std::vector<std::vector<uint8_t>>& records, bool use_snapshots) {
  return rebuild(views(records), use_snapshots);
}

bool PartitionNode::has_snapshot(std::span<const std::span<const uint8_t>> records) {
  // The type byte first: decoding every event to find one was a tenth of
  // the end-of-run checks.
  for (const auto& r : records) {
    if (!r.empty() && r[0] == static_cast<uint8_t>(EventType::kSnapshot) && decode_event(r)) return true;
  }
  return false;
}

bool PartitionNode::rebuild(std::span<const std::span<const uint8_t>> records, bool use_snapshots) {
  reset();
  size_t start = 0;
  bool loaded = false;
  // A log truncated behind a snapshot starts with it: a full replay starts
  // from there too.
  if (!use_snapshots && !records.empty()) {
    auto first = decode_event(records[0]);
    if (first && first->type == EventType::kSnapshot) {
      if (!load_snapshot(records[0])) return false;
      start = 1;
    }
  }
  if (use_snapshots) {
    for (size_t i = records.size(); i-- > 0;) {
      auto e = decode_event(records[i]);
      if (e && e->type == EventType::kSnapshot) {
        if (!load_snapshot(records[i])) return false;
        start = i + 1;
        loaded = true;
        break;
      }
    }
  }
  for (size_t i = start; i < records.size(); ++i)
    if (!replay_record(records[i])) return false;
  since_snapshot_ = 0;
  kept_at_snapshot_ = legs_.size();
  extended_snapshot_ = loaded && start < records.size();
  return true;
}

void PartitionNode::replay_start() { reset(); }

bool PartitionNode::load_snapshot_record(std::span<const uint8_t> record) {
  std::span<const uint8_t> one[] = {record};
  return is_snapshot_record(record) && rebuild(one, /*use_snapshots=*/true);
}

bool PartitionNode::is_snapshot_record(std::span<const uint8_t> record) const {
  return !record.empty() && record[0] == static_cast<uint8_t>(EventType::kSnapshot);
}

// One record of a full replay: an event is applied; a snapshot must equal
// the replayed state once that has forgotten what the snapshot's
// watermarks let it forget.
bool PartitionNode::replay_record(std::span<const uint8_t> record) {
  auto e = decode_event(record);
  if (!e || !replayable(*e)) return false;
  if (e->type != EventType::kSnapshot) {
    apply(*e);
    return true;
  }
  std::vector<uint64_t> lows;
  if (!snapshot_lows(record, lows)) return false;
  low_ = lows;
  forget();
  std::vector<uint8_t> mine;
  encode_event(*e, mine);
  encode_snapshot(mine);
  return mine.size() == record.size() && std::equal(mine.begin(), mine.end(), record.begin());
}

// A log is read back from a file that may belong to another node or be
// damaged behind a valid checksum: an event this partition could not have
// written fails the rebuild instead of changing another account's row or
// the derived counts. Events that open a leg or move money name one of this
// partition's accounts and a configured currency; a leg is opened once (a
// repeated Try is answered from the leg, never logged), and a second phase
// closes a leg that exists.
bool PartitionNode::replayable(const Event& e) const {
  const bool local = e.type == EventType::kLocalTransfer;
  const bool opens = e.type == EventType::kTryYes || e.type == EventType::kTryNo ||
                     e.type == EventType::kCancelMarker || e.type == EventType::kApplied || local;
  const bool closes = e.type == EventType::kConfirmed || e.type == EventType::kCancelled;
  auto mine = [&](AccountId a) { return a < cfg_.accounts && cfg_.account_partition[a] == partition_; };
  if ((opens || e.effect != Effect::kNone) && (!mine(e.account) || e.currency >= currencies_)) return false;
  // A move is a local transfer's alone, and it names two of this partition's accounts.
  if ((e.effect == Effect::kMove) != (local && e.flag) || (local && (!mine(e.account2) || e.leg != Leg::kDebit)))
    return false;
  const bool exists = legs_.contains(LegKey{e.tx, e.leg});
  return !(opens && exists && !(local && cfg_.bugs.local_repeat_applies)) && !(closes && !exists);
}

// Order-independent without sorting: each leg hashes alone and the hashes
// are summed (mod 2^64), so the digest is the same whatever the table's
// layout or the order legs were inserted in.
uint64_t PartitionNode::state_digest() const {
  uint64_t h = kFnvOffset;
  for (int64_t b : balances_) h = hash_combine(h, static_cast<uint64_t>(b));
  h = hash_combine(h, refusals_);
  uint64_t legs = 0;
  legs_.for_each([&](const LegKey& k, const LegState& s) {
    uint64_t l = hash_combine(s.seq << 16 | s.origin, k.tx.hi);
    l = hash_combine(l, k.tx.lo);
    l = hash_combine(l, static_cast<uint64_t>(k.leg) | static_cast<uint64_t>(s.status) << 8 |
                            static_cast<uint64_t>(s.try_effect) << 16 | static_cast<uint64_t>(s.currency) << 24 |
                            static_cast<uint64_t>(s.reason) << 32);
    l = hash_combine(l, uint64_t{s.account});
    legs += hash_combine(l, static_cast<uint64_t>(s.amount.minor));
  });
  return hash_combine(hash_combine(h, legs_.size()), legs);
}

}  // namespace ws
