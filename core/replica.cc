#include "core/replica.h"

#include <algorithm>
#include <cassert>
#include <cstdio>

#include "core/messages.h"

namespace ws {
namespace {

constexpr TimerTag kTickTag = 0x4000'0000u;  // with kHostTag: the Raft timer
constexpr TimerTag kGenMask = 0x3fff'ffffu;

[[noreturn]] void fatal(const char* what) {
  std::fprintf(stderr, "replica: %s\n", what);
  std::abort();
}

}  // namespace

std::vector<uint8_t> replica_format_record() {
  std::vector<uint8_t> out;
  raft::encode_hard_state(raft::HardState{}, out);
  return out;
}

void append_entry_record(std::vector<uint8_t>& entry, std::span<const uint8_t> record) {
  append_le32(entry, static_cast<uint32_t>(record.size()));
  entry.insert(entry.end(), record.begin(), record.end());
}

// The Context the inner machine runs against on the leader: what it appends
// is gathered into entries, what it sends is held until committed, and the
// rest passes through to the replica's own Context.
class ReplicaHost::Capture final : public Context {
 public:
  class Gather final : public Storage {
   public:
    void append(std::span<const uint8_t> record) override { owner->gather(record); }
    void read_all(const std::function<void(std::span<const uint8_t>)>&) override {
      fatal("a hosted state machine read its log directly; the replica feeds it");
    }
    Capture* owner = nullptr;
  };

  explicit Capture(ReplicaHost& host) : host_(host) { gather_.owner = this; }
  void bind(Context& outer) { outer_ = &outer; }

  NodeId self() const override { return outer_->self(); }
  Time now() const override { return outer_->now(); }
  // Kept until the handler's entries are proposed: they may depend on them.
  void send(NodeId to, const Message& m) override { outbox_.push_back({to, m}); }
  void send_durable(NodeId to, const Message& m) override { outbox_.push_back({to, m}); }
  void set_timer(Duration after, TimerTag tag) override {
    assert(tag < kHostTag && "an inner machine's timer tags stay below the host's");
    outer_->set_timer(after, tag & ~kHostTag);
  }
  Storage& storage() override { return gather_; }
  Rng& rng() override { return outer_->rng(); }
  void cover(Cover c) override { outer_->cover(c); }

  // Every entry gathered since the last take: a snapshot record is an entry
  // of its own, so that the state after it is the record itself.
  std::span<const std::vector<uint8_t>> entries() const { return {entries_.data(), used_}; }
  std::vector<std::pair<NodeId, Message>>& outbox() { return outbox_; }
  // The entry buffers are kept for the next handler (no allocation per
  // entry), except one a snapshot made large.
  void clear() {
    for (size_t i = 0; i < used_; ++i) {
      if (entries_[i].capacity() > kKeepBytes) std::vector<uint8_t>().swap(entries_[i]);
      entries_[i].clear();
    }
    used_ = 0;
    outbox_.clear();
    last_was_snapshot_ = false;
  }

 private:
  static constexpr size_t kKeepBytes = 64 * 1024;

  void gather(std::span<const uint8_t> record) {
    const bool snap = host_.inner_->is_snapshot_record(record);
    if (snap || used_ == 0 || last_was_snapshot_) {
      if (used_ == entries_.size()) entries_.emplace_back();
      ++used_;
    }
    append_entry_record(entries_[used_ - 1], record);
    last_was_snapshot_ = snap;
  }

  ReplicaHost& host_;
  Context* outer_ = nullptr;
  Gather gather_;
  std::vector<std::vector<uint8_t>> entries_;  // the first used_ are this handler's
  size_t used_ = 0;
  std::vector<std::pair<NodeId, Message>> outbox_;
  bool last_was_snapshot_ = false;
};

ReplicaHost::ReplicaHost(std::unique_ptr<StateMachine> inner, const raft::Options& options,
                         std::vector<NodeId> members, ReplicaBugs bugs)
    : inner_(std::move(inner)),
      options_(options),
      members_(std::move(members)),
      bugs_(bugs),
      capture_(std::make_unique<Capture>(*this)) {
  assert(members_.size() == options_.replicas && options_.self < members_.size());
}

ReplicaHost::~ReplicaHost() = default;

// After a (re)start: the durable Raft state is read back, the inner machine
// loads the snapshot, and Raft hands out the committed entries after it
// again as it learns the commit.
void ReplicaHost::on_start(Context& ctx) {
  rng_.ctx = &ctx;
  capture_->bind(ctx);
  raft::DurableReader reader;
  bool ok = true;
  uint64_t records = 0;
  ctx.storage().read_all([&](std::span<const uint8_t> r) {
    ++records;
    ok = ok && reader.add(r);
  });
  raft::Durable durable = reader.take();
  if (!ok) {
    // Records that pass their checksum yet do not fit the log: a write that
    // landed at the wrong place. What came before them stands; they and
    // the rest go, and are repaired from the peers like any damage
    // (docs/raft.md "Repair").
    durable.repairing = true;
    if (observer_) observer_->on_replica_damaged(ctx.self(), "its Raft log does not read back: " + reader.error());
    std::vector<uint8_t> mark;
    raft::encode_repair(true, mark);
    ctx.storage().discard_from(reader.records_read(), mark);
  }
  // An empty log: a new replica's starts with replica_format_record(), so
  // this one's disk was lost. It never votes as if it had seen nothing.
  if (records == 0 && new_disk_) {
    ctx.storage().append(replica_format_record());
  } else if (records == 0 && !bugs_.empty_votes) {
    durable.repairing = true;
  }
  new_disk_ = false;
  if (durable.repairing && records > 0) ctx.cover(Cover::kRepairStarted);
  inner_->clear();
  snapshot_ = durable.snapshot.data;
  applied_ = durable.snapshot.meta.last_index;
  if (applied_ > 0 && !inner_->load_snapshot_record(snapshot_)) return stop(ctx, "its snapshot does not load");
  raft_ = std::make_unique<raft::Raft>(options_, rng_);
  std::string error;
  if (!raft_->restore(durable, ctx.now(), &error)) return stop(ctx, "Raft refused its durable state: " + error);
  serving_ = false;
  lead_term_ = 0;
  proposed_ = 0;
  drop_held();
  persists_.clear();
  tick_at_ = -1;
  drain(ctx);
  arm_tick(ctx);
}

// A wallet message. Only a serving leader runs it; anywhere else it is
// dropped and the sender's retry finds the leader. The events it appends
// are proposed as entries, and its answers wait for them.
void ReplicaHost::on_message(Context& ctx, NodeId from, const Message& m) {
  rng_.ctx = &ctx;
  capture_->bind(ctx);
  if (!serving_ || stopped()) return;
  if (m.kind == MsgKind::kBalanceRead) {
    start_read(ctx, from, m);
  } else {
    capture_->clear();
    inner_->on_message(*capture_, from, m);
    propose_captured(ctx);
  }
  drain(ctx);
  arm_tick(ctx);
}

// The inner machine answers the read from its state now, which may run
// ahead of the commit (the leader's own entries): the answer waits until
// that state is committed, and until Raft confirms, by a heartbeat round
// started after now, that no newer leader can have committed anything this
// one has not. A read Raft cannot take (not leader, too many waiting) is
// dropped; the client asks again.
void ReplicaHost::start_read(Context& ctx, NodeId from, const Message& m) {
  capture_->clear();
  inner_->on_message(*capture_, from, m);
  if (!capture_->entries().empty()) return propose_captured(ctx);  // a read writes nothing; never here
  const uint64_t id = ++read_seq_;
  if (raft_->read_index(id, ctx.now()).status == raft::ReadStatus::kPending) {
    const raft::Index wait = std::max(proposed_, applied_);
    for (const auto& [to, answer] : capture_->outbox()) reads_.push_back(HeldRead{id, wait, false, to, answer});
  }
  capture_->clear();
}

void ReplicaHost::release_reads(Context& ctx) {
  size_t kept = 0;
  for (size_t i = 0; i < reads_.size(); ++i) {
    if (reads_[i].confirmed && reads_[i].wait <= applied_) {
      ctx.send(reads_[i].to, reads_[i].m);
    } else {
      reads_[kept++] = reads_[i];
    }
  }
  reads_.resize(kept);
}

void ReplicaHost::drop_held() {
  held_.clear();
  reads_.clear();
}

void ReplicaHost::on_raft(Context& ctx, NodeId from, const raft::Msg& m) {
  rng_.ctx = &ctx;
  capture_->bind(ctx);
  if (stopped()) return;
  const auto it = std::find(members_.begin(), members_.end(), from);
  if (it == members_.end() || static_cast<raft::ReplicaId>(it - members_.begin()) != m.from) return;
  raft_->step(m, ctx.now());
  drain(ctx);
  arm_tick(ctx);
}

void ReplicaHost::on_timer(Context& ctx, TimerTag tag) {
  rng_.ctx = &ctx;
  capture_->bind(ctx);
  if (stopped()) return;
  if (tag < kHostTag) {
    // The inner machine's own timer: it runs only where it leads.
    if (!serving_) return;
    capture_->clear();
    inner_->on_timer(*capture_, tag);
    propose_captured(ctx);
  } else if (tag & kTickTag) {
    if ((tag & kGenMask) != (tick_gen_ & kGenMask)) return;  // superseded
    tick_at_ = -1;
    raft_->tick(ctx.now());
  } else {
    // Records appended up to a Ready's persist mark are durable.
    const uint32_t seq = tag & kGenMask;
    while (!persists_.empty() && ((persists_.front().seq - seq) & kGenMask) != 0) persists_.pop_front();
    if (persists_.empty()) return;
    raft_->persisted(persists_.front().mark, ctx.now());
    persists_.pop_front();
  }
  drain(ctx);
  arm_tick(ctx);
}

// What the handler appended becomes entries. A proposal refused (too busy)
// leaves the inner machine ahead of any log: it goes back to what is
// committed, what it wanted to say is dropped, and it serves again once
// everything already in the log is applied.
void ReplicaHost::propose_captured(Context& ctx) {
  for (const auto& entry : capture_->entries()) {
    raft::ProposeResult r = raft_->propose(entry, ctx.now());
    if (r.status != raft::ProposeStatus::kAccepted) {
      capture_->clear();
      serving_ = false;
      serve_from_ = raft_->last_index();
      if (!discard_speculation()) stop(ctx, "it cannot rebuild its state from its committed entries");
      return;
    }
    proposed_ = r.index;
  }
  for (const auto& [to, m] : capture_->outbox()) hold_or_send(ctx, to, m);
  capture_->clear();
}

// Nothing leaves that could reflect state not yet committed: while the
// inner machine holds entries beyond the commit, its messages wait.
void ReplicaHost::hold_or_send(Context& ctx, NodeId to, const Message& m) {
  if (proposed_ <= applied_ || bugs_.answer_before_commit) return ctx.send(to, m);
  held_.push_back(Held{proposed_, to, m});
}

void ReplicaHost::release_held(Context& ctx) {
  while (!held_.empty() && held_.front().wait <= applied_) {
    const Held h = held_.take_front();
    ctx.send(h.to, h.m);
  }
}

// Handles every Ready in the order docs/raft.md gives: persist, note when
// it is durable, send, load an installed snapshot, apply, react to role
// changes.
void ReplicaHost::drain(Context& ctx) {
  while (!stopped() && raft_->has_ready()) {
    raft::Ready& rd = ready_;
    raft_->take_ready(rd);
    // Deposed (a newer term reached it): what it applied ahead of the
    // commit goes before anything this Ready commits is applied, as the
    // new leader's entries may replace its own at those indexes.
    if (lead_term_ != 0 && (raft_->role() != raft::Role::kLeader || raft_->term() != lead_term_)) {
      serving_ = false;
      lead_term_ = 0;
      if (rd.snapshot && rd.snapshot_install) {
        drop_held();  // the snapshot below replaces the whole state
        proposed_ = 0;
      } else if (!discard_speculation()) {
        return stop(ctx, "it cannot rebuild its state from its committed entries");
      }
    }
    if (rd.needs_persist()) {
      if (rd.repair_mark == false) ctx.cover(Cover::kRepairDone);
      persist(ctx.storage(), rd);
      persists_.push_back(PendingPersist{++persist_seq_, rd.persist_mark});
      ctx.when_durable(kHostTag | (persist_seq_ & kGenMask));
    }
    for (const raft::OutMsg& out : rd.messages) ctx.send_raft(members_[out.msg.to], out.msg, out.after_persist);
    if (rd.snapshot && rd.snapshot_install) {
      // A leader's snapshot: this replica was too far behind for its log.
      inner_->clear();
      if (!inner_->load_snapshot_record(rd.snapshot->data)) return stop(ctx, "an installed snapshot does not load");
      snapshot_ = rd.snapshot->data;
      applied_ = rd.snapshot->meta.last_index;
      proposed_ = 0;
      drop_held();
      if (observer_) observer_->on_replica_install(ctx.self(), rd.snapshot->meta);
    }
    for (const raft::Entry& e : rd.committed) {
      apply_committed(ctx, e);
      if (stopped()) return;
    }
    release_held(ctx);
    for (const raft::ReadReady& r : rd.reads)
      for (HeldRead& h : reads_)
        if (h.id == r.read_id) {
          h.confirmed = true;
          h.wait = std::max(h.wait, r.index);
        }
    for (const uint64_t id : rd.reads_failed)
      std::erase_if(reads_, [id](const HeldRead& h) { return h.id == id; });
    release_reads(ctx);
    for (const raft::RoleChange& rc : rd.role_changes) {
      if (observer_) observer_->on_replica_role(ctx.self(), rc);
      on_role_change(ctx, rc);
      if (stopped()) return;
    }
  }
}

// What a Ready makes durable. A snapshot (taken here or installed from the
// leader) starts a checkpoint: the snapshot, every entry after it, and the
// hard state, so that the records from the snapshot on rebuild this replica
// alone, and the log before it may be cut (docs/replication.md). Entries
// already written after the snapshot's index are written again behind a
// truncation; the tail behind a snapshot is short (snapshot_every entries).
void ReplicaHost::persist(Storage& storage, const raft::Ready& rd) {
  auto write = [&](std::span<const uint8_t> record) { storage.append(record); };
  if (!rd.snapshot || bugs_.checkpoint_drops_tail) return raft::for_each_ready_record(rd, scratch_, write);
  auto one = [&](auto&& encode) { raft::emit_record(scratch_, encode, write); };
  if (rd.repair_mark == true) one([](auto& out) { raft::encode_repair(true, out); });
  one([&](auto& out) { raft::encode_snapshot(*rd.snapshot, out); });
  // The log before the snapshot may be cut: a replica still repairing says
  // so again after it.
  if (raft_->repairing()) one([](auto& out) { raft::encode_repair(true, out); });
  const raft::Index snap = rd.snapshot->meta.last_index;
  if (raft_->last_index() > snap) {
    one([&](auto& out) { raft::encode_truncate(snap + 1, out); });
    for (raft::Index i = snap + 1; i <= raft_->last_index(); ++i)
      one([&](auto& out) { raft::encode_entry(*raft_->entry(i), out); });
  }
  one([&](auto& out) {
    raft::encode_hard_state(raft::HardState{raft_->term(), raft_->vote(), raft_->commit_index()}, out);
  });
  if (rd.repair_mark == false) one([](auto& out) { raft::encode_repair(false, out); });
}

void ReplicaHost::apply_committed(Context& ctx, const raft::Entry& e) {
  assert(e.index == applied_ + 1);
  applied_ = e.index;
  if (observer_) observer_->on_replica_apply(ctx.self(), e);
  if (e.kind == raft::EntryKind::kCommand) {
    // A leader's own entry is in its machine already (it was applied as it
    // was written); any other committed entry is applied now.
    const bool mine = lead_term_ != 0 && e.term == lead_term_ && e.index <= proposed_;
    std::span<const uint8_t> last;
    size_t records = 0;
    const bool ok = for_each_entry_record(e.data, [&](std::span<const uint8_t> r) {
      last = r;
      ++records;
      return mine || inner_->apply_record(r);
    });
    if (!ok)
      return stop(ctx, "committed entry " + std::to_string(e.index) + " (term " + std::to_string(e.term) +
                           ") does not apply to its state: the replicas' states differ");
    if (records == 1 && inner_->is_snapshot_record(last)) {
      // The state after this entry is the snapshot itself: the log before
      // it may go, on every replica alike.
      std::vector<uint8_t> snap(last.begin(), last.end());
      if (raft_->compact(e.index, e.term, snap)) snapshot_ = std::move(snap);
    }
  }
  maybe_serve(ctx);
}

// A leader serves once every entry in its log when it took the lead (or
// when a proposal was refused) is applied: its state is then the whole
// log's, and it never answers from an older one.
void ReplicaHost::maybe_serve(Context& ctx) {
  if (serving_ || lead_term_ == 0 || applied_ < serve_from_) return;
  if (raft_->role() != raft::Role::kLeader || raft_->term() != lead_term_) return;
  serving_ = true;
  capture_->clear();
  inner_->resume(*capture_);
  propose_captured(ctx);
}

void ReplicaHost::on_role_change(Context& ctx, const raft::RoleChange& rc) {
  const bool leading = rc.role == raft::Role::kLeader;
  if (lead_term_ != 0 && !(leading && rc.term == lead_term_)) {
    // No longer the leader: entries applied ahead of the commit may never
    // commit, so the machine goes back to what is committed, and the
    // answers that depended on them are never sent.
    serving_ = false;
    lead_term_ = 0;
    if (!discard_speculation()) return stop(ctx, "it cannot rebuild its state from its committed entries");
  }
  if (leading && lead_term_ == 0) {
    lead_term_ = rc.term;
    serving_ = false;
    serve_from_ = raft_->last_index();  // this term's first entry
    maybe_serve(ctx);
  }
}

bool ReplicaHost::discard_speculation() {
  drop_held();
  const bool ok = proposed_ <= applied_ || rebuild_from_committed();
  proposed_ = 0;
  return ok;
}

bool ReplicaHost::rebuild_from_committed() {
  ++rebuilds_;
  inner_->clear();
  const raft::Index from = raft_->snapshot_meta().last_index;
  if (from > 0 && !inner_->load_snapshot_record(snapshot_)) return false;
  for (raft::Index i = from + 1; i <= applied_; ++i) {
    const raft::Entry* e = raft_->entry(i);
    if (!e) return false;
    if (e->kind != raft::EntryKind::kCommand) continue;
    if (!for_each_entry_record(e->data, [&](std::span<const uint8_t> r) { return inner_->apply_record(r); }))
      return false;
  }
  return true;
}

// A replica whose own state is wrong stops: it neither votes nor answers.
// With an observer (the simulator) that is a finding reported there; with
// none (a real process) it is fatal.
void ReplicaHost::stop(Context& ctx, const std::string& why) {
  stopped_ = why.empty() ? "stopped" : why;
  serving_ = false;
  drop_held();
  if (!observer_) fatal(stopped_.c_str());
  observer_->on_replica_stopped(ctx.self(), stopped_);
}

// One Raft timer at a time. A deadline that moves later (a follower hears
// its leader, a leader sends) keeps the timer already set: it fires early,
// the tick does nothing yet, and the timer is set again for the new
// deadline. A timer per heartbeat received would cost far more.
void ReplicaHost::arm_tick(Context& ctx) {
  if (stopped()) return;
  const Time at = raft_->next_deadline();
  if (tick_at_ >= 0 && tick_at_ <= at) return;
  tick_at_ = at;
  ctx.set_timer(std::max<Duration>(at - ctx.now(), 1), kHostTag | kTickTag | (++tick_gen_ & kGenMask));
}

std::unique_ptr<ReplicaHost> make_replica_host(const ClusterConfig& c, uint32_t group, uint32_t replica,
                                               std::unique_ptr<StateMachine> machine) {
  raft::Options o;
  o.self = replica;
  o.replicas = c.replicas();
  o.election_timeout_min = c.replication.election_timeout_min;
  o.election_timeout_max = c.replication.election_timeout_max;
  o.heartbeat_interval = c.replication.heartbeat_interval;
  o.max_append_entries = c.replication.max_append_entries;
  o.pre_vote = c.replication.pre_vote;
  o.check_quorum = c.replication.check_quorum;
  o.bugs.vote_before_durable = c.bugs.vote_before_durable;
  o.bugs.commit_old_term_by_count = c.bugs.commit_old_term_by_count;
  o.bugs.no_truncate_conflict = c.bugs.no_truncate_conflict;
  o.bugs.fixed_election_timeout = c.bugs.fixed_election_timeout;
  o.bugs.read_without_check = c.bugs.read_without_check;
  o.bugs.ack_while_probing = c.bugs.ack_while_probing;
  o.bugs.prevote_elects = c.bugs.prevote_elects;
  o.bugs.prevote_sticky_leader = c.bugs.prevote_sticky_leader;
  o.bugs.quorum_contact_kept = c.bugs.quorum_contact_kept;
  std::vector<NodeId> members;
  for (uint32_t r = 0; r < c.replicas(); ++r) members.push_back(c.replica_node(group, r));
  return std::make_unique<ReplicaHost>(std::move(machine), o, std::move(members),
                                       ReplicaBugs{.answer_before_commit = c.bugs.answer_before_commit,
                                                   .checkpoint_drops_tail = c.bugs.checkpoint_drops_tail,
                                                   .empty_votes = c.bugs.empty_votes});
}

}  // namespace ws
