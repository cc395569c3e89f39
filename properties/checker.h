// The eight properties of DESIGN.md section 6, checked from the recorded
// history: every event record as it becomes durable (during the run) and the
// nodes' final state and the clients' answers (at the end). A violation names
// the property, the simulated time, the transactions and the last events.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/simulator.h"

namespace ws {

enum class Property : uint8_t {
  kConservation,
  kNoNegative,
  kAtomicity,
  kIdempotency,
  kClientTruth,
  kLiveness,
  kReplay,
  kDeterminism,
};
constexpr int kPropertyCount = 8;
const char* to_string(Property p);
std::optional<Property> parse_property(std::string_view s);

struct Violation {
  Property property = Property::kConservation;
  Time time = 0;
  std::vector<TxId> txs;
  std::string message;
  std::vector<std::string> recent;  // the last events before it, as timeline lines
};

struct TxHistory {
  // from partition events (durable)
  uint32_t debits = 0, credits = 0, refunds = 0, reversals = 0;
  int64_t in_flight = 0;  // debited - credited - refunded + reversed, minor units
  AccountId debit_account = 0, credit_account = 0;
  bool has_debit_account = false, has_credit_account = false;
  Amount amount;
  CurrencyIdx currency = 0;
  // from coordinator events (durable)
  bool begun = false;
  AccountId from = 0, to = 0;
  int decision = -1;  // -1 none, 0 cancel, 1 confirm
  bool absent = false;  // queried before it arrived: it can never start
  int net_debit() const { return static_cast<int>(debits) - static_cast<int>(refunds); }
  int net_credit() const { return static_cast<int>(credits) - static_cast<int>(reversals); }
};

class Checker final : public SimObserver {
 public:
  Checker(const SimConfig& cfg, const Workload& w, bool stop_at_first);
  void attach(const Simulator* sim) { sim_ = sim; }

  void on_durable_event(NodeId node, const Event& e, Time t) override;
  void on_client_answer(const TxId& tx, Outcome o, Reason why, Time t) override;
  bool should_stop() const override { return stop_at_first_ && !violations_.empty(); }

  // End-of-run checks; sim must have run and been flushed.
  void finish(const Simulator& sim, const SimStats& stats);
  void report(Property p, Time t, std::vector<TxId> txs, std::string message);

  const std::vector<Violation>& violations() const { return violations_; }
  const std::unordered_map<TxId, TxHistory, TxIdHash>& history() const { return txs_; }

 private:
  void check_liveness(const Simulator& sim, const SimStats& stats);
  void check_atomicity();
  void check_client_truth();
  void check_replay(const Simulator& sim);
  void check_final_balances(const Simulator& sim);
  std::vector<TxId> sorted_tx_ids() const;

  const SimConfig& cfg_;
  const Workload& workload_;
  bool stop_at_first_;
  const Simulator* sim_ = nullptr;
  std::unordered_map<TxId, TxHistory, TxIdHash> txs_;
  std::vector<int64_t> balance_;       // durable view, [account * currencies + currency]
  std::vector<int64_t> in_flight_;     // per currency
  std::vector<Violation> violations_;
};

}  // namespace ws
