#include "net/frame.h"

#include <cstring>

#include "core/checksum.h"

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
    for (int i = 0; i < 4; ++i) *p_++ = static_cast<uint8_t>(v >> (8 * i));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) *p_++ = static_cast<uint8_t>(v >> (8 * i));
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
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{*p_++} << (8 * i);
    return v;
  }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{*p_++} << (8 * i);
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

void encode_frame(Channel channel, NodeId from, NodeId to, const Message& m,
                  std::vector<uint8_t>& out) {
  const size_t at = out.size();
  out.resize(at + kFrameHeaderSize + kMessageWireSize);
  uint8_t* p = out.data() + at;
  Writer w(p);
  w.u32(kFrameMagic);
  w.u8(kFrameVersion);
  w.u8(static_cast<uint8_t>(channel));
  w.u8(0);
  w.u8(0);
  w.u32(from);
  w.u32(to);
  w.u32(static_cast<uint32_t>(kMessageWireSize));
  encode_message(m, p + kFrameHeaderSize);
  uint32_t crc = crc32c(p, 20);
  crc = crc32c(p + kFrameHeaderSize, kMessageWireSize, crc);
  w.u32(crc);
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
  if (buf.size() < kFrameHeaderSize) return d.error = FrameError::kShort, d;
  Reader r(buf.data() + 6);
  if (r.u8() != 0 || r.u8() != 0) return d.error = FrameError::kBadVersion, d;
  d.header.channel = static_cast<Channel>(buf[5]);
  d.header.from = r.u32();
  d.header.to = r.u32();
  d.header.length = r.u32();
  uint32_t crc = r.u32();
  if (d.header.length != kMessageWireSize) return d.error = FrameError::kBadLength, d;
  if (buf.size() < kFrameHeaderSize + d.header.length) return d.error = FrameError::kShort, d;
  uint32_t want = crc32c(buf.data(), 20);
  want = crc32c(buf.data() + kFrameHeaderSize, d.header.length, want);
  if (want != crc) return d.error = FrameError::kBadChecksum, d;
  if (!decode_message(buf.data() + kFrameHeaderSize, d.message))
    return d.error = FrameError::kBadMessage, d;
  d.error = FrameError::kNone;
  d.consumed = kFrameHeaderSize + d.header.length;
  return d;
}

}  // namespace ws::net
