// The real runtime's cluster file (the design's config store): which nodes
// exist, where they listen, and the wallet's static configuration. Node ids
// follow core/cluster.h: partitions in file order [0, P), coordinators
// [P, P+C), and each coordinator's HTTP front end at P+C+c.
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
  uint32_t index = 0;      // partition number or coordinator number
  NodeId id = kNoNode;
};

struct ClusterSpec {
  ClusterConfig config;  // finalized
  std::vector<NodeSpec> nodes;
  const NodeSpec* find(const std::string& name) const;
  NodeId frontend_of(uint32_t coordinator) const { return config.client_node(coordinator); }
};

struct ClusterParse {
  std::optional<ClusterSpec> spec;
  std::string error;  // names the bad key when spec is empty
};

ClusterParse parse_cluster_json(const std::string& text);
ClusterParse load_cluster_file(const std::string& path);

// A cluster on 127.0.0.1 for --local: partitions, coordinators, ports from base.
ClusterSpec local_cluster(uint32_t partitions, uint32_t coordinators, uint32_t accounts,
                          uint16_t http_port);

// Protocol timing for the real runtime, where a round trip includes a
// network hop and an fsync: looser than the simulator's defaults.
ProtocolOptions real_time_protocol_defaults();

}  // namespace ws::net
