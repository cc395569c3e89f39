// Coverage of behaviour: named points where a state machine, a client or the
// simulator takes a rare branch that the properties depend on being
// exercised ("sometimes" assertions, as FoundationDB's probes and
// Antithesis's `sometimes` do). Reaching a point proves nothing by itself;
// never reaching one over many seeds says the tests are blind there.
// The engine reports a point through Context::cover; the simulator counts
// them per run and explore counts the runs that reached each.
#pragma once

#include <array>
#include <cstdint>

namespace ws {

enum class Cover : uint8_t {
  // partition
  kCancelBeforeTry,        // a Cancel found no leg: an out-of-order marker was written
  kTryAfterCancelMarker,   // a Try (or Prepare, Saga step) came after its Cancel and was refused
  kTryRepeated,            // a Try for a leg already answered: the first answer again
  kConfirmRepeated,        // a Confirm for a leg already confirmed: acknowledged, nothing applied
  kCancelRepeated,         // a Cancel for a leg already cancelled or refused: acknowledged
  kTryNoFunds,             // a debit's Try refused for insufficient funds
  kTryExactFunds,          // a debit's Try that leaves exactly zero
  kTryNoLimit,             // a credit's Try refused by max_balance
  kTryFillsLimit,          // a credit's Try that fills the account exactly to max_balance
  kPrepareLocked,          // 2PC: a Prepare refused because the row is locked
  kSnapshotWritten,        // a partition appended a snapshot
  kSnapshotExtended,       // recovery loaded a snapshot and then applied events after it
  kLegsForgotten,          // a snapshot left out finished legs below their coordinator's low watermark
  kStaleMessageIgnored,    // a message about a forgotten leg (below the low watermark) was ignored
  kLocalTransferApplied,   // a same-partition transfer moved both balances in one local transaction
  kLocalTransferRepeated,  // a same-partition transfer already answered: the first answer again
  // coordinator
  kRequestRepeatedOpen,    // a repeated request for an undecided transfer: it waits for the decision
  kRequestRepeatedDecided, // a repeated request answered from the phase table
  kReusedIdRefused,        // a known id with different content: rejected
  kQueryBeforeRequest,     // a status query for an unknown id: an absent note was written
  kRequestAfterAbsent,     // a request that arrived after its query: failed, never arrived
  kQueryInProgress,        // a status query for an undecided transfer
  kTryTimedOut,            // no decision within the Try timeout: cancelled
  kTryResent,              // an unanswered Try resent by the timer
  kPhase2Resent,           // a Confirm or Cancel resent by the timer (its acknowledgement was lost or late)
  kLateTryReply,           // a Try answer after the decision
  kRecoveredUndecided,     // a restarted coordinator resumed an undecided transfer
  kRecoveredDecided,       // a restarted coordinator resent a decided transfer's second phase
  kOverloadRefused,        // a new transfer refused past the in-flight limit
  kSagaCompensated,        // a Saga's applied debit compensated after its credit failed
  kCoordSnapshotWritten,   // a coordinator appended a snapshot of the rows it remembers
  kRowsForgotten,          // a coordinator forgot finished rows past their retention window
  // client
  kClientResent,           // a client resent a request (same id) after its timeout
  kClientRetriedOverload,  // a client retried a request that was answered `overloaded`
  kClientQueried,          // a client's retries ran out and it asked for the status
  kDuplicateSent,          // a request sent twice on purpose
  // simulator
  kUnsyncedLost,           // a crash dropped appends that were not yet durable
  kTornTailRecovered,      // a restart found a torn record and truncated it
  kDecisionAckLost,        // a Confirm/Cancel acknowledgement was lost (dropped, cut, or its sender crashed)
  kMessageDuplicated,      // the network delivered a message twice
  kCutByPartition,         // a message dropped by a network partition
  kLogTruncated,           // a node's log was cut behind a durable snapshot
  // storage faults and repair (docs/storage-faults.md)
  kDiskCorrupted,          // bits flipped in a synced record at rest
  kMisdirectedWrite,       // a synced write landed at another offset
  kMisdirectedRead,        // a read at restart returned bytes from another offset
  kReadError,              // a read at restart failed (a latent sector error)
  kLostFsync,              // an fsync failed, its data never reached the disk
  kDiskLost,               // a replica's whole disk was replaced, empty
  kDamageFound,            // a restart found a damaged record and started a repair
  kRepairStarted,          // a replica with a non-empty log started repairing (found damage, or was still repairing)
  kRepairDone,             // a repairing replica's durable log reached what its peers reported committed
  kCount
};

constexpr int kCoverCount = static_cast<int>(Cover::kCount);
using CoverCounts = std::array<uint64_t, kCoverCount>;
const char* to_string(Cover c);

}  // namespace ws
