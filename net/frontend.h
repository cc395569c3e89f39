// A coordinator's HTTP front end as an engine endpoint: it sends transfer
// requests and status queries to the coordinator that owns the transaction
// id (stable_hash(id) % C, wherever it runs) and balance queries to the
// owning partition, resends them while unanswered (a message to a restarting
// peer may be dropped; the engine deduplicates by transaction id), and gives
// up after a deadline, leaving the client to retry with the same id.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>

#include "core/cluster.h"
#include "net/asio.h"
#include "net/metrics.h"
#include "net/transport.h"

namespace ws::net {

class Frontend final : public Endpoint {
 public:
  // reply is null when the deadline passed without an answer.
  using Done = std::function<void(const Message* reply)>;

  Frontend(asio::io_context& io, Router& router, const ClusterConfig& cfg, NodeId self, Metrics& metrics);
  ~Frontend() override;

  void transfer(const Message& request, Done done);
  void status(const TxId& tx, Done done);
  void balance(AccountId account, CurrencyIdx currency, Done done);
  void deliver(NodeId from, const Message& m) override;
  size_t in_flight() const { return pending_.size(); }

  static constexpr Duration kResendInterval = 1 * kSecond;
  static constexpr Duration kDeadline = 5 * kSecond;

 private:
  struct Pending {
    NodeId to;  // a group
    Message m;
    Time sent;
    Time last_sent;
    Done done;
  };
  void start(NodeId to, Message m, Done done);
  void arm();
  void tick();
  static Time now();

  Router& router_;
  const ClusterConfig& cfg_;
  NodeId self_;
  Metrics& metrics_;
  uint32_t next_request_;
  std::unordered_map<uint32_t, Pending> pending_;
  asio::steady_timer timer_;
  bool armed_ = false;
};

}  // namespace ws::net
