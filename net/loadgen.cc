#include "net/loadgen.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "core/txid.h"
#include "net/asio.h"
#include "net/http_parts.h"

namespace ws::net {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr auto kRetryDelay = std::chrono::milliseconds(100);

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

enum class TxState : uint8_t { kPending, kSuccess, kFailed, kRejected, kUnknown };

struct Tx {
  TxId id;
  std::string body;
  uint32_t from = 0, to = 0;
  uint32_t currency = 0;
  int64_t amount = 0;
  TxState state = TxState::kPending;
  uint32_t attempts = 0;
  Clock::time_point scheduled;
};

enum class JobKind : uint8_t { kTransfer, kStatus, kBalance };
struct Job {
  JobKind kind;
  uint32_t index;     // transaction, or account
  uint32_t currency;  // for balances
};

struct Target {
  std::string host, port;
  tcp::endpoint ep;
};

class Run;

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(Run& run, asio::io_context& io, size_t target) : run_(run), stream_(io), pause_(io), target_(target) {}
  void assign(const Job& job);
  bool idle() const { return !busy_; }

 private:
  void send();
  void fail(const std::string& why);
  void on_response();
  void send_redis();
  void read_redis_line(bool second);

  Run& run_;
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
  std::string http_req_;  // the request's bytes
  HttpParts answer_;  // status and body
  std::optional<PartsParser<false>> parser_;
  std::string redis_req_, redis_buf_;
  asio::steady_timer pause_;
  size_t target_;
  bool connected_ = false;
  bool busy_ = false;
  Job job_{};
};

class Run {
 public:
  explicit Run(const LoadOptions& o) : o_(o), rng_(std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32)) {}
  LoadReport go();

  // Called by connections.
  const Target& target(size_t i) const { return targets_[i % targets_.size()]; }
  size_t target_count() const { return targets_.size(); }
  void build(const Job& j, std::string& req) const;
  void build_redis(const Job& j, std::string& req) const;
  bool redis() const { return !o_.redis.empty(); }
  void on_answer(const Job& j, unsigned status, const std::string& body);
  void on_error(const Job& j);
  void released(Conn* c);
  uint32_t timeout_ms() const { return o_.timeout_ms; }

 private:
  bool parse_urls();
  void push(const Job& j);
  void retry_later(const Job& j);
  void finalize(Tx& t, TxState s);
  void new_transfer();
  void pump_until(const std::function<bool()>& done, Clock::time_point deadline);
  bool read_balances(std::vector<std::vector<int64_t>>& out, Clock::time_point deadline);
  void audit();
  std::string account(uint32_t a) const { return "acct-" + std::to_string(a); }

  LoadOptions o_;
  asio::io_context io_{1};
  // Keeps run_one_for() waiting instead of stopping the context whenever
  // there is momentarily nothing in flight between phases.
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::mt19937_64 rng_;
  std::vector<Target> targets_;
  std::vector<CurrencyInfo> currencies_;
  std::vector<std::shared_ptr<Conn>> conns_;
  std::deque<Job> ready_;
  std::vector<Tx> txs_;
  std::vector<double> latencies_ms_;
  std::vector<std::vector<int64_t>> balances_;  // [currency][account], filled by balance jobs
  std::vector<std::vector<bool>> have_balance_;
  size_t balances_missing_ = 0;
  uint64_t open_transfers_ = 0;  // planned, not yet final or given up
  uint64_t open_queries_ = 0;
  bool load_phase_ = false;
  Clock::time_point load_end_;
  Clock::time_point last_answer_;
  LoadReport rep_;
};

void Conn::assign(const Job& job) {
  busy_ = true;
  job_ = job;
  if (run_.redis()) {
    run_.build_redis(job_, redis_req_);
  } else {
    run_.build(job_, http_req_);
  }
  if (connected_) return send();
  auto self = shared_from_this();
  stream_.expires_after(std::chrono::milliseconds(run_.timeout_ms()));
  stream_.async_connect(run_.target(target_).ep, [self](boost::system::error_code ec) {
    if (ec) return self->fail("connect: " + ec.message());
    self->connected_ = true;
    boost::system::error_code ignored;
    self->stream_.socket().set_option(tcp::no_delay(true), ignored);
    self->send();
  });
}

void Conn::send() {
  if (run_.redis()) return send_redis();
  auto self = shared_from_this();
  stream_.expires_after(std::chrono::milliseconds(run_.timeout_ms()));
  asio::async_write(stream_, asio::buffer(http_req_), [self](boost::system::error_code ec, size_t) {
    if (ec) return self->fail("write: " + ec.message());
    self->parser_.emplace(self->answer_);
    self->parser_->body_limit(1 << 20);
    http::async_read(self->stream_, self->buf_, *self->parser_, [self](boost::system::error_code ec, size_t) {
      if (ec) return self->fail("read: " + ec.message());
      self->on_response();
    });
  });
}

void Conn::on_response() {
  if (!parser_->keep_alive()) {
    boost::system::error_code ec;
    stream_.socket().close(ec);
    connected_ = false;
  }
  Job j = job_;
  busy_ = false;
  run_.on_answer(j, answer_.status, answer_.body);
  run_.released(this);
}

// RESP: the request is an array of bulk strings; the answer to EVALSHA is a
// bulk string ("$7\r\nsuccess\r\n"), to GET a bulk string or nil.
void Conn::send_redis() {
  auto self = shared_from_this();
  stream_.expires_after(std::chrono::milliseconds(run_.timeout_ms()));
  asio::async_write(stream_, asio::buffer(redis_req_), [self](boost::system::error_code ec, size_t) {
    if (ec) return self->fail("write: " + ec.message());
    self->read_redis_line(false);
  });
}

void Conn::read_redis_line(bool second) {
  auto self = shared_from_this();
  asio::async_read_until(stream_, asio::dynamic_buffer(redis_buf_), "\r\n",
                         [self, second](boost::system::error_code ec, size_t n) {
    if (ec) return self->fail("read: " + ec.message());
    std::string line = self->redis_buf_.substr(0, n - 2);
    self->redis_buf_.erase(0, n);
    if (!second && !line.empty() && line[0] == '$' && line != "$-1") return self->read_redis_line(true);
    unsigned status = 200;
    std::string body;
    if (line.empty() || line[0] == '-') {
      status = 500;
      body = line;
    } else if (line == "$-1") {
      status = 404;
    } else {
      body = line[0] == '+' || line[0] == ':' ? line.substr(1) : line;
    }
    Job j = self->job_;
    self->busy_ = false;
    self->run_.on_answer(j, status, body);
    self->run_.released(self.get());
  });
}

// A broken connection: the job is retried (same transaction id) and this
// connection tries the next URL after a pause, so a dead server is not
// hammered and a live one takes over.
void Conn::fail(const std::string&) {
  boost::system::error_code ec;
  stream_.socket().close(ec);
  connected_ = false;
  buf_.clear();
  redis_buf_.clear();
  Job j = job_;
  run_.on_error(j);
  target_ = (target_ + 1) % run_.target_count();
  pause_.expires_after(std::chrono::milliseconds(50));
  pause_.async_wait([self = shared_from_this()](boost::system::error_code) {
    self->busy_ = false;
    self->run_.released(self.get());
  });
}

bool Run::parse_urls() {
  if (redis()) {
    size_t colon = o_.redis.rfind(':');
    if (!o_.urls.empty()) return rep_.fatal = "give either --url or --redis, not both", false;
    if (colon == std::string::npos) return rep_.fatal = "--redis " + quote_input(o_.redis) + ": expected host:port", false;
    if (o_.redis_sha.size() != 40) return rep_.fatal = "--redis-sha: expected the 40-hex-digit SHA1 of the loaded script", false;
    if (currencies_.size() != 1) return rep_.fatal = "--redis: one currency only", false;
    o_.urls.push_back("http://" + o_.redis);
  }
  for (const std::string& u : o_.urls) {
    const std::string prefix = "http://";
    if (u.rfind(prefix, 0) != 0) return rep_.fatal = "--url " + quote_input(u) + ": must start with http://", false;
    std::string rest = u.substr(prefix.size());
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos || rest.find('/') != std::string::npos)
      return rep_.fatal = "--url " + quote_input(u) + ": expected http://host:port", false;
    Target t{rest.substr(0, colon), rest.substr(colon + 1), {}};
    boost::system::error_code ec;
    tcp::resolver r(io_);
    auto res = r.resolve(t.host, t.port, ec);
    if (ec || res.empty()) return rep_.fatal = "--url " + quote_input(u) + ": cannot resolve: " + ec.message(), false;
    t.ep = res.begin()->endpoint();
    targets_.push_back(t);
  }
  if (targets_.empty()) return rep_.fatal = "give at least one --url", false;
  return true;
}

// The request written by hand, as Beast's serializer wrote it: request
// line, Host, and for a transfer its JSON body with type and length.
void Run::build(const Job& j, std::string& req) const {
  req.clear();
  if (j.kind == JobKind::kTransfer) {
    const std::string& body = txs_[j.index].body;
    req += "POST /v1/wallet/balance_transfer HTTP/1.1\r\nHost: ";
    req += targets_[0].host;
    req += "\r\nContent-Type: application/json\r\nContent-Length: ";
    req += std::to_string(body.size());
    req += "\r\n\r\n";
    req += body;
    return;
  }
  if (j.kind == JobKind::kStatus) {
    req += "GET /v1/wallet/transaction/";
    append_txid(req, txs_[j.index].id);
  } else {
    req += "GET /v1/wallet/balance?account=" + account(j.index) + "&currency=" + currencies_[j.currency].code;
  }
  req += " HTTP/1.1\r\nHost: ";
  req += targets_[0].host;
  req += "\r\n\r\n";
}

namespace {
void resp(std::string& out, std::initializer_list<std::string_view> args) {
  out += "*" + std::to_string(args.size()) + "\r\n";
  for (std::string_view a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out.append(a);
    out += "\r\n";
  }
}
std::string redis_key(uint32_t account) {
  char k[32];
  std::snprintf(k, sizeof k, "acct:%012u", account);
  return k;
}
}  // namespace

void Run::build_redis(const Job& j, std::string& req) const {
  req.clear();
  if (j.kind == JobKind::kBalance) return resp(req, {"GET", redis_key(j.index)});
  const Tx& t = txs_[j.index];
  const std::string tx = "tx:" + format_txid(t.id);
  if (j.kind == JobKind::kStatus) return resp(req, {"GET", tx});
  resp(req, {"EVALSHA", o_.redis_sha, "3", redis_key(t.from), redis_key(t.to), tx, std::to_string(t.amount)});
}

void Run::push(const Job& j) {
  for (auto& c : conns_) {
    if (c->idle()) return c->assign(j);
  }
  ready_.push_back(j);
}

void Run::released(Conn* c) {
  if (!c->idle() || ready_.empty()) return;
  Job j = ready_.front();
  ready_.pop_front();
  c->assign(j);
}

void Run::retry_later(const Job& j) {
  auto t = std::make_shared<asio::steady_timer>(io_, kRetryDelay);
  t->async_wait([this, t, j](boost::system::error_code) {
    if (j.kind == JobKind::kTransfer && txs_[j.index].state != TxState::kPending) return;
    push(j);
  });
}

void Run::finalize(Tx& t, TxState s) {
  if (t.state != TxState::kPending && t.state != TxState::kUnknown) return;
  bool was_open = t.state == TxState::kPending;
  t.state = s;
  std::string().swap(t.body);  // final: never sent again; keeps long runs small
  auto now = Clock::now();
  if (s == TxState::kSuccess) ++rep_.success;
  if (s == TxState::kFailed) ++rep_.failed;
  if (s == TxState::kRejected) ++rep_.rejected;
  if (was_open) {
    --open_transfers_;
    latencies_ms_.push_back(ms_between(t.scheduled, now));
    last_answer_ = now;
  }
  if (load_phase_ && o_.rate == 0 && now < load_end_) new_transfer();
}

void Run::on_error(const Job& j) {
  ++rep_.http_errors;
  if (j.kind == JobKind::kTransfer) {
    Tx& t = txs_[j.index];
    if (t.state != TxState::kPending) return;
    if (++t.attempts >= o_.max_attempts) {
      t.state = TxState::kUnknown;  // resolved by a status query later
      --open_transfers_;
      return;
    }
    ++rep_.retries;
  }
  retry_later(j);
}

// The status field of an answer. Transfer answers are the hot path: they
// are matched as walletd writes them before falling back to a JSON parse.
std::string answer_status(const std::string& body, json& parsed, bool& have_parsed) {
  constexpr std::string_view kHead = "{\"status\":\"";
  if (body.compare(0, kHead.size(), kHead) == 0) {
    size_t end = body.find('"', kHead.size());
    if (end != std::string::npos) return body.substr(kHead.size(), end - kHead.size());
  }
  parsed = json::parse(body, nullptr, false);
  have_parsed = true;
  return parsed.is_object() && parsed.contains("status") && parsed["status"].is_string()
             ? parsed["status"].get<std::string>()
             : "";
}

void Run::on_answer(const Job& j, unsigned status, const std::string& body) {
  json r;
  bool parsed = false;
  std::string st;
  if (redis() && j.kind != JobKind::kBalance) {
    // A transfer answers its outcome; a status GET of an unknown id is nil
    // (404 here): the script never ran for it, so it is final as not applied.
    st = status == 404 ? "failed" : body;
    if (status == 404) status = 200;
  } else {
    st = j.kind == JobKind::kBalance ? "" : answer_status(body, r, parsed);
  }
  if (j.kind == JobKind::kBalance && !redis()) r = json::parse(body, nullptr, false);
  if (j.kind == JobKind::kBalance && redis() && status == 200) {
    char* end = nullptr;
    long long v = std::strtoll(body.c_str(), &end, 10);
    if (end && *end == '\0' && !body.empty() && !have_balance_[j.currency][j.index]) {
      balances_[j.currency][j.index] = v;
      have_balance_[j.currency][j.index] = true;
      --balances_missing_;
      return;
    }
  }
  if (j.kind == JobKind::kBalance) {
    if (status == 200 && r.is_object() && r.contains("balance") && r["balance"].is_string()) {
      AmountParse a = parse_amount(r["balance"].get<std::string>(), currencies_[j.currency]);
      if (a.amount && !have_balance_[j.currency][j.index]) {
        balances_[j.currency][j.index] = a.amount->minor;
        have_balance_[j.currency][j.index] = true;
        --balances_missing_;
        return;
      }
    }
    if (status >= 400 && status < 500) {
      rep_.fatal = "GET balance of " + account(j.index) + " answered " + std::to_string(status) + ": " + body;
      --balances_missing_;
      return;
    }
    ++rep_.http_errors;
    return retry_later(j);
  }
  Tx& t = txs_[j.index];
  if (j.kind == JobKind::kStatus) {
    --open_queries_;
    if (status == 200 && (st == "success" || st == "failed")) {
      return finalize(t, st == "success" ? TxState::kSuccess : TxState::kFailed);
    }
    ++open_queries_;
    if (status != 200) ++rep_.http_errors;
    return retry_later(j);  // in progress, or no answer: ask again
  }
  if (status == 200 && (st == "success" || st == "failed"))
    return finalize(t, st == "success" ? TxState::kSuccess : TxState::kFailed);
  if (status >= 400 && status < 500) {
    if (status == 404 && rep_.fatal.empty()) rep_.fatal = "a transfer was refused with 404: " + body;
    return finalize(t, TxState::kRejected);
  }
  on_error(j);  // 5xx (504: no answer in time) -> same transaction id again
}

void Run::new_transfer() {
  Tx t;
  t.id = make_v4_txid(rng_(), rng_());
  t.from = static_cast<uint32_t>(rng_() % o_.accounts);
  t.to = static_cast<uint32_t>(rng_() % (o_.accounts - 1));
  if (t.to >= t.from) ++t.to;
  t.currency = static_cast<uint32_t>(rng_() % currencies_.size());
  // The amount follows from the id, so a duplicate application of one
  // transfer always moves the same, known amount.
  t.amount = 1 + static_cast<int64_t>(t.id.lo % o_.max_amount_minor);
  const CurrencyInfo& c = currencies_[t.currency];
  json b = {{"transaction_id", format_txid(t.id)},
            {"from_account", account(t.from)},
            {"to_account", account(t.to)},
            {"amount", format_amount(Amount{t.amount}, c)},
            {"currency", c.code}};
  t.body = b.dump();
  t.scheduled = Clock::now();
  txs_.push_back(std::move(t));
  ++open_transfers_;
  ++rep_.planned;
  push(Job{JobKind::kTransfer, static_cast<uint32_t>(txs_.size() - 1), 0});
}

void Run::pump_until(const std::function<bool()>& done, Clock::time_point deadline) {
  while (!done() && Clock::now() < deadline) {
    io_.run_one_for(std::chrono::milliseconds(5));
  }
}

bool Run::read_balances(std::vector<std::vector<int64_t>>& out, Clock::time_point deadline) {
  balances_.assign(currencies_.size(), std::vector<int64_t>(o_.accounts, 0));
  have_balance_.assign(currencies_.size(), std::vector<bool>(o_.accounts, false));
  balances_missing_ = currencies_.size() * o_.accounts;
  for (uint32_t c = 0; c < currencies_.size(); ++c)
    for (uint32_t a = 0; a < o_.accounts; ++a) push(Job{JobKind::kBalance, a, c});
  pump_until([&] { return balances_missing_ == 0; }, deadline);
  out = balances_;
  return balances_missing_ == 0 && rep_.fatal.empty();
}

LoadReport Run::go() {
  for (const std::string& code : o_.currencies) {
    auto c = find_currency(code);
    if (!c) return rep_.fatal = "--currencies: " + quote_input(code) + " is not an ISO 4217 code", rep_;
    currencies_.push_back(*c);
  }
  if (!parse_urls()) return rep_;
  for (uint32_t i = 0; i < o_.connections; ++i)
    conns_.push_back(std::make_shared<Conn>(*this, io_, i % targets_.size()));
  std::vector<std::vector<int64_t>> initial;
  if (o_.audit && !read_balances(initial, Clock::now() + std::chrono::seconds(60))) {
    if (rep_.fatal.empty()) rep_.fatal = "could not read the initial balances (is walletd up?)";
    return rep_;
  }
  // Load: open loop on a fixed schedule, or closed loop.
  const auto t0 = Clock::now();
  load_end_ = t0 + std::chrono::microseconds(static_cast<int64_t>(o_.duration_s * 1e6));
  load_phase_ = true;
  const uint64_t total = o_.rate > 0 ? static_cast<uint64_t>(std::llround(o_.rate * o_.duration_s)) : 0;
  if (o_.rate == 0) {
    for (uint32_t i = 0; i < o_.connections; ++i) new_transfer();
  }
  asio::steady_timer tick(io_);
  std::function<void()> arm = [&] {
    tick.expires_after(std::chrono::microseconds(500));
    tick.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      auto now = Clock::now();
      uint64_t due = std::min<uint64_t>(total, static_cast<uint64_t>(ms_between(t0, now) / 1000.0 * o_.rate));
      while (rep_.planned < due) {
        new_transfer();
        // The schedule, not the send time, is when a transfer started:
        // latency includes any time spent waiting for a free connection.
        txs_.back().scheduled = t0 + std::chrono::nanoseconds(static_cast<int64_t>((rep_.planned - 1) * 1e9 / o_.rate));
      }
      if (rep_.planned < total) arm();
    });
  };
  if (o_.rate > 0) arm();
  uint64_t last_print_s = 0;
  pump_until([&] {
    auto now = Clock::now();
    uint64_t s = static_cast<uint64_t>(ms_between(t0, now) / 1000);
    const bool watch = (o_.watch_pid || !o_.watch_dir.empty()) && s % o_.watch_every_s == 0;
    if ((!o_.quiet || watch) && s > last_print_s && now < load_end_) {
      last_print_s = s;
      std::string extra;
      if (watch && o_.watch_pid) {
        char b[64];
        std::snprintf(b, sizeof b, ", walletd RSS %.1f MiB", static_cast<double>(process_rss_bytes(o_.watch_pid)) / (1 << 20));
        extra += b;
      }
      if (watch && !o_.watch_dir.empty()) {
        DirBytes d = data_dir_bytes(o_.watch_dir);
        char b[96];
        std::snprintf(b, sizeof b, ", data live %.1f MiB, archive %.1f MiB", static_cast<double>(d.live) / (1 << 20),
                      static_cast<double>(d.archive) / (1 << 20));
        extra += b;
      }
      std::fprintf(stderr, "walletload: %llus: %llu sent, %llu answered, %llu open, %llu retries%s\n",
                   static_cast<unsigned long long>(s), static_cast<unsigned long long>(rep_.planned),
                   static_cast<unsigned long long>(rep_.success + rep_.failed + rep_.rejected),
                   static_cast<unsigned long long>(open_transfers_), static_cast<unsigned long long>(rep_.retries),
                   extra.c_str());
    }
    return now >= load_end_ && rep_.planned >= total;
  }, load_end_ + std::chrono::seconds(1));
  load_phase_ = false;
  // Drain: wait for every planned transfer's answer (retries included).
  pump_until([&] { return open_transfers_ == 0; }, Clock::now() + std::chrono::seconds(o_.settle_s));
  auto t_end = open_transfers_ == 0 ? std::max(last_answer_, t0) : Clock::now();
  rep_.elapsed_s = std::max(ms_between(t0, t_end) / 1000.0, 1e-9);
  rep_.achieved_tps = static_cast<double>(rep_.success + rep_.failed) / rep_.elapsed_s;
  std::sort(latencies_ms_.begin(), latencies_ms_.end());
  auto pct = [&](double p) {
    if (latencies_ms_.empty()) return 0.0;
    size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(latencies_ms_.size()))) ;
    return latencies_ms_[std::min(latencies_ms_.size() - 1, i == 0 ? 0 : i - 1)];
  };
  rep_.p50_ms = pct(0.5);
  rep_.p99_ms = pct(0.99);
  rep_.p999_ms = pct(0.999);
  rep_.max_ms = latencies_ms_.empty() ? 0 : latencies_ms_.back();
  if (!o_.audit || !rep_.fatal.empty()) return rep_;
  // Resolve every transfer without a final answer by its status.
  for (uint32_t i = 0; i < txs_.size(); ++i) {
    if (txs_[i].state == TxState::kPending) {
      txs_[i].state = TxState::kUnknown;
      --open_transfers_;
    }
    if (txs_[i].state == TxState::kUnknown) {
      ++open_queries_;
      ++rep_.status_queries;
      push(Job{JobKind::kStatus, i, 0});
    }
  }
  pump_until([&] { return open_queries_ == 0; }, Clock::now() + std::chrono::seconds(o_.settle_s));
  for (const Tx& t : txs_) rep_.unknown += t.state == TxState::kUnknown ? 1 : 0;
  rep_.audit_ran = true;
  // Expected balances from the answers alone.
  std::vector<std::vector<int64_t>> expected = initial;
  for (const Tx& t : txs_) {
    if (t.state != TxState::kSuccess) continue;
    expected[t.currency][t.from] -= t.amount;
    expected[t.currency][t.to] += t.amount;
  }
  if (rep_.unknown > 0)
    rep_.audit_problems.push_back(std::to_string(rep_.unknown) + " transfers have no final status after " +
                                  std::to_string(o_.settle_s) + " s");
  // Phase 2 may still be finishing: read until the balances match or time runs out.
  std::vector<std::vector<int64_t>> final_bal;
  auto deadline = Clock::now() + std::chrono::seconds(o_.settle_s);
  bool match = false;
  for (;;) {
    std::vector<std::vector<int64_t>> got;
    if (!read_balances(got, Clock::now() + std::chrono::seconds(30))) break;
    final_bal = std::move(got);
    match = final_bal == expected;
    if (match || Clock::now() >= deadline) break;
    asio::steady_timer pause(io_, std::chrono::milliseconds(300));
    pause.wait();
  }
  if (final_bal.size() != currencies_.size()) {
    rep_.audit_problems.push_back("could not read the final balances");
    return rep_;
  }
  for (size_t c = 0; c < currencies_.size(); ++c) {
    int64_t init_sum = 0, final_sum = 0;
    for (uint32_t a = 0; a < o_.accounts; ++a) {
      init_sum += initial[c][a];
      final_sum += final_bal[c][a];
    }
    if (init_sum != final_sum)
      rep_.audit_problems.push_back(std::string("conservation: total ") + currencies_[c].code + " was " +
                                    format_amount(Amount{init_sum}, currencies_[c]) + ", now " +
                                    format_amount(Amount{final_sum}, currencies_[c]));
    int shown = 0;
    uint32_t wrong = 0;
    for (uint32_t a = 0; a < o_.accounts; ++a) {
      if (final_bal[c][a] == expected[c][a]) continue;
      ++wrong;
      if (shown++ < 8)
        rep_.audit_problems.push_back(account(a) + " " + currencies_[c].code + ": expected " +
                                      format_amount(Amount{expected[c][a]}, currencies_[c]) +
                                      " from the successful transfers, found " +
                                      format_amount(Amount{final_bal[c][a]}, currencies_[c]) +
                                      (final_bal[c][a] < expected[c][a] ? " (money lost or a failed transfer applied)"
                                                                        : " (a transfer applied twice, or applied though not reported)"));
    }
    if (wrong > 8) rep_.audit_problems.push_back("... " + std::to_string(wrong) + " accounts differ in " + currencies_[c].code);
  }
  rep_.audit_ok = match && rep_.audit_problems.empty();
  return rep_;
}

}  // namespace

uint64_t process_rss_bytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  return 0;
}

DirBytes data_dir_bytes(const std::string& dir) {
  namespace fs = std::filesystem;
  DirBytes out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const uint64_t n = it->file_size(ec);
    if (ec) {
      ec.clear();
      continue;
    }
    (it->path().parent_path().filename() == "archive" ? out.archive : out.live) += n;
  }
  return out;
}

LoadReport run_load(const LoadOptions& opts) {
  Run r(opts);
  return r.go();
}

}  // namespace ws::net
