// A small deterministic world for replica-group tests (tests/test_replica*.cc):
// nodes hosting engine actors (replica hosts or plain ones), a virtual clock,
// a network that delays and drops, disks that keep only what was synced
// when their node crashes, timers, and scripted endpoints (a test's
// coordinator or client) that receive the messages sent to them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <variant>
#include <vector>

#include "core/cluster.h"
#include "core/context.h"
#include "core/raft.h"
#include "tests/split_mix.h"

namespace ws::testing_support {

// A replica group's Raft settings for these tests: timeouts of a few
// hundred milliseconds over a network of a few milliseconds.
inline raft::Options group_options(raft::ReplicaId self) {
  raft::Options o;
  o.self = self;
  o.replicas = 3;
  o.election_timeout_min = 150 * kMillisecond;
  o.election_timeout_max = 300 * kMillisecond;
  o.heartbeat_interval = 50 * kMillisecond;
  return o;
}

// One partition of six accounts holding `initial` USD minor units each, one
// coordinator, snapshots (and so Raft compaction) every few entries.
inline ClusterConfig one_partition_cluster(int64_t initial, bool local_same_partition = true) {
  ClusterConfig c;
  c.partitions = 1;
  c.coordinators = 1;
  c.clients = 1;
  c.accounts = 6;
  c.currencies = {*find_currency("USD")};
  c.initial_balance = {Amount{initial}};
  c.protocol.snapshot_every = 8;
  c.protocol.local_same_partition = local_same_partition;
  c.finalize();
  return c;
}

class World {
 public:
  using Make = std::function<std::unique_ptr<Actor>()>;
  using Script = std::function<void(NodeId from, const Message& m)>;

  explicit World(uint64_t seed) : rng_(seed) {}

  // A node hosting an actor, started at once; make builds it again on restart.
  // first: a record its disk holds, durable, before it starts (a replica's
  // replica_format_record()).
  void add(NodeId id, Make make, std::vector<uint8_t> first = {}) {
    auto n = std::make_unique<Node>(*this, id, rng_.next_u64());
    n->make = std::move(make);
    Node& node = *n;
    if (!first.empty()) {
      node.disk.records.push_back(std::move(first));
      node.disk.durable = 1;
    }
    nodes_[id] = std::move(n);
    node.actor = node.make();
    node.actor->on_start(node.ctx);
  }
  // An endpoint driven by the test: messages sent to id are handed to script.
  void add_script(NodeId id, Script script) { scripts_[id] = std::move(script); }
  Actor& actor(NodeId id) { return *nodes_.at(id)->actor; }
  bool up(NodeId id) const { return nodes_.at(id)->up; }

  // Sends as a scripted endpoint does: over the same network.
  void send(NodeId from, NodeId to, const Message& m) { net(to, Deliver{from, m}); }
  void at(Time t, std::function<void()> fn) { push(t, kNoNode, 0, Call{std::move(fn)}); }
  Time now() const { return now_; }
  SplitMix& rng() { return rng_; }

  // Crashes id now: what was not synced is lost; it restarts after down_for.
  void crash(NodeId id, Duration down_for) {
    Node& n = *nodes_.at(id);
    if (!n.up) return;
    ++crashes_;
    n.up = false;
    ++n.incarnation;
    n.disk.records.resize(n.disk.durable);
    n.after_sync.clear();
    n.sync_pending = false;
    push(now_ + down_for, id, 0, Restart{});
  }
  uint64_t crashes() const { return crashes_; }
  bool any_down() const {
    for (const auto& [id, n] : nodes_)
      if (!n->up) return true;
    return false;
  }

  // Handles the next event; false when there is none.
  bool step() {
    if (queue_.empty()) return false;
    Event e = queue_.top();
    queue_.pop();
    now_ = e.at;
    if (auto* c = std::get_if<Call>(&e.what)) {
      c->fn();
      return true;
    }
    if (auto s = scripts_.find(e.to); s != scripts_.end()) {
      if (auto* d = std::get_if<Deliver>(&e.what)) s->second(d->from, d->m);
      return true;
    }
    auto it = nodes_.find(e.to);
    if (it == nodes_.end()) return true;
    Node& n = *it->second;
    if (std::holds_alternative<Restart>(e.what)) {
      n.up = true;
      ++n.incarnation;
      n.actor = n.make();
      n.actor->on_start(n.ctx);
      return true;
    }
    if (!n.up) return true;
    if (e.incarnation != kAny && e.incarnation != n.incarnation) return true;  // from before a crash
    if (auto* d = std::get_if<Deliver>(&e.what)) {
      n.actor->on_message(n.ctx, d->from, d->m);
    } else if (auto* r = std::get_if<DeliverRaft>(&e.what)) {
      n.actor->on_raft(n.ctx, r->from, r->m);
    } else if (auto* t = std::get_if<Timer>(&e.what)) {
      n.actor->on_timer(n.ctx, t->tag);
    } else if (std::holds_alternative<Sync>(e.what)) {
      n.sync_pending = false;
      n.disk.durable = n.disk.records.size();
      auto ready = std::move(n.after_sync);
      n.after_sync.clear();
      for (auto& fn : ready) fn();
    }
    return true;
  }

  uint32_t drop_per_mille = 0;  // of every message, while not quiet
  bool quiet = false;           // no loss

 private:
  static constexpr uint32_t kAny = UINT32_MAX;
  struct Deliver {
    NodeId from;
    Message m;
  };
  struct DeliverRaft {
    NodeId from;
    raft::Msg m;
  };
  struct Timer {
    TimerTag tag;
  };
  struct Sync {};
  struct Restart {};
  struct Call {
    std::function<void()> fn;
  };
  using What = std::variant<Deliver, DeliverRaft, Timer, Sync, Restart, Call>;
  struct Event {
    Time at;
    uint64_t seq;
    NodeId to;
    uint32_t incarnation;
    What what;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  class Disk final : public Storage {
   public:
    void append(std::span<const uint8_t> r) override { records.emplace_back(r.begin(), r.end()); }
    void read_all(const std::function<void(std::span<const uint8_t>)>& fn) override {
      for (size_t i = 0; i < durable; ++i) fn(records[i]);
    }
    std::vector<std::vector<uint8_t>> records;
    size_t durable = 0;
  };

  struct Node;
  class Ctx final : public Context {
   public:
    Ctx(World& w, Node& n) : w_(w), n_(n) {}
    NodeId self() const override { return n_.id; }
    Time now() const override { return w_.now_; }
    void send(NodeId to, const Message& m) override { w_.net(to, Deliver{n_.id, m}); }
    void send_durable(NodeId to, const Message& m) override {
      after_sync([this, to, m] { send(to, m); });
    }
    void set_timer(Duration after, TimerTag tag) override {
      w_.push(w_.now_ + after, n_.id, n_.incarnation, Timer{tag});
    }
    Storage& storage() override { return n_.disk; }
    Rng& rng() override { return n_.rng; }
    void send_raft(NodeId to, const raft::Msg& m, bool durable) override {
      if (!durable) return w_.net(to, DeliverRaft{n_.id, m});
      after_sync([this, to, m] { w_.net(to, DeliverRaft{n_.id, m}); });
    }
    void when_durable(TimerTag tag) override {
      after_sync([this, tag] { n_.actor->on_timer(*this, tag); });
    }

   private:
    // Never from inside the call: a host's when_durable must not re-enter it.
    void after_sync(std::function<void()> fn) {
      n_.after_sync.push_back(std::move(fn));
      if (n_.sync_pending) return;
      n_.sync_pending = true;
      w_.push(w_.now_ + 300 * kMicrosecond, n_.id, n_.incarnation, Sync{});
    }
    World& w_;
    Node& n_;
  };

  struct Node {
    Node(World& w, NodeId id_, uint64_t seed) : id(id_), rng(seed), ctx(w, *this) {}
    NodeId id;
    SplitMix rng;
    Disk disk;
    Ctx ctx;
    Make make;
    std::unique_ptr<Actor> actor;
    bool up = true;
    uint32_t incarnation = 0;
    bool sync_pending = false;
    std::vector<std::function<void()>> after_sync;
  };

  void push(Time t, NodeId to, uint32_t incarnation, What w) {
    queue_.push(Event{t, ++seq_, to, incarnation, std::move(w)});
  }
  void net(NodeId to, What w) {
    if (!quiet && rng_.chance(drop_per_mille)) return;
    const Duration delay = 200 * kMicrosecond + static_cast<Duration>(rng_.below(2 * kMillisecond));
    push(now_ + delay, to, kAny, std::move(w));
  }

  SplitMix rng_;
  std::map<NodeId, std::unique_ptr<Node>> nodes_;
  std::map<NodeId, Script> scripts_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue_;
  Time now_ = 0;
  uint64_t seq_ = 0;
  uint64_t crashes_ = 0;
};

}  // namespace ws::testing_support
