// A workload client: sends the transfers planned for it, retries a timed-out
// request with the same transaction_id, duplicates some on purpose, sends the
// planned invalid requests, and queries the final status of requests whose
// retries ran out. What it was told is kept for the property checkers.
#pragma once

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
  bool done() const { return answer != Outcome::kNone || gave_up; }
};

class Client final : public Actor {
 public:
  // ids: the parsed transaction_id of every workload request (nil if it is
  // not a valid UUID), shared by all clients; mine: this client's requests.
  Client(const ClusterConfig& cfg, const ClientParams& params, uint32_t index, const Workload& w,
         std::vector<RequestRecord>& records, const std::vector<TxId>& ids, const std::vector<uint32_t>& mine);

  void on_start(Context& ctx) override;
  void on_message(Context& ctx, NodeId from, const Message& m) override;
  void on_timer(Context& ctx, TimerTag tag) override;
  bool done() const { return remaining_ == 0; }

 private:
  void send_request(Context& ctx, uint32_t r);
  void send_query(Context& ctx, uint32_t r);
  void record_answer(Context& ctx, uint32_t r, Outcome o, Reason why);
  void start_reuse_of(Context& ctx, uint32_t r);
  void drop_reuse_of(uint32_t r);
  uint32_t* waiting_reuse(uint32_t r);
  void arm(Context& ctx);
  void open(uint32_t r);
  Time deadline(uint32_t r) const;
  void schedule(uint32_t r);
  NodeId coordinator_for(uint32_t r) const;

  const ClusterConfig& cfg_;
  ClientParams params_;
  uint32_t index_;
  const Workload& w_;
  std::vector<RequestRecord>& rec_;  // shared, indexed by workload request number
  std::vector<uint32_t> mine_;       // my requests with a planned time, in time order
  // Reuse requests waiting for their original: (original, reuse), sorted;
  // a reuse sent or dropped becomes kNoReuse.
  static constexpr uint32_t kNoReuse = UINT32_MAX;
  std::vector<std::pair<uint32_t, uint32_t>> reuses_;
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
  const std::vector<TxId>& txid_;    // parsed id per workload request (nil if invalid)
  size_t next_ = 0;
  size_t remaining_ = 0;
  Time armed_for_ = -1;
};

}  // namespace ws
