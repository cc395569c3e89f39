// Message routing between engine endpoints. Every endpoint (an engine actor
// or an HTTP front end) has a NodeId; the Router delivers to endpoints in
// this process by posting to the io_context, and to other processes over
// TCP, one outbound connection per remote process, framed by net/frame.h.
// A message to a peer that is down is dropped (bounded queue while
// connecting); the protocol above resends. A bad inbound frame closes that
// connection with a log line.
//
// Replica groups (docs/replication.md), as the simulator's runtime does
// them: the engine sends to a group's id, and the Router sends to the
// replica it believes leads (the last one of that group it heard from, or
// the one a redirect named; the next one when the believed one's link is
// down or the group has been silent for an election timeout). A replica
// that is not serving as leader does not run a wallet message: its Router
// sends it back with the leader it knows, and the sender's Router sends it
// there (at most kMaxHops times). Messages from a replica are delivered as
// coming from its group. Raft frames go only between replicas of one group
// under one configuration; any other is refused, logged and dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/cluster.h"
#include "core/messages.h"
#include "core/raft.h"
#include "net/asio.h"
#include "net/frame.h"

namespace ws::net {

class Endpoint {
 public:
  virtual ~Endpoint() = default;
  // A wallet message; from a replica, `from` is its group.
  virtual void deliver(NodeId from, const Message& m) = 0;
  // A Raft message from another replica of this endpoint's group.
  virtual void deliver_raft(NodeId, const raft::Msg&) {}
  // A replica not serving as its group's leader: the leader it knows
  // (kNoNode if none), and wallet messages go back there. nullopt: deliver.
  virtual std::optional<NodeId> redirect() const { return std::nullopt; }
};

struct TransportStats {
  uint64_t frames_sent = 0;
  uint64_t frames_received = 0;
  uint64_t frames_dropped = 0;   // peer down or queue full
  uint64_t frames_rejected = 0;  // bad frames received (connection closed)
  uint64_t frames_refused = 0;   // Raft frames from outside the group or configuration (dropped)
  uint64_t redirects = 0;        // wallet messages sent back by a replica not serving as leader
  uint64_t connects = 0;
  uint64_t local_deliveries = 0;
};

class PeerLink;

class Router {
 public:
  Router(asio::io_context& io, uint32_t node_count);
  ~Router();

  // Replica groups: the cluster (which outlives the router), its
  // configuration id (carried by Raft frames), and how long a group may be
  // silent before messages to it try its next replica.
  void set_groups(const ClusterConfig& cluster, uint32_t config_id, Duration silence);
  void add_local(NodeId id, Endpoint* ep);
  void add_remote(NodeId id, const std::string& host, uint16_t port);
  // Accepts inbound frames on host:port. False with error if it cannot bind.
  bool listen(const std::string& host, uint16_t port, std::string& error);
  // A wallet message to a node or a group.
  void send(NodeId from, NodeId to, const Message& m) { send_to(from, resolve(to), Channel::kEngine, m, 0, kNoNode); }
  void send_raft(NodeId from, NodeId to, const raft::Msg& m);
  bool is_local(NodeId id) const { return id < locals_.size() && locals_[id] != nullptr; }

  const TransportStats& stats() const { return stats_; }
  TransportStats& mutable_stats() { return stats_; }
  // Called from an inbound connection for a frame that passed decoding;
  // false if it names a node that does not exist or is not hosted here.
  bool deliver_inbound(const FrameDecode& d);

 private:
  void accept();
  void post_drain();
  void drain_local();
  NodeId resolve(NodeId to);
  void send_to(NodeId from, NodeId to, Channel channel, const Message& m, uint8_t hops, NodeId hint);
  void dispatch(NodeId from, NodeId to, Channel channel, uint8_t hops, NodeId hint, const Message& m);
  void dispatch_raft(NodeId from, NodeId to, uint32_t config, const raft::Msg& m);
  void heard_from(NodeId from);
  void believe(uint32_t group, uint32_t replica);
  bool link_down(NodeId to) const;

  struct LocalMessage {
    NodeId from;
    NodeId to;
    Channel channel;
    uint8_t hops;
    NodeId hint;
    Message m;
  };
  struct LocalRaft {
    NodeId from;
    NodeId to;
    raft::Msg m;
  };
  // Per group: the replica believed to lead, and when it was last heard
  // from or last given up on.
  struct Guess {
    uint32_t replica = 0;
    std::chrono::steady_clock::time_point since{};
  };

  asio::io_context& io_;
  uint32_t node_count_;
  std::vector<Endpoint*> locals_;
  std::vector<std::shared_ptr<PeerLink>> remotes_;     // by NodeId
  std::map<std::string, std::shared_ptr<PeerLink>> links_;  // by "host:port"
  std::unique_ptr<tcp::acceptor> acceptor_;
  TransportStats stats_;
  // Deliveries inside this process, in send order, drained by one posted
  // handler per batch rather than one handler per message.
  std::vector<LocalMessage> local_queue_, local_draining_;
  std::vector<LocalRaft> local_raft_, local_raft_draining_;
  const ClusterConfig* groups_ = nullptr;  // set when replicas > 1
  uint32_t config_id_ = 0;
  std::chrono::nanoseconds silence_{0};
  std::vector<Guess> guess_;
  uint64_t refusals_logged_ = 0;
  bool drain_posted_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ws::net
