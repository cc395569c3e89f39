// Hosts one engine actor (a partition node or a coordinator) in a real
// process: implements ws::Context with the wall clock (steady_clock, ns), an
// Asio steady timer (one per actor; setting it again replaces it), a file
// Storage with group commit, and the Router for messages. send_durable
// messages wait in order until the log's durable prefix covers every record
// appended before them. The node also answers the runtime's read-only
// balance queries, released after the same durability barrier so a reader
// never sees a balance the log could still lose.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/context.h"
#include "net/asio.h"
#include "net/file_storage.h"
#include "net/transport.h"

namespace ws::net {

class EngineNode final : public Endpoint, private Context {
 public:
  // Returns the balance of (account, currency) if this node owns it.
  using BalanceReader = std::function<std::optional<int64_t>(AccountId, CurrencyIdx)>;

  EngineNode(asio::io_context& io, Router& router, NodeId self, std::string name,
             std::unique_ptr<Actor> actor, std::unique_ptr<NodeLog> log);
  ~EngineNode() override;

  void set_balance_reader(BalanceReader r) { balance_reader_ = std::move(r); }
  // Recovers the actor from its log (Actor::on_start).
  void start();
  void deliver(NodeId from, Channel channel, const Message& m) override;

  const std::string& name() const { return name_; }
  const FileStorage& log() const { return log_->file(); }
  Actor& actor() { return *actor_; }
  size_t waiting_for_sync() const { return pending_.size(); }

 private:
  class NodeRng final : public Rng {
   public:
    explicit NodeRng(uint64_t seed) : state_(seed) {}
    uint64_t next_u64() override;

   private:
    uint64_t state_;
  };

  // Context
  NodeId self() const override { return self_; }
  Time now() const override;
  void send(NodeId to, const Message& m) override;
  void send_durable(NodeId to, const Message& m) override;
  void set_timer(Duration after, TimerTag tag) override;
  Storage& storage() override { return *log_; }
  Rng& rng() override { return rng_; }

  void send_after_sync(NodeId to, Channel channel, const Message& m);
  void on_durable(uint64_t durable);

  struct Waiting {
    uint64_t need;  // log bytes that must be durable first
    NodeId to;
    Channel channel;
    Message m;
  };

  Router& router_;
  NodeId self_;
  std::string name_;
  std::unique_ptr<Actor> actor_;
  std::unique_ptr<NodeLog> log_;
  size_t durable_listener_ = 0;
  asio::steady_timer timer_;
  uint64_t timer_gen_ = 0;
  NodeRng rng_;
  std::deque<Waiting> pending_;
  BalanceReader balance_reader_;
};

}  // namespace ws::net
