#include "properties/runner.h"

#include <cstdio>

namespace ws {

std::string hex64(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

RunSpec make_spec(const Scenario& s, uint64_t seed) {
  RunSpec spec;
  spec.scenario = s;
  spec.seed = seed;
  spec.workload = generate_workload(s.sim.cluster, s.workload, seed);
  spec.plan = generate_fault_plan(s.profile, s.knobs, s.sim.cluster, s.sim.fault_phase, seed);
  return spec;
}

namespace {

RunResult run_once(const RunSpec& spec, const RunOptions& opt) {
  SimConfig cfg = spec.scenario.sim;
  cfg.cluster.bugs = opt.bugs;
  Simulator sim(cfg, spec.seed, spec.workload, spec.plan);
  Checker checker(sim.config(), spec.workload, opt.stop_at_first);
  checker.attach(&sim);
  sim.set_observer(&checker);
  if (opt.trace) sim.set_trace_sink([out = opt.trace](const TraceRecord& r) { *out << trace_json(r) << '\n'; });
  RunResult res;
  res.stats = sim.run();
  if (!checker.should_stop()) {
    sim.flush_all();
    checker.finish(sim, res.stats);
  }
  res.violations = checker.violations();
  res.ok = res.violations.empty();
  res.trace_hash = sim.trace_hash();
  for (const auto& [id, h] : checker.history()) {
    if (h.net_debit() == 1 && h.net_credit() == 1) ++res.committed;
    else if (h.begun && h.decision == 0) ++res.aborted;
  }
  for (const RequestRecord& r : sim.requests()) res.rejected += r.answer == Outcome::kRejected;
  res.requests = spec.workload.requests.size();
  for (const TraceRecord& r : sim.recent().last(24)) res.timeline.push_back(trace_text(r));
  return res;
}

}  // namespace

RunResult run_spec(const RunSpec& spec, const RunOptions& opt) {
  RunResult res = run_once(spec, opt);
  if (opt.check_determinism) {
    RunOptions again = opt;
    again.trace = nullptr;
    RunResult second = run_once(spec, again);
    if (second.trace_hash != res.trace_hash) {
      res.violations.push_back(Violation{
          Property::kDeterminism, res.stats.end_time, {},
          "the same seed gave two different trace hashes: " + hex64(res.trace_hash) + " then " +
              hex64(second.trace_hash),
          {}});
      res.ok = false;
    }
  }
  return res;
}

}  // namespace ws
