// Shrinking a failing run: from a RunSpec whose run violates a property, a
// smaller RunSpec that still violates the same property. Delta debugging
// (Zeller's ddmin) over the workload's requests and the fault plan's crashes,
// partitions and clock faults, then single-element passes: each network fault
// rate zeroed, duplicate flags cleared, fewer accounts, an earlier end of the
// fault phase. Rounds repeat until one changes nothing or the run budget is
// spent. Deterministic: the same input always gives the same output (no
// randomness, no wall clock, no unordered iteration).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "properties/runner.h"

namespace ws {

struct ShrinkOptions {
  size_t max_runs = 3000;  // simulation runs at most (the search stops when they are spent)
  std::function<void(const std::string&)> progress;  // one line per accepted step; may be empty
};

// How big a spec is, in the dimensions the shrinker reduces.
struct ShrinkSize {
  size_t requests = 0;
  size_t accounts = 0;
  size_t crashes = 0;
  size_t partitions = 0;
  size_t clocks = 0;
  size_t network_faults = 0;  // nonzero drop / duplicate / tail rates
  int64_t fault_phase_ns = 0;
  // "requests=200 accounts=24 crashes=1 partitions=1 clocks=10 network_faults=3 fault_phase=400ms"
  std::string to_string() const;
};

struct ShrinkResult {
  RunSpec spec;        // the smallest failing spec found (the input if !reproduced)
  RunResult result;    // its run: violations.front().property is the property
  ShrinkSize before, after;
  size_t runs = 0;     // simulation runs spent, the first and the last included
  bool reproduced = false;  // false: the input did not fail with the property at all
};

ShrinkSize size_of(const RunSpec& spec);

// A candidate still fails iff run_spec(candidate, base') has violations and
// the first one is `property`; base' is `base` with stop_at_first set, no
// trace or records sink, and check_determinism only for kDeterminism. `base`
// carries EngineBugs for tests.
ShrinkResult shrink(const RunSpec& failing, Property property, const ShrinkOptions& options = {},
                    const RunOptions& base = {});

}  // namespace ws
