// One replica of a replica group: a wallet state machine (a partition or a
// coordinator) made a replicated state machine over Raft (core/raft.h),
// under the same Context contract as the bare engine (docs/replication.md).
//
// The leader runs the wallet's handlers as today, against a Context that
// captures what they write: the events a handler appends become one Raft
// entry (a snapshot record its own entry), and every message a handler sends
// is held until everything the leader has applied is committed by a
// majority. "Durable" for the wallet thus means "committed". A balance read
// is answered from the leader's state once that state is committed and a
// heartbeat round started after the read has shown that it still leads
// (Raft's read-index): never from a deposed leader's stale state. Followers apply
// committed entries; a leader that stops leading throws away what it applied
// ahead of the commit and rebuilds from committed entries. A replica starts
// serving as leader only once its term's first entry is applied, so it
// never answers from a state older than its log.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/cluster.h"
#include "core/context.h"
#include "core/fifo.h"
#include "core/le.h"
#include "core/raft.h"
#include "core/state_machine.h"

namespace ws {

// Deliberately broken replication rules: each must be caught (tests).
struct ReplicaBugs {
  bool answer_before_commit = false;  // a leader's answers leave before their entry is committed
  bool checkpoint_drops_tail = false;  // a snapshot is written without the entries after it
  bool empty_votes = false;  // a replica that starts with an empty log votes as if it had seen nothing
};

// Told what a replica does, for property checkers (the simulator listens).
class ReplicaObserver {
 public:
  virtual ~ReplicaObserver() = default;
  // Replica `self` applied a committed entry (every replica, every entry,
  // in index order; a leader's own entries included).
  virtual void on_replica_apply(NodeId self, const raft::Entry& e) = 0;
  // Replica `self` loaded a snapshot a leader sent: it now stands at meta.
  virtual void on_replica_install(NodeId, const raft::SnapshotMeta&) {}
  virtual void on_replica_role(NodeId, const raft::RoleChange&) {}
  // Replica `self` found its own state wrong (a log that does not read
  // back, an entry that does not apply) and stopped for good.
  virtual void on_replica_stopped(NodeId self, const std::string& why) = 0;
  // Replica `self` found records in its log that pass their checksum but do
  // not fit the log (a misdirected write, or a bug): it keeps what came
  // before them and repairs from its peers.
  virtual void on_replica_damaged(NodeId, const std::string&) {}
};

class ReplicaHost final : public Actor {
 public:
  // members: the node ids of the group's replicas, by replica index.
  ReplicaHost(std::unique_ptr<StateMachine> inner, const raft::Options& options, std::vector<NodeId> members,
              ReplicaBugs bugs = {});
  ~ReplicaHost() override;

  void on_start(Context& ctx) override;
  void on_message(Context& ctx, NodeId from, const Message& m) override;
  void on_raft(Context& ctx, NodeId from, const raft::Msg& m) override;
  void on_timer(Context& ctx, TimerTag tag) override;

  void set_observer(ReplicaObserver* o) { observer_ = o; }
  // The disk is new (a runtime that just created the data directory): an
  // empty log is then formatted (replica_format_record()) instead of being
  // taken for a lost one.
  void set_new_disk(bool v) { new_disk_ = v; }

  // Views for checkers and tests.
  const StateMachine& machine() const { return *inner_; }
  const raft::Raft& raft() const { return *raft_; }
  bool has_raft() const { return raft_ != nullptr; }
  bool serving() const { return serving_; }
  raft::Index applied() const { return applied_; }
  uint64_t rebuilds() const { return rebuilds_; }
  bool stopped() const { return !stopped_.empty(); }  // speculative state thrown away on losing the lead

  // Inner machines' timer tags must stay below this; the host's own are above.
  static constexpr TimerTag kHostTag = 0x8000'0000u;

 private:
  class Capture;
  class CtxRng final : public Rng {
   public:
    uint64_t next_u64() override { return ctx->rng().next_u64(); }
    Context* ctx = nullptr;
  };
  struct Held {
    raft::Index wait;  // sent once this much is applied (committed)
    NodeId to;
    Message m;
  };
  // A balance read's answer, waiting for Raft to confirm the lead (read-index)
  // and for the state it was read from to be committed.
  struct HeldRead {
    uint64_t id;
    raft::Index wait;  // sent once this much is applied, and confirmed
    bool confirmed;
    NodeId to;
    Message m;
  };
  struct PendingPersist {
    uint32_t seq;
    raft::LogMark mark;
  };

  void drain(Context& ctx);
  void persist(Storage& storage, const raft::Ready& rd);
  void apply_committed(Context& ctx, const raft::Entry& e);
  void maybe_serve(Context& ctx);
  void on_role_change(Context& ctx, const raft::RoleChange& rc);
  bool discard_speculation();
  bool rebuild_from_committed();
  void stop(Context& ctx, const std::string& why);
  void release_held(Context& ctx);
  void arm_tick(Context& ctx);
  void propose_captured(Context& ctx);
  void hold_or_send(Context& ctx, NodeId to, const Message& m);
  void start_read(Context& ctx, NodeId from, const Message& m);
  void release_reads(Context& ctx);
  void drop_held();

  std::unique_ptr<StateMachine> inner_;
  raft::Options options_;
  std::vector<NodeId> members_;
  ReplicaBugs bugs_;
  CtxRng rng_;
  std::unique_ptr<raft::Raft> raft_;
  std::unique_ptr<Capture> capture_;

  bool serving_ = false;       // leader with its term's first entry applied
  raft::Term lead_term_ = 0;   // the term this replica leads (0: not leading)
  raft::Index proposed_ = 0;   // the inner machine holds every entry this replica proposed up to here
  raft::Index applied_ = 0;
  raft::Index serve_from_ = 0;  // a leader serves once it has applied up to here
  std::vector<uint8_t> snapshot_;  // the newest snapshot record: the state after snapshot_meta().last_index
  std::vector<uint8_t> scratch_;   // one Raft record at a time, on its way to storage
  raft::Ready ready_;              // the Ready being handled, kept for its buffers
  Fifo<Held> held_;
  std::vector<HeldRead> reads_;
  uint64_t read_seq_ = 0;
  std::deque<PendingPersist> persists_;
  uint32_t persist_seq_ = 0;
  uint32_t tick_gen_ = 0;
  Time tick_at_ = -1;
  uint64_t rebuilds_ = 0;
  ReplicaObserver* observer_ = nullptr;
  bool new_disk_ = false;
  std::string stopped_;  // why this replica stopped; empty while it runs
};

// Replica `replica` of group `group` as the cluster configures it (Raft's
// timers, planted bugs, members): the simulator and walletd build their
// replicas with this, so both run the same rules.
std::unique_ptr<ReplicaHost> make_replica_host(const ClusterConfig& c, uint32_t group, uint32_t replica,
                                               std::unique_ptr<StateMachine> machine);

// The record a new replica's log starts with: its first hard state (term
// 0, no vote). A replica is created by writing it; an empty log is then a
// lost one, and its replica repairs from its peers before it votes.
std::vector<uint8_t> replica_format_record();

// Entry data: the records one handler appended, each as u32 length + bytes.
void append_entry_record(std::vector<uint8_t>& entry, std::span<const uint8_t> record);
// Calls fn for each record of an entry; false if the entry is malformed.
template <class Fn>
bool for_each_entry_record(std::span<const uint8_t> entry, Fn&& fn) {
  size_t pos = 0;
  while (pos < entry.size()) {
    if (entry.size() - pos < 4) return false;
    const uint32_t n = load_le32(entry.data() + pos);
    pos += 4;
    if (entry.size() - pos < n) return false;
    if (!fn(entry.subspan(pos, n))) return false;
    pos += n;
  }
  return true;
}

}  // namespace ws
