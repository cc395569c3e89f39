// One walletd process: the engine nodes it runs (one for --node, all of
// them for --local), their logs, the router, and an HTTP front end for each
// coordinator that has an HTTP port. In --local mode every node is in this
// process and messages go between them in memory (no TCP at all).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "net/asio.h"
#include "net/cluster_file.h"
#include "net/engine_node.h"
#include "net/frontend.h"
#include "net/http_server.h"
#include "net/transport.h"

namespace ws::net {

struct ServerOptions {
  std::vector<std::string> nodes;  // names of the nodes to run here
  std::string data_dir;
  bool in_process = false;         // every node here; no peer TCP
  bool shared_log = false;         // every node here writes one log, DATA/local.*.log (one fsync for all)
  bool fsync = true;
  // Replica groups: create each node's log as a new replica's (formatted)
  // and stop; start() then returns true with nothing running. A replica
  // whose log is missing at a normal start has lost its disk and repairs
  // from its peers (docs/storage-faults.md).
  bool format = false;
};

// Why a start failed: bad input (exit 2), or a log damaged beyond what
// recovery may repair (exit 1: the node refuses rather than start from less
// than it acknowledged).
enum class StartFailure : uint8_t { kNone, kBadInput, kDamagedLog };

class Server {
 public:
  Server(asio::io_context& io, ClusterSpec spec);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  bool start(const ServerOptions& opts, std::string& error);
  StartFailure failure() const { return failure_; }
  // "http://host:port" of each front end started, in coordinator order.
  const std::vector<std::string>& http_urls() const { return urls_; }
  const ClusterSpec& spec() const { return spec_; }

 private:
  void render_extra(std::string& out) const;

  asio::io_context& io_;
  const ClusterSpec spec_;
  std::unique_ptr<Router> router_;
  std::vector<std::unique_ptr<EngineNode>> nodes_;
  struct Front {
    std::unique_ptr<Metrics> metrics;
    std::unique_ptr<Frontend> frontend;
    std::unique_ptr<HttpService> service;
    std::unique_ptr<HttpServer> server;
  };
  std::vector<Front> fronts_;
  std::vector<std::string> urls_;
  StartFailure failure_ = StartFailure::kNone;
};

}  // namespace ws::net
