// Fuzz target: the scenario loader and validator (scenarios/scenario.cc,
// scenario_from_json with --set overrides), which reads scenario files and
// command-line values, and everything a failure file's scenario becomes.
//
// Input: JSON text up to the first NUL byte; each further NUL-separated
// piece is one --set "key.path=value" override, applied in order.
//
// Asserts, beyond "does not crash":
//  - a refused scenario has an error naming what is wrong: a quoted key or
//    --set argument, or the document itself;
//  - an accepted scenario holds the invariants the simulator relies on
//    (at least one partition, coordinator and client, two accounts, 1..32
//    distinct currencies with an initial and a maximum balance each, every
//    account placed, positive durations, requests inside the fault phase);
//  - its complete document loads again to the same document and the same
//    settings (loading is idempotent);
//  - for a small one (up to 2,000 transfers and 100,000 accounts), the
//    workload and fault plan of a seed can be generated from it, as
//    `walletsim run` does first, and every request is within the scenario.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/check.h"
#include "properties/runner.h"
#include "scenarios/scenario.h"

namespace {

using nlohmann::json;

void check_invariants(const ws::Scenario& s) {
  const ws::ClusterConfig& c = s.sim.cluster;
  FUZZ_CHECK(c.partitions >= 1 && c.coordinators >= 1 && c.clients >= 1 && c.accounts >= 2);
  FUZZ_CHECK(!c.currencies.empty() && c.currencies.size() <= 32);
  for (size_t i = 0; i < c.currencies.size(); ++i)
    for (size_t j = i + 1; j < c.currencies.size(); ++j)
      FUZZ_CHECK(std::string_view(c.currencies[i].code) != c.currencies[j].code);
  FUZZ_CHECK(c.initial_balance.size() == c.currencies.size());
  FUZZ_CHECK(c.max_balance.size() == c.currencies.size());
  FUZZ_CHECK(c.account_partition.size() == c.accounts && c.account_slot.size() == c.accounts);
  uint64_t placed = 0;
  for (uint32_t n : c.partition_size) placed += n;
  FUZZ_CHECK(c.partition_size.size() == c.partitions && placed == c.accounts);
  FUZZ_CHECK(s.workload.duration > 0 && s.workload.duration <= s.sim.fault_phase);
  FUZZ_CHECK(s.sim.heal_limit > 0 && c.protocol.try_timeout > 0 && c.protocol.retry_interval > 0);
  FUZZ_CHECK(s.sim.client.request_timeout > 0 && s.sim.client.max_attempts >= 1);
  FUZZ_CHECK(s.sim.network.latency > 0 && s.sim.disk.sync_latency > 0);
  FUZZ_CHECK(s.workload.max_amount_pct >= 1 && s.workload.max_amount_pct <= 100);
}

void check_same(const ws::Scenario& a, const ws::Scenario& b) {
  FUZZ_CHECK(a.doc == b.doc && a.name == b.name && a.description == b.description);
  const ws::ClusterConfig& x = a.sim.cluster;
  const ws::ClusterConfig& y = b.sim.cluster;
  FUZZ_CHECK(x.partitions == y.partitions && x.coordinators == y.coordinators &&
             x.clients == y.clients);
  FUZZ_CHECK(x.accounts == y.accounts && x.initial_balance == y.initial_balance &&
             x.max_balance == y.max_balance);
  FUZZ_CHECK(x.protocol.kind == y.protocol.kind && x.protocol.try_order == y.protocol.try_order);
  FUZZ_CHECK(a.workload.transfers == b.workload.transfers &&
             a.workload.duration == b.workload.duration);
  FUZZ_CHECK(a.profile == b.profile && a.sim.fault_phase == b.sim.fault_phase);
}

void check_spec(const ws::Scenario& s) {
  const ws::ClusterConfig& c = s.sim.cluster;
  if (s.workload.transfers > 2000 || c.accounts > 100000) return;  // keep each input fast
  ws::RunSpec spec = ws::make_spec(s, 1);
  for (const ws::PlannedRequest& r : spec.workload.requests) {
    FUZZ_CHECK(r.at >= 0 && r.at <= s.workload.duration);
    FUZZ_CHECK(r.client < c.clients);
    if (r.kind == ws::RequestKind::kValid)
      FUZZ_CHECK(r.from < c.accounts && r.to < c.accounts && r.from != r.to);
  }
  // A crash hits a server: a partition or coordinator, or, with replica
  // groups, any of their replicas.
  for (const ws::CrashFault& f : spec.plan.crashes) FUZZ_CHECK(c.is_server(f.node));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  json doc = json::parse(in.substr(0, nul), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;  // load_scenario refuses it as "not valid JSON"
  std::vector<std::string> sets;
  for (size_t at = nul; at != std::string_view::npos;) {
    size_t next = in.find('\0', at + 1);
    sets.emplace_back(
        in.substr(at + 1, next == std::string_view::npos ? std::string_view::npos : next - at - 1));
    at = next;
  }

  ws::ScenarioLoad l = ws::scenario_from_json(doc, sets);
  if (!l.scenario) {
    FUZZ_CHECK(!l.error.empty());
    FUZZ_CHECK(l.error.find('\'') != std::string::npos ||
               l.error.find("document") != std::string::npos);
    return 0;
  }
  FUZZ_CHECK(l.error.empty());
  check_invariants(*l.scenario);
  ws::ScenarioLoad again = ws::scenario_from_json(l.scenario->doc);
  FUZZ_CHECK(again.scenario.has_value());
  check_same(*l.scenario, *again.scenario);
  check_spec(*l.scenario);
  return 0;
}
