#include "net/http_server.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "core/money.h"
#include "net/listen.h"

namespace ws::net {
namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr const char* kJson = "application/json";

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket s, HttpService& service) : stream_(std::move(s)), service_(service) {
    boost::system::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
  }
  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](auto ec, size_t) {
      self->on_read(ec);
    });
  }

  void on_read(boost::system::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == beast::error::timeout || ec == asio::error::connection_reset)
      return close();
    if (ec == http::error::body_limit) {
      ++service_.metrics().http_requests;
      ++service_.metrics().http_4xx;
      ApiError e{413, "body_too_large",
                 "request body is over the limit of " + std::to_string(kMaxBodyBytes) + " bytes"};
      return write(413, error_body(e), kJson, false);
    }
    if (ec) {
      ++service_.metrics().http_requests;
      ++service_.metrics().http_4xx;
      ApiError e{400, "malformed_http", "cannot parse the HTTP request: " + ec.message()};
      return write(400, error_body(e), kJson, false);
    }
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    auto method = req.method_string();
    auto target = req.target();
    service_.handle(std::string_view(method.data(), method.size()),
                    std::string_view(target.data(), target.size()), req.body(),
                    [self = shared_from_this()](unsigned status, std::string body, const char* type) {
                      self->write(status, std::move(body), type, self->keep_alive_);
                    });
  }

  // The answer is written by hand into one reused buffer: a status line,
  // four or five headers and the body, the same bytes Beast's serializer
  // wrote, without building a header map per answer.
  void write(unsigned status, std::string body, const char* type, bool keep_alive) {
    const auto reason = http::obsolete_reason(static_cast<http::status>(status));
    out_.clear();
    out_ += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    out_ += std::to_string(status);
    out_ += ' ';
    out_.append(reason.data(), reason.size());
    out_ += "\r\nServer: walletd\r\nContent-Type: ";
    out_ += type;
    out_ += "\r\nContent-Length: ";
    out_ += std::to_string(body.size());
    if (!keep_alive && version_ != 10) out_ += "\r\nConnection: close";
    if (keep_alive && version_ == 10) out_ += "\r\nConnection: keep-alive";
    out_ += "\r\n\r\n";
    out_ += body;
    stream_.expires_after(kIdleTimeout);
    asio::async_write(stream_, asio::buffer(out_), [self = shared_from_this(), keep_alive](auto ec, size_t) {
      if (ec || !keep_alive) return self->close();
      self->read();
    });
  }

  void close() {
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  HttpService& service_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string out_;  // the answer being written
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

}  // namespace

HttpService::HttpService(const ClusterConfig& cfg, Frontend& frontend, Metrics& metrics, MetricsExtra extra)
    : cfg_(cfg), frontend_(frontend), metrics_(metrics), extra_(std::move(extra)) {}

void HttpService::handle(std::string_view method, std::string_view target, std::string_view body,
                         Reply reply) {
  ++metrics_.http_requests;
  ApiCall call = parse_api_request(method, target, body, cfg_);
  auto fail = [&](const ApiError& e) {
    if (e.status >= 500) {
      ++metrics_.http_5xx;
    } else {
      ++metrics_.http_4xx;
    }
    reply(e.status, error_body(e), kJson);
  };
  auto timeout = [this, reply](const TxId* tx, const char* what) {
    ++metrics_.http_5xx;
    nlohmann::json j = {{"error", "timeout"},
                        {"message", std::string("no answer from the ") + what + " within " +
                                        std::to_string(Frontend::kDeadline / kSecond) +
                                        " s; the outcome is unknown: retry with the same "
                                        "transaction_id or query its status"}};
    if (tx) j["transaction_id"] = format_txid(*tx);
    reply(504, j.dump(), kJson);
  };
  if (auto* e = std::get_if<ApiError>(&call)) {
    if (e->status == 400 || e->status == 404 || e->status == 413) {
      // A transfer rejected before it reached the engine.
      if (target.substr(0, 27) == "/v1/wallet/balance_transfer") ++metrics_.transfers_rejected;
    }
    return fail(*e);
  }
  if (auto* t = std::get_if<TransferCall>(&call)) {
    TxId tx = t->tx;
    frontend_.transfer(t->request, [this, reply, tx, timeout](const Message* m) {
      if (!m) {
        ++metrics_.transfers_timeout;
        return timeout(&tx, "owning coordinator");
      }
      unsigned status = 200;
      std::string body = outcome_body(*m, tx, status);
      if (m->outcome == Outcome::kSuccess) ++metrics_.transfers_success;
      if (m->outcome == Outcome::kFailed) ++metrics_.transfers_failed;
      if (m->outcome == Outcome::kRejected) ++metrics_.transfers_rejected;
      if (status >= 400) ++metrics_.http_4xx;
      reply(status, std::move(body), kJson);
    });
    return;
  }
  if (auto* s = std::get_if<StatusCall>(&call)) {
    TxId tx = s->tx;
    frontend_.status(tx, [reply, tx, timeout](const Message* m) {
      if (!m) return timeout(&tx, "owning coordinator");
      unsigned status = 200;
      reply(status, outcome_body(*m, tx, status), kJson);
    });
    return;
  }
  if (auto* b = std::get_if<BalanceCall>(&call)) {
    BalanceCall q = *b;
    frontend_.balance(q.account, q.currency, [this, reply, q, timeout](const Message* m) {
      if (!m) return timeout(nullptr, "owning partition");
      if (m->outcome != Outcome::kSuccess) {
        ++metrics_.http_5xx;
        ApiError e{500, "misrouted", "the partition does not own this account (cluster files differ?)"};
        return reply(500, error_body(e), kJson);
      }
      const CurrencyInfo& cur = cfg_.currencies[q.currency];
      nlohmann::json j = {{"account", ClusterConfig::account_name(q.account)},
                          {"currency", cur.code},
                          {"balance", format_amount(m->amount, cur)}};
      reply(200, j.dump(), kJson);
    });
    return;
  }
  if (std::holds_alternative<MetricsCall>(call))
    return reply(200, render_metrics(), "text/plain; version=0.0.4");
  reply(200, "{\"status\":\"ok\"}", kJson);
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
