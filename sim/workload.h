// Generates an explicit workload from a seed: valid transfers with optional
// account skew and amounts at the edges, written in every valid form;
// on-purpose duplicates; invalid requests of every kind; reuses of a
// transaction_id that change each field in turn (from, to, amount, currency,
// or several at once); and balance reads.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "sim/model.h"
#include "sim/rng.h"

namespace ws {

struct WorkloadParams {
  uint32_t transfers = 200;
  Duration duration = 200 * kMillisecond;  // requests start uniformly within it
  // ...after this much quiet time: a warm-up in which replica groups elect
  // their first leaders, so that a throughput measurement sees steady state.
  Duration start = 0;
  uint32_t hot_accounts = 0;               // the first N accounts are "hot"
  uint32_t hot_ppm = 0;                    // chance an endpoint is drawn from the hot set
  // Endpoints are drawn uniformly over accounts (each partition's load then
  // follows how many accounts hashed to it), or over partitions first and
  // then an account on it, which loads every partition evenly.
  bool by_partition = false;
  uint32_t max_amount_pct = 30;            // largest transfer, in % of the initial balance
  uint32_t duplicate_ppm = 50'000;
  uint32_t invalid_ppm = 50'000;
  uint32_t reuse_ppm = 20'000;
  // Amounts at the edges: exactly the sender's projected balance, one minor
  // unit more, the largest amount allowed, and (with a balance limit) exactly
  // the receiver's headroom and one unit more. "Projected" assumes every
  // earlier transfer commits, so under concurrency the edge is often but not
  // always hit exactly.
  uint32_t edge_ppm = 50'000;
  // Chance that a transfer is followed, at the same instant, by a balance
  // read (of one of its two accounts, or of any account), from any client.
  uint32_t read_ppm = 0;
};

// The sender's and receiver's balances as the generator projects them:
// every earlier valid transfer assumed to commit, in order.
struct Projection {
  std::vector<int64_t> balance;  // [account * currencies + currency]
  size_t currencies = 0;
  int64_t& at(AccountId a, CurrencyIdx c) { return balance[size_t{a} * currencies + c]; }
};

// The workload of a seed, one request at a time, in order of start time (a
// reuse right after its original): a run of any length needs memory only
// for the accounts, never for the requests.
class WorkloadGenerator {
 public:
  WorkloadGenerator(const ClusterConfig& cluster, const WorkloadParams& p, uint64_t seed);
  bool next(PlannedRequest& out);  // false once every request is out

 private:
  Time start_time(uint32_t i);

  const ClusterConfig& c_;
  WorkloadParams p_;
  Xoshiro rng_;
  Xoshiro extra_;
  Xoshiro reads_;  // balance reads: their own stream, so transfers do not change with read_ppm
  std::vector<std::vector<AccountId>> by_partition_;  // accounts of each non-empty partition
  Projection proj_;
  uint32_t made_ = 0;      // transfers drawn
  uint64_t emitted_ = 0;   // requests handed out (transfers and reuses)
  std::optional<PlannedRequest> reuse_;  // the next request, when the last one is reused
  std::optional<PlannedRequest> read_;   // a balance read after the last transfer (and its reuse)
};

// Every request of a seed's workload, explicitly (small runs, failure files, shrinking).
Workload generate_workload(const ClusterConfig& cluster, const WorkloadParams& p, uint64_t seed);

// Where a simulation's requests come from, in order of start time: an
// explicit workload (a failure file, a shrunk candidate) or a generator.
class RequestFeed {
 public:
  virtual ~RequestFeed() = default;
  virtual bool next(PlannedRequest& out) = 0;
};

class WorkloadFeed final : public RequestFeed {
 public:
  explicit WorkloadFeed(const Workload& w) : w_(w) {}
  bool next(PlannedRequest& out) override {
    if (i_ >= w_.requests.size()) return false;
    out = w_.requests[i_++];
    return true;
  }

 private:
  const Workload& w_;
  size_t i_ = 0;
};

class GeneratorFeed final : public RequestFeed {
 public:
  GeneratorFeed(const ClusterConfig& cluster, const WorkloadParams& p, uint64_t seed) : g_(cluster, p, seed) {}
  bool next(PlannedRequest& out) override { return g_.next(out); }

 private:
  WorkloadGenerator g_;
};

}  // namespace ws
