// Events of the event-sourced state machines. State changes only by applying
// events; every event that moves money says so explicitly (effect, delta), so
// the log alone tells the history of every balance.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/messages.h"

namespace ws {

enum class EventType : uint8_t {
  // partition node
  kTryYes = 1,       // leg reserved (debit leg: money held)
  kTryNo = 2,        // leg refused (insufficient funds, or Cancel came first)
  kConfirmed = 3,
  kCancelled = 4,
  kCancelMarker = 5, // Cancel arrived before any Try: later Try must be refused
  kSnapshot = 6,     // full state follows (payload after the fixed part)
  kRefused = 7,      // a second phase contradicting the leg's state was refused
  kApplied = 8,      // Saga: the leg applied as a local transaction (final unless compensated)
  kLocalTransfer = 9,  // both accounts on this partition: moved in one step (flag 1), or refused (flag 0)
  // coordinator
  kBegin = 16,       // transaction accepted: content recorded
  kTryAnswer = 17,
  kDecide = 18,      // second phase chosen; flag = 1 confirm, 0 cancel
  kAck = 19,         // second phase acknowledged by one leg
  kAbsent = 20,      // status asked for an id never seen: it may never start
  kCoordSnapshot = 21,  // the coordinator's remembered rows follow (payload after the fixed part)
};

// How an event moves money, for the property checkers.
enum class Effect : uint8_t {
  kNone = 0,
  kDebit = 1,    // balance - amount, money goes in flight
  kCredit = 2,   // balance + amount, money leaves flight
  kRefund = 3,   // balance + amount, a held debit returned
  kReverse = 4,  // balance - amount, a credit taken back (invalid orders only)
  kMove = 5,     // account - amount and account2 + amount in one step: a same-partition transfer
};

struct Event {
  EventType type{};
  Leg leg = Leg::kDebit;
  Effect effect = Effect::kNone;
  CurrencyIdx currency = 0;
  uint8_t flag = 0;
  Reason reason = Reason::kNone;
  TxId tx;
  AccountId account = 0;   // partition: the leg's account; coordinator: from
  AccountId account2 = 0;  // coordinator, and a partition's local transfer: to
  Amount amount;           // always >= 0; effect gives the sign
  // The transfer's place in its coordinator's begin order (1, 2, ...) and
  // that coordinator's index: on Begin, and on every partition event that
  // opens a leg, so a leg can be forgotten once the coordinator's low
  // watermark has passed it (docs/forgetting.md). 0 / 0 elsewhere.
  uint64_t seq = 0;
  uint16_t origin = 0;
};

constexpr size_t kEventSize = 56;

// Names for reports ("try-yes", "refund"; core/names.cc).
const char* to_string(EventType t);
const char* to_string(Effect e);

// Fixed little-endian encoding; snapshot events append their state blob.
void encode_event(const Event& e, std::vector<uint8_t>& out);
// The same kEventSize bytes into a buffer of that size (a handler's event,
// framed straight from the stack).
void encode_event(const Event& e, uint8_t* out);
std::optional<Event> decode_event(std::span<const uint8_t> in);

// Signed change to the leg account's balance implied by an effect. A move
// changes two accounts: this is the change to `account` (the debit);
// `account2` gains the amount.
inline int64_t effect_delta(Effect e, Amount a) {
  switch (e) {
    case Effect::kDebit:
    case Effect::kReverse:
    case Effect::kMove:
      return -a.minor;
    case Effect::kCredit:
    case Effect::kRefund:
      return a.minor;
    case Effect::kNone:
      return 0;
  }
  return 0;
}

// Appends one snapshot record to a log (anything with append(span)): a
// snapshot event of `type` followed by the state blob `body` writes, framed
// in `scratch`.
template <class Log, class Body>
void append_snapshot(Log& log, EventType type, std::vector<uint8_t>& scratch, Body&& body) {
  Event snap;
  snap.type = type;
  scratch.clear();
  encode_event(snap, scratch);
  body(scratch);
  log.append(scratch);
  // A snapshot is the biggest thing a node frames; its buffer is not kept
  // at that size, so a node's memory follows what it remembers now, not
  // the most it ever remembered.
  if (scratch.capacity() > (size_t{1} << 20)) std::vector<uint8_t>().swap(scratch);
}

// Little-endian helpers for snapshots.
void put_u64(std::vector<uint8_t>& out, uint64_t v);
uint64_t get_u64(std::span<const uint8_t> in, size_t& pos, bool& ok);

}  // namespace ws
