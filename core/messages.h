// Messages exchanged by clients, coordinators and partition nodes. One flat,
// fixed-size, trivially copyable struct, so the simulator's network can keep
// messages in preallocated slots and the real runtime can frame them as bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "core/money.h"
#include "core/txid.h"
#include "core/types.h"

namespace ws {

enum class MsgKind : uint8_t {
  kTransferRequest,  // client -> coordinator: the API request, as text
  kTransferReply,    // coordinator -> client
  kStatusQuery,      // client -> coordinator: final status of a transaction id
  kStatusReply,      // coordinator -> client
  kTry,              // coordinator -> partition: TC/C Try, 2PC Prepare, Saga step
  kTryReply,         // partition -> coordinator: yes / no
  kConfirm,          // coordinator -> partition: TC/C Confirm, 2PC Commit
  kCancel,           // coordinator -> partition: TC/C Cancel, 2PC Abort, Saga compensation
  kPhase2Ack,        // partition -> coordinator: applied, or refused
  kLocalTransfer,    // coordinator -> partition: both accounts are there; one local transaction
  kBalanceRead,      // client -> partition: an account's balance (linearizable)
  kBalanceReply,     // partition -> client: amount is the balance
};
constexpr int kMsgKindCount = 12;
const char* to_string(MsgKind k);

enum class Leg : uint8_t { kDebit = 0, kCredit = 1 };
const char* to_string(Leg l);

// What a client is told. kSuccess / kFailed are final outcomes of a valid
// transfer; kRejected means the request itself was invalid and nothing changed.
enum class Outcome : uint8_t { kNone, kSuccess, kFailed, kRejected, kInProgress };
const char* to_string(Outcome o);

// Why a transfer failed or was rejected; echoed to the client.
enum class Reason : uint8_t {
  kNone,
  kBadAmount,
  kUnknownCurrency,
  kBadTxId,
  kSameAccount,
  kUnknownAccount,
  kTxIdReused,          // same transaction_id, different content
  kInsufficientFunds,   // a Try answered no
  kTimedOut,            // Try did not complete in time, cancelled
  kNeverArrived,        // status queried before the request reached us
  kWrongCoordinator,
  kFieldTooLong,
  kLocked,        // 2PC: a balance row is locked by another prepared transfer
  kBalanceLimit,  // the credit would take the balance past the limit
  kOverloaded,    // turned away by admission control before anything was recorded; retry
  kExpired,       // asked about an id past its retention window: nothing was done or recorded
};
const char* to_string(Reason r);

// The request exactly as a client typed it: text fields are validated by the
// coordinator, never by the client, so invalid input reaches the engine.
// Fields longer than their slot are cut to fit with `overlong` set, and the
// coordinator rejects such a request naming the field.
struct TransferText {
  char txid[40];
  char amount[32];
  char currency[8];
  bool overlong;
  AccountId from;
  AccountId to;
};

struct Message {
  MsgKind kind;
  Leg leg;
  Outcome outcome;
  Reason reason;
  bool yes;             // kTryReply: reserved; kPhase2Ack: applied (false = refused)
  CurrencyIdx currency;
  uint32_t request;     // client's request number, echoed in replies
  TxId tx;
  AccountId account;    // kBalanceRead / kBalanceReply: the account read
  AccountId account2;   // kLocalTransfer: the account credited (account is debited)
  Amount amount;
  // Coordinator -> partition (Try, Confirm, Cancel): which coordinator sent
  // it, the transfer's place in that coordinator's begin order, and its low
  // watermark: every transfer it began below `low` is finished, so a message
  // about one of them is stale and a partition may forget their legs.
  uint16_t origin;
  uint64_t seq;
  uint64_t low;
  // Client -> coordinator (request, status query): how long ago, on the
  // client's clock, it first sent this transaction_id. Past half the
  // retention window the coordinator answers `expired` (docs/forgetting.md).
  Duration age;
  TransferText text;    // kTransferRequest only
};
static_assert(std::is_trivially_copyable_v<Message>);

// Copies s into a fixed field; false if it had to be cut to fit.
template <size_t N>
bool set_text(char (&field)[N], std::string_view s) {
  size_t n = s.size() < N - 1 ? s.size() : N - 1;
  std::memcpy(field, s.data(), n);
  field[n] = '\0';
  return n == s.size();
}
template <size_t N>
std::string_view get_text(const char (&field)[N]) {
  return std::string_view(field, strnlen(field, N));
}

}  // namespace ws
