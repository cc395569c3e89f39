// Generates an explicit workload from a seed: valid transfers with optional
// account skew and amounts at the edges, written in every valid form;
// on-purpose duplicates; invalid requests of every kind; and reuses of a
// transaction_id that change each field in turn (from, to, amount, currency,
// or several at once).
#pragma once

#include <cstdint>

#include "sim/model.h"

namespace ws {

struct WorkloadParams {
  uint32_t transfers = 200;
  Duration duration = 200 * kMillisecond;  // requests start uniformly within it
  uint32_t hot_accounts = 0;               // the first N accounts are "hot"
  uint32_t hot_ppm = 0;                    // chance an endpoint is drawn from the hot set
  // Endpoints are drawn uniformly over accounts (each partition's load then
  // follows how many accounts hashed to it), or over partitions first and
  // then an account on it, which loads every partition evenly.
  bool by_partition = false;
  uint32_t max_amount_pct = 30;            // largest transfer, in % of the initial balance
  uint32_t duplicate_ppm = 50'000;
  uint32_t invalid_ppm = 50'000;
  uint32_t reuse_ppm = 20'000;
  // Amounts at the edges: exactly the sender's projected balance, one minor
  // unit more, the largest amount allowed, and (with a balance limit) exactly
  // the receiver's headroom and one unit more. "Projected" assumes every
  // earlier transfer commits, so under concurrency the edge is often but not
  // always hit exactly.
  uint32_t edge_ppm = 50'000;
};

Workload generate_workload(const ClusterConfig& cluster, const WorkloadParams& p, uint64_t seed);

}  // namespace ws
