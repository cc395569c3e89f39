#include "properties/runner.h"

#include <chrono>
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

RunSpec make_streamed_spec(const Scenario& s, uint64_t seed) {
  RunSpec spec;
  spec.scenario = s;
  spec.seed = seed;
  spec.generated = true;
  spec.plan = generate_fault_plan(s.profile, s.knobs, s.sim.cluster, s.sim.fault_phase, seed);
  return spec;
}

namespace {

RunResult run_once(const RunSpec& spec, const RunOptions& opt) {
  SimConfig cfg = spec.scenario.sim;
  if (opt.bugs.any()) cfg.cluster.bugs = opt.bugs;  // a test's bugs replace the scenario's
  std::unique_ptr<RequestFeed> feed;
  if (spec.generated) {
    feed = std::make_unique<GeneratorFeed>(spec.scenario.sim.cluster, spec.scenario.workload, spec.seed);
  } else {
    feed = std::make_unique<WorkloadFeed>(spec.workload);
  }
  Simulator sim(cfg, spec.seed, *feed, spec.plan);
  Checker checker(sim.config(), opt.stop_at_first);
  checker.attach(&sim);
  sim.set_observer(&checker);
  if (opt.trace || opt.records || opt.on_record)
    sim.set_trace_sink([out = opt.trace, keep = opt.records, tap = &opt.on_record](const TraceRecord& r) {
      if (out) *out << trace_json(r) << '\n';
      if (keep) keep->push_back(r);
      if (*tap) (*tap)(r);
    });
  RunResult res;
  res.stats = sim.run();
  if (!checker.should_stop()) {
    sim.flush_all();
    checker.finish(sim, res.stats);
  }
  res.violations = checker.violations();
  res.ok = res.violations.empty();
  res.stopped_early = opt.stop_at_first && !res.ok;
  res.trace_hash = sim.trace_hash();
  res.coverage = sim.coverage();
  const RunCounts& counts = checker.counts();
  res.committed = counts.committed;
  res.aborted = counts.aborted;
  res.rejected = counts.rejected;
  res.requests = counts.requests;
  res.reads_checked = checker.reads_checked();
  res.succeeded = counts.succeeded;
  res.last_success_at = counts.last_success_at;
  res.latencies = counts.latencies;
  res.metrics = checker.metrics();
  res.peak_requests_held = sim.peak_window();
  res.peak_histories_held = checker.peak_remembered();
  res.peak_log_bytes = sim.peak_log_bytes();
  res.truncated_log_bytes = sim.truncated_bytes();
  res.busy.resize(sim.config().cluster.node_count());
  for (NodeId n = 0; n < res.busy.size(); ++n) res.busy[n] = sim.busy_time(n);
  return res;
}

}  // namespace

RunResult run_spec(const RunSpec& spec, const RunOptions& opt) {
  auto start = std::chrono::steady_clock::now();
  RunResult res = run_once(spec, opt);
  res.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (opt.check_determinism) {
    RunOptions again = opt;
    again.trace = nullptr;
    again.records = nullptr;
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
