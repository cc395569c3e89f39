#include "core/coordinator.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>

#include "core/le.h"

namespace ws {
namespace {

Outcome outcome_of(Decision d) {
  return d == Decision::kConfirm ? Outcome::kSuccess : Outcome::kFailed;
}

// Only for the EngineBugs::nondeterministic demonstration: state that
// survives from one simulation to the next in the same process.
std::atomic<uint64_t> g_leaky_counter{0};

// Only for the EngineBugs::misread_short_amount demonstration: a fraction
// shorter than the currency's minor digits is read right-aligned, so "12.5"
// becomes 12.05 where it means 12.50.
AmountParse misread_amount(std::string_view text, const CurrencyInfo& cur) {
  AmountParse a = parse_amount(text, cur);
  size_t dot = text.find('.');
  if (!a.amount || dot == std::string_view::npos || text.size() - dot - 1 >= cur.minor_digits) return a;
  int64_t scale = 1;
  for (int i = 0; i < cur.minor_digits; ++i) scale *= 10;
  int64_t frac = 0;
  for (char c : text.substr(dot + 1)) frac = frac * 10 + (c - '0');
  a.amount->minor = a.amount->minor / scale * scale + frac;
  return a;
}

}  // namespace

Coordinator::Coordinator(const ClusterConfig& cfg, uint32_t index) : cfg_(cfg), index_(index) {
  scratch_.reserve(128);
}

void Coordinator::on_start(Context& ctx) {
  std::vector<std::vector<uint8_t>> records;
  ctx.storage().read_all([&](std::span<const uint8_t> r) { records.emplace_back(r.begin(), r.end()); });
  apply_time_ = ctx.now();  // rows found finished in the log keep a full retention window from now
  bool ok = rebuild(records);
  assert(ok && "coordinator log holds a record this build cannot read");
  (void)ok;
  resume(ctx);
}

// Recovery, after a restart or on becoming a group's leader: undecided rows
// get a fresh Try window (Try is idempotent); decided rows resend their
// second phase until every leg acknowledges.
void Coordinator::resume(Context& ctx) {
  armed_for_ = -1;
  drop_finished_from_active();
  // Finished rows keep a full retention window from now: rows applied as a
  // follower carry no time of this node's clock.
  for (size_t i = finished_head_; i < finished_.size(); ++i)
    if (PhaseRow* row = rows_.find(finished_[i]); row && row->finished()) row->finished_at = ctx.now();
  for (const TxId& tx : active_) {
    PhaseRow& row = rows_.at(tx);
    ctx.cover(row.decision == Decision::kNone ? Cover::kRecoveredUndecided : Cover::kRecoveredDecided);
    row.started = ctx.now();
    row.next_retry = ctx.now();
    row.attempts = 0;
    schedule(tx, row);
  }
  if (!active_.empty()) arm_at(ctx, ctx.now());
}

void Coordinator::on_message(Context& ctx, NodeId from, const Message& m) {
  switch (m.kind) {
    case MsgKind::kTransferRequest:
      on_transfer(ctx, from, m);
      break;
    case MsgKind::kStatusQuery:
      on_status_query(ctx, from, m);
      break;
    case MsgKind::kTryReply:
      on_try_reply(ctx, m);
      reschedule(m.tx);
      break;
    case MsgKind::kPhase2Ack:
      on_phase2_ack(ctx, m);
      reschedule(m.tx);
      break;
    default:
      break;
  }
  maybe_snapshot(ctx);
}

// Validation rejects with nothing recorded; dedup by transaction_id answers a
// repeated request with the same outcome, and refuses a reused id.
void Coordinator::on_transfer(Context& ctx, NodeId from, const Message& m) {
  const TransferText& t = m.text;
  auto rej = [&](Reason r) { reply(ctx, from, m.request, TxId{}, Outcome::kRejected, r, false); };
  if (t.overlong) return rej(Reason::kFieldTooLong);
  TxIdParse id = parse_txid(get_text(t.txid));
  if (!id.id) return rej(Reason::kBadTxId);
  std::string_view code = get_text(t.currency);
  int cur = -1;
  for (size_t i = 0; i < cfg_.currencies.size(); ++i)
    if (code == cfg_.currencies[i].code) cur = static_cast<int>(i);
  if (cur < 0) return rej(Reason::kUnknownCurrency);
  AmountParse amount = cfg_.bugs.misread_short_amount ? misread_amount(get_text(t.amount), cfg_.currencies[cur])
                                                       : parse_amount(get_text(t.amount), cfg_.currencies[cur]);
  if (!amount.amount || amount.amount->minor == 0) return rej(Reason::kBadAmount);
  if (t.from >= cfg_.accounts || t.to >= cfg_.accounts) return rej(Reason::kUnknownAccount);
  if (t.from == t.to) return rej(Reason::kSameAccount);
  const TxId tx = *id.id;
  if (cfg_.coordinator_of(tx.hi, tx.lo) != index_) return rej(Reason::kWrongCoordinator);

  PhaseRow* it = rows_.find(tx);
  if (it && !(cfg_.bugs.lose_dedup && !it->absent)) {
    PhaseRow& row = *it;
    if (row.absent) {
      ctx.cover(Cover::kRequestAfterAbsent);
      return reply(ctx, from, m.request, tx, Outcome::kFailed, Reason::kNeverArrived, true);
    }
    bool same = row.amount == *amount.amount &&
                (cfg_.bugs.dedup_amount_only ||
                 (row.from == t.from && row.to == t.to && row.currency == static_cast<CurrencyIdx>(cur)));
    if (!same) {
      ctx.cover(Cover::kReusedIdRefused);
      return reply(ctx, from, m.request, tx, Outcome::kRejected, Reason::kTxIdReused, false);
    }
    if (row.decision != Decision::kNone) {
      ctx.cover(Cover::kRequestRepeatedDecided);
      return reply(ctx, from, m.request, tx, outcome_of(row.decision), row.reason, true);
    }
    ctx.cover(Cover::kRequestRepeatedOpen);
    row.waiter = from;
    row.waiter_request = m.request;
    return;
  }
  if (expired(m)) return reply(ctx, from, m.request, tx, Outcome::kRejected, Reason::kExpired, false);
  // Admission control: past the in-flight limit a new transfer is turned
  // away before anything is recorded, so the client may retry the same id.
  if (cfg_.protocol.max_inflight > 0 && open_rows_ >= cfg_.protocol.max_inflight) {
    ++overload_rejections_;
    ctx.cover(Cover::kOverloadRefused);
    return reply(ctx, from, m.request, tx, Outcome::kRejected, Reason::kOverloaded, false);
  }
  Event e;
  e.type = EventType::kBegin;
  e.tx = tx;
  e.account = t.from;
  e.account2 = t.to;
  e.amount = *amount.amount;
  e.currency = static_cast<CurrencyIdx>(cur);
  e.seq = next_order_ + 1;
  e.origin = static_cast<uint16_t>(index_);
  emit(ctx, e);
  PhaseRow& row = rows_.at(tx);
  row.waiter = from;
  row.waiter_request = m.request;
  row.started = ctx.now();
  row.attempts = 0;
  row.next_retry = ctx.now() + cfg_.protocol.retry_interval;
  if (local(row)) {
    send_local(ctx, tx, row);
  } else {
    send_try(ctx, tx, row, Leg::kDebit);
    if (!saga()) send_try(ctx, tx, row, Leg::kCredit);  // Saga: the credit waits for the debit
  }
  arm_at(ctx, row.next_retry);
  schedule(tx, row);
}

// A query for an id never seen records an out-of-order note first, so that
// the request, if it is still travelling, can never start afterwards.
void Coordinator::on_status_query(Context& ctx, NodeId from, const Message& m) {
  const PhaseRow* it = rows_.find(m.tx);
  if (!it && expired(m))
    return reply(ctx, from, m.request, m.tx, Outcome::kRejected, Reason::kExpired, false);
  if (!it) {
    ctx.cover(Cover::kQueryBeforeRequest);
    Event e;
    e.type = EventType::kAbsent;
    e.tx = m.tx;
    emit(ctx, e);
    return reply(ctx, from, m.request, m.tx, Outcome::kFailed, Reason::kNeverArrived, true);
  }
  const PhaseRow& row = *it;
  Message r{};
  r.kind = MsgKind::kStatusReply;
  r.tx = m.tx;
  r.request = m.request;
  if (row.absent) {
    r.outcome = Outcome::kFailed;
    r.reason = Reason::kNeverArrived;
  } else if (row.decision == Decision::kNone) {
    ctx.cover(Cover::kQueryInProgress);
    r.outcome = Outcome::kInProgress;
  } else {
    r.outcome = outcome_of(row.decision);
    r.reason = row.reason;
  }
  ctx.send_durable(from, r);
}

void Coordinator::on_try_reply(Context& ctx, const Message& m) {
  PhaseRow* it = rows_.find(m.tx);
  if (!it) return;
  PhaseRow& row = *it;
  int l = static_cast<int>(m.leg);
  if (row.decision != Decision::kNone || row.try_status[l] == TryStatus::kYes ||
      row.try_status[l] == TryStatus::kNo) {
    if (row.decision != Decision::kNone) ctx.cover(Cover::kLateTryReply);
    return;  // late or duplicate answer
  }
  if (local(row)) {
    // The partition's answer is the outcome: nothing is left to undo or apply.
    Reason why = m.yes ? Reason::kNone : m.reason == Reason::kNone ? Reason::kInsufficientFunds : m.reason;
    return decide(ctx, m.tx, row, m.yes ? Decision::kConfirm : Decision::kCancel, why);
  }
  Event e;
  e.type = EventType::kTryAnswer;
  e.tx = m.tx;
  e.leg = m.leg;
  e.flag = m.yes ? 1 : 0;
  e.reason = m.reason;
  emit(ctx, e);
  if (cfg_.bugs.reply_before_decision && m.yes && m.leg == Leg::kDebit && row.waiter != kNoNode) {
    reply(ctx, row.waiter, row.waiter_request, m.tx, Outcome::kSuccess, Reason::kNone, false);
    row.waiter = kNoNode;
  }
  if (!m.yes) {
    Reason why = m.reason == Reason::kNone ? Reason::kInsufficientFunds : m.reason;
    return decide(ctx, m.tx, row, Decision::kCancel, why);
  }
  if (saga() && m.leg == Leg::kDebit) {
    // The next step leaves only once the debit's answer is durable, so a
    // recovering orchestrator resumes from the step it had reached.
    row.attempts = 0;
    row.next_retry = ctx.now() + cfg_.protocol.retry_interval;
    arm_at(ctx, row.next_retry);
    return send_try(ctx, m.tx, row, Leg::kCredit);
  }
  if (row.try_status[0] == TryStatus::kYes && row.try_status[1] == TryStatus::kYes)
    decide(ctx, m.tx, row, Decision::kConfirm, Reason::kNone);
}

void Coordinator::on_phase2_ack(Context& ctx, const Message& m) {
  PhaseRow* it = rows_.find(m.tx);
  if (!it) return;
  PhaseRow& row = *it;
  int l = static_cast<int>(m.leg);
  if (row.decision == Decision::kNone || row.phase2[l] == Phase2Status::kAcked) return;
  if (!m.yes) ++refusals_seen_;
  Event e;
  e.type = EventType::kAck;
  e.tx = m.tx;
  e.leg = m.leg;
  emit(ctx, e);
}

// The decision is appended first; every second-phase message and the
// client's answer leave only once it is durable.
void Coordinator::decide(Context& ctx, const TxId& tx, PhaseRow& row, Decision d, Reason why) {
  Event e;
  e.type = EventType::kDecide;
  e.tx = tx;
  e.flag = d == Decision::kConfirm ? 1 : 0;
  e.reason = why;
  emit(ctx, e);
  if (saga() && d == Decision::kCancel && row.try_status[0] == TryStatus::kYes) ctx.cover(Cover::kSagaCompensated);
  row.attempts = 0;
  row.next_retry = ctx.now() + cfg_.protocol.retry_interval;
  arm_at(ctx, row.next_retry);
  for (Leg leg : {Leg::kDebit, Leg::kCredit})
    if (row.phase2[static_cast<int>(leg)] == Phase2Status::kSent) send_phase2(ctx, tx, row, leg);
  if (row.waiter != kNoNode) {
    reply(ctx, row.waiter, row.waiter_request, tx, outcome_of(d), why, true);
    row.waiter = kNoNode;
  }
}

NodeId Coordinator::leg_node(const PhaseRow& row, Leg leg) const {
  AccountId a = leg == Leg::kDebit ? row.from : row.to;
  return cfg_.partition_node(cfg_.account_partition[a]);
}

void Coordinator::send_try(Context& ctx, const TxId& tx, const PhaseRow& row, Leg leg) {
  Message m{};
  m.kind = MsgKind::kTry;
  m.tx = tx;
  m.leg = leg;
  m.account = leg == Leg::kDebit ? row.from : row.to;
  m.amount = row.amount;
  m.currency = row.currency;
  m.origin = static_cast<uint16_t>(index_);
  m.seq = row.order;
  m.low = low_watermark();
  // The row must be durable before a participant holds money for it, or a
  // crash would leave a hold that no coordinator knows about.
  ctx.send_durable(leg_node(row, leg), m);
}

void Coordinator::send_local(Context& ctx, const TxId& tx, const PhaseRow& row) {
  Message m{};
  m.kind = MsgKind::kLocalTransfer;
  m.tx = tx;
  m.leg = Leg::kDebit;
  m.account = row.from;
  m.account2 = row.to;
  m.amount = row.amount;
  m.currency = row.currency;
  m.origin = static_cast<uint16_t>(index_);
  m.seq = row.order;
  m.low = low_watermark();
  // As for a Try: the row must be durable before the partition moves money for it.
  ctx.send_durable(leg_node(row, Leg::kDebit), m);
}

void Coordinator::send_phase2(Context& ctx, const TxId& tx, const PhaseRow& row, Leg leg) {
  Message m{};
  m.kind = row.decision == Decision::kConfirm ? MsgKind::kConfirm : MsgKind::kCancel;
  m.tx = tx;
  m.leg = leg;
  m.account = leg == Leg::kDebit ? row.from : row.to;
  m.currency = row.currency;
  m.origin = static_cast<uint16_t>(index_);
  m.seq = row.order;
  m.low = low_watermark();
  if (cfg_.bugs.decision_before_durable) {
    ctx.send(leg_node(row, leg), m);
  } else {
    ctx.send_durable(leg_node(row, leg), m);
  }
}

void Coordinator::reply(Context& ctx, NodeId to, uint32_t request, const TxId& tx, Outcome o,
                        Reason r, bool durable) {
  Message m{};
  m.kind = MsgKind::kTransferReply;
  m.tx = tx;
  m.request = request;
  m.outcome = o;
  m.reason = r;
  if (durable) {
    ctx.send_durable(to, m);
  } else {
    ctx.send(to, m);
  }
}

void Coordinator::on_timer(Context& ctx, TimerTag tag) {
  if (tag != timer_gen_) return;  // superseded by an earlier deadline
  armed_for_ = -1;
  tick(ctx);
  maybe_snapshot(ctx);
}

// One timer per coordinator, always set for the earliest deadline of any
// row, so retries fire when their (jittered) backoff says, not on a grid.
void Coordinator::arm_at(Context& ctx, Time at) {
  if (armed_for_ >= 0 && armed_for_ <= at) return;
  armed_for_ = at;
  ctx.set_timer(std::max<Duration>(at - ctx.now(), 1), ++timer_gen_);
}

Duration Coordinator::backoff(Context& ctx, uint32_t attempts) {
  Duration d = cfg_.protocol.retry_interval << std::min<uint32_t>(attempts, 16);
  d = std::min(d, cfg_.protocol.max_backoff);
  uint64_t r = cfg_.bugs.nondeterministic ? mix64(g_leaky_counter.fetch_add(1)) : ctx.rng().next_u64();
  return d + static_cast<Duration>(r % static_cast<uint64_t>(cfg_.protocol.retry_interval / 2 + 1));
}

// Timeouts and resends for every unfinished row, in the order rows began.
void Coordinator::tick(Context& ctx) {
  Time now = ctx.now();
  // Every row whose deadline has come, in the order rows began (the order
  // the retries and timeouts are issued in, so the trace is the same
  // whatever the heap's internal order).
  due_now_.clear();
  while (!due_.empty() && due_.top().t <= now) {
    const DueEntry d = due_.pop();
    if (deadline(*d.row) == d.t) due_now_.push_back(d);
  }
  std::sort(due_now_.begin(), due_now_.end(), [](const DueEntry& a, const DueEntry& b) { return a.seq < b.seq; });
  due_now_.erase(std::unique(due_now_.begin(), due_now_.end(),
                             [](const DueEntry& a, const DueEntry& b) { return a.seq == b.seq; }),
                 due_now_.end());
  for (const DueEntry& d : due_now_) {
    const TxId& tx = d.tx;
    PhaseRow& row = *d.row;
    if (row.decision == Decision::kNone) {
      // A Saga whose debit is applied only moves forward: its credit is
      // retried until answered (a "no" leads to compensation), never timed
      // out. So does a local transfer: only its partition can decide it.
      if (!forward_only(row) && now - row.started >= cfg_.protocol.try_timeout) {
        ctx.cover(Cover::kTryTimedOut);
        decide(ctx, tx, row, Decision::kCancel, Reason::kTimedOut);
      } else if (now >= row.next_retry) {
        ctx.cover(Cover::kTryResent);
        if (local(row)) {
          send_local(ctx, tx, row);
        } else {
          for (Leg leg : {Leg::kDebit, Leg::kCredit}) {
            if (row.try_status[static_cast<int>(leg)] == TryStatus::kYes) continue;
            if (saga() && leg == Leg::kCredit && row.try_status[0] != TryStatus::kYes) continue;
            send_try(ctx, tx, row, leg);
          }
        }
        row.next_retry = now + backoff(ctx, row.attempts++);
      }
    } else if (now >= row.next_retry && !cfg_.bugs.no_phase2_retry) {
      ctx.cover(Cover::kPhase2Resent);
      for (Leg leg : {Leg::kDebit, Leg::kCredit}) {
        if (row.phase2[static_cast<int>(leg)] == Phase2Status::kAcked) continue;
        if (leg == Leg::kDebit && row.decision == Decision::kCancel && cfg_.bugs.cancel_skips_debit)
          continue;
        send_phase2(ctx, tx, row, leg);
      }
      row.next_retry = now + backoff(ctx, row.attempts++);
    }
    schedule(tx, row);
  }
  // The earliest deadline of any unfinished row; stale entries are dropped.
  while (!due_.empty() && deadline(*due_.top().row) != due_.top().t) due_.pop();
  if (!due_.empty()) arm_at(ctx, due_.top().t);
  // The list of open rows drops finished ones now and then (amortised O(1)).
  if (active_.size() > 2 * open_rows_ + 1024) drop_finished_from_active();
}

void Coordinator::drop_finished_from_active() {
  size_t keep = 0;
  for (const TxId& tx : active_)
    if (!rows_.at(tx).finished()) active_[keep++] = tx;
  active_.resize(keep);
  active_head_ = 0;
}

uint64_t Coordinator::low_watermark() {
  for (; active_head_ < active_.size(); ++active_head_) {
    const PhaseRow& row = rows_.at(active_[active_head_]);
    if (!row.finished()) return row.order;
  }
  return next_order_ + 1;
}

// When a row next needs the timer: its retry, or for an undecided row the
// Try timeout if that comes first; -1 if it needs nothing.
Time Coordinator::deadline(const PhaseRow& row) const {
  if (row.finished()) return -1;
  if (row.decision == Decision::kNone) {
    return forward_only(row) ? row.next_retry : std::min(row.next_retry, row.started + cfg_.protocol.try_timeout);
  }
  return cfg_.bugs.no_phase2_retry ? -1 : row.next_retry;
}

// Keeps the invariant the timer relies on: every unfinished row has a heap
// entry at its current deadline (older entries are recognised as stale).
void Coordinator::schedule(const TxId& tx, PhaseRow& row) {
  Time d = deadline(row);
  if (d < 0 || d == row.due) return;
  row.due = d;
  due_.push(DueEntry{d, row.order, tx, &row});
}

void Coordinator::reschedule(const TxId& tx) {
  if (PhaseRow* row = rows_.find(tx)) schedule(tx, *row);
}

void Coordinator::emit(Context& ctx, const Event& e) {
  std::array<uint8_t, kEventSize> bytes;
  encode_event(e, bytes.data());
  ctx.storage().append(bytes);
  apply_time_ = ctx.now();
  apply(e);
  ++since_snapshot_;
}

// At the end of a handler, when no reference to a row is held: forgets what
// may be forgotten and writes a snapshot. A snapshot costs what is
// remembered, so one is written only after kSnapshotSpacing events per row
// the last one kept: an event begins at most one row, so compaction stays
// O(1) per event, amortised. (Counting the rows remembered now instead, a
// same-partition transfer's two events per row would never catch up with
// four per row, and nothing would ever be forgotten.)
void Coordinator::maybe_snapshot(Context& ctx) {
  const uint32_t every = cfg_.protocol.snapshot_every;
  if (every == 0 || since_snapshot_ < std::max<size_t>(every, kSnapshotSpacing * kept_at_snapshot_)) return;
  compact(ctx);
  append_snapshot(ctx.storage(), EventType::kCoordSnapshot, scratch_, [&](std::vector<uint8_t>& out) { encode_snapshot(out); });
  since_snapshot_ = 0;
  kept_at_snapshot_ = rows_.size();
  ctx.cover(Cover::kCoordSnapshotWritten);
}

// Forgets finished rows whose retention window has passed, oldest first, in
// one pass over the rows in the order they finished. Only here, just before
// a snapshot: the snapshot then records exactly what is remembered, so a
// restart remembers no less than the process did.
void Coordinator::compact(Context& ctx) {
  const Time now = ctx.now();
  bool forgot = false;
  for (; finished_head_ < finished_.size(); ++finished_head_) {
    const TxId tx = finished_[finished_head_];
    const PhaseRow* it = rows_.find(tx);
    // Entries of rows begun again since (a test bug) or already gone are skipped.
    if (!it || !it->finished()) continue;
    if (!cfg_.bugs.forget_early && now - it->finished_at < cfg_.protocol.retention) break;
    if (!forgot) {
      // No list or timer entry may outlive its row.
      drop_finished_from_active();
      due_.erase_if([](const DueEntry& d) { return d.row->finished(); });
      forgot = true;
    }
    rows_.erase(tx);
    ++forgotten_;
  }
  if (forgot) ctx.cover(Cover::kRowsForgotten);
  if (finished_head_ > 1024 && finished_head_ * 2 > finished_.size()) {
    finished_.erase(finished_.begin(), finished_.begin() + static_cast<ptrdiff_t>(finished_head_));
    finished_head_ = 0;
  }
}

void Coordinator::apply(const Event& e) {
  switch (e.type) {
    case EventType::kBegin:
    case EventType::kTryAnswer:
    case EventType::kDecide:
    case EventType::kAck:
    case EventType::kAbsent:
      break;
    default:
      return;  // not a phase-table event
  }
  // One lookup per event. Rows begun and not finished are counted for
  // admission control.
  PhaseRow& row = rows_[e.tx];
  const bool was_open = row.order != 0 && !row.finished();
  switch (e.type) {
    case EventType::kBegin:
      if (!was_open) ++open_rows_;  // new, or begun again (a test bug)
      row = PhaseRow{};
      row.order = e.seq != 0 ? e.seq : next_order_ + 1;
      next_order_ = std::max(next_order_, row.order);
      row.from = e.account;
      row.to = e.account2;
      row.amount = e.amount;
      row.currency = e.currency;
      active_.push_back(e.tx);
      return;
    case EventType::kTryAnswer:
      row.try_status[static_cast<int>(e.leg)] = e.flag ? TryStatus::kYes : TryStatus::kNo;
      break;
    case EventType::kDecide:
      row.decision = e.flag ? Decision::kConfirm : Decision::kCancel;
      row.reason = e.reason;
      row.phase2[0] = row.phase2[1] = Phase2Status::kSent;
      if (local(row)) {
        // The partition's answer decided it: both legs are done as one.
        const TryStatus answer = e.flag ? TryStatus::kYes : TryStatus::kNo;
        row.try_status[0] = row.try_status[1] = answer;
        row.phase2[0] = row.phase2[1] = Phase2Status::kAcked;
      } else if (saga()) {
        // Saga: nothing to send on success; on failure only an applied (or
        // possibly applied) debit needs its compensation.
        row.phase2[1] = Phase2Status::kAcked;
        bool debit_done = e.flag || row.try_status[0] == TryStatus::kNo ||
                          (cfg_.bugs.saga_no_compensation && row.try_status[0] == TryStatus::kYes);
        row.phase2[0] = debit_done ? Phase2Status::kAcked : Phase2Status::kSent;
      }
      if (!e.flag && cfg_.bugs.cancel_skips_debit) row.phase2[0] = Phase2Status::kAcked;
      break;
    case EventType::kAck:
      row.phase2[static_cast<int>(e.leg)] = Phase2Status::kAcked;
      break;
    case EventType::kAbsent:
      if (!row.absent) {
        row.absent = true;
        row.finished_at = apply_time_;
        if (cfg_.protocol.snapshot_every != 0) finished_.push_back(e.tx);  // only snapshots forget
      }
      break;
    default:
      break;
  }
  if (was_open && row.finished()) {
    --open_rows_;
    row.finished_at = apply_time_;
    if (cfg_.protocol.snapshot_every != 0) finished_.push_back(e.tx);  // only snapshots forget
  }
}

// Rows in the order they are remembered in: finished ones in the order
// they finished (the order they are forgotten in), then open ones in begin
// order. Both lists are kept anyway, so no sort is needed; a row listed
// twice (begun again, a test bug) is written once.
void Coordinator::encode_snapshot(std::vector<uint8_t>& out) {
  // Sized once for every row (each is written at most once), then cut to
  // what was written: no growth check per word.
  const size_t at = out.size();
  out.resize(at + 16 + kSnapshotRowSize * rows_.size());
  uint8_t* const head = out.data() + at;
  uint8_t* p = head + 16;
  ++snapshot_gen_;
  auto put_row = [&](const TxId& tx, PhaseRow& r) {
    if (r.snapshot_gen == snapshot_gen_) return;
    r.snapshot_gen = snapshot_gen_;
    store_le64(p, tx.hi);
    store_le64(p + 8, tx.lo);
    store_le64(p + 16, r.order);
    store_le64(p + 24, uint64_t{r.from} | uint64_t{r.to} << 32);
    store_le64(p + 32, static_cast<uint64_t>(r.amount.minor));
    store_le64(p + 40, uint64_t{r.currency} | static_cast<uint64_t>(r.try_status[0]) << 8 |
                           static_cast<uint64_t>(r.try_status[1]) << 16 | static_cast<uint64_t>(r.decision) << 24 |
                           static_cast<uint64_t>(r.reason) << 32 | static_cast<uint64_t>(r.phase2[0]) << 40 |
                           static_cast<uint64_t>(r.phase2[1]) << 48 | uint64_t{r.absent} << 56);
    store_le64(p + 48, static_cast<uint64_t>(r.finished_at));
    p += kSnapshotRowSize;
  };
  for (size_t i = finished_head_; i < finished_.size(); ++i) {
    PhaseRow* it = rows_.find(finished_[i]);
    if (it && it->finished()) put_row(finished_[i], *it);
  }
  for (size_t i = active_head_; i < active_.size(); ++i) {
    PhaseRow* it = rows_.find(active_[i]);
    if (it && !it->finished()) put_row(active_[i], *it);
  }
  const uint64_t n = static_cast<uint64_t>(p - head - 16) / kSnapshotRowSize;
  assert(n == rows_.size());
  store_le64(head, next_order_);
  store_le64(head + 8, n);
  out.resize(static_cast<size_t>(p - out.data()));
}

bool Coordinator::load_snapshot(std::span<const uint8_t> blob) {
  size_t pos = kEventSize;
  bool ok = true;
  next_order_ = get_u64(blob, pos, ok);
  const uint64_t n = get_u64(blob, pos, ok);
  if (!ok || n > blob.size() / kSnapshotRowSize) return false;
  for (uint64_t i = 0; i < n && ok; ++i) {
    TxId tx;
    tx.hi = get_u64(blob, pos, ok);
    tx.lo = get_u64(blob, pos, ok);
    PhaseRow r;
    r.order = get_u64(blob, pos, ok);
    const uint64_t accounts = get_u64(blob, pos, ok);
    r.from = static_cast<AccountId>(accounts);
    r.to = static_cast<AccountId>(accounts >> 32);
    r.amount.minor = static_cast<int64_t>(get_u64(blob, pos, ok));
    const uint64_t f = get_u64(blob, pos, ok);
    r.finished_at = static_cast<Time>(get_u64(blob, pos, ok));
    r.currency = static_cast<CurrencyIdx>(f & 0xff);
    const uint64_t t0 = (f >> 8) & 0xff, t1 = (f >> 16) & 0xff, d = (f >> 24) & 0xff, why = (f >> 32) & 0xff,
                   p0 = (f >> 40) & 0xff, p1 = (f >> 48) & 0xff, absent = f >> 56;
    if (!ok || t0 > 3 || t1 > 3 || d > 2 || why > static_cast<uint64_t>(Reason::kExpired) || p0 > 2 || p1 > 2 ||
        absent > 1 || r.order > next_order_ || r.amount.minor < 0 || r.amount.minor > kMaxAmountMinor ||
        (!absent && (r.from >= cfg_.accounts || r.to >= cfg_.accounts || r.currency >= cfg_.currencies.size())))
      return false;
    r.try_status[0] = static_cast<TryStatus>(t0);
    r.try_status[1] = static_cast<TryStatus>(t1);
    r.decision = static_cast<Decision>(d);
    r.reason = static_cast<Reason>(why);
    r.phase2[0] = static_cast<Phase2Status>(p0);
    r.phase2[1] = static_cast<Phase2Status>(p1);
    r.absent = absent != 0;
    auto [slot, fresh] = rows_.try_emplace(tx);
    if (!fresh) return false;  // one row per id
    *slot = r;
    if (r.finished()) {
      finished_.push_back(tx);
    } else {
      active_.push_back(tx);
      ++open_rows_;
    }
  }
  return ok && pos == blob.size();
}

bool Coordinator::is_snapshot_record(std::span<const uint8_t> record) const {
  return !record.empty() && record[0] == static_cast<uint8_t>(EventType::kCoordSnapshot);
}

bool Coordinator::load_snapshot_record(std::span<const uint8_t> record) {
  std::span<const uint8_t> one[] = {record};
  return is_snapshot_record(record) && rebuild(one);
}

// A record its leader wrote. Rows that finish here are stamped with the time
// of the last leader's record seen; a new leader stamps every finished row
// with its own clock as it resumes, so none is forgotten early.
bool Coordinator::apply_record(std::span<const uint8_t> record) {
  if (is_snapshot_record(record)) return load_snapshot_record(record);
  auto e = decode_event(record);
  if (!e) return false;
  apply(*e);
  return true;
}

bool Coordinator::rebuild(const std::vector<std::vector<uint8_t>>& records) {
  return rebuild(std::vector<std::span<const uint8_t>>(records.begin(), records.end()));
}

// Loads the last snapshot, if any, and applies every event after it.
bool Coordinator::rebuild(std::span<const std::span<const uint8_t>> records) {
  rows_.clear();
  active_.clear();
  finished_.clear();
  finished_head_ = 0;
  due_.clear();
  open_rows_ = 0;
  next_order_ = 0;
  since_snapshot_ = 0;
  size_t start = 0;
  for (size_t i = records.size(); i-- > 0;) {
    auto e = decode_event(records[i]);
    if (e && e->type == EventType::kCoordSnapshot) {
      if (!load_snapshot(records[i])) return false;
      start = i + 1;
      break;
    }
  }
  for (size_t i = start; i < records.size(); ++i) {
    auto e = decode_event(records[i]);
    if (!e) return false;
    apply(*e);
  }
  drop_finished_from_active();
  kept_at_snapshot_ = rows_.size();
  return true;
}

size_t Coordinator::unfinished() const {
  size_t n = 0;
  for (const TxId& tx : active_) n += rows_.at(tx).finished() ? 0 : 1;
  return n;
}

std::vector<TxId> Coordinator::unfinished_ids(size_t max) const {
  std::vector<TxId> v;
  for (const TxId& tx : active_)
    if (!rows_.at(tx).finished() && v.size() < max) v.push_back(tx);
  return v;
}

const PhaseRow* Coordinator::row(const TxId& tx) const {
  return rows_.find(tx);
}

// Order-independent without sorting: each row hashes alone and the hashes
// are summed (mod 2^64).
uint64_t Coordinator::state_digest() const {
  uint64_t rows = 0;
  rows_.for_each([&](const TxId& tx, const PhaseRow& r) {
    uint64_t h = hash_combine(kFnvOffset, tx.hi ^ tx.lo);
    h = hash_combine(h, uint64_t{r.from} << 32 | r.to);
    h = hash_combine(h, static_cast<uint64_t>(r.amount.minor));
    rows += hash_combine(h, static_cast<uint64_t>(r.try_status[0]) | static_cast<uint64_t>(r.try_status[1]) << 8 |
                                static_cast<uint64_t>(r.decision) << 16 | static_cast<uint64_t>(r.phase2[0]) << 24 |
                                static_cast<uint64_t>(r.phase2[1]) << 32 | uint64_t{r.absent} << 40);
  });
  return hash_combine(hash_combine(kFnvOffset, rows_.size()), rows);
}

}  // namespace ws
