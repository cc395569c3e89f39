// The interface a wallet state machine (a partition node, a coordinator)
// offers a replica group (core/replica.h), beyond being an Actor.
#pragma once

#include <cstdint>
#include <span>

#include "core/context.h"

namespace ws {

// A wallet state machine a replica group can host: an Actor that can also
// be rebuilt from records and resume its work on becoming the leader.
class StateMachine : public Actor {
 public:
  // The state of an empty log.
  virtual void clear() = 0;
  // Loads a snapshot record this machine wrote (its whole state).
  virtual bool load_snapshot_record(std::span<const uint8_t> record) = 0;
  // Applies one committed record its leader wrote: an event, or a snapshot
  // (which must equal the state the records before it built). False if the
  // record is not one this machine could have written there.
  virtual bool apply_record(std::span<const uint8_t> record) = 0;
  // Whether a record this machine writes is a snapshot of its whole state.
  virtual bool is_snapshot_record(std::span<const uint8_t> record) const = 0;
  // Its replica now leads, with every committed record applied: resume
  // what the state says is unfinished (resends and their timers).
  virtual void resume(Context& ctx) = 0;
  virtual uint64_t state_digest() const = 0;
};

}  // namespace ws
