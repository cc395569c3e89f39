#include "net/http_server.h"

#include <charconv>
#include <chrono>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/money.h"
#include "net/http_parts.h"
#include "net/listen.h"

namespace ws::net {
namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr const char* kJson = "application/json";

// A keep-alive connection. The idle timeout is one timer per connection
// that wakes once per timeout period and closes the connection if nothing
// was read or written for that long, rather than a deadline set (and an
// operation allocated) around every read and write.
class Session final : public HttpService::Exchange, public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket s, HttpService& service)
      : Exchange(service), socket_(std::move(s)), idle_(socket_.get_executor()) {
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
  }
  void start() {
    read();
    watch_idle();
  }

  void answer(unsigned status, std::string_view body, const char* type) override {
    write(status, body, type, keep_alive_);
  }

 private:
  using Clock = std::chrono::steady_clock;

  void read() {
    parser_.emplace(req_);
    parser_->body_limit(kMaxBodyBytes);
    parser_->header_limit(16 * 1024);
    http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](auto ec, size_t) {
      self->on_read(ec);
    });
  }

  void watch_idle() {
    idle_.expires_at(active_ + kIdleTimeout);
    idle_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || !self->socket_.is_open()) return;
      if (Clock::now() - self->active_ >= kIdleTimeout) return self->close();
      self->watch_idle();
    });
  }

  void on_read(boost::system::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset)
      return close();
    if (ec == http::error::body_limit) {
      ++service().metrics().http_requests;
      ++service().metrics().http_4xx;
      ApiError e{413, "body_too_large",
                 "request body is over the limit of " + std::to_string(kMaxBodyBytes) + " bytes"};
      return write(413, error_body(e), kJson, false);
    }
    if (ec) {
      ++service().metrics().http_requests;
      ++service().metrics().http_4xx;
      ApiError e{400, "malformed_http", "cannot parse the HTTP request: " + ec.message()};
      return write(400, error_body(e), kJson, false);
    }
    active_ = Clock::now();
    keep_alive_ = parser_->keep_alive();
    version_ = req_.version;
    service().handle(req_.method, req_.target, req_.body, shared_from_this());
  }

  // The answer is written by hand into one reused buffer: a status line,
  // four or five headers and the body, the same bytes Beast's serializer
  // wrote, without building a header map per answer.
  void write(unsigned status, std::string_view body, const char* type, bool keep_alive) {
    const auto reason = http::obsolete_reason(static_cast<http::status>(status));
    auto number = [this](size_t v) {
      char text[24];
      out_.append(text, static_cast<size_t>(std::to_chars(text, text + sizeof text, v).ptr - text));
    };
    out_.clear();
    out_ += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    number(status);
    out_ += ' ';
    out_.append(reason.data(), reason.size());
    out_ += "\r\nServer: walletd\r\nContent-Type: ";
    out_ += type;
    out_ += "\r\nContent-Length: ";
    number(body.size());
    if (!keep_alive && version_ != 10) out_ += "\r\nConnection: close";
    if (keep_alive && version_ == 10) out_ += "\r\nConnection: keep-alive";
    out_ += "\r\n\r\n";
    out_ += body;
    active_ = Clock::now();
    asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this(), keep_alive](auto ec, size_t) {
      if (ec || !keep_alive) return self->close();
      self->read();
    });
  }

  void close() {
    boost::system::error_code ec;
    idle_.cancel();
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
  }

  tcp::socket socket_;
  asio::steady_timer idle_;
  Clock::time_point active_ = Clock::now();  // the last request read or answer begun
  beast::flat_buffer buffer_;
  HttpParts req_;
  std::optional<PartsParser<true>> parser_;
  std::string out_;  // the answer being written
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

}  // namespace

HttpService::HttpService(const ClusterConfig& cfg, Frontend& frontend, Metrics& metrics, MetricsExtra extra)
    : cfg_(cfg), frontend_(frontend), metrics_(metrics), extra_(std::move(extra)) {}

void HttpService::fail(const ApiError& e, Exchange& ex) {
  if (e.status >= 500) {
    ++metrics_.http_5xx;
  } else {
    ++metrics_.http_4xx;
  }
  ex.answer(e.status, error_body(e), kJson);
}

void HttpService::handle(std::string_view method, std::string_view target, std::string_view body,
                         const std::shared_ptr<Exchange>& ex) {
  ++metrics_.http_requests;
  ApiCall call = parse_api_request(method, target, body, cfg_);
  if (auto* e = std::get_if<ApiError>(&call)) {
    if (e->status == 400 || e->status == 404 || e->status == 413) {
      // A transfer rejected before it reached the engine.
      if (target.substr(0, 27) == "/v1/wallet/balance_transfer") ++metrics_.transfers_rejected;
    }
    return fail(*e, *ex);
  }
  if (auto* t = std::get_if<TransferCall>(&call)) return frontend_.transfer(t->request, ex);
  if (auto* s = std::get_if<StatusCall>(&call)) return frontend_.status(s->tx, ex);
  if (auto* b = std::get_if<BalanceCall>(&call)) return frontend_.balance(b->account, b->currency, ex);
  if (std::holds_alternative<MetricsCall>(call))
    return ex->answer(200, render_metrics(), "text/plain; version=0.0.4");
  ex->answer(200, "{\"status\":\"ok\"}", kJson);
}

void HttpService::finish(const Message* m, const Message& request, Exchange& ex) {
  const bool has_tx = request.kind != MsgKind::kBalanceRead;
  if (!m) {
    if (request.kind == MsgKind::kTransferRequest) ++metrics_.transfers_timeout;
    ++metrics_.http_5xx;
    nlohmann::json j = {{"error", "timeout"},
                        {"message", std::string("no answer from the ") +
                                        (has_tx ? "owning coordinator" : "owning partition") + " within " +
                                        std::to_string(Frontend::kDeadline / kSecond) +
                                        " s; the outcome is unknown: retry with the same "
                                        "transaction_id or query its status"}};
    if (has_tx) j["transaction_id"] = format_txid(request.tx);
    return ex.answer(504, j.dump(), kJson);
  }
  if (request.kind == MsgKind::kTransferRequest || request.kind == MsgKind::kStatusQuery) {
    unsigned status = 200;
    write_outcome_body(*m, request.tx, status, ex.body_);
    if (request.kind == MsgKind::kTransferRequest) {
      if (m->outcome == Outcome::kSuccess) ++metrics_.transfers_success;
      if (m->outcome == Outcome::kFailed) ++metrics_.transfers_failed;
      if (m->outcome == Outcome::kRejected) ++metrics_.transfers_rejected;
      if (status >= 400) ++metrics_.http_4xx;
    }
    return ex.answer(status, ex.body_, kJson);
  }
  if (m->outcome != Outcome::kSuccess) {
    return fail(ApiError{500, "misrouted", "the partition does not own this account (cluster files differ?)"}, ex);
  }
  const CurrencyInfo& cur = cfg_.currencies[request.currency];
  nlohmann::json j = {{"account", ClusterConfig::account_name(request.account)},
                      {"currency", cur.code},
                      {"balance", format_amount(m->amount, cur)}};
  ex.answer(200, j.dump(), kJson);
}

std::string HttpService::render_metrics() const {
  std::string out;
  auto counter = [&](const char* name, const char* help, const char* labels, uint64_t v, bool head) {
    if (head) out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
    out += std::string(name) + labels + " " + std::to_string(v) + "\n";
  };
  const char* t = "walletd_transfers_total";
  counter(t, "Transfers answered through this front end, by outcome.", "{outcome=\"success\"}",
          metrics_.transfers_success, true);
  counter(t, "", "{outcome=\"failed\"}", metrics_.transfers_failed, false);
  counter(t, "", "{outcome=\"rejected\"}", metrics_.transfers_rejected, false);
  counter(t, "", "{outcome=\"timeout\"}", metrics_.transfers_timeout, false);
  metrics_.transfer_latency.render(out, "walletd_transfer_latency_seconds",
                                   "Time from receiving a transfer to its answer.");
  out += "# HELP walletd_transfers_in_flight Requests waiting for the engine.\n"
         "# TYPE walletd_transfers_in_flight gauge\n"
         "walletd_transfers_in_flight " + std::to_string(frontend_.in_flight()) + "\n";
  counter("walletd_http_requests_total", "HTTP requests received.", "", metrics_.http_requests, true);
  counter("walletd_http_errors_total", "HTTP error answers by class.", "{class=\"4xx\"}", metrics_.http_4xx, true);
  counter("walletd_http_errors_total", "", "{class=\"5xx\"}", metrics_.http_5xx, false);
  counter("walletd_engine_resends_total", "Requests resent to a coordinator or partition.", "",
          metrics_.resends, true);
  if (extra_) extra_(out);
  return out;
}

HttpServer::HttpServer(asio::io_context& io, HttpService& service) : io_(io), service_(service) {}

bool HttpServer::listen(const std::string& host, uint16_t port, std::string& error) {
  acceptor_ = open_acceptor(io_, host, port, "HTTP", error);
  if (!acceptor_) return false;
  accept();
  return true;
}

uint16_t HttpServer::port() const { return acceptor_ ? acceptor_->local_endpoint().port() : 0; }

void HttpServer::accept() {
  acceptor_->async_accept([this](boost::system::error_code ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(std::move(s), service_)->start();
    accept();
  });
}

}  // namespace ws::net
