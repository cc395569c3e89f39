// Trace records: one per processed simulator event. Every run folds them into
// a trace hash; --trace writes them as JSON lines; a ring keeps the last few
// for violation reports and replay timelines.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/messages.h"

namespace ws {

enum class TraceKind : uint8_t {
  kDeliver,    // node received msg from peer
  kDropped,    // network lost msg (random loss)
  kCut,        // network partition dropped msg
  kToDown,     // msg reached a crashed node and was lost
  kDuplicated, // network delivered an extra copy
  kTimer,
  kSync,       // records up to aux became durable
  kCrash,
  kRestart,
  kTornTail,   // restart found and truncated a torn record
  kHeal,
  kShed,       // msg reached a node whose inbox was full (node.max_queue) and was dropped
  // Replica groups (cluster.replicas > 1):
  kRedirect,   // node, a replica not serving as leader, sent msg back to peer; aux: the leader it knows (or none)
  kRaft,       // node received a Raft message from peer; aux: type | term << 8
  kRaftLost,   // a Raft message from peer to node was lost (dropped, cut or to a down node); aux as kRaft
  kLeader,     // node became its group's leader; aux: the term
  kIsolated,   // a partition cut node (its group's leader) off; aux: 0 from its followers, 1 from everyone else
  kDiskFault,  // a storage fault hit node's disk; aux: the DiskFault
};
const char* to_string(TraceKind k);

struct TraceRecord {
  Time t = 0;
  TraceKind kind = TraceKind::kDeliver;
  NodeId node = 0;
  NodeId peer = kNoNode;
  MsgKind msg = MsgKind::kTry;
  Leg leg = Leg::kDebit;
  bool yes = false;
  Outcome outcome = Outcome::kNone;
  TxId tx;
  uint32_t request = 0;
  uint64_t aux = 0;
};

// Record kinds that describe a message (sent, delivered or lost).
inline bool is_message(TraceKind k) {
  return k == TraceKind::kDeliver || k == TraceKind::kDropped || k == TraceKind::kCut ||
         k == TraceKind::kToDown || k == TraceKind::kDuplicated || k == TraceKind::kShed ||
         k == TraceKind::kRedirect;
}
// Which fields of a message kind mean something.
inline bool has_leg(MsgKind k) {
  return k == MsgKind::kTry || k == MsgKind::kTryReply || k == MsgKind::kConfirm ||
         k == MsgKind::kCancel || k == MsgKind::kPhase2Ack;
}
inline bool has_yes(MsgKind k) { return k == MsgKind::kTryReply || k == MsgKind::kPhase2Ack; }
inline bool has_request(MsgKind k) {
  return k == MsgKind::kTransferRequest || k == MsgKind::kTransferReply ||
         k == MsgKind::kStatusQuery || k == MsgKind::kStatusReply;
}

// A record's six words are mixed in three independent products, so only the
// last step, one SplitMix64 finalizer (a bijection: nothing folded before is
// lost), waits on the running hash. Each word is first xored with its own
// constant, so a product is zero only if a field equals that constant.
inline uint64_t trace_fold(uint64_t h, const TraceRecord& r) {
  const uint64_t w0 = static_cast<uint64_t>(r.t);
  const uint64_t w1 = static_cast<uint64_t>(r.kind) | uint64_t{r.node} << 8 | uint64_t{r.peer} << 32;
  const uint64_t w2 = static_cast<uint64_t>(r.msg) | static_cast<uint64_t>(r.leg) << 8 | uint64_t{r.yes} << 16 |
                      static_cast<uint64_t>(r.outcome) << 24 | uint64_t{r.request} << 32;
  const uint64_t rec = mum64(w0 ^ 0xa0761d6478bd642fULL, w1 ^ 0xe7037ed1a0b428dbULL) ^
                       mum64(w2 ^ 0x8ebc6af09c88c6e3ULL, r.tx.hi ^ 0x589965cc75374cc3ULL) ^
                       mum64(r.tx.lo ^ 0x1d8e4e27c47d124fULL, r.aux ^ 0x9e3779b97f4a7c15ULL);
  return mix64(h ^ rec);
}
std::string trace_json(const TraceRecord& r);
std::string trace_text(const TraceRecord& r);  // one readable timeline line

class TraceRing {
 public:
  static constexpr size_t kSize = 48;
  void push(const TraceRecord& r) {
    buf_[next_ % kSize] = r;
    ++next_;
  }
  std::vector<TraceRecord> last(size_t n) const;

 private:
  std::array<TraceRecord, kSize> buf_{};
  size_t next_ = 0;
};

}  // namespace ws
