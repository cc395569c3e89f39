// The wire format between walletd processes (docs/walletd.md): every TCP
// frame is a fixed header followed by one explicitly encoded ws::Message.
//   magic u32 | version u8 | channel u8 | reserved u16 | from u32 | to u32 |
//   length u32 | crc32c u32      (all little-endian, 24 bytes)
// The CRC-32C covers the first 20 header bytes and the payload. A receiver
// that meets a bad frame closes the connection: nothing after it can be
// trusted to start on a frame boundary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/messages.h"
#include "core/types.h"

namespace ws::net {

constexpr uint32_t kFrameMagic = 0x464e5357;  // "WSNF" read as little-endian bytes
constexpr uint8_t kFrameVersion = 3;
constexpr size_t kFrameHeaderSize = 24;
constexpr size_t kMessageWireSize = 157;

// What a frame carries. kEngine frames are engine messages; the balance
// channels are the runtime's read-only query path to a partition (it never
// reaches the engine actor and changes nothing).
enum class Channel : uint8_t { kEngine = 0, kBalanceQuery = 1, kBalanceReply = 2 };
constexpr uint8_t kChannelCount = 3;

enum class FrameError : uint8_t {
  kNone,
  kShort,        // not a whole frame yet: wait for more bytes
  kBadMagic,
  kBadVersion,
  kBadChannel,
  kBadLength,
  kBadChecksum,
  kBadMessage,   // checksum fine, but a field holds a value no sender writes
};
const char* to_string(FrameError e);

struct FrameHeader {
  Channel channel = Channel::kEngine;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  uint32_t length = 0;
};

// Appends one frame to out.
void encode_frame(Channel channel, NodeId from, NodeId to, const Message& m,
                  std::vector<uint8_t>& out);

struct FrameDecode {
  FrameError error = FrameError::kShort;
  FrameHeader header;
  Message message{};
  size_t consumed = 0;  // bytes of buf this frame used (when error == kNone)
};

// Decodes the first frame of buf. kShort means buf holds only a prefix of a
// frame whose header so far is valid; any other error is final.
FrameDecode decode_frame(std::span<const uint8_t> buf);

// The Message payload alone (exposed for tests).
void encode_message(const Message& m, uint8_t* out);
bool decode_message(const uint8_t* in, Message& m);

}  // namespace ws::net
