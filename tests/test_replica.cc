// A partition run as a replica group of three (core/replica.h), driven by a
// deterministic harness: a virtual clock, a network that delays and drops,
// disks that lose what was not synced, and replicas that crash and restart
// (at most one down at a time, so a majority is always there). A scripted
// coordinator sends same-partition transfers to the replica it believes
// leads, resending to the next one when no answer comes. Checked: every
// answer it gets for a transaction is the first answer again; at the end
// every replica holds the same state, and the balances are exactly what the
// answers said (no acknowledged transfer lost, none applied twice).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "core/partition_node.h"
#include "core/replica.h"
#include "tests/replica_harness.h"

namespace ws {
namespace {

using testing_support::World;

constexpr NodeId kCoordinator = 1;
constexpr NodeId kFirstReplica = 10;
constexpr int64_t kInitial = 10000;

struct Options {
  uint64_t seed = 1;
  uint32_t transfers = 60;
  uint32_t drop_per_mille = 30;
  uint32_t crash_per_mille = 8;  // per step of the world, while a majority is up
  ReplicaBugs bugs;
};

class Harness {
 public:
  explicit Harness(const Options& opt)
      : opt_(opt), world_(opt.seed), cfg_(testing_support::one_partition_cluster(kInitial)) {
    world_.drop_per_mille = opt.drop_per_mille;
    for (uint32_t r = 0; r < 3; ++r)
      world_.add(kFirstReplica + r, [this, r] {
        const raft::Options ro = testing_support::group_options(r);
        std::vector<NodeId> members = {kFirstReplica, kFirstReplica + 1, kFirstReplica + 2};
        return std::make_unique<ReplicaHost>(std::make_unique<PartitionNode>(cfg_, 0), ro, members, opt_.bugs);
      }, replica_format_record());
    world_.add_script(kCoordinator, [this](NodeId from, const Message& m) { on_reply(from, m); });
    model_.assign(cfg_.accounts, kInitial);
  }

  // Runs the transfers, then a quiet stretch with every replica up.
  void run() {
    next_transfer();
    while (world_.now() < 120 * kSecond && world_.step()) {
      if (done_ && world_.now() > quiet_until_) break;
      maybe_crash();
    }
  }

  bool done() const { return done_; }
  const std::vector<std::string>& problems() const { return problems_; }
  void check_final() {
    for (uint32_t r = 0; r < 3; ++r) {
      if (!world_.up(kFirstReplica + r)) problems_.push_back("replica " + std::to_string(r) + " is down at the end");
      const auto& p = partition(r);
      for (AccountId a = 0; a < cfg_.accounts; ++a)
        if (p.balance(a, 0) != model_[a])
          problems_.push_back("replica " + std::to_string(r) + ": " + ClusterConfig::account_name(a) + " is " +
                              std::to_string(p.balance(a, 0)) + ", the answers say " + std::to_string(model_[a]));
      if (p.state_digest() != partition(0).state_digest())
        problems_.push_back("replica " + std::to_string(r) + " differs from replica 0");
    }
  }
  uint64_t digest() { return partition(0).state_digest() ^ world_.crashes() ^ static_cast<uint64_t>(world_.now()); }
  uint64_t crashes() const { return world_.crashes(); }

 private:
  const PartitionNode& partition(uint32_t r) {
    return static_cast<const PartitionNode&>(static_cast<ReplicaHost&>(world_.actor(kFirstReplica + r)).machine());
  }

  void maybe_crash() {
    if (done_ || world_.any_down() || !world_.rng().chance(opt_.crash_per_mille)) return;
    world_.crash(kFirstReplica + static_cast<NodeId>(world_.rng().below(3)),
                 50 * kMillisecond + static_cast<Duration>(world_.rng().below(400 * kMillisecond)));
  }

  // The scripted coordinator: one transfer at a time, resent until answered.
  void next_transfer() {
    if (current_ == opt_.transfers) {
      done_ = true;
      world_.quiet = true;
      quiet_until_ = world_.now() + 3 * kSecond;
      return;
    }
    ++current_;
    from_ = static_cast<AccountId>(world_.rng().below(cfg_.accounts));
    to_ = static_cast<AccountId>((from_ + 1 + world_.rng().below(cfg_.accounts - 1)) % cfg_.accounts);
    amount_ = 1 + static_cast<int64_t>(world_.rng().below(3000));
    send_current();
  }

  Message transfer_message() const {
    Message m{};
    m.kind = MsgKind::kLocalTransfer;
    m.tx = TxId{0x77, current_};
    m.leg = Leg::kDebit;
    m.account = from_;
    m.account2 = to_;
    m.amount = Amount{amount_};
    m.seq = current_;
    return m;
  }

  void send_current() {
    world_.send(kCoordinator, kFirstReplica + target_, transfer_message());
    const uint32_t n = current_;
    world_.at(world_.now() + 40 * kMillisecond, [this, n] {
      if (n != current_ || answered_.count(n)) return;
      target_ = (target_ + 1) % 3;  // perhaps the leader moved
      send_current();
    });
  }

  void on_reply(NodeId from, const Message& m) {
    if (m.kind != MsgKind::kTryReply) return;
    const uint64_t n = m.tx.lo;
    target_ = from - kFirstReplica;
    auto [it, first] = answered_.try_emplace(n, m.yes);
    if (!first && it->second != m.yes)
      problems_.push_back("transfer " + std::to_string(n) + " was answered " + (it->second ? "yes" : "no") +
                          ", then " + (m.yes ? "yes" : "no"));
    if (!first || n != current_) return;
    if (m.yes) {
      model_[from_] -= amount_;
      model_[to_] += amount_;
    }
    // Now and then the answered transfer is sent again: the first answer must come back.
    if (world_.rng().chance(200)) world_.send(kCoordinator, kFirstReplica + target_, transfer_message());
    next_transfer();
  }

  Options opt_;
  World world_;
  ClusterConfig cfg_;
  std::vector<int64_t> model_;
  std::map<uint64_t, bool> answered_;
  std::vector<std::string> problems_;
  uint32_t current_ = 0, target_ = 0;
  AccountId from_ = 0, to_ = 0;
  int64_t amount_ = 0;
  bool done_ = false;
  Time quiet_until_ = 0;
};

TEST(ReplicaGroup, AcknowledgedTransfersSurviveCrashesAndLeaderChanges) {
  uint64_t crashes = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    Options opt;
    opt.seed = seed;
    Harness h(opt);
    h.run();
    ASSERT_TRUE(h.done()) << "seed " << seed << ": the transfers did not finish";
    h.check_final();
    ASSERT_TRUE(h.problems().empty()) << "seed " << seed << ": " << h.problems().front();
    crashes += h.crashes();
  }
  EXPECT_GT(crashes, 60u) << "the sweep must crash replicas, leaders among them";
}

TEST(ReplicaGroup, SameSeedSameRun) {
  Options opt;
  opt.seed = 7;
  Harness a(opt), b(opt);
  a.run();
  b.run();
  EXPECT_EQ(a.digest(), b.digest());
}

// A leader that answers before its entry is committed: a crash can take the
// entry away after the coordinator was told yes. The same harness catches it.
TEST(ReplicaGroup, AnsweringBeforeCommitLosesAcknowledgedTransfers) {
  bool caught = false;
  for (uint64_t seed = 1; seed <= 400 && !caught; ++seed) {
    Options opt;
    opt.seed = seed;
    opt.crash_per_mille = 20;
    opt.bugs.answer_before_commit = true;
    Harness h(opt);
    h.run();
    h.check_final();
    caught = !h.problems().empty() || !h.done();
  }
  EXPECT_TRUE(caught);
}

}  // namespace
}  // namespace ws
