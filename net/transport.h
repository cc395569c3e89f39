// Message routing between engine endpoints. Every endpoint (an engine actor
// or an HTTP front end) has a NodeId; the Router delivers to endpoints in
// this process by posting to the io_context, and to other processes over
// TCP, one outbound connection per remote process, framed by net/frame.h.
// A message to a peer that is down is dropped (bounded queue while
// connecting); the protocol above resends. A bad inbound frame closes that
// connection with a log line.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/messages.h"
#include "net/asio.h"
#include "net/frame.h"

namespace ws::net {

class Endpoint {
 public:
  virtual ~Endpoint() = default;
  virtual void deliver(NodeId from, Channel channel, const Message& m) = 0;
};

struct TransportStats {
  uint64_t frames_sent = 0;
  uint64_t frames_received = 0;
  uint64_t frames_dropped = 0;   // peer down or queue full
  uint64_t frames_rejected = 0;  // bad frames received (connection closed)
  uint64_t connects = 0;
  uint64_t local_deliveries = 0;
};

class PeerLink;

class Router {
 public:
  Router(asio::io_context& io, uint32_t node_count);
  ~Router();

  void add_local(NodeId id, Endpoint* ep);
  void add_remote(NodeId id, const std::string& host, uint16_t port);
  // Accepts inbound frames on host:port. False with error if it cannot bind.
  bool listen(const std::string& host, uint16_t port, std::string& error);
  void send(NodeId from, NodeId to, Channel channel, const Message& m);
  bool is_local(NodeId id) const { return id < locals_.size() && locals_[id] != nullptr; }

  const TransportStats& stats() const { return stats_; }
  TransportStats& mutable_stats() { return stats_; }
  // Called from an inbound connection for a frame that passed decoding.
  bool deliver_inbound(const FrameHeader& h, const Message& m);

 private:
  void accept();
  void drain_local();

  struct LocalMessage {
    NodeId from;
    NodeId to;
    Channel channel;
    Message m;
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
  bool drain_posted_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ws::net
