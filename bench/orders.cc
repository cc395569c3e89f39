#include "bench/orders.h"

#include <mutex>

#include "properties/parallel.h"
#include "properties/runner.h"
#include "properties/shrink.h"

namespace ws {

std::vector<OrderRow> try_orders(const Scenario& base, SeedRange seeds, unsigned jobs,
                                 const std::function<void(uint64_t, uint64_t)>& progress) {
  std::vector<OrderRow> rows;
  std::mutex mu;
  uint64_t done = 0, violations = 0;
  for (TryOrder order : {TryOrder::kDebitFirst, TryOrder::kCreditFirst, TryOrder::kBothInTry}) {
    ScenarioLoad sl =
        scenario_from_json(base.doc, {std::string("protocol.try_order=") + to_string(order)});
    const Scenario s = *sl.scenario;
    OrderRow row;
    row.order = order;
    row.seeds = seeds.size();
    // Seeds finish in any order; the row keeps the lowest failing one.
    for_each_seed(seeds.first, seeds.last, jobs, [&](uint64_t seed) {
      RunResult r = run_spec(make_streamed_spec(s, seed));
      std::lock_guard<std::mutex> lock(mu);
      ++done;
      if (!r.ok) {
        ++violations;
        ++row.violations;
        if (seed < row.first_bad) {
          row.first_bad = seed;
          row.property = to_string(r.violations.front().property);
        }
      }
      if (progress) progress(done, violations);
    });
    if (row.violations > 0) {
      ShrinkResult sr = shrink(make_spec(s, row.first_bad), *parse_property(row.property));
      row.minimal_requests = sr.after.requests;
      row.minimal = std::to_string(sr.after.requests) + " transfer(s), " +
                    std::to_string(sr.after.accounts) + " accounts, " +
                    std::to_string(sr.after.crashes + sr.after.partitions) + " faults";
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace ws
