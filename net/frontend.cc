#include "net/frontend.h"

#include <chrono>
#include <random>

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
  while (pending_.contains(r)) r = next_request_++;
  m.request = r;
  Time t = now();
  *pending_.try_emplace(r).first = Pending{to, m, t, t, std::move(done)};
  router_.send(self_, to, m);
  arm();
}

void Frontend::deliver(NodeId, const Message& m) {
  Pending* p = pending_.find(m.request);
  if (!p) return;  // late answer to a request already answered or given up
  bool match = false;
  if (m.kind == MsgKind::kBalanceReply) {
    match = p->m.kind == MsgKind::kBalanceRead && m.account == p->m.account && m.currency == p->m.currency;
  } else if (m.kind == MsgKind::kTransferReply) {
    match = p->m.kind == MsgKind::kTransferRequest && (m.tx.is_nil() || m.tx == p->m.tx);
  } else if (m.kind == MsgKind::kStatusReply) {
    match = p->m.kind == MsgKind::kStatusQuery && m.tx == p->m.tx;
  }
  if (!match) return;
  // An in-progress status is an answer too; only a transfer waits for a decision.
  Pending done = std::move(*p);
  pending_.erase(m.request);
  if (m.kind == MsgKind::kTransferReply) metrics_.transfer_latency.observe(now() - done.sent);
  done.done->done(&m, done.m);
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
  expired_.clear();
  pending_.for_each_mut([&](uint32_t r, Pending& p) {
    if (t - p.sent >= kDeadline) {
      expired_.push_back(r);
    } else if (t - p.last_sent >= kResendInterval) {
      p.last_sent = t;
      ++metrics_.resends;
      router_.send(self_, p.to, p.m);
    }
  });
  for (uint32_t r : expired_) {
    Pending* p = pending_.find(r);
    if (!p) continue;
    Pending gone = std::move(*p);
    pending_.erase(r);
    gone.done->done(nullptr, gone.m);
  }
}

}  // namespace ws::net
