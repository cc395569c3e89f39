// Unit tests for properties/timeline (the plain-text sequence diagram) and
// properties/perfetto (Chrome trace-event JSON), on the records of real runs:
// a wrong Try order that violates conservation, and partition crashes.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "properties/perfetto.h"
#include "properties/runner.h"
#include "properties/timeline.h"
#include "scenarios/scenario.h"

namespace ws {
namespace {

using nlohmann::json;

struct Recorded {
  Scenario scenario;
  RunResult result;
  std::vector<TraceRecord> records;
};

Recorded Record(const std::string& name, const std::vector<std::string>& sets, uint64_t seed) {
  Recorded r;
  ScenarioLoad l = load_scenario(name, sets);
  EXPECT_TRUE(l.scenario.has_value()) << name << ": " << l.error;
  r.scenario = l.scenario.value_or(Scenario{});
  RunSpec spec = make_spec(r.scenario, seed);
  RunOptions o;
  o.records = &r.records;
  r.result = run_spec(spec, o);
  return r;
}

// The smoke scenario with a wrong Try order: fails conservation.
const Recorded& Failing() {
  static const Recorded r = Record("smoke", {"protocol.try_order=credit_first"}, 0);
  return r;
}

// A smoke run that passes: many rows, a crash, a partition, the heal.
const Recorded& Passing() {
  static const Recorded r = Record("smoke", {}, 7);
  return r;
}

// A shard-crash run in which partitions really crashed.
const Recorded& Crashing() {
  static const Recorded r = [] {
    for (uint64_t seed = 0; seed < 50; ++seed) {
      Recorded c = Record("shard-crash", {}, seed);
      if (c.result.stats.crashes > 0) return c;
    }
    ADD_FAILURE() << "no shard-crash seed in 0..49 crashed a node";
    return Recorded{};
  }();
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) v.push_back(line);
  return v;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// An event row starts with its time in ms (3 decimals); the header, the
// "earlier rows" note and the violation marker do not.
bool IsRow(const std::string& line) {
  size_t i = line.find_first_not_of(' ');
  if (i == std::string::npos || !IsDigit(line[i])) return false;
  while (i < line.size() && IsDigit(line[i])) ++i;
  if (i + 4 >= line.size() || line[i] != '.') return false;
  return IsDigit(line[i + 1]) && IsDigit(line[i + 2]) && IsDigit(line[i + 3]) && line[i + 4] == ' ';
}
double RowTime(const std::string& line) { return std::stod(line); }

// o--->  or  <---o
bool HasArrow(const std::string& line) {
  for (size_t i = 0; i + 2 < line.size(); ++i) {
    char head = line[i] == 'o' ? '>' : line[i] == '<' ? 'o' : 0;
    if (!head || line[i + 1] != '-') continue;
    size_t j = i + 1;
    while (j < line.size() && line[j] == '-') ++j;
    if (j < line.size() && line[j] == head) return true;
  }
  return false;
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> v;
  std::istringstream in(line);
  for (std::string w; in >> w;) v.push_back(w);
  return v;
}

// p0.., c0.., k0..
bool IsNodeName(const std::string& w) {
  return w.size() >= 2 && (w[0] == 'p' || w[0] == 'c' || w[0] == 'k') &&
         std::all_of(w.begin() + 1, w.end(), IsDigit);
}

size_t CountMessages(const std::vector<TraceRecord>& recs) {
  return static_cast<size_t>(std::count_if(recs.begin(), recs.end(), [](const TraceRecord& r) {
    return r.kind == TraceKind::kDeliver;
  }));
}

TEST(Timeline, FailingRunEndsWithTheViolation) {
  const Recorded& f = Failing();
  ASSERT_FALSE(f.result.ok);
  ASSERT_FALSE(f.result.violations.empty());
  ASSERT_FALSE(f.records.empty());
  const Violation& v = f.result.violations.front();
  TimelineOptions opt;
  opt.max_rows = 4;
  std::string text = render_timeline(f.scenario.sim.cluster, f.records, &v, opt);
  std::vector<std::string> lines = Lines(text);
  ASSERT_GE(lines.size(), 3u) << text;

  // Header: "ms" and the short names of the nodes in the rows.
  EXPECT_NE(lines.front().find("ms"), std::string::npos) << text;
  std::vector<std::string> header = Words(lines.front());
  ASSERT_GE(header.size(), 3u) << text;  // "ms" and at least a sender and a receiver
  EXPECT_EQ(header[0], "ms");
  for (size_t i = 1; i < header.size(); ++i) EXPECT_TRUE(IsNodeName(header[i])) << header[i];

  // Last line: the violation marker.
  std::string marker = std::string("!!!! VIOLATION ") + to_string(v.property) + " at ";
  EXPECT_EQ(lines.back().rfind(marker, 0), 0u) << text;
  EXPECT_NE(lines.back().find(" ms: " + v.message), std::string::npos) << text;

  size_t rows = 0, arrows = 0;
  for (const std::string& l : lines) {
    if (!IsRow(l)) continue;
    ++rows;
    arrows += HasArrow(l);
    EXPECT_LE(RowTime(l), static_cast<double>(v.time) / 1e6 + 1e-9) << l;
  }
  EXPECT_GT(rows, 0u);
  EXPECT_LE(rows, opt.max_rows) << text;
  EXPECT_GT(arrows, 0u) << text;
  // Rows about the violation's transaction are starred.
  EXPECT_NE(text.find(" * "), std::string::npos) << text;
}

TEST(Timeline, ShowsAtMostMaxRowsAndSaysHowManyAreLeftOut) {
  const Recorded& p = Passing();
  ASSERT_GT(CountMessages(p.records), 100u);
  for (size_t max_rows : {size_t{1}, size_t{20}, size_t{60}}) {
    TimelineOptions opt;
    opt.max_rows = max_rows;
    std::string text = render_timeline(p.scenario.sim.cluster, p.records, nullptr, opt);
    std::vector<std::string> lines = Lines(text);
    size_t rows = static_cast<size_t>(std::count_if(lines.begin(), lines.end(), IsRow));
    EXPECT_EQ(rows, max_rows) << text;
    EXPECT_NE(text.find("earlier rows not shown"), std::string::npos) << text;
    EXPECT_EQ(text.find("VIOLATION"), std::string::npos) << text;
  }
  // The last row is the last event shown by default.
  TimelineOptions opt;
  std::vector<std::string> lines = Lines(render_timeline(p.scenario.sim.cluster, p.records, nullptr, opt));
  auto last = std::find_if(p.records.rbegin(), p.records.rend(), [](const TraceRecord& r) {
    return r.kind != TraceKind::kTimer && r.kind != TraceKind::kSync;
  });
  ASSERT_NE(last, p.records.rend());
  EXPECT_NEAR(RowTime(lines.back()), static_cast<double>(last->t) / 1e6, 1e-3);
}

TEST(Timeline, HealIsAFullWidthRow) {
  const Recorded& p = Passing();
  ASSERT_TRUE(std::any_of(p.records.begin(), p.records.end(),
                          [](const TraceRecord& r) { return r.kind == TraceKind::kHeal; }))
      << "the run stopped before the heal";
  TimelineOptions opt;
  opt.max_rows = 0;  // everything
  std::string text = render_timeline(p.scenario.sim.cluster, p.records, nullptr, opt);
  size_t heal_rows = 0;
  for (const std::string& l : Lines(text)) {
    if (l.find(" heal ") == std::string::npos) continue;
    ++heal_rows;
    EXPECT_TRUE(IsRow(l)) << l;
    std::vector<std::string> w = Words(l);
    ASSERT_EQ(w.size(), 4u) << l;  // time, =====, heal, =====
    EXPECT_EQ(w[2], "heal");
    EXPECT_GE(w[1].size(), 10u);
    EXPECT_EQ(w[1].find_first_not_of('='), std::string::npos) << l;
    EXPECT_EQ(w[1], w[3]);
  }
  EXPECT_EQ(heal_rows, 1u) << text.substr(0, 2000);
}

TEST(Timeline, FocusKeepsOneTransaction) {
  const Recorded& p = Passing();
  // A transaction with many messages.
  std::map<TxId, size_t> per_tx;
  for (const TraceRecord& r : p.records)
    if (r.kind == TraceKind::kDeliver && !r.tx.is_nil()) ++per_tx[r.tx];
  ASSERT_FALSE(per_tx.empty());
  TxId tx = std::max_element(per_tx.begin(), per_tx.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; })
                ->first;
  std::string short_tx = format_txid(tx).substr(0, 8);

  TimelineOptions opt;
  opt.max_rows = 0;
  opt.focus = tx;
  std::string text = render_timeline(p.scenario.sim.cluster, p.records, nullptr, opt);
  size_t message_rows = 0;
  for (const std::string& l : Lines(text)) {
    if (!IsRow(l)) continue;
    bool node_event = l.find("crash ") != std::string::npos || l.find("restart ") != std::string::npos ||
                      l.find("torn tail ") != std::string::npos || l.find(" heal ") != std::string::npos;
    if (node_event) continue;
    ++message_rows;
    EXPECT_NE(l.find(short_tx), std::string::npos) << l;
  }
  // Every delivery of the tx is there (transfer requests carry no tx of their own
  // and are matched through their request number, so there can be more).
  EXPECT_GE(message_rows, per_tx[tx]) << text;
  EXPECT_NE(text.find("transfer " + short_tx), std::string::npos) << text;
}

TEST(Timeline, InternalEventsOnlyOnRequest) {
  const Recorded& p = Passing();
  TimelineOptions opt;
  opt.max_rows = 400;
  std::string quiet = render_timeline(p.scenario.sim.cluster, p.records, nullptr, opt);
  EXPECT_EQ(quiet.find("timer "), std::string::npos);
  EXPECT_EQ(quiet.find("sync "), std::string::npos);
  opt.show_internal = true;
  std::string loud = render_timeline(p.scenario.sim.cluster, p.records, nullptr, opt);
  EXPECT_NE(loud.find("sync "), std::string::npos);
}

// With groups: a new leader is a row naming its term; Raft's own messages
// are arrows only when asked for, labelled with type and term; a group's
// replicas stand side by side.
TEST(Timeline, RaftMessagesOnRequest) {
  const Recorded g = Record("replica-crash", {}, 1);
  ASSERT_TRUE(g.result.ok);
  TimelineOptions opt;
  opt.max_rows = 0;
  const std::string quiet = render_timeline(g.scenario.sim.cluster, g.records, nullptr, opt);
  EXPECT_NE(quiet.find("leader p"), std::string::npos);
  EXPECT_NE(quiet.find(" (term 1)"), std::string::npos);
  EXPECT_EQ(quiet.find("append t"), std::string::npos);
  opt.show_raft = true;
  const std::string loud = render_timeline(g.scenario.sim.cluster, g.records, nullptr, opt);
  EXPECT_NE(loud.find("append t1"), std::string::npos);
  EXPECT_NE(loud.find("append_reply t1"), std::string::npos);
  EXPECT_NE(loud.find("request_vote t1"), std::string::npos);
  size_t arrows = 0, lost = 0;
  for (const std::string& l : Lines(loud)) {
    if (l.find("append t") == std::string::npos) continue;
    ++arrows;
    EXPECT_TRUE(l.find('o') != std::string::npos) << l;
    if (l.find("[lost]") != std::string::npos) {
      ++lost;
      EXPECT_NE(l.find('x'), std::string::npos) << l;
    }
  }
  EXPECT_GT(arrows, 100u);
  EXPECT_GT(lost, 0u) << "replica-crash seed 1 loses Appends to crashed replicas";
  const std::string header = Lines(loud).front();
  const size_t p0 = header.find(" p0 "), p01 = header.find(" p0.1 "), p02 = header.find(" p0.2 "),
               p1 = header.find(" p1 ");
  ASSERT_NE(p0, std::string::npos) << header;
  ASSERT_NE(p1, std::string::npos) << header;
  EXPECT_LT(p0, p01) << header;
  EXPECT_LT(p01, p02) << header;
  EXPECT_LT(p02, p1) << header;
}

TEST(Timeline, NoRecords) {
  ClusterConfig c;
  std::string text = render_timeline(c, {}, nullptr);
  EXPECT_EQ(Lines(text).size(), 1u) << text;  // the header only
  Violation v;
  v.property = Property::kLiveness;
  v.time = 5 * kMillisecond;
  v.message = "stuck";
  text = render_timeline(c, {}, &v);
  EXPECT_EQ(Lines(text).back(), "!!!! VIOLATION liveness at 5.000 ms: stuck");
}

TEST(Timeline, CrashesAreMarked) {
  const Recorded& c = Crashing();
  ASSERT_GT(c.result.stats.crashes, 0u);
  TimelineOptions opt;
  opt.max_rows = 0;
  std::string text = render_timeline(c.scenario.sim.cluster, c.records, nullptr, opt);
  std::vector<std::string> lines = Lines(text);
  ASSERT_FALSE(lines.empty());
  const std::string& header = lines.front();
  // The X sits on the crashed node's lifeline, under its name in the header.
  auto lifeline = [&](const std::string& name) -> size_t {
    size_t at = header.find(" " + name);
    while (at != std::string::npos && at + 1 + name.size() < header.size() &&
           header[at + 1 + name.size()] != ' ')
      at = header.find(" " + name, at + 1);
    return at == std::string::npos ? at : at + 1 + (name.size() - 1) / 2;
  };
  size_t crash_rows = 0, restart_rows = 0;
  for (const std::string& l : lines) {
    size_t at = l.find("  crash ");
    if (at != std::string::npos) {
      ++crash_rows;
      std::string who = Words(l.substr(at))[1];
      EXPECT_TRUE(IsNodeName(who)) << l;
      size_t col = lifeline(who);
      ASSERT_NE(col, std::string::npos) << header;
      ASSERT_LT(col, l.size());
      EXPECT_EQ(l[col], 'X') << header << "\n" << l;
    }
    if (l.find("^ restart ") != std::string::npos) ++restart_rows;
  }
  EXPECT_EQ(crash_rows, c.result.stats.crashes) << text.substr(0, 3000);
  EXPECT_GT(restart_rows, 0u);
}

// ---- perfetto ----

json Perfetto(const Recorded& r) {
  std::ostringstream out;
  write_perfetto(out, r.scenario.sim.cluster, r.records, r.result.violations);
  json doc = json::parse(out.str(), nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << out.str().substr(0, 2000);
  return doc;
}

void ExpectWellFormed(const json& doc, const ClusterConfig& cluster) {
  ASSERT_TRUE(doc.is_object());
  ASSERT_TRUE(doc.contains("traceEvents"));
  ASSERT_TRUE(doc["traceEvents"].is_array());
  EXPECT_EQ(doc.value("displayTimeUnit", ""), "ns");
  std::map<int64_t, std::string> thread_names;
  bool process_named = false;
  for (const json& e : doc["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph") && e.contains("name") && e.contains("pid")) << e.dump();
    if (e["ph"] != "M") {
      ASSERT_TRUE(e["ts"].is_number()) << e.dump();
    }
    if (e["ph"] == "M" && e["name"] == "thread_name") thread_names[e["tid"].get<int64_t>()] = e["args"]["name"];
    if (e["ph"] == "M" && e["name"] == "process_name") process_named = e["args"]["name"] == "walletsim";
  }
  EXPECT_TRUE(process_named);
  for (NodeId n = 0; n < cluster.node_count(); ++n) {
    ASSERT_TRUE(thread_names.count(static_cast<int64_t>(n) + 1)) << "no track for node " << n;
    EXPECT_EQ(thread_names[static_cast<int64_t>(n) + 1], node_long_name(cluster, n));
  }
}

TEST(Perfetto, FailingRunIsValidTraceJson) {
  const Recorded& f = Failing();
  json doc = Perfetto(f);
  ExpectWellFormed(doc, f.scenario.sim.cluster);
  EXPECT_EQ(node_long_name(f.scenario.sim.cluster, 0), "partition 0");
  EXPECT_EQ(node_long_name(f.scenario.sim.cluster, f.scenario.sim.cluster.partitions), "coordinator 0");
  EXPECT_EQ(node_long_name(f.scenario.sim.cluster, f.scenario.sim.cluster.client_node(0)), "client 0");

  size_t slices = 0, violations = 0;
  for (const json& e : doc["traceEvents"]) {
    if (e["ph"] == "X") ++slices;
    if (e["ph"] == "i" && e["name"] == std::string("VIOLATION ") + to_string(f.result.violations[0].property)) {
      ++violations;
      EXPECT_EQ(e["s"], "g");
      EXPECT_EQ(e["args"]["message"], f.result.violations[0].message);
      EXPECT_DOUBLE_EQ(e["ts"].get<double>(), static_cast<double>(f.result.violations[0].time) / 1000.0);
    }
  }
  EXPECT_GT(slices, 0u);
  EXPECT_EQ(violations, 1u);
}

TEST(Perfetto, SlicesDoNotOverlapOnATrack) {
  const Recorded& p = Passing();
  json doc = Perfetto(p);
  ExpectWellFormed(doc, p.scenario.sim.cluster);
  std::map<int64_t, double> last_start, last_end;
  size_t deliveries = 0;
  for (const json& e : doc["traceEvents"]) {
    if (e["ph"] != "X") continue;
    int64_t tid = e["tid"];
    double ts = e["ts"], dur = e["dur"];
    EXPECT_GT(dur, 0.0) << e.dump();
    if (last_start.count(tid)) {
      EXPECT_GE(ts, last_start[tid]) << e.dump();
      EXPECT_GE(ts + 1e-6, last_end[tid]) << e.dump();
    }
    last_start[tid] = ts;
    last_end[tid] = ts + dur;
    if (e["cat"] == "msg") {
      ++deliveries;
      EXPECT_TRUE(e["args"].contains("from")) << e.dump();
      EXPECT_TRUE(e["args"].contains("tx")) << e.dump();
    }
  }
  EXPECT_EQ(deliveries, CountMessages(p.records));
}

TEST(Perfetto, OneAsyncSlicePerTransaction) {
  const Recorded& p = Passing();
  json doc = Perfetto(p);
  std::map<std::string, double> begin;
  std::set<std::string> ended;
  for (const json& e : doc["traceEvents"]) {
    if (e["ph"] == "b") {
      EXPECT_EQ(e["cat"], "tx");
      EXPECT_TRUE(begin.emplace(e["id"].get<std::string>(), e["ts"].get<double>()).second) << e.dump();
      EXPECT_EQ(e["name"].get<std::string>().rfind("tx ", 0), 0u);
    } else if (e["ph"] == "e") {
      std::string id = e["id"];
      ASSERT_TRUE(begin.count(id)) << e.dump();
      EXPECT_GE(e["ts"].get<double>(), begin[id]);
      EXPECT_TRUE(ended.insert(id).second);
    }
  }
  EXPECT_GT(begin.size(), 50u);
  EXPECT_EQ(begin.size(), ended.size());
}

TEST(Perfetto, CrashesAreInstants) {
  const Recorded& c = Crashing();
  json doc = Perfetto(c);
  ExpectWellFormed(doc, c.scenario.sim.cluster);
  size_t crashes = 0, restarts = 0, heals = 0;
  for (const json& e : doc["traceEvents"]) {
    if (e["ph"] != "i") continue;
    if (e["name"] == "crash") {
      ++crashes;
      EXPECT_EQ(e["s"], "t");
      EXPECT_LE(e["tid"].get<int64_t>(), static_cast<int64_t>(c.scenario.sim.cluster.partitions));
    }
    restarts += e["name"] == "restart";
    heals += e["name"] == "heal" && e["s"] == "g";
  }
  EXPECT_EQ(crashes, c.result.stats.crashes);
  EXPECT_GT(restarts, 0u);
  EXPECT_EQ(heals, 1u);
}

TEST(Perfetto, NoRecordsIsStillValid) {
  ClusterConfig c;
  std::ostringstream out;
  write_perfetto(out, c, {}, {});
  json doc = json::parse(out.str(), nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << out.str();
  ExpectWellFormed(doc, c);
}

}  // namespace
}  // namespace ws
