#include "net/transport.h"

#include <algorithm>
#include <cstring>

#include "net/listen.h"
#include "net/log.h"

namespace ws::net {
namespace {

constexpr size_t kMaxQueuedBytes = 8u << 20;  // per peer, while connected or connecting
constexpr auto kMinBackoff = std::chrono::milliseconds(20);
constexpr auto kMaxBackoff = std::chrono::milliseconds(500);
constexpr size_t kReadChunk = 64u << 10;

std::string endpoint_text(const tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

// One outbound connection to a remote process, reconnecting with
// exponential backoff. Frames queue while it connects; if the connection
// attempt fails they are dropped, since stale protocol messages are resent
// by the engine anyway.
class PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  PeerLink(asio::io_context& io, std::string host, uint16_t port, TransportStats& stats)
      : io_(io), host_(std::move(host)), port_(port), socket_(io), timer_(io), stats_(stats) {}

  void start() { connect(); }
  void stop() {
    stopped_ = true;
    boost::system::error_code ec;
    socket_.close(ec);
    timer_.cancel();
  }

  // encode(out) appends one frame to out.
  template <class Encode>
  void send(Encode&& encode) {
    if (pending_.size() >= kMaxQueuedBytes || state_ == State::kBackoff) {
      ++stats_.frames_dropped;
      return;
    }
    encode(pending_);
    ++pending_frames_;
    if (state_ == State::kConnected) flush();
  }
  bool down() const { return state_ == State::kBackoff; }

 private:
  enum class State { kConnecting, kConnected, kBackoff };

  void connect() {
    if (stopped_) return;
    state_ = State::kConnecting;
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host_, ec);
    if (ec) {
      // A host name: resolve it (blocking, but names are resolved rarely).
      tcp::resolver r(io_);
      auto res = r.resolve(host_, std::to_string(port_), ec);
      if (ec || res.empty()) return failed("cannot resolve " + host_ + ": " + ec.message());
      addr = res.begin()->endpoint().address();
    }
    socket_ = tcp::socket(io_);
    socket_.async_connect(tcp::endpoint(addr, port_), [self = shared_from_this()](auto ec) {
      if (ec) return self->failed(ec.message());
      self->connected();
    });
  }

  void connected() {
    if (stopped_) return;
    // A connect to a loopback port nobody listens on can pick that same
    // port as its source and connect to itself (TCP simultaneous open),
    // which also keeps the real node from binding it.
    boost::system::error_code le, re;
    if (socket_.local_endpoint(le) == socket_.remote_endpoint(re) && !le && !re)
      return failed("connected to itself");
    state_ = State::kConnected;
    backoff_ = kMinBackoff;
    ++stats_.connects;
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    if (logged_down_) log_line("peer " + host_ + ":" + std::to_string(port_) + " is reachable");
    logged_down_ = false;
    watch();
    flush();
  }

  // The peer never writes on this connection; a read completing means it closed.
  void watch() {
    socket_.async_read_some(asio::buffer(sink_), [self = shared_from_this()](auto ec, size_t) {
      if (self->state_ != State::kConnected) return;
      self->failed(ec ? ec.message() : "unexpected data from peer");
    });
  }

  void flush() {
    if (writing_ || pending_.empty() || state_ != State::kConnected) return;
    writing_ = true;
    inflight_.swap(pending_);
    inflight_frames_ = pending_frames_;
    pending_frames_ = 0;
    asio::async_write(socket_, asio::buffer(inflight_), [self = shared_from_this()](auto ec, size_t) {
      self->writing_ = false;
      if (ec) {
        self->inflight_.clear();
        return self->failed(ec.message());
      }
      self->stats_.frames_sent += self->inflight_frames_;
      self->inflight_.clear();
      self->flush();
    });
  }

  void failed(const std::string& why) {
    if (stopped_ || state_ == State::kBackoff) return;
    if (!logged_down_)
      log_line("peer " + host_ + ":" + std::to_string(port_) + " unreachable (" + why +
               "), retrying with backoff");
    logged_down_ = true;
    state_ = State::kBackoff;
    boost::system::error_code ec;
    socket_.close(ec);
    stats_.frames_dropped += pending_frames_ + (writing_ ? inflight_frames_ : 0);
    pending_.clear();
    pending_frames_ = 0;
    timer_.expires_after(backoff_);
    backoff_ = std::min<std::chrono::milliseconds>(backoff_ * 2, kMaxBackoff);
    timer_.async_wait([self = shared_from_this()](auto ec) {
      if (ec) return;
      if (self->writing_) {
        // The aborted write's handler has not run yet; try again shortly.
        self->state_ = State::kConnecting;
        asio::post(self->io_, [self] { self->connect(); });
        return;
      }
      self->connect();
    });
  }

  asio::io_context& io_;
  std::string host_;
  uint16_t port_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  TransportStats& stats_;
  State state_ = State::kConnecting;
  std::chrono::milliseconds backoff_ = kMinBackoff;
  std::vector<uint8_t> pending_, inflight_;
  uint64_t pending_frames_ = 0, inflight_frames_ = 0;
  bool writing_ = false;
  bool stopped_ = false;
  bool logged_down_ = false;
  uint8_t sink_[64];
};

// One accepted connection: reads frames, hands each to the router, and
// closes the connection on the first bad one.
class InboundConn : public std::enable_shared_from_this<InboundConn> {
 public:
  InboundConn(tcp::socket s, Router& r) : socket_(std::move(s)), router_(r) {
    buf_.resize(2 * kReadChunk);
    peer_ = endpoint_text(socket_);
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
  }
  void start() { read(); }

 private:
  void read() {
    if (buf_.size() - used_ < kReadChunk) buf_.resize(used_ + kReadChunk);
    socket_.async_read_some(asio::buffer(buf_.data() + used_, buf_.size() - used_),
                            [self = shared_from_this()](auto ec, size_t n) {
                              if (ec) return;  // peer closed or process going down
                              self->used_ += n;
                              if (self->consume()) self->read();
                            });
  }

  bool consume() {
    size_t pos = 0;
    for (;;) {
      FrameDecode d = decode_frame(std::span<const uint8_t>(buf_.data() + pos, used_ - pos));
      if (d.error == FrameError::kShort) break;
      if (d.error != FrameError::kNone) return reject(to_string(d.error));
      if (!router_.deliver_inbound(d))
        return reject("frame for node " + std::to_string(d.header.to) + " which is not hosted here");
      pos += d.consumed;
    }
    if (pos > 0) {
      std::memmove(buf_.data(), buf_.data() + pos, used_ - pos);
      used_ -= pos;
    }
    return true;
  }

  bool reject(const std::string& why) {
    ++router_.mutable_stats().frames_rejected;
    log_line("closing connection from " + peer_ + ": bad frame (" + why + ")");
    boost::system::error_code ec;
    socket_.close(ec);
    return false;
  }

  tcp::socket socket_;
  Router& router_;
  std::vector<uint8_t> buf_;
  size_t used_ = 0;
  std::string peer_;
};

Router::Router(asio::io_context& io, uint32_t node_count)
    : io_(io), node_count_(node_count), locals_(node_count, nullptr), remotes_(node_count) {}

Router::~Router() {
  *alive_ = false;
  for (auto& [addr, link] : links_) link->stop();
}

void Router::add_local(NodeId id, Endpoint* ep) { locals_.at(id) = ep; }

void Router::add_remote(NodeId id, const std::string& host, uint16_t port) {
  std::string key = host + ":" + std::to_string(port);
  auto& link = links_[key];
  if (!link) {
    link = std::make_shared<PeerLink>(io_, host, port, stats_);
    link->start();
  }
  remotes_.at(id) = link;
}

bool Router::listen(const std::string& host, uint16_t port, std::string& error) {
  acceptor_ = open_acceptor(io_, host, port, "peer", error);
  if (!acceptor_) return false;
  accept();
  return true;
}

void Router::accept() {
  acceptor_->async_accept([this](boost::system::error_code ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<InboundConn>(std::move(s), *this)->start();
    accept();
  });
}

void Router::set_groups(const ClusterConfig& cluster, uint32_t config_id, Duration silence) {
  if (cluster.replicas() <= 1) return;
  groups_ = &cluster;
  config_id_ = config_id;
  silence_ = std::chrono::nanoseconds(silence);
  guess_.assign(cluster.groups(), Guess{0, std::chrono::steady_clock::now()});
}

void Router::post_drain() {
  if (drain_posted_) return;
  drain_posted_ = true;
  asio::post(io_, [this, alive = alive_] {
    if (*alive) drain_local();
  });
}

void Router::drain_local() {
  drain_posted_ = false;
  local_draining_.swap(local_queue_);
  local_raft_draining_.swap(local_raft_);
  // Messages sent while delivering these go to the next batch, behind
  // whatever else is ready to run (HTTP, TCP, log completions).
  for (const LocalMessage& x : local_draining_) dispatch(x.from, x.to, x.channel, x.hops, x.hint, x.m);
  for (const LocalRaft& x : local_raft_draining_) dispatch_raft(x.from, x.to, config_id_, x.m);
  local_draining_.clear();
  local_raft_draining_.clear();
}

bool Router::deliver_inbound(const FrameDecode& d) {
  const FrameHeader& h = d.header;
  if (h.from >= node_count_ || !is_local(h.to)) return false;
  ++stats_.frames_received;
  if (h.channel == Channel::kRaft) {
    dispatch_raft(h.from, h.to, d.config, d.raft);
  } else {
    if (h.channel == Channel::kRedirect && d.hint != kNoNode && d.hint >= node_count_) return false;
    dispatch(h.from, h.to, h.channel, h.hops, d.hint, d.message);
  }
  return true;
}

void Router::dispatch(NodeId from, NodeId to, Channel channel, uint8_t hops, NodeId hint, const Message& m) {
  Endpoint* ep = locals_[to];
  if (!ep) return;
  if (!groups_) return ep->deliver(from, m);
  const ClusterConfig& c = *groups_;
  heard_from(from);
  if (channel == Channel::kRedirect) {
    // Our message came back from a replica not serving: believe its hint
    // and send it there, or, with none, try the next replica next time (a
    // leader not serving yet names itself: the sender's own retry comes back).
    const uint32_t g = c.group_of(from);
    if (g == ClusterConfig::kNoGroup) return;
    if (hint == kNoNode || c.group_of(hint) != g) return believe(g, (c.replica_index(from) + 1) % c.replicas());
    believe(g, c.replica_index(hint));
    if (hint != from && hops < kMaxHops) send_to(to, hint, Channel::kEngine, m, static_cast<uint8_t>(hops + 1), kNoNode);
    return;
  }
  if (std::optional<NodeId> leader = ep->redirect()) {
    ++stats_.redirects;
    return send_to(to, from, Channel::kRedirect, m, hops, *leader);
  }
  ep->deliver(c.is_server(from) ? c.group_of(from) : from, m);
}

void Router::dispatch_raft(NodeId from, NodeId to, uint32_t config, const raft::Msg& m) {
  Endpoint* ep = locals_[to];
  if (!ep) return;
  const ClusterConfig* c = groups_;
  const char* why = nullptr;
  if (!c) why = "this node runs no replica group";
  else if (config != config_id_) why = "it comes from another configuration of the cluster";
  else if (!c->is_server(from) || c->group_of(from) != c->group_of(to)) why = "its sender is not a replica of this group";
  else if (m.from != c->replica_index(from) || m.to != c->replica_index(to)) why = "its replica numbers do not match its nodes";
  if (why) {
    ++stats_.frames_refused;
    if (refusals_logged_++ < 20)
      log_line("refused a Raft frame from node " + std::to_string(from) + " to node " + std::to_string(to) + ": " + why);
    return;
  }
  heard_from(from);
  ep->deliver_raft(from, m);
}

void Router::heard_from(NodeId from) {
  const uint32_t g = groups_->group_of(from);
  if (g == ClusterConfig::kNoGroup) return;
  believe(g, groups_->replica_index(from));
}

void Router::believe(uint32_t group, uint32_t replica) {
  guess_[group] = Guess{replica, std::chrono::steady_clock::now()};
}

bool Router::link_down(NodeId to) const { return to < remotes_.size() && remotes_[to] && remotes_[to]->down(); }

// A group's id becomes the replica believed to lead it. A replica whose
// link is down, or a group silent for longer than an election timeout,
// gives way to the next replica.
NodeId Router::resolve(NodeId to) {
  if (!groups_ || to >= groups_->groups()) return to;
  const ClusterConfig& c = *groups_;
  Guess& g = guess_[to];
  const auto now = std::chrono::steady_clock::now();
  if (now - g.since > silence_) g = Guess{(g.replica + 1) % c.replicas(), now};
  for (uint32_t tries = 0; tries < c.replicas() && link_down(c.replica_node(to, g.replica)); ++tries)
    g.replica = (g.replica + 1) % c.replicas();
  return c.replica_node(to, g.replica);
}

void Router::send_to(NodeId from, NodeId to, Channel channel, const Message& m, uint8_t hops, NodeId hint) {
  if (is_local(to)) {
    ++stats_.local_deliveries;
    local_queue_.push_back({from, to, channel, hops, hint, m});
    post_drain();
    return;
  }
  if (to < remotes_.size() && remotes_[to]) {
    if (channel == Channel::kRedirect)
      remotes_[to]->send([&](std::vector<uint8_t>& out) { encode_redirect_frame(from, to, m, hint, hops, out); });
    else
      remotes_[to]->send([&](std::vector<uint8_t>& out) { encode_frame(from, to, m, out, hops); });
    return;
  }
  ++stats_.frames_dropped;  // no route: a node id outside the cluster
}

void Router::send_raft(NodeId from, NodeId to, const raft::Msg& m) {
  if (is_local(to)) {
    ++stats_.local_deliveries;
    local_raft_.push_back({from, to, m});
    post_drain();
    return;
  }
  if (to < remotes_.size() && remotes_[to]) {
    remotes_[to]->send([&](std::vector<uint8_t>& out) { encode_raft_frame(from, to, config_id_, m, out); });
    return;
  }
  ++stats_.frames_dropped;
}

}  // namespace ws::net
