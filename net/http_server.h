// The HTTP API over Boost.Beast: keep-alive sessions, a body size limit, and
// a service that turns each parsed request (net/api.h) into a call on the
// Frontend and the answer into JSON. Every malformed request gets a 4xx with
// a JSON error and the server keeps serving.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/cluster.h"
#include "net/api.h"
#include "net/asio.h"
#include "net/frontend.h"
#include "net/metrics.h"

namespace ws::net {

class HttpService {
 public:
  // One connection's way back for the request it is waiting on: the
  // service answers each request it is given exactly once, at once or when
  // the engine replies (as the Frontend's waiter).
  class Exchange : public Frontend::Waiter {
   public:
    explicit Exchange(HttpService& service) : service_(service) {}
    virtual void answer(unsigned status, std::string_view body, const char* content_type) = 0;
    void done(const Message* reply, const Message& request) final { service_.finish(reply, request, *this); }

   protected:
    ~Exchange() = default;
    HttpService& service() { return service_; }

   private:
    friend class HttpService;
    HttpService& service_;
    std::string body_;  // the answer's body, built here and reused
  };
  // Appends gauge and counter lines from the rest of the process to /metrics.
  using MetricsExtra = std::function<void(std::string& out)>;

  HttpService(const ClusterConfig& cfg, Frontend& frontend, Metrics& metrics, MetricsExtra extra);
  void handle(std::string_view method, std::string_view target, std::string_view body,
              const std::shared_ptr<Exchange>& ex);
  Metrics& metrics() { return metrics_; }

 private:
  // The engine's reply (null: none within the deadline) to a request.
  void finish(const Message* reply, const Message& request, Exchange& ex);
  void fail(const ApiError& e, Exchange& ex);
  std::string render_metrics() const;

  const ClusterConfig& cfg_;
  Frontend& frontend_;
  Metrics& metrics_;
  MetricsExtra extra_;
};

class HttpServer {
 public:
  HttpServer(asio::io_context& io, HttpService& service);
  bool listen(const std::string& host, uint16_t port, std::string& error);
  uint16_t port() const;

 private:
  void accept();
  asio::io_context& io_;
  HttpService& service_;
  std::unique_ptr<tcp::acceptor> acceptor_;
};

}  // namespace ws::net
