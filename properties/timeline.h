// A run's trace as a plain-text sequence diagram: one column per node, one row
// per event, message deliveries drawn as arrows between the columns. Used to
// read a failing run around its violation (replay, reports, tests).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/cluster.h"
#include "properties/checker.h"
#include "sim/trace.h"

namespace ws {

struct TimelineOptions {
  size_t max_rows = 60;         // event rows shown, the last ones (0: all); header and markers not counted
  std::optional<TxId> focus;    // only messages about this transaction, plus crash/restart/torn/heal
  bool show_internal = false;   // also timers and log syncs (noise, off by default)
  bool show_raft = false;       // also Raft's messages between replicas (votes, appends, replies, lost ones)
  size_t column_width = 10;     // characters per node column (at least 4)
};

// The transaction each record is about: its own tx, or for a client message
// that carries none (a transfer request names its id only as text) the tx that
// another record with the same request number carries. Nil when unknown.
std::vector<TxId> resolve_txs(const std::vector<TraceRecord>& records);

// Short node name: "p0".. partitions, "c0".. coordinators, "k0".. clients.
std::string node_short_name(const ClusterConfig& cluster, NodeId n);

// The sequence diagram of `records` (in recording order, as RunOptions::records
// collects them). With a violation, the rows shown are the last max_rows at or
// before violation->time, followed by a "!!!! VIOLATION ..." marker row, and
// rows about a transaction the violation names carry a '*' after the time.
// Lanes: o---> / <---o a delivered message (o at the sender), x at the receiver
// a dropped / cut / lost message, X crash, ^ restart, ~ torn tail, L a new
// leader (with its term), ! a disk fault or a leader cut off, * timer,
// # log sync, and a full-width "==== heal ====" row. Raft's messages, when
// shown, are arrows labelled with their type and term ("request_vote t3"). Leading rows left out
// are counted in a "... N earlier rows not shown" line under the header.
//
//           ms       p0        p1        p2        c0        c1        k2
//       67.996       |         X         |         |         |         |       crash p1
//       68.007       |         |         |         <-------------------o       transfer e418ece7 #103
//       68.244       |         x-------------------o         |         |       confirm 11208a2b credit [node down, lost]
//       68.741       |         |         o--------->         |         |       try_reply f55ead2d credit yes
//       69.723       |         |         |         o------------------->       transfer_reply e418ece7 #104 success
std::string render_timeline(const ClusterConfig& cluster, const std::vector<TraceRecord>& records,
                            const Violation* violation, const TimelineOptions& opt = {});

}  // namespace ws
