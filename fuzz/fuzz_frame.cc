// Fuzz target: the peer frame decoder (net/frame.cc, decode_frame,
// decode_message and decode_raft_msg), which reads whatever another process
// or the network put on a TCP connection.
//
// Input: the bytes of a receive buffer, decoded frame after frame as the
// transport does, until an error or a frame that is not complete yet. The
// same bytes are then decoded again with each frame's CRC-32C field
// rewritten to match, so that the fuzzer reaches the message-field checks
// behind the checksum instead of stopping at it.
//
// Asserts, beyond "does not crash" and "never reads past the buffer":
//  - a decoded frame used exactly header + payload bytes, and encoding its
//    header and message (wallet or Raft) again gives the same bytes
//    (nothing is read that is not written, nothing is lost);
//  - every proper prefix of a decoded frame is kShort, and every prefix of
//    a refused frame is kShort or the same error (a reader may wait for
//    more bytes, but never changes its mind about bytes it has seen);
//  - kShort is answered only when the buffer holds less than a frame;
//  - every error has a name.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "core/checksum.h"
#include "fuzz/check.h"
#include "net/frame.h"

namespace {

using ws::net::FrameDecode;
using ws::net::FrameError;
using ws::net::kFrameHeaderSize;
using ws::net::kMessageWireSize;
using ws::net::Channel;

// Prefixes checked per frame: all of a wallet frame, the start of a Raft one.
constexpr size_t kPrefixesChecked = 1024;

void check_prefixes(std::span<const uint8_t> buf, const FrameDecode& whole) {
  const size_t upto =
      std::min(whole.error == FrameError::kNone ? whole.consumed : buf.size(), kPrefixesChecked);
  for (size_t n = 0; n < upto; ++n) {
    FrameDecode d = ws::net::decode_frame(buf.first(n));
    FUZZ_CHECK(d.error == FrameError::kShort ||
               (whole.error != FrameError::kNone && d.error == whole.error));
  }
}

void check_reencodes(std::span<const uint8_t> frame, const FrameDecode& d) {
  std::vector<uint8_t> again;
  const ws::net::FrameHeader& h = d.header;
  switch (h.channel) {
    case Channel::kEngine: ws::net::encode_frame(h.from, h.to, d.message, again, h.hops); break;
    case Channel::kRedirect: ws::net::encode_redirect_frame(h.from, h.to, d.message, d.hint, h.hops, again); break;
    case Channel::kRaft: ws::net::encode_raft_frame(h.from, h.to, d.config, d.raft, again); break;
  }
  FUZZ_CHECK(again.size() == frame.size());
  FUZZ_CHECK(std::memcmp(again.data(), frame.data(), frame.size()) == 0);
  if (h.channel == Channel::kRaft) return;
  uint8_t payload[kMessageWireSize];
  ws::net::encode_message(d.message, payload);
  FUZZ_CHECK(std::memcmp(payload, frame.data() + kFrameHeaderSize, kMessageWireSize) == 0);
}

// Decodes frames from the front of buf as the transport does, checking each.
void decode_stream(std::span<const uint8_t> buf) {
  size_t pos = 0;
  for (;;) {
    std::span<const uint8_t> rest = buf.subspan(pos);
    FrameDecode d = ws::net::decode_frame(rest);
    FUZZ_CHECK(ws::net::to_string(d.error)[0] != '\0');
    check_prefixes(rest, d);
    if (d.error == FrameError::kShort) {
      FUZZ_CHECK(rest.size() < kFrameHeaderSize || rest.size() < kFrameHeaderSize + d.header.length);
      return;
    }
    if (d.error != FrameError::kNone) return;
    FUZZ_CHECK(d.consumed == kFrameHeaderSize + d.header.length);
    check_reencodes(rest.first(d.consumed), d);
    pos += d.consumed;
  }
}

// Rewrites the CRC field of every whole frame, each as long as its header says.
void reseal(std::vector<uint8_t>& buf) {
  for (size_t at = 0; at + kFrameHeaderSize <= buf.size();) {
    uint8_t* p = buf.data() + at;
    const size_t len = uint32_t{p[16]} | uint32_t{p[17]} << 8 | uint32_t{p[18]} << 16 | uint32_t{p[19]} << 24;
    if (buf.size() - at - kFrameHeaderSize < len) return;
    uint32_t crc = ws::crc32c(p, 20);
    crc = ws::crc32c(p + kFrameHeaderSize, len, crc);
    for (int i = 0; i < 4; ++i) p[20 + i] = static_cast<uint8_t>(crc >> (8 * i));
    at += kFrameHeaderSize + len;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  decode_stream(std::span<const uint8_t>(data, size));
  // A heap copy of exactly the input's size keeps ASan's bounds check.
  std::vector<uint8_t> sealed(data, data + size);
  reseal(sealed);
  decode_stream(sealed);
  return 0;
}
