// Text names of the engine's enums, for traces, reports and failure files.
#include "core/cluster.h"
#include "core/coverage.h"
#include "core/events.h"
#include "core/messages.h"

#include <iterator>

namespace ws {

const char* to_string(Cover c) {
  switch (c) {
    case Cover::kCancelBeforeTry: return "cancel_before_try";
    case Cover::kTryAfterCancelMarker: return "try_after_cancel_marker";
    case Cover::kTryRepeated: return "try_repeated";
    case Cover::kConfirmRepeated: return "confirm_repeated";
    case Cover::kCancelRepeated: return "cancel_repeated";
    case Cover::kTryNoFunds: return "try_no_funds";
    case Cover::kTryExactFunds: return "try_exact_funds";
    case Cover::kTryNoLimit: return "try_no_limit";
    case Cover::kTryFillsLimit: return "try_fills_limit";
    case Cover::kPrepareLocked: return "prepare_locked";
    case Cover::kSnapshotWritten: return "snapshot_written";
    case Cover::kSnapshotExtended: return "snapshot_extended";
    case Cover::kLegsForgotten: return "legs_forgotten";
    case Cover::kStaleMessageIgnored: return "stale_message_ignored";
    case Cover::kLocalTransferApplied: return "local_transfer_applied";
    case Cover::kLocalTransferRepeated: return "local_transfer_repeated";
    case Cover::kRequestRepeatedOpen: return "request_repeated_open";
    case Cover::kRequestRepeatedDecided: return "request_repeated_decided";
    case Cover::kReusedIdRefused: return "reused_id_refused";
    case Cover::kQueryBeforeRequest: return "query_before_request";
    case Cover::kRequestAfterAbsent: return "request_after_absent";
    case Cover::kQueryInProgress: return "query_in_progress";
    case Cover::kTryTimedOut: return "try_timed_out";
    case Cover::kTryResent: return "try_resent";
    case Cover::kPhase2Resent: return "phase2_resent";
    case Cover::kLateTryReply: return "late_try_reply";
    case Cover::kRecoveredUndecided: return "recovered_undecided";
    case Cover::kRecoveredDecided: return "recovered_decided";
    case Cover::kOverloadRefused: return "overload_refused";
    case Cover::kSagaCompensated: return "saga_compensated";
    case Cover::kCoordSnapshotWritten: return "coordinator_snapshot_written";
    case Cover::kRowsForgotten: return "rows_forgotten";
    case Cover::kClientResent: return "client_resent";
    case Cover::kClientRetriedOverload: return "client_retried_overload";
    case Cover::kClientQueried: return "client_queried";
    case Cover::kDuplicateSent: return "duplicate_sent";
    case Cover::kUnsyncedLost: return "unsynced_lost";
    case Cover::kTornTailRecovered: return "torn_tail_recovered";
    case Cover::kDecisionAckLost: return "decision_ack_lost";
    case Cover::kMessageDuplicated: return "message_duplicated";
    case Cover::kCutByPartition: return "cut_by_partition";
    case Cover::kLogTruncated: return "log_truncated";
    case Cover::kDiskCorrupted: return "disk_corrupted";
    case Cover::kMisdirectedWrite: return "misdirected_write";
    case Cover::kMisdirectedRead: return "misdirected_read";
    case Cover::kReadError: return "read_error";
    case Cover::kLostFsync: return "lost_fsync";
    case Cover::kDiskLost: return "disk_lost";
    case Cover::kDamageFound: return "damage_found";
    case Cover::kRepairStarted: return "repair_started";
    case Cover::kRepairDone: return "repair_done";
    case Cover::kCount: break;
  }
  return "?";
}

std::span<const EngineBugName> engine_bug_names() {
  static constexpr EngineBugName kNames[] = {
      {"lose_dedup", &EngineBugs::lose_dedup},
      {"decision_before_durable", &EngineBugs::decision_before_durable},
      {"no_ooo_marker", &EngineBugs::no_ooo_marker},
      {"confirm_twice", &EngineBugs::confirm_twice},
      {"skip_funds_check", &EngineBugs::skip_funds_check},
      {"unlogged_change", &EngineBugs::unlogged_change},
      {"reply_before_decision", &EngineBugs::reply_before_decision},
      {"no_phase2_retry", &EngineBugs::no_phase2_retry},
      {"cancel_skips_debit", &EngineBugs::cancel_skips_debit},
      {"nondeterministic", &EngineBugs::nondeterministic},
      {"twopc_no_lock", &EngineBugs::twopc_no_lock},
      {"saga_no_compensation", &EngineBugs::saga_no_compensation},
      {"dedup_amount_only", &EngineBugs::dedup_amount_only},
      {"skip_balance_limit", &EngineBugs::skip_balance_limit},
      {"misread_short_amount", &EngineBugs::misread_short_amount},
      {"credit_wrong_account", &EngineBugs::credit_wrong_account},
      {"forget_early", &EngineBugs::forget_early},
      {"ignore_watermark", &EngineBugs::ignore_watermark},
      {"local_repeat_applies", &EngineBugs::local_repeat_applies},
      {"vote_before_durable", &EngineBugs::vote_before_durable},
      {"commit_old_term_by_count", &EngineBugs::commit_old_term_by_count},
      {"no_truncate_conflict", &EngineBugs::no_truncate_conflict},
      {"fixed_election_timeout", &EngineBugs::fixed_election_timeout},
      {"answer_before_commit", &EngineBugs::answer_before_commit},
      {"read_without_check", &EngineBugs::read_without_check},
      {"checkpoint_drops_tail", &EngineBugs::checkpoint_drops_tail},
      {"corrupt_as_torn", &EngineBugs::corrupt_as_torn},
      {"empty_votes", &EngineBugs::empty_votes},
      {"skip_read_checksum", &EngineBugs::skip_read_checksum},
      {"ignore_lost_fsync", &EngineBugs::ignore_lost_fsync},
      {"ack_while_probing", &EngineBugs::ack_while_probing},
      {"prevote_elects", &EngineBugs::prevote_elects},
      {"prevote_sticky_leader", &EngineBugs::prevote_sticky_leader},
      {"quorum_contact_kept", &EngineBugs::quorum_contact_kept},
  };
  static_assert(sizeof(EngineBugs) == std::size(kNames), "every EngineBugs switch needs a name");
  return kNames;
}

bool EngineBugs::any() const {
  for (const EngineBugName& b : engine_bug_names())
    if (this->*b.flag) return true;
  return false;
}

const char* to_string(MsgKind k) {
  switch (k) {
    case MsgKind::kTransferRequest: return "transfer";
    case MsgKind::kTransferReply: return "transfer_reply";
    case MsgKind::kStatusQuery: return "status_query";
    case MsgKind::kStatusReply: return "status_reply";
    case MsgKind::kTry: return "try";
    case MsgKind::kTryReply: return "try_reply";
    case MsgKind::kConfirm: return "confirm";
    case MsgKind::kCancel: return "cancel";
    case MsgKind::kPhase2Ack: return "ack";
    case MsgKind::kLocalTransfer: return "local_transfer";
    case MsgKind::kBalanceRead: return "balance_read";
    case MsgKind::kBalanceReply: return "balance_reply";
  }
  return "?";
}

const char* to_string(Leg l) { return l == Leg::kDebit ? "debit" : "credit"; }

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::kNone: return "none";
    case Outcome::kSuccess: return "success";
    case Outcome::kFailed: return "failed";
    case Outcome::kRejected: return "rejected";
    case Outcome::kInProgress: return "in_progress";
  }
  return "?";
}

const char* to_string(Reason r) {
  switch (r) {
    case Reason::kNone: return "none";
    case Reason::kBadAmount: return "bad_amount";
    case Reason::kUnknownCurrency: return "unknown_currency";
    case Reason::kBadTxId: return "bad_transaction_id";
    case Reason::kSameAccount: return "same_account";
    case Reason::kUnknownAccount: return "unknown_account";
    case Reason::kTxIdReused: return "transaction_id_reused";
    case Reason::kInsufficientFunds: return "insufficient_funds";
    case Reason::kTimedOut: return "timed_out";
    case Reason::kNeverArrived: return "never_arrived";
    case Reason::kWrongCoordinator: return "wrong_coordinator";
    case Reason::kFieldTooLong: return "field_too_long";
    case Reason::kLocked: return "row_locked";
    case Reason::kBalanceLimit: return "balance_limit";
    case Reason::kOverloaded: return "overloaded";
    case Reason::kExpired: return "expired";
  }
  return "?";
}

const char* to_string(EventType t) {
  switch (t) {
    case EventType::kTryYes: return "try-yes";
    case EventType::kTryNo: return "try-no";
    case EventType::kConfirmed: return "confirmed";
    case EventType::kCancelled: return "cancelled";
    case EventType::kCancelMarker: return "cancel-marker";
    case EventType::kSnapshot: return "snapshot";
    case EventType::kRefused: return "refused";
    case EventType::kApplied: return "applied";
    case EventType::kLocalTransfer: return "local-transfer";
    case EventType::kBegin: return "begin";
    case EventType::kTryAnswer: return "try-answer";
    case EventType::kDecide: return "decide";
    case EventType::kAck: return "ack";
    case EventType::kAbsent: return "absent";
    case EventType::kCoordSnapshot: return "coordinator-snapshot";
  }
  return "?";
}

const char* to_string(Effect e) {
  switch (e) {
    case Effect::kNone: return "none";
    case Effect::kDebit: return "debit";
    case Effect::kCredit: return "credit";
    case Effect::kRefund: return "refund";
    case Effect::kReverse: return "reverse";
    case Effect::kMove: return "move";
  }
  return "?";
}

const char* to_string(ProtocolKind k) {
  switch (k) {
    case ProtocolKind::kTcc: return "tcc";
    case ProtocolKind::k2pc: return "2pc";
    case ProtocolKind::kSaga: return "saga";
  }
  return "?";
}

const char* to_string(TryOrder o) {
  switch (o) {
    case TryOrder::kDebitFirst: return "debit_first";
    case TryOrder::kCreditFirst: return "credit_first";
    case TryOrder::kBothInTry: return "both_in_try";
  }
  return "?";
}

}  // namespace ws
