// The sans-I/O engine contract (DESIGN.md section 3). Every actor is a state
// machine driven through Context; the simulator (sim/) and the real runtime
// (net/) are the two implementations. Nothing else reaches the engine.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <span>

#include "core/coverage.h"
#include "core/messages.h"
#include "core/types.h"

namespace ws {

namespace raft {
struct Msg;
}

class Rng {
 public:
  virtual ~Rng() = default;
  virtual uint64_t next_u64() = 0;
  // Uniform in [0, bound), bound > 0; the same on every standard library.
  uint64_t below(uint64_t bound) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next_u64()) * bound) >> 64);
  }
};

// An append-only log of checksummed records (format in docs/event_log.md).
// Appends are volatile until a sync covers them; after a crash only synced
// records survive, and a torn last record is truncated on recovery.
class Storage {
 public:
  virtual ~Storage() = default;
  virtual void append(std::span<const uint8_t> payload) = 0;
  // Every intact record, oldest first, as it is durable now. Used on start.
  virtual void read_all(const std::function<void(std::span<const uint8_t>)>& fn) = 0;
  // Replaces record `index` (0-based, as read_all counts them) and every
  // later one with `record`, durably and in one step, before anything else
  // is appended: for records that read back intact but do not fit the log
  // (a misdirected write). False if this storage cannot; the records then
  // stay, and are read again on the next start.
  virtual bool discard_from(uint64_t /*index*/, std::span<const uint8_t> /*record*/) { return false; }
};

using TimerTag = uint32_t;

class Context {
 public:
  virtual ~Context() = default;
  virtual NodeId self() const = 0;
  virtual Time now() const = 0;  // this node's local clock
  // Sends at once; use for messages whose meaning does not depend on
  // anything still volatile in this node's log.
  virtual void send(NodeId to, const Message& m) = 0;
  // Sends only once every record appended so far is durable (group commit):
  // "the decision is durable before any second-phase message leaves". If the
  // node crashes first, the message is never sent.
  virtual void send_durable(NodeId to, const Message& m) = 0;
  virtual void set_timer(Duration after, TimerTag tag) = 0;
  virtual Storage& storage() = 0;
  virtual Rng& rng() = 0;  // only for jitter and backoff
  // A named rare branch was taken (core/coverage.h); the simulator counts
  // them, a real runtime may ignore them. Never changes behaviour.
  virtual void cover(Cover) {}

  // Replica groups (core/replica.h). A runtime that hosts no replica group
  // never has these called; the defaults stop the process, as a call there
  // is a wiring bug. A Raft message to another replica of this node's
  // group, sent at once or, with durable, only once every record appended
  // so far is durable (as send_durable):
  virtual void send_raft(NodeId, const raft::Msg&, bool) { std::abort(); }
  // The actor's on_timer(tag) runs once every record appended so far is
  // durable: later, never from inside this call; never if the node crashes
  // first.
  virtual void when_durable(TimerTag) { std::abort(); }
};

class Actor {
 public:
  virtual ~Actor() = default;
  // After (re)start: rebuild state from ctx.storage() and resume pending work.
  virtual void on_start(Context& ctx) = 0;
  virtual void on_message(Context& ctx, NodeId from, const Message& m) = 0;
  virtual void on_timer(Context& ctx, TimerTag tag) = 0;
  // A Raft message from another replica of this actor's group.
  virtual void on_raft(Context&, NodeId, const raft::Msg&) {}
};

}  // namespace ws
