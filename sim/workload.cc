#include "sim/workload.h"

#include <algorithm>

#include "sim/rng.h"

namespace ws {
namespace {

// Accounts of each non-empty partition, for drawing by partition.
using AccountsByPartition = std::vector<std::vector<AccountId>>;

AccountId pick_account(Xoshiro& rng, const ClusterConfig& c, const WorkloadParams& p,
                       const AccountsByPartition& by_partition) {
  if (p.hot_accounts > 0 && rng.chance_ppm(p.hot_ppm))
    return static_cast<AccountId>(rng.below(std::min(p.hot_accounts, c.accounts)));
  if (!by_partition.empty()) {
    const auto& on = by_partition[rng.below(by_partition.size())];
    return on[rng.below(on.size())];
  }
  return static_cast<AccountId>(rng.below(c.accounts));
}

// Valid amounts are sometimes written in a shorter, still valid form
// ("12.5" for 12.50, "3" for 3.00) so the coordinator's parser is exercised.
std::string amount_text(Xoshiro& rng, Amount a, const CurrencyInfo& cur) {
  std::string s = format_amount(a, cur);
  if (cur.minor_digits > 0 && rng.below(4) == 0) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

void make_invalid(Xoshiro& rng, const ClusterConfig& c, PlannedRequest& r) {
  static const char* kBadAmounts[] = {"-5", "1e3", "1.234", "", "abc", "+1", "0",
                                      " 1", "1.", ".5", "99999999999999999999", "01"};
  static const char* kBadCurrencies[] = {"XYZ", "usd", "US", "EURO"};
  static const char* kBadIds[] = {"01589980-2434-33dx-1532-1423gb420530", "not-a-uuid",
                                  "00000000-0000-0000-0000-000000000000",
                                  "01589980243433d015321423ab420530"};
  switch (rng.below(5)) {
    case 0:
      r.kind = RequestKind::kBadAmount;
      r.amount = kBadAmounts[rng.below(std::size(kBadAmounts))];
      break;
    case 1:
      r.kind = RequestKind::kUnknownCurrency;
      r.currency = kBadCurrencies[rng.below(std::size(kBadCurrencies))];
      break;
    case 2:
      r.kind = RequestKind::kBadTxId;
      r.txid = kBadIds[rng.below(std::size(kBadIds))];
      break;
    case 3:
      r.kind = RequestKind::kSameAccount;
      r.to = r.from;
      break;
    default:
      r.kind = RequestKind::kUnknownAccount;
      if (rng.below(2) == 0) {
        r.to = c.accounts + static_cast<AccountId>(rng.below(100));
      } else {
        r.from = c.accounts + static_cast<AccountId>(rng.below(100));
      }
      break;
  }
}

}  // namespace

Workload generate_workload(const ClusterConfig& c, const WorkloadParams& p, uint64_t seed) {
  Xoshiro rng(seed, "workload");
  AccountsByPartition by_partition;
  if (p.by_partition) {
    AccountsByPartition all(c.partitions);
    for (AccountId a = 0; a < c.accounts; ++a) all[c.account_partition[a]].push_back(a);
    for (auto& v : all)
      if (!v.empty()) by_partition.push_back(std::move(v));
  }
  Workload w;
  w.requests.reserve(p.transfers + p.transfers / 8);
  std::vector<Time> times(p.transfers);
  for (Time& t : times) t = static_cast<Time>(rng.below(static_cast<uint64_t>(p.duration) + 1));
  std::sort(times.begin(), times.end());
  for (uint32_t i = 0; i < p.transfers; ++i) {
    PlannedRequest r;
    r.at = times[i];
    r.client = static_cast<uint32_t>(rng.below(c.clients));
    CurrencyIdx ci = static_cast<CurrencyIdx>(rng.below(c.currencies.size()));
    const CurrencyInfo& cur = c.currencies[ci];
    r.currency = cur.code;
    r.from = pick_account(rng, c, p, by_partition);
    do {
      r.to = pick_account(rng, c, p, by_partition);
    } while (r.to == r.from && c.accounts > 1);
    int64_t max_minor = std::max<int64_t>(1, c.initial_balance[ci].minor * p.max_amount_pct / 100);
    Amount a{1 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(max_minor)))};
    r.amount = amount_text(rng, a, cur);
    // Two statements: the order of evaluation of function arguments is
    // unspecified, and g++ and clang++ differ (determinism rule).
    uint64_t id_hi = rng.next_u64();
    uint64_t id_lo = rng.next_u64();
    r.txid = format_txid(make_v4_txid(id_hi, id_lo));
    r.duplicate = rng.chance_ppm(p.duplicate_ppm);
    if (rng.chance_ppm(p.invalid_ppm)) make_invalid(rng, c, r);
    w.requests.push_back(r);
    if (r.kind == RequestKind::kValid && rng.chance_ppm(p.reuse_ppm)) {
      PlannedRequest q = r;
      q.kind = RequestKind::kReuse;
      q.duplicate = false;
      q.reuse_of = static_cast<int32_t>(w.requests.size() - 1);
      q.amount = format_amount(Amount{a.minor + 1}, cur);
      w.requests.push_back(q);
    }
  }
  return w;
}

}  // namespace ws
