#include "properties/checker.h"

#include <algorithm>

#include "core/event_log.h"
#include "properties/reading.h"

namespace ws {

const char* to_string(Property p) {
  switch (p) {
    case Property::kConservation: return "conservation";
    case Property::kNoNegative: return "no_negative_balance";
    case Property::kAtomicity: return "atomicity";
    case Property::kIdempotency: return "idempotency";
    case Property::kClientTruth: return "client_visible_truth";
    case Property::kLiveness: return "liveness";
    case Property::kReplay: return "replay";
    case Property::kDeterminism: return "determinism";
    case Property::kModelAgreement: return "model_agreement";
    case Property::kBalanceLimit: return "balance_limit";
    case Property::kElectionSafety: return "election_safety";
    case Property::kStateMachineSafety: return "state_machine_safety";
    case Property::kLinearizableReads: return "linearizable_reads";
  }
  return "?";
}

std::optional<Property> parse_property(std::string_view s) {
  for (int i = 0; i < kPropertyCount; ++i)
    if (s == to_string(static_cast<Property>(i))) return static_cast<Property>(i);
  return std::nullopt;
}

ReadRequest read_request(const ClusterConfig& c, const PlannedRequest& p) {
  ReadRequest r;
  r.id = reading::txid(p.txid);
  // The coordinator receives fixed-size text fields; one cut to fit is refused.
  const bool fits = p.txid.size() < sizeof(TransferText::txid) && p.amount.size() < sizeof(TransferText::amount) &&
                    p.currency.size() < sizeof(TransferText::currency);
  int cur = -1;
  for (size_t k = 0; k < c.currencies.size(); ++k)
    if (p.currency == c.currencies[k].code) cur = static_cast<int>(k);
  std::optional<int64_t> minor;
  if (cur >= 0) {
    r.currency = static_cast<CurrencyIdx>(cur);
    minor = reading::amount_minor(p.amount, c.currencies[r.currency].minor_digits);
  }
  if (minor) r.amount = Amount{*minor};
  r.from = p.from;
  r.to = p.to;
  r.valid = fits && r.id && minor && *minor > 0 && p.from < c.accounts && p.to < c.accounts && p.from != p.to;
  return r;
}

Checker::Checker(const SimConfig& cfg, bool stop_at_first)
    : cfg_(cfg), stop_at_first_(stop_at_first), settle_(cfg.cluster.protocol.retention) {
  const ClusterConfig& c = cfg.cluster;
  size_t ncur = c.currencies.size();
  balance_.resize(size_t{c.accounts} * ncur);
  for (AccountId a = 0; a < c.accounts; ++a)
    for (size_t k = 0; k < ncur; ++k) balance_[a * ncur + k] = c.initial_balance[k].minor;
  in_flight_.assign(ncur, 0);
  over_by_refund_.assign(balance_.size(), false);
  accounts_of_.resize(c.partitions);
  for (AccountId a = 0; a < c.accounts; ++a) accounts_of_[c.account_partition[a]].push_back(a);
  archive_.resize(c.partitions);
  model_at_snapshot_.resize(c.partitions);
  archive_failed_.assign(c.partitions, false);
  if (c.replicas() > 1) {
    group_logs_.resize(c.groups());
    for (GroupLog& g : group_logs_) g.applied.assign(c.replicas(), 0);
  }
}

// State-machine safety, as the replicas apply: every replica that applies
// index i applies the entry (same term, same bytes) the first one did.
void Checker::on_replica_apply(uint32_t group, uint32_t replica, const raft::Entry& e, Time t) {
  GroupLog& g = group_logs_[group];
  if (e.index >= g.base) {
    while (g.base + g.entries.size() < e.index) g.entries.emplace_back();  // not seen first-hand
    const size_t i = static_cast<size_t>(e.index - g.base);
    if (i == g.entries.size()) g.entries.emplace_back();
    Applied& a = g.entries[i];
    const bool copy = a.term == e.term && a.kind == e.kind && a.bytes.same_buffer(e.data);
    const uint64_t h = copy ? a.hash : words_hash64(e.data.data(), e.data.size(), static_cast<uint64_t>(e.kind));
    if (a.term == 0) {
      // A replica far behind (or stopped for good) keeps entries tracked;
      // past this many, only their fingerprints are kept, not their bytes.
      constexpr size_t kHoldBytes = 1 << 16;
      a = Applied{e.term, h, e.kind, g.entries.size() <= kHoldBytes ? e.data : SharedBytes{}};
    } else if (a.term != e.term || a.hash != h) {
      report(Property::kStateMachineSafety, t, {},
             "replica " + std::to_string(replica) + " of " + group_name(group) + " applied entry " +
                 std::to_string(e.index) + " of term " + std::to_string(e.term) + ", but another replica applied " +
                 (a.term == e.term ? std::string("different bytes of that term")
                                   : "an entry of term " + std::to_string(a.term)) +
                 " at that index");
    }
  }
  g.applied[replica] = std::max(g.applied[replica], e.index);
  const uint64_t low = *std::min_element(g.applied.begin(), g.applied.end());
  while (g.base <= low && !g.entries.empty()) {
    g.entries.pop_front();
    ++g.base;
  }
}

void Checker::on_replica_install(uint32_t group, uint32_t replica, const raft::SnapshotMeta& meta, Time) {
  GroupLog& g = group_logs_[group];
  g.applied[replica] = std::max(g.applied[replica], meta.last_index);
}

// A replica whose own log or state does not hold together stops; in a
// correct group that never happens (its log is what its peers agreed to).
void Checker::on_replica_stopped(uint32_t group, uint32_t replica, const std::string& why, Time t) {
  report(Property::kStateMachineSafety, t, {},
         "replica " + std::to_string(replica) + " of " + group_name(group) + " stopped: " + why);
}

// Check-quorum's promise (docs/raft.md): a leader cut off from its group
// stops leading, so its clients stop waiting on answers it cannot commit.
void Checker::on_stale_leader(uint32_t group, uint32_t replica, uint64_t term, Duration cut_for, Duration silent_for,
                              Time t) {
  report(Property::kLiveness, t, {},
         "check-quorum: replica " + std::to_string(replica) + " of " + group_name(group) + " was cut off from its group " +
             std::to_string(cut_for / kMillisecond) + " ms ago, has heard nothing from it for " +
             std::to_string(silent_for / kMillisecond) + " ms, and still leads term " + std::to_string(term) +
             " (it cannot commit; its clients wait)");
}

// Election safety: one leader per term in a group.
void Checker::on_replica_role(uint32_t group, uint32_t replica, const raft::RoleChange& rc, Time t) {
  if (rc.role != raft::Role::kLeader) return;
  const auto [it, fresh] = leaders_.try_emplace(uint64_t{group} << 40 | rc.term, replica);
  if (!fresh && it->second != replica)
    report(Property::kElectionSafety, t, {},
           "replicas " + std::to_string(it->second) + " and " + std::to_string(replica) + " of " + group_name(group) +
               " both became leader in term " + std::to_string(rc.term));
}

std::string Checker::group_name(uint32_t group) const {
  const ClusterConfig& c = cfg_.cluster;
  return c.is_partition(group) ? "partition " + std::to_string(group)
                               : "coordinator " + std::to_string(group - c.partitions);
}

// At the end every replica that has applied as far as its group has holds
// the same state: same balances and legs, same phase table.
void Checker::check_replicas(const Simulator& sim) {
  const ClusterConfig& c = cfg_.cluster;
  for (uint32_t g = 0; g < c.groups(); ++g) {
    uint64_t most = 0;
    for (uint32_t r = 0; r < c.replicas(); ++r)
      if (const ReplicaHost* h = sim.replica(g, r)) most = std::max<uint64_t>(most, h->applied());
    const ReplicaHost* first = nullptr;
    for (uint32_t r = 0; r < c.replicas(); ++r) {
      const ReplicaHost* h = sim.replica(g, r);
      if (!h || h->applied() != most) continue;
      // A leader's machine runs ahead of the commit with its own entries;
      // a settled run has none, a stopped group (beyond f) may.
      if (h->raft().role() == raft::Role::kLeader && h->raft().commit_index() < h->raft().last_index()) continue;
      if (!first) {
        first = h;
      } else if (h->machine().state_digest() != first->machine().state_digest()) {
        report(Property::kStateMachineSafety, sim.now(), {},
               "replicas of " + group_name(g) + " that applied the same " + std::to_string(most) +
                   " entries hold different states");
        break;
      }
    }
  }
}

void Checker::on_log_cut(NodeId node, std::span<const uint8_t> bytes) {
  const ClusterConfig& c = cfg_.cluster;
  if (!c.is_partition(node) || archive_failed_[node]) return;
  const uint32_t p = node;
  if (!archive_[p]) {
    archive_[p] = std::make_unique<PartitionNode>(c, p);
    archive_[p]->replay_start();
  }
  PartitionNode& archive = *archive_[p];
  const size_t ncur = c.currencies.size();
  const Time now = sim_ ? sim_->now() : 0;
  scan_records(
      bytes,
      [&](std::span<const uint8_t> rec) {
        if (archive_failed_[p]) return;
        if (!archive.replay_record(rec)) {
          archive_failed_[p] = true;
          report(Property::kReplay, now, {},
                 "partition " + std::to_string(p) +
                     ": its archive (the log cut behind snapshots) does not replay: a record is malformed or a "
                     "snapshot disagrees with the events before it");
          return;
        }
        if (rec[0] != static_cast<uint8_t>(EventType::kSnapshot) || model_at_snapshot_[p].empty()) return;
        const std::vector<int64_t> model = std::move(model_at_snapshot_[p].front());
        model_at_snapshot_[p].pop_front();
        for (size_t i = 0; i < accounts_of_[p].size(); ++i)
          for (size_t k = 0; k < ncur; ++k) {
            const AccountId a = accounts_of_[p][i];
            const int64_t replayed = archive.balance(a, static_cast<CurrencyIdx>(k));
            if (replayed == model[i * ncur + k]) continue;
            archive_failed_[p] = true;
            report(Property::kReplay, now, {},
                   "partition " + std::to_string(p) + ": replaying its archive to a snapshot gives " + c.account_name(a) +
                       " " + format_amount(Amount{replayed}, c.currencies[k]) + " " + c.currencies[k].code +
                       ", but the checker's model had " + format_amount(Amount{model[i * ncur + k]}, c.currencies[k]) +
                       " when that snapshot became durable");
            return;
          }
      },
      /*verify_checksums=*/true);
}

void Checker::on_request_arrived(uint32_t r, const PlannedRequest& p) {
  if (read_.empty()) read_base_ = r;
  read_.push_back(read_request(cfg_.cluster, p));
  const ReadRequest& want = read_.back();
  ++counts_.requests;
  if (p.kind == RequestKind::kRead && !reads_) {
    reads_ = true;  // from now on, every balance change is kept for a while
    balance_history_.resize(balance_.size());
  }
  if (!want.id) return;
  // The transaction stays until every request naming its id is judged.
  ++txs_[*want.id].open_requests;
  if (!want.valid) return;
  if (p.kind == RequestKind::kReuse) reuses_[*want.id].push_back({r, want, p.amount});
  if (auto [first, fresh] = first_request_.try_emplace(*want.id); fresh) *first = FirstRequest{r, want, p.amount};
}

void Checker::on_request_retired(uint32_t r, const PlannedRequest& p, const RequestRecord& rec, Time now) {
  if (read_.empty() || r != read_base_) return;  // not one this checker saw arrive
  peak_txs_ = std::max(peak_txs_, txs_.size());
  done_.push_back(DoneRequest{r, p.kind, p.txid, read_.front(), rec, now});
  read_.pop_front();
  ++read_base_;
  judge_done(now, false);
  retire_txs(now);
}

// Judges retired requests, oldest first, once their transaction has settled
// (or, past ten retention windows, whatever state it is in: a transaction
// that never settles is itself the finding). all: at the end of the run.
void Checker::judge_done(Time now, bool all) {
  while (!done_.empty() && !should_stop()) {
    const DoneRequest& d = done_.front();
    TxHistory* h = d.want.id ? txs_.find(*d.want.id) : nullptr;
    if (!all && h && !h->settled() && now < d.retired_at + 10 * settle_) return;
    check_request(d, now);
    count_request(d);
    if (h && h->open_requests > 0 && --h->open_requests == 0) touch(*d.want.id, *h, now);
    done_.pop_front();
  }
}

void Checker::touch(const TxId& tx, TxHistory& h, Time t) {
  h.last_touch = t;
  if (h.open_requests == 0) retire_queue_.push_back({t, tx});
}

// Settled transactions nothing has happened to for a retention window: no
// message about them can still arrive, so their history is complete.
void Checker::retire_txs(Time now) {
  while (!retire_queue_.empty() && retire_queue_.front().first + settle_ <= now) {
    const auto [t, tx] = retire_queue_.front();
    retire_queue_.pop_front();
    const TxHistory* h = txs_.find(tx);
    if (!h || h->open_requests != 0 || h->last_touch != t || !h->settled()) continue;
    if (h->net_debit() == 1 && h->net_credit() == 1) ++counts_.committed;
    else if (h->begun && h->decision == 0) ++counts_.aborted;
    first_request_.erase(tx);
    reuses_.erase(tx);
    txs_.erase(tx);
  }
}

void Checker::count_request(const DoneRequest& d) {
  const RequestRecord& r = d.rec;
  counts_.rejected += r.answer == Outcome::kRejected;
  if (d.kind != RequestKind::kValid || r.answered_at < 0 ||
      (r.answer != Outcome::kSuccess && r.answer != Outcome::kFailed))
    return;
  const Duration latency = r.answered_at - r.first_sent;
  // Every latency up to kMaxLatencies, then a uniform sample of that size
  // (reservoir sampling on a fixed sequence: deterministic).
  ++counts_.latency_count;
  if (counts_.latencies.size() < RunCounts::kMaxLatencies) {
    counts_.latencies.push_back(latency);
  } else {
    const uint64_t k = mix64(counts_.latency_count) % counts_.latency_count;
    if (k < RunCounts::kMaxLatencies) counts_.latencies[k] = latency;
  }
  if (r.answer == Outcome::kSuccess) {
    ++counts_.succeeded;
    counts_.last_success_at = std::max(counts_.last_success_at, r.answered_at);
  }
}

void Checker::report(Property p, Time t, std::vector<TxId> txs, std::string message) {
  if (stop_at_first_ && !violations_.empty()) return;
  Violation v{p, t, std::move(txs), std::move(message), {}};
  if (sim_)
    for (const TraceRecord& r : sim_->recent().last(16)) v.recent.push_back(trace_text(r));
  violations_.push_back(std::move(v));
}

static std::string tx_short(const TxId& tx) { return format_txid(tx); }

void Checker::on_durable_event(NodeId node, const Event& e, Time t) {
  const ClusterConfig& c = cfg_.cluster;
  if (e.type == EventType::kSnapshot || e.type == EventType::kCoordSnapshot) {
    // The model's balances of the partition's accounts at this instant, for
    // the archive check (on_log_cut).
    if (c.is_partition(node) && c.replicas() == 1) {
      const size_t ncur = c.currencies.size();
      std::vector<int64_t> model;
      model.reserve(accounts_of_[node].size() * ncur);
      for (AccountId a : accounts_of_[node])
        for (size_t k = 0; k < ncur; ++k) model.push_back(balance_[size_t{a} * ncur + k]);
      model_at_snapshot_[node].push_back(std::move(model));
    }
    return;
  }
  TxHistory& h = txs_[e.tx];
  if (h.open_requests == 0) {
    touch(e.tx, h, t);
  } else {
    h.last_touch = t;
  }
  if (c.is_coordinator(node)) {
    if (e.type == EventType::kBegin) {
      if (h.begun)
        report(Property::kIdempotency, t, {e.tx},
               "transaction " + tx_short(e.tx) + " was begun twice: a known transaction_id started a new transfer");
      check_begin(e, t);
      h.begun = true;
      h.from = e.account;
      h.to = e.account2;
      h.begun_amount = e.amount;
      h.begun_currency = e.currency;
      h.saga = c.protocol.kind == ProtocolKind::kSaga;
      h.local = c.runs_locally(e.account, e.account2);
    } else if (e.type == EventType::kTryAnswer) {
      h.try_answer[static_cast<int>(e.leg)] = e.flag ? 1 : 0;
    } else if (e.type == EventType::kAck) {
      h.acked[static_cast<int>(e.leg)] = true;
    } else if (e.type == EventType::kDecide) {
      int d = e.flag ? 1 : 0;
      if (h.decision >= 0 && h.decision != d)
        report(Property::kIdempotency, t, {e.tx},
               "transaction " + tx_short(e.tx) + " was decided twice: first " +
                   (h.decision ? "confirm" : "cancel") + ", then " + (d ? "confirm" : "cancel"));
      h.decision = d;
    } else if (e.type == EventType::kAbsent) {
      h.absent = true;
    }
    return;
  }
  if (c.protocol.kind == ProtocolKind::k2pc) {
    if (e.type == EventType::kTryYes) locks_[LegKey{e.tx, e.leg}] = Lock{t, false};
    if (e.type == EventType::kTryNo && e.reason == Reason::kLocked) ++metrics_.lock_conflicts;
    if (e.type == EventType::kConfirmed || e.type == EventType::kCancelled) {
      if (auto it = locks_.find(LegKey{e.tx, e.leg}); it != locks_.end()) {
        Duration held = t - it->second.since;
        ++metrics_.locked_legs;
        metrics_.lock_total += held;
        metrics_.lock_max = std::max(metrics_.lock_max, held);
        if (it->second.in_doubt) metrics_.in_doubt_lock_total += held;
        locks_.erase(it);
      }
    }
  }
  // The protocol's ordering, checked on durable history: a participant holds
  // money only for a transaction its coordinator has recorded durably, and
  // applies a second phase only after the coordinator's decision is durable.
  if ((e.type == EventType::kTryYes || e.type == EventType::kApplied || e.type == EventType::kLocalTransfer) && !h.begun)
    report(Property::kAtomicity, t, {e.tx},
           std::string("partition ") + std::to_string(node) + " reserved the " + to_string(e.leg) +
               " leg of " + tx_short(e.tx) + " before its coordinator recorded the transaction durably");
  if ((e.type == EventType::kConfirmed || e.type == EventType::kCancelled ||
       e.type == EventType::kCancelMarker) &&
      h.decision != (e.type == EventType::kConfirmed ? 1 : 0))
    report(Property::kAtomicity, t, {e.tx},
           std::string("partition ") + std::to_string(node) + " applied " +
               (e.type == EventType::kConfirmed ? "Confirm" : "Cancel") + " to the " +
               to_string(e.leg) + " leg of " + tx_short(e.tx) +
               (h.decision < 0 ? " while its coordinator had no durable decision"
                               : " against its coordinator's durable decision"));
  if (e.type == EventType::kRefused) {
    report(Property::kAtomicity, t, {e.tx},
           std::string("partition ") + std::to_string(node) + " refused " +
               (e.flag ? "Confirm after Cancel" : "Cancel after Confirm") + " for the " +
               to_string(e.leg) + " leg of " + tx_short(e.tx) +
               ": the coordinator sent both outcomes");
    return;
  }
  if (e.type == EventType::kLocalTransfer) return on_local_transfer(node, e, h, t);
  bool reserved = e.type == EventType::kTryYes || e.type == EventType::kApplied;
  if (h.begun && (reserved || e.effect != Effect::kNone)) check_leg(node, e, h, t);
  if (e.leg == Leg::kDebit && reserved) {
    h.debit_account = e.account;
    h.has_debit_account = true;
  }
  if (e.leg == Leg::kCredit && reserved) {
    h.credit_account = e.account;
    h.has_credit_account = true;
  }
  if (e.effect == Effect::kNone) return;
  move_money(e, h, t);
  track_partial(h, t);
}

// A same-partition transfer is judged as its two legs applied at one
// instant: a debit of `account` and a credit of `account2`, each checked as
// a leg is, and never partial in between.
void Checker::on_local_transfer(NodeId node, const Event& e, TxHistory& h, Time t) {
  Event debit = e;
  debit.type = EventType::kApplied;
  debit.leg = Leg::kDebit;
  debit.effect = e.flag ? Effect::kDebit : Effect::kNone;
  Event credit = debit;
  credit.leg = Leg::kCredit;
  credit.account = e.account2;
  credit.effect = e.flag ? Effect::kCredit : Effect::kNone;
  if (h.begun) {
    check_leg(node, debit, h, t);
    check_leg(node, credit, h, t);
  }
  h.debit_account = debit.account;
  h.has_debit_account = true;
  h.credit_account = credit.account;
  h.has_credit_account = true;
  if (!e.flag) return;
  move_money(debit, h, t);
  move_money(credit, h, t);
  track_partial(h, t);
}

void Checker::move_money(const Event& e, TxHistory& h, Time t) {
  const ClusterConfig& c = cfg_.cluster;
  h.amount = e.amount;
  h.currency = e.currency;
  const size_t ncur = c.currencies.size();
  int64_t& bal = balance_[size_t{e.account} * ncur + e.currency];
  const int64_t a = e.amount.minor;
  const int64_t before = bal;
  switch (e.effect) {
    case Effect::kDebit:
      if (++h.debits > 1)
        report(Property::kIdempotency, t, {e.tx}, "debit of " + tx_short(e.tx) + " applied twice");
      bal -= a;
      h.in_flight += a;
      in_flight_[e.currency] += a;
      break;
    case Effect::kCredit:
      if (++h.credits > 1)
        report(Property::kIdempotency, t, {e.tx}, "credit of " + tx_short(e.tx) + " applied twice");
      bal += a;
      h.in_flight -= a;
      in_flight_[e.currency] -= a;
      break;
    case Effect::kRefund:
      if (++h.refunds > 1)
        report(Property::kIdempotency, t, {e.tx}, "refund of " + tx_short(e.tx) + " applied twice");
      bal += a;
      h.in_flight -= a;
      in_flight_[e.currency] -= a;
      break;
    case Effect::kReverse:
      ++h.reversals;
      bal -= a;
      h.in_flight += a;
      in_flight_[e.currency] += a;
      break;
    case Effect::kNone:
    case Effect::kMove:  // split into its two legs by on_local_transfer
      break;
  }
  if (reads_ && bal != before) note_balance(size_t{e.account} * ncur + e.currency, before, bal, t);
  check_money(e, h, bal, t);
}

void Checker::note_balance(size_t slot, int64_t before, int64_t after, Time t) {
  auto& d = balance_history_[slot];
  if (d.empty()) d.emplace_back(INT64_MIN, before);
  d.emplace_back(t, after);
  const Time keep_from = t - 2 * cfg_.client.horizon;
  while (d.size() >= 2 && d[1].first < keep_from) d.pop_front();
}

// Linearizability of balance reads: the value returned must be the balance
// (as the committed history has it) at some instant between the read's
// first send and this answer: the one in force when it was sent, or any it
// took until now. Several changes at one instant each count as an instant.
void Checker::on_read_answer(uint32_t r, AccountId a, CurrencyIdx cur, int64_t value, Time sent, Time t) {
  const ClusterConfig& c = cfg_.cluster;
  ++reads_checked_;
  const size_t ncur = c.currencies.size();
  if (a >= c.accounts || cur >= ncur) {
    report(Property::kLinearizableReads, t, {},
           "balance read (request " + std::to_string(r) + ") was answered for an account or currency that does not exist");
    return;
  }
  const size_t slot = size_t{a} * ncur + cur;
  const CurrencyInfo& ci = c.currencies[cur];
  // The values it may return, [first, last): from the one in force at
  // `sent` to the last one taken by now. Nothing is written unless none matches.
  std::string was;
  auto matches = [&](auto first, auto last) {
    if (std::any_of(first, last, [&](const auto& e) { return e.second == value; })) return true;
    int shown = 0;
    for (auto e = first; e != last; ++e, ++shown) {
      if (shown == 6) {
        was += ", ...";
        break;
      }
      was += (shown ? ", " : "") + format_amount(Amount{e->second}, ci);
    }
    return false;
  };
  bool ok;
  if (reads_ && !balance_history_[slot].empty()) {
    const auto& d = balance_history_[slot];
    auto it = std::lower_bound(d.begin(), d.end(), sent, [](const auto& e, Time x) { return e.first < x; });
    if (it != d.begin()) --it;  // the value in force at `sent`
    ok = matches(it, std::upper_bound(it, d.end(), t, [](Time x, const auto& e) { return x < e.first; }));
  } else {
    const std::pair<Time, int64_t> now_only{t, balance_[slot]};  // no change kept: the balance now
    ok = matches(&now_only, &now_only + 1);
  }
  if (ok) return;
  auto ms = [](Time x) { return std::to_string(x / kMillisecond) + "." + std::to_string(x % kMillisecond / 1000 / 100) + " ms"; };
  report(Property::kLinearizableReads, t, {},
         "balance read of " + c.account_name(a) + " in " + ci.code + " (request " + std::to_string(r) + "), sent at " +
             ms(sent) + " and answered at " + ms(t) + ", returned " + format_amount(Amount{value}, ci) +
             "; between those instants the balance was only " + was + " (a stale or uncommitted state was read)");
}

// How long a transfer's money was in flight: partial state anyone could see.
void Checker::track_partial(TxHistory& h, Time t) {
  if (h.in_flight != 0 && h.partial_since < 0) {
    h.partial_since = t;
    ++metrics_.partial_count;
  } else if (h.in_flight == 0 && h.partial_since >= 0) {
    Duration d = t - h.partial_since;
    metrics_.partial_total += d;
    metrics_.partial_max = std::max(metrics_.partial_max, d);
    h.partial_since = -1;
  }
}

void Checker::check_money(const Event& e, const TxHistory& h, int64_t bal, Time t) {
  const ClusterConfig& c = cfg_.cluster;
  const size_t ncur = c.currencies.size();
  const int64_t a = e.amount.minor;
  const char* cur = c.currencies[e.currency].code;
  auto who = [&] { return c.account_name(e.account); };  // only for a report
  // Money may wait in flight only in the debit direction: a credit (or
  // refund) not covered by a debit already applied creates money.
  // 2PC applies both legs at Commit in either order; a credit first is safe
  // there only because the debit's row is locked with its funds checked and
  // the commit decision is already durable.
  bool committed_2pc = c.protocol.kind == ProtocolKind::k2pc && h.decision == 1;
  if (h.in_flight < 0 && !committed_2pc)
    report(Property::kConservation, t, {e.tx},
           std::string("money created: ") + (e.effect == Effect::kCredit ? "credit" : "refund") +
               " of " + format_amount(Amount{a}, c.currencies[e.currency]) + " " + cur + " to " +
               who() + " for " + tx_short(e.tx) + " is not covered by an applied debit");
  if (bal < 0)
    report(Property::kNoNegative, t, {e.tx},
           "balance of " + who() + " went negative (" + std::to_string(bal) + " minor units of " +
               cur + ") applying " + tx_short(e.tx));
  // A limit is judged on credits. A refund returns the account's own money
  // and cannot be refused: a Saga compensation may take a balance past the
  // limit (TC/C keeps headroom for its held debits, so there it never does).
  const int64_t limit = c.max_balance.empty() ? 0 : c.max_balance[e.currency].minor;
  const size_t row = size_t{e.account} * ncur + e.currency;
  if (limit > 0) over_by_refund_[row] = bal > limit && (e.effect == Effect::kRefund || over_by_refund_[row]);
  if (limit > 0 && bal > limit && e.effect == Effect::kCredit)
    report(Property::kBalanceLimit, t, {e.tx},
           std::string("credit of ") +
               format_amount(Amount{a}, c.currencies[e.currency]) + " " + cur + " for " + tx_short(e.tx) +
               " took " + who() + " to " + format_amount(Amount{bal}, c.currencies[e.currency]) + " " + cur +
               ", past its limit of " + format_amount(Amount{limit}, c.currencies[e.currency]));
}

std::string Checker::transfer_text(AccountId from, AccountId to, Amount a, CurrencyIdx cur) const {
  const ClusterConfig& c = cfg_.cluster;
  return format_amount(a, c.currencies[cur]) + " " + c.currencies[cur].code + " from " + c.account_name(from) +
         " to " + c.account_name(to);
}

// What a coordinator records must be what a client asked for under that id,
// read the checker's way: an amount the engine misreads is caught here.
void Checker::check_begin(const Event& e, Time t) {
  const FirstRequest* first = first_request_.find(e.tx);
  if (!first) {
    report(Property::kClientTruth, t, {e.tx},
           "coordinator began " + tx_short(e.tx) + " (" + transfer_text(e.account, e.account2, e.amount, e.currency) +
               ") though no client sent a valid request with that id");
    return;
  }
  const ReadRequest& want = first->want;
  if (want.same_transfer(e.account, e.account2, e.amount, e.currency)) return;
  if (auto q = reuses_.find(e.tx); q != reuses_.end()) {
    for (const FirstRequest& reuse : q->second) {
      if (!reuse.want.same_transfer(e.account, e.account2, e.amount, e.currency)) continue;
      report(Property::kIdempotency, t, {e.tx},
             "request " + std::to_string(reuse.r) + " reused the transaction_id " + tx_short(e.tx) +
                 " with different content, and the coordinator began it as a new transfer");
      return;
    }
  }
  report(Property::kClientTruth, t, {e.tx},
         "coordinator recorded " + tx_short(e.tx) + " as " + transfer_text(e.account, e.account2, e.amount, e.currency) +
             ", but request " + std::to_string(first->r) + " asked for " + transfer_text(want.from, want.to, want.amount, want.currency) +
             " (amount written \"" + first->amount + "\")");
}

// A partition's leg must move the transfer's own account, amount and currency.
void Checker::check_leg(NodeId node, const Event& e, const TxHistory& h, Time t) {
  const AccountId want = e.leg == Leg::kDebit ? h.from : h.to;
  if (e.account == want && e.amount == h.begun_amount && e.currency == h.begun_currency) return;
  report(Property::kModelAgreement, t, {e.tx},
         std::string("partition ") + std::to_string(node) + " recorded the " + to_string(e.leg) + " leg of " +
             tx_short(e.tx) + " as " + format_amount(e.amount, cfg_.cluster.currencies[e.currency]) + " " +
             cfg_.cluster.currencies[e.currency].code + " on " + cfg_.cluster.account_name(e.account) +
             ", but the transfer is " + transfer_text(h.from, h.to, h.begun_amount, h.begun_currency));
}

// Every account of a partition, its real balance against the checker's
// model built from durable events (DESIGN.md section 6, model agreement).
void Checker::check_model(const Simulator& sim, uint32_t p, const char* when) {
  const ClusterConfig& c = cfg_.cluster;
  const size_t ncur = c.currencies.size();
  const PartitionNode& node = sim.partition(p);
  for (AccountId a = 0; a < c.accounts; ++a) {
    if (c.account_partition[a] != p) continue;
    for (size_t k = 0; k < ncur; ++k) {
      const int64_t real = node.balance(a, static_cast<CurrencyIdx>(k));
      const int64_t model = balance_[a * ncur + k];
      if (real == model) continue;
      report(Property::kModelAgreement, sim.now(), {},
             "partition " + std::to_string(p) + " " + when + ": " + c.account_name(a) + " holds " +
                 format_amount(Amount{real}, c.currencies[k]) + " " + c.currencies[k].code +
                 ", but its durable events add up to " + format_amount(Amount{model}, c.currencies[k]));
      return;
    }
  }
}

// An answer is the truth only if the decision behind it is already durable:
// otherwise a coordinator crash could decide the other way.
void Checker::on_client_answer(const TxId& tx, Outcome o, Reason why, Time t) {
  const TxHistory* h = txs_.find(tx);
  bool backed = o == Outcome::kSuccess ? h && h->decision == 1
                                       : h && (h->decision == 0 || (why == Reason::kNeverArrived && h->absent));
  if (!backed)
    report(Property::kClientTruth, t, {tx},
           std::string("a client was told ") + to_string(o) + " for " + tx_short(tx) +
               " before a matching decision was durable at its coordinator");
}

// A coordinator going down stalls its undecided transfers; under 2PC the
// legs it had prepared stay locked, in doubt, until it returns.
void Checker::on_node_state(NodeId node, bool up, Time) {
  const ClusterConfig& c = cfg_.cluster;
  // A replica restarts behind its group and catches up by Raft; what it
  // then holds is checked by state-machine safety.
  if (c.replicas() > 1) return;
  if (up && c.is_partition(node) && sim_) return check_model(*sim_, node, "after its restart");
  if (up || !c.is_coordinator(node)) return;
  uint32_t idx = node - c.partitions;
  txs_.for_each([&](const TxId& tx, const TxHistory& h) {
    if (h.begun && h.decision < 0 && c.coordinator_of(tx.hi, tx.lo) == idx) ++metrics_.stalled;
  });
  for (auto& [key, lock] : locks_) {
    if (lock.in_doubt || c.coordinator_of(key.tx.hi, key.tx.lo) != idx) continue;
    lock.in_doubt = true;
    ++metrics_.in_doubt;
  }
}

std::vector<TxId> Checker::sorted_tx_ids() const {
  std::vector<TxId> ids;
  ids.reserve(txs_.size());
  txs_.for_each([&](const TxId& id, const TxHistory&) { ids.push_back(id); });
  std::sort(ids.begin(), ids.end());
  return ids;
}

void Checker::finish(const Simulator& sim, const SimStats& stats) {
  peak_txs_ = std::max(peak_txs_, txs_.size());
  if (should_stop()) return;
  // Transfers still moving when the run was cut off are not half-applied;
  // the run's failure to settle is the finding. Judged on safety alone
  // (beyond f), a run that did not settle has groups that stopped, and a
  // stopped group's state is no answer: only what it answered is judged.
  const bool settled = stats.quiescent && !stats.event_budget_spent;
  // With groups, a group that never settled has no state to judge: the
  // replica whose state would be read may lag what its group committed.
  // The liveness check below reports the run.
  if (settled || (cfg_.check_liveness && cfg_.cluster.replicas() == 1)) check_final_balances(sim);
  if (cfg_.cluster.replicas() > 1) check_replicas(sim);
  else check_replay(sim);
  // Requests still in the simulator's window join the retired ones.
  const RequestWindow& w = sim.requests();
  for (uint32_t r = std::max(w.base, read_base_); r < w.end() && r - read_base_ < read_.size(); ++r)
    done_.push_back(DoneRequest{r, w.plan(r).kind, w.plan(r).txid, read_[r - read_base_], w.record(r), sim.now()});
  if (!settled) {
    for (const DoneRequest& d : done_) count_request(d);
  } else {
    for (const TxId& id : sorted_tx_ids()) {
      check_atomicity(id, txs_.at(id));
      if (should_stop()) return;
    }
    judge_done(sim.now(), /*all=*/true);
  }
  txs_.for_each([&](const TxId&, const TxHistory& h) {
    if (h.net_debit() == 1 && h.net_credit() == 1) ++counts_.committed;
    else if (h.begun && h.decision == 0) ++counts_.aborted;
  });
  if (cfg_.check_liveness) check_liveness(sim, stats);
}

void Checker::check_final_balances(const Simulator& sim) {
  const ClusterConfig& c = cfg_.cluster;
  const size_t ncur = c.currencies.size();
  std::vector<int64_t> sum(ncur, 0);
  for (AccountId a = 0; a < c.accounts; ++a) {
    uint32_t p = c.account_partition[a];
    if (!sim.node_up(c.partition_node(p))) return;
    for (size_t k = 0; k < ncur; ++k) {
      int64_t b = sim.partition(p).balance(a, static_cast<CurrencyIdx>(k));
      sum[k] += b;
      if (b < 0)
        report(Property::kNoNegative, sim.now(), {},
               "final balance of " + c.account_name(a) + " is negative (" + std::to_string(b) +
                   " minor units of " + c.currencies[k].code + ")");
    }
  }
  for (uint32_t p = 0; p < c.partitions; ++p) check_model(sim, p, "at the end of the run");
  for (AccountId a = 0; a < c.accounts; ++a) {
    for (size_t k = 0; k < ncur && !c.max_balance.empty(); ++k) {
      int64_t b = sim.partition(c.account_partition[a]).balance(a, static_cast<CurrencyIdx>(k));
      if (c.max_balance[k].minor > 0 && b > c.max_balance[k].minor && !over_by_refund_[a * ncur + k])
        report(Property::kBalanceLimit, sim.now(), {},
               "final balance of " + c.account_name(a) + " is " + format_amount(Amount{b}, c.currencies[k]) + " " +
                   c.currencies[k].code + ", past its limit of " + format_amount(c.max_balance[k], c.currencies[k]));
    }
  }
  for (size_t k = 0; k < ncur; ++k) {
    int64_t total = c.initial_balance[k].minor * static_cast<int64_t>(c.accounts);
    if (sum[k] + in_flight_[k] != total)
      report(Property::kConservation, sim.now(), {},
             std::string("sum of final ") + c.currencies[k].code + " balances (" +
                 format_amount(Amount{sum[k]}, c.currencies[k]) + ") plus money in flight (" +
                 format_amount(Amount{in_flight_[k]}, c.currencies[k]) +
                 ") differs from the initial total (" + format_amount(Amount{total}, c.currencies[k]) + ")");
  }
}

void Checker::check_replay(const Simulator& sim) {
  const ClusterConfig& c = cfg_.cluster;
  for (uint32_t p = 0; p < c.partitions; ++p) {
    NodeId n = c.partition_node(p);
    if (!sim.node_up(n)) continue;
    auto records = sim.durable_record_views(n);
    uint64_t live = sim.partition(p).state_digest();
    // The whole history: the archive, then the live log, replays to the live state.
    if (archive_[p] && !archive_failed_[p]) {
      bool ok = true;
      for (const auto& r : records) ok = ok && archive_[p]->replay_record(r);
      if (!ok || archive_[p]->state_digest() != live) {
        report(Property::kReplay, sim.now(), {},
               "partition " + std::to_string(p) + ": its archive followed by its live log does not replay to its live state");
        continue;
      }
    }
    // With no snapshot in the log both rebuilds are the same full replay.
    const bool snapshots = PartitionNode::has_snapshot(records);
    for (bool snaps : {false, true}) {
      if (snaps && !snapshots) break;
      PartitionNode fresh(c, p);
      bool ok = fresh.rebuild(records, snaps);
      if (!ok || fresh.state_digest() != live) {
        report(Property::kReplay, sim.now(), {},
               "partition " + std::to_string(p) + ": rebuilding from its durable log" +
                   (snaps ? " (snapshot + suffix)" : " (full replay)") +
                   (ok ? " does not give its live state" : " failed: a snapshot disagrees with the events before it"));
        break;
      }
    }
  }
  for (uint32_t k = 0; k < c.coordinators; ++k) {
    NodeId n = c.coordinator_node(k);
    if (!sim.node_up(n)) continue;
    Coordinator fresh(c, k);
    bool ok = fresh.rebuild(sim.durable_record_views(n));
    if (!ok || fresh.state_digest() != sim.coordinator(k).state_digest())
      report(Property::kReplay, sim.now(), {},
             "coordinator " + std::to_string(k) + ": rebuilding from its durable log does not give its live phase table");
  }
}

void Checker::check_atomicity(const TxId& id, const TxHistory& h) {
  int d = h.net_debit(), k = h.net_credit();
  if ((d == 1 && k == 1) || (d == 0 && k == 0)) return;
  report(Property::kAtomicity, sim_ ? sim_->now() : 0, {id},
         "transaction " + tx_short(id) + " is half-applied after quiescence: " + std::to_string(h.debits) +
             " debit(s), " + std::to_string(h.refunds) + " refund(s), " + std::to_string(h.credits) + " credit(s), " +
             std::to_string(h.reversals) + " reversal(s)");
}

// What one request was told, against what its transaction did.
void Checker::check_request(const DoneRequest& d, Time now) {
  const uint32_t r = d.r;
  const ReadRequest& want = d.want;
  const RequestRecord& rec = d.rec;
  auto what = [&] { return "request " + std::to_string(r) + " (" + to_string(d.kind) + ", tx " + d.txid + ")"; };
  auto ids = [&] { return want.id ? std::vector<TxId>{*want.id} : std::vector<TxId>{}; };
  if (rec.conflicting) {
    report(Property::kIdempotency, now, ids(),
           what() + " got two different answers: " + to_string(rec.answer) + " and " + to_string(rec.other_answer));
    return;
  }
  if (d.kind == RequestKind::kRead) {
    // Its value was judged when it was answered (on_read_answer).
    if (rec.answer == Outcome::kRejected && d.want.from < cfg_.cluster.accounts)
      report(Property::kClientTruth, now, {}, what() + ": a balance read of an existing account was rejected");
    return;
  }
  if (d.kind == RequestKind::kReuse) {
    if (rec.answer == Outcome::kSuccess)
      report(Property::kIdempotency, now, ids(), what() + ": a transaction_id reused with different content was accepted");
    return;
  }
  const TxHistory* h = want.id ? txs_.find(*want.id) : nullptr;
  if (!want.valid) {
    if (rec.answer != Outcome::kNone && rec.answer != Outcome::kRejected)
      report(Property::kClientTruth, now, ids(), what() + " is invalid but was answered " + to_string(rec.answer));
    if (want.id && !first_request_.contains(*want.id) && h && (h->begun || h->debits || h->credits))
      report(Property::kClientTruth, now, ids(), what() + " is invalid but changed state");
    return;
  }
  if (rec.answer == Outcome::kNone) return;  // given up (liveness reports one never answered)
  bool applied = h && h->net_debit() == 1 && h->net_credit() == 1;
  bool untouched = !h || (h->net_debit() == 0 && h->net_credit() == 0);
  if (rec.answer == Outcome::kRejected) {
    report(Property::kClientTruth, now, ids(), what() + " is valid but was rejected (" + to_string(rec.reason) + ")");
  } else if (rec.answer == Outcome::kSuccess && !applied) {
    report(Property::kClientTruth, now, ids(), what() + " was answered success but is not applied");
  } else if (rec.answer == Outcome::kFailed && !untouched) {
    report(Property::kClientTruth, now, ids(), what() + " was answered failed but has an effect");
  } else if (rec.answer == Outcome::kSuccess) {
    bool same = h->debit_account == want.from && h->credit_account == want.to && want.amount == h->amount &&
                want.currency == h->currency;
    if (!same)
      report(Property::kClientTruth, now, ids(), what() + " was answered success but a different transfer was applied under its id");
  }
}

void Checker::check_liveness(const Simulator& sim, const SimStats& stats) {
  const ClusterConfig& c = cfg_.cluster;
  Time now = sim.now();
  if (stats.event_budget_spent) {
    report(Property::kLiveness, now, {},
           "the run used its whole budget of " + std::to_string(cfg_.max_events) +
               " events without settling: something loops (a timer or a message that never stops)");
    return;
  }
  if (!stats.quiescent) {
    std::vector<TxId> stuck;
    for (uint32_t k = 0; k < c.coordinators; ++k)
      if (sim.node_up(c.coordinator_node(k)))
        for (const TxId& tx : sim.coordinator(k).unfinished_ids(5)) stuck.push_back(tx);
    std::string ids;
    for (const TxId& tx : stuck) ids += " " + tx_short(tx);
    report(Property::kLiveness, now, stuck,
           "the cluster did not settle within " + std::to_string(cfg_.heal_limit / kMillisecond) +
               " ms after healing; unfinished transactions:" + (ids.empty() ? std::string(" none (clients still waiting)") : ids));
    return;
  }
  for (uint32_t p = 0; p < c.partitions; ++p) {
    if (sim.partition(p).locked_rows() > 0) {
      report(Property::kLiveness, now, {},
             "partition " + std::to_string(p) + " still has " + std::to_string(sim.partition(p).locked_rows()) +
                 " balance row(s) locked by 2PC after quiescence");
      return;
    }
    if (sim.partition(p).open_holds() > 0) {
      report(Property::kLiveness, now, {},
             "partition " + std::to_string(p) + " still has " + std::to_string(sim.partition(p).open_holds()) +
                 " Try reservation(s) with no Confirm or Cancel after quiescence");
      return;
    }
  }
  const RequestWindow& w = sim.requests();
  for (uint32_t r = w.base; r < w.end(); ++r) {
    if (!w.record(r).done()) {
      const TxId& id = w.id(r);
      report(Property::kLiveness, now, id.is_nil() ? std::vector<TxId>{} : std::vector<TxId>{id},
             "request " + std::to_string(r) + " never got a final answer");
      return;
    }
  }
}

}  // namespace ws
