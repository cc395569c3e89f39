// Unit tests for scenarios/scenario (DESIGN.md section 7): every built-in
// scenario loads and validates, --set overrides change exactly what they name,
// and every bad input is an error that names the offending key.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/scenario.h"

namespace ws {
namespace {

using nlohmann::json;

::testing::AssertionResult HasSubstr(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << '"' << text << "\" does not contain \"" << part << '"';
}

// Loads `name` with `sets`, expects failure and returns the error message.
std::string ErrorOf(const std::vector<std::string>& sets, const std::string& name = "smoke") {
  ScenarioLoad l = load_scenario(name, sets);
  EXPECT_FALSE(l.scenario.has_value()) << "loading '" << name << "' with the given --set values succeeded";
  EXPECT_FALSE(l.error.empty());
  return l.error;
}

std::string ErrorOfSet(const std::string& set) { return ErrorOf({set}); }

Scenario LoadOk(const std::string& name, const std::vector<std::string>& sets = {}) {
  ScenarioLoad l = load_scenario(name, sets);
  EXPECT_TRUE(l.scenario.has_value()) << name << ": " << l.error;
  EXPECT_TRUE(l.error.empty()) << l.error;
  if (!l.scenario) return Scenario{};
  return *l.scenario;
}

// The defaults document, as embedded in the binary.
json DefaultsDoc() {
  for (const auto& [name, text] : builtin_scenario_texts())
    if (name == "defaults") return json::parse(text);
  ADD_FAILURE() << "no embedded defaults.json";
  return json::object();
}

// Writes `text` to a fresh file under the gtest temporary directory.
std::string WriteTemp(const std::string& file, const std::string& text) {
  std::string path = ::testing::TempDir() + "/ws_test_scenario_" + file;
  std::ofstream(path) << text;
  return path;
}

// Every leaf key path of `doc` ("cluster.partitions", ...).
void LeafPaths(const json& doc, const std::string& prefix, std::vector<std::string>& out) {
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    std::string p = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it.value().is_object()) {
      LeafPaths(it.value(), p, out);
    } else {
      out.push_back(p);
    }
  }
}

const json* At(const json& doc, const std::string& path) {
  const json* at = &doc;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!at->is_object() || !at->contains(key)) return nullptr;
    at = &(*at)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return at;
}

// --- built-in scenarios -----------------------------------------------------

TEST(ScenarioBuiltin, ListsTenSortedScenariosWithoutDefaults) {
  auto list = builtin_scenarios();
  std::vector<std::string> names;
  for (const auto& [name, desc] : list) {
    names.push_back(name);
    EXPECT_FALSE(desc.empty()) << name << " has no description";
  }
  EXPECT_EQ(names, (std::vector<std::string>{"beyond-f", "chaos", "classic-raft", "coordinator-crash", "disk-loss", "forgetful",
                                             "hot-accounts", "leader-churn", "leader-partition", "lossy-network",
                                             "overload", "partition", "replica-crash", "shard-crash", "smoke",
                                             "storage-faults", "swarm"}));
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::count(names.begin(), names.end(), "defaults"), 0);
}

TEST(ScenarioBuiltin, EveryBuiltinLoadsAndValidates) {
  const json defaults = DefaultsDoc();
  std::vector<std::string> keys;
  LeafPaths(defaults, "", keys);
  ASSERT_GT(keys.size(), 40u);
  for (const auto& [name, desc] : builtin_scenarios()) {
    SCOPED_TRACE(name);
    ScenarioLoad l = load_scenario(name, {});
    ASSERT_TRUE(l.scenario.has_value()) << l.error;
    const Scenario& s = *l.scenario;
    EXPECT_EQ(s.name, name) << "the file name and the \"name\" key differ";
    EXPECT_EQ(s.description, desc);
    // The stored document is complete: every default key is there with a value of its type.
    for (const std::string& k : keys) {
      const json* v = At(s.doc, k);
      ASSERT_NE(v, nullptr) << "scenario doc lacks '" << k << "'";
      EXPECT_EQ(v->is_string(), At(defaults, k)->is_string()) << k;
      EXPECT_EQ(v->is_array(), At(defaults, k)->is_array()) << k;
    }
    // The derived configuration is usable: finalized and consistent.
    const ClusterConfig& c = s.sim.cluster;
    EXPECT_GE(c.partitions, 1u);
    EXPECT_GE(c.coordinators, 1u);
    EXPECT_EQ(c.account_partition.size(), c.accounts);
    EXPECT_EQ(c.partition_size.size(), c.partitions);
    EXPECT_FALSE(c.currencies.empty());
    EXPECT_EQ(c.initial_balance.size(), c.currencies.size());
    EXPECT_LE(s.workload.duration, s.sim.fault_phase);
    // Re-validating its own document gives the same scenario.
    ScenarioLoad again = scenario_from_json(s.doc);
    ASSERT_TRUE(again.scenario.has_value()) << again.error;
    EXPECT_EQ(again.scenario->doc, s.doc);
  }
}

TEST(ScenarioBuiltin, DefaultsIsNotABuiltinName) {
  std::string err = ErrorOf({}, "defaults");
  EXPECT_TRUE(HasSubstr(err, "unknown scenario 'defaults'"));
}

TEST(ScenarioBuiltin, SmokeMatchesItsFile) {
  Scenario s = LoadOk("smoke");
  EXPECT_EQ(s.profile, FaultProfile::kChaos);
  EXPECT_EQ(s.knobs.crashes, 1u);
  EXPECT_EQ(s.knobs.partitions, 1u);
  EXPECT_EQ(s.knobs.drop_ppm, 10'000u);
  EXPECT_EQ(s.knobs.drift_ppm_max, 100);
  // Keys smoke does not set come from defaults.json.
  EXPECT_EQ(s.sim.cluster.partitions, 4u);
  EXPECT_EQ(s.sim.cluster.protocol.try_order, TryOrder::kDebitFirst);
  EXPECT_EQ(s.doc["cluster"]["currencies"], json({"USD", "EUR", "JPY"}));
}

// --- --set overrides ----------------------------------------------------------

TEST(ScenarioSet, TryOrderBareWord) {
  Scenario s = LoadOk("smoke", {"protocol.try_order=credit_first"});
  EXPECT_EQ(s.sim.cluster.protocol.try_order, TryOrder::kCreditFirst);
  EXPECT_EQ(s.doc["protocol"]["try_order"], "credit_first");
  Scenario b = LoadOk("smoke", {"protocol.try_order=both_in_try"});
  EXPECT_EQ(b.sim.cluster.protocol.try_order, TryOrder::kBothInTry);
  // A quoted JSON string works too.
  Scenario q = LoadOk("smoke", {"protocol.try_order=\"credit_first\""});
  EXPECT_EQ(q.sim.cluster.protocol.try_order, TryOrder::kCreditFirst);
}

TEST(ScenarioSet, PartitionsInteger) {
  Scenario s = LoadOk("smoke", {"cluster.partitions=8"});
  EXPECT_EQ(s.sim.cluster.partitions, 8u);
  EXPECT_EQ(s.sim.cluster.partition_size.size(), 8u);
  EXPECT_EQ(s.doc["cluster"]["partitions"], 8);
  for (uint32_t p : s.sim.cluster.account_partition) EXPECT_LT(p, 8u);
}

TEST(ScenarioSet, DropProbability) {
  Scenario s = LoadOk("smoke", {"faults.drop_probability=0.5"});
  EXPECT_EQ(s.knobs.drop_ppm, 500'000u);
  EXPECT_DOUBLE_EQ(s.doc["faults"]["drop_probability"].get<double>(), 0.5);
  // An integer is accepted where a probability is expected.
  Scenario one = LoadOk("smoke", {"faults.drop_probability=1"});
  EXPECT_EQ(one.knobs.drop_ppm, 1'000'000u);
  Scenario zero = LoadOk("smoke", {"faults.drop_probability=0"});
  EXPECT_EQ(zero.knobs.drop_ppm, 0u);
}

TEST(ScenarioSet, OtherKinds) {
  Scenario s = LoadOk("smoke", {"faults.profile=lossy", "cluster.currencies=[\"USD\",\"KWD\"]",
                                "cluster.initial_balance=\"12.5\"", "faults.crash_targets=coordinators",
                                "name=mine"});
  EXPECT_EQ(s.profile, FaultProfile::kLossy);
  ASSERT_EQ(s.sim.cluster.currencies.size(), 2u);
  EXPECT_EQ(std::string(s.sim.cluster.currencies[1].code), "KWD");
  ASSERT_EQ(s.sim.cluster.initial_balance.size(), 2u);
  EXPECT_EQ(s.sim.cluster.initial_balance[0].minor, 1250);   // USD, 2 digits
  EXPECT_EQ(s.sim.cluster.initial_balance[1].minor, 12500);  // KWD, 3 digits
  EXPECT_EQ(s.knobs.crash_targets, FaultKnobs::Targets::kCoordinators);
  EXPECT_EQ(s.name, "mine");
}

TEST(ScenarioSet, AppliedInOrderLastWins) {
  Scenario s = LoadOk("smoke", {"cluster.partitions=8", "cluster.partitions=6"});
  EXPECT_EQ(s.sim.cluster.partitions, 6u);
}

TEST(ScenarioSet, OverridesOnlyWhatTheyName) {
  Scenario base = LoadOk("smoke");
  Scenario s = LoadOk("smoke", {"cluster.partitions=8"});
  json expect = base.doc;
  expect["cluster"]["partitions"] = 8;
  EXPECT_EQ(s.doc, expect);
}

TEST(ScenarioSet, WorksOnAllBuiltins) {
  for (const auto& [name, desc] : builtin_scenarios()) {
    Scenario s = LoadOk(name, {"protocol.try_order=credit_first", "cluster.partitions=8"});
    EXPECT_EQ(s.sim.cluster.protocol.try_order, TryOrder::kCreditFirst) << name;
    EXPECT_EQ(s.sim.cluster.partitions, 8u) << name;
  }
}

TEST(ScenarioSet, ScenarioFromJsonAcceptsSets) {
  ScenarioLoad l = scenario_from_json(json{{"name", "x"}}, {"cluster.coordinators=3"});
  ASSERT_TRUE(l.scenario.has_value()) << l.error;
  EXPECT_EQ(l.scenario->sim.cluster.coordinators, 3u);
  EXPECT_EQ(l.scenario->name, "x");
}

// --- errors name the key ------------------------------------------------------

TEST(ScenarioErrors, UnknownKey) {
  std::string err = ErrorOfSet("cluster.nope=1");
  EXPECT_TRUE(HasSubstr(err, "cluster.nope"));
  EXPECT_TRUE(HasSubstr(err, "unknown"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("nope.x=1"), "nope.x"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("nope=1"), "nope"));
  // A key below a leaf value.
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.partitions.x=1"), "cluster.partitions.x"));
}

TEST(ScenarioErrors, SectionIsNotAValue) {
  std::string err = ErrorOfSet("cluster=3");
  EXPECT_TRUE(HasSubstr(err, "'cluster'"));
  EXPECT_TRUE(HasSubstr(err, "section"));
  // Even with an object value.
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster={\"partitions\":3}"), "'cluster'"));
}

TEST(ScenarioErrors, WrongType) {
  std::string err = ErrorOfSet("cluster.partitions=abc");
  EXPECT_TRUE(HasSubstr(err, "cluster.partitions"));
  EXPECT_TRUE(HasSubstr(err, "integer"));
  err = ErrorOfSet("cluster.partitions=1.5");
  EXPECT_TRUE(HasSubstr(err, "cluster.partitions"));
  EXPECT_TRUE(HasSubstr(err, "integer"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.partitions=true"), "cluster.partitions"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.partitions=null"), "cluster.partitions"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.partitions=[4]"), "cluster.partitions"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("protocol.try_order=3"), "protocol.try_order"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("faults.drop_probability=high"), "faults.drop_probability"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.currencies=USD"), "cluster.currencies"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.initial_balance=1.234"), "cluster.initial_balance"));
}

TEST(ScenarioErrors, OutOfRange) {
  std::string err = ErrorOfSet("cluster.partitions=0");
  EXPECT_TRUE(HasSubstr(err, "cluster.partitions"));
  EXPECT_TRUE(HasSubstr(err, "between"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.partitions=-1"), "cluster.partitions"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.partitions=100001"), "cluster.partitions"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.partitions=18446744073709551615"), "cluster.partitions"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.accounts=1"), "cluster.accounts"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("workload.max_amount_pct=101"), "workload.max_amount_pct"));
  err = ErrorOfSet("faults.drop_probability=2");
  EXPECT_TRUE(HasSubstr(err, "faults.drop_probability"));
  EXPECT_TRUE(HasSubstr(err, "between 0 and 1"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("faults.drop_probability=-0.1"), "faults.drop_probability"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("workload.hot_probability=1.01"), "workload.hot_probability"));
  // Cross-key rule: requests start during the fault phase.
  err = ErrorOf({"workload.duration_ms=500", "phases.fault_ms=400"});
  EXPECT_TRUE(HasSubstr(err, "workload.duration_ms"));
  EXPECT_TRUE(HasSubstr(err, "phases.fault_ms"));
}

// Found while writing fuzz_scenario's check that an accepted scenario
// yields a workload (fuzz/regressions/scenario): with one hot account and
// every endpoint hot, generating the workload never finished, so `run` and
// `explore` hung.
TEST(ScenarioErrors, OneHotAccountForEveryEndpointIsRefused) {
  const char* found = R"({"workload":{"hot_accounts":1,"hot_probability":1.0}})";
  ScenarioLoad l = scenario_from_json(json::parse(found));
  ASSERT_FALSE(l.scenario.has_value());
  EXPECT_TRUE(HasSubstr(l.error, "workload.hot_accounts"));
  EXPECT_TRUE(HasSubstr(l.error, "workload.hot_probability"));
  // Two hot accounts, or a chance of a cold endpoint, are fine.
  LoadOk("smoke", {"workload.hot_accounts=2", "workload.hot_probability=1"});
  LoadOk("smoke", {"workload.hot_accounts=1", "workload.hot_probability=0.9"});
}

TEST(ScenarioErrors, JustOutOfRangeDurations) {
  EXPECT_TRUE(HasSubstr(ErrorOfSet("phases.fault_ms=2592000001"), "phases.fault_ms"));  // 30 days
  EXPECT_TRUE(HasSubstr(ErrorOfSet("workload.duration_ms=2592000001"), "workload.duration_ms"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("protocol.try_timeout_ms=3600001"), "protocol.try_timeout_ms"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("network.latency_us=0"), "network.latency_us"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("faults.clock_offset_max_ms=-1"), "faults.clock_offset_max_ms"));
}

TEST(ScenarioErrors, HugeDurationsAreRejectedWithoutOverflow) {
  for (const char* key : {"workload.duration_ms", "client.request_timeout_ms", "client.query_interval_ms",
                          "protocol.try_timeout_ms", "protocol.retry_interval_ms", "protocol.max_backoff_ms",
                          "network.latency_us", "network.jitter_us", "disk.sync_us", "faults.tail_ms",
                          "faults.crash_down_max_ms", "faults.partition_max_ms", "faults.clock_offset_max_ms",
                          "phases.fault_ms", "phases.heal_limit_ms", "client.horizon_ms", "protocol.retention_ms"}) {
    EXPECT_TRUE(HasSubstr(ErrorOfSet(std::string(key) + "=9223372036854775807"), key));
    EXPECT_TRUE(HasSubstr(ErrorOfSet(std::string(key) + "=-9223372036854775807"), key));
  }
}

// The retention window must cover twice the client horizon and twice the
// longest network delay; the error names the keys.
TEST(ScenarioErrors, RetentionShorterThanTheClientHorizonIsRefusedNamingBoth) {
  std::string err = ErrorOf({"protocol.retention_ms=150", "client.horizon_ms=100"});
  EXPECT_TRUE(HasSubstr(err, "protocol.retention_ms")) << err;
  EXPECT_TRUE(HasSubstr(err, "client.horizon_ms")) << err;
  err = ErrorOf({"protocol.retention_ms=100", "client.horizon_ms=40", "faults.profile=chaos", "faults.tail_ms=80"});
  EXPECT_TRUE(HasSubstr(err, "protocol.retention_ms")) << err;
  EXPECT_TRUE(HasSubstr(err, "faults.tail_ms")) << err;
  EXPECT_TRUE(load_scenario("smoke", {"protocol.retention_ms=200", "client.horizon_ms=100"}).scenario.has_value());
}

TEST(ScenarioErrors, FirstErrorIsReported) {
  std::string err = ErrorOf({"cluster.partitions=0", "faults.drop_probability=2"});
  EXPECT_TRUE(HasSubstr(err, "cluster.partitions"));
  EXPECT_FALSE(HasSubstr(err, "drop_probability"));
}

TEST(ScenarioErrors, BadEnum) {
  std::string err = ErrorOfSet("protocol.try_order=sideways");
  EXPECT_TRUE(HasSubstr(err, "protocol.try_order"));
  EXPECT_TRUE(HasSubstr(err, "sideways"));
  EXPECT_TRUE(HasSubstr(err, "credit_first"));  // lists the choices
  err = ErrorOfSet("faults.profile=meteor");
  EXPECT_TRUE(HasSubstr(err, "faults.profile"));
  EXPECT_TRUE(HasSubstr(err, "meteor"));
  EXPECT_TRUE(HasSubstr(err, "chaos"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("faults.crash_targets=everyone"), "faults.crash_targets"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("protocol.kind=paxos"), "protocol.kind"));
}

TEST(ScenarioErrors, UnknownCurrency) {
  std::string err = ErrorOfSet("cluster.currencies=[\"USD\",\"XXQ\"]");
  EXPECT_TRUE(HasSubstr(err, "cluster.currencies"));
  EXPECT_TRUE(HasSubstr(err, "XXQ"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.currencies=[\"usd\"]"), "cluster.currencies"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.currencies=[]"), "cluster.currencies"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.currencies=[1]"), "cluster.currencies"));
  err = ErrorOfSet("cluster.currencies=[\"USD\",\"USD\"]");
  EXPECT_TRUE(HasSubstr(err, "cluster.currencies"));
  EXPECT_TRUE(HasSubstr(err, "twice"));
}

TEST(ScenarioErrors, BadInitialBalance) {
  std::string err = ErrorOf({"cluster.currencies=[\"USD\"]", "cluster.initial_balance=\"1.234\""});
  EXPECT_TRUE(HasSubstr(err, "cluster.initial_balance"));
  // The same through a document, as a scenario file would give it.
  ScenarioLoad l = scenario_from_json(json{{"cluster", {{"currencies", {"USD"}}, {"initial_balance", "1.234"}}}});
  ASSERT_FALSE(l.scenario.has_value());
  EXPECT_TRUE(HasSubstr(l.error, "cluster.initial_balance"));
  // "1.5" is fine for USD but not for JPY (no minor digits).
  EXPECT_TRUE(HasSubstr(ErrorOf({"cluster.currencies=[\"USD\",\"JPY\"]", "cluster.initial_balance=\"1.5\""}),
                        "cluster.initial_balance"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.initial_balance=\"-5\""), "cluster.initial_balance"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("cluster.initial_balance=lots"), "cluster.initial_balance"));
}

TEST(ScenarioSet, NumericLookingTextForAStringKey) {
  ScenarioLoad s = load_scenario("smoke", {"cluster.initial_balance=250"});
  ASSERT_TRUE(s.scenario.has_value()) << s.error;
  EXPECT_EQ(s.scenario->doc["cluster"]["initial_balance"], json("250"));
  EXPECT_EQ(s.scenario->sim.cluster.initial_balance.at(0).minor, 25000);
  ScenarioLoad n = load_scenario("smoke", {"name=123"});
  ASSERT_TRUE(n.scenario.has_value()) << n.error;
  EXPECT_EQ(n.scenario->name, "123");
}

TEST(ScenarioErrors, MalformedSet) {
  std::string err = ErrorOfSet("cluster.partitions");
  EXPECT_TRUE(HasSubstr(err, "cluster.partitions"));
  EXPECT_TRUE(HasSubstr(err, "key.path=value"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet("=3"), "key.path=value"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet(""), "key.path=value"));
  err = ErrorOfSet("cluster..partitions=3");
  EXPECT_TRUE(HasSubstr(err, "cluster..partitions"));
  EXPECT_TRUE(HasSubstr(err, "empty"));
  EXPECT_TRUE(HasSubstr(ErrorOfSet(".partitions=3"), "empty"));
}

TEST(ScenarioErrors, UnknownScenarioListsBuiltins) {
  std::string err = ErrorOf({}, "no-such");
  EXPECT_TRUE(HasSubstr(err, "no-such"));
  for (const auto& [name, desc] : builtin_scenarios()) EXPECT_TRUE(HasSubstr(err, name));
}

// --- scenario files -----------------------------------------------------------

TEST(ScenarioFile, LoadsAndAppliesSets) {
  std::string path = WriteTemp("ok.json", R"({"name": "mine", "description": "d",
      "cluster": {"partitions": 3, "currencies": ["EUR"]}, "faults": {"profile": "crash"}})");
  Scenario s = LoadOk(path);
  EXPECT_EQ(s.name, "mine");
  EXPECT_EQ(s.sim.cluster.partitions, 3u);
  EXPECT_EQ(s.profile, FaultProfile::kCrash);
  ASSERT_EQ(s.sim.cluster.currencies.size(), 1u);
  Scenario o = LoadOk(path, {"cluster.partitions=5"});
  EXPECT_EQ(o.sim.cluster.partitions, 5u);
  std::remove(path.c_str());
}

TEST(ScenarioFile, UnknownKeyIsNamed) {
  std::string path = WriteTemp("unknown.json", R"({"name": "x", "cluster": {"partitionz": 3}})");
  ScenarioLoad l = load_scenario(path, {});
  EXPECT_FALSE(l.scenario.has_value());
  EXPECT_TRUE(HasSubstr(l.error, "cluster.partitionz"));
  EXPECT_TRUE(HasSubstr(l.error, "unknown"));
  std::remove(path.c_str());

  path = WriteTemp("unknown_top.json", R"({"name": "x", "clutser": {}})");
  l = load_scenario(path, {});
  EXPECT_FALSE(l.scenario.has_value());
  EXPECT_TRUE(HasSubstr(l.error, "clutser"));
  std::remove(path.c_str());
}

TEST(ScenarioFile, BadValuesAreNamed) {
  struct Case {
    const char* text;
    const char* key;
  } cases[] = {
      {R"({"cluster": 3})", "'cluster'"},
      {R"({"cluster": {"partitions": "4"}})", "cluster.partitions"},
      {R"({"cluster": {"partitions": {"n": 4}}})", "cluster.partitions"},
      {R"({"workload": {"transfers": -1}})", "workload.transfers"},
      {R"({"faults": {"tail_probability": 7}})", "faults.tail_probability"},
      {R"({"protocol": {"try_order": "sideways"}})", "protocol.try_order"},
      {R"({"name": 5})", "name"},
  };
  for (const Case& c : cases) {
    std::string path = WriteTemp("bad.json", c.text);
    ScenarioLoad l = load_scenario(path, {});
    EXPECT_FALSE(l.scenario.has_value()) << c.text;
    EXPECT_TRUE(HasSubstr(l.error, c.key)) << c.text;
    std::remove(path.c_str());
  }
}

TEST(ScenarioFile, NotJsonOrNotAnObject) {
  std::string path = WriteTemp("broken.json", R"({"name": "x", "cluster": {)");
  ScenarioLoad l = load_scenario(path, {});
  EXPECT_FALSE(l.scenario.has_value());
  EXPECT_TRUE(HasSubstr(l.error, "not valid JSON"));
  EXPECT_TRUE(HasSubstr(l.error, path));
  std::remove(path.c_str());

  path = WriteTemp("array.json", "[1, 2]");
  l = load_scenario(path, {});
  EXPECT_FALSE(l.scenario.has_value());
  EXPECT_TRUE(HasSubstr(l.error, "object"));
  std::remove(path.c_str());
}

TEST(ScenarioFile, MissingFileListsBuiltins) {
  std::string err = ErrorOf({}, ::testing::TempDir() + "/ws_test_scenario_does_not_exist.json");
  EXPECT_TRUE(HasSubstr(err, "does_not_exist"));
  EXPECT_TRUE(HasSubstr(err, "smoke"));
}

}  // namespace
}  // namespace ws
