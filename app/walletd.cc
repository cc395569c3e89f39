// walletd: the wallet engine as a real process. Argument parsing and output
// only; the runtime is in net/.
//   walletd --config cluster.json --node NAME [--data DIR]
//   walletd --local --config cluster.json [--data DIR]      (every node of the file, one process)
//   walletd --local [--partitions P] [--coordinators C] [--accounts N] [--data DIR] [--http-port N]
//                   [--retention-ms MS] [--archive keep|delete]
//   walletd audit --data DIR [--at TIME | --upto N] [--account ACCT] [--json]
#include <utility>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

#include "net/asio.h"
#include "net/audit.h"
#include "net/cluster_file.h"
#include "net/log.h"
#include "net/server.h"

namespace {

int bad_input(const std::string& msg) {
  std::fprintf(stderr, "walletd: %s\n", msg.c_str());
  return 2;
}

// walletd audit: offline, read-only; exit 0 if the audit passes, 1 if it
// found damage or lost money, 2 on bad input.
int audit_main(const std::string& data, const std::string& at, int64_t upto, const std::string& account, bool json) {
  ws::net::AuditOptions o;
  o.data_dir = data;
  if (!at.empty()) {
    o.at_ns = ws::net::parse_time(at);
    if (!o.at_ns)
      return bad_input("audit --at: expected a UTC time like 2026-12-01T16:30:00Z or seconds since the Unix "
                       "epoch, got \"" + at + "\"");
  }
  if (upto >= 0) o.upto = static_cast<uint64_t>(upto);
  if (!account.empty()) o.account = account;
  ws::net::AuditReport report;
  std::string error;
  if (!ws::net::run_audit(o, report, error)) return bad_input("audit: " + error);
  const std::string out = json ? ws::net::audit_json(report) : ws::net::audit_text(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return report.problems.empty() ? 0 : 1;
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
  bool format = false;
  app.add_flag("--format", format, "replica groups: create this new replica's log, then exit (a replica whose "
                                   "log is missing at a normal start has lost its disk, and repairs from its peers)");
  bool log_per_node = false;
  app.add_flag("--log-per-node", log_per_node, "--local: one log file per node instead of one shared by every node "
                                               "of the process (one fdatasync for all)");
  uint64_t retention_ms = 0;
  std::string archive = "keep";
  app.add_option("--retention-ms", retention_ms, "--local: how long a finished transaction_id is remembered "
                                                 "(default 3600000; docs/forgetting.md)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{7} * 86400000));
  app.add_option("--archive", archive, "--local: log segments behind a snapshot are moved to DATA/archive "
                                       "(keep) or deleted (delete)")
      ->check(CLI::IsMember({"keep", "delete"}));

  auto* audit = app.add_subcommand("audit", "check a data directory offline: checksums, replay, balances, "
                                            "conservation (exit 0 ok, 1 problems, 2 bad input)");
  std::string audit_data, audit_at, audit_account;
  int64_t audit_upto = -1;
  bool audit_json = false;
  audit->add_option("--data", audit_data, "the data directory (every node's logs, archive/ included)")->required();
  auto* at_opt = audit->add_option("--at", audit_at, "stop at this UTC time (2026-12-01T16:30:00Z, or epoch seconds)");
  audit->add_option("--upto", audit_upto, "stop after this many events of each node's history (replica groups: entry N of each group's Raft log)")
      ->check(CLI::NonNegativeNumber)
      ->excludes(at_opt);
  audit->add_option("--account", audit_account, "print this account's statement (acct-N) instead of every balance");
  audit->add_flag("--json", audit_json, "JSON instead of text");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (*audit) return audit_main(audit_data, audit_at, audit_upto, audit_account, audit_json);
  if (!local && config.empty()) return bad_input("give --local, --config FILE --node NAME, or both --local and --config FILE (see --help)");
  if (!local && node.empty()) return bad_input("--config needs --node NAME (or --local to run every node of it here)");
  if (local && !node.empty()) return bad_input("--node is only for --config without --local");
  const bool from_file = !config.empty();
  if (from_file && (app.count("--partitions") || app.count("--coordinators") || app.count("--accounts") ||
                    app.count("--http-port") || app.count("--retention-ms") || app.count("--archive")))
    return bad_input("--partitions, --coordinators, --accounts, --http-port, --retention-ms and --archive are "
                     "for --local without a cluster file; with --config they come from the file");

  if (format && local) return bad_input("--format is for one replica (--config FILE --node NAME), not --local");
  ws::net::ServerOptions opts;
  opts.fsync = !no_fsync;
  opts.format = format;
  std::optional<ws::net::ClusterSpec> spec;
  if (from_file) {
    ws::net::ClusterParse parsed = ws::net::load_cluster_file(config);
    if (!parsed.spec) return bad_input(parsed.error);
    spec = std::move(parsed.spec);
  } else {
    spec = ws::net::local_cluster(partitions, coordinators, accounts, http_port);
    if (retention_ms) spec->config.protocol.retention = static_cast<ws::Duration>(retention_ms) * ws::kMillisecond;
    spec->storage.keep_archive = archive == "keep";
  }
  if (local) {
    for (const auto& n : spec->nodes) opts.nodes.push_back(n.name);
    opts.in_process = true;
    opts.shared_log = !log_per_node;
    if (data.empty()) {
      char tmpl[] = "/tmp/walletd-local-XXXXXX";
      if (!mkdtemp(tmpl)) return bad_input("cannot create a temporary data directory");
      data = tmpl;
    }
    ws::net::set_log_name("walletd[local]");
  } else {
    if (!spec->find(node)) return bad_input("--node: no node named " + node + " in " + config);
    opts.nodes.push_back(node);
    if (data.empty()) data = "walletd-data";
    ws::net::set_log_name("walletd[" + node + "]");
  }
  opts.data_dir = data;

  ws::net::asio::io_context io(1);
  ws::net::Server server(io, *spec);
  std::string error;
  if (!server.start(opts, error)) {
    if (server.failure() == ws::net::StartFailure::kDamagedLog) {
      std::fprintf(stderr, "walletd: %s\n", error.c_str());
      return 1;
    }
    return bad_input(error);
  }
  if (format) return 0;
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
