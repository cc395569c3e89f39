#include "net/engine_node.h"

#include <chrono>
#include <random>

#include "core/hash.h"

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

void EngineNode::start() { actor_->on_start(*this); }

Time EngineNode::now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void EngineNode::deliver(NodeId from, Channel channel, const Message& m) {
  switch (channel) {
    case Channel::kEngine:
      actor_->on_message(*this, from, m);
      break;
    case Channel::kBalanceQuery: {
      Message r = m;
      std::optional<int64_t> b;
      if (balance_reader_) b = balance_reader_(m.account, m.currency);
      r.yes = b.has_value();
      r.amount.minor = b.value_or(0);
      send_after_sync(from, Channel::kBalanceReply, r);
      break;
    }
    case Channel::kBalanceReply:
      break;  // not addressed to an engine node
  }
}

void EngineNode::send(NodeId to, const Message& m) { router_.send(self_, to, Channel::kEngine, m); }

void EngineNode::send_durable(NodeId to, const Message& m) {
  send_after_sync(to, Channel::kEngine, m);
}

void EngineNode::send_after_sync(NodeId to, Channel channel, const Message& m) {
  // Only this node's own records matter: in a shared log, another node's
  // appends do not hold this message back.
  if (pending_.empty() && log_->file().durable_bytes() >= log_->needed()) {
    router_.send(self_, to, channel, m);
    return;
  }
  pending_.push_back({log_->needed(), to, channel, m});
}

// Messages leave in the order they were queued, each once its records are
// durable (a later message never overtakes an earlier one).
void EngineNode::on_durable(uint64_t durable) {
  while (!pending_.empty() && pending_.front().need <= durable) {
    const Waiting& w = pending_.front();
    router_.send(self_, w.to, w.channel, w.m);
    pending_.pop_front();
  }
}

void EngineNode::set_timer(Duration after, TimerTag tag) {
  const uint64_t gen = ++timer_gen_;
  timer_.expires_after(std::chrono::nanoseconds(after));
  timer_.async_wait([this, gen, tag](const boost::system::error_code& ec) {
    if (ec || gen != timer_gen_) return;
    actor_->on_timer(*this, tag);
  });
}

}  // namespace ws::net
