// The router's replica-group rules (net/transport.h), in one process:
// messages to a group go to the replica believed to lead, a replica not
// serving sends them back with the leader it knows, the sender follows that
// hint a bounded number of times, messages from a replica arrive as from its
// group, and Raft frames from outside a group or configuration change
// nothing.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "core/money.h"
#include "net/transport.h"

namespace ws::net {
namespace {

struct Seen {
  NodeId from;
  Message m;
};

class FakeEndpoint final : public Endpoint {
 public:
  void deliver(NodeId from, const Message& m) override { got.push_back({from, m}); }
  void deliver_raft(NodeId from, const raft::Msg& m) override { raft.push_back({from, m}); }
  std::optional<NodeId> redirect() const override { return hint; }
  std::vector<Seen> got;
  std::vector<std::pair<NodeId, raft::Msg>> raft;
  std::optional<NodeId> hint;  // set: not serving, this is the leader it knows
};

ClusterConfig groups_of_three() {
  ClusterConfig c;
  c.partitions = 2;
  c.coordinators = 1;
  c.clients = 1;
  c.accounts = 8;
  c.replication.replicas = 3;
  c.currencies = {*find_currency("USD")};
  c.initial_balance = {Amount{100}};
  c.finalize();
  return c;
}

class RouterGroups : public ::testing::Test {
 protected:
  RouterGroups() : router(io, c.node_count()) {
    router.set_groups(c, kConfig, 10 * kSecond);
    for (uint32_t r = 0; r < 3; ++r) {
      router.add_local(c.replica_node(0, r), &p0[r]);
      router.add_local(c.replica_node(1, r), &p1[r]);
    }
    router.add_local(client, &front);
  }
  void run() {
    io.restart();
    io.run();
  }
  Message request(uint32_t n) {
    Message m{};
    m.kind = MsgKind::kBalanceRead;
    m.request = n;
    return m;
  }
  raft::Msg append(uint32_t from, uint32_t to) {
    raft::Msg m;
    m.type = raft::MsgType::kAppend;
    m.from = from;
    m.to = to;
    m.term = 2;
    return m;
  }

  static constexpr uint32_t kConfig = 0xc0ffee;
  const ClusterConfig c = groups_of_three();
  asio::io_context io;
  Router router;
  FakeEndpoint p0[3], p1[3], front;
  const NodeId client = c.client_node(0);
};

TEST_F(RouterGroups, ARedirectIsFollowedAndBelievedAfterwards) {
  p0[0].hint = c.replica_node(0, 2);  // replica 0 knows replica 2 leads
  router.send(client, c.partition_node(0), request(1));
  run();
  EXPECT_TRUE(p0[0].got.empty());
  ASSERT_EQ(p0[2].got.size(), 1u);
  EXPECT_EQ(p0[2].got[0].from, client);
  EXPECT_EQ(p0[2].got[0].m.request, 1u);
  EXPECT_EQ(router.stats().redirects, 1u);
  // The next message goes straight to the leader.
  router.send(client, c.partition_node(0), request(2));
  run();
  EXPECT_EQ(p0[2].got.size(), 2u);
  EXPECT_EQ(router.stats().redirects, 1u);
}

TEST_F(RouterGroups, RepliesFromAReplicaComeFromItsGroup) {
  router.send(c.replica_node(1, 2), client, request(3));
  run();
  ASSERT_EQ(front.got.size(), 1u);
  EXPECT_EQ(front.got[0].from, c.partition_node(1));
}

TEST_F(RouterGroups, RedirectsThatPointInACircleStopAfterTwoHops) {
  p0[0].hint = c.replica_node(0, 1);
  p0[1].hint = c.replica_node(0, 0);
  router.send(client, c.partition_node(0), request(4));
  run();
  EXPECT_TRUE(p0[0].got.empty());
  EXPECT_TRUE(p0[1].got.empty());
  EXPECT_LE(router.stats().redirects, 1u + kMaxHops);
}

TEST_F(RouterGroups, WithNoLeaderKnownTheNextReplicaIsTriedNextTime) {
  p0[0].hint = kNoNode;
  router.send(client, c.partition_node(0), request(5));
  run();
  EXPECT_TRUE(p0[0].got.empty());
  router.send(client, c.partition_node(0), request(6));  // the sender's own retry
  run();
  ASSERT_EQ(p0[1].got.size(), 1u);
  EXPECT_EQ(p0[1].got[0].m.request, 6u);
}

TEST_F(RouterGroups, RaftFramesFromOutsideTheGroupOrConfigurationChangeNothing) {
  router.send_raft(c.replica_node(0, 1), c.replica_node(0, 0), append(1, 0));
  run();
  ASSERT_EQ(p0[0].raft.size(), 1u);
  EXPECT_EQ(p0[0].raft[0].first, c.replica_node(0, 1));

  // A replica of another group, replica numbers that do not match the
  // nodes, and a frame of another configuration: each refused.
  router.send_raft(c.replica_node(1, 1), c.replica_node(0, 0), append(1, 0));
  router.send_raft(c.replica_node(0, 2), c.replica_node(0, 0), append(1, 0));
  run();
  FrameDecode d;
  d.header.channel = Channel::kRaft;
  d.header.from = c.replica_node(0, 1);
  d.header.to = c.replica_node(0, 0);
  d.config = kConfig + 1;
  d.raft = append(1, 0);
  EXPECT_TRUE(router.deliver_inbound(d));  // well formed: the connection stays
  // A wallet message from a node outside the cluster closes the connection.
  FrameDecode w;
  w.header.channel = Channel::kEngine;
  w.header.from = c.node_count();
  w.header.to = c.replica_node(0, 0);
  EXPECT_FALSE(router.deliver_inbound(w));
  EXPECT_EQ(p0[0].raft.size(), 1u);
  EXPECT_EQ(router.stats().frames_refused, 3u);
}

}  // namespace
}  // namespace ws::net
