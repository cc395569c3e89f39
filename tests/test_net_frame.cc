// The wire frame codec of net/frame.h: round trip, and every kind of bad
// frame is refused with the reason, never decoded into a wrong message.
#include <gtest/gtest.h>

#include <cstring>

#include "core/checksum.h"
#include "net/frame.h"

namespace ws::net {
namespace {

Message sample() {
  Message m{};
  m.kind = MsgKind::kTransferRequest;
  m.leg = Leg::kCredit;
  m.outcome = Outcome::kFailed;
  m.reason = Reason::kInsufficientFunds;
  m.yes = true;
  m.currency = 3;
  m.request = 0xdeadbeef;
  m.tx = TxId{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  m.account = 77;
  m.amount = Amount{123456789};
  set_text(m.text.txid, "6f1c2a4e-8d3b-4c7a-9e2f-1b2c3d4e5f60");
  set_text(m.text.amount, "12.50");
  set_text(m.text.currency, "USD");
  m.text.overlong = false;
  m.text.from = 5;
  m.text.to = 9;
  return m;
}

std::vector<uint8_t> frame_of(const Message& m) {
  std::vector<uint8_t> out;
  encode_frame(4, 7, m, out);
  return out;
}

// Rewrites the checksum after a deliberate change, so the test reaches the
// check behind it.
void reseal(std::vector<uint8_t>& f) {
  uint32_t crc = crc32c(f.data(), 20);
  crc = crc32c(f.data() + kFrameHeaderSize, f.size() - kFrameHeaderSize, crc);
  for (int i = 0; i < 4; ++i) f[20 + i] = static_cast<uint8_t>(crc >> (8 * i));
}

TEST(Frame, RoundTripKeepsEveryField) {
  const Message m = sample();
  std::vector<uint8_t> f = frame_of(m);
  ASSERT_EQ(f.size(), kFrameHeaderSize + kMessageWireSize);
  FrameDecode d = decode_frame(f);
  ASSERT_EQ(d.error, FrameError::kNone);
  EXPECT_EQ(d.consumed, f.size());
  EXPECT_EQ(d.header.channel, Channel::kEngine);
  EXPECT_EQ(d.header.hops, 0u);
  EXPECT_EQ(d.header.from, 4u);
  EXPECT_EQ(d.header.to, 7u);
  const Message& r = d.message;
  EXPECT_EQ(r.kind, m.kind);
  EXPECT_EQ(r.leg, m.leg);
  EXPECT_EQ(r.outcome, m.outcome);
  EXPECT_EQ(r.reason, m.reason);
  EXPECT_EQ(r.yes, m.yes);
  EXPECT_EQ(r.currency, m.currency);
  EXPECT_EQ(r.request, m.request);
  EXPECT_EQ(r.tx, m.tx);
  EXPECT_EQ(r.account, m.account);
  EXPECT_EQ(r.amount, m.amount);
  EXPECT_EQ(get_text(r.text.txid), get_text(m.text.txid));
  EXPECT_EQ(get_text(r.text.amount), "12.50");
  EXPECT_EQ(get_text(r.text.currency), "USD");
  EXPECT_EQ(r.text.from, 5u);
  EXPECT_EQ(r.text.to, 9u);
}

TEST(Frame, TwoFramesBackToBackDecodeInOrder) {
  Message a = sample(), b = sample();
  b.request = 2;
  std::vector<uint8_t> buf = frame_of(a);
  std::vector<uint8_t> second = frame_of(b);
  buf.insert(buf.end(), second.begin(), second.end());
  FrameDecode d1 = decode_frame(buf);
  ASSERT_EQ(d1.error, FrameError::kNone);
  FrameDecode d2 = decode_frame(std::span<const uint8_t>(buf).subspan(d1.consumed));
  ASSERT_EQ(d2.error, FrameError::kNone);
  EXPECT_EQ(d2.message.request, 2u);
}

TEST(Frame, EveryProperPrefixIsShortNotAnError) {
  std::vector<uint8_t> f = frame_of(sample());
  for (size_t n = 0; n < f.size(); ++n)
    EXPECT_EQ(decode_frame(std::span<const uint8_t>(f.data(), n)).error, FrameError::kShort) << n;
}

TEST(Frame, FlippedPayloadBitFailsTheChecksum) {
  std::vector<uint8_t> f = frame_of(sample());
  f[kFrameHeaderSize + 30] ^= 0x10;
  EXPECT_EQ(decode_frame(f).error, FrameError::kBadChecksum);
}

TEST(Frame, FlippedHeaderBitFailsTheChecksum) {
  std::vector<uint8_t> f = frame_of(sample());
  f[8] ^= 0x01;  // the sender's node id
  EXPECT_EQ(decode_frame(f).error, FrameError::kBadChecksum);
}

TEST(Frame, UnknownVersionIsRefusedBeforeTheWholeHeaderArrives) {
  std::vector<uint8_t> f = frame_of(sample());
  f[4] = kFrameVersion + 1;
  EXPECT_EQ(decode_frame(f).error, FrameError::kBadVersion);
  EXPECT_EQ(decode_frame(std::span<const uint8_t>(f.data(), 5)).error, FrameError::kBadVersion);
}

TEST(Frame, GarbageIsRefusedAtTheFirstByte) {
  std::vector<uint8_t> junk = {'G', 'E', 'T', ' '};
  EXPECT_EQ(decode_frame(junk).error, FrameError::kBadMagic);
  EXPECT_EQ(decode_frame(std::span<const uint8_t>(junk.data(), 1)).error, FrameError::kBadMagic);
}

TEST(Frame, UnknownChannelIsRefused) {
  std::vector<uint8_t> f = frame_of(sample());
  f[5] = kChannelCount;
  EXPECT_EQ(decode_frame(f).error, FrameError::kBadChannel);
}

TEST(Frame, WrongLengthIsRefused) {
  std::vector<uint8_t> f = frame_of(sample());
  f[16] = static_cast<uint8_t>(kMessageWireSize + 1);
  EXPECT_EQ(decode_frame(f).error, FrameError::kBadLength);
  f[16] = 0xff;
  f[19] = 0xff;  // an absurd length must not make the reader wait for 4 GiB
  EXPECT_EQ(decode_frame(f).error, FrameError::kBadLength);
}

TEST(Frame, OutOfRangeFieldWithGoodChecksumIsRefused) {
  std::vector<uint8_t> f = frame_of(sample());
  f[kFrameHeaderSize + 0] = 200;  // MsgKind
  reseal(f);
  EXPECT_EQ(decode_frame(f).error, FrameError::kBadMessage);
  f = frame_of(sample());
  f[kFrameHeaderSize + 4 + 2 + 4 + 16 + 4 + 4 + 8 + 2 + 8 + 8 + 8 + 39] = 'x';  // txid text without its terminator
  reseal(f);
  EXPECT_EQ(decode_frame(f).error, FrameError::kBadMessage);
}

raft::Msg sample_append() {
  raft::Msg m;
  m.type = raft::MsgType::kAppend;
  m.from = 0;
  m.to = 2;
  m.term = 7;
  m.prev_index = 41;
  m.prev_term = 6;
  m.commit = 40;
  m.entries.push_back({7, 42, raft::EntryKind::kNoop, {}});
  m.entries.push_back({7, 43, raft::EntryKind::kCommand, {1, 2, 3, 250}});
  m.read_round = 9;
  return m;
}

TEST(Frame, RedirectCarriesTheMessageItsHopsAndTheLeader) {
  std::vector<uint8_t> f;
  encode_redirect_frame(12, 5, sample(), 20, 1, f);
  ASSERT_EQ(f.size(), kFrameHeaderSize + kRedirectWireSize);
  FrameDecode d = decode_frame(f);
  ASSERT_EQ(d.error, FrameError::kNone);
  EXPECT_EQ(d.header.channel, Channel::kRedirect);
  EXPECT_EQ(d.header.hops, 1u);
  EXPECT_EQ(d.hint, 20u);
  EXPECT_EQ(d.message.tx, sample().tx);
}

TEST(Frame, TooManyHopsAreRefused) {
  std::vector<uint8_t> f;
  encode_frame(4, 7, sample(), f, kMaxHops);
  EXPECT_EQ(decode_frame(f).error, FrameError::kNone);
  f[6] = kMaxHops + 1;
  EXPECT_EQ(decode_frame(f).error, FrameError::kBadHops);
}

TEST(Frame, RaftRoundTripKeepsEveryField) {
  raft::Msg m = sample_append();
  std::vector<uint8_t> f;
  encode_raft_frame(3, 9, 0xabcdef, m, f);
  FrameDecode d = decode_frame(f);
  ASSERT_EQ(d.error, FrameError::kNone);
  EXPECT_EQ(d.header.channel, Channel::kRaft);
  EXPECT_EQ(d.config, 0xabcdefu);
  EXPECT_EQ(d.raft.type, m.type);
  EXPECT_EQ(d.raft.term, 7u);
  EXPECT_EQ(d.raft.prev_index, 41u);
  EXPECT_EQ(d.raft.prev_term, 6u);
  EXPECT_EQ(d.raft.commit, 40u);
  EXPECT_EQ(d.raft.entries, m.entries);
  EXPECT_EQ(d.raft.read_round, 9u);

  raft::Msg s;
  s.type = raft::MsgType::kInstallSnapshot;
  s.from = 1;
  s.to = 0;
  s.term = 3;
  s.snapshot = {100, 2};
  s.offset = 4096;
  s.bytes = {5, 6, 7};
  s.done = true;
  f.clear();
  encode_raft_frame(1, 0, 1, s, f);
  d = decode_frame(f);
  ASSERT_EQ(d.error, FrameError::kNone);
  EXPECT_EQ(d.raft.snapshot, s.snapshot);
  EXPECT_EQ(d.raft.offset, 4096u);
  EXPECT_EQ(d.raft.bytes, s.bytes);
  EXPECT_TRUE(d.raft.done);
}

TEST(Frame, MalformedRaftMessagesAreRefused) {
  std::vector<uint8_t> good;
  encode_raft_msg(sample_append(), good);
  raft::Msg out;
  ASSERT_TRUE(decode_raft_msg(good, out));
  // Every cut is refused, never read past.
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_FALSE(decode_raft_msg(std::span<const uint8_t>(good.data(), n), out)) << n;
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  EXPECT_FALSE(decode_raft_msg(longer, out));
  std::vector<uint8_t> bad = good;
  bad[0] = 0;  // no such message type
  EXPECT_FALSE(decode_raft_msg(bad, out));
  bad = good;
  bad[1] = raft::kMaxReplicas;  // sender replica out of range
  EXPECT_FALSE(decode_raft_msg(bad, out));
  bad = good;
  bad[1 + 4 + 4 + 8 * 4] = 2;  // success is 0 or 1
  EXPECT_FALSE(decode_raft_msg(bad, out));
}

}  // namespace
}  // namespace ws::net
