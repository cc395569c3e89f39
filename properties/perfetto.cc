#include "properties/perfetto.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "properties/timeline.h"

namespace ws {

namespace {

using Json = nlohmann::ordered_json;

constexpr int kPid = 1;
constexpr Time kSliceNs = 1000;  // a handler takes no simulated time: draw it 1 µs wide

double us(Time t) { return static_cast<double>(t) / 1000.0; }

int64_t tid_of(NodeId n) { return static_cast<int64_t>(n) + 1; }

std::string hex16(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// What a message carries, for the args of its slice or instant.
Json message_args(const ClusterConfig& cluster, const TraceRecord& r, const TxId& tx, bool from_side) {
  Json a = Json::object();
  if (from_side) {
    if (r.peer != kNoNode) a["from"] = node_long_name(cluster, r.peer);
  } else {
    a["to"] = node_long_name(cluster, r.node);
  }
  a["tx"] = tx.is_nil() ? std::string() : format_txid(tx);
  if (has_leg(r.msg)) a["leg"] = to_string(r.leg);
  if (has_yes(r.msg)) a["yes"] = r.yes;
  if (r.outcome != Outcome::kNone) a["outcome"] = to_string(r.outcome);
  if (has_request(r.msg)) a["request"] = r.request;
  a["sim_time_ns"] = r.t;
  return a;
}

Json instant(const std::string& name, const char* cat, Time t, int64_t tid, Json args) {
  return Json{{"ph", "i"}, {"s", "t"},   {"name", name}, {"cat", cat},
              {"pid", kPid}, {"tid", tid}, {"ts", us(t)},  {"args", std::move(args)}};
}

}  // namespace

std::string node_long_name(const ClusterConfig& cluster, NodeId n) {
  if (cluster.replicas() > 1 && cluster.is_server(n)) {
    const uint32_t g = cluster.group_of(n);
    const std::string r = " replica " + std::to_string(cluster.replica_index(n));
    return cluster.is_partition(g) ? "partition " + std::to_string(g) + r
                                   : "coordinator " + std::to_string(g - cluster.partitions) + r;
  }
  if (cluster.is_partition(n)) return "partition " + std::to_string(n);
  if (cluster.is_coordinator(n)) return "coordinator " + std::to_string(n - cluster.partitions);
  if (cluster.is_client(n))
    return "client " + std::to_string(n - cluster.partitions - cluster.coordinators);
  return "node " + std::to_string(n);
}

void write_perfetto(std::ostream& out, const ClusterConfig& cluster,
                    const std::vector<TraceRecord>& records, const std::vector<Violation>& violations) {
  Json events = Json::array();
  events.push_back({{"ph", "M"}, {"pid", kPid}, {"name", "process_name"}, {"args", {{"name", "walletsim"}}}});

  // One track per node: every node of the cluster, and any other id a record names.
  std::vector<NodeId> nodes;
  for (NodeId n = 0; n < cluster.node_count(); ++n) nodes.push_back(n);
  for (const TraceRecord& r : records) {
    if (r.kind == TraceKind::kHeal) continue;
    if (r.node >= cluster.node_count()) nodes.push_back(r.node);
    if (is_message(r.kind) && r.peer != kNoNode && r.peer >= cluster.node_count()) nodes.push_back(r.peer);
  }
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  for (NodeId n : nodes) {
    events.push_back({{"ph", "M"}, {"pid", kPid}, {"tid", tid_of(n)}, {"name", "thread_name"},
                      {"args", {{"name", node_long_name(cluster, n)}}}});
    events.push_back({{"ph", "M"}, {"pid", kPid}, {"tid", tid_of(n)}, {"name", "thread_sort_index"},
                      {"args", {{"sort_index", static_cast<int64_t>(n)}}}});
  }

  // Slices (deliveries, timers, syncs) must not overlap on a track, or the
  // viewers nest them wrongly: each is 1 µs wide, or up to the next one on its
  // track, and one that would start inside the previous starts at its end
  // (only same-nanosecond events move, by a nanosecond each).
  auto is_slice = [](TraceKind k) {
    return k == TraceKind::kDeliver || k == TraceKind::kTimer || k == TraceKind::kSync;
  };
  std::vector<Time> start(records.size(), 0), dur(records.size(), 0);
  {
    std::map<NodeId, std::vector<size_t>> per_track;
    for (size_t i = 0; i < records.size(); ++i)
      if (is_slice(records[i].kind)) per_track[records[i].node].push_back(i);
    for (const auto& [node, idx] : per_track) {
      Time end = std::numeric_limits<Time>::min();
      for (size_t j = 0; j < idx.size(); ++j) {
        Time s = std::max(records[idx[j]].t, end);
        Time next = j + 1 < idx.size() ? records[idx[j + 1]].t : s + kSliceNs;
        Time d = std::clamp<Time>(next - s, 1, kSliceNs);
        start[idx[j]] = s;
        dur[idx[j]] = d;
        end = s + d;
      }
    }
  }

  // Transactions: first and last record about each.
  const std::vector<TxId> txs = resolve_txs(records);
  struct Span {
    size_t first, last;
  };
  std::map<TxId, Span> spans;

  for (size_t i = 0; i < records.size(); ++i) {
    const TraceRecord& r = records[i];
    if (!txs[i].is_nil()) {
      auto [it, fresh] = spans.try_emplace(txs[i], Span{i, i});
      if (!fresh) it->second.last = i;
    }
    switch (r.kind) {
      case TraceKind::kDeliver:
        events.push_back({{"ph", "X"}, {"name", to_string(r.msg)}, {"cat", "msg"}, {"pid", kPid},
                          {"tid", tid_of(r.node)}, {"ts", us(start[i])}, {"dur", us(dur[i])},
                          {"args", message_args(cluster, r, txs[i], true)}});
        break;
      case TraceKind::kTimer:
        events.push_back({{"ph", "X"}, {"name", "timer"}, {"cat", "internal"}, {"pid", kPid},
                          {"tid", tid_of(r.node)}, {"ts", us(start[i])}, {"dur", us(dur[i])},
                          {"args", {{"tag", r.aux}, {"sim_time_ns", r.t}}}});
        break;
      case TraceKind::kSync:
        events.push_back({{"ph", "X"}, {"name", "sync"}, {"cat", "internal"}, {"pid", kPid},
                          {"tid", tid_of(r.node)}, {"ts", us(start[i])}, {"dur", us(dur[i])},
                          {"args", {{"durable_bytes", r.aux}, {"sim_time_ns", r.t}}}});
        break;
      case TraceKind::kDropped:
      case TraceKind::kCut:
      case TraceKind::kDuplicated: {
        // Recorded when sent: shown on the sender's track.
        const char* what = r.kind == TraceKind::kDropped ? "dropped "
                           : r.kind == TraceKind::kCut   ? "cut "
                                                         : "duplicated ";
        NodeId on = r.peer != kNoNode ? r.peer : r.node;
        events.push_back(instant(what + std::string(to_string(r.msg)), "net", r.t, tid_of(on),
                                 message_args(cluster, r, txs[i], false)));
        break;
      }
      case TraceKind::kToDown:
      case TraceKind::kShed:
      case TraceKind::kRedirect:
        events.push_back(instant((r.kind == TraceKind::kShed       ? "shed, inbox full: "
                                  : r.kind == TraceKind::kRedirect ? "not the leader, sent back: "
                                                                   : "lost at down node: ") +
                                     std::string(to_string(r.msg)), "net", r.t,
                                 tid_of(r.node), message_args(cluster, r, txs[i], true)));
        break;
      case TraceKind::kCrash:
        events.push_back(instant("crash", "node", r.t, tid_of(r.node), {{"torn_bytes_kept", r.aux}}));
        break;
      case TraceKind::kRestart:
        events.push_back(instant("restart", "node", r.t, tid_of(r.node), Json::object()));
        break;
      case TraceKind::kTornTail:
        events.push_back(instant("torn tail", "node", r.t, tid_of(r.node), {{"bytes_truncated", r.aux}}));
        break;
      case TraceKind::kDiskFault:
        events.push_back(instant(std::string("disk fault: ") + to_string(static_cast<DiskFault>(r.aux)), "node", r.t,
                                 tid_of(r.node), Json::object()));
        break;
      case TraceKind::kLeader:
        events.push_back(instant("leader", "node", r.t, tid_of(r.node), {{"term", r.aux}}));
        break;
      case TraceKind::kIsolated:
        events.push_back(instant(r.aux ? "leader cut off from everyone else" : "leader cut off from its followers",
                                 "net", r.t, tid_of(r.node), Json::object()));
        break;
      case TraceKind::kRaft:
      case TraceKind::kRaftLost:
        break;  // Raft's own traffic: too dense to draw
      case TraceKind::kHeal: {
        Json e = instant("heal", "cluster", r.t, tid_of(0), Json::object());
        e["s"] = "g";
        events.push_back(std::move(e));
        break;
      }
    }
  }

  // One async slice per transaction, in order of first appearance, on its
  // coordinator's track.
  std::vector<std::pair<TxId, Span>> ordered(spans.begin(), spans.end());
  std::sort(ordered.begin(), ordered.end(),
            [](const auto& a, const auto& b) { return a.second.first < b.second.first; });
  for (const auto& [tx, span] : ordered) {
    std::string text = format_txid(tx);
    std::string name = "tx " + text.substr(0, 8);
    std::string id = hex16(tx.hi ^ tx.lo);
    int64_t tid = tid_of(cluster.coordinators > 0
                             ? cluster.coordinator_node(cluster.coordinator_of(tx.hi, tx.lo))
                             : 0);
    events.push_back({{"ph", "b"}, {"name", name}, {"cat", "tx"}, {"id", id}, {"pid", kPid},
                      {"tid", tid}, {"ts", us(records[span.first].t)}, {"args", {{"tx", text}}}});
    events.push_back({{"ph", "e"}, {"name", name}, {"cat", "tx"}, {"id", id}, {"pid", kPid},
                      {"tid", tid}, {"ts", us(records[span.last].t)}});
  }

  for (const Violation& v : violations) {
    Json txs = Json::array();
    for (const TxId& tx : v.txs) txs.push_back(format_txid(tx));
    Json e = instant("VIOLATION " + std::string(to_string(v.property)), "violation", v.time, tid_of(0),
                     {{"property", to_string(v.property)}, {"message", v.message}, {"txs", std::move(txs)}});
    e["s"] = "g";
    events.push_back(std::move(e));
  }

  Json doc = {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ns"}};
  out << doc.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace ws
