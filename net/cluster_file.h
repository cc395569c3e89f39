// The real runtime's cluster file (the design's config store): which nodes
// exist, where they listen, and the wallet's static configuration. Node ids
// follow core/cluster.h: partitions [0, P), coordinators [P, P+C) (with
// replica groups, replica 0 of each group), the HTTP front ends after them
// (one per coordinator replica), then replicas 1..R-1 of every group.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/cluster.h"

namespace ws::net {

enum class NodeKind : uint8_t { kPartition, kCoordinator };

struct NodeSpec {
  std::string name;
  NodeKind kind = NodeKind::kPartition;
  std::string host;
  uint16_t port = 0;
  uint16_t http_port = 0;  // coordinators only
  uint32_t index = 0;      // partition number or coordinator number (its group)
  uint32_t replica = 0;    // which replica of that group (0 with replicas = 1)
  NodeId id = kNoNode;
};

// How walletd keeps its log files (net/file_storage.h).
struct StorageSpec {
  bool keep_archive = true;               // "archive": "keep" (default) or "delete"
  uint64_t segment_bytes = 16ull << 20;   // "segment_bytes": a snapshot past this starts a new segment
  // In a data directory's manifest only: the one log every node of a
  // --local process writes ("" when each node has its own).
  std::string shared_log;
};

// The name of the log the nodes of a --local process share (DATA/local.*.log).
constexpr const char* kSharedLogName = "local";

struct ClusterSpec {
  ClusterConfig config;  // finalized
  StorageSpec storage;
  std::vector<NodeSpec> nodes;
  // Names the cluster's membership (replicas, and each node's name, kind,
  // group, replica and address): Raft frames carry it, and a replica
  // refuses frames of another configuration.
  uint32_t config_id = 0;
  const NodeSpec* find(const std::string& name) const;
  // The HTTP front end that lives with replica `replica` of a coordinator.
  NodeId frontend_of(uint32_t coordinator, uint32_t replica = 0) const {
    return config.client_node(replica * config.coordinators + coordinator);
  }
};

struct ClusterParse {
  std::optional<ClusterSpec> spec;
  std::string error;  // names the bad key when spec is empty
};

ClusterParse parse_cluster_json(const std::string& text);
ClusterParse load_cluster_file(const std::string& path);

// The data directory's manifest (DATA/manifest.json): what an offline reader
// of the logs needs to know about the cluster that wrote them (accounts,
// currencies, initial balances, protocol, node names and kinds), and what
// must not change under existing logs. check_or_write_manifest writes it on
// first start and afterwards refuses a cluster that differs, naming the key.
std::string manifest_json(const ClusterSpec& spec, const std::string& shared_log);
bool check_or_write_manifest(const std::string& dir, const ClusterSpec& spec, const std::string& shared_log,
                             std::string& error);
ClusterParse load_manifest(const std::string& dir);
ClusterParse parse_manifest_json(const std::string& text);

// A cluster on 127.0.0.1 for --local: partitions, coordinators, ports from base.
ClusterSpec local_cluster(uint32_t partitions, uint32_t coordinators, uint32_t accounts,
                          uint16_t http_port);

// Protocol timing for the real runtime, where a round trip includes a
// network hop and an fsync: looser than the simulator's defaults.
ProtocolOptions real_time_protocol_defaults();
// Raft's timers for the real runtime: a heartbeat and an fsync on a loaded
// machine take milliseconds, not the simulator's tenths of one.
ReplicationOptions real_time_replication_defaults(uint32_t replicas);

}  // namespace ws::net
