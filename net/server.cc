#include "net/server.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "core/coordinator.h"
#include "core/partition_node.h"
#include "core/replica.h"
#include "net/log.h"

namespace ws::net {

Server::Server(asio::io_context& io, ClusterSpec spec) : io_(io), spec_(std::move(spec)) {
  router_ = std::make_unique<Router>(io_, spec_.config.node_count());
  // A group silent for an election timeout has likely lost its leader.
  router_->set_groups(spec_.config, spec_.config_id, spec_.config.replication.election_timeout_max);
}

Server::~Server() {
  fronts_.clear();
  nodes_.clear();
}

bool Server::start(const ServerOptions& opts, std::string& error) {
  const ClusterConfig& cfg = spec_.config;
  failure_ = StartFailure::kBadInput;
  if (::mkdir(opts.data_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    error = "cannot create data directory " + opts.data_dir + ": " + std::strerror(errno);
    return false;
  }
  if (!check_or_write_manifest(opts.data_dir, spec_, opts.shared_log ? kSharedLogName : "", error)) return false;
  StorageOptions storage_opts;
  storage_opts.sync = opts.fsync;
  storage_opts.keep_archive = spec_.storage.keep_archive;
  storage_opts.min_segment_bytes = spec_.storage.segment_bytes;
  std::vector<const NodeSpec*> mine;
  for (const std::string& name : opts.nodes) {
    const NodeSpec* n = spec_.find(name);
    if (!n) {
      error = "no node named " + name + " in the cluster file";
      return false;
    }
    mine.push_back(n);
  }
  if (opts.format) {
    if (cfg.replicas() == 1 || opts.shared_log) {
      error = "--format is for the replicas of a cluster file with \"replicas\": 3 or 5, one log per node";
      return false;
    }
    for (const NodeSpec* n : mine) {
      if (!format_log(opts.data_dir, n->name, replica_format_record(), error)) return false;
      log_line(n->name + ": formatted a new replica's log in " + opts.data_dir);
    }
    failure_ = StartFailure::kNone;
    return true;
  }
  // A whole cluster in this process with no log at all is new: its replicas
  // start formatted. Otherwise a replica's missing log is a lost disk; a
  // new replica run on its own is created with --format first.
  bool cluster_new = opts.in_process;
  if (opts.shared_log) cluster_new = cluster_new && list_segments(opts.data_dir, kSharedLogName).empty();
  for (const NodeSpec* n : mine)
    if (!list_segments(opts.data_dir, n->name).empty()) cluster_new = false;
  auto runs_here = [&](const NodeSpec& n) {
    for (const NodeSpec* m : mine)
      if (m == &n) return true;
    return false;
  };
  // A replica's own log can be repaired from its peers: damage is cut and
  // marked. A group of one, or a log shared by every node here, cannot.
  StorageOptions replica_opts = storage_opts;
  if (cfg.replicas() > 1) raft::encode_repair(true, replica_opts.repair_mark);
  // damage: what recovery found and cut, if anything (file and offset).
  auto open_log = [&](const std::string& name, std::string& damage) -> std::shared_ptr<FileStorage> {
    LogOpenReport rep;
    const bool own = name != kSharedLogName && cfg.replicas() > 1;
    std::shared_ptr<FileStorage> file =
        FileStorage::open(opts.data_dir, name, io_, own ? replica_opts : storage_opts, rep, error);
    if (!file) {
      if (rep.damaged) failure_ = StartFailure::kDamagedLog;
      return nullptr;
    }
    std::string line = name + ": log " + opts.data_dir + "/" + name + ".*.log: " + std::to_string(rep.records) +
                       " records, " + std::to_string(rep.bytes) + " bytes in " + std::to_string(rep.segments) +
                       " segment" + (rep.segments == 1 ? "" : "s");
    if (!rep.repaired.empty())
      line += "; DAMAGE: " + rep.repaired + ": cut the log there (" + std::to_string(rep.truncated_bytes) +
              " bytes) and marked it for repair from the group's other replicas";
    else if (rep.truncated_bytes)
      line += "; truncated a torn tail of " + std::to_string(rep.truncated_bytes) + " bytes";
    damage = rep.repaired;
    if (rep.archived) line += "; moved " + std::to_string(rep.archived) + " segments behind a snapshot out";
    log_line(line);
    return file;
  };
  std::shared_ptr<FileStorage> shared;
  std::string damage;
  if (opts.shared_log && !(shared = open_log(kSharedLogName, damage))) return false;
  // Engine nodes first, each recovered from its own log (or its share of the shared one).
  for (const NodeSpec* n : mine) {
    std::unique_ptr<NodeLog> log;
    const bool new_log = cluster_new;
    if (shared) {
      log = std::make_unique<NodeLog>(shared, static_cast<uint16_t>(n->id));
    } else {
      damage.clear();
      auto file = open_log(n->name, damage);
      if (!file) return false;
      log = std::make_unique<NodeLog>(std::move(file), std::nullopt);
    }
    std::unique_ptr<StateMachine> machine;
    if (n->kind == NodeKind::kPartition) machine = std::make_unique<PartitionNode>(cfg, n->index);
    else machine = std::make_unique<Coordinator>(cfg, n->index);
    if (cfg.replicas() == 1) {
      nodes_.push_back(std::make_unique<EngineNode>(io_, *router_, n->id, n->name, std::move(machine), std::move(log)));
      continue;
    }
    // One replica of the node's group (core/replica.h).
    const uint32_t group = n->kind == NodeKind::kPartition ? cfg.partition_node(n->index) : cfg.coordinator_node(n->index);
    std::unique_ptr<ReplicaHost> host = make_replica_host(cfg, group, n->replica, std::move(machine));
    ReplicaHost* h = host.get();
    h->set_new_disk(new_log);
    auto node = std::make_unique<EngineNode>(io_, *router_, n->id, n->name, std::move(host), std::move(log));
    std::vector<NodeId> members;
    for (uint32_t r = 0; r < cfg.replicas(); ++r) members.push_back(cfg.replica_node(group, r));
    node->host_replica(h, std::move(members));
    if (!shared && !damage.empty()) node->set_damage("its log " + damage);
    nodes_.push_back(std::move(node));
  }
  // Routes to the nodes that run elsewhere; a coordinator's front end lives with it.
  if (!opts.in_process) {
    for (const NodeSpec& n : spec_.nodes) {
      if (runs_here(n)) continue;
      router_->add_remote(n.id, n.host, n.port);
      if (n.kind == NodeKind::kCoordinator) router_->add_remote(spec_.frontend_of(n.index, n.replica), n.host, n.port);
    }
    for (const NodeSpec* n : mine)
      if (!router_->listen(n->host, n->port, error)) return false;
  }
  // Front ends and HTTP before recovery starts, so early replies find them.
  for (const NodeSpec* n : mine) {
    if (n->kind != NodeKind::kCoordinator) continue;
    Front f;
    f.metrics = std::make_unique<Metrics>();
    f.frontend = std::make_unique<Frontend>(io_, *router_, cfg, spec_.frontend_of(n->index, n->replica), *f.metrics);
    if (n->http_port != 0 || (opts.in_process && n->index == 0)) {
      f.service = std::make_unique<HttpService>(cfg, *f.frontend, *f.metrics,
                                                [this](std::string& out) { render_extra(out); });
      f.server = std::make_unique<HttpServer>(io_, *f.service);
      if (!f.server->listen(n->host, n->http_port, error)) return false;
      urls_.push_back("http://" + n->host + ":" + std::to_string(f.server->port()));
    }
    fronts_.push_back(std::move(f));
  }
  for (auto& node : nodes_) node->start();
  failure_ = StartFailure::kNone;
  return true;
}

void Server::render_extra(std::string& out) const {
  out += "# HELP walletd_log_syncs_total Group commits (write + fdatasync) per node log.\n"
         "# TYPE walletd_log_syncs_total counter\n";
  for (const auto& n : nodes_)
    out += "walletd_log_syncs_total{node=\"" + n->name() + "\"} " + std::to_string(n->log().syncs()) + "\n";
  out += "# HELP walletd_log_durable_bytes Bytes of each node's log known to be on disk.\n"
         "# TYPE walletd_log_durable_bytes gauge\n";
  for (const auto& n : nodes_)
    out += "walletd_log_durable_bytes{node=\"" + n->name() + "\"} " + std::to_string(n->log().durable_bytes()) + "\n";
  out += "# HELP walletd_log_compacted_bytes Bytes moved out of each node's live log behind snapshots.\n"
         "# TYPE walletd_log_compacted_bytes counter\n";
  for (const auto& n : nodes_)
    out += "walletd_log_compacted_bytes{node=\"" + n->name() + "\"} " + std::to_string(n->log().bytes_compacted()) + "\n";
  out += "# HELP walletd_coordinator_unfinished Transactions a coordinator has not finished (both phases).\n"
         "# TYPE walletd_coordinator_unfinished gauge\n";
  for (const auto& n : nodes_) {
    const ReplicaHost* host = n->replica();
    auto* c = host ? dynamic_cast<const Coordinator*>(&host->machine())
                   : dynamic_cast<const Coordinator*>(&const_cast<EngineNode&>(*n).actor());
    if (c) out += "walletd_coordinator_unfinished{node=\"" + n->name() + "\"} " + std::to_string(c->unfinished()) + "\n";
  }
  const TransportStats& s = router_->stats();
  out += "# HELP walletd_peer_frames_total Frames between processes.\n# TYPE walletd_peer_frames_total counter\n";
  out += "walletd_peer_frames_total{dir=\"sent\"} " + std::to_string(s.frames_sent) + "\n";
  out += "walletd_peer_frames_total{dir=\"received\"} " + std::to_string(s.frames_received) + "\n";
  out += "walletd_peer_frames_total{dir=\"dropped\"} " + std::to_string(s.frames_dropped) + "\n";
  out += "walletd_peer_frames_total{dir=\"rejected\"} " + std::to_string(s.frames_rejected) + "\n";
}

}  // namespace ws::net
