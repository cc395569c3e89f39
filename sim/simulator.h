// The deterministic simulator: one thread, one virtual clock, an event queue
// ordered by (time, insertion sequence), seeded streams per component, a
// virtual network and a virtual disk per node, crashes and restarts, clock
// drift, and a trace hash over every processed event (DESIGN.md sections 4-5).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/coordinator.h"
#include "core/events.h"
#include "core/partition_node.h"
#include "core/replica.h"
#include "core/time_queue.h"
#include "sim/client.h"
#include "sim/model.h"
#include "sim/rng.h"
#include "sim/trace.h"
#include "sim/workload.h"

namespace ws {

// Told of every event record the moment it becomes durable on its node, in
// the order the simulation makes them durable. Property checkers listen here.
class SimObserver {
 public:
  virtual ~SimObserver() = default;
  virtual void on_durable_event(NodeId node, const Event& e, Time t) = 0;
  // A client received a final answer (success or failed) about a transaction.
  virtual void on_client_answer(const TxId&, Outcome, Reason, Time) {}
  // A client received a balance read's answer: `value` for account/currency,
  // read by request r, which the client first sent at `sent`.
  virtual void on_read_answer(uint32_t /*r*/, AccountId, CurrencyIdx, int64_t /*value*/, Time /*sent*/, Time) {}
  // A node crashed (up = false) or restarted (up = true, after it recovered from its disk).
  virtual void on_node_state(NodeId, bool /*up*/, Time) {}
  // Request r reached its client (it is in the request window from now on).
  virtual void on_request_arrived(uint32_t /*r*/, const PlannedRequest&) {}
  // Request r leaves the window: done (answered or given up) for a retention
  // window, so no reply about it can still arrive.
  virtual void on_request_retired(uint32_t /*r*/, const PlannedRequest&, const RequestRecord&, Time) {}
  // The front of node's log, every record up to its newest durable
  // snapshot, is about to be cut: what an archive would receive.
  virtual void on_log_cut(NodeId, std::span<const uint8_t> /*framed records*/) {}
  // Replica groups (cluster.replicas > 1). With groups, on_durable_event
  // reports each group's committed records once, in log order, under the
  // group's id, the moment the first replica applies them. These tell of
  // every replica: an entry applied, a leader's snapshot loaded, a role taken.
  virtual void on_replica_apply(uint32_t /*group*/, uint32_t /*replica*/, const raft::Entry&, Time) {}
  virtual void on_replica_install(uint32_t /*group*/, uint32_t /*replica*/, const raft::SnapshotMeta&, Time) {}
  virtual void on_replica_role(uint32_t /*group*/, uint32_t /*replica*/, const raft::RoleChange&, Time) {}
  // A replica found its own state wrong and stopped for good.
  virtual void on_replica_stopped(uint32_t /*group*/, uint32_t /*replica*/, const std::string& /*why*/, Time) {}
  // Check-quorum: a leader cut off from the rest of its group for
  // `cut_for`, and sent nothing by it for `silent_for`, still leads `term`
  // (with check-quorum on, it should have stepped down).
  virtual void on_stale_leader(uint32_t /*group*/, uint32_t /*replica*/, uint64_t /*term*/, Duration /*cut_for*/,
                               Duration /*silent_for*/, Time) {}
  virtual bool should_stop() const { return false; }
};

struct SimStats {
  uint64_t events = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_dropped = 0;
  uint64_t messages_duplicated = 0;
  uint64_t crashes = 0;
  uint64_t syncs = 0;
  Time end_time = 0;
  bool quiescent = false;  // the queue drained before the heal limit
  bool event_budget_spent = false;  // stopped at SimConfig::max_events
  uint64_t queued = 0;              // deliveries and timers that waited for a busy node
  uint64_t messages_shed = 0;
  uint64_t packets = 0;             // batched packets sent (protocol.batch_max > 1)
  uint64_t raft_messages = 0;       // Raft messages sent between replicas
  uint64_t redirects = 0;           // wallet messages a replica not serving as leader sent back
  // Replica groups, per group: how long it could not commit (no live
  // leader, or fewer than a majority of its replicas up and not probing),
  // its longest such stretch, and whether it was in one when the run ended.
  std::vector<Duration> group_unavailable;
  std::vector<Duration> group_longest_outage;
  std::vector<uint8_t> group_down_at_end;
};

class Simulator : private ReplicaObserver {
 public:
  // Requests come from feed as the run reaches their start times; the
  // feed must outlive the simulator.
  Simulator(const SimConfig& cfg, uint64_t seed, RequestFeed& feed, const FaultPlan& plan);
  Simulator(const SimConfig& cfg, uint64_t seed, const Workload& workload, const FaultPlan& plan);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  void set_observer(SimObserver* o) { observer_ = o; }
  // Called for every processed event (for --trace); slows the run down.
  void set_trace_sink(std::function<void(const TraceRecord&)> sink) { sink_ = std::move(sink); }

  SimStats run();
  // Makes every node's appended records durable (end of run), telling the observer.
  void flush_all();

  const SimConfig& config() const { return cfg_; }
  // A partition's or coordinator's state machine. With replica groups: its
  // serving leader's, else the replica that has applied the most.
  const PartitionNode& partition(uint32_t p) const;
  const Coordinator& coordinator(uint32_t c) const;
  // Replica r of a group; nullptr without replica groups or while it is down.
  const ReplicaHost* replica(uint32_t group, uint32_t r) const;
  bool node_up(NodeId n) const;
  // The requests not yet retired: those still open and those done within
  // the last retention window.
  const RequestWindow& requests() const { return window_; }
  uint64_t requests_arrived() const { return window_.end(); }
  size_t peak_window() const { return peak_window_; }  // most requests held at once
  // The longest any node's log has been (durable or not), in bytes, and the
  // bytes cut from the front of logs behind snapshots.
  size_t peak_log_bytes() const { return peak_log_bytes_; }
  uint64_t truncated_bytes() const;
  // Simulated CPU time node n has spent handling messages and timers.
  Duration busy_time(NodeId n) const;
  // Every intact durable record of node n, oldest first.
  std::vector<std::vector<uint8_t>> durable_records(NodeId n) const;
  // The same records as views into the simulated disk, valid until the node
  // next appends or restarts.
  std::vector<std::span<const uint8_t>> durable_record_views(NodeId n) const;
  uint64_t trace_hash() const { return trace_hash_; }
  // How often each named rare branch was taken in this run (core/coverage.h).
  const CoverCounts& coverage() const { return coverage_; }
  const TraceRing& recent() const { return ring_; }
  Time now() const { return now_; }

 private:
  friend class SimContext;
  Simulator(const SimConfig& cfg, uint64_t seed, std::unique_ptr<RequestFeed> owned, RequestFeed* feed,
            const FaultPlan& plan);
  struct QEvent;
  struct Node;
  enum class EvKind : uint8_t { kDeliver, kTimer, kSyncDone, kCrash, kRestart, kHeal, kWake, kFlush, kArrive, kRaft, kIsolate, kArmCrash, kQuorumCheck };
  static constexpr uint32_t kNoSlot = UINT32_MAX;

  void push(Time t, EvKind kind, NodeId node, uint32_t slot, uint64_t aux);
  void network_send(NodeId from, NodeId to, const Message& m);
  void transmit(NodeId from, NodeId to, const Message& m);
  void flush(NodeId from, NodeId to);
  struct SlotMeta {
    NodeId hint = kNoNode;  // a redirect: the leader the bouncing replica knows
    uint8_t hops = 0;       // times this message was sent on after a redirect
    bool redirect = false;  // sent back by a replica not serving as leader
  };
  void network_send_packet(NodeId from, NodeId to, std::span<const Message> ms, SlotMeta meta);
  void network_send_packet(NodeId from, NodeId to, std::span<const Message> ms);
  uint32_t alloc_slot(const Message& m, NodeId from, uint32_t next, SlotMeta meta);
  // Replica groups: where a message to a group goes, what a replica not
  // serving does with one, and the senders' leader guesses.
  NodeId route(NodeId from, NodeId to);
  void bounce(NodeId at, NodeId to, const Message& m, uint8_t hops);
  void redirected(NodeId at, NodeId from, const Message& m, SlotMeta meta);
  void heard_from(NodeId at, NodeId from);
  void raft_send(NodeId from, NodeId to, const raft::Msg& m);
  bool wallet_event(const QEvent& ev) const;
  bool groups_settled() const;
  void isolate_leader(size_t fault, NodeId elected = kNoNode);
  Duration quorum_bound() const { return 3 * cfg_.cluster.replication.election_timeout_max; }
  void strike(NodeId id, size_t crash);
  const StateMachine& group_machine(uint32_t group) const;
  void on_replica_apply(NodeId self, const raft::Entry& e) override;
  void on_replica_install(NodeId self, const raft::SnapshotMeta& meta) override;
  void on_replica_role(NodeId self, const raft::RoleChange& rc) override;
  void on_replica_stopped(NodeId self, const std::string& why) override;
  void on_replica_damaged(NodeId self, const std::string& why) override;
  bool link_cut(NodeId from, NodeId to) const;
  void request_sync(NodeId n);
  void complete_sync(NodeId n, uint64_t target, bool flushing = false);
  void crash(NodeId n, bool torn, size_t fault = SIZE_MAX);
  void damage_disk(NodeId n, DiskFault f);
  size_t read_fault_at(NodeId n, bool verify);
  void restart(NodeId n);
  void heal();
  // Group availability (SimStats::group_unavailable): a replica's flags
  // (bit 0 up and not probing, bit 1 leading) are looked at after each
  // event it handled.
  struct GroupAvail {
    uint32_t healthy = 0, leaders = 0;
    bool down = true;  // every group starts without a leader
    Time down_since = 0;
    Duration total = 0, longest = 0;
  };
  std::vector<GroupAvail> avail_;
  std::vector<uint8_t> avail_flags_;
  void note_avail(NodeId id);
  SimStats& finish_run();
  std::unique_ptr<Actor> make_actor(NodeId n);
  void record(const TraceRecord& r);
  TraceRecord message_record(TraceKind kind, NodeId node, NodeId peer, const Message& m) const;
  Time local_time(const Node& n) const;
  Duration global_delay(const Node& n, Duration local) const;
  Duration op_cost(NodeId n) const;
  void charge(Node& n, NodeId id, uint32_t items);
  void dispatch(const QEvent& ev);
  void shed(const QEvent& ev);
  void wake(NodeId id);
  void cover(Cover c) { ++coverage_[static_cast<size_t>(c)]; }
  void pull_request();
  void arrive();
  void retire();
  void cover_fate(TraceKind kind, const Message& m);

  SimConfig cfg_;
  std::unique_ptr<RequestFeed> own_feed_;
  RequestFeed* feed_;
  std::optional<PlannedRequest> next_request_;  // pulled from the feed, not yet arrived
  RequestWindow window_;
  size_t peak_window_ = 0;
  size_t peak_log_bytes_ = 0;
  FaultPlan plan_;
  std::vector<Node> nodes_;
  TimeQueue<QEvent> heap_;
  struct Slot;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<Message> packet_;  // scratch for a flushed batch
  struct RaftSlot;
  std::vector<RaftSlot> raft_slots_;
  std::vector<uint32_t> free_raft_slots_;
  std::vector<TimerTag> durable_now_;  // scratch: durability timers a sync completes
  std::vector<uint64_t> committed_;  // per group: the last entry index reported to the observer
  std::vector<size_t> armed_isolations_;  // leader isolations waiting for their group's next election
  uint64_t wallet_pending_ = 0;      // queued events that are not Raft's own upkeep
  uint64_t seq_ = 0;
  Time now_ = 0;
  bool healed_ = false;
  Xoshiro net_rng_;
  SimObserver* observer_ = nullptr;
  std::function<void(const TraceRecord&)> sink_;
  uint64_t trace_hash_ = 0;
  TraceRing ring_;
  SimStats stats_;
  CoverCounts coverage_{};
};

}  // namespace ws
