#include "net/frame.h"

#include <cstring>

#include "core/checksum.h"
#include "core/le.h"

namespace ws::net {
namespace {

class Writer {
 public:
  explicit Writer(uint8_t* p) : p_(p) {}
  void u8(uint8_t v) { *p_++ = v; }
  void u16(uint16_t v) {
    *p_++ = static_cast<uint8_t>(v);
    *p_++ = static_cast<uint8_t>(v >> 8);
  }
  void u32(uint32_t v) {
    store_le32(p_, v);
    p_ += 4;
  }
  void u64(uint64_t v) {
    store_le64(p_, v);
    p_ += 8;
  }
  void bytes(const char* s, size_t n) {
    std::memcpy(p_, s, n);
    p_ += n;
  }
  uint8_t* at() const { return p_; }

 private:
  uint8_t* p_;
};

class Reader {
 public:
  explicit Reader(const uint8_t* p) : p_(p) {}
  uint8_t u8() { return *p_++; }
  uint16_t u16() {
    uint16_t v = static_cast<uint16_t>(p_[0] | p_[1] << 8);
    p_ += 2;
    return v;
  }
  uint32_t u32() {
    const uint32_t v = load_le32(p_);
    p_ += 4;
    return v;
  }
  uint64_t u64() {
    const uint64_t v = load_le64(p_);
    p_ += 8;
    return v;
  }
  void bytes(char* s, size_t n) {
    std::memcpy(s, p_, n);
    p_ += n;
  }
  const uint8_t* at() const { return p_; }

 private:
  const uint8_t* p_;
};

constexpr uint8_t kMaxReason = static_cast<uint8_t>(Reason::kExpired);
constexpr uint8_t kMaxOutcome = static_cast<uint8_t>(Outcome::kInProgress);

}  // namespace

const char* to_string(FrameError e) {
  switch (e) {
    case FrameError::kNone: return "ok";
    case FrameError::kShort: return "short frame";
    case FrameError::kBadMagic: return "bad magic";
    case FrameError::kBadVersion: return "unsupported frame version";
    case FrameError::kBadChannel: return "unknown channel";
    case FrameError::kBadHops: return "bad hop count";
    case FrameError::kBadLength: return "bad payload length";
    case FrameError::kBadChecksum: return "checksum mismatch";
    case FrameError::kBadMessage: return "invalid message field";
  }
  return "?";
}

// Field by field, little-endian: the layout does not depend on the
// compiler's struct padding or the host's byte order.
void encode_message(const Message& m, uint8_t* out) {
  Writer w(out);
  w.u8(static_cast<uint8_t>(m.kind));
  w.u8(static_cast<uint8_t>(m.leg));
  w.u8(static_cast<uint8_t>(m.outcome));
  w.u8(static_cast<uint8_t>(m.reason));
  w.u8(m.yes ? 1 : 0);
  w.u8(m.currency);
  w.u32(m.request);
  w.u64(m.tx.hi);
  w.u64(m.tx.lo);
  w.u32(m.account);
  w.u32(m.account2);
  w.u64(static_cast<uint64_t>(m.amount.minor));
  w.u16(m.origin);
  w.u64(m.seq);
  w.u64(m.low);
  w.u64(static_cast<uint64_t>(m.age));
  w.bytes(m.text.txid, sizeof m.text.txid);
  w.bytes(m.text.amount, sizeof m.text.amount);
  w.bytes(m.text.currency, sizeof m.text.currency);
  w.u8(m.text.overlong ? 1 : 0);
  w.u32(m.text.from);
  w.u32(m.text.to);
}

bool decode_message(const uint8_t* in, Message& m) {
  Reader r(in);
  m = Message{};
  uint8_t kind = r.u8(), leg = r.u8(), outcome = r.u8(), reason = r.u8(), yes = r.u8();
  if (kind >= kMsgKindCount || leg > 1 || outcome > kMaxOutcome || reason > kMaxReason || yes > 1)
    return false;
  m.kind = static_cast<MsgKind>(kind);
  m.leg = static_cast<Leg>(leg);
  m.outcome = static_cast<Outcome>(outcome);
  m.reason = static_cast<Reason>(reason);
  m.yes = yes != 0;
  m.currency = r.u8();
  m.request = r.u32();
  m.tx.hi = r.u64();
  m.tx.lo = r.u64();
  m.account = r.u32();
  m.account2 = r.u32();
  m.amount.minor = static_cast<int64_t>(r.u64());
  m.origin = r.u16();
  m.seq = r.u64();
  m.low = r.u64();
  m.age = static_cast<Duration>(r.u64());
  r.bytes(m.text.txid, sizeof m.text.txid);
  r.bytes(m.text.amount, sizeof m.text.amount);
  r.bytes(m.text.currency, sizeof m.text.currency);
  uint8_t overlong = r.u8();
  if (overlong > 1) return false;
  m.text.overlong = overlong != 0;
  m.text.from = r.u32();
  m.text.to = r.u32();
  // Text fields are C strings: a missing terminator is a malformed message.
  if (m.text.txid[sizeof m.text.txid - 1] != '\0' || m.text.amount[sizeof m.text.amount - 1] != '\0' ||
      m.text.currency[sizeof m.text.currency - 1] != '\0')
    return false;
  return r.at() == in + kMessageWireSize;
}

// Raft messages: fixed fields, then the entries and the snapshot chunk,
// each with its length; every count and length is checked against what is
// there before anything is read.
void encode_raft_msg(const raft::Msg& m, std::vector<uint8_t>& out) {
  out.push_back(static_cast<uint8_t>(m.type));
  append_le32(out, m.from);
  append_le32(out, m.to);
  append_le64(out, m.term);
  append_le64(out, m.prev_index);
  append_le64(out, m.prev_term);
  append_le64(out, m.commit);
  out.push_back(m.success ? 1 : 0);
  append_le64(out, m.match_index);
  append_le64(out, m.hint_index);
  append_le64(out, m.snapshot.last_index);
  append_le64(out, m.snapshot.last_term);
  append_le64(out, m.offset);
  out.push_back(m.done ? 1 : 0);
  append_le64(out, m.read_round);
  out.push_back(m.stale ? 1 : 0);
  append_le32(out, static_cast<uint32_t>(m.entries.size()));
  for (const raft::Entry& e : m.entries) {
    append_le64(out, e.term);
    append_le64(out, e.index);
    out.push_back(static_cast<uint8_t>(e.kind));
    append_le32(out, static_cast<uint32_t>(e.data.size()));
    out.insert(out.end(), e.data.begin(), e.data.end());
  }
  append_le32(out, static_cast<uint32_t>(m.bytes.size()));
  out.insert(out.end(), m.bytes.begin(), m.bytes.end());
}

bool decode_raft_msg(std::span<const uint8_t> in, raft::Msg& m) {
  m = raft::Msg{};
  size_t pos = 0;
  auto have = [&](size_t n) { return in.size() - pos >= n; };
  auto u8 = [&] { return in[pos++]; };
  auto u32 = [&] {
    const uint32_t v = load_le32(in.data() + pos);
    pos += 4;
    return v;
  };
  auto u64 = [&] {
    const uint64_t v = load_le64(in.data() + pos);
    pos += 8;
    return v;
  };
  auto flag = [&](bool& b) {
    const uint8_t v = u8();
    b = v == 1;
    return v <= 1;
  };
  constexpr size_t kFixed = 1 + 4 + 4 + 8 * 4 + 1 + 8 * 5 + 1 + 8 + 1 + 4;
  if (!have(kFixed)) return false;
  const uint8_t type = u8();
  if (type < static_cast<uint8_t>(raft::MsgType::kRequestVote) ||
      type > static_cast<uint8_t>(raft::MsgType::kPreVoteReply))
    return false;
  m.type = static_cast<raft::MsgType>(type);
  m.from = u32();
  m.to = u32();
  if (m.from >= raft::kMaxReplicas || m.to >= raft::kMaxReplicas) return false;
  m.term = u64();
  m.prev_index = u64();
  m.prev_term = u64();
  m.commit = u64();
  if (!flag(m.success)) return false;
  m.match_index = u64();
  m.hint_index = u64();
  m.snapshot.last_index = u64();
  m.snapshot.last_term = u64();
  m.offset = u64();
  if (!flag(m.done)) return false;
  m.read_round = u64();
  if (!flag(m.stale)) return false;
  const uint32_t entries = u32();
  constexpr size_t kEntryFixed = 8 + 8 + 1 + 4;
  if (entries > (in.size() - pos) / kEntryFixed) return false;
  m.entries.resize(entries);
  for (raft::Entry& e : m.entries) {
    if (!have(kEntryFixed)) return false;
    e.term = u64();
    e.index = u64();
    const uint8_t kind = u8();
    if (kind != static_cast<uint8_t>(raft::EntryKind::kNoop) && kind != static_cast<uint8_t>(raft::EntryKind::kCommand))
      return false;
    e.kind = static_cast<raft::EntryKind>(kind);
    const uint32_t n = u32();
    if (!have(n)) return false;
    e.data.assign(in.begin() + pos, in.begin() + pos + n);
    pos += n;
  }
  if (!have(4)) return false;
  const uint32_t n = u32();
  if (in.size() - pos != n) return false;
  m.bytes.assign(in.begin() + pos, in.end());
  return true;
}

namespace {

// The header, with the CRC over it and the payload already in place.
void seal_frame(std::vector<uint8_t>& out, size_t at, Channel channel, uint8_t hops, NodeId from, NodeId to) {
  const size_t length = out.size() - at - kFrameHeaderSize;
  uint8_t* p = out.data() + at;
  Writer w(p);
  w.u32(kFrameMagic);
  w.u8(kFrameVersion);
  w.u8(static_cast<uint8_t>(channel));
  w.u8(hops);
  w.u8(0);
  w.u32(from);
  w.u32(to);
  w.u32(static_cast<uint32_t>(length));
  uint32_t crc = crc32c(p, 20);
  crc = crc32c(p + kFrameHeaderSize, length, crc);
  w.u32(crc);
}

}  // namespace

void encode_frame(NodeId from, NodeId to, const Message& m, std::vector<uint8_t>& out, uint8_t hops) {
  const size_t at = out.size();
  out.resize(at + kFrameHeaderSize + kMessageWireSize);
  encode_message(m, out.data() + at + kFrameHeaderSize);
  seal_frame(out, at, Channel::kEngine, hops, from, to);
}

void encode_redirect_frame(NodeId from, NodeId to, const Message& m, NodeId hint, uint8_t hops,
                           std::vector<uint8_t>& out) {
  const size_t at = out.size();
  out.resize(at + kFrameHeaderSize + kRedirectWireSize);
  encode_message(m, out.data() + at + kFrameHeaderSize);
  store_le32(out.data() + at + kFrameHeaderSize + kMessageWireSize, hint);
  seal_frame(out, at, Channel::kRedirect, hops, from, to);
}

void encode_raft_frame(NodeId from, NodeId to, uint32_t config, const raft::Msg& m, std::vector<uint8_t>& out) {
  const size_t at = out.size();
  out.resize(at + kFrameHeaderSize);
  append_le32(out, config);
  encode_raft_msg(m, out);
  seal_frame(out, at, Channel::kRaft, 0, from, to);
}

FrameDecode decode_frame(std::span<const uint8_t> buf) {
  FrameDecode d;
  // Check what is already there, so garbage is rejected without waiting
  // for a whole header's worth of bytes.
  const uint8_t magic[4] = {0x57, 0x53, 0x4e, 0x46};
  for (size_t i = 0; i < 4 && i < buf.size(); ++i)
    if (buf[i] != magic[i]) return d.error = FrameError::kBadMagic, d;
  if (buf.size() > 4 && buf[4] != kFrameVersion) return d.error = FrameError::kBadVersion, d;
  if (buf.size() > 5 && buf[5] >= kChannelCount) return d.error = FrameError::kBadChannel, d;
  if (buf.size() > 6 && buf[6] > kMaxHops) return d.error = FrameError::kBadHops, d;
  if (buf.size() < kFrameHeaderSize) return d.error = FrameError::kShort, d;
  Reader r(buf.data() + 7);
  if (r.u8() != 0) return d.error = FrameError::kBadVersion, d;
  d.header.channel = static_cast<Channel>(buf[5]);
  d.header.hops = buf[6];
  d.header.from = r.u32();
  d.header.to = r.u32();
  d.header.length = r.u32();
  uint32_t crc = r.u32();
  const uint32_t len = d.header.length;
  switch (d.header.channel) {
    case Channel::kEngine:
      if (len != kMessageWireSize) return d.error = FrameError::kBadLength, d;
      break;
    case Channel::kRedirect:
      if (len != kRedirectWireSize) return d.error = FrameError::kBadLength, d;
      break;
    case Channel::kRaft:
      if (len < 4 || len > 4 + kMaxRaftPayload) return d.error = FrameError::kBadLength, d;
      if (d.header.hops != 0) return d.error = FrameError::kBadHops, d;
      break;
  }
  if (buf.size() < kFrameHeaderSize + len) return d.error = FrameError::kShort, d;
  uint32_t want = crc32c(buf.data(), 20);
  const uint8_t* payload = buf.data() + kFrameHeaderSize;
  want = crc32c(payload, len, want);
  if (want != crc) return d.error = FrameError::kBadChecksum, d;
  if (d.header.channel == Channel::kRaft) {
    d.config = load_le32(payload);
    if (!decode_raft_msg(std::span<const uint8_t>(payload + 4, len - 4), d.raft))
      return d.error = FrameError::kBadMessage, d;
  } else {
    if (!decode_message(payload, d.message)) return d.error = FrameError::kBadMessage, d;
    if (d.header.channel == Channel::kRedirect) d.hint = load_le32(payload + kMessageWireSize);
  }
  d.error = FrameError::kNone;
  d.consumed = kFrameHeaderSize + len;
  return d;
}

}  // namespace ws::net
