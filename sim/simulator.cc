#include "sim/simulator.h"

#include <algorithm>
#include <cassert>
#include <deque>
#include <functional>
#include <string>

#include "core/event_log.h"

namespace ws {

const char* to_string(DiskFault f) {
  switch (f) {
    case DiskFault::kNone: return "none";
    case DiskFault::kCorrupt: return "corrupt";
    case DiskFault::kMisdirectedWrite: return "misdirected_write";
    case DiskFault::kMisdirectedRead: return "misdirected_read";
    case DiskFault::kReadError: return "read_error";
    case DiskFault::kLostFsync: return "lost_fsync";
    case DiskFault::kDiskLost: return "disk_lost";
  }
  return "?";
}

bool parse_disk_fault(std::string_view s, DiskFault& out) {
  for (uint8_t i = 0; i <= static_cast<uint8_t>(DiskFault::kDiskLost); ++i) {
    if (s == to_string(static_cast<DiskFault>(i))) {
      out = static_cast<DiskFault>(i);
      return true;
    }
  }
  return false;
}


struct Simulator::QEvent {
  Time t;
  // The insertion number above the kind: (t, seq) orders the queue as the
  // insertion number alone would, since no two events share one, and the
  // event fits in 32 bytes (a 4-ary heap node's children in two cache lines).
  uint64_t seq;
  uint64_t aux;
  NodeId node;
  uint32_t slot;
  EvKind kind() const { return static_cast<EvKind>(seq & 0xff); }
};

// One message in flight. A packet (a batch) is a chain of slots through
// `next`; a lone message is a chain of one.
struct Simulator::Slot {
  Message m;
  NodeId from;
  uint32_t next = kNoSlot;
  SlotMeta meta;
};

// One Raft message in flight between two replicas of a group.
struct Simulator::RaftSlot {
  raft::Msg m;
  NodeId from;
};

class SimStorage final : public Storage {
 public:
  SimStorage(std::vector<uint8_t>& disk, size_t& durable, bool verify)
      : disk_(disk), durable_(durable), verify_(verify) {}
  void append(std::span<const uint8_t> payload) override { append_record(disk_, payload); }
  void read_all(const std::function<void(std::span<const uint8_t>)>& fn) override {
    scan_records(disk_, fn, verify_);
  }
  // Only on start, before any append: the cut is durable at once, as the
  // restart's own truncation of a damaged tail is.
  bool discard_from(uint64_t index, std::span<const uint8_t> record) override {
    uint64_t seen = 0;
    size_t at = disk_.size();
    scan_records_at(
        disk_, [&](size_t start, std::span<const uint8_t>) { if (seen++ == index) at = start; }, verify_);
    if (at > durable_) return false;
    disk_.resize(at);
    append_record(disk_, record);
    durable_ = disk_.size();
    return true;
  }

 private:
  std::vector<uint8_t>& disk_;
  size_t& durable_;
  bool verify_;  // false only under the planted bug skip_read_checksum
};

class SimContext final : public Context {
 public:
  SimContext(Simulator& sim, NodeId self);
  NodeId self() const override { return self_; }
  Time now() const override;
  void send(NodeId to, const Message& m) override { sim_.transmit(self_, to, m); }
  void send_durable(NodeId to, const Message& m) override;
  void set_timer(Duration after, TimerTag tag) override;
  Storage& storage() override { return storage_; }
  Rng& rng() override;
  void cover(Cover c) override { sim_.cover(c); }
  void send_raft(NodeId to, const raft::Msg& m, bool durable) override;
  void when_durable(TimerTag tag) override;

 private:
  Simulator& sim_;
  NodeId self_;
  SimStorage storage_;
};

struct Simulator::Node {
  std::unique_ptr<Actor> actor;
  std::unique_ptr<SimContext> ctx;
  bool up = true;
  uint32_t incarnation = 0;
  std::vector<uint8_t> disk;
  size_t durable = 0;
  uint64_t truncated = 0;  // bytes cut from the front of the log behind snapshots
  bool sync_in_flight = false;
  size_t sync_target = 0;  // the disk size the sync in flight covers
  struct Pending {
    NodeId to;
    size_t need;  // disk bytes that must be durable first
    Message m;
  };
  std::vector<Pending> pending;
  // Replica groups: the host (null while down or without groups), Raft
  // messages and durability timers waiting for a sync, and, per group, the
  // replica this node believes leads and since when it has sent to that
  // group without hearing from it (-1: it has heard since).
  ReplicaHost* host = nullptr;
  struct RaftPending {
    NodeId to;
    size_t need;
    raft::Msg m;
  };
  std::vector<RaftPending> raft_pending;
  struct Waiter {
    size_t need;
    TimerTag tag;
  };
  std::vector<Waiter> waiters;
  std::vector<uint8_t> guess;
  std::vector<Time> silent_since;
  void track_groups(uint32_t groups) {
    if (!guess.empty()) return;
    guess.assign(groups, 0);
    silent_since.assign(groups, -1);
  }
  // The node heard from group g, or was told who leads it.
  void believe(uint32_t g, uint32_t replica) {
    silent_since[g] = -1;
    guess[g] = static_cast<uint8_t>(replica);
  }
  int64_t crash_at_vote = -1;  // an armed at_vote crash (its index in the plan), -1: none
  int64_t crash_at_old_commit = -1;  // an armed at_old_commit crash, -1: none
  // Storage faults (replica groups).
  int64_t lost_fsync = -1;             // an armed lost fsync (its crash's index in the plan), -1: none
  size_t last_sync_from = 0;           // where the bytes the last sync made durable start
  size_t lost_from = SIZE_MAX;         // ignore_lost_fsync: from here on nothing reached the disk
  DiskFault read_fault = DiskFault::kNone;  // strikes the next restart's reads
  bool faulted = false;                // a fault hit the disk since the node last started
  Xoshiro rng;
  Time busy_until = 0;     // service time: the node is handling something until then
  Duration busy_total = 0;
  std::deque<QEvent> inbox;  // deliveries and timers waiting for the node to be free
  // Batching (coordinators only): messages waiting for company, per partition.
  std::vector<std::vector<Message>> outbox;
  std::vector<uint8_t> flush_armed;
  bool wake_scheduled = false;
  Duration clock_offset = 0;
  int32_t drift_ppm = 0;
  Time raft_heard_at = 0;  // a replica: the last Raft message delivered to it
};

SimContext::SimContext(Simulator& sim, NodeId self)
    : sim_(sim),
      self_(self),
      storage_(sim.nodes_[self].disk, sim.nodes_[self].durable,
               !(sim.cfg_.cluster.replicas() > 1 && sim.cfg_.cluster.bugs.skip_read_checksum)) {}

Time SimContext::now() const { return sim_.local_time(sim_.nodes_[self_]); }

Rng& SimContext::rng() { return sim_.nodes_[self_].rng; }

void SimContext::send_durable(NodeId to, const Message& m) {
  Simulator::Node& n = sim_.nodes_[self_];
  if (n.durable == n.disk.size()) {
    sim_.transmit(self_, to, m);
    return;
  }
  n.pending.push_back({to, n.disk.size(), m});
  sim_.request_sync(self_);
}

void SimContext::send_raft(NodeId to, const raft::Msg& m, bool durable) {
  Simulator::Node& n = sim_.nodes_[self_];
  if (n.crash_at_vote >= 0 && m.type == raft::MsgType::kRequestVoteReply && m.success && !sim_.healed_) {
    // An armed crash strikes now, once this handler returns.
    const size_t c = static_cast<size_t>(n.crash_at_vote);
    n.crash_at_vote = -1;
    sim_.strike(self_, c);
  }
  if (!durable || n.durable == n.disk.size()) return sim_.raft_send(self_, to, m);
  n.raft_pending.push_back({to, n.disk.size(), m});
  sim_.request_sync(self_);
}

// Fires as a timer once the log is durable up to here: never from inside
// this call, so the actor is not re-entered.
void SimContext::when_durable(TimerTag tag) {
  Simulator::Node& n = sim_.nodes_[self_];
  if (n.durable == n.disk.size()) {
    sim_.push(sim_.now_, Simulator::EvKind::kTimer, self_, 0, uint64_t{tag} | uint64_t{n.incarnation} << 32);
    return;
  }
  n.waiters.push_back({n.disk.size(), tag});
  sim_.request_sync(self_);
}

void SimContext::set_timer(Duration after, TimerTag tag) {
  Simulator::Node& n = sim_.nodes_[self_];
  sim_.push(sim_.now_ + sim_.global_delay(n, after), Simulator::EvKind::kTimer, self_, 0,
            uint64_t{tag} | uint64_t{n.incarnation} << 32);
}

// Owns a feed over the explicit workload (which must outlive the simulator).
Simulator::Simulator(const SimConfig& cfg, uint64_t seed, const Workload& workload, const FaultPlan& plan)
    : Simulator(cfg, seed, std::make_unique<WorkloadFeed>(workload), nullptr, plan) {}

Simulator::Simulator(const SimConfig& cfg, uint64_t seed, RequestFeed& feed, const FaultPlan& plan)
    : Simulator(cfg, seed, nullptr, &feed, plan) {}

Simulator::Simulator(const SimConfig& cfg, uint64_t seed, std::unique_ptr<RequestFeed> owned, RequestFeed* feed,
                     const FaultPlan& plan)
    : cfg_(cfg), own_feed_(std::move(owned)), feed_(feed ? feed : own_feed_.get()), plan_(plan), net_rng_(seed, "network") {
  if (cfg_.cluster.account_partition.size() != cfg_.cluster.accounts) cfg_.cluster.finalize();
  nodes_.resize(cfg_.cluster.node_count());
  committed_.assign(cfg_.cluster.groups(), 0);
  for (NodeId n = 0; n < nodes_.size(); ++n) {
    nodes_[n].rng.reseed(seed, "node/" + std::to_string(n));
    nodes_[n].disk.reserve(4096);
    nodes_[n].ctx = std::make_unique<SimContext>(*this, n);
  }
  for (const ClockFault& c : plan_.clocks) {
    if (c.node >= nodes_.size()) continue;
    nodes_[c.node].clock_offset = c.offset;
    nodes_[c.node].drift_ppm = c.drift_ppm;
  }
  heap_.reserve(1024);
  slots_.reserve(1024);
}

Simulator::~Simulator() = default;

// Both conversions give exactly what 128-bit arithmetic gives; 64-bit
// arithmetic does whenever it cannot overflow (every run's clocks), and a
// 128-bit division is a library call.
Time Simulator::local_time(const Node& n) const {
  if (n.drift_ppm == 0) return now_ + n.clock_offset;
  int64_t scaled;
  if (!__builtin_mul_overflow(now_, static_cast<int64_t>(n.drift_ppm), &scaled))
    return now_ + n.clock_offset + scaled / 1'000'000;
  return now_ + n.clock_offset + static_cast<Time>((static_cast<__int128>(now_) * n.drift_ppm) / 1'000'000);
}

Duration Simulator::global_delay(const Node& n, Duration local) const {
  if (n.drift_ppm == 0) return std::max<Duration>(local, 1);
  const int64_t den = 1'000'000 + n.drift_ppm;
  int64_t num;
  if (!__builtin_mul_overflow(static_cast<int64_t>(local), int64_t{1'000'000}, &num) &&
      !__builtin_add_overflow(num, den - 1, &num))
    return std::max<Duration>(static_cast<Duration>(num / den), 1);
  const __int128 wide = static_cast<__int128>(local) * 1'000'000;
  return std::max<Duration>(static_cast<Duration>((wide + den - 1) / den), 1);
}

Duration Simulator::op_cost(NodeId n) const {
  const uint32_t g = cfg_.cluster.group_of(n);
  if (g == ClusterConfig::kNoGroup) return 0;
  return cfg_.cluster.is_partition(g) ? cfg_.costs.partition_op : cfg_.costs.coordinator_op;
}

void Simulator::charge(Node& n, NodeId id, uint32_t items) {
  Duration cost = op_cost(id) * items;
  if (cfg_.cluster.is_partition(cfg_.cluster.group_of(id))) cost += cfg_.costs.partition_packet;
  if (cost == 0) return;
  n.busy_until = now_ + cost;
  if (now_ >= cfg_.costs.measure_from) n.busy_total += cost;
}

Duration Simulator::busy_time(NodeId n) const { return nodes_[n].busy_total; }

// The node is free: it takes the oldest waiting message or timer.
void Simulator::wake(NodeId id) {
  Node& n = nodes_[id];
  n.wake_scheduled = false;
  if (!n.up || n.inbox.empty()) return;
  QEvent ev = n.inbox.front();
  n.inbox.pop_front();
  if (wallet_event(ev)) --wallet_pending_;
  dispatch(ev);
  if (!n.inbox.empty() && !n.wake_scheduled) {
    n.wake_scheduled = true;
    push(std::max(n.busy_until, now_ + 1), EvKind::kWake, id, n.incarnation, 0);
  }
}

TraceRecord Simulator::message_record(TraceKind kind, NodeId node, NodeId peer, const Message& m) const {
  TraceRecord r;
  r.t = now_;
  r.kind = kind;
  r.node = node;
  r.peer = peer;
  r.msg = m.kind;
  r.leg = m.leg;
  r.yes = m.yes;
  r.outcome = m.outcome;
  r.tx = m.tx;
  r.request = m.request;
  return r;
}

void Simulator::shed(const QEvent& ev) {
  for (uint32_t slot = ev.slot; slot != kNoSlot;) {
    const Slot s = slots_[slot];
    free_slots_.push_back(slot);
    slot = s.next;
    ++stats_.messages_shed;
    cover_fate(TraceKind::kShed, s.m);
    record(message_record(TraceKind::kShed, ev.node, s.from, s.m));
  }
}

void Simulator::dispatch(const QEvent& ev) {
  Node& n = nodes_[ev.node];
  if (ev.kind() == EvKind::kRaft) {
    // The message is taken out of its slot while the replica handles it
    // (what that replica sends may need new slots) and put back after, so
    // the slot keeps its buffers for the next message.
    raft::Msg m = std::move(raft_slots_[ev.slot].m);
    const NodeId from = raft_slots_[ev.slot].from;
    struct GiveBack {
      Simulator& sim;
      uint32_t slot;
      raft::Msg& m;
      ~GiveBack() {
        sim.raft_slots_[slot].m = std::move(m);
        sim.free_raft_slots_.push_back(slot);
      }
    } give_back{*this, ev.slot, m};
    TraceRecord r;
    r.t = now_;
    r.kind = n.up ? TraceKind::kRaft : TraceKind::kRaftLost;
    r.node = ev.node;
    r.peer = from;
    r.aux = static_cast<uint64_t>(m.type) | m.term << 8;
    record(r);
    if (!n.up) return;
    n.raft_heard_at = now_;
    n.actor->on_raft(*n.ctx, from, m);
    charge(n, ev.node, 1);
    return;
  }
  if (ev.kind() == EvKind::kDeliver) {
    // Every message of the packet, in the order it was sent; the node pays
    // for all of them at once.
    uint32_t items = 0;
    for (uint32_t slot = ev.slot; slot != kNoSlot;) {
      const Slot s = slots_[slot];
      free_slots_.push_back(slot);
      slot = s.next;
      if (s.meta.redirect) {
        if (n.up) redirected(ev.node, s.from, s.m, s.meta);
        continue;
      }
      record(message_record(n.up ? TraceKind::kDeliver : TraceKind::kToDown, ev.node, s.from, s.m));
      if (!n.up) cover_fate(TraceKind::kToDown, s.m);
      if (observer_ && (s.m.kind == MsgKind::kTransferReply || s.m.kind == MsgKind::kStatusReply) &&
          (s.m.outcome == Outcome::kSuccess || s.m.outcome == Outcome::kFailed))
        observer_->on_client_answer(s.m.tx, s.m.outcome, s.m.reason, now_);
      if (observer_ && s.m.kind == MsgKind::kBalanceReply && s.m.outcome == Outcome::kSuccess &&
          window_.has(s.m.request) && window_.plan(s.m.request).kind == RequestKind::kRead &&
          window_.record(s.m.request).first_sent >= 0)
        observer_->on_read_answer(s.m.request, s.m.account, s.m.currency, s.m.amount.minor,
                                  window_.record(s.m.request).first_sent, now_);
      if (n.up) {
        const ClusterConfig& c = cfg_.cluster;
        if (c.replicas() > 1) {
          heard_from(ev.node, s.from);
          if (n.host && !n.host->serving()) {
            bounce(ev.node, s.from, s.m, s.meta.hops);
            continue;
          }
        }
        // A replica's message comes from its group.
        n.actor->on_message(*n.ctx, c.is_server(s.from) ? c.group_of(s.from) : s.from, s.m);
        ++items;
      }
    }
    if (items > 0) charge(n, ev.node, items);
    return;
  }
  if (n.up && (ev.aux >> 32) == n.incarnation) {
    TraceRecord r;
    r.t = now_;
    r.kind = TraceKind::kTimer;
    r.node = ev.node;
    r.aux = ev.aux & 0xffffffff;
    record(r);
    n.actor->on_timer(*n.ctx, static_cast<TimerTag>(ev.aux & 0xffffffff));
    charge(n, ev.node, 1);
  }
}

void Simulator::push(Time t, EvKind kind, NodeId node, uint32_t slot, uint64_t aux) {
  static_assert(sizeof(QEvent) == 32);
  assert(seq_ < (uint64_t{1} << 56));
  const QEvent ev{t, seq_++ << 8 | static_cast<uint64_t>(kind), aux, node, slot};
  if (wallet_event(ev)) ++wallet_pending_;
  heap_.push(ev);
}

// Raft's own upkeep (its messages, ticks, durability timers, syncs) never
// stops while groups exist; everything else is the wallet's work, and a run
// with groups is quiescent when none of that is left (groups_settled).
// A wake is not wallet work of its own: a wallet event waiting in an inbox
// is counted while it waits (a busy replica's inbox is seldom empty of
// Raft's messages, so counting wakes kept a run with service times from
// ever ending).
bool Simulator::wallet_event(const QEvent& ev) const {
  if (ev.kind() == EvKind::kRaft || ev.kind() == EvKind::kSyncDone || ev.kind() == EvKind::kWake ||
      ev.kind() == EvKind::kQuorumCheck)
    return false;
  if (ev.kind() == EvKind::kTimer && (ev.aux & 0xffffffff) >= ReplicaHost::kHostTag) return false;
  return true;
}

std::unique_ptr<Actor> Simulator::make_actor(NodeId n) {
  const ClusterConfig& c = cfg_.cluster;
  const uint32_t g = c.group_of(n);
  if (g == ClusterConfig::kNoGroup) {
    const uint32_t k = n - c.partitions - c.coordinators;
    return std::make_unique<Client>(c, cfg_.client, k, window_);
  }
  std::unique_ptr<StateMachine> machine;
  if (c.is_partition(g)) machine = std::make_unique<PartitionNode>(c, g);
  else machine = std::make_unique<Coordinator>(c, g - c.partitions);
  if (c.replicas() == 1) return machine;
  auto host = make_replica_host(c, g, c.replica_index(n), std::move(machine));
  host->set_observer(this);
  nodes_[n].host = host.get();
  return host;
}

void Simulator::pull_request() {
  next_request_.emplace();
  if (!feed_->next(*next_request_)) next_request_.reset();
}

// Every request whose start time has come reaches its client, in workload
// order; the next one is read from the feed only now, so a run holds only
// the requests it is working on.
void Simulator::arrive() {
  while (next_request_ && next_request_->at <= now_) {
    const uint32_t r = window_.end();
    TxIdParse id = parse_txid(next_request_->txid);
    window_.ids.push_back(id.id ? *id.id : TxId{});
    window_.records.emplace_back();
    window_.plans.push_back(std::move(*next_request_));
    const PlannedRequest& p = window_.plans.back();
    if (observer_) observer_->on_request_arrived(r, p);
    const NodeId node = p.client < cfg_.cluster.clients ? cfg_.cluster.client_node(p.client) : kNoNode;
    if (node != kNoNode && nodes_[node].up) {
      static_cast<Client&>(*nodes_[node].actor).arrive(*nodes_[node].ctx, r);
    } else {
      window_.records.back().gave_up = true;  // its client is down or does not exist
      window_.records.back().done_at = now_;
    }
    pull_request();
  }
  peak_window_ = std::max(peak_window_, window_.plans.size());
  if (next_request_) push(next_request_->at, EvKind::kArrive, 0, 0, 0);
}

// Requests done for a whole retention window leave the window, oldest
// first: no reply about them can still be travelling.
void Simulator::retire() {
  const Duration keep = cfg_.cluster.protocol.retention;
  while (!window_.plans.empty()) {
    const RequestRecord& rec = window_.records.front();
    if (!rec.done() || rec.done_at < 0 || rec.done_at + keep > now_) return;
    if (observer_) observer_->on_request_retired(window_.base, window_.plans.front(), rec, now_);
    window_.plans.pop_front();
    window_.records.pop_front();
    window_.ids.pop_front();
    ++window_.base;
  }
}

void Simulator::record(const TraceRecord& r) {
  trace_hash_ = trace_fold(trace_hash_, r);
  ring_.push(r);
  if (sink_) sink_(r);
}

bool Simulator::link_cut(NodeId from, NodeId to) const {
  if (healed_) return false;
  for (const PartitionFault& p : plan_.partitions) {
    if (now_ < p.start || now_ >= p.end) continue;
    auto in = [](const std::vector<NodeId>& s, NodeId x) {
      return std::find(s.begin(), s.end(), x) != s.end();
    };
    if (in(p.side_a, from) && in(p.side_b, to)) return true;
    if (!p.one_way && in(p.side_b, from) && in(p.side_a, to)) return true;
  }
  return false;
}

// A lone message is a packet of one: the same fate and the same PRNG draws.
void Simulator::network_send(NodeId from, NodeId to, const Message& m) {
  assert(to < nodes_.size());
  network_send_packet(from, route(from, to), std::span<const Message>(&m, 1));
}

// A message to a group goes to the replica the sender believes leads: the
// last one it heard from or was pointed to. A sender that has heard nothing
// from the group for an election timeout tries the next replica (the one it
// was sending to may be down or cut off).
NodeId Simulator::route(NodeId from, NodeId to) {
  const ClusterConfig& c = cfg_.cluster;
  if (c.replicas() == 1 || to >= c.groups()) return to;
  Node& n = nodes_[from];
  n.track_groups(c.groups());
  Time& since = n.silent_since[to];
  if (since < 0) {
    since = now_;
  } else if (now_ - since >= c.replication.election_timeout_max) {
    n.guess[to] = static_cast<uint8_t>((n.guess[to] + 1) % c.replicas());
    since = now_;
  }
  return c.replica_node(to, n.guess[to]);
}

void Simulator::heard_from(NodeId at, NodeId from) {
  const ClusterConfig& c = cfg_.cluster;
  Node& n = nodes_[at];
  const uint32_t g = c.group_of(from);
  if (g == ClusterConfig::kNoGroup || n.guess.empty()) return;
  n.believe(g, c.replica_index(from));
}

// A replica that is not serving as its group's leader does not run the
// message: it sends it back with the leader it knows, if any (its runtime
// does this, as walletd's transport does).
void Simulator::bounce(NodeId at, NodeId to, const Message& m, uint8_t hops) {
  const ClusterConfig& c = cfg_.cluster;
  ++stats_.redirects;
  const raft::ReplicaId leader = nodes_[at].host->raft().leader();
  const NodeId hint = leader == raft::kNone ? kNoNode : c.replica_node(c.group_of(at), leader);
  TraceRecord r = message_record(TraceKind::kRedirect, at, to, m);
  r.aux = hint;
  record(r);
  network_send_packet(at, to, std::span<const Message>(&m, 1), SlotMeta{hint, hops, true});
}

// A message came back from a replica not serving: the sender's runtime
// believes the hint and sends it there (at most twice), or, with no hint,
// tries the next replica next time. A leader not serving yet (its term's
// first entry not applied) names itself: the sender's own retry comes back.
void Simulator::redirected(NodeId at, NodeId from, const Message& m, SlotMeta meta) {
  const ClusterConfig& c = cfg_.cluster;
  Node& n = nodes_[at];
  const uint32_t g = c.group_of(from);
  n.track_groups(c.groups());
  if (meta.hint == kNoNode) return n.believe(g, (c.replica_index(from) + 1) % c.replicas());
  n.believe(g, c.replica_index(meta.hint));
  if (meta.hint != from && meta.hops < 2)
    network_send_packet(at, meta.hint, std::span<const Message>(&m, 1),
                        SlotMeta{kNoNode, static_cast<uint8_t>(meta.hops + 1), false});
}

// Raft messages between replicas meet the same network as the wallet's:
// partitions, loss, duplication and delay, drawn from the same stream.
void Simulator::raft_send(NodeId from, NodeId to, const raft::Msg& m) {
  ++stats_.raft_messages;
  auto lost = [&] {
    TraceRecord r;
    r.t = now_;
    r.kind = TraceKind::kRaftLost;
    r.node = to;
    r.peer = from;
    r.aux = static_cast<uint64_t>(m.type) | m.term << 8;
    record(r);
  };
  if (link_cut(from, to)) return lost();
  const NetworkParams& net = cfg_.network;
  const NetworkParams& bad = plan_.faulty;
  const bool faulty = !healed_;
  if (faulty && net_rng_.chance_ppm(bad.drop_ppm)) return lost();
  const int copies = faulty && net_rng_.chance_ppm(bad.duplicate_ppm) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    Duration delay = net.latency + static_cast<Duration>(net_rng_.below(uint64_t(net.jitter) + 1));
    if (faulty && net_rng_.chance_ppm(bad.tail_ppm))
      delay += static_cast<Duration>(net_rng_.below(uint64_t(bad.tail) + 1));
    uint32_t slot;
    if (!free_raft_slots_.empty()) {
      slot = free_raft_slots_.back();
      free_raft_slots_.pop_back();
      raft_slots_[slot].m = m;
      raft_slots_[slot].from = from;
    } else {
      slot = static_cast<uint32_t>(raft_slots_.size());
      raft_slots_.push_back(RaftSlot{m, from});
    }
    push(now_ + std::max<Duration>(delay, 1), EvKind::kRaft, to, slot, 0);
  }
}

// Coordinator -> partition traffic is batched when protocol.batch_max > 1:
// the message waits in a per-partition outbox until the batch is full or
// batch_delay has passed since its first message, then leaves as one packet.
void Simulator::transmit(NodeId from, NodeId to, const Message& m) {
  const ClusterConfig& c = cfg_.cluster;
  if (c.protocol.batch_max <= 1 || !c.is_coordinator(from) || !c.is_partition(to)) return network_send(from, to, m);
  Node& n = nodes_[from];
  if (n.outbox.empty()) {
    n.outbox.resize(c.partitions);
    n.flush_armed.assign(c.partitions, 0);
  }
  std::vector<Message>& box = n.outbox[to];
  box.push_back(m);
  if (box.size() >= c.protocol.batch_max) return flush(from, to);
  if (!n.flush_armed[to]) {
    n.flush_armed[to] = 1;
    push(now_ + c.protocol.batch_delay, EvKind::kFlush, from, n.incarnation, to);
  }
}

void Simulator::flush(NodeId from, NodeId to) {
  Node& n = nodes_[from];
  if (n.outbox.empty() || n.outbox[to].empty()) return;
  packet_.swap(n.outbox[to]);
  n.outbox[to].clear();
  ++stats_.packets;
  network_send_packet(from, route(from, to), packet_);
  packet_.clear();
}

// Coverage of what the network and crashes did to a message.
void Simulator::cover_fate(TraceKind kind, const Message& m) {
  if (kind == TraceKind::kCut) cover(Cover::kCutByPartition);
  if (kind == TraceKind::kDuplicated) cover(Cover::kMessageDuplicated);
  if (m.kind == MsgKind::kPhase2Ack && kind != TraceKind::kDuplicated) cover(Cover::kDecisionAckLost);
}

// One network fate for the whole packet: cut, lost, delayed and duplicated
// together, as one frame on the wire would be.
void Simulator::network_send_packet(NodeId from, NodeId to, std::span<const Message> ms) {
  network_send_packet(from, to, ms, SlotMeta{});
}

void Simulator::network_send_packet(NodeId from, NodeId to, std::span<const Message> ms, SlotMeta meta) {
  stats_.messages_sent += ms.size();
  auto trace_each = [&](TraceKind kind) {
    for (const Message& m : ms) {
      cover_fate(kind, m);
      record(message_record(kind, to, from, m));
    }
  };
  if (link_cut(from, to)) {
    stats_.messages_dropped += ms.size();
    return trace_each(TraceKind::kCut);
  }
  const NetworkParams& net = cfg_.network;
  const NetworkParams& bad = plan_.faulty;
  bool faulty = !healed_;
  if (faulty && net_rng_.chance_ppm(bad.drop_ppm)) {
    stats_.messages_dropped += ms.size();
    return trace_each(TraceKind::kDropped);
  }
  int copies = faulty && net_rng_.chance_ppm(bad.duplicate_ppm) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    Duration delay = net.latency + static_cast<Duration>(net_rng_.below(uint64_t(net.jitter) + 1));
    if (faulty && net_rng_.chance_ppm(bad.tail_ppm))
      delay += static_cast<Duration>(net_rng_.below(uint64_t(bad.tail) + 1));
    if (i == 1) {
      stats_.messages_duplicated += ms.size();
      trace_each(TraceKind::kDuplicated);
    }
    // Chained back to front, so the chain reads in the order sent.
    uint32_t next = kNoSlot;
    for (size_t k = ms.size(); k-- > 0;) next = alloc_slot(ms[k], from, next, meta);
    push(now_ + std::max<Duration>(delay, 1), EvKind::kDeliver, to, next, 0);
  }
}

uint32_t Simulator::alloc_slot(const Message& m, NodeId from, uint32_t next, SlotMeta meta) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = Slot{m, from, next, meta};
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back(Slot{m, from, next, meta});
  }
  return slot;
}

void Simulator::request_sync(NodeId id) {
  Node& n = nodes_[id];
  if (n.sync_in_flight || n.durable == n.disk.size()) return;
  n.sync_in_flight = true;
  n.sync_target = n.disk.size();
  push(now_ + cfg_.disk.sync_latency, EvKind::kSyncDone, id, n.incarnation, n.disk.size());
}

void Simulator::complete_sync(NodeId id, uint64_t target, bool flushing) {
  Node& n = nodes_[id];
  // A sync still in flight when flush_all forces one holds an offset into
  // the log: the log is not cut under it.
  const bool may_truncate = !(flushing && n.sync_in_flight);
  n.sync_in_flight = false;
  ++stats_.syncs;
  size_t from = n.durable;
  if (n.lost_fsync >= 0 && !flushing && !healed_ && target > from) {
    const CrashFault& c = plan_.crashes[static_cast<size_t>(n.lost_fsync)];
    n.lost_fsync = -1;
    n.faulted = true;
    cover(Cover::kLostFsync);
    TraceRecord t;
    t.t = now_;
    t.kind = TraceKind::kDiskFault;
    t.node = id;
    t.aux = static_cast<uint64_t>(DiskFault::kLostFsync);
    record(t);
    if (!cfg_.cluster.bugs.ignore_lost_fsync) {
      // The fsync failed: the writer stops there (as PostgreSQL has since
      // 2018) and recovers from what the disk holds. Nothing that waited
      // for this sync was acknowledged.
      crash(id, false);
      push(now_ + c.down_for, EvKind::kRestart, id, 0, 0);
      return;
    }
    // Planted bug: the writer carries on as if the sync had succeeded; the
    // data is gone at the next crash, which soon comes.
    n.lost_from = std::min(n.lost_from, from);
    push(now_ + kMillisecond, EvKind::kCrash, id, 0, 0);
    push(now_ + kMillisecond + c.down_for, EvKind::kRestart, id, 0, 0);
  }
  if (target > from) n.last_sync_from = from;
  // A completion older than a sync flush_all forced is stale: never backwards.
  n.durable = std::max(n.durable, static_cast<size_t>(target));
  peak_log_bytes_ = std::max(peak_log_bytes_, n.disk.size());
  size_t snapshot_at = 0;  // where the newest durable snapshot record starts, 0 if none new
  // A replica's log holds Raft's records: its group's events reach the
  // observer as they commit (on_replica_apply), not as they are synced, and
  // its checkpoints (core/replica.cc) start with a Raft snapshot record.
  if (target > from && (!n.host || cfg_.truncate_logs)) {
    std::span<const uint8_t> fresh(n.disk.data() + from, target - from);
    auto on_record = [&](size_t start, std::span<const uint8_t> rec) {
      const uint8_t type = rec.empty() ? 0 : rec[0];
      const bool snapshot = n.host ? type == static_cast<uint8_t>(raft::RecordType::kSnapshot)
                                   : type == static_cast<uint8_t>(EventType::kSnapshot) ||
                                         type == static_cast<uint8_t>(EventType::kCoordSnapshot);
      if (snapshot) snapshot_at = from + start;
      if (n.host || !observer_) return;
      if (auto e = decode_event(rec)) observer_->on_durable_event(id, *e, now_);
    };
    // By reference: a std::function holding the lambda itself would
    // allocate on every sync.
    scan_records_at(fresh, std::ref(on_record), /*verify_checksums=*/false);
  }
  // Messages waiting for this sync leave in the order they were sent.
  size_t keep = 0;
  for (size_t i = 0; i < n.pending.size(); ++i) {
    if (n.pending[i].need <= n.durable) {
      transmit(id, n.pending[i].to, n.pending[i].m);
    } else {
      n.pending[keep++] = n.pending[i];
    }
  }
  n.pending.resize(keep);
  keep = 0;
  for (size_t i = 0; i < n.raft_pending.size(); ++i) {
    if (n.raft_pending[i].need <= n.durable) {
      raft_send(id, n.raft_pending[i].to, n.raft_pending[i].m);
    } else {
      n.raft_pending[keep++] = std::move(n.raft_pending[i]);
    }
  }
  n.raft_pending.resize(keep);
  // The actor hears that its log is durable as part of this sync's
  // completion (not from inside its own call, and without an event of its
  // own: a replica waits on every sync). Not at the end of a run.
  keep = 0;
  durable_now_.clear();
  for (size_t i = 0; i < n.waiters.size(); ++i) {
    if (n.waiters[i].need <= n.durable) {
      durable_now_.push_back(n.waiters[i].tag);
    } else {
      n.waiters[keep++] = n.waiters[i];
    }
  }
  n.waiters.resize(keep);
  if (!flushing) {
    for (size_t i = 0; i < durable_now_.size() && n.up; ++i) {
      TraceRecord r;
      r.t = now_;
      r.kind = TraceKind::kTimer;
      r.node = id;
      r.aux = durable_now_[i];
      record(r);
      n.actor->on_timer(*n.ctx, durable_now_[i]);
    }
  }
  // Compaction: the log behind a durable snapshot is no longer needed for
  // recovery. It is cut once it is at least half the file, so each byte is
  // moved O(1) times. Messages still waiting need bytes past it.
  if (snapshot_at > 0 && may_truncate && cfg_.truncate_logs && 2 * snapshot_at >= n.disk.size()) {
    // A replica's records are Raft's, not events: no archive check for them.
    if (observer_ && !n.host) observer_->on_log_cut(id, std::span<const uint8_t>(n.disk.data(), snapshot_at));
    n.disk.erase(n.disk.begin(), n.disk.begin() + static_cast<ptrdiff_t>(snapshot_at));
    n.durable -= snapshot_at;
    // A sync requested since (by the actor, as it heard of this one) covers
    // bytes that have just moved.
    if (n.sync_in_flight) n.sync_target -= snapshot_at;
    n.last_sync_from = n.last_sync_from > snapshot_at ? n.last_sync_from - snapshot_at : 0;
    if (n.lost_from != SIZE_MAX) n.lost_from = n.lost_from > snapshot_at ? n.lost_from - snapshot_at : 0;
    for (auto& p : n.pending) p.need -= snapshot_at;
    for (auto& p : n.raft_pending) p.need -= snapshot_at;
    for (auto& w : n.waiters) w.need -= snapshot_at;
    n.truncated += snapshot_at;
    cover(Cover::kLogTruncated);
  }
  if (!n.pending.empty() || !n.raft_pending.empty() || !n.waiters.empty()) request_sync(id);
}

void Simulator::flush_all() {
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    Node& n = nodes_[id];
    if (n.up && n.durable < n.disk.size()) complete_sync(id, n.disk.size(), /*flushing=*/true);
  }
}

void Simulator::crash(NodeId id, bool torn, size_t fault) {
  Node& n = nodes_[id];
  if (!n.up || healed_) return;
  ++stats_.crashes;
  n.up = false;
  ++n.incarnation;
  n.busy_until = 0;
  n.actor.reset();
  n.host = nullptr;
  n.raft_pending.clear();
  n.waiters.clear();
  // Its inbox dies with it: waiting messages are lost like any sent to a down node.
  std::deque<QEvent> lost;
  lost.swap(n.inbox);
  n.wake_scheduled = false;
  n.pending.clear();
  for (auto& box : n.outbox) box.clear();  // volatile, like the pending sends
  std::fill(n.flush_armed.begin(), n.flush_armed.end(), 0);
  n.sync_in_flight = false;
  size_t keep = n.durable;
  if (n.disk.size() > n.durable) cover(Cover::kUnsyncedLost);
  if (torn && n.disk.size() > n.durable + kRecordHeader) {
    // Part of the first unsynced record reached the platter: a torn tail.
    size_t first_len = 0;
    for (int i = 0; i < 4; ++i) first_len |= size_t{n.disk[n.durable + 4 + i]} << (8 * i);
    size_t whole = kRecordHeader + first_len;
    keep += 1 + static_cast<size_t>(n.rng.below(whole - 1));
    n.faulted = true;
  }
  n.disk.resize(keep);
  if (n.lost_from != SIZE_MAX) {
    // ignore_lost_fsync: what the failed fsync and every later one covered
    // never reached the disk.
    n.disk.resize(std::min(n.disk.size(), n.lost_from));
    n.durable = std::min(n.durable, n.lost_from);
    n.lost_from = SIZE_MAX;
  }
  if (fault < plan_.crashes.size() && cfg_.cluster.replicas() > 1) damage_disk(id, plan_.crashes[fault].disk);
  TraceRecord r;
  r.t = now_;
  r.kind = TraceKind::kCrash;
  r.node = id;
  r.aux = keep > n.durable ? keep - n.durable : 0;
  record(r);
  for (const QEvent& q : lost) {
    if (wallet_event(q)) --wallet_pending_;
    if (q.kind() == EvKind::kDeliver || q.kind() == EvKind::kRaft) dispatch(q);  // traced as lost at a down node
  }
  if (observer_) observer_->on_node_state(id, false, now_);
}

// A storage fault at a crash (docs/storage-faults.md). Positions are drawn
// from the node's own stream, so a replay damages the same bytes.
void Simulator::damage_disk(NodeId id, DiskFault f) {
  Node& n = nodes_[id];
  switch (f) {
    case DiskFault::kNone:
    case DiskFault::kLostFsync:  // armed, strikes at a sync
      return;
    case DiskFault::kCorrupt: {
      if (n.durable == 0) return;
      const size_t at = static_cast<size_t>(n.rng.below(n.durable));
      const size_t span = std::min<size_t>(8, n.durable - at);
      const uint64_t bits = 1 + n.rng.below(3);
      for (uint64_t b = 0; b < bits; ++b)
        n.disk[at + static_cast<size_t>(n.rng.below(span))] ^= static_cast<uint8_t>(1u << n.rng.below(8));
      cover(Cover::kDiskCorrupted);
      break;
    }
    case DiskFault::kMisdirectedWrite: {
      const size_t from = std::min(n.last_sync_from, n.durable), to = n.durable;
      if (to <= from || from < to - from) return;
      // The last sync's bytes landed at an earlier offset, clear of their
      // own place; where they belong, the disk still holds what was there:
      // nothing. (A write landing partly over its own place can leave a
      // tail that reads exactly like a torn one: a local reader cannot see
      // that, see docs/storage-faults.md.)
      std::vector<uint8_t> chunk(n.disk.begin() + static_cast<ptrdiff_t>(from), n.disk.begin() + static_cast<ptrdiff_t>(to));
      std::fill(n.disk.begin() + static_cast<ptrdiff_t>(from), n.disk.begin() + static_cast<ptrdiff_t>(to), uint8_t{0});
      const size_t q = static_cast<size_t>(n.rng.below(from - chunk.size() + 1));
      std::copy(chunk.begin(), chunk.end(), n.disk.begin() + static_cast<ptrdiff_t>(q));
      cover(Cover::kMisdirectedWrite);
      break;
    }
    case DiskFault::kMisdirectedRead:
    case DiskFault::kReadError:
      n.read_fault = f;  // the next restart's reads
      break;
    case DiskFault::kDiskLost:
      n.disk.clear();
      n.durable = 0;
      n.last_sync_from = 0;
      cover(Cover::kDiskLost);
      break;
  }
  n.faulted = true;
  TraceRecord t;
  t.t = now_;
  t.kind = TraceKind::kDiskFault;
  t.node = id;
  t.aux = static_cast<uint64_t>(f);
  record(t);
}

// Where reading the log back at restart first goes wrong under a read
// fault, or SIZE_MAX. The disk itself is not changed by a read.
size_t Simulator::read_fault_at(NodeId id, bool verify) {
  Node& n = nodes_[id];
  const DiskFault f = n.read_fault;
  n.read_fault = DiskFault::kNone;
  if (f == DiskFault::kNone || n.disk.empty()) return SIZE_MAX;
  const size_t p = static_cast<size_t>(n.rng.below(n.disk.size()));
  // The record holding byte p reads back wrong: unreadable (a latent
  // sector error), or with another offset's bytes, which its header check
  // or checksum refuses. (Another whole record read from a record
  // boundary would pass them: the checksum does not cover a record's
  // position, see docs/storage-faults.md.)
  cover(f == DiskFault::kReadError ? Cover::kReadError : Cover::kMisdirectedRead);
  size_t start = SIZE_MAX;
  scan_records_at(
      n.disk,
      [&](size_t s, std::span<const uint8_t> rec) {
        if (s <= p && p < static_cast<size_t>(rec.data() - n.disk.data()) + rec.size()) start = s;
      },
      verify);
  return start;
}

void Simulator::restart(NodeId id) {
  Node& n = nodes_[id];
  if (n.up) return;
  n.up = true;
  const ClusterConfig& c = cfg_.cluster;
  const bool replica = c.replicas() > 1 && c.is_server(id);
  const bool verify = !(replica && c.bugs.skip_read_checksum);
  const size_t read_bad = read_fault_at(id, verify);
  LogScan scan = scan_records(n.disk, [](std::span<const uint8_t>) {}, verify);
  const size_t intact = std::min(scan.intact_end, read_bad);
  // A read that failed, or a record whose header or checksum fails: damage.
  // A record cut short by the end of the file: a torn tail, never synced.
  const bool damaged = read_bad <= scan.intact_end || scan.damaged;
  if (intact < n.disk.size()) {
    cover(damaged && replica ? Cover::kDamageFound : Cover::kTornTailRecovered);
    TraceRecord t;
    t.t = now_;
    t.kind = TraceKind::kTornTail;
    t.node = id;
    t.aux = n.disk.size() - intact;
    record(t);
    n.disk.resize(intact);
    if (replica && damaged) {
      // Protocol-aware recovery: a damaged record may have held what this
      // replica acknowledged (an entry, a vote). It cuts the log there and,
      // in the same step, says durably that it is repairing from its peers
      // (docs/storage-faults.md). A torn tail was never synced, so never
      // acknowledged: cutting it is all there is to do.
      if (!n.faulted && observer_)
        observer_->on_replica_stopped(c.group_of(id), c.replica_index(id),
                                      "found its own log damaged at byte " + std::to_string(intact) +
                                          " though no fault hit its disk",
                                      now_);
      if (!c.bugs.corrupt_as_torn) {
        std::vector<uint8_t> mark;
        raft::encode_repair(true, mark);
        append_record(n.disk, mark);
      }
    }
    n.durable = n.disk.size();
    n.last_sync_from = std::min(n.last_sync_from, n.durable);
  }
  assert(n.durable == n.disk.size());
  TraceRecord r;
  r.t = now_;
  r.kind = TraceKind::kRestart;
  r.node = id;
  record(r);
  n.actor = make_actor(id);
  n.actor->on_start(*n.ctx);
  n.faulted = false;
  if (observer_) observer_->on_node_state(id, true, now_);  // after recovery: checkers may look at it
}

void Simulator::heal() {
  healed_ = true;
  TraceRecord r;
  r.t = now_;
  r.kind = TraceKind::kHeal;
  record(r);
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    restart(id);
    note_avail(id);
  }
}

void Simulator::note_avail(NodeId id) {
  const ClusterConfig& c = cfg_.cluster;
  if (avail_.empty() || !c.is_server(id)) return;
  const Node& n = nodes_[id];
  uint8_t flags = 0;
  if (n.up && n.host && n.host->has_raft()) {
    if (n.host->raft().repair() != raft::Raft::Repair::kProbing) flags |= 1;
    if (n.host->raft().role() == raft::Role::kLeader) flags |= 2;
  }
  if (flags == avail_flags_[id]) return;
  GroupAvail& g = avail_[c.group_of(id)];
  g.healthy += (flags & 1) - (avail_flags_[id] & 1);
  g.leaders += ((flags >> 1) & 1) - ((avail_flags_[id] >> 1) & 1);
  avail_flags_[id] = flags;
  const bool up = g.leaders > 0 && g.healthy >= c.replicas() / 2 + 1;
  if (!up && !g.down) {
    g.down = true;
    g.down_since = now_;
  } else if (up && g.down) {
    g.down = false;
    g.total += now_ - g.down_since;
    g.longest = std::max(g.longest, now_ - g.down_since);
  }
}

SimStats& Simulator::finish_run() {
  stats_.end_time = now_;
  for (const GroupAvail& g : avail_) {
    const Duration open = g.down ? now_ - g.down_since : 0;
    stats_.group_unavailable.push_back(g.total + open);
    stats_.group_longest_outage.push_back(std::max(g.longest, open));
    stats_.group_down_at_end.push_back(g.down ? 1 : 0);
  }
  avail_.clear();
  return stats_;
}

SimStats Simulator::run() {
  for (const CrashFault& c : plan_.crashes) {
    if (c.node >= nodes_.size() || !cfg_.cluster.is_server(c.node)) continue;
    const uint64_t index = static_cast<uint64_t>(&c - plan_.crashes.data());
    if ((c.at_vote || c.at_old_commit || c.disk == DiskFault::kLostFsync) && cfg_.cluster.replicas() > 1) {
      push(c.at, EvKind::kArmCrash, c.node, 0, index);
      continue;
    }
    push(c.at, EvKind::kCrash, c.node, c.torn_write ? 1 : 0, index + 1);
    push(c.at + c.down_for, EvKind::kRestart, c.node, 0, 0);
  }
  for (size_t i = 0; i < plan_.partitions.size(); ++i)
    if (plan_.partitions[i].isolate_leader_of < cfg_.cluster.groups() && cfg_.cluster.replicas() > 1)
      push(plan_.partitions[i].start, EvKind::kIsolate, 0, 0, i);
  push(cfg_.fault_phase, EvKind::kHeal, 0, 0, 0);
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    if (cfg_.cluster.replicas() > 1 && cfg_.cluster.is_server(id)) {
      // A new replica: its log starts formatted (an empty one is a lost disk).
      append_record(nodes_[id].disk, replica_format_record());
      nodes_[id].durable = nodes_[id].disk.size();
    }
    nodes_[id].actor = make_actor(id);
    nodes_[id].actor->on_start(*nodes_[id].ctx);
  }
  pull_request();
  if (next_request_) push(next_request_->at, EvKind::kArrive, 0, 0, 0);
  const Time limit = cfg_.fault_phase + cfg_.heal_limit;
  const bool groups = cfg_.cluster.replicas() > 1;
  if (groups) {
    avail_.assign(cfg_.cluster.groups(), GroupAvail{});
    avail_flags_.assign(nodes_.size(), 0);
  }
  NodeId handled = kNoNode;  // the node of the last event, looked at before the clock moves
  while (!heap_.empty()) {
    if (handled != kNoNode) {
      note_avail(handled);
      handled = kNoNode;
    }
    QEvent ev = heap_.pop();
    if (wallet_event(ev)) --wallet_pending_;
    if (ev.t > limit) {
      now_ = limit;
      return finish_run();
    }
    if (stats_.events >= cfg_.max_events) {
      stats_.event_budget_spent = true;
      break;
    }
    now_ = ev.t;
    if (groups) handled = ev.node;
    Node& n = nodes_[ev.node];
    // A busy node handles one thing at a time: messages and timers that come
    // while it works wait in its inbox, first come first served.
    if ((ev.kind() == EvKind::kDeliver || ev.kind() == EvKind::kTimer || ev.kind() == EvKind::kRaft) && n.up &&
        (n.busy_until > now_ || !n.inbox.empty())) {
      if (ev.kind() == EvKind::kDeliver && cfg_.costs.max_queue > 0 && n.inbox.size() >= cfg_.costs.max_queue) {
        shed(ev);
        continue;
      }
      n.inbox.push_back(ev);
      if (wallet_event(ev)) ++wallet_pending_;
      ++stats_.queued;
      if (!n.wake_scheduled) {
        n.wake_scheduled = true;
        push(n.busy_until, EvKind::kWake, ev.node, n.incarnation, 0);
      }
      continue;
    }
    if (ev.kind() == EvKind::kArrive) {  // requests reaching their clients: not an event of the system
      arrive();
      retire();
      continue;
    }
    ++stats_.events;
    switch (ev.kind()) {
      case EvKind::kDeliver:
      case EvKind::kTimer:
      case EvKind::kRaft:
        dispatch(ev);
        break;
      case EvKind::kWake:
        if (ev.slot == n.incarnation) wake(ev.node);
        break;
      case EvKind::kFlush:
        if (n.up && ev.slot == n.incarnation && ev.aux < n.flush_armed.size()) {
          n.flush_armed[ev.aux] = 0;
          flush(ev.node, static_cast<NodeId>(ev.aux));
        }
        break;
      case EvKind::kSyncDone:
        if (n.up && ev.slot == n.incarnation) {
          TraceRecord r;
          r.t = now_;
          r.kind = TraceKind::kSync;
          r.node = ev.node;
          r.aux = ev.aux;
          record(r);
          complete_sync(ev.node, n.sync_target);  // ev.aux, less what was cut since
        }
        break;
      case EvKind::kCrash:
        crash(ev.node, ev.slot != 0, ev.aux > 0 ? static_cast<size_t>(ev.aux - 1) : SIZE_MAX);
        break;
      case EvKind::kRestart:
        if (!healed_) restart(ev.node);
        break;
      case EvKind::kHeal:
        heal();
        break;
      case EvKind::kQuorumCheck: {
        const PartitionFault& p = plan_.partitions[ev.aux & 0xFFFFF];
        const uint64_t term = ev.aux >> 20;
        if (healed_ || !n.up || ev.slot != n.incarnation || now_ >= p.end || !n.host || !observer_) break;
        const raft::Raft& r = n.host->raft();
        if (r.role() != raft::Role::kLeader || r.term() != term) break;
        if (now_ - n.raft_heard_at < quorum_bound()) {  // a late message: look again
          if (n.raft_heard_at + quorum_bound() < p.end)
            push(n.raft_heard_at + quorum_bound(), EvKind::kQuorumCheck, ev.node, ev.slot, ev.aux);
          break;
        }
        observer_->on_stale_leader(cfg_.cluster.group_of(ev.node), cfg_.cluster.replica_index(ev.node), term,
                                   now_ - p.start, now_ - n.raft_heard_at, now_);
        break;
      }
      case EvKind::kIsolate:
        if (plan_.partitions[ev.aux].at_election) {
          armed_isolations_.push_back(static_cast<size_t>(ev.aux));  // strikes at the group's next election
        } else {
          isolate_leader(static_cast<size_t>(ev.aux));
        }
        break;
      case EvKind::kArmCrash:
        if (healed_) break;
        if (plan_.crashes[ev.aux].disk == DiskFault::kLostFsync) {
          n.lost_fsync = static_cast<int64_t>(ev.aux);  // strikes at the node's next sync
          break;
        }
        (plan_.crashes[ev.aux].at_vote ? n.crash_at_vote : n.crash_at_old_commit) = static_cast<int64_t>(ev.aux);
        break;
      case EvKind::kArrive:
        break;
    }
    retire();
    if (observer_ && observer_->should_stop()) break;
    // With groups Raft's heartbeats never stop: the run is over once healed,
    // with no wallet work left and every group settled.
    if (groups && healed_ && wallet_pending_ == 0 && groups_settled()) {
      stats_.quiescent = true;
      note_avail(handled);
      return finish_run();
    }
  }
  stats_.quiescent = heap_.empty();
  if (handled != kNoNode) note_avail(handled);
  return finish_run();
}

// Every replica of every group is up, a leader serves each group, and
// every replica has applied its whole log, the same length everywhere:
// nothing is waiting to commit, so nothing held can still be sent.
bool Simulator::groups_settled() const {
  const ClusterConfig& c = cfg_.cluster;
  for (uint32_t g = 0; g < c.groups(); ++g) {
    bool serving = false;
    raft::Index last = 0;
    for (uint32_t r = 0; r < c.replicas(); ++r) {
      const ReplicaHost* h = nodes_[c.replica_node(g, r)].host;
      if (!h) return false;
      const raft::Raft& rf = h->raft();
      if (h->applied() != rf.last_index() || rf.commit_index() != rf.last_index()) return false;
      if (r > 0 && rf.last_index() != last) return false;
      last = rf.last_index();
      serving = serving || h->serving();
    }
    if (!serving) return false;
  }
  return true;
}

// A crash armed for a moment (a vote granted, an old-term commit) strikes
// now, once the handler that reached that moment returns.
void Simulator::strike(NodeId id, size_t crash) {
  const CrashFault& c = plan_.crashes[crash];
  push(now_, EvKind::kCrash, id, c.torn_write ? 1 : 0, crash + 1);
  push(now_ + c.down_for, EvKind::kRestart, id, 0, 0);
}

// A leader-isolation fault starts: its sides are drawn around the replica
// that leads the group now (the newest term's leader; replica 0 if none),
// or, for one armed for an election, around the replica just elected.
void Simulator::isolate_leader(size_t fault, NodeId elected) {
  const ClusterConfig& c = cfg_.cluster;
  PartitionFault& p = plan_.partitions[fault];
  const uint32_t g = p.isolate_leader_of;
  NodeId leader = c.replica_node(g, 0);
  raft::Term best = 0;
  for (uint32_t r = 0; r < c.replicas(); ++r) {
    const ReplicaHost* h = nodes_[c.replica_node(g, r)].host;
    if (h && h->raft().role() == raft::Role::kLeader && h->raft().term() > best) {
      best = h->raft().term();
      leader = c.replica_node(g, r);
    }
  }
  if (elected != kNoNode) {
    leader = elected;
    const Duration lasts = p.end - p.start;
    p.start = now_;
    p.end = std::min<Time>(cfg_.fault_phase, now_ + lasts);
  }
  p.side_a = {leader};
  p.side_b.clear();
  for (NodeId n = 0; n < nodes_.size(); ++n) {
    const bool same_group = c.group_of(n) == g;
    if (n != leader && same_group != p.from_clients) p.side_b.push_back(n);
  }
  p.one_way = false;
  // Cut off from its group (not from its clients), a leader with
  // check-quorum steps down within two election timeouts of the last Raft
  // message it gets (one sent before the cut may arrive late; a window that
  // began before it still counts it). Checked after three, which leaves
  // room for clock drift and a busy replica.
  const Node& isolated = nodes_[leader];
  if (!p.from_clients && c.replication.check_quorum && isolated.host && p.end - now_ > quorum_bound() &&
      isolated.host->raft().role() == raft::Role::kLeader)
    push(now_ + quorum_bound(), EvKind::kQuorumCheck, leader, isolated.incarnation,
         isolated.host->raft().term() << 20 | static_cast<uint64_t>(fault));
  TraceRecord r;
  r.t = now_;
  r.kind = TraceKind::kIsolated;
  r.node = leader;
  r.aux = p.from_clients ? 1 : 0;
  record(r);
}

const StateMachine& Simulator::group_machine(uint32_t g) const {
  const ClusterConfig& c = cfg_.cluster;
  if (c.replicas() == 1) return static_cast<const StateMachine&>(*nodes_[g].actor);
  const ReplicaHost* best = nullptr;
  for (uint32_t r = 0; r < c.replicas(); ++r) {
    const ReplicaHost* h = nodes_[c.replica_node(g, r)].host;
    if (!h) continue;
    if (h->serving()) return h->machine();
    if (!best || h->applied() > best->applied()) best = h;
  }
  assert(best && "a group with every replica down has no state to show");
  return best->machine();
}

const PartitionNode& Simulator::partition(uint32_t p) const {
  return static_cast<const PartitionNode&>(group_machine(cfg_.cluster.partition_node(p)));
}

const Coordinator& Simulator::coordinator(uint32_t c) const {
  return static_cast<const Coordinator&>(group_machine(cfg_.cluster.coordinator_node(c)));
}

const ReplicaHost* Simulator::replica(uint32_t group, uint32_t r) const {
  const ClusterConfig& c = cfg_.cluster;
  if (c.replicas() == 1 || group >= c.groups() || r >= c.replicas()) return nullptr;
  return nodes_[c.replica_node(group, r)].host;
}

// A group's committed records reach the observer once, when the first of
// its replicas applies them, under the group's id.
void Simulator::on_replica_apply(NodeId self, const raft::Entry& e) {
  const ClusterConfig& c = cfg_.cluster;
  const uint32_t g = c.group_of(self);
  if (observer_) observer_->on_replica_apply(g, c.replica_index(self), e, now_);
  Node& n = nodes_[self];
  if (n.crash_at_old_commit >= 0 && !healed_ && n.host && n.host->raft().role() == raft::Role::kLeader &&
      e.term < n.host->raft().term()) {
    const size_t c = static_cast<size_t>(n.crash_at_old_commit);
    n.crash_at_old_commit = -1;
    strike(self, c);
  }
  if (e.index <= committed_[g]) return;
  committed_[g] = e.index;
  if (!observer_ || e.kind != raft::EntryKind::kCommand) return;
  for_each_entry_record(e.data, [&](std::span<const uint8_t> r) {
    if (auto ev = decode_event(r)) observer_->on_durable_event(g, *ev, now_);
    return true;
  });
}

void Simulator::on_replica_install(NodeId self, const raft::SnapshotMeta& meta) {
  const ClusterConfig& c = cfg_.cluster;
  if (observer_) observer_->on_replica_install(c.group_of(self), c.replica_index(self), meta, now_);
}

// Records that pass their checksums but do not fit the log: only a fault
// that hit this replica's disk may cause that.
void Simulator::on_replica_damaged(NodeId self, const std::string& why) {
  const ClusterConfig& c = cfg_.cluster;
  if (!nodes_[self].faulted && observer_)
    observer_->on_replica_stopped(c.group_of(self), c.replica_index(self),
                                  why + ", though no fault hit its disk", now_);
}

void Simulator::on_replica_stopped(NodeId self, const std::string& why) {
  const ClusterConfig& c = cfg_.cluster;
  if (observer_) observer_->on_replica_stopped(c.group_of(self), c.replica_index(self), why, now_);
}

void Simulator::on_replica_role(NodeId self, const raft::RoleChange& rc) {
  const ClusterConfig& c = cfg_.cluster;
  if (rc.role == raft::Role::kLeader) {
    TraceRecord r;
    r.t = now_;
    r.kind = TraceKind::kLeader;
    r.node = self;
    r.aux = rc.term;
    record(r);
    const uint32_t g = c.group_of(self);
    for (size_t i = 0; i < armed_isolations_.size(); ++i) {
      if (plan_.partitions[armed_isolations_[i]].isolate_leader_of != g || healed_) continue;
      isolate_leader(armed_isolations_[i], self);
      armed_isolations_.erase(armed_isolations_.begin() + static_cast<ptrdiff_t>(i));
      break;
    }
  }
  if (observer_) observer_->on_replica_role(c.group_of(self), c.replica_index(self), rc, now_);
}

bool Simulator::node_up(NodeId n) const { return nodes_[n].up; }

uint64_t Simulator::truncated_bytes() const {
  uint64_t total = 0;
  for (const Node& n : nodes_) total += n.truncated;
  return total;
}

std::vector<std::span<const uint8_t>> Simulator::durable_record_views(NodeId id) const {
  const Node& n = nodes_[id];
  std::vector<std::span<const uint8_t>> out;
  scan_records(std::span<const uint8_t>(n.disk.data(), n.durable), [&](std::span<const uint8_t> r) { out.push_back(r); });
  return out;
}

std::vector<std::vector<uint8_t>> Simulator::durable_records(NodeId id) const {
  const Node& n = nodes_[id];
  std::vector<std::vector<uint8_t>> out;
  scan_records(std::span<const uint8_t>(n.disk.data(), n.durable),
               [&](std::span<const uint8_t> r) { out.emplace_back(r.begin(), r.end()); });
  return out;
}

}  // namespace ws
