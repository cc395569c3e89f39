#include "net/frontend.h"

#include <chrono>
#include <random>
#include <vector>

namespace ws::net {

Frontend::Frontend(asio::io_context& io, Router& router, const ClusterConfig& cfg, NodeId self,
                   Metrics& metrics)
    : router_(router), cfg_(cfg), self_(self), metrics_(metrics), timer_(io) {
  // Request numbers start at random so that a late reply addressed to an
  // earlier incarnation of this process cannot match a new request.
  next_request_ = std::random_device{}();
  router_.add_local(self_, this);
}

Frontend::~Frontend() { router_.add_local(self_, nullptr); }

Time Frontend::now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Frontend::transfer(const Message& request, Done done) {
  uint32_t c = cfg_.coordinator_of(request.tx.hi, request.tx.lo);
  start(cfg_.coordinator_node(c), request, std::move(done));
}

void Frontend::status(const TxId& tx, Done done) {
  Message m{};
  m.kind = MsgKind::kStatusQuery;
  m.tx = tx;
  uint32_t c = cfg_.coordinator_of(tx.hi, tx.lo);
  start(cfg_.coordinator_node(c), m, std::move(done));
}

void Frontend::balance(AccountId account, CurrencyIdx currency, Done done) {
  Message m{};
  m.kind = MsgKind::kBalanceRead;
  m.account = account;
  m.currency = currency;
  start(cfg_.partition_node(cfg_.account_partition[account]), m, std::move(done));
}

void Frontend::start(NodeId to, Message m, Done done) {
  uint32_t r = next_request_++;
  while (pending_.count(r)) r = next_request_++;
  m.request = r;
  Time t = now();
  pending_.emplace(r, Pending{to, m, t, t, std::move(done)});
  router_.send(self_, to, m);
  arm();
}

void Frontend::deliver(NodeId, const Message& m) {
  auto it = pending_.find(m.request);
  if (it == pending_.end()) return;  // late answer to a request already answered or given up
  const Pending& p = it->second;
  bool match = false;
  if (m.kind == MsgKind::kBalanceReply) {
    match = p.m.kind == MsgKind::kBalanceRead && m.account == p.m.account && m.currency == p.m.currency;
  } else if (m.kind == MsgKind::kTransferReply) {
    match = p.m.kind == MsgKind::kTransferRequest && (m.tx.is_nil() || m.tx == p.m.tx);
  } else if (m.kind == MsgKind::kStatusReply) {
    match = p.m.kind == MsgKind::kStatusQuery && m.tx == p.m.tx;
  }
  if (!match) return;
  // An in-progress status is an answer too; only a transfer waits for a decision.
  Done done = std::move(it->second.done);
  Time sent = it->second.sent;
  pending_.erase(it);
  if (m.kind == MsgKind::kTransferReply) metrics_.transfer_latency.observe(now() - sent);
  done(&m);
}

void Frontend::arm() {
  if (armed_ || pending_.empty()) return;
  armed_ = true;
  timer_.expires_after(std::chrono::nanoseconds(kResendInterval / 2));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    armed_ = false;
    if (ec) return;
    tick();
    arm();
  });
}

void Frontend::tick() {
  Time t = now();
  std::vector<uint32_t> expired;
  for (auto& [r, p] : pending_) {
    if (t - p.sent >= kDeadline) {
      expired.push_back(r);
    } else if (t - p.last_sent >= kResendInterval) {
      p.last_sent = t;
      ++metrics_.resends;
      router_.send(self_, p.to, p.m);
    }
  }
  for (uint32_t r : expired) {
    auto it = pending_.find(r);
    Done done = std::move(it->second.done);
    pending_.erase(it);
    done(nullptr);
  }
}

}  // namespace ws::net
