// `walletsim availability` (bench/availability.h): the year model and the
// engine's failover measurement. Each figure it prints must be able to go
// wrong: a failover longer than the SLO is counted, a majority of disks lost
// at once loses money, and one copy misses what three meet.
#include "bench/availability.h"

#include <gtest/gtest.h>

namespace ws {
namespace {

AvailabilityKnobs quick() {
  AvailabilityKnobs k;
  k.samples_per_second = 0.05;  // a thin sample keeps the test fast
  k.calibration_runs = 6;
  return k;
}

Failover fixed_failover(uint32_t R, Duration d) {
  Failover f;
  f.replicas = R;
  f.samples.assign(10, d);
  return f;
}

TEST(Availability, TheSameKnobsGiveTheSameYear) {
  AvailabilityKnobs k = quick();
  const Failover fo = fixed_failover(3, 700 * kMillisecond);
  AvailabilityRow a = simulate_availability(k, 3, fo), b = simulate_availability(k, 3, fo);
  EXPECT_EQ(a.sampled, b.sampled);
  EXPECT_EQ(a.succeeded, b.succeeded);
  EXPECT_EQ(a.crashes, b.crashes);
  EXPECT_EQ(a.elections, b.elections);
  EXPECT_EQ(a.any_down_minutes, b.any_down_minutes);
  k.seed = 2;
  AvailabilityRow c = simulate_availability(k, 3, fo);
  EXPECT_NE(a.crashes, c.crashes);
}

// The engine, in the simulator, with walletd's Raft timers: a leader crash
// costs at least one election timeout and, mostly, less than two.
TEST(Availability, FailoverIsMeasuredByTheEngine) {
  const AvailabilityKnobs k = quick();
  const Failover fo = measure_failover(k, 3);
  EXPECT_EQ(fo.runs, 6u);
  EXPECT_EQ(fo.violations, 0u) << fo.first_violation;
  ASSERT_GE(fo.samples.size(), 3u);
  EXPECT_GE(fo.samples.front(), static_cast<Duration>(k.election_timeout_min_ms * kMillisecond) / 2);
  EXPECT_LE(fo.median(), static_cast<Duration>(2 * k.election_timeout_max_ms * kMillisecond));
  EXPECT_TRUE(measure_failover(k, 1).samples.empty());  // a group of one has no failover
}

TEST(Availability, OneCopyMissesWhatThreeMeet) {
  const AvailabilityKnobs k = quick();
  AvailabilityRow one = simulate_availability(k, 1, Failover{});
  AvailabilityRow three = simulate_availability(k, 3, fixed_failover(3, 700 * kMillisecond));
  EXPECT_FALSE(one.meets()) << one.share();
  EXPECT_GT(one.any_down_minutes, 1000);  // 44 groups, each down ~10 min per crash, a crash a month
  EXPECT_TRUE(three.meets()) << three.share();
  EXPECT_LT(three.any_down_minutes, one.any_down_minutes / 50);
  EXPECT_EQ(three.money_lost, 0);
}

// The same rates, but every failover takes 5 s against a 1 s SLO, and nodes
// crash daily: transfers that land in a failover miss the SLO, and the
// figure shows it.
TEST(Availability, AFailoverLongerThanTheSloIsCounted) {
  AvailabilityKnobs k = quick();
  k.node_mtbf_hours = 24;
  AvailabilityRow fast = simulate_availability(k, 3, fixed_failover(3, 100 * kMillisecond));
  AvailabilityRow slow = simulate_availability(k, 3, fixed_failover(3, 5 * kSecond));
  EXPECT_EQ(fast.sampled, slow.sampled);
  EXPECT_LT(slow.succeeded, fast.succeeded);
  EXPECT_FALSE(slow.meets()) << slow.share();
  // Each election now costs 4.9 s more: the mean group's downtime grows by
  // that much per election it held.
  const double groups = k.partitions + k.coordinators;
  const double expected = static_cast<double>(slow.elections) / groups * 4.9 / 60;
  EXPECT_NEAR(slow.group_down_minutes - fast.group_down_minutes, expected, expected * 0.2);
}

// Disks that fail often and are replaced slowly: a majority of a group
// without its data at once loses what only they held; one copy loses its
// data with its disk.
TEST(Availability, LostDataIsCountedAsMoneyLost) {
  AvailabilityKnobs k = quick();
  k.disk_afr = 0.9;
  k.disk_replace_hours = 2000;
  AvailabilityRow three = simulate_availability(k, 3, fixed_failover(3, 700 * kMillisecond));
  EXPECT_GT(three.groups_lost, 0u);
  EXPECT_GT(three.beyond_f_minutes, 0);
  EXPECT_EQ(three.money_lost, three.partition_groups_lost * k.accounts_per_partition * k.balance);
  k.disk_afr = 0.1;
  k.disk_replace_hours = 24;
  AvailabilityRow one = simulate_availability(k, 1, Failover{});
  AvailabilityRow five = simulate_availability(k, 5, fixed_failover(5, 700 * kMillisecond));
  EXPECT_GT(one.money_lost, 0);
  EXPECT_EQ(five.money_lost, 0);
}

TEST(Availability, BadKeysAreNamedAndChangeNothing) {
  AvailabilityKnobs k;
  const double before = k.node_mtbf_hours;
  EXPECT_NE(apply_availability_sets(k, {"availability.node_mtbf_hours=5", "availability.nope=1"}).find(
                "'availability.nope'"),
            std::string::npos);
  EXPECT_EQ(k.node_mtbf_hours, before);
  EXPECT_NE(apply_availability_sets(k, {"availability.disk_afr=1.5"}).find("'availability.disk_afr'"),
            std::string::npos);
  EXPECT_NE(apply_availability_sets(k, {"availability.partitions=2.5"}).find("whole number"), std::string::npos);
  EXPECT_NE(apply_availability_sets(k, {"availability.slo_ms=abc"}).find("must be a number"), std::string::npos);
  EXPECT_NE(apply_availability_sets(k, {"cluster.replicas=3"}).find("availability.NAME=VALUE"), std::string::npos);
  EXPECT_EQ(apply_availability_sets(k, {"availability.node_mttr_minutes=30"}), "");
  EXPECT_EQ(k.node_mttr_minutes, 30);
}

}  // namespace
}  // namespace ws
