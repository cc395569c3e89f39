// One simulation, end to end: a RunSpec (scenario + seed + the explicit
// workload and fault plan) in, the properties' verdicts and the trace hash out.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <vector>

#include "properties/checker.h"
#include "scenarios/scenario.h"

namespace ws {

struct RunSpec {
  Scenario scenario;
  uint64_t seed = 0;
  Workload workload;
  // The workload is generated from the scenario and seed as the run
  // consumes it (`workload` stays empty): a run of any length.
  bool generated = false;
  FaultPlan plan;
};

// Generates the workload and fault plan of a seed (what explore does).
RunSpec make_spec(const Scenario& s, uint64_t seed);
// The same run, with the workload generated as it is consumed: what
// `walletsim run` uses, so its memory does not grow with its length.
RunSpec make_streamed_spec(const Scenario& s, uint64_t seed);

struct RunOptions {
  EngineBugs bugs;                 // tests: a deliberately broken engine (else the scenario's `bugs`)
  bool check_determinism = false;  // run twice and compare trace hashes
  bool stop_at_first = true;       // stop the run at the first violation
  std::ostream* trace = nullptr;   // JSON lines, one per processed event
  std::vector<TraceRecord>* records = nullptr;  // every trace record, for timelines and exports
  std::function<void(const TraceRecord&)> on_record;  // every trace record as it happens (progress)
};

struct RunResult {
  bool ok = true;
  std::vector<Violation> violations;
  bool stopped_early = false;  // the run stopped at its first violation; later checks did not run
  uint64_t trace_hash = 0;
  uint64_t committed = 0;   // transfers applied (debited and credited)
  uint64_t aborted = 0;     // transfers begun and cancelled
  uint64_t rejected = 0;    // requests answered "rejected"
  uint64_t requests = 0;
  uint64_t reads_checked = 0;  // balance read answers judged for linearizability
  SimStats stats;
  double wall_seconds = 0;            // of the first run only; output, never input
  RunMetrics metrics;
  std::vector<Duration> latencies;    // valid requests: first send to final answer
  uint64_t succeeded = 0;      // valid requests answered success
  Time last_success_at = 0;    // when the last of them was answered
  std::vector<Duration> busy;         // per node: simulated CPU time spent (service-time model)
  CoverCounts coverage{};             // how often each named rare branch was taken
  uint64_t peak_requests_held = 0;    // most requests the simulator held at once
  uint64_t peak_histories_held = 0;   // most transaction histories the checker held at once
  uint64_t peak_log_bytes = 0;        // the longest any node's log has been
  uint64_t truncated_log_bytes = 0;   // cut from the front of logs behind snapshots (the archive)
};

RunResult run_spec(const RunSpec& spec, const RunOptions& opt = {});

std::string hex64(uint64_t v);

}  // namespace ws
