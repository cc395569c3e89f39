// Exploration, explore reports and merging shards (properties/explore.h,
// explore_report.h, merge.h), and the progress line's text.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "core/hash.h"
#include "properties/explore.h"
#include "properties/explore_report.h"
#include "properties/merge.h"
#include "properties/progress.h"
#include "properties/runner.h"

namespace ws {
namespace {

std::string temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("ws_test_explore_" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

Scenario scenario(const std::vector<std::string>& sets = {}) {
  ScenarioLoad sl = load_scenario("smoke", sets);
  EXPECT_TRUE(sl.scenario) << sl.error;
  return *sl.scenario;
}

// A report as a shard would write it, without running anything.
ExploreResult shard(uint64_t first, uint64_t last, const std::string& digest = "00000000000000aa") {
  ExploreResult r;
  r.scenario = "smoke";
  r.scenario_digest = digest;
  r.build = "test-build";
  r.seeds = SeedRange{first, last};
  r.runs = last - first;
  for (uint64_t s = first; s < last; ++s) r.digest.add(s, s * 7);
  r.wall_seconds = 1;
  r.started_unix_ms = 1000;
  r.finished_unix_ms = 2000;
  return r;
}

TEST(SeedRange, ParsesAndRejects) {
  SeedRange r;
  ASSERT_TRUE(parse_seed_range("10..20", r));
  EXPECT_EQ(r, (SeedRange{10, 20}));
  EXPECT_EQ(to_string(r), "10..20");
  for (const char* bad :
       {"5..1", "3..3", "abc", "1..", "..2", "1...2", "-1..3", "1..99999999999999999999"})
    EXPECT_FALSE(parse_seed_range(bad, r)) << bad;
}

TEST(TraceDigest, IsOrderIndependentAndCountsDuplicates) {
  TraceDigest a, b;
  for (uint64_t s = 0; s < 50; ++s) a.add(s, s * 31 + 1);
  for (uint64_t s = 50; s-- > 0;) b.add(s, s * 31 + 1);
  EXPECT_EQ(a, b);
  TraceDigest c = a;
  c.add(7, 7 * 31 + 1);
  c.add(7, 7 * 31 + 1);
  EXPECT_NE(c.sum, a.sum);  // a pair twice does not cancel out
  TraceDigest d;
  d.add(0, 2);  // another hash for seed 0
  for (uint64_t s = 1; s < 50; ++s) d.add(s, s * 31 + 1);
  EXPECT_NE(d, a);
}

TEST(Explore, ResultDoesNotDependOnJobs) {
  const Scenario s = scenario({"protocol.try_order=credit_first"});
  ExploreOptions opt;
  opt.out_dir = temp_dir("jobs1");
  opt.keep_hashes = true;
  ExploreResult one = explore(s, SeedRange{0, 24}, 1, opt);
  opt.out_dir = temp_dir("jobs2");
  ExploreResult two = explore(s, SeedRange{0, 24}, 2, opt);
  ASSERT_TRUE(one.error.empty()) << one.error;
  EXPECT_EQ(one.runs, 24u);
  EXPECT_EQ(one.digest, two.digest);
  EXPECT_EQ(one.seed_hashes, two.seed_hashes);
  ASSERT_FALSE(one.failures.empty());
  ASSERT_EQ(one.failures.size(), two.failures.size());
  for (size_t i = 0; i < one.failures.size(); ++i) {
    EXPECT_EQ(one.failures[i].seed, two.failures[i].seed);
    EXPECT_EQ(one.failures[i].trace_hash, two.failures[i].trace_hash);
    EXPECT_TRUE(std::filesystem::exists(one.failures[i].file)) << one.failures[i].file;
  }
  TraceDigest from_hashes;
  for (const auto& [seed, hash] : one.seed_hashes) from_hashes.add(seed, hash);
  EXPECT_EQ(from_hashes, one.digest);
}

// Each forgetting rule has a broken switch, and explore over a handful of
// seeds of the `forgetful` scenario catches it while the unbroken engine
// passes the same seeds.
TEST(Explore, CatchesEachBrokenForgettingRule) {
  ExploreOptions opt;
  opt.out_dir = temp_dir("forgetful");
  ScenarioLoad clean = load_scenario("forgetful", {});
  ASSERT_TRUE(clean.scenario) << clean.error;
  ExploreResult ok = explore(*clean.scenario, SeedRange{0, 30}, 2, opt);
  ASSERT_TRUE(ok.error.empty()) << ok.error;
  EXPECT_EQ(ok.runs, 30u);
  EXPECT_TRUE(ok.failures.empty());
  for (const char* bug : {"bugs.forget_early=true", "bugs.ignore_watermark=true"}) {
    ScenarioLoad broken = load_scenario("forgetful", {bug});
    ASSERT_TRUE(broken.scenario) << broken.error;
    ExploreResult r = explore(*broken.scenario, SeedRange{0, 30}, 2, opt);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_GE(r.failures.size(), 20u) << bug;
  }
}

// The same-partition rule (one local transaction, idempotent per id): a
// partition that applies a repeat again is caught by explore over chaos.
TEST(Explore, CatchesABrokenSamePartitionRule) {
  ExploreOptions opt;
  opt.out_dir = temp_dir("same-partition");
  ScenarioLoad broken = load_scenario("chaos", {"bugs.local_repeat_applies=true"});
  ASSERT_TRUE(broken.scenario) << broken.error;
  ExploreResult r = explore(*broken.scenario, SeedRange{0, 30}, 2, opt);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_GE(r.failures.size(), 20u);
  ScenarioLoad clean = load_scenario("chaos", {});
  ASSERT_TRUE(clean.scenario) << clean.error;
  ExploreResult ok = explore(*clean.scenario, SeedRange{0, 30}, 2, opt);
  ASSERT_TRUE(ok.error.empty()) << ok.error;
  EXPECT_TRUE(ok.failures.empty());
}

TEST(Merge, ShardsInAnyOrderEqualOneExplore) {
  const Scenario s = scenario({"protocol.try_order=credit_first"});
  ExploreOptions opt;
  opt.out_dir = temp_dir("whole");
  ExploreResult whole = explore(s, SeedRange{0, 30}, 2, opt);
  std::vector<NamedReport> parts;
  opt.out_dir = temp_dir("parts");
  for (SeedRange r : {SeedRange{20, 30}, SeedRange{0, 7}, SeedRange{7, 20}})
    parts.push_back(NamedReport{to_string(r), explore(s, r, 1, opt)});
  MergeResult m = merge_reports(parts);
  ASSERT_TRUE(m.error.empty()) << m.error;
  EXPECT_TRUE(m.missing.empty());
  EXPECT_EQ(m.merged.seeds, whole.seeds);
  EXPECT_EQ(m.merged.runs, whole.runs);
  EXPECT_EQ(m.merged.digest, whole.digest);
  EXPECT_EQ(m.merged.scenario_digest, whole.scenario_digest);
  ASSERT_EQ(m.merged.failures.size(), whole.failures.size());
  for (size_t i = 0; i < whole.failures.size(); ++i) {
    EXPECT_EQ(m.merged.failures[i].seed, whole.failures[i].seed);
    EXPECT_EQ(m.merged.failures[i].property, whole.failures[i].property);
    EXPECT_EQ(m.merged.failures[i].trace_hash, whole.failures[i].trace_hash);
  }
  std::reverse(parts.begin(), parts.end());
  EXPECT_EQ(merge_to_json(merge_reports(parts)), merge_to_json(m));
  ASSERT_EQ(m.shards.size(), 3u);
  EXPECT_EQ(m.shards[0].name, "0..7");
}

TEST(Merge, OverlappingRangesAreRefusedNamingBothFiles) {
  MergeResult m = merge_reports({{"a.json", shard(0, 100)}, {"b.json", shard(90, 200)}});
  EXPECT_NE(m.error.find("'b.json'"), std::string::npos) << m.error;
  EXPECT_NE(m.error.find("'a.json'"), std::string::npos) << m.error;
  EXPECT_NE(m.error.find("90..100"), std::string::npos) << m.error;
}

TEST(Merge, DuplicateShardIsNamed) {
  MergeResult m = merge_reports(
      {{"a.json", shard(0, 100)}, {"b.json", shard(100, 200)}, {"c.json", shard(0, 100)}});
  EXPECT_NE(m.error.find("duplicate shard"), std::string::npos) << m.error;
  EXPECT_NE(m.error.find("'c.json'"), std::string::npos) << m.error;
}

TEST(Merge, DifferentScenarioOrBuildIsRefused) {
  MergeResult m =
      merge_reports({{"a.json", shard(0, 100)}, {"b.json", shard(100, 200, "00000000000000bb")}});
  EXPECT_NE(m.error.find("'b.json'"), std::string::npos) << m.error;
  EXPECT_NE(m.error.find("scenario"), std::string::npos) << m.error;
  ExploreResult other = shard(100, 200);
  other.build = "another-build";
  m = merge_reports({{"a.json", shard(0, 100)}, {"b.json", other}});
  EXPECT_NE(m.error.find("another-build"), std::string::npos) << m.error;
}

TEST(Merge, GapsAreNamedIncludingTheExpectedEnds) {
  MergeResult m =
      merge_reports({{"b.json", shard(200, 300)}, {"a.json", shard(100, 150)}}, SeedRange{0, 400});
  ASSERT_TRUE(m.error.empty()) << m.error;
  ASSERT_EQ(m.missing.size(), 3u);
  EXPECT_EQ(m.missing[0], (SeedRange{0, 100}));
  EXPECT_EQ(m.missing[1], (SeedRange{150, 200}));
  EXPECT_EQ(m.missing[2], (SeedRange{300, 400}));
  EXPECT_EQ(m.merged.runs, 150u);
}

TEST(Merge, CoverageCountsAreSummed) {
  ExploreResult a = shard(0, 10), b = shard(10, 20);
  a.coverage = {{"coordinator.crash_after_decision", 3}, {"partition.torn_tail", 1}};
  b.coverage = {{"coordinator.crash_after_decision", 4}, {"client.status_query", 2}};
  MergeResult m = merge_reports({{"a", a}, {"b", b}});
  CoverageCounts want = {{"client.status_query", 2},
                         {"coordinator.crash_after_decision", 7},
                         {"partition.torn_tail", 1}};
  EXPECT_EQ(m.merged.coverage, want);
}

// Replica groups' outage figures travel in the JSON report (read back
// exactly) and merge: runs add up, the longest outage (lowest seed on a tie) wins.
TEST(Merge, GroupOutagesAreKeptAndMerged) {
  ExploreResult a = shard(0, 10), b = shard(10, 20), c = shard(20, 30);
  a.runs_with_group_stopped = 2;
  a.longest_outage = 40 * kMillisecond;
  a.longest_outage_seed = 7;
  b.longest_outage = 90 * kMillisecond;
  b.longest_outage_seed = 15;
  c.runs_with_group_stopped = 1;
  c.longest_outage = 90 * kMillisecond;
  c.longest_outage_seed = 21;
  ExploreReportLoad back = explore_report_from_json(explore_report_to_json(a));
  ASSERT_TRUE(back.report) << back.error;
  EXPECT_EQ(back.report->runs_with_group_stopped, 2u);
  EXPECT_EQ(back.report->longest_outage, 40 * kMillisecond);
  EXPECT_EQ(back.report->longest_outage_seed, 7u);
  EXPECT_FALSE(explore_report_to_json(shard(0, 10)).contains("groups"));
  MergeResult m = merge_reports({{"c", c}, {"a", a}, {"b", b}});
  ASSERT_TRUE(m.error.empty()) << m.error;
  EXPECT_EQ(m.merged.runs_with_group_stopped, 3u);
  EXPECT_EQ(m.merged.longest_outage, 90 * kMillisecond);
  EXPECT_EQ(m.merged.longest_outage_seed, 15u);
  EXPECT_EQ(merge_to_json(m).at("groups").at("longest_outage_seed"), 15u);
}

TEST(Merge, CampaignRateUsesTheSpanOfTheShards) {
  ExploreResult a = shard(0, 100), b = shard(100, 200);
  a.started_unix_ms = 0;
  a.finished_unix_ms = 1000;
  b.started_unix_ms = 500;
  b.finished_unix_ms = 2000;
  MergeResult m = merge_reports({{"a", a}, {"b", b}});
  EXPECT_DOUBLE_EQ(m.span_seconds, 2.0);
  EXPECT_DOUBLE_EQ(m.merged.seeds_per_second, 100.0);
  EXPECT_DOUBLE_EQ(m.seeds_per_shard_second, 100.0);
}

TEST(ExploreReport, RoundTripsThroughJson) {
  ExploreResult r = shard(5, 50);
  r.failures.push_back(ExploreFailure{9, "conservation", "money created", 0xabcdef,
                                      "f/smoke-seed-9.json", "", "", ""});
  r.coverage = {{"x", 2}};
  ExploreReportLoad l =
      explore_report_from_json(nlohmann::json::parse(explore_report_to_json(r).dump()));
  ASSERT_TRUE(l.report) << l.error;
  EXPECT_EQ(l.report->seeds, r.seeds);
  EXPECT_EQ(l.report->digest, r.digest);
  EXPECT_EQ(l.report->coverage, r.coverage);
  ASSERT_EQ(l.report->failures.size(), 1u);
  EXPECT_EQ(l.report->failures[0].trace_hash, 0xabcdefu);
  EXPECT_EQ(l.report->failures[0].file, "f/smoke-seed-9.json");
  EXPECT_EQ(explore_report_to_json(*l.report), explore_report_to_json(r));
}

TEST(ExploreReport, DamagedReportsAreRefusedNamingWhatIsWrong) {
  nlohmann::json good = explore_report_to_json(shard(0, 10));
  nlohmann::json edited = good;
  edited["runs"] = 11;
  EXPECT_NE(explore_report_from_json(edited).error.find("checksum"), std::string::npos);
  nlohmann::json missing = good;
  missing.erase("trace_digest");
  missing.erase("checksum");
  missing["checksum"] = hex64(fnv1a64(missing.dump()));  // written that way, not damaged
  EXPECT_NE(explore_report_from_json(missing).error.find("'trace_digest'"), std::string::npos)
      << explore_report_from_json(missing).error;
  nlohmann::json failure = good;
  failure["format"] = "walletsim-failure";
  EXPECT_NE(explore_report_from_json(failure).error.find("format"), std::string::npos);
  EXPECT_NE(load_explore_report("/nonexistent/shard.json").error.find("/nonexistent/shard.json"),
            std::string::npos);
}

TEST(Progress, LineShowsWorkFailuresRateAndTimeLeft) {
  ProgressState s{250, 1000, 3, true, 5.0};
  EXPECT_EQ(format_progress(s, "seeds"), "  250/1000 seeds, 3 failed, 50 seeds/s, 15 s left");
  s.show_failed = false;
  s.total = 0;
  EXPECT_EQ(format_progress(s, "requests"), "  250 requests, 50 requests/s");
}

}  // namespace
}  // namespace ws
