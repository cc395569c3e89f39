// Generates an explicit workload from a seed: valid transfers with optional
// account skew, on-purpose duplicates, invalid requests of every kind, and
// reuses of a transaction_id with different content.
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
};

Workload generate_workload(const ClusterConfig& cluster, const WorkloadParams& p, uint64_t seed);

}  // namespace ws
