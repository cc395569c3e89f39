// The wire format between walletd processes (docs/walletd.md): every TCP
// frame is a fixed header followed by its payload.
//   magic u32 | version u8 | channel u8 | hops u8 | reserved u8 | from u32 |
//   to u32 | length u32 | crc32c u32      (all little-endian, 24 bytes)
// The CRC-32C covers the first 20 header bytes and the payload. A receiver
// that meets a bad frame closes the connection: nothing after it can be
// trusted to start on a frame boundary.
//
// Payloads by channel:
//   engine    one explicitly encoded ws::Message (kMessageWireSize bytes);
//             hops counts how often it was sent on after a redirect.
//   redirect  a wallet message sent back by a replica that is not serving
//             as its group's leader: the Message, then the leader that
//             replica knows (u32 node id, kNoNode if none).
//   raft      a Raft message between replicas of one group: the cluster's
//             configuration id (u32), then the raft::Msg.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/messages.h"
#include "core/raft.h"
#include "core/types.h"

namespace ws::net {

constexpr uint32_t kFrameMagic = 0x464e5357;  // "WSNF" read as little-endian bytes
constexpr uint8_t kFrameVersion = 4;
constexpr size_t kFrameHeaderSize = 24;
constexpr size_t kMessageWireSize = 157;
constexpr size_t kRedirectWireSize = kMessageWireSize + 4;
// The largest Raft payload a receiver accepts: an Append of max_append_bytes
// of entry data with its framing, or a snapshot chunk.
constexpr size_t kMaxRaftPayload = (size_t{1} << 20) + (size_t{64} << 10);
// A message is sent on after a redirect at most this many times.
constexpr uint8_t kMaxHops = 2;

// What a frame carries (see above).
enum class Channel : uint8_t { kEngine = 0, kRedirect = 1, kRaft = 2 };
constexpr uint8_t kChannelCount = 3;

enum class FrameError : uint8_t {
  kNone,
  kShort,        // not a whole frame yet: wait for more bytes
  kBadMagic,
  kBadVersion,
  kBadChannel,
  kBadHops,
  kBadLength,
  kBadChecksum,
  kBadMessage,   // checksum fine, but a field holds a value no sender writes
};
const char* to_string(FrameError e);

struct FrameHeader {
  Channel channel = Channel::kEngine;
  uint8_t hops = 0;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  uint32_t length = 0;
};

// Appends one engine frame to out.
void encode_frame(NodeId from, NodeId to, const Message& m, std::vector<uint8_t>& out, uint8_t hops = 0);
// Appends one redirect frame: m sent back from `from` to its sender `to`.
void encode_redirect_frame(NodeId from, NodeId to, const Message& m, NodeId hint, uint8_t hops,
                           std::vector<uint8_t>& out);
// Appends one Raft frame.
void encode_raft_frame(NodeId from, NodeId to, uint32_t config, const raft::Msg& m, std::vector<uint8_t>& out);

struct FrameDecode {
  FrameError error = FrameError::kShort;
  FrameHeader header;
  Message message{};       // engine and redirect frames
  NodeId hint = kNoNode;   // redirect frames
  uint32_t config = 0;     // raft frames
  raft::Msg raft{};        // raft frames
  size_t consumed = 0;  // bytes of buf this frame used (when error == kNone)
};

// Decodes the first frame of buf. kShort means buf holds only a prefix of a
// frame whose header so far is valid; any other error is final.
FrameDecode decode_frame(std::span<const uint8_t> buf);

// The Message payload alone (exposed for tests).
void encode_message(const Message& m, uint8_t* out);
bool decode_message(const uint8_t* in, Message& m);
void encode_raft_msg(const raft::Msg& m, std::vector<uint8_t>& out);
bool decode_raft_msg(std::span<const uint8_t> in, raft::Msg& m);

}  // namespace ws::net
