// Text names of the engine's enums, for traces, reports and failure files.
#include "core/cluster.h"
#include "core/messages.h"

#include <iterator>

namespace ws {

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
