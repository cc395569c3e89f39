// A coordinator run as a replica group of three (core/replica.h) in front of
// one partition, under the deterministic world of tests/replica_harness.h:
// message loss, and crashes of any coordinator replica (the leader among
// them, at most one down at a time). A scripted client sends transfers to
// the replica it believes leads, resending the same request (same
// transaction_id) elsewhere when no answer comes. A new leader must resume
// what its predecessor left unfinished: at the end the partition holds no
// open hold, every replica has every transfer finished and the same state,
// and the balances are exactly what the client was told.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "core/coordinator.h"
#include "core/partition_node.h"
#include "core/replica.h"
#include "tests/replica_harness.h"

namespace ws {
namespace {

using testing_support::World;

constexpr NodeId kPartition = 0;
constexpr NodeId kFirstReplica = 10;
constexpr NodeId kClient = 50;
constexpr int64_t kInitial = 10000;

struct Run {
  uint64_t seed = 1;
  bool local = true;  // same-partition transfers as one local transaction, or two legs
  uint32_t transfers = 40;
};

class CoordinatorGroup {
 public:
  explicit CoordinatorGroup(const Run& run)
      : run_(run), world_(run.seed), cfg_(testing_support::one_partition_cluster(kInitial, run.local)) {
    model_.assign(cfg_.accounts, kInitial);
    world_.drop_per_mille = 30;
    world_.add(kPartition, [this] { return std::make_unique<PartitionNode>(cfg_, 0); });
    for (uint32_t r = 0; r < 3; ++r)
      world_.add(kFirstReplica + r, [this, r] {
        const raft::Options o = testing_support::group_options(r);
        return std::make_unique<ReplicaHost>(std::make_unique<Coordinator>(cfg_, 0), o,
                                             std::vector<NodeId>{kFirstReplica, kFirstReplica + 1, kFirstReplica + 2});
      }, replica_format_record());
    world_.add_script(kClient, [this](NodeId from, const Message& m) { on_reply(from, m); });
  }

  void run() {
    schedule_crash();
    next();
    while (world_.now() < 200 * kSecond && world_.step())
      if (done_ && world_.now() > quiet_until_) break;
  }

  std::vector<std::string> check() {
    std::vector<std::string> problems = problems_;
    if (!done_) problems.push_back("the transfers did not finish");
    const auto& p = static_cast<const PartitionNode&>(world_.actor(kPartition));
    for (AccountId a = 0; a < cfg_.accounts; ++a)
      if (p.balance(a, 0) != model_[a])
        problems.push_back(ClusterConfig::account_name(a) + " is " + std::to_string(p.balance(a, 0)) +
                           ", the client was told " + std::to_string(model_[a]));
    if (p.open_holds() != 0) problems.push_back(std::to_string(p.open_holds()) + " holds left open");
    uint64_t digest = 0;
    for (uint32_t r = 0; r < 3; ++r) {
      const NodeId id = kFirstReplica + r;
      if (!world_.up(id)) problems.push_back("replica " + std::to_string(r) + " is down at the end");
      const auto& c = static_cast<const Coordinator&>(static_cast<ReplicaHost&>(world_.actor(id)).machine());
      if (c.unfinished() != 0)
        problems.push_back("replica " + std::to_string(r) + " has " + std::to_string(c.unfinished()) + " unfinished");
      if (r == 0) digest = c.state_digest();
      if (c.state_digest() != digest) problems.push_back("replica " + std::to_string(r) + " differs from replica 0");
    }
    return problems;
  }
  uint64_t crashes() const { return world_.crashes(); }

 private:
  void schedule_crash() {
    world_.at(world_.now() + 30 * kMillisecond + static_cast<Duration>(world_.rng().below(200 * kMillisecond)), [this] {
      if (done_) return;
      if (!world_.any_down())
        world_.crash(kFirstReplica + static_cast<NodeId>(world_.rng().below(3)),
                     50 * kMillisecond + static_cast<Duration>(world_.rng().below(400 * kMillisecond)));
      schedule_crash();
    });
  }

  void next() {
    if (current_ == run_.transfers) {
      done_ = true;
      world_.quiet = true;
      quiet_until_ = world_.now() + 3 * kSecond;
      return;
    }
    ++current_;
    from_ = static_cast<AccountId>(world_.rng().below(cfg_.accounts));
    to_ = static_cast<AccountId>((from_ + 1 + world_.rng().below(cfg_.accounts - 1)) % cfg_.accounts);
    amount_ = 1 + static_cast<int64_t>(world_.rng().below(3000));
    tx_ = make_v4_txid(run_.seed, current_);
    first_sent_ = world_.now();
    send();
  }

  void send() {
    Message m{};
    m.kind = MsgKind::kTransferRequest;
    m.request = current_;
    set_text(m.text.txid, format_txid(tx_));
    char amount[32];
    std::snprintf(amount, sizeof amount, "%lld.%02lld", static_cast<long long>(amount_ / 100),
                  static_cast<long long>(amount_ % 100));
    set_text(m.text.amount, amount);
    set_text(m.text.currency, "USD");
    m.text.from = from_;
    m.text.to = to_;
    m.age = world_.now() - first_sent_;
    world_.send(kClient, kFirstReplica + target_, m);
    const uint32_t n = current_;
    world_.at(world_.now() + 60 * kMillisecond, [this, n] {
      if (n != current_ || answered_.count(n)) return;
      target_ = (target_ + 1) % 3;  // perhaps the leader moved
      send();
    });
  }

  void on_reply(NodeId from, const Message& m) {
    if (m.kind != MsgKind::kTransferReply || m.outcome == Outcome::kInProgress) return;
    if (m.outcome == Outcome::kRejected) {
      problems_.push_back("request " + std::to_string(m.request) + " rejected: " + to_string(m.reason));
      return;
    }
    target_ = from - kFirstReplica;
    const bool success = m.outcome == Outcome::kSuccess;
    auto [it, first] = answered_.try_emplace(m.request, success);
    if (!first && it->second != success)
      problems_.push_back("transfer " + std::to_string(m.request) + " was answered " +
                          (it->second ? "success" : "failed") + ", then the other");
    if (!first || m.request != current_) return;
    if (success) {
      model_[from_] -= amount_;
      model_[to_] += amount_;
    }
    next();
  }

  Run run_;
  World world_;
  ClusterConfig cfg_;
  std::vector<int64_t> model_;
  std::map<uint32_t, bool> answered_;
  std::vector<std::string> problems_;
  uint32_t current_ = 0, target_ = 0;
  AccountId from_ = 0, to_ = 0;
  int64_t amount_ = 0;
  TxId tx_;
  Time first_sent_ = 0;
  bool done_ = false;
  Time quiet_until_ = 0;
};

void sweep(bool local) {
  uint64_t crashes = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    CoordinatorGroup g(Run{seed, local});
    g.run();
    auto problems = g.check();
    ASSERT_TRUE(problems.empty()) << "seed " << seed << ": " << problems.front();
    crashes += g.crashes();
  }
  EXPECT_GT(crashes, 40u) << "the sweep must crash replicas, leaders among them";
}

TEST(CoordinatorGroup, LocalTransfersSurviveCoordinatorCrashesAndLeaderChanges) { sweep(true); }
TEST(CoordinatorGroup, TwoLegTransfersAreFinishedByWhicheverReplicaLeads) { sweep(false); }

}  // namespace
}  // namespace ws
