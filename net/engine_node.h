// Hosts one engine actor (a partition node or a coordinator, or one replica
// of a group of them: core/replica.h) in a real process: implements
// ws::Context with the wall clock (steady_clock, ns), Asio timers, a file
// Storage with group commit, and the Router for messages. send_durable
// messages (and durable Raft messages, and when_durable callbacks) wait in
// order until the log's durable prefix covers every record appended before
// them.
//
// Timers: a bare engine actor has one (setting it again replaces it; the
// actors tag each setting and ignore stale ones). A replica host keeps
// Raft's timer and its machine's, so every setting fires, as in the
// simulator.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/fifo.h"
#include "core/replica.h"
#include "net/asio.h"
#include "net/file_storage.h"
#include "net/transport.h"

namespace ws::net {

class EngineNode final : public Endpoint, private Context, private ReplicaObserver {
 public:
  EngineNode(asio::io_context& io, Router& router, NodeId self, std::string name,
             std::unique_ptr<Actor> actor, std::unique_ptr<NodeLog> log);
  ~EngineNode() override;

  // The actor is `host`, replica of a group whose members are these nodes.
  void host_replica(ReplicaHost* host, std::vector<NodeId> members);
  // Recovers the actor from its log (Actor::on_start).
  // What recovery found wrong with this replica's log, for the message if
  // it cannot repair (file and offset of the damage).
  void set_damage(std::string d) { damage_ = std::move(d); }
  void start();
  void deliver(NodeId from, const Message& m) override;
  void deliver_raft(NodeId from, const raft::Msg& m) override;
  std::optional<NodeId> redirect() const override;

  const std::string& name() const { return name_; }
  const FileStorage& log() const { return log_->file(); }
  Actor& actor() { return *actor_; }
  const ReplicaHost* replica() const { return host_; }
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
  void send_raft(NodeId to, const raft::Msg& m, bool durable) override;
  void when_durable(TimerTag tag) override;

  // ReplicaObserver: a replica logs when it starts and stops leading, and a
  // replica that finds its own log or state broken ends the process.
  void on_replica_apply(NodeId, const raft::Entry&) override {}
  void on_replica_role(NodeId, const raft::RoleChange& rc) override;
  void on_replica_stopped(NodeId, const std::string& why) override;

  enum class WaitKind : uint8_t { kMessage, kRaft, kTimer };
  struct Waiting {
    uint64_t need;  // log bytes that must be durable first
    WaitKind kind;
    NodeId to;
    TimerTag tag;
    Message m;
    raft::Msg raft;
  };
  void after_sync(Waiting w);
  void release(Waiting& w);
  void on_durable(uint64_t durable);
  void arm_timers();
  void fire_timers();

  Router& router_;
  NodeId self_;
  std::string name_;
  std::unique_ptr<Actor> actor_;
  std::unique_ptr<NodeLog> log_;
  size_t durable_listener_ = 0;
  asio::steady_timer timer_;
  uint64_t timer_gen_ = 0;
  NodeRng rng_;
  Fifo<Waiting> pending_;
  ReplicaHost* host_ = nullptr;
  std::vector<NodeId> members_;
  std::multimap<Time, TimerTag> timers_;  // a replica host's timers, by deadline
  bool leading_ = false;
  int repair_ = 0;  // the replica's Raft repair state last logged (raft::Repair)
  void note_repair();
  std::string damage_ = "its log was missing (a lost disk)";
};

}  // namespace ws::net
