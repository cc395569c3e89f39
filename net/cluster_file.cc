#include "net/cluster_file.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "core/text.h"

namespace ws::net {
namespace {

using nlohmann::json;

struct Bad {
  std::string msg;
};

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw Bad{"key '" + key + "': " + what};
}

const json& need(const json& obj, const std::string& key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(path + key, "missing");
  return *it;
}

void only_keys(const json& obj, std::initializer_list<const char*> allowed, const std::string& path) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (const char* a : allowed) ok |= it.key() == a;
    if (!ok) fail(path + it.key(), "unknown key");
  }
}

uint64_t get_uint(const json& v, const std::string& key, uint64_t lo, uint64_t hi) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
    fail(key, "expected a non-negative integer, got " + v.dump());
  uint64_t x = v.get<uint64_t>();
  if (x < lo || x > hi)
    fail(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + v.dump());
  return x;
}

std::string get_string(const json& v, const std::string& key) {
  if (!v.is_string()) fail(key, "expected a string, got " + v.dump());
  return v.get<std::string>();
}

// Node names become file names (DATA/NAME.000001.log): letters, digits, '-'
// and '_' only, 1 to 64 of them.
void check_node_name(const std::string& name, const std::string& key) {
  if (name.empty() || name.size() > 64) fail(key, "must be 1 to 64 characters");
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      fail(key, "may hold only letters, digits, '-' and '_' (it names the node's log files), got " + quote_input(name));
  if (name == kSharedLogName) fail(key, std::string("\"") + kSharedLogName + "\" names the log a --local process shares");
}

void parse_address(const std::string& text, const std::string& key, NodeSpec& n) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    fail(key, "expected host:port, got " + quote_input(text));
  std::string port = text.substr(colon + 1);
  uint64_t p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') fail(key, "port is not a number in " + quote_input(text));
    p = p * 10 + static_cast<uint64_t>(c - '0');
    if (p > 65535) break;
  }
  if (p == 0 || p > 65535) fail(key, "port must be in [1, 65535] in " + quote_input(text));
  n.host = text.substr(0, colon);
  n.port = static_cast<uint16_t>(p);
}

void parse_protocol(const json& v, ProtocolOptions& p) {
  const std::string k = "protocol";
  std::string kind;
  if (v.is_string()) {
    kind = v.get<std::string>();
  } else if (v.is_object()) {
    only_keys(v, {"kind", "try_timeout_ms", "retry_interval_ms", "max_backoff_ms", "snapshot_every", "retention_ms",
                  "same_partition"},
              "protocol.");
    kind = get_string(need(v, "kind", "protocol."), "protocol.kind");
    if (v.contains("try_timeout_ms"))
      p.try_timeout = static_cast<Duration>(get_uint(v["try_timeout_ms"], "protocol.try_timeout_ms", 1, 600000)) * kMillisecond;
    if (v.contains("retry_interval_ms"))
      p.retry_interval = static_cast<Duration>(get_uint(v["retry_interval_ms"], "protocol.retry_interval_ms", 1, 60000)) * kMillisecond;
    if (v.contains("max_backoff_ms"))
      p.max_backoff = static_cast<Duration>(get_uint(v["max_backoff_ms"], "protocol.max_backoff_ms", 1, 600000)) * kMillisecond;
    if (v.contains("snapshot_every"))
      p.snapshot_every = static_cast<uint32_t>(get_uint(v["snapshot_every"], "protocol.snapshot_every", 0, 1u << 30));
    if (v.contains("same_partition")) {
      const std::string same = get_string(v["same_partition"], "protocol.same_partition");
      if (same != "local" && same != "two_legs")
        fail("protocol.same_partition", "expected \"local\" or \"two_legs\", got " + quote_input(same));
      p.local_same_partition = same == "local";
    }
    if (v.contains("retention_ms"))
      p.retention = static_cast<Duration>(get_uint(v["retention_ms"], "protocol.retention_ms", 1, 7 * 86400000ull)) * kMillisecond;
  } else {
    fail(k, "expected \"tcc\", \"2pc\", \"saga\" or an object, got " + v.dump());
  }
  if (kind == "tcc") {
    p.kind = ProtocolKind::kTcc;
  } else if (kind == "2pc") {
    p.kind = ProtocolKind::k2pc;
  } else if (kind == "saga") {
    p.kind = ProtocolKind::kSaga;
  } else {
    fail(v.is_string() ? k : "protocol.kind", "expected tcc, 2pc or saga, got " + quote_input(kind));
  }
}

void parse_replication(const json& v, ReplicationOptions& r) {
  if (!v.is_object()) fail("replication", "expected an object such as {\"heartbeat_ms\": 100}, got " + v.dump());
  only_keys(v, {"election_timeout_min_ms", "election_timeout_max_ms", "heartbeat_ms", "pre_vote", "check_quorum"},
            "replication.");
  auto flag = [&](const char* key, bool& out) {
    if (!v.contains(key)) return;
    if (!v[key].is_boolean()) fail(std::string("replication.") + key, "expected true or false, got " + v[key].dump());
    out = v[key].get<bool>();
  };
  flag("pre_vote", r.pre_vote);
  flag("check_quorum", r.check_quorum);
  auto ms = [&](const char* key, Duration& out) {
    if (v.contains(key))
      out = static_cast<Duration>(get_uint(v[key], std::string("replication.") + key, 1, 600000)) * kMillisecond;
  };
  ms("election_timeout_min_ms", r.election_timeout_min);
  ms("election_timeout_max_ms", r.election_timeout_max);
  ms("heartbeat_ms", r.heartbeat_interval);
  if (r.election_timeout_max <= r.election_timeout_min)
    fail("replication.election_timeout_max_ms", "must be greater than election_timeout_min_ms");
  if (r.heartbeat_interval >= r.election_timeout_min)
    fail("replication.heartbeat_ms", "must be shorter than election_timeout_min_ms");
}

// Groups the listed nodes: every partition and coordinator group needs
// each of its replicas exactly once. Then the ids, and the configuration id.
void place_nodes(ClusterSpec& spec, uint32_t partitions) {
  ClusterConfig& c = spec.config;
  const uint32_t r = c.replicas();
  uint32_t coordinators = 0;
  for (const NodeSpec& n : spec.nodes)
    if (n.kind == NodeKind::kCoordinator) coordinators = std::max(coordinators, n.index + 1);
  if (coordinators == 0) fail("nodes", "needs at least one coordinator");
  std::vector<std::vector<const NodeSpec*>> seen(partitions + coordinators, std::vector<const NodeSpec*>(r));
  for (const NodeSpec& n : spec.nodes) {
    const bool part = n.kind == NodeKind::kPartition;
    const std::string group = std::string(part ? "partition " : "coordinator ") + std::to_string(n.index);
    if (part && n.index >= partitions)
      fail("partitions", "is " + std::to_string(partitions) + " but node " + quote_input(n.name) + " is in " + group);
    const NodeSpec*& slot = seen[(part ? 0 : partitions) + n.index][n.replica];
    if (slot)
      fail("nodes", "replica " + std::to_string(n.replica) + " of " + group + " is listed twice (" +
                        quote_input(slot->name) + " and " + quote_input(n.name) + ")");
    slot = &n;
  }
  for (uint32_t g = 0; g < seen.size(); ++g)
    for (uint32_t k = 0; k < r; ++k)
      if (!seen[g][k]) {
        const bool part = g < partitions;
        const std::string group = std::string(part ? "partition " : "coordinator ") +
                                  std::to_string(part ? g : g - partitions);
        fail(part && r == 1 ? "partitions" : "nodes",
             r == 1 ? "is " + std::to_string(partitions) + " but nodes lists no node for " + group
                    : "replica " + std::to_string(k) + " of " + group + " is missing (replicas is " + std::to_string(r) + ")");
      }
  c.partitions = partitions;
  c.coordinators = coordinators;
  c.clients = coordinators * r;  // one HTTP front end per coordinator replica
  c.finalize();
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ r;
  auto mix = [&](const std::string& text) {
    for (unsigned char ch : text) h = mix64(h ^ ch);
    h = mix64(h ^ 0xff);
  };
  for (NodeSpec& n : spec.nodes) {
    const uint32_t g = n.kind == NodeKind::kPartition ? c.partition_node(n.index) : c.coordinator_node(n.index);
    n.id = c.replica_node(g, n.replica);
    mix(n.name + "/" + std::to_string(g) + "/" + std::to_string(n.replica) + "/" + n.host + ":" + std::to_string(n.port));
  }
  spec.config_id = static_cast<uint32_t>(h ^ (h >> 32));
}

// "group" and "replica" of one node (required with replicas > 1; with one
// replica the group defaults to the node's place among its kind).
void parse_place(const json& n, const std::string& path, uint32_t replicas, uint32_t order, NodeSpec& s) {
  if (replicas > 1) {
    s.index = static_cast<uint32_t>(get_uint(need(n, "group", path), path + "group", 0, 1023));
    s.replica = static_cast<uint32_t>(get_uint(need(n, "replica", path), path + "replica", 0, replicas - 1));
  } else {
    s.index = n.contains("group") ? static_cast<uint32_t>(get_uint(n["group"], path + "group", 0, 1023)) : order;
    if (n.contains("replica")) get_uint(n["replica"], path + "replica", 0, 0);
  }
}

void parse_storage(const json& v, StorageSpec& s) {
  if (!v.is_object()) fail("storage", "expected an object such as {\"archive\": \"keep\"}, got " + v.dump());
  only_keys(v, {"archive", "segment_bytes"}, "storage.");
  if (v.contains("archive")) {
    const std::string a = get_string(v["archive"], "storage.archive");
    if (a != "keep" && a != "delete") fail("storage.archive", "expected \"keep\" or \"delete\", got " + quote_input(a));
    s.keep_archive = a == "keep";
  }
  if (v.contains("segment_bytes"))
    s.segment_bytes = get_uint(v["segment_bytes"], "storage.segment_bytes", 4096, 1ull << 40);
}

json currencies_json(const ClusterConfig& c) {
  json out = json::array();
  for (size_t i = 0; i < c.currencies.size(); ++i)
    out.push_back({{"code", std::string(c.currencies[i].code)},
                   {"initial", format_amount(c.initial_balance[i], c.currencies[i])}});
  return out;
}

ClusterSpec parse(const json& root) {
  if (!root.is_object()) throw Bad{"the cluster file must hold a JSON object"};
  only_keys(root, {"partitions", "accounts", "replicas", "replication", "protocol", "initial_balances", "storage", "nodes"}, "");
  ClusterSpec spec;
  ClusterConfig& c = spec.config;
  uint32_t replicas = 1;
  if (root.contains("replicas")) {
    replicas = static_cast<uint32_t>(get_uint(root["replicas"], "replicas", 1, 5));
    if (replicas % 2 == 0)
      fail("replicas", "is " + std::to_string(replicas) + "; it must be 1, 3 or 5 (an even group tolerates no more failures than the odd one below it)");
  }
  c.replication = real_time_replication_defaults(replicas);
  if (root.contains("replication")) {
    if (replicas == 1) fail("replication", "needs replicas 3 or 5");
    parse_replication(root["replication"], c.replication);
  }
  c.protocol = real_time_protocol_defaults();
  const uint32_t partitions = static_cast<uint32_t>(get_uint(need(root, "partitions", ""), "partitions", 1, 1024));
  c.accounts = static_cast<uint32_t>(get_uint(need(root, "accounts", ""), "accounts", 2, 10'000'000));
  if (root.contains("protocol")) parse_protocol(root["protocol"], c.protocol);
  if (root.contains("storage")) parse_storage(root["storage"], spec.storage);
  const json& bal = need(root, "initial_balances", "");
  if (!bal.is_object() || bal.empty())
    fail("initial_balances", "expected an object of currency code to amount, e.g. {\"USD\": \"100.00\"}");
  if (bal.size() > 16) fail("initial_balances", "at most 16 currencies");
  for (auto it = bal.begin(); it != bal.end(); ++it) {
    const std::string key = "initial_balances." + it.key();
    auto cur = find_currency(it.key());
    if (!cur) fail(key, "not an ISO 4217 currency code this build knows");
    AmountParse a = parse_amount(get_string(it.value(), key), *cur);
    if (!a.amount) fail(key, a.error);
    c.currencies.push_back(*cur);
    c.initial_balance.push_back(*a.amount);
  }
  const json& nodes = need(root, "nodes", "");
  if (!nodes.is_array() || nodes.empty()) fail("nodes", "expected a non-empty array of nodes");
  std::set<std::string> names, addrs;
  uint32_t np = 0, nc = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string path = "nodes[" + std::to_string(i) + "].";
    const json& n = nodes[i];
    if (!n.is_object()) fail("nodes[" + std::to_string(i) + "]", "expected an object");
    only_keys(n, {"name", "kind", "group", "replica", "address", "http_port"}, path);
    NodeSpec s;
    s.name = get_string(need(n, "name", path), path + "name");
    check_node_name(s.name, path + "name");
    if (!names.insert(s.name).second) fail(path + "name", "duplicate node name " + quote_input(s.name));
    std::string kind = get_string(need(n, "kind", path), path + "kind");
    if (kind == "partition") {
      s.kind = NodeKind::kPartition;
      parse_place(n, path, replicas, np++, s);
      if (n.contains("http_port")) fail(path + "http_port", "only coordinators serve HTTP");
    } else if (kind == "coordinator") {
      s.kind = NodeKind::kCoordinator;
      parse_place(n, path, replicas, nc++, s);
      s.http_port = static_cast<uint16_t>(get_uint(need(n, "http_port", path), path + "http_port", 1, 65535));
    } else {
      fail(path + "kind", "expected \"partition\" or \"coordinator\", got " + quote_input(kind));
    }
    parse_address(get_string(need(n, "address", path), path + "address"), path + "address", s);
    if (!addrs.insert(s.host + ":" + std::to_string(s.port)).second)
      fail(path + "address", "address used by two nodes");
    spec.nodes.push_back(s);
  }
  // With groups, place_nodes names the group that is short or overfull.
  if (replicas == 1 && np != partitions)
    fail("partitions", "is " + std::to_string(partitions) + " but nodes lists " + std::to_string(np) +
                           " partition nodes");
  if (nc == 0) fail("nodes", "needs at least one coordinator");
  place_nodes(spec, partitions);
  return spec;
}

}  // namespace

const NodeSpec* ClusterSpec::find(const std::string& name) const {
  for (const NodeSpec& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

ProtocolOptions real_time_protocol_defaults() {
  ProtocolOptions p;
  p.try_timeout = 2 * kSecond;
  p.retry_interval = 50 * kMillisecond;
  p.max_backoff = 1 * kSecond;
  // A snapshot after max(this, what the node remembers) events; the log is
  // cut into segments behind them (docs/walletd.md).
  p.snapshot_every = 4096;
  // Clients over HTTP send no age (docs/forgetting.md): a long window keeps
  // every retry and status query of a load run, audit included, inside it.
  p.retention = 3600 * kSecond;
  return p;
}

ReplicationOptions real_time_replication_defaults(uint32_t replicas) {
  ReplicationOptions r;
  r.replicas = replicas;
  r.election_timeout_min = 600 * kMillisecond;
  r.election_timeout_max = 1200 * kMillisecond;
  r.heartbeat_interval = 100 * kMillisecond;
  return r;
}

ClusterParse parse_cluster_json(const std::string& text) {
  ClusterParse r;
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    r.error = std::string("not valid JSON: ") + e.what();
    return r;
  }
  try {
    r.spec = parse(root);
  } catch (const Bad& b) {
    r.error = b.msg;
  }
  return r;
}

ClusterParse load_cluster_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ClusterParse{std::nullopt, "cannot read cluster file " + path};
  std::stringstream ss;
  ss << in.rdbuf();
  ClusterParse r = parse_cluster_json(ss.str());
  if (!r.spec) r.error = "cluster file " + path + ": " + r.error;
  return r;
}

std::string manifest_json(const ClusterSpec& spec, const std::string& shared_log) {
  const ClusterConfig& c = spec.config;
  json nodes = json::array();
  for (const NodeSpec& n : spec.nodes) {
    json node = {{"name", n.name}, {"kind", n.kind == NodeKind::kPartition ? "partition" : "coordinator"}};
    if (c.replicas() > 1) {
      node["group"] = n.index;
      node["replica"] = n.replica;
    }
    nodes.push_back(node);
  }
  json m = {{"format", 1},
            {"partitions", c.partitions},
            {"accounts", c.accounts},
            {"protocol",
             {{"kind", to_string(c.protocol.kind)},
              {"same_partition", c.protocol.local_same_partition ? "local" : "two_legs"}}},
            {"currencies", currencies_json(c)},
            {"nodes", nodes}};
  if (c.replicas() > 1) m["replicas"] = c.replicas();
  m["log"] = shared_log.empty() ? json("per-node") : json(shared_log);
  return m.dump(2) + "\n";
}

ClusterParse load_manifest(const std::string& dir) {
  const std::string path = dir + "/manifest.json";
  std::ifstream in(path);
  if (!in) return ClusterParse{std::nullopt, "cannot read " + path + " (is " + dir + " a walletd data directory?)"};
  std::stringstream ss;
  ss << in.rdbuf();
  ClusterParse r = parse_manifest_json(ss.str());
  if (!r.spec) r.error = path + ": " + r.error;
  return r;
}

ClusterParse parse_manifest_json(const std::string& text) {
  ClusterParse r;
  try {
    json root = json::parse(text);
    if (!root.is_object()) throw Bad{"expected a JSON object"};
    only_keys(root, {"format", "partitions", "accounts", "replicas", "protocol", "currencies", "nodes", "log"}, "");
    if (get_uint(need(root, "format", ""), "format", 1, 1) != 1) fail("format", "unknown");
    ClusterSpec spec;
    ClusterConfig& c = spec.config;
    c.protocol = real_time_protocol_defaults();
    // A manifest that names the protocol only was written before the
    // same-partition path existed: its logs run every transfer in two legs.
    if (need(root, "protocol", "").is_string()) c.protocol.local_same_partition = false;
    parse_protocol(root["protocol"], c.protocol);
    c.partitions = static_cast<uint32_t>(get_uint(need(root, "partitions", ""), "partitions", 1, 1024));
    c.accounts = static_cast<uint32_t>(get_uint(need(root, "accounts", ""), "accounts", 2, 10'000'000));
    // An array, in the cluster's currency order: events name currencies by index.
    const json& curs = need(root, "currencies", "");
    if (!curs.is_array() || curs.empty() || curs.size() > 16) fail("currencies", "expected 1 to 16 currencies");
    for (size_t i = 0; i < curs.size(); ++i) {
      const std::string key = "currencies[" + std::to_string(i) + "]";
      if (!curs[i].is_object()) fail(key, "expected an object");
      only_keys(curs[i], {"code", "initial"}, key + ".");
      auto cur = find_currency(get_string(need(curs[i], "code", key + "."), key + ".code"));
      if (!cur) fail(key + ".code", "not an ISO 4217 currency code this build knows");
      AmountParse a = parse_amount(get_string(need(curs[i], "initial", key + "."), key + ".initial"), *cur);
      if (!a.amount) fail(key + ".initial", a.error);
      c.currencies.push_back(*cur);
      c.initial_balance.push_back(*a.amount);
    }
    uint32_t replicas = 1;
    if (root.contains("replicas")) {
      replicas = static_cast<uint32_t>(get_uint(root["replicas"], "replicas", 1, 5));
      if (replicas % 2 == 0) fail("replicas", "must be 1, 3 or 5");
    }
    c.replication = real_time_replication_defaults(replicas);
    const json& nodes = need(root, "nodes", "");
    if (!nodes.is_array()) fail("nodes", "expected an array");
    uint32_t np = 0, nc = 0;
    for (size_t i = 0; i < nodes.size(); ++i) {
      const std::string key = "nodes[" + std::to_string(i) + "].";
      if (!nodes[i].is_object()) fail("nodes[" + std::to_string(i) + "]", "expected an object");
      only_keys(nodes[i], {"name", "kind", "group", "replica"}, key);
      NodeSpec n;
      n.name = get_string(need(nodes[i], "name", key), key + "name");
      check_node_name(n.name, key + "name");
      for (const NodeSpec& other : spec.nodes)
        if (other.name == n.name) fail(key + "name", "duplicate node name " + quote_input(n.name));
      const std::string kind = get_string(need(nodes[i], "kind", key), key + "kind");
      if (kind != "partition" && kind != "coordinator") fail(key + "kind", "expected partition or coordinator");
      n.kind = kind == "partition" ? NodeKind::kPartition : NodeKind::kCoordinator;
      parse_place(nodes[i], key, replicas, n.kind == NodeKind::kPartition ? np++ : nc++, n);
      spec.nodes.push_back(n);
    }
    if (replicas == 1 && np != c.partitions) fail("partitions", "does not match the partition nodes listed");
    place_nodes(spec, c.partitions);
    if (root.contains("log")) {
      const std::string log = get_string(root["log"], "log");
      if (log != "per-node" && log != kSharedLogName)
        fail("log", "expected \"per-node\" or \"" + std::string(kSharedLogName) + "\", got " + quote_input(log));
      if (log != "per-node") spec.storage.shared_log = log;
    }
    r.spec = std::move(spec);
  } catch (const json::exception& e) {
    r.error = std::string("not valid JSON: ") + e.what();
  } catch (const Bad& b) {
    r.error = b.msg;
  }
  return r;
}

bool check_or_write_manifest(const std::string& dir, const ClusterSpec& spec, const std::string& shared_log,
                             std::string& error) {
  const std::string path = dir + "/manifest.json";
  const std::string mine = manifest_json(spec, shared_log);
  std::ifstream in(path);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str() == mine) return true;
    json theirs, ours = json::parse(mine);
    try {
      theirs = json::parse(ss.str());
    } catch (const json::exception&) {
      error = path + " is not valid JSON; it describes the cluster whose logs are in " + dir +
              " (restore it, or use a new data directory)";
      return false;
    }
    for (auto it = ours.begin(); it != ours.end(); ++it) {
      if (!theirs.contains(it.key()) || theirs[it.key()] != it.value()) {
        error = "data directory " + dir + " holds the logs of a different cluster: key '" + it.key() + "' is " +
                (theirs.contains(it.key()) ? theirs[it.key()].dump() : std::string("missing")) + " in " + path +
                " but " + it.value().dump() + " here";
        return false;
      }
    }
    error = path + " differs from this cluster in keys it should not have";
    return false;
  }
  // Written whole under a temporary name, then renamed: processes sharing
  // the directory write the same bytes, and a reader never sees half.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << mine;
    if (!out.flush()) {
      error = "cannot write " + tmp;
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot create " + path;
    return false;
  }
  return true;
}

ClusterSpec local_cluster(uint32_t partitions, uint32_t coordinators, uint32_t accounts,
                          uint16_t http_port) {
  ClusterSpec spec;
  ClusterConfig& c = spec.config;
  c.protocol = real_time_protocol_defaults();
  c.partitions = partitions;
  c.coordinators = coordinators;
  c.clients = coordinators;
  c.accounts = accounts;
  c.currencies = {*find_currency("USD"), *find_currency("EUR")};
  c.initial_balance = {Amount{100000}, Amount{100000}};  // 1000.00 each
  c.finalize();
  for (uint32_t p = 0; p < partitions; ++p) {
    NodeSpec s;
    s.name = "p" + std::to_string(p);
    s.kind = NodeKind::kPartition;
    s.host = "127.0.0.1";
    s.index = p;
    s.id = c.partition_node(p);
    spec.nodes.push_back(s);
  }
  for (uint32_t k = 0; k < coordinators; ++k) {
    NodeSpec s;
    s.name = "c" + std::to_string(k);
    s.kind = NodeKind::kCoordinator;
    s.host = "127.0.0.1";
    s.index = k;
    s.id = c.coordinator_node(k);
    s.http_port = k == 0 ? http_port : 0;
    spec.nodes.push_back(s);
  }
  return spec;
}

}  // namespace ws::net
