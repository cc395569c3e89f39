// A workload client: sends the transfers planned for it, retries a timed-out
// request with the same transaction_id, duplicates some on purpose, sends the
// planned invalid requests, and queries the final status of requests whose
// retries ran out. What it was told is kept for the property checkers.
#pragma once

#include <deque>
#include <vector>

#include "core/context.h"
#include "core/time_queue.h"
#include "sim/model.h"

namespace ws {

struct RequestRecord {
  uint32_t attempts = 0;
  uint32_t queries = 0;
  Time first_sent = -1;
  Time last_sent = 0;
  Time answered_at = -1;
  Outcome answer = Outcome::kNone;  // the final answer (success/failed/rejected)
  Reason reason = Reason::kNone;
  bool conflicting = false;         // two different final answers for one request
  Outcome other_answer = Outcome::kNone;
  bool gave_up = false;             // an invalid request that never got an answer
  bool started = false;
  bool overloaded = false;          // the last answer was `overloaded` (not final: retried)
  uint64_t open_seq = 0;            // the client's start order (for handling due requests in it)
  Time done_at = -1;                // simulated time it got its answer or was given up
  bool done() const { return answer != Outcome::kNone || gave_up; }
};

// The requests a simulation is working on: from the oldest one not yet
// retired to the newest that has arrived. Request numbers count every
// request of the run; the window holds [base, end()).
struct RequestWindow {
  uint32_t base = 0;
  std::deque<PlannedRequest> plans;
  std::deque<RequestRecord> records;
  std::deque<TxId> ids;  // the parsed transaction_id (nil if not a UUID)
  uint32_t end() const { return base + static_cast<uint32_t>(plans.size()); }
  bool has(uint32_t r) const { return r >= base && r < end(); }
  const PlannedRequest& plan(uint32_t r) const { return plans[r - base]; }
  RequestRecord& record(uint32_t r) { return records[r - base]; }
  const RequestRecord& record(uint32_t r) const { return records[r - base]; }
  const TxId& id(uint32_t r) const { return ids[r - base]; }
};

class Client final : public Actor {
 public:
  Client(const ClusterConfig& cfg, const ClientParams& params, uint32_t index, RequestWindow& window);

  void on_start(Context&) override {}
  void on_message(Context& ctx, NodeId from, const Message& m) override;
  void on_timer(Context& ctx, TimerTag tag) override;
  // Request r (in the window, planned for this client) starts now; a reuse
  // waits for its original's answer.
  void arrive(Context& ctx, uint32_t r);
  size_t open_requests() const { return remaining_; }

 private:
  void send_request(Context& ctx, uint32_t r);
  void send_query(Context& ctx, uint32_t r);
  void send_read(Context& ctx, uint32_t r);
  void record_answer(Context& ctx, uint32_t r, Outcome o, Reason why);
  void start_reuse_of(Context& ctx, uint32_t r);
  void drop_reuse_of(Context& ctx, uint32_t r);
  uint32_t* waiting_reuse(uint32_t r);
  void finish(Context& ctx, uint32_t r);
  void arm(Context& ctx);
  void open(uint32_t r);
  Time deadline(uint32_t r) const;
  void schedule(uint32_t r);
  NodeId coordinator_for(uint32_t r) const;

  const ClusterConfig& cfg_;
  ClientParams params_;
  uint32_t index_;
  RequestWindow& w_;  // shared by every client, owned by the simulator
  // Reuse requests waiting for their original: (original, reuse), sorted;
  // a reuse sent or dropped becomes kNoReuse.
  static constexpr uint32_t kNoReuse = UINT32_MAX;
  std::deque<std::pair<uint32_t, uint32_t>> reuses_;
  // Open requests by deadline (a heap with stale entries), so a timer costs
  // what is due, not a walk over every request in flight.
  struct Due {
    Time t;        // the deadline
    uint64_t seq;  // start order: due requests are handled in it
    uint32_t r;
  };
  TimeQueue<Due> due_;
  std::vector<Due> due_now_;
  uint64_t next_open_seq_ = 0;
  size_t live_ = 0;       // started and not done
  size_t open_size_ = 0;  // started and not done when last looked at, plus those started since
  size_t remaining_ = 0;  // arrived and not done
  Time armed_for_ = -1;
};

}  // namespace ws
