// Unit tests for properties/failure_file (DESIGN.md section 7): a failure file
// holds everything needed to re-run a failure without the generators, replay
// reproduces the same violation and trace hash, and a damaged or edited file
// is refused with an error that names the problem.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/hash.h"
#include "properties/failure_file.h"
#include "properties/runner.h"
#include "scenarios/scenario.h"

namespace ws {
namespace {

using nlohmann::json;

::testing::AssertionResult HasSubstr(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << '"' << text << "\" does not contain \"" << part << '"';
}

Scenario LoadScenario(const std::string& name, const std::vector<std::string>& sets = {}) {
  ScenarioLoad l = load_scenario(name, sets);
  EXPECT_TRUE(l.scenario.has_value()) << name << ": " << l.error;
  return l.scenario.value_or(Scenario{});
}

// The same checksum failure_file.cc computes: FNV-1a 64 over the compact dump
// of the document without its "checksum" key.
void Reseal(json& doc) {
  json body = doc;
  body.erase("checksum");
  doc["checksum"] = hex64(fnv1a64(body.dump()));
}

std::string TempPath(const std::string& file) { return ::testing::TempDir() + "/ws_test_failure_" + file; }

void ExpectSameRequest(const PlannedRequest& a, const PlannedRequest& b, size_t i) {
  SCOPED_TRACE("workload[" + std::to_string(i) + "]");
  EXPECT_EQ(a.at, b.at);
  EXPECT_EQ(a.client, b.client);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.duplicate, b.duplicate);
  EXPECT_EQ(a.txid, b.txid);
  EXPECT_EQ(a.amount, b.amount);
  EXPECT_EQ(a.currency, b.currency);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.to, b.to);
  EXPECT_EQ(a.reuse_of, b.reuse_of);
}

void ExpectSameNetwork(const NetworkParams& a, const NetworkParams& b) {
  EXPECT_EQ(a.latency, b.latency);
  EXPECT_EQ(a.jitter, b.jitter);
  EXPECT_EQ(a.tail_ppm, b.tail_ppm);
  EXPECT_EQ(a.tail, b.tail);
  EXPECT_EQ(a.drop_ppm, b.drop_ppm);
  EXPECT_EQ(a.duplicate_ppm, b.duplicate_ppm);
}

void ExpectSamePlan(const FaultPlan& a, const FaultPlan& b) {
  ExpectSameNetwork(a.faulty, b.faulty);
  ASSERT_EQ(a.crashes.size(), b.crashes.size());
  for (size_t i = 0; i < a.crashes.size(); ++i) {
    SCOPED_TRACE("crashes[" + std::to_string(i) + "]");
    EXPECT_EQ(a.crashes[i].node, b.crashes[i].node);
    EXPECT_EQ(a.crashes[i].at, b.crashes[i].at);
    EXPECT_EQ(a.crashes[i].down_for, b.crashes[i].down_for);
    EXPECT_EQ(a.crashes[i].torn_write, b.crashes[i].torn_write);
    EXPECT_EQ(a.crashes[i].at_vote, b.crashes[i].at_vote);
  }
  ASSERT_EQ(a.partitions.size(), b.partitions.size());
  for (size_t i = 0; i < a.partitions.size(); ++i) {
    SCOPED_TRACE("partitions[" + std::to_string(i) + "]");
    EXPECT_EQ(a.partitions[i].side_a, b.partitions[i].side_a);
    EXPECT_EQ(a.partitions[i].side_b, b.partitions[i].side_b);
    EXPECT_EQ(a.partitions[i].one_way, b.partitions[i].one_way);
    EXPECT_EQ(a.partitions[i].start, b.partitions[i].start);
    EXPECT_EQ(a.partitions[i].end, b.partitions[i].end);
    EXPECT_EQ(a.partitions[i].isolate_leader_of, b.partitions[i].isolate_leader_of);
    EXPECT_EQ(a.partitions[i].from_clients, b.partitions[i].from_clients);
  }
  ASSERT_EQ(a.clocks.size(), b.clocks.size());
  for (size_t i = 0; i < a.clocks.size(); ++i) {
    SCOPED_TRACE("clocks[" + std::to_string(i) + "]");
    EXPECT_EQ(a.clocks[i].node, b.clocks[i].node);
    EXPECT_EQ(a.clocks[i].offset, b.clocks[i].offset);
    EXPECT_EQ(a.clocks[i].drift_ppm, b.clocks[i].drift_ppm);
  }
}

void ExpectSameSpec(const RunSpec& a, const RunSpec& b) {
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.scenario.doc, b.scenario.doc);
  EXPECT_EQ(a.scenario.name, b.scenario.name);
  EXPECT_EQ(a.scenario.sim.cluster.partitions, b.scenario.sim.cluster.partitions);
  EXPECT_EQ(a.scenario.sim.cluster.protocol.try_order, b.scenario.sim.cluster.protocol.try_order);
  ASSERT_EQ(a.workload.requests.size(), b.workload.requests.size());
  for (size_t i = 0; i < a.workload.requests.size(); ++i)
    ExpectSameRequest(a.workload.requests[i], b.workload.requests[i], i);
  ExpectSamePlan(a.plan, b.plan);
}

// A failing run: smoke with the Credit leg tried first violates conservation.
class FailureFileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    spec_ = new RunSpec(make_spec(LoadScenario("smoke", {"protocol.try_order=credit_first"}), 7));
    result_ = new RunResult(run_spec(*spec_));
    doc_ = new json(failure_to_json(*spec_, *result_));
  }
  static void TearDownTestSuite() {
    delete doc_;
    delete result_;
    delete spec_;
    doc_ = nullptr;
    result_ = nullptr;
    spec_ = nullptr;
  }

  // Loading `doc` must fail; returns the error.
  static std::string ErrorOf(const json& doc) {
    FailureLoad l = failure_from_json(doc);
    EXPECT_FALSE(l.file.has_value()) << "loaded an invalid failure file";
    EXPECT_FALSE(l.error.empty());
    return l.error;
  }
  // Edits a copy of the good document, recomputes the checksum and returns the error.
  template <class Edit>
  static std::string ResealedErrorOf(Edit edit) {
    json doc = *doc_;
    edit(doc);
    Reseal(doc);
    return ErrorOf(doc);
  }

  static RunSpec* spec_;
  static RunResult* result_;
  static json* doc_;
};

RunSpec* FailureFileTest::spec_ = nullptr;
RunResult* FailureFileTest::result_ = nullptr;
json* FailureFileTest::doc_ = nullptr;

TEST_F(FailureFileTest, TheRunViolatesConservation) {
  ASSERT_FALSE(result_->ok);
  ASSERT_FALSE(result_->violations.empty());
  EXPECT_EQ(result_->violations.front().property, Property::kConservation);
  // The fault plan is not empty, so the round trip below covers it.
  EXPECT_FALSE(spec_->workload.requests.empty());
  EXPECT_FALSE(spec_->plan.crashes.empty());
  EXPECT_FALSE(spec_->plan.partitions.empty());
  EXPECT_FALSE(spec_->plan.clocks.empty());
}

TEST_F(FailureFileTest, DocumentHasEveryPart) {
  const json& d = *doc_;
  for (const char* key : {"format", "version", "build", "seed", "scenario", "workload", "fault_plan", "violation",
                          "trace_hash", "checksum"})
    EXPECT_TRUE(d.contains(key)) << key;
  EXPECT_EQ(d["format"], "walletsim-failure");
  EXPECT_EQ(d["version"], kFailureFileVersion);
  EXPECT_EQ(d["seed"], 7);
  EXPECT_EQ(d["build"], build_id());
  EXPECT_EQ(d["violation"]["property"], "conservation");
  EXPECT_EQ(d["trace_hash"], hex64(result_->trace_hash));
  EXPECT_EQ(d["scenario"], spec_->scenario.doc);
  EXPECT_EQ(d["scenario"]["protocol"]["try_order"], "credit_first");
  EXPECT_EQ(d["workload"], workload_to_json(spec_->workload));
  EXPECT_EQ(d["fault_plan"], fault_plan_to_json(spec_->plan));
  // The checksum is FNV-1a 64 over the body.
  json resealed = d;
  Reseal(resealed);
  EXPECT_EQ(resealed["checksum"], d["checksum"]);
}

TEST_F(FailureFileTest, RoundTripGivesTheSameSpec) {
  FailureLoad l = failure_from_json(*doc_);
  ASSERT_TRUE(l.file.has_value()) << l.error;
  const FailureFile& f = *l.file;
  ExpectSameSpec(*spec_, f.spec);
  EXPECT_EQ(f.property, Property::kConservation);
  EXPECT_EQ(f.message, result_->violations.front().message);
  EXPECT_EQ(f.trace_hash, result_->trace_hash);
  EXPECT_EQ(f.build, build_id());
  // Writing it again gives the same document.
  EXPECT_EQ(failure_to_json(f.spec, *result_), *doc_);
}

TEST_F(FailureFileTest, ReplayReproducesPropertyAndHash) {
  FailureLoad l = failure_from_json(*doc_);
  ASSERT_TRUE(l.file.has_value()) << l.error;
  RunResult again = run_spec(l.file->spec);
  ASSERT_FALSE(again.violations.empty());
  EXPECT_EQ(again.violations.front().property, l.file->property);
  EXPECT_EQ(again.violations.front().message, l.file->message);
  EXPECT_EQ(again.trace_hash, l.file->trace_hash);
  EXPECT_EQ(again.trace_hash, result_->trace_hash);
}

TEST_F(FailureFileTest, RoundTripThroughADiskFile) {
  std::string path = TempPath("good.json");
  std::ofstream(path) << doc_->dump(1) << "\n";  // the layout explore writes
  FailureLoad l = load_failure_file(path);
  ASSERT_TRUE(l.file.has_value()) << l.error;
  ExpectSameSpec(*spec_, l.file->spec);
  EXPECT_EQ(run_spec(l.file->spec).trace_hash, result_->trace_hash);
  std::remove(path.c_str());
}

// --- corruption: the checksum ---------------------------------------------------

TEST_F(FailureFileTest, EditedValueFailsTheChecksum) {
  auto edited = [&](auto edit) {
    json doc = *doc_;
    edit(doc);
    return ErrorOf(doc);
  };
  EXPECT_TRUE(HasSubstr(edited([](json& d) { d["seed"] = 8; }), "checksum"));
  EXPECT_TRUE(HasSubstr(edited([](json& d) { d["workload"][0]["amount"] = "1.00"; }), "checksum"));
  EXPECT_TRUE(HasSubstr(edited([](json& d) { d["scenario"]["cluster"]["partitions"] = 5; }), "checksum"));
  EXPECT_TRUE(HasSubstr(edited([](json& d) {
                          json& t = d["fault_plan"]["crashes"][0]["torn_write"];
                          t = !t.get<bool>();
                        }), "checksum"));
  EXPECT_TRUE(HasSubstr(edited([](json& d) { d["trace_hash"] = "0000000000000000"; }), "checksum"));
  EXPECT_TRUE(HasSubstr(edited([](json& d) { d["violation"]["message"] = "x"; }), "checksum"));
  EXPECT_TRUE(HasSubstr(edited([](json& d) { d["extra"] = 1; }), "checksum"));
  EXPECT_TRUE(HasSubstr(edited([](json& d) { d.erase("build"); }), "checksum"));
  EXPECT_TRUE(HasSubstr(edited([](json& d) { d["checksum"] = "0123456789abcdef"; }), "checksum"));
}

TEST_F(FailureFileTest, MissingOrNonStringChecksum) {
  json doc = *doc_;
  doc.erase("checksum");
  EXPECT_TRUE(HasSubstr(ErrorOf(doc), "'checksum'"));
  doc["checksum"] = 5;
  EXPECT_TRUE(HasSubstr(ErrorOf(doc), "'checksum'"));
  EXPECT_TRUE(HasSubstr(ErrorOf(json::array({1, 2})), "object"));
}

// --- corruption: schema errors behind a valid checksum --------------------------

TEST_F(FailureFileTest, MissingSeed) {
  std::string err = ResealedErrorOf([](json& d) { d.erase("seed"); });
  EXPECT_TRUE(HasSubstr(err, "'seed'"));
  EXPECT_TRUE(HasSubstr(err, "missing"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["seed"] = -1; }), "'seed'"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["seed"] = "7"; }), "'seed'"));
}

TEST_F(FailureFileTest, MissingWorkloadAmount) {
  std::string err = ResealedErrorOf([](json& d) { d["workload"][0].erase("amount"); });
  EXPECT_TRUE(HasSubstr(err, "'workload[0].amount'"));
  EXPECT_TRUE(HasSubstr(err, "missing"));
  err = ResealedErrorOf([](json& d) { d["workload"][3].erase("transaction_id"); });
  EXPECT_TRUE(HasSubstr(err, "'workload[3].transaction_id'"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["workload"][0]["kind"] = "teleport"; }),
                        "workload[0].kind"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["workload"][0]["client"] = 99; }),
                        "workload[0].client"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["workload"][0]["duplicate"] = 1; }),
                        "workload[0].duplicate"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["workload"] = json::object(); }), "'workload'"));
}

// A balance read names a real account and currency; it has no id or amount.
TEST_F(FailureFileTest, BadBalanceRead) {
  auto as_read = [](json& d) {
    d["workload"][0]["kind"] = "read";
    d["workload"][0]["transaction_id"] = "";
    d["workload"][0]["amount"] = "";
  };
  json doc = *doc_;
  as_read(doc);
  Reseal(doc);
  FailureLoad l = failure_from_json(doc);
  ASSERT_TRUE(l.file.has_value()) << l.error;
  EXPECT_EQ(l.file->spec.workload.requests[0].kind, RequestKind::kRead);
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([&](json& d) {
                          as_read(d);
                          d["workload"][0]["currency"] = "XYZ";
                        }),
                        "'workload[0].currency'"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([&](json& d) {
                          as_read(d);
                          d["workload"][0]["from"] = 99999;
                        }),
                        "'workload[0].from'"));
}

TEST_F(FailureFileTest, CrashNodeOutOfRange) {
  const uint32_t servers = spec_->scenario.sim.cluster.partitions + spec_->scenario.sim.cluster.coordinators;
  std::string err = ResealedErrorOf([&](json& d) { d["fault_plan"]["crashes"][0]["node"] = servers; });
  EXPECT_TRUE(HasSubstr(err, "'fault_plan.crashes[0].node'"));
  EXPECT_TRUE(HasSubstr(err, "out of range"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["fault_plan"]["crashes"][0]["node"] = -1; }),
                        "fault_plan.crashes[0].node"));
  // The largest server id is fine.
  json doc = *doc_;
  doc["fault_plan"]["crashes"][0]["node"] = servers - 1;
  Reseal(doc);
  FailureLoad l = failure_from_json(doc);
  EXPECT_TRUE(l.file.has_value()) << l.error;
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["fault_plan"]["crashes"][0].erase("down_ns"); }),
                        "fault_plan.crashes[0].down_ns"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["fault_plan"]["partitions"][0]["side_a"] = json::array({999}); }),
                        "fault_plan.partitions[0].side_a"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["fault_plan"]["clocks"][0]["drift_ppm"] = 200000; }),
                        "fault_plan.clocks[0].drift_ppm"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["fault_plan"]["network"]["drop_ppm"] = 1000001; }),
                        "fault_plan.network.drop_ppm"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["fault_plan"].erase("network"); }),
                        "'fault_plan.network'"));
}

TEST_F(FailureFileTest, UnknownViolationProperty) {
  std::string err = ResealedErrorOf([](json& d) { d["violation"]["property"] = "happiness"; });
  EXPECT_TRUE(HasSubstr(err, "'violation.property'"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d.erase("violation"); }), "'violation'"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["violation"].erase("message"); }),
                        "'violation.message'"));
}

TEST_F(FailureFileTest, WrongVersionOrFormat) {
  std::string err = ResealedErrorOf([](json& d) { d["version"] = kFailureFileVersion + 1; });
  EXPECT_TRUE(HasSubstr(err, "version"));
  EXPECT_TRUE(HasSubstr(err, std::to_string(kFailureFileVersion + 1)));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["version"] = "1"; }), "'version'"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["format"] = "something-else"; }), "'format'"));
}

TEST_F(FailureFileTest, BadTraceHash) {
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["trace_hash"] = "XYZ"; }), "'trace_hash'"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d["trace_hash"] = "ABCDEF0123456789"; }), "'trace_hash'"));
  EXPECT_TRUE(HasSubstr(ResealedErrorOf([](json& d) { d.erase("trace_hash"); }), "'trace_hash'"));
}

TEST_F(FailureFileTest, InvalidScenarioInside) {
  std::string err = ResealedErrorOf([](json& d) { d["scenario"]["cluster"]["partitions"] = 0; });
  EXPECT_TRUE(HasSubstr(err, "scenario"));
  EXPECT_TRUE(HasSubstr(err, "cluster.partitions"));
  err = ResealedErrorOf([](json& d) { d["scenario"]["cluster"]["bogus"] = 1; });
  EXPECT_TRUE(HasSubstr(err, "cluster.bogus"));
}

// --- files on disk --------------------------------------------------------------

TEST_F(FailureFileTest, TruncatedFileIsNotValidJson) {
  std::string text = doc_->dump(1);
  std::string path = TempPath("truncated.json");
  std::ofstream(path) << text.substr(0, text.size() / 2);
  FailureLoad l = load_failure_file(path);
  EXPECT_FALSE(l.file.has_value());
  EXPECT_TRUE(HasSubstr(l.error, "not valid JSON"));
  EXPECT_TRUE(HasSubstr(l.error, path));
  std::remove(path.c_str());
}

TEST_F(FailureFileTest, EditedFileOnDiskFailsTheChecksum) {
  json doc = *doc_;
  doc["seed"] = 8;
  std::string path = TempPath("edited.json");
  std::ofstream(path) << doc.dump(1);
  FailureLoad l = load_failure_file(path);
  EXPECT_FALSE(l.file.has_value());
  EXPECT_TRUE(HasSubstr(l.error, "checksum"));
  EXPECT_TRUE(HasSubstr(l.error, path));
  std::remove(path.c_str());
}

TEST(FailureFile, MissingFileIsNamed) {
  std::string path = TempPath("does_not_exist.json");
  FailureLoad l = load_failure_file(path);
  EXPECT_FALSE(l.file.has_value());
  EXPECT_TRUE(HasSubstr(l.error, path));
}

// --- round trip of every built-in scenario's generated spec -----------------------

// A stand-in result with one violation, so failure_to_json writes a full file
// without running the simulation.
RunResult FakeFailure() {
  RunResult r;
  r.ok = false;
  r.violations.push_back(Violation{Property::kLiveness, 123, {}, "stand-in", {}});
  r.trace_hash = 0x0123456789abcdefULL;
  return r;
}

TEST(FailureFileRoundTrip, EveryBuiltinScenarioAndSeveralSeeds) {
  for (const auto& [name, desc] : builtin_scenarios()) {
    Scenario s = LoadScenario(name);
    for (uint64_t seed : {0ULL, 1ULL, 2ULL, 3ULL, 1000ULL, 18446744073709551615ULL}) {
      SCOPED_TRACE(name + " seed " + std::to_string(seed));
      RunSpec spec = make_spec(s, seed);
      json doc = failure_to_json(spec, FakeFailure());
      FailureLoad l = failure_from_json(json::parse(doc.dump(1)));
      ASSERT_TRUE(l.file.has_value()) << l.error;
      ExpectSameSpec(spec, l.file->spec);
      EXPECT_EQ(l.file->property, Property::kLiveness);
      EXPECT_EQ(l.file->trace_hash, 0x0123456789abcdefULL);
    }
  }
}

// Swarm scales rates by up to x2; every generated plan must still load back.
TEST(FailureFileRoundTrip, SwarmWithHighRatesRoundTrips) {
  Scenario s = LoadScenario("swarm", {"faults.drop_probability=0.6", "faults.duplicate_probability=0.6",
                                      "faults.tail_probability=0.6"});
  for (uint64_t seed = 0; seed < 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RunSpec spec = make_spec(s, seed);
    FailureLoad l = failure_from_json(failure_to_json(spec, FakeFailure()));
    ASSERT_TRUE(l.file.has_value()) << l.error;
    ExpectSameSpec(spec, l.file->spec);
  }
}

TEST(FailureFileRoundTrip, OverriddenScenarioIsKept) {
  Scenario s = LoadScenario("chaos", {"cluster.partitions=7", "cluster.currencies=[\"KWD\",\"JPY\"]",
                                      "cluster.initial_balance=\"25\"", "faults.crash_targets=partitions"});
  RunSpec spec = make_spec(s, 11);
  FailureLoad l = failure_from_json(failure_to_json(spec, FakeFailure()));
  ASSERT_TRUE(l.file.has_value()) << l.error;
  ExpectSameSpec(spec, l.file->spec);
  EXPECT_EQ(l.file->spec.scenario.sim.cluster.partitions, 7u);
  EXPECT_EQ(l.file->spec.scenario.knobs.crash_targets, FaultKnobs::Targets::kPartitions);
}

}  // namespace
}  // namespace ws
