#include "properties/timeline.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <tuple>
#include <unordered_map>

#include "core/raft.h"

namespace ws {

namespace {

bool selected(const TraceRecord& r, const TxId& tx, const TimelineOptions& opt) {
  if (is_message(r.kind)) return !opt.focus || tx == *opt.focus;
  switch (r.kind) {
    case TraceKind::kCrash:
    case TraceKind::kRestart:
    case TraceKind::kTornTail:
    case TraceKind::kDiskFault:
    case TraceKind::kHeal:
    case TraceKind::kLeader:
    case TraceKind::kIsolated:
      return true;
    case TraceKind::kRaft:
    case TraceKind::kRaftLost:
      return (opt.show_raft || opt.show_internal) && !opt.focus;
    case TraceKind::kTimer:
    case TraceKind::kSync:
      return opt.show_internal && !opt.focus;
    default:
      return false;
  }
}

std::string ms_text(Time t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(t) / 1e6);
  return buf;
}

std::string tx_short(const TxId& tx) { return tx.is_nil() ? std::string("-") : format_txid(tx).substr(0, 8); }

std::string message_label(const TraceRecord& r, const TxId& tx) {
  std::string s = to_string(r.msg);
  s += ' ';
  s += tx_short(tx);
  if (has_request(r.msg)) s += " #" + std::to_string(r.request);
  if (has_leg(r.msg)) s += std::string(" ") + to_string(r.leg);
  if (has_yes(r.msg)) s += r.yes ? " yes" : " no";
  if (r.outcome != Outcome::kNone) s += std::string(" ") + to_string(r.outcome);
  switch (r.kind) {
    case TraceKind::kDropped: s += " [dropped]"; break;
    case TraceKind::kCut: s += " [cut]"; break;
    case TraceKind::kDuplicated: s += " [dup]"; break;
    case TraceKind::kToDown: s += " [node down, lost]"; break;
    case TraceKind::kShed: s += " [inbox full, shed]"; break;
    case TraceKind::kRedirect: s += " [not the leader, sent back]"; break;
    default: break;
  }
  return s;
}

bool is_raft(TraceKind k) { return k == TraceKind::kRaft || k == TraceKind::kRaftLost; }

// A Raft message's record holds its type and term (aux: type | term << 8).
std::string raft_label(const TraceRecord& r) {
  std::string s = to_string(static_cast<raft::MsgType>(r.aux & 0xff));
  s += " t" + std::to_string(r.aux >> 8);
  if (r.kind == TraceKind::kRaftLost) s += " [lost]";
  return s;
}

void rtrim(std::string& s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
}

}  // namespace

std::vector<TxId> resolve_txs(const std::vector<TraceRecord>& records) {
  std::unordered_map<uint32_t, TxId> by_request;
  for (const TraceRecord& r : records)
    if (is_message(r.kind) && has_request(r.msg) && !r.tx.is_nil()) by_request.try_emplace(r.request, r.tx);
  std::vector<TxId> txs(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const TraceRecord& r = records[i];
    if (!is_message(r.kind)) continue;
    txs[i] = r.tx;
    if (r.tx.is_nil() && has_request(r.msg)) {
      auto it = by_request.find(r.request);
      if (it != by_request.end()) txs[i] = it->second;
    }
  }
  return txs;
}

std::string node_short_name(const ClusterConfig& cluster, NodeId n) {
  if (cluster.replicas() > 1 && cluster.is_server(n) && cluster.replica_index(n) > 0) {
    const uint32_t g = cluster.group_of(n);
    const std::string r = "." + std::to_string(cluster.replica_index(n));
    return cluster.is_partition(g) ? "p" + std::to_string(g) + r : "c" + std::to_string(g - cluster.partitions) + r;
  }
  if (cluster.is_partition(n)) return "p" + std::to_string(n);
  if (cluster.is_coordinator(n)) return "c" + std::to_string(n - cluster.partitions);
  if (cluster.is_client(n)) return "k" + std::to_string(n - cluster.partitions - cluster.coordinators);
  return "n" + std::to_string(n);
}

std::string render_timeline(const ClusterConfig& cluster, const std::vector<TraceRecord>& records,
                            const Violation* violation, const TimelineOptions& opt) {
  // The rows: the last max_rows selected records at or before the violation.
  const std::vector<TxId> txs = resolve_txs(records);
  std::vector<size_t> rows;
  size_t earlier = 0;  // selected rows left out at the front
  for (size_t i = records.size(); i-- > 0;) {
    const TraceRecord& r = records[i];
    if (violation && r.t > violation->time) continue;
    if (!selected(r, txs[i], opt)) continue;
    if (opt.max_rows == 0 || rows.size() < opt.max_rows) rows.push_back(i);
    else ++earlier;
  }
  std::reverse(rows.begin(), rows.end());

  // One column per node that appears in those rows.
  std::vector<NodeId> nodes;
  for (size_t i : rows) {
    const TraceRecord& r = records[i];
    if (r.kind == TraceKind::kHeal) continue;
    nodes.push_back(r.node);
    if ((is_message(r.kind) || is_raft(r.kind)) && r.peer != kNoNode) nodes.push_back(r.peer);
  }
  // A group's replicas side by side (p0 p0.1 p0.2 p1 ...), clients last.
  auto order = [&](NodeId n) {
    if (cluster.replicas() > 1 && cluster.is_server(n))
      return std::tuple<uint32_t, uint32_t, NodeId>{cluster.group_of(n), cluster.replica_index(n), n};
    return std::tuple<uint32_t, uint32_t, NodeId>{UINT32_MAX, 0, n};
  };
  std::sort(nodes.begin(), nodes.end(), [&](NodeId a, NodeId b) { return order(a) < order(b); });
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());

  const size_t w = std::max<size_t>(opt.column_width, 4);
  const size_t lanes_width = nodes.size() * w;
  auto column = [&](NodeId n) -> std::optional<size_t> {
    auto it = std::find(nodes.begin(), nodes.end(), n);
    if (it == nodes.end()) return std::nullopt;
    return static_cast<size_t>(it - nodes.begin()) * w + w / 2 - 1;  // the lifeline's position
  };
  auto blank_lanes = [&] {
    std::string lane(lanes_width, ' ');
    for (size_t c = 0; c < nodes.size(); ++c) lane[c * w + w / 2 - 1] = '|';
    return lane;
  };
  bool mark_txs = violation && !violation->txs.empty();
  auto prefix = [&](const TraceRecord* r, const TxId* tx) {
    char buf[48];
    bool star = false;
    if (r && tx && mark_txs && is_message(r->kind))
      star = std::find(violation->txs.begin(), violation->txs.end(), *tx) != violation->txs.end();
    std::snprintf(buf, sizeof buf, "%12s %c ", r ? ms_text(r->t).c_str() : "", star ? '*' : ' ');
    return std::string(buf);
  };

  std::string out;
  // Header: names centred on their lifelines.
  {
    std::string head(lanes_width, ' ');
    for (size_t c = 0; c < nodes.size(); ++c) {
      std::string name = node_short_name(cluster, nodes[c]);
      size_t mid = c * w + w / 2 - 1;
      size_t start = mid >= (name.size() - 1) / 2 ? mid - (name.size() - 1) / 2 : 0;
      for (size_t k = 0; k < name.size() && start + k < head.size(); ++k) head[start + k] = name[k];
    }
    std::string line;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%12s   ", "ms");
    line = buf + head;
    rtrim(line);
    out += line + '\n';
  }
  if (earlier > 0)
    out += prefix(nullptr, nullptr) + "... " + std::to_string(earlier) + " earlier row" + (earlier == 1 ? "" : "s") +
           " not shown\n";

  for (size_t i : rows) {
    const TraceRecord& r = records[i];
    std::string line = prefix(&r, &txs[i]);
    if (r.kind == TraceKind::kHeal) {
      std::string bar(std::max<size_t>(lanes_width, 20), '=');
      const std::string word = " heal ";
      bar.replace((bar.size() - word.size()) / 2, word.size(), word);
      line += bar;
      out += line + '\n';
      continue;
    }
    std::string lane = blank_lanes();
    std::string label;
    std::optional<size_t> at = column(r.node);
    if (is_message(r.kind) || is_raft(r.kind)) {
      std::optional<size_t> from = r.peer != kNoNode ? column(r.peer) : std::nullopt;
      bool lost = r.kind == TraceKind::kDropped || r.kind == TraceKind::kCut || r.kind == TraceKind::kToDown ||
                  r.kind == TraceKind::kShed || r.kind == TraceKind::kRaftLost;
      if (at && from && *at != *from) {
        size_t lo = std::min(*at, *from), hi = std::max(*at, *from);
        for (size_t k = lo; k <= hi; ++k) lane[k] = '-';
        lane[*from] = 'o';
        lane[*at] = lost ? 'x' : (*at > *from ? '>' : '<');
      } else if (at) {
        lane[*at] = lost ? 'x' : '@';  // a message to itself, or from an unknown sender
      }
      label = is_raft(r.kind) ? raft_label(r) : message_label(r, txs[i]);
    } else {
      std::string who = node_short_name(cluster, r.node);
      char mark = '?';
      switch (r.kind) {
        case TraceKind::kCrash:
          mark = 'X';
          label = "crash " + who;
          if (r.aux > 0) label += " (" + std::to_string(r.aux) + " bytes of a torn record kept)";
          break;
        case TraceKind::kRestart:
          mark = '^';
          label = "^ restart " + who;
          break;
        case TraceKind::kTornTail:
          mark = '~';
          label = "~ damaged log " + who + " (" + std::to_string(r.aux) + " bytes cut)";
          break;
        case TraceKind::kDiskFault:
          mark = '!';
          label = "! disk fault " + who + ": " + to_string(static_cast<DiskFault>(r.aux));
          break;
        case TraceKind::kTimer:
          mark = '*';
          label = "timer " + who + " tag " + std::to_string(r.aux);
          break;
        case TraceKind::kSync:
          mark = '#';
          label = "sync " + who + " (log durable to byte " + std::to_string(r.aux) + ")";
          break;
        case TraceKind::kLeader:
          mark = 'L';
          label = "leader " + who + " (term " + std::to_string(r.aux) + ")";
          break;
        case TraceKind::kIsolated:
          mark = '!';
          label = "! leader " + who + (r.aux ? " cut off from everyone else" : " cut off from its followers");
          break;
        default:
          label = to_string(r.kind);
          break;
      }
      if (at) lane[*at] = mark;
    }
    line += lane + "  " + label;
    rtrim(line);
    out += line + '\n';
  }

  if (violation) {
    std::string msg = violation->message;
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    out += "!!!! VIOLATION " + std::string(to_string(violation->property)) + " at " +
           ms_text(violation->time) + " ms: " + msg + '\n';
  }
  return out;
}

}  // namespace ws
