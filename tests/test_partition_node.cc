// Unit tests for core/partition_node: the TC/C participant driven directly
// through a FakeContext, one message at a time.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "core/cluster.h"
#include "core/events.h"
#include "core/partition_node.h"
#include "tests/fake_context.h"

namespace ws {
namespace {

using testing_support::FakeContext;
using testing_support::MemoryStorage;

constexpr int64_t kInitialMinor = 10000;  // 100.00 USD per account
constexpr NodeId kCoordinator = 1;        // P = 1, so coordinator 0 is node 1

ClusterConfig MakeConfig(uint32_t partitions = 1) {
  ClusterConfig cfg;
  cfg.partitions = partitions;
  cfg.coordinators = 1;
  cfg.clients = 1;
  cfg.accounts = 6;
  cfg.currencies = {*find_currency("USD")};
  cfg.initial_balance = {Amount{kInitialMinor}};
  cfg.finalize();
  return cfg;
}

TxId Tx(uint64_t n) { return TxId{0x1000 + n, 0x4000'0000'0000'0000ULL | n}; }

Message TryMsg(TxId tx, Leg leg, AccountId account, int64_t minor, CurrencyIdx c = 0) {
  Message m{};
  m.kind = MsgKind::kTry;
  m.seq = tx.lo & 0xffff'ffff;  // Tx(n) is the n-th transfer its coordinator began
  m.tx = tx;
  m.leg = leg;
  m.account = account;
  m.currency = c;
  m.amount = Amount{minor};
  return m;
}

Message LocalMsg(TxId tx, AccountId from, AccountId to, int64_t minor) {
  Message m = TryMsg(tx, Leg::kDebit, from, minor);
  m.kind = MsgKind::kLocalTransfer;
  m.account2 = to;
  return m;
}

Message Phase2Msg(MsgKind kind, TxId tx, Leg leg, AccountId account, CurrencyIdx c = 0) {
  Message m{};
  m.kind = kind;
  m.seq = tx.lo & 0xffff'ffff;
  m.tx = tx;
  m.leg = leg;
  m.account = account;
  m.currency = c;
  return m;
}

// One partition node on an in-memory disk. The config lives in the fixture
// because the node keeps a reference to it.
class PartitionNodeTest : public ::testing::Test {
 public:
  void SetUp() override { Start(MakeConfig()); }

  void Start(const ClusterConfig& cfg) {
    cfg_ = std::make_unique<ClusterConfig>(cfg);
    disk_ = std::make_unique<MemoryStorage>();
    ctx_ = std::make_unique<FakeContext>(cfg_->partition_node(0), *disk_);
    node_ = std::make_unique<PartitionNode>(*cfg_, 0);
    node_->on_start(*ctx_);
  }

  // Crash and restart: volatile state gone, a new node recovers from the disk.
  void Restart() {
    node_ = std::make_unique<PartitionNode>(*cfg_, 0);
    node_->on_start(*ctx_);
  }

  // Each helper sends one message and returns the node's single reply.
  Message Try(TxId tx, Leg leg, AccountId a, int64_t minor) {
    return Deliver(TryMsg(tx, leg, a, minor), MsgKind::kTryReply);
  }
  Message Local(TxId tx, AccountId from, AccountId to, int64_t minor) {
    return Deliver(LocalMsg(tx, from, to, minor), MsgKind::kTryReply);
  }
  Message Confirm(TxId tx, Leg leg, AccountId a) {
    return Deliver(Phase2Msg(MsgKind::kConfirm, tx, leg, a), MsgKind::kPhase2Ack);
  }
  Message Cancel(TxId tx, Leg leg, AccountId a) {
    return Deliver(Phase2Msg(MsgKind::kCancel, tx, leg, a), MsgKind::kPhase2Ack);
  }

  Message Deliver(Message m, MsgKind reply_kind) {
    size_t before = ctx_->outbox.size();
    m.low = low_;
    node_->on_message(*ctx_, kCoordinator, m);
    EXPECT_EQ(ctx_->outbox.size(), before + 1) << "exactly one reply per message";
    if (ctx_->outbox.size() != before + 1) return Message{};
    const testing_support::Sent& s = ctx_->outbox.back();
    EXPECT_EQ(s.to, kCoordinator) << "reply goes to the sender";
    EXPECT_TRUE(s.durable) << "an answer must not leave before its record is durable";
    EXPECT_EQ(s.msg.kind, reply_kind);
    EXPECT_EQ(s.msg.tx, m.tx);
    EXPECT_EQ(s.msg.leg, m.leg);
    return s.msg;
  }

  int64_t Balance(AccountId a) const { return node_->balance(a, 0); }
  LegStatus Status(TxId tx, Leg l) const {
    const LegState* s = node_->leg(tx, l);
    EXPECT_NE(s, nullptr);
    return s ? s->status : LegStatus::kTriedNo;
  }
  size_t Records() const { return disk_->record_count(); }

  std::unique_ptr<ClusterConfig> cfg_;
  std::unique_ptr<MemoryStorage> disk_;
  std::unique_ptr<FakeContext> ctx_;
  std::unique_ptr<PartitionNode> node_;
  uint64_t low_ = 0;  // the coordinator's low watermark carried on every message
};

TEST_F(PartitionNodeTest, StartsWithInitialBalancesAndNoHolds) {
  for (AccountId a = 0; a < cfg_->accounts; ++a) EXPECT_EQ(Balance(a), kInitialMinor);
  EXPECT_EQ(node_->open_holds(), 0u);
  EXPECT_EQ(node_->refusals(), 0u);
  EXPECT_EQ(Records(), 0u);
  EXPECT_TRUE(ctx_->outbox.empty());
}

// A balance read answers what the node holds now (held debits already
// out), once everything it wrote is durable, and writes nothing itself; an
// account of another partition or an unknown currency is rejected.
TEST_F(PartitionNodeTest, BalanceReadAnswersTheBalanceOnceDurable) {
  Start(MakeConfig(2));
  AccountId mine = 0, other = 0;
  for (AccountId a = 0; a < cfg_->accounts; ++a) (cfg_->account_partition[a] == 0 ? mine : other) = a;
  ASSERT_EQ(cfg_->account_partition[mine], 0u);
  ASSERT_NE(cfg_->account_partition[other], 0u);
  EXPECT_TRUE(Try(Tx(1), Leg::kDebit, mine, 2500).yes);
  const size_t records = Records();
  auto read = [&](AccountId a, CurrencyIdx c) {
    Message m{};
    m.kind = MsgKind::kBalanceRead;
    m.request = 77;
    m.account = a;
    m.currency = c;
    node_->on_message(*ctx_, 5, m);
    EXPECT_FALSE(ctx_->outbox.empty());
    const testing_support::Sent s = ctx_->outbox.back();
    EXPECT_EQ(s.to, 5u);
    EXPECT_TRUE(s.durable) << "a read must not show state that is not yet durable";
    EXPECT_EQ(s.msg.kind, MsgKind::kBalanceReply);
    EXPECT_EQ(s.msg.request, 77u);
    EXPECT_EQ(s.msg.account, a);
    return s.msg;
  };
  Message r = read(mine, 0);
  EXPECT_EQ(r.outcome, Outcome::kSuccess);
  EXPECT_EQ(r.amount, Amount{kInitialMinor - 2500});
  r = read(other, 0);
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.reason, Reason::kUnknownAccount);
  r = read(mine, 1);
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.reason, Reason::kUnknownCurrency);
  r = read(cfg_->accounts + 3, 0);
  EXPECT_EQ(r.reason, Reason::kUnknownAccount);
  EXPECT_EQ(Records(), records) << "a read writes nothing";
}

TEST_F(PartitionNodeTest, TryDebitHoldsFundsAndAnswersYes) {
  Message r = Try(Tx(1), Leg::kDebit, 0, 3000);
  EXPECT_TRUE(r.yes);
  EXPECT_EQ(Balance(0), 7000);
  EXPECT_EQ(node_->open_holds(), 1u);
  const LegState* s = node_->leg(Tx(1), Leg::kDebit);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status, LegStatus::kTriedYes);
  EXPECT_EQ(s->try_effect, Effect::kDebit);
  EXPECT_EQ(s->amount, Amount{3000});
  EXPECT_EQ(s->account, 0u);
  EXPECT_EQ(Records(), 1u);
  for (AccountId a = 1; a < cfg_->accounts; ++a) EXPECT_EQ(Balance(a), kInitialMinor);
}

TEST_F(PartitionNodeTest, TryDebitOfTheWholeBalanceAnswersYes) {
  EXPECT_TRUE(Try(Tx(1), Leg::kDebit, 0, kInitialMinor).yes);
  EXPECT_EQ(Balance(0), 0);
  EXPECT_FALSE(Try(Tx(2), Leg::kDebit, 0, 1).yes);
  EXPECT_EQ(Balance(0), 0);
}

TEST_F(PartitionNodeTest, TryDebitWithInsufficientFundsAnswersNo) {
  Message r = Try(Tx(1), Leg::kDebit, 0, kInitialMinor + 1);
  EXPECT_FALSE(r.yes);
  EXPECT_EQ(r.reason, Reason::kInsufficientFunds);
  EXPECT_EQ(Balance(0), kInitialMinor);
  EXPECT_EQ(node_->open_holds(), 0u);
  EXPECT_EQ(Status(Tx(1), Leg::kDebit), LegStatus::kTriedNo);
  EXPECT_EQ(Records(), 1u) << "the no is recorded so a duplicate gets the same answer";
}

TEST_F(PartitionNodeTest, HeldFundsCannotBeSpentTwice) {
  EXPECT_TRUE(Try(Tx(1), Leg::kDebit, 0, 6000).yes);
  EXPECT_FALSE(Try(Tx(2), Leg::kDebit, 0, 6000).yes);
  EXPECT_TRUE(Try(Tx(3), Leg::kDebit, 0, 4000).yes);
  EXPECT_EQ(Balance(0), 0);
  EXPECT_EQ(node_->open_holds(), 2u);
}

TEST_F(PartitionNodeTest, TryCreditChangesNoBalanceAndAnswersYes) {
  Message r = Try(Tx(1), Leg::kCredit, 1, 2500);
  EXPECT_TRUE(r.yes);
  EXPECT_EQ(Balance(1), kInitialMinor);
  EXPECT_EQ(Status(Tx(1), Leg::kCredit), LegStatus::kTriedYes);
  EXPECT_EQ(node_->leg(Tx(1), Leg::kCredit)->try_effect, Effect::kNone);
  EXPECT_EQ(node_->open_holds(), 1u);
}

TEST_F(PartitionNodeTest, DuplicateTryReturnsFirstAnswerAndChangesNothing) {
  EXPECT_TRUE(Try(Tx(1), Leg::kDebit, 0, 3000).yes);
  uint64_t digest = node_->state_digest();
  size_t records = Records();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(Try(Tx(1), Leg::kDebit, 0, 3000).yes);
    // Even with different content the (tx, leg) was already answered.
    EXPECT_TRUE(Try(Tx(1), Leg::kDebit, 0, 9000).yes);
  }
  EXPECT_EQ(Balance(0), 7000);
  EXPECT_EQ(node_->open_holds(), 1u);
  EXPECT_EQ(node_->state_digest(), digest);
  EXPECT_EQ(Records(), records);
}

TEST_F(PartitionNodeTest, DuplicateTryAfterNoStaysNoEvenWhenFundsWouldNowSuffice) {
  EXPECT_FALSE(Try(Tx(1), Leg::kDebit, 0, 15000).yes);
  ASSERT_TRUE(Try(Tx(2), Leg::kCredit, 0, 9000).yes);
  ASSERT_TRUE(Confirm(Tx(2), Leg::kCredit, 0).yes);
  ASSERT_EQ(Balance(0), 19000);
  uint64_t digest = node_->state_digest();
  EXPECT_FALSE(Try(Tx(1), Leg::kDebit, 0, 15000).yes);
  EXPECT_EQ(Balance(0), 19000);
  EXPECT_EQ(node_->state_digest(), digest);
}

// Same-partition transfers (docs/same_partition.md): one local transaction.
TEST_F(PartitionNodeTest, LocalTransferMovesBothBalancesInOneEvent) {
  Message r = Local(Tx(1), 0, 1, 3000);
  EXPECT_TRUE(r.yes);
  EXPECT_EQ(Balance(0), 7000);
  EXPECT_EQ(Balance(1), 13000);
  EXPECT_EQ(Records(), 1u) << "both balances move in one record, so no crash can split them";
  EXPECT_EQ(Status(Tx(1), Leg::kDebit), LegStatus::kMoved);
  EXPECT_EQ(node_->open_holds(), 0u) << "nothing is held: there is no second phase";
  const uint64_t live = node_->state_digest();
  Restart();
  EXPECT_EQ(node_->state_digest(), live);
  EXPECT_EQ(Balance(1), 13000);
}

TEST_F(PartitionNodeTest, RepeatedLocalTransferGetsTheFirstAnswerAndMovesNothing) {
  ASSERT_TRUE(Local(Tx(1), 0, 1, 3000).yes);
  const uint64_t digest = node_->state_digest();
  EXPECT_TRUE(Local(Tx(1), 0, 1, 3000).yes);
  EXPECT_EQ(node_->state_digest(), digest);
  EXPECT_EQ(Records(), 1u);
  Message no = Local(Tx(2), 2, 3, 20000);
  EXPECT_FALSE(no.yes);
  EXPECT_EQ(no.reason, Reason::kInsufficientFunds);
  Message again = Local(Tx(2), 2, 3, 1);  // even if it could go through now
  EXPECT_FALSE(again.yes);
  EXPECT_EQ(again.reason, Reason::kInsufficientFunds);
  EXPECT_EQ(Balance(2), kInitialMinor);
  EXPECT_EQ(Balance(3), kInitialMinor);
}

TEST_F(PartitionNodeTest, TheLocalRepeatBugMovesTheMoneyAgain) {
  cfg_->bugs.local_repeat_applies = true;
  ASSERT_TRUE(Local(Tx(1), 0, 1, 3000).yes);
  ASSERT_TRUE(Local(Tx(1), 0, 1, 3000).yes);
  EXPECT_EQ(Balance(0), 4000);
  EXPECT_EQ(Balance(1), 16000);
}

TEST_F(PartitionNodeTest, LocalTransferChecksTheDebitsFundsAndTheCreditsLimit) {
  ClusterConfig cfg = MakeConfig();
  cfg.max_balance = {Amount{12000}};
  Start(cfg);
  EXPECT_TRUE(Local(Tx(1), 0, 1, 2000).yes) << "exactly up to the limit";
  Message limit = Local(Tx(2), 2, 1, 1);
  EXPECT_FALSE(limit.yes);
  EXPECT_EQ(limit.reason, Reason::kBalanceLimit);
  Message funds = Local(Tx(3), 3, 4, 10001);
  EXPECT_FALSE(funds.yes);
  EXPECT_EQ(funds.reason, Reason::kInsufficientFunds);
  EXPECT_EQ(Balance(1), 12000);
  EXPECT_EQ(Balance(2), kInitialMinor);
  EXPECT_EQ(Balance(3), kInitialMinor);
  EXPECT_EQ(Balance(4), kInitialMinor);
}

TEST_F(PartitionNodeTest, TwoPcLocalTransferIsRefusedWhileEitherRowIsLocked) {
  ClusterConfig cfg = MakeConfig();
  cfg.protocol.kind = ProtocolKind::k2pc;
  Start(cfg);
  ASSERT_TRUE(Try(Tx(1), Leg::kDebit, 0, 100).yes);  // prepared: row 0 locked
  EXPECT_EQ(Local(Tx(2), 2, 0, 10).reason, Reason::kLocked);
  EXPECT_EQ(Local(Tx(3), 0, 2, 10).reason, Reason::kLocked);
  ASSERT_TRUE(Confirm(Tx(1), Leg::kDebit, 0).yes);
  EXPECT_TRUE(Local(Tx(4), 0, 2, 10).yes) << "the lock is gone with the commit";
}

TEST_F(PartitionNodeTest, SecondPhaseOnALocalTransferIsRefused) {
  ASSERT_TRUE(Local(Tx(1), 0, 1, 3000).yes);
  EXPECT_FALSE(Confirm(Tx(1), Leg::kDebit, 0).yes);
  EXPECT_FALSE(Cancel(Tx(1), Leg::kDebit, 0).yes);
  EXPECT_EQ(node_->refusals(), 2u);
  EXPECT_EQ(Balance(0), 7000);
  EXPECT_EQ(Balance(1), 13000);
}

TEST_F(PartitionNodeTest, CreditPastTheBalanceLimitIsRefused) {
  ClusterConfig cfg = MakeConfig();
  cfg.max_balance = {Amount{12000}};
  Start(cfg);
  EXPECT_TRUE(Try(Tx(1), Leg::kCredit, 1, 2000).yes) << "exactly up to the limit";
  Message r = Try(Tx(2), Leg::kCredit, 2, 2001);
  EXPECT_FALSE(r.yes);
  EXPECT_EQ(r.reason, Reason::kBalanceLimit);
  EXPECT_EQ(Status(Tx(2), Leg::kCredit), LegStatus::kTriedNo);
  EXPECT_EQ(Balance(2), kInitialMinor);
}

TEST_F(PartitionNodeTest, PendingCreditsCountTowardsTheBalanceLimit) {
  ClusterConfig cfg = MakeConfig();
  cfg.max_balance = {Amount{12000}};
  Start(cfg);
  bool first = Try(Tx(1), Leg::kCredit, 1, 1500).yes;
  bool second = Try(Tx(2), Leg::kCredit, 1, 1500).yes;
  EXPECT_TRUE(first);
  EXPECT_FALSE(second) << "10000 + 1500 pending + 1500 > 12000";
  if (first) Confirm(Tx(1), Leg::kCredit, 1);
  if (second) Confirm(Tx(2), Leg::kCredit, 1);
  EXPECT_LE(Balance(1), 12000);
}

TEST_F(PartitionNodeTest, DuplicateTryRepeatsTheFirstRefusalReason) {
  ClusterConfig cfg = MakeConfig();
  cfg.max_balance = {Amount{12000}};
  Start(cfg);
  Message first = Try(Tx(1), Leg::kCredit, 1, 5000);
  ASSERT_FALSE(first.yes);
  ASSERT_EQ(first.reason, Reason::kBalanceLimit);
  Message again = Try(Tx(1), Leg::kCredit, 1, 5000);
  EXPECT_FALSE(again.yes);
  EXPECT_EQ(again.reason, Reason::kBalanceLimit);
}

TEST_F(PartitionNodeTest, ConfirmDebitConsumesTheHoldWithoutMovingMoneyAgain) {
  ASSERT_TRUE(Try(Tx(1), Leg::kDebit, 0, 3000).yes);
  Message ack = Confirm(Tx(1), Leg::kDebit, 0);
  EXPECT_TRUE(ack.yes);
  EXPECT_EQ(ack.outcome, Outcome::kSuccess);
  EXPECT_EQ(Balance(0), 7000);
  EXPECT_EQ(node_->open_holds(), 0u);
  EXPECT_EQ(Status(Tx(1), Leg::kDebit), LegStatus::kConfirmed);
}

TEST_F(PartitionNodeTest, ConfirmCreditAddsAmountOnce) {
  ASSERT_TRUE(Try(Tx(1), Leg::kCredit, 1, 2500).yes);
  Message ack = Confirm(Tx(1), Leg::kCredit, 1);
  EXPECT_TRUE(ack.yes);
  EXPECT_EQ(Balance(1), 12500);
  EXPECT_EQ(node_->open_holds(), 0u);
  EXPECT_EQ(Status(Tx(1), Leg::kCredit), LegStatus::kConfirmed);
}

TEST_F(PartitionNodeTest, DuplicateConfirmIsAcknowledgedWithoutApplyingTwice) {
  ASSERT_TRUE(Try(Tx(1), Leg::kCredit, 1, 2500).yes);
  ASSERT_TRUE(Try(Tx(1), Leg::kDebit, 0, 2500).yes);
  ASSERT_TRUE(Confirm(Tx(1), Leg::kCredit, 1).yes);
  ASSERT_TRUE(Confirm(Tx(1), Leg::kDebit, 0).yes);
  uint64_t digest = node_->state_digest();
  size_t records = Records();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(Confirm(Tx(1), Leg::kCredit, 1).yes);
    EXPECT_TRUE(Confirm(Tx(1), Leg::kDebit, 0).yes);
  }
  EXPECT_EQ(Balance(0), 7500);
  EXPECT_EQ(Balance(1), 12500);
  EXPECT_EQ(node_->refusals(), 0u);
  EXPECT_EQ(node_->state_digest(), digest);
  EXPECT_EQ(Records(), records);
}

TEST_F(PartitionNodeTest, CancelRefundsHeldDebit) {
  ASSERT_TRUE(Try(Tx(1), Leg::kDebit, 0, 3000).yes);
  Message ack = Cancel(Tx(1), Leg::kDebit, 0);
  EXPECT_TRUE(ack.yes);
  EXPECT_EQ(ack.outcome, Outcome::kFailed);
  EXPECT_EQ(Balance(0), kInitialMinor);
  EXPECT_EQ(node_->open_holds(), 0u);
  EXPECT_EQ(Status(Tx(1), Leg::kDebit), LegStatus::kCancelled);
}

TEST_F(PartitionNodeTest, DuplicateCancelRefundsOnlyOnce) {
  ASSERT_TRUE(Try(Tx(1), Leg::kDebit, 0, 3000).yes);
  ASSERT_TRUE(Cancel(Tx(1), Leg::kDebit, 0).yes);
  uint64_t digest = node_->state_digest();
  size_t records = Records();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Cancel(Tx(1), Leg::kDebit, 0).yes);
  EXPECT_EQ(Balance(0), kInitialMinor);
  EXPECT_EQ(node_->state_digest(), digest);
  EXPECT_EQ(Records(), records);
}

TEST_F(PartitionNodeTest, CancelOfCreditLegChangesNoBalance) {
  ASSERT_TRUE(Try(Tx(1), Leg::kCredit, 1, 2500).yes);
  EXPECT_TRUE(Cancel(Tx(1), Leg::kCredit, 1).yes);
  EXPECT_EQ(Balance(1), kInitialMinor);
  EXPECT_EQ(node_->open_holds(), 0u);
  EXPECT_EQ(Status(Tx(1), Leg::kCredit), LegStatus::kCancelled);
}

TEST_F(PartitionNodeTest, CancelAfterTryNoIsAcknowledgedAndChangesNothing) {
  ASSERT_FALSE(Try(Tx(1), Leg::kDebit, 0, 20000).yes);
  uint64_t digest = node_->state_digest();
  EXPECT_TRUE(Cancel(Tx(1), Leg::kDebit, 0).yes);
  EXPECT_EQ(Balance(0), kInitialMinor);
  EXPECT_EQ(Status(Tx(1), Leg::kDebit), LegStatus::kTriedNo);
  EXPECT_EQ(node_->state_digest(), digest);
}

TEST_F(PartitionNodeTest, CancelBeforeTryRejectsLaterTry) {
  for (Leg leg : {Leg::kDebit, Leg::kCredit}) {
    SCOPED_TRACE(to_string(leg));
    TxId tx = Tx(leg == Leg::kDebit ? 1 : 2);
    Message ack = Cancel(tx, leg, 0);
    EXPECT_TRUE(ack.yes) << "an out-of-order Cancel is answered";
    EXPECT_EQ(Status(tx, leg), LegStatus::kCancelMarker);
    EXPECT_FALSE(Try(tx, leg, 0, 1000).yes);
    EXPECT_EQ(Balance(0), kInitialMinor);
    EXPECT_EQ(node_->open_holds(), 0u);
    EXPECT_EQ(Status(tx, leg), LegStatus::kCancelMarker);
  }
}

TEST_F(PartitionNodeTest, CancelMarkerIsPerLeg) {
  ASSERT_TRUE(Cancel(Tx(1), Leg::kCredit, 1).yes);
  EXPECT_TRUE(Try(Tx(1), Leg::kDebit, 0, 1000).yes) << "the other leg of the tx is unaffected";
  EXPECT_EQ(Balance(0), 9000);
}

TEST_F(PartitionNodeTest, CancelMarkerSurvivesRecovery) {
  ASSERT_TRUE(Cancel(Tx(1), Leg::kDebit, 0).yes);
  Restart();
  EXPECT_FALSE(Try(Tx(1), Leg::kDebit, 0, 1000).yes);
  EXPECT_EQ(Balance(0), kInitialMinor);
}

TEST_F(PartitionNodeTest, ConfirmAfterCancelIsRefused) {
  ASSERT_TRUE(Try(Tx(1), Leg::kCredit, 1, 2500).yes);
  ASSERT_TRUE(Cancel(Tx(1), Leg::kCredit, 1).yes);
  Message ack = Confirm(Tx(1), Leg::kCredit, 1);
  EXPECT_FALSE(ack.yes);
  EXPECT_EQ(Balance(1), kInitialMinor);
  EXPECT_EQ(node_->refusals(), 1u);
  EXPECT_EQ(Status(Tx(1), Leg::kCredit), LegStatus::kCancelled);
}

TEST_F(PartitionNodeTest, ConfirmAfterCancelMarkerIsRefused) {
  ASSERT_TRUE(Cancel(Tx(1), Leg::kDebit, 0).yes);
  EXPECT_FALSE(Confirm(Tx(1), Leg::kDebit, 0).yes);
  EXPECT_EQ(node_->refusals(), 1u);
  EXPECT_EQ(Balance(0), kInitialMinor);
}

TEST_F(PartitionNodeTest, ConfirmAfterTryNoIsRefused) {
  ASSERT_FALSE(Try(Tx(1), Leg::kDebit, 0, 20000).yes);
  EXPECT_FALSE(Confirm(Tx(1), Leg::kDebit, 0).yes);
  EXPECT_EQ(Balance(0), kInitialMinor);
  EXPECT_EQ(node_->refusals(), 1u);
}

TEST_F(PartitionNodeTest, ConfirmOfUnknownLegIsRefusedAndLeavesNoLeg) {
  EXPECT_FALSE(Confirm(Tx(1), Leg::kCredit, 1).yes);
  EXPECT_EQ(Balance(1), kInitialMinor);
  EXPECT_EQ(node_->refusals(), 1u);
  EXPECT_EQ(node_->leg(Tx(1), Leg::kCredit), nullptr);
}

TEST_F(PartitionNodeTest, CancelAfterConfirmIsRefused) {
  ASSERT_TRUE(Try(Tx(1), Leg::kDebit, 0, 3000).yes);
  ASSERT_TRUE(Confirm(Tx(1), Leg::kDebit, 0).yes);
  Message ack = Cancel(Tx(1), Leg::kDebit, 0);
  EXPECT_FALSE(ack.yes);
  EXPECT_EQ(Balance(0), 7000) << "a confirmed debit is never refunded";
  EXPECT_EQ(node_->refusals(), 1u);
  EXPECT_EQ(Status(Tx(1), Leg::kDebit), LegStatus::kConfirmed);
}

TEST_F(PartitionNodeTest, RefusalsAreRecordedDurably) {
  ASSERT_FALSE(Confirm(Tx(1), Leg::kDebit, 0).yes);
  ASSERT_FALSE(Confirm(Tx(1), Leg::kDebit, 0).yes);
  Restart();
  EXPECT_EQ(node_->refusals(), 2u);
}

TEST_F(PartitionNodeTest, IgnoresMessagesNotAddressedToAParticipant) {
  Message m = TryMsg(Tx(1), Leg::kDebit, 0, 100);
  m.kind = MsgKind::kTryReply;
  node_->on_message(*ctx_, kCoordinator, m);
  m.kind = MsgKind::kTransferRequest;
  node_->on_message(*ctx_, kCoordinator, m);
  EXPECT_TRUE(ctx_->outbox.empty());
  EXPECT_EQ(Records(), 0u);
  EXPECT_EQ(Balance(0), kInitialMinor);
}

// A fixed mix of every handler path, used by the recovery tests.
void RunWorkload(PartitionNodeTest& t, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    AccountId from = static_cast<AccountId>(i % 6);
    AccountId to = static_cast<AccountId>((i + 1) % 6);
    TxId tx = Tx(100 + static_cast<uint64_t>(i));
    int64_t amount = 700 + 1300 * (i % 11);
    bool debit_yes = t.Try(tx, Leg::kDebit, from, amount).yes;
    t.Try(tx, Leg::kCredit, to, amount);
    switch (i % 5) {
      case 0:
      case 1:
        if (debit_yes) {
          t.Confirm(tx, Leg::kDebit, from);
          t.Confirm(tx, Leg::kCredit, to);
        } else {
          t.Cancel(tx, Leg::kDebit, from);
          t.Cancel(tx, Leg::kCredit, to);
        }
        break;
      case 2:
        t.Cancel(tx, Leg::kDebit, from);
        t.Cancel(tx, Leg::kCredit, to);
        t.Confirm(tx, Leg::kCredit, to);  // refused
        break;
      case 3:
        t.Cancel(Tx(10'000 + static_cast<uint64_t>(i)), Leg::kDebit, from);  // out of order
        break;
      default:
        break;  // left open: holds stay in flight
    }
  }
}

TEST_F(PartitionNodeTest, RecoveryFromLogRebuildsSameState) {
  RunWorkload(*this, 40);
  const uint64_t digest = node_->state_digest();
  std::vector<int64_t> balances;
  for (AccountId a = 0; a < cfg_->accounts; ++a) balances.push_back(Balance(a));
  const size_t holds = node_->open_holds();
  const uint64_t refusals = node_->refusals();
  ASSERT_GT(holds, 0u);
  ASSERT_GT(refusals, 0u);

  Restart();
  EXPECT_EQ(node_->state_digest(), digest);
  for (AccountId a = 0; a < cfg_->accounts; ++a) EXPECT_EQ(Balance(a), balances[a]) << a;
  EXPECT_EQ(node_->open_holds(), holds);
  EXPECT_EQ(node_->refusals(), refusals);

  // The recovered node keeps answering as the old one would have.
  ASSERT_EQ(Status(Tx(100), Leg::kDebit), LegStatus::kConfirmed);
  EXPECT_TRUE(Try(Tx(100), Leg::kDebit, 0, 1).yes) << "duplicate Try after recovery";
  EXPECT_FALSE(Try(Tx(10'003), Leg::kDebit, 3, 1).yes) << "marker recovered";
}

TEST_F(PartitionNodeTest, RecoveryDropsATornTailRecord) {
  ASSERT_TRUE(Try(Tx(1), Leg::kDebit, 0, 3000).yes);
  const uint64_t digest = node_->state_digest();
  // A crash in the middle of writing the next record leaves part of it on disk.
  MemoryStorage scratch;
  FakeContext other(0, scratch);
  PartitionNode writer(*cfg_, 0);
  writer.on_start(other);
  writer.on_message(other, kCoordinator, TryMsg(Tx(2), Leg::kDebit, 0, 5000));
  const std::vector<uint8_t>& full = scratch.bytes();
  std::vector<uint8_t> torn(disk_->bytes());
  torn.insert(torn.end(), full.begin(),
              full.begin() + static_cast<std::ptrdiff_t>(full.size() / 2));

  MemoryStorage crashed;
  crashed.append_raw(torn);
  FakeContext ctx(0, crashed);
  PartitionNode recovered(*cfg_, 0);
  recovered.on_start(ctx);
  EXPECT_TRUE(crashed.last_scan_torn());
  EXPECT_EQ(recovered.state_digest(), digest);
  EXPECT_EQ(recovered.balance(0, 0), 7000);
  EXPECT_EQ(recovered.leg(Tx(2), Leg::kDebit), nullptr);
}

void ExpectSameLeg(const LegState* want, const LegState* got) {
  ASSERT_EQ(want == nullptr, got == nullptr);
  if (want == nullptr) return;
  EXPECT_EQ(want->status, got->status);
  EXPECT_EQ(want->try_effect, got->try_effect);
  EXPECT_EQ(want->currency, got->currency);
  EXPECT_EQ(want->account, got->account);
  EXPECT_EQ(want->amount, got->amount);
}

TEST_F(PartitionNodeTest, SnapshotPlusSuffixEqualsFullReplay) {
  ClusterConfig cfg = MakeConfig();
  cfg.protocol.snapshot_every = 3;
  Start(cfg);
  RunWorkload(*this, 60);
  const uint64_t live = node_->state_digest();
  const auto records = disk_->records();

  size_t snapshots = 0;
  for (const auto& r : records) {
    auto e = decode_event(r);
    ASSERT_TRUE(e.has_value());
    if (e->type == EventType::kSnapshot) ++snapshots;
  }
  ASSERT_GT(snapshots, 3u);
  auto last = decode_event(records.back());
  ASSERT_TRUE(last.has_value());

  PartitionNode from_snapshot(*cfg_, 0);
  ASSERT_TRUE(from_snapshot.rebuild(records, /*use_snapshots=*/true));
  PartitionNode full_replay(*cfg_, 0);
  ASSERT_TRUE(full_replay.rebuild(records, /*use_snapshots=*/false));
  EXPECT_EQ(from_snapshot.state_digest(), live);
  EXPECT_EQ(full_replay.state_digest(), live);
  EXPECT_EQ(from_snapshot.open_holds(), node_->open_holds());
  EXPECT_EQ(full_replay.open_holds(), node_->open_holds());
  EXPECT_EQ(from_snapshot.refusals(), node_->refusals());
  // The digest does not cover every leg field; compare them one by one.
  for (uint64_t i = 0; i < 60; ++i) {
    for (TxId tx : {Tx(100 + i), Tx(10'000 + i)}) {
      for (Leg leg : {Leg::kDebit, Leg::kCredit}) {
        ExpectSameLeg(node_->leg(tx, leg), from_snapshot.leg(tx, leg));
        ExpectSameLeg(node_->leg(tx, leg), full_replay.leg(tx, leg));
      }
    }
  }

  // And at every prefix of the log, not only at the end.
  for (size_t n = 0; n <= records.size(); ++n) {
    std::vector<std::vector<uint8_t>> prefix(records.begin(),
                                             records.begin() + static_cast<std::ptrdiff_t>(n));
    PartitionNode a(*cfg_, 0);
    PartitionNode b(*cfg_, 0);
    ASSERT_TRUE(a.rebuild(prefix, true)) << n;
    ASSERT_TRUE(b.rebuild(prefix, false)) << n;
    ASSERT_EQ(a.state_digest(), b.state_digest()) << n;
    ASSERT_EQ(a.open_holds(), b.open_holds()) << n;
  }
}

TEST_F(PartitionNodeTest, RecoveryAfterSnapshotsContinuesCorrectly) {
  ClusterConfig cfg = MakeConfig();
  cfg.protocol.snapshot_every = 2;
  Start(cfg);
  RunWorkload(*this, 20);
  Restart();
  RunWorkload(*this, 20);  // same tx ids: every message is now a duplicate
  const uint64_t live = node_->state_digest();
  Restart();
  EXPECT_EQ(node_->state_digest(), live);
  PartitionNode full_replay(*cfg_, 0);
  ASSERT_TRUE(full_replay.rebuild(disk_->records(), false));
  EXPECT_EQ(full_replay.state_digest(), live);
}

TEST_F(PartitionNodeTest, LogPrefixGivesHistoricalBalances) {
  std::vector<int64_t> history = {Balance(0)};
  ASSERT_TRUE(Try(Tx(1), Leg::kDebit, 0, 1000).yes);
  history.push_back(Balance(0));
  ASSERT_TRUE(Try(Tx(2), Leg::kCredit, 0, 500).yes);
  history.push_back(Balance(0));
  ASSERT_TRUE(Confirm(Tx(2), Leg::kCredit, 0).yes);
  history.push_back(Balance(0));
  ASSERT_TRUE(Cancel(Tx(1), Leg::kDebit, 0).yes);
  history.push_back(Balance(0));
  EXPECT_EQ(history, (std::vector<int64_t>{10000, 9000, 9000, 9500, 10500}));

  const auto records = disk_->records();
  ASSERT_EQ(records.size(), history.size() - 1);
  for (size_t n = 0; n < history.size(); ++n) {
    PartitionNode at(*cfg_, 0);
    ASSERT_TRUE(
        at.rebuild({records.begin(), records.begin() + static_cast<std::ptrdiff_t>(n)}, false));
    EXPECT_EQ(at.balance(0, 0), history[n]) << "after " << n << " records";
  }
}

TEST_F(PartitionNodeTest, RebuildRejectsAMalformedRecord) {
  RunWorkload(*this, 5);
  auto records = disk_->records();
  records.insert(records.begin() + 2, std::vector<uint8_t>{1, 2, 3});
  PartitionNode n(*cfg_, 0);
  EXPECT_FALSE(n.rebuild(records, false));
  PartitionNode m(*cfg_, 0);
  EXPECT_FALSE(m.rebuild(records, true));
}

TEST_F(PartitionNodeTest, FullReplayRejectsASnapshotThatDisagrees) {
  ClusterConfig cfg = MakeConfig();
  cfg.protocol.snapshot_every = 1;
  Start(cfg);
  // A snapshot comes once there have been as many events as it holds entries.
  size_t snap = 0;
  for (uint64_t n = 1; snap == 0 && n < 50; ++n) {
    ASSERT_TRUE(Try(Tx(n), Leg::kDebit, 0, 10).yes);
    auto now = disk_->records();
    if (decode_event(now.back())->type == EventType::kSnapshot) snap = now.size() - 1;
  }
  ASSERT_GT(snap, 0u);
  auto records = disk_->records();
  // The first balance in the snapshot blob follows the count.
  records[snap][kEventSize + 8] ^= 1;
  PartitionNode n(*cfg_, 0);
  EXPECT_FALSE(n.rebuild(records, false));
  PartitionNode trusting(*cfg_, 0);
  ASSERT_TRUE(trusting.rebuild(records, true));
  EXPECT_NE(trusting.state_digest(), node_->state_digest()) << "the corruption was loaded";
}

// The records of fuzz/regressions/event_log, found by fuzz_event_log. A log
// read back from disk may be another node's or damaged behind a valid
// checksum; rebuild must refuse an event this partition could not have
// written instead of applying it.
std::vector<std::vector<uint8_t>> Encoded(const std::vector<Event>& events) {
  std::vector<std::vector<uint8_t>> records(events.size());
  for (size_t i = 0; i < events.size(); ++i) encode_event(events[i], records[i]);
  return records;
}

Event LegEvent(EventType type, TxId tx, Leg leg, Effect effect, AccountId account, int64_t minor) {
  Event e;
  e.type = type;
  e.tx = tx;
  e.leg = leg;
  e.effect = effect;
  e.account = account;
  e.amount = Amount{minor};
  return e;
}

// Another partition's log (a node started on the wrong file): the debit
// landed on a row of this partition's balance array that belongs to a
// different account, or past its end.
TEST(PartitionNodeRebuild, AnotherPartitionsAccountIsRefused) {
  const ClusterConfig cfg = MakeConfig(/*partitions=*/2);
  for (AccountId a = 0; a <= cfg.accounts; ++a) {
    const auto log =
        Encoded({LegEvent(EventType::kTryYes, Tx(1), Leg::kDebit, Effect::kDebit, a, 100)});
    for (uint32_t p = 0; p < cfg.partitions; ++p) {
      const bool owner = a < cfg.accounts && cfg.account_partition[a] == p;
      PartitionNode n(cfg, p);
      EXPECT_EQ(n.rebuild(log, false), owner) << "acct-" << a << " replayed on partition " << p;
    }
  }
}

// Two Trys logged for one leg: the open-hold count was raised twice and
// lowered once, so a full replay and snapshot plus suffix disagreed.
TEST(PartitionNodeRebuild, ASecondTryForTheSameLegIsRefused) {
  const ClusterConfig cfg = MakeConfig();
  const Event try_yes = LegEvent(EventType::kTryYes, Tx(1), Leg::kDebit, Effect::kNone, 1, 967);
  const Event confirmed =
      LegEvent(EventType::kConfirmed, Tx(1), Leg::kDebit, Effect::kDebit, 1, 967);
  PartitionNode n(cfg, 0);
  EXPECT_FALSE(n.rebuild(Encoded({try_yes, try_yes, confirmed}), false));
  PartitionNode once(cfg, 0);
  ASSERT_TRUE(once.rebuild(Encoded({try_yes, confirmed}), false));
  EXPECT_EQ(once.open_holds(), 0u);
}

// A Confirm or Cancel of a leg never tried made up a reserved leg and
// lowered the open-hold count below zero.
TEST(PartitionNodeRebuild, ASecondPhaseForAnUnknownLegIsRefused) {
  const ClusterConfig cfg = MakeConfig();
  for (EventType t : {EventType::kConfirmed, EventType::kCancelled}) {
    PartitionNode n(cfg, 0);
    EXPECT_FALSE(
        n.rebuild(Encoded({LegEvent(t, Tx(1), Leg::kCredit, Effect::kNone, 1, 5)}), false));
  }
}

TEST_F(PartitionNodeTest, EveryPartitionOwnsOnlyItsAccounts) {
  ClusterConfig cfg = MakeConfig(/*partitions=*/3);
  uint32_t total = 0;
  for (uint32_t p = 0; p < cfg.partitions; ++p) total += cfg.partition_size[p];
  EXPECT_EQ(total, cfg.accounts);
  for (AccountId a = 0; a < cfg.accounts; ++a) {
    PartitionNode owner(cfg, cfg.account_partition[a]);
    EXPECT_EQ(owner.balance(a, 0), kInitialMinor);
  }
}

TEST(PartitionNodeCurrencies, HoldsAreKeptPerCurrency) {
  ClusterConfig cfg;
  cfg.partitions = 1;
  cfg.coordinators = 1;
  cfg.accounts = 2;
  cfg.currencies = {*find_currency("USD"), *find_currency("JPY")};
  cfg.initial_balance = {Amount{10000}, Amount{500}};
  cfg.finalize();
  MemoryStorage disk;
  FakeContext ctx(0, disk);
  PartitionNode node(cfg, 0);
  node.on_start(ctx);
  node.on_message(ctx, kCoordinator, TryMsg(Tx(1), Leg::kDebit, 0, 600, /*c=*/1));
  EXPECT_FALSE(ctx.last().yes) << "500 JPY cannot cover 600 even with 10000 USD cents";
  node.on_message(ctx, kCoordinator, TryMsg(Tx(2), Leg::kDebit, 0, 400, /*c=*/1));
  EXPECT_TRUE(ctx.last().yes);
  EXPECT_EQ(node.balance(0, 0), 10000);
  EXPECT_EQ(node.balance(0, 1), 100);
  node.on_message(ctx, kCoordinator, Phase2Msg(MsgKind::kCancel, Tx(2), Leg::kDebit, 0, 1));
  EXPECT_EQ(node.balance(0, 1), 500);
}

// --- Try orders. Only debit-first is valid (DESIGN.md section 1).

TEST_F(PartitionNodeTest, CreditFirstOrderCreditsInTry) {
  ClusterConfig cfg = MakeConfig();
  cfg.protocol.try_order = TryOrder::kCreditFirst;
  Start(cfg);
  ASSERT_TRUE(Try(Tx(1), Leg::kCredit, 1, 5000).yes);
  EXPECT_EQ(Balance(1), 15000) << "the credit is applied at Try";
  EXPECT_EQ(node_->leg(Tx(1), Leg::kCredit)->try_effect, Effect::kCredit);
  ASSERT_TRUE(Try(Tx(1), Leg::kDebit, 0, 5000).yes);
  EXPECT_EQ(Balance(0), kInitialMinor) << "the debit waits for Confirm";

  // The flaw: the receiver spends money that a later Cancel takes back.
  ASSERT_TRUE(Try(Tx(2), Leg::kDebit, 1, 15000).yes);
  ASSERT_TRUE(Confirm(Tx(2), Leg::kDebit, 1).yes);
  EXPECT_EQ(Balance(1), 0);
  ASSERT_TRUE(Cancel(Tx(1), Leg::kCredit, 1).yes);
  ASSERT_TRUE(Cancel(Tx(1), Leg::kDebit, 0).yes);
  EXPECT_EQ(Balance(1), -5000) << "credit-first lets a balance go negative";
  EXPECT_EQ(Balance(0), kInitialMinor);
}

TEST_F(PartitionNodeTest, CreditFirstConfirmDebitsLater) {
  ClusterConfig cfg = MakeConfig();
  cfg.protocol.try_order = TryOrder::kCreditFirst;
  Start(cfg);
  ASSERT_TRUE(Try(Tx(1), Leg::kDebit, 0, 3000).yes);
  ASSERT_TRUE(Try(Tx(1), Leg::kCredit, 1, 3000).yes);
  ASSERT_TRUE(Confirm(Tx(1), Leg::kDebit, 0).yes);
  ASSERT_TRUE(Confirm(Tx(1), Leg::kCredit, 1).yes);
  EXPECT_EQ(Balance(0), 7000);
  EXPECT_EQ(Balance(1), 13000);
}

TEST_F(PartitionNodeTest, BothInTryMovesBothBalancesAtTry) {
  ClusterConfig cfg = MakeConfig();
  cfg.protocol.try_order = TryOrder::kBothInTry;
  Start(cfg);
  ASSERT_TRUE(Try(Tx(1), Leg::kDebit, 0, 3000).yes);
  ASSERT_TRUE(Try(Tx(1), Leg::kCredit, 1, 3000).yes);
  EXPECT_EQ(Balance(0), 7000);
  EXPECT_EQ(Balance(1), 13000);
  ASSERT_TRUE(Confirm(Tx(1), Leg::kDebit, 0).yes);
  ASSERT_TRUE(Confirm(Tx(1), Leg::kCredit, 1).yes);
  EXPECT_EQ(Balance(0), 7000);
  EXPECT_EQ(Balance(1), 13000);
  ASSERT_TRUE(Try(Tx(2), Leg::kCredit, 2, 100).yes);
  ASSERT_TRUE(Cancel(Tx(2), Leg::kCredit, 2).yes);
  EXPECT_EQ(Balance(2), kInitialMinor) << "the credit is reversed on Cancel";
}

TEST_F(PartitionNodeTest, SnapshotKeepsWhatTryMovedSoCancelUndoesIt) {
  ClusterConfig cfg = MakeConfig();
  cfg.protocol.try_order = TryOrder::kBothInTry;
  cfg.protocol.snapshot_every = 1;
  Start(cfg);
  ASSERT_TRUE(Try(Tx(1), Leg::kCredit, 1, 700).yes);
  ASSERT_TRUE(Try(Tx(1), Leg::kDebit, 0, 700).yes);
  Restart();  // recovers from the last snapshot alone
  ASSERT_TRUE(Cancel(Tx(1), Leg::kCredit, 1).yes);
  ASSERT_TRUE(Cancel(Tx(1), Leg::kDebit, 0).yes);
  EXPECT_EQ(Balance(0), kInitialMinor);
  EXPECT_EQ(Balance(1), kInitialMinor);
}

TEST_F(PartitionNodeTest, DebitFirstNeverCreditsBeforeConfirm) {
  ASSERT_TRUE(Try(Tx(1), Leg::kCredit, 1, 5000).yes);
  EXPECT_FALSE(Try(Tx(2), Leg::kDebit, 1, 15000).yes) << "uncommitted credit is not spendable";
  EXPECT_EQ(Balance(1), kInitialMinor);
}

// --- Test-only broken engines: each must really change behaviour, or the
// checkers that rely on them prove nothing.

TEST_F(PartitionNodeTest, BugConfirmTwiceCreditsAgain) {
  ClusterConfig cfg = MakeConfig();
  cfg.bugs.confirm_twice = true;
  Start(cfg);
  ASSERT_TRUE(Try(Tx(1), Leg::kCredit, 1, 2500).yes);
  ASSERT_TRUE(Confirm(Tx(1), Leg::kCredit, 1).yes);
  EXPECT_EQ(Balance(1), 12500);
  ASSERT_TRUE(Confirm(Tx(1), Leg::kCredit, 1).yes);
  EXPECT_EQ(Balance(1), 15000) << "the broken engine applies a duplicate Confirm";
}

TEST_F(PartitionNodeTest, BugConfirmTwiceDebitsAgain) {
  ClusterConfig cfg = MakeConfig();
  cfg.bugs.confirm_twice = true;
  Start(cfg);
  ASSERT_TRUE(Try(Tx(1), Leg::kDebit, 0, 2500).yes);
  ASSERT_TRUE(Confirm(Tx(1), Leg::kDebit, 0).yes);
  EXPECT_EQ(Balance(0), 7500);
  ASSERT_TRUE(Confirm(Tx(1), Leg::kDebit, 0).yes);
  EXPECT_EQ(Balance(0), 5000);
}

TEST_F(PartitionNodeTest, BugNoOooMarkerLetsALateTryThrough) {
  ClusterConfig cfg = MakeConfig();
  cfg.bugs.no_ooo_marker = true;
  Start(cfg);
  ASSERT_TRUE(Cancel(Tx(1), Leg::kDebit, 0).yes);
  EXPECT_EQ(node_->leg(Tx(1), Leg::kDebit), nullptr);
  EXPECT_TRUE(Try(Tx(1), Leg::kDebit, 0, 3000).yes)
      << "the broken engine accepts a Try after Cancel";
  EXPECT_EQ(Balance(0), 7000) << "money is held for a cancelled transaction";
  EXPECT_EQ(node_->open_holds(), 1u);
}

TEST_F(PartitionNodeTest, BugSkipFundsCheckAllowsNegativeBalance) {
  ClusterConfig cfg = MakeConfig();
  cfg.bugs.skip_funds_check = true;
  Start(cfg);
  EXPECT_TRUE(Try(Tx(1), Leg::kDebit, 0, kInitialMinor + 1).yes);
  EXPECT_EQ(Balance(0), -1);
}

TEST_F(PartitionNodeTest, BugUnloggedChangeIsLostOnReplay) {
  ClusterConfig cfg = MakeConfig();
  cfg.bugs.unlogged_change = true;
  Start(cfg);
  ASSERT_TRUE(Try(Tx(1), Leg::kCredit, 1, 2500).yes);
  ASSERT_TRUE(Confirm(Tx(1), Leg::kCredit, 1).yes);
  EXPECT_EQ(Balance(1), 12501);
  const uint64_t live = node_->state_digest();
  Restart();
  EXPECT_EQ(Balance(1), 12500);
  EXPECT_NE(node_->state_digest(), live);
}

// Forgetting (docs/forgetting.md): transfers 1..20 finish, the coordinator's
// low watermark passes 11, and the next snapshot leaves out the final legs
// of transfers 1..10; an open hold below the watermark stays.
class ForgettingTest : public PartitionNodeTest {
 public:
  void SetUp() override {
    ClusterConfig cfg = MakeConfig();
    cfg.protocol.snapshot_every = 4;
    Start(cfg);
  }
  void Finish(uint64_t n) {
    Try(Tx(n), Leg::kDebit, 0, 10);
    Try(Tx(n), Leg::kCredit, 1, 10);
    Confirm(Tx(n), Leg::kDebit, 0);
    Confirm(Tx(n), Leg::kCredit, 1);
  }
  // Delivers m and returns how many replies it produced.
  size_t Raw(Message m) {
    m.low = low_;
    const size_t before = ctx_->outbox.size();
    node_->on_message(*ctx_, kCoordinator, m);
    return ctx_->outbox.size() - before;
  }
  // Finishes more transfers (above the watermark) until a snapshot has
  // been written, which is when legs are forgotten.
  void RunUntilSnapshot() {
    const size_t before = Snapshots();
    for (uint64_t n = next_; n < next_ + 200 && Snapshots() == before; ++n) Finish(n);
    next_ += 200;
    ASSERT_GT(Snapshots(), before);
  }
  size_t Snapshots() const {
    size_t k = 0;
    for (const auto& r : disk_->records()) k += r[0] == static_cast<uint8_t>(EventType::kSnapshot);
    return k;
  }
  uint64_t next_ = 1000;
};

TEST_F(ForgettingTest, LocalTransfersBelowTheWatermarkAreForgottenAtASnapshot) {
  for (uint64_t n = 1; n <= 20; ++n) ASSERT_TRUE(Local(Tx(n), 0, 1, 10).yes);
  EXPECT_EQ(node_->remembered_legs(), 20u);
  low_ = 11;
  const size_t snapshots = Snapshots();
  for (uint64_t n = 21; Snapshots() == snapshots; ++n) ASSERT_TRUE(Local(Tx(n), 0, 1, 10).yes);
  EXPECT_EQ(node_->leg(Tx(3), Leg::kDebit), nullptr) << "final and below the watermark";
  EXPECT_NE(node_->leg(Tx(11), Leg::kDebit), nullptr) << "not below the watermark";
  low_ = 0;  // a late repeat of a forgotten one is stale: ignored, never applied again
  const int64_t balance = Balance(0);
  EXPECT_EQ(Raw(LocalMsg(Tx(3), 0, 1, 10)), 0u);
  EXPECT_EQ(Balance(0), balance);
}

TEST_F(ForgettingTest, FinalLegsBelowTheWatermarkAreForgottenAtASnapshot) {
  for (uint64_t n = 1; n <= 20; ++n) Finish(n);
  Try(Tx(5000), Leg::kDebit, 2, 10);  // open
  EXPECT_EQ(node_->remembered_legs(), 41u);
  low_ = 11;
  RunUntilSnapshot();
  EXPECT_EQ(node_->leg(Tx(10), Leg::kDebit), nullptr);
  EXPECT_EQ(node_->leg(Tx(1), Leg::kCredit), nullptr);
  EXPECT_NE(node_->leg(Tx(11), Leg::kDebit), nullptr);
  EXPECT_NE(node_->leg(Tx(20), Leg::kCredit), nullptr);
  EXPECT_EQ(node_->low_watermark(0), 11u);
  EXPECT_EQ(Status(Tx(5000), Leg::kDebit), LegStatus::kTriedYes);
}

TEST_F(ForgettingTest, AnOpenHoldIsNeverForgotten) {
  Try(Tx(3), Leg::kDebit, 0, 10);  // held, no second phase yet
  for (uint64_t n = 4; n <= 20; ++n) Finish(n);
  low_ = 11;  // (only a coordinator bug lets the watermark pass an open leg)
  RunUntilSnapshot();
  ASSERT_NE(node_->leg(Tx(3), Leg::kDebit), nullptr);
  EXPECT_EQ(Status(Tx(3), Leg::kDebit), LegStatus::kTriedYes);
  EXPECT_EQ(node_->leg(Tx(4), Leg::kDebit), nullptr);
  EXPECT_EQ(node_->open_holds(), 1u);
}

TEST_F(ForgettingTest, AStaleMessageAboutAForgottenLegIsIgnored) {
  for (uint64_t n = 1; n <= 20; ++n) Finish(n);
  low_ = 11;
  RunUntilSnapshot();
  ASSERT_EQ(node_->leg(Tx(7), Leg::kDebit), nullptr);
  const int64_t balance = Balance(0);
  const size_t records = Records();
  // A late duplicate of transfer 7's Try, Confirm and Cancel: no reply, no
  // record, no money held again.
  EXPECT_EQ(Raw(TryMsg(Tx(7), Leg::kDebit, 0, 10)), 0u);
  EXPECT_EQ(Raw(Phase2Msg(MsgKind::kConfirm, Tx(7), Leg::kDebit, 0)), 0u);
  EXPECT_EQ(Raw(Phase2Msg(MsgKind::kCancel, Tx(7), Leg::kCredit, 1)), 0u);
  EXPECT_EQ(Balance(0), balance);
  EXPECT_EQ(Records(), records);
  EXPECT_EQ(node_->leg(Tx(7), Leg::kDebit), nullptr);
  EXPECT_EQ(node_->open_holds(), 0u);
  // At or above the watermark a message is new work as before.
  EXPECT_EQ(Raw(TryMsg(Tx(300), Leg::kDebit, 0, 10)), 1u);
  EXPECT_EQ(Balance(0), balance - 10);
}

TEST_F(ForgettingTest, ARestartRemembersWhatTheLiveNodeDidAndTheWatermark) {
  for (uint64_t n = 1; n <= 20; ++n) Finish(n);
  low_ = 11;
  RunUntilSnapshot();
  Try(Tx(400), Leg::kDebit, 0, 10);  // after the snapshot: replayed on top of it
  const uint64_t live = node_->state_digest();
  Restart();
  EXPECT_EQ(node_->state_digest(), live);
  EXPECT_EQ(node_->low_watermark(0), 11u);
  EXPECT_EQ(node_->leg(Tx(7), Leg::kDebit), nullptr);
  low_ = 0;  // an old message carrying an older watermark changes nothing
  EXPECT_EQ(Raw(TryMsg(Tx(7), Leg::kDebit, 0, 10)), 0u);
  // A full replay of the log, checking each snapshot after forgetting what
  // it forgot, agrees with the snapshot and suffix.
  PartitionNode full(*cfg_, 0);
  ASSERT_TRUE(full.rebuild(disk_->records(), /*use_snapshots=*/false));
  EXPECT_EQ(full.state_digest(), live);
}

TEST_F(ForgettingTest, TheIgnoreWatermarkBugForgetsLegsAMessageCanStillReach) {
  cfg_->bugs.ignore_watermark = true;
  for (uint64_t n = 1; n <= 20; ++n) Finish(n);
  low_ = 11;
  RunUntilSnapshot();
  // Transfer 15 is finished but above the watermark: a late duplicate of its
  // Try can still arrive, and with the leg gone it holds the money again.
  ASSERT_EQ(node_->leg(Tx(15), Leg::kDebit), nullptr);
  const int64_t balance = Balance(0);
  EXPECT_EQ(Raw(TryMsg(Tx(15), Leg::kDebit, 0, 10)), 1u);
  EXPECT_EQ(Balance(0), balance - 10);
  EXPECT_EQ(node_->open_holds(), 1u);
}

}  // namespace
}  // namespace ws
