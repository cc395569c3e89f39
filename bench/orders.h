// `walletsim orders`: the design's table of TC/C Try orders, found by
// exploration. Each order runs the same seeds; a failing order's lowest
// failing seed is shrunk to a minimal counterexample.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "properties/explore.h"

namespace ws {

struct OrderRow {
  TryOrder order = TryOrder::kDebitFirst;
  uint64_t seeds = 0;
  uint64_t violations = 0;
  uint64_t first_bad = UINT64_MAX;  // lowest failing seed
  std::string property;             // its violated property
  std::string minimal = "-";        // the shrunk counterexample, readable
  size_t minimal_requests = 0;
};

// progress(done, violations): seeds run so far over all orders, and the
// violations among them; called from the worker threads.
std::vector<OrderRow> try_orders(const Scenario& base, SeedRange seeds, unsigned jobs,
                                 const std::function<void(uint64_t, uint64_t)>& progress = {});

}  // namespace ws
