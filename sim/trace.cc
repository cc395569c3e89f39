#include "sim/trace.h"

#include <cstdio>

namespace ws {

const char* to_string(TraceKind k) {
  switch (k) {
    case TraceKind::kDeliver: return "deliver";
    case TraceKind::kDropped: return "drop";
    case TraceKind::kCut: return "cut";
    case TraceKind::kToDown: return "to_down_node";
    case TraceKind::kShed: return "shed";
    case TraceKind::kDuplicated: return "duplicate";
    case TraceKind::kTimer: return "timer";
    case TraceKind::kSync: return "sync";
    case TraceKind::kCrash: return "crash";
    case TraceKind::kRestart: return "restart";
    case TraceKind::kTornTail: return "torn_tail";
    case TraceKind::kDiskFault: return "disk_fault";
    case TraceKind::kHeal: return "heal";
    case TraceKind::kRedirect: return "redirect";
    case TraceKind::kRaft: return "raft";
    case TraceKind::kRaftLost: return "raft_lost";
    case TraceKind::kLeader: return "leader";
    case TraceKind::kIsolated: return "leader_isolated";
  }
  return "?";
}

std::string trace_json(const TraceRecord& r) {
  char buf[320];
  bool msg = is_message(r.kind);
  if (!msg) {
    std::snprintf(buf, sizeof buf, "{\"t\":%lld,\"ev\":\"%s\",\"node\":%u,\"aux\":%llu}",
                  static_cast<long long>(r.t), to_string(r.kind), r.node,
                  static_cast<unsigned long long>(r.aux));
    return buf;
  }
  std::snprintf(buf, sizeof buf,
                "{\"t\":%lld,\"ev\":\"%s\",\"node\":%u,\"from\":%u,\"msg\":\"%s\",\"tx\":\"%s\","
                "\"leg\":\"%s\",\"yes\":%s,\"outcome\":\"%s\",\"request\":%u}",
                static_cast<long long>(r.t), to_string(r.kind), r.node, r.peer, to_string(r.msg),
                r.tx.is_nil() ? "" : format_txid(r.tx).c_str(), to_string(r.leg),
                r.yes ? "true" : "false", to_string(r.outcome), r.request);
  return buf;
}

std::string trace_text(const TraceRecord& r) {
  char buf[320];
  double ms = static_cast<double>(r.t) / 1e6;
  bool msg = is_message(r.kind);
  if (!msg) {
    std::snprintf(buf, sizeof buf, "%12.6f ms  node %-3u %s%s", ms, r.node, to_string(r.kind),
                  r.kind == TraceKind::kSync ? " (log durable)" : "");
    return buf;
  }
  std::string tx = r.tx.is_nil() ? std::string("-") : format_txid(r.tx).substr(0, 8);
  const char* what = r.kind == TraceKind::kDeliver ? "->" : r.kind == TraceKind::kDuplicated ? "=>" : "-x";
  std::snprintf(buf, sizeof buf, "%12.6f ms  %3u %s %-3u %-14s tx %s %s%s%s%s", ms, r.peer, what,
                r.node, to_string(r.msg), tx.c_str(),
                has_leg(r.msg) ? to_string(r.leg) : "", has_yes(r.msg) ? (r.yes ? " yes" : " no") : "",
                r.outcome != Outcome::kNone ? " " : "",
                r.outcome != Outcome::kNone ? to_string(r.outcome) : "");
  std::string s = buf;
  if (r.kind != TraceKind::kDeliver) s += std::string("   [") + to_string(r.kind) + "]";
  return s;
}

std::vector<TraceRecord> TraceRing::last(size_t n) const {
  if (n > kSize) n = kSize;
  if (n > next_) n = next_;
  std::vector<TraceRecord> v;
  for (size_t i = next_ - n; i < next_; ++i) v.push_back(buf_[i % kSize]);
  return v;
}

}  // namespace ws
