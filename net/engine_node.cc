#include "net/engine_node.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "core/hash.h"
#include "net/log.h"

namespace ws::net {

uint64_t EngineNode::NodeRng::next_u64() {
  // SplitMix64: only jitter and backoff draw from it.
  state_ += 0x9e3779b97f4a7c15ULL;
  return mix64(state_);
}

EngineNode::EngineNode(asio::io_context& io, Router& router, NodeId self, std::string name,
                       std::unique_ptr<Actor> actor, std::unique_ptr<NodeLog> log)
    : router_(router),
      self_(self),
      name_(std::move(name)),
      actor_(std::move(actor)),
      log_(std::move(log)),
      timer_(io),
      rng_(std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32)) {
  durable_listener_ = log_->file().add_on_durable([this](uint64_t d) { on_durable(d); });
  router_.add_local(self_, this);
}

EngineNode::~EngineNode() { log_->file().remove_on_durable(durable_listener_); }

void EngineNode::start() {
  actor_->on_start(*this);
  note_repair();
}

// A replica whose log was damaged or lost says when it starts and ends
// repairing from its peers (docs/storage-faults.md).
void EngineNode::note_repair() {
  if (!host_ || !host_->has_raft()) return;
  const raft::Raft::Repair state = host_->raft().repair();
  if (state == raft::Raft::Repair::kProbing && host_->raft().stalled_probe_rounds() >= 10) {
    // Every peer answers, but fewer than a majority of the group is
    // healthy: beyond f, no replica may hold what this one lost.
    log_line("FATAL: " + name_ + ": cannot repair: " + damage_ +
             "; every peer answered and fewer than a majority of the group is healthy, so nothing may hold what "
             "it lost: refusing to run");
    std::fflush(stderr);
    std::_Exit(1);
  }
  if (static_cast<int>(state) == repair_) return;
  repair_ = static_cast<int>(state);
  switch (state) {
    case raft::Raft::Repair::kProbing:
      log_line(name_ + ": repairing: its log was damaged or lost; asking every peer before it votes again");
      break;
    case raft::Raft::Repair::kCatchingUp:
      log_line(name_ + ": repairing: a majority answered healthy; catching up from the leader");
      break;
    case raft::Raft::Repair::kNone:
      log_line(name_ + ": repaired: as up to date as every log its peers reported");
      break;
  }
}

Time EngineNode::now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void EngineNode::host_replica(ReplicaHost* host, std::vector<NodeId> members) {
  host_ = host;
  members_ = std::move(members);
  host_->set_observer(this);
}

void EngineNode::on_replica_role(NodeId, const raft::RoleChange& rc) {
  const bool leading = rc.role == raft::Role::kLeader;
  if (leading == leading_) return;
  leading_ = leading;
  log_line(name_ + (leading ? ": leading term " : ": no longer leading, term ") + std::to_string(rc.term));
}

void EngineNode::on_replica_stopped(NodeId, const std::string& why) {
  log_line("FATAL: " + name_ + ": replica stopped: " + why);
  std::fflush(stderr);
  std::_Exit(3);
}

void EngineNode::deliver(NodeId from, const Message& m) { actor_->on_message(*this, from, m); }

void EngineNode::deliver_raft(NodeId from, const raft::Msg& m) {
  actor_->on_raft(*this, from, m);
  note_repair();
}

std::optional<NodeId> EngineNode::redirect() const {
  if (!host_ || host_->serving()) return std::nullopt;
  const raft::ReplicaId leader = host_->raft().leader();
  return leader < members_.size() ? members_[leader] : kNoNode;
}

void EngineNode::send(NodeId to, const Message& m) { router_.send(self_, to, m); }

void EngineNode::send_durable(NodeId to, const Message& m) {
  Waiting w{};
  w.kind = WaitKind::kMessage;
  w.to = to;
  w.m = m;
  after_sync(std::move(w));
}

void EngineNode::send_raft(NodeId to, const raft::Msg& m, bool durable) {
  if (!durable) return router_.send_raft(self_, to, m);
  Waiting w{};
  w.kind = WaitKind::kRaft;
  w.to = to;
  w.raft = m;
  after_sync(std::move(w));
}

// Never runs the actor from inside this call: even when nothing is waiting
// for the disk, the callback is posted.
void EngineNode::when_durable(TimerTag tag) {
  Waiting w{};
  w.kind = WaitKind::kTimer;
  w.tag = tag;
  w.need = log_->needed();
  pending_.push_back(std::move(w));
  if (log_->file().durable_bytes() >= pending_.front().need)
    asio::post(timer_.get_executor(), [this] { on_durable(log_->file().durable_bytes()); });
}

void EngineNode::after_sync(Waiting w) {
  // Only this node's own records matter: in a shared log, another node's
  // appends do not hold this message back.
  w.need = log_->needed();
  if (pending_.empty() && log_->file().durable_bytes() >= w.need) return release(w);
  pending_.push_back(std::move(w));
}

void EngineNode::release(Waiting& w) {
  switch (w.kind) {
    case WaitKind::kMessage: return router_.send(self_, w.to, w.m);
    case WaitKind::kRaft: return router_.send_raft(self_, w.to, w.raft);
    case WaitKind::kTimer: return actor_->on_timer(*this, w.tag);
  }
}

// Everything leaves in the order it was queued, each once its records are
// durable (a later message never overtakes an earlier one).
void EngineNode::on_durable(uint64_t durable) {
  while (!pending_.empty() && pending_.front().need <= durable) {
    Waiting w = pending_.take_front();
    release(w);
  }
}

void EngineNode::set_timer(Duration after, TimerTag tag) {
  if (host_) {
    const Time at = now() + after;
    const bool earliest = timers_.empty() || at < timers_.begin()->first;
    timers_.emplace(at, tag);
    if (earliest) arm_timers();
    return;
  }
  const uint64_t gen = ++timer_gen_;
  timer_.expires_after(std::chrono::nanoseconds(after));
  timer_.async_wait([this, gen, tag](const boost::system::error_code& ec) {
    if (ec || gen != timer_gen_) return;
    actor_->on_timer(*this, tag);
  });
}

void EngineNode::arm_timers() {
  const uint64_t gen = ++timer_gen_;
  timer_.expires_after(std::chrono::nanoseconds(std::max<Time>(timers_.begin()->first - now(), 0)));
  timer_.async_wait([this, gen](const boost::system::error_code& ec) {
    if (ec || gen != timer_gen_) return;
    fire_timers();
  });
}

void EngineNode::fire_timers() {
  const Time t = now();
  while (!timers_.empty() && timers_.begin()->first <= t) {
    const TimerTag tag = timers_.begin()->second;
    timers_.erase(timers_.begin());
    actor_->on_timer(*this, tag);
  }
  if (!timers_.empty()) arm_timers();
}

}  // namespace ws::net
