// A coordinator's HTTP front end as an engine endpoint: it sends transfer
// requests and status queries to the coordinator that owns the transaction
// id (stable_hash(id) % C, wherever it runs) and balance queries to the
// owning partition, resends them while unanswered (a message to a restarting
// peer may be dropped; the engine deduplicates by transaction id), and gives
// up after a deadline, leaving the client to retry with the same id.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/cluster.h"
#include "core/flat_map.h"
#include "net/asio.h"
#include "net/metrics.h"
#include "net/transport.h"

namespace ws::net {

class Frontend final : public Endpoint {
 public:
  // What waits for an answer: done is called once per request, with the
  // request as it was sent, and a null reply when the deadline passed
  // without an answer. Held by shared pointer while the request is pending,
  // so that a request costs no allocation here.
  class Waiter {
   public:
    virtual void done(const Message* reply, const Message& request) = 0;

   protected:
    ~Waiter() = default;
  };
  using Done = std::shared_ptr<Waiter>;

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
  // Request numbers are consecutive: spread them over the table, or the
  // in-flight ones form one long probe run that every erase walks.
  struct RequestHash {
    size_t operator()(uint32_t r) const { return static_cast<size_t>((r * 0x9E3779B97F4A7C15ull) >> 32); }
  };
  FlatMap<uint32_t, Pending, RequestHash> pending_;  // by request number
  std::vector<uint32_t> expired_;  // tick's scratch
  asio::steady_timer timer_;
  bool armed_ = false;
};

}  // namespace ws::net
