// walletd: the wallet engine as a real process. Argument parsing and output
// only; the runtime is in net/.
//   walletd --config cluster.json --node NAME [--data DIR]
//   walletd --local [--partitions P] [--coordinators C] [--accounts N] [--data DIR] [--http-port N]
#include <utility>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

#include "net/asio.h"
#include "net/cluster_file.h"
#include "net/log.h"
#include "net/server.h"

namespace {

int bad_input(const std::string& msg) {
  std::fprintf(stderr, "walletd: %s\n", msg.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"walletd: the sharded wallet engine (TC/C over real TCP, files and time)"};
  std::string config, node, data;
  bool local = false, no_fsync = false;
  uint32_t partitions = 1, coordinators = 1, accounts = 1000;
  uint16_t http_port = 8080;
  app.add_option("--config", config, "cluster file (JSON) listing every node")->check(CLI::ExistingFile);
  app.add_option("--node", node, "name of the node (from the cluster file) this process runs");
  app.add_flag("--local", local, "run a whole cluster in this process on 127.0.0.1");
  app.add_option("--partitions", partitions, "--local: partition count")->check(CLI::Range(1, 256));
  app.add_option("--coordinators", coordinators, "--local: coordinator count")->check(CLI::Range(1, 64));
  app.add_option("--accounts", accounts, "--local: accounts acct-0..acct-N-1, 1000.00 USD and EUR each")
      ->check(CLI::Range(2, 10'000'000));
  app.add_option("--http-port", http_port, "--local: HTTP port (0 = any free port)");
  app.add_option("--data", data, "data directory for the node logs (default: walletd-data, or a new "
                                 "temporary directory with --local)");
  app.add_flag("--no-fsync", no_fsync, "skip fdatasync (measurement only: not durable)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (local == !config.empty()) return bad_input("give exactly one of --local or --config FILE (see --help)");
  if (!config.empty() && node.empty()) return bad_input("--config needs --node NAME");
  if (local && !node.empty()) return bad_input("--node is only for --config");

  ws::net::ServerOptions opts;
  opts.fsync = !no_fsync;
  std::optional<ws::net::ClusterSpec> spec;
  if (local) {
    spec = ws::net::local_cluster(partitions, coordinators, accounts, http_port);
    for (const auto& n : spec->nodes) opts.nodes.push_back(n.name);
    opts.in_process = true;
    if (data.empty()) {
      char tmpl[] = "/tmp/walletd-local-XXXXXX";
      if (!mkdtemp(tmpl)) return bad_input("cannot create a temporary data directory");
      data = tmpl;
    }
    ws::net::set_log_name("walletd[local]");
  } else {
    if (app.count("--partitions") || app.count("--coordinators") || app.count("--accounts") ||
        app.count("--http-port"))
      return bad_input("--partitions, --coordinators, --accounts and --http-port are for --local; "
                       "with --config they come from the cluster file");
    ws::net::ClusterParse parsed = ws::net::load_cluster_file(config);
    if (!parsed.spec) return bad_input(parsed.error);
    spec = std::move(parsed.spec);
    if (!spec->find(node)) return bad_input("--node: no node named " + node + " in " + config);
    opts.nodes.push_back(node);
    if (data.empty()) data = "walletd-data";
    ws::net::set_log_name("walletd[" + node + "]");
  }
  opts.data_dir = data;

  ws::net::asio::io_context io(1);
  ws::net::Server server(io, *spec);
  std::string error;
  if (!server.start(opts, error)) return bad_input(error);
  ws::net::log_line("data in " + data + (opts.fsync ? "" : " (fsync OFF: not durable)"));
  for (const std::string& url : server.http_urls()) {
    std::printf("walletd: HTTP on %s\n", url.c_str());
  }
  std::fflush(stdout);
  ws::net::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  io.run();
  ws::net::log_line("stopped");
  return 0;
}
