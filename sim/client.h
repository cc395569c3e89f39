// A workload client: sends the transfers planned for it, retries a timed-out
// request with the same transaction_id, duplicates some on purpose, sends the
// planned invalid requests, and queries the final status of requests whose
// retries ran out. What it was told is kept for the property checkers.
#pragma once

#include <vector>

#include "core/context.h"
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
  void arm(Context& ctx);
  NodeId coordinator_for(uint32_t r) const;

  const ClusterConfig& cfg_;
  ClientParams params_;
  uint32_t index_;
  const Workload& w_;
  std::vector<RequestRecord>& rec_;  // shared, indexed by workload request number
  std::vector<uint32_t> mine_;       // my requests with a planned time, in time order
  std::vector<uint32_t> reuses_;     // reuse requests waiting for their original
  std::vector<uint32_t> open_;       // started, not done
  const std::vector<TxId>& txid_;    // parsed id per workload request (nil if invalid)
  size_t next_ = 0;
  size_t remaining_ = 0;
  Time armed_for_ = -1;
};

}  // namespace ws
