// The coordinator's forgetting rules (docs/forgetting.md), driven directly:
// a finished row is remembered for the retention window and then forgotten
// at a snapshot; an id older than half the window is refused as expired and
// nothing is recorded; the low watermark carried to partitions follows the
// oldest unfinished transfer; a restart from a snapshot remembers exactly
// what the live coordinator did.
#include <gtest/gtest.h>

#include "core/coordinator.h"
#include "tests/fake_context.h"

namespace ws {
namespace {

using testing_support::FakeContext;
using testing_support::MemoryStorage;

ClusterConfig MakeConfig() {
  ClusterConfig c;
  c.partitions = 2;
  c.coordinators = 1;
  c.clients = 1;
  c.accounts = 8;
  c.currencies = {CurrencyInfo{"USD", 2}};
  c.initial_balance = {Amount{10000}};
  c.protocol.retention = 1 * kSecond;
  c.protocol.snapshot_every = 4;
  c.finalize();
  return c;
}

std::string Id(uint64_t n) { return format_txid(make_v4_txid(0x1234 + n, 0x5678 * n + 1)); }
TxId Tx(uint64_t n) { return *parse_txid(Id(n)).id; }

class CoordinatorTest : public ::testing::Test {
 public:
  void SetUp() override {
    cfg_ = MakeConfig();
    disk_ = std::make_unique<MemoryStorage>();
    ctx_ = std::make_unique<FakeContext>(cfg_.coordinator_node(0), *disk_);
    Restart();
  }
  void Restart() {
    const Time now = ctx_->now_;
    node_ = std::make_unique<Coordinator>(cfg_, 0);
    node_->on_start(*ctx_);
    ctx_->now_ = now;
  }

  // Sends a transfer request; returns every message the coordinator sent.
  std::vector<testing_support::Sent> Request(uint64_t n, Duration age = 0, AccountId from = 0) {
    Message m{};
    m.kind = MsgKind::kTransferRequest;
    m.request = static_cast<uint32_t>(n);
    set_text(m.text.txid, Id(n));
    set_text(m.text.amount, "1.00");
    set_text(m.text.currency, "USD");
    m.text.from = from;
    m.text.to = 1;
    m.age = age;
    return Deliver(m);
  }
  std::vector<testing_support::Sent> Query(uint64_t n, Duration age) {
    Message m{};
    m.kind = MsgKind::kStatusQuery;
    m.request = static_cast<uint32_t>(n);
    m.tx = Tx(n);
    m.age = age;
    return Deliver(m);
  }
  std::vector<testing_support::Sent> Deliver(const Message& m, NodeId from = 100) {
    const size_t before = ctx_->outbox.size();
    node_->on_message(*ctx_, from, m);
    return {ctx_->outbox.begin() + static_cast<ptrdiff_t>(before), ctx_->outbox.end()};
  }
  // A partition's "yes" to transfer n's leg: a Try answer or an acknowledgement.
  void Yes(MsgKind kind, uint64_t n, Leg leg) {
    Message r{};
    r.kind = kind;
    r.tx = Tx(n);
    r.leg = leg;
    r.yes = true;
    Deliver(r, 0);
  }
  void TryYes(uint64_t n, Leg leg) { Yes(MsgKind::kTryReply, n, leg); }
  void Ack(uint64_t n, Leg leg) { Yes(MsgKind::kPhase2Ack, n, leg); }
  void Finish(uint64_t n) {
    Request(n);
    TryYes(n, Leg::kDebit);
    TryYes(n, Leg::kCredit);
    Ack(n, Leg::kDebit);
    Ack(n, Leg::kCredit);
    if (cfg_.bugs.forget_early) return;  // may be gone already
    ASSERT_NE(node_->row(Tx(n)), nullptr);
    ASSERT_TRUE(node_->row(Tx(n))->finished());
  }
  size_t Snapshots() const {
    size_t k = 0;
    for (const auto& r : disk_->records()) k += r[0] == static_cast<uint8_t>(EventType::kCoordSnapshot);
    return k;
  }
  // Finishes more transfers until a snapshot is written (when rows are forgotten).
  void RunUntilSnapshot() {
    const size_t before = Snapshots();
    for (int i = 0; i < 100 && Snapshots() == before; ++i) Finish(next_++);
    ASSERT_GT(Snapshots(), before);
  }

  ClusterConfig cfg_;
  std::unique_ptr<MemoryStorage> disk_;
  std::unique_ptr<FakeContext> ctx_;
  std::unique_ptr<Coordinator> node_;
  uint64_t next_ = 1000;
};

TEST_F(CoordinatorTest, AFinishedRowIsRememberedForTheWindowThenForgotten) {
  Finish(1);
  ctx_->now_ += 900 * kMillisecond;
  RunUntilSnapshot();
  ASSERT_NE(node_->row(Tx(1)), nullptr) << "forgotten inside its retention window";
  // A retry inside the window gets the recorded answer, and nothing new begins.
  auto out = Request(1, 400 * kMillisecond);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].msg.outcome, Outcome::kSuccess);
  ctx_->now_ += 200 * kMillisecond;
  RunUntilSnapshot();
  EXPECT_EQ(node_->row(Tx(1)), nullptr);
  EXPECT_GT(node_->forgotten(), 0u);
}

TEST_F(CoordinatorTest, AnIdOlderThanHalfTheWindowIsExpiredAndNothingIsRecorded) {
  const size_t records = disk_->record_count();
  auto out = Request(7, 500 * kMillisecond + 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].msg.outcome, Outcome::kRejected);
  EXPECT_EQ(out[0].msg.reason, Reason::kExpired);
  out = Query(7, 500 * kMillisecond + 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].msg.reason, Reason::kExpired);
  EXPECT_EQ(disk_->record_count(), records);
  EXPECT_EQ(node_->row(Tx(7)), nullptr);
  // At exactly half the window it is still taken up.
  out = Request(7, 500 * kMillisecond);
  EXPECT_EQ(out.size(), 2u);  // the two Trys
  EXPECT_NE(node_->row(Tx(7)), nullptr);
}

TEST_F(CoordinatorTest, AYoungQueryForAnUnknownIdStillLeavesAnAbsentNote) {
  auto out = Query(8, 10 * kMillisecond);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].msg.reason, Reason::kNeverArrived);
  ASSERT_NE(node_->row(Tx(8)), nullptr);
  EXPECT_TRUE(node_->row(Tx(8))->absent);
}

TEST_F(CoordinatorTest, TheLowWatermarkFollowsTheOldestUnfinishedTransfer) {
  auto first = Request(1);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].msg.seq, 1u);
  EXPECT_EQ(first[0].msg.low, 1u);
  EXPECT_EQ(first[0].msg.origin, 0u);
  Request(2);
  Request(3);
  EXPECT_EQ(node_->low_watermark(), 1u);
  for (Leg l : {Leg::kDebit, Leg::kCredit}) TryYes(2, l);
  for (Leg l : {Leg::kDebit, Leg::kCredit}) Ack(2, l);
  EXPECT_EQ(node_->low_watermark(), 1u) << "transfer 1 is still open";
  const size_t before = ctx_->outbox.size();
  for (Leg l : {Leg::kDebit, Leg::kCredit}) TryYes(1, l);
  // The Confirms of transfer 1 carry a watermark that has not passed it.
  size_t confirms = 0;
  for (size_t i = before; i < ctx_->outbox.size(); ++i) {
    const Message& m = ctx_->outbox[i].msg;
    if (m.kind != MsgKind::kConfirm) continue;
    ++confirms;
    EXPECT_EQ(m.seq, 1u);
    EXPECT_EQ(m.low, 1u);
  }
  EXPECT_EQ(confirms, 2u);
  for (Leg l : {Leg::kDebit, Leg::kCredit}) Ack(1, l);
  EXPECT_EQ(node_->low_watermark(), 3u);
  for (Leg l : {Leg::kDebit, Leg::kCredit}) TryYes(3, l);
  for (Leg l : {Leg::kDebit, Leg::kCredit}) Ack(3, l);
  EXPECT_EQ(node_->low_watermark(), 4u) << "nothing open: the next transfer's seq";
}

TEST_F(CoordinatorTest, ARestartFromASnapshotRemembersWhatTheLiveCoordinatorDid) {
  for (uint64_t n = 1; n <= 5; ++n) Finish(n);
  ctx_->now_ += 2 * kSecond;
  Finish(6);
  RunUntilSnapshot();
  Request(50);  // open, after the snapshot
  ASSERT_EQ(node_->row(Tx(3)), nullptr);
  const uint64_t digest = node_->state_digest();
  const size_t remembered = node_->remembered();
  const uint64_t low = node_->low_watermark();
  Restart();
  EXPECT_EQ(node_->state_digest(), digest);
  EXPECT_EQ(node_->remembered(), remembered);
  EXPECT_EQ(node_->low_watermark(), low);
  ASSERT_NE(node_->row(Tx(6)), nullptr);
  EXPECT_EQ(node_->row(Tx(3)), nullptr);
  // Begin order continues past every forgotten transfer.
  auto out = Request(51);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_GT(out[0].msg.seq, node_->row(Tx(50))->order);
}

TEST_F(CoordinatorTest, TheForgetEarlyBugForgetsInsideTheWindow) {
  cfg_.bugs.forget_early = true;
  Finish(1);
  RunUntilSnapshot();
  EXPECT_EQ(node_->row(Tx(1)), nullptr);
  // A retry inside the window then starts the transfer a second time.
  auto out = Request(1, 10 * kMillisecond);
  EXPECT_EQ(out.size(), 2u);
}

}  // namespace
}  // namespace ws

namespace ws {
namespace {

// Same-partition transfers (docs/same_partition.md): the coordinator sends
// one local transfer to the partition that holds both accounts; its answer
// is the outcome, with no second phase, and it is resent until answered,
// never timed out, because only the partition can decide it.
class SamePartitionTest : public CoordinatorTest {
 public:
  // Two accounts on one partition, and one on the other.
  void Pick() {
    for (AccountId a = 0; a < cfg_.accounts; ++a)
      for (AccountId b = 0; b < cfg_.accounts; ++b)
        if (a != b && cfg_.account_partition[a] == cfg_.account_partition[b]) {
          from_ = a;
          to_ = b;
          return;
        }
    FAIL() << "no two accounts share a partition";
  }
  std::vector<testing_support::Sent> Send(uint64_t n) {
    Message m{};
    m.kind = MsgKind::kTransferRequest;
    m.request = static_cast<uint32_t>(n);
    set_text(m.text.txid, Id(n));
    set_text(m.text.amount, "2.50");
    set_text(m.text.currency, "USD");
    m.text.from = from_;
    m.text.to = to_;
    return Deliver(m);
  }
  AccountId from_ = 0, to_ = 0;
};

TEST_F(SamePartitionTest, OneLocalTransferAndItsAnswerDecide) {
  Pick();
  auto sent = Send(1);
  ASSERT_EQ(sent.size(), 1u);
  const Message& m = sent[0].msg;
  EXPECT_EQ(m.kind, MsgKind::kLocalTransfer);
  EXPECT_TRUE(sent[0].durable) << "the row is durable before the partition moves money for it";
  EXPECT_EQ(sent[0].to, cfg_.partition_node(cfg_.account_partition[from_]));
  EXPECT_EQ(m.account, from_);
  EXPECT_EQ(m.account2, to_);
  EXPECT_EQ(m.amount, Amount{250});
  auto answer = Deliver([&] {
    Message r{};
    r.kind = MsgKind::kTryReply;
    r.tx = Tx(1);
    r.leg = Leg::kDebit;
    r.yes = true;
    return r;
  }(), cfg_.partition_node(cfg_.account_partition[from_]));
  ASSERT_EQ(answer.size(), 1u) << "the client's answer, and no Confirm";
  EXPECT_EQ(answer[0].msg.kind, MsgKind::kTransferReply);
  EXPECT_EQ(answer[0].msg.outcome, Outcome::kSuccess);
  EXPECT_TRUE(answer[0].durable);
  ASSERT_NE(node_->row(Tx(1)), nullptr);
  EXPECT_TRUE(node_->row(Tx(1))->finished());
  EXPECT_EQ(disk_->record_count(), 2u) << "begin and decide: the whole transfer";
  Restart();
  EXPECT_TRUE(node_->row(Tx(1))->finished());
  EXPECT_EQ(node_->row(Tx(1))->decision, Decision::kConfirm);
}

TEST_F(SamePartitionTest, AnUnansweredLocalTransferIsResentNeverTimedOut) {
  Pick();
  Send(1);
  for (int i = 0; i < 20; ++i) {
    ctx_->now_ += cfg_.protocol.max_backoff + cfg_.protocol.retry_interval;
    ASSERT_FALSE(ctx_->timers.empty());
    const size_t before = ctx_->outbox.size();
    node_->on_timer(*ctx_, ctx_->timers.back().second);
    ASSERT_GT(ctx_->outbox.size(), before) << "resent at attempt " << i;
    EXPECT_EQ(ctx_->outbox.back().msg.kind, MsgKind::kLocalTransfer);
  }
  EXPECT_GT(ctx_->now_ - FakeContext::kNow, cfg_.protocol.try_timeout);
  EXPECT_EQ(node_->row(Tx(1))->decision, Decision::kNone) << "no Try timeout: the partition may have moved the money";
}

TEST_F(SamePartitionTest, TwoLegsWhenTheOptionIsOff) {
  cfg_.protocol.local_same_partition = false;
  Restart();
  Pick();
  auto sent = Send(1);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].msg.kind, MsgKind::kTry);
  EXPECT_EQ(sent[1].msg.kind, MsgKind::kTry);
}

}  // namespace
}  // namespace ws
