// A run's trace as Chrome trace-event JSON, for ui.perfetto.dev and
// chrome://tracing: one track per node (deliveries, timers and log syncs as
// short slices; crashes, restarts, torn tails and lost messages as instants),
// one async slice per transaction, global instants for the heal and for every
// violation. Timestamps are simulated time in microseconds.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "core/cluster.h"
#include "properties/checker.h"
#include "sim/trace.h"

namespace ws {

// Long node name, used as the track name: "partition 0", "coordinator 1", "client 2".
std::string node_long_name(const ClusterConfig& cluster, NodeId n);

// Writes {"traceEvents":[...],"displayTimeUnit":"ns"}; valid JSON even for no records.
void write_perfetto(std::ostream& out, const ClusterConfig& cluster,
                    const std::vector<TraceRecord>& records, const std::vector<Violation>& violations);

}  // namespace ws
